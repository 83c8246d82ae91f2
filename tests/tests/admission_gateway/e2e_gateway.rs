//! `ork e2e` runs the gateway in-process as the gateway's ServiceAccount, so the bundle must grant
//! it what it does, exactly as it must grant the runtime what it does.

use ork_tests::{Run, TempDir, ork, root};

fn show(r: &Run) -> String {
    format!("exit {}\n--- stdout\n{}\n--- stderr\n{}", r.code, r.stdout, r.stderr)
}

#[test]
fn with_a_bundle_lacking_the_gateways_rules_the_gateway_is_refused_as_its_service_account_and_the_document_cannot_set_up() {
    let dir = TempDir::new("e2e-gw-bundle");
    let demo = root().join("demos/security/namespace-protection");
    let bundle = dir.path().join("runtime-only.yaml");
    let g = ork(dir.path(), &["generate", "bundle", "--for", "runtime", "-f", &demo.join("katalog.yaml").to_string_lossy(), "-o", &bundle.to_string_lossy()]);
    assert_eq!(g.code, 0, "{}", show(&g));
    let text = std::fs::read_to_string(&bundle).unwrap();
    assert!(!text.contains("orkestra-gateway"), "a runtime-only bundle: {text}");

    let r = ork(&root(), &["e2e", "-f", "demos/security/namespace-protection/e2e.yaml", "--bundle", &bundle.to_string_lossy()]);
    assert_eq!(r.code, 1, "{}", show(&r));
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(all.contains("Starting the gateway in-process as system:serviceaccount:orkestra-system:orkestra-gateway"), "{}", show(&r));
    assert!(all.contains("the gateway was not ready within 30s"), "{}", show(&r));
    assert!(all.contains("User \"system:serviceaccount:orkestra-system:orkestra-gateway\" cannot"), "the 403 names the gateway's ServiceAccount: {}", show(&r));
    assert!(all.contains("(1 document(s) could not set up)"), "{}", show(&r));
}

#[test]
fn a_two_version_crd_round_trips_through_the_gateways_conversion_in_ork_e2e_and_needs_it() {
    let dir = TempDir::new("e2e-gw-conversion");
    let fixture = root().join("tests/fixtures/gateway/conversion");
    for f in ["katalog.yaml", "cr-v2.yaml"] {
        std::fs::copy(fixture.join(f), dir.path().join(f)).unwrap();
    }
    // Created at v2, stored at v1 (the storage version), read back at both: v1 → v2 → v1.
    let e2e = dir.write(
        "e2e.yaml",
        r#"apiVersion: orkestra.orkspace.io/v1
kind: E2E
metadata: {name: conversion}
spec:
  katalog: ./katalog.yaml
  cr: ./cr-v2.yaml
  expect:
    - name: the Widget reads the same at v1 and at v2, and the runtime reconciles it at v1
      after: cr-applied
      kubectl:
        get:
          - {kind: widgets.v1.shop.ork.dev, name: gizmo, field: '{.spec.replicas} {.spec.tier} {.spec.color}', equals: "3 gold blue"}
          - {kind: widgets.v2.shop.ork.dev, name: gizmo, field: '{.spec.size} {.spec.settings.tier} {.spec.color}', equals: "3 gold blue"}
          - {kind: ConfigMap, name: gizmo-widget, field: .data.replicas, equals: "3"}
"#,
    );
    let r = ork(dir.path(), &["e2e", "-f", &e2e.to_string_lossy()]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(r.stdout.contains("1 passed, 0 failed"), "{}", show(&r));
    // Without the gateway nothing answers the CRD's conversion webhook: the v2 CR cannot be stored.
    let r = ork(dir.path(), &["e2e", "--no-gateway", "-f", &e2e.to_string_lossy()]);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stdout.contains("applying the CRs failed"), "{}", show(&r));
}

#[test]
fn the_seed_workflow_shows_the_refusal_at_kubectl_apply_with_the_message_users_search_for() {
    let dir = TempDir::new("e2e-gw-seed");
    let init = ork(dir.path(), &["init", "--pack", "security"]);
    assert_eq!(init.code, 0, "{}", show(&init));
    let r = ork(&dir.path().join("namespace-protection"), &["e2e"]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(
        r.stdout.contains(r#"✓ kubectl apply of a Bucket in kube-system is refused: [Bucket "sneaky"] namespace "kube-system" is restricted"#),
        "{}",
        show(&r)
    );
    assert!(!format!("{}{}", r.stdout, r.stderr).contains("runs no gateway"), "{}", show(&r));
}
