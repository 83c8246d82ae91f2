//! `ork generate bundle`, `ork validate --full`, `ork diff` and `ork plan` through the real
//! binary: golden bundles for every demo (reviewed by hand), the real `kubernetes-validate`,
//! byte stability, component selection, and bad input.

use ork_tests::{TempDir, demo_katalogs, kubernetes_validate, ork, root};
use std::path::Path;

fn demo_name(p: &Path) -> String {
    p.parent().and_then(|d| d.file_name()).and_then(|n| n.to_str()).unwrap_or_default().to_string()
}

fn bundle(katalog: &Path, extra: &[&str]) -> ork_tests::Run {
    let file = katalog.to_string_lossy().into_owned();
    let mut args = vec!["generate", "bundle", "-f", file.as_str()];
    args.extend_from_slice(extra);
    ork(&root(), &args)
}

#[test]
fn every_demo_bundle_is_as_reviewed() {
    let demos = demo_katalogs();
    assert!(demos.len() >= 10, "expected every demo, found {}", demos.len());
    for katalog in demos {
        let name = demo_name(&katalog);
        let run = bundle(&katalog, &[]);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        let text = format!("--- stderr\n{}--- stdout\n{}", run.stderr, run.stdout);
        insta::with_settings!({snapshot_path => "snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(format!("bundle-{name}"), text);
        });
    }
}

/// The YAML documents of a bundle, without comments, as (kind, name, body).
fn documents(text: &str) -> Vec<(String, String, String)> {
    text.split("\n---\n")
        .skip(1)
        .map(|d| {
            let field = |key: &str| d.lines().find_map(|l| l.strip_prefix(key)).unwrap_or_default().trim().to_string();
            let name = d.lines().skip_while(|l| *l != "metadata:").find_map(|l| l.strip_prefix("  name: ")).unwrap_or_default().to_string();
            (field("kind: "), name, d.to_string())
        })
        .collect()
}

#[test]
fn bundles_are_minimal_and_never_use_wildcards() {
    for katalog in demo_katalogs() {
        let name = demo_name(&katalog);
        let text = bundle(&katalog, &[]).stdout;
        let docs = documents(&text);
        let kinds: Vec<&str> = docs.iter().map(|(k, _, _)| k.as_str()).collect();
        assert_eq!(kinds.first(), Some(&"Namespace"), "{name}");
        assert_eq!(kinds.last(), Some(&"ConfigMap"), "{name}");
        for (_, _, body) in docs.iter().filter(|(k, _, _)| k.ends_with("Role")) {
            for line in body.lines().filter(|l| !l.starts_with('#')) {
                assert!(!line.contains('*'), "{name}: wildcard in {line}");
            }
        }
        // Every verb line belongs to a rule that carries its reasons.
        let rules = text.matches("\n- apiGroups:").count();
        let commented = text.matches(")\n- apiGroups:").count();
        assert_eq!(rules, commented, "{name}: a rule without a reason comment");
        let gateway_role = docs.iter().any(|(k, n, _)| k == "ClusterRole" && n.starts_with("orkestra-gateway-"));
        // The demos that declare a gateway feature (komposer-platform through an imported Katalog).
        let declares_gateway = ["admission-rules", "deletion-protection", "namespace-protection", "komposer-platform"].contains(&name.as_str());
        assert_eq!(gateway_role, declares_gateway, "{name}: gateway ClusterRole present = {gateway_role}");
        let ns = &docs[0].2;
        for mode in ["enforce", "audit", "warn"] {
            assert!(ns.contains(&format!("pod-security.kubernetes.io/{mode}: restricted")), "{name}: {ns}");
        }
    }
}

