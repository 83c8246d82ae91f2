//! Field ownership (`metadata.managedFields`), as kube-apiserver's server-side apply keeps it:
//! which field manager set which field, in the `FieldsV1` encoding — `f:<name>` for a field of a
//! map, `k:{"name":"a"}` for an item of a list keyed by fields (keys sorted, compact JSON),
//! `v:<json>` for an item of a set, and `.` for a list item itself when fields under it are
//! listed too.
//!
//! A field set is computed from an object with the schema of [`super::patch_schema`] (the same
//! walk server-side apply merges by): every scalar, every atomic map or list and every empty map
//! is a leaf; every item of a keyed list or a set is a member of its own. Kinds without a schema
//! (custom resources) have granular maps and atomic lists.
//!
//! What a write does to the entries ([`ManagedFields`]): a create, update or non-apply patch
//! gives its manager (operation `Update`) the fields whose value it changed and takes them from
//! every other manager; an apply (operation `Apply`) owns exactly the fields of its
//! configuration, is refused when it changes a field another manager owns (unless forced, which
//! moves the field to it), and removes the fields it applied before and no longer applies when
//! no other manager owns them. Managers are distinct per (manager, operation, subresource).

use super::patch_schema::{Field, ListType, Node};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Step {
    /// A field of a map: `f:<name>`.
    Field(String),
    /// An item of a list keyed by fields: `k:<the key fields as compact JSON, sorted>`.
    Key(String),
    /// An item of a set: `v:<the item as compact JSON>`.
    Value(String),
}

impl Step {
    fn encode(&self) -> String {
        match self {
            Step::Field(n) => format!("f:{n}"),
            Step::Key(k) => format!("k:{k}"),
            Step::Value(v) => format!("v:{v}"),
        }
    }

    fn decode(s: &str) -> Option<Step> {
        let (tag, rest) = s.split_once(':')?;
        match tag {
            "f" => Some(Step::Field(rest.to_string())),
            "k" => Some(Step::Key(rest.to_string())),
            "v" => Some(Step::Value(rest.to_string())),
            _ => None,
        }
    }
}

/// A path from the object's root.
pub(crate) type Path = Vec<Step>;

/// A set of field paths (leaves and list items).
pub(crate) type FieldSet = BTreeSet<Path>;

/// How a path is written in messages and conflict causes: `.spec.replicas`,
/// `.spec.containers[name="a"].image`, `.metadata.finalizers[="f"]`.
pub(crate) fn path_string(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Field(n) => {
                out.push('.');
                out.push_str(n);
            }
            Step::Key(k) => {
                let shown = match serde_json::from_str::<Map<String, Value>>(k) {
                    Ok(m) => m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","),
                    Err(_) => k.clone(),
                };
                out.push_str(&format!("[{shown}]"));
            }
            Step::Value(v) => out.push_str(&format!("[={v}]")),
        }
    }
    out
}

/// The paths of `obj` (an object of the kind whose schema `root` is), with
/// `metadata.managedFields` and the fields the server sets or identifies the object by left
/// out (`apiVersion`, `kind`, `metadata.name`, `namespace`, `uid`, `resourceVersion`,
/// `generation`, `creationTimestamp`, `deletionTimestamp`, `deletionGracePeriodSeconds`,
/// `selfLink`), as the API server strips them before tracking.
pub(crate) fn fields_of(obj: &Value, root: Node<'_>) -> FieldSet {
    let mut out = FieldSet::new();
    let Some(m) = obj.as_object() else { return out };
    for (k, v) in m {
        if v.is_null() || matches!(k.as_str(), "apiVersion" | "kind") {
            continue;
        }
        let (f, child) = root.field(k);
        let mut path = vec![Step::Field(k.clone())];
        if k == "metadata"
            && let Some(meta) = v.as_object()
        {
            for (mk, mv) in meta {
                if mv.is_null() || IGNORED_METADATA.contains(&mk.as_str()) {
                    continue;
                }
                let (mf, mchild) = child.field(mk);
                path.push(Step::Field(mk.clone()));
                walk(mv, mf, mchild, &mut path, &mut out);
                path.pop();
            }
            continue;
        }
        walk(v, f, child, &mut path, &mut out);
    }
    out
}

/// The metadata fields that are not tracked.
const IGNORED_METADATA: &[&str] = &[
    "name",
    "namespace",
    "generateName",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
    "managedFields",
];

