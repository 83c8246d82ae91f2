//! Artifact references as users write them: `[oci://]host[:port]/repo/name[:tag|@sha256:…]`,
//! or a short `name[:tag]` / `team/name[:tag]` completed with the kind's base registry
//! (`ORK_REGISTRY`, `ORK_MOTIFS_REGISTRY`).
//!
//! A tag is the pattern's version (default `latest`); `@` is only for digests, so that
//! `name@v1` — a common slip — is refused with the fix rather than sent to the registry.

use crate::error::OciError;
use std::fmt;

/// The base registry path of Katalog patterns when `ORK_REGISTRY` is not set.
pub const DEFAULT_KATALOG_REGISTRY: &str = "ghcr.io/orkspace/orkestra-registry/patterns/katalogs";
/// The base registry path of Motifs when `ORK_MOTIFS_REGISTRY` is not set.
pub const DEFAULT_MOTIF_REGISTRY: &str = "ghcr.io/orkspace/orkestra-registry/patterns/motifs";

/// Which base registry completes a short reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// `ORK_REGISTRY`, else [`DEFAULT_KATALOG_REGISTRY`].
    Katalog,
    /// `ORK_MOTIFS_REGISTRY`, else [`DEFAULT_MOTIF_REGISTRY`].
    Motif,
}

impl Base {
    fn path(self) -> String {
        let (var, default) = match self {
            Base::Katalog => ("ORK_REGISTRY", DEFAULT_KATALOG_REGISTRY),
            Base::Motif => ("ORK_MOTIFS_REGISTRY", DEFAULT_MOTIF_REGISTRY),
        };
        std::env::var(var)
            .ok()
            .map(|s| s.trim().trim_start_matches("oci://").trim_end_matches('/').to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| default.to_string())
    }
}

/// A parsed artifact reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `host[:port]`.
    pub registry: String,
    /// The repository path, `team/hello-website`.
    pub repository: String,
    /// The tag (the version); `latest` when neither tag nor digest was given.
    pub tag: Option<String>,
    /// `sha256:<hex>` when the reference pins a digest.
    pub digest: Option<String>,
}

impl Reference {
    /// Parses `text`, completing a short reference with `base`.
    pub fn parse(text: &str, base: Base) -> Result<Reference, OciError> {
        let bad = |why: &str| OciError::Reference { reference: text.to_string(), why: why.to_string() };
        let s = text.trim();
        let s = s.strip_prefix("oci://").unwrap_or(s);
        if s.is_empty() {
            return Err(bad("it is empty"));
        }
        if s.contains("://") {
            return Err(bad("only oci:// references name a registry artifact"));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => {
                if !(d.starts_with("sha256:") || d.starts_with("sha384:") || d.starts_with("sha512:")) {
                    return Err(bad("use ':' not '@' for version tags (`name:v1`); '@' takes only a digest (`name@sha256:…`)"));
                }
                check_digest(d).map_err(|why| bad(&why.0))?;
                (r, Some(d.to_string()))
            }
            None => (s, None),
        };
        // The tag: after the last ':' that follows the last '/'.
        let last_slash = rest.rfind('/');
        let (path, tag) = match rest.rfind(':') {
            Some(c) if last_slash.is_none_or(|sl| c > sl) => (&rest[..c], Some(rest[c + 1..].to_string())),
            _ => (rest, None),
        };
        if let Some(t) = &tag
            && !valid_tag(t)
        {
            return Err(bad(&format!("`{t}` is not a valid tag (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')")));
        }
        let first = path.split('/').next().unwrap_or("");
        let full = path.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
        let full_path = if full { path.to_string() } else { format!("{}/{path}", base.path()) };
        let Some((registry, repository)) = full_path.split_once('/') else {
            return Err(bad("it names no repository"));
        };
        if repository.is_empty() || !repository.split('/').all(valid_component) {
            return Err(bad("repository path components are lowercase letters and digits, separated by '.', '_', '__' or '-'"));
        }
        let tag = if tag.is_none() && digest.is_none() { Some("latest".to_string()) } else { tag };
        Ok(Reference { registry: registry.to_string(), repository: repository.to_string(), tag, digest })
    }

    /// The same artifact pinned to `digest`.
    pub fn with_digest(&self, digest: &str) -> Reference {
        Reference { digest: Some(digest.to_string()), ..self.clone() }
    }

    /// The same repository at tag `tag` (no digest).
    pub fn with_tag(&self, tag: &str) -> Reference {
        Reference { tag: Some(tag.to_string()), digest: None, ..self.clone() }
    }

    /// The last path segment of the repository: the pattern's name.
    pub fn name(&self) -> &str {
        self.repository.rsplit('/').next().unwrap_or(&self.repository)
    }

