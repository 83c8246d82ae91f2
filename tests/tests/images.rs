//! The production images, built without a container daemon by scripts/build-images.sh: the
//! binaries are statically linked (`file`, `ldd`); the script builds exactly the binaries the
//! other production tests test, pushes each image to a real registry (Debian's docker-registry,
//! with basic auth from `ORK_REGISTRY_USERNAME`/`PASSWORD`) and skopeo reads it back: non-root
//! user, entrypoint, command, one layer whose diff_id is right, holding exactly one executable —
//! its own binary, byte for byte, which runs — plus the /etc files, each with its owner and mode;
//! the same inputs give the same digests. Every process is bounded in time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ork_tests::{Registry, Run, TempDir, release_static_bin, root, without_test_cargo_env};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime};

/// The binaries and the subcommand each image runs by default.
const IMAGES: [(&str, &str); 2] = [("ork-runtime", "run"), ("ork-gateway", "gate")];
const VERSION: &str = env!("CARGO_PKG_VERSION");
const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
const PASSWORD: &str = "s3cret-pass";

/// Fails, naming the Debian package to install, when `tool` is not on PATH: a missing tool is a
/// failure, never a skipped test (scripts/test.sh installs them all).
fn require(tool: &str, package: &str) {
    let found = std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()));
    assert!(found, "{tool} is required by the image tests: apt-get install {package} (scripts/test.sh installs it)");
}

/// Runs `program args…` in the workspace root with `env`, killed (with its children: `timeout`
/// signals its process group) after `secs` seconds, which fails the test.
fn bounded(secs: u32, program: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    bounded_command(secs, program, args, |c| {
        c.envs(env.iter().copied());
    })
}

fn bounded_command(secs: u32, program: &str, args: &[&str], setup: impl FnOnce(&mut Command)) -> Run {
    let mut command = Command::new("timeout");
    command.args(["--kill-after=10", &secs.to_string(), program]).args(args).current_dir(root());
    setup(&mut command);
    let out = command.output().unwrap_or_else(|e| panic!("cannot run timeout (coreutils) for {program}: {e}"));
    let code = out.status.code().unwrap_or(-1);
    let run = Run { code, stdout: String::from_utf8_lossy(&out.stdout).into_owned(), stderr: String::from_utf8_lossy(&out.stderr).into_owned() };
    assert!(!matches!(code, 124 | 137), "{program} {args:?} did not finish within {secs} s:\n{}{}", run.stdout, run.stderr);
    run
}

/// Runs scripts/build-images.sh ARGS as a user would: `cargo` is this toolchain's, and none of
/// the variables cargo sets for this test process reach the script's builds.
fn build_images(secs: u32, args: &[&str], env: &[(&str, &str)]) -> Run {
    let script = root().join("scripts/build-images.sh").to_string_lossy().into_owned();
    let mut all = vec![script.as_str()];
    all.extend_from_slice(args);
    let cargo_dir = Path::new(env!("CARGO")).parent().map(Path::to_path_buf).unwrap_or_default();
    let path = std::env::join_paths(std::iter::once(cargo_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()))).unwrap();
    bounded_command(secs, "bash", &all, |c| {
        without_test_cargo_env(c);
        c.env_remove("ORK_REGISTRY_USERNAME").env_remove("ORK_REGISTRY_PASSWORD").env("PATH", path).envs(env.iter().copied());
    })
}

