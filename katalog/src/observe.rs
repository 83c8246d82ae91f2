//! What a CRD reads besides its own CRs, and what it does before a reconcile (reference §4.8,
//! §4.10; docs/observe.md): `observe.cross` queries and the `.cross` data they produce, the
//! resources `observe.watch` and `observe.events` watch, preReconcile sentinels computed from
//! the old and new CR, the `enqueueGate` / `reconcileGate` verdicts, and the pause annotation.
//! Pure: the runtime and simulate fetch what these functions ask for through their cluster.

use crate::kinds::{ApiResource, CustomError, api_identity, known};
use crate::model::Katalog;
use crate::model::crd::{CrdEntry, Cross, FailPolicy, Gate, KeyFrom, WatchEntry, WatchOn};
use crate::rules::{Evaluator, RuleError};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The annotation that pauses the reconciling of one CR (`"true"`).
pub const ANNOTATION_PAUSED: &str = "orkestra.orkspace.io/paused";

/// Whether `cr` carries `orkestra.orkspace.io/paused: "true"`.
pub fn is_paused(cr: &Value) -> bool {
    cr.pointer("/metadata/annotations").and_then(|a| a.get(ANNOTATION_PAUSED)).and_then(Value::as_str) == Some("true")
}

/// Every sentinel ork computes, in the order they are documented.
pub const SENTINELS: &[&str] = &[
    "generationChanged",
    "labelsChanged",
    "annotationsChanged",
    "deletionStarted",
    "finalizersChanged",
    "ownerReferenceChanged",
    "namespaceChanged",
    "uidChanged",
];

/// The sentinels of one change of a CR, from the object before (`None`: it was just created, or
/// the watch has not seen it before) and after. On a creation every sentinel is true except
/// `deletionStarted` (true only when the new object is already being deleted): a new CR has
/// changed in every respect. A resync (no change) is [`no_change`].
pub fn sentinels(old: Option<&Value>, new: &Value) -> BTreeMap<String, bool> {
    let meta = |o: &Value, f: &str| o.pointer(&format!("/metadata/{f}")).cloned().unwrap_or(Value::Null);
    let deleting = |o: &Value| o.pointer("/metadata/deletionTimestamp").is_some_and(|v| !v.is_null());
    let mut out = BTreeMap::new();
    for s in SENTINELS {
        let field = match *s {
            "generationChanged" => "generation",
            "labelsChanged" => "labels",
            "annotationsChanged" => "annotations",
            "finalizersChanged" => "finalizers",
            "ownerReferenceChanged" => "ownerReferences",
            "namespaceChanged" => "namespace",
            "uidChanged" => "uid",
            _ => "",
        };
        let changed = match old {
            None => *s != "deletionStarted" || deleting(new),
            Some(old) if *s == "deletionStarted" => !deleting(old) && deleting(new),
            Some(old) => empty_as_null(meta(old, field)) != empty_as_null(meta(new, field)),
        };
        out.insert(s.to_string(), changed);
    }
    out
}

/// An empty map or list and an absent field are the same metadata (the API server drops both).
fn empty_as_null(v: Value) -> Value {
    match &v {
        Value::Object(m) if m.is_empty() => Value::Null,
        Value::Array(a) if a.is_empty() => Value::Null,
        _ => v,
    }
}

/// The sentinels of a reconcile no watch event caused (a resync, a requeue): all false.
pub fn no_change() -> BTreeMap<String, bool> {
    SENTINELS.iter().map(|s| (s.to_string(), false)).collect()
}

/// Merges `more` into `into` (OR): the sentinels of events coalesced into one reconcile.
pub fn merge_sentinels(into: &mut BTreeMap<String, bool>, more: &BTreeMap<String, bool>) {
    for (k, v) in more {
        *into.entry(k.clone()).or_insert(false) |= *v;
    }
}

/// Evaluates `gate` (`name`: `reconcileGate` / `enqueueGate`) against `data`, with the CR's
/// sentinels as the evaluator holds them ([`Evaluator::with_sentinels`]): why it holds, or
/// `None` when it passes. It passes when (it lists no sentinels, or one of them is true) and its
/// `when` / `or` conditions pass; the declared sentinels are zero-argument functions in those
/// conditions. A gate that cannot be evaluated (a template fails) passes with `failPolicy: open`
/// (the default) and holds with `closed`.
pub fn gate(ev: &mut Evaluator<'_>, name: &str, gate: &Gate, data: &Value) -> Option<String> {
    if !gate.sentinels.is_empty() && !gate.sentinels.iter().any(|s| ev.sentinel(s.as_str())) {
        let listed: Vec<&str> = gate.sentinels.iter().map(|s| s.as_str()).collect();
        return Some(format!("{name}: none of the sentinels {} is set", listed.join(", ")));
    }
    match ev.gate(&gate.when, &gate.or, data) {
        Ok(true) => None,
        Ok(false) => Some(format!("{name}: its conditions do not hold")),
        Err(e) => match gate.fail_policy.unwrap_or(FailPolicy::Open) {
            FailPolicy::Open => None,
            FailPolicy::Closed => Some(format!("{name} cannot be evaluated (failPolicy: closed): {e}")),
        },
    }
}

