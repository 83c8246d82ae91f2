//! Source positions and diagnostics.
//!
//! Every finding ork reports about a document — a parse error, an unknown field, a dependency
//! cycle — is a [`Diagnostic`]: what is wrong, where (file:line:col and the YAML path), and how to
//! fix it. Loading and validation collect them all instead of stopping at the first.

use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// An interned source file path. Spans carry this small id instead of a path so that they stay
/// `Copy`; the path is looked up only when a diagnostic is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(u32);

fn files() -> &'static Mutex<Vec<Arc<Path>>> {
    static FILES: OnceLock<Mutex<Vec<Arc<Path>>>> = OnceLock::new();
    FILES.get_or_init(|| Mutex::new(vec![Arc::from(Path::new("<unknown>"))]))
}

impl FileId {
    /// Interns `path` (the same path always yields the same id).
    pub fn intern(path: &Path) -> FileId {
        let mut files = files().lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = files.iter().position(|p| &**p == path) {
            return FileId(i as u32);
        }
        files.push(Arc::from(path));
        FileId((files.len() - 1) as u32)
    }

    /// The path this id was interned from.
    pub fn path(self) -> Arc<Path> {
        let files = files().lock().unwrap_or_else(|e| e.into_inner());
        files.get(self.0 as usize).cloned().unwrap_or_else(|| Arc::from(Path::new("<unknown>")))
    }
}

/// A position in a source file: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    /// The file.
    pub file: FileId,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (in characters).
    pub col: u32,
}

impl Span {
    /// A span at `line:col` of `file`.
    pub fn new(file: FileId, line: u32, col: u32) -> Span {
        Span { file, line, col }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", display_path(&self.file.path()), self.line, self.col)
    }
}

/// Paths are shown relative to the working directory when they are below it, so messages and
/// snapshots do not depend on where a checkout lives.
pub fn display_path(path: &Path) -> String {
    if let Ok(cwd) = std::env::current_dir()
        && let Ok(rel) = path.strip_prefix(&cwd)
    {
        return rel.display().to_string();
    }
    path.display().to_string()
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The document is invalid.
    Error,
    /// Valid, but probably not what was meant, or parsed and not executed yet.
    Warning,
}

/// One finding about a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable, kebab-case identifier of the rule (`unknown-field`, `dependency-cycle`, …).
    pub code: &'static str,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where, when the finding has a position.
    pub span: Option<Span>,
    /// The YAML path of the offending node (`spec.crds.web.operatorBox…`), when known.
    pub path: Option<String>,
    /// How to fix it.
    pub help: Option<String>,
    /// The CRD entry the finding belongs to, when it belongs to one.
    pub crd: Option<String>,
}

impl Diagnostic {
    /// A new error.
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Error, code, message: message.into(), span: None, path: None, help: None, crd: None }
    }

    /// A new warning.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(code, message) }
    }

    /// Sets the position.
    pub fn at(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    /// Sets the YAML path.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Sets the fix hint.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Attributes the finding to a CRD entry.
    pub fn crd(mut self, crd: impl Into<String>) -> Self {
        self.crd = Some(crd.into());
        self
    }

    /// True when the finding is that a file could not be read at all (missing, an I/O error,
    /// not a regular file): what the CLI reports with exit code 2.
    pub fn is_unreadable(&self) -> bool {
        matches!(self.code, "file-not-found" | "io-error" | "not-a-file")
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// A sort key giving file order, then position, then message: output is stable.
    fn sort_key(&self) -> (Option<PathBuf>, u32, u32, &str) {
        match self.span {
            Some(s) => (Some(s.file.path().to_path_buf()), s.line, s.col, &self.message),
            None => (None, 0, 0, &self.message),
        }
    }
}

/// A finding is also an error value, so that typed errors can carry it as their `#[source]`.
impl std::error::Error for Diagnostic {}

impl fmt::Display for Diagnostic {
    /// `path:line:col: error[code]: message (at yaml.path)` then an indented `help:` line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(span) = self.span {
            write!(f, "{span}: ")?;
        }
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}[{}]: {}", self.code, self.message)?;
        if let Some(path) = &self.path
            && !path.is_empty()
        {
            write!(f, " (at {path})")?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n    help: {help}")?;
        }
        Ok(())
    }
}

/// The JSON shape of a diagnostic in `--output json` (documented in docs/validate-json.md).
#[derive(Debug, Serialize)]
pub struct DiagnosticJson<'a> {
    severity: Severity,
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    crd: Option<&'a str>,
}

impl Diagnostic {
    /// The stable JSON form.
    pub fn to_json(&self) -> DiagnosticJson<'_> {
        DiagnosticJson {
            severity: self.severity,
            code: self.code,
            message: &self.message,
            file: self.span.map(|s| display_path(&s.file.path())),
            line: self.span.map(|s| s.line),
            column: self.span.map(|s| s.col),
            path: self.path.as_deref(),
            help: self.help.as_deref(),
            crd: self.crd.as_deref(),
        }
    }
}

/// A collection of findings.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(Vec<Diagnostic>);

impl From<Diagnostic> for Diagnostics {
    /// A list of one finding.
    fn from(d: Diagnostic) -> Diagnostics {
        Diagnostics(vec![d])
    }
}

impl Diagnostics {
    /// Adds one finding.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    /// Adds many.
    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.0.extend(other);
    }

    /// True when at least one error was recorded.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.0.iter().filter(|d| d.is_error()).count()
    }

    /// Number of warnings.
    pub fn warning_count(&self) -> usize {
        self.0.len() - self.error_count()
    }

    /// All findings, in insertion order.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sorts by file, position and message, and removes exact duplicates (a node reached through
    /// a YAML alias twice would otherwise be reported twice).
    pub fn sort(&mut self) {
        self.0.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        self.0.dedup();
    }

    /// Consumes the collection.
    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.0
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// The closest of `candidates` to `word`, if it is close enough to be a plausible typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for cand in candidates {
        let cl = cand.to_ascii_lowercase();
        // Case-only differences are always a match (`Deployments` for `deployments`).
        let score = if cl == lower {
            2.0
        } else {
            let lev = strsim::levenshtein(&lower, &cl);
            let jw = strsim::jaro_winkler(&lower, &cl);
            let close = lev <= 2 || (lev <= 3 && word.len() > 6) || jw >= 0.9;
            if !close {
                continue;
            }
            jw - lev as f64 * 0.01
        };
        if best.is_none_or(|(s, _)| score > s) {
            best = Some((score, cand));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keys_only() {
        let keys = ["image", "imagePullSecrets", "replicas", "port"];
        assert_eq!(suggest("imagee", keys), Some("image"));
        assert_eq!(suggest("replcas", keys), Some("replicas"));
        assert_eq!(suggest("Port", keys), Some("port"));
        assert_eq!(suggest("zzzzzz", keys), None);
    }

    #[test]
    fn display_has_position_code_path_and_help() {
        let d = Diagnostic::error("unknown-field", "unknown field `imagee`")
            .at(Span::new(FileId::intern(Path::new("/x/k.yaml")), 3, 7))
            .path("spec.a")
            .help("did you mean `image`?");
        assert_eq!(d.to_string(), "/x/k.yaml:3:7: error[unknown-field]: unknown field `imagee` (at spec.a)\n    help: did you mean `image`?");
    }
}