fn walk(v: &Value, field: Option<&Field>, node: Node<'_>, path: &mut Path, out: &mut FieldSet) {
    match v {
        Value::Object(m) if !m.is_empty() && !node.atomic(field) => {
            for (k, sub) in m {
                if sub.is_null() {
                    continue;
                }
                let (f, child) = node.field(k);
                path.push(Step::Field(k.clone()));
                walk(sub, f, child, path, out);
                path.pop();
            }
        }
        Value::Array(items) => match (field.and_then(Field::list_type), field.map(Field::list_map_keys)) {
            (Some(ListType::Map), Some(keys)) if !keys.is_empty() => {
                for item in items {
                    let Some(key) = item_key(item, keys) else { continue };
                    path.push(Step::Key(key));
                    out.insert(path.clone());
                    walk(item, None, node, path, out);
                    path.pop();
                }
            }
            (Some(ListType::Set), _) => {
                for item in items {
                    path.push(Step::Value(item.to_string()));
                    out.insert(path.clone());
                    path.pop();
                }
            }
            _ => {
                out.insert(path.clone());
            }
        },
        _ => {
            out.insert(path.clone());
        }
    }
}

/// The key of an item of a list keyed by `keys`: the key fields it has, as compact JSON with
/// sorted keys (`{"containerPort":80,"protocol":"TCP"}`).
fn item_key(item: &Value, keys: &[String]) -> Option<String> {
    let m = item.as_object()?;
    let key: Map<String, Value> = keys.iter().filter_map(|k| m.get(k).map(|v| (k.clone(), v.clone()))).collect();
    Some(Value::Object(key).to_string())
}

/// The value at `path` in `obj`, if there is one.
pub(crate) fn value_at<'v>(obj: &'v Value, path: &[Step]) -> Option<&'v Value> {
    let mut here = obj;
    for step in path {
        here = match (step, here) {
            (Step::Field(n), Value::Object(m)) => m.get(n)?,
            (Step::Key(k), Value::Array(items)) => items.iter().find(|i| key_matches(i, k))?,
            (Step::Value(v), Value::Array(items)) => items.iter().find(|i| is_item(i, v))?,
            _ => return None,
        };
    }
    Some(here)
}

/// Whether a set item is the one `v` (its JSON) names.
fn is_item(item: &Value, v: &str) -> bool {
    serde_json::from_str::<Value>(v).is_ok_and(|want| want == *item)
}

fn key_matches(item: &Value, key: &str) -> bool {
    let Ok(Value::Object(want)) = serde_json::from_str::<Value>(key) else { return false };
    item.as_object().is_some_and(|m| want.iter().all(|(k, v)| m.get(k) == Some(v)) && !want.is_empty())
}

/// Removes the field or list item at `path` from `obj`; maps it leaves empty go too (not the
/// top-level ones). Whether something was removed.
pub(crate) fn remove_at(obj: &mut Value, path: &[Step]) -> bool {
    let Some((last, parent_path)) = path.split_last() else { return false };
    let removed = match (last, value_at_mut(obj, parent_path)) {
        (Step::Field(n), Some(Value::Object(m))) => m.remove(n).is_some(),
        (Step::Key(k), Some(Value::Array(items))) => {
            let before = items.len();
            items.retain(|i| !key_matches(i, k));
            items.len() != before
        }
        (Step::Value(v), Some(Value::Array(items))) => {
            let before = items.len();
            items.retain(|i| !is_item(i, v));
            items.len() != before
        }
        _ => false,
    };
    if removed && parent_path.len() > 1 && value_at(obj, parent_path).is_some_and(|p| p.as_object().is_some_and(Map::is_empty)) {
        remove_at(obj, parent_path);
    }
    removed
}

fn value_at_mut<'v>(obj: &'v mut Value, path: &[Step]) -> Option<&'v mut Value> {
    let mut here = obj;
    for step in path {
        here = match (step, here) {
            (Step::Field(n), Value::Object(m)) => m.get_mut(n)?,
            (Step::Key(k), Value::Array(items)) => items.iter_mut().find(|i| key_matches(i, k))?,
            (Step::Value(v), Value::Array(items)) => items.iter_mut().find(|i| is_item(i, v))?,
            _ => return None,
        };
    }
    Some(here)
}

