//! `ork template` and `ork generate crd` against the demos: golden output (reviewed by hand),
//! Kubernetes schema validation with the real `kubernetes-validate`, determinism, and bad input.
#![allow(clippy::expect_used)]

use ork_tests::{TempDir, demo_katalogs, kubernetes_validate, ork, root};
use std::path::{Path, PathBuf};

const NOW: &str = "2026-11-22T10:00:00Z";

/// Demos that come with a `cr.yaml` to render.
fn renderable() -> Vec<(String, PathBuf)> {
    demo_katalogs()
        .into_iter()
        .filter(|p| p.with_file_name("cr.yaml").exists())
        .map(|p| {
            let name = p.parent().and_then(|d| d.file_name()).and_then(|n| n.to_str()).unwrap_or_default().to_string();
            (name, p)
        })
        .collect()
}

fn template(katalog: &Path, extra: &[&str]) -> ork_tests::Run {
    let file = katalog.to_string_lossy().into_owned();
    let mut args = vec!["template", "-f", file.as_str(), "--now", NOW];
    args.extend_from_slice(extra);
    ork(&root(), &args)
}

#[test]
fn every_demo_renders_as_reviewed() {
    let demos = renderable();
    assert!(demos.len() >= 9, "expected every demo with a cr.yaml, found {}", demos.len());
    for (name, katalog) in demos {
        let run = template(&katalog, &["--status"]);
        let text = format!("exit: {}\n--- stderr\n{}--- stdout\n{}", run.code, run.stderr, run.stdout);
        insta::with_settings!({snapshot_path => "snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(format!("template-{name}"), text);
        });
    }
}

#[test]
fn every_demo_crd_generates_as_reviewed() {
    for (name, katalog) in renderable() {
        let run = ork(&root(), &["generate", "crd", "-f", &katalog.to_string_lossy()]);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        insta::with_settings!({snapshot_path => "snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(format!("crd-{name}"), run.stdout);
        });
    }
}

#[test]
fn every_rendered_manifest_passes_kubernetes_validate() {
    let dir = TempDir::new("kv");
    let mut files = Vec::new();
    let mut expected = 0;
    for (name, katalog) in renderable() {
        let run = template(&katalog, &[]);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        expected += run.stdout.matches("\nkind: ").count();
        files.push(dir.write(&format!("{name}.yaml"), &run.stdout));
        let crd = ork(&root(), &["generate", "crd", "-f", &katalog.to_string_lossy()]);
        assert_eq!(crd.code, 0, "{name}: {}", crd.stderr);
        expected += crd.stdout.matches("\nkind: ").count();
        files.push(dir.write(&format!("{name}-crd.yaml"), &crd.stdout));
    }
    assert!(expected > 30, "too few manifests rendered: {expected}");
    kubernetes_validate(&files, expected);
}

#[test]
fn output_is_byte_identical_across_runs() {
    for (name, katalog) in renderable() {
        let first = template(&katalog, &["--status"]);
        for _ in 0..19 {
            let again = template(&katalog, &["--status"]);
            assert_eq!(again.stdout, first.stdout, "{name}: output changed between runs");
            assert_eq!(again.stderr, first.stderr, "{name}: diagnostics changed between runs");
        }
    }
}

#[test]
fn for_each_over_a_map_follows_sorted_keys() {
    let katalog = root().join("demos/intermediate/team-spaces/katalog.yaml");
    let run = template(&katalog, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let names: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("  name: payments-")).collect();
    assert_eq!(
        names,
        [
            "  name: payments-dev",
            "  name: payments-production",
            "  name: payments-staging",
            "  name: payments-alice-example-com",
            "  name: payments-bob-example-com",
            "  name: payments-isolation"
        ]
    );
}

/// A one-CRD Katalog whose deployment templates are `fields`, rendered for `spec`.
fn scratch(fields: &str, spec: &str) -> (TempDir, ork_tests::Run) {
    let dir = TempDir::new("tmpl");
    dir.write(
        "katalog.yaml",
        &format!(
            "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: scratch}}\nspec:\n  crds:\n    web:\n      apiTypes: {{group: x.dev, version: v1, kind: Web, plural: webs}}\n      admission:\n        validation:\n          rules:\n            - {{field: spec.tier, notEquals: forbidden, message: \"tier may not be forbidden\"}}\n            - {{field: spec.tier, notEquals: risky, message: \"risky tier\", action: warn}}\n      operatorBox:\n        reconcile:\n          onCreate:\n            deployments:\n              - image: nginx\n{fields}\n"
        ),
    );
    dir.write("cr.yaml", &format!("apiVersion: x.dev/v1\nkind: Web\nmetadata: {{name: w, namespace: ns}}\nspec: {spec}\n"));
    let run = ork(dir.path(), &["template", "--now", NOW]);
    (dir, run)
}

