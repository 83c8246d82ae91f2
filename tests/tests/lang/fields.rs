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

/// Renders CR `a` (generation 3) of a one-CRD Katalog with `runtime` and `on_create` secrets.
fn rendered(tag: &str, runtime: &str, secrets: &str) -> katalog::render::Rendered {
    use katalog::render::{Request, render};
    use katalog::template::{Rng, TemplateSet};
    let d = Dir::new(&format!("fields-{tag}"));
    let f = d.write(
        "katalog.yaml",
        &format!(
            "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: t}}\nspec:\n  crds:\n    app:\n      apiTypes: {{group: t.ork.dev, version: v1, kind: App, plural: apps}}\n      operatorBox:\n        runtime: {{{runtime}}}\n        reconcile:\n          onCreate:\n            secrets:\n{secrets}"
        ),
    );
    let loaded = load_file(&f, &LoadOptions::default());
    assert!(!loaded.diagnostics.has_errors(), "{:?}", loaded.diagnostics);
    let k = loaded.katalog.unwrap();
    let (set, diags) = TemplateSet::compile(&k);
    assert!(diags.is_empty(), "{diags:?}");
    let cr =
        serde_json::json!({"apiVersion": "t.ork.dev/v1", "kind": "App", "metadata": {"name": "a", "namespace": "n", "uid": "u", "generation": 3}, "spec": {}});
    render(&k, &set, Request { crd: "app", cr: &cr, observed: &[], others: &[], now: 1_767_225_600, rng: Rng::Seeded(1), cross: &serde_json::Value::Null })
        .unwrap()
}

#[test]
fn ignore_observed_generation_renders_a_status_without_it() {
    let plain = rendered("gen-plain", "", "              []\n");
    assert_eq!(plain.status["observedGeneration"], 3);
    assert!(plain.status["conditions"].as_array().unwrap().iter().all(|c| c["observedGeneration"] == 3));
    let skipped = rendered("gen-skip", "ignoreObservedGeneration: true", "              []\n");
    assert!(skipped.status.get("observedGeneration").is_none(), "{}", skipped.status);
    let conds = skipped.status["conditions"].as_array().unwrap();
    assert_eq!(conds.len(), 3);
    assert!(conds.iter().all(|c| c.get("observedGeneration").is_none() && c.get("lastTransitionTime").is_some()), "{conds:?}");
}

#[test]
fn a_rotating_once_secret_carries_its_period_and_generation_stamp() {
    let r = rendered(
        "rotate",
        "",
        "              - {name: pw, once: true, rotateAfter: 1h30m, data: {p: x}}\n              - {name: plain, once: true, data: {p: x}}\n              - {name: kept, once: true, reconcile: true, rotateAfter: 1h, data: {p: x}}\n",
    );
    let by_name = |n: &str| r.children.iter().find(|c| c.manifest["metadata"]["name"] == n).unwrap();
    let pw = by_name("pw");
    assert_eq!(pw.rotate_after, Some(std::time::Duration::from_secs(5400)));
    assert_eq!(pw.manifest["metadata"]["annotations"][katalog::render::ANNOTATION_GENERATED_AT], "2026-01-01T00:00:00Z");
    assert_eq!(by_name("plain").rotate_after, None);
    assert_eq!(by_name("kept").rotate_after, None, "`reconcile: true` makes it drift-corrected, not once: nothing to rotate");
    assert!(by_name("kept").manifest["metadata"]["annotations"].get(katalog::render::ANNOTATION_GENERATED_AT).is_none(), "no stamp that changes every render");
}

#[test]
fn a_rotate_after_that_is_not_a_duration_is_a_load_time_error() {
    let d = Dir::new("fields-rotate-bad");
    let f = d.write(
        "katalog.yaml",
        "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: t}\nspec:\n  crds:\n    app:\n      apiTypes: {group: t.ork.dev, version: v1, kind: App, plural: apps}\n      operatorBox:\n        reconcile:\n          onCreate:\n            secrets:\n              - {name: pw, once: true, rotateAfter: monthly, data: {p: x}}\n",
    );
    let ds: Vec<Diagnostic> = validate(&load_file(&f, &LoadOptions::default())).diagnostics.iter().cloned().collect();
    assert!(has(&ds, "invalid-duration", "`monthly` is not a duration"), "{ds:#?}");
}

#[test]
fn rotate_after_on_a_drift_corrected_secret_is_reported_as_having_no_effect() {
    let (ds, _) = findings(
        "rotate-kept",
        "          onCreate:\n            secrets:\n              - {name: pw, once: true, reconcile: true, rotateAfter: 1h, data: {p: x}}\n",
    );
    assert!(has(&ds, "no-effect", "`rotateAfter` has no effect here"), "{ds:#?}");
    let (ds, _) =
        findings("rotate-onreconcile", "          onReconcile:\n            secrets:\n              - {name: pw, once: true, rotateAfter: 1h, data: {p: x}}\n");
    assert!(has(&ds, "no-effect", "`rotateAfter` has no effect here"), "{ds:#?}");
    let (ds, _) = findings("rotate-ok", "          onCreate:\n            secrets:\n              - {name: pw, once: true, rotateAfter: 1h, data: {p: x}}\n");
    assert!(!ds.iter().any(|d| d.code == "no-effect"), "{ds:#?}");
}
