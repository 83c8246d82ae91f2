//! The real-registry harness itself (`ork_tests::Registry`, `tests/support/oci_read.py`), before
//! any ork code takes part: Debian's `docker-registry` in each mode (plain HTTP, htpasswd basic
//! auth, TLS with a test CA) takes an artifact pushed by PyPI `oras` and serves it back to
//! Debian's `skopeo` and to `oras` with its media types, titles, annotations and bytes intact;
//! wrong or missing credentials are refused with 401 and the password never reaches the
//! registry's log; TLS is verified against the test CA (and fails without it); a blob edited in
//! the storage directory is served edited (what the tamper tests rely on) and caught by
//! skopeo's digest check; and the `cryptography` signature check accepts exactly the right
//! signature.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ork_tests::{Registry, TempDir, oci_read};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;

const ARTIFACT_TYPE: &str = "application/vnd.orkestra.pattern.v1+tar+gzip";
const TITLE: &str = "org.opencontainers.image.title";
/// The digest of the empty JSON config blob `{}`.
const EMPTY_CONFIG: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

/// The files of a small pattern: (title, media type, bytes). One sits in a sub-folder, one is
/// not UTF-8, one is empty.
fn pattern() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    vec![
        ("katalog.yaml", "application/vnd.orkestra.katalog.v1+yaml", b"apiVersion: orkestra.io/v1\nkind: Katalog\nmetadata:\n  name: hello\n".to_vec()),
        ("manifests/crd.yaml", "application/vnd.kubernetes.crd.v1+yaml", b"kind: CustomResourceDefinition\n".to_vec()),
        ("README.md", "text/markdown", vec![0xff, 0xfe, b'#', b'\n', 0]),
        ("komposer.yaml", "application/octet-stream", Vec::new()),
    ]
}

/// Writes [`pattern`] under `dir` and pushes it with `oci_read.py push` as `repo:tag`; returns
/// the digest it printed.
fn push_pattern(reg: &Registry, dir: &TempDir, repo_tag: &str) -> String {
    let mut layers = Vec::new();
    for (title, media_type, bytes) in pattern() {
        let path = dir.path().join("src").join(title);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        layers.push(format!("{}:{media_type}:{title}", path.display()));
    }
    let reference = format!("{}/{repo_tag}", reg.host());
    let mut args = vec!["push", &reference];
    args.extend(layers.iter().map(String::as_str));
    args.extend(["--artifact-type", ARTIFACT_TYPE, "--annotation", "io.orkestra.pattern.name=hello", "--annotation", "org.opencontainers.image.version=v1"]);
    let r = reg.oci_read(&args);
    assert_eq!(r.code, 0, "oci_read.py push failed:\n{}{}", r.stdout, r.stderr);
    let digest = r.stdout.trim().strip_prefix("digest: ").unwrap_or_else(|| panic!("no digest line: {}", r.stdout)).to_string();
    assert!(digest.starts_with("sha256:") && digest.len() == 71, "{digest}");
    digest
}

/// The manifest's config, layers (title → (media type, digest, size)) and annotations are what
/// [`push_pattern`] pushed.
fn assert_pattern_manifest(m: &Value) {
    assert_eq!(m["schemaVersion"], 2);
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(m["config"]["mediaType"], ARTIFACT_TYPE);
    assert_eq!(m["config"]["digest"], EMPTY_CONFIG);
    assert_eq!(m["config"]["size"], 2);
    let layers: BTreeMap<String, (String, String, u64)> = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["annotations"][TITLE].as_str().unwrap().to_string(),
                (l["mediaType"].as_str().unwrap().to_string(), l["digest"].as_str().unwrap().to_string(), l["size"].as_u64().unwrap()),
            )
        })
        .collect();
    assert_eq!(layers.len(), pattern().len(), "{m}");
    for (title, media_type, bytes) in pattern() {
        let (mt, digest, size) = &layers[title];
        assert_eq!(mt, media_type, "{title}");
        assert_eq!(*size, bytes.len() as u64, "{title}");
        assert_eq!(digest, &sha256sum(&bytes), "{title}");
    }
    let annotations: BTreeMap<&str, &str> = m["annotations"].as_object().unwrap().iter().map(|(k, v)| (k.as_str(), v.as_str().unwrap())).collect();
    assert_eq!(annotations, BTreeMap::from([("io.orkestra.pattern.name", "hello"), ("org.opencontainers.image.version", "v1")]));
}

/// `sha256:<hex>` of `bytes`, by coreutils' `sha256sum` (not by any code under test).
fn sha256sum(bytes: &[u8]) -> String {
    let dir = TempDir::new("sha256");
    let f = dir.path().join("blob");
    std::fs::write(&f, bytes).unwrap();
    let out = Command::new("sha256sum").arg(&f).output().expect("sha256sum (coreutils)");
    format!("sha256:{}", String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap())
}

