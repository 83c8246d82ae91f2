//! Server-side apply (`application/apply-patch+yaml`), the merge: the applied configuration is
//! merged into the live object as structured-merge-diff merges two objects — granular maps key
//! by key, atomic maps (`x-kubernetes-map-type: atomic`) and atomic lists (no
//! `x-kubernetes-list-type`) replaced whole, `map` lists element by element by their
//! `x-kubernetes-list-map-keys`, `set` lists as a union — with the schema of
//! [`super::patch_schema`]. Kinds without a schema (custom resources) merge their maps and replace
//! their lists. A `null` removes the field.
//!
//! Ownership is [`super::fields`]: which manager owns which field (`metadata.managedFields`),
//! the conflicts that refuse an apply, and the removal of fields a manager no longer applies;
//! `MemCluster` runs this merge and then that bookkeeping.
//!
//! Order of a merged keyed list (as structured-merge-diff orders it): live-only items stay where
//! they are relative to the items around them, items both lists have follow the applied order,
//! new items come where the applied configuration puts them.

use super::patch_schema::{Field, ListType, Node};
use serde_json::Value;

/// An applied configuration that cannot be merged (400), and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid apply configuration{}: {problem}", if path.is_empty() { String::new() } else { format!(" at {path}") })]
pub(crate) struct ApplyError {
    /// Where: `spec.template.spec.containers`; empty for the root.
    pub(crate) path: String,
    /// What is wrong.
    pub(crate) problem: ApplyProblem,
}

/// What is wrong with an applied configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ApplyProblem {
    /// The configuration is not an object.
    #[error("the applied configuration must be an object")]
    NotAnObject,
    /// An element of a list keyed by fields is not an object.
    #[error("the list is keyed by {0:?}: every element must be an object")]
    ElementNotAnObject(Vec<String>),
    /// Two applied elements have the same key.
    #[error("two elements have the key {0}")]
    Duplicate(String),
}

type Result<T> = std::result::Result<T, ApplyError>;

fn fail<T>(path: &str, problem: ApplyProblem) -> Result<T> {
    Err(ApplyError { path: path.to_string(), problem })
}

/// Merges an applied configuration into `live`, an object of the kind whose schema `root` is.
/// On error `live` is unchanged.
pub(crate) fn apply_configuration(live: &mut Value, config: &Value, root: Node<'_>) -> Result<()> {
    if !config.is_object() {
        return fail("", ApplyProblem::NotAnObject);
    }
    *live = merge(Some(live.clone()), config, None, root, "")?;
    Ok(())
}

fn merge(live: Option<Value>, applied: &Value, field: Option<&Field>, node: Node<'_>, path: &str) -> Result<Value> {
    match (live, applied) {
        (Some(Value::Object(mut live)), Value::Object(applied)) if !node.atomic(field) => {
            for (k, v) in applied {
                let current = live.remove(k);
                if !v.is_null() {
                    let (f, child) = node.field(k);
                    let here = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    live.insert(k.clone(), merge(current, v, f, child, &here)?);
                }
            }
            Ok(Value::Object(live))
        }
        (Some(Value::Array(live)), Value::Array(items)) => match (field.and_then(Field::list_type), field.map(Field::list_map_keys)) {
            (Some(ListType::Map), Some(keys)) if !keys.is_empty() => Ok(Value::Array(merge_keyed(live, items, Some(keys), node, path)?)),
            (Some(ListType::Set), _) => Ok(Value::Array(merge_keyed(live, items, None, node, path)?)),
            _ => Ok(without_nulls(applied.clone())),
        },
        (_, applied) => Ok(without_nulls(applied.clone())),
    }
}

/// Drops `null` map values, at every depth (a `null` means "not set").
fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, without_nulls(v))).collect()),
        Value::Array(a) => Value::Array(a.into_iter().map(without_nulls).collect()),
        v => v,
    }
}

/// The key of a list element: the values of the key fields (`map` lists), or the element itself
/// (`set` lists).
fn key_of(element: &Value, keys: Option<&[String]>, path: &str) -> Result<Value> {
    match keys {
        None => Ok(element.clone()),
        Some(keys) => match element {
            Value::Object(m) => Ok(Value::Array(keys.iter().map(|k| m.get(k).cloned().unwrap_or(Value::Null)).collect())),
            _ => fail(path, ApplyProblem::ElementNotAnObject(keys.to_vec())),
        },
    }
}

