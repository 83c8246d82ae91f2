//! The subcommands of `ork`, one module each: its clap arguments, the library call that does the
//! work, and the hand-off of the report or error to [`output`], the one place that prints and
//! picks exit codes. A command returns `Ok(code)` when it ran to the end (0, or 1 for a failed
//! check) and `Err` when it stopped; [`output::finish`] turns either into the exit code.

pub mod devcluster;
pub mod diff;
pub mod e2e;
pub mod gate;
pub mod generate;
pub mod init;
pub mod output;
pub mod registry;
pub mod run;
pub mod simulate;
pub mod template;
pub mod tui;
pub mod validate;

use katalog::diag::display_path;
use std::path::{Path, PathBuf};

/// Output format of commands that have a machine form.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Human-readable.
    Text,
    /// Stable JSON (see docs/validate-json.md).
    Json,
}

/// What a command returns: `Ok(exit code)` when it ran to the end, the error when it stopped.
pub type Outcome = anyhow::Result<u8>;

/// An error of the command line itself, or of a file it names, found by `ork` rather than by a
/// library (those errors are typed where they arise).
#[derive(Debug, thiserror::Error)]
// Variant fields are the message's parts and its `#[source]` cause.
#[allow(missing_docs)]
pub enum CliError {
    /// A flag has an unusable value, or a file named on the command line is missing (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The input was read but cannot be used (exit 1).
    #[error("{0}")]
    Invalid(String),
    /// A file could not be read or parsed as YAML; printed as its diagnostic (exit 2).
    #[error("{0}")]
    Read(katalog::Diagnostic),
    /// A file could not be written (exit 2).
    #[error("cannot write {}: {source}", katalog::diag::display_path(path))]
    Write {
        /// The file.
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The Katalog file to read: `-f`, else ./katalog.yaml, else ./komposer.yaml.
pub fn default_file(file: Option<PathBuf>) -> PathBuf {
    if let Some(f) = file {
        return f;
    }
    for name in ["katalog.yaml", "komposer.yaml"] {
        let p = PathBuf::from(name);
        if p.exists() {
            return p;
        }
    }
    PathBuf::from("katalog.yaml")
}

/// The install namespace: the flag, else `ORK_NAMESPACE`, else the default; checked to be a
/// valid namespace name (a usage error otherwise).
pub fn install_namespace(flag: Option<String>) -> Result<String, CliError> {
    let ns = flag.or_else(|| std::env::var("ORK_NAMESPACE").ok().filter(|s| !s.is_empty())).unwrap_or_else(|| katalog::install::DEFAULT_NAMESPACE.to_string());
    if katalog::model::katalog::is_rfc1123_label(&ns) {
        Ok(ns)
    } else {
        Err(CliError::Usage(format!("namespace {ns:?} is not a valid Kubernetes namespace name (lowercase letters, digits and '-', at most 63)")))
    }
}

/// The tokio runtime of a command that serves or waits on a cluster: multi-threaded, with
/// `workers` threads (default: one per core).
pub fn async_runtime(workers: Option<usize>) -> anyhow::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = workers {
        builder.worker_threads(n);
    }
    builder.enable_all().build().map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))
}

/// The directory a runner's target asks to search (`DIR/...`, `...` for the current directory,
/// or an existing directory), `None` when it names a file. A `DIR/...` that is not a directory
/// is a usage error.
pub fn discovery_dir(target: &str) -> Result<Option<PathBuf>, CliError> {
    let dir = match target.strip_suffix("/...").or_else(|| (target == "...").then_some(".")) {
        Some(d) => PathBuf::from(if d.is_empty() { "/" } else { d }),
        None if Path::new(target).is_dir() => PathBuf::from(target),
        None => return Ok(None),
    };
    if !dir.is_dir() {
        let why = if dir.exists() { "is not a directory" } else { "not found" };
        return Err(CliError::Usage(format!("{}: {why}", display_path(&dir))));
    }
    Ok(Some(dir))
}

/// A discovery that found nothing: a CI job that tests nothing must not pass.
pub fn nothing_found(pattern: &str, dir: &Path) -> CliError {
    CliError::Invalid(format!("no {pattern} files found under {}, so nothing was tested; check the directory, or name a file with -f", display_path(dir)))
}
