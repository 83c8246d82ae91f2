//! One OperatorBox (runtime-and-gateway.md §1.4–§1.8): the watch of one CRD (and of the kinds
//! its children are, mapped back to their owner), its work queue, its workers, its health and
//! its metrics. Nothing here is shared with another box except the API connection, so a
//! flood, a failure or a panic in one box does not reach the others.

use super::health::{Health, Snapshot, State};
use super::metrics::{self, BoxMetrics};
use super::queue::{Backoff, WorkQueue};
use crate::cluster::{ApiResource, Cache, Cached, KubeCluster, Seen, Watched, dynamic_api};
use crate::reconcile::{Ctx, Outcome, Reconciler, SetupError};
use futures_util::{StreamExt, TryStreamExt};
use katalog::model::Katalog;
use katalog::model::crd::WatchOn;
use katalog::model::crd::{CrdEntry, Dependency};
use katalog::render::{LABEL_MANAGED, LABEL_OWNER, LABEL_OWNER_KIND, LABEL_OWNER_NAMESPACE, label_value};
use katalog::template::Rng;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How long a worker waits for the box's cache to be warm before it reconciles anyway.
const WARM_WAIT: Duration = Duration::from_secs(10);

/// A CR: its namespace (`None` when cluster-scoped) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)]
pub struct ObjectKey {
    pub namespace: Option<String>,
    pub name: String,
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{ns}/{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// A box's effective tuning: the CRD entry, else its reconciler profile, else the runtime's
/// defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Worker tasks.
    pub workers: usize,
    /// Every CR is queued again this often (a safety net: children are watched).
    pub resync: Duration,
    /// Queue depth limit (`None`: unlimited).
    pub max_depth: Option<usize>,
    /// Consecutive failures before the box is degraded.
    pub failure_threshold: u32,
    /// How a failed reconcile is retried (`queue.retryBackoff` and `queue.type`).
    pub backoff: Backoff,
    /// When the CRD may be served from one namespace only: watch just that namespace.
    pub watch_namespace: Option<String>,
    /// `labelSelector` of the entry, as a selector string.
    pub label_selector: Option<String>,
    /// `fieldSelector` of the entry, as a selector string.
    pub field_selector: Option<String>,
}

/// Runtime-wide defaults (environment, else built in).
#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    /// Workers per box.
    pub workers: usize,
    /// Resync period.
    pub resync: Duration,
    /// Failure threshold.
    pub failure_threshold: u32,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults { workers: 2, resync: Duration::from_secs(600), failure_threshold: 5 }
    }
}

fn selector(m: &katalog::decode::Map<katalog::decode::Str>) -> Option<String> {
    let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k}={}", v.as_str())).collect();
    (!parts.is_empty()).then(|| parts.join(","))
}

fn seconds(text: &str) -> Option<Duration> {
    katalog::duration::parse_duration(text).filter(|s| s.is_finite() && *s > 0.0).map(Duration::from_secs_f64)
}

/// The effective settings of `entry`.
pub fn settings(katalog: &Katalog, entry: &CrdEntry, defaults: Defaults) -> Settings {
    let r = entry.reconcile();
    let profile_name = r.and_then(|r| r.profile.as_ref()).map(|p| p.as_str().to_string());
    let user = profile_name
        .as_ref()
        .and_then(|n| katalog.profiles.as_ref().and_then(|p| p.reconciler.iter().find(|u| u.name.as_ref().is_some_and(|x| x.as_str() == n))));
    let builtin = profile_name.as_ref().and_then(|n| katalog::profiles::builtin(katalog::profiles::ProfileClass::Reconciler, &n.to_ascii_lowercase()));
    let from_builtin = |key: &str| builtin.as_ref().and_then(|b| b.pointer(key).cloned());
    let workers = r
        .and_then(|r| r.workers)
        .or_else(|| user.and_then(|u| u.workers))
        .or_else(|| from_builtin("/workers").and_then(|v| v.as_u64()).map(|w| w as u32))
        .map_or(defaults.workers, |w| w as usize)
        .clamp(1, 50);
    let resync = r
        .and_then(|r| r.resync.as_ref())
        .map(|s| s.as_str().to_string())
        .or_else(|| user.and_then(|u| u.resync.as_ref()).map(|s| s.as_str().to_string()))
        .or_else(|| from_builtin("/resync").and_then(|v| v.as_str().map(str::to_string)))
        .and_then(|s| seconds(&s))
        .unwrap_or(defaults.resync);
    let queue = r.and_then(|r| r.queue.as_ref()).or_else(|| user.and_then(|u| u.queue.as_ref()));
    let max_depth = queue
        .and_then(|q| q.max_depth)
        .or_else(|| from_builtin("/queue/maxDepth").and_then(|v| v.as_u64()).map(|d| d as u32))
        .filter(|d| *d > 0)
        .map(|d| d as usize);
    let failure_threshold = queue.and_then(|q| q.failure_threshold).unwrap_or(defaults.failure_threshold).max(1);
    Settings {
        workers,
        resync,
        max_depth,
        failure_threshold,
        backoff: backoff(queue),
        watch_namespace: single_namespace(katalog, entry),
        label_selector: selector(&entry.label_selector),
        field_selector: selector(&entry.field_selector),
    }
}

/// The retry policy of a queue block (docs/runtime.md "Work queue"). `ratelimited` (the default):
/// `retryBackoff` over client-go's 5 ms ×2 → 1000 s. `delayed`: no per-key growth, every failure
/// is retried after the same delay (`retryBackoff.initial`, else 1 s); `max` and `multiplier` are
/// reported by `ork validate` as having no effect there.
fn backoff(queue: Option<&katalog::model::crd::Queue>) -> Backoff {
    let rb = queue.and_then(|q| q.retry_backoff.as_ref());
    let secs = |s: Option<f64>| s.and_then(|s| Duration::try_from_secs_f64(s).ok());
    let initial = secs(rb.and_then(|b| b.initial));
    let max_attempts = rb.and_then(|b| b.max_attempts);
    if queue.and_then(|q| q.kind) == Some(katalog::model::crd::QueueType::Delayed) {
        let d = initial.unwrap_or(super::queue::DELAYED_DEFAULT);
        return Backoff { initial: d, max: d, multiplier: 1.0, max_attempts };
    }
    let def = Backoff::default();
    let initial = initial.unwrap_or(def.initial);
    Backoff {
        initial,
        max: secs(rb.and_then(|b| b.max)).unwrap_or(def.max).max(initial),
        multiplier: rb.and_then(|b| b.multiplier).unwrap_or(def.multiplier),
        max_attempts,
    }
}

