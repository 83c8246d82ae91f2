//! What the Live view knows of the cluster, and the messages that change it ([`Update`]).
//!
//! The background work (watches, the `/katalog` poll, apply and delete) turns API objects into
//! the small states below off the UI thread and sends them as `view::result_for(ViewId::Live,
//! update)`; the UI thread only files them: CRs in a `BTreeMap` keyed by namespace/name (then
//! kind), children and events by the uid of the CR they belong to. The rows shown (each CR
//! followed by its children, as a tree) are rebuilt only when something changed, and drawing
//! touches only the visible rows, so a frame costs the same with 10 CRs or 1,000.

use katalog::render::{LABEL_OWNER, LABEL_OWNER_NAMESPACE};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;

/// A CR: ordered by namespace, then name, then kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CrKey {
    /// Its namespace (empty for cluster-scoped kinds).
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its kind (`Website`).
    pub kind: String,
}

impl CrKey {
    /// `namespace/name` (or `name` when cluster-scoped).
    pub fn path(&self) -> String {
        if self.namespace.is_empty() { self.name.clone() } else { format!("{}/{}", self.namespace, self.name) }
    }
}

/// One status condition.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Condition {
    /// `Ready`, `ValidationFailed`, ….
    pub kind: String,
    /// `True`, `False`, `Unknown`.
    pub status: String,
    /// Its reason.
    pub reason: String,
    /// Its message.
    pub message: String,
}

/// What the view shows of one CR.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CrState {
    /// Which CR.
    pub key: CrKey,
    /// Its uid (children and events point to it).
    pub uid: String,
    /// creationTimestamp, Unix seconds.
    pub created: Option<i64>,
    /// `status.phase`.
    pub phase: Option<String>,
    /// `status.conditions`.
    pub conditions: Vec<Condition>,
    /// Marked for deletion (finalizers running).
    pub deleting: bool,
    /// Whether it is on the cluster (false: an apply was refused, or it was deleted while
    /// a refusal is shown).
    pub present: bool,
    /// The last refusal of an apply or delete of this CR (the gateway's 403, the API's 422).
    pub refused: Option<String>,
}

impl CrState {
    /// The state of a CR object as the API returns it; `None` without a name or kind.
    pub fn from_object(obj: &Value) -> Option<CrState> {
        let s = |p: &str| obj.pointer(p).and_then(Value::as_str);
        let key = CrKey {
            namespace: s("/metadata/namespace").unwrap_or_default().to_string(),
            name: s("/metadata/name")?.to_string(),
            kind: s("/kind")?.to_string(),
        };
        let conditions = obj
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .map(|cs| {
                cs.iter()
                    .map(|c| {
                        let f = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
                        Condition { kind: f("type"), status: f("status"), reason: f("reason"), message: f("message") }
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(CrState {
            key,
            uid: s("/metadata/uid").unwrap_or_default().to_string(),
            created: s("/metadata/creationTimestamp").and_then(|t| katalog::time::parse_rfc3339(t).ok()),
            phase: s("/status/phase").map(str::to_string),
            conditions,
            deleting: obj.pointer("/metadata/deletionTimestamp").is_some_and(|v| !v.is_null()),
            present: true,
            refused: None,
        })
    }

    /// The condition of a type.
    pub fn condition(&self, kind: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.kind == kind)
    }

    /// `Some(true)` when Ready=True, `Some(false)` when Ready is False/Unknown, `None` when
    /// there is no Ready condition yet.
    pub fn ready(&self) -> Option<bool> {
        self.condition("Ready").map(|c| c.status == "True")
    }
}

/// A child object: kind, namespace, name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChildKey {
    /// Its kind.
    pub kind: String,
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
}

/// Whether a child is ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Ready (or, for kinds without readiness, present).
    Ready(String),
    /// Not ready, with what is missing (`0/1 replicas`).
    NotReady(String),
}

/// What the view shows of one child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildState {
    /// Which object.
    pub key: ChildKey,
    /// creationTimestamp, Unix seconds.
    pub created: Option<i64>,
    /// Readiness.
    pub readiness: Readiness,
    /// The uids of its ownerReferences.
    pub owners: Vec<String>,
    /// The CR its owner labels name (`namespace/name`), for children that cannot carry an
    /// ownerReference (cluster-scoped ones, other namespaces).
    pub owner_label: Option<String>,
}

