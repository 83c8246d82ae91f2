//! Strategic merge patch (`application/strategic-merge-patch+json`), as kube-apiserver applies it
//! to the built-in kinds (the server side of k8s.io/apimachinery/pkg/util/strategicpatch).
//!
//! It is a JSON merge patch (objects merge, `null` removes, values replace) except where the
//! schema ([`super::patch_schema`]) says otherwise: a list with the `merge` strategy merges —
//! primitives as a set, objects by their merge key (`containers` by `name`) — and a field with the
//! `replace` strategy is replaced whole. Lists without a strategy are replaced. And directives:
//!
//! - `$patch: replace` in a map replaces the map by the rest of the patch map; as an element of a
//!   merging list, it replaces the list by the other elements.
//! - `$patch: delete` in a map empties it; as an element of a merging list, it removes the
//!   elements with its merge key.
//! - `$retainKeys: [..]` in a map removes the keys of the object it does not list (and every key
//!   the patch map sets must be listed).
//! - `$setElementOrder/<list>: [..]` orders the merged list: the items it lists in its order, the
//!   others where they were.
//! - `$deleteFromPrimitiveList/<list>: [..]` removes these values from a list of primitives.
//!
//! `$patch: merge` is refused, as by the API server. Directives are never stored: what is left of
//! them inside values taken whole (a new field, a replaced list) is dropped, as decoding into the
//! Go types drops it in the API server.
//!
//! Order of a merged list, as the API server computes it: the items the patch names, in the
//! patch's order (or `$setElementOrder`'s), interleaved with the items only the object has, in
//! their order; an object-only item goes before a patch item when both were in the object and it
//! came first there. A new item therefore comes before the object-only items after it.

use super::patch_schema::{Field, Node, Strategy};
use serde_json::{Map, Value};

const PATCH: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";

/// A strategic merge patch the API server refuses (400), and where in the object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid strategic merge patch{}: {problem}", at(.path))]
pub(crate) struct StrategicPatchError {
    /// Where: `spec.template.spec.containers[name="a"].env`; empty for the root.
    pub(crate) path: String,
    /// What is wrong.
    pub(crate) problem: Problem,
}

fn at(path: &str) -> String {
    if path.is_empty() { String::new() } else { format!(" at {path}") }
}

/// What is wrong with a strategic merge patch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Problem {
    /// The patch is not a JSON object.
    #[error("the patch must be a JSON object")]
    NotAnObject,
    /// `$patch` with a value other than `replace` or `delete`.
    #[error("unknown directive `$patch: {0}` (the API server knows `replace` and `delete`)")]
    UnknownDirective(String),
    /// `$retainKeys` is not a list of field names.
    #[error("`$retainKeys` must be a list of field names")]
    RetainKeysNotAList,
    /// The patch map sets a field its `$retainKeys` does not list.
    #[error("the patch sets `{0}`, which its `$retainKeys` does not list")]
    NotRetained(String),
    /// `$setElementOrder` or `$deleteFromPrimitiveList` without `/<field>`.
    #[error("`{0}` names no field: write `{0}/<field>`")]
    NoField(String),
    /// A directive, or the field it applies to, is not a list.
    #[error("`{0}` must be a list")]
    NotAList(String),
    /// An element of a list merged by key lacks the key.
    #[error("an element has no `{key}`, the merge key of the list: {element}")]
    NoMergeKey {
        /// The merge key.
        key: String,
        /// The element, as JSON.
        element: String,
    },
    /// A list of objects with the `merge` strategy and no merge key.
    #[error("the list has no merge key, so its objects cannot be merged")]
    ListWithoutMergeKey,
    /// The elements of a merged list (object and patch together) differ in type, or are lists.
    #[error("the elements of a merged list must all have one type, and not be lists")]
    MixedList,
    /// The patch list names its items in another order than `$setElementOrder`.
    #[error("the order of the items of `{0}` in the patch does not match `$setElementOrder/{0}`")]
    OrderMismatch(String),
    /// `$deleteFromPrimitiveList` on a list of objects.
    #[error("`$deleteFromPrimitiveList/{0}` applies to lists of primitives; remove objects with `{{\"$patch\": \"delete\", <merge key>: ..}}` elements")]
    DeleteFromObjectList(String),
}

type Result<T> = std::result::Result<T, StrategicPatchError>;

