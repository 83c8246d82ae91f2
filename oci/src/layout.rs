//! A pattern directory ↔ one OCI image manifest: one layer per file (raw bytes, titled by its
//! path relative to the pattern), the artifact type as the config media type with the empty
//! `{}` config, and annotations for the pattern's metadata and the gates it passed
//! (`shared/reference/cli-and-workflows.md` §10.2).
//!
//! Packing takes every regular file under the directory except hidden ones (`.git`, editor
//! state): a pattern's e2e suite, fixtures and `include:` fragments travel with it. A symlink is
//! refused (it would ship a file from elsewhere, or a path that resolves differently for the
//! puller). Unpacking trusts nothing: [`check_title`] admits only plain relative paths.

use crate::error::OciError;
use katalog::yaml::Limits;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// Media type of the manifest.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// Artifact (config) media type of a Katalog pattern.
pub const PATTERN_ARTIFACT_TYPE: &str = "application/vnd.orkestra.pattern.v1+tar+gzip";
/// Artifact (config) media type of a Motif.
pub const MOTIF_ARTIFACT_TYPE: &str = "application/vnd.orkestra.motif.v1+tar+gzip";
/// The layer annotation holding a file's path.
pub const TITLE: &str = "org.opencontainers.image.title";
/// The empty config blob.
pub const EMPTY_CONFIG: &[u8] = b"{}";

/// At most this many files in a pattern.
pub const MAX_FILES: usize = 2_000;
/// At most this many bytes in one file.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// At most this many bytes in a whole pattern.
pub const MAX_TOTAL_BYTES: u64 = 64 * 1024 * 1024;

/// What a pattern is, from its primary file's `kind:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PatternKind {
    /// A Katalog (or a Komposer, which travels inside a Katalog pattern).
    Katalog,
    /// A Motif.
    Motif,
}

impl PatternKind {
    /// The artifact (config) media type.
    pub fn artifact_type(self) -> &'static str {
        match self {
            PatternKind::Katalog => PATTERN_ARTIFACT_TYPE,
            PatternKind::Motif => MOTIF_ARTIFACT_TYPE,
        }
    }

    /// The kind an artifact type names.
    pub fn from_artifact_type(t: &str) -> Option<PatternKind> {
        match t {
            PATTERN_ARTIFACT_TYPE => Some(PatternKind::Katalog),
            MOTIF_ARTIFACT_TYPE => Some(PatternKind::Motif),
            _ => None,
        }
    }

    /// `Katalog` / `Motif`.
    pub fn as_str(self) -> &'static str {
        match self {
            PatternKind::Katalog => "Katalog",
            PatternKind::Motif => "Motif",
        }
    }

    /// The primary file's name.
    pub fn primary_files(self) -> &'static [&'static str] {
        match self {
            PatternKind::Katalog => &["katalog.yaml", "komposer.yaml"],
            PatternKind::Motif => &["motif.yaml"],
        }
    }
}

/// A pattern's metadata, from its primary file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Metadata {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.version` (default `latest`).
    pub version: String,
    /// `metadata.description`.
    pub description: String,
    /// `metadata.author`.
    pub author: Option<String>,
    /// `metadata.license`.
    pub license: Option<String>,
    /// `metadata.tags`.
    pub tags: Vec<String>,
}

/// One file of a pattern.
#[derive(Clone, PartialEq, Eq)]
pub struct PatternFile {
    /// Its path relative to the pattern directory, `/`-separated (the layer title).
    pub path: String,
    /// Its layer media type.
    pub media_type: String,
    /// Its content.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for PatternFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatternFile").field("path", &self.path).field("media_type", &self.media_type).field("size", &self.bytes.len()).finish()
    }
}

/// A pattern read from a directory: what `ork push` sends.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The directory.
    pub dir: PathBuf,
    /// Katalog or Motif.
    pub kind: PatternKind,
    /// The primary file's name (`katalog.yaml`, `komposer.yaml`, `motif.yaml`).
    pub primary: String,
    /// Its metadata.
    pub metadata: Metadata,
    /// Every file, sorted by path.
    pub files: Vec<PatternFile>,
}

impl Pattern {
    /// The total size of the files.
    pub fn size(&self) -> u64 {
        self.files.iter().map(|f| f.bytes.len() as u64).sum()
    }
}