/// The one namespace CRs of `entry` can live in, when the rules name exactly one (tier 1 of
/// §1.5): `namespace:` of the entry, or an allow-list of one literal namespace and no
/// restrictions anywhere.
fn single_namespace(katalog: &Katalog, entry: &CrdEntry) -> Option<String> {
    if !katalog::kinds::api_identity(entry).map_or_else(|| katalog::kinds::is_namespaced(entry.namespaced, None), |id| id.namespaced) {
        return None;
    }
    if let Some(ns) = &entry.namespace {
        return Some(ns.as_str().to_string());
    }
    let (allowed, restricted) = katalog::namespaces::namespace_rules(katalog, entry);
    match allowed.as_slice() {
        [one] if restricted.is_empty() && !one.contains(['*', '?', '[']) => Some(one.as_str().to_string()),
        _ => None,
    }
}

/// One OperatorBox.
pub struct OperatorBox {
    /// The CRD entry's name.
    pub name: String,
    katalog: &'static Katalog,
    entry: &'static CrdEntry,
    reconciler: Reconciler<'static>,
    /// Effective settings.
    pub settings: Settings,
    queue: Arc<WorkQueue<ObjectKey>>,
    health: Health,
    metrics: BoxMetrics,
    keys: Mutex<BTreeSet<ObjectKey>>,
    /// The sentinels of the changes queued for each key and not yet reconciled: one entry (the
    /// OR of the coalesced changes), or with `reconcileGate.eventAware` one entry per change,
    /// each reconciled on its own. A key queued by a resync or an observed object has none.
    pending: Mutex<Pending>,
    /// CRs carrying the pause annotation.
    paused: Mutex<BTreeSet<ObjectKey>>,
    /// The templates (enqueueGate and `keyFrom` are evaluated in the watch path).
    templates: &'static katalog::template::TemplateSet,
    /// Why the box is not running yet (its CRD is not served, a dependency not there).
    waiting: Mutex<Option<String>>,
    /// Set when the CRs' first list is in.
    synced: watch::Sender<bool>,
    /// What the reconciler reads — the CRs, their children, what `observe.cross` reads —
    /// kept by the box's watches (docs/runtime.md "Caches").
    cache: Cache,
}

impl std::fmt::Debug for OperatorBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorBox").field("name", &self.name).field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// What `/katalog` shows of one box.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct BoxStatus {
    /// CRD entry name.
    pub name: String,
    /// `group/version`.
    pub api_version: String,
    pub kind: String,
    #[serde(flatten)]
    pub health: Snapshot,
    /// Why it has not started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting: Option<String>,
    /// Configured workers.
    pub workers: usize,
    /// Workers busy now.
    pub workers_busy: i64,
    /// Keys waiting.
    pub queue_depth: usize,
    /// CRs in the watch cache.
    pub resources: usize,
    /// CRs paused by the annotation `orkestra.orkspace.io/paused: "true"`.
    pub paused: usize,
    /// The namespace watched, when only one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watch_namespace: Option<String>,
    pub depends_on: Vec<String>,
}

fn key_of(obj: &Watched) -> Option<ObjectKey> {
    Some(ObjectKey { namespace: obj.metadata.namespace.clone(), name: obj.metadata.name.clone()? })
}

impl OperatorBox {
    /// The box of CRD entry `name`.
    pub fn new(
        katalog: &'static Katalog,
        templates: &'static katalog::template::TemplateSet,
        name: &str,
        defaults: Defaults,
    ) -> Result<OperatorBox, SetupError> {
        let entry = katalog.crds().get(name).ok_or_else(|| SetupError::NoEntry(name.to_string()))?;
        let reconciler = Reconciler::new(katalog, templates, name)?;
        let settings = settings(katalog, entry, defaults);
        let (synced, _) = watch::channel(false);
        let cache = Cache::new(&reconciler.read_resources(), &[LABEL_OWNER]);
        Ok(OperatorBox {
            name: name.to_string(),
            katalog,
            entry,
            reconciler,
            queue: WorkQueue::with_backoff(settings.max_depth, settings.backoff),
            health: Health::new(settings.failure_threshold),
            metrics: BoxMetrics::default(),
            keys: Mutex::new(BTreeSet::new()),
            pending: Mutex::new(Pending {
                event_aware: entry.pre_reconcile().and_then(|p| p.reconcile_gate.as_ref()).and_then(|g| g.event_aware).unwrap_or(false),
                changes: HashMap::new(),
            }),
            paused: Mutex::new(BTreeSet::new()),
            templates,
            waiting: Mutex::new(None),
            synced,
            cache,
            settings,
        })
    }

    /// The CRD's resource.
    pub fn resource(&self) -> &ApiResource {
        self.reconciler.resource()
    }

    /// Its dependencies.
    pub fn depends_on(&self) -> &[Dependency] {
        &self.entry.depends_on
    }

    /// Health now.
    pub fn health(&self) -> Snapshot {
        self.health.snapshot()
    }

    fn set_waiting(&self, w: Option<String>) {
        *self.waiting.lock().unwrap_or_else(|p| p.into_inner()) = w;
    }

    /// Whether the first list of its CRs has been read (its cache is warm).
    pub fn synced(&self) -> bool {
        *self.synced.borrow()
    }

