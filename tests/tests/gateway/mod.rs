//! The gateway process (`services::gateway::start`): its TLS Secret, its webhook configurations
//! and the housekeeper that keeps them, against a `MemCluster` (`mem`) and against the dev
//! cluster with real kubectl (`dev`); and the production binary `ork-gateway` (`binary`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod binary;
mod dev;
mod mem;
mod plan;

use serde_json::Value;
use services::cluster::{ApiResource, MemCluster};
use services::gateway::{Options, Running, start};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The install namespace of these tests.
pub const NS: &str = "ork-gw";

/// Loads a valid Katalog.
pub fn valid(katalog: &Path) -> Arc<katalog::valid::Valid> {
    Arc::new(katalog::valid::load_valid(katalog, &katalog::load::LoadOptions::default()).unwrap_or_else(|e| panic!("{e}")))
}

/// Dev options (loopback, direct URL, managed TLS) with a fast housekeeper.
pub fn options() -> Options {
    Options { sync_interval: Duration::from_millis(200), ..Options::dev(NS) }
}

/// A MemCluster with the install namespace.
pub fn mem_cluster() -> Arc<MemCluster> {
    let c = MemCluster::new();
    c.seed(&serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})).unwrap();
    Arc::new(c)
}

/// Starts a gateway and waits (at most 10 s) until it is ready.
pub async fn start_ready<C: services::cluster::Cluster + 'static>(cluster: Arc<C>, katalog: &Path, opts: Options) -> Running {
    let running = start(cluster, valid(katalog), opts).await.unwrap_or_else(|e| panic!("{e}"));
    tokio::time::timeout(Duration::from_secs(10), running.ready()).await.expect("the gateway did not become ready within 10 s");
    running
}

/// Polls `f` every 50 ms until it gives a value, at most `within`.
pub async fn eventually<T>(what: &str, within: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A resource by group and kind.
pub fn res(group: &str, kind: &str) -> ApiResource {
    katalog::kinds::known(group, kind).unwrap()
}

/// The Secret's data value `key`, decoded.
pub fn secret_text(secret: &Value, key: &str) -> String {
    let b64 = secret["data"][key].as_str().unwrap_or_else(|| panic!("data.{key} missing"));
    String::from_utf8(katalog::template::base64_decode(b64).unwrap()).unwrap()
}

/// The demos' security Katalogs.
pub fn demo(name: &str) -> std::path::PathBuf {
    ork_tests::root().join("demos/security").join(name).join("katalog.yaml")
}
