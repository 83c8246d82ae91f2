//! Watch-fed copies of what a reconciler reads, and the [`Cluster`] view that answers reads from
//! them (docs/runtime.md "Caches"), as client-go's informers and controller-runtime's cached
//! client do.
//!
//! A [`Cache`] holds one [`Store`] per cached resource. Whoever runs the watches feeds them:
//! the runtime's OperatorBox from its CR, children and `observe.cross` watches, `ork simulate`
//! from [`MemCluster`](super::MemCluster) watches drained before each cycle. [`Cached`] is the
//! [`Cluster`] the reconciler is given:
//!
//! - `get` and `list` of a cached resource whose store is synced (its first list is in) are
//!   answered from the store, without a request; anything else goes to the API server;
//! - a write goes to the API server and its answer — the object as stored now — replaces the
//!   store's copy at once (write-through), so the next read sees the reconciler's own write
//!   without listing again;
//! - expectations: the watch event a write causes is recognised as the write's echo (the
//!   resourceVersion of the write's answer) and reported as [`Seen::Echo`], so a box's own
//!   creates and patches do not queue its CR again; every other event of the object between
//!   the write's start and its echo is a change the writer did not see, [`Seen::News`]. An
//!   event that arrives while the write is still in flight is held until the answer comes;
//!   when it was not the echo, [`Cached::foreign_change`] tells the caller to reconcile again.

use super::{ApiResource, Cluster, ClusterError, LabelSelector, ListParams, ObjectList, Patch, Propagation, Result, WatchStream, object_name};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// (namespace, name); namespace "" for cluster-scoped objects.
type Key = (String, String);

/// What a watch event told a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// A change the store did not know: whoever depends on the object should look again.
    News,
    /// A change of the object's status alone (its spec, metadata and everything else are as
    /// the store had them): news only for whoever reads the status.
    Status,
    /// The echo of a write the store already holds (or an event older than its copy, or one
    /// that arrived while a write of the object was in flight: the write's end decides).
    Echo,
}

fn resource_version(obj: &Value) -> Option<u64> {
    obj.pointer("/metadata/resourceVersion").and_then(Value::as_str).and_then(|s| s.parse().ok())
}

fn key_of(obj: &Value) -> Key {
    let (ns, name) = object_name(obj);
    (ns.to_string(), name.to_string())
}

/// What a store expects of the watch after writes of one object: writes still in flight, the
/// resourceVersions events brought meanwhile, and the echo (the last answer's resourceVersion)
/// not seen yet.
#[derive(Debug, Default)]
struct Expectation {
    inflight: u32,
    early: Vec<Option<u64>>,
    echo: Option<u64>,
}

/// One cached object, kept as compact JSON — a `serde_json::Value` takes several times the
/// object's size, hundreds of MiB at 10,000 CRs (BENCHMARKS.md, "Peers") — with what reads need
/// without parsing it: its resourceVersion and its labels. The status is kept apart from the
/// rest, so that a change of the status alone is told from any other without parsing.
#[derive(Debug)]
struct Entry {
    /// The object without `status`, `metadata.managedFields` and (when it is a number, kept in
    /// `rv`) `metadata.resourceVersion`.
    json: Box<str>,
    status: Option<Box<str>>,
    rv: Option<u64>,
    /// A hash of `json`: equal shapes, equal objects but for their status.
    shape: u64,
    /// Its labels, sorted by key: what selectors and the index read.
    labels: Box<[(Box<str>, Box<str>)]>,
}

