//! The gateway beside the embedded dev cluster, driven by real kubectl: the namespace-protection
//! demo's refusal at `kubectl apply` time, and a deleted webhook configuration back within 5 s.

use super::*;
use services::cluster::{Cluster, KubeCluster};
use services::devcluster::{DevCluster, Options as DevOptions};
use std::path::PathBuf;

async fn kubectl(kubeconfig: PathBuf, args: &[&str]) -> (i32, String) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new("kubectl").args(&args).env("KUBECONFIG", &kubeconfig).output().expect("kubectl is required");
        (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    })
    .await
    .unwrap()
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
