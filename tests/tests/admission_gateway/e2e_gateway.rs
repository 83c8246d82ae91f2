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
