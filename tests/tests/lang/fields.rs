//! Fields that used to parse and then be ignored (issue 19 "no silent field"): what they decode
//! to, what `ork validate` says about them, and what they change in rendering.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test fixtures: a failed setup should abort the test loudly
use super::common::Dir;
use katalog::diag::Diagnostic;
use katalog::load::{LoadOptions, load_file};
use katalog::validate::validate;

/// `ork validate`'s findings for a one-CRD Katalog whose `operatorBox.reconcile` is `reconcile`.
fn findings(tag: &str, reconcile: &str) -> (Vec<Diagnostic>, Option<katalog::model::crd::RetryBackoff>) {
    let d = Dir::new(&format!("fields-{tag}"));
    let f = d.write(
        "katalog.yaml",
        &format!(
            "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: t}}\nspec:\n  crds:\n    app:\n      apiTypes: {{group: t.ork.dev, version: v1, kind: App, plural: apps}}\n      operatorBox:\n        reconcile:\n{reconcile}"
        ),
    );
    let loaded = load_file(&f, &LoadOptions::default());
    let rb = loaded.katalog.as_ref().and_then(|k| k.crds().get("app").and_then(|e| e.reconcile()).and_then(|r| r.queue.clone()).and_then(|q| q.retry_backoff));
    (validate(&loaded).diagnostics.iter().cloned().collect(), rb)
}

fn has(ds: &[Diagnostic], code: &str, needle: &str) -> bool {
    ds.iter().any(|d| d.code == code && d.to_string().contains(needle))
}

#[test]
fn retry_backoff_decodes_both_forms_and_is_not_reported_unsupported() {
    let (ds, rb) = findings("rb-short", "          queue: {retryBackoff: 2s}\n");
    assert!(ds.iter().all(|d| !d.is_error() && d.code != "not-supported-yet"), "{ds:#?}");
    let rb = rb.expect("decoded");
    assert_eq!((rb.initial, rb.max, rb.multiplier, rb.max_attempts), (Some(2.0), None, None, None));
    let (ds, rb) = findings("rb-long", "          queue:\n            retryBackoff: {initial: 500ms, max: 1m, multiplier: 1.5, maxAttempts: 10}\n");
    assert!(ds.iter().all(|d| !d.is_error()), "{ds:#?}");
    let rb = rb.expect("decoded");
    assert_eq!((rb.initial, rb.max, rb.multiplier, rb.max_attempts), (Some(0.5), Some(60.0), Some(1.5), Some(10)));
}

#[test]
fn a_bad_retry_backoff_is_an_error_that_says_how_to_fix_it() {
    let cases = [
        ("rb-bad-dur", "retryBackoff: soon", "invalid-duration", "`retryBackoff.initial`: `soon` is not a duration"),
        ("rb-zero", "retryBackoff: {initial: 0s}", "invalid-value", "must be longer than zero"),
        ("rb-mult", "retryBackoff: {multiplier: 0.5}", "invalid-value", "multiplier` must be at least 1"),
        ("rb-mult-type", "retryBackoff: {multiplier: fast}", "wrong-type", "expected a number"),
        ("rb-order", "retryBackoff: {initial: 1m, max: 10s}", "invalid-value", "`retryBackoff.max` is shorter than `initial`"),
        ("rb-attempts", "retryBackoff: {maxAttempts: 0}", "invalid-value", "maxAttempts` must be at least 1"),
        ("rb-key", "retryBackoff: {maxRetries: 3}", "unknown-field", "maxRetries"),
    ];
    for (tag, q, code, needle) in cases {
        let (ds, _) = findings(tag, &format!("          queue: {{{q}}}\n"));
        assert!(has(&ds, code, needle), "{q}: no {code} with {needle:?} in {ds:#?}");
        assert!(ds.iter().any(|d| d.is_error()), "{q}: an error");
    }
}

#[test]
fn a_delayed_queue_warns_about_growth_keys_it_does_not_use() {
    let (ds, _) = findings("delayed-growth", "          queue: {type: delayed, retryBackoff: {initial: 2s, multiplier: 2}}\n");
    assert!(has(&ds, "no-effect", "have no effect on a `delayed` queue"), "{ds:#?}");
    assert!(!ds.iter().any(|d| d.is_error()), "{ds:#?}");
    let (ds, _) = findings("delayed-plain", "          queue: {type: delayed, retryBackoff: 2s}\n");
    assert!(!ds.iter().any(|d| d.code == "no-effect" || d.code == "not-supported-yet"), "{ds:#?}");
}
