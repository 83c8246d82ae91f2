//! `MemCluster`: an in-memory object store with the API server's semantics, for `ork simulate`,
//! the tests, and (served over HTTP) the embedded dev cluster.
//!
//! What it keeps faithfully: uid, a store-wide monotonically increasing resourceVersion,
//! `generation` bumped only when the spec changes, creationTimestamp, 409 on a stale
//! resourceVersion and on AlreadyExists, finalizers and deletionTimestamp (an object with
//! finalizers is only marked; it goes when the last one is removed), owner-reference garbage
//! collection (background, foreground, orphan), namespace lifecycle (no creates into a missing
//! or terminating namespace; deleting a namespace deletes its contents), the status subresource
//! (object writes ignore status, status writes ignore everything else), `generateName`, label and
//! field selectors, watches with ADDED/MODIFIED/DELETED from a resourceVersion, and field
//! ownership (`metadata.managedFields`: every create, update and patch records its field manager,
//! server-side apply refuses conflicts unless forced and removes what a manager no longer
//! applies; in-process calls write as [`super::FIELD_MANAGER`]; see `super::fields`), and Events
//! as one store with two views (core/v1 and events.k8s.io/v1, mirrored in `events`). Every client
//! request is recorded as an [`Op`] for assertions. It runs no controllers except the garbage
//! collector and the namespace lifecycle; [`MemCluster::settle`] plays kubelet and the workload
//! controllers on demand (Deployments and StatefulSets become ready, Jobs complete).
//!
//! Calls complete synchronously: the returned futures are already resolved.

mod controllers;
mod events;
mod list;

pub use list::{Continue, Page};

use super::fields::{self, FieldSet, ManagedFields, Writer};
use super::patch::apply_patch;
use super::patch_schema::{Node, PatchSchema};
use super::schema;
use super::selector::{FieldSelector, LabelSelector};
use super::validation;
use super::{
    ApiResource, Change, Cluster, ClusterError, FIELD_MANAGER, FieldConflict, FieldError, ListParams, ObjectList, Patch, Propagation, Result, WatchEvent,
    WatchStream,
};
use katalog::time::format_rfc3339;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::future::{Future, ready};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

/// The finalizer a foreground deletion puts on the owner.
const FOREGROUND: &str = "foregroundDeletion";
/// Watch history kept for watches that start in the past.
const HISTORY: usize = 4096;

/// One client request, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Op {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`.
    pub verb: &'static str,
    /// API group ("" = core).
    pub group: String,
    /// Resource (plural), with `/status` for the status subresource.
    pub resource: String,
    /// Namespace, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Object name, if the request names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Op {
    /// Whether the request can change state.
    pub fn is_write(&self) -> bool {
        !matches!(self.verb, "get" | "list" | "watch")
    }
}

/// (group, plural).
type Gr = (String, String);
/// (namespace, name); namespace "" for cluster-scoped objects.
type Key = (String, String);

#[derive(Debug, Clone)]
struct Kind {
    res: ApiResource,
    status: bool,
    /// The `openAPIV3Schema` objects of a custom kind are pruned, defaulted and validated
    /// against (`super::schema`); none for built-in kinds.
    schema: Option<Arc<Value>>,
}

#[derive(Default)]
struct Store {
    rv: u64,
    seq: u64,
    kinds: BTreeMap<Gr, Kind>,
    objects: BTreeMap<Gr, BTreeMap<Key, Value>>,
    history: VecDeque<(u64, Gr, Arc<Change>)>,
    /// The oldest resourceVersion a watch may start from.
    history_floor: u64,
    watchers: Vec<(Gr, Option<String>, UnboundedSender<Arc<Change>>)>,
    ops: Vec<Op>,
    /// (group, plural, label key, label value) → objects carrying it: lists by label selector
    /// read the index instead of scanning every object of the resource.
    by_label: BTreeMap<(Gr, String, String), BTreeSet<Key>>,
    /// Where generated names come from: the OS in a dev cluster, a fixed seed otherwise
    /// (simulations are reproducible).
    rng: Option<katalog::template::Rng>,
    /// The last Service cluster IP handed out (10.96.0.0/12, from .10).
    last_ip: u32,
    /// Client requests are not recorded ([`MemCluster::record_requests`]).
    unrecorded: bool,
    /// A deleted namespace's contents go in the next [`MemCluster::settle`], not within the
    /// delete request ([`MemCluster::finalize_namespaces_later`]).
    namespaces_later: bool,
    /// The workloads (Deployments, StatefulSets, Jobs) written since the last
    /// [`MemCluster::settle`]: the only ones whose status it may have to change, so a tick costs
    /// what changed, not every workload of the cluster.
    unsettled: BTreeSet<(Gr, Key)>,
    /// Something was deleted or marked for deletion since the collector last ran in
    /// [`MemCluster::settle`] (nothing to collect otherwise).
    collect_pending: bool,
}

/// Whether `gr` is a workload whose status [`MemCluster::settle`] plays.
fn settles(gr: &Gr) -> bool {
    matches!((gr.0.as_str(), gr.1.as_str()), ("apps", "deployments" | "statefulsets") | ("batch", "jobs"))
}

fn labels_of(obj: &Value) -> Vec<(String, String)> {
    obj.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
        .unwrap_or_default()
}

/// The in-memory cluster. Cheap to share behind an `Arc`; every call locks one mutex.
pub struct MemCluster {
    store: Mutex<Store>,
    clock: Arc<dyn Fn() -> i64 + Send + Sync>,
}

impl std::fmt::Debug for MemCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemCluster").finish_non_exhaustive()
    }
}

impl Default for MemCluster {
    fn default() -> Self {
        MemCluster::new()
    }
}

fn meta(obj: &Value, field: &str) -> Option<String> {
    obj.get("metadata").and_then(|m| m.get(field)).and_then(Value::as_str).map(str::to_string)
}

fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    match obj.get_mut("metadata") {
        Some(Value::Object(m)) => m,
        _ => unreachable!("metadata was just made an object"),
    }
}

fn finalizers(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/finalizers").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect()).unwrap_or_default()
}

