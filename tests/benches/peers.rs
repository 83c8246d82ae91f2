//! The peers benchmark: the same job done by three contenders, each on a fresh in-process dev
//! cluster (`ready_after` 100 ms, or `$PEERS_READY_AFTER_MS`): N `Site` CRs (tests/perf/peers/crd.yaml), each → one
//! Deployment + one Service + `status.phase: Ready`.
//!
//! - `raw`: a kube-rs client in this process issuing just the three writes per CR (create the
//!   Deployment, create the Service, merge-patch the Site's status), 8 in flight: the physical
//!   limit of the dev cluster. Its CPU and RSS are not measured (n/a): it shares this process
//!   with the dev cluster.
//! - `ork`: the release `ork-runtime` binary (`$ORK_RUNTIME_BIN`, default
//!   target/release/ork-runtime) running tests/perf/peers/katalog.yaml (8 workers).
//! - `kopf`: PyPI kopf (`$ORK_KOPF`, default .venv/bin/kopf, installed by scripts/test.sh)
//!   running tests/perf/peers/kopf_site.py (8 handler threads), `--standalone --all-namespaces
//!   --quiet` (warnings only, as the runtime runs with LOG_LEVEL=warn).
//!
//! For ork and kopf the CRs exist before the operator starts, and the clock starts when its
//! process is spawned (start-up included); for raw it starts with the first write. The clock
//! stops when every Site has `status.phase: Ready`, seen through an in-process watch of the
//! store (which makes no HTTP request). Requests per CR come from the dev cluster's request log
//! (every HTTP request between the start and the last Ready, by verb); CPU seconds are utime +
//! stime of the operator's process (/proc/PID/stat) and peak RSS its VmHWM, both read at the
//! last Ready. "Cluster CPU s" is this process's CPU over the same span: the dev cluster serving
//! the contender (and for raw, the raw client too).
//!
//! Run: `tests/perf/peers.sh [N...]` (builds the runtime, then `cargo bench -p ork-tests
//! --bench peers -- [N...] [--only=raw,ork,kopf]`). Default N: 1000 3000 10000. Each run gives
//! up after `$PEERS_TIMEOUT` seconds (default 600).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/rt.rs"]
mod rt;

use futures_util::StreamExt;
use serde_json::{Value, json};
use services::cluster::{ApiResource, Cluster, KubeCluster, ListParams, Patch, WatchEvent};
use services::devcluster::requests::RequestCounts;
use services::devcluster::{DevCluster, Options};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const IN_FLIGHT: usize = 8;

fn sites() -> ApiResource {
    ApiResource { group: "perf.ork.dev".into(), version: "v1".into(), kind: "Site".into(), plural: "sites".into(), namespaced: true }
}

fn perf_dir() -> PathBuf {
    ork_tests::root().join("tests/perf/peers")
}

/// One contender's run at one N.
struct Outcome {
    contender: &'static str,
    n: usize,
    /// Time to all Ready; `None` when it gave up.
    time: Option<Duration>,
    ready: usize,
    requests: RequestCounts,
    cpu_s: Option<f64>,
    rss_mib: Option<f64>,
    /// CPU seconds of this process (the dev cluster; for raw, its client too) from start to
    /// the last Ready.
    cluster_cpu_s: Option<f64>,
    /// Why it did not run.
    skipped: Option<String>,
}

/// Peak resident set (VmHWM) of `pid`, in MiB.
fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.split_whitespace().next()).and_then(|v| v.parse().ok())?;
    Some(kib / 1024.0)
}

