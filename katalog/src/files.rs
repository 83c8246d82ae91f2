//! Reading the files a user names: one bounded read for all of them, and the pattern root
//! that `include:`, Motif and Komposer imports, `crdFile` and `crFiles` must stay inside.
//!
//! Every user file ork reads goes through [`read_bounded`]: it refuses anything that is not a
//! regular file *before* opening it (a FIFO would block, `/dev/zero` never ends), and it reads
//! at most the cap plus one byte whatever the file's metadata claims (a file can grow between
//! `stat` and `read`, and `/proc` files report a length of zero).
//!
//! A pattern is a directory (katalog.yaml, its includes, motifs, CRDs, CRs), so the files a
//! Katalog names are confined to the directory of the top-level file given to the command, as
//! kustomize's default load restrictor confines a kustomization to its root. [`PatternRoot`]
//! decides, after resolving symlinks and `..`, and before the file is opened.

use crate::diag::{Diagnostic, FileId, Span, display_path};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// The flag that lifts the pattern-root confinement, as every command spells it.
pub const ALLOW_OUTSIDE_ROOT_FLAG: &str = "--allow-outside-root";

/// What a path that is not a regular file is, for messages.
fn file_type_name(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

fn not_a_file(path: &Path, meta: &std::fs::Metadata) -> Diagnostic {
    Diagnostic::error("not-a-file", format!("{} is {}, not a regular file; ork reads only regular files", display_path(path), file_type_name(meta)))
        .help("pass the path of a YAML file")
}

/// A diagnostic for a file that cannot be read; `code` is `file-not-found` or `io-error`, which
/// the CLI maps to exit code 2.
pub fn io_diag(path: &Path, e: &std::io::Error) -> Diagnostic {
    let shown = display_path(path);
    if e.kind() == std::io::ErrorKind::NotFound {
        Diagnostic::error("file-not-found", format!("{shown}: file not found"))
            .help("check the path; relative paths are resolved against the file that names them")
    } else {
        Diagnostic::error("io-error", format!("{shown}: {e}"))
    }
}

/// Reads the regular file at `path`, at most `max_bytes` of it. The one way ork reads a file a
/// user named. Errors: `file-not-found` / `io-error` (cannot be read), `not-a-file` (a
/// directory, device, FIFO or socket: refused before it is opened), `input-too-large` (more
/// than `max_bytes`: reading stops at `max_bytes + 1`).
pub fn read_bounded(path: &Path, max_bytes: u64) -> Result<Vec<u8>, Diagnostic> {
    let meta = std::fs::metadata(path).map_err(|e| io_diag(path, &e))?;
    if !meta.is_file() {
        return Err(not_a_file(path, &meta));
    }
    let file = std::fs::File::open(path).map_err(|e| io_diag(path, &e))?;
    // The path may have been swapped between the two calls: check what was opened.
    let opened = file.metadata().map_err(|e| io_diag(path, &e))?;
    if !opened.is_file() {
        return Err(not_a_file(path, &opened));
    }
    let mut bytes = Vec::new();
    file.take(max_bytes.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| io_diag(path, &e))?;
    if bytes.len() as u64 > max_bytes {
        return Err(Diagnostic::error("input-too-large", format!("{} has more than {max_bytes} bytes; the limit is {max_bytes} bytes", display_path(path)))
            .at(Span::new(FileId::intern(path), 1, 1))
            .help("Katalog files are small; check that this is the right file"));
    }
    Ok(bytes)
}

/// [`read_bounded`], as UTF-8 text (`invalid-yaml` at the line of the first invalid byte).
pub fn read_text_bounded(path: &Path, max_bytes: u64) -> Result<String, Diagnostic> {
    let bytes = read_bounded(path, max_bytes)?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
        Diagnostic::error("invalid-yaml", "file is not UTF-8 text (is it binary?)").at(Span::new(FileId::intern(path), line, 1))
    })
}

/// The directory a pattern's files must stay in, or no restriction (`--allow-outside-root`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternRoot {
    /// Canonical (symlinks resolved) root directory; `None`: every path is admitted.
    dir: Option<PathBuf>,
    /// The directories of patterns fetched from a registry or over https (canonical): a file
    /// inside one of them may name files only inside that same directory.
    fetched: Vec<PathBuf>,
}

