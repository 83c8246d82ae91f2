//! The runtime (runtime-and-gateway.md §1): one [`operator::OperatorBox`] per enabled CRD of a
//! Katalog, each with its own watch, queue, workers and health, started in `dependsOn` order
//! and stopped in reverse; leader election on the `orkestra-konductor` Lease (followers keep
//! warm caches and never reconcile); an HTTP server for probes, metrics and `/katalog`.
//!
//! [`Runtime::start`] returns once everything is spawned; [`Runtime::shutdown`] drains (items in
//! flight finish, bounded by [`Options::drain`]), releases the Lease and stops the server.
//! `ork run` and `ork-runtime run` are thin wrappers around these two calls.

pub mod command;
pub mod health;
mod http;
pub mod metrics;
pub mod operator;
pub mod queue;

use crate::cluster::KubeCluster;
use crate::serve::leader::{Elector, Timings};
use health::State;
use katalog::model::Katalog;
use katalog::model::crd::DependencyCondition;
use katalog::template::TemplateSet;
use katalog::valid::Valid;
use operator::{Defaults, OperatorBox};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The install namespace: where the Lease lives.
    pub namespace: String,
    /// Where the HTTP server listens (`None`: no server).
    pub http: Option<SocketAddr>,
    /// Leader election timings (`None`: this process reconciles without a Lease — one replica
    /// only).
    pub leader: Option<Timings>,
    /// This replica's name in the Lease.
    pub identity: String,
    /// How long shutdown waits for reconciles in flight.
    pub drain: Duration,
    /// Defaults for what the Katalog does not set.
    pub defaults: Defaults,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            namespace: katalog::install::DEFAULT_NAMESPACE.to_string(),
            http: None,
            leader: None,
            identity: default_identity(),
            drain: Duration::from_secs(30),
            defaults: Defaults::default(),
        }
    }
}

/// The pod's hostname (what Kubernetes sets `HOSTNAME` to), else `ork-runtime-<pid>`.
pub fn default_identity() -> String {
    std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| format!("ork-runtime-{}", std::process::id()))
}

/// Why the runtime did not start.
#[derive(Debug, thiserror::Error)]
// Variant fields are the message's parts and its `#[source]` cause.
#[allow(missing_docs)]
pub enum StartError {
    /// A CRD entry has no reconciler (a Katalog that passed validation always has one).
    #[error(transparent)]
    Setup(#[from] crate::reconcile::SetupError),
    /// The HTTP address cannot be bound.
    #[error("cannot listen on {addr}: {error}")]
    Listen {
        addr: SocketAddr,
        #[source]
        error: std::io::Error,
    },
}

/// Some OperatorBoxes did not start in time ([`Runtime::wait_started`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the runtime did not start within {timeout:?}: {}", pending.join("; "))]
pub struct NotStarted {
    /// How long was waited.
    pub timeout: Duration,
    /// Each box not running yet: `<crd>: <what it waits for, or its state>`.
    pub pending: Vec<String>,
}

/// What the HTTP handlers and the supervisor share.
pub(crate) struct Shared {
    name: String,
    identity: String,
    boxes: Vec<Arc<OperatorBox>>,
    leading: watch::Receiver<bool>,
    started: AtomicBool,
    stopping: AtomicBool,
}

impl Shared {
    fn leading(&self) -> bool {
        *self.leading.borrow()
    }

    fn started(&self) -> bool {
        self.started.load(Ordering::SeqCst)
    }

    fn summary(&self) -> Value {
        let crds: Vec<operator::BoxStatus> = self.boxes.iter().map(|b| b.status()).collect();
        let count = |s: State| crds.iter().filter(|c| c.health.state == s).count();
        let degraded = count(State::Degraded);
        let mut namespaces = std::collections::BTreeMap::<String, Vec<&str>>::new();
        for c in &crds {
            namespaces.entry(c.watch_namespace.clone().unwrap_or_else(|| "*".to_string())).or_default().push(&c.name);
        }
        let status = if degraded > 0 {
            "degraded"
        } else if crds.iter().any(|c| c.health.state == State::Starting) {
            "starting"
        } else {
            "healthy"
        };
        json!({
            "name": self.name,
            "identity": self.identity,
            "isKonductor": self.leading(),
            "healthy": degraded == 0,
            "OrkReady": self.started() && !self.stopping.load(Ordering::SeqCst),
            "status": status,
            "total": crds.len(),
            "totalEnabled": crds.len(),
            "totalDegraded": degraded,
            "statusCounts": {
                "healthy": count(State::Healthy),
                "degraded": degraded,
                "pending": count(State::Starting),
                "gated": count(State::Gated),
                "stopped": count(State::Stopped),
            },
            "namespaces": namespaces,
            "crds": crds,
        })
    }

