//! Test support: run the real `ork` binary in a temporary directory and capture its output.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Path of the `ork` binary, built once per test process (`cargo build -p ork-tui`).
pub fn ork_bin() -> PathBuf {
    static BUILD: Once = Once::new();
    binary(&BUILD, "ork-tui", "ork")
}

/// Path of the `ork-runtime` binary, built on its own (`cargo build -p ork-runtime`: feature
/// "runtime" only, as production builds it).
pub fn ork_runtime_bin() -> PathBuf {
    static BUILD: Once = Once::new();
    binary(&BUILD, "ork-runtime", "ork-runtime")
}

fn binary(once: &Once, package: &str, name: &str) -> PathBuf {
    once.call_once(|| cargo_build(&["-p", package]));
    let bin = target_dir().join("debug").join(name);
    assert!(bin.exists(), "{name} binary not found at {}", bin.display());
    bin
}

/// The target directory builds go to.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

/// Runs `cargo build -q -j2 ARGS` in the workspace; panics when it fails.
pub fn cargo_build(args: &[&str]) {
    let mut cargo = Command::new(env!("CARGO"));
    cargo.args(["build", "-q", "-j2"]).args(args).current_dir(root());
    // The variables cargo sets for this test process describe *this* package; build scripts
    // that track them (ring tracks CARGO_MANIFEST_DIR) would otherwise rebuild every time.
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("CARGO_PKG_")
            || matches!(k.as_str(), "CARGO_MANIFEST_DIR" | "CARGO_MANIFEST_PATH" | "CARGO_CRATE_NAME" | "CARGO_PRIMARY_PACKAGE" | "CARGO_TARGET_TMPDIR")
        {
            cargo.env_remove(&k);
        }
    }
    let status = cargo.status();
    assert!(matches!(status, Ok(s) if s.success()), "cargo build {args:?} failed: {status:?}");
}

/// The production runtime binary: `cargo build --release -p ork-runtime`, on its own.
pub fn release_runtime_bin() -> PathBuf {
    cargo_build(&["--release", "-p", "ork-runtime"]);
    target_dir().join("release").join("ork-runtime")
}

/// The result of one `ork` run.
#[derive(Debug)]
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `ork args…` in `dir` with colour off.
pub fn ork(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(ork_bin()).args(args).current_dir(dir).env("NO_COLOR", "1").output().unwrap_or_else(|e| panic!("cannot run ork: {e}"));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Bounds for [`ork_bounded`].
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// ork's address space (`RLIMIT_AS`), in bytes: an allocation past it fails and ork aborts.
    pub address_space: u64,
    /// Seconds before ork is killed (SIGKILL; exit code 137).
    pub timeout_secs: u32,
}

/// Runs `ork args…` in `dir` like [`ork`], within `bounds`, and measures the peak resident set
/// size of that process in KiB: the `ru_maxrss` the kernel reports when the process is reaped
/// (`wait4`), exact however briefly the peak lasts. A small python3 wrapper (python3 is
/// installed by scripts/test.sh) spawns ork and reaps it. The bounds make a regression (a read
/// that never ends, an allocation that never stops) fail the test instead of hanging it or
/// exhausting the machine's memory.
pub fn ork_bounded(dir: &Path, args: &[&str], bounds: Bounds) -> (Run, u64) {
    const WRAPPER: &str = r#"
import os, resource, signal, subprocess, sys
out, cap, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def limit():
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
child = subprocess.Popen(sys.argv[4:], preexec_fn=limit)
def expire(signum, frame):
    sys.stderr.write("ork-bounded: killed after %d s\n" % timeout)
    child.kill()
signal.signal(signal.SIGALRM, expire)
signal.alarm(timeout)
_, status, usage = os.wait4(child.pid, 0)
child.returncode = 0  # reaped here: Popen must not wait again
with open(out, "w") as f:
    f.write(str(usage.ru_maxrss))
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"#;
    let report = std::env::temp_dir().join(format!("ork-maxrss-{}-{}", std::process::id(), unique()));
    let out = Command::new("python3")
        .arg("-c")
        .arg(WRAPPER)
        .arg(&report)
        .arg(bounds.address_space.to_string())
        .arg(bounds.timeout_secs.to_string())
        .arg(ork_bin())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 (it measures ork's peak memory; scripts/test.sh installs it): {e}"));
    let text = std::fs::read_to_string(&report).unwrap_or_default();
    let _ = std::fs::remove_file(&report);
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    let kib = text.trim().parse::<u64>().unwrap_or_else(|_| panic!("the python3 wrapper reported no peak RSS ({text:?}):\n{}", run.stderr));
    (run, kib)
}

fn unique() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

/// A fresh temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates one.
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!("ork-test-{tag}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap_or_else(|e| panic!("mkdir {}: {e}", p.display()));
        TempDir(p)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes a file below it (parents created).
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.0.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir: {e}"));
        }
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every Katalog/Komposer example under demos/ (not the `invalid/` ones), sorted.
pub fn demo_katalogs() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else { return };
        for e in rd.filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if !matches!(name, "invalid" | "katalogs" | "motifs" | "fragments" | "crds") {
                    walk(&p, out);
                }
            } else if matches!(p.file_name().and_then(|n| n.to_str()), Some("katalog.yaml" | "komposer.yaml")) {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join("demos"), &mut out);
    out.sort();
    out
}

/// Runs the PyPI `kubernetes-validate --strict` that scripts/test.sh installs into `.venv/` on
/// `files`, and asserts that it succeeds and that exactly `expected` documents passed (none
/// skipped).
pub fn kubernetes_validate(files: &[PathBuf], expected: usize) {
    let bin = root().join(".venv/bin/kubernetes-validate");
    assert!(bin.exists(), "{} is missing: run ./scripts/test.sh, which installs kubernetes-validate into .venv/", bin.display());
    let out = Command::new(bin).arg("--strict").args(files).output().unwrap_or_else(|e| panic!("cannot run kubernetes-validate: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "kubernetes-validate failed:\n{text}");
    assert_eq!(text.matches(" passed for resource ").count(), expected, "every document must be validated, not skipped:\n{text}");
}