impl Entry {
    /// `obj` without `metadata.managedFields` (no reconcile reads it: the API server decides
    /// apply conflicts, and it is often the larger part of an object), written without
    /// copying `obj`.
    fn new(obj: &Value) -> Entry {
        let rv = resource_version(obj);
        let status = obj.get("status").map(|s| s.to_string().into_boxed_str());
        let mut labels: Vec<(Box<str>, Box<str>)> = obj
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .map(|m| m.iter().filter_map(|(k, v)| Some((k.as_str().into(), v.as_str()?.into()))).collect())
            .unwrap_or_default();
        labels.sort_unstable();
        let labels = labels.into_boxed_slice();
        let json = serde_json::to_string(&Stripped { obj, rv: rv.is_some() }).unwrap_or_default().into_boxed_str();
        let shape = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            json.hash(&mut h);
            h.finish()
        };
        Entry { json, status, rv, shape, labels }
    }

    /// The value of its label `key`.
    fn label(&self, key: &str) -> Option<&str> {
        self.labels.binary_search_by(|(k, _)| (**k).cmp(key)).ok().map(|i| &*self.labels[i].1)
    }

    /// The object (it was written from a `Value`, so it parses).
    fn value(&self) -> Value {
        let mut obj: Value = serde_json::from_str(&self.json).unwrap_or_default();
        if let Some(rv) = self.rv
            && let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut)
        {
            meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
        }
        if let (Some(status), Some(o)) = (&self.status, obj.as_object_mut()) {
            o.insert("status".into(), serde_json::from_str(status).unwrap_or_default());
        }
        obj
    }
}

/// An object as an [`Entry`] keeps it: without `status`, `metadata.managedFields` and (`rv`:
/// kept apart) `metadata.resourceVersion`.
struct Stripped<'a> {
    obj: &'a Value,
    rv: bool,
}

impl serde::Serialize for Stripped<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let Some(fields) = self.obj.as_object() else { return self.obj.serialize(s) };
        let mut map = s.serialize_map(None)?;
        for (k, v) in fields {
            match (k.as_str(), v.as_object()) {
                ("status", _) => {}
                ("metadata", Some(meta)) => map.serialize_entry(k, &MetaView { meta, rv: self.rv })?,
                _ => map.serialize_entry(k, v)?,
            }
        }
        map.end()
    }
}

/// `metadata` without `managedFields` and (`rv`) `resourceVersion`.
struct MetaView<'a> {
    meta: &'a serde_json::Map<String, Value>,
    rv: bool,
}

impl serde::Serialize for MetaView<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        for (k, v) in self.meta {
            if k != "managedFields" && !(self.rv && k == "resourceVersion") {
                map.serialize_entry(k, v)?;
            }
        }
        map.end()
    }
}

#[derive(Debug, Default)]
struct State {
    synced: bool,
    objects: BTreeMap<Key, Entry>,
    /// The objects of a relist in progress (`None`: none is).
    relist: Option<BTreeMap<Key, Entry>>,
    expect: HashMap<Key, Expectation>,
    /// The label keys indexed (a list selecting `key=value` on one of them reads only the
    /// objects carrying it: a CR's children among every child of its kind).
    index_keys: Vec<String>,
    /// (label key, value) → the objects carrying it.
    index: HashMap<(String, String), BTreeSet<Key>>,
}

impl State {
    fn unindex(&mut self, key: &Key, entry: &Entry) {
        for k in &self.index_keys {
            if let Some(v) = entry.label(k)
                && let Some(set) = self.index.get_mut(&(k.clone(), v.to_string()))
            {
                set.remove(key);
                if set.is_empty() {
                    self.index.remove(&(k.clone(), v.to_string()));
                }
            }
        }
    }

    /// Stores `entry` under `key`, keeping the index in step.
    fn put_entry(&mut self, key: Key, entry: Entry) {
        if let Some(old) = self.objects.remove(&key) {
            self.unindex(&key, &old);
        }
        for k in &self.index_keys {
            if let Some(v) = entry.label(k) {
                self.index.entry((k.clone(), v.to_string())).or_default().insert(key.clone());
            }
        }
        self.objects.insert(key, entry);
    }

    /// Forgets the object under `key`.
    fn take(&mut self, key: &Key) {
        if let Some(old) = self.objects.remove(key) {
            self.unindex(key, &old);
        }
    }