fn deleting(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp").is_some_and(|v| !v.is_null())
}

fn owner_uids(obj: &Value) -> Vec<(String, bool)> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| Some((r.get("uid")?.as_str()?.to_string(), r.get("blockOwnerDeletion").and_then(Value::as_bool).unwrap_or(false))))
                .collect()
        })
        .unwrap_or_default()
}

/// Everything but metadata and status: what `generation` tracks.
fn content(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
    }
    o
}

/// The label every Namespace carries with its own name, set on create and kept on update as the
/// API server's namespace strategy does, so that a namespaceSelector can pick namespaces by name.
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

fn label_namespace_name(gr: &Gr, obj: &mut Value) {
    if !(gr.0.is_empty() && gr.1 == "namespaces") {
        return;
    }
    let Some(name) = meta(obj, "name") else { return };
    let m = meta_mut(obj);
    if !m.get("labels").is_some_and(Value::is_object) {
        m.insert("labels".into(), json!({}));
    }
    if let Some(labels) = m.get_mut("labels").and_then(Value::as_object_mut) {
        labels.insert(NAMESPACE_NAME_LABEL.into(), json!(name));
    }
}

/// `configmaps "c"` / `deployments.apps "d"`: how the API server names an object in messages.
fn object_ref(r: &ApiResource, name: &str) -> String {
    format!("{} \"{name}\"", r.group_resource())
}

/// How the API server prints a RoleRef in the error that refuses to change it.
fn roleref_shown(v: Option<&Value>) -> String {
    let s = |k: &str| v.and_then(|r| r.get(k)).and_then(Value::as_str).unwrap_or_default().to_string();
    format!("rbac.RoleRef{{APIGroup:{:?}, Kind:{:?}, Name:{:?}}}", s("apiGroup"), s("kind"), s("name"))
}

/// The characters of a generated name's random suffix (no vowels, no look-alikes), as the API
/// server's name generator uses.
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
/// How many random names are tried before a `generateName` create gives up.
const NAME_ATTEMPTS: usize = 8;

impl Store {
    /// `prefix` plus five random characters, as the API server generates names: the prefix is
    /// cut to leave room within 63 characters, and a name already taken is tried again.
    fn generate_name(&mut self, gr: &Gr, ns: &str, prefix: &str, plural: &str) -> Result<String> {
        let prefix: String = prefix.chars().take(58).collect();
        for _ in 0..NAME_ATTEMPTS {
            let mut bytes = [0u8; 5];
            self.rng.get_or_insert(katalog::template::Rng::Seeded(0x6f72_6b2d_6e61_6d65)).fill(&mut bytes).map_err(|e| ClusterError::Other(e.to_string()))?;
            let suffix: String = bytes.iter().map(|b| NAME_ALPHABET[usize::from(*b) % NAME_ALPHABET.len()] as char).collect();
            let name = format!("{prefix}{suffix}");
            if self.get(gr, &(ns.to_string(), name.clone())).is_none() {
                return Ok(name);
            }
        }
        Err(ClusterError::AlreadyExists { resource: plural.into(), name: format!("{prefix}*") })
    }

    /// Gives a new Service a cluster IP (unless headless or ExternalName), as the API server's
    /// allocator does.
    fn allocate_cluster_ip(&mut self, svc: &mut Value) {
        let external = svc.pointer("/spec/type").and_then(Value::as_str) == Some("ExternalName");
        let set = svc.pointer("/spec/clusterIP").and_then(Value::as_str).is_some_and(|ip| !ip.is_empty());
        let Some(spec) = svc.get_mut("spec").and_then(Value::as_object_mut) else { return };
        if external {
            return;
        }
        if !set {
            self.last_ip = self.last_ip.max(9) + 1;
            let ip = format!("10.96.{}.{}", (self.last_ip >> 8) & 0xff, self.last_ip & 0xff);
            spec.insert("clusterIP".into(), json!(ip));
        }
        if let Some(ip) = spec.get("clusterIP").cloned() {
            spec.entry("clusterIPs").or_insert_with(|| json!([ip]));
        }
    }

    /// The served kind of an `apiVersion` + `kind`, with its group and plural.
    fn kind_for(&self, api_version: &str, kind: &str) -> Option<(&Gr, &Kind)> {
        let (group, _) = katalog::kinds::split_api_version(api_version);
        self.kinds.iter().find(|(_, k)| k.res.group == group && k.res.kind == kind)
    }

    fn kind(&self, r: &ApiResource) -> Result<(Gr, Kind)> {
        let gr = (r.group.clone(), r.plural.clone());
        match self.kinds.get(&gr) {
            Some(k) => Ok((gr, k.clone())),
            None => Err(ClusterError::UnknownResource(r.group_resource())),
        }
    }

    fn ns_key(kind: &Kind, ns: Option<&str>) -> Result<String> {
        match (kind.res.namespaced, ns) {
            (true, Some(n)) if !n.is_empty() => Ok(n.to_string()),
            (true, _) => Err(ClusterError::BadRequest(format!("{} is namespaced: a namespace is required", kind.res.plural))),
            (false, _) => Ok(String::new()),
        }
    }

    fn record(&mut self, verb: &'static str, r: &ApiResource, sub: &str, ns: Option<&str>, name: Option<&str>) {
        if self.unrecorded {
            return;
        }
        let resource = if sub.is_empty() { r.plural.clone() } else { format!("{}/{sub}", r.plural) };
        self.ops.push(Op {
            verb,
            group: r.group.clone(),
            resource,
            namespace: ns.filter(|n| !n.is_empty()).map(str::to_string),
            name: name.map(str::to_string),
        });
    }

    fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    fn emit(&mut self, gr: &Gr, event: WatchEvent, prev: Option<Value>) {
        let ns = meta(event.object(), "namespace");
        let change = Arc::new(Change { event, prev });
        self.watchers.retain(|(wgr, wns, tx)| {
            if wgr != gr || wns.as_ref().is_some_and(|w| Some(w) != ns.as_ref()) {
                return !tx.is_closed();
            }
            tx.send(change.clone()).is_ok()
        });
        self.history.push_back((self.rv, gr.clone(), change));
        while self.history.len() > HISTORY {
            if let Some((rv, _, _)) = self.history.pop_front() {
                self.history_floor = rv;
            }
        }
    }

