//! Pattern-level operations on a registry: push a pattern (and its signature), fetch one
//! (every blob verified, in memory), write it into a directory all-or-nothing, and read
//! signatures.

use crate::client::{Progress, Registry};
use crate::error::OciError;
use crate::layout::{self, Descriptor, Manifest, Pattern};
use crate::reference::Reference;
use crate::sign;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a push did.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// The reference pushed to (its tag).
    pub reference: Reference,
    /// The manifest digest.
    pub digest: String,
    /// The manifest pushed.
    pub manifest: Manifest,
    /// The signature tag written, when signed.
    pub signature_tag: Option<String>,
}

/// Pushes `pattern` under `reference` with `annotations`; signs it with `key` when given.
pub async fn push(
    registry: &Registry,
    reference: &Reference,
    pattern: &Pattern,
    annotations: BTreeMap<String, String>,
    key: Option<&sign::SigningKey>,
    progress: &mut dyn FnMut(Progress),
) -> Result<Pushed, OciError> {
    if reference.digest.is_some() {
        return Err(OciError::Reference { reference: reference.to_string(), why: "push takes a tag (the version), not a digest".into() });
    }
    let manifest = Manifest::of(pattern, annotations);
    let blobs: Vec<(&Descriptor, &[u8])> = manifest.layers.iter().zip(&pattern.files).map(|(d, f)| (d, f.bytes.as_slice())).collect();
    let digest = registry.push(reference, &manifest, &blobs, progress).await?;
    let signature_tag = match key {
        Some(key) => Some(push_signature(registry, reference, &digest, key).await?),
        None => None,
    };
    Ok(Pushed { reference: reference.clone(), digest, manifest, signature_tag })
}

/// Writes a cosign-compatible signature of `digest`: the simple-signing payload as the one
/// layer of a manifest tagged `sha256-<hex>.sig`, the signature in the layer's
/// `dev.cosignproject.cosign/signature` annotation. Returns the tag.
pub async fn push_signature(registry: &Registry, reference: &Reference, digest: &str, key: &sign::SigningKey) -> Result<String, OciError> {
    let tag = sign::signature_tag(digest).map_err(|e| OciError::Signature(e.to_string()))?;
    let payload = sign::simple_signing_payload(&reference.repository_path(), digest);
    let signature = key.sign(&payload).map_err(|e| OciError::Signature(e.to_string()))?;
    let sig_ref = reference.with_tag(&tag);
    let payload_digest = registry.push_blob(&sig_ref, &payload).await?;
    let config: &[u8] = b"{}";
    let config_digest = registry.push_blob(&sig_ref, config).await?;
    use base64::Engine;
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(layout::MANIFEST_MEDIA_TYPE.to_string()),
        artifact_type: None,
        config: Descriptor {
            media_type: "application/vnd.oci.image.config.v1+json".into(),
            digest: config_digest,
            size: config.len() as u64,
            annotations: BTreeMap::new(),
        },
        layers: vec![Descriptor {
            media_type: sign::SIMPLE_SIGNING_MEDIA_TYPE.into(),
            digest: payload_digest,
            size: payload.len() as u64,
            annotations: BTreeMap::from([(sign::SIGNATURE_ANNOTATION.to_string(), base64::engine::general_purpose::STANDARD.encode(&signature))]),
        }],
        annotations: BTreeMap::new(),
    };
    registry.put_manifest(&sig_ref, &manifest.to_bytes()).await?;
    Ok(tag)
}

/// A pattern fetched from a registry: every file in memory, each checked against its digest.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The reference, pinned to the digest fetched.
    pub reference: Reference,
    /// The manifest digest.
    pub digest: String,
    /// The manifest.
    pub manifest: Manifest,
    /// The raw manifest bytes.
    pub manifest_bytes: Vec<u8>,
    /// (title, bytes), sorted by title.
    pub files: Vec<(String, Vec<u8>)>,
}

