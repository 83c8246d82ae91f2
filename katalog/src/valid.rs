//! The one "load and validate a Katalog" step: every command that renders, generates, plans or
//! runs a Katalog (the CLI, `simulate`, `e2e` and the runtime) goes through [`load_valid`], so
//! what counts as a valid Katalog is decided once.

use crate::diag::{Diagnostic, Diagnostics, display_path};
use crate::load::{DocKind, LoadOptions, Loaded, load_file};
use crate::model::Katalog;
use crate::template::TemplateSet;
use crate::validate::{Report, validate};
use crate::yaml::Node;
use std::path::{Path, PathBuf};

/// A Katalog (or the composition of a Komposer) that loaded and passed `ork validate`'s checks.
#[derive(Debug, Clone)]
pub struct Valid {
    /// The file given.
    pub path: PathBuf,
    /// The model, imports and Komposer merges applied.
    pub katalog: Katalog,
    /// Its templates, parsed.
    pub templates: TemplateSet,
    /// The document with imports and includes resolved: what a bundle ships.
    pub expanded: Node,
    /// CRD entry names in startup order (dependencies first).
    pub startup_order: Vec<String>,
    /// The warnings validation found (a valid Katalog has no errors).
    pub warnings: Diagnostics,
}

/// Why [`load_valid`] gave no [`Valid`] Katalog. Each variant carries every finding (errors and
/// warnings, sorted) so that a printer can show them with their positions.
#[derive(Debug, thiserror::Error)]
pub enum Invalid {
    /// The file given could not be read at all (missing, I/O error, not a regular file).
    #[error("{}: cannot be read", display_path(path))]
    Unreadable {
        /// The file given.
        path: PathBuf,
        /// The findings (the first says why the file cannot be read).
        diagnostics: Diagnostics,
    },
    /// The document has errors.
    #[error("{}: invalid ({} error(s)); run `ork validate` for details", display_path(path), diagnostics.error_count())]
    Errors {
        /// The file given.
        path: PathBuf,
        /// The findings.
        diagnostics: Diagnostics,
    },
    /// The document is valid but is not a Katalog or Komposer (a Motif, a Simulate or an E2E
    /// document), so there is nothing to render or run.
    #[error("{}: not a Katalog or Komposer (a Motif cannot be rendered on its own)", display_path(path))]
    NotKatalog {
        /// The file given.
        path: PathBuf,
        /// Its kind, when it could be determined.
        kind: Option<DocKind>,
        /// The findings (warnings only).
        diagnostics: Diagnostics,
    },
}

impl Invalid {
    /// The whole refusal as one message, for a process that refuses to start on it: each
    /// error on its own line with its position (warnings left out).
    pub fn summary(&self) -> String {
        match self {
            Invalid::NotKatalog { path, .. } => format!("{} is not a Katalog or Komposer", path.display()),
            _ => {
                let errors: Vec<String> = self.errors().map(ToString::to_string).collect();
                format!("{} is not a valid Katalog:\n{}", self.path().display(), errors.join("\n"))
            }
        }
    }

    /// The file given.
    pub fn path(&self) -> &Path {
        match self {
            Invalid::Unreadable { path, .. } | Invalid::Errors { path, .. } | Invalid::NotKatalog { path, .. } => path,
        }
    }

    /// Every finding, errors and warnings, sorted.
    pub fn diagnostics(&self) -> &Diagnostics {
        match self {
            Invalid::Unreadable { diagnostics, .. } | Invalid::Errors { diagnostics, .. } | Invalid::NotKatalog { diagnostics, .. } => diagnostics,
        }
    }