/// The whole round trip against one registry: push with oras; skopeo and oras read the same
/// manifest bytes, whose digest (skopeo's own computation) is the pushed one, by tag and by
/// digest; skopeo copies every blob (checking each digest) and oras pulls byte-identical files.
fn round_trip(reg: &Registry) {
    let dir = TempDir::new("registry-rt");
    let digest = push_pattern(reg, &dir, "team/hello:v1");

    let raw = reg.skopeo("inspect", &["--raw", &format!("docker://{}/team/hello:v1", reg.host())]);
    assert_eq!(raw.code, 0, "skopeo inspect --raw:\n{}", raw.stderr);
    let manifest: Value = serde_json::from_str(&raw.stdout).unwrap();
    assert_pattern_manifest(&manifest);
    let by_digest = reg.skopeo_raw_manifest(&format!("team/hello@{digest}"));
    assert_eq!(by_digest, manifest);
    let file = dir.path().join("manifest.json");
    std::fs::write(&file, raw.stdout.as_bytes()).unwrap();
    let computed = Command::new("skopeo").arg("manifest-digest").arg(&file).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&computed.stdout).trim(), digest, "the digest oras printed is the manifest's");

    let oras = reg.oci_read(&["manifest", &format!("{}/team/hello:v1", reg.host())]);
    assert_eq!(oras.code, 0, "oci_read.py manifest:\n{}", oras.stderr);
    assert_eq!(oras.stdout.trim_end(), raw.stdout.trim_end(), "oras and skopeo read the same manifest bytes");

    let copy = dir.path().join("skopeo-copy");
    let r = reg.skopeo("copy", &[&format!("docker://{}/team/hello@{digest}", reg.host()), &format!("dir:{}", copy.display())]);
    assert_eq!(r.code, 0, "skopeo copy:\n{}{}", r.stdout, r.stderr);
    for (title, _, bytes) in pattern() {
        let blob = copy.join(sha256sum(&bytes).trim_start_matches("sha256:"));
        assert_eq!(std::fs::read(&blob).unwrap(), bytes, "skopeo's copy of {title}");
    }

    let out = dir.path().join("pulled");
    let r = reg.oci_read(&["pull", &format!("{}/team/hello@{digest}", reg.host()), out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "oci_read.py pull:\n{}{}", r.stdout, r.stderr);
    let mut listed: Vec<&str> = r.stdout.lines().collect();
    listed.sort();
    let mut titles: Vec<&str> = pattern().iter().map(|(t, _, _)| *t).collect();
    titles.sort();
    assert_eq!(listed, titles);
    for (title, _, bytes) in pattern() {
        assert_eq!(std::fs::read(out.join(title)).unwrap(), bytes, "{title} pulled by oras");
    }
}

#[test]
fn plain_http_round_trip() {
    let reg = Registry::plain();
    assert!(reg.url().starts_with("http://127.0.0.1:"));
    assert_eq!(reg.v2_status(), Some(200));
    round_trip(&reg);
}

#[test]
fn basic_auth_round_trip_and_refusals() {
    let password = "pw-7f3a9c1e-registry";
    let reg = Registry::basic("alice", password);
    assert_eq!(reg.v2_status(), Some(401), "anonymous requests are challenged");
    round_trip(&reg);

    let reference = format!("docker://{}/team/hello:v1", reg.host());
    let wrong = reg.skopeo_with("inspect", &["--tls-verify=false".into(), "--creds".into(), "alice:not-the-password".into()], &["--raw", &reference]);
    assert_ne!(wrong.code, 0);
    assert!(wrong.stderr.contains("unauthorized"), "skopeo with a wrong password:\n{}", wrong.stderr);
    let anonymous = reg.skopeo_with("inspect", &["--tls-verify=false".into()], &["--raw", &reference]);
    assert_ne!(anonymous.code, 0);
    assert!(anonymous.stderr.contains("unauthorized"), "skopeo without credentials:\n{}", anonymous.stderr);

    let target = format!("{}/team/hello:v1", reg.host());
    let r = oci_read(&["--insecure", "manifest", &target], &[("ORAS_USER", "alice"), ("ORAS_PASS", "not-the-password")]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("401 Unauthorized"), "{}", r.stderr);
    let r = oci_read(&["--insecure", "manifest", &target], &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("401 Unauthorized"), "{}", r.stderr);

    let log = reg.log();
    assert!(log.contains("authorized request") && log.contains("\" 401 "), "the log records both outcomes:\n{log}");
    assert!(!log.contains(password), "the password is in the registry's log");
    assert!(!log.contains("not-the-password"), "the wrong password is in the registry's log");
}