/// Merges a keyed (`map` or `set`) list. Walks both lists at once: a live item the configuration
/// does not have is kept where it is; an item both have is emitted when the applied walk reaches
/// it (merged), and the live walk skips ahead to it; new applied items are emitted before the
/// next shared item.
fn merge_keyed(live: Vec<Value>, applied: &[Value], keys: Option<&[String]>, elem: Node<'_>, path: &str) -> Result<Vec<Value>> {
    let live_keys: Vec<Value> = live.iter().map(|e| key_of(e, keys, path)).collect::<Result<_>>()?;
    let applied_keys: Vec<Value> = applied.iter().map(|e| key_of(e, keys, path)).collect::<Result<_>>()?;
    for (j, k) in applied_keys.iter().enumerate() {
        if applied_keys[..j].contains(k) {
            return fail(path, ApplyProblem::Duplicate(k.to_string()));
        }
    }
    let in_applied = |k: &Value| applied_keys.iter().position(|a| a == k);
    // Applied indexes of the items the live list has too, in applied order; `next` is the first
    // of them not emitted yet.
    let shared: Vec<usize> = (0..applied.len()).filter(|j| live_keys.contains(&applied_keys[*j])).collect();
    let mut next = 0;
    let mut live: Vec<Option<Value>> = live.into_iter().map(Some).collect();
    let mut done = vec![false; applied.len()];
    let mut out = Vec::with_capacity(live.len() + applied.len());
    let (mut i, mut j) = (0, 0);
    while i < live.len() || j < applied.len() {
        if i < live.len() {
            match in_applied(&live_keys[i]) {
                None => {
                    out.extend(live[i].take());
                    i += 1;
                    continue;
                }
                Some(a) if done[a] => {
                    i += 1;
                    continue;
                }
                Some(a) if a != j && shared.get(next) != Some(&a) => {
                    // Emitted later, where the applied order puts it.
                    i += 1;
                    continue;
                }
                Some(_) => {}
            }
        }
        if j >= applied.len() {
            // Not reached (a live item still to place is shared, and shared items are emitted
            // before the applied walk ends); kept so no live item can be lost.
            out.extend(live.iter_mut().skip(i).filter_map(Option::take));
            break;
        }
        let current = live.iter_mut().zip(&live_keys).find(|(slot, k)| slot.is_some() && **k == applied_keys[j]).and_then(|(slot, _)| slot.take());
        out.push(merge(current, &applied[j], None, elem, &format!("{path}[{}]", applied_keys[j]))?);
        done[j] = true;
        if shared.get(next) == Some(&j) {
            next += 1;
        }
        j += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::patch_schema::PatchSchema;
    use serde_json::json;

    fn apply(api_version: &str, kind: &str, live: Value, config: Value) -> Result<Value> {
        let schema = PatchSchema::builtin().unwrap_or_else(|e| panic!("{e}"));
        let root = schema.root(api_version, kind).unwrap_or(Node::Unknown);
        let mut doc = live;
        apply_configuration(&mut doc, &config, root)?;
        Ok(doc)
    }

    fn ok(api_version: &str, kind: &str, live: Value, config: Value) -> Value {
        apply(api_version, kind, live, config).unwrap_or_else(|e| panic!("{e}"))
    }

    fn pod(spec: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
    }

    #[test]
    fn map_lists_merge_element_by_element_and_keep_live_only_items() {
        let live = pod(json!({"containers": [
            {"name": "a", "image": "a:1", "args": ["x"], "env": [{"name": "FOO", "value": "1"}, {"name": "BAR", "value": "2"}]},
            {"name": "b", "image": "b:1"}
        ]}));
        let out =
            ok("v1", "Pod", live, json!({"spec": {"containers": [{"name": "a", "image": "a:2", "args": ["y"], "env": [{"name": "BAZ", "value": "3"}]}]}}));
        assert_eq!(
            out["spec"]["containers"],
            json!([
                {"name": "a", "image": "a:2", "args": ["y"], "env": [{"name": "FOO", "value": "1"}, {"name": "BAR", "value": "2"}, {"name": "BAZ", "value": "3"}]},
                {"name": "b", "image": "b:1"}
            ]),
            "args is atomic: replaced; env is a map list: merged"
        );
        // Keyed by two fields: port 80/UDP is another item than port 80/TCP.
        let live = pod(
            json!({"containers": [{"name": "a", "ports": [{"containerPort": 80, "protocol": "TCP", "name": "http"}, {"containerPort": 80, "protocol": "UDP", "name": "dns"}]}]}),
        );
        let out = ok("v1", "Pod", live, json!({"spec": {"containers": [{"name": "a", "ports": [{"containerPort": 80, "protocol": "UDP", "hostPort": 53}]}]}}));
        assert_eq!(
            out["spec"]["containers"][0]["ports"],
            json!([{"containerPort": 80, "protocol": "TCP", "name": "http"}, {"containerPort": 80, "protocol": "UDP", "name": "dns", "hostPort": 53}])
        );
    }

    #[test]
    fn keyed_lists_follow_the_applied_order_for_shared_items() {
        let names = |v: &Value| v["spec"]["containers"].as_array().map(|a| a.iter().map(|c| c["name"].clone()).collect::<Vec<_>>()).unwrap_or_default();
        let live = |list: &[&str]| pod(json!({"containers": list.iter().map(|n| json!({"name": n})).collect::<Vec<_>>()}));
        let config = |list: &[&str]| json!({"spec": {"containers": list.iter().map(|n| json!({"name": n})).collect::<Vec<_>>()}});
        // Live-only x stays after a, its predecessor; b and a follow the applied order.
        assert_eq!(names(&ok("v1", "Pod", live(&["a", "x", "b"]), config(&["b", "a"]))), vec![json!("x"), json!("b"), json!("a")]);
        // A new item comes where the configuration puts it.
        assert_eq!(names(&ok("v1", "Pod", live(&["a", "b"]), config(&["b", "n", "a"]))), vec![json!("b"), json!("n"), json!("a")]);
        assert_eq!(names(&ok("v1", "Pod", live(&["x", "a"]), config(&["n", "a"]))), vec![json!("x"), json!("n"), json!("a")]);
        // Sets (finalizers): a union; the same walk.
        let cm = json!({"metadata": {"name": "c", "finalizers": ["a", "b"]}});
        assert_eq!(ok("v1", "ConfigMap", cm.clone(), json!({"metadata": {"finalizers": ["z"]}}))["metadata"]["finalizers"], json!(["a", "b", "z"]));
        assert_eq!(ok("v1", "ConfigMap", cm, json!({"metadata": {"finalizers": ["c", "a"]}}))["metadata"]["finalizers"], json!(["c", "a", "b"]));
    }

    #[test]
    fn atomic_maps_are_replaced_granular_ones_merge() {
        // A LabelSelector is atomic; nodeSelector is atomic on the field; a PersistentVolume's
        // claimRef is an ObjectReference (atomic) that the field makes granular.
        let deploy = json!({"metadata": {"name": "d", "labels": {"a": "1"}}, "spec": {"selector": {"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "k", "operator": "Exists"}]}}});
        let out = ok("apps/v1", "Deployment", deploy, json!({"metadata": {"labels": {"b": "2"}}, "spec": {"selector": {"matchLabels": {"b": "2"}}}}));
        assert_eq!(out["spec"]["selector"], json!({"matchLabels": {"b": "2"}}));
        assert_eq!(out["metadata"]["labels"], json!({"a": "1", "b": "2"}));
        let out = ok("v1", "Pod", pod(json!({"nodeSelector": {"a": "1"}})), json!({"spec": {"nodeSelector": {"b": "2"}}}));
        assert_eq!(out["spec"]["nodeSelector"], json!({"b": "2"}));
        let pv = json!({"metadata": {"name": "v"}, "spec": {"claimRef": {"name": "c", "namespace": "n"}}});
        let out = ok("v1", "PersistentVolume", pv, json!({"spec": {"claimRef": {"name": "d"}}}));
        assert_eq!(out["spec"]["claimRef"], json!({"name": "d", "namespace": "n"}));
        // An owner reference (atomic) is replaced whole inside its map list (keyed by uid).
        let cm = json!({"metadata": {"name": "c", "ownerReferences": [{"uid": "u", "name": "o", "kind": "K", "controller": true}]}});
        let out = ok("v1", "ConfigMap", cm, json!({"metadata": {"ownerReferences": [{"uid": "u", "name": "o2", "kind": "K"}]}}));
        assert_eq!(out["metadata"]["ownerReferences"], json!([{"uid": "u", "name": "o2", "kind": "K"}]));
    }

    #[test]
    fn null_removes_and_kinds_without_a_schema_merge_maps_and_replace_lists() {
        let cm = json!({"metadata": {"name": "c", "labels": {"a": "1", "b": "2"}}, "data": {"k": "v"}});
        let out = ok("v1", "ConfigMap", cm, json!({"metadata": {"labels": {"a": null}}, "data": {"n": "w"}}));
        assert_eq!(out, json!({"metadata": {"name": "c", "labels": {"b": "2"}}, "data": {"k": "v", "n": "w"}}));
        let cr = json!({"metadata": {"name": "w"}, "spec": {"size": 1, "tags": ["a", "b"], "nested": {"x": 1}}});
        let out = ok("x.dev/v1", "Widget", cr, json!({"spec": {"tags": ["c"], "nested": {"y": 2, "z": null}}}));
        assert_eq!(out["spec"], json!({"size": 1, "tags": ["c"], "nested": {"x": 1, "y": 2}}));
    }

    #[test]
    fn malformed_configurations_are_errors_and_change_nothing() {
        let live = pod(json!({"containers": [{"name": "a"}]}));
        let cases = [
            (json!({"spec": {"containers": ["a"]}}), "spec.containers", ApplyProblem::ElementNotAnObject(vec!["name".into()])),
            (json!({"spec": {"containers": [{"name": "b"}, {"name": "b", "image": "i"}]}}), "spec.containers", ApplyProblem::Duplicate(r#"["b"]"#.into())),
            (json!([]), "", ApplyProblem::NotAnObject),
        ];
        for (config, path, problem) in cases {
            let schema = PatchSchema::builtin().unwrap_or_else(|e| panic!("{e}"));
            let mut doc = live.clone();
            let err = apply_configuration(&mut doc, &config, schema.root("v1", "Pod").unwrap_or(Node::Unknown)).unwrap_err();
            assert_eq!(err, ApplyError { path: path.into(), problem }, "{config}");
            assert_eq!(doc, live);
        }
    }
}