#[test]
fn every_bundle_passes_kubernetes_validate() {
    let dir = TempDir::new("kv-bundle");
    let mut files = Vec::new();
    let mut expected = 0;
    for katalog in demo_katalogs() {
        let name = demo_name(&katalog);
        for (tag, extra) in [("all", vec![]), ("ns", vec!["-n", "tenant-7"])] {
            let run = bundle(&katalog, &extra);
            assert_eq!(run.code, 0, "{name}: {}", run.stderr);
            expected += documents(&run.stdout).len();
            files.push(dir.write(&format!("{name}-{tag}.yaml"), &run.stdout));
        }
    }
    assert!(expected > 80, "too few documents: {expected}");
    kubernetes_validate(&files, expected);
}

#[test]
fn bundles_are_byte_stable_and_written_atomically_with_o() {
    let dir = TempDir::new("bundle-o");
    for katalog in demo_katalogs() {
        let first = bundle(&katalog, &[]);
        for _ in 0..9 {
            assert_eq!(bundle(&katalog, &[]).stdout, first.stdout, "{}: output changed between runs", katalog.display());
        }
        let out = dir.path().join(format!("{}.yaml", demo_name(&katalog)));
        let run = bundle(&katalog, &["-o", &out.to_string_lossy()]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stdout.is_empty());
        assert_eq!(std::fs::read_to_string(&out).unwrap_or_default(), first.stdout);
    }
}

