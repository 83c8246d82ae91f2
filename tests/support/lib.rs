//! Test support: run the real `ork` binary in a temporary directory and capture its output.
// Test support: a missing tool or an unreadable binary is a test failure, with its reason.
#![allow(clippy::expect_used)]

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

/// Runs kubectl with `kubeconfig`: exit code (-1 when killed) and stdout + stderr.
pub fn kubectl(kubeconfig: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new("kubectl").args(args).env("KUBECONFIG", kubeconfig).output().expect("kubectl is required on PATH");
    (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// xorshift64*: deterministic, dependency-free randomness for the fuzz tests.
pub struct XorShift(pub u64);

impl XorShift {
    /// The next 64 random bits.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Checks on a production binary (`ork-runtime`, `ork-gateway`): what it offers and what is
/// linked into it.
pub mod production {
    use std::path::Path;
    use std::process::Command;

    /// Demangled symbol names of a binary.
    pub fn symbols(bin: &Path) -> String {
        let out = Command::new("nm").args(["-C", "--defined-only"]).arg(bin).output().expect("nm (binutils)");
        assert!(out.status.success(), "nm failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The subcommands `bin --help` lists, in order.
    pub fn subcommands(bin: &Path) -> Vec<String> {
        let help = Command::new(bin).arg("--help").output().expect("the binary runs");
        assert!(help.status.success());
        String::from_utf8_lossy(&help.stdout)
            .lines()
            .skip_while(|l| !l.starts_with("Commands:"))
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_string)
            .collect()
    }

    /// `bin`'s symbols hold none of `forbidden` (pattern, what it stands for), its bytes none of
    /// `ork init`'s scaffold text; and `ork`, which carries everything, holds every pattern (so
    /// the check can fail). Returns `bin`'s symbols for further checks.
    pub fn assert_only_its_own_code(bin: &Path, forbidden: &[(&str, &str)]) -> String {
        let name = bin.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let symbols = symbols(bin);
        for (pattern, what) in forbidden {
            let hits: Vec<&str> = symbols.lines().filter(|l| l.contains(pattern)).take(3).collect();
            assert!(hits.is_empty(), "{what} ({pattern}) is linked into {name}: {hits:?}");
        }
        let bytes = std::fs::read(bin).expect("the binary is readable");
        for needle in ["Serve a container image as a website", "kind: Simulate"] {
            assert!(!bytes.windows(needle.len()).any(|w| w == needle.as_bytes()), "scaffold text {needle:?} is in {name}");
        }
        let ork = super::ork_bin();
        let ork_symbols = self::symbols(&ork);
        for (pattern, what) in forbidden {
            assert!(ork_symbols.contains(pattern), "{what}: {pattern} not found in ork either; the pattern is stale");
        }
        let ork_bytes = std::fs::read(&ork).expect("ork is readable");
        let needle = b"Serve a container image as a website";
        assert!(ork_bytes.windows(needle.len()).any(|w| w == needle), "positive control: ork embeds the packs");
        symbols
    }
}

/// A program running in its own tmux server (private socket, so tests never touch a user's
/// sessions), read back with `capture-pane` and driven with `send-keys`; the server is killed
/// on drop.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts `command` (run by `sh -c`) in `dir` on a `width` × `height` terminal, with `env`.
    pub fn start(dir: &Path, command: &str, width: u16, height: u16, env: &[(&str, &str)]) -> Tmux {
        let socket = format!("ork-test-{}-{}", std::process::id(), unique());
        let mut c = Command::new("tmux");
        c.args(["-L", &socket, "-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", &width.to_string(), "-y", &height.to_string(), "-c"]).arg(dir);
        for (k, v) in env {
            c.args(["-e", &format!("{k}={v}")]);
        }
        c.arg(command);
        let out = c.output().expect("tmux must be installed (scripts/test.sh installs it)");
        assert!(out.status.success(), "tmux new-session failed: {}", String::from_utf8_lossy(&out.stderr));
        Tmux { socket }
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux").args(["-L", &self.socket]).args(args).output().expect("tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen as text.
    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "t"])
    }

    /// Sends keys, tmux's names (`Enter`, `Escape`, `C-c`) or literal text, one call each.
    pub fn send(&self, keys: &[&str]) {
        for k in keys {
            self.tmux(&["send-keys", "-t", "t", k]);
            // An escape followed at once by a key is read as alt+key by terminals.
            if *k == "Escape" {
                std::thread::sleep(std::time::Duration::from_millis(80));
            }
        }
    }

    /// Sends text literally (no key names).
    pub fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "t", "-l", text]);
    }

    /// Whether the pane shows the alternate screen (a full-screen program is drawing).
    pub fn alternate_screen(&self) -> bool {
        self.tmux(&["display-message", "-p", "-t", "t", "#{alternate_on}"]).trim() == "1"
    }

    /// Polls the screen every 25 ms until `pred` holds (returns the screen and how long it
    /// took) or `timeout` passes (panics with the last screen and `what`).
    pub fn wait_for(&self, what: &str, timeout: std::time::Duration, pred: impl Fn(&str) -> bool) -> (String, std::time::Duration) {
        let started = std::time::Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return (s, started.elapsed());
            }
            if started.elapsed() > timeout {
                panic!("timed out after {timeout:?} waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).output();
    }
}