/// The layer media type of a file, by name (§10.2); others are `application/octet-stream`.
pub fn media_type(path: &str) -> &'static str {
    match path {
        "katalog.yaml" => "application/vnd.orkestra.katalog.v1+yaml",
        "crd.yaml" => "application/vnd.kubernetes.crd.v1+yaml",
        "cr.yaml" => "application/vnd.kubernetes.cr.v1+yaml",
        "README.md" => "text/markdown",
        "motif.yaml" => "application/vnd.orkestra.motif.v1+yaml",
        "e2e.yaml" => "application/vnd.orkestra.e2e.v1+yaml",
        "simulate.yaml" => "application/vnd.orkestra.simulate.v1+yaml",
        "go.mod" | "go.sum" => "text/plain",
        "Makefile" => "text/x-makefile",
        _ => "application/octet-stream",
    }
}

/// Reads the pattern in `dir`: its kind and metadata from the primary file, and every file.
pub fn read_pattern(dir: &Path) -> Result<Pattern, OciError> {
    let layout = |why: String| OciError::Layout { path: dir.to_path_buf(), why };
    let meta = std::fs::metadata(dir).map_err(|e| OciError::io(dir, e))?;
    if !meta.is_dir() {
        return Err(layout("not a directory; push takes a pattern directory (with katalog.yaml, komposer.yaml or motif.yaml)".into()));
    }
    let (kind, primary) = [("katalog.yaml", PatternKind::Katalog), ("komposer.yaml", PatternKind::Katalog), ("motif.yaml", PatternKind::Motif)]
        .into_iter()
        .find(|(f, _)| dir.join(f).is_file())
        .map(|(f, k)| (k, f.to_string()))
        .ok_or_else(|| layout("no katalog.yaml, komposer.yaml or motif.yaml here; a pattern directory holds one".into()))?;
    let mut files = Vec::new();
    let mut total = 0u64;
    walk(dir, dir, &mut files, &mut total)?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let metadata = read_metadata(&dir.join(&primary), kind)?;
    Ok(Pattern { dir: dir.to_path_buf(), kind, primary, metadata, files })
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<PatternFile>, total: &mut u64) -> Result<(), OciError> {
    let entries = std::fs::read_dir(dir).map_err(|e| OciError::io(dir, e))?;
    let mut entries: Vec<_> = entries.collect::<Result<_, _>>().map_err(|e| OciError::io(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            return Err(OciError::Layout { path: entry.path(), why: "the file name is not UTF-8; rename it".into() });
        };
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let ft = entry.file_type().map_err(|e| OciError::io(&path, e))?;
        if ft.is_symlink() {
            return Err(OciError::Layout { path, why: "is a symbolic link; a pattern ships only regular files (copy the file in, or move it out)".into() });
        }
        if ft.is_dir() {
            walk(root, &path, out, total)?;
            continue;
        }
        if !ft.is_file() {
            return Err(OciError::Layout { path, why: "is not a regular file".into() });
        }
        let rel = path.strip_prefix(root).unwrap_or(&path).components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/");
        check_title(&rel)?;
        let bytes = katalog::files::read_bounded(&path, MAX_FILE_BYTES).map_err(|d| OciError::Layout { path: path.clone(), why: d.message.clone() })?;
        *total += bytes.len() as u64;
        if out.len() >= MAX_FILES || *total > MAX_TOTAL_BYTES {
            return Err(OciError::Layout {
                path: root.to_path_buf(),
                why: format!("the pattern is larger than {MAX_FILES} files or {MAX_TOTAL_BYTES} bytes; move what is not part of it elsewhere"),
            });
        }
        out.push(PatternFile { media_type: media_type(&rel).to_string(), path: rel, bytes });
    }
    Ok(())
}

fn read_metadata(primary: &Path, kind: PatternKind) -> Result<Metadata, OciError> {
    let docs = katalog::load::include::read_yaml_values(primary, Limits::default())
        .map_err(|d| OciError::Layout { path: primary.to_path_buf(), why: d.to_string() })?;
    let doc = docs.into_iter().next().unwrap_or_default();
    let m = &doc["metadata"];
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let name = text(&m["name"])
        .filter(|s| !s.is_empty())
        .ok_or_else(|| OciError::Layout { path: primary.to_path_buf(), why: "metadata.name is required to push".into() })?;
    Ok(Metadata {
        description: text(&m["description"]).unwrap_or_else(|| format!("{} {name}", if kind == PatternKind::Motif { "Motif" } else { "Pattern" })),
        version: text(&m["version"]).unwrap_or_else(|| "latest".into()),
        author: text(&m["author"]),
        license: text(&m["license"]),
        tags: m["tags"].as_array().map(|a| a.iter().filter_map(text).collect()).unwrap_or_default(),
        name,
    })
}

