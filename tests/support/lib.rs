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

/// Path of the `ork-gateway` binary, built on its own (`cargo build -p ork-gateway`: feature
/// "gateway" only, as production builds it).
pub fn ork_gateway_bin() -> PathBuf {
    static BUILD: Once = Once::new();
    binary(&BUILD, "ork-gateway", "ork-gateway")
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

/// Runs `cargo build -q -j N ARGS` in the workspace (N: `CARGO_BUILD_JOBS`, default 2); panics
/// when it fails.
pub fn cargo_build(args: &[&str]) {
    let mut cargo = cargo();
    cargo.args(["build", "-q", "-j", &build_jobs()]).args(args);
    let status = cargo.status();
    assert!(matches!(status, Ok(s) if s.success()), "cargo build {args:?} failed: {status:?}");
}

/// How many jobs the tests' cargo builds run: `CARGO_BUILD_JOBS`, default 2 (as
/// scripts/build-images.sh).
fn build_jobs() -> String {
    std::env::var("CARGO_BUILD_JOBS").ok().filter(|j| !j.is_empty()).unwrap_or_else(|| "2".to_string())
}

/// `cargo` in the workspace, without the variables cargo sets for this test process.
fn cargo() -> Command {
    let mut cargo = Command::new(env!("CARGO"));
    cargo.current_dir(root());
    without_test_cargo_env(&mut cargo);
    cargo
}

/// Removes from `command`'s environment the variables cargo sets for this test process: they
/// describe *this* package, and build scripts that track them (ring tracks CARGO_MANIFEST_DIR)
/// would otherwise rebuild every time. For any command that runs `cargo build` (a script too).
pub fn without_test_cargo_env(command: &mut Command) {
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("CARGO_PKG_")
            || matches!(
                k.as_str(),
                "CARGO_MANIFEST_DIR" | "CARGO_MANIFEST_PATH" | "CARGO_CRATE_NAME" | "CARGO_PRIMARY_PACKAGE" | "CARGO_TARGET_TMPDIR" | "CARGO_ENCODED_RUSTFLAGS"
            )
        {
            command.env_remove(&k);
        }
    }
}

/// The target production binaries are built for: statically linked (`crt-static`).
pub const RELEASE_TARGET: &str = "x86_64-unknown-linux-gnu";

/// A production binary (`ork-runtime`, `ork-gateway`) exactly as scripts/build-images.sh builds
/// it for its image: release, statically linked, `-p PACKAGE` on its own (a build of both would
/// unify the `services` features). The symbol tests, the image tests and the runtime benchmark
/// share this one build.
pub fn release_static_bin(package: &str) -> PathBuf {
    let mut cargo = cargo();
    cargo.args(["build", "-q", "-j", &build_jobs(), "--release", "--target", RELEASE_TARGET, "-p", package]);
    cargo.env("RUSTFLAGS", "-C target-feature=+crt-static");
    let status = cargo.status();
    assert!(matches!(status, Ok(s) if s.success()), "cargo build --release --target {RELEASE_TARGET} -p {package} failed: {status:?}");
    target_dir().join(RELEASE_TARGET).join("release").join(package)
}

/// The production runtime binary (see [`release_static_bin`]).
pub fn release_runtime_bin() -> PathBuf {
    release_static_bin("ork-runtime")
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

/// The Python of `.venv/` at the repository root (scripts/test.sh creates it and installs the
/// pinned PyPI tools the tests run: kubernetes-validate, oras, cryptography).
pub fn venv_python() -> PathBuf {
    let python = root().join(".venv/bin/python");
    assert!(python.exists(), "{} is missing: run ./scripts/test.sh, which creates .venv/ with oras and cryptography", python.display());
    python
}

/// Runs `tests/support/oci_read.py args…` (the PyPI `oras` client, and a `cryptography`
/// signature check) with the `.venv` Python, and `env` set. Prefer [`Registry::oci_read`],
/// which adds the registry's transport flags and credentials.
pub fn oci_read(args: &[&str], env: &[(&str, &str)]) -> Run {
    let script = root().join("tests/support/oci_read.py");
    let mut c = Command::new(venv_python());
    c.arg(script).args(args).env_remove("ORAS_USER").env_remove("ORAS_PASS");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap_or_else(|e| panic!("cannot run oci_read.py: {e}"));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// How a [`Registry`] is reached. (Its `Debug` leaves the password out.)
#[derive(Clone, PartialEq, Eq)]
pub enum RegistryMode {
    /// Plain HTTP, anonymous.
    Plain,
    /// Plain HTTP, htpasswd basic auth.
    Basic {
        /// The user name.
        user: String,
        /// The password.
        pass: String,
    },
    /// HTTPS with a certificate for 127.0.0.1 and localhost signed by a test CA, anonymous.
    Tls,
}

/// Debian's `docker-registry` (CNCF distribution 2.8) serving on 127.0.0.1 with a random free
/// port, its storage (filesystem driver), configuration, certificates and log in a temporary
/// directory. Started and ready (`/v2/` answers) when a constructor returns; killed (by PID, then
/// reaped) on [`Registry::stop`] or drop. Every wait is bounded.
///
/// The registry's stdout and stderr (its log and access log) go to a file, read with
/// [`Registry::log`]: a test can assert that a secret appears nowhere in it.
pub struct Registry {
    mode: RegistryMode,
    port: u16,
    child: Option<std::process::Child>,
    /// The CA certificate (DER), in TLS mode.
    ca_der: Option<Vec<u8>>,
    dir: TempDir,
}

impl std::fmt::Debug for RegistryMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RegistryMode::Plain => f.write_str("Plain"),
            RegistryMode::Basic { user, .. } => f.debug_struct("Basic").field("user", user).finish_non_exhaustive(),
            RegistryMode::Tls => f.write_str("Tls"),
        }
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("host", &self.host()).field("mode", &self.mode).field("dir", &self.dir.path()).finish()
    }
}