    fn get(&self, gr: &Gr, key: &Key) -> Option<&Value> {
        self.objects.get(gr).and_then(|m| m.get(key))
    }

    fn index(&mut self, gr: &Gr, key: &Key, obj: &Value, add: bool) {
        for (k, v) in labels_of(obj) {
            let slot = (gr.clone(), k, v);
            if add {
                self.by_label.entry(slot).or_default().insert(key.clone());
            } else if let Some(set) = self.by_label.get_mut(&slot) {
                set.remove(key);
                if set.is_empty() {
                    self.by_label.remove(&slot);
                }
            }
        }
    }

    fn put(&mut self, gr: &Gr, key: Key, mut obj: Value, added: bool) -> Value {
        let rv = self.next_rv();
        meta_mut(&mut obj).insert("resourceVersion".into(), json!(rv.to_string()));
        // The object it replaces is the event's `prev`: taken out of the map, not copied.
        let prev = self.objects.entry(gr.clone()).or_default().insert(key.clone(), obj.clone());
        if let Some(old) = &prev {
            self.index(gr, &key, old, false);
        }
        self.index(gr, &key, &obj, true);
        if settles(gr) {
            self.unsettled.insert((gr.clone(), key.clone()));
        }
        if deleting(&obj) {
            self.collect_pending = true;
        }
        if added {
            self.emit(gr, WatchEvent::Added(obj.clone()), None);
        } else {
            self.emit(gr, WatchEvent::Modified(obj.clone()), prev);
        }
        self.mirror_put(gr, &key, &obj);
        obj
    }

    /// An Event written to one view is written to the other at the same resourceVersion
    /// (`events`: one store, two views).
    fn mirror_put(&mut self, gr: &Gr, key: &Key, obj: &Value) {
        let Some((other, copy)) = events::mirror(gr, obj) else { return };
        let prev = self.get(&other, key).cloned();
        if let Some(old) = &prev {
            self.index(&other, key, old, false);
        }
        self.index(&other, key, &copy, true);
        self.objects.entry(other.clone()).or_default().insert(key.clone(), copy.clone());
        match prev {
            None => self.emit(&other, WatchEvent::Added(copy), None),
            Some(prev) => self.emit(&other, WatchEvent::Modified(copy), Some(prev)),
        }
    }