#[test]
fn a_numeric_field_that_renders_to_text_is_a_clear_error() {
    let (_d, run) = scratch("                replicas: \"{{ .spec.replicas }}\"", "{replicas: abc}");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("crd `web`: onCreate.deployments[0].replicas: `replicas` rendered to \"abc\", which is not an integer"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
}

#[test]
fn a_type_error_at_render_time_names_crd_resource_and_field() {
    let (_d, run) = scratch("                labels: {size: \"{{ add .spec.size 1 }}\"}", "{size: big}");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("crd `web`: onCreate.deployments[0].labels.size: add: \"big\" is not a number"), "{}", run.stderr);
}

#[test]
fn for_each_over_a_non_list_is_an_error() {
    let (_d, run) = scratch("                forEach: {field: spec.name}", "{name: solo}");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("onCreate.deployments[0].forEach: `spec.name` is a string (\"solo\"); forEach needs a list or a map"), "{}", run.stderr);
}

#[test]
fn a_deny_rule_prints_violations_and_fails() {
    let (_d, run) = scratch("                replicas: \"1\"", "{tier: forbidden}");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("error: Web ns/w: deny rule on spec.tier: tier may not be forbidden (got \"forbidden\")"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "no children for a denied CR: {}", run.stdout);
    let (_d, run) = scratch("                replicas: \"1\"", "{tier: risky}");
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("warning: Web ns/w: warn rule on spec.tier: risky tier"), "{}", run.stderr);
    assert!(run.stdout.contains("kind: Deployment"));
}

#[test]
fn a_denied_cr_status_says_why() {
    let (dir, _) = scratch("                replicas: \"1\"", "{tier: forbidden}");
    let run = ork(dir.path(), &["template", "--status", "--now", NOW]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("reason: DenyRuleViolation"), "{}", run.stdout);
    assert!(
        run.stdout.contains("message: \"validation failed: field \\\"spec.tier\\\": tier may not be forbidden (got \\\"forbidden\\\")\""),
        "{}",
        run.stdout
    );
}

#[test]
fn template_syntax_errors_are_load_time_errors_with_positions() {
    for (field, needle) in [
        ("                labels: {a: \"{{ .spec.x \"}", "unclosed action"),
        ("                labels: {a: \"{{ toUper .spec.x }}\"}", "function `toUper` not defined; did you mean `toUpper`?"),
        ("                labels: {a: \"{{ add 1 }}\"}", "wrong number of arguments for `add`: want at least 2, got 1"),
    ] {
        let (dir, run) = scratch(field, "{}");
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stderr.contains(needle), "{}", run.stderr);
        let v = ork(dir.path(), &["validate"]);
        assert_eq!(v.code, 1);
        assert!(v.stderr.contains("katalog.yaml:18:29:") && v.stderr.contains("error[template]"), "{}", v.stderr);
    }
}

