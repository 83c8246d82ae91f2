//! The Live view's cluster work, on the workbench's shared tokio runtime (`Jobs::runtime`):
//! start the dev stack (`services::run::DevStack`, the same as `ork run --dev`) or connect to
//! the current kube context; then one list + watch per resource (the Katalog's CRDs, the kinds
//! of their children, core Events) that resumes from the last resourceVersion and lists again
//! only when the server says the version is gone; `/katalog` of the runtime polled every 2 s;
//! apply and delete on request. Everything reaches the UI thread as [`Update`]s.
//!
//! A [`Session`] stops it all — watches, runtime, gateway, dev cluster — on [`Session::stop`]
//! and when dropped (waiting a bounded time, so that quitting never hangs).

use super::model::{ChildKey, ChildState, CrKey, CrState, EventRow, Started, Update};
use crate::workbench::msg::Msg;
use crate::workbench::view::{ViewId, result_for};
use katalog::valid::Valid;
use serde_json::Value;
use services::cluster::{ApiResource, Cluster, ClusterError, KubeCluster, ListParams, Propagation, WatchEvent};
use services::run::{DevStack, DevStackOptions, Existing, InstallError, apply_file, crd_plurals, has_cluster_config, served_resources};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// Where the session runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The embedded dev cluster with the runtime (and the gateway when declared).
    Dev,
    /// The current kube context (watch, apply and delete only: no runtime is started).
    Connect,
}

/// What a session needs.
pub struct Setup {
    /// Dev cluster or current context.
    pub mode: Mode,
    /// The Katalog.
    pub valid: Arc<Valid>,
    /// The install namespace (the gateway's TLS Secret).
    pub namespace: String,
}

enum Command {
    Apply(PathBuf, String),
    Delete(CrKey),
}

/// A running session: dropping it stops everything it started.
pub struct Session {
    stop: tokio::sync::watch::Sender<bool>,
    commands: tokio::sync::mpsc::UnboundedSender<Command>,
    done: std::sync::mpsc::Receiver<()>,
}

/// How long dropping a session waits for everything to stop.
const STOP_WAIT: Duration = Duration::from_secs(8);

/// How often `/katalog` is read.
const HEALTH_EVERY: Duration = Duration::from_secs(2);

impl Session {
    /// Starts a session on `rt`, reporting on `tx`.
    pub fn start(rt: &tokio::runtime::Runtime, setup: Setup, tx: Sender<Msg>) -> Session {
        // kube's TLS: once per process (an error means it is installed already).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let (commands, commands_rx) = tokio::sync::mpsc::unbounded_channel();
        let (done_tx, done) = std::sync::mpsc::channel();
        rt.spawn(async move {
            run(setup, tx, stop_rx, commands_rx).await;
            let _ = done_tx.send(());
        });
        Session { stop, commands, done }
    }

    /// Applies a CR file (create, or server-side apply when it exists).
    pub fn apply(&self, file: PathBuf, shown: String) {
        let _ = self.commands.send(Command::Apply(file, shown));
    }

    /// Deletes a CR.
    pub fn delete(&self, key: CrKey) {
        let _ = self.commands.send(Command::Delete(key));
    }

    /// Asks everything to stop ([`Update::Stopped`] follows).
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        let _ = self.done.recv_timeout(STOP_WAIT);
    }
}

fn send(tx: &Sender<Msg>, u: Update) -> bool {
    tx.send(result_for(ViewId::Live, u)).is_ok()
}

/// A fresh private directory for the dev cluster's kubeconfig.
fn kubeconfig_path() -> PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    std::env::temp_dir().join(format!("ork-live-{}-{n}", std::process::id())).join("kubeconfig")
}

struct Running {
    cluster: Arc<KubeCluster>,
    stack: Option<DevStack>,
    custom: Vec<ApiResource>,
    started: Started,
}

