//! `ork init`: example packs embedded from `demos/` at build time.

use super::{CliError, Outcome, output};
use katalog::diag::FileId;
use katalog::yaml::{Limits, Node, parse};
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
pub struct Pack {
    /// Its name (`--pack`).
    pub name: String,
    /// One line on what it shows.
    pub description: String,
    order: i64,
    /// Its example directories, the first one to start with.
    pub examples: Vec<String>,
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

/// Lists the packs, or writes one.
pub fn run(args: Args) -> Outcome {
    let all = packs();
    if args.list {
        output::pack_list(&all);
        return Ok(0);
    }
    let Some(name) = args.pack else { return Ok(2) };
    let Some(pack) = all.iter().find(|p| p.name == name) else {
        let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
        return Err(CliError::Usage(format!("unknown pack `{name}`\n    help: available packs: {}", names.join(", "))).into());
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
            return Err(CliError::Usage(format!(
                "{} file(s) already exist, nothing was written: {}\n    help: pass --force to overwrite, or choose another directory",
                existing.len(),
                existing.join(", ")
            ))
            .into());
        }
    }
    for (path, bytes) in &files {
        // This message shows the path as given (not display_path), as it always has.
        services::files::write_atomic(path, bytes).map_err(|e| CliError::Usage(format!("cannot write {}: {e}", path.display())))?;
    }
    output::pack_written(pack, files.len(), &target);
    Ok(0)
}
