//! kube-rs against the embedded dev cluster: typed API calls, server-side apply, and the
//! `kube::runtime::watcher` the runtime will use.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures_util::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;
use services::devcluster::{DevCluster, Options};
use std::time::Duration;

async fn client(dev: &DevCluster) -> kube::Client {
    // One crypto provider for the process, installed before any TLS config is built.
    let _ = rustls::crypto::ring::default_provider().install_default();
    // As the administrator: the dev cluster refuses anonymous requests, as a real one does.
    dev.client().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_calls_server_side_apply_and_the_watcher_work() {
    let dev = DevCluster::start(Options { port: 0, ready_after: Duration::from_millis(50), tls: false, ..Options::default() }).await.unwrap();
    let client = client(&dev).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");

    // Server-side apply creates, then merges.
    let applied = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}});
    let a = cms.patch("a", &PatchParams::apply("ork-test"), &Patch::Apply(&applied)).await.unwrap();
    assert_eq!(a.data.unwrap()["k"], "v");
    let again = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v2"}});
    let a = cms.patch("a", &PatchParams::apply("ork-test").force(), &Patch::Apply(&again)).await.unwrap();
    assert_eq!(a.data.unwrap()["k"], "v2");

    // The watcher sees the existing object, then new ones and changes, in order.
    let mut events = watcher(cms.clone(), watcher::Config::default()).applied_objects().boxed();
    let first = tokio::time::timeout(Duration::from_secs(5), events.try_next()).await.unwrap().unwrap().unwrap();
    assert_eq!(first.metadata.name.as_deref(), Some("a"));
    let mut b = ConfigMap::default();
    b.metadata.name = Some("b".into());
    cms.create(&PostParams::default(), &b).await.unwrap();
    let next = tokio::time::timeout(Duration::from_secs(5), events.try_next()).await.unwrap().unwrap().unwrap();
    assert_eq!(next.metadata.name.as_deref(), Some("b"));
    cms.patch("a", &PatchParams::default(), &Patch::Merge(json!({"data": {"k": "v3"}}))).await.unwrap();
    let changed = tokio::time::timeout(Duration::from_secs(5), events.try_next()).await.unwrap().unwrap().unwrap();
    assert_eq!(changed.data.unwrap()["k"], "v3");

    // Typed errors: a conflict and a 404 come back as Kubernetes Status errors.
    let mut stale = cms.get("b").await.unwrap();
    cms.patch("b", &PatchParams::default(), &Patch::Merge(json!({"data": {"x": "1"}}))).await.unwrap();
    stale.data = Some([("y".to_string(), "2".to_string())].into());
    let conflict = cms.replace("b", &PostParams::default(), &stale).await.unwrap_err();
    match conflict {
        kube::Error::Api(s) => assert_eq!((s.code, s.reason.as_str()), (409, "Conflict")),
        other => panic!("{other}"),
    }
    match cms.get("nope").await.unwrap_err() {
        kube::Error::Api(s) => assert_eq!(s.code, 404),
        other => panic!("{other}"),
    }

    // Lists page through limit/continue; Deployments become ready through the status faker.
    for i in 0..7 {
        let mut c = ConfigMap::default();
        c.metadata.name = Some(format!("page-{i}"));
        cms.create(&PostParams::default(), &c).await.unwrap();
    }
    let page = cms.list(&ListParams::default().limit(4)).await.unwrap();
    assert_eq!(page.items.len(), 4);
    let rest = cms.list(&ListParams::default().limit(100).continue_token(page.metadata.continue_.as_deref().unwrap())).await.unwrap();
    assert_eq!(page.items.len() + rest.items.len(), 9);
    let deps: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                   "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}});
    deps.patch("web", &PatchParams::apply("ork-test"), &Patch::Apply(&d)).await.unwrap();
    let mut ready = 0;
    for _ in 0..100 {
        ready = deps.get("web").await.unwrap().status.and_then(|s| s.ready_replicas).unwrap_or(0);
        if ready == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(ready, 2);
    cms.delete("a", &DeleteParams::default()).await.unwrap();
    dev.stop().await;
}

/// A raw watch request asking for bookmarks gets one when nothing happens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_watches_get_bookmarks_when_they_ask() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dev = DevCluster::start(Options { tls: false, bookmark_every: Duration::from_millis(100), ..Options::default() }).await.unwrap();
    let kubeconfig = dev.kubeconfig();
    let token = kubeconfig.lines().find_map(|l| l.trim().strip_prefix("token: ")).unwrap();
    let mut s = tokio::net::TcpStream::connect(dev.addr()).await.unwrap();
    let request = format!(
        "GET /api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&resourceVersion=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    s.write_all(request.as_bytes()).await.unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !seen.contains("\"BOOKMARK\"") {
        let n = tokio::time::timeout_at(deadline, s.read(&mut buf)).await.expect("no bookmark within 5 s").unwrap();
        assert!(n > 0, "stream closed: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(seen.contains("\"kind\":\"ConfigMap\"") && seen.contains("\"resourceVersion\""), "{seen}");
    drop(s);
    dev.stop().await;
}