    /// Whether an object at `rv` is newer than the store's copy of `key` (or there is none).
    fn newer(&self, key: &Key, rv: Option<u64>) -> bool {
        match (self.objects.get(key).and_then(|e| e.rv), rv) {
            (Some(have), Some(got)) => got > have,
            _ => true,
        }
    }

    /// Keeps `obj` unless the store holds a newer copy.
    fn keep(&mut self, key: Key, obj: &Value) {
        if self.newer(&key, resource_version(obj)) {
            self.put_entry(key, Entry::new(obj));
        }
    }

    fn keep_entry(&mut self, key: Key, entry: Entry) {
        if self.newer(&key, entry.rv) {
            self.put_entry(key, entry);
        }
    }

    /// What `entry` tells of a change, against the store's copy: [`Seen::Status`] when only
    /// the status differs.
    fn news(&self, key: &Key, entry: &Entry) -> Seen {
        if self.objects.get(key).is_some_and(|old| old.shape == entry.shape) { Seen::Status } else { Seen::News }
    }
}

/// The cached objects of one resource.
#[derive(Debug, Default)]
pub struct Store {
    state: Mutex<State>,
}

impl Store {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the first list is in (reads may be answered from the store).
    pub fn synced(&self) -> bool {
        self.state().synced
    }

    /// A (re)list begins: the objects it brings replace the store's when it is done.
    pub fn begin_list(&self) {
        self.state().relist = Some(BTreeMap::new());
    }

    /// One object of the list in progress.
    pub fn listed(&self, obj: Value) {
        let mut s = self.state();
        let key = key_of(&obj);
        match s.relist.as_mut() {
            Some(r) => {
                r.insert(key, Entry::new(&obj));
            }
            None => s.keep(key, &obj),
        }
    }

    /// The list is complete: the store holds exactly what it brought (copies a write left that
    /// are newer than the list's stay), and it is synced. Echoes still awaited may never come
    /// (the watch restarted): they are forgotten.
    pub fn end_list(&self) {
        let mut s = self.state();
        if let Some(fresh) = s.relist.take() {
            let old = std::mem::take(&mut s.objects);
            s.index.clear();
            for (k, e) in fresh {
                s.put_entry(k, e);
            }
            for (k, e) in old {
                if s.objects.get(&k).is_some_and(|listed| e.rv.is_some() && e.rv > listed.rv) {
                    s.put_entry(k, e);
                }
            }
        }
        s.expect.retain(|_, x| x.inflight > 0);
        s.synced = true;
    }

    /// An object was added or modified: news, unless it is the echo of a write (or older than
    /// the store's copy); [`Seen::Status`] when only its status changed. Every event of an
    /// object that arrives between a write's start and its echo, other than the echo, is a
    /// change the writer did not see: news.
    pub fn applied(&self, obj: Value) -> Seen {
        let (key, rv) = (key_of(&obj), resource_version(&obj));
        self.applied_lazily(key, rv, move || obj)
    }

    /// [`Store::applied`] of the object `key` at `rv`, whose content `obj` gives when it is
    /// needed: never for an echo (most of a controller's events), so it need not be decoded.
    pub fn applied_lazily(&self, key: (String, String), rv: Option<u64>, obj: impl FnOnce() -> Value) -> Seen {
        let mut s = self.state();
        if let Some(x) = s.expect.get_mut(&key) {
            if x.inflight > 0 {
                // The write's answer decides (`end_write`).
                x.early.push(rv);
                if s.newer(&key, rv) {
                    s.put_entry(key, Entry::new(&obj()));
                }
                return Seen::Echo;
            }
            if rv.is_some() && rv == x.echo {
                // The store holds the write's answer already: nothing to copy.
                s.expect.remove(&key);
                return Seen::Echo;
            }
            if rv.is_none() || rv > x.echo {
                // Past the echo (which a restarted watch skipped).
                s.expect.remove(&key);
            }
            let entry = Entry::new(&obj());
            let seen = s.news(&key, &entry);
            s.keep_entry(key, entry);
            return seen;
        }
        if rv.is_some() && s.objects.get(&key).and_then(|e| e.rv) >= rv {
            return Seen::Echo;
        }
        let entry = Entry::new(&obj());
        let seen = s.news(&key, &entry);
        s.put_entry(key, entry);
        seen
    }

