//! `ork template`'s report: the rendered children (each under the entry that produced it) and
//! status as one YAML stream, and the findings — printed by the CLI, shown by `:preview`.

use super::{Doc, Line, Tone};
use katalog::render::offline::OfflineCr;
use serde_json::json;

/// The findings of one rendered CR (mutations, violations, warnings): `level: message` each,
/// the level toned (the CLI prints them without colour, as it always has).
pub fn template_findings_doc(cr: &OfflineCr) -> Doc {
    let mut d = Doc::new();
    for f in &cr.findings {
        let tone = match f.level {
            "error" => Tone::Bad,
            "warning" => Tone::Warn,
            _ => Tone::Dim,
        };
        d.push(Line::toned(tone, f.level).with(Tone::Plain, format!(": {}", f.message)));
    }
    d
}

/// Appends `text` line by line (split on `\n` exactly, so that the text comes back byte for
/// byte from [`Doc::to_text`] when it ends with a newline).
fn push_lines(d: &mut Doc, text: &str) {
    for l in text.strip_suffix('\n').unwrap_or(text).split('\n') {
        d.push(l);
    }
}

/// The children (and with `status`, the status) of rendered CRs as one YAML stream: each child
/// under a `# Source: CRD/entry` comment naming the Katalog entry that produced it.
pub fn template_doc(crs: &[OfflineCr], status: bool) -> Doc {
    let mut d = Doc::new();
    for cr in crs {
        for child in &cr.children {
            d.push("---");
            d.push(format!("# Source: {}/{}", cr.crd, child.source));
            push_lines(&mut d, &katalog::yaml::emit(&child.manifest));
        }
        if status {
            d.push("---");
            d.push(format!("# Status of {}", cr.identity));
            push_lines(&mut d, &katalog::yaml::emit(&json!({"status": cr.status})));
        }
    }
    d
}

/// [`template_doc`] as text.
pub fn template_yaml(crs: &[OfflineCr], status: bool) -> String {
    template_doc(crs, status).to_text(false)
}
