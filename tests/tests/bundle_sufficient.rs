//! The generated bundle is sufficient, and necessary: the reconciler, talking to the dev cluster
//! through kube-rs (`KubeCluster`) as the runtime's ServiceAccount with RBAC enforced, reconciles
//! the hello-website demo with exactly the bundle's permissions; remove one rule and the
//! reconcile fails with the 403 named.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use katalog::load::{LoadOptions, load_file};
use katalog::validate::validate;
use serde_json::{Value, json};
use services::cluster::{ApiResource, Cluster, KubeCluster, Patch};
use services::devcluster::authz::User;
use services::devcluster::{DevCluster, Options};
use services::reconcile::{Ctx, Outcome, Reconciler};
use std::path::PathBuf;
use std::time::Duration;

const RUNTIME_TOKEN: &str = "runtime-token";

async fn run(dir: PathBuf, kubeconfig: Option<PathBuf>, program: &'static str, args: Vec<String>) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        let bin = if program == "ork" { ork_tests::ork_bin() } else { PathBuf::from(program) };
        let mut cmd = std::process::Command::new(bin);
        cmd.args(&args).current_dir(&dir).env("NO_COLOR", "1");
        if let Some(kc) = kubeconfig {
            cmd.env("KUBECONFIG", kc);
        }
        let out = cmd.output().expect("run");
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runtime_reconciles_with_exactly_the_bundles_permissions() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = ork_tests::TempDir::new("bundle-proof");
    let demo = ork_tests::root().join("demos/beginner/hello-website");
    let runtime_user = User::service_account("orkestra-system", "orkestra");
    let opts = Options { rbac: true, tokens: vec![(RUNTIME_TOKEN.into(), runtime_user.clone())], ready_after: Duration::from_millis(50), ..Options::default() };
    let dev = DevCluster::start(opts).await.unwrap();
    let admin = dir.write("admin.kubeconfig", &dev.kubeconfig());

    // The administrator installs what a user would: the CRD, the bundle, a CR.
    let katalog = demo.join("katalog.yaml").to_string_lossy().into_owned();
    for (what, file) in [("crd", "crd.gen.yaml"), ("bundle", "bundle.yaml")] {
        let out = dir.path().join(file).to_string_lossy().into_owned();
        let (code, _, err) =
            run(dir.path().to_path_buf(), None, "ork", vec!["generate".into(), what.into(), "-f".into(), katalog.clone(), "-o".into(), out.clone()]).await;
        assert_eq!(code, 0, "{err}");
        let (code, stdout, stderr) = run(dir.path().to_path_buf(), Some(admin.clone()), "kubectl", vec!["apply".into(), "-f".into(), out]).await;
        assert_eq!(code, 0, "{stdout}{stderr}");
    }
    let cr = demo.join("cr.yaml").to_string_lossy().into_owned();
    let (code, stdout, stderr) = run(dir.path().to_path_buf(), Some(admin.clone()), "kubectl", vec!["apply".into(), "-f".into(), cr]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");

    // The reconciler, as the runtime's ServiceAccount, through kube-rs.
    let cluster = KubeCluster::new(dev.client_with_token(RUNTIME_TOKEN).await.unwrap());
    let loaded = load_file(&demo.join("katalog.yaml"), &LoadOptions::default());
    let report = validate(&loaded);
    let (k, t) = (loaded.katalog.unwrap(), report.templates.unwrap());
    let reconciler = Reconciler::new(&k, &t, "website").unwrap();
    let ctx = Ctx { now: 1_767_225_600, rng: katalog::template::Rng::Seeded(1) };
    for _ in 0..3 {
        let out = reconciler.reconcile(&cluster, Some("default"), "hello", &ctx).await;
        assert_eq!(out, Outcome::Done);
        dev.store().settle();
    }
    let deployments = katalog::kinds::known("apps", "Deployment").unwrap();
    let web = cluster.get(&deployments, Some("default"), "hello-web").await.unwrap();
    assert_eq!(web["metadata"]["labels"]["orkestra-owner"], "hello");
    let websites = ApiResource { group: "demo.ork.dev".into(), version: "v1".into(), kind: "Website".into(), plural: "websites".into(), namespaced: true };
    let site = cluster.get(&websites, Some("default"), "hello").await.unwrap();
    assert_eq!(site["status"]["conditions"][0]["status"], "True", "{site}");
    let audit = dev.audit();
    let runtime: Vec<_> = audit.iter().filter(|e| e.user == runtime_user.name).collect();
    assert!(runtime.len() >= 10, "{runtime:?}");
    let denied: Vec<_> = runtime.iter().filter(|e| !e.allowed).collect();
    assert!(denied.is_empty(), "the bundle must be sufficient: {denied:?}");

    // Take one rule away (the Deployments rule) and a new CR fails with the 403 named.
    let cluster_roles = katalog::kinds::known("rbac.authorization.k8s.io", "ClusterRole").unwrap();
    let role = dev.store().objects(&cluster_roles).into_iter().find(|r| r["metadata"]["name"] == "orkestra-orkestra-system").unwrap();
    let kept: Vec<Value> = role["rules"].as_array().unwrap().iter().filter(|r| r["resources"] != json!(["deployments"])).cloned().collect();
    assert_eq!(kept.len() + 1, role["rules"].as_array().unwrap().len());
    dev.store().patch(&cluster_roles, None, "orkestra-orkestra-system", &Patch::Merge(json!({"rules": kept}))).await.unwrap();
    let second = dir.write("cr2.yaml", "apiVersion: demo.ork.dev/v1\nkind: Website\nmetadata: {name: second, namespace: default}\nspec: {}\n");
    let (code, stdout, stderr) =
        run(dir.path().to_path_buf(), Some(admin.clone()), "kubectl", vec!["apply".into(), "-f".into(), second.to_string_lossy().into_owned()]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    let out = reconciler.reconcile(&cluster, Some("default"), "second", &ctx).await;
    let Outcome::Failed(e) = out else { panic!("{out:?}") };
    // The first request the rule covered is the list of owned Deployments.
    assert!(
        e.message.contains("deployments.apps is forbidden: User \"system:serviceaccount:orkestra-system:orkestra\" cannot list resource \"deployments\" in API group \"apps\" at the cluster scope"),
        "{}",
        e.message
    );
    assert!(dev.audit().iter().any(|a| !a.allowed && a.request.verb == "list" && a.request.resource == "deployments"));
    dev.stop().await;
}