/// Whether ork executes a cross read: it names a CRD entry of this Katalog and neither reads
/// another binary (`source`) nor picks the CRD by label (both `not-supported-yet`: such a read
/// is skipped and its `.cross` name is absent).
pub fn executed(c: &Cross) -> bool {
    c.source.is_none() && c.label_selector.is_empty() && c.crd.is_some()
}

/// The `.cross` name of a cross read: `as`, else the CRD entry name.
pub fn cross_name(c: &Cross) -> String {
    c.as_.as_ref().or(c.crd.as_ref()).map(|s| s.value.clone()).unwrap_or_default()
}

/// The resource a cross read reads (the named CRD entry's), when it names one that has a
/// complete API identity.
pub fn cross_resource(katalog: &Katalog, c: &Cross) -> Option<ApiResource> {
    let e = katalog.crds().get(c.crd.as_ref()?.as_str())?;
    api_identity(e).filter(|i| !i.plural.is_empty()).map(|i| i.resource())
}

/// One cross read resolved for one CR: what to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrossQuery {
    /// The name in `.cross`.
    pub name: String,
    /// The CRD entry read (its sensitive fields are the reader's secrets too).
    pub crd: String,
    /// The resource.
    pub resource: ApiResource,
    /// The namespace (`None`: cluster-scoped).
    pub namespace: Option<String>,
    /// The object's name, when the selector names one.
    pub object: Option<String>,
    /// A label selector (`k=v,…`), when the selector matches labels.
    pub labels: Option<String>,
}

/// Why a cross read cannot be resolved for a CR.
#[derive(Debug, thiserror::Error)]
pub enum CrossError {
    /// A selector template failed.
    #[error("observe.cross[{index}] ({name}): {field}: {source}")]
    Template {
        /// Position in `observe.cross`.
        index: usize,
        /// Its `.cross` name.
        name: String,
        /// `selector.name`, `selector.namespace`, `selector.matchLabels.<k>`.
        field: String,
        /// The template error.
        #[source]
        source: RuleError,
    },
    /// The entry names no CRD of the Katalog (validation reports it; this guards the runtime).
    #[error("observe.cross[{index}]: `crd` names no CRD entry with a complete API identity")]
    NoResource {
        /// Position in `observe.cross`.
        index: usize,
    },
}

/// The cross reads of `entry` for `cr` (its data is `data`): the selector's templates rendered.
/// Without a selector namespace a namespaced target is read in the CR's namespace.
pub fn cross_queries(katalog: &Katalog, entry: &CrdEntry, ev: &mut Evaluator<'_>, cr: &Value, data: &Value) -> Result<Vec<CrossQuery>, CrossError> {
    let Some(obs) = entry.operator_box.as_ref().and_then(|o| o.observe.as_ref()) else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for (index, c) in obs.cross.iter().enumerate().filter(|(_, c)| executed(c)) {
        let name = cross_name(c);
        let resource = cross_resource(katalog, c).ok_or(CrossError::NoResource { index })?;
        let mut render =
            |field: &str, src: &str| ev.text(src, data).map_err(|source| CrossError::Template { index, name: name.clone(), field: field.to_string(), source });
        let sel = c.selector.as_ref();
        let namespace = match sel.and_then(|s| s.namespace.as_ref()) {
            _ if !resource.namespaced => None,
            Some(ns) => Some(render("selector.namespace", ns)?),
            None => cr.pointer("/metadata/namespace").and_then(Value::as_str).map(str::to_string),
        };
        let object = match sel.and_then(|s| s.name.as_ref()) {
            Some(n) => Some(render("selector.name", n)?).filter(|n| !n.is_empty()),
            None => None,
        };
        let mut pairs = Vec::new();
        for (k, v) in sel.map(|s| s.match_labels.iter()).into_iter().flatten() {
            let value = render(&format!("selector.matchLabels.{k}"), v)?;
            pairs.push(format!("{k}={value}"));
        }
        let labels = (!pairs.is_empty()).then(|| pairs.join(","));
        let crd = c.crd.as_ref().map(|c| c.value.clone()).unwrap_or_default();
        out.push(CrossQuery { name, crd, resource, namespace, object, labels });
    }
    Ok(out)
}

/// `.cross`: for each read, `found` (`"true"`/`"false"`) and, when found, the object's
/// `metadata`, `spec` and `status` (`.cross.db.status.phase`).
pub fn cross_data(found: &[(String, Option<Value>)]) -> Value {
    let mut out = Map::new();
    for (name, obj) in found {
        let mut entry = Map::new();
        entry.insert("found".into(), json!(if obj.is_some() { "true" } else { "false" }));
        if let Some(o) = obj {
            for k in ["apiVersion", "kind", "metadata", "spec", "status"] {
                if let Some(v) = o.get(k) {
                    entry.insert(k.into(), v.clone());
                }
            }
        }
        out.insert(name.clone(), Value::Object(entry));
    }
    Value::Object(out)
}

