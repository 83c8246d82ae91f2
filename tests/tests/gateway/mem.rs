//! The gateway against a `MemCluster`: the TLS Secret (created, reused, replaced, rotated),
//! the webhook configurations (as declared, healed, removed when undeclared, cleaned up on
//! shutdown), the conversion stanza, and the webhooks themselves over TLS.

use super::*;
use crate::wire::Conn;
use serde_json::json;
use services::cluster::Cluster;
use services::gateway::Endpoint;

const NS_KATALOG: &str = r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: gw-test}
security:
  namespaceProtection:
    enabled: true
    restrictedNamespaces: [kube-system]
    CLEANUP
  CERTS
spec:
  crds:
    bucket:
      apiTypes: {group: storage.ork.dev, version: v1, kind: Bucket, plural: buckets}
"#;

/// The namespace-protection Katalog, with `cleanupOnShutdown` and `certManager` lines.
fn ns_katalog(dir: &ork_tests::TempDir, cleanup: bool, certs: &str) -> std::path::PathBuf {
    let text = NS_KATALOG.replace("CLEANUP", if cleanup { "cleanupOnShutdown: true" } else { "failurePolicy: Fail" }).replace("CERTS", certs);
    dir.write("katalog.yaml", &text)
}

fn secret(c: &MemCluster) -> Option<Value> {
    c.peek(&res("", "Secret"), Some(NS), katalog::install::TLS_SECRET)
}

fn vwc(c: &MemCluster, name: &str) -> Option<Value> {
    c.peek(&res("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"), None, name)
}

fn ns_config() -> String {
    katalog::install::WebhookConfig::NamespaceProtection.name(NS)
}

/// A namespace-protection review of a Bucket in `ns`.
fn bucket_review(ns: &str) -> Vec<u8> {
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "u-1", "kind": {"group": "storage.ork.dev", "version": "v1", "kind": "Bucket"},
        "resource": {"group": "storage.ork.dev", "version": "v1", "resource": "buckets"},
        "name": "b", "namespace": ns, "operation": "CREATE", "userInfo": {"username": "alice"},
        "object": {"apiVersion": "storage.ork.dev/v1", "kind": "Bucket", "metadata": {"name": "b", "namespace": ns}, "spec": {}}}})
    .to_string()
    .into_bytes()
}