    /// The `/katalog` view.
    pub fn status(&self) -> BoxStatus {
        let r = self.resource();
        let waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner()).clone();
        BoxStatus {
            name: self.name.clone(),
            api_version: r.api_version(),
            kind: r.kind.clone(),
            health: self.health.snapshot(),
            waiting,
            workers: self.settings.workers,
            workers_busy: self.metrics.busy_now(),
            queue_depth: self.queue.len(),
            resources: self.keys.lock().unwrap_or_else(|p| p.into_inner()).len(),
            paused: self.paused.lock().unwrap_or_else(|p| p.into_inner()).len(),
            watch_namespace: self.settings.watch_namespace.clone(),
            depends_on: self.entry.depends_on.iter().map(|d| d.name.as_str().to_string()).collect(),
        }
    }

    /// Its metrics and gauges for `/metrics`.
    pub fn metrics(&self) -> (&BoxMetrics, metrics::Gauges<'_>) {
        let g = metrics::Gauges {
            crd: &self.name,
            queue_depth: self.queue.len(),
            workers: self.settings.workers,
            resources: self.keys.lock().unwrap_or_else(|p| p.into_inner()).len(),
            healthy: matches!(self.health.snapshot().state, State::Healthy | State::Gated),
            paused: self.paused.lock().unwrap_or_else(|p| p.into_inner()).len(),
        };
        (&self.metrics, g)
    }

    fn admits(&self, key: &ObjectKey) -> bool {
        katalog::namespaces::namespace_allowed(self.katalog, self.entry, key.namespace.as_deref().unwrap_or_default())
    }

    /// Waits until the cluster serves the CRD (§1.4: a box starts when its CRD exists).
    pub async fn wait_for_crd(&self, client: &kube::Client, stop: &mut watch::Receiver<bool>) -> bool {
        let mut announced = false;
        let api = dynamic_api::<Watched>(client.clone(), self.resource(), self.settings.watch_namespace.as_deref());
        loop {
            match api.list(&kube::api::ListParams::default().limit(1)).await {
                Ok(_) => {
                    self.set_waiting(None);
                    return true;
                }
                Err(e) => {
                    let why = format!("waiting for the CRD {} to be served: {e}", self.resource().plural);
                    if !announced {
                        tracing::warn!(crd = %self.name, "{why}");
                        announced = true;
                    }
                    self.set_waiting(Some(why));
                }
            }
            if wait_or_stop(stop, Duration::from_secs(2)).await {
                return false;
            }
        }
    }

    /// Whether the stores of the children have their first list in (what `observe.cross` reads
    /// may be a kind not served yet: its reads go to the API server until its store is synced).
    /// The CRs' store need not be: a CR is queued once its list page is in the store, and
    /// reconciles read it from there while the list goes on.
    fn warm(&self) -> bool {
        self.reconciler.child_resources().iter().filter_map(|r| self.cache.store(r)).all(|s| s.synced())
    }

    /// Marks the box waiting for a dependency.
    pub fn wait_dependency(&self, why: Option<String>) {
        self.set_waiting(why);
    }

    /// Runs the box until `stop`: watches, resync, and (while `leading`) workers. Returns when
    /// every worker has finished its item or `drain` has passed.
    pub async fn run(
        self: Arc<Self>,
        cluster: KubeCluster,
        client: kube::Client,
        leading: watch::Receiver<bool>,
        mut stop: watch::Receiver<bool>,
        drain: Duration,
    ) {
        let mut watches = JoinSet::new();
        watches.spawn(self.clone().watch_crs(client.clone()));
        for child in self.reconciler.child_resources().to_vec() {
            watches.spawn(self.clone().watch_children(client.clone(), child));
        }
        for target in cross_resources(self.katalog, self.entry) {
            watches.spawn(self.clone().watch_cross(client.clone(), target));
        }
        if let Some(obs) = self.entry.operator_box.as_ref().and_then(|o| o.observe.as_ref()) {
            for (i, w) in obs.watch.iter().enumerate() {
                match katalog::observe::watch_resource(self.katalog, w) {
                    Ok(r) => {
                        watches.spawn(self.clone().watch_kind(client.clone(), i, r));
                    }
                    Err(e) => tracing::warn!(crd = %self.name, "observe.watch[{i}]: {e}; not watched"),
                }
            }
            if !obs.events.is_empty() {
                watches.spawn(self.clone().watch_events(client.clone()));
            }
        }
        watches.spawn(self.clone().resync());
        let mut workers = JoinSet::new();
        for id in 0..self.settings.workers {
            workers.spawn(self.clone().worker(id, cluster.clone(), leading.clone()));
        }
        self.health.started();
        tracing::info!(crd = %self.name, workers = self.settings.workers, namespace = self.settings.watch_namespace.as_deref().unwrap_or("*"), "OperatorBox started");
        while !*stop.borrow() {
            if stop.changed().await.is_err() {
                break;
            }
        }
        // Drain: no new work; items in flight finish, bounded.
        watches.abort_all();
        self.queue.shutdown();
        let drained = tokio::time::timeout(drain, async { while workers.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!(crd = %self.name, "shutdown: reconciles still running after {drain:?}; abandoning them");
            workers.abort_all();
        }
        self.health.set(State::Stopped);
        tracing::info!(crd = %self.name, "OperatorBox stopped");
    }

    /// Queues `key` for a change with `sentinels` (merged into what is pending for it).
    fn enqueue_change(&self, key: ObjectKey, sentinels: &BTreeMap<String, bool>) {
        if !self.admits(&key) {
            return;
        }
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).push(&key, sentinels);
        self.enqueue(key);
    }

    /// Records what `obj` (the CR `k`) looks like now; the sentinels of its change when it is
    /// new or changed, `None` when only its status moved (most often our own status patch). The
    /// sentinels are computed only for a CRD that declares `preReconcile` (an empty map else:
    /// nothing reads them).
    fn changed(&self, seen: &mut HashMap<ObjectKey, (u64, serde_json::Value)>, k: &ObjectKey, obj: &Watched) -> Option<BTreeMap<String, bool>> {
        let fp = fingerprint(obj);
        let uses_sentinels = self.entry.pre_reconcile().is_some();
        let meta = if uses_sentinels { sentinel_view(obj) } else { serde_json::Value::Null };
        match seen.insert(k.clone(), (fp, meta)) {
            Some((old, _)) if old == fp => None,
            _ if !uses_sentinels => Some(BTreeMap::new()),
            before => Some(katalog::observe::sentinels(before.as_ref().map(|(_, m)| m), &seen[k].1)),
        }
    }

    /// Queues a change of the CR `k`: the user may have fixed what failed, so its backoff ends;
    /// `preReconcile.enqueueGate` may drop the change silently.
    fn queue_change(&self, k: ObjectKey, cr: Option<&serde_json::Value>, sentinels: &BTreeMap<String, bool>) {
        self.queue.forget(&k);
        if let Some(cr) = cr.filter(|_| self.gates_enqueue())
            && let Some(why) = self.reconciler.enqueue_gate(cr, sentinels, katalog::time::unix_now())
        {
            tracing::debug!(crd = %self.name, key = %k, "dropped: {why}");
            return;
        }
        self.enqueue_change(k, sentinels);
    }

    /// Whether the CRD declares `preReconcile.enqueueGate` (the watch path must keep a copy of a
    /// changed CR to evaluate it).
    fn gates_enqueue(&self) -> bool {
        self.entry.pre_reconcile().is_some_and(|p| p.enqueue_gate.is_some())
    }

    /// Queues the CR `key` when there is one; every CR of the box when `key` is `None` and the
    /// change named no CR on purpose (`keyed`: a `keyFrom` that found none queues nothing).
    fn route(&self, key: Option<ObjectKey>, keyed: bool) {
        match key {
            Some(k) => self.enqueue(k),
            None if keyed => {}
            None => self.keys_in(None).into_iter().for_each(|k| self.enqueue(k)),
        }
    }

    /// Every key of this box in namespace `ns` (every key when `ns` is `None`).
    fn keys_in(&self, ns: Option<&str>) -> Vec<ObjectKey> {
        let keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        keys.iter().filter(|k| ns.is_none() || k.namespace.as_deref() == ns || k.namespace.is_none()).cloned().collect()
    }

    fn enqueue(&self, key: ObjectKey) {
        if !self.admits(&key) {
            return;
        }
        if !self.queue.add(key.clone()) {
            tracing::warn!(crd = %self.name, key = %key, limit = self.settings.max_depth, "enqueue: queue depth limit reached, item dropped");
        }
    }

    /// The CR watch: every change queues its key; the key set is the box's cache.
    async fn watch_crs(self: Arc<Self>, client: kube::Client) {
        let api = dynamic_api::<Watched>(client, self.resource(), self.settings.watch_namespace.as_deref());
        let mut config = watcher::Config::default();
        if let Some(l) = &self.settings.label_selector {
            config = config.labels(l);
        }
        if let Some(f) = &self.settings.field_selector {
            config = config.fields(f);
        }
        let mut relisting: Option<BTreeSet<ObjectKey>> = None;
        // What each CR looked like when it was last queued: a change of status alone (most often
        // our own status patch) does not queue it again. Its metadata gives the sentinels of
        // the next change.
        let mut seen: HashMap<ObjectKey, (u64, serde_json::Value)> = HashMap::new();
        let mut stream = watcher(api, config).default_backoff().boxed();
        let Some(store) = self.cache.store(self.resource()) else { return };
        loop {
            match stream.try_next().await {
                Ok(Some(event)) => match event {
                    watcher::Event::Init => {
                        relisting = Some(BTreeSet::new());
                        store.begin_list();
                    }
                    watcher::Event::InitApply(obj) => {
                        let Some(k) = key_of(&obj).filter(|k| self.admits(k)) else {
                            store.listed(obj.value());
                            continue;
                        };
                        if let Some(r) = relisting.as_mut() {
                            r.insert(k.clone());
                        }
                        self.track_paused(&k, &obj);
                        let change = self.changed(&mut seen, &k, &obj);
                        let cr = obj.value();
                        let gate = (change.is_some() && self.gates_enqueue()).then(|| cr.clone());
                        // In the store before the key is queued: the reconcile reads it there.
                        store.listed(cr);
                        // New or changed while unwatched: a change (a failing key retries at
                        // once); unchanged: queued as a resync is.
                        match change {
                            Some(sentinels) => self.queue_change(k, gate.as_ref(), &sentinels),
                            None => self.enqueue(k),
                        }
                    }
                    watcher::Event::InitDone => {
                        store.end_list();
                        if let Some(fresh) = relisting.take() {
                            seen.retain(|k, _| fresh.contains(k));
                            *self.keys.lock().unwrap_or_else(|p| p.into_inner()) = fresh;
                        }
                        self.synced.send_replace(true);
                    }
                    watcher::Event::Apply(obj) => {
                        // The CR's own writes are recognised by what changed (`changed`: a
                        // status patch is not a change), not by the store: a user's edit that
                        // lands while a status patch is in flight must still queue it.
                        let Some(k) = key_of(&obj).filter(|k| self.admits(k)) else {
                            store.applied(obj.value());
                            continue;
                        };
                        self.keys.lock().unwrap_or_else(|p| p.into_inner()).insert(k.clone());
                        self.track_paused(&k, &obj);
                        let change = self.changed(&mut seen, &k, &obj);
                        let gate = (change.is_some() && self.gates_enqueue()).then(|| obj.value());
                        // The echo of our own status patch is not decoded.
                        store.applied_lazily(obj.key(), obj.resource_version(), || obj.value());
                        if let Some(sentinels) = change {
                            self.queue_change(k, gate.as_ref(), &sentinels);
                        }
                    }
                    watcher::Event::Delete(obj) => {
                        let k = key_of(&obj);
                        store.deleted(&obj.value());
                        if let Some(k) = k {
                            seen.remove(&k);
                            self.keys.lock().unwrap_or_else(|p| p.into_inner()).remove(&k);
                            self.paused.lock().unwrap_or_else(|p| p.into_inner()).remove(&k);
                        }
                    }
                },
                Ok(None) => return,
                Err(e) => tracing::warn!(crd = %self.name, "watch of {}: {e}; retrying with backoff", self.resource().plural),
            }
        }
    }

    /// A children watch: a change to an object this box manages queues its owner. The API server
    /// sends only children of this box's kind (`owner-kind` label), not every managed object.
    async fn watch_children(self: Arc<Self>, client: kube::Client, child: ApiResource) {
        let api = dynamic_api::<Watched>(client, &child, None);
        let config = watcher::Config::default().labels(&format!("{LABEL_MANAGED}=true,{LABEL_OWNER_KIND}={}", label_value(&self.resource().kind)));
        let own = self.resource().clone();
        let mut stream = watcher(api, config).default_backoff().boxed();
        let Some(store) = self.cache.store(&child) else { return };
        loop {
            match stream.try_next().await {
                Ok(Some(event)) => {
                    // The echo of the box's own write (a child it just created or applied)
                    // queues nothing: the reconcile that wrote it already saw it.
                    let (owner_key, seen) = match event {
                        watcher::Event::Init => {
                            store.begin_list();
                            continue;
                        }
                        watcher::Event::InitApply(obj) => {
                            store.listed(obj.value());
                            continue;
                        }
                        watcher::Event::InitDone => {
                            store.end_list();
                            continue;
                        }
                        watcher::Event::Apply(obj) => {
                            let k = owner(&obj, &own);
                            (k, store.applied_lazily(obj.key(), obj.resource_version(), || obj.value()))
                        }
                        watcher::Event::Delete(obj) => {
                            let k = owner(&obj, &own);
                            (k, store.deleted(&obj.value()))
                        }
                    };
                    // A child's status alone moving (a Deployment's replicas coming up) matters
                    // only when the reconcile reads it.
                    let news = seen == Seen::News || (seen == Seen::Status && self.reconciler.reads_child_status());
                    if news && let Some(k) = owner_key {
                        self.enqueue(k);
                    }
                }
                Ok(None) => return,
                Err(e) => tracing::debug!(crd = %self.name, "watch of {}: {e}; retrying with backoff", child.plural),
            }
        }
    }

    /// Counts `k` as paused or not, from its annotations.
    fn track_paused(&self, k: &ObjectKey, obj: &Watched) {
        let paused = obj.metadata.annotations.as_ref().and_then(|a| a.get(katalog::observe::ANNOTATION_PAUSED)).is_some_and(|v| v == "true");
        let mut set = self.paused.lock().unwrap_or_else(|p| p.into_inner());
        if paused {
            set.insert(k.clone());
        } else {
            set.remove(k);
        }
    }

    /// A watch of a CRD this box reads with `observe.cross`: a change of one of its objects
    /// queues this box's CRs in the object's namespace (every CR when either side is
    /// cluster-scoped). Which CR reads which object depends on templates over each CR, so the
    /// box re-queues every candidate rather than guess.
    async fn watch_cross(self: Arc<Self>, client: kube::Client, target: ApiResource) {
        let api = dynamic_api::<Watched>(client, &target, None);
        let mut stream = watcher(api, watcher::Config::default()).default_backoff().boxed();
        // What a cross read shows of each object (spec, status, labels): a change of anything
        // else (its resourceVersion, managedFields, finalizers) re-queues nobody.
        let mut shown: HashMap<ObjectKey, String> = HashMap::new();
        // A kind the box also reads as its own or as children has its store fed by that watch.
        let same = |r: &ApiResource| r.group == target.group && r.plural == target.plural;
        let feeds = !same(self.resource()) && !self.reconciler.child_resources().iter().any(same);
        let store = self.cache.store(&target).filter(|_| feeds);
        loop {
            let event = stream.try_next().await;
            if let (Some(store), Ok(Some(e))) = (store, &event) {
                match e {
                    watcher::Event::Init => store.begin_list(),
                    watcher::Event::InitApply(obj) => store.listed(obj.value()),
                    watcher::Event::InitDone => store.end_list(),
                    watcher::Event::Apply(obj) => {
                        store.applied(obj.value());
                    }
                    watcher::Event::Delete(obj) => {
                        store.deleted(&obj.value());
                    }
                }
            }
            match event {
                Ok(Some(watcher::Event::Apply(obj) | watcher::Event::InitApply(obj))) => {
                    let Some(k) = key_of(&obj) else { continue };
                    let value = obj.value();
                    let view = format!("{:?}{:?}{:?}", value.get("spec"), value.get("status"), obj.metadata.labels);
                    if shown.insert(k, view.clone()).as_ref() == Some(&view) {
                        continue;
                    }
                    self.requeue_readers(obj.metadata.namespace.as_deref(), &target);
                }
                Ok(Some(watcher::Event::Delete(obj))) => {
                    if let Some(k) = key_of(&obj) {
                        shown.remove(&k);
                    }
                    self.requeue_readers(obj.metadata.namespace.as_deref(), &target);
                }
                Ok(Some(_)) => {}
                Ok(None) => return,
                Err(e) => tracing::debug!(crd = %self.name, "watch of {}: {e}; retrying with backoff", target.plural),
            }
        }
    }

    fn requeue_readers(&self, ns: Option<&str>, target: &ApiResource) {
        let scope = if target.namespaced && self.resource().namespaced { ns } else { None };
        for k in self.keys_in(scope) {
            self.enqueue(k);
        }
    }

    /// The CR a watched object's change is for: `keyFrom`, else its controller owner of this
    /// box's kind; `None`: every CR.
    fn key_for(&self, key_from: Option<&katalog::model::crd::KeyFrom>, obj: &Watched) -> Option<ObjectKey> {
        if let Some(k) = key_from {
            let value = &obj.value();
            let mut ev = katalog::rules::Evaluator::new(self.templates, katalog::time::unix_now(), Rng::Os);
            let (namespace, name) = katalog::observe::key_from(&mut ev, k, value)?;
            return Some(ObjectKey { namespace: if self.resource().namespaced { namespace } else { None }, name });
        }
        owner(obj, self.resource())
    }

    /// `observe.watch[index]`: a change of a watched object queues the CR it is for, or every
    /// CR of the box.
    async fn watch_kind(self: Arc<Self>, client: kube::Client, index: usize, resource: ApiResource) {
        let Some(w) = self.entry.operator_box.as_ref().and_then(|o| o.observe.as_ref()).and_then(|o| o.watch.get(index)) else { return };
        let ns = w.namespace.as_ref().map(|n| n.value.clone()).filter(|_| resource.namespaced);
        let api = dynamic_api::<Watched>(client, &resource, ns.as_deref());
        let mut config = watcher::Config::default();
        if let Some(n) = &w.name {
            config = config.fields(&format!("metadata.name={}", n.as_str()));
        }
        let mut stream = watcher(api, config).default_backoff().boxed();
        // What the watch has seen: an Apply of an object it has not is a creation.
        let mut known: BTreeSet<ObjectKey> = BTreeSet::new();
        loop {
            let (obj, change) = match stream.try_next().await {
                Ok(Some(watcher::Event::InitApply(obj))) => {
                    known.extend(key_of(&obj));
                    continue;
                }
                Ok(Some(watcher::Event::Apply(obj))) => {
                    let fresh = key_of(&obj).is_some_and(|k| known.insert(k));
                    (obj, if fresh { WatchOn::Create } else { WatchOn::Update })
                }
                Ok(Some(watcher::Event::Delete(obj))) => {
                    if let Some(k) = key_of(&obj) {
                        known.remove(&k);
                    }
                    (obj, WatchOn::Delete)
                }
                Ok(Some(_)) => continue,
                Ok(None) => return,
                Err(e) => {
                    tracing::debug!(crd = %self.name, "observe.watch[{index}] of {}: {e}; retrying with backoff", resource.plural);
                    continue;
                }
            };
            if !katalog::observe::reacts(&w.on, change) {
                continue;
            }
            self.route(self.key_for(w.key_from.as_ref(), &obj), w.key_from.is_some());
        }
    }

    /// `observe.events`: an Event matching an entry queues the CR it is for (`keyFrom`, else the
    /// object it is about when that is one of this box's CRs or owned by one), or every CR.
    async fn watch_events(self: Arc<Self>, client: kube::Client) {
        let Some(obs) = self.entry.operator_box.as_ref().and_then(|o| o.observe.as_ref()) else { return };
        let resource = katalog::observe::events_resource();
        let api = dynamic_api::<Watched>(client, &resource, None);
        let mut stream = watcher(api, watcher::Config::default()).default_backoff().boxed();
        let own = self.resource().clone();
        loop {
            let (obj, change) = match stream.try_next().await {
                Ok(Some(watcher::Event::Apply(obj))) => (obj, WatchOn::Create),
                Ok(Some(watcher::Event::Delete(obj))) => (obj, WatchOn::Delete),
                Ok(Some(_)) => continue,
                Ok(None) => return,
                Err(e) => {
                    tracing::debug!(crd = %self.name, "observe.events: {e}; retrying with backoff");
                    continue;
                }
            };
            let event = &obj.value();
            for (_, w) in obs.events.iter() {
                if !katalog::observe::reacts(&w.on, change) || !katalog::observe::event_matches(w, event) {
                    continue;
                }
                let about = || {
                    let r = event.get("regarding")?;
                    let s = |f: &str| r.get(f).and_then(serde_json::Value::as_str);
                    (s("kind") == Some(own.kind.as_str()) && s("apiVersion") == Some(own.api_version().as_str())).then(|| ObjectKey {
                        namespace: s("namespace").map(str::to_string).filter(|_| own.namespaced),
                        name: s("name").unwrap_or_default().to_string(),
                    })
                };
                let key = match &w.key_from {
                    Some(_) => self.key_for(w.key_from.as_ref(), &obj),
                    None => about(),
                };
                self.route(key, w.key_from.is_some());
            }
        }
    }

    async fn resync(self: Arc<Self>) {
        let mut tick = tokio::time::interval(self.settings.resync);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let keys: Vec<ObjectKey> = self.keys.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect();
            for k in keys {
                self.enqueue(k);
            }
        }
    }

    async fn worker(self: Arc<Self>, id: usize, cluster: KubeCluster, mut leading: watch::Receiver<bool>) {
        // Reconciles read the cache: wait until it is warm (bounded: a child kind whose CRD is
        // not served never lists, and its reads go to the API server meanwhile).
        let began = Instant::now();
        while !self.warm() && began.elapsed() < WARM_WAIT {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        loop {
            // Followers keep warm caches but never reconcile.
            while !*leading.borrow() {
                if leading.changed().await.is_err() {
                    return;
                }
            }
            let Some(key) = self.queue.get().await else { return };
            if !*leading.borrow() {
                // Leadership was lost while waiting: hand the key back for the next leader term.
                self.queue.done(&key);
                self.queue.add(key);
                continue;
            }
            self.metrics.busy(1);
            let started = Instant::now();
            let ctx = Ctx { now: katalog::time::unix_now(), rng: Rng::Os };
            // One change's sentinels (eventAware: the oldest; more left: the key comes back).
            let (sentinels, more) = self.pending.lock().unwrap_or_else(|p| p.into_inner()).take(&key);
            let view = Cached::new(&cluster, &self.cache);
            let outcome = crate::serve::panic::catch(self.reconciler.reconcile_event(&view, key.namespace.as_deref(), &key.name, &ctx, &sentinels)).await;
            let took = started.elapsed();
            // Someone else changed an object this reconcile wrote while the write was in
            // flight: look again (a failure is retried with its backoff anyway).
            let again = view.foreign_change() && !matches!(outcome, Ok(Outcome::Failed(_)) | Err(_));
            match outcome {
                Ok(Outcome::Gated(why)) => {
                    // Dropped, not failed: a change of the CR or of what it observes queues it again.
                    self.health.gated(&why);
                    self.metrics.observe(metrics::Result::Gated, false, took);
                    self.queue.forget(&key);
                    tracing::debug!(crd = %self.name, key = %key, "gated: {why}");
                }
                Ok(Outcome::Done | Outcome::Paused) => {
                    self.health.success();
                    self.metrics.observe(metrics::Result::Success, false, took);
                    self.queue.forget(&key);
                }
                Ok(Outcome::RequeueAfter(after)) => {
                    self.health.success();
                    self.metrics.observe(metrics::Result::Success, false, took);
                    self.queue.forget(&key);
                    self.queue.add_after(key.clone(), after);
                }
                Ok(Outcome::Failed(e)) if !e.retry => {
                    // The CR is refused by a rule: the box works; the CR must change.
                    self.health.success();
                    self.metrics.observe(metrics::Result::Denied, false, took);
                    self.queue.forget(&key);
                    tracing::info!(crd = %self.name, key = %key, "denied: {}", e.message);
                }
                Ok(Outcome::Failed(e)) => {
                    self.health.failure(&e.message, false);
                    self.metrics.observe(metrics::Result::Error, false, took);
                    let retry = self.queue.retry_after_failure(key.clone());
                    tracing::warn!(crd = %self.name, key = %key, worker = id, retry = %retry, "reconcile failed: {}", e.message);
                }
                Err(panic) => {
                    let panic = format!("reconciler panic: {panic}");
                    self.health.failure(&panic, true);
                    self.metrics.observe(metrics::Result::Error, true, took);
                    let retry = self.queue.retry_after_failure(key.clone());
                    tracing::error!(crd = %self.name, key = %key, worker = id, retry = %retry, "{panic}");
                }
            }
            self.queue.done(&key);
            if more || again {
                self.queue.add(key.clone());
            }
            self.metrics.busy(-1);
        }
    }
}