    /// `host/repo` without tag or digest (a signature's `docker-reference`).
    pub fn repository_path(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// Whether the registry is this machine (`localhost`, `127.0.0.1`, `::1`, any port): the
    /// only hosts `--insecure-http` may use without `--allow-insecure-remote`.
    pub fn is_loopback(&self) -> bool {
        let host = match self.registry.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => self.registry.rsplit_once(':').map_or(self.registry.as_str(), |(h, _)| h),
        };
        matches!(host, "localhost" | "127.0.0.1" | "::1")
    }

    /// The tag or digest that names the version, for display and cache keys.
    pub fn version(&self) -> &str {
        self.digest.as_deref().or(self.tag.as_deref()).unwrap_or("latest")
    }

    pub(crate) fn client_ref(&self) -> oci_client::Reference {
        match (&self.tag, &self.digest) {
            (Some(t), Some(d)) => oci_client::Reference::with_tag_and_digest(self.registry.clone(), self.repository.clone(), t.clone(), d.clone()),
            (_, Some(d)) => oci_client::Reference::with_digest(self.registry.clone(), self.repository.clone(), d.clone()),
            (t, None) => oci_client::Reference::with_tag(self.registry.clone(), self.repository.clone(), t.clone().unwrap_or_else(|| "latest".into())),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "oci://{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// Whether `s` reads as a registry reference rather than a file path (`oci://…`, or a ref with
/// a host or a tag; never `./`, `../`, `/` paths).
pub fn is_oci_ref(s: &str) -> bool {
    if s.starts_with("oci://") {
        return true;
    }
    if s.starts_with('/') || s.starts_with("./") || s.starts_with("../") || s.ends_with(".yaml") || s.ends_with(".yml") {
        return false;
    }
    if s.find(':').is_some_and(|i| i > 1) {
        return true;
    }
    let first = s.split('/').next().unwrap_or("");
    s.contains('/') && (first.contains('.') || first == "localhost")
}

/// A string that is not a digest, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadDigest(pub String);

/// Checks `sha256:<64 hex>` (and the longer algorithms' lengths).
pub fn check_digest(d: &str) -> Result<(), BadDigest> {
    let (alg, hex) = d.split_once(':').ok_or_else(|| BadDigest(format!("`{d}` is not a digest (algorithm:hex)")))?;
    let len = match alg {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        other => return Err(BadDigest(format!("digest algorithm `{other}` is not supported (sha256, sha384, sha512)"))),
    };
    if hex.len() != len || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(BadDigest(format!("`{d}` is not a {alg} digest ({len} lowercase hex digits)")));
    }
    Ok(())
}

fn valid_tag(t: &str) -> bool {
    !t.is_empty() && t.len() <= 128 && !t.starts_with(['.', '-']) && t.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn valid_component(c: &str) -> bool {
    !c.is_empty()
        && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'))
        && c.as_bytes().first().is_some_and(u8::is_ascii_alphanumeric)
        && c.as_bytes().last().is_some_and(u8::is_ascii_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Reference, OciError> {
        Reference::parse(s, Base::Katalog)
    }

    #[test]
    fn full_references() {
        let r = p("oci://127.0.0.1:5000/team/hello-website:v1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()), ("127.0.0.1:5000", "team/hello-website", Some("v1")));
        assert!(r.is_loopback());
        assert_eq!(r.to_string(), "oci://127.0.0.1:5000/team/hello-website:v1");
        let r = p("localhost/x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.registry.as_str(), r.tag.as_deref()), ("localhost", Some("latest")));
        let d = format!("sha256:{}", "a".repeat(64));
        let r = p(&format!("ghcr.io/acme/ledger@{d}")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.tag.as_deref(), r.digest.as_deref()), (None, Some(d.as_str())));
        assert!(!r.is_loopback());
    }

    #[test]
    fn short_references_take_the_base() {
        let r = p("ledger:v2").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.repository_path(), format!("{DEFAULT_KATALOG_REGISTRY}/ledger"));
        assert_eq!(r.tag.as_deref(), Some("v2"));
    }

    #[test]
    fn refusals_say_why() {
        let e = p("ghcr.io/acme/ledger@v1").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("use ':' not '@'"), "{e}");
        assert!(p("ghcr.io/acme/ledger@sha256:abc").is_err());
        assert!(p("ghcr.io/acme/Ledger:v1").is_err());
        assert!(p("ghcr.io/acme/ledger:-v1").is_err());
        assert!(p("https://ghcr.io/acme/ledger").is_err());
        assert!(p("").is_err());
    }

    #[test]
    fn refs_versus_paths() {
        assert!(is_oci_ref("oci://x/y"));
        assert!(is_oci_ref("ghcr.io/acme/x:v1"));
        assert!(is_oci_ref("redis:v7"));
        assert!(!is_oci_ref("./motifs/x/motif.yaml"));
        assert!(!is_oci_ref("../x"));
        assert!(!is_oci_ref("/abs/motif.yaml"));
    }
}