/// A file reference that leaves the pattern root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutsideRoot {
    /// The path as written, resolved against the file that names it.
    pub path: PathBuf,
    /// Where it really is: symlinks and `..` resolved.
    pub resolved: PathBuf,
    /// The root it leaves.
    pub root: PathBuf,
}

/// The directory `path` is in: its parent, or `.` for a bare file name (whose parent is empty).
pub fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

impl PatternRoot {
    /// The root of the pattern whose top-level file is `top_file`: its directory, canonical.
    /// With `allow_outside` every path is admitted.
    pub fn of_file(top_file: &Path, allow_outside: bool) -> PatternRoot {
        if allow_outside {
            return PatternRoot::unrestricted();
        }
        PatternRoot { dir: Some(resolve(&dir_of(top_file))), fetched: Vec::new() }
    }

    /// No restriction.
    pub fn unrestricted() -> PatternRoot {
        PatternRoot { dir: None, fetched: Vec::new() }
    }

    /// The root directory (canonical), `None` when unrestricted.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Admits `path` (a reference resolved against the file that names it, as it will be
    /// opened) when, symlinks and `..` resolved, it lies inside the root. Nothing is opened.
    pub fn admit(&self, path: &Path) -> Result<(), OutsideRoot> {
        let Some(root) = &self.dir else { return Ok(()) };
        let resolved = resolve(path);
        if resolved.starts_with(root) { Ok(()) } else { Err(OutsideRoot { path: path.to_path_buf(), resolved, root: root.clone() }) }
    }

    /// Adds the directory of a fetched pattern (a registry import, an https file): the files
    /// in it are confined to it, whatever the main root.
    pub fn add_fetched(&mut self, dir: &Path) {
        let dir = resolve(dir);
        if !self.fetched.contains(&dir) {
            self.fetched.push(dir);
        }
    }

    /// Admits `path`, named by the file `from`: a file inside a fetched pattern may name only
    /// files of that pattern; any other file, files inside the root.
    pub fn admit_from(&self, from: &Path, path: &Path) -> Result<(), OutsideRoot> {
        let Some(root) = &self.dir else { return Ok(()) };
        let from = resolve(from);
        let root = self.fetched.iter().filter(|f| from.starts_with(f)).max_by_key(|f| f.as_os_str().len()).unwrap_or(root);
        let resolved = resolve(path);
        if resolved.starts_with(root) { Ok(()) } else { Err(OutsideRoot { path: path.to_path_buf(), resolved, root: root.clone() }) }
    }

    /// [`PatternRoot::admit_from`] the file of `reference`, as the diagnostic to report at
    /// `reference` (the position of the path in the document) when refused. `what` names the
    /// reference: "include", "motif", "Komposer import", "crdFile", "crFiles entry".
    pub fn check(&self, path: &Path, reference: Span, what: &str) -> Result<(), Diagnostic> {
        self.admit_from(&reference.file.path(), path).map_err(|o| o.diagnostic(reference, what))
    }
}

impl OutsideRoot {
    /// `outside-root` at `reference`: the path, where it resolves to, the root, and the fix.
    pub fn diagnostic(&self, reference: Span, what: &str) -> Diagnostic {
        // Name where it really is when that is not plain from the path (a symlink, `..`).
        let plain = lexical(&absolute(&self.path));
        let resolved = if self.resolved == plain { String::new() } else { format!(" (resolves to {})", self.resolved.display()) };
        Diagnostic::error(
            "outside-root",
            format!("{what} {}{resolved} is outside the pattern root {}; it was not read", display_path(&self.path), self.root.display()),
        )
        .at(reference)
        .help(format!(
            "a pattern's files stay in the directory of the file given to the command: copy the file into {}, or pass {ALLOW_OUTSIDE_ROOT_FLAG} if you trust this pattern",
            self.root.display()
        ))
    }
}

