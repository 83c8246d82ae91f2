//! Shared by the runtime tests: a dev cluster with the hello-website CRD, clients, CR
//! factories, bounded waits and a minimal HTTP GET for the runtime's endpoints.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use services::cluster::{ApiResource, Cluster, KubeCluster, ListParams};
use services::devcluster::{DevCluster, Options};
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The Website CRD of the hello-website demo.
pub fn websites() -> ApiResource {
    ApiResource { group: "demo.ork.dev".into(), version: "v1".into(), kind: "Website".into(), plural: "websites".into(), namespaced: true }
}

/// A Website CR.
pub fn website(ns: &str, name: &str) -> Value {
    json!({"apiVersion": "demo.ork.dev/v1", "kind": "Website", "metadata": {"name": name, "namespace": ns}, "spec": {"replicas": 1}})
}

/// A kube-rs client as the dev cluster's administrator.
pub async fn client(dev: &DevCluster) -> kube::Client {
    dev.client().await.unwrap()
}

/// Starts a dev cluster, writes its admin kubeconfig into `dir`, and applies `crds` (files)
/// with the real kubectl.
pub async fn dev_with_crds(dir: &Path, opts: Options, crds: &[PathBuf]) -> (DevCluster, PathBuf) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dev = DevCluster::start(opts).await.unwrap();
    let kubeconfig = dir.join("admin.kubeconfig");
    std::fs::write(&kubeconfig, dev.kubeconfig()).unwrap();
    for crd in crds {
        let (code, out) = kubectl(&kubeconfig, &["apply", "-f", &crd.to_string_lossy()]).await;
        assert_eq!(code, 0, "{out}");
    }
    (dev, kubeconfig)
}

/// Runs kubectl with `kubeconfig`; exit code and stdout+stderr.
pub async fn kubectl(kubeconfig: &Path, args: &[&str]) -> (i32, String) {
    let kubeconfig = kubeconfig.to_path_buf();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || ork_tests::kubectl(&kubeconfig, &args.iter().map(String::as_str).collect::<Vec<_>>())).await.unwrap()
}

/// Creates `objects` of `r`, `parallel` requests at a time.
pub async fn create_all(cluster: &KubeCluster, r: &ApiResource, objects: Vec<Value>, parallel: usize) {
    use futures_util::StreamExt;
    let results: Vec<_> = futures_util::stream::iter(objects)
        .map(|o| async move {
            let ns = o["metadata"]["namespace"].as_str().map(str::to_string);
            cluster.create(r, ns.as_deref(), &o).await
        })
        .buffer_unordered(parallel)
        .collect()
        .await;
    for r in results {
        r.unwrap();
    }
}

/// Whether a CR's Ready condition is True for its current generation.
pub fn is_ready(cr: &Value) -> bool {
    let generation = cr.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(0);
    cr.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| cs.iter().any(|c| c["type"] == "Ready" && c["status"] == "True" && c["observedGeneration"].as_i64().is_none_or(|g| g == generation)))
}

/// Polls `check` every 50 ms until it returns `Some`, at most `timeout`; panics naming `what`
/// with the last state otherwise.
pub async fn wait_for<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let start = Instant::now();
    loop {
        match check().await {
            Ok(v) => return v,
            Err(state) if start.elapsed() >= timeout => panic!("timed out after {timeout:?} waiting for {what}: {state}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// The CRs of `r` that are Ready, and all of them.
pub async fn ready_count(cluster: &KubeCluster, r: &ApiResource) -> (usize, usize) {
    let list = cluster.list(r, None, &ListParams::default()).await.unwrap();
    (list.items.iter().filter(|c| is_ready(c)).count(), list.items.len())
}

/// `GET path` on a plain-HTTP server: status code and body.
pub async fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut s = tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect(addr)).await.map_err(std::io::Error::other)??;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await?;
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await.map_err(std::io::Error::other)??;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let code = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Ok((code, body))
}

/// Every object of `r` owned (controller reference) by a CR of `owner_kind`: (namespace, owner
/// name) per object.
pub fn owners(dev: &DevCluster, r: &ApiResource, owner_kind: &str) -> Vec<(String, String)> {
    dev.store()
        .objects(r)
        .iter()
        .map(|o| {
            let owner = o["metadata"]["ownerReferences"]
                .as_array()
                .and_then(|refs| refs.iter().find(|x| x["kind"] == owner_kind && x["controller"] == true))
                .map(|x| x["name"].as_str().unwrap_or_default().to_string());
            (o["metadata"]["namespace"].as_str().unwrap_or_default().to_string(), owner.unwrap_or_default())
        })
        .collect()
}

/// Installs a CRD generated from each enabled entry of the Katalog at `path` (as
/// `ork generate crd` would) and waits until each is served.
pub async fn install_crds(cluster: &KubeCluster, path: &Path) -> Vec<ApiResource> {
    install_some_crds(cluster, path, None).await
}

/// Like [`install_crds`], for the entries named in `only` (all when `None`).
pub async fn install_some_crds(cluster: &KubeCluster, path: &Path, only: Option<&[&str]>) -> Vec<ApiResource> {
    let loaded = katalog::load::load_file(path, &katalog::load::LoadOptions::default());
    let k = loaded.katalog.expect("a Katalog");
    let crds = katalog::kinds::known("apiextensions.k8s.io", "CustomResourceDefinition").unwrap();
    let mut out = Vec::new();
    for (name, entry) in k.crds().iter().filter(|(n, _)| only.is_none_or(|o| o.contains(&n.as_str()))) {
        let crd = katalog::authoring::crd::generate(name, entry, katalog::install::DEFAULT_NAMESPACE).unwrap();
        cluster.create(&crds, None, &crd).await.unwrap();
        let id = katalog::kinds::api_identity(entry).unwrap();
        out.push(ApiResource { group: id.group, version: id.version, kind: id.kind, plural: id.plural, namespaced: true });
    }
    for r in &out {
        wait_for(Duration::from_secs(5), "CRD served", || async { cluster.list(r, None, &ListParams::default()).await.map(|_| ()).map_err(|e| e.to_string()) })
            .await;
    }
    out
}