    /// The findings that are errors.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics().iter().filter(|d| d.is_error())
    }

    /// The error as findings, for runners that report only diagnostics (`simulate`, `e2e`):
    /// whether the file could not be read at all (an I/O failure rather than invalid input),
    /// and the findings — for a document that is not a Katalog, one `wrong-kind` error.
    pub fn into_findings(self) -> (bool, Diagnostics) {
        match self {
            Invalid::Unreadable { diagnostics, .. } => (true, diagnostics),
            Invalid::Errors { diagnostics, .. } => (false, diagnostics),
            Invalid::NotKatalog { path, .. } => {
                (false, Diagnostic::error("wrong-kind", format!("{} is not a Katalog or Komposer", display_path(&path))).into())
            }
        }
    }
}

/// Loads any document (a Katalog, Komposer, Motif, Simulate or E2E document) and validates it;
/// `Ok` when it has no errors, with what was loaded and the validation report (its warnings,
/// its summaries). What `simulate` and `e2e` read their own documents with.
pub fn load_checked(path: &Path, opts: &LoadOptions) -> Result<(Loaded, Report), Invalid> {
    let loaded = load_file(path, opts);
    let report = validate(&loaded);
    if loaded.unreadable() {
        return Err(Invalid::Unreadable { path: path.to_path_buf(), diagnostics: report.diagnostics });
    }
    if !report.is_valid() {
        return Err(Invalid::Errors { path: path.to_path_buf(), diagnostics: report.diagnostics });
    }
    Ok((loaded, report))
}

/// Loads the Katalog or Komposer in `path` (with `opts`) and validates it as `ork validate`
/// does; only a document without errors that is a Katalog or Komposer is [`Valid`].
pub fn load_valid(path: &Path, opts: &LoadOptions) -> Result<Valid, Invalid> {
    let (loaded, report) = load_checked(path, opts)?;
    valid_from(path, loaded, report)
}

/// The [`Valid`] Katalog of a document already loaded and validated without errors (as
/// [`load_checked`] gives it): for a caller that keeps the report too (the workbench), so the
/// file is read once.
pub fn valid_from(path: &Path, loaded: Loaded, report: Report) -> Result<Valid, Invalid> {
    let path = path.to_path_buf();
    let expanded = loaded.expanded();
    match (expanded, loaded.katalog, report.templates) {
        (Some(expanded), Some(katalog), Some(templates)) => {
            Ok(Valid { path, katalog, templates, expanded, startup_order: report.startup_order, warnings: report.diagnostics })
        }
        _ => Err(Invalid::NotKatalog { path, kind: loaded.kind, diagnostics: report.diagnostics }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../demos").join(rel)
    }

    #[test]
    fn a_valid_katalog_loads_with_its_templates_expansion_and_startup_order() {
        let v = load_valid(&demo("beginner/hello-website/katalog.yaml"), &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.katalog.name(), "hello-website");
        assert_eq!(v.startup_order, ["website"]);
        assert!(v.expanded.get("spec").is_some());
    }

    #[test]
    fn each_way_of_failing_is_its_own_variant() {
        let opts = LoadOptions::default();
        let missing = load_valid(&demo("no-such-katalog.yaml"), &opts).err();
        assert!(matches!(missing, Some(Invalid::Unreadable { .. })), "{missing:?}");
        let typo = load_valid(&demo("beginner/hello-website/invalid/katalog-typo.yaml"), &opts).err();
        assert!(matches!(&typo, Some(Invalid::Errors { .. })), "{typo:?}");
        assert_eq!(typo.as_ref().map(|e| e.errors().count()), Some(3));
        let motif = load_valid(&demo("intermediate/motif-cache/motifs/cache/motif.yaml"), &opts).err();
        assert!(matches!(motif, Some(Invalid::NotKatalog { kind: Some(DocKind::Motif), .. })), "{motif:?}");
        let (unreadable, findings) =
            load_valid(&demo("intermediate/motif-cache/motifs/cache/motif.yaml"), &opts).err().map(Invalid::into_findings).unwrap_or_default();
        assert!(!unreadable);
        assert_eq!(findings.iter().map(|d| d.code).collect::<Vec<_>>(), ["wrong-kind"]);
    }
}