    /// An object was deleted.
    pub fn deleted(&self, obj: &Value) -> Seen {
        let mut s = self.state();
        let key = key_of(obj);
        match (s.objects.get(&key).and_then(|e| e.rv), resource_version(obj)) {
            // A copy newer than the deletion (re-created meanwhile) stays.
            (Some(have), Some(gone)) if have > gone => Seen::Echo,
            _ => {
                s.take(&key);
                s.expect.remove(&key);
                Seen::News
            }
        }
    }

    /// The object `ns/name`, if the store has it. Before the store is synced, the pages of its
    /// first list read so far count too: a reconcile of a CR the list brought can start before
    /// the list has ended.
    pub fn get(&self, ns: &str, name: &str) -> Option<Value> {
        let s = self.state();
        let key = (ns.to_string(), name.to_string());
        let listing = s.relist.as_ref().filter(|_| !s.synced);
        s.objects.get(&key).or_else(|| listing?.get(&key)).map(Entry::value)
    }

    /// The objects in `ns` (all when `None`) matching `selector`, sorted by namespace and name.
    pub fn list(&self, ns: Option<&str>, selector: Option<&LabelSelector>) -> Vec<Value> {
        let s = self.state();
        let wanted = |(n, _): &Key, e: &Entry| ns.is_none_or(|w| w == n) && selector.is_none_or(|sel| sel.matches_labels(|k| e.label(k)));
        let indexed = selector.and_then(|sel| sel.equalities().find(|(k, _)| s.index_keys.iter().any(|i| i == k)));
        match indexed {
            Some((k, v)) => match s.index.get(&(k.to_string(), v.to_string())) {
                Some(keys) => keys.iter().filter_map(|key| s.objects.get(key).filter(|e| wanted(key, e)).map(Entry::value)).collect(),
                None => Vec::new(),
            },
            None => s.objects.iter().filter(|(key, e)| wanted(key, e)).map(|(_, e)| e.value()).collect(),
        }
    }

    /// How many objects the store holds.
    pub fn len(&self) -> usize {
        self.state().objects.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn begin_write(&self, key: &Key) {
        self.state().expect.entry(key.clone()).or_default().inflight += 1;
    }

    /// A write of `key` ended with the object `answer` (`None`: it failed, or answered
    /// nothing); true when an event that arrived meanwhile was not its echo (someone else
    /// changed the object: the writer should look again).
    fn end_write(&self, key: &Key, answer: Option<&Value>) -> bool {
        let mut s = self.state();
        let wrote = answer.and_then(resource_version);
        let x = s.expect.entry(key.clone()).or_default();
        x.inflight = x.inflight.saturating_sub(1);
        let foreign = x.early.iter().any(|rv| wrote.is_none() || *rv != wrote);
        let echoed = wrote.is_some() && x.early.contains(&wrote);
        x.early.clear();
        if wrote.is_some() && !echoed {
            x.echo = wrote;
        }
        if x.inflight == 0 && x.echo.is_none_or(|_| echoed) {
            s.expect.remove(key);
        }
        if let Some(a) = answer {
            s.keep(key.clone(), a);
        }
        foreign
    }
}

/// The stores of the resources a reconciler reads.
#[derive(Debug, Default)]
pub struct Cache {
    stores: HashMap<(String, String), Store>,
}

impl Cache {
    /// A cache of `resources` (duplicates count once), none synced yet, whose stores index the
    /// objects by the labels `index` (what lists select on).
    pub fn new<'r>(resources: impl IntoIterator<Item = &'r ApiResource>, index: &[&str]) -> Cache {
        let store = || Store { state: Mutex::new(State { index_keys: index.iter().map(|k| k.to_string()).collect(), ..State::default() }) };
        Cache { stores: resources.into_iter().map(|r| ((r.group.clone(), r.plural.clone()), store())).collect() }
    }