async fn start(setup: &Setup) -> Result<Running, String> {
    let plurals = crd_plurals(&setup.valid.katalog);
    match setup.mode {
        Mode::Dev => {
            let kubeconfig = kubeconfig_path();
            if let Some(dir) = kubeconfig.parent() {
                std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            let runtime = services::runtime::Options {
                namespace: setup.namespace.clone(),
                http: Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0)),
                leader: None,
                drain: Duration::from_secs(2),
                ..services::runtime::Options::default()
            };
            let opts = DevStackOptions { kubeconfig: kubeconfig.clone(), cluster: services::devcluster::Options::default(), runtime };
            let stack = DevStack::start((*setup.valid).clone(), opts).await.map_err(|e| e.to_string())?;
            let started = Started {
                dev: true,
                cluster: stack.url(),
                kubeconfig: Some(kubeconfig),
                runtime: stack.runtime_addr(),
                gateway: stack.gateway().map(|g| g.webhook_addr()),
                plurals,
            };
            Ok(Running { cluster: stack.cluster().clone(), custom: stack.custom().to_vec(), stack: Some(stack), started })
        }
        Mode::Connect => {
            if !has_cluster_config() {
                return Err(
                    "no kube context: neither $KUBECONFIG nor ~/.kube/config exists (nor an in-cluster configuration); press d for the embedded dev cluster"
                        .into(),
                );
            }
            let client = services::serve::client::infer(None).await.map_err(|e| format!("cannot connect to the current kube context: {e}"))?;
            let started = Started { dev: false, cluster: "current kube context".into(), kubeconfig: None, runtime: None, gateway: None, plurals };
            Ok(Running { cluster: Arc::new(KubeCluster::new(client)), stack: None, custom: served_resources(&setup.valid.katalog), started })
        }
    }
}

async fn run(setup: Setup, tx: Sender<Msg>, mut stop: tokio::sync::watch::Receiver<bool>, mut commands: tokio::sync::mpsc::UnboundedReceiver<Command>) {
    let running = match start(&setup).await {
        Ok(r) => r,
        Err(e) => {
            send(&tx, Update::Failed(e));
            return;
        }
    };
    let Running { cluster, stack, custom, started } = running;
    let kubeconfig = started.kubeconfig.clone();
    let mut tasks = JoinSet::new();
    if !*stop.borrow() && send(&tx, Update::Started(started.clone())) {
        let kinds: Arc<BTreeSet<String>> = Arc::new(custom.iter().map(|r| r.kind.clone()).collect());
        for r in &custom {
            tasks.spawn(watch(cluster.clone(), r.clone(), Source::Crs, kinds.clone(), tx.clone()));
        }
        for r in child_resources(&setup.valid) {
            tasks.spawn(watch(cluster.clone(), r, Source::Children, kinds.clone(), tx.clone()));
        }
        // The runtime records events.k8s.io/v1 Events (a real API server shows every Event in
        // both APIs; this one is the newer).
        if let Some(events) = katalog::kinds::known("events.k8s.io", "Event") {
            tasks.spawn(watch(cluster.clone(), events, Source::Events, kinds.clone(), tx.clone()));
        }
        if let Some(addr) = started.runtime {
            tasks.spawn(health(addr, tx.clone()));
        }
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                c = commands.recv() => match c {
                    Some(Command::Apply(file, shown)) => { tasks.spawn(apply(cluster.clone(), custom.clone(), file, shown, tx.clone())); }
                    Some(Command::Delete(key)) => { tasks.spawn(delete(cluster.clone(), custom.clone(), key, tx.clone())); }
                    None => break,
                },
            }
            while tasks.try_join_next().is_some() {}
        }
    }
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    if let Some(stack) = stack {
        stack.stop().await;
    }
    if let Some(dir) = kubeconfig.as_ref().and_then(|k| k.parent()) {
        let _ = std::fs::remove_dir_all(dir);
    }
    send(&tx, Update::Stopped);
}

