//! Patterns and files that live elsewhere — a registry artifact (`oci://…` Motif imports,
//! Komposer `imports.registry`) or an https Komposer import — reach the loader through a
//! [`Remote`] the caller supplies: the loader stays free of network code, and every fetched
//! pattern is loaded with its own files confined to its own directory
//! ([`crate::files::PatternRoot::add_fetched`]). The loader's use of it is in `load::remote`.

use std::path::PathBuf;

/// Why a remote reference could not be resolved (the resolver's message: the registry, the
/// reason, the fix; never a credential).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RemoteError {
    /// What went wrong.
    pub message: String,
}

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
    fn pattern(&self, request: &RemoteRequest) -> Result<Resolved, RemoteError>;
    /// Resolves an https URL to a local copy of the file.
    fn file(&self, url: &str, auth: Option<&RemoteAuth>) -> Result<Resolved, RemoteError>;
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
