//! Writing files whole: a temporary file beside the target (never an existing one), flushed to
//! disk, then renamed over it, so a reader never sees half a file and a failed write leaves the
//! old one. The one way ork writes what it generates (packs, reports, kubeconfigs, scaffolds).

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically (parents created), readable as the umask allows.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_with_mode(path, bytes, 0o666)
}

/// Writes `bytes` to `path` atomically, readable by its owner only (0600): for files that hold a
/// credential, such as a kubeconfig with a token.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_with_mode(path, bytes, 0o600)
}

fn write_with_mode(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let dir = katalog::files::dir_of(path);
    std::fs::create_dir_all(&dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut suffix = [0u8; 6];
    katalog::template::Rng::Os.fill(&mut suffix).map_err(std::io::Error::other)?;
    let tmp = dir.join(format!(".{name}.{}.tmp", katalog::template::hex(&suffix)));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let written = options.open(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_written_whole_and_private_ones_for_their_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("ork-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let p = dir.join("sub/a.txt");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let k = dir.join("sub/kubeconfig");
        write_private(&k, b"token").unwrap();
        assert_eq!(std::fs::metadata(&k).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_dir(dir.join("sub")).unwrap().count(), 2, "no temporary file left");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
