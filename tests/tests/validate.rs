//! `ork validate` against the demos (must pass) and the invalid fixtures (must fail with the
//! messages in each fixture's `expected.stderr`, checked by hand; `ORK_BLESS=1` rewrites them).

mod pattern_root;

use ork_tests::{Bounds, TempDir, demo_katalogs, ork, ork_bounded, root};
use std::path::Path;

#[test]
fn every_demo_validates() {
    let demos = demo_katalogs();
    assert!(!demos.is_empty(), "no demos found under demos/");
    for k in demos {
        let dir = k.parent().unwrap_or(Path::new("."));
        let file = k.file_name().and_then(|f| f.to_str()).unwrap_or_default();
        let r = ork(dir, &["validate", "-f", file]);
        assert_eq!(r.code, 0, "{} failed:\n{}\n{}", k.display(), r.stdout, r.stderr);
        assert!(!r.stderr.contains("error["), "{}: {}", k.display(), r.stderr);
        assert!(r.stdout.contains("✓ valid"), "{}: {}", k.display(), r.stdout);
    }
}

#[test]
fn invalid_fixtures_fail_with_the_expected_messages() {
    let base = root().join("tests/fixtures/invalid");
    let mut dirs: Vec<_> = std::fs::read_dir(&base).unwrap_or_else(|e| panic!("{e}")).filter_map(Result::ok).map(|e| e.path()).collect();
    dirs.sort();
    assert!(dirs.len() >= 20, "expected the full fixture set, found {}", dirs.len());
    let bless = std::env::var_os("ORK_BLESS").is_some();
    let mut failures = Vec::new();
    for dir in dirs {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        let file = if dir.join("komposer.yaml").exists() { "komposer.yaml" } else { "katalog.yaml" };
        let r = ork(&base, &["validate", "-f", &format!("{name}/{file}")]);
        if r.code != 1 {
            failures.push(format!("{name}: exit {} (want 1)\n{}", r.code, r.stderr));
        }
        let expected_path = dir.join("expected.stderr");
        if bless {
            std::fs::write(&expected_path, &r.stderr).unwrap_or_else(|e| panic!("{e}"));
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != r.stderr {
            failures.push(format!("{name}: stderr differs\n--- expected\n{expected}+++ actual\n{}", r.stderr));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn json_output_is_stable_and_machine_readable() {
    let base = root().join("tests/fixtures/invalid");
    let r = ork(&base, &["validate", "-f", "typos-at-depth/katalog.yaml", "--output", "json"]);
    assert_eq!(r.code, 1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout));
    assert_eq!(v["schemaVersion"], 1);
    assert_eq!(v["valid"], false);
    assert_eq!(v["errors"], 4);
    let d = &v["diagnostics"][2];
    assert_eq!(d["code"], "unknown-field");
    assert_eq!(d["line"], 15);
    assert_eq!(d["column"], 17);
    assert_eq!(d["path"], "spec.crds.thing.operatorBox.reconcile.onCreate.deployments[0].imagee");
    assert_eq!(d["help"], "did you mean `image`?");
}

#[test]
fn missing_file_exits_2() {
    let t = TempDir::new("missing");
    let r = ork(t.path(), &["validate", "-f", "nope.yaml"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("nope.yaml: file not found"), "{}", r.stderr);
    // No -f and no katalog.yaml / komposer.yaml in the directory.
    let r = ork(t.path(), &["validate"]);
    assert_eq!(r.code, 2);
}

#[test]
fn binary_garbage_is_rejected_without_panic() {
    let t = TempDir::new("garbage");
    let bytes: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    std::fs::write(t.path().join("katalog.yaml"), bytes).unwrap_or_else(|e| panic!("{e}"));
    let r = ork(t.path(), &["validate"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("error[invalid-yaml]"), "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"));
}

/// Generous for `ork validate` (a few MiB of its own), far below what an unbounded read or
/// expansion takes; a regression aborts at the cap instead of exhausting the machine.
const BOUNDS: Bounds = Bounds { address_space: 2 << 30, timeout_secs: 60 };

/// Defect 2 (a): one 4 MiB string anchored once and aliased 2,000 times is only 2,000 nodes, so
/// the node cap let it through and the tree took over 5 GiB. The expanded text is capped too.
#[test]
fn alias_bomb_of_long_strings_is_refused_in_bounded_memory() {
    let t = TempDir::new("bytes-bomb");
    let big = "a".repeat(4 * 1024 * 1024);
    let refs = "  - *s\n".repeat(2000);
    t.write("katalog.yaml", &format!("apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: bomb}}\nbig: &s {big}\nrefs:\n{refs}"));
    let (r, peak_kib) = ork_bounded(t.path(), &["validate", "-f", "katalog.yaml"], BOUNDS);
    assert_eq!(r.code, 1, "{}", r.stderr);
    // The anchor and three copies (16 MiB) plus the 67 bytes of the other keys and values pass
    // the cap at the third alias, line 5 + 3.
    assert!(
        r.stderr.contains("katalog.yaml:8:5: error[input-too-large]: document expands to more than 16777216 bytes of text (YAML aliases included"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("help: an alias copies everything under its anchor"), "{}", r.stderr);
    assert!(peak_kib < 100 * 1024, "peak RSS of `ork validate` was {} MiB (limit 100 MiB)", peak_kib / 1024);
}

/// Defect 2 (b): `/dev/zero` has length 0 by its metadata and never ends; a FIFO blocks the
/// reader until someone writes. Neither is a regular file: refused before reading, exit 2,
/// wherever ork reads a file.
#[test]
fn devices_and_fifos_are_refused_before_reading() {
    let t = TempDir::new("devzero");
    let r = ork_bounded(t.path(), &["validate", "-f", "/dev/zero"], BOUNDS).0;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("error[not-a-file]: /dev/zero is a character device, not a regular file; ork reads only regular files"), "{}", r.stderr);
    let fifo = t.path().join("katalog.yaml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(matches!(made, Ok(s) if s.success()), "mkfifo (coreutils) failed: {made:?}");
    let r = ork_bounded(t.path(), &["validate"], Bounds { timeout_secs: 20, ..BOUNDS }).0;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("katalog.yaml is a FIFO (named pipe), not a regular file"), "{}", r.stderr);

    // An include of a device: outside the pattern root, so refused unopened; allowed, it is
    // still refused before reading (an error in the Katalog: exit 1).
    t.write("inc/katalog.yaml", "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: t}\nprofiles: {include: /dev/zero}\nspec: {crds: {}}\n");
    let dir = t.path().join("inc");
    let r = ork_bounded(&dir, &["validate"], BOUNDS).0;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("katalog.yaml:4:21: error[outside-root]: include /dev/zero is outside the pattern root"), "{}", r.stderr);
    let r = ork_bounded(&dir, &["validate", "--allow-outside-root"], BOUNDS).0;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("katalog.yaml:4:21: error[not-a-file]: /dev/zero is a character device, not a regular file"), "{}", r.stderr);

    let demo = root().join("demos/beginner/hello-website");
    let katalog = demo.join("katalog.yaml");
    let katalog = katalog.to_str().unwrap_or_default();
    let cases: [&[&str]; 5] = [
        &["template", "-f", katalog, "--cr", "/dev/zero"],
        &["template", "-f", katalog, "--children", "/dev/zero"],
        &["diff", "/dev/zero", katalog],
        &["plan", "-f", katalog, "--bundle", "/dev/zero"],
        &["e2e", "-f", "e2e.yaml", "--bundle", "/dev/zero"],
    ];
    for args in cases {
        let dir = if args[0] == "e2e" { demo.as_path() } else { t.path() };
        let r = ork_bounded(dir, args, BOUNDS).0;
        assert_eq!(r.code, 2, "ork {args:?}: {}", r.stderr);
        assert!(r.stderr.contains("/dev/zero") && r.stderr.contains("not a regular file"), "ork {args:?}: {}", r.stderr);
    }
}

#[test]
fn oversized_file_is_rejected_fast_by_the_cap() {
    let t = TempDir::new("big");
    let f = std::fs::File::create(t.path().join("katalog.yaml")).unwrap_or_else(|e| panic!("{e}"));
    f.set_len(100 * 1024 * 1024).unwrap_or_else(|e| panic!("{e}"));
    let start = std::time::Instant::now();
    let r = ork(t.path(), &["validate"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("error[input-too-large]"), "{}", r.stderr);
    assert!(r.stderr.contains("the limit is 8388608 bytes"), "{}", r.stderr);
    // Reading stops at the cap plus one byte: well under a second even on a slow machine.
    assert!(start.elapsed().as_secs() < 5, "took {:?}", start.elapsed());
}

#[test]
fn warnings_alone_pass_and_name_unsupported_fields() {
    let t = TempDir::new("warn");
    t.write(
        "katalog.yaml",
        "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: w}\nnotification: {enabled: true}\nspec:\n  crds:\n    thing:\n      apiTypes: {group: t.ork.dev, version: v1, kind: Thing, plural: things}\n",
    );
    let r = ork(t.path(), &["validate"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("warning[not-supported-yet]: `notification` is parsed but not supported yet"), "{}", r.stderr);
}

#[test]
fn includes_motifs_and_komposers_expand() {
    let t = TempDir::new("expand");
    t.write("profiles.yaml", "profiles:\n  resources:\n    - {name: gpu, requests: {cpu: \"2\"}, limits: {cpu: \"4\"}}\n");
    t.write("rules.yaml", "rules:\n  - {field: spec.size, in: \"s,m\", message: size must be s or m}\n");
    t.write(
        "motif.yaml",
        "apiVersion: orkestra.orkspace.io/v1\nkind: Motif\nmetadata: {name: cache}\ninputs:\n  - {name: image, required: true}\n  - {name: metrics, type: bool, default: \"false\"}\nresources:\n  services:\n    - {name: \"{{ .metadata.name }}-cache\", port: \"6379\"}\n    - name: \"{{ .metadata.name }}-metrics\"\n      port: \"9121\"\n      when: [{field: \"{{ inputs.metrics }}\", equals: \"true\"}]\n  deployments:\n    - {name: \"{{ .metadata.name }}-cache\", image: \"{{ .inputs.image }}\"}\n",
    );
    t.write(
        "katalog.yaml",
        "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: app}\nprofiles: {include: ./profiles.yaml}\nspec:\n  crds:\n    app:\n      apiTypes: {group: t.ork.dev, version: v1, kind: App, plural: apps}\n      admission:\n        validation: {include: ./rules.yaml}\n      operatorBox:\n        reconcile:\n          imports: [{motif: ./motif.yaml, with: {image: redis:7}}]\n          onCreate:\n            deployments: [{image: nginx, resources: {profile: gpu}}]\n",
    );
    t.write(
        "komposer.yaml",
        "apiVersion: orkestra.orkspace.io/v1\nkind: Komposer\nmetadata: {name: platform}\nimports:\n  files: [./katalog.yaml]\nspec:\n  crds:\n    app: {operatorBox: {reconcile: {workers: 4}}}\n",
    );
    let r = ork(t.path(), &["validate", "-f", "katalog.yaml", "--output", "json"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}"));
    let app = &v["crds"][0];
    assert_eq!(app["validationRules"], serde_json::Value::Null, "field names are snake_case in JSON v1: {app}");
    assert_eq!(app["validation_rules"], 1, "{app}");
    // 1 own deployment + motif deployment + cache service (the metrics service is decided away).
    assert_eq!(app["children"], 3, "{app}");
    let r = ork(t.path(), &["validate", "-f", "komposer.yaml"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("Komposer platform"), "{}", r.stdout);
}
