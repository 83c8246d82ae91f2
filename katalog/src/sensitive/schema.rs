//! The schema side of the sensitivity rule: where a CRD's openAPI schema says `format:
//! password`, and reading that schema from an entry's `crdFile`.

use crate::diag::Diagnostic;
use crate::load::include::read_yaml_file;
use crate::yaml::Limits;
use serde_json::Value;

/// Schemas nest this deep at most before the walk stops (a guard against pathological files).
const MAX_DEPTH: usize = 64;

/// Appends to `out` the path of every node below `node` with `format: password`. Object
/// properties add their name; array `items` and map `additionalProperties` add `*`;
/// `allOf` / `anyOf` / `oneOf` branches describe the same place.
pub(super) fn password_paths(node: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let Some(obj) = node.as_object() else { return };
    if obj.get("format").and_then(Value::as_str) == Some("password") && !at.is_empty() {
        out.push(at.clone());
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (name, child) in props {
            at.push(name.clone());
            password_paths(child, at, out, depth + 1);
            at.pop();
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(child) = obj.get(key).filter(|c| c.is_object()) {
            at.push("*".into());
            password_paths(child, at, out, depth + 1);
            at.pop();
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for branch in obj.get(key).and_then(Value::as_array).into_iter().flatten() {
            password_paths(branch, at, out, depth + 1);
        }
    }
}

/// Why a crdFile's schema cannot be read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SchemaError {
    /// The file cannot be read or is not YAML (the finding names the file and position).
    #[error("{}", .0.message)]
    Read(#[source] Diagnostic),
    /// The file holds no CustomResourceDefinition.
    #[error("{path} contains no CustomResourceDefinition")]
    NoCrd {
        /// The file, as shown to the user.
        path: String,
    },
}

/// The `schema` of `version` (else of the first version) of the CustomResourceDefinition for
/// `kind` (else the first) in a local `crdFile`, at `path` as the loader resolved and admitted it
/// ([`crate::model::crd::CrdEntry::crd_file_path`]); `Ok(None)` for a version without a schema.
/// Errors say which file and why.
pub fn crd_file_schema(path: &std::path::Path, kind: &str, version: &str) -> Result<Option<Value>, SchemaError> {
    let docs = read_yaml_file(path, Limits::default()).map_err(SchemaError::Read)?;
    let crds: Vec<Value> =
        docs.iter().map(|d| d.root.to_json()).filter(|d| d.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition")).collect();
    let crd = crds
        .iter()
        .find(|d| d.pointer("/spec/names/kind").and_then(Value::as_str) == Some(kind))
        .or_else(|| crds.first())
        .ok_or_else(|| SchemaError::NoCrd { path: crate::diag::display_path(path) })?;
    let versions = crd.pointer("/spec/versions").and_then(Value::as_array).cloned().unwrap_or_default();
    Ok(versions.iter().find(|v| v.get("name").and_then(Value::as_str) == Some(version)).or_else(|| versions.first()).and_then(|v| v.get("schema").cloned()))
}