    fn remove(&mut self, gr: &Gr, key: &Key) {
        if let Some(obj) = self.objects.get_mut(gr).and_then(|m| m.remove(key)) {
            self.index(gr, key, &obj, false);
            self.unsettled.remove(&(gr.clone(), key.clone()));
            self.collect_pending = true;
            self.next_rv();
            let other = events::mirror(gr, &obj).map(|(other, _)| other);
            self.emit(gr, WatchEvent::Deleted(obj), None);
            // The other view of an Event goes with it, at the same resourceVersion.
            if let Some(other) = other
                && let Some(copy) = self.objects.get_mut(&other).and_then(|m| m.remove(key))
            {
                self.index(&other, key, &copy, false);
                self.emit(&other, WatchEvent::Deleted(copy), None);
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Object,
    Status,
}

/// What a write does to `metadata.managedFields`.
#[derive(Clone, Copy)]
enum Track<'a> {
    /// Nothing: a seeded object has no managers; a write keeps the entries it has.
    Keep,
    /// A create, update or non-apply patch by this manager (operation `Update`).
    Update(&'a str),
    /// A create by server-side apply by this manager (operation `Apply`).
    Apply(&'a str),
    /// The entries of the written object, computed by an apply already.
    Given,
}

/// The schema of a kind for field tracking (custom kinds: none, maps granular, lists atomic).
fn schema_root(r: &ApiResource) -> Result<Node<'static>> {
    Ok(PatchSchema::builtin().map_err(|e| ClusterError::Other(e.to_string()))?.root(&r.api_version(), &r.kind).unwrap_or(Node::Unknown))
}

/// The fields of `obj` a write to `part` tracks: a write to the object leaves `status` to the
/// status subresource (when the kind has one); a status write tracks only `status`.
fn tracked(obj: &Value, kind: &Kind, part: Part) -> Result<FieldSet> {
    let all = fields::fields_of(obj, schema_root(&kind.res)?);
    let status = |p: &fields::Path| p.first() == Some(&fields::Step::Field("status".into()));
    Ok(match part {
        Part::Object if kind.status => all.into_iter().filter(|p| !status(p)).collect(),
        Part::Object => all,
        Part::Status => all.into_iter().filter(status).collect(),
    })
}

fn subresource(part: Part) -> &'static str {
    match part {
        Part::Object => "",
        Part::Status => "status",
    }
}

/// The 409 of an apply that would change fields other managers own.
fn apply_conflict(r: &ApiResource, name: &str, conflicts: &[fields::Conflict]) -> ClusterError {
    ClusterError::ApplyConflict {
        resource: r.plural.clone(),
        name: name.to_string(),
        conflicts: conflicts
            .iter()
            .map(|c| FieldConflict { manager: c.manager.clone(), api_version: c.api_version.clone(), field: fields::path_string(&c.path) })
            .collect(),
    }
}

impl MemCluster {
    /// An empty cluster serving every built-in resource of `katalog::kinds` (and the add-ons it
    /// lists), with the namespaces `default`, `kube-system`, `kube-public` and
    /// `kube-node-lease`, on the system clock.
    pub fn new() -> MemCluster {
        MemCluster::with_clock(Arc::new(katalog::time::unix_now))
    }

    /// Whether client requests are recorded as [`Op`]s (the default; `ork simulate` asserts on
    /// them). A long-running served cluster turns it off, or the log would grow without end.
    pub fn record_requests(&self, on: bool) {
        let mut s = self.store();
        s.unrecorded = !on;
        if !on {
            s.ops = Vec::new();
        }
    }

    /// Empties and removes deleted namespaces in [`MemCluster::settle`] instead of within the
    /// delete request, as kube-apiserver's namespace controller does after the request has
    /// answered: a client deleting a namespace and then the objects in it (`kubectl delete -f`
    /// of an install) finds them still there, terminating. A dev cluster turns it on; an
    /// in-process simulation keeps the immediate form.
    pub fn finalize_namespaces_later(&self) {
        self.store().namespaces_later = true;
    }

    /// Generated names (`generateName`) from the operating system's randomness instead of a
    /// fixed seed, as in a dev cluster, where names must not be predictable.
    pub fn use_os_random(&self) {
        self.store().rng = Some(katalog::template::Rng::Os);
    }

    /// The same, on a given clock (Unix seconds).
    pub fn with_clock(clock: Arc<dyn Fn() -> i64 + Send + Sync>) -> MemCluster {
        let c = MemCluster { store: Mutex::new(Store::default()), clock };
        for r in katalog::kinds::all_known() {
            let status = katalog::kinds::has_status_subresource(&r.group, &r.kind);
            c.register(r, status);
        }
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let _ = c.seed(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
        }
        c.store().ops.clear();
        c
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock cannot leave the store half-written (every mutation
        // is a single insert/remove), so a poisoned lock is still usable.
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn now(&self) -> String {
        format_rfc3339((self.clock)())
    }

    /// Serves a resource (a CRD being installed). `status`: it has a status subresource.
    pub fn register(&self, r: ApiResource, status: bool) {
        self.register_with_schema(r, status, None);
    }

    /// Serves a custom resource whose objects are pruned, defaulted and validated against
    /// `schema` (the `openAPIV3Schema` of its stored version) on every write, as the API server
    /// treats custom resources; `None` serves it unchecked.
    pub fn register_with_schema(&self, r: ApiResource, status: bool, schema: Option<Value>) {
        let schema = schema.filter(Value::is_object).map(Arc::new);
        self.store().kinds.insert((r.group.clone(), r.plural.clone()), Kind { res: r, status, schema });
    }

    /// The fields of `obj` (at the stored version) the schema of `r` does not know, which a
    /// write would prune (`spec.bogus`): what `fieldValidation=Strict` refuses and `Warn` warns of.
    pub fn unknown_fields(&self, r: &ApiResource, obj: &Value) -> Vec<String> {
        let schema = self.store().kinds.get(&(r.group.clone(), r.plural.clone())).and_then(|k| k.schema.clone());
        schema.map(|s| schema::unknown_fields(&s, obj)).unwrap_or_default()
    }

    /// `obj` (at the stored version) with the fields the schema of `r` does not know pruned and
    /// (`defaults`) its defaults applied, as the API server decodes a custom resource before
    /// admission. A server-side apply configuration is pruned only: its manager owns no default.
    pub fn pruned(&self, r: &ApiResource, obj: Value, defaults: bool) -> Value {
        let schema = self.store().kinds.get(&(r.group.clone(), r.plural.clone())).and_then(|k| k.schema.clone());
        let mut obj = obj;
        match schema {
            Some(s) if defaults => {
                schema::prune_and_default(&s, &mut obj);
            }
            Some(s) => schema::prune(&s, &mut obj),
            None => {}
        }
        obj
    }

    /// Whether objects of `r` are checked against a schema (a custom resource whose CRD has one).
    pub fn has_schema(&self, r: &ApiResource) -> bool {
        self.store().kinds.get(&(r.group.clone(), r.plural.clone())).is_some_and(|k| k.schema.is_some())
    }

    /// Writes that are stored, or (`dry_run`) computed in full — defaulting, validation,
    /// generated names, field ownership — and answered without being stored, as `dryRun=All`.
    pub fn writes(&self, dry_run: bool) -> Writes<'_> {
        Writes { cluster: self, dry: dry_run }
    }

    /// Stops serving a resource (its CRD was deleted); its objects go with it.
    pub fn unregister(&self, group: &str, plural: &str) {
        let mut s = self.store();
        let gr = (group.to_string(), plural.to_string());
        s.kinds.remove(&gr);
        s.objects.remove(&gr);
        s.by_label.retain(|(g, _, _), _| *g != gr);
    }

    /// Every served resource with whether it has a status subresource, sorted by group and
    /// plural.
    pub fn served(&self) -> Vec<(ApiResource, bool)> {
        self.store().kinds.values().map(|k| (k.res.clone(), k.status)).collect()
    }

    /// The served resource of a group and plural.
    pub fn resource(&self, group: &str, plural: &str) -> Option<ApiResource> {
        self.store().kinds.get(&(group.to_string(), plural.to_string())).map(|k| k.res.clone())
    }

    /// The served resource of an `apiVersion` + `kind`.
    pub fn resource_for(&self, api_version: &str, kind: &str) -> Option<ApiResource> {
        self.store().kind_for(api_version, kind).map(|(_, k)| k.res.clone())
    }

    /// The requests recorded since the last call, in order.
    pub fn take_ops(&self) -> Vec<Op> {
        std::mem::take(&mut self.store().ops)
    }

    /// The store's current resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.store().rv
    }

    /// Creates an object as a pre-existing fact (not recorded as a client request), creating its
    /// namespace when missing. The resource comes from `apiVersion`/`kind`.
    pub fn seed(&self, obj: &Value) -> Result<Value> {
        let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
        let r = self.resource_for(api_version, kind).ok_or_else(|| ClusterError::UnknownResource(format!("{kind} ({api_version})")))?;
        let ns = meta(obj, "namespace").filter(|_| r.namespaced).unwrap_or_else(|| "default".into());
        let now = self.now();
        let mut s = self.store();
        if r.namespaced && s.get(&(String::new(), "namespaces".into()), &(String::new(), ns.clone())).is_none() {
            let ns_res =
                s.kinds.get(&(String::new(), "namespaces".into())).map(|k| k.res.clone()).ok_or_else(|| ClusterError::UnknownResource("namespaces".into()))?;
            Self::create_in(&mut s, &ns_res, None, &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}), &now, Track::Keep, false)?;
        }
        Self::create_in(&mut s, &r, r.namespaced.then_some(ns.as_str()), obj, &now, Track::Keep, false)
    }

