//! The dev cluster calls admission webhooks the way the API server does: a small rustls webhook
//! server denies one object and mutates others; kubectl prints the denial; failurePolicy and
//! objectSelector decide what happens and who is asked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::Json;
use axum::extract::State;
use axum::routing::post;
use serde_json::{Value, json};
use services::devcluster::{DevCluster, Options};
use services::serve::tls::{Ca, TlsListener, server_config};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Requests the webhook server has seen.
#[derive(Default)]
struct Seen {
    validate: AtomicUsize,
    mutate: AtomicUsize,
}

async fn validate(State(seen): State<Arc<Seen>>, Json(review): Json<Value>) -> Json<Value> {
    seen.validate.fetch_add(1, Ordering::SeqCst);
    let req = &review["request"];
    let denied = req.pointer("/object/metadata/labels/deny") == Some(&json!("yes"));
    let mut response = json!({"uid": req["uid"], "allowed": !denied});
    if denied {
        response["status"] = json!({"message": "configmaps labelled deny=yes are refused", "code": 403});
    }
    Json(json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}))
}

async fn mutate(State(seen): State<Arc<Seen>>, Json(review): Json<Value>) -> Json<Value> {
    seen.mutate.fetch_add(1, Ordering::SeqCst);
    let req = &review["request"];
    let has_labels = req.pointer("/object/metadata/labels").is_some();
    let ops = if has_labels {
        json!([{"op": "add", "path": "/metadata/labels/mutated", "value": "yes"}])
    } else {
        json!([{"op": "add", "path": "/metadata/labels", "value": {"mutated": "yes"}}])
    };
    let patch = katalog::template::base64_encode(ops.to_string().as_bytes());
    Json(json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                "response": {"uid": req["uid"], "allowed": true, "patchType": "JSONPatch", "patch": patch}}))
}

async fn kubectl(kubeconfig: PathBuf, args: Vec<String>) -> (i32, String) {
    crate::rt::kubectl(&kubeconfig, &args.iter().map(String::as_str).collect::<Vec<_>>()).await
}

