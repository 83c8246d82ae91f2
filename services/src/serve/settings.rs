//! The settings every server process (the runtime, the gateway) takes from its flags and its
//! environment, read the same way by each: the Katalog file, the install namespace, the probe
//! port, the log format, how the Katalog is loaded. A flag wins over the environment, which wins
//! over the default.

use std::path::{Path, PathBuf};

/// Why a setting cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// `--namespace` or `$ORK_NAMESPACE` is not a namespace name.
    #[error("namespace {0:?} is not a valid Kubernetes name (lowercase letters, digits and '-', at most 63)")]
    Namespace(String),
    /// `$ORK_PORT` is not a port number.
    #[error("$ORK_PORT={0:?}: expected a port number")]
    Port(String),
}

/// An environment variable, trimmed; unset and empty are the same.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// The Katalog file: `flag`, `$KATALOG_PATH` (the first of a comma list; in a pod, where the
/// bundle's ConfigMap is mounted), ./katalog.yaml, ./komposer.yaml.
pub fn katalog_file(flag: Option<&Path>) -> PathBuf {
    if let Some(f) = flag {
        return f.to_path_buf();
    }
    if let Some(p) = env("KATALOG_PATH").and_then(|p| p.split(',').map(str::trim).find(|s| !s.is_empty()).map(PathBuf::from)) {
        return p;
    }
    for name in ["katalog.yaml", "komposer.yaml"] {
        if Path::new(name).exists() {
            return PathBuf::from(name);
        }
    }
    PathBuf::from("katalog.yaml")
}

/// The install namespace: `flag`, `$ORK_NAMESPACE`, `orkestra-system`.
pub fn namespace(flag: Option<&str>) -> Result<String, SettingsError> {
    let ns = flag.map(str::to_string).or_else(|| env("ORK_NAMESPACE")).unwrap_or_else(|| katalog::install::DEFAULT_NAMESPACE.to_string());
    if katalog::model::katalog::is_rfc1123_label(&ns) { Ok(ns) } else { Err(SettingsError::Namespace(ns)) }
}

/// The port of `/health /ready /metrics`: `flag`, `$ORK_PORT`, 8080.
pub fn probe_port(flag: Option<u16>) -> Result<u16, SettingsError> {
    match flag {
        Some(p) => Ok(p),
        None => match env("ORK_PORT") {
            Some(p) => p.parse().map_err(|_| SettingsError::Port(p)),
            None => Ok(katalog::install::PROBE_PORT),
        },
    }
}

/// The `--log-format` flag of a server process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// Installs the process's log subscriber in this format.
    pub fn init(self) {
        super::logging::init(match self {
            LogFormat::Text => super::logging::Format::Text,
            LogFormat::Json => super::logging::Format::Json,
        });
    }
}

/// The loader's flags, defined once and flattened into every command that loads a Katalog
/// (`ork validate`, `template`, `generate`, `simulate`, `e2e`, `gate`, `run`, `plan`,
/// `ork-runtime run` and `ork-gateway gate`).
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct LoadArgs {
    /// Let include:, Motif and Komposer imports, crdFile and crFiles name files outside the
    /// directory of the Katalog file (refused by default, before they are opened: a pattern
    /// from elsewhere must not read your other files).
    #[arg(long)]
    pub allow_outside_root: bool,
}

impl LoadArgs {
    /// The loader options these flags select.
    pub fn options(self) -> katalog::load::LoadOptions {
        katalog::load::LoadOptions { allow_outside_root: self.allow_outside_root, ..Default::default() }
    }
}
