//! Defect 13: `include:`, Motif and Komposer imports, `crdFile` and `crFiles` read any file the
//! document named (`/etc/passwd`, `../x`), copied it into the bundle's ConfigMap and echoed it in
//! errors. They are now confined to the pattern root — the directory of the file given to the
//! command — after symlinks and `..` are resolved, and refused before the file is opened, unless
//! `--allow-outside-root` is passed. The op-rule includes of a simulate.yaml and the expectation
//! includes and imports of an e2e.yaml are loaded the same way, under the same rule.

use ork_tests::{TempDir, ork};
use std::path::{Path, PathBuf};

const HEAD: &str = "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: t}\n";
const CRD: &str = "spec:\n  crds:\n    app:\n      apiTypes: {group: t.ork.dev, version: v1, kind: App, plural: apps}\n";
/// A profiles file whose profile name marks its content: it must not show up in any output
/// unless the file was allowed.
const PROFILES: &str = "profiles:\n  resources:\n    - {name: leaked-7f3a, requests: {cpu: \"2\"}}\n";

fn canonical(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The lines of /etc/passwd, which must appear nowhere in ork's output.
fn passwd_lines() -> Vec<String> {
    let text = std::fs::read_to_string("/etc/passwd").unwrap_or_else(|e| panic!("this test reads /etc/passwd to check it is not leaked: {e}"));
    let lines: Vec<String> = text.lines().map(str::trim).filter(|l| l.len() >= 8).map(str::to_string).collect();
    assert!(!lines.is_empty(), "/etc/passwd has no lines to look for");
    lines
}

#[test]
fn includes_outside_the_pattern_root_are_refused_before_reading() {
    let t = TempDir::new("outside-root");
    t.write("outside/profiles.yaml", PROFILES);
    let pat = t.path().join("pat");
    std::fs::create_dir_all(&pat).unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink(t.path().join("outside/profiles.yaml"), pat.join("link.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let root = canonical(&pat);
    let outside_abs = t.path().join("outside/profiles.yaml");
    let outside_abs = outside_abs.to_str().unwrap_or_default();
    let linked = canonical(&t.path().join("outside/profiles.yaml"));
    let secrets = passwd_lines();
    // (include as written, how the message names it)
    let cases = [
        ("/etc/passwd", "include /etc/passwd ".to_string()),
        ("../outside/profiles.yaml", "include ../outside/profiles.yaml ".to_string()),
        (outside_abs, format!("include {outside_abs} ")),
        ("./link.yaml", format!("include link.yaml (resolves to {}) ", linked.display())),
    ];
    for (include, named) in cases {
        t.write("pat/katalog.yaml", &format!("{HEAD}profiles: {{include: {include}}}\n{CRD}"));
        for args in [&["validate"][..], &["generate", "bundle"][..], &["generate", "crd"][..]] {
            let r = ork(&pat, args);
            assert_eq!(r.code, 1, "ork {args:?} with include {include}: {}\n{}", r.stdout, r.stderr);
            let want = format!("katalog.yaml:4:21: error[outside-root]: {named}is outside the pattern root {}; it was not read", root.display());
            assert!(r.stderr.contains(&want), "ork {args:?} with include {include}: want {want:?} in\n{}", r.stderr);
            assert!(r.stderr.contains("or pass --allow-outside-root if you trust this pattern"), "{}", r.stderr);
            let all = format!("{}{}", r.stdout, r.stderr);
            assert!(!all.contains("leaked-7f3a"), "ork {args:?}: the outside file's content leaked:\n{all}");
            for line in &secrets {
                assert!(!all.contains(line.as_str()), "ork {args:?}: /etc/passwd leaked ({line:?}):\n{all}");
            }
        }
        // The opt-out reads the file: its content reaches the bundle's Katalog ConfigMap.
        let r = ork(&pat, &["generate", "bundle", "--allow-outside-root"]);
        if include == "/etc/passwd" {
            assert_eq!(r.code, 1, "{}", r.stderr);
            assert!(r.stderr.contains("/etc/passwd:1:1: error[wrong-type]: included file must be an object"), "{}", r.stderr);
            assert!(!r.stderr.contains("outside-root"), "{}", r.stderr);
        } else {
            assert_eq!(r.code, 0, "include {include} --allow-outside-root: {}", r.stderr);
            assert!(r.stdout.contains("leaked-7f3a"), "include {include}: the allowed file was not loaded:\n{}", r.stdout);
        }
    }
}

#[test]
fn motifs_komposer_imports_crd_files_and_cr_files_outside_the_root_are_refused() {
    let t = TempDir::new("outside-refs");
    t.write(
        "outside/motif.yaml",
        "apiVersion: orkestra.orkspace.io/v1\nkind: Motif\nmetadata: {name: m}\nresources:\n  configMaps:\n    - {name: \"{{ .metadata.name }}-m\", data: {k: v}}\n",
    );
    t.write("outside/katalog.yaml", &format!("{HEAD}{CRD}"));
    t.write(
        "outside/crd.yaml",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: apps.t.ork.dev}\nspec:\n  group: t.ork.dev\n  scope: Namespaced\n  names: {kind: App, plural: apps}\n  versions: [{name: v1, served: true, storage: true}]\n",
    );
    t.write("outside/cr.yaml", "apiVersion: t.ork.dev/v1\nkind: App\nmetadata: {name: a, namespace: default}\n");
    t.write("pat/cr.yaml", "apiVersion: t.ork.dev/v1\nkind: App\nmetadata: {name: b, namespace: default}\n");
    let pat = t.path().join("pat");
    let root = canonical(&pat);
    let files = [
        (
            "katalog.yaml",
            format!("{HEAD}{CRD}      operatorBox:\n        reconcile:\n          imports: [{{motif: ../outside/motif.yaml}}]\n"),
            "katalog.yaml:10:29: error[outside-root]: motif ../outside/motif.yaml is outside the pattern root",
        ),
        (
            "komposer.yaml",
            "apiVersion: orkestra.orkspace.io/v1\nkind: Komposer\nmetadata: {name: k}\nimports:\n  files: [../outside/katalog.yaml]\n".to_string(),
            "komposer.yaml:5:11: error[outside-root]: Komposer import ../outside/katalog.yaml is outside the pattern root",
        ),
        (
            "katalog.yaml",
            format!("{HEAD}spec:\n  crds:\n    app:\n      crdFile: ../outside/crd.yaml\n"),
            "katalog.yaml:7:16: error[outside-root]: crdFile ../outside/crd.yaml is outside the pattern root",
        ),
        (
            "katalog.yaml",
            format!("{HEAD}{CRD}      crFiles: [./cr.yaml, ../outside/cr.yaml]\n"),
            "katalog.yaml:8:28: error[outside-root]: crFiles entry ../outside/cr.yaml is outside the pattern root",
        ),
    ];
    for (file, text, want) in files {
        t.write(&format!("pat/{file}"), &text);
        let r = ork(&pat, &["validate", "-f", file]);
        assert_eq!(r.code, 1, "{file}:\n{text}\n{}", r.stderr);
        assert!(r.stderr.contains(want), "want {want:?} in\n{}", r.stderr);
        assert!(r.stderr.contains(&format!("outside the pattern root {}; it was not read", root.display())), "{}", r.stderr);
        assert_eq!(r.stderr.matches("error[").count(), 1, "one finding, no follow-on errors:\n{}", r.stderr);
        let r = ork(&pat, &["validate", "-f", file, "--allow-outside-root"]);
        assert_eq!(r.code, 0, "{file} with --allow-outside-root:\n{text}\n{}", r.stderr);
        std::fs::remove_file(pat.join(file)).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn nested_komposer_imports_and_includes_inside_the_root_still_load() {
    let t = TempDir::new("inside-root");
    t.write("shared/rules.yaml", "rules:\n  - {field: spec.size, in: \"s,m\", message: size must be s or m}\n");
    t.write("katalogs/x/profiles.yaml", PROFILES);
    t.write(
        "katalogs/x/crds/app.yaml",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: apps.t.ork.dev}\nspec:\n  group: t.ork.dev\n  scope: Namespaced\n  names: {kind: App, plural: apps}\n  versions: [{name: v1, served: true, storage: true}]\n",
    );
    t.write(
        "katalogs/x/katalog.yaml",
        &format!(
            "{HEAD}profiles: {{include: ./profiles.yaml}}\nspec:\n  crds:\n    app:\n      crdFile: ./crds/app.yaml\n      admission:\n        validation: {{include: ../../shared/rules.yaml}}\n      operatorBox:\n        reconcile:\n          onCreate:\n            deployments: [{{image: nginx, resources: {{profile: leaked-7f3a}}}}]\n"
        ),
    );
    t.write("komposer.yaml", "apiVersion: orkestra.orkspace.io/v1\nkind: Komposer\nmetadata: {name: k}\nimports:\n  files: [./katalogs/x/katalog.yaml]\n");
    let r = ork(t.path(), &["validate", "-f", "komposer.yaml", "--output", "json"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout));
    assert_eq!(v["crds"][0]["validation_rules"], 1, "{v}");
    assert_eq!(v["crds"][0]["plural"], "apps", "the crdFile was read: {v}");
    let r = ork(t.path(), &["generate", "bundle", "-f", "komposer.yaml"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("leaked-7f3a") && r.stdout.contains("size must be s or m"), "{}", r.stdout);
    // On its own, the imported Katalog's root is katalogs/x: the shared rules are outside it.
    let r = ork(t.path(), &["validate", "-f", "katalogs/x/katalog.yaml"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("error[outside-root]: include shared/rules.yaml is outside the pattern root"), "{}", r.stderr);
}

/// A scratch pattern for Simulate and E2E documents: `pat/` holds a one-CRD Katalog and its CR;
/// `outside/` (next to it) holds an ops file and an expectations file whose content is marked.
fn documents_pattern(tag: &str) -> (TempDir, PathBuf, PathBuf) {
    let t = TempDir::new(tag);
    t.write("pat/katalog.yaml", &format!("{HEAD}{CRD}"));
    t.write("pat/cr.yaml", "apiVersion: t.ork.dev/v1\nkind: App\nmetadata: {name: b, namespace: default}\n");
    t.write("outside/ops.yaml", "ops:\n  - {verb: delete, resource: deployments, name: leaked-7f3a}\n");
    t.write("outside/expect.yaml", "- {name: leaked-7f3a, after: cr-applied, resources: [{kind: App, name: b}]}\n");
    t.write(
        "outside/other-e2e.yaml",
        "apiVersion: orkestra.orkspace.io/v1\nkind: E2E\nmetadata: {name: leaked-7f3a}\nspec: {katalog: ./k.yaml, cr: ./cr.yaml, expect: [{name: x, resources: [{kind: App}]}]}\n",
    );
    let pat = t.path().join("pat");
    let root = canonical(&pat);
    (t, pat, root)
}

/// Asserts that `ork args` (run in `dir`) refused the outside file with exit code 1 and the
/// `outside-root` finding `want`, and leaked none of its content.
fn refused(dir: &Path, args: &[&str], want: &str, root: &Path) {
    let r = ork(dir, args);
    assert_eq!(r.code, 1, "ork {args:?}: {}\n{}", r.stdout, r.stderr);
    let want = format!("{want} is outside the pattern root {}; it was not read", root.display());
    assert!(r.stderr.contains(&want), "ork {args:?}: want {want:?} in\n{}", r.stderr);
    assert!(r.stderr.contains("or pass --allow-outside-root if you trust this pattern"), "{}", r.stderr);
    assert_eq!(r.stderr.matches("error[").count(), 1, "ork {args:?}: one finding, no follow-on errors:\n{}", r.stderr);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(!all.contains("leaked-7f3a"), "ork {args:?}: the outside file's content leaked:\n{all}");
}

#[test]
fn simulate_op_rule_includes_outside_the_root_are_refused() {
    let (_t, pat, root) = documents_pattern("outside-simulate");
    std::fs::write(
        pat.join("simulate.yaml"),
        "apiVersion: orkestra.orkspace.io/v1\nkind: Simulate\nmetadata: {name: s}\nspec:\n  katalog: ./katalog.yaml\n  cr: ./cr.yaml\n  expect:\n    absent:\n      - include: ../outside/ops.yaml\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let want = "simulate.yaml:9:18: error[outside-root]: include ../outside/ops.yaml";
    for args in [&["simulate", "simulate.yaml"][..], &["validate", "-f", "simulate.yaml"][..]] {
        refused(&pat, args, want, &root);
    }
    // The opt-out reads the file: its rule is checked (and holds: nothing is deleted).
    let r = ork(&pat, &["simulate", "simulate.yaml", "--allow-outside-root", "--output", "json"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("leaked-7f3a"), "the allowed file was not loaded:\n{}", r.stdout);
    let r = ork(&pat, &["validate", "-f", "simulate.yaml", "--allow-outside-root"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
}

#[test]
fn e2e_expectation_includes_and_imports_outside_the_root_are_refused_before_any_cluster_starts() {
    let (_t, pat, root) = documents_pattern("outside-e2e");
    let head = "apiVersion: orkestra.orkspace.io/v1\nkind: E2E\nmetadata: {name: e}\n";
    let cases = [
        (
            format!("{head}spec:\n  katalog: ./katalog.yaml\n  cr: ./cr.yaml\n  expect:\n    - include: ../outside/expect.yaml\n"),
            "e2e.yaml:8:16: error[outside-root]: include ../outside/expect.yaml",
        ),
        (format!("{head}imports: [../outside/other-e2e.yaml]\n"), "e2e.yaml:4:11: error[outside-root]: E2E import ../outside/other-e2e.yaml"),
    ];
    for (text, want) in &cases {
        std::fs::write(pat.join("e2e.yaml"), text).unwrap_or_else(|e| panic!("{e}"));
        // `ork e2e` loads and validates the document before it starts a cluster: it stops at
        // the refusal.
        for args in [&["validate", "-f", "e2e.yaml"][..], &["e2e", "-f", "e2e.yaml"][..]] {
            refused(&pat, args, want, &root);
        }
        let r = ork(&pat, &["validate", "-f", "e2e.yaml", "--allow-outside-root"]);
        assert_eq!(r.code, 0, "{text}\n{}\n{}", r.stdout, r.stderr);
    }
    // Allowed, the included expectation is part of the document.
    std::fs::write(pat.join("e2e.yaml"), &cases[0].0).unwrap_or_else(|e| panic!("{e}"));
    let r = ork(&pat, &["validate", "-f", "e2e.yaml", "--allow-outside-root", "--output", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout));
    assert_eq!(v["expectations"], 1, "{v}");
}

#[test]
fn simulate_and_e2e_includes_inside_the_root_still_expand() {
    let t = TempDir::new("inside-documents");
    t.write("katalog.yaml", &format!("{HEAD}{CRD}"));
    t.write("cr.yaml", "apiVersion: t.ork.dev/v1\nkind: App\nmetadata: {name: b, namespace: default}\n");
    t.write("checks/ops.yaml", "ops:\n  - {verb: delete, resource: deployments}\n");
    t.write("checks/expect.yaml", "- include: ./more.yaml\n- {name: one, resources: [{kind: App, name: b}]}\n");
    t.write("checks/more.yaml", "- {name: two, resources: [{kind: App, name: b}]}\n");
    t.write(
        "simulate.yaml",
        "apiVersion: orkestra.orkspace.io/v1\nkind: Simulate\nmetadata: {name: s}\nspec:\n  katalog: ./katalog.yaml\n  cr: ./cr.yaml\n  expect:\n    absent: [{include: ./checks/ops.yaml}]\n",
    );
    t.write(
        "e2e.yaml",
        "apiVersion: orkestra.orkspace.io/v1\nkind: E2E\nmetadata: {name: e}\nspec:\n  katalog: ./katalog.yaml\n  cr: ./cr.yaml\n  expect: [{include: ./checks/expect.yaml}]\n",
    );
    let r = ork(t.path(), &["simulate", "simulate.yaml"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    for (file, key, n) in [("simulate.yaml", "opRules", 1), ("e2e.yaml", "expectations", 2)] {
        let r = ork(t.path(), &["validate", "-f", file, "--output", "json"]);
        assert_eq!(r.code, 0, "{file}: {}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout));
        assert_eq!(v[key], n, "{file}: {v}");
    }
}
