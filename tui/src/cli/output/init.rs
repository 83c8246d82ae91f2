//! `ork init`: the pack list and what was written.

use super::*;

/// `ork init --list`: the packs, one a line.
pub fn pack_list(packs: &[crate::packs::Pack]) {
    let mut out = std::io::stdout().lock();
    for p in packs {
        let first = p.examples.first().map(String::as_str).unwrap_or("");
        let _ = writeln!(out, "{:<14} {}  (start with: {first})", p.name, p.description);
    }
}

/// What `ork init` wrote, and where to start.
pub fn pack_written(pack: &crate::packs::Pack, files: usize, target: &Path) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "wrote pack `{}` ({files} files) into {}", pack.name, target.display());
    for ex in &pack.examples {
        let _ = writeln!(out, "  {}", target.join(ex).display());
    }
    if let Some(first) = pack.examples.first() {
        let _ = writeln!(out, "next: cd {} && ork validate", target.join(first).display());
    }
}
