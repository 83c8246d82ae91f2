//! Issue 15's acceptance through the real kubectl against the embedded dev cluster with the
//! admission gateway running beside it (`kubectl`), `ork run --dev` starting the gateway
//! (`run_dev`), and the runtime-side checks of the security demos with the gateway absent
//! (`ork e2e --no-gateway`, `no_gateway`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod e2e_doc;
mod e2e_gateway;
mod kubectl;
mod no_gateway;
mod run_dev;

use ork_tests::TempDir;
use services::cluster::{Cluster, KubeCluster};
use services::devcluster::{DevCluster, Options as DevOptions};
use services::gateway::Running;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The install namespace of these tests.
pub const NS: &str = "ork-admission";

/// A security demo's directory.
pub fn demo(name: &str) -> PathBuf {
    ork_tests::root().join("demos/security").join(name)
}

/// `kubectl ARGS` against `kubeconfig` (bounded: kubectl's own request timeout): exit code and
/// stdout + stderr.
pub async fn kubectl(kubeconfig: &Path, args: &[&str]) -> (i32, String) {
    let mut all = vec!["--request-timeout=20s"];
    all.extend_from_slice(args);
    crate::rt::kubectl(kubeconfig, &all).await
}

/// A dev cluster with a Katalog's CRDs installed and the gateway running beside it, started the
/// way `ork run --dev` starts it (`services::run::start_gateway`: loopback, direct URL, the
/// default 2 s housekeeping), its kubeconfig written for kubectl.
pub struct Stack {
    pub dir: TempDir,
    pub kubeconfig: PathBuf,
    pub gateway: Option<Running>,
    dev: DevCluster,
}

impl Stack {
    /// Starts it for the Katalog `katalog`, with `namespaces` created.
    pub async fn start(katalog: &Path, namespaces: &[&str]) -> Stack {
        let dir = TempDir::new("admission-gw");
        let dev = DevCluster::start(DevOptions::default()).await.unwrap();
        let kubeconfig = dir.write("kubeconfig", &dev.kubeconfig());
        let admin = Arc::new(KubeCluster::new(dev.client().await.unwrap()));
        let valid = katalog::valid::load_valid(katalog, &katalog::load::LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        services::run::install_crds(&admin, &valid.katalog).await.unwrap();
        let ns_res = katalog::kinds::known("", "Namespace").unwrap();
        for ns in namespaces {
            let obj = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
            admin.create(&ns_res, None, &obj).await.unwrap();
        }
        let gateway = services::run::start_gateway(admin.clone(), &valid, NS).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(gateway.is_some(), "{} declares gateway features", katalog.display());
        Stack { dir, kubeconfig, gateway, dev }
    }

    /// `kubectl ARGS` against this cluster.
    pub async fn kubectl(&self, args: &[&str]) -> (i32, String) {
        kubectl(&self.kubeconfig, args).await
    }

    /// `kubectl apply -f` of `yaml` (written to a file named `name`).
    pub async fn apply(&self, name: &str, yaml: &str) -> (i32, String) {
        let f = self.dir.write(name, yaml);
        self.kubectl(&["apply", "-f", &f.to_string_lossy()]).await
    }

    /// Stops the gateway (its webhook configurations stay registered: no cleanupOnShutdown).
    pub async fn stop_gateway(&mut self) {
        if let Some(gw) = self.gateway.take() {
            gw.shutdown().await;
        }
    }

    /// Stops everything.
    pub async fn stop(mut self) {
        self.stop_gateway().await;
        self.dev.stop().await;
    }
}

/// Polls `f` every 100 ms until it holds, at most `within`; returns how long it took.
pub async fn within<F, Fut>(what: &str, within: Duration, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if f().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