/// The resource an `observe.watch` entry watches: a CRD of this Katalog, the built-in table,
/// or its `plural:`.
pub fn watch_resource(katalog: &Katalog, w: &WatchEntry) -> Result<ApiResource, CustomError> {
    crate::kinds::resolve_kind(katalog, &w.api_version, &w.kind, &w.plural, None)
}

/// The resource `observe.events` watches: `events.k8s.io/v1` Events.
pub fn events_resource() -> ApiResource {
    known("events.k8s.io", "Event").unwrap_or(ApiResource {
        group: "events.k8s.io".into(),
        version: "v1".into(),
        kind: "Event".into(),
        plural: "events".into(),
        namespaced: true,
    })
}

/// Whether a watch with `on` reacts to a change of kind `change`.
pub fn reacts(on: &[crate::decode::Spanned<WatchOn>], change: WatchOn) -> bool {
    on.is_empty() || on.iter().any(|o| o.value == change)
}

/// The CR a watched object's change is for, by `keyFrom` (namespace, name); `None` when it
/// names none (the object lacks the label, a template renders empty).
pub fn key_from(ev: &mut Evaluator<'_>, k: &KeyFrom, obj: &Value) -> Option<(Option<String>, String)> {
    let own_ns = obj.pointer("/metadata/namespace").and_then(Value::as_str).map(str::to_string);
    let name = if let Some(label) = &k.label {
        obj.pointer("/metadata/labels").and_then(|l| l.get(label.as_str())).and_then(Value::as_str).map(str::to_string)
    } else {
        k.name.as_ref().and_then(|n| ev.text(n, obj).ok())
    }
    .filter(|n| !n.is_empty())?;
    let namespace = match &k.namespace {
        Some(ns) => ev.text(ns, obj).ok().filter(|n| !n.is_empty()),
        None => own_ns,
    };
    Some((namespace, name))
}

/// Whether an Event (`events.k8s.io/v1`) matches an `observe.events` entry: every field the
/// entry gives equals the Event's.
pub fn event_matches(w: &crate::model::crd::EventWatch, event: &Value) -> bool {
    let s = |p: &str| event.pointer(p).and_then(Value::as_str).unwrap_or_default();
    let eq = |want: &Option<crate::decode::Str>, got: &str| want.as_ref().is_none_or(|w| w.as_str() == got);
    let regarding = w.regarding.as_ref();
    eq(&w.reason, s("/reason"))
        && eq(&w.action, s("/action"))
        && eq(&w.kind, s("/type"))
        && eq(&w.reporting_controller, s("/reportingController"))
        && eq(&w.reporting_instance, s("/reportingInstance"))
        && eq(&w.namespace, s("/metadata/namespace"))
        && regarding.is_none_or(|r| eq(&r.api_version, s("/regarding/apiVersion")) && eq(&r.kind, s("/regarding/kind")) && eq(&r.name, s("/regarding/name")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentinels_compare_the_old_and_new_metadata() {
        let old = json!({"metadata": {"generation": 1, "labels": {"a": "1"}, "uid": "u"}});
        let new = json!({"metadata": {"generation": 2, "labels": {"a": "1"}, "uid": "u", "finalizers": []}});
        let s = sentinels(Some(&old), &new);
        assert!(s["generationChanged"]);
        assert!(!s["labelsChanged"]);
        assert!(!s["finalizersChanged"], "an empty list is no list");
        assert!(!s["uidChanged"]);
        assert!(!s["deletionStarted"]);
        let mut deleting = new.clone();
        deleting["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        assert!(sentinels(Some(&new), &deleting)["deletionStarted"]);
        assert!(!sentinels(Some(&deleting), &deleting)["deletionStarted"], "only the start counts");
        let created = sentinels(None, &new);
        assert!(created["generationChanged"] && created["uidChanged"] && !created["deletionStarted"]);
        assert!(no_change().values().all(|v| !v));
        assert_eq!(SENTINELS.len(), created.len());
    }

    #[test]
    fn the_pause_annotation_must_say_true() {
        assert!(is_paused(&json!({"metadata": {"annotations": {ANNOTATION_PAUSED: "true"}}})));
        assert!(!is_paused(&json!({"metadata": {"annotations": {ANNOTATION_PAUSED: "yes"}}})));
        assert!(!is_paused(&json!({"metadata": {}})));
    }

    #[test]
    fn cross_data_says_found_as_text() {
        let d = cross_data(&[("db".into(), Some(json!({"spec": {"a": 1}, "status": {"phase": "Ready"}, "data": "x"}))), ("cache".into(), None)]);
        assert_eq!(d["db"]["found"], "true");
        assert_eq!(d["db"]["status"]["phase"], "Ready");
        assert!(d["db"].get("data").is_none());
        assert_eq!(d["cache"], json!({"found": "false"}));
    }
}