fn fail<T>(path: &str, problem: Problem) -> Result<T> {
    Err(StrategicPatchError { path: path.to_string(), problem })
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() { field.to_string() } else { format!("{path}.{field}") }
}

/// Applies a strategic merge patch to `target`, an object of the kind whose schema `root` is.
/// On error `target` is unchanged.
pub(crate) fn apply_strategic_merge_patch(target: &mut Value, patch: &Value, root: Node<'_>) -> Result<()> {
    let Value::Object(p) = patch else { return fail("", Problem::NotAnObject) };
    let original = target.as_object().cloned().unwrap_or_default();
    let mut merged = Value::Object(merge_map(original, p.clone(), root, "")?);
    strip_directives(&mut merged);
    *target = merged;
    Ok(())
}

fn merge_map(mut original: Map<String, Value>, mut patch: Map<String, Value>, node: Node<'_>, path: &str) -> Result<Map<String, Value>> {
    if let Some(directive) = patch.remove(PATCH) {
        return match directive.as_str() {
            Some("replace") => Ok(patch),
            Some("delete") => Ok(Map::new()),
            _ => fail(path, Problem::UnknownDirective(text(&directive))),
        };
    }
    if let Some(retain) = patch.remove(RETAIN_KEYS) {
        let names: Option<Vec<&str>> = retain.as_array().and_then(|a| a.iter().map(Value::as_str).collect());
        let Some(names) = names else { return fail(path, Problem::RetainKeysNotAList) };
        let unlisted = patch
            .iter()
            .find(|(k, v)| !v.is_null() && !k.starts_with(SET_ELEMENT_ORDER) && !k.starts_with(DELETE_FROM_PRIMITIVE_LIST) && !names.contains(&k.as_str()));
        if let Some((k, _)) = unlisted {
            return fail(path, Problem::NotRetained(k.clone()));
        }
        original.retain(|k, _| names.contains(&k.as_str()));
    }
    set_element_orders(&mut original, &mut patch, node, path)?;
    // Deletions from primitive lists after the other fields, so a list both merged and deleted
    // from loses the deleted values.
    let (deletions, fields): (Vec<_>, Vec<_>) = patch.into_iter().partition(|(k, _)| k.starts_with(DELETE_FROM_PRIMITIVE_LIST));
    for (k, v) in fields {
        merge_field(&mut original, k, v, false, node, path)?;
    }
    for (k, v) in deletions {
        let field = directive_field(&k, DELETE_FROM_PRIMITIVE_LIST, path)?;
        merge_field(&mut original, field, v, true, node, path)?;
    }
    Ok(original)
}

/// `$setElementOrder/containers` → `containers`.
fn directive_field(key: &str, prefix: &str, path: &str) -> Result<String> {
    match key.strip_prefix(prefix).and_then(|rest| rest.strip_prefix('/')) {
        Some(field) if !field.is_empty() => Ok(field.to_string()),
        _ => fail(path, Problem::NoField(prefix.to_string())),
    }
}

/// Merges one field of the patch into the object. `deletion`: the value lists primitives to
/// remove from the field (`$deleteFromPrimitiveList/<field>`).
fn merge_field(original: &mut Map<String, Value>, key: String, value: Value, deletion: bool, node: Node<'_>, path: &str) -> Result<()> {
    if value.is_null() {
        original.remove(&key);
        return Ok(());
    }
    let here = join(path, &key);
    if deletion && !value.is_array() {
        return fail(&here, Problem::NotAList(format!("{DELETE_FROM_PRIMITIVE_LIST}/{key}")));
    }
    let (field, child) = node.field(&key);
    let strategy = field.map_or(Strategy::Default, Field::strategy);
    let next = match (original.remove(&key), value) {
        // A deletion from a list the object does not have (or that is not a list) does nothing.
        (current, _) if deletion && !current.as_ref().is_some_and(Value::is_array) => current,
        (Some(Value::Object(_)), Value::Object(p)) if strategy == Strategy::Replace => Some(Value::Object(p)),
        (Some(Value::Object(o)), Value::Object(p)) => Some(Value::Object(merge_map(o, p, child, &here)?)),
        (Some(Value::Array(o)), Value::Array(p)) if deletion || strategy == Strategy::Merge => {
            Some(Value::Array(merge_list(o, p, field.and_then(Field::merge_key), deletion, child, &here, &key)?))
        }
        (Some(Value::Array(_)), Value::Array(p)) => Some(Value::Array(p)),
        (Some(current), value) if same_type(&current, &value) => Some(value),
        // Missing from the object, or of another type: the patch value, without its nulls and
        // without the maps that carry a `$patch` directive.
        (_, value) => without_directives(without_nulls(value)),
    };
    if let Some(v) = next {
        original.insert(key, v);
    }
    Ok(())
}