/// The resources `observe.cross` of `entry` reads (distinct).
fn cross_resources(katalog: &Katalog, entry: &CrdEntry) -> Vec<ApiResource> {
    let mut out: Vec<ApiResource> = Vec::new();
    let Some(obs) = entry.operator_box.as_ref().and_then(|o| o.observe.as_ref()) else { return out };
    for c in obs.cross.iter().filter(|c| katalog::observe::executed(c)) {
        if let Some(r) = katalog::observe::cross_resource(katalog, c)
            && !out.iter().any(|o| o.group == r.group && o.plural == r.plural)
        {
            out.push(r);
        }
    }
    out
}

/// The CR that owns `obj`: its controller owner reference of kind `own`, else the owner labels
/// (cluster-scoped children cannot carry an owner reference to a namespaced CR; the watch
/// selected them by `owner-kind`).
fn owner(obj: &Watched, own: &ApiResource) -> Option<ObjectKey> {
    let api_version = own.api_version();
    let by_ref = obj.metadata.owner_references.iter().flatten().find(|o| o.controller == Some(true) && o.kind == own.kind && o.api_version == api_version);
    if let Some(o) = by_ref {
        return Some(ObjectKey { namespace: if own.namespaced { obj.metadata.namespace.clone() } else { None }, name: o.name.clone() });
    }
    // Only objects that cannot carry an owner reference to the CR (cluster-scoped children of a
    // namespaced CR) are matched by the owner labels; an object owned by another CR through a
    // reference is never attributed by labels.
    if obj.metadata.owner_references.as_ref().is_some_and(|r| !r.is_empty()) || (own.namespaced && obj.metadata.namespace.is_some()) {
        return None;
    }
    let labels = obj.metadata.labels.as_ref()?;
    if labels.get(LABEL_OWNER_KIND) != Some(&label_value(&own.kind)) {
        return None;
    }
    let name = labels.get(LABEL_OWNER)?.clone();
    let namespace = if own.namespaced { labels.get(LABEL_OWNER_NAMESPACE).cloned().or_else(|| obj.metadata.namespace.clone()) } else { None };
    Some(ObjectKey { namespace, name })
}