/// CPU seconds (user + system) of `pid` (`self`: this process).
fn cpu_s(pid: impl std::fmt::Display) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let f: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // Fields 14 and 15 of stat (utime, stime, in clock ticks of 1/100 s); `f` starts at field 3.
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// A fresh dev cluster with the Site CRD served and `n` Sites (no status) in `default`.
/// Returns the cluster, a client, the kubeconfig and each Site's (name, uid).
async fn fresh(dir: &Path, n: usize) -> (DevCluster, KubeCluster, PathBuf, Vec<(String, String)>) {
    let opts = Options { ready_after: ready_after(), ..Options::default() };
    let (dev, kubeconfig) = rt::dev_with_crds(dir, opts, &[perf_dir().join("crd.yaml")]).await;
    let cluster = KubeCluster::new(rt::client(&dev).await);
    let r = sites();
    rt::wait_for(Duration::from_secs(10), "the Site CRD served", || async {
        cluster.list(&r, None, &ListParams::default()).await.map(|_| ()).map_err(|e| e.to_string())
    })
    .await;
    let created: Vec<(String, String)> = futures_util::stream::iter(0..n)
        .map(|i| {
            let (cluster, r) = (&cluster, &r);
            async move {
                let name = format!("site-{i:05}");
                let cr = json!({"apiVersion": "perf.ork.dev/v1", "kind": "Site", "metadata": {"name": name, "namespace": "default"}, "spec": {"size": 1}});
                let stored = cluster.create(r, Some("default"), &cr).await.unwrap();
                (name, stored["metadata"]["uid"].as_str().unwrap_or_default().to_string())
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    (dev, cluster, kubeconfig, created)
}

fn is_ready(site: &Value) -> bool {
    site.pointer("/status/phase").and_then(Value::as_str) == Some("Ready")
}

/// Watches the Sites (in process) from now on; [`Ready::wait`] returns when all `n` are Ready.
struct Ready {
    watch: services::cluster::WatchStream,
    seen: HashSet<String>,
}

impl Ready {
    async fn start(dev: &DevCluster) -> Ready {
        let store = dev.store();
        let watch = store.watch(&sites(), None, store.resource_version()).await.unwrap();
        Ready { watch, seen: HashSet::new() }
    }

    /// Waits until `n` Sites are Ready or `deadline` passes; returns how many are.
    async fn wait(&mut self, n: usize, deadline: Instant) -> usize {
        while self.seen.len() < n && Instant::now() < deadline {
            match tokio::time::timeout(Duration::from_millis(500), self.watch.next()).await {
                Ok(Some(WatchEvent::Added(o) | WatchEvent::Modified(o))) if is_ready(&o) => {
                    self.seen.insert(o["metadata"]["name"].as_str().unwrap_or_default().to_string());
                }
                Ok(None) => break,
                _ => {}
            }
        }
        self.seen.len()
    }
}

/// The dev cluster's `ready_after`: `$PEERS_READY_AFTER_MS`, default 100 ms. No contender waits
/// for its children to be ready, but the faker's pass over every Deployment runs this often.
fn ready_after() -> Duration {
    Duration::from_millis(std::env::var("PEERS_READY_AFTER_MS").ok().and_then(|s| s.parse().ok()).unwrap_or(100))
}

fn timeout() -> Duration {
    Duration::from_secs(std::env::var("PEERS_TIMEOUT").ok().and_then(|s| s.parse().ok()).unwrap_or(600))
}

fn deployment(name: &str, uid: &str) -> Value {
    let labels = json!({"app": name});
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default", "labels": labels,
                     "ownerReferences": [{"apiVersion": "perf.ork.dev/v1", "kind": "Site", "name": name, "uid": uid, "controller": true, "blockOwnerDeletion": true}]},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "web", "image": "nginxinc/nginx-unprivileged:1.27", "ports": [{"containerPort": 8080}]}]}}}
    })
}

fn service(name: &str, uid: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": name},
                     "ownerReferences": [{"apiVersion": "perf.ork.dev/v1", "kind": "Site", "name": name, "uid": uid, "controller": true, "blockOwnerDeletion": true}]},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}
    })
}