/// `path` made absolute with symlinks and `..` resolved as the OS would when opening it. The
/// longest existing prefix is canonicalized; the rest (which does not exist, so holds no
/// symlink) is appended with `.` dropped and `..` popping a component.
fn resolve(path: &Path) -> PathBuf {
    let absolute = absolute(path);
    let mut existing = absolute.as_path();
    let mut rest: Vec<Component<'_>> = Vec::new();
    loop {
        if let Ok(canonical) = existing.canonicalize() {
            let mut out = canonical;
            for c in rest.iter().rev() {
                match c {
                    Component::CurDir => {}
                    Component::ParentDir => {
                        out.pop();
                    }
                    other => out.push(other.as_os_str()),
                }
            }
            return out;
        }
        match (existing.parent(), existing.components().next_back()) {
            (Some(parent), Some(last)) => {
                rest.push(last);
                existing = parent;
            }
            _ => return lexical(&absolute),
        }
    }
}

/// `path` joined to the working directory when relative.
fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() { path.to_path_buf() } else { std::env::current_dir().map(|cwd| cwd.join(path)).unwrap_or_else(|_| path.to_path_buf()) }
}

/// `.` dropped and `..` applied, without touching the file system.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("katalog-files-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("root/sub")).unwrap_or_else(|e| panic!("{e}"));
        d
    }

    #[test]
    fn a_fetched_pattern_is_confined_to_its_own_directory() {
        let d = scratch("fetched");
        std::fs::create_dir_all(d.join("cache/p1")).unwrap_or_else(|e| panic!("{e}"));
        let mut root = PatternRoot::of_file(&d.join("root/komposer.yaml"), false);
        root.add_fetched(&d.join("cache/p1"));
        // The fetched pattern reads its own files, not the consumer's, nor elsewhere.
        assert!(root.admit_from(&d.join("cache/p1/katalog.yaml"), &d.join("cache/p1/x.yaml")).is_ok());
        let out = root.admit_from(&d.join("cache/p1/katalog.yaml"), &d.join("root/sub/x.yaml")).unwrap_err();
        assert!(out.root.ends_with("cache/p1"), "{:?}", out.root);
        assert!(root.admit_from(&d.join("cache/p1/katalog.yaml"), Path::new("/etc/passwd")).is_err());
        // The consumer reads its own files, and cannot reach into the cache.
        assert!(root.admit_from(&d.join("root/komposer.yaml"), &d.join("root/sub/x.yaml")).is_ok());
        assert!(root.admit_from(&d.join("root/komposer.yaml"), &d.join("cache/p1/x.yaml")).is_err());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn devices_are_refused_before_reading() {
        let e = read_bounded(Path::new("/dev/zero"), 1024).unwrap_err();
        assert_eq!(e.code, "not-a-file");
        assert!(e.message.contains("/dev/zero is a character device"), "{}", e.message);
        let e = read_bounded(Path::new("/"), 1024).unwrap_err();
        assert_eq!(e.code, "not-a-file");
    }

    #[test]
    fn reading_stops_after_the_cap() {
        let d = scratch("cap");
        let f = d.join("root/big.yaml");
        std::fs::write(&f, "x".repeat(100)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read_bounded(&f, 100).map(|b| b.len()), Ok(100));
        let e = read_bounded(&f, 99).unwrap_err();
        assert_eq!(e.code, "input-too-large");
        assert!(e.message.contains("the limit is 99 bytes"), "{}", e.message);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn the_root_admits_its_own_files_only() {
        let d = scratch("root");
        let root = PatternRoot::of_file(&d.join("root/katalog.yaml"), false);
        assert!(root.admit(&d.join("root/sub/x.yaml")).is_ok());
        assert!(root.admit(&d.join("root/missing/../sub/x.yaml")).is_ok());
        let out = root.admit(&d.join("root/../x.yaml")).unwrap_err();
        assert_eq!(out.resolved, resolve(&d).join("x.yaml"));
        assert!(root.admit(&d.join("root/missing/../../x.yaml")).is_err());
        assert!(root.admit(Path::new("/etc/passwd")).is_err());
        // A sibling whose name starts like the root is outside it.
        assert!(root.admit(&d.join("root2/x.yaml")).is_err());
        std::os::unix::fs::symlink("/etc", d.join("root/etc")).unwrap_or_else(|e| panic!("{e}"));
        let out = root.admit(&d.join("root/etc/passwd")).unwrap_err();
        assert_eq!(out.resolved, Path::new("/etc/passwd").canonicalize().unwrap_or_default());
        assert!(PatternRoot::of_file(&d.join("root/katalog.yaml"), true).admit(Path::new("/etc/passwd")).is_ok());
        let _ = std::fs::remove_dir_all(&d);
    }
}