/// Admits a layer title as a file path under the output directory: relative, `/`-separated
/// plain names — no `..`, no `.`, no empty segment, no absolute path, no backslash or NUL, no
/// hidden segment, at most 255 bytes a segment and 4 KiB in all.
pub fn check_title(title: &str) -> Result<(), OciError> {
    let bad = |why: &str| Err(OciError::UnsafePath { title: title.to_string(), why: why.to_string() });
    if title.is_empty() {
        return bad("it is empty");
    }
    if title.len() > 4096 {
        return bad("it is longer than 4096 bytes");
    }
    if title.starts_with('/') {
        return bad("it is an absolute path");
    }
    if title.contains('\\') || title.contains('\0') || title.chars().any(char::is_control) {
        return bad("it contains a backslash or a control character");
    }
    for seg in title.split('/') {
        match seg {
            "" => return bad("it has an empty path segment"),
            "." | ".." => return bad("it leaves or names its directory (`.` / `..`)"),
            s if s.starts_with('.') => return bad("it names a hidden file"),
            s if s.len() > 255 => return bad("a path segment is longer than 255 bytes"),
            _ => {}
        }
    }
    // Belt and braces: the OS's own reading of the path must agree.
    if Path::new(title).components().any(|c| !matches!(c, Component::Normal(_))) {
        return bad("it is not a plain relative path");
    }
    Ok(())
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", crate::sign::hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref()))
}

/// Checks that `bytes` have `digest` (sha256, sha384 or sha512).
pub fn verify_digest(what: &str, digest: &str, bytes: &[u8]) -> Result<(), OciError> {
    let alg = match digest.split_once(':').map(|(a, _)| a) {
        Some("sha256") => &ring::digest::SHA256,
        Some("sha384") => &ring::digest::SHA384,
        Some("sha512") => &ring::digest::SHA512,
        _ => return Err(OciError::Manifest { reference: what.to_string(), why: format!("unsupported digest `{digest}`") }),
    };
    let d = ring::digest::digest(alg, bytes);
    let actual = format!("{}:{}", digest.split_once(':').map_or("", |(a, _)| a), crate::sign::hex(d.as_ref()));
    if actual == digest { Ok(()) } else { Err(OciError::DigestMismatch { what: what.to_string(), expected: digest.to_string(), actual }) }
}

/// A content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type.
    pub media_type: String,
    /// `sha256:…`.
    pub digest: String,
    /// Bytes.
    pub size: u64,
    /// Annotations (the title on a layer).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An OCI image manifest, as ork writes and reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// 2.
    pub schema_version: u32,
    /// [`MANIFEST_MEDIA_TYPE`] (optional on read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// OCI 1.1 artifact type (read only: ork writes the type as the config media type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The config.
    pub config: Descriptor,
    /// One per file.
    pub layers: Vec<Descriptor>,
    /// Pattern metadata and gate results.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Manifest {
    /// The manifest of `pattern` with `annotations`; layers sorted by path.
    pub fn of(pattern: &Pattern, annotations: BTreeMap<String, String>) -> Manifest {
        let layers = pattern
            .files
            .iter()
            .map(|f| Descriptor {
                media_type: f.media_type.clone(),
                digest: sha256(&f.bytes),
                size: f.bytes.len() as u64,
                annotations: BTreeMap::from([(TITLE.to_string(), f.path.clone())]),
            })
            .collect();
        Manifest {
            schema_version: 2,
            media_type: Some(MANIFEST_MEDIA_TYPE.to_string()),
            artifact_type: None,
            config: Descriptor {
                media_type: pattern.kind.artifact_type().to_string(),
                digest: sha256(EMPTY_CONFIG),
                size: EMPTY_CONFIG.len() as u64,
                annotations: BTreeMap::new(),
            },
            layers,
            annotations,
        }
    }

    /// Its JSON bytes (what is pushed and digested).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The kind of pattern, from the config media type or the artifact type.
    pub fn kind(&self) -> Option<PatternKind> {
        PatternKind::from_artifact_type(&self.config.media_type).or_else(|| self.artifact_type.as_deref().and_then(PatternKind::from_artifact_type))
    }

    /// Each layer with its checked title, in title order; an unsafe or duplicate title is an
    /// error.
    pub fn files(&self) -> Result<Vec<(&str, &Descriptor)>, OciError> {
        let mut out: Vec<(&str, &Descriptor)> = Vec::new();
        for l in &self.layers {
            let Some(title) = l.annotations.get(TITLE) else {
                return Err(OciError::UnsafePath { title: l.digest.clone(), why: format!("the layer has no {TITLE} annotation") });
            };
            check_title(title)?;
            out.push((title, l));
        }
        out.sort_by(|a, b| a.0.cmp(b.0));
        for w in out.windows(2) {
            // A file and a directory of the same name, or the same file twice.
            if w[0].0 == w[1].0 || w[1].0.starts_with(&format!("{}/", w[0].0)) {
                return Err(OciError::UnsafePath { title: w[1].0.to_string(), why: format!("it collides with `{}`", w[0].0) });
            }
        }
        Ok(out)
    }
}