    /// One object, if it exists (not recorded as a client request).
    pub fn peek(&self, r: &ApiResource, ns: Option<&str>, name: &str) -> Option<Value> {
        let key = (if r.namespaced { ns.unwrap_or_default().to_string() } else { String::new() }, name.to_string());
        self.store().get(&(r.group.clone(), r.plural.clone()), &key).cloned()
    }

    /// A snapshot of every object of a resource (not recorded).
    pub fn objects(&self, r: &ApiResource) -> Vec<Value> {
        self.store().objects.get(&(r.group.clone(), r.plural.clone())).map(|m| m.values().cloned().collect()).unwrap_or_default()
    }

    fn create_in(s: &mut Store, r: &ApiResource, ns: Option<&str>, obj: &Value, now: &str, track: Track<'_>, dry: bool) -> Result<Value> {
        let (gr, kind) = s.kind(r)?;
        let ns = Store::ns_key(&kind, ns)?;
        let Some(_) = obj.as_object() else { return Err(ClusterError::BadRequest("the body is not an object".into())) };
        let mut o = obj.clone();
        let name = match (meta(&o, "name").filter(|n| !n.is_empty()), meta(&o, "generateName").filter(|n| !n.is_empty())) {
            (Some(n), _) => n,
            (None, Some(prefix)) => s.generate_name(&gr, &ns, &prefix, &r.plural)?,
            (None, None) => {
                return Err(ClusterError::Invalid {
                    resource: r.plural.clone(),
                    name: String::new(),
                    causes: vec![FieldError::required("metadata.name", "name or generateName is required")],
                });
            }
        };
        if let Some(k) = o.get("kind").and_then(Value::as_str)
            && k != kind.res.kind
        {
            return Err(ClusterError::BadRequest(format!("kind {k} does not match the resource {}", r.plural)));
        }
        if kind.res.namespaced {
            if let Some(declared) = meta(&o, "namespace").filter(|d| !d.is_empty())
                && declared != ns
            {
                return Err(ClusterError::BadRequest(format!("the namespace of the object ({declared}) does not match the namespace of the request ({ns})")));
            }
            match s.get(&(String::new(), "namespaces".into()), &(String::new(), ns.clone())) {
                None => return Err(ClusterError::NotFound { resource: "namespaces".into(), name: ns }),
                Some(n) if deleting(n) => {
                    return Err(ClusterError::Forbidden(format!(
                        "{} is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                        object_ref(r, &name)
                    )));
                }
                Some(_) => {}
            }
        }
        let key = (ns.clone(), name.clone());
        o["apiVersion"] = json!(kind.res.api_version());
        o["kind"] = json!(kind.res.kind);
        s.seq += 1;
        let uid = format!("00000000-0000-4000-8000-{:012x}", s.seq);
        let has_spec = o.get("spec").is_some();
        let m = meta_mut(&mut o);
        for k in ["resourceVersion", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "selfLink"] {
            m.remove(k);
        }
        if !matches!(track, Track::Given) {
            m.remove("managedFields");
        }
        m.insert("name".into(), json!(name));
        if kind.res.namespaced {
            m.insert("namespace".into(), json!(ns));
        } else {
            m.remove("namespace");
        }
        m.insert("uid".into(), json!(uid));
        m.insert("creationTimestamp".into(), json!(now));
        if has_spec {
            m.insert("generation".into(), json!(1));
        }
        if kind.status
            && let Some(obj) = o.as_object_mut()
        {
            obj.remove("status");
        }
        if gr.0.is_empty() && gr.1 == "namespaces" {
            o["status"] = json!({"phase": "Active"});
        }
        label_namespace_name(&gr, &mut o);
        validation::fold_string_data(r, &mut o);
        // A custom resource as decoded: unknown fields pruned, defaults applied.
        if let Some(sch) = &kind.schema {
            schema::prune_and_default(sch, &mut o);
        }
        let (manager, operation) = match track {
            Track::Update(m) => (Some(m), fields::Operation::Update),
            Track::Apply(m) => (Some(m), fields::Operation::Apply),
            Track::Keep | Track::Given => (None, fields::Operation::Update),
        };
        if let Some(manager) = manager {
            let api_version = kind.res.api_version();
            let w = Writer { manager, subresource: "", api_version: &api_version, time: now };
            let mut mf = ManagedFields::default();
            let mut set = tracked(&o, &kind, Part::Object)?;
            match operation {
                fields::Operation::Update => mf.update(&w, None, &o, &FieldSet::new(), &set),
                fields::Operation::Apply => {
                    // An apply owns what it sent, not what the server set (the namespace label).
                    set.retain(|p| fields::value_at(obj, p).is_some());
                    mf.apply(&w, set, &[], &mut o)
                }
            }
            mf.store(&mut o);
        }
        let mut errs = validation::on_create(r, &o);
        if let Some(sch) = &kind.schema {
            errs.extend(schema::validate(sch, &o, None));
        }
        if !errs.is_empty() {
            return Err(ClusterError::Invalid { resource: r.plural.clone(), name, causes: errs });
        }
        if s.get(&gr, &key).is_some() {
            return Err(ClusterError::AlreadyExists { resource: r.plural.clone(), name });
        }
        if dry {
            return Ok(o);
        }
        if gr.0.is_empty() && gr.1 == "services" {
            s.allocate_cluster_ip(&mut o);
        }
        let orphaned = s.orphaned(&o, &key.0);
        let created = s.put(&gr, key.clone(), o, true);
        if orphaned {
            // Garbage as it is created: the collector deletes it, after the create answered.
            s.delete_object(&gr, &key, Propagation::Background, now);
            s.collect(now);
        }
        Ok(created)
    }

    fn write(&self, r: &ApiResource, ns: Option<&str>, obj: Value, part: Part, track: Track<'_>, dry: bool) -> Result<Value> {
        let now = self.now();
        Self::write_in(&mut self.store(), &now, r, ns, obj, part, track, dry)
    }

