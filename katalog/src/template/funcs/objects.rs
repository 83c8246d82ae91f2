//! Kubernetes object helpers (`name`, `hasCondition`, `replicasReady`, ...) and time functions.

use super::{bool_value, lookup_path, string_value, text};
use crate::template::eval::Val;
use crate::template::value::{Num, to_number, to_text};
use crate::template::{Env, FuncError};
use crate::time::{format_duration, parse_rfc3339};
use serde_json::{Map, Value};

// Kubernetes object helpers. They accept nil (a child that does not exist yet) and answer
// "empty"/false rather than failing: status templates run before children exist.

pub(super) fn f_get(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(lookup_path(&a[0], &text(&a[1])).cloned().unwrap_or(Value::Null))
}

pub(super) fn f_get_or(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    match lookup_path(&a[0], &text(&a[1])) {
        Some(v) if !v.is_null() => Ok(v.clone()),
        _ => Ok(a[2].clone().into_owned()),
    }
}

pub(super) fn meta_field(a: &[Val<'_>], path: &str) -> Result<Value, FuncError> {
    Ok(lookup_path(&a[0], path).cloned().unwrap_or(Value::Null))
}

pub(super) fn f_name(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    meta_field(a, "metadata.name")
}

pub(super) fn f_namespace(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    meta_field(a, "metadata.namespace")
}

pub(super) fn f_labels(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(lookup_path(&a[0], "metadata.labels").cloned().unwrap_or(Value::Object(Map::new())))
}

pub(super) fn f_annotations(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(lookup_path(&a[0], "metadata.annotations").cloned().unwrap_or(Value::Object(Map::new())))
}

pub(super) fn f_phase(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    meta_field(a, "status.phase")
}

pub(super) fn condition<'v>(obj: &'v Value, kind: &str) -> Option<&'v Value> {
    lookup_path(obj, "status.conditions")?.as_array()?.iter().find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

pub(super) fn f_has_condition(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let want = a.get(2).map(|v| text(v)).unwrap_or_else(|| "True".into());
    let found = condition(&a[0], &text(&a[1])).and_then(|c| c.get("status")).is_some_and(|s| to_text(s).eq_ignore_ascii_case(&want));
    bool_value(found)
}

pub(super) fn f_condition_reason(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(condition(&a[0], &text(&a[1])).and_then(|c| c.get("reason")).cloned().unwrap_or(Value::Null))
}

pub(super) fn f_condition_message(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(condition(&a[0], &text(&a[1])).and_then(|c| c.get("message")).cloned().unwrap_or(Value::Null))
}

pub(super) fn int_at(obj: &Value, path: &str) -> Option<i64> {
    lookup_path(obj, path).and_then(|v| to_number(v).ok()).map(|n| n.as_f64() as i64)
}

pub(super) fn f_replicas_ready(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    if !a[0].is_object() {
        return bool_value(false);
    }
    let desired = int_at(&a[0], "spec.replicas").unwrap_or(1);
    let ready = int_at(&a[0], "status.readyReplicas").unwrap_or(0);
    bool_value(ready >= desired)
}

pub(super) fn f_ready_replicas(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(Value::from(int_at(&a[0], "status.readyReplicas").unwrap_or(0)))
}

pub(super) fn f_desired_replicas(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let default = if a[0].is_object() { 1 } else { 0 };
    Ok(Value::from(int_at(&a[0], "spec.replicas").unwrap_or(default)))
}

pub(super) fn f_job_succeeded(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let complete = condition(&a[0], "Complete").and_then(|c| c.get("status")).is_some_and(|s| to_text(s) == "True");
    bool_value(complete || int_at(&a[0], "status.succeeded").unwrap_or(0) > 0)
}

pub(super) fn f_job_failed(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let failed = condition(&a[0], "Failed").and_then(|c| c.get("status")).is_some_and(|s| to_text(s) == "True");
    bool_value(failed)
}

pub(super) fn f_job_active(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(int_at(&a[0], "status.active").unwrap_or(0) > 0)
}

// ---------------------------------------------------------------------------------------------
// Time.

pub(super) fn f_time_until(env: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let t = parse_rfc3339(&text(&a[0]))?;
    string_value(format_duration(t - env.now))
}

pub(super) fn f_time_since(env: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let t = parse_rfc3339(&text(&a[0]))?;
    string_value(format_duration(env.now - t))
}

pub(super) fn f_duration_seconds(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let s = text(&a[0]);
    let d = crate::duration::parse_duration(&s).ok_or_else(|| FuncError::NotDuration { text: s.clone() })?;
    Ok(if d.fract() == 0.0 && d.abs() < 9e15 { Num::Int(d as i64) } else { Num::Float(d) }.into_value())
}

// ---------------------------------------------------------------------------------------------
// More object helpers: metadata, owner, lifecycle. Like the ones above, they take the object
// first and answer empty/false/0 for nil.

fn section(a: &[Val<'_>], path: &str) -> Result<Value, FuncError> {
    Ok(lookup_path(&a[0], path).filter(|v| v.is_object()).cloned().unwrap_or(Value::Object(Map::new())))
}

pub(super) fn f_meta(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    section(a, "metadata")
}

pub(super) fn f_spec(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    section(a, "spec")
}

pub(super) fn f_status(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    section(a, "status")
}

pub(super) fn f_resource_uid(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    meta_field(a, "metadata.uid")
}

pub(super) fn f_resource_version(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    meta_field(a, "metadata.resourceVersion")
}

pub(super) fn f_creation_timestamp(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    meta_field(a, "metadata.creationTimestamp")
}

/// The controller owner reference, else the first one.
fn owner(obj: &Value) -> Option<&Value> {
    let refs = lookup_path(obj, "metadata.ownerReferences")?.as_array()?;
    refs.iter().find(|r| r.get("controller").and_then(Value::as_bool) == Some(true)).or_else(|| refs.first())
}

pub(super) fn f_owner_kind(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(owner(&a[0]).and_then(|o| o.get("kind")).cloned().unwrap_or(Value::Null))
}

pub(super) fn f_owner_name(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(owner(&a[0]).and_then(|o| o.get("name")).cloned().unwrap_or(Value::Null))
}

pub(super) fn f_resource_exists(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(a[0].as_object().is_some_and(|m| !m.is_empty()))
}

pub(super) fn f_is_terminating(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(lookup_path(&a[0], "metadata.deletionTimestamp").is_some_and(|v| !v.is_null() && !to_text(v).is_empty()))
}

pub(super) fn f_generation(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(Value::from(int_at(&a[0], "metadata.generation").unwrap_or(0)))
}

pub(super) fn f_observed_generation(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(Value::from(int_at(&a[0], "status.observedGeneration").unwrap_or(0)))
}

pub(super) fn f_is_synced(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    // The controller has seen the latest spec: status.observedGeneration ≥ metadata.generation.
    let generation = int_at(&a[0], "metadata.generation");
    let observed = int_at(&a[0], "status.observedGeneration");
    bool_value(match (generation, observed) {
        (Some(g), Some(o)) => o >= g,
        _ => false,
    })
}

fn meta_entry(a: &[Val<'_>], map: &str) -> Result<Value, FuncError> {
    let key = text(&a[1]);
    Ok(lookup_path(&a[0], map).and_then(|m| m.get(&key)).cloned().unwrap_or(Value::Null))
}

pub(super) fn f_get_label(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    meta_entry(a, "metadata.labels")
}

pub(super) fn f_get_annotation(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    meta_entry(a, "metadata.annotations")
}