/// The `fieldsV1` object of a field set.
pub(crate) fn encode(set: &FieldSet) -> Value {
    #[derive(Default)]
    struct Trie(BTreeMap<String, Trie>, bool);
    let mut root = Trie::default();
    for path in set {
        let mut here = &mut root;
        for step in path {
            here = here.0.entry(step.encode()).or_default();
        }
        here.1 = true;
    }
    fn emit(t: &Trie) -> Value {
        let mut m = Map::new();
        if t.1 && !t.0.is_empty() {
            m.insert(".".into(), json!({}));
        }
        for (k, sub) in &t.0 {
            m.insert(k.clone(), emit(sub));
        }
        Value::Object(m)
    }
    emit(&root)
}

/// The field set of a `fieldsV1` object (entries it cannot read are skipped).
pub(crate) fn decode(v: &Value) -> FieldSet {
    fn go(v: &Value, path: &mut Path, out: &mut FieldSet) {
        let Some(m) = v.as_object() else { return };
        if m.is_empty() && !path.is_empty() {
            out.insert(path.clone());
            return;
        }
        for (k, sub) in m {
            if k == "." {
                out.insert(path.clone());
                continue;
            }
            let Some(step) = Step::decode(k) else { continue };
            path.push(step);
            go(sub, path, out);
            path.pop();
        }
    }
    let mut out = FieldSet::new();
    go(v, &mut Vec::new(), &mut out);
    out
}

/// `Apply` or `Update`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    /// Server-side apply.
    Apply,
    /// Create, update, or a patch that is not an apply.
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// One `managedFields` entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) manager: String,
    pub(crate) operation: Operation,
    pub(crate) api_version: String,
    pub(crate) time: String,
    /// "" for the object itself, `status` for the status subresource.
    pub(crate) subresource: String,
    pub(crate) fields: FieldSet,
}

impl Entry {
    fn same_manager(&self, manager: &str, operation: Operation, subresource: &str) -> bool {
        self.manager == manager && self.operation == operation && self.subresource == subresource
    }
}

/// Who is writing: the manager, and where.
#[derive(Debug, Clone)]
pub(crate) struct Writer<'a> {
    pub(crate) manager: &'a str,
    /// "" for the object, `status` for the status subresource.
    pub(crate) subresource: &'a str,
    /// The apiVersion of the request.
    pub(crate) api_version: &'a str,
    /// Now, RFC 3339.
    pub(crate) time: &'a str,
}

/// One field another manager owns that an apply would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Conflict {
    pub(crate) manager: String,
    pub(crate) api_version: String,
    pub(crate) path: Path,
}

/// The entries of an object's `metadata.managedFields`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ManagedFields(pub(crate) Vec<Entry>);

impl ManagedFields {
    /// Reads `metadata.managedFields` (entries it cannot read are skipped).
    pub(crate) fn of(obj: &Value) -> ManagedFields {
        let entries = obj.pointer("/metadata/managedFields").and_then(Value::as_array).cloned().unwrap_or_default();
        ManagedFields(
            entries
                .iter()
                .filter_map(|e| {
                    let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
                    let operation = match e.get("operation").and_then(Value::as_str)? {
                        "Apply" => Operation::Apply,
                        _ => Operation::Update,
                    };
                    Some(Entry {
                        manager: s("manager"),
                        operation,
                        api_version: s("apiVersion"),
                        time: s("time"),
                        subresource: s("subresource"),
                        fields: e.get("fieldsV1").map(decode).unwrap_or_default(),
                    })
                })
                .collect(),
        )
    }

    /// Writes the entries into `obj`'s `metadata.managedFields` (removed when there is none).
    pub(crate) fn store(&self, obj: &mut Value) {
        let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else { return };
        if self.0.is_empty() {
            meta.remove("managedFields");
            return;
        }
        let entries: Vec<Value> = self
            .0
            .iter()
            .map(|e| {
                let mut v = json!({
                    "manager": e.manager, "operation": e.operation.as_str(), "apiVersion": e.api_version,
                    "time": e.time, "fieldsType": "FieldsV1", "fieldsV1": encode(&e.fields),
                });
                if !e.subresource.is_empty() {
                    v["subresource"] = json!(e.subresource);
                }
                v
            })
            .collect();
        meta.insert("managedFields".into(), Value::Array(entries));
    }