#[test]
fn tls_round_trip_verified_against_the_test_ca() {
    let reg = Registry::tls();
    assert!(reg.url().starts_with("https://127.0.0.1:"));
    assert_eq!(reg.v2_status(), Some(200), "rustls verifies the server certificate against the CA");
    let pem = std::fs::read_to_string(reg.ca_pem_path()).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    round_trip(&reg);

    // Without the CA, both clients refuse the server's certificate.
    let r = reg.skopeo_with("inspect", &[], &["--raw", &format!("docker://{}/team/hello:v1", reg.host())]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("certificate"), "skopeo without the CA:\n{}", r.stderr);
    let r = oci_read(&["manifest", &format!("{}/team/hello:v1", reg.host())], &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("CERTIFICATE_VERIFY_FAILED"), "oras without the CA:\n{}", r.stderr);
}

#[test]
fn a_blob_edited_in_storage_is_served_edited_and_skopeo_catches_it() {
    let reg = Registry::plain();
    let dir = TempDir::new("registry-tamper");
    let digest = push_pattern(&reg, &dir, "team/hello:v1");
    let (_, _, bytes) = &pattern()[0];
    let blob = reg.blob_path(&sha256sum(bytes));
    assert!(blob.starts_with(reg.storage_dir()));
    assert_eq!(&std::fs::read(&blob).unwrap(), bytes, "the layer's bytes are stored at {}", blob.display());

    let mut edited = bytes.clone();
    edited[0] ^= 0x20;
    std::fs::write(&blob, &edited).unwrap();
    let out = dir.path().join("pulled");
    let r = reg.oci_read(&["pull", &format!("{}/team/hello@{digest}", reg.host()), out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read(out.join("katalog.yaml")).unwrap(), edited, "the registry serves the edited bytes (oras-py does not check)");
    let r = reg.skopeo("copy", &[&format!("docker://{}/team/hello@{digest}", reg.host()), &format!("dir:{}", dir.path().join("copy").display())]);
    assert_ne!(r.code, 0, "skopeo must refuse the edited blob");
    assert!(r.stderr.contains("Digest did not match"), "{}", r.stderr);
}

#[test]
fn registries_run_side_by_side_and_stop() {
    let mut a = Registry::plain();
    let b = Registry::plain();
    assert_ne!(a.port(), b.port());
    assert!(a.is_running());
    let pushed = TempDir::new("registry-stop");
    push_pattern(&a, &pushed, "team/hello:v1");
    a.stop();
    assert!(!a.is_running());
    assert_eq!(a.v2_status(), None, "nothing answers once stopped");
    a.stop();
    assert!(a.storage_dir().join("docker/registry/v2/repositories/team/hello").is_dir(), "the storage outlives the process");
    assert_eq!(b.v2_status(), Some(200));
    assert!(b.log().contains("listening on 127.0.0.1:"), "{}", b.log());
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            out.push(if i <= chunk.len() { char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]) } else { '=' });
        }
    }
    out
}

#[test]
fn verify_sig_accepts_exactly_the_right_signature() {
    use rcgen::{KeyPair, SigningKey};
    let dir = TempDir::new("verify-sig");
    let key = KeyPair::generate().unwrap();
    let other = KeyPair::generate().unwrap();
    let payload = br#"{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/team/hello"},"image":{"docker-manifest-digest":"sha256:00"},"type":"cosign container image signature"},"optional":null}"#;
    let sig = base64(&key.sign(payload).unwrap());
    let public = dir.write("ork.pub", &key.public_key_pem());
    let other_public = dir.write("other.pub", &other.public_key_pem());
    let payload_file = dir.path().join("payload.json");
    std::fs::write(&payload_file, payload).unwrap();
    let altered = dir.path().join("altered.json");
    std::fs::write(&altered, [&payload[..payload.len() - 1], b" }"].concat()).unwrap();
    let sig_file = dir.write("sig.b64", &format!("{sig}\n"));
    let (public, other_public, payload_file, altered) =
        (public.to_str().unwrap(), other_public.to_str().unwrap(), payload_file.to_str().unwrap(), altered.to_str().unwrap());

    let check = |key: &str, payload: &str, sig: &str| {
        let r = oci_read(&["verify-sig", key, payload, sig], &[]);
        assert!(r.code == 0 || r.code == 1, "verify-sig failed to run:\n{}{}", r.stdout, r.stderr);
        r.code
    };
    assert_eq!(check(public, payload_file, &sig), 0);
    assert_eq!(check(public, payload_file, &format!("@{}", sig_file.display())), 0);
    assert_eq!(check(other_public, payload_file, &sig), 1, "another key");
    assert_eq!(check(public, altered, &sig), 1, "another payload");
    assert_eq!(check(public, payload_file, &base64(&other.sign(payload).unwrap())), 1, "another key's signature");
    assert_eq!(check(public, payload_file, "not base64!"), 1);
}
