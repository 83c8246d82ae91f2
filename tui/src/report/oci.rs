//! The reports of `ork push`, `ork pull` and `ork inspect`.

use super::{Doc, Line, Tone};
use oci::layout::{Pattern, keys};
use oci::pattern::{Fetched, Inspected, Pushed};
use std::path::Path;

/// A byte count for people: `512 B`, `6.5 KiB`, `1.2 MiB`.
pub fn size(b: u64) -> String {
    if b < 1024 {
        format!("{b} B")
    } else if b < 1024 * 1024 {
        format!("{:.1} KiB", b as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", b as f64 / 1048576.0)
    }
}

/// A gate annotation as a line: `✓ passed · 12 assertions · 4ms`, `~ skipped`, `- not run`.
fn gate_line(label: &str, annotations: &std::collections::BTreeMap<String, String>, prefix: &str) -> Line {
    let get = |k: &str| annotations.get(&format!("io.orkestra.{prefix}.{k}"));
    let mut l = Line::plain(format!("  {label:<10}"));
    match get("status").map(String::as_str) {
        Some("passed") => {
            l.push(Tone::Good, "✓ passed");
            if let Some(n) = get("assertions") {
                l.push(Tone::Plain, format!(" · {n} assertions"));
            }
            if let Some(d) = get("duration") {
                l.push(Tone::Dim, format!(" · {d}"));
            }
            if let Some(r) = get("runner") {
                l.push(Tone::Dim, format!(" · {r}"));
            }
        }
        Some("no-assertion") => l.push(Tone::Warn, "⚠ ran, no assertions"),
        Some("skipped") => l.push(Tone::Warn, "~ skipped"),
        Some(other) => l.push(Tone::Plain, other.to_string()),
        None => l.push(Tone::Dim, "- not run (no file)"),
    }
    l
}

/// `ork push`.
pub fn pushed(pattern: &Pattern, p: &Pushed) -> Doc {
    let mut d = Doc::new();
    d.push(Line::toned(Tone::Good, "✓ pushed ").with(Tone::Strong, p.reference.to_string()));
    d.push(format!("  {} {} · {} files · {}", pattern.kind.as_str(), pattern.metadata.name, pattern.files.len(), size(pattern.size())));
    d.push(gate_line("simulate", &p.manifest.annotations, "simulate"));
    d.push(gate_line("e2e", &p.manifest.annotations, "e2e"));
    if let Some(tag) = &p.signature_tag {
        d.push(format!("  signature {tag}"));
    }
    d.push(format!("digest: {}", p.digest));
    d
}

/// `ork pull`.
pub fn pulled(f: &Fetched, dir: &Path) -> Doc {
    let mut d = Doc::new();
    d.push(
        Line::toned(Tone::Good, "✓ pulled ").with(Tone::Strong, f.reference.to_string()).with(Tone::Plain, format!(" → {}", katalog::diag::display_path(dir))),
    );
    for (title, bytes) in &f.files {
        d.push(format!("  {title:<40} {:>10}", size(bytes.len() as u64)));
    }
    d.push(gate_line("simulate", &f.manifest.annotations, "simulate"));
    d.push(gate_line("e2e", &f.manifest.annotations, "e2e"));
    d.push(format!("digest: {}", f.digest));
    d.push(Line::toned(Tone::Dim, "validated with its files confined to the directory; the permissions it would be granted:"));
    d
}

/// `ork inspect`.
pub fn inspected(i: &Inspected) -> Doc {
    let a = &i.annotations;
    let get = |k: &str| a.get(k).cloned().unwrap_or_else(|| "-".into());
    let mut d = Doc::new();
    d.push(Line::toned(Tone::Strong, format!("{}:{}", get(keys::NAME), get(keys::PATTERN_VERSION))));
    d.push(format!("  Reference  {}", i.reference));
    d.push(format!("  Kind       {}", get(keys::KIND)));
    d.push(format!("  Type       {}", i.artifact_type));
    d.push(format!("  Pushed     {}", get(keys::CREATED)));
    d.push(format!("  ork        {}", get(keys::RUNTIME_VERSION)));
    d.push(format!("  About      {}", get(keys::DESCRIPTION)));
    for (label, key) in [("Author", keys::AUTHOR), ("License", keys::LICENSE), ("Tags", keys::TAGS), ("Source", keys::SOURCE), ("Revision", keys::REVISION)] {
        if let Some(v) = a.get(key) {
            d.push(format!("  {label:<10} {v}"));
        }
    }
    d.push(gate_line("Simulate", a, "simulate"));
    d.push(gate_line("E2E", a, "e2e"));
    if i.signatures.is_empty() {
        d.push(Line::plain("  Signed     ").with(Tone::Warn, "✗ not signed"));
    }
    for s in &i.signatures {
        let who = &s.docker_reference;
        let l = match s.verified {
            Some(true) => Line::plain("  Signed     ").with(Tone::Good, format!("✓ verified with the key given ({who})")),
            Some(false) => Line::plain("  Signed     ").with(Tone::Bad, format!("✗ signed, but not by the key given ({who})")),
            None => Line::plain("  Signed     ").with(Tone::Plain, format!("signed ({who}); pass --verify-key to check it")),
        };
        d.push(l);
    }
    if !i.tags.is_empty() {
        d.push(format!("  Versions   {}", i.tags.join(", ")));
    }
    d.push(format!("files ({}):", i.files.len()));
    for f in &i.files {
        d.push(format!("  {:<40} {:>10}  {}", f.title.as_deref().unwrap_or("?"), size(f.size), f.media_type));
    }
    d.push(format!("digest: {}", i.digest));
    d
}