/// The sentinels of the changes queued per key and not yet reconciled.
#[derive(Debug)]
struct Pending {
    /// `reconcileGate.eventAware`: one entry per change instead of one per key.
    event_aware: bool,
    changes: HashMap<ObjectKey, std::collections::VecDeque<BTreeMap<String, bool>>>,
}

impl Pending {
    /// Records a change of `key`: OR-ed into the pending one, or (eventAware) queued behind it.
    fn push(&mut self, key: &ObjectKey, sentinels: &BTreeMap<String, bool>) {
        let queue = self.changes.entry(key.clone()).or_default();
        match queue.back_mut() {
            Some(last) if !self.event_aware => katalog::observe::merge_sentinels(last, sentinels),
            _ => queue.push_back(sentinels.clone()),
        }
    }

    /// The sentinels to reconcile `key` with (no change recorded: all false) and whether more
    /// changes of it wait (the key must be queued again).
    fn take(&mut self, key: &ObjectKey) -> (BTreeMap<String, bool>, bool) {
        let next = self.changes.get_mut(key).and_then(|q| q.pop_front());
        let more = self.changes.get(key).is_some_and(|q| !q.is_empty());
        if !more {
            self.changes.remove(key);
        }
        (next.unwrap_or_else(katalog::observe::no_change), more)
    }
}