    #[allow(clippy::too_many_arguments)]
    fn write_in(s: &mut Store, now: &str, r: &ApiResource, ns: Option<&str>, obj: Value, part: Part, track: Track<'_>, dry: bool) -> Result<Value> {
        let (gr, kind) = s.kind(r)?;
        let nsk = Store::ns_key(&kind, ns)?;
        let name = meta(&obj, "name").unwrap_or_default();
        let key = (nsk, name.clone());
        let current = s.get(&gr, &key).cloned().ok_or_else(|| ClusterError::NotFound { resource: r.plural.clone(), name: name.clone() })?;
        if let Some(rv) = meta(&obj, "resourceVersion").filter(|v| !v.is_empty())
            && Some(&rv) != meta(&current, "resourceVersion").as_ref()
        {
            return Err(ClusterError::Conflict {
                resource: r.plural.clone(),
                name,
                message: "the object has been modified; please apply your changes to the latest version and try again".into(),
            });
        }
        let mut next = match part {
            Part::Status => {
                let mut n = current.clone();
                match obj.get("status") {
                    Some(st) => n["status"] = st.clone(),
                    None => {
                        if let Some(m) = n.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
                if let Some(sch) = &kind.schema {
                    schema::prune_and_default(sch, &mut n);
                    let errs = schema::validate(sch, &n, Some(&current));
                    if !errs.is_empty() {
                        return Err(ClusterError::Invalid { resource: r.plural.clone(), name, causes: errs });
                    }
                }
                n
            }
            Part::Object => {
                let mut n = obj;
                if let (true, Some(st)) = (kind.status, current.get("status")) {
                    n["status"] = st.clone();
                } else if kind.status
                    && let Some(m) = n.as_object_mut()
                {
                    m.remove("status");
                }
                n["apiVersion"] = json!(kind.res.api_version());
                n["kind"] = json!(kind.res.kind);
                let cm = current.get("metadata").cloned().unwrap_or(json!({}));
                let m = meta_mut(&mut n);
                for k in ["name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"] {
                    match cm.get(k) {
                        Some(v) => m.insert(k.into(), v.clone()),
                        None => m.remove(k),
                    };
                }
                if deleting(&current) {
                    let before: BTreeSet<String> = finalizers(&current).into_iter().collect();
                    if finalizers(&n).iter().any(|f| !before.contains(f)) {
                        return Err(ClusterError::Forbidden(format!(
                            "{} is forbidden: no new finalizers can be added if the object is being deleted",
                            object_ref(r, &name)
                        )));
                    }
                }
                if matches!(kind.res.kind.as_str(), "RoleBinding" | "ClusterRoleBinding") && current.get("roleRef") != n.get("roleRef") {
                    let cause = FieldError::invalid("roleRef", &roleref_shown(n.get("roleRef")), "cannot change roleRef");
                    return Err(ClusterError::Invalid { resource: r.plural.clone(), name, causes: vec![cause] });
                }
                label_namespace_name(&gr, &mut n);
                validation::fold_string_data(r, &mut n);
                validation::keep_allocated(r, &current, &mut n);
                let mut errs = validation::on_update(r, &current, &n);
                if let Some(sch) = &kind.schema {
                    schema::prune_and_default(sch, &mut n);
                    errs.extend(schema::validate(sch, &n, Some(&current)));
                }
                if !errs.is_empty() {
                    return Err(ClusterError::Invalid { resource: r.plural.clone(), name, causes: errs });
                }
                n
            }
        };
        meta_mut(&mut next).insert("resourceVersion".into(), json!(meta(&current, "resourceVersion").unwrap_or_default()));
        // Ownership: what the request sends as managedFields is not taken (the API server keeps
        // a client from rewriting them by accident); an apply has computed them already.
        if !matches!(track, Track::Given) {
            match current.pointer("/metadata/managedFields") {
                Some(mf) => meta_mut(&mut next).insert("managedFields".into(), mf.clone()),
                None => meta_mut(&mut next).remove("managedFields"),
            };
        }
        if let Track::Update(manager) | Track::Apply(manager) = track {
            let api_version = kind.res.api_version();
            let w = Writer { manager, subresource: subresource(part), api_version: &api_version, time: now };
            let mut mf = ManagedFields::of(&current);
            mf.update(&w, Some(&current), &next, &tracked(&current, &kind, part)?, &tracked(&next, &kind, part)?);
            mf.store(&mut next);
        }
        if next == current {
            return Ok(current);
        }
        if part == Part::Object
            && content(&next) != content(&current)
            && let Some(g) = current.pointer("/metadata/generation").and_then(Value::as_i64)
        {
            meta_mut(&mut next).insert("generation".into(), json!(g + 1));
        }
        if dry {
            return Ok(next);
        }
        if deleting(&next) && finalizers(&next).is_empty() {
            s.remove(&gr, &key);
            s.collect(now);
            return Ok(next);
        }
        let out = s.put(&gr, key, next, false);
        if deleting(&out) {
            s.collect(now);
        }
        Ok(out)
    }

    /// Reads, patches and writes under one lock, as the API server applies a patch atomically.
    /// A non-apply patch is an `Update` by `manager`; an apply of a missing object creates it.
    #[allow(clippy::too_many_arguments)]
    fn patch_in(&self, r: &ApiResource, ns: Option<&str>, name: &str, patch: &Patch, part: Part, manager: &str, dry: bool) -> Result<Value> {
        let now = self.now();
        let mut s = self.store();
        let (gr, kind) = s.kind(r)?;
        let key = (Store::ns_key(&kind, ns)?, name.to_string());
        let Some(live) = s.get(&gr, &key).cloned() else {
            return match patch {
                Patch::Apply { field_manager, config, .. } if part == Part::Object => {
                    let mut obj = config.clone();
                    if obj.is_object() {
                        meta_mut(&mut obj).insert("name".into(), json!(name));
                    }
                    Self::create_in(&mut s, r, ns, &obj, &now, Track::Apply(field_manager), dry)
                }
                _ => Err(ClusterError::NotFound { resource: r.plural.clone(), name: name.to_string() }),
            };
        };
        let (doc, track) = match patch {
            Patch::Apply { .. } => (Self::applied_to(&kind, &live, patch, part, &now)?, Track::Given),
            _ => {
                let mut doc = live;
                apply_patch(&mut doc, patch, &kind.res)?;
                (doc, Track::Update(manager))
            }
        };
        if meta(&doc, "name").as_deref() != Some(name) {
            return Err(ClusterError::BadRequest("a patch cannot change metadata.name".into()));
        }
        Self::write_in(&mut s, &now, r, ns, doc, part, track, dry)
    }

    /// `live` after the server-side apply `patch`, with its managedFields: the configuration
    /// merged, the fields the manager no longer applies removed (unless another manager owns
    /// them), its entry recorded. A change of a field another manager owns is refused (409,
    /// [`ClusterError::ApplyConflict`]) unless the apply is forced, which moves the field to it.
    fn applied_to(kind: &Kind, live: &Value, patch: &Patch, part: Part, now: &str) -> Result<Value> {
        let Patch::Apply { field_manager, config, force } = patch else {
            let mut doc = live.clone();
            apply_patch(&mut doc, patch, &kind.res)?;
            return Ok(doc);
        };
        let mut merged = live.clone();
        apply_patch(&mut merged, patch, &kind.res)?;
        let api_version = config.get("apiVersion").and_then(Value::as_str).map_or_else(|| kind.res.api_version(), str::to_string);
        let w = Writer { manager: field_manager, subresource: subresource(part), api_version: &api_version, time: now };
        // The manager owns what it applied and the schema keeps (pruned fields are nobody's).
        let applied = match &kind.schema {
            Some(sch) => {
                let mut kept = config.clone();
                schema::prune(sch, &mut kept);
                tracked(&kept, kind, part)?
            }
            None => tracked(config, kind, part)?,
        };
        let mut mf = ManagedFields::of(live);
        let conflicts = mf.conflicts(&w, &applied, live, &merged);
        if !conflicts.is_empty() && !force {
            return Err(apply_conflict(&kind.res, &meta(live, "name").unwrap_or_default(), &conflicts));
        }
        mf.apply(&w, applied, &conflicts, &mut merged);
        mf.store(&mut merged);
        Ok(merged)
    }

    /// The object a server-side apply would store, computed outside the store (the dev
    /// cluster's admission webhooks and escalation checks see it first); store it with
    /// [`MemCluster::update_applied`].
    pub fn preview_apply(&self, r: &ApiResource, live: &Value, patch: &Patch, status: bool) -> Result<Value> {
        let now = self.now();
        let kind = { self.store().kind(r)?.1 };
        // The request's version: the resource the caller names, which may not be the stored one.
        // Its schema is the stored version's: at another version the configuration is not pruned.
        let schema = kind.schema.filter(|_| kind.res.version == r.version);
        let kind = Kind { res: r.clone(), schema, ..kind };
        Self::applied_to(&kind, live, patch, if status { Part::Status } else { Part::Object }, &now)
    }

    /// Stores an object [`MemCluster::preview_apply`] computed, its managedFields as they are.
    pub fn update_applied(&self, r: &ApiResource, ns: Option<&str>, obj: &Value, status: bool) -> Result<Value> {
        self.writes(false).update_applied(r, ns, obj, status)
    }

    /// CREATE by the field manager `manager` (the dev cluster passes each request's).
    pub fn create_by(&self, r: &ApiResource, ns: Option<&str>, obj: &Value, manager: &str) -> Result<Value> {
        self.writes(false).create_by(r, ns, obj, manager)
    }

    /// CREATE by server-side apply of a missing object, by `manager`.
    pub fn create_applied(&self, r: &ApiResource, ns: Option<&str>, obj: &Value, manager: &str) -> Result<Value> {
        self.writes(false).create_applied(r, ns, obj, manager)
    }

    /// UPDATE (PUT) of the object or (`status`) its status subresource by `manager`.
    pub fn update_by(&self, r: &ApiResource, ns: Option<&str>, obj: &Value, manager: &str, status: bool) -> Result<Value> {
        self.writes(false).update_by(r, ns, obj, manager, status)
    }

    /// PATCH of the object or (`status`) its status subresource; a patch that is not an apply is
    /// an `Update` by `manager`.
    pub fn patch_by(&self, r: &ApiResource, ns: Option<&str>, name: &str, patch: &Patch, manager: &str, status: bool) -> Result<Value> {
        self.writes(false).patch_by(r, ns, name, patch, manager, status)
    }

    fn sync_get(&self, r: &ApiResource, ns: Option<&str>, name: &str) -> Result<Value> {
        let mut s = self.store();
        s.record("get", r, "", ns, Some(name));
        let (gr, kind) = s.kind(r)?;
        let key = (Store::ns_key(&kind, ns)?, name.to_string());
        s.get(&gr, &key).cloned().ok_or_else(|| ClusterError::NotFound { resource: r.plural.clone(), name: name.to_string() })
    }

    fn sync_list(&self, r: &ApiResource, ns: Option<&str>, params: &ListParams) -> Result<ObjectList> {
        let page = self.list_page(r, ns, params, None, None)?;
        Ok(ObjectList { items: page.items, resource_version: page.resource_version })
    }

    fn sync_create(&self, r: &ApiResource, ns: Option<&str>, obj: &Value) -> Result<Value> {
        let now = self.now();
        let mut s = self.store();
        s.record("create", r, "", ns, meta(obj, "name").as_deref());
        Self::create_in(&mut s, r, ns, obj, &now, Track::Update(FIELD_MANAGER), false)
    }

    fn sync_delete(&self, r: &ApiResource, ns: Option<&str>, name: &str, propagation: Propagation) -> Result<()> {
        let now = self.now();
        let mut s = self.store();
        s.record("delete", r, "", ns, Some(name));
        let (gr, kind) = s.kind(r)?;
        let key = (Store::ns_key(&kind, ns)?, name.to_string());
        if s.get(&gr, &key).is_none() {
            return Err(ClusterError::NotFound { resource: r.plural.clone(), name: name.to_string() });
        }
        if gr.0.is_empty() && gr.1 == "namespaces" && validation::IMMORTAL_NAMESPACES.contains(&name) {
            return Err(ClusterError::Forbidden(format!("{} is forbidden: this namespace may not be deleted", object_ref(r, name))));
        }
        s.delete_object(&gr, &key, propagation, &now);
        s.collect(&now);
        Ok(())
    }

    fn sync_watch(&self, r: &ApiResource, ns: Option<&str>, from: u64) -> Result<WatchStream> {
        let mut s = self.store();
        s.record("watch", r, "", ns, None);
        let (gr, _) = s.kind(r)?;
        if from < s.history_floor {
            return Err(ClusterError::Gone(from));
        }
        let (tx, rx) = unbounded_channel();
        let ns = ns.filter(|n| !n.is_empty()).map(str::to_string);
        for (rv, egr, change) in &s.history {
            if *rv > from && *egr == gr && ns.as_ref().is_none_or(|n| meta(change.event.object(), "namespace").as_ref() == Some(n)) {
                let _ = tx.send(change.clone());
            }
        }
        s.watchers.push((gr, ns, tx));
        Ok(WatchStream::new(rx))
    }
}

impl Cluster for MemCluster {
    fn get(&self, r: &ApiResource, ns: Option<&str>, name: &str) -> impl Future<Output = Result<Value>> + Send {
        ready(self.sync_get(r, ns, name))
    }

    fn list(&self, r: &ApiResource, ns: Option<&str>, params: &ListParams) -> impl Future<Output = Result<ObjectList>> + Send {
        ready(self.sync_list(r, ns, params))
    }

    fn create(&self, r: &ApiResource, ns: Option<&str>, obj: &Value) -> impl Future<Output = Result<Value>> + Send {
        ready(self.sync_create(r, ns, obj))
    }

    fn update(&self, r: &ApiResource, ns: Option<&str>, obj: &Value) -> impl Future<Output = Result<Value>> + Send {
        ready(self.update_by(r, ns, obj, FIELD_MANAGER, false))
    }

    fn patch(&self, r: &ApiResource, ns: Option<&str>, name: &str, patch: &Patch) -> impl Future<Output = Result<Value>> + Send {
        ready(self.patch_by(r, ns, name, patch, FIELD_MANAGER, false))
    }

    fn update_status(&self, r: &ApiResource, ns: Option<&str>, obj: &Value) -> impl Future<Output = Result<Value>> + Send {
        ready(self.update_by(r, ns, obj, FIELD_MANAGER, true))
    }

    fn patch_status(&self, r: &ApiResource, ns: Option<&str>, name: &str, patch: &Patch) -> impl Future<Output = Result<Value>> + Send {
        ready(self.patch_by(r, ns, name, patch, FIELD_MANAGER, true))
    }

    fn delete(&self, r: &ApiResource, ns: Option<&str>, name: &str, propagation: Propagation) -> impl Future<Output = Result<()>> + Send {
        ready(self.sync_delete(r, ns, name, propagation))
    }

    fn watch(&self, r: &ApiResource, ns: Option<&str>, resource_version: u64) -> impl Future<Output = Result<WatchStream>> + Send {
        ready(self.sync_watch(r, ns, resource_version))
    }
}

/// The writes of one client request, by [`MemCluster::writes`]: stored, or in a dry run computed
/// exactly as they would be stored (the same checks and errors) and answered, nothing kept.
pub struct Writes<'a> {
    cluster: &'a MemCluster,
    dry: bool,
}

impl Writes<'_> {
    /// Stores an object [`MemCluster::preview_apply`] computed, its managedFields as they are.
    pub fn update_applied(&self, r: &ApiResource, ns: Option<&str>, obj: &Value, status: bool) -> Result<Value> {
        let part = if status { Part::Status } else { Part::Object };
        self.cluster.store().record("patch", r, subresource(part), ns, meta(obj, "name").as_deref());
        self.cluster.write(r, ns, obj.clone(), part, Track::Given, self.dry)
    }