    fn entry_mut(&mut self, w: &Writer<'_>, operation: Operation) -> &mut Entry {
        let at = match self.0.iter().position(|e| e.same_manager(w.manager, operation, w.subresource)) {
            Some(i) => i,
            None => {
                self.0.push(Entry {
                    manager: w.manager.to_string(),
                    operation,
                    api_version: w.api_version.to_string(),
                    time: w.time.to_string(),
                    subresource: w.subresource.to_string(),
                    fields: FieldSet::new(),
                });
                self.0.len() - 1
            }
        };
        &mut self.0[at]
    }

    /// A create, update or non-apply patch by `w` that turned `old` (None: a create) into `new`,
    /// whose tracked fields are `old_set` and `new_set`: the writer owns the fields whose value
    /// it changed, the others lose them; fields that are gone are owned by nobody.
    pub(crate) fn update(&mut self, w: &Writer<'_>, old: Option<&Value>, new: &Value, old_set: &FieldSet, new_set: &FieldSet) {
        let changed: FieldSet = new_set
            .iter()
            .filter(|p| {
                let item = matches!(p.last(), Some(Step::Key(_) | Step::Value(_)));
                match old {
                    None => true,
                    Some(old) if item => value_at(old, p).is_none(),
                    Some(old) => value_at(old, p) != value_at(new, p),
                }
            })
            .cloned()
            .collect();
        let gone: FieldSet = old_set.difference(new_set).cloned().collect();
        if changed.is_empty() && gone.is_empty() {
            return;
        }
        for e in &mut self.0 {
            e.fields.retain(|p| !changed.contains(p) && !gone.contains(p));
        }
        if !changed.is_empty() {
            let e = self.entry_mut(w, Operation::Update);
            e.fields.extend(changed);
            e.time = w.time.to_string();
            e.api_version = w.api_version.to_string();
        }
        self.0.retain(|e| !e.fields.is_empty());
    }

    /// The fields of `applied` (the configuration's set) that another manager of the same
    /// subresource owns and that the apply changes (`live` → `merged`).
    pub(crate) fn conflicts(&self, w: &Writer<'_>, applied: &FieldSet, live: &Value, merged: &Value) -> Vec<Conflict> {
        let mut out = Vec::new();
        for e in self.0.iter().filter(|e| !e.same_manager(w.manager, Operation::Apply, w.subresource) && e.subresource == w.subresource) {
            for p in applied.intersection(&e.fields) {
                let item = matches!(p.last(), Some(Step::Key(_) | Step::Value(_)));
                let changes = if item { value_at(live, p).is_none() } else { value_at(live, p) != value_at(merged, p) };
                if changes {
                    out.push(Conflict { manager: e.manager.clone(), api_version: e.api_version.clone(), path: p.clone() });
                }
            }
        }
        out
    }

    /// An apply by `w` of a configuration whose set is `applied`, already merged into `merged`,
    /// after its conflicts were checked (`taken`: the conflicting fields a forced apply moves to
    /// it). Removes from `merged` what `w` applied before and no longer applies, unless another
    /// manager owns it, and records `w`'s entry.
    pub(crate) fn apply(&mut self, w: &Writer<'_>, applied: FieldSet, taken: &[Conflict], merged: &mut Value) {
        for c in taken {
            for e in self.0.iter_mut().filter(|e| e.manager == c.manager && !e.same_manager(w.manager, Operation::Apply, w.subresource)) {
                e.fields.remove(&c.path);
            }
        }
        let before = self.0.iter().find(|e| e.same_manager(w.manager, Operation::Apply, w.subresource)).map(|e| e.fields.clone()).unwrap_or_default();
        let others: FieldSet =
            self.0.iter().filter(|e| !e.same_manager(w.manager, Operation::Apply, w.subresource)).flat_map(|e| e.fields.iter().cloned()).collect();
        // Parents first: a removed list item takes the fields under it along (removing its key
        // fields first would leave an item no key finds).
        for p in before.difference(&applied) {
            if !others.contains(p) && !others.iter().any(|o| o.starts_with(p)) {
                remove_at(merged, p);
            }
        }
        let e = self.entry_mut(w, Operation::Apply);
        e.fields = applied;
        e.time = w.time.to_string();
        e.api_version = w.api_version.to_string();
        self.0.retain(|e| !e.fields.is_empty());
    }
}

