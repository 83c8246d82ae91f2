//! Multi-version CustomResourceDefinitions: every served version is discovered and served,
//! objects are stored once at the storage version, and reads and writes at another version go
//! through the CRD's conversion webhook (a small rustls server here) or, with strategy None,
//! only change apiVersion. Driven by real kubectl.

use super::hooks::{self, Cluster};
use axum::Json;
use axum::extract::State;
use axum::routing::post;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Widgets: v1 has `spec.replicas` and `spec.tier`; v2 renames them `spec.size` and nests the
/// tier as `spec.settings.tier`. Everything else is carried over as it is, so nothing is lost
/// either way.
fn convert(obj: &Value, to: &str) -> Value {
    let mut out = obj.clone();
    let from = obj["apiVersion"].as_str().unwrap_or_default().to_string();
    out["apiVersion"] = json!(to);
    let Some(spec) = out.get_mut("spec").and_then(Value::as_object_mut) else { return out };
    match (from.as_str(), to) {
        ("shop.ork.dev/v1", "shop.ork.dev/v2") => {
            if let Some(r) = spec.remove("replicas") {
                spec.insert("size".into(), r);
            }
            if let Some(t) = spec.remove("tier") {
                spec.insert("settings".into(), json!({"tier": t}));
            }
        }
        ("shop.ork.dev/v2", "shop.ork.dev/v1") => {
            if let Some(s) = spec.remove("size") {
                spec.insert("replicas".into(), s);
            }
            if let Some(t) = spec.remove("settings").and_then(|s| s.get("tier").cloned()) {
                spec.insert("tier".into(), t);
            }
        }
        _ => {}
    }
    out
}

async fn convert_hook(State(calls): State<Arc<AtomicUsize>>, Json(review): Json<Value>) -> Json<Value> {
    calls.fetch_add(1, Ordering::SeqCst);
    let req = &review["request"];
    let to = req["desiredAPIVersion"].as_str().unwrap_or_default();
    let objects = req["objects"].as_array().cloned().unwrap_or_default();
    let result = if objects.iter().any(|o| o.pointer("/metadata/labels/convert") == Some(&json!("fail"))) {
        json!({"uid": req["uid"], "convertedObjects": [], "result": {"status": "Failure", "message": "widgets labelled convert=fail cannot be converted"}})
    } else {
        let converted: Vec<Value> = objects.iter().map(|o| convert(o, to)).collect();
        json!({"uid": req["uid"], "convertedObjects": converted, "result": {"status": "Success"}})
    };
    Json(json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview", "response": result}))
}

/// A validating webhook that admits everything and says, as a warning, how it saw the request:
/// the version of the object it got and the version the request was made at.
async fn seen_hook(Json(review): Json<Value>) -> Json<Value> {
    let req = &review["request"];
    let object = if req["object"].is_null() { &req["oldObject"] } else { &req["object"] };
    let seen = format!(
        "seen as {} {} (spec.replicas={}) for a request at {}",
        req["kind"]["version"].as_str().unwrap_or_default(),
        object["apiVersion"].as_str().unwrap_or_default(),
        object["spec"]["replicas"],
        req["requestKind"]["version"].as_str().unwrap_or_default()
    );
    Json(json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": {"uid": req["uid"], "allowed": true, "warnings": [seen]}}))
}

fn crd(plural: &str, kind: &str, conversion: &str) -> String {
    format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {{name: {plural}.shop.ork.dev}}\nspec:\n  group: shop.ork.dev\n  scope: Namespaced\n  names: {{plural: {plural}, singular: {}, kind: {kind}}}\n  versions:\n  - {{name: v1, served: true, storage: true, schema: {{openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}}}, subresources: {{status: {{}}}}}}\n  - {{name: v2, served: true, storage: false, schema: {{openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}}}, subresources: {{status: {{}}}}}}\n{conversion}",
        kind.to_lowercase()
    )
}

