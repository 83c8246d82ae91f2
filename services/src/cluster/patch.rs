//! RFC 7386 merge patches and RFC 6902 JSON patches on JSON values, and [`apply_patch`], which
//! applies any [`Patch`] the way the API server does for the object's kind.

use super::apply::apply_configuration;
use super::patch_schema::{Node, PatchSchema};
use super::strategic::apply_strategic_merge_patch;
use super::{ApiResource, ClusterError, Patch};
use serde_json::{Map, Value};

/// What kube-apiserver answers (415) to a strategic merge patch of a custom resource.
const STRATEGIC_MERGE_PATCH_REFUSED: &str = "the body of the request was in an unknown format - accepted media types include: \
     application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml";

/// Applies a patch to `doc`, an object of the resource `r` (its schema decides how strategic
/// merge patches and server-side apply merge lists). On error `doc` is unchanged: 400 for a
/// malformed patch, 415 for a strategic merge patch of a kind without a schema (custom
/// resources), 500 if the embedded schema is broken.
pub fn apply_patch(doc: &mut Value, patch: &Patch, r: &ApiResource) -> Result<(), ClusterError> {
    let root = || -> Result<Option<Node<'static>>, ClusterError> {
        Ok(PatchSchema::builtin().map_err(|e| ClusterError::Other(e.to_string()))?.root(&r.api_version(), &r.kind))
    };
    match patch {
        Patch::Merge(p) => apply_merge_patch(doc, p),
        Patch::Json(ops) => apply_json_patch(doc, ops).map_err(|e| ClusterError::BadRequest(e.to_string()))?,
        Patch::Strategic(p) => {
            let Some(root) = root()? else { return Err(ClusterError::UnsupportedMediaType(STRATEGIC_MERGE_PATCH_REFUSED.into())) };
            apply_strategic_merge_patch(doc, p, root).map_err(|e| ClusterError::BadRequest(e.to_string()))?;
        }
        Patch::Apply { config, .. } => {
            apply_configuration(doc, config, root()?.unwrap_or(Node::Unknown)).map_err(|e| ClusterError::BadRequest(e.to_string()))?;
        }
    }
    Ok(())
}

/// Applies a JSON merge patch: objects merge recursively, `null` removes a key, anything else
/// (arrays included) replaces.
pub fn apply_merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                apply_merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// The merge patch that turns `from` into `to` (keys only in `from` become `null`).
pub fn merge_diff(from: &Value, to: &Value) -> Value {
    match (from, to) {
        (Value::Object(a), Value::Object(b)) => {
            let mut out = Map::new();
            for (k, v) in b {
                match a.get(k) {
                    Some(old) if old == v => {}
                    Some(old) if old.is_object() && v.is_object() => {
                        out.insert(k.clone(), merge_diff(old, v));
                    }
                    _ => {
                        out.insert(k.clone(), v.clone());
                    }
                }
            }
            for k in a.keys().filter(|k| !b.contains_key(*k)) {
                out.insert(k.clone(), Value::Null);
            }
            Value::Object(out)
        }
        _ => to.clone(),
    }
}

/// Why a JSON patch (RFC 6902) does not apply. The API server answers 400 with this text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonPatchError {
    /// The body is not an array.
    #[error("a JSON patch is an array of operations")]
    NotArray,
    /// An operation lacks a member (`op`, `path`, `from`, `value`).
    #[error("operation {index} has no `{field}`")]
    MissingField {
        /// Position of the operation.
        index: usize,
        /// The member.
        field: &'static str,
    },
    /// The operation is none of add, remove, replace, move, copy, test.
    #[error("unknown JSON patch operation `{0}`")]
    UnknownOp(String),
    /// A JSON pointer without the leading `/`.
    #[error("JSON pointer `{0}` must start with `/`")]
    Pointer(String),
    /// The path names nothing in the document.
    #[error("path `{0}` does not exist")]
    Missing(String),
    /// `remove` (or `replace`, `move`) of the root.
    #[error("cannot remove the whole document")]
    WholeDocument,
    /// An array index past the end.
    #[error("array index in `{0}` is out of bounds")]
    OutOfBounds(String),
    /// A `test` operation found another value.
    #[error("test operation {index} failed at `{path}`")]
    TestFailed {
        /// Position of the operation.
        index: usize,
        /// Its path.
        path: String,
    },
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn tokens(path: &str) -> Result<Vec<String>, JsonPatchError> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = path.strip_prefix('/') else { return Err(JsonPatchError::Pointer(path.to_string())) };
    Ok(rest.split('/').map(unescape).collect())
}

fn parent<'v>(root: &'v mut Value, toks: &[String], path: &str) -> Result<&'v mut Value, JsonPatchError> {
    let mut cur = root;
    for t in &toks[..toks.len().saturating_sub(1)] {
        cur = match cur {
            Value::Object(m) => m.get_mut(t),
            Value::Array(a) => t.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| JsonPatchError::Missing(path.to_string()))?;
    }
    Ok(cur)
}