    fn crd_summary(&self, name: &str) -> Option<Value> {
        let b = self.boxes.iter().find(|b| b.name == name)?;
        let mut v = json!(b.status());
        v["isKonductor"] = json!(self.leading());
        v["resync"] = json!(format!("{}s", b.settings.resync.as_secs()));
        v["maxDepth"] = json!(b.settings.max_depth);
        v["failureThreshold"] = json!(b.settings.failure_threshold);
        Some(v)
    }
}

impl crate::serve::http::Probes for Shared {
    fn not_ready(&self) -> Option<String> {
        if self.stopping.load(Ordering::SeqCst) {
            return Some("shutting down".to_string());
        }
        if !self.started() {
            return Some("starting".to_string());
        }
        let degraded: Vec<&str> = self.boxes.iter().filter(|b| b.health().state == State::Degraded).map(|b| b.name.as_str()).collect();
        (!degraded.is_empty()).then(|| format!("degraded: {}", degraded.join(", ")))
    }

    fn started(&self) -> bool {
        Shared::started(self)
    }

    fn metrics(&self) -> String {
        let series: Vec<_> = self.boxes.iter().map(|b| b.metrics()).collect();
        metrics::render(&series, self.leading())
    }
}

/// A running runtime.
pub struct Runtime {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    supervisor: JoinHandle<()>,
    elector: Option<(watch::Sender<bool>, JoinHandle<()>)>,
    http: Option<(SocketAddr, JoinHandle<()>)>,
    _leading: Option<watch::Sender<bool>>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").field("katalog", &self.shared.name).field("identity", &self.shared.identity).finish_non_exhaustive()
    }
}

impl Runtime {
    /// Starts every OperatorBox of the valid Katalog `katalog` (see [`katalog::valid::load_valid`])
    /// against `client`'s cluster.
    pub async fn start(client: kube::Client, katalog: Valid, opts: Options) -> Result<Runtime, StartError> {
        let Valid { katalog, templates, startup_order: order, .. } = katalog;
        // The Katalog and its templates live as long as the process; the reconcilers borrow
        // them. (A test that starts many runtimes leaks a few kilobytes per start.)
        let katalog: &'static Katalog = Box::leak(Box::new(katalog));
        let templates: &'static TemplateSet = Box::leak(Box::new(templates));
        let mut boxes = Vec::new();
        for name in &order {
            let Some(entry) = katalog.crds().get(name) else { continue };
            if !entry.is_enabled() {
                tracing::info!(crd = %name, "disabled (enabled: false): no OperatorBox");
                continue;
            }
            let b = OperatorBox::new(katalog, templates, name, opts.defaults)?;
            boxes.push(Arc::new(b));
        }
        let cluster = KubeCluster::new(client.clone());
        let client_for_events = client.clone();
        let (stop, _) = watch::channel(false);
        let (leading, elector, keep) = match opts.leader {
            Some(timings) => {
                let (stop_tx, stop_rx) = watch::channel(false);
                let e = Elector::new(Arc::new(cluster.clone()), &opts.namespace, katalog::install::LEADER_LEASE, &opts.identity, timings);
                let (rx, task) = e.spawn_until(stop_rx);
                (rx, Some((stop_tx, task)), None)
            }
            None => {
                let (tx, rx) = watch::channel(true);
                (rx, None, Some(tx))
            }
        };
        let shared = Arc::new(Shared {
            name: katalog.name().to_string(),
            identity: opts.identity.clone(),
            boxes,
            leading: leading.clone(),
            started: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
        });
        let http = match opts.http {
            Some(addr) => {
                let listener = tokio::net::TcpListener::bind(addr).await.map_err(|error| StartError::Listen { addr, error })?;
                let bound = listener.local_addr().map_err(|error| StartError::Listen { addr, error })?;
                let app = http::router(shared.clone());
                let mut stopped = stop.subscribe();
                let task = crate::serve::http::spawn(listener, app, async move {
                    let _ = stopped.wait_for(|s| *s).await;
                });
                tracing::info!("HTTP on http://{bound} (/health /ready /startup /metrics /katalog)");
                Some((bound, task))
            }
            None => None,
        };
        let supervisor = tokio::spawn(supervise(shared.clone(), cluster, client, leading, stop.subscribe(), opts.drain));
        if opts.leader.is_some() {
            tokio::spawn(announce_leadership(shared.clone(), KubeCluster::new(client_for_events), opts.namespace.clone(), opts.identity.clone()));
        }
        Ok(Runtime { shared, stop, supervisor, elector, http, _leading: keep })
    }