fn webhook_conversion(url: &str, ca_bundle: &str) -> String {
    format!(
        "  conversion:\n    strategy: Webhook\n    webhook:\n      conversionReviewVersions: [v1]\n      clientConfig: {{url: \"{url}\", caBundle: {ca_bundle}}}\n"
    )
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// `kubectl get --raw` of a watch that the server ends after `timeout_s`, while `during` runs.
async fn raw_watch(c: &Cluster, path: &str, during: impl std::future::Future<Output = ()>) -> Vec<Value> {
    let args = ["get", "--raw", path];
    let watch = c.kubectl(&args);
    let (out, ()) = tokio::join!(watch, async {
        // Give the watch time to open before the change it should see.
        tokio::time::sleep(Duration::from_millis(700)).await;
        during.await;
    });
    assert_eq!(out.code, 0, "{out}");
    out.stdout.lines().filter(|l| !l.trim().is_empty()).map(json_of).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crds_serve_every_version_and_convert_through_their_webhook() {
    let calls = Arc::new(AtomicUsize::new(0));
    let hooks = hooks::serve(axum::Router::new().route("/convert", post(convert_hook)).with_state(calls.clone()).route("/seen", post(seen_hook))).await;
    let c = hooks::cluster("conversion").await;
    let url = format!("https://{}/convert", hooks.addr);
    let out = c.apply(&crd("widgets", "Widget", &webhook_conversion(&url, &hooks.ca_bundle)), &[]).await;
    assert_eq!(out.code, 0, "{out}");

    // Discovery lists both versions, the higher one preferred, and the resource at each.
    let versions = c.ok(&["api-versions"]).await;
    assert!(versions.contains("shop.ork.dev/v1\n") && versions.contains("shop.ork.dev/v2\n"), "{versions}");
    let group = json_of(&c.ok(&["get", "--raw", "/apis/shop.ork.dev"]).await);
    assert_eq!(group["preferredVersion"]["version"], "v2", "{group}");
    assert_eq!(group["versions"].as_array().map(Vec::len), Some(2), "{group}");
    for v in ["v1", "v2"] {
        let list = json_of(&c.ok(&["get", "--raw", &format!("/apis/shop.ork.dev/{v}")]).await);
        let names: Vec<&str> = list["resources"].as_array().unwrap().iter().filter_map(|r| r["name"].as_str()).collect();
        assert_eq!(names, ["widgets", "widgets/status"], "{list}");
    }

    // Created at v2 (the fixture the gateway's conversion e2e uses), stored at v1.
    let cr = std::fs::read_to_string(ork_tests::root().join("tests/fixtures/gateway/conversion/cr-v2.yaml")).unwrap();
    let out = c.apply(&cr, &[]).await;
    assert_eq!(out.code, 0, "{out}");
    assert!(out.stdout.contains("widget.shop.ork.dev/gizmo created"), "{out}");
    assert!(calls.load(Ordering::SeqCst) > 0, "a create at v2 goes through the webhook");
    let stored = c.dev.store().objects(&services::cluster::ApiResource {
        group: "shop.ork.dev".into(),
        version: "v1".into(),
        kind: "Widget".into(),
        plural: "widgets".into(),
        namespaced: true,
    });
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["apiVersion"], "shop.ork.dev/v1", "stored once, at the storage version");
    assert_eq!(stored[0]["spec"], json!({"replicas": 3, "tier": "gold", "color": "blue"}));

    // Read at each version: v1 is what is stored, v2 is what was sent — lossless.
    let at_v1 = json_of(&c.ok(&["get", "widgets.v1.shop.ork.dev", "gizmo", "-o", "json"]).await);
    assert_eq!(at_v1["apiVersion"], "shop.ork.dev/v1");
    assert_eq!(at_v1["spec"], json!({"replicas": 3, "tier": "gold", "color": "blue"}));
    let at_v2 = json_of(&c.ok(&["get", "widgets.v2.shop.ork.dev", "gizmo", "-o", "json"]).await);
    assert_eq!(at_v2["apiVersion"], "shop.ork.dev/v2");
    assert_eq!(at_v2["spec"], json!({"size": 3, "settings": {"tier": "gold"}, "color": "blue"}));
    assert_eq!(at_v2["metadata"]["uid"], at_v1["metadata"]["uid"], "one object");
    assert_eq!(at_v2["metadata"]["resourceVersion"], at_v1["metadata"]["resourceVersion"]);

    // v1 -> v2 -> v1: an object created at v1, updated at v2 (a merge patch of the v2 shape), read
    // back at v1 with nothing lost.
    let v1 = "apiVersion: shop.ork.dev/v1\nkind: Widget\nmetadata: {name: sprocket, namespace: default, labels: {team: a}}\nspec: {replicas: 2, tier: silver, color: red, extra: {keep: [1, 2]}}\n";
    assert_eq!(c.apply(v1, &[]).await.code, 0);
    let before = json_of(&c.ok(&["get", "widgets.v1.shop.ork.dev", "sprocket", "-o", "json"]).await);
    let out = c.kubectl(&["patch", "widgets.v2.shop.ork.dev", "sprocket", "--type=merge", "-p", r#"{"spec":{"size":5}}"#, "-o", "json"]).await;
    assert_eq!(out.code, 0, "{out}");
    let patched = json_of(&out.stdout);
    assert_eq!(patched["apiVersion"], "shop.ork.dev/v2", "the answer is at the version of the request");
    assert_eq!(patched["spec"], json!({"size": 5, "settings": {"tier": "silver"}, "color": "red", "extra": {"keep": [1, 2]}}));
    let after = json_of(&c.ok(&["get", "widgets.v1.shop.ork.dev", "sprocket", "-o", "json"]).await);
    assert_eq!(after["spec"], json!({"replicas": 5, "tier": "silver", "color": "red", "extra": {"keep": [1, 2]}}));
    assert_eq!(after["metadata"]["labels"], before["metadata"]["labels"]);
    // And the status subresource at v2.
    let out = c.kubectl(&["patch", "widgets.v2.shop.ork.dev", "sprocket", "--subresource=status", "--type=merge", "-p", r#"{"status":{"ready":true}}"#]).await;
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(c.ok(&["get", "widgets.v1.shop.ork.dev", "sprocket", "-o", "jsonpath={.status.ready}"]).await, "true");

    // List at the non-storage version: every item converted; kubectl's default (preferred) is v2.
    let list = json_of(&c.ok(&["get", "widgets.v2.shop.ork.dev", "-o", "json"]).await);
    let sizes: Vec<&Value> = list["items"].as_array().unwrap().iter().map(|i| &i["spec"]["size"]).collect();
    assert_eq!(sizes, [&json!(3), &json!(5)], "{list}");
    assert!(list["items"].as_array().unwrap().iter().all(|i| i["apiVersion"] == "shop.ork.dev/v2"));
    assert_eq!(c.ok(&["get", "widgets", "gizmo", "-o", "jsonpath={.apiVersion}"]).await, "shop.ork.dev/v2");

    // Watch at the non-storage version: the current state and then a change, both at v2.
    let rv = at_v2["metadata"]["resourceVersion"].as_str().unwrap().to_string();
    let events = raw_watch(&c, "/apis/shop.ork.dev/v2/namespaces/default/widgets?watch=true&timeoutSeconds=3", async {
        let out = c.kubectl(&["patch", "widgets.v1.shop.ork.dev", "gizmo", "--type=merge", "-p", r#"{"spec":{"replicas":4}}"#]).await;
        assert_eq!(out.code, 0, "{out}");
    })
    .await;
    assert!(events.iter().any(|e| e["type"] == "ADDED" && e["object"]["metadata"]["name"] == "gizmo" && e["object"]["spec"]["size"] == 3), "{events:?}");
    let modified = events.iter().find(|e| e["type"] == "MODIFIED").unwrap_or_else(|| panic!("{events:?}"));
    assert_eq!(modified["object"]["apiVersion"], "shop.ork.dev/v2");
    assert_eq!(modified["object"]["spec"]["size"], 4);
    assert!(modified["object"]["metadata"]["resourceVersion"].as_str().unwrap().parse::<u64>().unwrap() > rv.parse::<u64>().unwrap());

    // An admission webhook registered for v1 only also sees requests made at v2 (the API server's
    // default matchPolicy, Equivalent), with the object converted to v1.
    let validating = format!(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {{name: seen}}\nwebhooks:\n- name: seen.ork.test\n  clientConfig: {{url: \"https://{}/seen\", caBundle: {}}}\n  rules: [{{apiGroups: [shop.ork.dev], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [widgets]}}]\n  sideEffects: None\n  admissionReviewVersions: [v1]\n",
        hooks.addr, hooks.ca_bundle
    );
    assert_eq!(c.apply(&validating, &[]).await.code, 0);
    let out = c.kubectl(&["patch", "widgets.v2.shop.ork.dev", "gizmo", "--type=merge", "-p", r#"{"spec":{"size":7}}"#]).await;
    assert_eq!(out.code, 0, "{out}");
    assert!(out.stderr.contains("Warning: seen as v1 shop.ork.dev/v1 (spec.replicas=7) for a request at v2"), "{out}");
    let exact = validating.replace("  sideEffects: None", "  matchPolicy: Exact\n  sideEffects: None");
    assert_eq!(c.apply(&exact, &[]).await.code, 0);
    let out = c.kubectl(&["patch", "widgets.v2.shop.ork.dev", "gizmo", "--type=merge", "-p", r#"{"spec":{"size":8}}"#]).await;
    assert!(out.code == 0 && !out.stderr.contains("Warning:"), "matchPolicy Exact: v1 only: {out}");
    assert_eq!(
        c.ok(&["delete", "validatingwebhookconfiguration", "seen"]).await,
        "validatingwebhookconfiguration.admissionregistration.k8s.io \"seen\" deleted\n"
    );

    // A webhook that refuses: kubectl says why, as against kube-apiserver.
    let broken = "apiVersion: shop.ork.dev/v1\nkind: Widget\nmetadata: {name: broken, namespace: default, labels: {convert: fail}}\nspec: {replicas: 1}\n";
    assert_eq!(c.apply(broken, &[]).await.code, 0, "stored at v1 without a conversion");
    let out = c.kubectl(&["get", "widgets.v2.shop.ork.dev", "broken"]).await;
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("Error from server: conversion webhook for shop.ork.dev/v1, Kind=Widget failed: widgets labelled convert=fail cannot be converted"),
        "{out}"
    );
    assert_eq!(c.ok(&["get", "widgets.v1.shop.ork.dev", "broken", "-o", "jsonpath={.spec.replicas}"]).await, "1", "the storage version needs no webhook");
    assert_eq!(c.ok(&["delete", "widgets.v1.shop.ork.dev", "broken"]).await, "widget.shop.ork.dev \"broken\" deleted\n");

    // A webhook that cannot be reached: reads and writes at v2 fail with the API server's 500.
    let dead = hooks::dead_port().await;
    let out = c.apply(&crd("widgets", "Widget", &webhook_conversion(&format!("https://{dead}/convert"), &hooks.ca_bundle)), &[]).await;
    assert_eq!(out.code, 0, "{out}");
    let started = Instant::now();
    let out = c.kubectl(&["get", "widgets.v2.shop.ork.dev", "gizmo"]).await;
    assert_ne!(out.code, 0);
    assert!(
        out.stderr
            .contains(&format!("Error from server: conversion webhook for shop.ork.dev/v1, Kind=Widget failed: Post \"https://{dead}/convert\": dial tcp")),
        "{out}"
    );
    let out = c.kubectl(&["get", "widgets.v2.shop.ork.dev"]).await;
    assert!(out.code != 0 && out.stderr.contains("conversion webhook for shop.ork.dev/v1, Kind=WidgetList failed"), "{out}");
    let out = c.apply(&cr.replace("gizmo", "gadget"), &[]).await;
    assert!(out.code != 0 && out.stderr.contains("conversion webhook for shop.ork.dev/v2, Kind=Widget failed"), "{out}");
    assert!(started.elapsed() < Duration::from_secs(60), "failures are prompt");
    c.dev.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strategy_none_only_rewrites_the_api_version() {
    let c = hooks::cluster("conversion-none").await;
    let out = c.apply(&crd("gadgets", "Gadget", "  conversion: {strategy: None}\n"), &[]).await;
    assert_eq!(out.code, 0, "{out}");
    let v2 = "apiVersion: shop.ork.dev/v2\nkind: Gadget\nmetadata: {name: g, namespace: default}\nspec: {size: 3}\n";
    let out = c.apply(v2, &[]).await;
    assert_eq!(out.code, 0, "{out}");
    let at_v1 = json_of(&c.ok(&["get", "gadgets.v1.shop.ork.dev", "g", "-o", "json"]).await);
    assert_eq!((&at_v1["apiVersion"], &at_v1["spec"]), (&json!("shop.ork.dev/v1"), &json!({"size": 3})));
    let at_v2 = json_of(&c.ok(&["get", "gadgets.v2.shop.ork.dev", "g", "-o", "json"]).await);
    assert_eq!((&at_v2["apiVersion"], &at_v2["spec"]), (&json!("shop.ork.dev/v2"), &json!({"size": 3})));
    let list = json_of(&c.ok(&["get", "gadgets.v2.shop.ork.dev", "-o", "json"]).await);
    assert_eq!(list["items"][0]["apiVersion"], "shop.ork.dev/v2", "{list}");
    // A body that is not an object, at the version that needs converting: refused, not a crash.
    let out = c.kubectl_in(&["create", "--raw", "/apis/shop.ork.dev/v2/namespaces/default/gadgets", "-f", "-"], Some("[1, 2]")).await;
    assert!(out.code != 0 && out.stderr.contains("the body is not an object"), "{out}");
    assert_eq!(c.ok(&["get", "gadgets.v2.shop.ork.dev", "g", "-o", "jsonpath={.spec.size}"]).await, "3", "still serving");
    // A version the CRD does not serve is not there.
    let out = c.kubectl(&["get", "--raw", "/apis/shop.ork.dev/v3/namespaces/default/gadgets"]).await;
    assert!(out.code != 0 && out.stderr.contains("NotFound"), "{out}");
    c.dev.stop().await;
}