/// Fetches the pattern `reference` names; nothing is written.
pub async fn fetch(registry: &Registry, reference: &Reference, progress: &mut dyn FnMut(Progress)) -> Result<Fetched, OciError> {
    let (manifest, manifest_bytes, digest) = registry.manifest(reference).await?;
    if manifest.kind().is_none() {
        return Err(OciError::Manifest {
            reference: reference.to_string(),
            why: format!(
                "not an Orkestra pattern (config media type `{}`; expected {} or {})",
                manifest.config.media_type,
                layout::PATTERN_ARTIFACT_TYPE,
                layout::MOTIF_ARTIFACT_TYPE
            ),
        });
    }
    let titled = manifest.files()?;
    if titled.len() > layout::MAX_FILES {
        return Err(OciError::Manifest { reference: reference.to_string(), why: format!("more than {} files", layout::MAX_FILES) });
    }
    let total: u64 = titled.iter().map(|(_, d)| d.size).sum();
    if total > layout::MAX_TOTAL_BYTES {
        return Err(OciError::Manifest { reference: reference.to_string(), why: format!("{total} bytes of files; the limit is {}", layout::MAX_TOTAL_BYTES) });
    }
    let mut p = Progress { files: titled.len(), bytes: total, ..Progress::default() };
    progress(p);
    let mut files = Vec::with_capacity(titled.len());
    for (title, d) in &titled {
        let bytes = registry.blob(reference, d, title).await?;
        p.files_done += 1;
        p.bytes_done += d.size;
        progress(p);
        files.push((title.to_string(), bytes));
    }
    let pinned = reference.with_digest(&digest);
    Ok(Fetched { reference: pinned, digest, manifest, manifest_bytes, files })
}

/// A signature found for an artifact.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Signature {
    /// The signed `docker-reference`.
    pub docker_reference: String,
    /// Whether it verified with the key given (`None`: no key given).
    pub verified: Option<bool>,
}

/// The signatures stored for `digest` (the `sha256-<hex>.sig` tag), each checked with `key`
/// when given. No signature tag: an empty list.
pub async fn signatures(registry: &Registry, reference: &Reference, digest: &str, key: Option<&sign::PublicKey>) -> Result<Vec<Signature>, OciError> {
    let tag = sign::signature_tag(digest).map_err(|e| OciError::Signature(e.to_string()))?;
    let sig_ref = reference.with_tag(&tag);
    let (manifest, _, _) = match registry.manifest(&sig_ref).await {
        Ok(m) => m,
        Err(OciError::NotFound { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for layer in manifest.layers.iter().filter(|l| l.media_type == sign::SIMPLE_SIGNING_MEDIA_TYPE).take(16) {
        let Some(sig_b64) = layer.annotations.get(sign::SIGNATURE_ANNOTATION) else { continue };
        if layer.size > 64 * 1024 {
            continue;
        }
        let payload = registry.blob(&sig_ref, layer, "the signature payload").await?;
        let Ok(parsed) = sign::parse_payload(&payload) else { continue };
        if parsed.manifest_digest != digest {
            continue;
        }
        use base64::Engine;
        let verified = key.map(|k| base64::engine::general_purpose::STANDARD.decode(sig_b64.trim()).ok().is_some_and(|sig| k.verify(&payload, &sig).is_ok()));
        out.push(Signature { docker_reference: parsed.docker_reference, verified });
    }
    Ok(out)
}

/// Refuses `digest` unless one of its signatures verifies with `key`.
pub async fn verify(registry: &Registry, reference: &Reference, digest: &str, key: &sign::PublicKey) -> Result<(), OciError> {
    let sigs = signatures(registry, reference, digest, Some(key)).await?;
    if sigs.is_empty() {
        return Err(OciError::Signature(format!("{reference} ({digest}) is not signed; refusing it because a verification key was given")));
    }
    if !sigs.iter().any(|s| s.verified == Some(true)) {
        return Err(OciError::Signature(format!(
            "no signature of {reference} ({digest}) verifies with the key {}; it was signed by another key, or altered",
            key.fingerprint()
        )));
    }
    Ok(())
}

/// Files staged next to their destination, not yet visible there.
#[derive(Debug)]
pub struct Staged {
    staging: PathBuf,
    out: PathBuf,
    /// The files written, relative to the output directory.
    pub files: Vec<PathBuf>,
}

/// A staged pull moved into place, the previous directory kept aside until
/// [`Committed::keep`]; dropped without `keep`, the previous content comes back.
#[derive(Debug)]
pub struct Committed {
    out: PathBuf,
    old: Option<PathBuf>,
    done: bool,
}

/// Whether `dir` exists and holds anything.
pub fn non_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).map(|mut r| r.next().is_some()).unwrap_or(false)
}

/// Writes `fetched` into a hidden directory next to `out` (titles re-checked; nothing is
/// written outside it). `out` must not exist, be empty, or `force` be given.
pub fn stage(fetched: &Fetched, out: &Path, force: bool) -> Result<Staged, OciError> {
    if out.exists() && !out.is_dir() {
        return Err(OciError::NotADirectory { path: out.to_path_buf() });
    }
    if non_empty(out) && !force {
        return Err(OciError::Exists { path: out.to_path_buf() });
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| OciError::io(&parent, e))?;
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "pattern".into());
    let staging = parent.join(format!(".{name}.ork-pull-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| OciError::io(&staging, e))?;
    }
    std::fs::create_dir(&staging).map_err(|e| OciError::io(&staging, e))?;
    let mut staged = Staged { staging: staging.clone(), out: out.to_path_buf(), files: Vec::new() };
    for (title, bytes) in &fetched.files {
        layout::check_title(title)?;
        let rel = PathBuf::from(title);
        let path = staging.join(&rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| OciError::io(dir, e))?;
        }
        // `create_new`: never follows or replaces anything already there.
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&path).map_err(|e| OciError::io(&path, e))?;
        std::io::Write::write_all(&mut f, bytes).map_err(|e| OciError::io(&path, e))?;
        f.sync_all().map_err(|e| OciError::io(&path, e))?;
        staged.files.push(rel);
    }
    Ok(staged)
}