#[test]
fn the_configmap_ships_the_expanded_katalog_without_local_paths() {
    // include-fragments: its includes are resolved; motif-cache: its motif is expanded.
    for (demo, must, must_not) in [
        ("demos/intermediate/include-fragments/katalog.yaml", "validation:", "include:"),
        ("demos/intermediate/motif-cache/katalog.yaml", "redis", "imports:"),
        ("demos/intermediate/komposer-platform/komposer.yaml", "kind: Katalog", "kind: Komposer"),
    ] {
        let text = bundle(&root().join(demo), &[]).stdout;
        let cm = text.split("\n---\n").last().unwrap_or_default();
        assert!(cm.contains("kind: ConfigMap") && cm.contains("  katalog.yaml: |"), "{demo}: {cm}");
        assert!(cm.contains(must), "{demo}: `{must}` missing from\n{cm}");
        assert!(!cm.contains(must_not), "{demo}: `{must_not}` left in\n{cm}");
    }
    let t = TempDir::new("bundle-crdfile");
    t.write("crd.yaml", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: webs.x.dev}\nspec:\n  group: x.dev\n  scope: Namespaced\n  names: {kind: Web, plural: webs}\n  versions: [{name: v1, served: true, storage: true}]\n");
    t.write("katalog.yaml", "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: k}\nspec:\n  crds:\n    web:\n      crdFile: crd.yaml\n");
    let run = ork(t.path(), &["generate", "bundle"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.stdout.contains("crdFile"), "{}", run.stdout);
    assert!(
        run.stdout.contains("          apiTypes:\n            group: x.dev\n            kind: Web\n            plural: webs\n            version: v1\n"),
        "{}",
        run.stdout
    );
    t.write("katalog.yaml", "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: k}\nspec:\n  crds:\n    web:\n      crdFile: crd.yaml\n      crFiles: [cr.yaml]\n      apiTypes: {group: x.dev, version: v1, kind: Web, plural: webs}\n");
    let run = ork(t.path(), &["generate", "bundle"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.stdout.contains("crdFile") && !run.stdout.contains("crFiles"), "{}", run.stdout);
}

#[test]
fn components_and_namespace_are_selectable() {
    let secured = root().join("demos/security/deletion-protection/katalog.yaml");
    let plain = root().join("demos/beginner/hello-website/katalog.yaml");
    let kinds = |text: &str| documents(text).into_iter().map(|(k, n, _)| format!("{k}/{n}")).collect::<Vec<_>>();

    let run = bundle(&secured, &["--for", "runtime", "-n", "payments"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        kinds(&run.stdout),
        [
            "Namespace/payments",
            "ServiceAccount/orkestra",
            "ClusterRole/orkestra-payments",
            "ClusterRoleBinding/orkestra-payments",
            "Role/orkestra",
            "RoleBinding/orkestra",
            "ConfigMap/orkestra-katalog"
        ]
    );
    let run = bundle(&secured, &["--for", "gw"]);
    assert_eq!(
        kinds(&run.stdout),
        [
            "Namespace/orkestra-system",
            "ServiceAccount/orkestra-gateway",
            "ClusterRole/orkestra-gateway-orkestra-system",
            "ClusterRoleBinding/orkestra-gateway-orkestra-system",
            "Role/orkestra-gateway",
            "RoleBinding/orkestra-gateway",
            "ConfigMap/orkestra-katalog"
        ]
    );
    assert!(run.stdout.contains("- orkestra-deletion-protection-orkestra-system"), "{}", run.stdout);
    assert_eq!(bundle(&secured, &["--for", "run,gw"]).stdout, bundle(&secured, &[]).stdout);

    // ORK_NAMESPACE is the default namespace; -n wins over it.
    let out = std::process::Command::new(ork_tests::ork_bin())
        .args(["generate", "bundle", "-f", &plain.to_string_lossy()])
        .env("ORK_NAMESPACE", "from-env")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("  name: from-env\n"));

    let run = bundle(&plain, &["--for", "gateway"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("declares no gateway feature"), "{}", run.stderr);
    let run = bundle(&plain, &[]);
    assert!(run.stderr.contains("note: no gateway feature is declared"), "{}", run.stderr);
    assert!(!run.stdout.contains("orkestra-gateway"));
    for (args, needle) in [
        (vec!["--for", "cc"], "--for cc: unknown component (valid: runtime, run, gateway, gw, all)"),
        (vec!["--for", ","], "--for selects no component"),
        (vec!["-n", "Bad_NS"], "namespace \"Bad_NS\" is not a valid Kubernetes namespace name"),
    ] {
        let run = bundle(&plain, &args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty());
    }
    let t = TempDir::new("bundle-missing");
    let run = ork(t.path(), &["generate", "bundle"]);
    assert_eq!(run.code, 2, "{run:?}");
    let run = ork(&root(), &["generate", "bundle", "-f", "tests/fixtures/invalid/custom-kinds/katalog.yaml"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("error[unknown-plural]"), "{}", run.stderr);
}

#[test]
fn validate_full_shows_permissions_with_reasons_profiles_and_order() {
    let katalog = root().join("demos/intermediate/depends-on/katalog.yaml");
    let run = ork(&root(), &["validate", "--full", "-f", &katalog.to_string_lossy()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &run.stdout;
    for needle in [
        "✓ app  App stack.ork.dev/v1 (apps)",
        "    runtime permissions:\n      apps           deployments  get list watch create patch\n",
        "          · onReconcile.deployments[0] is applied (server-side apply) when it drifts from the template (patch)",
        "startup order: database → app",
        "runtime permissions (12 rules, ServiceAccount orkestra):",
        "      · database: onDelete.groups[0].jobs[0] runs when the CR is deleted; the finalizer waits for it to finish (get, create)",
        "  coordination.k8s.io  leases [orkestra-konductor] (namespace orkestra-system)  get update",
        "gateway permissions: none (no gateway feature declared)",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    let hello = ork(&root(), &["validate", "--full", "-f", "demos/beginner/hello-website/katalog.yaml"]);
    assert!(hello.stdout.contains("    profiles: containerSecurity/restricted, probes/fast, resources/small\n"), "{}", hello.stdout);

    let json = ork(&root(), &["validate", "--full", "--output", "json", "-n", "shop", "-f", "demos/security/admission-rules/katalog.yaml"]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap_or_else(|e| panic!("{e}: {}", json.stdout));
    let p = &v["permissions"];
    assert_eq!(p["namespace"], "shop");
    assert_eq!(p["gatewayFeatures"], serde_json::json!(["mutation webhook (database)", "validation webhook (database)"]));
    let gw = p["gateway"].as_array().cloned().unwrap_or_default();
    assert!(
        gw.iter().any(|r| r["resourceName"] == "orkestra-admission-validation-shop" && r["verbs"] == serde_json::json!(["get", "update", "delete"])),
        "{gw:?}"
    );
    let crd = &p["crds"]["database"];
    assert!(crd["runtime"].as_array().is_some_and(|a| a.iter().any(|r| r["resource"] == "databases/status")), "{crd}");
    assert!(crd["runtime"][0]["reasons"][0]["reason"].is_string(), "{crd}");
    // Without --full the JSON has no permissions (schema unchanged).
    let plain = ork(&root(), &["validate", "--output", "json", "-f", "demos/security/admission-rules/katalog.yaml"]);
    assert!(!plain.stdout.contains("\"permissions\""));
    // -n needs --full.
    assert_eq!(ork(&root(), &["validate", "-n", "x", "-f", "demos/security/admission-rules/katalog.yaml"]).code, 2);
}

#[test]
fn diff_ignores_key_order_and_shows_real_changes() {
    let t = TempDir::new("diff");
    let original = std::fs::read_to_string(root().join("demos/beginner/hello-website/katalog.yaml")).unwrap_or_default();
    t.write("a.yaml", &original);
    // The same Katalog with its top-level keys reordered, flow style and a comment.
    let (head, spec) = original.split_once("spec:\n").unwrap_or_default();
    t.write("b.yaml", &format!("# reordered\nspec:\n{spec}\n{head}"));
    let run = ork(t.path(), &["diff", "a.yaml", "b.yaml"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.is_empty(), "{}", run.stdout);

    t.write("c.yaml", &original.replace("nginx-unprivileged:1.27", "nginx-unprivileged:1.29"));
    let run = ork(t.path(), &["diff", "a.yaml", "c.yaml"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.starts_with("--- a.yaml\n+++ c.yaml\n@@ "), "{}", run.stdout);
    assert!(run.stdout.contains("\n-            - image: \"{{ .spec.image | default \\\"nginxinc/nginx-unprivileged:1.27\\\" }}\""), "{}", run.stdout);
    assert!(run.stdout.contains("\n+            - image: \"{{ .spec.image | default \\\"nginxinc/nginx-unprivileged:1.29\\\" }}\""), "{}", run.stdout);
    assert_eq!(run.stdout.lines().filter(|l| l.starts_with('+') || l.starts_with('-')).count(), 4, "{}", run.stdout);

    // Bundles: the reason comments are not content.
    let b1 = bundle(&root().join("demos/security/deletion-protection/katalog.yaml"), &[]).stdout;
    t.write("b1.yaml", &b1);
    t.write("b2.yaml", &b1.lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>().join("\n"));
    assert_eq!(ork(t.path(), &["diff", "b1.yaml", "b2.yaml"]).code, 0);

    let run = ork(t.path(), &["diff", "a.yaml", "nope.yaml"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("nope.yaml"), "{}", run.stderr);
    t.write("broken.yaml", "a: [1, 2\n");
    assert_eq!(ork(t.path(), &["diff", "a.yaml", "broken.yaml"]).code, 2);
}

#[test]
fn plan_reports_crd_changes_and_flags_escalations() {
    let t = TempDir::new("plan");
    let demo = root().join("demos/beginner/hello-website/katalog.yaml");
    let original = std::fs::read_to_string(&demo).unwrap_or_default();
    t.write("katalog.yaml", &original);
    let deployed = ork(t.path(), &["generate", "bundle", "-o", "deployed.yaml", "-n", "web"]);
    assert_eq!(deployed.code, 0, "{}", deployed.stderr);
    let run = ork(t.path(), &["plan", "--bundle", "deployed.yaml"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "Plan: katalog.yaml against the deployed bundle deployed.yaml (namespace web)\nNo changes: the local Katalog and its permissions match the deployed bundle.\n"
    );

    // New image, drift correction off, one more child kind (Secrets), one more CRD.
    let indent = original.lines().find(|l| l.trim() == "services:").map(|l| &l[..l.len() - "services:".len()]).unwrap_or_default();
    let changed = original.replace("nginx-unprivileged:1.27", "nginx-unprivileged:1.29").replace("reconcile: true", "reconcile: false").replace(
        &format!("{indent}services:\n"),
        &format!("{indent}secrets:\n{indent}  - name: \"{{{{ .metadata.name }}}}-creds\"\n{indent}    data: {{a: b}}\n{indent}services:\n"),
    );
    let changed = format!("{changed}    blog:\n      apiTypes: {{group: demo.ork.dev, version: v1, kind: Blog, plural: blogs}}\n");
    t.write("katalog.yaml", &changed);
    let run = ork(t.path(), &["plan", "--bundle", "deployed.yaml"]);
    assert_eq!(run.code, 0, "{run:?}");
    let out = &run.stdout;
    for needle in [
        "  + crd blog  (new)\n",
        "  ~ crd website:\n",
        "      ~ operatorBox.reconcile.onCreate.deployments[0].image: \"{{ .spec.image | default \\\"nginxinc/nginx-unprivileged:1.27\\\" }}\" → \"{{ .spec.image | default \\\"nginxinc/nginx-unprivileged:1.29\\\" }}\"\n",
        "      ~ operatorBox.reconcile.onCreate.services[0].reconcile: true → false\n",
        "      + operatorBox.reconcile.onCreate.secrets: [{\"data\":{\"a\":\"b\"},\"name\":\"{{ .metadata.name }}-creds\"}]  (new)\n",
        "  + runtime  core secrets: get, list, watch, create   ESCALATION\n",
        "  + runtime  demo.ork.dev blogs: get, list, watch, patch   ESCALATION\n",
        "  - runtime  apps deployments: patch\n",
        "⚠ 9 permission escalation(s)",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    let strict = ork(t.path(), &["plan", "--bundle", "deployed.yaml", "--fail-on-escalation"]);
    assert_eq!(strict.code, 1);
    // Removing a CRD only removes permissions: not an escalation.
    t.write("katalog.yaml", &original);
    t.write("k2.yaml", &format!("{original}    blog:\n      apiTypes: {{group: demo.ork.dev, version: v1, kind: Blog, plural: blogs}}\n"));
    assert_eq!(ork(t.path(), &["generate", "bundle", "-f", "k2.yaml", "-o", "wide.yaml", "-n", "web"]).code, 0);
    let run = ork(t.path(), &["plan", "--bundle", "wide.yaml", "--fail-on-escalation"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("  - crd blog  (removed)\n") && !run.stdout.contains("ESCALATION"), "{}", run.stdout);

    // What `kubectl get clusterrole,role,configmap -o yaml` exports: one List.
    let items: Vec<serde_json::Value> = std::fs::read_to_string(t.path().join("wide.yaml"))
        .unwrap_or_default()
        .split("\n---\n")
        .skip(1)
        .map(|d| {
            katalog::yaml::parse(d, katalog::diag::FileId::intern(Path::new("d.yaml")), katalog::yaml::Limits::default())
                .unwrap_or_else(|e| panic!("{}", e.message))[0]
                .root
                .to_json()
        })
        .collect();
    t.write("exported.yaml", &katalog::yaml::emit(&serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items})));
    let exported = ork(t.path(), &["plan", "--bundle", "exported.yaml"]);
    assert_eq!(exported.stdout, run.stdout.replace("wide.yaml", "exported.yaml"));

    assert_eq!(ork(t.path(), &["plan", "--bundle", "missing.yaml"]).code, 2);
    assert_eq!(ork(t.path(), &["plan"]).code, 2, "--bundle is required");
}
