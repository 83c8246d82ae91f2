//! The one error type of the crate. Messages name the registry, the artifact or the file and
//! say how to fix it; none carries a credential (credentials never reach a message: they are
//! read from the environment at use and handed only to the HTTP client).

use std::path::PathBuf;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
// Variant fields are the message's parts.
#[allow(missing_docs)]
pub enum OciError {
    /// A reference that cannot be parsed.
    #[error("invalid reference `{reference}`: {why}")]
    Reference { reference: String, why: String },
    /// A credential variable that is not set.
    #[error("environment variable `{var}` is not set ({what}); export it, or unset the variable that names it")]
    MissingEnv { var: String, what: String },
    /// The registry refused the credentials (or their absence).
    #[error(
        "{registry}: unauthorized ({op}); check the credentials (ORK_REGISTRY_USERNAME / ORK_REGISTRY_PASSWORD, the import's auth, or `docker login {registry}`)"
    )]
    Unauthorized { registry: String, op: String },
    /// The artifact or tag does not exist.
    #[error("{reference}: not found in the registry")]
    NotFound { reference: String },
    /// Plain HTTP to a host that is not this machine.
    #[error(
        "refusing plain HTTP to {registry}: --insecure-http is only for localhost / 127.0.0.1 / ::1; pass --allow-insecure-remote to send artifacts and credentials unencrypted"
    )]
    InsecureRemote { registry: String },
    /// The registry could not be reached or answered with an error.
    #[error("{registry}: {op} failed: {message}")]
    Registry { registry: String, op: String, message: String },
    /// Content whose digest is not the one it was fetched by.
    #[error("digest mismatch for {what}: expected {expected}, got {actual}; the registry or the cache holds altered content, nothing was written")]
    DigestMismatch { what: String, expected: String, actual: String },
    /// A layer whose title would write outside the output directory (or is otherwise unusable).
    #[error("unsafe file name {title:?} in the artifact: {why}; nothing was written")]
    UnsafePath { title: String, why: String },
    /// The manifest is not a pattern artifact ork can read.
    #[error("{reference}: {why}")]
    Manifest { reference: String, why: String },
    /// A pattern directory that cannot be packed.
    #[error("{}: {why}", katalog::diag::display_path(path))]
    Layout { path: PathBuf, why: String },
    /// A file that cannot be read or written.
    #[error("{}: {source}", katalog::diag::display_path(path))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An output path that is a file, not a directory.
    #[error("{} exists and is not a directory; pass a directory to -o", katalog::diag::display_path(path))]
    NotADirectory { path: PathBuf },
    /// An output directory that is not empty (without `--force`).
    #[error("{} already exists and is not empty; pass --force to replace its pattern files", katalog::diag::display_path(path))]
    Exists { path: PathBuf },
    /// A signature problem: unsigned, wrong key, bad key file.
    #[error("{0}")]
    Signature(String),
    /// Nothing in the cache and `--offline`.
    #[error("{reference} is not in the cache ({}) and --offline forbids fetching it", katalog::diag::display_path(cache))]
    NotCached { reference: String, cache: PathBuf },
}

impl OciError {
    /// True when the input was read but is not acceptable (exit code 1: altered content, an
    /// unsafe artifact, a missing or wrong signature); false for usage, network, credential
    /// and I/O failures (exit code 2).
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            OciError::DigestMismatch { .. } | OciError::UnsafePath { .. } | OciError::Manifest { .. } | OciError::Signature(_) | OciError::Layout { .. }
        )
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> OciError {
        OciError::Io { path: path.into(), source }
    }

    /// Classifies an `oci-client` error of operation `op` against `registry`.
    pub(crate) fn client(registry: &str, reference: &str, op: &str, e: oci_client::errors::OciDistributionError) -> OciError {
        use oci_client::errors::OciDistributionError as E;
        let unauthorized = || OciError::Unauthorized { registry: registry.to_string(), op: op.to_string() };
        match &e {
            E::UnauthorizedError { .. } | E::AuthenticationFailure(_) => return unauthorized(),
            E::ImageManifestNotFoundError(_) => return OciError::NotFound { reference: reference.to_string() },
            E::DigestError(oci_client::errors::DigestError::VerificationError { expected, actual }) => {
                return OciError::DigestMismatch { what: reference.to_string(), expected: expected.clone(), actual: actual.clone() };
            }
            E::RegistryError { envelope, .. } => {
                let codes: Vec<String> = envelope.errors.iter().map(|x| format!("{:?}", x.code).to_ascii_uppercase()).collect();
                if codes.iter().any(|c| c.contains("UNAUTHORIZED") || c.contains("DENIED")) {
                    return unauthorized();
                }
                if codes.iter().any(|c| c.contains("UNKNOWN")) {
                    return OciError::NotFound { reference: reference.to_string() };
                }
            }
            E::ServerError { code, .. } if *code == 401 || *code == 403 => return unauthorized(),
            E::ServerError { code: 404, .. } => return OciError::NotFound { reference: reference.to_string() },
            _ => {}
        }
        OciError::Registry { registry: registry.to_string(), op: op.to_string(), message: describe(&e) }
    }
}

/// The error with its causes, one line (a reqwest error says "error sending request" and keeps
/// the reason — connection refused, certificate unknown — in its sources).
pub(crate) fn describe(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