impl Staged {
    /// Moves the staged files into place: the previous directory (if any) is renamed aside,
    /// the staged one renamed in.
    pub fn commit(mut self) -> Result<Committed, OciError> {
        let mut old = None;
        if self.out.exists() {
            let aside = self.staging.with_extension("old");
            std::fs::rename(&self.out, &aside).map_err(|e| OciError::io(&self.out, e))?;
            old = Some(aside);
        }
        if let Err(e) = std::fs::rename(&self.staging, &self.out) {
            if let Some(aside) = &old {
                let _ = std::fs::rename(aside, &self.out);
            }
            return Err(OciError::io(&self.out, e));
        }
        self.staging = PathBuf::new();
        Ok(Committed { out: self.out.clone(), old, done: false })
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.staging.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

impl Committed {
    /// Keeps the new content; the previous one is deleted.
    pub fn keep(mut self) {
        self.done = true;
        if let Some(old) = self.old.take() {
            let _ = std::fs::remove_dir_all(old);
        }
    }
}

impl Drop for Committed {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let _ = std::fs::remove_dir_all(&self.out);
        if let Some(old) = self.old.take() {
            let _ = std::fs::rename(old, &self.out);
        }
    }
}

/// What `ork inspect` shows: the manifest's metadata, files and signatures, without
/// downloading the files.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Inspected {
    /// The reference, pinned to its digest.
    pub reference: String,
    /// Manifest digest.
    pub digest: String,
    /// Manifest media type.
    pub media_type: Option<String>,
    /// The config media type (the artifact type).
    pub artifact_type: String,
    /// Manifest annotations.
    pub annotations: BTreeMap<String, String>,
    /// The files, by layer.
    pub files: Vec<InspectedFile>,
    /// Signatures found (`verified` only when a key was given).
    pub signatures: Vec<Signature>,
    /// The repository's tags (signature tags left out).
    pub tags: Vec<String>,
}

/// One file of an inspected artifact.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InspectedFile {
    /// Its title (path), when it has one.
    pub title: Option<String>,
    /// Layer media type.
    pub media_type: String,
    /// Layer digest.
    pub digest: String,
    /// Bytes.
    pub size: u64,
}

/// Reads the manifest, signatures and tags of `reference`.
pub async fn inspect(registry: &Registry, reference: &Reference, key: Option<&sign::PublicKey>) -> Result<Inspected, OciError> {
    let (manifest, _, digest) = registry.manifest(reference).await?;
    let signatures = signatures(registry, reference, &digest, key).await?;
    // Tags are extra: a registry that does not list them still shows the artifact.
    let tags = registry.tags(reference).await.unwrap_or_default().into_iter().filter(|t| !t.ends_with(".sig")).collect();
    let files = manifest
        .layers
        .iter()
        .map(|l| InspectedFile { title: l.annotations.get(layout::TITLE).cloned(), media_type: l.media_type.clone(), digest: l.digest.clone(), size: l.size })
        .collect();
    Ok(Inspected {
        reference: reference.with_digest(&digest).to_string(),
        digest,
        media_type: manifest.media_type.clone(),
        artifact_type: manifest.config.media_type.clone(),
        annotations: manifest.annotations.clone(),
        files,
        signatures,
        tags,
    })
}