#[test]
fn missing_or_mismatched_inputs_are_clear() {
    let (dir, _) = scratch("                replicas: \"1\"", "{}");
    let run = ork(dir.path(), &["template", "--cr", "nope.yaml"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("nope.yaml not found"), "{}", run.stderr);
    dir.write("other.yaml", "apiVersion: x.dev/v1\nkind: Other\nmetadata: {name: o}\n");
    let run = ork(dir.path(), &["template", "--cr", "other.yaml"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("no CRD entry serves x.dev/v1 Other"), "{}", run.stderr);
    let run = ork(dir.path(), &["template", "--crd", "nope"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("--crd nope: no such CRD entry (known: web)"), "{}", run.stderr);
    let run = ork(dir.path(), &["template", "--now", "yesterday"]);
    assert_eq!(run.code, 2);
}

#[test]
fn observed_children_feed_status_templates() {
    let katalog = root().join("demos/beginner/hello-website/katalog.yaml");
    let dir = TempDir::new("children");
    let children = dir.write(
        "children.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: hello-web, namespace: default}\nspec: {replicas: 2}\nstatus: {readyReplicas: 2}\n",
    );
    let run = template(&katalog, &["--status", "--children", &children.to_string_lossy()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("  phase: Available\n") && run.stdout.contains("  readyReplicas: 2\n"), "{}", run.stdout);
    let run = template(&katalog, &["--status"]);
    assert!(run.stdout.contains("  phase: Progressing\n"), "{}", run.stdout);
}

#[test]
fn generate_crd_writes_a_file_and_rejects_unknown_entries() {
    let dir = TempDir::new("gencrd");
    let out = dir.path().join("out/crds.yaml");
    let katalog = root().join("demos/beginner/hello-website/katalog.yaml");
    let run = ork(&root(), &["generate", "crd", "-f", &katalog.to_string_lossy(), "-o", &out.to_string_lossy()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(text.contains("name: websites.demo.ork.dev") && text.contains("status: {}"), "{text}");
    let run = ork(&root(), &["generate", "crd", "-f", &katalog.to_string_lossy(), "--crd", "nope"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("no such enabled CRD entry (known: website)"), "{}", run.stderr);
}

/// The hello-website demo in a scratch directory, its CR renamed to `name`.
fn demo_named(name: &str) -> TempDir {
    let dir = TempDir::new("names");
    let demo = root().join("demos/beginner/hello-website");
    for f in ["katalog.yaml", "simulate.yaml"] {
        dir.write(f, &std::fs::read_to_string(demo.join(f)).unwrap_or_else(|e| panic!("{e}")));
    }
    dir.write("cr.yaml", &format!("apiVersion: demo.ork.dev/v1\nkind: Website\nmetadata:\n  name: {name}\n  namespace: default\nspec:\n  replicas: 1\n"));
    dir
}

/// A one-CRD Katalog whose CR (named `name`) renders `children` (an onCreate block).
fn named_scratch(name: &str, children: &str) -> (TempDir, ork_tests::Run) {
    let dir = TempDir::new("names");
    dir.write(
        "katalog.yaml",
        &format!("apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: scratch}}\nspec:\n  crds:\n    web:\n      apiTypes: {{group: x.dev, version: v1, kind: Web, plural: webs}}\n      operatorBox:\n        reconcile:\n          onCreate:\n{children}\n"),
    );
    dir.write("cr.yaml", &format!("apiVersion: x.dev/v1\nkind: Web\nmetadata: {{name: {name}, namespace: ns}}\n"));
    let run = ork(dir.path(), &["template", "--now", NOW]);
    (dir, run)
}

/// Defect 8: a 70-character CR name rendered a 70-character Service name and label values and
/// `ork template` exited 0; the API server refuses both. Now template and simulate refuse it,
/// naming the CRD entry, the child entry and the API server's rule.
#[test]
fn a_seventy_character_name_is_refused_by_template_and_simulate() {
    let long = "a".repeat(70);
    let (_d, run) = named_scratch(&long, "            services:\n              - {name: \"{{ .metadata.name }}\", port: \"80\"}");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.is_empty(), "nothing is rendered: {}", run.stdout);
    let want = format!(
        "crd `web`: onCreate.services[0]: the rendered Service \"{long}\" would be refused by the API server: metadata.name: Invalid value: \"{long}\": must be no more than 63 characters (Service names must be an RFC 1035 label); fix the entry's templates or the CR"
    );
    assert!(run.stderr.contains(&want), "want {want:?} in\n{}", run.stderr);

    // The demo: its `app: {{ .metadata.name }}` label is the first thing refused.
    let dir = demo_named(&long);
    let run = ork(dir.path(), &["template", "--now", NOW]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let want = format!(
        "crd `website`: onCreate.deployments[0]: the rendered Deployment \"{long}-web\" would be refused by the API server: metadata.labels: Invalid value: \"{long}\": must be no more than 63 characters; spec.template.metadata.labels: Invalid value: \"{long}\": must be no more than 63 characters"
    );
    assert!(run.stderr.contains(&want), "want {want:?} in\n{}", run.stderr);

    // simulate runs the same renderer inside the reconciler: the reconcile's error, every cycle.
    let run = ork(dir.path(), &["simulate", "--output", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    let cycle = &v["files"][0]["runs"][0]["cycles"][0];
    assert_eq!(cycle["outcome"], "error", "{cycle}");
    let error = cycle["error"].as_str().unwrap_or_default();
    assert!(error.starts_with(&format!("validation failed: {want}")), "{error}");
    let created: Vec<&serde_json::Value> =
        cycle["ops"].as_array().into_iter().flatten().filter(|o| o["verb"] == "create" && o["resource"] != "events").collect();
    assert!(created.is_empty(), "no child is sent: {created:?}");
}

/// Defect 8: a 250-character CR name (valid) rendered a 254-character Deployment name; a
/// 260-character one is not a valid CR name in the first place.
#[test]
fn a_deployment_name_over_253_characters_is_refused() {
    let long = "b".repeat(250);
    let (_d, run) = named_scratch(&long, "            deployments:\n              - {name: \"{{ .metadata.name }}-web\", image: nginx}");
    assert_eq!(run.code, 1, "{run:?}");
    let shown = format!("{}...", "b".repeat(77));
    let want = format!(
        "crd `web`: onCreate.deployments[0]: the rendered Deployment \"{shown}\" would be refused by the API server: metadata.name: Invalid value: \"{shown}\": must be no more than 253 characters (Deployment names must be an RFC 1123 subdomain)"
    );
    assert!(run.stderr.contains(&want), "want {want:?} in\n{}", run.stderr);

    let long = "c".repeat(260);
    let (_d, run) = named_scratch(&long, "            deployments:\n              - {name: \"{{ .metadata.name }}\", image: nginx}");
    assert_eq!(run.code, 1, "{run:?}");
    let shown = format!("{}...", "c".repeat(77));
    let want = format!(
        "crd `web`: cr: the CR (Web \"{shown}\") would be refused by the API server: metadata.name: Invalid value: \"{shown}\": must be no more than 253 characters (Web names must be an RFC 1123 subdomain); fix the CR's metadata"
    );
    assert!(run.stderr.contains(&want), "want {want:?} in\n{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

/// Defect 8: `Hello_World` passed `ork template` and failed only in simulate.
#[test]
fn an_invalid_cr_name_is_refused_by_template() {
    let dir = demo_named("Hello_World");
    let run = ork(dir.path(), &["template", "--now", NOW]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr.contains("crd `website`: cr: the CR (Website \"Hello_World\") would be refused by the API server: metadata.name: Invalid value: \"Hello_World\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters"),
        "{}",
        run.stderr
    );
    // A valid name renders as before.
    let dir = demo_named("hello-world");
    let run = ork(dir.path(), &["template", "--now", NOW]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("name: hello-world-web"), "{}", run.stdout);
}

#[test]
fn a_crd_with_conversion_paths_serves_every_version_through_the_gateway() {
    let katalog = root().join("tests/fixtures/gateway/conversion/katalog.yaml");
    let run = ork(&root(), &["generate", "crd", "-f", &katalog.to_string_lossy(), "-n", "shop-system"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let crd: serde_json::Value = one_document(&run.stdout);
    let versions: Vec<(String, bool)> = crd["spec"]["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| (v["name"].as_str().unwrap_or_default().to_string(), v["storage"].as_bool().unwrap_or_default()))
        .collect();
    assert_eq!(versions, [("v1".to_string(), true), ("v2".to_string(), false)]);
    let webhook = &crd["spec"]["conversion"]["webhook"];
    assert_eq!(crd["spec"]["conversion"]["strategy"], "Webhook");
    assert_eq!(
        webhook["clientConfig"]["service"],
        serde_json::json!({"name": "orkestra-gateway", "namespace": "shop-system", "path": "/convert", "port": 8443})
    );
    assert_eq!(webhook["conversionReviewVersions"], serde_json::json!(["v1"]));
    let dir = TempDir::new("kv-conversion");
    kubernetes_validate(&[dir.write("crd.yaml", &run.stdout)], 1);
    // One version, no conversion stanza.
    let single = ork(&root(), &["generate", "crd", "-f", "demos/beginner/hello-website/katalog.yaml"]);
    assert!(!single.stdout.contains("conversion:"), "{}", single.stdout);
}

/// The one document of a YAML stream, as JSON (kubectl reads YAML the same way).
fn one_document(stream: &str) -> serde_json::Value {
    let docs = katalog::yaml::parse(stream, katalog::diag::FileId::intern(Path::new("crd.yaml")), katalog::yaml::Limits::default()).expect("YAML");
    assert_eq!(docs.len(), 1, "{stream}");
    docs[0].root.to_json()
}