impl ChildState {
    /// The state of an object; `None` when it names no owner (not a child of a CR).
    pub fn from_object(obj: &Value) -> Option<ChildState> {
        let s = |p: &str| obj.pointer(p).and_then(Value::as_str);
        let owners: Vec<String> = obj
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .map(|refs| refs.iter().filter_map(|r| r.get("uid").and_then(Value::as_str)).map(str::to_string).collect())
            .unwrap_or_default();
        let label = |k: &str| obj.pointer("/metadata/labels").and_then(|l| l.get(k)).and_then(Value::as_str);
        let owner_label = label(LABEL_OWNER).map(|name| match label(LABEL_OWNER_NAMESPACE) {
            Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
            _ => name.to_string(),
        });
        if owners.is_empty() && owner_label.is_none() {
            return None;
        }
        let kind = s("/kind")?.to_string();
        Some(ChildState {
            readiness: readiness(&kind, obj),
            key: ChildKey { kind, namespace: s("/metadata/namespace").unwrap_or_default().to_string(), name: s("/metadata/name")?.to_string() },
            created: s("/metadata/creationTimestamp").and_then(|t| katalog::time::parse_rfc3339(t).ok()),
            owners,
            owner_label,
        })
    }
}

/// kubectl's readiness of the common kinds: workloads by ready replicas, Jobs by completion,
/// PVCs by phase; everything else is ready once it exists.
fn readiness(kind: &str, obj: &Value) -> Readiness {
    let int = |p: &str| obj.pointer(p).and_then(Value::as_i64);
    match kind {
        "Deployment" | "StatefulSet" | "ReplicaSet" => {
            let want = int("/spec/replicas").unwrap_or(1);
            let ready = int("/status/readyReplicas").unwrap_or(0);
            let text = format!("{ready}/{want}");
            if ready >= want { Readiness::Ready(text) } else { Readiness::NotReady(text) }
        }
        "DaemonSet" => {
            let want = int("/status/desiredNumberScheduled").unwrap_or(0);
            let ready = int("/status/numberReady").unwrap_or(0);
            let text = format!("{ready}/{want}");
            if ready >= want { Readiness::Ready(text) } else { Readiness::NotReady(text) }
        }
        "Job" => {
            if int("/status/succeeded").unwrap_or(0) > 0 {
                Readiness::Ready("Complete".into())
            } else if int("/status/failed").unwrap_or(0) > 0 {
                Readiness::NotReady("Failed".into())
            } else {
                Readiness::NotReady("Running".into())
            }
        }
        "PersistentVolumeClaim" => match obj.pointer("/status/phase").and_then(Value::as_str) {
            Some("Bound") => Readiness::Ready("Bound".into()),
            other => Readiness::NotReady(other.unwrap_or("Pending").to_string()),
        },
        _ => Readiness::Ready(String::new()),
    }
}

/// One Event about a CR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// The uid of the object it is about (`involvedObject.uid`).
    pub about: String,
    /// `Normal` or `Warning`.
    pub kind: String,
    /// Its reason.
    pub reason: String,
    /// Its message.
    pub message: String,
    /// How many times it happened.
    pub count: i64,
    /// When it last happened, Unix seconds.
    pub last: Option<i64>,
    /// Its name (an update of the same Event replaces it).
    pub name: String,
}