/// The PEM the API server would trust: the configuration's caBundle.
fn bundle_of(config: &Value) -> String {
    let b64 = config["webhooks"][0]["clientConfig"]["caBundle"].as_str().unwrap();
    String::from_utf8(katalog::template::base64_decode(b64).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tls_secret_is_created_reused_on_restart_and_replaced_when_malformed() {
    let dir = ork_tests::TempDir::new("gw-secret");
    let k = ns_katalog(&dir, false, "");
    let cluster = mem_cluster();
    let gw = start_ready(cluster.clone(), &k, options()).await;
    let s = secret(&cluster).expect("the Secret is created");
    assert_eq!(s["type"], "kubernetes.io/tls");
    assert_eq!(s["metadata"]["labels"]["app.kubernetes.io/tag"], "orkestra-internal");
    for key in ["tls.crt", "tls.key", "ca.crt"] {
        assert!(secret_text(&s, key).contains("-----BEGIN"), "{key}");
    }
    let ca = secret_text(&s, "ca.crt");
    // The configuration trusts exactly that CA, and the server presents a certificate it signed.
    let config = vwc(&cluster, &ns_config()).expect("the configuration is registered");
    assert_eq!(bundle_of(&config), ca);
    let mut conn = Conn::connect(gw.webhook_addr(), &ca).await.expect("TLS with the Secret's CA");
    let (status, body) = conn.post("/namespace-protection", &bucket_review("kube-system")).await.unwrap();
    assert_eq!(status, 200);
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer["response"]["allowed"], false);
    assert!(answer["response"]["status"]["message"].as_str().unwrap().contains("namespace \"kube-system\" is restricted"), "{answer}");
    gw.shutdown().await;

    // Restart: the same certificate, not a new one.
    let gw = start_ready(cluster.clone(), &k, options()).await;
    assert_eq!(secret_text(&secret(&cluster).unwrap(), "tls.crt"), secret_text(&s, "tls.crt"), "reused on restart");
    gw.shutdown().await;

    // Malformed: replaced by a usable one at the next start.
    let mut bad = secret(&cluster).unwrap();
    bad["data"]["tls.crt"] = json!(katalog::template::base64_encode(b"not a certificate"));
    cluster.update(&res("", "Secret"), Some(NS), &bad).await.unwrap();
    let gw = start_ready(cluster.clone(), &k, options()).await;
    let fixed = secret(&cluster).unwrap();
    assert!(secret_text(&fixed, "tls.crt").contains("BEGIN CERTIFICATE"), "replaced");
    assert!(Conn::connect(gw.webhook_addr(), &secret_text(&fixed, "ca.crt")).await.is_ok());

    // Deleted while running: restored from memory (the same certificate), never regenerated.
    let before = secret_text(&fixed, "tls.crt");
    cluster.delete(&res("", "Secret"), Some(NS), katalog::install::TLS_SECRET, Default::default()).await.unwrap();
    let restored = eventually("the Secret is restored", Duration::from_secs(5), || secret(&cluster)).await;
    assert_eq!(secret_text(&restored, "tls.crt"), before);
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_validity_rotates_the_certificate_without_a_restart_and_no_request_is_refused() {
    let dir = ork_tests::TempDir::new("gw-rotate");
    let k = ns_katalog(&dir, false, "certManager: {validFor: 8s, rotationThreshold: 4s}");
    let cluster = mem_cluster();
    let gw = start_ready(cluster.clone(), &k, options()).await;
    let addr = gw.webhook_addr();
    let first = secret(&cluster).unwrap();
    let (ca1, cert1) = (secret_text(&first, "ca.crt"), secret_text(&first, "tls.crt"));

    // Requests the way the API server makes them: trusting the configuration's caBundle as it
    // is at that moment, a new connection each time.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hammer = {
        let (cluster, stop) = (cluster.clone(), stop.clone());
        tokio::spawn(async move {
            let (mut ok, mut refused) = (0, Vec::new());
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let bundle = bundle_of(&vwc(&cluster, &ns_config()).unwrap());
                match Conn::connect(addr, &bundle).await {
                    Ok(mut c) => match c.post("/namespace-protection", &bucket_review("team-a")).await {
                        Ok((200, _)) => ok += 1,
                        other => refused.push(format!("{other:?}")),
                    },
                    Err(e) => refused.push(e.to_string()),
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (ok, refused)
        })
    };
    let rotated = eventually("the certificate is rotated", Duration::from_secs(10), || secret(&cluster).filter(|s| secret_text(s, "tls.crt") != cert1)).await;
    let ca2 = secret_text(&rotated, "ca.crt");
    assert_ne!(ca2, ca1, "a new CA");
    assert_eq!(secret_text(&rotated, "ca-previous.crt"), ca1, "the old CA is kept during the overlap");
    // Both CAs are in the bundle the API server trusts.
    let bundle = bundle_of(&vwc(&cluster, &ns_config()).unwrap());
    assert!(bundle.contains(ca1.trim()) && bundle.contains(ca2.trim()), "both CAs in the caBundle");
    // The running server (same address, no restart) presents the new certificate.
    eventually("the new certificate is served", Duration::from_secs(2), || Some(()).filter(|_| gw.ca_bundle().is_some_and(|b| b.contains(ca2.trim())))).await;
    assert!(Conn::connect(addr, &ca2).await.is_ok(), "served: signed by the new CA");
    assert!(Conn::connect(addr, &ca1).await.is_err(), "no longer the old certificate");
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (ok, refused) = hammer.await.unwrap();
    assert!(refused.is_empty(), "requests refused across the rotation: {refused:?}");
    assert!(ok > 10, "only {ok} requests made");
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configurations_are_those_the_katalogs_declare() {
    let cluster = mem_cluster();
    // Namespace protection: one webhook on the Katalog's kind, every namespace, Fail.
    let gw = start_ready(cluster.clone(), &demo("namespace-protection"), options()).await;
    let c = vwc(&cluster, &ns_config()).unwrap();
    assert_eq!(c["metadata"]["labels"], json!({"app.kubernetes.io/name": "orkestra", "app.kubernetes.io/tag": "orkestra-internal"}));
    let hooks = c["webhooks"].as_array().unwrap();
    assert_eq!(hooks.len(), 1);
    let w = &hooks[0];
    assert_eq!(w["name"], "namespace-protection.orkestra.orkspace.io");
    assert_eq!(w["failurePolicy"], "Fail");
    assert_eq!(w["namespaceSelector"], json!({}), "kube-system included");
    assert_eq!(
        w["rules"],
        json!([{"apiGroups": ["storage.ork.dev"], "apiVersions": ["*"], "resources": ["buckets"], "operations": ["CREATE", "UPDATE"], "scope": "*"}])
    );
    assert_eq!((w["sideEffects"].clone(), w["timeoutSeconds"].clone(), w["matchPolicy"].clone()), (json!("None"), json!(5), json!("Exact")));
    assert_eq!(w["admissionReviewVersions"], json!(["v1"]));
    let url = w["clientConfig"]["url"].as_str().unwrap();
    assert_eq!(url, format!("https://{}/namespace-protection", gw.webhook_addr()));
    gw.shutdown().await;

    // Admission rules: validation and mutation, the demo's failurePolicy (Fail), IfNeeded.
    let cluster = mem_cluster();
    let gw = start_ready(cluster.clone(), &demo("admission-rules"), options()).await;
    let v = vwc(&cluster, &katalog::install::WebhookConfig::Validation.name(NS)).unwrap();
    assert_eq!(v["webhooks"][0]["name"], "validate.orkestra.orkspace.io");
    assert_eq!(v["webhooks"][0]["failurePolicy"], "Fail");
    assert_eq!(v["webhooks"][0]["rules"][0]["resources"], json!(["databases"]));
    let m = cluster
        .peek(&res("admissionregistration.k8s.io", "MutatingWebhookConfiguration"), None, &katalog::install::WebhookConfig::Mutation.name(NS))
        .expect("the mutating configuration");
    assert_eq!(m["webhooks"][0]["name"], "mutate.orkestra.orkspace.io");
    assert_eq!(m["webhooks"][0]["reinvocationPolicy"], "IfNeeded");
    assert!(vwc(&cluster, &ns_config()).is_none(), "namespace protection is not declared");
    gw.shutdown().await;

    // Deletion protection: CRDs, the Katalog's kinds (labelled) and built-in kinds outside the
    // gateway's own namespace. (Reached through a Service: a restart binds another loopback
    // port, and a direct URL would change with it.)
    let service = || Options { endpoint: Endpoint::Service { name: "orkestra-gateway".into(), port: 8443 }, ..options() };
    let cluster = mem_cluster();
    let gw = start_ready(cluster.clone(), &demo("deletion-protection"), service()).await;
    let d = vwc(&cluster, &katalog::install::WebhookConfig::DeletionProtection.name(NS)).unwrap();
    let names: Vec<&str> = d["webhooks"].as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["protect.crds.orkestra.orkspace.io", "protect.resources.orkestra.orkspace.io", "protect.builtins.orkestra.orkspace.io"]);
    for w in d["webhooks"].as_array().unwrap() {
        assert_eq!(w["failurePolicy"], "Fail");
        assert!(w["rules"].as_array().unwrap().iter().all(|r| r["operations"] == json!(["DELETE"])));
    }
    assert_eq!(d["webhooks"][1]["rules"][0]["resources"], json!(["ledgers"]));
    assert_eq!(d["webhooks"][1]["objectSelector"], json!({"matchLabels": {"orkestra.io/deletion-protection": "true"}}));
    assert_eq!(
        d["webhooks"][2]["namespaceSelector"],
        json!({"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": [NS]}]})
    );
    // Deterministic: a second gateway computes the very same objects (nothing is rewritten).
    let stats = gw.stats();
    gw.shutdown().await;
    let gw = start_ready(cluster.clone(), &demo("deletion-protection"), service()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let again = vwc(&cluster, &katalog::install::WebhookConfig::DeletionProtection.name(NS)).unwrap();
    assert_eq!(again["webhooks"].as_array().unwrap().len(), 3);
    assert_eq!(gw.stats().writes("ValidatingWebhookConfiguration", "updated"), 0, "an equal configuration is left alone");
    assert_eq!(stats.writes("ValidatingWebhookConfiguration", "created"), 1);
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_or_edited_configuration_is_back_within_5s_and_undeclared_ones_are_removed() {
    let dir = ork_tests::TempDir::new("gw-heal");
    let k = ns_katalog(&dir, false, "");
    let cluster = mem_cluster();
    // Left over from a Katalog that declared validation and deletion protection.
    for c in [katalog::install::WebhookConfig::Validation, katalog::install::WebhookConfig::DeletionProtection] {
        cluster
            .seed(&json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration", "metadata": {"name": c.name(NS)}, "webhooks": []}))
            .unwrap();
    }
    let opts = Options { sync_interval: Duration::from_secs(2), ..options() };
    let gw = start_ready(cluster.clone(), &k, opts).await;
    assert!(vwc(&cluster, &katalog::install::WebhookConfig::Validation.name(NS)).is_none(), "undeclared: removed");
    assert!(vwc(&cluster, &katalog::install::WebhookConfig::DeletionProtection.name(NS)).is_none(), "undeclared: removed");
    let r = res("admissionregistration.k8s.io", "ValidatingWebhookConfiguration");
    let want = vwc(&cluster, &ns_config()).unwrap();

    // Deleted (with the default 2 s interval): back within 5 s.
    cluster.delete(&r, None, &ns_config(), Default::default()).await.unwrap();
    let t = Instant::now();
    let back = eventually("the deleted configuration is back", Duration::from_secs(5), || vwc(&cluster, &ns_config())).await;
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(back["webhooks"], want["webhooks"]);

    // Edited (failurePolicy loosened, a label removed): restored.
    let mut edited = back.clone();
    edited["webhooks"][0]["failurePolicy"] = json!("Ignore");
    edited["metadata"]["labels"] = json!({});
    cluster.update(&r, None, &edited).await.unwrap();
    let restored = eventually("the edited configuration is restored", Duration::from_secs(5), || {
        vwc(&cluster, &ns_config()).filter(|c| c["webhooks"][0]["failurePolicy"] == "Fail")
    })
    .await;
    assert_eq!(restored["metadata"]["labels"], want["metadata"]["labels"]);
    assert_eq!(restored["webhooks"], want["webhooks"]);
    gw.shutdown().await;
    // Without cleanupOnShutdown the configuration and the Secret stay.
    assert!(vwc(&cluster, &ns_config()).is_some());
    assert!(secret(&cluster).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_on_shutdown_deletes_the_configuration_and_the_secret() {
    let dir = ork_tests::TempDir::new("gw-cleanup");
    let k = ns_katalog(&dir, true, "");
    let cluster = mem_cluster();
    let gw = start_ready(cluster.clone(), &k, options()).await;
    assert!(vwc(&cluster, &ns_config()).is_some());
    gw.shutdown().await;
    assert!(vwc(&cluster, &ns_config()).is_none(), "cleanupOnShutdown deletes the configuration");
    assert!(secret(&cluster).is_none(), "and the TLS Secret ork generated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversion_crds_get_the_webhook_and_the_ca_bundle() {
    let k = ork_tests::root().join("tests/fixtures/gateway/conversion/katalog.yaml");
    let valid = valid(&k);
    let cluster = mem_cluster();
    let (name, entry) = valid.katalog.crds().iter().next().map(|(n, e)| (n.value.clone(), e.clone())).unwrap();
    let crd = katalog::authoring::crd::generate(&name, &entry, NS).unwrap();
    cluster.seed(&crd).unwrap();
    let gw = start_ready(cluster.clone(), &k, options()).await;
    let stored = cluster.peek(&res("apiextensions.k8s.io", "CustomResourceDefinition"), None, "widgets.shop.ork.dev").unwrap();
    let conv = &stored["spec"]["conversion"];
    assert_eq!(conv["strategy"], "Webhook");
    assert_eq!(conv["webhook"]["conversionReviewVersions"], json!(["v1"]));
    let cc = &conv["webhook"]["clientConfig"];
    assert_eq!(cc["url"], format!("https://{}/convert", gw.webhook_addr()));
    assert!(cc.get("service").is_none_or(Value::is_null), "direct: no Service reference: {cc}");
    let ca = secret_text(&secret(&cluster).unwrap(), "ca.crt");
    assert_eq!(String::from_utf8(katalog::template::base64_decode(cc["caBundle"].as_str().unwrap()).unwrap()).unwrap(), ca);
    // No admission configuration: conversion alone declares none.
    assert!(vwc(&cluster, &ns_config()).is_none());
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_and_metrics_are_served_on_the_http_port_and_a_service_endpoint_names_the_service() {
    let dir = ork_tests::TempDir::new("gw-probes");
    let k = ns_katalog(&dir, false, "");
    let cluster = mem_cluster();
    let opts = Options { endpoint: Endpoint::Service { name: "orkestra-gateway".into(), port: 8443 }, ..options() };
    let gw = start_ready(cluster.clone(), &k, opts).await;
    let get = |path: &'static str| {
        let addr = gw.http_addr();
        async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes()).await.unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            out
        }
    };
    assert!(get("/health").await.starts_with("HTTP/1.1 200"));
    assert!(get("/ready").await.starts_with("HTTP/1.1 200"));
    let metrics = get("/metrics").await;
    assert!(metrics.contains("ork_gateway_housekeeper_passes_total"), "{metrics}");
    assert!(metrics.contains("ork_gateway_housekeeper_writes_total{kind=\"ValidatingWebhookConfiguration\",action=\"created\"} 1"), "{metrics}");
    let c = vwc(&cluster, &ns_config()).unwrap();
    assert_eq!(
        c["webhooks"][0]["clientConfig"]["service"],
        json!({"name": "orkestra-gateway", "namespace": NS, "path": "/namespace-protection", "port": 8443})
    );
    // The certificate names the Service.
    let ca = secret_text(&secret(&cluster).unwrap(), "ca.crt");
    services::serve::tls::verify_leaf(
        ca.as_bytes(),
        secret_text(&secret(&cluster).unwrap(), "tls.crt").as_bytes(),
        &format!("orkestra-gateway.{NS}.svc"),
        katalog::time::unix_now(),
    )
    .unwrap();
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_elect_one_housekeeper_and_serve_the_same_certificate() {
    let dir = ork_tests::TempDir::new("gw-leader");
    let k = ns_katalog(&dir, false, "");
    let cluster = mem_cluster();
    let a = start_ready(cluster.clone(), &k, Options { leader_election: true, identity: "a".into(), ..options() }).await;
    let b = start_ready(cluster.clone(), &k, Options { leader_election: true, identity: "b".into(), ..options() }).await;
    let lease = cluster.peek(&res("coordination.k8s.io", "Lease"), Some(NS), katalog::install::GATEWAY_LEASE).expect("the housekeeper's Lease");
    assert_eq!(lease["spec"]["holderIdentity"], "a");
    let ca = secret_text(&secret(&cluster).unwrap(), "ca.crt");
    assert!(Conn::connect(a.webhook_addr(), &ca).await.is_ok());
    assert!(Conn::connect(b.webhook_addr(), &ca).await.is_ok(), "the follower serves the leader's certificate");
    b.shutdown().await;
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_files_are_served_and_swapped_when_they_change_with_no_secret() {
    use services::gateway::TlsSource;
    use services::serve::tls::Ca;
    let dir = ork_tests::TempDir::new("gw-files");
    let k = ns_katalog(&dir, false, "");
    // A self-signed-CA chain: the certificate file holds the leaf and its CA.
    let write = |tag: &str| {
        let ca = Ca::new(&format!("files-ca-{tag}")).unwrap();
        let leaf = ca.leaf(&["127.0.0.1"]).unwrap();
        dir.write("tls.crt", &format!("{}{}", leaf.cert_pem, ca.pem()));
        dir.write("tls.key", &leaf.key_pem);
        ca.pem()
    };
    let ca1 = write("one");
    let cluster = mem_cluster();
    let opts = Options { tls: TlsSource::Files { cert: dir.path().join("tls.crt"), key: dir.path().join("tls.key") }, ..options() };
    let gw = start_ready(cluster.clone(), &k, opts).await;
    assert!(secret(&cluster).is_none(), "no Secret with certificate files");
    assert!(bundle_of(&vwc(&cluster, &ns_config()).unwrap()).contains(ca1.trim()), "the certificate file is the CA bundle");
    assert!(Conn::connect(gw.webhook_addr(), &ca1).await.is_ok());
    let ca2 = write("two");
    eventually("the new files are served", Duration::from_secs(5), || Some(()).filter(|_| gw.ca_bundle().is_some_and(|b| b.contains(ca2.trim())))).await;
    assert!(Conn::connect(gw.webhook_addr(), &ca2).await.is_ok(), "swapped without a restart");
    assert!(Conn::connect(gw.webhook_addr(), &ca1).await.is_err());
    gw.shutdown().await;
}
