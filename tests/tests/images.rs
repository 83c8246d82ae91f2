//! The production images, built without a container daemon by scripts/build-images.sh: the
//! binaries are statically linked (`file`, `ldd`), each image is pushed to a real registry
//! (Debian's docker-registry, with basic auth from `ORK_REGISTRY_USERNAME`/`PASSWORD`) and read
//! back with skopeo — non-root user, entrypoint, command, one layer holding exactly one
//! executable, its own binary, which runs — and the same inputs give the same digests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ork_tests::{Registry, Run, TempDir, release_static_bin, root};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn sh(program: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("{program} is required (scripts/test.sh installs it: apt-get install file skopeo): {e}"));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The lines of scripts/oci-image.py's JSON summary, by image name.
fn summaries(stdout: &str) -> std::collections::BTreeMap<String, Value> {
    stdout.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).map(|v| (v["image"].as_str().unwrap().to_string(), v)).collect()
}

#[test]
fn the_release_binaries_are_statically_linked() {
    for bin in ["ork-runtime", "ork-gateway"] {
        let path = release_static_bin(bin);
        let p = path.to_string_lossy();
        let file = sh("file", &["-b", &p], &[]);
        assert_eq!(file.code, 0, "{}", file.stderr);
        assert!(file.stdout.contains("static-pie linked") || file.stdout.contains("statically linked"), "{bin}: {}", file.stdout);
        assert!(!file.stdout.contains("dynamically linked") && !file.stdout.contains("interpreter"), "{bin}: {}", file.stdout);
        let ldd = sh("ldd", &[&p], &[]);
        let said = format!("{}{}", ldd.stdout, ldd.stderr);
        assert!(said.contains("statically linked") || said.contains("not a dynamic executable"), "{bin}: {said}");
        assert!(!said.contains("libc.so"), "{bin}: {said}");
        eprintln!("{bin}: {} bytes; {}", std::fs::metadata(&path).unwrap().len(), file.stdout.trim());
    }
}

#[test]
fn images_built_without_a_daemon_are_pushed_and_read_back_non_root_single_binary_and_reproducible() {
    for bin in ["ork-runtime", "ork-gateway"] {
        release_static_bin(bin);
    }
    let dir = TempDir::new("images");
    let registry = Registry::basic("builder", "s3cret-pass");
    let out = dir.path().join("layouts").to_string_lossy().into_owned();
    let host = registry.host();
    let script = root().join("scripts/build-images.sh").to_string_lossy().into_owned();
    let creds = [("ORK_REGISTRY_USERNAME", "builder"), ("ORK_REGISTRY_PASSWORD", "s3cret-pass")];
    let first = sh("bash", &[&script, "--no-build", "--tag", "t1", "--out", &out, "--push", &host, "--insecure"], &creds);
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    assert!(!format!("{}{}", first.stdout, first.stderr).contains("s3cret-pass"), "the password was printed");
    let built = summaries(&first.stdout);
    assert_eq!(built.keys().collect::<Vec<_>>(), ["ork-gateway", "ork-runtime"]);

    // Without the credentials the registry refuses the push: they were really used.
    let refused = sh("bash", &[&script, "--no-build", "--tag", "t1", "--out", &out, "--push", &host, "--insecure"], &[]);
    assert_ne!(refused.code, 0, "pushed without credentials: {}", refused.stdout);

    // Same binaries, same digests.
    let again = sh("bash", &[&script, "--no-build", "--tag", "t1", "--out", &out], &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    for (name, s) in summaries(&again.stdout) {
        assert_eq!(s["digest"], built[&name]["digest"], "{name} is not reproducible");
    }

    for (bin, cmd, other) in [("ork-runtime", "run", "ork-gateway"), ("ork-gateway", "gate", "ork-runtime")] {
        let reference = format!("docker://{host}/{bin}:t1");
        let inspect = registry.skopeo("inspect", &[&reference]);
        assert_eq!(inspect.code, 0, "{}", inspect.stderr);
        let inspect: Value = serde_json::from_str(&inspect.stdout).unwrap();
        assert_eq!(inspect["Digest"], built[bin]["digest"], "{bin}: the registry holds another manifest");
        assert_eq!((inspect["Os"].as_str(), inspect["Architecture"].as_str()), (Some("linux"), Some("amd64")));
        assert_eq!(inspect["Layers"].as_array().unwrap().len(), 1, "{inspect}");
        assert_eq!(inspect["Labels"]["org.opencontainers.image.title"], bin);

        let config = registry.skopeo("inspect", &["--config", &reference]);
        assert_eq!(config.code, 0, "{}", config.stderr);
        let config: Value = serde_json::from_str(&config.stdout).unwrap();
        assert_eq!(config["config"]["User"], "65532:65532", "{config}");
        assert_eq!(config["config"]["Entrypoint"], serde_json::json!([format!("/{bin}")]));
        assert_eq!(config["config"]["Cmd"], serde_json::json!([cmd]));

        // The layer, read back from the registry: exactly one executable, this binary.
        let pulled = dir.path().join(format!("pulled-{bin}"));
        let copy = registry.skopeo("copy", &[&reference, &format!("oci:{}:t1", pulled.display())]);
        assert_eq!(copy.code, 0, "{}", copy.stderr);
        let layer_digest = inspect["Layers"][0].as_str().unwrap().strip_prefix("sha256:").unwrap().to_string();
        let blob = pulled.join("blobs/sha256").join(&layer_digest);
        let listing = sh("tar", &["-tvzf", &blob.to_string_lossy()], &[]);
        assert_eq!(listing.code, 0, "{}", listing.stderr);
        let executables: Vec<&str> = listing.stdout.lines().filter(|l| l.starts_with('-') && l[1..10].contains('x')).collect();
        assert_eq!(executables.len(), 1, "{bin}: {}", listing.stdout);
        assert!(executables[0].ends_with(&format!(" {bin}")), "{bin}: {}", listing.stdout);
        assert!(!listing.stdout.contains(other), "{bin} holds {other}: {}", listing.stdout);
        let mut paths: Vec<&str> = listing.stdout.lines().filter_map(|l| l.split_whitespace().last()).collect();
        paths.sort();
        let mut want = vec![
            bin,
            "etc/",
            "etc/group",
            "etc/nsswitch.conf",
            "etc/passwd",
            "etc/ssl/",
            "etc/ssl/certs/",
            "etc/ssl/certs/ca-certificates.crt",
            "home/",
            "home/nonroot/",
            "tmp/",
        ];
        want.sort();
        assert_eq!(paths, want, "{bin}");
        let unpacked = dir.path().join(format!("root-{bin}"));
        std::fs::create_dir_all(&unpacked).unwrap();
        let x = sh("tar", &["-xzf", &blob.to_string_lossy(), "-C", &unpacked.to_string_lossy()], &[]);
        assert_eq!(x.code, 0, "{}", x.stderr);
        let passwd = std::fs::read_to_string(unpacked.join("etc/passwd")).unwrap();
        assert!(passwd.contains("nonroot:x:65532:65532:"), "{passwd}");
        let version = sh(&unpacked.join(bin).to_string_lossy(), &["version"], &[]);
        assert_eq!(version.stdout.trim(), format!("{bin} {}", env!("CARGO_PKG_VERSION")));
        assert!(Path::new(&unpacked.join(bin)).exists());
        eprintln!(
            "{bin}: image {} — binary {} bytes, layer {} bytes compressed ({} uncompressed)",
            built[bin]["digest"], built[bin]["binary_bytes"], built[bin]["layer_bytes"], built[bin]["layer_uncompressed_bytes"]
        );
    }
}
