//! Dev cluster throughput through kube-rs on loopback: creates per second (budget > 5,000/s,
//! ARCHITECTURE.md §7) and watch latency (create → event at a watcher). Prints its results; it
//! does not assert times. Run: `cargo bench -j2 -p ork-tests --bench devcluster`.

use futures_util::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use services::devcluster::{DevCluster, Options};
use std::time::{Duration, Instant};

fn cm(name: String) -> ConfigMap {
    let mut c = ConfigMap::default();
    c.metadata.name = Some(name);
    c.data = Some([("k".to_string(), "v".to_string())].into());
    c
}

/// Creates `n` ConfigMaps with `concurrency` requests in flight; returns creates per second.
async fn creates(cms: &Api<ConfigMap>, prefix: &str, concurrency: usize, n: usize) -> f64 {
    let started = Instant::now();
    stream::iter(0..n)
        .map(|i| {
            let cms = cms.clone();
            let name = format!("{prefix}-{i}");
            async move { cms.create(&PostParams::default(), &cm(name)).await }
        })
        .buffer_unordered(concurrency)
        .try_for_each(|_| async { Ok(()) })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    n as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap_or_else(|e| panic!("{e}"));
    rt.block_on(async {
        let dev = DevCluster::start(Options { port: 0, ready_after: Duration::from_secs(1), tls: false, ..Options::default() })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let client = dev.client().await.unwrap_or_else(|e| panic!("{e}"));
        let cms: Api<ConfigMap> = Api::namespaced(client, "default");
        for concurrency in [1usize, 16, 64] {
            let rate = creates(&cms, &format!("c{concurrency}"), concurrency, 10_000).await;
            println!("creates, {concurrency} in flight: 10000 at {rate:.0}/s");
        }
        let mut events = watcher(cms.clone(), watcher::Config::default().labels("bench=watch")).touched_objects().boxed();
        let mut latencies = Vec::new();
        for i in 0..300 {
            let mut c = cm(format!("w-{i}"));
            c.metadata.labels = Some([("bench".to_string(), "watch".to_string())].into());
            let t0 = Instant::now();
            cms.create(&PostParams::default(), &c).await.unwrap_or_else(|e| panic!("{e}"));
            loop {
                let ev = events.try_next().await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|| panic!("watch ended"));
                if ev.metadata.name.as_deref() == Some(format!("w-{i}").as_str()) {
                    break;
                }
            }
            latencies.push(t0.elapsed());
        }
        latencies.sort();
        let pick = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1e3;
        println!("watch latency (create sent → event received), 300 samples: median {:.3} ms, p99 {:.3} ms, max {:.3} ms", pick(0.5), pick(0.99), pick(1.0));
        dev.stop().await;

        // The same creates over HTTPS (the default), the client trusting the generated CA.
        let dev = DevCluster::start(Options { tls: true, ..Options::default() }).await.unwrap_or_else(|e| panic!("{e}"));
        let cms: Api<ConfigMap> = Api::namespaced(dev.client().await.unwrap_or_else(|e| panic!("{e}")), "default");
        for concurrency in [1usize, 16] {
            let rate = creates(&cms, &format!("t{concurrency}"), concurrency, 10_000).await;
            println!("creates over TLS, {concurrency} in flight: 10000 at {rate:.0}/s");
        }
        dev.stop().await;

        // RBAC enforced (as `ork e2e` runs it): a ServiceAccount allowed by a RoleBinding, every
        // request authorized against the stored roles and the bootstrap policy.
        let sa = services::devcluster::authz::User::service_account("default", "bench");
        let opts = Options { tls: false, rbac: true, tokens: vec![("t-bench".into(), sa)], ..Options::default() };
        let dev = DevCluster::start(opts).await.unwrap_or_else(|e| panic!("{e}"));
        let admin = dev.client().await.unwrap_or_else(|e| panic!("{e}"));
        let grant: Vec<serde_json::Value> = vec![
            serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "cm-writer", "namespace": "default"},
                               "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create", "get", "list", "watch"]}]}),
            serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "bench", "namespace": "default"},
                               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cm-writer"},
                               "subjects": [{"kind": "ServiceAccount", "name": "bench", "namespace": "default"}]}),
        ];
        for (kind, obj) in ["roles", "rolebindings"].iter().zip(grant) {
            let ar = kube::core::ApiResource::from_gvk_with_plural(
                &kube::core::GroupVersionKind::gvk("rbac.authorization.k8s.io", "v1", obj["kind"].as_str().unwrap_or_default()),
                kind,
            );
            let api: Api<kube::core::DynamicObject> = Api::namespaced_with(admin.clone(), "default", &ar);
            let obj: kube::core::DynamicObject = serde_json::from_value(obj).unwrap_or_else(|e| panic!("{e}"));
            api.create(&PostParams::default(), &obj).await.unwrap_or_else(|e| panic!("{e}"));
        }
        let cms: Api<ConfigMap> = Api::namespaced(dev.client_with_token("t-bench").await.unwrap_or_else(|e| panic!("{e}")), "default");
        for concurrency in [1usize, 16] {
            let rate = creates(&cms, &format!("r{concurrency}"), concurrency, 10_000).await;
            println!("creates with RBAC enforced, as a ServiceAccount, {concurrency} in flight: 10000 at {rate:.0}/s");
        }
        dev.stop().await;
    });
}
