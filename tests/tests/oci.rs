//! `ork push`, `ork pull`, `ork inspect`, `ork keygen` and registry imports against Debian's
//! `docker-registry` (plain HTTP, htpasswd basic auth, TLS with a test CA), read back
//! independently by `skopeo` and PyPI `oras`, signatures checked by Python `cryptography`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ork_tests::{Registry, Run, TempDir, demo_katalogs, ork_bin};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const ARTIFACT_TYPE: &str = "application/vnd.orkestra.pattern.v1+tar+gzip";
const EMPTY_CONFIG: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

/// An isolated environment for `ork`: its own cache, an empty docker config, no registry
/// credentials unless given.
struct Env {
    dir: TempDir,
}

impl Env {
    fn new(tag: &str) -> Env {
        let dir = TempDir::new(tag);
        std::fs::create_dir_all(dir.path().join("docker")).unwrap();
        std::fs::create_dir_all(dir.path().join("work")).unwrap();
        Env { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// `ork args…` in the work directory with `env` added.
    fn ork(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut c = Command::new(ork_bin());
        c.args(args)
            .current_dir(self.work())
            .env("NO_COLOR", "1")
            .env("XDG_CACHE_HOME", self.path().join("cache"))
            .env("DOCKER_CONFIG", self.path().join("docker"))
            .env_remove("ORK_REGISTRY_USERNAME")
            .env_remove("ORK_REGISTRY_PASSWORD")
            .env_remove("ORK_SIGN_PASSPHRASE");
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

fn show(r: &Run) -> String {
    format!("exit {}\n--- stdout\n{}\n--- stderr\n{}", r.code, r.stdout, r.stderr)
}

/// Every regular file under `dir` (relative path → bytes), hidden ones included.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(p.strip_prefix(root).unwrap().display().to_string(), std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Copies every file under `from` to the same path under `to`.
fn copy_tree(from: &Path, to: &Path) {
    for (rel, bytes) in tree(from) {
        let p = to.join(&rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}

fn digest_of(stdout: &str) -> String {
    stdout.lines().find_map(|l| l.strip_prefix("digest: ")).unwrap_or_else(|| panic!("no digest line in:\n{stdout}")).trim().to_string()
}

fn demo(name: &str) -> PathBuf {
    demo_katalogs().into_iter().map(|k| k.parent().unwrap().to_path_buf()).find(|d| d.ends_with(name)).unwrap()
}

/// Pushes `dir` to `reference` (plain HTTP, no e2e gate) and returns the digest.
fn push(env: &Env, dir: &Path, reference: &str, extra: &[&str], vars: &[(&str, &str)]) -> String {
    let mut args = vec!["push", dir.to_str().unwrap(), reference, "--no-e2e"];
    args.extend_from_slice(extra);
    let r = env.ork(&args, vars);
    assert_eq!(r.code, 0, "{}", show(&r));
    digest_of(&r.stdout)
}

#[test]
fn every_demo_pattern_round_trips_byte_identical_over_plain_http() {
    let reg = Registry::plain();
    let env = Env::new("oci-demos");
    let demos: Vec<PathBuf> = demo_katalogs().into_iter().map(|k| k.parent().unwrap().to_path_buf()).collect();
    assert!(demos.len() >= 10, "{demos:?}");
    for dir in &demos {
        let name = dir.file_name().unwrap().to_str().unwrap();
        let reference = format!("{}/demos/{name}:v1", reg.host());
        let digest = push(&env, dir, &reference, &["--insecure-http"], &[]);
        let out = env.path().join("pulled").join(name);
        let r = env.ork(&["pull", &reference, "-o", out.to_str().unwrap(), "--insecure-http"], &[]);
        assert_eq!(r.code, 0, "{name}: {}", show(&r));
        assert!(r.stdout.contains(&digest), "{name}: the pull names the digest it verified\n{}", r.stdout);
        assert_eq!(tree(&out), tree(dir), "{name}: the pulled files differ from the pushed ones");
        // The digest pins the same artifact.
        let pinned = env.path().join("pinned").join(name);
        let r = env.ork(&["pull", &format!("{}/demos/{name}@{digest}", reg.host()), "-o", pinned.to_str().unwrap(), "--insecure-http"], &[]);
        assert_eq!(r.code, 0, "{name}: {}", show(&r));
        assert_eq!(tree(&pinned), tree(dir));
    }
}

#[test]
fn basic_auth_takes_credentials_from_env_and_a_wrong_password_is_unauthorized_and_never_echoed() {
    let reg = Registry::basic("alice", "right-horse-battery");
    let env = Env::new("oci-basic");
    let dir = demo("hello-website");
    let reference = format!("{}/team/hello-website:v1", reg.host());
    let good = [("ORK_REGISTRY_USERNAME", "alice"), ("ORK_REGISTRY_PASSWORD", "right-horse-battery")];
    push(&env, &dir, &reference, &["--insecure-http"], &good);
    let out = env.path().join("out");
    let r = env.ork(&["pull", &reference, "-o", out.to_str().unwrap(), "--insecure-http"], &good);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert_eq!(tree(&out), tree(&dir));

    let secret = "Wr0ng-Pa55word-x9";
    for args in [
        vec!["push", dir.to_str().unwrap(), reference.as_str(), "--insecure-http", "--no-e2e"],
        vec!["pull", reference.as_str(), "-o", "nowhere", "--insecure-http"],
        vec!["inspect", reference.as_str(), "--insecure-http"],
    ] {
        let r = env.ork(&args, &[("ORK_REGISTRY_USERNAME", "alice"), ("ORK_REGISTRY_PASSWORD", secret)]);
        assert_eq!(r.code, 2, "{args:?}: {}", show(&r));
        assert!(r.stderr.contains(&reg.host()) && r.stderr.contains("unauthorized"), "{args:?}: {}", show(&r));
        assert!(!r.stdout.contains(secret) && !r.stderr.contains(secret), "{args:?}: the password was echoed\n{}", show(&r));
    }
    assert!(!env.work().join("nowhere").exists());
    // No credentials at all: refused too.
    let r = env.ork(&["inspect", &reference, "--insecure-http"], &[]);
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.stderr.contains("unauthorized"), "{}", show(&r));
    assert!(!reg.log().contains(secret), "the password is in the registry's log");
    // One variable without the other: the missing one is named.
    let r = env.ork(&["inspect", &reference, "--insecure-http"], &[("ORK_REGISTRY_USERNAME", "alice")]);
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.stderr.contains("ORK_REGISTRY_PASSWORD"), "{}", show(&r));
}

#[test]
fn tls_with_the_test_ca_round_trips_and_without_it_fails_cleanly() {
    let reg = Registry::tls();
    let env = Env::new("oci-tls");
    let dir = demo("include-fragments");
    let reference = format!("{}/team/include-fragments:v1", reg.host());
    let ca = reg.ca_pem_path();
    let ca = ca.to_str().unwrap();
    push(&env, &dir, &reference, &["--ca-file", ca], &[]);
    let out = env.path().join("out");
    let r = env.ork(&["pull", &reference, "-o", out.to_str().unwrap(), "--ca-file", ca], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert_eq!(tree(&out), tree(&dir));
    let r = env.ork(&["pull", &reference, "-o", "other"], &[]);
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.stderr.contains(&reg.host()) && !r.stderr.contains("panicked"), "{}", show(&r));
    assert!(!env.work().join("other").exists());
    // Plain HTTP is refused for a host that is not this machine.
    let r = env.ork(&["inspect", "registry.example.com/team/x:v1", "--insecure-http"], &[]);
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.stderr.contains("--allow-insecure-remote"), "{}", show(&r));
}

#[test]
fn skopeo_and_oras_read_what_ork_pushed_and_ork_pulls_what_oras_pushed() {
    let reg = Registry::plain();
    let env = Env::new("oci-readers");
    let dir = demo("hello-website");
    let digest = push(&env, &dir, &format!("{}/team/hello-website:v1", reg.host()), &["--insecure-http"], &[]);
    let m = reg.skopeo_raw_manifest("team/hello-website:v1");
    assert_eq!(m, serde_json::from_str::<Value>(&reg.oci_read(&["manifest", &format!("{}/team/hello-website:v1", reg.host())]).stdout).unwrap());
    assert_eq!(m["schemaVersion"], 2);
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(m["config"]["mediaType"], ARTIFACT_TYPE);
    assert_eq!(m["config"]["digest"], EMPTY_CONFIG);
    let layers: BTreeMap<String, String> = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["annotations"]["org.opencontainers.image.title"].as_str().unwrap().to_string(), l["mediaType"].as_str().unwrap().to_string()))
        .collect();
    let expect = [
        ("katalog.yaml", "application/vnd.orkestra.katalog.v1+yaml"),
        ("crd.yaml", "application/vnd.kubernetes.crd.v1+yaml"),
        ("cr.yaml", "application/vnd.kubernetes.cr.v1+yaml"),
        ("README.md", "text/markdown"),
        ("simulate.yaml", "application/vnd.orkestra.simulate.v1+yaml"),
        ("e2e.yaml", "application/vnd.orkestra.e2e.v1+yaml"),
        ("invalid/katalog-typo.yaml", "application/octet-stream"),
    ];
    assert_eq!(layers, expect.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<BTreeMap<_, _>>());
    let a = &m["annotations"];
    assert_eq!(a["io.orkestra.pattern.name"], "hello-website");
    assert_eq!(a["io.orkestra.pattern.kind"], "Katalog");
    assert_eq!(a["org.opencontainers.image.title"], "hello-website");
    assert_eq!(a["io.orkestra.simulate.status"], "passed");
    assert_eq!(a["io.orkestra.e2e.status"], "skipped");
    assert!(a["io.orkestra.simulate.assertions"].as_str().unwrap().parse::<u32>().unwrap() > 0, "{a}");
    // skopeo's digest of the manifest it read is ork's.
    let raw = reg.skopeo("inspect", &["--raw", &format!("docker://{}/team/hello-website:v1", reg.host())]);
    let raw_file = env.path().join("manifest.json");
    std::fs::write(&raw_file, raw.stdout.as_bytes()).unwrap();
    let out = Command::new("skopeo").args(["manifest-digest", raw_file.to_str().unwrap()]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), digest, "{}", String::from_utf8_lossy(&out.stderr));
    // oras pulls the same bytes.
    let oras_out = env.path().join("oras");
    let r = reg.oci_read(&["pull", &format!("{}/team/hello-website:v1", reg.host()), oras_out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert_eq!(tree(&oras_out), tree(&dir));

    // An artifact oras pushed with the same media types pulls with ork.
    let src = env.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::copy(dir.join("katalog.yaml"), src.join("katalog.yaml")).unwrap();
    std::fs::copy(dir.join("crd.yaml"), src.join("crd.yaml")).unwrap();
    let k = format!("{}:application/vnd.orkestra.katalog.v1+yaml:katalog.yaml", src.join("katalog.yaml").display());
    let c = format!("{}:application/vnd.kubernetes.crd.v1+yaml:crd.yaml", src.join("crd.yaml").display());
    let reference = format!("{}/team/by-oras:v1", reg.host());
    let r = reg.oci_read(&["push", &reference, &k, &c, "--artifact-type", ARTIFACT_TYPE]);
    assert_eq!(r.code, 0, "{}", show(&r));
    let out = env.path().join("from-oras");
    let r = env.ork(&["pull", &reference, "-o", out.to_str().unwrap(), "--insecure-http"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert_eq!(tree(&out), tree(&src));
    // inspect, as JSON.
    let r = env.ork(&["inspect", &format!("{}/team/hello-website:v1", reg.host()), "--insecure-http", "--output", "json"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    let j: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(j["digest"], digest.as_str());
    assert_eq!(j["artifactType"], ARTIFACT_TYPE);
    assert_eq!(j["annotations"]["io.orkestra.pattern.name"], "hello-website");
    assert_eq!(j["files"].as_array().unwrap().len(), 7);
    assert_eq!(j["signatures"], serde_json::json!([]));
}

#[test]
fn a_tampered_blob_or_an_escaping_title_is_refused_and_nothing_is_written() {
    let reg = Registry::plain();
    let env = Env::new("oci-tamper");
    let dir = demo("hello-website");
    let reference = format!("{}/team/hello-website:v1", reg.host());
    push(&env, &dir, &reference, &["--insecure-http"], &[]);
    let katalog_digest = format!("sha256:{}", sha256_hex(&std::fs::read(dir.join("katalog.yaml")).unwrap()));
    let blob = reg.blob_path(&katalog_digest);
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes.extend_from_slice(b"# altered\n");
    std::fs::write(&blob, bytes).unwrap();
    let parent = env.path().join("parent");
    std::fs::create_dir_all(&parent).unwrap();
    let out = parent.join("out");
    let r = env.ork(&["pull", &reference, "-o", out.to_str().unwrap(), "--insecure-http"], &[]);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stderr.contains("digest mismatch") && r.stderr.contains("katalog.yaml"), "{}", show(&r));
    assert!(!out.exists(), "a refused pull wrote {}", out.display());
    assert_eq!(std::fs::read_dir(&parent).unwrap().count(), 0, "a staging directory was left behind");

    // A layer titled ../escape.
    let src = env.path().join("evil");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::copy(dir.join("katalog.yaml"), src.join("katalog.yaml")).unwrap();
    std::fs::write(src.join("escape"), "owned\n").unwrap();
    let reference = format!("{}/team/evil:v1", reg.host());
    let k = format!("{}:application/vnd.orkestra.katalog.v1+yaml:katalog.yaml", src.join("katalog.yaml").display());
    let e = format!("{}:application/octet-stream:../escape", src.join("escape").display());
    let r = reg.oci_read(&["push", &reference, &k, &e, "--artifact-type", ARTIFACT_TYPE]);
    assert_eq!(r.code, 0, "{}", show(&r));
    let r = env.ork(&["pull", &reference, "-o", out.to_str().unwrap(), "--insecure-http"], &[]);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stderr.contains("../escape"), "{}", show(&r));
    assert!(!out.exists() && !parent.join("escape").exists() && !env.path().join("escape").exists());
    assert_eq!(std::fs::read_dir(&parent).unwrap().count(), 0);
}

#[test]
fn pull_refuses_a_non_empty_directory_without_force_and_replaces_it_with_force() {
    let reg = Registry::plain();
    let env = Env::new("oci-force");
    let dir = demo("team-spaces");
    let reference = format!("{}/team/team-spaces:v1", reg.host());
    push(&env, &dir, &reference, &["--insecure-http"], &[]);
    let out = env.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("mine.txt"), "keep me").unwrap();
    let r = env.ork(&["pull", &reference, "-o", out.to_str().unwrap(), "--insecure-http"], &[]);
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.stderr.contains("--force"), "{}", show(&r));
    assert_eq!(tree(&out).len(), 1, "files were written without --force");
    let r = env.ork(&["pull", &reference, "-o", out.to_str().unwrap(), "--insecure-http", "--force"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert_eq!(tree(&out), tree(&dir));
}

/// `ork pull` over an older version shows the permission diff, escalations flagged.
#[test]
fn pulling_a_newer_version_over_an_older_one_shows_the_added_permissions() {
    let reg = Registry::plain();
    let env = Env::new("oci-plan");
    let v1 = demo("hello-website");
    let v2 = env.path().join("v2");
    copy_tree(&v1, &v2);
    // v2 also creates a ConfigMap per CR: a new permission.
    let k = std::fs::read_to_string(v2.join("katalog.yaml")).unwrap();
    assert!(k.contains("\n            services:\n"), "the demo's shape changed:\n{k}");
    let k = k.replacen(
        "\n            services:\n",
        "\n            configMaps:\n              - name: \"{{ .metadata.name }}-settings\"\n                data: {mode: web}\n            services:\n",
        1,
    );
    std::fs::write(v2.join("katalog.yaml"), k).unwrap();
    let reference = format!("{}/team/hello-website", reg.host());
    push(&env, &v1, &format!("{reference}:v1"), &["--insecure-http", "--no-simulate"], &[]);
    push(&env, &v2, &format!("{reference}:v2"), &["--insecure-http", "--no-simulate"], &[]);
    let out = env.path().join("out");
    let r = env.ork(&["pull", &format!("{reference}:v1"), "-o", out.to_str().unwrap(), "--insecure-http"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    let r = env.ork(&["pull", &format!("{reference}:v2"), "-o", out.to_str().unwrap(), "--insecure-http", "--force"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(r.stdout.contains("ESCALATION") && r.stdout.contains("configmaps"), "{}", show(&r));
}

fn sha256_hex(bytes: &[u8]) -> String {
    let out = Command::new("sha256sum").stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn().unwrap();
    use std::io::Write;
    out.stdin.as_ref().unwrap().write_all(bytes).unwrap();
    let o = out.wait_with_output().unwrap();
    String::from_utf8_lossy(&o.stdout).split_whitespace().next().unwrap().to_string()
}

#[test]
fn signatures_verify_independently_and_unsigned_or_wrong_key_pulls_are_refused() {
    let reg = Registry::plain();
    let env = Env::new("oci-sign");
    let pass = [("ORK_SIGN_PASSPHRASE", "correct horse")];
    let r = env.ork(&["keygen"], &pass);
    assert_eq!(r.code, 0, "{}", show(&r));
    let r = env.ork(&["keygen", "--output-key", "other.key", "--output-pub", "other.pub"], &pass);
    assert_eq!(r.code, 0, "{}", show(&r));
    let key = std::fs::read_to_string(env.work().join("ork.key")).unwrap();
    assert!(key.contains("ENCRYPTED ORK PRIVATE KEY") && !key.contains("correct horse"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(env.work().join("ork.key")).unwrap().permissions().mode() & 0o777, 0o600);
    // Without the passphrase, keygen and signing say which variable is missing.
    let r = env.ork(&["keygen", "--output-key", "x.key", "--output-pub", "x.pub"], &[]);
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.stderr.contains("ORK_SIGN_PASSPHRASE"), "{}", show(&r));

    let dir = demo("hello-website");
    let signed = format!("{}/team/signed:v1", reg.host());
    let digest = push(&env, &dir, &signed, &["--insecure-http", "--sign-key", "ork.key"], &pass);
    // Independently: the signature tag's manifest, its payload blob, Python's cryptography.
    let sig_tag = format!("{}/team/signed:sha256-{}.sig", reg.host(), digest.strip_prefix("sha256:").unwrap());
    let m: Value = serde_json::from_str(&reg.oci_read(&["manifest", &sig_tag]).stdout).unwrap();
    let layer = &m["layers"][0];
    assert_eq!(layer["mediaType"], "application/vnd.dev.cosign.simplesigning.v1+json");
    let sig_b64 = layer["annotations"]["dev.cosignproject.cosign/signature"].as_str().unwrap();
    let payload_digest = layer["digest"].as_str().unwrap();
    let payload = std::fs::read(reg.blob_path(payload_digest)).unwrap();
    let p: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(p["critical"]["image"]["docker-manifest-digest"], digest.as_str());
    assert_eq!(p["critical"]["type"], "cosign container image signature");
    let payload_file = env.path().join("payload.json");
    std::fs::write(&payload_file, &payload).unwrap();
    let pubkey = env.work().join("ork.pub");
    let r = ork_tests::oci_read(&["verify-sig", pubkey.to_str().unwrap(), payload_file.to_str().unwrap(), sig_b64], &[]);
    assert_eq!(r.code, 0, "cryptography rejects ork's signature: {}", show(&r));
    let other = env.work().join("other.pub");
    let r = ork_tests::oci_read(&["verify-sig", other.to_str().unwrap(), payload_file.to_str().unwrap(), sig_b64], &[]);
    assert_eq!(r.code, 1, "{}", show(&r));

    let r = env.ork(&["pull", &signed, "-o", "good", "--insecure-http", "--verify-key", "ork.pub"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    let r = env.ork(&["pull", &signed, "-o", "wrong", "--insecure-http", "--verify-key", "other.pub"], &[]);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stderr.contains("verifies with the key"), "{}", show(&r));
    let unsigned = format!("{}/team/unsigned:v1", reg.host());
    push(&env, &dir, &unsigned, &["--insecure-http"], &[]);
    let r = env.ork(&["pull", &unsigned, "-o", "unsigned", "--insecure-http", "--verify-key", "ork.pub"], &[]);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stderr.contains("not signed"), "{}", show(&r));
    assert!(!env.work().join("wrong").exists() && !env.work().join("unsigned").exists());
    let r = env.ork(&["inspect", &signed, "--insecure-http", "--verify-key", "ork.pub"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(r.stdout.contains("✓ verified"), "{}", show(&r));
}

#[test]
fn a_komposer_imports_a_pushed_katalog_by_reference_and_keeps_working_from_the_cache() {
    let mut reg = Registry::plain();
    let env = Env::new("oci-import");
    let dir = demo("hello-website");
    let reference = format!("oci://{}/team/hello-website:v1", reg.host());
    push(&env, &dir, &reference, &["--insecure-http"], &[]);
    let work = env.work();
    std::fs::write(
        work.join("komposer.yaml"),
        format!("apiVersion: orkestra.orkspace.io/v1\nkind: Komposer\nmetadata:\n  name: platform\nimports:\n  registry:\n    - {reference}\n"),
    )
    .unwrap();
    std::fs::copy(dir.join("cr.yaml"), work.join("cr.yaml")).unwrap();
    let sim = std::fs::read_to_string(dir.join("simulate.yaml")).unwrap();
    assert!(sim.contains("katalog: \"./katalog.yaml\""), "{sim}");
    std::fs::write(work.join("simulate.yaml"), sim.replace("katalog: \"./katalog.yaml\"", "katalog: \"./komposer.yaml\"")).unwrap();

    let validate = |extra: &[&str]| {
        let mut args = vec!["validate", "-f", "komposer.yaml"];
        args.extend_from_slice(extra);
        env.ork(&args, &[])
    };
    let r = validate(&["--insecure-http"]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(r.stdout.contains("website"), "{}", show(&r));
    let r = env.ork(&["simulate", "--insecure-http", "simulate.yaml"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(r.stdout.contains("PASS"), "{}", show(&r));
    // Without the registry flag the import cannot be fetched (TLS to a plain registry) and is
    // not silently skipped… but the cache answers, with a warning.
    reg.stop();
    let r = validate(&["--insecure-http"]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(r.stderr.contains("registry-unreachable") && r.stderr.contains("cached"), "{}", show(&r));
    let r = validate(&["--offline"]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(!r.stderr.contains("registry-unreachable"), "{}", show(&r));
    let r = env.ork(&["simulate", "--offline", "simulate.yaml"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    // A reference never fetched is an error at its line, offline.
    std::fs::write(
        work.join("other.yaml"),
        format!(
            "apiVersion: orkestra.orkspace.io/v1\nkind: Komposer\nmetadata:\n  name: other\nimports:\n  registry:\n    - oci://{}/team/never:v1\n",
            reg.host()
        ),
    )
    .unwrap();
    let r = env.ork(&["validate", "-f", "other.yaml", "--offline"], &[]);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stderr.contains("other.yaml:7") && r.stderr.contains("not in the cache"), "{}", show(&r));
}

#[test]
fn a_pulled_pattern_whose_include_leaves_its_directory_is_refused_before_the_file_is_read() {
    let reg = Registry::plain();
    let env = Env::new("oci-include");
    let dir = demo("include-fragments");
    let katalog = std::fs::read_to_string(dir.join("katalog.yaml")).unwrap();
    assert!(katalog.contains("include: ./fragments/profiles.yaml"), "{katalog}");
    for (tag, target) in [("dotdot", "../../secret.yaml"), ("absolute", "/etc/passwd")] {
        let src = env.path().join(format!("src-{tag}"));
        copy_tree(&dir, &src);
        std::fs::write(src.join("katalog.yaml"), katalog.replace("include: ./fragments/profiles.yaml", &format!("include: {target}"))).unwrap();
        // Built with oras: `ork push` itself refuses such a pattern.
        let reference = format!("{}/team/include-{tag}:v1", reg.host());
        let layers: Vec<String> = tree(&src).keys().map(|rel| format!("{}:application/octet-stream:{rel}", src.join(rel).display())).collect();
        let mut args = vec!["push", reference.as_str()];
        args.extend(layers.iter().map(String::as_str));
        args.extend(["--artifact-type", ARTIFACT_TYPE]);
        let r = reg.oci_read(&args);
        assert_eq!(r.code, 0, "{}", show(&r));
        let out = env.path().join(format!("out-{tag}"));
        let r = env.ork(&["pull", &reference, "-o", out.to_str().unwrap(), "--insecure-http"], &[]);
        assert_eq!(r.code, 1, "{tag}: {}", show(&r));
        assert!(r.stderr.contains("outside the pattern root") && r.stderr.contains(target.trim_start_matches("../../")), "{tag}: {}", show(&r));
        assert!(!out.exists(), "{tag}: a refused pull left {}", out.display());
        // And `ork push` refuses the same directory before anything is sent.
        let r = env.ork(&["push", src.to_str().unwrap(), &format!("{}/team/never-{tag}:v1", reg.host()), "--insecure-http", "--no-e2e"], &[]);
        assert_eq!(r.code, 1, "{tag}: {}", show(&r));
        assert!(r.stderr.contains("outside the pattern root"), "{tag}: {}", show(&r));
    }
    // A symlinked include inside a pushed directory is refused by push itself.
    let src = env.path().join("src-symlink");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::copy(dir.join("katalog.yaml"), src.join("katalog.yaml")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", src.join("passwd.yaml")).unwrap();
    let r = env.ork(&["push", src.to_str().unwrap(), &format!("{}/team/symlink:v1", reg.host()), "--insecure-http", "--no-e2e"], &[]);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stderr.contains("symbolic link"), "{}", show(&r));
}

#[test]
fn the_e2e_gate_runs_on_a_dev_cluster_and_is_recorded() {
    let reg = Registry::plain();
    let env = Env::new("oci-e2e");
    let dir = demo("hello-website");
    let reference = format!("{}/team/hello-website:v1", reg.host());
    let r = env.ork(&["push", dir.to_str().unwrap(), &reference, "--insecure-http", "--output", "json"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    let j: Value = serde_json::from_str(&r.stdout).unwrap();
    let a = &j["annotations"];
    assert_eq!(a["io.orkestra.e2e.status"], "passed", "{j}");
    assert_eq!(a["io.orkestra.e2e.runner"], if std::env::var_os("CI").is_some() { "ci" } else { "local" }, "{j}");
    assert_eq!(a["io.orkestra.simulate.status"], "passed", "{j}");
    assert!(a["io.orkestra.e2e.duration"].as_str().unwrap().ends_with("ms"), "{j}");
    // A failing gate stops the push; --force records it as skipped.
    let broken = env.path().join("broken");
    copy_tree(&dir, &broken);
    let sim = std::fs::read_to_string(broken.join("simulate.yaml")).unwrap();
    std::fs::write(broken.join("simulate.yaml"), sim.replace("name: hello-web", "name: not-what-it-creates")).unwrap();
    let r = env.ork(&["push", broken.to_str().unwrap(), &format!("{}/team/broken:v1", reg.host()), "--insecure-http", "--no-e2e"], &[]);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stderr.contains("simulate gate failed"), "{}", show(&r));
    let r = env.ork(&["inspect", &format!("{}/team/broken:v1", reg.host()), "--insecure-http"], &[]);
    assert_eq!(r.code, 2, "nothing was pushed: {}", show(&r));
    let r = env
        .ork(&["push", broken.to_str().unwrap(), &format!("{}/team/broken:v1", reg.host()), "--insecure-http", "--no-e2e", "--force", "--output", "json"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    let j: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(j["annotations"]["io.orkestra.simulate.status"], "skipped", "{j}");
}

/// Standard base64 (RFC 4648, padded), for a docker `config.json` `auth` entry.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    if !dir.exists() {
        return Vec::new();
    }
    tree(dir).into_iter().filter(|(_, b)| b.windows(needle.len()).any(|w| w == needle.as_bytes())).map(|(p, _)| p).collect()
}

/// Without the env variables, the docker config's `auths` entry (`auth`: base64 `user:pass`, or
/// `username`/`password`) and a credential helper named in `credHelpers` answer; a wrong password
/// there is unauthorized and never echoed; the env variables win over the config.
#[test]
fn docker_config_auths_and_credential_helpers_supply_credentials_and_are_never_echoed() {
    let reg = Registry::basic("bob", "docker-cfg-pass-41");
    let env = Env::new("oci-dockercfg");
    let dir = demo("hello-website");
    let reference = format!("{}/team/hello-website:v1", reg.host());
    let config = env.path().join("docker/config.json");
    let auths = |entry: Value| serde_json::json!({ "auths": { reg.host(): entry } }).to_string();

    std::fs::write(&config, auths(serde_json::json!({ "auth": base64(b"bob:docker-cfg-pass-41") }))).unwrap();
    push(&env, &dir, &reference, &["--insecure-http"], &[]);
    let out = env.path().join("out");
    let r = env.ork(&["pull", &reference, "-o", out.to_str().unwrap(), "--insecure-http"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert_eq!(tree(&out), tree(&dir));

    std::fs::write(&config, auths(serde_json::json!({ "username": "bob", "password": "docker-cfg-pass-41" }))).unwrap();
    let r = env.ork(&["inspect", &reference, "--insecure-http"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));

    let wrong = "Cfg-Wr0ng-77x";
    std::fs::write(&config, auths(serde_json::json!({ "auth": base64(format!("bob:{wrong}").as_bytes()) }))).unwrap();
    let r = env.ork(&["pull", &reference, "-o", "nowhere", "--insecure-http"], &[]);
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.stderr.contains(&reg.host()) && r.stderr.contains("unauthorized"), "{}", show(&r));
    assert!(!r.stdout.contains(wrong) && !r.stderr.contains(wrong), "{}", show(&r));
    assert!(!env.work().join("nowhere").exists());
    // The env variables take precedence over a wrong config entry.
    let r = env.ork(&["inspect", &reference, "--insecure-http"], &[("ORK_REGISTRY_USERNAME", "bob"), ("ORK_REGISTRY_PASSWORD", "docker-cfg-pass-41")]);
    assert_eq!(r.code, 0, "{}", show(&r));
    // The password variable alone: the user name variable is named.
    let r = env.ork(&["pull", &reference, "-o", "nowhere", "--insecure-http"], &[("ORK_REGISTRY_PASSWORD", "docker-cfg-pass-41")]);
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.stderr.contains("ORK_REGISTRY_USERNAME") && !r.stderr.contains("docker-cfg-pass-41"), "{}", show(&r));
    let r = env.ork(&["push", dir.to_str().unwrap(), &reference, "--insecure-http", "--no-e2e"], &[("ORK_REGISTRY_USERNAME", "bob")]);
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.stderr.contains("ORK_REGISTRY_PASSWORD"), "{}", show(&r));

    // A credential helper (`docker-credential-<name> get`: the host on stdin, JSON on stdout).
    let bin = env.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-orktest");
    let asked = env.path().join("helper-asked");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 1\ncat > '{}'\nprintf '{{\"ServerURL\":\"%s\",\"Username\":\"bob\",\"Secret\":\"docker-cfg-pass-41\"}}' x\n",
            asked.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(&config, serde_json::json!({ "credHelpers": { reg.host(): "orktest" } }).to_string()).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let r = env.ork(&["inspect", &reference, "--insecure-http"], &[("PATH", &path)]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert_eq!(std::fs::read_to_string(&asked).unwrap().trim(), reg.host(), "the helper is asked for the registry host");

    for secret in ["docker-cfg-pass-41", wrong] {
        assert!(!reg.log().contains(secret), "a password is in the registry's log");
        assert_eq!(files_containing(&env.path().join("cache"), secret), Vec::<String>::new(), "a password was stored in the cache");
        assert_eq!(files_containing(&env.work(), secret), Vec::<String>::new(), "a password was written in the work directory");
    }
}

/// The JSON of push, pull and inspect carry what the contract names; a pull without `-o` writes
/// `./<last path segment>`; an empty `-o` needs no `--force`; a `-o` that is a file is refused
/// and left alone.
#[test]
fn push_pull_and_inspect_json_and_the_default_output_directory() {
    let reg = Registry::plain();
    let env = Env::new("oci-json");
    let dir = demo("hello-website");
    let reference = format!("{}/team/hello-website:v1", reg.host());
    let r = env.ork(&["push", dir.to_str().unwrap(), &reference, "--insecure-http", "--no-e2e", "--output", "json"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    let pushed: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", show(&r)));
    let digest = pushed["digest"].as_str().unwrap().to_string();
    assert!(digest.starts_with("sha256:") && digest.len() == 71, "{pushed}");
    assert!(pushed["reference"].as_str().unwrap().contains("team/hello-website:v1"), "{pushed}");
    let a = &pushed["annotations"];
    assert_eq!(a["io.orkestra.pattern.version"], "0.1.0", "{pushed}");
    assert_eq!(a["io.orkestra.pattern.kind"], "Katalog", "{pushed}");
    assert_eq!(a["io.orkestra.simulate.status"], "passed", "{pushed}");
    // Each file: its title, media type, the sha256 and size of its bytes.
    let expect: BTreeMap<String, (String, u64)> =
        tree(&dir).into_iter().map(|(rel, bytes)| (rel, (format!("sha256:{}", sha256_hex(&bytes)), bytes.len() as u64))).collect();
    let files_of = |j: &Value| -> BTreeMap<String, (String, u64)> {
        j["files"]
            .as_array()
            .unwrap_or_else(|| panic!("no files in {j}"))
            .iter()
            .map(|f| (f["title"].as_str().unwrap().to_string(), (f["digest"].as_str().unwrap().to_string(), f["size"].as_u64().unwrap())))
            .collect()
    };
    assert_eq!(files_of(&pushed), expect);
    // The manifest as the registry serves it agrees.
    let m = reg.skopeo_raw_manifest("team/hello-website:v1");
    assert_eq!(m["annotations"], pushed["annotations"], "push --output json reports the annotations it pushed");

    let r = env.ork(&["inspect", &reference, "--insecure-http", "--output", "json"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    let j: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(j["digest"], digest.as_str());
    assert_eq!(j["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(j["annotations"], m["annotations"]);
    assert_eq!(files_of(&j), expect);
    for f in j["files"].as_array().unwrap() {
        let title = f["title"].as_str().unwrap();
        let layer = m["layers"].as_array().unwrap().iter().find(|l| l["annotations"]["org.opencontainers.image.title"] == title).unwrap();
        assert_eq!(f["mediaType"], layer["mediaType"], "{title}");
    }
    // By digest, with the oci:// prefix: the same.
    let pinned = format!("oci://{}/team/hello-website@{digest}", reg.host());
    let r = env.ork(&["inspect", &pinned, "--insecure-http", "--output", "json"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert_eq!(serde_json::from_str::<Value>(&r.stdout).unwrap()["digest"], digest.as_str());

    // Hidden files (a .git directory, an .env) are not pushed.
    let hidden = env.path().join("hidden");
    copy_tree(&dir, &hidden);
    std::fs::write(hidden.join(".env"), "TOKEN=hidden-file-secret\n").unwrap();
    std::fs::create_dir_all(hidden.join(".git")).unwrap();
    std::fs::write(hidden.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    let with_hidden = format!("{}/team/with-hidden:v1", reg.host());
    push(&env, &hidden, &with_hidden, &["--insecure-http"], &[]);
    let r = env.ork(&["pull", &with_hidden, "-o", "no-hidden", "--insecure-http"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert_eq!(tree(&env.work().join("no-hidden")), tree(&dir), "hidden files travelled");
    assert!(!reg.log().contains(".env") && files_containing(&reg.storage_dir(), "hidden-file-secret").is_empty());

    // No -o: ./hello-website in the working directory.
    let r = env.ork(&["pull", &reference, "--insecure-http"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert_eq!(tree(&env.work().join("hello-website")), tree(&dir));
    // JSON: the digest, the directory, the files.
    let r = env.ork(&["pull", &pinned, "-o", "as-json", "--insecure-http", "--output", "json"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    let j: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", show(&r)));
    assert_eq!(j["digest"], digest.as_str(), "{j}");
    let titles: Vec<&str> = j["files"].as_array().unwrap().iter().map(|f| f["title"].as_str().unwrap()).collect();
    assert_eq!(titles.len(), expect.len(), "{j}");
    assert_eq!(tree(&env.work().join("as-json")), tree(&dir));
    // An empty directory is filled without --force.
    std::fs::create_dir_all(env.work().join("empty")).unwrap();
    let r = env.ork(&["pull", &reference, "-o", "empty", "--insecure-http"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert_eq!(tree(&env.work().join("empty")), tree(&dir));
    // A regular file is neither replaced nor written into, with or without --force.
    std::fs::write(env.work().join("a-file"), "mine").unwrap();
    for force in [false, true] {
        let mut args = vec!["pull", reference.as_str(), "-o", "a-file", "--insecure-http"];
        if force {
            args.push("--force");
        }
        let r = env.ork(&args, &[]);
        assert_ne!(r.code, 0, "{}", show(&r));
        assert!(r.stderr.contains("a-file"), "{}", show(&r));
        assert_eq!(std::fs::read_to_string(env.work().join("a-file")).unwrap(), "mine");
    }
    // Not found, a tag after '@', plain HTTP to a non-loopback host: exit 2, clean messages.
    let r = env.ork(&["pull", &format!("{}/team/never:v9", reg.host()), "-o", "never", "--insecure-http"], &[]);
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.stderr.contains("not found"), "{}", show(&r));
    let r = env.ork(&["pull", &format!("{}/team/hello-website@v1", reg.host()), "-o", "never", "--insecure-http"], &[]);
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.stderr.contains("use ':' not '@'"), "{}", show(&r));
    assert!(!env.work().join("never").exists());
}

/// A manifest altered in storage is refused when pulled by digest (its bytes no longer hash to
/// it); a tampered blob pulled with `--force` over an older pull leaves that pull untouched.
#[test]
fn a_tampered_manifest_is_refused_and_a_refused_forced_pull_keeps_the_previous_files() {
    let reg = Registry::plain();
    let env = Env::new("oci-tamper2");
    let dir = demo("team-spaces");
    let reference = format!("{}/team/team-spaces:v1", reg.host());
    let digest = push(&env, &dir, &reference, &["--insecure-http"], &[]);
    let out = env.work().join("out");
    let r = env.ork(&["pull", &reference, "-o", "out", "--insecure-http"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    let before = tree(&out);

    // A layer's bytes, same length, one bit flipped: only the digest can tell.
    let katalog = std::fs::read(dir.join("katalog.yaml")).unwrap();
    let blob = reg.blob_path(&format!("sha256:{}", sha256_hex(&katalog)));
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&blob, &bytes).unwrap();
    let r = env.ork(&["pull", &reference, "-o", "out", "--insecure-http", "--force"], &[]);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stderr.contains("digest mismatch") && r.stderr.contains("katalog.yaml"), "{}", show(&r));
    assert_eq!(tree(&out), before, "a refused --force pull changed the previous files");
    let names: Vec<String> = std::fs::read_dir(env.work()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["out"], "a staging or backup directory was left behind");
    std::fs::write(&blob, &katalog).unwrap();

    // The manifest itself, edited in storage (a forged gate result).
    let manifest = reg.blob_path(&digest);
    let mut m: Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    m["annotations"]["io.orkestra.simulate.status"] = Value::from("passed-forged");
    std::fs::write(&manifest, serde_json::to_vec(&m).unwrap()).unwrap();
    let by_digest = format!("{}/team/team-spaces@{digest}", reg.host());
    for args in [
        vec!["pull", by_digest.as_str(), "-o", "forged", "--insecure-http"],
        vec!["pull", reference.as_str(), "-o", "forged", "--insecure-http"],
        vec!["inspect", by_digest.as_str(), "--insecure-http"],
    ] {
        let r = env.ork(&args, &[]);
        assert_eq!(r.code, 1, "{args:?}: {}", show(&r));
        assert!(r.stderr.contains("digest mismatch") && !r.stdout.contains("passed-forged"), "{args:?}: {}", show(&r));
    }
    assert!(!env.work().join("forged").exists());
}

/// A signature copied from another artifact (its payload names the other digest) does not sign
/// this one; a Komposer import's `verify:` key is enforced, online and from the cache.
#[test]
fn a_replayed_signature_is_refused_and_an_imports_verify_key_is_enforced() {
    let reg = Registry::plain();
    let env = Env::new("oci-sign2");
    let pass = [("ORK_SIGN_PASSPHRASE", "sign me")];
    assert_eq!(env.ork(&["keygen"], &pass).code, 0);
    assert_eq!(env.ork(&["keygen", "--output-key", "other.key", "--output-pub", "other.pub"], &pass).code, 0);
    // keygen does not overwrite a key pair.
    let key = std::fs::read(env.work().join("ork.key")).unwrap();
    let r = env.ork(&["keygen"], &pass);
    assert_eq!(r.code, 2, "{}", show(&r));
    assert_eq!(std::fs::read(env.work().join("ork.key")).unwrap(), key);
    // A wrong passphrase: nothing is pushed.
    let dir = demo("hello-website");
    let signed = format!("{}/team/signed:v1", reg.host());
    let r = env.ork(&["push", dir.to_str().unwrap(), &signed, "--insecure-http", "--no-e2e", "--sign-key", "ork.key"], &[("ORK_SIGN_PASSPHRASE", "not it")]);
    assert_ne!(r.code, 0, "{}", show(&r));
    assert!(r.stderr.contains("ORK_SIGN_PASSPHRASE") && !r.stderr.contains("not it"), "{}", show(&r));
    assert_eq!(env.ork(&["inspect", &signed, "--insecure-http"], &[]).code, 2, "a push with a key it could not decrypt went through");

    let signed_digest = push(&env, &dir, &signed, &["--insecure-http", "--sign-key", "ork.key"], &pass);
    let r = env.ork(&["inspect", &signed, "--insecure-http", "--output", "json"], &[]);
    let j: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", show(&r)));
    assert_eq!(j["signatures"].as_array().map(Vec::len), Some(1), "{j}");
    // Another artifact, unsigned; the first one's signature copied to its signature tag by skopeo.
    let changed = env.path().join("changed");
    copy_tree(&dir, &changed);
    std::fs::write(changed.join("README.md"), "another artifact\n").unwrap();
    let other = format!("{}/team/other:v1", reg.host());
    let other_digest = push(&env, &changed, &other, &["--insecure-http"], &[]);
    let hex = |d: &str| d.strip_prefix("sha256:").unwrap().to_string();
    let r = reg.skopeo(
        "copy",
        &[
            "--dest-tls-verify=false",
            &format!("docker://{}/team/signed:sha256-{}.sig", reg.host(), hex(&signed_digest)),
            &format!("docker://{}/team/other:sha256-{}.sig", reg.host(), hex(&other_digest)),
        ],
    );
    assert_eq!(r.code, 0, "{}", show(&r));
    let r = env.ork(&["pull", &other, "-o", "replayed", "--insecure-http", "--verify-key", "ork.pub"], &[]);
    assert_eq!(r.code, 1, "a signature of another digest was accepted: {}", show(&r));
    assert!(!env.work().join("replayed").exists());

    // Komposer imports with `verify:`.
    let komposer = |name: &str, reference: &str, key: &str| {
        std::fs::write(
            env.work().join(format!("{name}.yaml")),
            format!(
                "apiVersion: orkestra.orkspace.io/v1\nkind: Komposer\nmetadata:\n  name: {name}\nimports:\n  registry:\n    - url: oci://{reference}\n      verify: {key}\n"
            ),
        )
        .unwrap();
    };
    komposer("good", &signed, "ork.pub");
    komposer("wrongkey", &signed, "other.pub");
    komposer("unsigned", &other, "ork.pub");
    let r = env.ork(&["validate", "--insecure-http", "-f", "good.yaml"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    let r = env.ork(&["validate", "--insecure-http", "-f", "wrongkey.yaml"], &[]);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stderr.contains("wrongkey.yaml:7") && r.stderr.contains("verifies with the key"), "{}", show(&r));
    let r = env.ork(&["validate", "--insecure-http", "-f", "unsigned.yaml"], &[]);
    assert_eq!(r.code, 1, "{}", show(&r));
    // Offline, from the cache: the verified import still validates, the other key still fails.
    let r = env.ork(&["validate", "--offline", "-f", "good.yaml"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    let r = env.ork(&["validate", "--offline", "-f", "wrongkey.yaml"], &[]);
    assert_eq!(r.code, 1, "the cache accepted a key it never verified: {}", show(&r));
}

/// A Komposer import's `auth:` names its variables: they are read at use, a missing one is
/// named at the import's line, and the password is never printed, logged or cached. The cache
/// is re-verified on every read: an altered unpacked file is restored from its blob, an altered
/// blob is refused.
#[test]
fn an_import_with_auth_from_env_and_a_tampered_cache() {
    let reg = Registry::basic("carol", "import-pass-93");
    let env = Env::new("oci-import-auth");
    let dir = demo("hello-website");
    let reference = format!("{}/team/hello-website:v1", reg.host());
    let creds = [("ORK_REGISTRY_USERNAME", "carol"), ("ORK_REGISTRY_PASSWORD", "import-pass-93")];
    push(&env, &dir, &reference, &["--insecure-http"], &creds);
    std::fs::write(
        env.work().join("komposer.yaml"),
        format!(
            "apiVersion: orkestra.orkspace.io/v1\nkind: Komposer\nmetadata:\n  name: platform\nimports:\n  registry:\n    - url: oci://{reference}\n      auth: {{type: basic, usernameFromEnv: CORP_REG_USER, passwordFromEnv: CORP_REG_PASS}}\n"
        ),
    )
    .unwrap();
    let r = env.ork(&["validate", "--insecure-http", "-f", "komposer.yaml"], &[("CORP_REG_USER", "carol")]);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stderr.contains("komposer.yaml:7") && r.stderr.contains("CORP_REG_PASS"), "{}", show(&r));
    let r = env.ork(&["validate", "--insecure-http", "-f", "komposer.yaml"], &[("CORP_REG_USER", "carol"), ("CORP_REG_PASS", "Imp0rt-wr0ng")]);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stderr.contains("unauthorized") && !r.stderr.contains("Imp0rt-wr0ng") && !r.stdout.contains("Imp0rt-wr0ng"), "{}", show(&r));
    let good = [("CORP_REG_USER", "carol"), ("CORP_REG_PASS", "import-pass-93")];
    let r = env.ork(&["validate", "--insecure-http", "-f", "komposer.yaml"], &good);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(!r.stdout.contains("import-pass-93") && !r.stderr.contains("import-pass-93"));
    for secret in ["import-pass-93", "Imp0rt-wr0ng"] {
        assert!(!reg.log().contains(secret), "a password is in the registry's log");
        assert_eq!(files_containing(&env.path().join("cache"), secret), Vec::<String>::new(), "a password was cached");
    }

    // The cache, altered.
    let registry_cache = env.path().join("cache/ork/registry");
    let katalog = std::fs::read(dir.join("katalog.yaml")).unwrap();
    let katalog_digest = format!("sha256:{}", sha256_hex(&katalog));
    let unpacked: Vec<String> = tree(&registry_cache).into_keys().filter(|p| p.ends_with("/katalog.yaml")).collect();
    assert!(!unpacked.is_empty(), "no unpacked katalog.yaml in the cache: {:?}", tree(&registry_cache).keys().collect::<Vec<_>>());
    let blob: Vec<String> = tree(&registry_cache).into_keys().filter(|p| p.contains(katalog_digest.trim_start_matches("sha256:"))).collect();
    assert_eq!(blob.len(), 1, "the katalog.yaml blob in the cache: {blob:?}");
    let altered = |rel: &str| {
        let p = registry_cache.join(rel);
        let mut b = std::fs::read(&p).unwrap();
        b.extend_from_slice(b"# altered in the cache\n");
        std::fs::write(&p, b).unwrap();
    };
    for rel in &unpacked {
        altered(rel);
    }
    let r = env.ork(&["validate", "--offline", "-f", "komposer.yaml"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    for rel in &unpacked {
        assert_eq!(std::fs::read(registry_cache.join(rel)).unwrap(), katalog, "{rel} was not restored from its verified blob");
    }
    for rel in unpacked.iter().chain(&blob) {
        altered(rel);
    }
    let r = env.ork(&["validate", "--offline", "-f", "komposer.yaml"], &[]);
    assert_eq!(r.code, 1, "an altered cache was used: {}", show(&r));
    assert!(r.stderr.contains("komposer.yaml:7") && r.stderr.contains("digest mismatch"), "{}", show(&r));
}

/// A Motif pushed on its own (its own artifact type) is imported by a Katalog as `oci://`:
/// validate and simulate resolve it, and the Katalog pushes and pulls with that import.
#[test]
fn a_motif_pushed_alone_is_imported_by_oci_reference() {
    let reg = Registry::plain();
    let env = Env::new("oci-motif");
    let pattern = demo("motif-cache");
    let motif = format!("{}/motifs/cache:v1", reg.host());
    push(&env, &pattern.join("motifs/cache"), &motif, &["--insecure-http"], &[]);
    let m = reg.skopeo_raw_manifest("motifs/cache:v1");
    assert_eq!(m["config"]["mediaType"], "application/vnd.orkestra.motif.v1+tar+gzip", "{m}");
    assert_eq!(m["config"]["digest"], EMPTY_CONFIG);
    assert_eq!(m["layers"][0]["mediaType"], "application/vnd.orkestra.motif.v1+yaml", "{m}");
    assert_eq!(m["annotations"]["io.orkestra.pattern.kind"], "Motif", "{m}");

    let src = env.work().join("shop");
    copy_tree(&pattern, &src);
    std::fs::remove_dir_all(src.join("motifs")).unwrap();
    let k = std::fs::read_to_string(src.join("katalog.yaml")).unwrap();
    assert!(k.contains("motif: ./motifs/cache/motif.yaml"), "the demo's shape changed:\n{k}");
    std::fs::write(src.join("katalog.yaml"), k.replace("motif: ./motifs/cache/motif.yaml", &format!("motif: oci://{motif}"))).unwrap();
    let r = env.ork(&["validate", "--insecure-http", "-f", "shop/katalog.yaml"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    let r = env.ork(&["simulate", "--insecure-http", "shop/simulate.yaml"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(r.stdout.contains("books-cache-metrics") && r.stdout.contains("PASS"), "{}", show(&r));
    let shop = format!("{}/team/shop:v1", reg.host());
    push(&env, &src, &shop, &["--insecure-http"], &[]);
    let r = env.ork(&["pull", &shop, "-o", "pulled", "--insecure-http"], &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert_eq!(tree(&env.work().join("pulled")), tree(&src));
    // A local import that leaves the pattern directory is refused by push.
    let outside = env.work().join("outside");
    copy_tree(&pattern, &outside.join("p"));
    std::fs::rename(outside.join("p/motifs"), outside.join("motifs")).unwrap();
    let k = std::fs::read_to_string(outside.join("p/katalog.yaml")).unwrap();
    std::fs::write(outside.join("p/katalog.yaml"), k.replace("motif: ./motifs/cache/motif.yaml", "motif: ../motifs/cache/motif.yaml")).unwrap();
    let r = env.ork(&["push", outside.join("p").to_str().unwrap(), &format!("{}/team/outside:v1", reg.host()), "--insecure-http", "--no-e2e"], &[]);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stderr.contains("outside the pattern root"), "{}", show(&r));
    assert_eq!(env.ork(&["inspect", &format!("{}/team/outside:v1", reg.host()), "--insecure-http"], &[]).code, 2, "it was pushed");
}
