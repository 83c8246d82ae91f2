//! `ork init`: example packs embedded from `demos/` at build time.

use katalog::diag::FileId;
use katalog::yaml::{Limits, Node, parse};
use std::io::Write;
use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/packs.rs"));

/// Arguments of `ork init`.
#[derive(clap::Args)]
pub struct Args {
    /// Pack to write (see --list).
    #[arg(long, required_unless_present = "list")]
    pack: Option<String>,
    /// List the packs.
    #[arg(long, conflicts_with = "pack")]
    list: bool,
    /// Overwrite existing files.
    #[arg(long)]
    force: bool,
    /// Directory to write into (default: the current directory); one folder per example.
    dir: Option<PathBuf>,
}

/// A pack as described by its `pack.yaml`.
struct Pack {
    name: String,
    description: String,
    order: i64,
    examples: Vec<String>,
}

fn packs() -> Vec<Pack> {
    let mut out = Vec::new();
    for (path, bytes) in PACK_FILES {
        let Some(dir) = path.strip_suffix("/pack.yaml") else { continue };
        let text = String::from_utf8_lossy(bytes);
        let Ok(docs) = parse(&text, FileId::intern(Path::new(path)), Limits::default()) else { continue };
        let Some(root) = docs.into_iter().next().map(|d| d.root) else { continue };
        let s = |n: Option<&Node>| n.and_then(Node::as_scalar_text).unwrap_or_default().to_string();
        out.push(Pack {
            name: if s(root.get("name")).is_empty() { dir.to_string() } else { s(root.get("name")) },
            description: s(root.get("description")),
            order: root.get("order").and_then(Node::as_scalar_text).and_then(|o| o.parse().ok()).unwrap_or(99),
            examples: root.get("examples").and_then(Node::as_seq).unwrap_or(&[]).iter().filter_map(|e| e.as_scalar_text().map(str::to_string)).collect(),
        });
    }
    out.sort_by(|a, b| (a.order, &a.name).cmp(&(b.order, &b.name)));
    out
}

/// Runs the command; returns the exit code.
pub fn run(args: Args) -> u8 {
    let all = packs();
    if args.list {
        let mut out = std::io::stdout().lock();
        for p in &all {
            let first = p.examples.first().map(String::as_str).unwrap_or("");
            let _ = writeln!(out, "{:<14} {}  (start with: {first})", p.name, p.description);
        }
        return 0;
    }
    let Some(name) = args.pack else { return 2 };
    let Some(pack) = all.iter().find(|p| p.name == name) else {
        let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
        eprintln!("error: unknown pack `{name}`\n    help: available packs: {}", names.join(", "));
        return 2;
    };
    let target = args.dir.unwrap_or_else(|| PathBuf::from("."));
    let prefix = format!("{}/", pack.name);
    let files: Vec<(PathBuf, &[u8])> = PACK_FILES
        .iter()
        .filter_map(|(p, b)| p.strip_prefix(&prefix).map(|rel| (rel, *b)))
        .filter(|(rel, _)| *rel != "pack.yaml")
        .map(|(rel, b)| (target.join(rel), b))
        .collect();
    if !args.force {
        let existing: Vec<String> = files.iter().filter(|(p, _)| p.exists()).map(|(p, _)| p.display().to_string()).collect();
        if !existing.is_empty() {
            eprintln!(
                "error: {} file(s) already exist, nothing was written: {}\n    help: pass --force to overwrite, or choose another directory",
                existing.len(),
                existing.join(", ")
            );
            return 2;
        }
    }
    for (path, bytes) in &files {
        if let Err(e) = services::files::write_atomic(path, bytes) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return 2;
        }
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "wrote pack `{}` ({} files) into {}", pack.name, files.len(), target.display());
    for ex in &pack.examples {
        let _ = writeln!(out, "  {}", target.join(ex).display());
    }
    if let Some(first) = pack.examples.first() {
        let _ = writeln!(out, "next: cd {} && ork validate", target.join(first).display());
    }
    0
}

/// Writes `text` to stdout (`out` is `None`) or atomically to `out`; the exit code (2 when the
/// file cannot be written, the reason printed).
pub fn write_out(out: Option<&Path>, text: &str) -> u8 {
    match out {
        None => {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            0
        }
        Some(out) => match services::files::write_atomic(out, text.as_bytes()) {
            Ok(()) => 0,
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "error: cannot write {}: {e}", katalog::diag::display_path(out));
                2
            }
        },
    }
}
