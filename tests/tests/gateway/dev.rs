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