    /// The HTTP server's address, when it runs.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http.as_ref().map(|(a, _)| *a)
    }

    /// The `/katalog` JSON.
    pub fn summary(&self) -> Value {
        self.shared.summary()
    }

    /// Whether this replica reconciles now.
    pub fn leading(&self) -> bool {
        self.shared.leading()
    }

    /// Waits until every box runs with a warm cache and the runtime says so (`/startup` answers
    /// 200: the startup loop sets that flag a moment after the caches are warm), at most
    /// `timeout`; on timeout, says which boxes are not there and why.
    pub async fn wait_started(&self, timeout: Duration) -> Result<(), NotStarted> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.shared.started() && self.shared.boxes.iter().all(|b| b.synced()) {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                let pending: Vec<String> = self
                    .shared
                    .boxes
                    .iter()
                    .filter(|b| !b.synced())
                    .map(|b| match b.status().waiting {
                        Some(w) => format!("{}: {w}", b.name),
                        None => format!("{}: {:?}", b.name, b.health().state),
                    })
                    .collect();
                return Err(NotStarted { timeout, pending });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops: boxes in reverse start order, each draining its reconciles in flight; then the
    /// Lease is released and the HTTP server stops.
    pub async fn shutdown(self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        tracing::info!("shutting down");
        let _ = self.stop.send(true);
        let _ = self.supervisor.await;
        if let Some((stop, task)) = self.elector {
            let _ = stop.send(true);
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
        if let Some((_, task)) = self.http {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
        tracing::info!("stopped");
    }

    /// Runs until SIGTERM or Ctrl-C, then shuts down.
    pub async fn run_until_signal(self) {
        crate::serve::signal::shutdown_signal().await;
        self.shutdown().await;
    }
}

/// Logs each change of leadership and records it as an Event on the Lease (upstream's
/// `KonductorElected` / `KonductorLost`), so `kubectl events -n <ns>` shows who leads.
async fn announce_leadership(shared: Arc<Shared>, cluster: KubeCluster, namespace: String, identity: String) {
    let mut leading = shared.leading.clone();
    let lease = json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": katalog::install::LEADER_LEASE, "namespace": namespace},
    });
    loop {
        if leading.changed().await.is_err() {
            return;
        }
        let now = katalog::time::unix_now();
        if *leading.borrow_and_update() {
            tracing::info!(identity = %identity, "became konductor (leader): reconciling");
            crate::reconcile::record_event(&cluster, &lease, "Normal", "KonductorElected", "Elect", &format!("{identity} became konductor"), now).await;
        } else if shared.stopping.load(Ordering::SeqCst) {
            tracing::info!(identity = %identity, "released the Lease");
            crate::reconcile::record_event(
                &cluster,
                &lease,
                "Normal",
                "KonductorReleased",
                "Elect",
                &format!("{identity} released the Lease (shutting down)"),
                now,
            )
            .await;
        } else {
            tracing::warn!(identity = %identity, "not konductor any more: reconciling stopped, caches stay warm");
            crate::reconcile::record_event(&cluster, &lease, "Warning", "KonductorLost", "Elect", &format!("{identity} stopped leading"), now).await;
        }
    }
}

/// Starts each box once its CRD is served and its dependencies reached their condition; on
/// stop, stops them in reverse order.
async fn supervise(
    shared: Arc<Shared>,
    cluster: KubeCluster,
    client: kube::Client,
    leading: watch::Receiver<bool>,
    mut stop: watch::Receiver<bool>,
    drain: Duration,
) {
    let mut running: Vec<(watch::Sender<bool>, JoinHandle<()>)> = Vec::new();
    for b in &shared.boxes {
        let (box_stop, box_stop_rx) = watch::channel(false);
        let (b, shared2, cluster, client, leading, mut global) = (b.clone(), shared.clone(), cluster.clone(), client.clone(), leading.clone(), stop.clone());
        let task = tokio::spawn(async move {
            if !b.wait_for_crd(&client, &mut global).await {
                return;
            }
            if !wait_dependencies(&shared2, &b, &mut global).await {
                return;
            }
            b.run(cluster, client, leading, box_stop_rx, drain).await;
        });
        running.push((box_stop, task));
    }
    // Startup is finished when every box runs with a warm cache or is known to wait (for its
    // CRD or a dependency): a missing CRD must not make the startup probe kill the pod.
    loop {
        if shared.boxes.iter().all(|b| b.synced() || b.status().waiting.is_some()) {
            shared.started.store(true, Ordering::SeqCst);
            tracing::info!(crds = shared.boxes.len(), "startup finished");
            break;
        }
        if operator::wait_or_stop(&mut stop, Duration::from_millis(20)).await {
            break;
        }
    }
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            break;
        }
    }
    for (box_stop, task) in running.into_iter().rev() {
        let _ = box_stop.send(true);
        let _ = task.await;
    }
}

async fn wait_dependencies(shared: &Shared, b: &OperatorBox, stop: &mut watch::Receiver<bool>) -> bool {
    loop {
        let mut missing = None;
        for d in b.depends_on() {
            let Some(dep) = shared.boxes.iter().find(|o| o.name == d.name.as_str()) else {
                missing = Some(format!("waiting for `{}`, which does not run here (disabled?)", d.name));
                break;
            };
            let state = dep.health().state;
            let reached = match d.condition {
                DependencyCondition::Started => state != State::Starting && dep.synced(),
                DependencyCondition::Healthy => state == State::Healthy && dep.synced(),
            };
            if !reached {
                let cond = match d.condition {
                    DependencyCondition::Started => "started",
                    DependencyCondition::Healthy => "healthy",
                };
                missing = Some(format!("waiting for `{}` to be {cond} (it is {state:?})", d.name));
                break;
            }
        }
        b.wait_dependency(missing.clone());
        if missing.is_none() {
            return true;
        }
        if operator::wait_or_stop(stop, Duration::from_millis(100)).await {
            return false;
        }
    }
}
