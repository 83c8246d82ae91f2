//! The content-addressed cache of fetched artifacts (`$XDG_CACHE_HOME/ork/registry/`, else
//! `~/.cache/ork/registry/`):
//!
//! ```text
//! blobs/sha256/<hex>             manifests and files, named by their digest
//! refs/<registry>/<repo>/<tag>   the manifest digest a tag last resolved to
//! patterns/sha256-<hex>/         a manifest's files, unpacked for the loader
//! ```
//!
//! Nothing read from it is trusted: a blob is re-hashed on every read, and an unpacked pattern
//! is compared with its manifest's digests on every use (a file that differs is written again
//! from its verified blob).

use crate::error::OciError;
use crate::layout::{self, Manifest};
use crate::pattern::Fetched;
use crate::reference::Reference;
use std::path::{Path, PathBuf};

/// The cache in one directory.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// The default location: `$XDG_CACHE_HOME/ork/registry`, else `$HOME/.cache/ork/registry`.
    pub fn default_dir() -> PathBuf {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        base.join("ork").join("registry")
    }

    /// The cache rooted at `root` (created on first write).
    pub fn at(root: PathBuf) -> Cache {
        Cache { root }
    }

    /// Its directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn blob_path(&self, digest: &str) -> Result<PathBuf, OciError> {
        crate::reference::check_digest(digest).map_err(|why| OciError::Manifest { reference: digest.to_string(), why: why.0 })?;
        let (alg, hex) = digest.split_once(':').unwrap_or(("sha256", digest));
        Ok(self.root.join("blobs").join(alg).join(hex))
    }

    fn ref_path(&self, r: &Reference) -> Option<PathBuf> {
        let tag = r.tag.as_deref()?;
        let host = r.registry.replace(':', "_");
        let mut p = self.root.join("refs").join(host);
        for seg in r.repository.split('/') {
            p.push(seg);
        }
        Some(p.join(tag))
    }

    /// Stores `bytes` under `digest` after checking them.
    pub fn put_blob(&self, digest: &str, bytes: &[u8]) -> Result<(), OciError> {
        layout::verify_digest(digest, digest, bytes)?;
        let path = self.blob_path(digest)?;
        if path.is_file() {
            return Ok(());
        }
        write_atomic(&path, bytes)
    }

    /// The blob `digest`, checked; `None` when absent.
    pub fn blob(&self, digest: &str) -> Result<Option<Vec<u8>>, OciError> {
        let path = self.blob_path(digest)?;
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(OciError::io(&path, e)),
        };
        layout::verify_digest(&format!("cached blob {}", katalog::diag::display_path(&path)), digest, &bytes)?;
        Ok(Some(bytes))
    }

    /// Records that `r`'s tag resolved to `digest`.
    pub fn put_ref(&self, r: &Reference, digest: &str) -> Result<(), OciError> {
        match self.ref_path(r) {
            Some(p) => write_atomic(&p, digest.as_bytes()),
            None => Ok(()),
        }
    }

    /// The digest `r` names: its own, or the one its tag last resolved to.
    pub fn lookup(&self, r: &Reference) -> Option<String> {
        if let Some(d) = &r.digest {
            return Some(d.clone());
        }
        let text = std::fs::read_to_string(self.ref_path(r)?).ok()?;
        let d = text.trim().to_string();
        crate::reference::check_digest(&d).ok().map(|()| d)
    }

    /// Stores a fetched pattern (manifest and files) and its tag.
    pub fn store(&self, fetched: &Fetched, tag_ref: &Reference) -> Result<(), OciError> {
        self.put_blob(&fetched.digest, &fetched.manifest_bytes)?;
        let titled = fetched.manifest.files()?;
        for ((_, d), (_, bytes)) in titled.iter().zip(&fetched.files) {
            self.put_blob(&d.digest, bytes)?;
        }
        self.put_ref(tag_ref, &fetched.digest)
    }

    /// The manifest `digest` from the cache, checked.
    pub fn manifest(&self, digest: &str) -> Result<Option<Manifest>, OciError> {
        let Some(bytes) = self.blob(digest)? else { return Ok(None) };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| OciError::Manifest { reference: digest.to_string(), why: format!("cached manifest is not valid ({e})") })
    }

    /// The unpacked files of manifest `digest`, checked against the manifest (re-written from
    /// the verified blobs where they differ); `None` when a blob is missing.
    pub fn pattern_dir(&self, digest: &str) -> Result<Option<PathBuf>, OciError> {
        let Some(manifest) = self.manifest(digest)? else { return Ok(None) };
        let titled = manifest.files()?;
        let dir = self.root.join("patterns").join(digest.replace(':', "-"));
        for (title, d) in &titled {
            let path = dir.join(title);
            let current = std::fs::read(&path).ok();
            if current.as_deref().is_some_and(|b| layout::verify_digest(title, &d.digest, b).is_ok()) {
                continue;
            }
            let Some(bytes) = self.blob(&d.digest)? else { return Ok(None) };
            write_atomic(&path, &bytes)?;
        }
        Ok(Some(dir))
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OciError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| OciError::io(dir, e))?;
    let tmp = dir.join(format!(".{}.tmp-{}", path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(), std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| OciError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        OciError::io(path, e)
    })
}