/// The kinds of the children of every enabled entry (as the runtime's reconcilers watch them).
fn child_resources(valid: &Valid) -> Vec<ApiResource> {
    let mut out: Vec<ApiResource> = Vec::new();
    for (name, entry) in valid.katalog.crds().iter() {
        if !entry.is_enabled() {
            continue;
        }
        let Ok(resources) = services::reconcile::child_resources(&valid.katalog, name) else { continue };
        for c in &resources {
            if !out.iter().any(|o| o.group == c.group && o.plural == c.plural) {
                out.push(c.clone());
            }
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Crs,
    Children,
    Events,
}

fn child_key(obj: &Value) -> Option<ChildKey> {
    let s = |p: &str| obj.pointer(p).and_then(Value::as_str);
    Some(ChildKey {
        kind: s("/kind")?.to_string(),
        namespace: s("/metadata/namespace").unwrap_or_default().to_string(),
        name: s("/metadata/name")?.to_string(),
    })
}

fn event_about(obj: &Value, kinds: &BTreeSet<String>) -> Option<EventRow> {
    let kind = EventRow::kind_about(obj)?;
    if !kinds.contains(kind) {
        return None;
    }
    EventRow::from_object(obj)
}

/// Objects in a list have no kind (the list has): put it back.
fn with_kind(mut obj: Value, r: &ApiResource) -> Value {
    if obj.get("kind").is_none()
        && let Some(m) = obj.as_object_mut()
    {
        m.insert("kind".into(), Value::String(r.kind.clone()));
        m.insert("apiVersion".into(), Value::String(r.api_version()));
    }
    obj
}

/// Lists `r` once, then watches it from the list's resourceVersion, resuming each watch that
/// ends from the last version seen; lists again only when the server no longer has that
/// version (410) or a watch cannot be opened.
async fn watch(cluster: Arc<KubeCluster>, r: ApiResource, source: Source, kinds: Arc<BTreeSet<String>>, tx: Sender<Msg>) {
    let what = r.group_resource();
    loop {
        let list = match cluster.list(&r, None, &ListParams::default()).await {
            Ok(l) => l,
            Err(e) => {
                if !send(&tx, Update::WatchError { what: what.clone(), error: e.to_string() }) {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
        };
        let items = list.items.into_iter().map(|o| with_kind(o, &r));
        let ok = match source {
            Source::Crs => send(&tx, Update::CrsListed { kind: r.kind.clone(), crs: items.filter_map(|o| CrState::from_object(&o)).collect() }),
            Source::Children => {
                send(&tx, Update::ChildrenListed { kind: r.kind.clone(), children: items.filter_map(|o| ChildState::from_object(&o)).collect() })
            }
            Source::Events => items.filter_map(|o| event_about(&o, &kinds)).all(|e| send(&tx, Update::Event(e))),
        };
        if !ok || !send(&tx, Update::WatchError { what: what.clone(), error: String::new() }) {
            return;
        }
        let mut rv = list.resource_version;
        loop {
            let began = Instant::now();
            let mut stream = match cluster.watch(&r, None, rv).await {
                Ok(s) => s,
                Err(ClusterError::Gone(_)) => break,
                Err(e) => {
                    if !send(&tx, Update::WatchError { what: what.clone(), error: e.to_string() }) {
                        return;
                    }
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    break;
                }
            };
            let mut seen = 0usize;
            while let Some(ev) = stream.next().await {
                seen += 1;
                if let Some(v) = ev.object().pointer("/metadata/resourceVersion").and_then(Value::as_str).and_then(|v| v.parse().ok()) {
                    rv = v;
                }
                let (gone, obj) = match ev {
                    WatchEvent::Added(o) | WatchEvent::Modified(o) => (false, with_kind(o, &r)),
                    WatchEvent::Deleted(o) => (true, with_kind(o, &r)),
                };
                let u = match (source, gone) {
                    (Source::Crs, false) => CrState::from_object(&obj).map(Update::Cr),
                    (Source::Crs, true) => CrState::from_object(&obj).map(|c| Update::CrGone(c.key)),
                    (Source::Children, false) => ChildState::from_object(&obj).map(Update::Child),
                    (Source::Children, true) => child_key(&obj).map(Update::ChildGone),
                    (Source::Events, false) => event_about(&obj, &kinds).map(Update::Event),
                    (Source::Events, true) => None,
                };
                if let Some(u) = u
                    && !send(&tx, u)
                {
                    return;
                }
            }
            // A watch that ends at once without a word: the version is likely gone; list again.
            if seen == 0 && began.elapsed() < Duration::from_secs(1) {
                tokio::time::sleep(Duration::from_secs(1)).await;
                break;
            }
        }
    }
}

/// Reads the runtime's `/katalog` every 2 s.
async fn health(addr: SocketAddr, tx: Sender<Msg>) {
    loop {
        let got = tokio::task::spawn_blocking(move || get_json(addr, "/katalog")).await;
        let u = match got {
            Ok(Ok(v)) => Update::Health(Ok(super::model::BoxHealth::from_summary(&v))),
            Ok(Err(e)) => Update::Health(Err(e)),
            Err(e) => Update::Health(Err(e.to_string())),
        };
        if !send(&tx, u) {
            return;
        }
        tokio::time::sleep(HEALTH_EVERY).await;
    }
}

/// GET `path` over plain HTTP/1.0 with 1 s timeouts; the body as JSON (whatever the status:
/// `/katalog` answers 503 with the same JSON when a box is degraded).
fn get_json(addr: SocketAddr, path: &str) -> Result<Value, String> {
    use std::io::{Read, Write};
    let timeout = Duration::from_secs(1);
    let mut s = std::net::TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("http://{addr}{path}: {e}"))?;
    let _ = s.set_read_timeout(Some(timeout));
    let _ = s.set_write_timeout(Some(timeout));
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nAccept: application/json\r\n\r\n").as_bytes())
        .map_err(|e| format!("http://{addr}{path}: {e}"))?;
    let mut buf = Vec::new();
    s.take(8 << 20).read_to_end(&mut buf).map_err(|e| format!("http://{addr}{path}: {e}"))?;
    let text = String::from_utf8_lossy(&buf);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    serde_json::from_str(body).map_err(|e| format!("http://{addr}{path}: not JSON: {e}"))
}

/// `403 Forbidden: <the API server's or gateway's message>`.
fn refusal(e: &ClusterError) -> String {
    format!("{} {}: {e}", e.status_code(), e.reason())
}

async fn apply(cluster: Arc<KubeCluster>, custom: Vec<ApiResource>, file: PathBuf, shown: String, tx: Sender<Msg>) {
    let result = match apply_file(&cluster, &file, &custom, Existing::Update).await {
        Ok(docs) => Ok(docs.into_iter().map(|d| CrKey { namespace: d.namespace.unwrap_or_default(), name: d.name, kind: d.kind }).collect()),
        Err(InstallError::Apply { source, .. }) => match *source {
            InstallError::Create { kind, namespace, name, source } => {
                Err((Some(CrKey { namespace: namespace.unwrap_or_default(), name, kind }), refusal(&source)))
            }
            other => Err((None, other.to_string())),
        },
        Err(e) => Err((None, e.to_string())),
    };
    send(&tx, Update::Applied { file: shown, result });
}

async fn delete(cluster: Arc<KubeCluster>, custom: Vec<ApiResource>, key: CrKey, tx: Sender<Msg>) {
    let result = match custom.iter().find(|r| r.kind == key.kind) {
        None => Err(format!("{} is not a kind of this Katalog", key.kind)),
        Some(r) => {
            let ns = (r.namespaced && !key.namespace.is_empty()).then_some(key.namespace.as_str());
            cluster.delete(r, ns, &key.name, Propagation::Background).await.map_err(|e| refusal(&e))
        }
    };
    send(&tx, Update::Deleted { key, result });
}