async fn raw(n: usize) -> Outcome {
    let dir = ork_tests::TempDir::new("peers-raw");
    let (dev, cluster, _, created) = fresh(dir.path(), n).await;
    let mut ready = Ready::start(&dev).await;
    let before = dev.request_counts();
    let cpu0 = cpu_s("self");
    let t0 = Instant::now();
    let deployments = katalog::kinds::known("apps", "Deployment").unwrap();
    let services = katalog::kinds::known("", "Service").unwrap();
    let r = sites();
    let writes = futures_util::stream::iter(created.iter())
        .map(|(name, uid)| {
            let (cluster, deployments, services, r) = (&cluster, &deployments, &services, &r);
            async move {
                cluster.create(deployments, Some("default"), &deployment(name, uid)).await.unwrap();
                cluster.create(services, Some("default"), &service(name, uid)).await.unwrap();
                cluster.patch_status(r, Some("default"), name, &Patch::Merge(json!({"status": {"phase": "Ready"}}))).await.unwrap();
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<()>>();
    let (_, done) = tokio::join!(writes, ready.wait(n, t0 + timeout()));
    let time = (done == n).then(|| t0.elapsed());
    let requests = dev.request_counts().since(&before);
    let cluster_cpu_s = cpu_s("self").zip(cpu0).map(|(a, b)| a - b);
    dev.stop().await;
    Outcome { contender: "raw", n, time, ready: done, requests, cpu_s: None, rss_mib: None, cluster_cpu_s, skipped: None }
}

/// Runs an operator process against a fresh cluster with `n` Sites until all are Ready.
async fn operator(contender: &'static str, n: usize, start: impl FnOnce(&Path, &Path) -> std::io::Result<Child>) -> Outcome {
    let dir = ork_tests::TempDir::new(&format!("peers-{contender}"));
    let (dev, _cluster, kubeconfig, _) = fresh(dir.path(), n).await;
    let mut ready = Ready::start(&dev).await;
    let before = dev.request_counts();
    let cpu0 = cpu_s("self");
    let t0 = Instant::now();
    let mut child = match start(dir.path(), &kubeconfig) {
        Ok(c) => c,
        Err(e) => {
            dev.stop().await;
            return Outcome {
                contender,
                n,
                time: None,
                ready: 0,
                requests: RequestCounts::default(),
                cpu_s: None,
                rss_mib: None,
                cluster_cpu_s: None,
                skipped: Some(e.to_string()),
            };
        }
    };
    let pid = child.id();
    let done = ready.wait(n, t0 + timeout()).await;
    let time = (done == n).then(|| t0.elapsed());
    let requests = dev.request_counts().since(&before);
    let (cpu, rss) = (cpu_s(pid), peak_rss_mib(pid));
    let cluster_cpu_s = cpu_s("self").zip(cpu0).map(|(a, b)| a - b);
    let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    let stopped = Instant::now();
    while child.try_wait().ok().flatten().is_none() && stopped.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    if time.is_none() {
        let log = std::fs::read_to_string(dir.path().join(format!("{contender}.log"))).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        eprintln!("{contender} at N={n}: {done}/{n} Ready after {:?}; last log lines:\n{}", timeout(), tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
    }
    dev.stop().await;
    Outcome { contender, n, time, ready: done, requests, cpu_s: cpu, rss_mib: rss, cluster_cpu_s, skipped: None }
}

fn ork_runtime(n: usize) -> impl std::future::Future<Output = Outcome> {
    let bin = std::env::var_os("ORK_RUNTIME_BIN").map_or_else(|| ork_tests::target_dir().join("release/ork-runtime"), PathBuf::from);
    operator("ork", n, move |dir, kubeconfig| {
        if !bin.is_file() {
            return Err(std::io::Error::other(format!("{} not found (cargo build --release -p ork-runtime)", bin.display())));
        }
        Command::new(&bin)
            .args(["run", "-f"])
            .arg(perf_dir().join("katalog.yaml"))
            .args(["--port", "0", "--bind", "127.0.0.1", "--leader-elect", "false", "--log-format", "json"])
            .env("KUBECONFIG", kubeconfig)
            .env("LOG_LEVEL", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("ork.log"))?)
            .spawn()
    })
}

fn kopf(n: usize) -> impl std::future::Future<Output = Outcome> {
    let bin = std::env::var_os("ORK_KOPF").map_or_else(|| ork_tests::root().join(".venv/bin/kopf"), PathBuf::from);
    operator("kopf", n, move |dir, kubeconfig| {
        if !bin.is_file() {
            return Err(std::io::Error::other(format!("{} not found (scripts/test.sh installs kopf into .venv)", bin.display())));
        }
        Command::new(&bin)
            .args(["run", "--standalone", "--all-namespaces", "--quiet"])
            .arg(perf_dir().join("kopf_site.py"))
            .env("KUBECONFIG", kubeconfig)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("kopf.log"))?)
            .spawn()
    })
}

/// `create 2.00 patch 1.00 …`: requests per CR by verb.
fn per_verb(c: &RequestCounts, n: usize) -> String {
    c.by_verb().iter().map(|(v, k)| format!("{v} {:.2}", *k as f64 / n as f64)).collect::<Vec<_>>().join(", ")
}

fn table(results: &[Outcome]) {
    let time_of = |c: &str, n: usize| results.iter().find(|o| o.contender == c && o.n == n).and_then(|o| o.time);
    println!();
    println!("| contender | N | time to all Ready | vs raw | ork/kopf | requests per CR | by verb per CR | CPU s | peak RSS | cluster CPU s |");
    println!("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|");
    for o in results {
        if let Some(why) = &o.skipped {
            println!("| {} | {} | not run: {why} | | | | | | | |", o.contender, o.n);
            continue;
        }
        let time = o.time.map_or_else(|| format!("gave up: {}/{} Ready", o.ready, o.n), |t| format!("{:.2} s", t.as_secs_f64()));
        let vs_raw = match (time_of("raw", o.n), o.time) {
            (Some(raw), Some(t)) => format!("{:.2}×", raw.as_secs_f64() / t.as_secs_f64()),
            _ => "–".into(),
        };
        let ork_kopf = match (o.contender, time_of("ork", o.n), time_of("kopf", o.n)) {
            ("ork", Some(ork), Some(kopf)) => format!("{:.1}×", kopf.as_secs_f64() / ork.as_secs_f64()),
            _ => "–".into(),
        };
        let per_cr = o.requests.total() as f64 / o.n as f64;
        let cpu = o.cpu_s.map_or_else(|| "n/a".to_string(), |c| format!("{c:.2}"));
        let rss = o.rss_mib.map_or_else(|| "n/a".to_string(), |m| format!("{m:.1} MiB"));
        let cluster = o.cluster_cpu_s.map_or_else(|| "n/a".to_string(), |c| format!("{c:.2}"));
        println!("| {} | {} | {time} | {vs_raw} | {ork_kopf} | {per_cr:.2} | {} | {cpu} | {rss} | {cluster} |", o.contender, o.n, per_verb(&o.requests, o.n));
    }
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut ns: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if ns.is_empty() {
        ns = vec![1000, 3000, 10_000];
    }
    let only: Vec<String> = args.iter().find_map(|a| a.strip_prefix("--only=")).map(|s| s.split(',').map(str::to_string).collect()).unwrap_or_default();
    let wanted = |c: &str| only.is_empty() || only.iter().any(|o| o == c);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut results = Vec::new();
    rt.block_on(async {
        for &n in &ns {
            for contender in ["raw", "ork", "kopf"].into_iter().filter(|c| wanted(c)) {
                let o = match contender {
                    "raw" => raw(n).await,
                    "ork" => ork_runtime(n).await,
                    _ => kopf(n).await,
                };
                let time = o.time.map_or_else(|| "–".into(), |t| format!("{:.2} s", t.as_secs_f64()));
                eprintln!("peers: {contender} N={n}: {time}, {}/{n} Ready, {} requests", o.ready, o.requests.total());
                results.push(o);
            }
        }
    });
    table(&results);
}
