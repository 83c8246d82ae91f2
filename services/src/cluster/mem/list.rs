//! Lists served in pages from one snapshot: the current objects, with every change after the
//! snapshot's resourceVersion undone from the watch history.

use super::{FieldSelector, Key, LabelSelector, MemCluster, meta};
use crate::cluster::{ApiResource, ClusterError, ListParams, Result, WatchEvent};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Where the next page of a list starts: after the object `namespace/name`, in the snapshot
/// at `resource_version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continue {
    /// The resourceVersion the first page was read at.
    pub resource_version: u64,
    /// Namespace of the last object returned ("" for cluster-scoped resources).
    pub namespace: String,
    /// Name of the last object returned.
    pub name: String,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The objects, sorted by namespace then name.
    pub items: Vec<Value>,
    /// The snapshot the page was read at.
    pub resource_version: u64,
    /// Where the next page starts, when there is one.
    pub next: Option<Continue>,
    /// How many matching objects follow this page.
    pub remaining: usize,
}

impl MemCluster {
    /// One page of a list: at most `limit` objects after `after`'s key, as they were at
    /// `after`'s resourceVersion (the snapshot the first page was read at), so objects created,
    /// changed or deleted between pages neither appear, change, nor shift the pages — as the
    /// API server serves pages from one etcd revision. A snapshot older than the kept history is
    /// `Gone` (410).
    pub fn list_page(&self, r: &ApiResource, ns: Option<&str>, params: &ListParams, limit: Option<usize>, after: Option<&Continue>) -> Result<Page> {
        let mut s = self.store();
        s.record("list", r, "", ns, None);
        let (gr, kind) = s.kind(r)?;
        let labels = LabelSelector::parse(params.label_selector.as_deref().unwrap_or_default())?;
        let fields = FieldSelector::parse(r, params.field_selector.as_deref().unwrap_or_default())?;
        let ns = if kind.res.namespaced { ns.filter(|n| !n.is_empty()) } else { None };
        let snapshot = after.map_or(s.rv, |a| a.resource_version);
        if after.is_some() && (snapshot < s.history_floor || snapshot > s.rv) {
            return Err(ClusterError::Gone(snapshot));
        }
        // The smallest label-index set of the selector's equalities (empty when a pair is on no
        // object at all); without an equality, every object of the resource.
        let mut candidates: Option<BTreeSet<Key>> = None;
        for (k, v) in labels.equalities() {
            let set = s.by_label.get(&(gr.clone(), k.to_string(), v.to_string()));
            if candidates.as_ref().is_none_or(|c| set.map_or(0, BTreeSet::len) < c.len()) {
                candidates = Some(set.cloned().unwrap_or_default());
            }
        }
        let empty = BTreeMap::new();
        let objects = s.objects.get(&gr).unwrap_or(&empty);
        // Undo what happened after the snapshot: each changed key goes back to its state then
        // (`Some(None)`: it did not exist; `None`: not known, the current object stands).
        let mut undone: BTreeMap<Key, Option<Option<&Value>>> = BTreeMap::new();
        for (_, _, change) in s.history.iter().filter(|(rv, egr, _)| *rv > snapshot && *egr == gr) {
            let o = change.event.object();
            let key = (if kind.res.namespaced { meta(o, "namespace").unwrap_or_default() } else { String::new() }, meta(o, "name").unwrap_or_default());
            if undone.contains_key(&key) {
                continue;
            }
            let then = match (&change.event, &change.prev) {
                (WatchEvent::Added(_), _) => Some(None),
                (WatchEvent::Modified(_), Some(prev)) => Some(Some(prev)),
                (WatchEvent::Modified(_), None) => None,
                (WatchEvent::Deleted(before), _) => Some(Some(before)),
            };
            undone.insert(key, then);
        }
        // The keys after `after`, in order: the candidates (or every object), and the keys the
        // undo brings back. Only the page's objects are copied.
        let start = after.map(|a| (a.namespace.clone(), a.name.clone()));
        let from = |k: &&Key| start.as_ref().is_none_or(|st| *k > st);
        let base: Box<dyn Iterator<Item = &Key>> = match &candidates {
            Some(keys) => Box::new(keys.iter().filter(from)),
            None => Box::new(objects.keys().filter(from)),
        };
        let mut base = base.peekable();
        let mut extra = undone.keys().filter(from).peekable();
        let keys = std::iter::from_fn(|| match (base.peek(), extra.peek()) {
            (Some(a), Some(b)) if a == b => {
                extra.next();
                base.next()
            }
            (Some(a), Some(b)) if b < a => extra.next(),
            (Some(_), _) => base.next(),
            (None, _) => extra.next(),
        });
        let matching = keys.filter_map(|k| {
            let o = match undone.get(k) {
                Some(Some(then)) => (*then)?,
                _ => objects.get(k)?,
            };
            (ns.is_none_or(|n| n == k.0) && labels.matches(o) && fields.matches(o)).then_some((k, o))
        });
        let limit = limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
        let mut items = Vec::new();
        let mut last = None;
        let mut remaining = 0;
        for (k, o) in matching {
            if items.len() < limit {
                last = Some(k.clone());
                items.push(o.clone());
            } else {
                remaining += 1;
            }
        }
        let next = match last {
            Some((namespace, name)) if remaining > 0 => Some(Continue { resource_version: snapshot, namespace, name }),
            _ => None,
        };
        Ok(Page { items, resource_version: snapshot, next, remaining })
    }
}