fn configmap(name: &str, labels: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: default\n  labels: {{{labels}}}\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_deny_mutate_and_follow_their_failure_policy() {
    let dir = ork_tests::TempDir::new("admission");
    // The webhook server: TLS from a CA the webhook configurations will carry as caBundle.
    let ca = Ca::new("webhook-ca").unwrap();
    let leaf = ca.leaf(&["127.0.0.1"]).unwrap();
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_addr = tcp.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let app = axum::Router::new().route("/validate", post(validate)).route("/mutate", post(mutate)).with_state(seen.clone());
    let server = tokio::spawn(async move {
        let _ = axum::serve(TlsListener::new(tcp, server_config(&leaf).unwrap()).unwrap(), app).await;
    });
    // A port nothing listens on, for the failure policies.
    let dead = { tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap() };

    let dev = DevCluster::start(Options { port: 0, ready_after: Duration::from_secs(1), tls: true, ..Options::default() }).await.unwrap();
    let kc = dir.write("kubeconfig", &dev.kubeconfig());
    let ca_b64 = katalog::template::base64_encode(ca.pem().as_bytes());
    let hook = |name: &str, url: String, policy: &str, selector: &str| {
        format!(
            "- name: {name}\n  clientConfig: {{url: \"{url}\", caBundle: {ca_b64}}}\n  rules: [{{apiGroups: [\"\"], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [configmaps]}}]\n  failurePolicy: {policy}\n  sideEffects: None\n  admissionReviewVersions: [v1]\n  timeoutSeconds: 2\n  objectSelector: {selector}\n"
        )
    };
    let config = format!(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {{name: test-validation}}\nwebhooks:\n{}---\napiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata: {{name: test-mutation}}\nwebhooks:\n{}",
        hook("deny.ork.test", format!("https://{hook_addr}/validate"), "Fail", "{matchLabels: {checked: \"true\"}}"),
        hook("label.ork.test", format!("https://{hook_addr}/mutate"), "Fail", "{matchLabels: {checked: \"true\"}}"),
    );
    let cfg = dir.write("webhooks.yaml", &config);
    let apply = |f: &PathBuf| vec!["apply".to_string(), "-f".to_string(), f.to_string_lossy().into_owned()];
    let (code, out) = kubectl(kc.clone(), apply(&cfg)).await;
    assert_eq!(code, 0, "{out}");

    // Denied: kubectl prints the webhook's message as the API server words it.
    let denied = dir.write("denied.yaml", &configmap("bad", "checked: \"true\", deny: \"yes\""));
    let (code, out) = kubectl(kc.clone(), apply(&denied)).await;
    assert_ne!(code, 0);
    assert!(
        out.contains("Error from server (Forbidden)")
            && out.contains("admission webhook \"deny.ork.test\" denied the request: configmaps labelled deny=yes are refused"),
        "{out}"
    );
    let (code, _) = kubectl(kc.clone(), vec!["get".into(), "cm".into(), "bad".into()]).await;
    assert_ne!(code, 0, "a denied object is not stored");

    // Admitted and mutated (mutating webhooks run before validating ones).
    let good = dir.write("good.yaml", &configmap("good", "checked: \"true\""));
    let (code, out) = kubectl(kc.clone(), apply(&good)).await;
    assert_eq!(code, 0, "{out}");
    let (_, label) = kubectl(kc.clone(), vec!["get".into(), "cm".into(), "good".into(), "-o".into(), "jsonpath={.metadata.labels.mutated}".into()]).await;
    assert_eq!(label, "yes");

    // objectSelector: an unlabelled object is not sent to the webhooks at all.
    let before = (seen.validate.load(Ordering::SeqCst), seen.mutate.load(Ordering::SeqCst));
    let plain = dir.write("plain.yaml", &configmap("plain", "team: x"));
    let (code, out) = kubectl(kc.clone(), apply(&plain)).await;
    assert_eq!(code, 0, "{out}");
    assert_eq!((seen.validate.load(Ordering::SeqCst), seen.mutate.load(Ordering::SeqCst)), before);

    // namespaceSelector: a webhook limited to labelled namespaces is not asked about others.
    let scoped = format!(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {{name: test-scoped}}\nwebhooks:\n{}  namespaceSelector: {{matchLabels: {{admission: \"on\"}}}}\n",
        hook("scoped.ork.test", format!("https://{hook_addr}/validate"), "Fail", "{}")
    );
    assert_eq!(kubectl(kc.clone(), apply(&dir.write("scoped.yaml", &scoped))).await.0, 0);
    let before = seen.validate.load(Ordering::SeqCst);
    let other = dir.write("other.yaml", &configmap("other", "team: other"));
    let (code, out) = kubectl(kc.clone(), apply(&other)).await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(seen.validate.load(Ordering::SeqCst), before, "the default namespace is not labelled admission=on");
    let labelled_ns = dir.write("ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: checked, labels: {admission: \"on\"}}\n");
    assert_eq!(kubectl(kc.clone(), apply(&labelled_ns)).await.0, 0);
    let inside = dir.write("inside.yaml", &configmap("inside", "team: other").replace("namespace: default", "namespace: checked"));
    assert_eq!(kubectl(kc.clone(), apply(&inside)).await.0, 0);
    assert_eq!(seen.validate.load(Ordering::SeqCst), before + 1, "a labelled namespace is");

    // failurePolicy: an unreachable webhook fails the request with Fail, is skipped with Ignore.
    let unreachable = |policy: &str| {
        format!(
            "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {{name: test-dead}}\nwebhooks:\n{}",
            hook("dead.ork.test", format!("https://{dead}/validate"), policy, "{matchLabels: {dead: \"true\"}}")
        )
    };
    let dead_cfg = dir.write("dead.yaml", &unreachable("Fail"));
    assert_eq!(kubectl(kc.clone(), apply(&dead_cfg)).await.0, 0);
    let probe = dir.write("probe.yaml", &configmap("probe", "dead: \"true\""));
    let (code, out) = kubectl(kc.clone(), apply(&probe)).await;
    assert_ne!(code, 0);
    assert!(out.contains("failed calling webhook \"dead.ork.test\""), "{out}");
    let dead_cfg = dir.write("dead.yaml", &unreachable("Ignore"));
    assert_eq!(kubectl(kc.clone(), apply(&dead_cfg)).await.0, 0);
    let (code, out) = kubectl(kc.clone(), apply(&probe)).await;
    assert_eq!(code, 0, "Ignore lets the request through: {out}");

    dev.stop().await;
    server.abort();
}
