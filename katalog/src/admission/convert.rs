//! Version conversion along a CRD entry's `admission.conversion.paths`: the object keeps its
//! metadata and status, gets the desired `apiVersion`, and its `spec` is rebuilt from the path's
//! field map.

use super::Gate;
use crate::kinds::split_api_version;
use crate::rules::Evaluator;
use crate::template::Rng;
use serde_json::{Map, Value};

/// Why an object could not be converted; the message goes back in the ConversionReview.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// Not an object with `apiVersion` and `kind`.
    #[error("invalid object payload: {0}")]
    Payload(&'static str),
    /// The desired apiVersion is of another group.
    #[error("cannot convert {kind} from group {from:?} to apiVersion {desired:?}: conversion stays within one API group")]
    Group {
        /// Kind of the object.
        kind: String,
        /// Group of the object.
        from: String,
        /// The desired apiVersion.
        desired: String,
    },
    /// No CRD entry of the Katalog serves the kind.
    #[error("no conversion rules for kind {0:?}: no CRD entry of the Katalog serves it")]
    NoRules(String),
    /// No path between the two versions.
    #[error(
        "no conversion path declared for {from} → {to} in kind {kind:?}; add one to spec.crds.{crd}.admission.conversion.paths:\n  - from: {from}\n    to: {to}\n    spec:\n      <field>: \"{{{{ .spec.<field> }}}}\""
    )]
    NoPath {
        /// Kind of the object.
        kind: String,
        /// CRD entry.
        crd: String,
        /// Version of the object.
        from: String,
        /// Desired version.
        to: String,
    },
    /// A field template failed.
    #[error("conversion {from} → {to} of kind {kind:?}: field {field:?}: {message}")]
    Template {
        /// Kind of the object.
        kind: String,
        /// Source version.
        from: String,
        /// Target version.
        to: String,
        /// The target field.
        field: String,
        /// What failed.
        message: String,
    },
}

/// Converts one object to `desired` (an apiVersion `group/version`).
pub(super) fn one(gate: &Gate, obj: &Value, desired: &str, now: i64, rng: Rng) -> Result<Value, ConvertError> {
    let Some(map) = obj.as_object() else { return Err(ConvertError::Payload("not an object")) };
    let kind = map.get("kind").and_then(Value::as_str).filter(|k| !k.is_empty()).ok_or(ConvertError::Payload("object missing kind"))?;
    let api_version = map.get("apiVersion").and_then(Value::as_str).filter(|k| !k.is_empty()).ok_or(ConvertError::Payload("object missing apiVersion"))?;
    let (group, from) = split_api_version(api_version);
    let (desired_group, to) = split_api_version(desired);
    if group != desired_group {
        return Err(ConvertError::Group { kind: kind.into(), from: group.into(), desired: desired.into() });
    }
    let mut out = obj.clone();
    if from == to {
        out["apiVersion"] = Value::String(desired.to_string());
        return Ok(out);
    }
    let target = gate.crd_of_kind(group, kind).ok_or_else(|| ConvertError::NoRules(kind.to_string()))?;
    let entry = gate.entry(target).ok_or_else(|| ConvertError::NoRules(kind.to_string()))?;
    let paths = entry.admission.as_ref().and_then(|a| a.conversion.as_ref()).map(|c| c.paths.as_slice()).unwrap_or_default();
    let no_path = || ConvertError::NoPath { kind: kind.into(), crd: target.crd.clone(), from: from.into(), to: to.into() };
    let path =
        paths.iter().find(|p| p.from.as_ref().is_some_and(|f| f.as_str() == from) && p.to.as_ref().is_some_and(|t| t.as_str() == to)).ok_or_else(no_path)?;
    let mut ev = Evaluator::new(&gate.valid.templates, now, rng);
    let mut spec = Value::Object(Map::new());
    for (field, template) in path.spec.iter() {
        let fail = |message: String| ConvertError::Template { kind: kind.into(), from: from.into(), to: to.into(), field: field.value.clone(), message };
        let value = match single_reference(template) {
            // `{{ .spec.size }}` copies the value as it is (a number stays a number, a map a map):
            // what makes a round trip lossless.
            Some(path) => lookup(obj, &path).cloned(),
            None => coerce(ev.text(template, obj).map_err(|e| fail(e.to_string()))?),
        };
        if let Some(v) = value {
            set(&mut spec, field, v).map_err(|e| fail(e.to_string()))?;
        }
    }
    out["apiVersion"] = Value::String(desired.to_string());
    out["spec"] = spec;
    Ok(out)
}

/// `{{ .a.b }}` (with optional spaces) → `a.b`.
fn single_reference(template: &str) -> Option<String> {
    let inner = template.trim().strip_prefix("{{")?.strip_suffix("}}")?.trim();
    let path = inner.strip_prefix('.')?;
    (!path.is_empty() && path.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')).then(|| path.to_string())
}

fn lookup<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(v, |cur, k| cur.get(k)).filter(|v| !v.is_null())
}

/// A rendered text becomes the JSON value it spells (a number, a boolean, an object or list in
/// JSON), else stays text; empty means "no value".
fn coerce(text: String) -> Option<Value> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let looks_typed = t == "true" || t == "false" || t.starts_with('{') || t.starts_with('[') || t.parse::<f64>().is_ok_and(f64::is_finite);
    if looks_typed && let Ok(v) = serde_json::from_str::<Value>(t) {
        return Some(v);
    }
    Some(Value::String(text))
}

/// Sets a dotted path inside `spec`, creating maps on the way; the error says why it cannot.
fn set(spec: &mut Value, field: &str, value: Value) -> Result<(), SetError> {
    let parts: Vec<&str> = field.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(SetError::NotAPath);
    }
    let mut cur = spec;
    for (i, p) in parts.iter().enumerate() {
        let Some(m) = cur.as_object_mut() else { return Err(SetError::NotAMap(parts[..i].join("."))) };
        if i + 1 == parts.len() {
            m.insert((*p).to_string(), value);
            return Ok(());
        }
        cur = m.entry((*p).to_string()).or_insert_with(|| Value::Object(Map::new()));
    }
    Ok(())
}

/// Why a converted field cannot be set.
#[derive(Debug, thiserror::Error)]
enum SetError {
    #[error("not a dotted field path")]
    NotAPath,
    #[error("{0:?} is set to a value that is not a map")]
    NotAMap(String),
}