impl EventRow {
    /// An Event, `events.k8s.io/v1` (what the runtime records: `regarding`, `note`) or core
    /// v1 (`involvedObject`, `message`); `None` when it names no object.
    pub fn from_object(obj: &Value) -> Option<EventRow> {
        let s = |p: &str| obj.pointer(p).and_then(Value::as_str).filter(|v| !v.is_empty());
        let about = s("/regarding/uid").or_else(|| s("/involvedObject/uid"))?.to_string();
        let last = ["/deprecatedLastTimestamp", "/lastTimestamp", "/series/lastObservedTime", "/eventTime", "/metadata/creationTimestamp"]
            .iter()
            .find_map(|p| s(p))
            .and_then(|t| katalog::time::parse_rfc3339(t).ok());
        let count = ["/series/count", "/deprecatedCount", "/count"].iter().find_map(|p| obj.pointer(p).and_then(Value::as_i64)).unwrap_or(1);
        Some(EventRow {
            about,
            kind: s("/type").unwrap_or("Normal").to_string(),
            reason: s("/reason").unwrap_or_default().to_string(),
            message: s("/note").or_else(|| s("/message")).unwrap_or_default().to_string(),
            count,
            last,
            name: s("/metadata/name").unwrap_or_default().to_string(),
        })
    }

    /// The kind of the object it is about.
    pub fn kind_about(obj: &Value) -> Option<&str> {
        obj.pointer("/regarding/kind").or_else(|| obj.pointer("/involvedObject/kind")).and_then(Value::as_str)
    }
}

/// One OperatorBox as the runtime's `/katalog` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BoxHealth {
    /// The CRD entry.
    pub name: String,
    /// The kind it reconciles.
    pub kind: String,
    /// `starting`, `healthy`, `degraded`, `gated`, `stopped`.
    pub state: String,
    /// Why it has not started (a dependency, its CRD).
    pub waiting: Option<String>,
    /// Its last reconcile error.
    pub last_error: Option<String>,
    /// Reconciles finished.
    pub reconciles: u64,
    /// Of which failed.
    pub failures: u64,
    /// Its `dependsOn`.
    pub depends_on: Vec<String>,
}

impl BoxHealth {
    /// The boxes of a `/katalog` JSON answer.
    pub fn from_summary(v: &Value) -> Vec<BoxHealth> {
        let crds = v.get("crds").and_then(Value::as_array).cloned().unwrap_or_default();
        crds.iter()
            .map(|c| {
                let s = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_string);
                BoxHealth {
                    name: s("name").unwrap_or_default(),
                    kind: s("kind").unwrap_or_default(),
                    state: s("state").unwrap_or_default(),
                    waiting: s("waiting"),
                    last_error: s("lastError"),
                    reconciles: c.get("reconciles").and_then(Value::as_u64).unwrap_or(0),
                    failures: c.get("failures").and_then(Value::as_u64).unwrap_or(0),
                    depends_on: c
                        .get("dependsOn")
                        .and_then(Value::as_array)
                        .map(|d| d.iter().filter_map(Value::as_str).map(str::to_string).collect())
                        .unwrap_or_default(),
                }
            })
            .collect()
    }
}

/// What was started, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// True for the embedded dev cluster, false for the current kube context.
    pub dev: bool,
    /// The cluster: the dev cluster's URL, or `current kube context`.
    pub cluster: String,
    /// The dev cluster's kubeconfig (for kubectl).
    pub kubeconfig: Option<PathBuf>,
    /// Where the runtime serves `/katalog`.
    pub runtime: Option<SocketAddr>,
    /// The admission gateway's webhook address, when it runs.
    pub gateway: Option<SocketAddr>,
    /// The plurals of the Katalog's CRDs (for the kubectl hint).
    pub plurals: Vec<String>,
}

