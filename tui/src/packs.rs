//! The example packs of `ork init`, embedded from `demos/` at build time (tui/build.rs), so `ork`
//! needs no files at run time: the catalogue (each pack's `pack.yaml`) and writing a pack out.
//! The CLI (`cli::init`) and the workbench use the same functions.

use katalog::diag::FileId;
use katalog::yaml::{Limits, Node, parse};
use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/packs.rs"));

/// A pack as described by its `pack.yaml`.
pub struct Pack {
    /// Its name (`--pack`); the directory name when `pack.yaml` gives none.
    pub name: String,
    /// One line on what it shows.
    pub description: String,
    /// Position in the list (`order:`, default 99; ties sorted by name).
    order: i64,
    /// Its example directories, the first one to start with.
    pub examples: Vec<String>,
}

/// Why a pack was not written. Nothing is written unless every file can be.
#[derive(Debug, thiserror::Error)]
// Variant fields are the message's parts and its `#[source]` cause.
#[allow(missing_docs)]
pub enum PackError {
    /// Files of the pack exist already and overwriting was not asked for.
    #[error(
        "{} file(s) already exist, nothing was written: {}\n    help: pass --force to overwrite, or choose another directory",
        .0.len(),
        .0.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    Exists(Vec<PathBuf>),
    /// A file could not be written (the path as given, not shortened).
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Every embedded pack, in list order.
pub fn packs() -> Vec<Pack> {
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

/// Writes `pack`'s files under `target` (each file whole: a temporary file, then a rename);
/// refuses when one exists unless `force`. Returns how many files were written.
pub fn write(pack: &Pack, target: &Path, force: bool) -> Result<usize, PackError> {
    let prefix = format!("{}/", pack.name);
    let files: Vec<(PathBuf, &[u8])> = PACK_FILES
        .iter()
        .filter_map(|(p, b)| p.strip_prefix(&prefix).map(|rel| (rel, *b)))
        .filter(|(rel, _)| *rel != "pack.yaml")
        .map(|(rel, b)| (target.join(rel), b))
        .collect();
    if !force {
        let existing: Vec<PathBuf> = files.iter().filter(|(p, _)| p.exists()).map(|(p, _)| p.clone()).collect();
        if !existing.is_empty() {
            return Err(PackError::Exists(existing));
        }
    }
    for (path, bytes) in &files {
        services::files::write_atomic(path, bytes).map_err(|source| PackError::Write { path: path.clone(), source })?;
    }
    Ok(files.len())
}