fn same_type(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// The value identifying a list element: its merge key, or (primitives) itself.
fn identity<'v>(element: &'v Value, key: Option<&str>, path: &str) -> Result<&'v Value> {
    match key {
        None => Ok(element),
        Some(k) => match element.get(k) {
            Some(v) => Ok(v),
            None => fail(path, Problem::NoMergeKey { key: k.to_string(), element: element.to_string() }),
        },
    }
}

fn identities(list: &[Value], key: Option<&str>, path: &str) -> Result<Vec<Value>> {
    list.iter().map(|e| identity(e, key, path).cloned()).collect()
}

/// Whether the elements of these lists are objects (`None` when there are none); an error when
/// they mix types or are lists.
fn objects(lists: &[&[Value]], path: &str) -> Result<Option<bool>> {
    let mut first: Option<&Value> = None;
    for v in lists.iter().flat_map(|l| l.iter()) {
        match first {
            _ if v.is_array() => return fail(path, Problem::MixedList),
            Some(f) if !same_type(f, v) => return fail(path, Problem::MixedList),
            Some(_) => {}
            None => first = Some(v),
        }
    }
    Ok(first.map(Value::is_object))
}

/// Merges a patch list into a list with the `merge` strategy (or, `deletion`, removes the
/// patch's primitives from it).
fn merge_list(original: Vec<Value>, patch: Vec<Value>, merge_key: Option<&str>, deletion: bool, elem: Node<'_>, path: &str, name: &str) -> Result<Vec<Value>> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    if objects(&[&original, &patch], path)? != Some(true) {
        if deletion {
            return Ok(original.into_iter().filter(|v| !patch.contains(v)).collect());
        }
        let server = original.clone();
        let mut merged: Vec<Value> = Vec::with_capacity(original.len() + patch.len());
        for v in original.into_iter().chain(patch.iter().cloned()) {
            if !merged.contains(&v) {
                merged.push(v);
            }
        }
        return order(merged, &patch, &server, None, path);
    }
    if deletion {
        return fail(path, Problem::DeleteFromObjectList(name.to_string()));
    }
    let Some(key) = merge_key else { return fail(path, Problem::ListWithoutMergeKey) };
    // Directive elements first: deletions by key, and `$patch: replace` (the other elements
    // become the list).
    let mut original = original;
    let mut elements = Vec::with_capacity(patch.len());
    let mut replace = false;
    for element in patch {
        match element.get(PATCH) {
            None => elements.push(element),
            Some(d) if d == "delete" => {
                let gone = identity(&element, Some(key), path)?;
                original.retain(|o| o.get(key) != Some(gone));
            }
            Some(d) if d == "replace" => replace = true,
            Some(d) => return fail(path, Problem::UnknownDirective(text(d))),
        }
    }
    if replace {
        original = std::mem::take(&mut elements);
    }
    let server = identities(&original, Some(key), path)?;
    let wanted = identities(&elements, Some(key), path)?;
    for (element, id) in elements.into_iter().zip(&wanted) {
        let Value::Object(p) = element else { return fail(path, Problem::MixedList) };
        match original.iter().position(|o| o.get(key) == Some(id)) {
            Some(i) => {
                let o = match std::mem::take(&mut original[i]) {
                    Value::Object(o) => o,
                    _ => return fail(path, Problem::MixedList),
                };
                original[i] = Value::Object(merge_map(o, p, elem, &format!("{path}[{key}={id}]"))?);
            }
            None => original.push(Value::Object(p)),
        }
    }
    order(original, &wanted, &server, Some(key), path)
}