/// What the Live view's background work sends it, as `view::result_for(ViewId::Live, update)`
/// (a benchmark or test may send them itself, e.g. 1,000 [`Update::Cr`]s, without a cluster).
#[derive(Debug, Clone)]
pub enum Update {
    /// The session started (dev cluster up, or connected).
    Started(Started),
    /// The session could not start, or failed: why.
    Failed(String),
    /// A CR was added or changed.
    Cr(CrState),
    /// A CR is gone.
    CrGone(CrKey),
    /// A (re)list of every CR of `kind`: replaces what the view had of that kind.
    CrsListed {
        /// The kind listed.
        kind: String,
        /// Every CR of it.
        crs: Vec<CrState>,
    },
    /// A child was added or changed.
    Child(ChildState),
    /// A child is gone.
    ChildGone(ChildKey),
    /// A (re)list of every child of `kind`.
    ChildrenListed {
        /// The kind listed.
        kind: String,
        /// Every object of it that has an owner.
        children: Vec<ChildState>,
    },
    /// An Event about a CR (added or changed).
    Event(EventRow),
    /// The OperatorBoxes' health from `/katalog` (or why it could not be read).
    Health(Result<Vec<BoxHealth>, String>),
    /// A watch failed (it is retried): what and why; an empty error: it works again.
    WatchError {
        /// The resource (`websites.demo.ork.dev`).
        what: String,
        /// The error.
        error: String,
    },
    /// A CR file was applied: the CRs it holds, or the refusal (with the CR refused, when
    /// known).
    Applied {
        /// The file, as shown.
        file: String,
        /// The CRs applied, or the CR refused (if known) and why.
        result: Result<Vec<CrKey>, (Option<CrKey>, String)>,
    },
    /// A CR was deleted (or the deletion refused).
    Deleted {
        /// Which.
        key: CrKey,
        /// The refusal.
        result: Result<(), String>,
    },
    /// Everything started is stopped.
    Stopped,
}

/// A row of the list: a CR, or one of its children under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    /// A CR.
    Cr(CrKey),
    /// A child of the CR; `last` when it is the CR's last child (drawn `└─`).
    Child {
        /// The CR.
        owner: CrKey,
        /// The child.
        child: ChildKey,
        /// The last child of its CR.
        last: bool,
    },
}

impl Row {
    /// The CR of the row.
    pub fn cr(&self) -> &CrKey {
        match self {
            Row::Cr(k) | Row::Child { owner: k, .. } => k,
        }
    }
}

/// The most Events kept per CR.
const EVENTS_PER_CR: usize = 20;

/// The cluster as the view knows it.
#[derive(Debug, Default)]
pub struct Model {
    /// The CRs by namespace/name.
    pub crs: BTreeMap<CrKey, CrState>,
    /// Every child seen.
    pub children: BTreeMap<ChildKey, ChildState>,
    /// Events by the uid of their CR, newest last.
    pub events: HashMap<String, VecDeque<EventRow>>,
    /// The OperatorBoxes' health.
    pub health: Vec<BoxHealth>,
    /// Why `/katalog` could not be read (last time).
    pub health_error: Option<String>,
    /// Failing watches: resource → error.
    pub watch_errors: BTreeMap<String, String>,
    rows: Vec<Row>,
    dirty: bool,
    filter: String,
}

