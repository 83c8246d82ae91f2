//! A scratch directory for the katalog integration tests, removed on drop.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

/// A fresh directory under the system temp dir, unique per test tag and process.
pub struct Dir(pub PathBuf);

impl Dir {
    /// `<tmp>/katalog-<tag>-<pid>`, emptied first.
    pub fn new(tag: &str) -> Dir {
        let p = std::env::temp_dir().join(format!("katalog-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }

    /// Writes `text` to `rel` (parent directories created); its path.
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap_or(Path::new("."))).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