/// Attempts at a free port: the port is released between picking and the registry binding it,
/// so another process may take it in between.
const REGISTRY_PORT_ATTEMPTS: u32 = 5;
/// Readiness polls and their interval: 100 × 50 ms.
const REGISTRY_READY_POLLS: u32 = 100;
const REGISTRY_READY_INTERVAL: std::time::Duration = std::time::Duration::from_millis(50);

impl Registry {
    /// Plain HTTP, anonymous.
    pub fn plain() -> Registry {
        Registry::start(RegistryMode::Plain)
    }

    /// Plain HTTP with htpasswd basic auth for `user`/`pass` (bcrypt, made by `htpasswd -Bbn`).
    pub fn basic(user: &str, pass: &str) -> Registry {
        Registry::start(RegistryMode::Basic { user: user.to_string(), pass: pass.to_string() })
    }

    /// HTTPS with a test CA ([`Registry::ca_pem_path`]), anonymous.
    pub fn tls() -> Registry {
        Registry::start(RegistryMode::Tls)
    }

    /// Starts a registry in `mode`; panics (with the registry's log) when it does not answer.
    pub fn start(mode: RegistryMode) -> Registry {
        let dir = TempDir::new("registry");
        std::fs::create_dir_all(dir.path().join("storage")).unwrap_or_else(|e| panic!("mkdir storage: {e}"));
        let ca_der = match &mode {
            RegistryMode::Tls => Some(write_test_certificates(dir.path())),
            RegistryMode::Basic { user, pass } => {
                let out = Command::new("htpasswd")
                    .args(["-Bbn", user, pass])
                    .output()
                    .unwrap_or_else(|e| panic!("htpasswd is required (apt apache2-utils; scripts/test.sh installs it): {e}"));
                assert!(out.status.success(), "htpasswd failed: {}", String::from_utf8_lossy(&out.stderr));
                std::fs::write(dir.path().join("htpasswd"), &out.stdout).unwrap_or_else(|e| panic!("write htpasswd: {e}"));
                None
            }
            RegistryMode::Plain => None,
        };
        let mut reg = Registry { mode, port: 0, child: None, ca_der, dir };
        let mut last_log = String::new();
        for _ in 0..REGISTRY_PORT_ATTEMPTS {
            reg.port = free_port();
            std::fs::write(reg.config_path(), reg.config()).unwrap_or_else(|e| panic!("write registry config: {e}"));
            let log = std::fs::File::create(reg.log_path()).unwrap_or_else(|e| panic!("create registry log: {e}"));
            let log2 = log.try_clone().unwrap_or_else(|e| panic!("registry log: {e}"));
            let child = Command::new("docker-registry")
                .arg("serve")
                .arg(reg.config_path())
                .stdin(std::process::Stdio::null())
                .stdout(log)
                .stderr(log2)
                .spawn()
                .unwrap_or_else(|e| panic!("docker-registry is required (apt docker-registry; scripts/test.sh installs it): {e}"));
            reg.child = Some(child);
            if reg.wait_ready() {
                return reg;
            }
            reg.stop();
            last_log = reg.log();
            if !last_log.contains("address already in use") {
                break;
            }
        }
        panic!("docker-registry did not answer on {} within {} × {:?}; its log:\n{last_log}", reg.host(), REGISTRY_READY_POLLS, REGISTRY_READY_INTERVAL);
    }