impl Model {
    /// Files an update (the rows are rebuilt when next asked for).
    pub fn apply(&mut self, u: Update) {
        match u {
            Update::Cr(mut cr) => {
                if let Some(old) = self.crs.get(&cr.key) {
                    // A refusal of a later apply stays shown until the next apply.
                    cr.refused = old.refused.clone();
                }
                self.crs.insert(cr.key.clone(), cr);
                self.dirty = true;
            }
            Update::CrGone(key) => {
                if self.crs.remove(&key).is_some() {
                    self.dirty = true;
                }
            }
            Update::CrsListed { kind, crs } => {
                let refused: HashMap<CrKey, String> =
                    self.crs.iter().filter(|(k, _)| k.kind == kind).filter_map(|(k, c)| c.refused.clone().map(|r| (k.clone(), r))).collect();
                self.crs.retain(|k, c| k.kind != kind || (!c.present && c.refused.is_some()));
                for mut cr in crs {
                    cr.refused = refused.get(&cr.key).cloned();
                    self.crs.insert(cr.key.clone(), cr);
                }
                self.dirty = true;
            }
            Update::Child(c) => {
                self.children.insert(c.key.clone(), c);
                self.dirty = true;
            }
            Update::ChildGone(key) => {
                if self.children.remove(&key).is_some() {
                    self.dirty = true;
                }
            }
            Update::ChildrenListed { kind, children } => {
                self.children.retain(|k, _| k.kind != kind);
                self.children.extend(children.into_iter().map(|c| (c.key.clone(), c)));
                self.dirty = true;
            }
            Update::Event(e) => {
                let list = self.events.entry(e.about.clone()).or_default();
                list.retain(|x| x.name != e.name || e.name.is_empty());
                list.push_back(e);
                while list.len() > EVENTS_PER_CR {
                    list.pop_front();
                }
            }
            Update::Health(Ok(h)) => {
                self.health = h;
                self.health_error = None;
            }
            Update::Health(Err(e)) => self.health_error = Some(e),
            Update::WatchError { what, error } if error.is_empty() => {
                self.watch_errors.remove(&what);
            }
            Update::WatchError { what, error } => {
                self.watch_errors.insert(what, error);
            }
            Update::Applied { result: Ok(keys), .. } => {
                for k in keys {
                    match self.crs.get_mut(&k) {
                        Some(c) if c.present => c.refused = None,
                        // Refused before and not seen by the watch yet: it will be.
                        Some(_) => {
                            self.crs.remove(&k);
                        }
                        None => {}
                    }
                }
                self.dirty = true;
            }
            Update::Applied { result: Err((Some(key), why)), .. } => {
                let cr = self.crs.entry(key.clone()).or_insert_with(|| CrState { key, ..CrState::default() });
                cr.refused = Some(why);
                self.dirty = true;
            }
            Update::Deleted { key, result: Err(why) } => {
                if let Some(c) = self.crs.get_mut(&key) {
                    c.refused = Some(why);
                }
            }
            Update::Applied { result: Err((None, _)), .. } | Update::Deleted { result: Ok(()), .. } => {}
            Update::Started(_) | Update::Failed(_) | Update::Stopped => {}
        }
    }

    /// Forgets everything (a new session).
    pub fn clear(&mut self) {
        let filter = std::mem::take(&mut self.filter);
        *self = Model { filter, dirty: true, ..Model::default() };
    }

    /// Keeps only CRs whose kind, namespace/name, phase or readiness contain `filter`
    /// (case-insensitive).
    pub fn set_filter(&mut self, filter: &str) {
        self.filter = filter.to_lowercase();
        self.dirty = true;
    }

    /// Whether the rows must be rebuilt.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// The filter.
    pub fn filter(&self) -> &str {
        &self.filter
    }

    fn matches(&self, cr: &CrState) -> bool {
        if self.filter.is_empty() {
            return true;
        }
        let text = format!("{} {} {} {}", cr.key.kind, cr.key.path(), cr.phase.as_deref().unwrap_or_default(), ready_word(cr)).to_lowercase();
        text.contains(&self.filter)
    }

    /// The rows (rebuilt when something changed since the last call).
    pub fn rows(&mut self) -> &[Row] {
        if self.dirty {
            self.rebuild();
        }
        &self.rows
    }

    fn rebuild(&mut self) {
        self.dirty = false;
        let mut by_owner: HashMap<&str, Vec<&ChildKey>> = HashMap::new();
        for (k, c) in &self.children {
            for uid in &c.owners {
                by_owner.entry(uid.as_str()).or_default().push(k);
            }
            if c.owners.is_empty()
                && let Some(l) = &c.owner_label
            {
                by_owner.entry(l.as_str()).or_default().push(k);
            }
        }
        let mut rows = Vec::with_capacity(self.crs.len());
        for (key, cr) in &self.crs {
            if !self.matches(cr) {
                continue;
            }
            rows.push(Row::Cr(key.clone()));
            let mut kids: Vec<&ChildKey> = Vec::new();
            if !cr.uid.is_empty()
                && let Some(v) = by_owner.get(cr.uid.as_str())
            {
                kids.extend(v);
            }
            if let Some(v) = by_owner.get(key.path().as_str()) {
                kids.extend(v);
            }
            kids.sort();
            kids.dedup();
            let n = kids.len();
            rows.extend(kids.into_iter().enumerate().map(|(i, c)| Row::Child { owner: key.clone(), child: c.clone(), last: i + 1 == n }));
        }
        self.rows = rows;
    }

