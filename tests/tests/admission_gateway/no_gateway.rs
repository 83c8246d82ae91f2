//! The second enforcement point: the security demos' runtime-side checks, run with
//! `ork e2e --no-gateway` (tests/fixtures/e2e-no-gateway/). There the API server stores what the
//! webhooks would refuse, and the runtime must still ignore a mis-namespaced CR, mark a denied
//! one ValidationFailed, and release a deleted one. (With the gateway the same documents fail:
//! the API server never stores those CRs, which the demos' own e2e.yaml assert.)

use ork_tests::{Run, ork, root};

fn show(r: &Run) -> String {
    format!("exit {}\n--- stdout\n{}\n--- stderr\n{}", r.code, r.stdout, r.stderr)
}

fn passes_without_the_gateway(demo: &str, expectations: usize, feature: &str) {
    let file = format!("tests/fixtures/e2e-no-gateway/{demo}.e2e.yaml");
    let r = ork(&root(), &["e2e", "--no-gateway", "-f", &file]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(r.stdout.contains(&format!("{expectations} passed, 0 failed")), "{}", show(&r));
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(all.contains(&format!("--no-gateway: the Katalog's gateway features ({feature}) are not enforced at admission")), "{}", show(&r));
    assert!(!all.contains("Starting the gateway"), "{}", show(&r));
}

#[test]
fn without_the_gateway_the_runtime_never_reconciles_a_bucket_stored_in_kube_system() {
    passes_without_the_gateway("namespace-protection", 4, "namespace protection");
}

#[test]
fn without_the_gateway_a_denied_database_is_stored_and_the_runtime_marks_it_validation_failed() {
    passes_without_the_gateway("admission-rules", 3, "mutation webhook (database), validation webhook (database)");
}

#[test]
fn without_the_gateway_a_labelled_ledger_is_deleted_and_the_runtime_releases_its_finalizer() {
    passes_without_the_gateway("deletion-protection", 2, "deletion protection");
}

#[test]
fn e2e_help_documents_no_gateway() {
    let r = ork(&root(), &["e2e", "--help"]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(r.stdout.contains("--no-gateway"), "{}", r.stdout);
    assert!(r.stdout.contains("second enforcement point"), "{}", r.stdout);
}