/// Annotation keys.
pub mod keys {
    /// RFC 3339 creation time.
    pub const CREATED: &str = "org.opencontainers.image.created";
    /// The pattern name.
    pub const TITLE: &str = "org.opencontainers.image.title";
    /// The pattern version.
    pub const VERSION: &str = "org.opencontainers.image.version";
    /// The description.
    pub const DESCRIPTION: &str = "org.opencontainers.image.description";
    /// The author.
    pub const AUTHORS: &str = "org.opencontainers.image.authors";
    /// Where the pattern's source lives (its git remote, credentials removed).
    pub const SOURCE: &str = "org.opencontainers.image.source";
    /// The source revision (git commit).
    pub const REVISION: &str = "org.opencontainers.image.revision";
    /// Katalog or Motif.
    pub const KIND: &str = "io.orkestra.pattern.kind";
    /// Name.
    pub const NAME: &str = "io.orkestra.pattern.name";
    /// Version.
    pub const PATTERN_VERSION: &str = "io.orkestra.pattern.version";
    /// Author.
    pub const AUTHOR: &str = "io.orkestra.pattern.author";
    /// License.
    pub const LICENSE: &str = "io.orkestra.pattern.license";
    /// Tags, comma-joined.
    pub const TAGS: &str = "io.orkestra.pattern.tags";
    /// The ork version that pushed it.
    pub const RUNTIME_VERSION: &str = "io.orkestra.katalog.runtime_version";
}

/// The metadata annotations of `pattern` (gate results are added by the caller).
pub fn metadata_annotations(pattern: &Pattern, created: &str, tool_version: &str) -> BTreeMap<String, String> {
    let m = &pattern.metadata;
    let mut a = BTreeMap::new();
    let mut put = |k: &str, v: &str| {
        a.insert(k.to_string(), v.to_string());
    };
    put(keys::CREATED, created);
    put(keys::TITLE, &m.name);
    put(keys::VERSION, &m.version);
    put(keys::DESCRIPTION, &m.description);
    put(keys::KIND, pattern.kind.as_str());
    put(keys::NAME, &m.name);
    put(keys::PATTERN_VERSION, &m.version);
    put(keys::RUNTIME_VERSION, tool_version);
    if let Some(author) = &m.author {
        put(keys::AUTHORS, author);
        put(keys::AUTHOR, author);
    }
    if let Some(l) = &m.license {
        put(keys::LICENSE, l);
    }
    if !m.tags.is_empty() {
        put(keys::TAGS, &m.tags.join(","));
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles() {
        for ok in ["katalog.yaml", "manifests/crd.yaml", "a/b/c.md"] {
            assert!(check_title(ok).is_ok(), "{ok}");
        }
        for bad in ["", "../escape", "a/../../b", "/etc/passwd", "a//b", "./a", ".git/config", "a\\b", "a/.hidden", "a\0b"] {
            assert!(check_title(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn digests() {
        assert_eq!(sha256(b"{}"), "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
        assert!(verify_digest("x", &sha256(b"a"), b"a").is_ok());
        assert!(matches!(verify_digest("x", &sha256(b"a"), b"b"), Err(OciError::DigestMismatch { .. })));
    }

    #[test]
    fn colliding_titles_are_refused() {
        let d = |t: &str| Descriptor { media_type: "x".into(), digest: sha256(t.as_bytes()), size: 1, annotations: BTreeMap::from([(TITLE.into(), t.into())]) };
        let m = |layers| Manifest { schema_version: 2, media_type: None, artifact_type: None, config: d("c"), layers, annotations: BTreeMap::new() };
        assert!(m(vec![d("a.yaml"), d("a.yaml")]).files().is_err());
        assert!(m(vec![d("a"), d("a/b.yaml")]).files().is_err());
        assert!(m(vec![d("b.yaml"), d("a.yaml")]).files().is_ok());
    }
}