    /// The store of `r`, when it is cached.
    pub fn store(&self, r: &ApiResource) -> Option<&Store> {
        self.stores.get(&(r.group.clone(), r.plural.clone()))
    }

    /// Whether every store is synced.
    pub fn synced(&self) -> bool {
        self.stores.values().all(Store::synced)
    }

    fn ready(&self, r: &ApiResource) -> Option<&Store> {
        self.store(r).filter(|s| s.synced())
    }
}

/// The [`Cluster`] a reconciler is given: reads from `cache`, writes to `inner` (module docs).
pub struct Cached<'a, C> {
    inner: &'a C,
    cache: &'a Cache,
    foreign: AtomicBool,
}

impl<'a, C: Cluster> Cached<'a, C> {
    /// `inner` read through `cache`.
    pub fn new(inner: &'a C, cache: &'a Cache) -> Cached<'a, C> {
        Cached { inner, cache, foreign: AtomicBool::new(false) }
    }

    /// Whether an object this view wrote was changed by someone else while the write was in
    /// flight (its watch event was newer than the write's answer): reconcile again.
    pub fn foreign_change(&self) -> bool {
        self.foreign.load(Ordering::Relaxed)
    }

    /// Runs the write `call` of the object `key` of `r`, keeping the store in step.
    async fn write<F: Future<Output = Result<Value>>>(&self, r: &ApiResource, key: Option<Key>, call: F) -> Result<Value> {
        let (Some(store), Some(key)) = (self.cache.store(r), key) else {
            let out = call.await;
            if let (Ok(obj), Some(store)) = (&out, self.cache.store(r)) {
                // A generated name: known only now.
                store.end_write(&key_of(obj), Some(obj));
            }
            return out;
        };
        store.begin_write(&key);
        let out = call.await;
        if store.end_write(&key, out.as_ref().ok()) {
            self.foreign.store(true, Ordering::Relaxed);
        }
        out
    }
}

fn named(ns: Option<&str>, name: &str) -> Option<Key> {
    (!name.is_empty()).then(|| (ns.unwrap_or_default().to_string(), name.to_string()))
}

