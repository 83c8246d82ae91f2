//! The runtime under load, as production runs it: the release `ork-runtime` binary (built with
//! `cargo build --release -p ork-runtime`) in its own process against an in-process dev cluster,
//! so its RSS and CPU are its own.
//!
//! - `steady`: 1,000 hello-website CRs (each → Deployment + Service + status) exist; the runtime
//!   starts; time until every CR is Ready with phase Available and the runtime's queues are
//!   empty; peak RSS (VmHWM); CPU while converging and during 10 s of idleness after.
//!   Budget (ARCHITECTURE.md §7): < 10 s, < 100 MiB, idle CPU ~0.
//! - `isolation`: two CRDs in one runtime. Create→Ready latency of `probe` CRs, first alone,
//!   then while 5,000 `flood` CRs are created at once; the loaded p99 must stay within 2× the
//!   unloaded p99.
//!
//! Run: `cargo bench -j2 -p ork-tests --bench runtime [-- steady|isolation]`. Prints results;
//! exits 1 when a budget or the isolation bound is missed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/rt/mod.rs"]
mod rt;

use rt::*;
use serde_json::{Value, json};
use services::cluster::{ApiResource, Cluster, KubeCluster, WatchEvent};
use services::devcluster::{DevCluster, Options};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Runtime {
    child: Child,
    addr: std::net::SocketAddr,
}

impl Runtime {
    // The child is returned inside `Runtime`, whose `stop` waits for it.
    #[allow(clippy::zombie_processes)]
    fn start(bin: &Path, dir: &Path, katalog: &Path) -> Runtime {
        let log = dir.join("runtime.log");
        let mut child = Command::new(bin)
            .args(["run", "-f"])
            .arg(katalog)
            .args(["--port", "0", "--bind", "127.0.0.1", "--leader-elect", "false", "--log-format", "json"])
            .env("KUBECONFIG", dir.join("admin.kubeconfig"))
            .env("LOG_LEVEL", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        // LOG_LEVEL=warn hides the "HTTP on" line; find the port from the socket table instead.
        let pid = child.id();
        let started = Instant::now();
        loop {
            if let Some(addr) = listening_port(pid) {
                return Runtime { child, addr };
            }
            if started.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("runtime did not listen: {}", std::fs::read_to_string(&log).unwrap_or_default());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stop(mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status();
        let _ = self.child.wait();
    }
}

/// The TCP port process `pid` listens on (from /proc: its socket inodes in /proc/net/tcp).
fn listening_port(pid: u32) -> Option<std::net::SocketAddr> {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()?
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|l| l.to_string_lossy().strip_prefix("socket:[").and_then(|s| s.strip_suffix(']')).map(str::to_string))
        .collect();
    let tcp = std::fs::read_to_string("/proc/net/tcp").ok()?;
    tcp.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        // state 0A = LISTEN
        if f.get(3) == Some(&"0A") && inodes.iter().any(|i| Some(&i.as_str()) == f.get(9)) {
            let port = u16::from_str_radix(f[1].split(':').nth(1)?, 16).ok()?;
            Some(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        } else {
            None
        }
    })
}

/// Peak resident set (VmHWM) of `pid`, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.split_whitespace().next()).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// CPU time (user + system) of `pid`.
fn cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = stat.rsplit_once(')').unwrap().1;
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat (utime, stime, in clock ticks); `after` starts at field 3.
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    Duration::from_secs_f64(ticks as f64 / 100.0)
}

async fn dev_cluster(dir: &Path, ready_after: Duration) -> (DevCluster, KubeCluster) {
    let (dev, _) = dev_with_crds(dir, Options { ready_after, ..Options::default() }, &[]).await;
    let cluster = KubeCluster::new(client(&dev.kubeconfig()).await);
    (dev, cluster)
}

async fn queues_idle(addr: std::net::SocketAddr) -> bool {
    let Ok((_, body)) = http_get(addr, "/katalog").await else { return false };
    let v: Value = serde_json::from_str(&body).unwrap_or_default();
    v["crds"].as_array().is_some_and(|cs| cs.iter().all(|c| c["queueDepth"] == 0 && c["workersBusy"] == 0))
}

