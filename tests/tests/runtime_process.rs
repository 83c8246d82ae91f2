//! `ork-runtime` as a separate process against the dev cluster: a SIGKILL in the middle of
//! reconciling 200 CRs loses nothing and duplicates nothing after a restart; of two replicas one
//! leads, and when it is killed the other takes over within the lease duration.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::rt::*;
use services::cluster::KubeCluster;
use services::devcluster::Options;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `ork-runtime run`, its log file and HTTP address.
struct Proc {
    child: Child,
    log: PathBuf,
    addr: std::net::SocketAddr,
}

impl Proc {
    // The child is returned inside `Proc`, whose `Drop` kills and waits for it.
    #[allow(clippy::zombie_processes)]
    fn start(dir: &Path, tag: &str, kubeconfig: &Path, katalog: &Path, env: &[(&str, &str)], args: &[&str]) -> Proc {
        let log = dir.join(format!("{tag}.log"));
        let mut cmd = Command::new(ork_tests::ork_runtime_bin());
        cmd.args(["run", "-f"]).arg(katalog).args(["--port", "0", "--bind", "127.0.0.1", "--log-format", "json"]).args(args);
        cmd.env("KUBECONFIG", kubeconfig).env("HOSTNAME", tag).env_remove("RUST_BACKTRACE");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.stdout(Stdio::null()).stderr(std::fs::File::create(&log).unwrap()).spawn().unwrap();
        let start = Instant::now();
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let addr = text.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()).find_map(|v| {
                v["fields"]["message"]
                    .as_str()
                    .and_then(|m| m.strip_prefix("HTTP on http://"))
                    .and_then(|r| r.split_whitespace().next())
                    .and_then(|a| a.parse().ok())
            });
            if let Some(addr) = addr {
                return Proc { child, log, addr };
            }
            if start.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{tag} did not start serving HTTP:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill(&mut self) {
        // SIGKILL: no drain, no Lease release.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    async fn summary(&self) -> Result<serde_json::Value, String> {
        let (_, body) = http_get(self.addr, "/katalog").await.map_err(|e| e.to_string())?;
        serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_reconcile_then_restart_converges_without_duplicates_or_orphans() {
    let dir = ork_tests::TempDir::new("runtime-crash");
    let demo = ork_tests::root().join("demos/beginner/hello-website");
    let (dev, kubeconfig) = dev_with_crds(dir.path(), Options { ready_after: Duration::from_millis(50), ..Options::default() }, &[demo.join("crd.yaml")]).await;
    let cluster = KubeCluster::new(client(&dev).await);
    create_all(&cluster, &websites(), (0..200).map(|i| website("default", &format!("w{i:03}"))).collect(), 16).await;
    let deployments = katalog::kinds::known("apps", "Deployment").unwrap();
    let services_r = katalog::kinds::known("", "Service").unwrap();

    let katalog = demo.join("katalog.yaml");
    let mut first = Proc::start(dir.path(), "first", &kubeconfig, &katalog, &[], &["--leader-elect", "false"]);
    // Kill it once some, but not all, CRs have children.
    wait_for(Duration::from_secs(30), "the first runtime to be mid-way", || async {
        let n = dev.store().objects(&deployments).len();
        if n >= 20 { Ok(()) } else { Err(format!("{n} Deployments")) }
    })
    .await;
    first.kill();
    let (ready_at_kill, _) = ready_count(&cluster, &websites()).await;
    let children_at_kill = dev.store().objects(&deployments).len();
    assert!(ready_at_kill < 200, "the kill came too late to be mid-reconcile ({ready_at_kill} Ready)");
    eprintln!("killed with {children_at_kill} Deployments and {ready_at_kill}/200 Ready");

    let second = Proc::start(dir.path(), "second", &kubeconfig, &katalog, &[], &["--leader-elect", "false"]);
    wait_for(Duration::from_secs(60), "all 200 Ready after the restart", || async {
        let (ready, all) = ready_count(&cluster, &websites()).await;
        if ready == 200 { Ok(()) } else { Err(format!("{ready}/{all} Ready\n{}", second.log())) }
    })
    .await;
    // Exactly one Deployment and one Service per CR, each owned by an existing CR.
    let expected: Vec<(String, String)> = (0..200).map(|i| ("default".to_string(), format!("w{i:03}"))).collect();
    for r in [&deployments, &services_r] {
        let mut owned = owners(&dev, r, "Website");
        owned.sort();
        assert_eq!(owned.len(), 200, "{}: duplicates or orphans", r.plural);
        assert_eq!(owned, expected, "{}: every child belongs to its own, existing CR", r.plural);
    }
    let summary = second.summary().await.unwrap();
    assert_eq!(summary["crds"][0]["resources"], 200);
    drop(second);
    dev.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_one_leader_and_the_follower_takes_over_within_the_lease_duration() {
    let dir = ork_tests::TempDir::new("runtime-leader");
    let demo = ork_tests::root().join("demos/beginner/hello-website");
    let (dev, kubeconfig) = dev_with_crds(dir.path(), Options { ready_after: Duration::from_millis(50), ..Options::default() }, &[demo.join("crd.yaml")]).await;
    let (code, out) = kubectl(&kubeconfig, &["create", "namespace", "orkestra-system"]).await;
    assert_eq!(code, 0, "{out}");
    let cluster = KubeCluster::new(client(&dev).await);
    let katalog = demo.join("katalog.yaml");
    let lease = [("LEASE_DURATION", "3"), ("RENEW_DEADLINE", "2"), ("RETRY_PERIOD", "0.25")];
    let a = Proc::start(dir.path(), "replica-a", &kubeconfig, &katalog, &lease, &[]);
    let b = Proc::start(dir.path(), "replica-b", &kubeconfig, &katalog, &lease, &[]);
    let (a_leads, _) = wait_for(Duration::from_secs(10), "one leader", || async {
        let (sa, sb) = (a.summary().await?, b.summary().await?);
        match (sa["isKonductor"].as_bool(), sb["isKonductor"].as_bool()) {
            (Some(true), Some(false)) => Ok((true, false)),
            (Some(false), Some(true)) => Ok((false, true)),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    let (mut leader, follower) = if a_leads { (a, b) } else { (b, a) };
    create_all(&cluster, &websites(), (0..5).map(|i| website("default", &format!("before-{i}"))).collect(), 5).await;
    wait_for(Duration::from_secs(20), "5 Ready", || async {
        let (r, n) = ready_count(&cluster, &websites()).await;
        if r == 5 { Ok(()) } else { Err(format!("{r}/{n}")) }
    })
    .await;
    // Stay a while: exactly one leader, and the follower keeps a warm cache but reconciles nothing.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let f = follower.summary().await.unwrap();
    assert_eq!(f["isKonductor"], false);
    assert_eq!(f["crds"][0]["resources"], 5, "warm cache: {f}");
    assert_eq!(f["crds"][0]["reconciles"], 0, "a follower never reconciles: {f}");
    assert_eq!(leader.summary().await.unwrap()["isKonductor"], true);

    leader.kill();
    let killed = Instant::now();
    wait_for(Duration::from_secs(10), "the follower to lead", || async {
        let s = follower.summary().await?;
        if s["isKonductor"] == true { Ok(()) } else { Err(s.to_string()) }
    })
    .await;
    let gap = killed.elapsed();
    // The lease lasts 3 s from its last renewal (at or before the kill); the follower notices
    // within one retry period (0.25 s); renewTime is kept to the second.
    assert!(gap <= Duration::from_millis(4250), "takeover took {gap:?} with a 3 s lease");
    eprintln!("takeover after {gap:?} (lease 3 s)");
    create_all(&cluster, &websites(), (0..5).map(|i| website("default", &format!("after-{i}"))).collect(), 5).await;
    wait_for(Duration::from_secs(20), "10 Ready under the new leader", || async {
        let (r, n) = ready_count(&cluster, &websites()).await;
        if r == 10 { Ok(()) } else { Err(format!("{r}/{n}")) }
    })
    .await;
    assert!(follower.summary().await.unwrap()["crds"][0]["reconciles"].as_u64().unwrap() >= 5);
    let leases = katalog::kinds::known("coordination.k8s.io", "Lease").unwrap();
    let lease = dev.store().objects(&leases).into_iter().find(|l| l["metadata"]["name"] == "orkestra-konductor").unwrap();
    assert_eq!(lease["metadata"]["namespace"], "orkestra-system");
    let new_leader = if follower.log.ends_with("replica-a.log") { "replica-a" } else { "replica-b" };
    let old_leader = if new_leader == "replica-a" { "replica-b" } else { "replica-a" };
    assert_eq!(lease["spec"]["holderIdentity"], new_leader);
    // Each election is an Event on the Lease, in order.
    let events = katalog::kinds::known("events.k8s.io", "Event").unwrap();
    let mut elected: Vec<(String, String)> = dev
        .store()
        .objects(&events)
        .into_iter()
        .filter(|e| e["reason"] == "KonductorElected" && e["regarding"]["kind"] == "Lease" && e["regarding"]["name"] == "orkestra-konductor")
        .map(|e| (e["metadata"]["resourceVersion"].as_str().unwrap_or_default().to_string(), e["note"].as_str().unwrap_or_default().to_string()))
        .collect();
    elected.sort_by_key(|(rv, _)| rv.parse::<u64>().unwrap_or(0));
    let notes: Vec<&str> = elected.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(notes, [format!("{old_leader} became konductor"), format!("{new_leader} became konductor")], "{elected:?}");
    drop(follower);
    dev.stop().await;
}

/// Log events of a JSON log: (message, crd) in order.
fn box_events(log: &str) -> Vec<(String, String)> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| Some((v["fields"]["message"].as_str()?.to_string(), v["fields"]["crd"].as_str()?.to_string())))
        .filter(|(m, _)| m.starts_with("OperatorBox "))
        .collect()
}

/// dependsOn: a box waits for its dependency's CRD and condition, starts after it, and stops
/// before it; SIGTERM drains and exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn depends_on_orders_start_and_reverse_stop_and_sigterm_exits_cleanly() {
    let dir = ork_tests::TempDir::new("runtime-deps");
    let demo = ork_tests::root().join("demos/intermediate/depends-on");
    let katalog = demo.join("katalog.yaml");
    let (dev, kubeconfig) = dev_with_crds(dir.path(), Options { ready_after: Duration::from_millis(50), ..Options::default() }, &[]).await;
    let cluster = KubeCluster::new(client(&dev).await);
    // Only the dependent's CRD exists at first.
    install_some_crds(&cluster, &katalog, Some(&["app"])).await;
    let mut p = Proc::start(dir.path(), "deps", &kubeconfig, &katalog, &[], &["--leader-elect", "false"]);
    let waiting = wait_for(Duration::from_secs(10), "both boxes waiting", || async {
        let s = p.summary().await?;
        let crds = s["crds"].as_array().cloned().unwrap_or_default();
        let why = |n: &str| crds.iter().find(|c| c["name"] == n).and_then(|c| c["waiting"].as_str().map(str::to_string));
        match (why("database"), why("app")) {
            (Some(d), Some(a)) => Ok((d, a)),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    assert!(waiting.0.contains("waiting for the CRD databases to be served"), "{}", waiting.0);
    assert_eq!(waiting.1, "waiting for `database` to be healthy (it is Starting)");
    assert_eq!(box_events(&p.log()), [], "nothing started yet");

    install_some_crds(&cluster, &katalog, Some(&["database"])).await;
    wait_for(Duration::from_secs(15), "both running", || async {
        let s = p.summary().await?;
        if s["crds"].as_array().is_some_and(|c| c.iter().all(|c| c["state"] == "healthy" && c.get("waiting").is_none())) { Ok(()) } else { Err(s.to_string()) }
    })
    .await;
    let (code, out) = kubectl(&kubeconfig, &["apply", "-f", &demo.join("cr.yaml").to_string_lossy()]).await;
    assert_eq!(code, 0, "{out}");
    wait_for(Duration::from_secs(20), "App and Database Ready", || async {
        let s = p.summary().await?;
        let done = s["crds"].as_array().is_some_and(|c| c.iter().all(|c| c["reconciles"].as_u64().unwrap_or(0) > 0));
        let (code, out) = kubectl(
            &kubeconfig,
            &["get", "apps.stack.ork.dev,databases.stack.ork.dev", "-o", "jsonpath={.items[*].status.conditions[?(@.type==\"Ready\")].status}"],
        )
        .await;
        if done && code == 0 && out.trim() == "True True" { Ok(()) } else { Err(format!("{out} {s}")) }
    })
    .await;

    // SIGTERM: drain, stop in reverse order, exit 0.
    let pid = p.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = wait_for(Duration::from_secs(15), "exit after SIGTERM", || {
        let s = p.child.try_wait().map_err(|e| e.to_string());
        async move { s?.ok_or_else(|| "running".to_string()) }
    })
    .await;
    assert_eq!(status.code(), Some(0), "{}", p.log());
    let events = box_events(&p.log());
    let order: Vec<String> = events.iter().map(|(m, c)| format!("{} {c}", m.trim_start_matches("OperatorBox "))).collect();
    assert_eq!(order, ["started database", "started app", "stopped app", "stopped database"], "{}", p.log());
    dev.stop().await;
}