    /// The children of a CR, sorted.
    pub fn children_of(&self, cr: &CrState) -> Vec<&ChildState> {
        let path = cr.key.path();
        self.children
            .values()
            .filter(|c| (!cr.uid.is_empty() && c.owners.contains(&cr.uid)) || (c.owners.is_empty() && c.owner_label.as_deref() == Some(path.as_str())))
            .collect()
    }

    /// The box reconciling `kind`.
    pub fn box_of(&self, kind: &str) -> Option<&BoxHealth> {
        self.health.iter().find(|b| b.kind == kind)
    }

    /// Counts: CRs, of which Ready.
    pub fn counts(&self) -> (usize, usize) {
        (self.crs.values().filter(|c| c.present).count(), self.crs.values().filter(|c| c.ready() == Some(true)).count())
    }
}

/// `Ready`, `NotReady`, `Pending`, `Refused`, `Deleting`: the word shown (and filtered on).
pub fn ready_word(cr: &CrState) -> &'static str {
    if !cr.present {
        return "Refused";
    }
    if cr.deleting {
        return "Deleting";
    }
    match cr.ready() {
        Some(true) => "Ready",
        Some(false) => "NotReady",
        None => "Pending",
    }
}

/// kubectl's age: `42s`, `5m`, `3h`, `2d`.
pub fn age(created: Option<i64>, now: i64) -> String {
    let Some(t) = created else { return "-".into() };
    let s = (now - t).max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// Conditions that are good when False (`ValidationWarning`, `Degraded`, `…Failed`).
fn negative(kind: &str) -> bool {
    ["Warning", "Failed", "Failure", "Error", "Degraded", "Stalled"].iter().any(|w| kind.contains(w))
}

/// Why the CR is not Ready (or what else is wrong), one line per reason, most telling first:
/// the refused apply, the deny rule, the failing conditions, its OperatorBox waiting for a
/// dependency or degraded, its children not ready. Empty when nothing is wrong.
pub fn explain(model: &Model, cr: &CrState, depends_on: &[String]) -> Vec<(bool, String)> {
    let mut out: Vec<(bool, String)> = Vec::new();
    if let Some(r) = &cr.refused {
        out.push((true, format!("refused: {r}")));
    }
    if !cr.present {
        return out;
    }
    if let Some(v) = cr.condition("ValidationFailed").filter(|c| c.status == "True") {
        out.push((true, format!("deny rule ({}): {}", v.reason, v.message)));
    }
    for c in cr.conditions.iter().filter(|c| c.kind != "ValidationFailed") {
        let msg = if c.message.is_empty() { String::new() } else { format!(": {}", c.message) };
        let line = format!("{}={} {}{msg}", c.kind, c.status, c.reason);
        if negative(&c.kind) {
            // ValidationWarning=True: the warn rules' messages (not a reason for not Ready).
            if c.status == "True" {
                out.push((!c.kind.contains("Warning"), line));
            }
            continue;
        }
        let failing = if c.kind == "Ready" || c.kind == "Available" { c.status != "True" } else { c.status == "False" && c.kind != "Progressing" };
        if failing && !(c.kind == "Ready" && out.iter().any(|(_, l)| l.starts_with("deny rule") && l.contains(&c.message))) {
            out.push((true, line));
        }
    }
    if cr.condition("Ready").is_none() && !cr.deleting {
        out.push((false, "no Ready condition yet: the runtime has not reconciled it".into()));
    }
    if let Some(b) = model.box_of(&cr.key.kind) {
        if let Some(w) = &b.waiting {
            out.push((true, format!("OperatorBox {} is waiting: {w}", b.name)));
        }
        if b.state == "degraded" {
            out.push((true, format!("OperatorBox {} is degraded: {}", b.name, b.last_error.as_deref().unwrap_or("failures in a row"))));
        }
        for d in &b.depends_on {
            match model.health.iter().find(|x| &x.name == d) {
                Some(x) if x.state == "healthy" => {}
                Some(x) => out.push((true, format!("dependsOn {d}: its OperatorBox is {}", x.state))),
                None => out.push((true, format!("dependsOn {d}: no OperatorBox of that name runs"))),
            }
        }
    } else {
        for d in depends_on {
            out.push((false, format!("dependsOn {d}")));
        }
    }
    for c in model.children_of(cr) {
        if let Readiness::NotReady(why) = &c.readiness {
            out.push((true, format!("child {} {} not ready: {why}", c.key.kind, c.key.name)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cr(ns: &str, name: &str, ready: bool) -> CrState {
        let obj = json!({
            "kind": "Website",
            "metadata": {"namespace": ns, "name": name, "uid": format!("uid-{ns}-{name}"), "creationTimestamp": "2026-01-01T00:00:00Z"},
            "status": {"phase": if ready {"Available"} else {"Progressing"},
                       "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}, "reason": "R", "message": "m"}]},
        });
        CrState::from_object(&obj).unwrap_or_default()
    }

    #[test]
    fn crs_are_ordered_by_namespace_then_name_with_their_children_under_them() {
        let mut m = Model::default();
        for (ns, n) in [("b", "x"), ("a", "z"), ("a", "y")] {
            m.apply(Update::Cr(cr(ns, n, true)));
        }
        let child = json!({"kind": "Deployment", "metadata": {"namespace": "a", "name": "z-web", "ownerReferences": [{"uid": "uid-a-z"}]},
                           "spec": {"replicas": 2}, "status": {"readyReplicas": 1}});
        m.apply(Update::Child(ChildState::from_object(&child).unwrap_or_else(|| panic!("a child"))));
        let names: Vec<String> = m
            .rows()
            .iter()
            .map(|r| match r {
                Row::Cr(k) => k.path(),
                Row::Child { child, .. } => format!("  {}", child.name),
            })
            .collect();
        assert_eq!(names, ["a/y", "a/z", "  z-web", "b/x"]);
        let z = m.crs.values().find(|c| c.key.name == "z").cloned().unwrap_or_default();
        let why = explain(&m, &z, &[]);
        assert!(why.iter().any(|(_, l)| l == "child Deployment z-web not ready: 1/2"), "{why:?}");
        m.set_filter("B/X");
        assert_eq!(m.rows().len(), 1);
    }

    #[test]
    fn a_refused_apply_shows_as_a_row_until_an_apply_succeeds() {
        let mut m = Model::default();
        let key = CrKey { namespace: "default".into(), name: "bad".into(), kind: "Website".into() };
        m.apply(Update::Applied { file: "cr.yaml".into(), result: Err((Some(key.clone()), "403 denied".into())) });
        let c = &m.crs[&key];
        assert_eq!((c.present, ready_word(c)), (false, "Refused"));
        assert_eq!(explain(&m, c, &[]), [(true, "refused: 403 denied".to_string())]);
        m.apply(Update::Applied { file: "other.yaml".into(), result: Ok(vec![]) });
        assert_eq!(m.crs.len(), 1, "an apply of another file keeps the refusal");
        m.apply(Update::Applied { file: "cr.yaml".into(), result: Ok(vec![key]) });
        assert!(m.crs.is_empty());
    }

    #[test]
    fn ages_read_like_kubectl() {
        assert_eq!([age(Some(0), 5), age(Some(0), 300), age(Some(0), 7200), age(Some(0), 200_000), age(None, 1)], ["5s", "5m", "2h", "2d", "-"]);
    }
}