async fn steady(bin: &Path) -> bool {
    const N: usize = 1000;
    let dir = ork_tests::TempDir::new("bench-steady");
    let katalog = ork_tests::root().join("demos/beginner/hello-website/katalog.yaml");
    let (dev, cluster) = dev_cluster(dir.path(), Duration::from_millis(100)).await;
    let r = install_crds(&cluster, &katalog).await.remove(0);
    create_all(&cluster, &r, (0..N).map(|i| website("default", &format!("site-{i:04}"))).collect(), 16).await;
    let runtime = Runtime::start(bin, dir.path(), &katalog);
    let t0 = Instant::now();
    let pid = runtime.pid();
    loop {
        let done = dev.store().objects(&r).iter().filter(|c| is_ready(c) && c["status"]["phase"] == "Available").count();
        if done == N && queues_idle(runtime.addr).await {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(120), "no steady state after 120 s: {done}/{N}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = t0.elapsed();
    let busy_cpu = cpu(pid);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_from = cpu(pid);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let idle_cpu = cpu(pid) - idle_from;
    let rss = peak_rss_kib(pid);
    runtime.stop();
    let deployments = katalog::kinds::known("apps", "Deployment").unwrap();
    let children = dev.store().objects(&deployments).len();
    dev.stop().await;
    let idle_pct = idle_cpu.as_secs_f64() / 10.0 * 100.0;
    println!("runtime steady state: {N} CRs -> {children} Deployments + Services + status");
    println!("  time to steady state  {:>8.2} s   (budget < 10 s)", took.as_secs_f64());
    println!("  peak RSS              {:>8.1} MiB (budget < 100 MiB)", rss as f64 / 1024.0);
    println!("  CPU to steady state   {:>8.2} s", busy_cpu.as_secs_f64());
    println!("  CPU idle, 10 s after  {:>8.2} %   ({:.2} s)", idle_pct, idle_cpu.as_secs_f64());
    took < Duration::from_secs(10) && rss < 100 * 1024 && idle_pct < 1.0
}

const TWO: &str = r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: isolation}
spec:
  crds:
    flood:
      apiTypes: {group: bench.ork.dev, version: v1, kind: Flood, plural: floods}
      operatorBox:
        reconcile:
          workers: 2
          onCreate:
            services: [{name: "{{ .metadata.name }}", port: "80", selector: {app: "{{ .metadata.name }}"}}]
    probe:
      apiTypes: {group: bench.ork.dev, version: v1, kind: Probe, plural: probes}
      operatorBox:
        reconcile:
          workers: 2
          onCreate:
            services: [{name: "{{ .metadata.name }}", port: "80", selector: {app: "{{ .metadata.name }}"}}]
"#;

fn cr(kind: &str, name: &str) -> Value {
    json!({"apiVersion": "bench.ork.dev/v1", "kind": kind, "metadata": {"name": name, "namespace": "default"}, "spec": {}})
}

/// Creates `n` probes, one every `every`, and returns each one's create → Ready latency, seen
/// through an in-process watch of the store.
async fn probe_latencies(dev: &DevCluster, cluster: &KubeCluster, r: &ApiResource, prefix: &str, n: usize, every: Duration) -> Vec<Duration> {
    let mut watch = dev.store().watch(r, None, dev.store().resource_version()).await.unwrap();
    let created = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashMap::<String, Instant>::new()));
    let creator = {
        let (cluster, r, created, prefix) = (cluster.clone(), r.clone(), created.clone(), prefix.to_string());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            for i in 0..n {
                tick.tick().await;
                let name = format!("{prefix}-{i:04}");
                created.lock().unwrap().insert(name.clone(), Instant::now());
                cluster.create(&r, Some("default"), &cr("Probe", &name)).await.unwrap();
            }
        })
    };
    let mut latencies = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while latencies.len() < n && Instant::now() < deadline {
        let Ok(Some(ev)) = tokio::time::timeout(Duration::from_secs(1), watch.next()).await else { continue };
        if let WatchEvent::Modified(o) = &ev {
            let name = o["metadata"]["name"].as_str().unwrap_or_default().to_string();
            if is_ready(o)
                && !seen.contains(&name)
                && let Some(t) = created.lock().unwrap().get(&name)
            {
                latencies.push(t.elapsed());
                seen.insert(name);
            }
        }
    }
    creator.await.unwrap();
    assert_eq!(latencies.len(), n, "not every probe became Ready");
    latencies
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1]
}