/// The script's JSON lines (one per image, from scripts/oci-image.py), by image name.
fn summaries(stdout: &str) -> BTreeMap<String, Value> {
    stdout.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).map(|v| (v["image"].as_str().unwrap().to_string(), v)).collect()
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path).and_then(|m| m.modified()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_release_binaries_are_statically_linked() {
    require("file", "file");
    require("ldd", "libc-bin");
    for (bin, _) in IMAGES {
        let path = release_static_bin(bin);
        let p = path.to_string_lossy();
        let file = bounded(30, "file", &["-b", &p], &[]);
        assert_eq!(file.code, 0, "{}", file.stderr);
        assert!(file.stdout.contains("static-pie linked") || file.stdout.contains("statically linked"), "{bin}: {}", file.stdout);
        assert!(!file.stdout.contains("dynamically linked") && !file.stdout.contains("interpreter"), "{bin}: {}", file.stdout);
        // glibc's ldd says "statically linked" for a static-pie executable and "not a dynamic
        // executable" for a static non-PIE one; a dynamic one lists libc.so.
        let ldd = bounded(30, "ldd", &[&p], &[]);
        let said = format!("{}{}", ldd.stdout, ldd.stderr);
        assert!(said.contains("statically linked") || said.contains("not a dynamic executable"), "{bin}: {said}");
        assert!(!said.contains("=>") && !said.contains("libc.so"), "{bin}: {said}");
        eprintln!("{bin}: {} bytes; {}", std::fs::metadata(&path).unwrap().len(), file.stdout.trim());
    }
}

#[test]
fn without_the_binaries_no_build_fails_naming_what_is_missing() {
    let dir = TempDir::new("images-missing");
    let out = dir.path().join("layouts");
    let empty_target = dir.path().join("target");
    let run = build_images(60, &["--no-build", "--out", &out.to_string_lossy()], &[("CARGO_TARGET_DIR", &empty_target.to_string_lossy())]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let missing = empty_target.join("x86_64-unknown-linux-gnu/release/ork-runtime");
    assert!(run.stderr.contains(&format!("{} is missing: run without --no-build", missing.display())), "{}", run.stderr);
    assert!(!out.exists(), "a layout was written without a binary");
}

#[test]
fn images_built_without_a_daemon_are_pushed_and_read_back_non_root_single_binary_and_reproducible() {
    for (tool, package) in [("skopeo", "skopeo"), ("docker-registry", "docker-registry"), ("tar", "tar"), ("python3", "python3")] {
        require(tool, package);
    }
    // Built first as the production symbol tests build them (a cold build takes minutes).
    let binaries: BTreeMap<&str, (PathBuf, SystemTime)> = IMAGES
        .iter()
        .map(|(bin, _)| {
            let path = release_static_bin(bin);
            let at = modified(&path);
            (*bin, (path, at))
        })
        .collect();
    let dir = TempDir::new("images");
    let registry = Registry::basic("builder", PASSWORD);
    let host = registry.host();
    let out = dir.path().join("layouts").to_string_lossy().into_owned();
    let creds = [("ORK_REGISTRY_USERNAME", "builder"), ("ORK_REGISTRY_PASSWORD", PASSWORD)];

    let started = Instant::now();
    let first = build_images(600, &["--tag", "t1", "--out", &out, "--push", &host, "--insecure"], &creds);
    let took = started.elapsed();
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    assert!(!format!("{}{}", first.stdout, first.stderr).contains(PASSWORD), "the password was printed");
    // The script's build is the tests' build: cargo found nothing to rebuild, so the binaries
    // the symbol tests inspect are the ones in the images.
    for (bin, (path, at)) in &binaries {
        assert_eq!(modified(path), *at, "{bin}: scripts/build-images.sh rebuilt it: its cargo build differs from ork_tests::release_static_bin's");
    }
    let built = summaries(&first.stdout);
    assert_eq!(built.keys().collect::<Vec<_>>(), ["ork-gateway", "ork-runtime"], "{}", first.stdout);
    for (bin, (path, _)) in &binaries {
        assert_eq!(built[*bin]["binary_bytes"], std::fs::metadata(path).unwrap().len(), "{bin}");
        assert_eq!(built[*bin]["tag"], "t1");
    }

    // Without the credentials the registry refuses the push: they were really used.
    let refused = build_images(120, &["--no-build", "--tag", "t1", "--out", &out, "--push", &host, "--insecure"], &[]);
    assert_ne!(refused.code, 0, "pushed without credentials: {}", refused.stdout);

    // Same binaries, same digests, wherever the layout is written.
    let again_out = dir.path().join("again").to_string_lossy().into_owned();
    let again = build_images(120, &["--no-build", "--tag", "t1", "--out", &again_out], &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let again = summaries(&again.stdout);
    assert_eq!(again.len(), 2, "{again:?}");
    for (name, s) in again {
        assert_eq!(s["digest"], built[&name]["digest"], "{name} is not reproducible");
    }

    let host_ca = std::fs::read(CA_BUNDLE).unwrap_or_else(|e| panic!("{CA_BUNDLE}: {e} (apt-get install ca-certificates)"));
    for (bin, cmd) in IMAGES {
        let other = IMAGES.iter().map(|(b, _)| *b).find(|b| *b != bin).unwrap();
        let reference = format!("docker://{host}/{bin}:t1");
        let inspect = registry.skopeo("inspect", &[&reference]);
        assert_eq!(inspect.code, 0, "{}", inspect.stderr);
        let inspect: Value = serde_json::from_str(&inspect.stdout).unwrap();
        assert_eq!(inspect["Digest"], built[bin]["digest"], "{bin}: the registry holds another manifest");
        assert_eq!((inspect["Os"].as_str(), inspect["Architecture"].as_str()), (Some("linux"), Some("amd64")), "{inspect}");
        assert_eq!(inspect["Layers"].as_array().map(Vec::len), Some(1), "{inspect}");
        let labels = &inspect["Labels"];
        assert_eq!(labels["org.opencontainers.image.title"], bin, "{labels}");
        assert_eq!(labels["org.opencontainers.image.version"], VERSION, "{labels}");
        assert_eq!(labels["org.opencontainers.image.licenses"], "Apache-2.0", "{labels}");
        assert!(labels["org.opencontainers.image.source"].as_str().is_some_and(|s| s.starts_with("https://")), "{labels}");

        let config = registry.skopeo("inspect", &["--config", &reference]);
        assert_eq!(config.code, 0, "{}", config.stderr);
        let config: Value = serde_json::from_str(&config.stdout).unwrap();
        assert_eq!((config["os"].as_str(), config["architecture"].as_str()), (Some("linux"), Some("amd64")), "{config}");
        let c = &config["config"];
        assert_eq!(c["User"], "65532:65532", "{config}");
        assert_eq!(c["Entrypoint"], json!([format!("/{bin}")]), "{config}");
        assert_eq!(c["Cmd"], json!([cmd]), "{config}");
        assert_eq!(c["WorkingDir"], "/", "{config}");
        assert_eq!(c["Env"], json!(["PATH=/"]), "{config}");

        // The layer, read back from the registry.
        let pulled = dir.path().join(format!("pulled-{bin}"));
        let copy = registry.skopeo("copy", &[&reference, &format!("oci:{}:t1", pulled.display())]);
        assert_eq!(copy.code, 0, "{}", copy.stderr);
        let layer_digest = inspect["Layers"][0].as_str().unwrap().to_string();
        let blob = pulled.join("blobs/sha256").join(layer_digest.strip_prefix("sha256:").unwrap()).to_string_lossy().into_owned();
        let diff_id = bounded(
            60,
            "python3",
            &["-c", "import gzip,hashlib,sys; print('sha256:' + hashlib.sha256(gzip.open(sys.argv[1]).read()).hexdigest())", &blob],
            &[],
        );
        assert_eq!(diff_id.code, 0, "{}", diff_id.stderr);
        assert_eq!(config["rootfs"], json!({"type": "layers", "diff_ids": [diff_id.stdout.trim()]}), "{bin}: the config's diff_id is not the layer's");

        // Every entry: path, mode, owner, time. Exactly one executable regular file, this binary.
        let listing = bounded(60, "tar", &["--numeric-owner", "-tvzf", &blob], &[("TZ", "UTC")]);
        assert_eq!(listing.code, 0, "{}", listing.stderr);
        let mut entries: Vec<(String, String, String)> = listing
            .stdout
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                assert_eq!(f.len(), 6, "{l}");
                assert_eq!((f[3], f[4]), ("1970-01-01", "00:00"), "{bin}: not the fixed time: {l}");
                (f[5].to_string(), f[0].to_string(), f[1].to_string())
            })
            .collect();
        entries.sort();
        let executables: Vec<&String> = entries.iter().filter(|(_, mode, _)| mode.starts_with('-') && mode.contains('x')).map(|(p, _, _)| p).collect();
        assert_eq!(executables, [bin], "{bin}: {}", listing.stdout);
        assert!(!listing.stdout.contains(other), "{bin} holds {other}: {}", listing.stdout);
        let e = |p: &str, m: &str, o: &str| (p.to_string(), m.to_string(), o.to_string());
        let mut want = vec![
            e(bin, "-rwxr-xr-x", "0/0"),
            e("etc/", "drwxr-xr-x", "0/0"),
            e("etc/group", "-rw-r--r--", "0/0"),
            e("etc/nsswitch.conf", "-rw-r--r--", "0/0"),
            e("etc/passwd", "-rw-r--r--", "0/0"),
            e("etc/ssl/", "drwxr-xr-x", "0/0"),
            e("etc/ssl/certs/", "drwxr-xr-x", "0/0"),
            e("etc/ssl/certs/ca-certificates.crt", "-rw-r--r--", "0/0"),
            e("home/", "drwxr-xr-x", "0/0"),
            e("home/nonroot/", "drwx------", "65532/65532"),
            e("tmp/", "drwxrwxrwt", "0/0"),
        ];
        want.sort();
        assert_eq!(entries, want, "{bin}");

        // The files' contents, and the binary from the image runs.
        let unpacked = dir.path().join(format!("root-{bin}"));
        std::fs::create_dir_all(&unpacked).unwrap();
        let x = bounded(60, "tar", &["--no-same-owner", "-xzf", &blob, "-C", &unpacked.to_string_lossy()], &[]);
        assert_eq!(x.code, 0, "{}", x.stderr);
        let read = |p: &str| std::fs::read_to_string(unpacked.join(p)).unwrap();
        assert_eq!(read("etc/passwd"), "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n");
        assert_eq!(read("etc/group"), "root:x:0:\nnonroot:x:65532:\n");
        assert_eq!(read("etc/nsswitch.conf"), "hosts: files dns\n");
        assert!(std::fs::read(unpacked.join(CA_BUNDLE.trim_start_matches('/'))).unwrap() == host_ca, "{bin}: the CA bundle is not the build machine's");
        let inside = unpacked.join(bin);
        assert!(std::fs::read(&inside).unwrap() == std::fs::read(&binaries[bin].0).unwrap(), "{bin}: the image's binary is not the one built");
        let version = bounded(30, &inside.to_string_lossy(), &["version"], &[]);
        assert_eq!((version.code, version.stdout.trim()), (0, format!("{bin} {VERSION}").as_str()), "{}", version.stderr);
        eprintln!(
            "{bin}: image {} — binary {} bytes, layer {} bytes compressed ({} uncompressed)",
            built[bin]["digest"], built[bin]["binary_bytes"], built[bin]["layer_bytes"], built[bin]["layer_uncompressed_bytes"]
        );
    }
    eprintln!("scripts/build-images.sh with the binaries built, pushing both: {:.1} s", took.as_secs_f64());
}