impl<C: Cluster> Cluster for Cached<'_, C> {
    async fn get(&self, r: &ApiResource, ns: Option<&str>, name: &str) -> Result<Value> {
        let Some(store) = self.cache.store(r) else { return self.inner.get(r, ns, name).await };
        match store.get(if r.namespaced { ns.unwrap_or_default() } else { "" }, name) {
            Some(obj) => Ok(obj),
            // Not synced yet: only the API server can say the object is not there.
            None if !store.synced() => self.inner.get(r, ns, name).await,
            None => Err(ClusterError::NotFound { resource: r.plural.clone(), name: name.to_string() }),
        }
    }

    async fn list(&self, r: &ApiResource, ns: Option<&str>, params: &ListParams) -> Result<ObjectList> {
        // Field selectors are left to the API server (the reconciler sends none).
        match self.cache.ready(r).filter(|_| params.field_selector.is_none()) {
            Some(store) => {
                let selector = params.label_selector.as_deref().map(LabelSelector::parse).transpose()?;
                let items = store.list(ns.filter(|_| r.namespaced), selector.as_ref());
                let resource_version = items.iter().filter_map(resource_version).max().unwrap_or(0);
                Ok(ObjectList { items, resource_version })
            }
            None => self.inner.list(r, ns, params).await,
        }
    }

    fn create(&self, r: &ApiResource, ns: Option<&str>, obj: &Value) -> impl Future<Output = Result<Value>> + Send {
        let key = named(ns.filter(|_| r.namespaced), object_name(obj).1);
        self.write(r, key, self.inner.create(r, ns, obj))
    }

    fn update(&self, r: &ApiResource, ns: Option<&str>, obj: &Value) -> impl Future<Output = Result<Value>> + Send {
        let key = named(ns.filter(|_| r.namespaced), object_name(obj).1);
        self.write(r, key, self.inner.update(r, ns, obj))
    }

    fn patch(&self, r: &ApiResource, ns: Option<&str>, name: &str, patch: &Patch) -> impl Future<Output = Result<Value>> + Send {
        self.write(r, named(ns.filter(|_| r.namespaced), name), self.inner.patch(r, ns, name, patch))
    }

    fn update_status(&self, r: &ApiResource, ns: Option<&str>, obj: &Value) -> impl Future<Output = Result<Value>> + Send {
        let key = named(ns.filter(|_| r.namespaced), object_name(obj).1);
        self.write(r, key, self.inner.update_status(r, ns, obj))
    }

    fn patch_status(&self, r: &ApiResource, ns: Option<&str>, name: &str, patch: &Patch) -> impl Future<Output = Result<Value>> + Send {
        self.write(r, named(ns.filter(|_| r.namespaced), name), self.inner.patch_status(r, ns, name, patch))
    }

    async fn delete(&self, r: &ApiResource, ns: Option<&str>, name: &str, propagation: Propagation) -> Result<()> {
        self.inner.delete(r, ns, name, propagation).await?;
        // Whether the object is gone or held (finalizers, foreground deletion) only the API
        // server knows: ask it once, so that what follows (an ordered deletion waiting for
        // the object) reads the truth from the store.
        if let Some(store) = self.cache.store(r) {
            let key = (if r.namespaced { ns.unwrap_or_default() } else { "" }.to_string(), name.to_string());
            match self.inner.get(r, ns, name).await {
                Ok(obj) => store.state().keep(key, &obj),
                Err(e) if e.is_not_found() => store.state().take(&key),
                Err(_) => {}
            }
        }
        Ok(())
    }

    fn watch(&self, r: &ApiResource, ns: Option<&str>, resource_version: u64) -> impl Future<Output = Result<WatchStream>> + Send {
        self.inner.watch(r, ns, resource_version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A ConfigMap whose content differs at each resourceVersion.
    fn cm(name: &str, rv: u64) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default", "resourceVersion": rv.to_string(), "labels": {"app": name}}, "data": {"version": rv.to_string()}})
    }

    fn indexed() -> Store {
        Store { state: Mutex::new(State { index_keys: vec!["app".into()], ..State::default() }) }
    }

    #[test]
    fn a_writes_echo_is_not_news_and_other_changes_are() {
        let store = indexed();
        store.begin_list();
        store.listed(cm("a", 1));
        store.end_list();
        assert!(store.synced());
        let key = ("default".to_string(), "b".to_string());
        // The answer first, then the echo.
        store.begin_write(&key);
        assert!(!store.end_write(&key, Some(&cm("b", 5))));
        assert_eq!(store.applied(cm("b", 5)), Seen::Echo);
        assert_eq!(store.applied(cm("b", 7)), Seen::News, "someone else's change");
        assert_eq!(store.applied(cm("b", 6)), Seen::Echo, "older than the copy");
        // A change by someone else that happened before the write landed, its event after the
        // answer: the writer did not see it.
        store.begin_write(&key);
        assert!(!store.end_write(&key, Some(&cm("b", 10))));
        assert_eq!(store.applied(cm("b", 9)), Seen::News);
        assert_eq!(store.applied(cm("b", 10)), Seen::Echo);
        assert_eq!(store.get("default", "b").and_then(|o| resource_version(&o)), Some(10));
        // The echo first (while the write is in flight), then the answer.
        let c = ("default".to_string(), "c".to_string());
        store.begin_write(&c);
        assert_eq!(store.applied(cm("c", 9)), Seen::Echo);
        assert!(!store.end_write(&c, Some(&cm("c", 9))), "its own echo");
        assert_eq!(store.applied(cm("c", 14)), Seen::News, "no echo is awaited any more");
        // A change by someone else that overtook the answer.
        store.begin_write(&c);
        assert_eq!(store.applied(cm("c", 16)), Seen::Echo);
        assert!(store.end_write(&c, Some(&cm("c", 15))), "not the write's echo: look again");
        assert_eq!(store.get("default", "c").and_then(|o| resource_version(&o)), Some(16), "the newer copy is kept");
        // A failed write during which an event came.
        store.begin_write(&c);
        assert_eq!(store.applied(cm("c", 17)), Seen::Echo);
        assert!(store.end_write(&c, None));
        assert_eq!(store.deleted(&cm("c", 18)), Seen::News);
        assert!(store.get("default", "c").is_none());
        let sel = |s: &str| LabelSelector::parse(s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.list(Some("default"), Some(&sel("app=a"))).len(), 1, "through the index");
        assert_eq!(store.list(Some("default"), Some(&sel("app=c"))).len(), 0, "c is gone from the index too");
        assert_eq!(store.list(None, Some(&sel("app in (a,b)"))).len(), 2, "without the index");
        assert_eq!(store.list(Some("other"), None).len(), 0);
    }

    #[test]
    fn a_relist_replaces_the_store_but_keeps_newer_written_copies() {
        let store = indexed();
        store.begin_list();
        store.listed(cm("a", 1));
        store.listed(cm("b", 2));
        store.end_list();
        let key = ("default".to_string(), "a".to_string());
        store.begin_write(&key);
        store.end_write(&key, Some(&cm("a", 9)));
        store.begin_list();
        store.listed(cm("a", 3));
        store.end_list();
        assert_eq!(store.get("default", "a").and_then(|o| resource_version(&o)), Some(9));
        assert!(store.get("default", "b").is_none(), "gone while unwatched");
        let sel = LabelSelector::parse("app=b").unwrap_or_else(|e| panic!("{e}"));
        assert!(store.list(None, Some(&sel)).is_empty(), "and from the index");
    }

    #[test]
    fn a_change_of_the_status_alone_is_told_apart_and_reads_back_whole() {
        let store = indexed();
        store.begin_list();
        store.end_list();
        let mut d = cm("d", 3);
        d["spec"] = json!({"replicas": 1});
        assert_eq!(store.applied(d.clone()), Seen::News, "new");
        d["metadata"]["resourceVersion"] = json!("4");
        d["status"] = json!({"readyReplicas": 1});
        assert_eq!(store.applied(d.clone()), Seen::Status);
        assert_eq!(store.get("default", "d"), Some(d.clone()), "status and resourceVersion read back");
        d["metadata"]["resourceVersion"] = json!("5");
        d["metadata"]["labels"]["tier"] = json!("web");
        assert_eq!(store.applied(d.clone()), Seen::News, "a label is more than status");
        d["metadata"]["resourceVersion"] = json!("6");
        d["spec"]["replicas"] = json!(2);
        d["status"] = json!({});
        assert_eq!(store.applied(d.clone()), Seen::News);
        assert_eq!(store.get("default", "d"), Some(d));
    }

    #[test]
    fn the_first_lists_pages_are_read_before_it_ends_and_a_relist_keeps_the_old_copies_meanwhile() {
        let store = indexed();
        store.begin_list();
        store.listed(cm("a", 1));
        assert!(!store.synced());
        assert_eq!(store.get("default", "a").and_then(|o| resource_version(&o)), Some(1), "a page read so far");
        assert!(store.get("default", "b").is_none());
        store.end_list();
        store.begin_list();
        store.listed(cm("b", 2));
        assert!(store.get("default", "b").is_none(), "a relist shows nothing until it is complete");
        assert!(store.get("default", "a").is_some());
        store.end_list();
        assert!(store.get("default", "a").is_none() && store.get("default", "b").is_some());
    }
}