/// The API server's message for conflicts: `Apply failed with 1 conflict: conflict with "m"
/// using apps/v1: .spec.replicas`, several grouped by manager, one field a line.
pub(crate) fn conflict_message(conflicts: &[(String, String, String)]) -> String {
    let n = conflicts.len();
    let mut groups: Vec<((&str, &str), Vec<&str>)> = Vec::new();
    for (m, v, f) in conflicts {
        match groups.iter_mut().find(|(k, _)| *k == (m.as_str(), v.as_str())) {
            Some((_, fs)) => fs.push(f),
            None => groups.push(((m, v), vec![f])),
        }
    }
    let using = |v: &str| if v.is_empty() { String::new() } else { format!(" using {v}") };
    let text = if n == 1 {
        let ((m, v), fs) = &groups[0];
        format!("conflict with \"{m}\"{}: {}", using(v), fs[0])
    } else {
        groups
            .iter()
            .map(|((m, v), fs)| {
                let word = if fs.len() == 1 { "conflict" } else { "conflicts" };
                format!("{word} with \"{m}\"{}:\n{}", using(v), fs.iter().map(|f| format!("- {f}")).collect::<Vec<_>>().join("\n"))
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!("Apply failed with {n} conflict{}: {text}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::patch_schema::PatchSchema;

    fn root(api_version: &str, kind: &str) -> Node<'static> {
        PatchSchema::builtin().unwrap_or_else(|e| panic!("{e}")).root(api_version, kind).unwrap_or(Node::Unknown)
    }

    fn w<'a>(manager: &'a str) -> Writer<'a> {
        Writer { manager, subresource: "", api_version: "apps/v1", time: "2026-01-01T00:00:00Z" }
    }

    #[test]
    fn fields_v1_encodes_fields_keyed_items_set_items_and_the_item_itself() {
        let deploy = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "namespace": "n", "uid": "u", "labels": {"app": "web"}, "finalizers": ["a/b"]},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": {"spec": {"containers": [
                {"name": "a", "image": "x", "ports": [{"containerPort": 80, "protocol": "TCP"}], "args": ["-v"]}
            ]}}},
        });
        let set = fields_of(&deploy, root("apps/v1", "Deployment"));
        let v1 = encode(&set);
        assert_eq!(
            v1,
            json!({
                "f:metadata": {"f:labels": {"f:app": {}}, "f:finalizers": {"v:\"a/b\"": {}}},
                "f:spec": {
                    "f:replicas": {},
                    "f:selector": {},
                    "f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"a\"}": {
                        ".": {}, "f:args": {}, "f:image": {}, "f:name": {},
                        "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}, "f:protocol": {}}},
                    }}}},
                },
            }),
            "a LabelSelector is atomic: one leaf; name, namespace, uid, apiVersion and kind are not tracked"
        );
        assert_eq!(decode(&v1), set, "decoding gives the set back");
        let shown: Vec<String> = set.iter().map(|p| path_string(p)).collect();
        assert!(shown.contains(&".spec.template.spec.containers[name=\"a\"].image".to_string()), "{shown:?}");
        assert!(shown.contains(&".metadata.finalizers[=\"a/b\"]".to_string()), "{shown:?}");
        // Custom resources: maps are granular, lists atomic.
        let cr = json!({"spec": {"size": 1, "tags": ["a"], "nested": {"x": {}}}});
        assert_eq!(encode(&fields_of(&cr, Node::Unknown)), json!({"f:spec": {"f:nested": {"f:x": {}}, "f:size": {}, "f:tags": {}}}));
    }

    #[test]
    fn an_apply_conflicts_only_on_fields_another_manager_owns_and_it_changes() {
        let r = root("apps/v1", "Deployment");
        let live = json!({"metadata": {"name": "d"}, "spec": {"replicas": 1, "paused": false}});
        let mut mf = ManagedFields::default();
        mf.update(&w("kubectl-create"), None, &live, &FieldSet::new(), &fields_of(&live, r));
        assert_eq!(mf.0.len(), 1);
        assert_eq!(mf.0[0].operation, Operation::Update);
        // Same value: shared, no conflict.
        let same = json!({"spec": {"replicas": 1}});
        assert!(mf.conflicts(&w("ork"), &fields_of(&same, r), &live, &live).is_empty());
        // Another value: a conflict naming the owner and the field.
        let merged = json!({"metadata": {"name": "d"}, "spec": {"replicas": 3, "paused": false}});
        let c = mf.conflicts(&w("ork"), &fields_of(&json!({"spec": {"replicas": 3}}), r), &live, &merged);
        assert_eq!(c.len(), 1);
        assert_eq!((c[0].manager.as_str(), path_string(&c[0].path).as_str()), ("kubectl-create", ".spec.replicas"));
        assert_eq!(
            conflict_message(&[("kubectl-create".into(), "apps/v1".into(), ".spec.replicas".into())]),
            "Apply failed with 1 conflict: conflict with \"kubectl-create\" using apps/v1: .spec.replicas"
        );
        assert_eq!(
            conflict_message(&[("m".into(), "v1".into(), ".data.a".into()), ("m".into(), "v1".into(), ".data.b".into())]),
            "Apply failed with 2 conflicts: conflicts with \"m\" using v1:\n- .data.a\n- .data.b"
        );
        // Forced: the field moves; the other manager keeps the rest.
        let mut forced = merged.clone();
        mf.apply(&w("ork"), fields_of(&json!({"spec": {"replicas": 3}}), r), &c, &mut forced);
        let by = |m: &str| mf.0.iter().find(|e| e.manager == m).map(|e| e.fields.iter().map(|p| path_string(p)).collect::<Vec<_>>());
        assert_eq!(by("ork"), Some(vec![".spec.replicas".to_string()]));
        assert_eq!(by("kubectl-create"), Some(vec![".spec.paused".to_string()]));
    }

    #[test]
    fn a_re_apply_removes_what_it_no_longer_applies_unless_another_manager_owns_it() {
        let r = root("v1", "ConfigMap");
        let mut obj = json!({"metadata": {"name": "c", "labels": {"a": "1", "b": "2"}}, "data": {"k": "v", "keep": "x"}});
        let mut mf = ManagedFields::default();
        mf.apply(&w("one"), fields_of(&obj, r), &[], &mut obj);
        // `two` co-owns data.keep with the same value.
        mf.apply(&w("two"), fields_of(&json!({"data": {"keep": "x"}}), r), &[], &mut obj);
        let config = json!({"metadata": {"labels": {"a": "1"}}, "data": {"k": "v"}});
        mf.apply(&w("one"), fields_of(&config, r), &[], &mut obj);
        assert_eq!(obj, json!({"metadata": {"name": "c", "labels": {"a": "1"}}, "data": {"k": "v", "keep": "x"}}));
        // An update takes what it changes from everyone and owns nothing it did not change.
        let old = obj.clone();
        let new = json!({"metadata": {"name": "c", "labels": {"a": "2"}}, "data": {"k": "v", "keep": "x"}});
        mf.update(&w("kubectl-edit"), Some(&old), &new, &fields_of(&old, r), &fields_of(&new, r));
        let edit = mf.0.iter().find(|e| e.manager == "kubectl-edit").map(|e| e.fields.clone()).unwrap_or_default();
        assert_eq!(edit.iter().map(|p| path_string(p)).collect::<Vec<_>>(), vec![".metadata.labels.a".to_string()]);
        assert!(mf.0.iter().filter(|e| e.manager != "kubectl-edit").all(|e| !e.fields.iter().any(|p| path_string(p) == ".metadata.labels.a")));
        let mut stored = new.clone();
        mf.store(&mut stored);
        assert_eq!(ManagedFields::of(&stored), mf, "managedFields round-trip");
        assert_eq!(stored.pointer("/metadata/managedFields/0/fieldsType"), Some(&json!("FieldsV1")));
    }

    #[test]
    fn removing_a_keyed_item_removes_it_whole() {
        let r = root("v1", "Pod");
        let mut obj = json!({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}});
        let mut mf = ManagedFields::default();
        mf.apply(&w("m"), fields_of(&obj, r), &[], &mut obj);
        let config = json!({"spec": {"containers": [{"name": "a", "image": "x"}]}});
        mf.apply(&w("m"), fields_of(&config, r), &[], &mut obj);
        assert_eq!(obj, json!({"spec": {"containers": [{"name": "a", "image": "x"}]}}));
    }
}
