//! Patterns and files that live elsewhere — a registry artifact (`oci://…` Motif imports,
//! Komposer `imports.registry`) or an https Komposer import — reach the loader through a
//! [`Remote`] the caller supplies: the loader stays free of network code, and every fetched
//! pattern is loaded with its own files confined to its own directory
//! ([`crate::files::PatternRoot::add_fetched`]).

use std::path::PathBuf;

/// What a fetched reference should hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteKind {
    /// A Katalog pattern (katalog.yaml, or komposer.yaml).
    Katalog,
    /// A Motif (motif.yaml).
    Motif,
}

/// Credentials named by environment variables (an `auth:` block); never the values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteAuth {
    /// `type: basic` with `usernameFromEnv` / `passwordFromEnv`.
    Basic {
        /// Variable holding the user name.
        username_env: String,
        /// Variable holding the password.
        password_env: String,
    },
    /// `type: bearer` or `github` with `fromEnv`.
    Bearer {
        /// Variable holding the token.
        token_env: String,
    },
}

/// One registry reference to resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRequest {
    /// The reference as written (`oci://` prefix, `@version` already turned into `:version`).
    pub reference: String,
    /// What it must hold.
    pub kind: RemoteKind,
    /// Credentials, by variable name.
    pub auth: Option<RemoteAuth>,
    /// A public key the artifact must be signed with (resolved against the importing file).
    pub verify_key: Option<PathBuf>,
}

/// A resolved reference: a local directory (or file) with verified content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The directory of the pattern (for [`Remote::pattern`]) or the file (for [`Remote::file`]).
    pub path: PathBuf,
    /// Something the user should know (the registry was unreachable and the cached copy was
    /// used), reported as a warning at the reference.
    pub warning: Option<String>,
}

/// Fetches what a Katalog names remotely. Implemented by the `oci` crate; the loader calls it
/// only for references it cannot read from the pattern directory.
pub trait Remote: Send + Sync {
    /// Resolves a registry reference to a directory holding the pattern's files.
    fn pattern(&self, request: &RemoteRequest) -> Result<Resolved, String>;
    /// Resolves an https URL to a local copy of the file.
    fn file(&self, url: &str, auth: Option<&RemoteAuth>) -> Result<Resolved, String>;
}

/// The [`RemoteAuth`] an `auth:` mapping names (`None` when it names none; type errors are
/// the decoder's to report).
pub fn auth_of(node: Option<&crate::yaml::Node>) -> Option<RemoteAuth> {
    let node = node?;
    let text = |k: &str| node.get(k).and_then(crate::yaml::Node::as_scalar_text).map(str::to_string);
    match text("type").as_deref() {
        Some("basic") => Some(RemoteAuth::Basic { username_env: text("usernameFromEnv")?, password_env: text("passwordFromEnv")? }),
        Some("bearer" | "github") | None => Some(RemoteAuth::Bearer { token_env: text("fromEnv")? }),
        Some(_) => None,
    }
}

/// The request for the reference `raw` (a registry import as written): `oci://` and the YAML
/// form's `@version` accepted, a separate `version:` applied when the reference has no tag,
/// `auth:` and `verify:` taken from `entry` (`verify:` resolved against the file at `at`).
pub(crate) fn request(raw: &str, version: Option<&str>, kind: RemoteKind, entry: &crate::yaml::Node, at: crate::diag::Span) -> RemoteRequest {
    let bare = raw.trim().strip_prefix("oci://").unwrap_or(raw.trim());
    // In YAML, `name@v1` is a version (only a digest keeps its '@').
    let mut reference = match bare.rsplit_once('@') {
        Some((name, ver)) if !ver.contains(':') => format!("{name}:{ver}"),
        _ => bare.to_string(),
    };
    let last = reference.rsplit('/').next().unwrap_or("");
    if let Some(v) = version
        && !last.contains(':')
        && !reference.contains('@')
    {
        reference = format!("{reference}:{v}");
    }
    let verify_key = entry.get("verify").and_then(crate::yaml::Node::as_scalar_text).map(|k| super::include::join_relative(&at.file.path(), k));
    RemoteRequest { reference, kind, auth: auth_of(entry.get("auth")), verify_key }
}

/// Resolves `request` with the context's [`Remote`]: the directory of the fetched pattern,
/// confined to itself from now on; a failure (or no resolver) is an error at `at`.
pub(crate) fn fetch(cx: &mut crate::decode::Cx, request: RemoteRequest, at: crate::diag::Span) -> Option<PathBuf> {
    use crate::diag::Diagnostic;
    let Some(remote) = cx.remote() else {
        cx.push(
            Diagnostic::error(
                "registry-unavailable",
                format!("`{}` is a registry reference, and this command does not fetch from registries", request.reference),
            )
            .at(at)
            .help("run `ork validate`, `ork simulate` or `ork pull` for it, or import the pattern by a local path"),
        );
        return None;
    };
    match remote.pattern(&request) {
        Ok(resolved) => {
            if let Some(w) = resolved.warning {
                cx.push(Diagnostic::warning("registry-unreachable", w).at(at));
            }
            cx.add_fetched_root(&resolved.path);
            Some(resolved.path)
        }
        Err(message) => {
            cx.push(Diagnostic::error("import-failed", format!("cannot fetch `{}`: {message}", request.reference)).at(at));
            None
        }
    }
}