fn get<'v>(root: &'v Value, path: &str) -> Result<&'v Value, JsonPatchError> {
    let toks = tokens(path)?;
    let mut cur = root;
    for t in &toks {
        cur = match cur {
            Value::Object(m) => m.get(t),
            Value::Array(a) => t.parse::<usize>().ok().and_then(|i| a.get(i)),
            _ => None,
        }
        .ok_or_else(|| JsonPatchError::Missing(path.to_string()))?;
    }
    Ok(cur)
}

fn remove(root: &mut Value, path: &str) -> Result<Value, JsonPatchError> {
    let toks = tokens(path)?;
    let Some(last) = toks.last() else { return Err(JsonPatchError::WholeDocument) };
    match parent(root, &toks, path)? {
        Value::Object(m) => m.remove(last).ok_or_else(|| JsonPatchError::Missing(path.to_string())),
        Value::Array(a) => match last.parse::<usize>() {
            Ok(i) if i < a.len() => Ok(a.remove(i)),
            _ => Err(JsonPatchError::Missing(path.to_string())),
        },
        _ => Err(JsonPatchError::Missing(path.to_string())),
    }
}

fn add(root: &mut Value, path: &str, value: Value) -> Result<(), JsonPatchError> {
    let toks = tokens(path)?;
    let Some(last) = toks.last() else {
        *root = value;
        return Ok(());
    };
    match parent(root, &toks, path)? {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(a) => {
            if last == "-" {
                a.push(value);
                return Ok(());
            }
            match last.parse::<usize>() {
                Ok(i) if i <= a.len() => {
                    a.insert(i, value);
                    Ok(())
                }
                _ => Err(JsonPatchError::OutOfBounds(path.to_string())),
            }
        }
        _ => Err(JsonPatchError::Missing(path.to_string())),
    }
}

/// Applies an RFC 6902 JSON patch (add, remove, replace, move, copy, test) atomically: on any
/// error `target` is left unchanged.
pub fn apply_json_patch(target: &mut Value, ops: &Value) -> Result<(), JsonPatchError> {
    let Some(ops) = ops.as_array() else { return Err(JsonPatchError::NotArray) };
    let mut doc = target.clone();
    for (i, op) in ops.iter().enumerate() {
        let field = |k: &'static str| op.get(k).and_then(Value::as_str).ok_or(JsonPatchError::MissingField { index: i, field: k });
        let path = field("path")?;
        let value = || op.get("value").cloned().ok_or(JsonPatchError::MissingField { index: i, field: "value" });
        match field("op")? {
            "add" => add(&mut doc, path, value()?)?,
            "remove" => {
                remove(&mut doc, path)?;
            }
            "replace" => {
                remove(&mut doc, path)?;
                add(&mut doc, path, value()?)?;
            }
            "move" => {
                let v = remove(&mut doc, field("from")?)?;
                add(&mut doc, path, v)?;
            }
            "copy" => {
                let v = get(&doc, field("from")?)?.clone();
                add(&mut doc, path, v)?;
            }
            "test" => {
                if get(&doc, path)? != &value()? {
                    return Err(JsonPatchError::TestFailed { index: i, path: path.to_string() });
                }
            }
            other => return Err(JsonPatchError::UnknownOp(other.to_string())),
        }
    }
    *target = doc;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut v = json!({"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]});
        apply_merge_patch(&mut v, &json!({"a": "z", "c": {"f": null}, "l": [3]}));
        assert_eq!(v, json!({"a": "z", "c": {"d": "e"}, "l": [3]}));
        let from = json!({"a": 1, "b": {"c": 2, "d": 3}});
        let to = json!({"a": 1, "b": {"c": 5}, "e": true});
        let p = merge_diff(&from, &to);
        assert_eq!(p, json!({"b": {"c": 5, "d": null}, "e": true}));
        let mut applied = from.clone();
        apply_merge_patch(&mut applied, &p);
        assert_eq!(applied, to);
    }

    #[test]
    fn json_patch_follows_rfc_6902_and_is_atomic() {
        let mut v = json!({"metadata": {"finalizers": ["a", "b"]}, "spec": {"x": 1}});
        apply_json_patch(
            &mut v,
            &json!([
                {"op": "remove", "path": "/metadata/finalizers/0"},
                {"op": "add", "path": "/metadata/finalizers/-", "value": "c"},
                {"op": "replace", "path": "/spec/x", "value": 2},
                {"op": "copy", "from": "/spec/x", "path": "/spec/y"},
                {"op": "move", "from": "/spec/y", "path": "/spec/z"},
                {"op": "test", "path": "/spec/z", "value": 2},
                {"op": "add", "path": "/metadata/labels", "value": {"a~1b": "c"}}
            ]),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v, json!({"metadata": {"finalizers": ["b", "c"], "labels": {"a~1b": "c"}}, "spec": {"x": 2, "z": 2}}));
        let before = v.clone();
        let err = apply_json_patch(&mut v, &json!([{"op": "remove", "path": "/spec/x"}, {"op": "test", "path": "/spec/z", "value": 9}]));
        assert!(err.is_err());
        assert_eq!(v, before, "a failed patch changes nothing");
        assert!(apply_json_patch(&mut v, &json!([{"op": "remove", "path": "/nope"}])).is_err());
        assert!(apply_json_patch(&mut v, &json!({"op": "add"})).is_err());
    }
}
