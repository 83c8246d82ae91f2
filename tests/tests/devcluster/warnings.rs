//! Admission warnings: what a webhook returns in `response.warnings` reaches kubectl as
//! `Warning:` lines on stderr, for create, update, patch, server-side apply and delete, deduplicated,
//! with quotes and backslashes intact and a warning with a control character dropped, as
//! kube-apiserver sends them; and kept when a webhook refuses the request.

use super::hooks;
use axum::Json;
use axum::routing::post;
use serde_json::{Value, json};

async fn warn(Json(review): Json<Value>) -> Json<Value> {
    let req = &review["request"];
    let op = req["operation"].as_str().unwrap_or_default();
    let object = if req["object"].is_null() { &req["oldObject"] } else { &req["object"] };
    let deny = object.pointer("/metadata/labels/deny") == Some(&json!("yes"));
    let warnings = json!([format!("saw {op}"), format!("saw {op}"), r#"say "cheese" \ smile"#, "bell\u{7} rings", ""]);
    let mut response = json!({"uid": req["uid"], "allowed": !deny, "warnings": warnings});
    if deny {
        response["status"] = json!({"message": "deny=yes is refused", "code": 403});
    }
    Json(json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}))
}

/// Answers for another request than the one asked about.
async fn liar(Json(review): Json<Value>) -> Json<Value> {
    let _ = review;
    Json(json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": {"uid": "not-the-one", "allowed": true, "warnings": ["lie"]}}))
}

fn cm(name: &str, data: &str, labels: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: default, labels: {{{labels}}}}}\ndata: {{{data}}}\n")
}

/// The `Warning:` lines kubectl printed.
fn warnings(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("Warning: ")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_warnings_reach_kubectl_as_warning_lines() {
    let hooks = hooks::serve(axum::Router::new().route("/warn", post(warn)).route("/liar", post(liar))).await;
    let c = hooks::cluster("warnings").await;
    let config = format!(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {{name: warn}}\nwebhooks:\n- name: warn.ork.test\n  clientConfig: {{url: \"https://{}/warn\", caBundle: {}}}\n  rules: [{{apiGroups: [\"\"], apiVersions: [v1], operations: [CREATE, UPDATE, DELETE], resources: [configmaps]}}]\n  failurePolicy: Fail\n  sideEffects: None\n  admissionReviewVersions: [v1]\n  timeoutSeconds: 5\n",
        hooks.addr, hooks.ca_bundle
    );
    let out = c.apply(&config, &[]).await;
    assert_eq!(out.code, 0, "{out}");
    let expect = |op: &str| vec![format!("Warning: saw {op}"), r#"Warning: say "cheese" \ smile"#.to_string()];

    // Create: allowed, exit 0, each distinct warning once, the one with a control character dropped.
    let out = c.apply(&cm("w", "a: \"1\"", ""), &[]).await;
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(warnings(&out.stderr), expect("CREATE"), "{out}");
    assert!(out.stdout.contains("configmap/w created"), "{out}");

    // Update through kubectl apply (a strategic merge patch), kubectl patch, kubectl replace.
    let out = c.apply(&cm("w", "a: \"2\"", ""), &[]).await;
    assert_eq!((out.code, warnings(&out.stderr)), (0, expect("UPDATE").iter().map(String::as_str).collect()), "{out}");
    let out = c.kubectl(&["patch", "cm", "w", "--type=merge", "-p", r#"{"data":{"b":"1"}}"#]).await;
    assert_eq!((out.code, warnings(&out.stderr)), (0, expect("UPDATE").iter().map(String::as_str).collect()), "{out}");
    let out = c.kubectl_in(&["replace", "-f", "-"], Some(&cm("w", "a: \"3\"", ""))).await;
    assert_eq!((out.code, warnings(&out.stderr)), (0, expect("UPDATE").iter().map(String::as_str).collect()), "{out}");

    // Server-side apply: creating and then changing.
    let out = c.apply(&cm("ssa", "a: \"1\"", ""), &["--server-side"]).await;
    assert_eq!((out.code, warnings(&out.stderr)), (0, expect("CREATE").iter().map(String::as_str).collect()), "{out}");
    let out = c.apply(&cm("ssa", "a: \"2\"", ""), &["--server-side"]).await;
    assert_eq!((out.code, warnings(&out.stderr)), (0, expect("UPDATE").iter().map(String::as_str).collect()), "{out}");

    // Delete.
    let out = c.kubectl(&["delete", "cm", "w"]).await;
    assert_eq!((out.code, warnings(&out.stderr)), (0, expect("DELETE").iter().map(String::as_str).collect()), "{out}");

    // A refusal keeps the warnings the webhook gave with it.
    let out = c.apply(&cm("denied", "a: \"1\"", "deny: \"yes\""), &[]).await;
    assert_ne!(out.code, 0);
    assert_eq!(warnings(&out.stderr), expect("CREATE"), "{out}");
    assert!(out.stderr.contains("admission webhook \"warn.ork.test\" denied the request: deny=yes is refused"), "{out}");

    // An answer for another request is not one: the API server checks the uid.
    let liar = format!(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {{name: liar}}\nwebhooks:\n- name: liar.ork.test\n  clientConfig: {{url: \"https://{}/liar\", caBundle: {}}}\n  rules: [{{apiGroups: [\"\"], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}}]\n  objectSelector: {{matchLabels: {{liar: \"yes\"}}}}\n  failurePolicy: Fail\n  sideEffects: None\n  admissionReviewVersions: [v1]\n",
        hooks.addr, hooks.ca_bundle
    );
    assert_eq!(c.apply(&liar, &[]).await.code, 0);
    let out = c.apply(&cm("lied-to", "a: \"1\"", "liar: \"yes\""), &[]).await;
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("failed calling webhook \"liar.ork.test\": received invalid webhook response: expected response.uid=")
            && !out.stderr.contains("Warning: lie"),
        "{out}"
    );

    // Objects without webhooks get no warnings.
    let out = c.kubectl(&["create", "namespace", "quiet"]).await;
    assert_eq!((out.code, warnings(&out.stderr)), (0, vec![]), "{out}");
    c.dev.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_carry_their_name_as_a_label() {
    let c = hooks::cluster("ns-label").await;
    assert_eq!(c.ok(&["get", "ns", "default", "-o", "jsonpath={.metadata.labels.kubernetes\\.io/metadata\\.name}"]).await, "default");
    assert_eq!(c.kubectl(&["create", "namespace", "team"]).await.code, 0);
    assert_eq!(c.ok(&["get", "ns", "team", "-o", "jsonpath={.metadata.labels.kubernetes\\.io/metadata\\.name}"]).await, "team");
    // Kept on update, even when the update leaves it out or changes it.
    let out = c.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: team, labels: {kubernetes.io/metadata.name: other, tier: x}}\n", &[]).await;
    assert_eq!(out.code, 0, "{out}");
    let labels = c.ok(&["get", "ns", "team", "-o", "jsonpath={.metadata.labels}"]).await;
    assert_eq!(serde_json::from_str::<Value>(&labels).unwrap(), json!({"kubernetes.io/metadata.name": "team", "tier": "x"}));
    assert_eq!(c.ok(&["get", "ns", "-l", "kubernetes.io/metadata.name=team", "-o", "name"]).await, "namespace/team\n");
    c.dev.stop().await;
}