    /// CREATE by the field manager `manager`.
    pub fn create_by(&self, r: &ApiResource, ns: Option<&str>, obj: &Value, manager: &str) -> Result<Value> {
        let now = self.cluster.now();
        let mut s = self.cluster.store();
        s.record("create", r, "", ns, meta(obj, "name").as_deref());
        MemCluster::create_in(&mut s, r, ns, obj, &now, Track::Update(manager), self.dry)
    }

    /// CREATE by server-side apply of a missing object, by `manager`.
    pub fn create_applied(&self, r: &ApiResource, ns: Option<&str>, obj: &Value, manager: &str) -> Result<Value> {
        let now = self.cluster.now();
        let mut s = self.cluster.store();
        s.record("patch", r, "", ns, meta(obj, "name").as_deref());
        MemCluster::create_in(&mut s, r, ns, obj, &now, Track::Apply(manager), self.dry)
    }

    /// UPDATE (PUT) of the object or (`status`) its status subresource by `manager`.
    pub fn update_by(&self, r: &ApiResource, ns: Option<&str>, obj: &Value, manager: &str, status: bool) -> Result<Value> {
        let part = if status { Part::Status } else { Part::Object };
        self.cluster.store().record("update", r, subresource(part), ns, meta(obj, "name").as_deref());
        self.cluster.write(r, ns, obj.clone(), part, Track::Update(manager), self.dry)
    }

    /// PATCH of the object or (`status`) its status subresource; a patch that is not an apply is
    /// an `Update` by `manager`.
    pub fn patch_by(&self, r: &ApiResource, ns: Option<&str>, name: &str, patch: &Patch, manager: &str, status: bool) -> Result<Value> {
        let part = if status { Part::Status } else { Part::Object };
        self.cluster.store().record("patch", r, subresource(part), ns, Some(name));
        self.cluster.patch_in(r, ns, name, patch, part, manager, self.dry)
    }
}
