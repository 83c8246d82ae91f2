//! The gateway beside the embedded dev cluster, driven by real kubectl: the namespace-protection
//! demo's refusal at `kubectl apply` time, and a deleted webhook configuration back within 5 s.

use super::*;
use services::cluster::{Cluster, KubeCluster};
use services::devcluster::{DevCluster, Options as DevOptions};
use std::path::PathBuf;

async fn kubectl(kubeconfig: PathBuf, args: &[&str]) -> (i32, String) {
    crate::rt::kubectl(&kubeconfig, args).await
}

fn bucket(ns: &str) -> String {
    format!("apiVersion: storage.ork.dev/v1\nkind: Bucket\nmetadata:\n  name: b\n  namespace: {ns}\nspec: {{}}\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_apply_into_a_restricted_namespace_is_refused_and_a_deleted_configuration_heals() {
    let dir = ork_tests::TempDir::new("gw-dev");
    let dev = DevCluster::start(DevOptions { port: 0, ready_after: Duration::from_secs(1), tls: true, ..DevOptions::default() }).await.unwrap();
    let kc = dir.write("kubeconfig", &dev.kubeconfig());
    let admin = Arc::new(KubeCluster::new(dev.client().await.unwrap()));
    let k = demo("namespace-protection");
    let katalog = valid(&k);
    services::run::install(&admin, &katalog.katalog).await.unwrap();
    for ns in [NS, "team-a"] {
        let obj = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
        admin.create(&res("", "Namespace"), None, &obj).await.unwrap();
    }
    let opts = Options { sync_interval: Duration::from_secs(1), ..options() };
    let gw = start_ready(admin.clone(), &k, opts).await;

    let refused = dir.write("refused.yaml", &bucket("kube-system"));
    let (code, out) = kubectl(kc.clone(), &["apply", "-f", refused.to_str().unwrap()]).await;
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("[Bucket \"b\"] namespace \"kube-system\" is restricted"), "{out}");
    assert!(out.contains("namespace-protection.orkestra.orkspace.io"), "{out}");
    let allowed = dir.write("allowed.yaml", &bucket("team-a"));
    let (code, out) = kubectl(kc.clone(), &["apply", "-f", allowed.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{out}");

    // Deleted with kubectl: back within 5 s, and the protection holds again.
    let name = katalog::install::WebhookConfig::NamespaceProtection.name(NS);
    let (code, out) = kubectl(kc.clone(), &["delete", "validatingwebhookconfiguration", &name]).await;
    assert_eq!(code, 0, "{out}");
    let t = Instant::now();
    loop {
        let (code, _) = kubectl(kc.clone(), &["get", "validatingwebhookconfiguration", &name]).await;
        if code == 0 {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(5), "the configuration is not back within 5 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (code, out) = kubectl(kc.clone(), &["apply", "-f", refused.to_str().unwrap()]).await;
    assert_ne!(code, 0, "protection holds again: {out}");
    gw.shutdown().await;
    dev.stop().await;
}

/// Every gateway feature at once, with a conversion CRD (updateCRD) and cleanupOnShutdown.
const ALL_FEATURES: &str = r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: gw-rbac}
security:
  webhooks: {admission: {enabled: true}, cleanupOnShutdown: true}
  namespaceProtection: {enabled: true, restrictedNamespaces: [kube-system]}
  deletionProtection: {enabled: true}
  conversion: {enabled: true}
spec:
  crds:
    bucket:
      apiTypes: {group: storage.ork.dev, version: v1, kind: Bucket, plural: buckets}
      admission:
        validation:
          rules: [{field: spec.tier, exists: true, message: "spec.tier is required"}]
    widget:
      apiTypes: {group: shop.ork.dev, version: v1, kind: Widget, plural: widgets}
      admission:
        conversion:
          storageVersion: v1
          updateCRD: true
          paths:
            - {from: v1, to: v2, spec: {size: "{{ .spec.replicas }}"}}
            - {from: v2, to: v1, spec: {replicas: "{{ .spec.size }}"}}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_runs_with_exactly_its_bundles_permissions() {
    use services::devcluster::authz::User;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = ork_tests::TempDir::new("gw-rbac");
    let k = dir.write("katalog.yaml", ALL_FEATURES);
    const TOKEN: &str = "gateway-token";
    let ns = katalog::install::DEFAULT_NAMESPACE;
    let gateway_user = User::service_account(ns, katalog::install::GATEWAY_SERVICE_ACCOUNT);
    let opts = DevOptions { rbac: true, tokens: vec![(TOKEN.into(), gateway_user.clone())], tls: true, ..DevOptions::default() };
    let dev = DevCluster::start(opts).await.unwrap();
    let kc = dir.write("admin.kubeconfig", &dev.kubeconfig());
    // The administrator installs the CRDs and the bundle, as a user would.
    for (what, file) in [("crd", "crd.gen.yaml"), ("bundle", "bundle.yaml")] {
        let out = dir.path().join(file);
        let run = ork_tests::ork(dir.path(), &["generate", what, "-f", k.to_str().unwrap(), "-o", out.to_str().unwrap()]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let (code, text) = kubectl(kc.clone(), &["apply", "-f", out.to_str().unwrap()]).await;
        assert_eq!(code, 0, "{text}");
    }
    // Left over from an earlier Katalog: a feature this one no longer declares.
    let stale = dir.write(
        "stale.yaml",
        &format!(
            "apiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata: {{name: {}}}\nwebhooks: []\n",
            katalog::install::WebhookConfig::Mutation.name(ns)
        ),
    );
    let (code, text) = kubectl(kc.clone(), &["apply", "-f", stale.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{text}");

    // The gateway, as its ServiceAccount, with leader election and every feature.
    let cluster = Arc::new(KubeCluster::new(dev.client_with_token(TOKEN).await.unwrap()));
    let opts = Options { leader_election: true, sync_interval: Duration::from_millis(500), ..Options::dev(ns) };
    let gw = start_ready(cluster, &k, opts).await;
    let (code, _) = kubectl(kc.clone(), &["get", "mutatingwebhookconfiguration", &katalog::install::WebhookConfig::Mutation.name(ns)]).await;
    assert_ne!(code, 0, "the undeclared configuration is deleted");
    let (code, text) = kubectl(kc.clone(), &["get", "crd", "widgets.shop.ork.dev", "-o", "jsonpath={.spec.conversion.webhook.clientConfig.url}"]).await;
    assert_eq!((code, text), (0, format!("https://{}/convert", gw.webhook_addr())));
    gw.shutdown().await;
    let (code, _) = kubectl(kc.clone(), &["get", "secret", "-n", ns, katalog::install::TLS_SECRET]).await;
    assert_ne!(code, 0, "cleanupOnShutdown deletes the Secret");

    let audit = dev.audit();
    let mine: Vec<_> = audit.iter().filter(|e| e.user == gateway_user.name).collect();
    assert!(mine.len() >= 10, "{mine:?}");
    let denied: Vec<_> = mine.iter().filter(|e| !e.allowed).collect();
    assert!(denied.is_empty(), "the bundle must be sufficient: {denied:?}");
    dev.stop().await;
}

/// A Katalog whose certificate lives 8 s and is rotated 4 s before it expires.
const ROTATING: &str = r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: rotating}
security:
  certManager: {validFor: 8s, rotationThreshold: 4s}
  namespaceProtection: {enabled: true, failurePolicy: Fail, restrictedNamespaces: [kube-system]}
spec:
  crds:
    bucket:
      apiTypes: {group: storage.ork.dev, version: v1, kind: Bucket, plural: buckets}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admission_through_the_dev_cluster_keeps_working_across_a_certificate_rotation() {
    let dir = ork_tests::TempDir::new("gw-dev-rotate");
    let dev = DevCluster::start(DevOptions { port: 0, ready_after: Duration::from_secs(1), tls: true, ..DevOptions::default() }).await.unwrap();
    let admin = Arc::new(KubeCluster::new(dev.client().await.unwrap()));
    let k = dir.write("katalog.yaml", ROTATING);
    services::run::install(&admin, &valid(&k).katalog).await.unwrap();
    for ns in [NS, "team-a"] {
        let obj = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
        admin.create(&res("", "Namespace"), None, &obj).await.unwrap();
    }
    let gw = start_ready(admin.clone(), &k, Options { sync_interval: Duration::from_millis(500), ..options() }).await;
    let secret = || {
        let admin = admin.clone();
        async move { admin.get(&res("", "Secret"), Some(NS), katalog::install::TLS_SECRET).await.ok() }
    };
    let first = secret_text(&secret().await.unwrap(), "tls.crt");

    // Creates through the API server, which calls the webhook (Fail) with the configuration's
    // caBundle as it is at that moment: every one must be admitted, across the rotation.
    let buckets = services::cluster::ApiResource {
        group: "storage.ork.dev".into(),
        version: "v1".into(),
        kind: "Bucket".into(),
        plural: "buckets".into(),
        namespaced: true,
    };
    // 14 s: the first certificate is rotated after ~4 s, its successor after ~8 s more.
    let (mut admitted, mut refused, mut rotated) = (0, Vec::new(), false);
    let t = Instant::now();
    let mut i = 0;
    while t.elapsed() < Duration::from_secs(14) {
        let obj = serde_json::json!({"apiVersion": "storage.ork.dev/v1", "kind": "Bucket", "metadata": {"name": format!("b{i}"), "namespace": "team-a"}});
        match admin.create(&buckets, Some("team-a"), &obj).await {
            Ok(_) => admitted += 1,
            Err(e) => refused.push(e.to_string()),
        }
        i += 1;
        rotated = rotated || secret().await.is_some_and(|s| secret_text(&s, "tls.crt") != first);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(rotated, "the certificate was not rotated within 14 s");
    assert!(refused.is_empty(), "{} requests refused across the rotation: {:?}", refused.len(), &refused[..refused.len().min(3)]);
    assert!(admitted > 20, "only {admitted} creates");
    // And the protection still holds, with the new certificate.
    let sneaky = serde_json::json!({"apiVersion": "storage.ork.dev/v1", "kind": "Bucket", "metadata": {"name": "sneaky", "namespace": "kube-system"}});
    let err = admin.create(&buckets, Some("kube-system"), &sneaky).await.unwrap_err().to_string();
    assert!(err.contains("namespace \"kube-system\" is restricted"), "{err}");
    gw.shutdown().await;
    dev.stop().await;
}