async fn isolation(bin: &Path) -> bool {
    const FLOOD: usize = 5000;
    const PROBES: usize = 200;
    let dir = ork_tests::TempDir::new("bench-isolation");
    let katalog = dir.write("katalog.yaml", TWO);
    let (dev, cluster) = dev_cluster(dir.path(), Duration::from_millis(100)).await;
    let kinds = install_crds(&cluster, &katalog).await;
    let (flood, probe) = (kinds.iter().find(|k| k.kind == "Flood").unwrap().clone(), kinds.iter().find(|k| k.kind == "Probe").unwrap().clone());
    let runtime = Runtime::start(bin, dir.path(), &katalog);
    while !queues_idle(runtime.addr).await {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let every = Duration::from_millis(25);
    let mut alone = probe_latencies(&dev, &cluster, &probe, "alone", PROBES, every).await;
    // The flood: 5,000 CRs of the other CRD created at once, while probes keep coming.
    let flood_task = {
        let (cluster, flood) = (cluster.clone(), flood.clone());
        tokio::spawn(async move {
            let started = Instant::now();
            create_all(&cluster, &flood, (0..FLOOD).map(|i| cr("Flood", &format!("f-{i:05}"))).collect(), 16).await;
            started.elapsed()
        })
    };
    let flood_started = Instant::now();
    let mut loaded = probe_latencies(&dev, &cluster, &probe, "loaded", PROBES, every).await;
    let probes_done = flood_started.elapsed();
    let created_in = flood_task.await.unwrap();
    let (_, body) = http_get(runtime.addr, "/katalog/flood").await.unwrap();
    let flood_state: Value = serde_json::from_str(&body).unwrap();
    let backlog = flood_state["queueDepth"].as_u64().unwrap_or(0);
    let t = Instant::now();
    loop {
        let done = dev.store().objects(&flood).iter().filter(|c| is_ready(c)).count();
        if done == FLOOD {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(180), "flood did not converge: {done}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let flood_total = flood_started.elapsed();
    runtime.stop();
    dev.stop().await;
    let (a50, a99) = (percentile(&mut alone, 0.5), percentile(&mut alone, 0.99));
    let (l50, l99) = (percentile(&mut loaded, 0.5), percentile(&mut loaded, 0.99));
    let ratio = l99.as_secs_f64() / a99.as_secs_f64();
    println!("isolation: {PROBES} probe CRs at one per {every:?}, alone and during a flood of {FLOOD} CRs of another CRD");
    println!("  probe create->Ready alone     p50 {:>7.2} ms  p99 {:>7.2} ms", a50.as_secs_f64() * 1e3, a99.as_secs_f64() * 1e3);
    println!("  probe create->Ready flooded   p50 {:>7.2} ms  p99 {:>7.2} ms  (p99 ratio {ratio:.2}, bound 2.00)", l50.as_secs_f64() * 1e3, l99.as_secs_f64() * 1e3);
    println!("  flood: created in {:.2} s, flood queue still {backlog} deep when the probes ended ({:.2} s), all Ready after {:.2} s", created_in.as_secs_f64(), probes_done.as_secs_f64(), flood_total.as_secs_f64());
    ratio <= 2.0 && backlog > 0
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let which: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let run = |name: &str| which.is_empty() || which.iter().any(|w| w == name);
    let bin = ork_tests::release_runtime_bin();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut ok = true;
    rt.block_on(async {
        if run("steady") {
            ok &= steady(&bin).await;
        }
        if run("isolation") {
            ok &= isolation(&bin).await;
        }
    });
    if !ok {
        eprintln!("a budget or bound was missed (see above)");
        std::process::exit(1);
    }
}