/// Orders a merged list: the items whose identity `wanted` lists, in its order, interleaved with
/// the others, in their order in `server` (the identities of the object's list).
fn order(merged: Vec<Value>, wanted: &[Value], server: &[Value], key: Option<&str>, path: &str) -> Result<Vec<Value>> {
    let wanted: Vec<&Value> = wanted.iter().collect();
    let position = |list: &[&Value], id: &Value| list.iter().position(|x| *x == id);
    let server: Vec<&Value> = server.iter().collect();
    let mut named: Vec<(Value, Value)> = Vec::new();
    let mut others: Vec<(Value, Value)> = Vec::new();
    for item in merged {
        let id = identity(&item, key, path)?.clone();
        if position(&wanted, &id).is_some() { named.push((id, item)) } else { others.push((id, item)) }
    }
    named.sort_by_key(|(id, _)| position(&wanted, id).unwrap_or(usize::MAX));
    others.sort_by_key(|(id, _)| position(&server, id).unwrap_or(usize::MAX));
    let mut out = Vec::with_capacity(named.len() + others.len());
    let (mut named, mut others) = (named.into_iter().peekable(), others.into_iter().peekable());
    loop {
        let take_other = match (others.peek(), named.peek()) {
            (Some((o, _)), Some((n, _))) => matches!((position(&server, o), position(&server, n)), (Some(a), Some(b)) if a < b),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_other { others.next() } else { named.next() };
        out.extend(next.map(|(_, item)| item));
    }
    Ok(out)
}

/// Applies the `$setElementOrder/<list>` directives of a patch map (merging each such list with
/// its patch list, which it removes from the patch).
fn set_element_orders(original: &mut Map<String, Value>, patch: &mut Map<String, Value>, node: Node<'_>, path: &str) -> Result<()> {
    let directives: Vec<String> = patch.keys().filter(|k| k.starts_with(SET_ELEMENT_ORDER)).cloned().collect();
    for directive in directives {
        let Some(order_list) = patch.remove(&directive) else { continue };
        let name = directive_field(&directive, SET_ELEMENT_ORDER, path)?;
        let here = join(path, &name);
        let Value::Array(order_list) = order_list else { return fail(&here, Problem::NotAList(directive)) };
        let (field, elem) = node.field(&name);
        let key = field.and_then(Field::merge_key);
        let current = match original.remove(&name) {
            None => None,
            Some(Value::Array(a)) => Some(a),
            Some(_) => return fail(&here, Problem::NotAList(name)),
        };
        let patched = match patch.remove(&name) {
            None => None,
            Some(Value::Array(a)) => Some(a),
            Some(_) => return fail(&here, Problem::NotAList(name)),
        };
        if let Some(p) = &patched {
            check_order(p, &order_list, key, &here, &name)?;
        }
        let none: &[Value] = &[];
        let kind = objects(&[current.as_deref().unwrap_or(none), patched.as_deref().unwrap_or(none)], &here)?;
        let server = identities(current.as_deref().unwrap_or(none), key, &here)?;
        let merged = match (current, patched) {
            (None, None) => continue,
            (Some(c), None) => c,
            (None, Some(p)) => p.into_iter().filter_map(without_directives).collect(),
            (Some(c), Some(p)) if field.is_some_and(|f| f.strategy() == Strategy::Merge) => merge_list(c, p, key, false, elem, &here, &name)?,
            (Some(_), Some(p)) => p,
        };
        let ordered = if kind.is_some() { order(merged, &identities(&order_list, key, &here)?, &server, key, &here)? } else { merged };
        original.insert(name, Value::Array(ordered));
    }
    Ok(())
}

/// Checks that the items of a patch list appear in `$setElementOrder` in the same order.
fn check_order(patch: &[Value], order_list: &[Value], key: Option<&str>, path: &str, name: &str) -> Result<()> {
    let items: Vec<&Value> = patch.iter().filter(|v| key.is_none() || v.get(PATCH).is_none_or(|d| d != "delete")).collect();
    let (mut i, mut j) = (0, 0);
    while i < items.len() && j < order_list.len() {
        if items[i].get(PATCH).is_some() {
            i += 1;
            continue;
        }
        if identity(items[i], key, path)? == identity(&order_list[j], key, path)? {
            i += 1;
        }
        j += 1;
    }
    if i < items.len() && !order_list.is_empty() {
        return fail(path, Problem::OrderMismatch(name.to_string()));
    }
    Ok(())
}

/// Drops `null` map values, at every depth.
fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, without_nulls(v))).collect()),
        Value::Array(a) => Value::Array(a.into_iter().map(without_nulls).collect()),
        v => v,
    }
}