/// The metadata sentinels are computed from (`katalog::observe::sentinels`).
fn sentinel_view(obj: &Watched) -> serde_json::Value {
    let m = &obj.metadata;
    serde_json::json!({"metadata": {
        "generation": m.generation, "labels": m.labels, "annotations": m.annotations, "finalizers": m.finalizers,
        "ownerReferences": m.owner_references, "namespace": m.namespace, "uid": m.uid, "deletionTimestamp": m.deletion_timestamp,
    }})
}

/// What of a CR a reconcile depends on besides its status: generation (the spec), labels,
/// annotations, finalizers, deletion.
fn fingerprint(obj: &Watched) -> u64 {
    use std::hash::{Hash, Hasher};
    let m = &obj.metadata;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    m.generation.hash(&mut h);
    m.labels.hash(&mut h);
    m.annotations.hash(&mut h);
    m.finalizers.hash(&mut h);
    m.deletion_timestamp.as_ref().map(|t| format!("{t:?}")).hash(&mut h);
    // Without a generation (no status subresource) every change counts.
    if m.generation.is_none() {
        m.resource_version.hash(&mut h);
    }
    h.finish()
}

/// Sleeps `d`; true when `stop` fired meanwhile.
pub(super) async fn wait_or_stop(stop: &mut watch::Receiver<bool>, d: Duration) -> bool {
    if *stop.borrow() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(d) => *stop.borrow(),
        r = stop.changed() => r.is_err() || *stop.borrow(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The watch namespace of entry `web` whose crdFile has `scope` and whose runtime allows
    /// exactly one namespace.
    fn watch_namespace(scope: &str) -> Option<String> {
        let dir = std::env::temp_dir().join(format!("ork-operator-scope-{scope}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let crd = format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {{name: webs.x.dev}}\nspec:\n  group: x.dev\n  scope: {scope}\n  names: {{kind: Web, plural: webs}}\n  versions: [{{name: v1, served: true, storage: true}}]\n"
        );
        std::fs::write(dir.join("crd.yaml"), crd).expect("write crd");
        let katalog = "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: k}\nspec:\n  crds:\n    web:\n      crdFile: crd.yaml\n      operatorBox:\n        runtime:\n          allowedNamespaces: [team-a]\n";
        std::fs::write(dir.join("katalog.yaml"), katalog).expect("write katalog");
        let loaded = katalog::load::load_file(&dir.join("katalog.yaml"), &Default::default());
        assert!(!loaded.diagnostics.has_errors(), "{:?}", loaded.diagnostics);
        let k = loaded.katalog.expect("a Katalog");
        let watch = settings(&k, k.crds().get("web").expect("entry web"), Defaults::default()).watch_namespace;
        let _ = std::fs::remove_dir_all(&dir);
        watch
    }

    #[test]
    fn coalesced_changes_or_their_sentinels_and_event_aware_ones_stay_apart() {
        let key = ObjectKey { namespace: Some("default".into()), name: "w".into() };
        let one = |s: &str| {
            let mut m = katalog::observe::no_change();
            m.insert(s.to_string(), true);
            m
        };
        let mut p = Pending { event_aware: false, changes: HashMap::new() };
        p.push(&key, &one("labelsChanged"));
        p.push(&key, &one("generationChanged"));
        let (s, more) = p.take(&key);
        assert!(s["labelsChanged"] && s["generationChanged"] && !more, "OR-ed into one reconcile");
        let (s, more) = p.take(&key);
        assert!(s.values().all(|v| !v) && !more, "nothing pending: a resync's sentinels");

        let mut p = Pending { event_aware: true, changes: HashMap::new() };
        p.push(&key, &one("labelsChanged"));
        p.push(&key, &one("generationChanged"));
        let (s, more) = p.take(&key);
        assert!(s["labelsChanged"] && !s["generationChanged"] && more, "eventAware: the first change alone, the key comes back");
        let (s, more) = p.take(&key);
        assert!(s["generationChanged"] && !s["labelsChanged"] && !more);
    }

    /// A kind the crdFile declares cluster-scoped has no namespace to watch, even when the
    /// namespace rules name one: before the one "namespaced" rule (katalog::kinds::is_namespaced)
    /// only an explicit `namespaced: false` counted, and a namespaced watch of a cluster-scoped
    /// resource is refused by the API server.
    fn backoff_of(queue_yaml: &str) -> Backoff {
        let text = format!(
            "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {{name: k}}\nspec:\n  crds:\n    web:\n      apiTypes: {{group: x.dev, version: v1, kind: Web, plural: webs}}\n      operatorBox:\n        reconcile:\n          queue: {queue_yaml}\n"
        );
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("ork-operator-backoff-{n}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("katalog.yaml"), text).expect("write katalog");
        let loaded = katalog::load::load_file(&dir.join("katalog.yaml"), &Default::default());
        let _ = std::fs::remove_dir_all(&dir);
        assert!(!loaded.diagnostics.has_errors(), "{:?}", loaded.diagnostics);
        let k = loaded.katalog.expect("a Katalog");
        settings(&k, k.crds().get("web").expect("entry web"), Defaults::default()).backoff
    }

    #[test]
    fn retry_backoff_and_queue_type_set_the_boxs_backoff() {
        let secs = Duration::from_secs;
        assert_eq!(backoff_of("{}"), Backoff::default());
        assert_eq!(backoff_of("{retryBackoff: 2s}"), Backoff { initial: secs(2), ..Backoff::default() }, "shorthand = initial");
        assert_eq!(
            backoff_of("{retryBackoff: {initial: 1s, max: 1m, multiplier: 3, maxAttempts: 4}}"),
            Backoff { initial: secs(1), max: secs(60), multiplier: 3.0, max_attempts: Some(4) }
        );
        assert_eq!(backoff_of("{type: delayed}"), Backoff { initial: secs(1), max: secs(1), multiplier: 1.0, max_attempts: None }, "delayed: a fixed delay");
        assert_eq!(
            backoff_of("{type: delayed, retryBackoff: {initial: 5s, maxAttempts: 3}}"),
            Backoff { initial: secs(5), max: secs(5), multiplier: 1.0, max_attempts: Some(3) }
        );
    }

    #[test]
    fn a_cluster_scoped_kind_is_watched_cluster_wide() {
        assert_eq!(watch_namespace("Cluster"), None);
        assert_eq!(watch_namespace("Namespaced").as_deref(), Some("team-a"));
    }
}
