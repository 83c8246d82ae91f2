//! The pattern the workbench is opened on: its directory, its Katalog (or Komposer), the CR
//! files, simulate files and e2e files beside it, and a deployed bundle when one is named or
//! lies beside it. Found again after every change on disk.

use katalog::diag::{FileId, display_path};
use katalog::yaml::{Limits, parse};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Why a directory or file cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum PatternError {
    /// Nothing at the path.
    #[error("{0}: not found")]
    NotFound(String),
    /// A directory without katalog.yaml or komposer.yaml.
    #[error(
        "{0}: no katalog.yaml or komposer.yaml here\n    help: open a pattern directory, name the file (`ork tui path/to/katalog.yaml`), or create one with `ork init`"
    )]
    NoKatalog(String),
}

/// The files of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The directory.
    pub dir: PathBuf,
    /// The Katalog or Komposer file.
    pub katalog: PathBuf,
    /// A deployed bundle to plan against (`--bundle`, else bundle.yaml beside the Katalog).
    pub bundle: Option<PathBuf>,
    /// Every `*simulate.yaml` below the directory, sorted.
    pub simulate: Vec<PathBuf>,
    /// Every `*e2e.yaml` below the directory, sorted.
    pub e2e: Vec<PathBuf>,
    /// Every YAML file below the directory (at most three levels down) whose documents are
    /// custom resources of kinds the Katalog declares, sorted: filled by the analysis, which
    /// knows the kinds.
    pub crs: Vec<PathBuf>,
}

impl Pattern {
    /// Opens `target`: a pattern directory, or a Katalog/Komposer file (default: `.`).
    pub fn open(target: Option<&Path>, bundle: Option<PathBuf>) -> Result<Pattern, PatternError> {
        let target = target.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
        if !target.exists() {
            return Err(PatternError::NotFound(display_path(&target)));
        }
        let (dir, katalog) = if target.is_dir() {
            // `ork tui .` names files as `katalog.yaml`, not `./katalog.yaml`.
            let at = |n: &str| if target == Path::new(".") { PathBuf::from(n) } else { target.join(n) };
            let found = ["katalog.yaml", "komposer.yaml"].into_iter().map(at).find(|p| p.is_file());
            match found {
                Some(k) => (target.clone(), k),
                None => return Err(PatternError::NoKatalog(display_path(&target))),
            }
        } else {
            let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
            (dir, target.clone())
        };
        let bundle = bundle.or_else(|| Some(dir.join("bundle.yaml")).filter(|p| p.is_file()));
        let mut p = Pattern { dir, katalog, bundle, simulate: Vec::new(), e2e: Vec::new(), crs: Vec::new() };
        p.rescan(&BTreeSet::new());
        Ok(p)
    }

    /// Finds the simulate, e2e and CR files again; `kinds` are the (apiVersion group, kind)
    /// pairs of the Katalog's CRDs (empty: no CR files are recognised).
    pub fn rescan(&mut self, kinds: &BTreeSet<(String, String)>) {
        self.simulate = services::simulate::discover(&self.dir);
        self.e2e = services::e2e::discover(&self.dir);
        self.crs = find_crs(&self.dir, kinds);
    }

    /// The file shown for a path: relative to the pattern directory when inside it.
    pub fn shown(&self, p: &Path) -> String {
        match p.strip_prefix(&self.dir) {
            Ok(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
            _ => display_path(p),
        }
    }
}

/// YAML files (at most three directories down, hidden ones and `target` skipped) whose every
/// document with a kind is a custom resource of one of `kinds`.
fn find_crs(dir: &Path, kinds: &BTreeSet<(String, String)>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if !kinds.is_empty() {
        walk(dir, 0, kinds, &mut out);
    }
    out.sort();
    out
}

fn walk(dir: &Path, depth: usize, kinds: &BTreeSet<(String, String)>, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.filter_map(Result::ok) {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if p.is_dir() {
            if depth < 3 {
                walk(&p, depth + 1, kinds, out);
            }
        } else if (name.ends_with(".yaml") || name.ends_with(".yml")) && holds_crs(&p, kinds) {
            out.push(p);
        }
    }
}

fn holds_crs(p: &Path, kinds: &BTreeSet<(String, String)>) -> bool {
    // CR files are small; anything big is not one (and is not read whole).
    if std::fs::metadata(p).map(|m| m.len() > 1 << 20).unwrap_or(true) {
        return false;
    }
    let Ok(text) = std::fs::read_to_string(p) else { return false };
    let Ok(docs) = parse(&text, FileId::intern(p), Limits::default()) else { return false };
    let mut any = false;
    for d in &docs {
        let (Some(api), Some(kind)) = (d.root.get("apiVersion").and_then(|n| n.as_str()), d.root.get("kind").and_then(|n| n.as_str())) else {
            continue;
        };
        let group = api.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
        if !kinds.contains(&(group.to_string(), kind.to_string())) {
            return false;
        }
        any = true;
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../demos").join(rel)
    }

    #[test]
    fn a_directory_opens_on_its_katalog_and_finds_its_runner_files() {
        let p = Pattern::open(Some(&demo("security/admission-rules")), None).unwrap_or_else(|e| panic!("{e}"));
        assert!(p.katalog.ends_with("katalog.yaml"));
        let sims: Vec<String> = p.simulate.iter().map(|s| p.shown(s)).collect();
        assert_eq!(sims, ["denied.simulate.yaml", "simulate.yaml"]);
        assert_eq!(p.e2e.len(), 1);
    }

    #[test]
    fn cr_files_are_those_holding_the_katalogs_kinds() {
        let mut p = Pattern::open(Some(&demo("security/admission-rules")), None).unwrap_or_else(|e| panic!("{e}"));
        let kinds = BTreeSet::from([("data.ork.dev".to_string(), "Database".to_string())]);
        p.rescan(&kinds);
        let crs: Vec<String> = p.crs.iter().map(|s| p.shown(s)).collect();
        assert!(crs.contains(&"cr.yaml".to_string()), "{crs:?}");
        assert!(!crs.iter().any(|c| c.contains("katalog") || c.contains("simulate")), "{crs:?}");
    }

    #[test]
    fn a_directory_without_a_katalog_is_refused_with_help() {
        let e = Pattern::open(Some(&demo("security")), None).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("no katalog.yaml or komposer.yaml") && e.contains("ork init"), "{e}");
    }
}