/// Drops, at every depth, the maps carrying `$patch` (`None` when `v` is one).
fn without_directives(v: Value) -> Option<Value> {
    match v {
        Value::Object(m) if m.contains_key(PATCH) => None,
        Value::Object(m) => Some(Value::Object(m.into_iter().filter_map(|(k, v)| Some((k, without_directives(v)?))).collect())),
        Value::Array(a) => Some(Value::Array(a.into_iter().filter_map(without_directives).collect())),
        v => Some(v),
    }
}

fn is_directive(key: &str) -> bool {
    key == PATCH || key == RETAIN_KEYS || key.starts_with(SET_ELEMENT_ORDER) || key.starts_with(DELETE_FROM_PRIMITIVE_LIST)
}

/// Removes every directive key left in the result.
fn strip_directives(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|k, _| !is_directive(k));
            m.values_mut().for_each(strip_directives);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_directives),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::patch_schema::PatchSchema;
    use serde_json::json;

    /// Applies `patch` to `original`, an object of `api_version`/`kind` (the embedded schema).
    fn smp(api_version: &str, kind: &str, original: Value, patch: Value) -> Result<Value> {
        let schema = PatchSchema::builtin().unwrap_or_else(|e| panic!("{e}"));
        let root = schema.root(api_version, kind).unwrap_or_else(|| panic!("{kind} is a built-in"));
        let mut doc = original;
        apply_strategic_merge_patch(&mut doc, &patch, root)?;
        Ok(doc)
    }

    fn ok(api_version: &str, kind: &str, original: Value, patch: Value) -> Value {
        smp(api_version, kind, original, patch).unwrap_or_else(|e| panic!("{e}"))
    }

    fn pod(spec: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
    }

    fn two_containers() -> Value {
        pod(json!({"containers": [
            {"name": "a", "image": "a:1", "args": ["x", "y"], "env": [{"name": "FOO", "value": "1"}, {"name": "BAR", "value": "2"}]},
            {"name": "b", "image": "b:1"}
        ]}))
    }

    #[test]
    fn merge_strategy_lists_merge_by_key_and_new_items_come_first() {
        // `containers` merges by name: a is merged, c is new. The patch names c then a; b, only in
        // the object, stays after a (it came after a in the object), and c, which the object did
        // not have, cannot be compared with b, so it goes first.
        let out = ok("v1", "Pod", two_containers(), json!({"spec": {"containers": [{"name": "c", "image": "c:1"}, {"name": "a", "image": "a:2"}]}}));
        assert_eq!(
            out["spec"]["containers"],
            json!([
                {"name": "c", "image": "c:1"},
                {"name": "a", "image": "a:2", "args": ["x", "y"], "env": [{"name": "FOO", "value": "1"}, {"name": "BAR", "value": "2"}]},
                {"name": "b", "image": "b:1"}
            ])
        );
        // A nested merging list (env, by name) inside a merged element.
        let out = ok("v1", "Pod", two_containers(), json!({"spec": {"containers": [{"name": "a", "env": [{"name": "BAR", "value": "3"}]}]}}));
        assert_eq!(out["spec"]["containers"][0]["env"], json!([{"name": "FOO", "value": "1"}, {"name": "BAR", "value": "3"}]));
        // A merging list of primitives (finalizers) is a union, in the same order rule.
        let cm = json!({"metadata": {"name": "c", "finalizers": ["x", "y"]}});
        assert_eq!(ok("v1", "ConfigMap", cm.clone(), json!({"metadata": {"finalizers": ["z", "x"]}}))["metadata"]["finalizers"], json!(["z", "x", "y"]));
        assert_eq!(ok("v1", "ConfigMap", cm, json!({"metadata": {"finalizers": ["y"]}}))["metadata"]["finalizers"], json!(["x", "y"]));
    }

    #[test]
    fn lists_without_a_strategy_are_replaced_and_maps_merge_as_in_a_merge_patch() {
        let out = ok(
            "v1",
            "Pod",
            two_containers(),
            json!({"metadata": {"labels": {"new": "1"}}, "spec": {"containers": [{"name": "a", "args": ["z"], "image": null}], "tolerations": [{"key": "k"}]}}),
        );
        assert_eq!(out["metadata"], json!({"name": "p", "labels": {"new": "1"}}));
        let a = &out["spec"]["containers"][0];
        assert_eq!((&a["args"], a.get("image")), (&json!(["z"]), None), "args has no strategy: replaced; null removes");
        assert_eq!(out["spec"]["tolerations"], json!([{"key": "k"}]));
        // Fields the schema does not know merge like a merge patch.
        let out = ok("v1", "Pod", pod(json!({"extra": {"a": 1, "l": [1, 2]}})), json!({"spec": {"extra": {"b": 2, "l": [3]}}}));
        assert_eq!(out["spec"]["extra"], json!({"a": 1, "b": 2, "l": [3]}));
        // A value of another type replaces; nulls inside a new value are dropped.
        let out = ok("v1", "Pod", pod(json!({"hostname": 5})), json!({"spec": {"hostname": "h", "dnsConfig": {"nameservers": ["1.1.1.1"], "options": null}}}));
        assert_eq!(out["spec"], json!({"hostname": "h", "dnsConfig": {"nameservers": ["1.1.1.1"]}}));
    }

    #[test]
    fn delete_directive_removes_list_elements_and_empties_maps() {
        let out = ok("v1", "Pod", two_containers(), json!({"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}));
        assert_eq!(out["spec"]["containers"], json!([{"name": "b", "image": "b:1"}]));
        let out = ok("v1", "Pod", two_containers(), json!({"spec": {"containers": [{"name": "a", "env": [{"name": "FOO", "$patch": "delete"}]}]}}));
        assert_eq!(out["spec"]["containers"][0]["env"], json!([{"name": "BAR", "value": "2"}]));
        // Deleting what is not there changes nothing.
        let out = ok("v1", "Pod", two_containers(), json!({"spec": {"containers": [{"name": "zz", "$patch": "delete"}]}}));
        assert_eq!(out, two_containers());
        let out = ok("v1", "Pod", two_containers(), json!({"spec": {"$patch": "delete"}}));
        assert_eq!(out["spec"], json!({}));
        let err = smp("v1", "Pod", two_containers(), json!({"spec": {"containers": [{"$patch": "delete", "image": "a:1"}]}})).unwrap_err();
        assert_eq!(err.path, "spec.containers");
        assert!(matches!(&err.problem, Problem::NoMergeKey { key, .. } if key == "name"), "{err}");
    }

    #[test]
    fn replace_directive_replaces_a_map_or_a_list() {
        let cm = json!({"metadata": {"name": "c", "labels": {"a": "1", "b": "2"}}});
        let out = ok("v1", "ConfigMap", cm, json!({"metadata": {"labels": {"$patch": "replace", "only": "this"}}}));
        assert_eq!(out["metadata"]["labels"], json!({"only": "this"}));
        let out = ok("v1", "Pod", two_containers(), json!({"spec": {"containers": [{"$patch": "replace"}, {"name": "c", "image": "c:1"}]}}));
        assert_eq!(out["spec"]["containers"], json!([{"name": "c", "image": "c:1"}]));
        // A whole object replaced from the root.
        let out = ok("v1", "Pod", two_containers(), json!({"$patch": "replace", "metadata": {"name": "p"}}));
        assert_eq!(out, json!({"metadata": {"name": "p"}}));
    }

    #[test]
    fn replace_strategy_replaces_the_whole_field() {
        // PodDisruptionBudget.spec.selector has `x-kubernetes-patch-strategy: replace`; a
        // Deployment's selector (a LabelSelector too) has no strategy and merges.
        let selector = json!({"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "k", "operator": "Exists"}]});
        let pdb = json!({"metadata": {"name": "p"}, "spec": {"selector": selector}});
        let out = ok("policy/v1", "PodDisruptionBudget", pdb, json!({"spec": {"selector": {"matchLabels": {"b": "2"}}}}));
        assert_eq!(out["spec"]["selector"], json!({"matchLabels": {"b": "2"}}));
        let deploy = json!({"metadata": {"name": "d"}, "spec": {"selector": selector}});
        let out = ok("apps/v1", "Deployment", deploy, json!({"spec": {"selector": {"matchLabels": {"b": "2"}}}}));
        assert_eq!(out["spec"]["selector"], json!({"matchLabels": {"a": "1", "b": "2"}, "matchExpressions": [{"key": "k", "operator": "Exists"}]}));
    }

    #[test]
    fn retain_keys_clears_the_keys_it_does_not_list() {
        let deploy = json!({"metadata": {"name": "d"}, "spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}});
        let out = ok("apps/v1", "Deployment", deploy.clone(), json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}));
        assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
        // Without the directive the old key stays (and the API server's validation would refuse it).
        let out = ok("apps/v1", "Deployment", deploy.clone(), json!({"spec": {"strategy": {"type": "Recreate"}}}));
        assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}));
        // In an element of a merging list (volumes: `merge,retainKeys`): the volume source switches.
        let p = pod(json!({"volumes": [{"name": "v", "emptyDir": {}}, {"name": "w", "emptyDir": {}}]}));
        let out = ok("v1", "Pod", p, json!({"spec": {"volumes": [{"name": "v", "$retainKeys": ["name", "configMap"], "configMap": {"name": "c"}}]}}));
        assert_eq!(out["spec"]["volumes"], json!([{"name": "v", "configMap": {"name": "c"}}, {"name": "w", "emptyDir": {}}]));
        // Every field the patch sets must be listed; the list must be of names.
        let err =
            smp("apps/v1", "Deployment", deploy.clone(), json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": {}}}}));
        assert_eq!(err.unwrap_err(), StrategicPatchError { path: "spec.strategy".into(), problem: Problem::NotRetained("rollingUpdate".into()) });
        let err = smp("apps/v1", "Deployment", deploy, json!({"spec": {"strategy": {"$retainKeys": "type"}}}));
        assert_eq!(err.unwrap_err().problem, Problem::RetainKeysNotAList);
    }

    #[test]
    fn set_element_order_orders_the_merged_list() {
        let three = pod(json!({"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}));
        // Only an order: the listed items in that order; b, which it does not list, keeps its
        // place before c (it was before c in the object).
        let out = ok("v1", "Pod", three.clone(), json!({"spec": {"$setElementOrder/containers": [{"name": "c"}, {"name": "a"}]}}));
        assert_eq!(out["spec"]["containers"], json!([{"name": "b"}, {"name": "c"}, {"name": "a"}]));
        // With a patch list: merged, then ordered; new items where the order puts them.
        let out = ok(
            "v1",
            "Pod",
            three.clone(),
            json!({"spec": {"$setElementOrder/containers": [{"name": "c"}, {"name": "n"}, {"name": "b"}, {"name": "a"}], "containers": [{"name": "n"}, {"name": "a", "image": "i"}]}}),
        );
        assert_eq!(out["spec"]["containers"], json!([{"name": "c"}, {"name": "n"}, {"name": "b"}, {"name": "a", "image": "i"}]));
        // Primitives, with a deletion.
        let cm = json!({"metadata": {"name": "c", "finalizers": ["x", "y", "z"]}});
        let out = ok("v1", "ConfigMap", cm, json!({"metadata": {"$setElementOrder/finalizers": ["z", "x"], "$deleteFromPrimitiveList/finalizers": ["y"]}}));
        assert_eq!(out["metadata"]["finalizers"], json!(["z", "x"]));
        // The patch list must follow the order.
        let err = smp(
            "v1",
            "Pod",
            three.clone(),
            json!({"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}], "containers": [{"name": "a"}, {"name": "b"}]}}),
        );
        assert_eq!(err.unwrap_err().problem, Problem::OrderMismatch("containers".into()));
        let err = smp("v1", "Pod", three.clone(), json!({"spec": {"$setElementOrder/containers": {"name": "a"}}}));
        assert_eq!(err.unwrap_err().problem, Problem::NotAList("$setElementOrder/containers".into()));
        let err = smp("v1", "Pod", three, json!({"spec": {"$setElementOrder/containers": [{"image": "a"}]}}));
        assert!(matches!(err.unwrap_err().problem, Problem::NoMergeKey { .. }));
    }

    #[test]
    fn delete_from_primitive_list_removes_values() {
        let cm = json!({"metadata": {"name": "c", "finalizers": ["a", "b", "c"]}});
        let out = ok("v1", "ConfigMap", cm.clone(), json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["b", "zz"]}}));
        assert_eq!(out["metadata"]["finalizers"], json!(["a", "c"]));
        // Also from a list without the merge strategy (args), and never adds a missing list.
        let out = ok("v1", "Pod", two_containers(), json!({"spec": {"containers": [{"name": "a", "$deleteFromPrimitiveList/args": ["x"]}]}}));
        assert_eq!(out["spec"]["containers"][0]["args"], json!(["y"]));
        let out = ok("v1", "Pod", two_containers(), json!({"spec": {"containers": [{"name": "b", "$deleteFromPrimitiveList/args": ["x"]}]}}));
        assert_eq!(out["spec"]["containers"][1], json!({"name": "b", "image": "b:1"}));
        let err = smp("v1", "ConfigMap", cm.clone(), json!({"metadata": {"$deleteFromPrimitiveList": ["a"]}})).unwrap_err();
        assert_eq!(err.problem, Problem::NoField("$deleteFromPrimitiveList".into()));
        let err = smp("v1", "ConfigMap", cm, json!({"metadata": {"$deleteFromPrimitiveList/finalizers": "a"}})).unwrap_err();
        assert_eq!(err.problem, Problem::NotAList("$deleteFromPrimitiveList/finalizers".into()));
        let err = smp("v1", "Pod", two_containers(), json!({"spec": {"$deleteFromPrimitiveList/containers": [{"name": "a"}]}})).unwrap_err();
        assert_eq!(err.problem, Problem::DeleteFromObjectList("containers".into()));
    }

    #[test]
    fn directives_are_never_stored() {
        // A new field is taken from the patch: its `$patch` maps go, other directives are dropped.
        let patch = json!({"spec": {"initContainers": [{"name": "i", "$setElementOrder/env": [{"name": "X"}], "env": [{"name": "X", "value": "1"}, {"name": "Y", "$patch": "delete"}]}],
                                    "securityContext": {"$retainKeys": ["runAsUser"], "runAsUser": 1}}});
        let out = ok("v1", "Pod", two_containers(), patch);
        assert_eq!(out["spec"]["initContainers"], json!([{"name": "i", "env": [{"name": "X", "value": "1"}]}]));
        assert_eq!(out["spec"]["securityContext"], json!({"runAsUser": 1}));
        // A map carrying `$patch` under a field the object does not have is dropped, as by the
        // API server (nothing to replace or delete).
        let out = ok("v1", "Pod", two_containers(), json!({"metadata": {"annotations": {"$patch": "replace", "a": "b"}}}));
        assert_eq!(out["metadata"].get("annotations"), None);
        // A new element of a merging list keeps its fields, without the directive keys.
        let out = ok(
            "v1",
            "Pod",
            two_containers(),
            json!({"spec": {"containers": [{"name": "c", "$setElementOrder/env": [], "env": [{"name": "E", "$patch": "replace"}]}]}}),
        );
        assert_eq!(out["spec"]["containers"][0], json!({"name": "c", "env": [{"name": "E"}]}));
    }

    #[test]
    fn malformed_patches_are_errors_and_change_nothing() {
        let cases = [
            (json!({"spec": {"$patch": "explode"}}), "spec", Problem::UnknownDirective("explode".into())),
            (json!({"spec": {"$patch": "merge"}}), "spec", Problem::UnknownDirective("merge".into())),
            (json!({"spec": {"containers": [{"name": "a", "$patch": "merge"}]}}), "spec.containers", Problem::UnknownDirective("merge".into())),
            (
                json!({"spec": {"containers": [{"image": "x"}]}}),
                "spec.containers",
                Problem::NoMergeKey { key: "name".into(), element: r#"{"image":"x"}"#.into() },
            ),
            (json!({"spec": {"containers": ["a"]}}), "spec.containers", Problem::MixedList),
            (json!({"spec": {"containers": [["a"]]}}), "spec.containers", Problem::MixedList),
            (json!({"spec": {"$setElementOrder": []}}), "spec", Problem::NoField("$setElementOrder".into())),
        ];
        for (patch, path, problem) in cases {
            let mut doc = two_containers();
            let schema = PatchSchema::builtin().unwrap_or_else(|e| panic!("{e}"));
            let root = schema.root("v1", "Pod").unwrap_or_else(|| panic!("Pod"));
            let err = apply_strategic_merge_patch(&mut doc, &patch, root).unwrap_err();
            assert_eq!(err, StrategicPatchError { path: path.into(), problem }, "{patch}");
            assert_eq!(doc, two_containers(), "a refused patch changes nothing: {patch}");
        }
        assert_eq!(smp("v1", "Pod", two_containers(), json!([1])).unwrap_err().problem, Problem::NotAnObject);
        let err = smp("v1", "Pod", two_containers(), json!({"spec": {"$patch": "x"}})).unwrap_err();
        assert_eq!(err.to_string(), "invalid strategic merge patch at spec: unknown directive `$patch: x` (the API server knows `replace` and `delete`)");
    }
}