    /// Polls until the registry has logged that it listens on its port (so what answers is this
    /// registry, not another process that took the port) and `/v2/` answers 200 (or 401 with
    /// auth): false when the process exits or the polls run out.
    fn wait_ready(&mut self) -> bool {
        let listening = format!("listening on {}", self.host());
        for _ in 0..REGISTRY_READY_POLLS {
            if let Some(child) = self.child.as_mut()
                && !matches!(child.try_wait(), Ok(None))
            {
                return false;
            }
            if self.log().contains(&listening) && matches!(self.v2_status(), Some(200 | 401)) {
                return true;
            }
            std::thread::sleep(REGISTRY_READY_INTERVAL);
        }
        false
    }

    /// The HTTP status of an anonymous `GET /v2/` (TLS verified against the test CA), or `None`
    /// when there is no answer within a second.
    pub fn v2_status(&self) -> Option<u16> {
        use std::net::{SocketAddr, TcpStream};
        let timeout = std::time::Duration::from_secs(1);
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let mut sock = TcpStream::connect_timeout(&addr, timeout).ok()?;
        sock.set_read_timeout(Some(timeout)).ok()?;
        sock.set_write_timeout(Some(timeout)).ok()?;
        match &self.ca_der {
            None => http_status(&mut sock, &self.host()),
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                roots.add(rustls_pki_types::CertificateDer::from(ca.clone())).ok()?;
                let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
                    .with_safe_default_protocol_versions()
                    .ok()?
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                let name = rustls_pki_types::ServerName::try_from("127.0.0.1").ok()?;
                let mut conn = rustls::ClientConnection::new(std::sync::Arc::new(config), name).ok()?;
                let mut tls = rustls::Stream::new(&mut conn, &mut sock);
                http_status(&mut tls, &self.host())
            }
        }
    }

    fn config(&self) -> String {
        let q = |p: PathBuf| serde_json::Value::String(p.to_string_lossy().into_owned()).to_string();
        let d = self.dir.path();
        let mut c = format!(
            "version: 0.1\n\
             log:\n  level: info\n  formatter: text\n  accesslog:\n    disabled: false\n\
             storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n  \
             maintenance:\n    uploadpurging:\n      enabled: false\n\
             http:\n  addr: 127.0.0.1:{port}\n  secret: ork-test-http-secret\n",
            storage = q(self.storage_dir()),
            port = self.port,
        );
        if self.is_tls() {
            c.push_str(&format!("  tls:\n    certificate: {}\n    key: {}\n", q(d.join("server.crt")), q(d.join("server.key"))));
        }
        if let RegistryMode::Basic { .. } = self.mode {
            c.push_str(&format!("auth:\n  htpasswd:\n    realm: ork-test\n    path: {}\n", q(d.join("htpasswd"))));
        }
        c
    }

    fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.yml")
    }

    /// The registry's address, `127.0.0.1:PORT` (the host part of a reference).
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT` or `https://…`.
    pub fn url(&self) -> String {
        format!("{}://{}", if self.is_tls() { "https" } else { "http" }, self.host())
    }

    /// How it is reached.
    pub fn mode(&self) -> &RegistryMode {
        &self.mode
    }

    /// Whether it serves HTTPS.
    pub fn is_tls(&self) -> bool {
        self.mode == RegistryMode::Tls
    }

    /// The user and password, in basic-auth mode.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        match &self.mode {
            RegistryMode::Basic { user, pass } => Some((user, pass)),
            _ => None,
        }
    }

    /// The storage root (filesystem driver): blobs live under
    /// `docker/registry/v2/blobs/sha256/<first two hex>/<hex>/data`.
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// The file holding blob `digest` (`sha256:<hex>`) in the storage; edit it to tamper.
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or_else(|| panic!("not a sha256 digest: {digest}"));
        assert!(hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()), "not a sha256 digest: {digest}");
        self.storage_dir().join("docker/registry/v2/blobs/sha256").join(&hex[..2]).join(hex).join("data")
    }

    /// The test CA certificate (PEM), in TLS mode: what `--ca-file` takes.
    pub fn ca_pem_path(&self) -> PathBuf {
        assert!(self.is_tls(), "ca_pem_path: the registry at {} does not serve TLS", self.host());
        self.cert_dir().join("ca.crt")
    }

    /// A directory holding only the CA certificate as `ca.crt`, in TLS mode: what
    /// `skopeo --cert-dir` takes.
    pub fn cert_dir(&self) -> PathBuf {
        assert!(self.is_tls(), "cert_dir: the registry at {} does not serve TLS", self.host());
        self.dir.path().join("certs")
    }

    /// The file the registry's stdout and stderr go to.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("registry.log")
    }

    /// The registry's log so far (its own log and the access log).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Stops the registry: SIGKILL by PID, then reaps it. Idempotent; the storage stays.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether the registry process is running.
    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// The transport flags `skopeo` needs for this registry (`--tls-verify=false` for HTTP,
    /// `--cert-dir` for TLS) and, in basic mode, `--creds user:pass`; each flag named
    /// `--{side}tls-verify` etc. (`side` is "" for `inspect`, "src-" or "dest-" for `copy`).
    pub fn skopeo_flags(&self, side: &str) -> Vec<String> {
        let mut flags = if self.is_tls() {
            vec![format!("--{side}cert-dir"), self.cert_dir().to_string_lossy().into_owned()]
        } else {
            vec![format!("--{side}tls-verify=false")]
        };
        if let Some((user, pass)) = self.credentials() {
            flags.push(format!("--{side}creds"));
            flags.push(format!("{user}:{pass}"));
        }
        flags
    }

    /// Runs `skopeo SUBCOMMAND [flags] args…` with [`Registry::skopeo_flags`] after the
    /// subcommand (for `copy`, the source's flags: the registry is read).
    pub fn skopeo(&self, subcommand: &str, args: &[&str]) -> Run {
        self.skopeo_with(subcommand, &self.skopeo_flags(if subcommand == "copy" { "src-" } else { "" }), args)
    }

    /// Runs `skopeo SUBCOMMAND flags… args…` with an empty auth file (the host's credentials are
    /// never used).
    pub fn skopeo_with(&self, subcommand: &str, flags: &[String], args: &[&str]) -> Run {
        let auth = self.dir.path().join("skopeo-auth.json");
        if !auth.exists() {
            std::fs::write(&auth, "{}").unwrap_or_else(|e| panic!("write {}: {e}", auth.display()));
        }
        let out = Command::new("skopeo")
            .args(["--command-timeout", "60s", subcommand])
            .arg("--authfile")
            .arg(&auth)
            .args(flags)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("skopeo is required (apt skopeo; scripts/test.sh installs it): {e}"));
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `skopeo inspect --raw docker://HOST/repo_ref`: the manifest as stored; panics on failure.
    pub fn skopeo_raw_manifest(&self, repo_ref: &str) -> serde_json::Value {
        let r = self.skopeo("inspect", &["--raw", &format!("docker://{}/{repo_ref}", self.host())]);
        assert_eq!(r.code, 0, "skopeo inspect --raw {repo_ref} failed:\n{}", r.stderr);
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("skopeo printed no JSON manifest ({e}):\n{}", r.stdout))
    }

    /// Runs `oci_read.py` with this registry's transport flag (`--insecure` for HTTP,
    /// `--ca-file` for TLS) before `args`, and, in basic mode, `ORAS_USER`/`ORAS_PASS`.
    pub fn oci_read(&self, args: &[&str]) -> Run {
        let ca = if self.is_tls() { Some(self.ca_pem_path().to_string_lossy().into_owned()) } else { None };
        let mut all: Vec<&str> = match &ca {
            Some(ca) => vec!["--ca-file", ca],
            None => vec!["--insecure"],
        };
        all.extend_from_slice(args);
        match self.credentials() {
            Some((user, pass)) => oci_read(&all, &[("ORAS_USER", user), ("ORAS_PASS", pass)]),
            None => oci_read(&all, &[]),
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port that was free a moment ago (bound to port 0, then released).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind 127.0.0.1:0: {e}"));
    l.local_addr().map(|a| a.port()).unwrap_or_else(|e| panic!("local_addr: {e}"))
}

/// Sends `GET /v2/` over `stream` and reads the status code of the answer.
fn http_status(stream: &mut (impl std::io::Read + std::io::Write), host: &str) -> Option<u16> {
    stream.write_all(format!("GET /v2/ HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes()).ok()?;
    stream.flush().ok()?;
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    while !got.windows(2).any(|w| w == b"\r\n") && got.len() < 4096 {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&got);
    line.strip_prefix("HTTP/1.1 ").or_else(|| line.strip_prefix("HTTP/1.0 "))?.get(..3)?.parse().ok()
}

/// Writes a test CA (`certs/ca.crt`) and a server certificate for 127.0.0.1 and localhost signed
/// by it (`server.crt`, `server.key`) under `dir`; returns the CA certificate, DER.
fn write_test_certificates(dir: &Path) -> Vec<u8> {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "ork test registry CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key")).expect("self-signed CA");
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).expect("server certificate parameters");
    params.distinguished_name.push(DnType::CommonName, "127.0.0.1");
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    // OpenSSL's strict verification (urllib3 ≥ 2.3, which oras-py uses) wants the issuer's key id.
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate().expect("server key");
    let cert = params.signed_by(&key, &ca).expect("server certificate");
    std::fs::create_dir_all(dir.join("certs")).expect("mkdir certs");
    std::fs::write(dir.join("certs/ca.crt"), ca.pem()).expect("write ca.crt");
    std::fs::write(dir.join("server.crt"), cert.pem()).expect("write server.crt");
    std::fs::write(dir.join("server.key"), key.serialize_pem()).expect("write server.key");
    ca.der().to_vec()
}
