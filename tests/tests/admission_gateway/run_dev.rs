//! `ork run --dev` starts the gateway beside the runtime when the Katalog declares a gateway
//! feature, so the local stack is the whole stack, and stops it on SIGTERM.

use super::kubectl;
use ork_tests::TempDir;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ork_run_dev_registers_the_gateways_webhooks_so_kubectl_apply_into_kube_system_is_refused() {
    let dir = TempDir::new("ork-run-dev-gw");
    let katalog = super::demo("namespace-protection").join("katalog.yaml");
    let kc = dir.path().join("dev.kubeconfig");
    let log = dir.path().join("run.log");
    let mut child = Command::new(ork_tests::ork_bin())
        .args(["run", "--dev", "--port", "0", "-n", "ork-run-gw", "-f"])
        .arg(&katalog)
        .arg("--kubeconfig")
        .arg(&kc)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let config = katalog::install::WebhookConfig::NamespaceProtection.name("ork-run-gw");
    let start = Instant::now();
    loop {
        if kc.exists() && kubectl(&kc, &["get", "validatingwebhookconfiguration", &config, "-o", "name"]).await.0 == 0 {
            break;
        }
        if start.elapsed() > Duration::from_secs(30) || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the gateway's webhook configuration never appeared:\n{}", std::fs::read_to_string(&log).unwrap_or_default());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refused = dir.write("refused.yaml", "apiVersion: storage.ork.dev/v1\nkind: Bucket\nmetadata: {name: sneaky, namespace: kube-system}\nspec: {}\n");
    let (code, out) = kubectl(&kc, &["apply", "-f", &refused.to_string_lossy()]).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(r#"[Bucket "sneaky"] namespace "kube-system" is restricted"#), "{out}");
    // An allowed Bucket is admitted and reconciled by the runtime beside the gateway.
    assert_eq!(kubectl(&kc, &["create", "namespace", "team-a"]).await.0, 0);
    let allowed = dir.write("allowed.yaml", "apiVersion: storage.ork.dev/v1\nkind: Bucket\nmetadata: {name: b, namespace: team-a}\nspec: {}\n");
    let (code, out) = kubectl(&kc, &["apply", "-f", &allowed.to_string_lossy()]).await;
    assert_eq!(code, 0, "{out}");
    super::within("the runtime's ConfigMap", Duration::from_secs(15), || async {
        kubectl(&kc, &["get", "configmap", "b-bucket", "-n", "team-a", "-o", "name"]).await.0 == 0
    })
    .await;
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("gateway ready beside the runtime"), "{text}");

    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let start = Instant::now();
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code();
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ork run --dev did not stop on SIGTERM:\n{}", std::fs::read_to_string(&log).unwrap_or_default());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(code, Some(0), "{}", std::fs::read_to_string(&log).unwrap_or_default());
}
