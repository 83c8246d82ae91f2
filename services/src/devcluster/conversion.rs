//! Versions of custom resources: a CustomResourceDefinition serves every version marked
//! `served`, and objects are stored once, at the `storage` version. Reads at another version
//! convert what is stored, writes at another version convert what is sent; with the CRD's
//! conversion strategy `None` only `apiVersion` changes, with `Webhook` a `ConversionReview`
//! (apiextensions.k8s.io/v1) goes to `spec.conversion.webhook.clientConfig` and its answer is
//! checked as kube-apiserver checks it (apiextensions-apiserver's webhook converter): the uid,
//! the number of objects, each one's apiVersion, kind, name, namespace and uid; metadata other
//! than labels and annotations is kept from the original.

use super::webhook::{self, WebhookError};
use crate::cluster::{ApiResource, MemCluster};
use serde_json::{Value, json};
use std::cmp::Ordering;
use std::time::Duration;

/// How long a conversion webhook may take: the API server's 30 s.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Why objects could not be converted, in the API server's words (a 500 for the client).
#[derive(Debug, thiserror::Error)]
// Variant fields are the message's parts and its `#[source]` cause.
#[allow(missing_docs)]
pub(super) enum ConversionError {
    /// The webhook could not be called.
    #[error("conversion webhook for {gvk} failed: {source}")]
    Call {
        gvk: String,
        #[source]
        source: WebhookError,
    },
    /// The webhook answered, with a failure or something that is not a ConversionReview.
    #[error("conversion webhook for {gvk} failed: {source}")]
    Failed {
        gvk: String,
        #[source]
        source: AnswerError,
    },
    /// The webhook returned another number of objects than it was sent.
    #[error("conversion webhook for {gvk} returned {got} objects, expected {want}")]
    Count { gvk: String, got: usize, want: usize },
    /// A returned object is not the object sent, at the version asked for.
    #[error("conversion webhook for {gvk} returned invalid {what}: {reason}")]
    Invalid { gvk: String, what: String, reason: String },
    /// A returned object's labels or annotations are not usable.
    #[error("conversion webhook for {gvk} returned invalid {what}: {source}")]
    Metadata {
        gvk: String,
        what: String,
        #[source]
        source: MetaError,
    },
    /// The version asked for is not served.
    #[error("request to convert CR to an invalid group/version: {0}")]
    Version(String),
}

/// Why a webhook's answer holds no converted objects, in the API server's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
// Variant fields are the message's parts.
#[allow(missing_docs)]
pub(super) enum AnswerError {
    #[error("expected webhook response of apiextensions.k8s.io/v1, Kind=ConversionReview, got {api_version}, Kind={kind}")]
    Kind { api_version: String, kind: String },
    #[error("no response provided")]
    Absent,
    #[error("expected response.uid={want:?}, got {got:?}")]
    Uid { want: String, got: String },
    /// The webhook's `result.message`.
    #[error("{0}")]
    Refused(String),
    #[error("response.result.status was '{0}', not 'Success'")]
    Status(String),
}

/// Why a converted object's metadata is refused, in the API server's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
// Variant fields are the message's parts.
#[allow(missing_docs)]
pub(super) enum MetaError {
    #[error("missing metadata in converted object")]
    Missing,
    #[error("invalid metadata of type {0} in converted object")]
    NotAMap(&'static str),
    #[error("invalid metadata.{field} of type {ty} in converted object")]
    FieldNotAMap { field: &'static str, ty: &'static str },
    #[error("metadata.{field}[{key}] must be a string, but is {ty} in converted object")]
    NotAString { field: &'static str, key: String, ty: &'static str },
    /// The label and annotation rules' messages.
    #[error("{0}")]
    Rules(String),
}

/// `group/version, Kind=Kind`, as Go prints a GroupVersionKind.
fn gvk(api_version: &str, kind: &str) -> String {
    format!("{api_version}, Kind={kind}")
}

fn text<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

/// kube-aware version order, highest priority first: GA before beta before alpha, higher
/// numbers first, then anything else alphabetically (`v2`, `v1`, `v1beta2`, `v1beta1`,
/// `v1alpha1`, `foo`).
pub(super) fn version_order(a: &str, b: &str) -> Ordering {
    fn parse(v: &str) -> Option<(u8, u64, u64)> {
        let rest = v.strip_prefix('v')?;
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let major: u64 = rest[..digits].parse().ok()?;
        if rest[..digits].starts_with('0') {
            return None;
        }
        let tail = &rest[digits..];
        if tail.is_empty() {
            return Some((2, major, 0));
        }
        let (level, n) = if let Some(n) = tail.strip_prefix("beta") {
            (1, n)
        } else if let Some(n) = tail.strip_prefix("alpha") {
            (0, n)
        } else {
            return None;
        };
        if n.is_empty() || n.starts_with('0') || !n.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        Some((level, major, n.parse().ok()?))
    }
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => y.cmp(&x),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// The CustomResourceDefinition that serves `(group, plural)`, if it is a custom resource.
pub(super) fn crd(store: &MemCluster, group: &str, plural: &str) -> Option<Value> {
    let crds = katalog::kinds::known("apiextensions.k8s.io", "CustomResourceDefinition")?;
    store.peek(&crds, None, &format!("{plural}.{group}"))
}

/// The versions a resource is served at: a custom resource's `served` versions, in the API
/// server's order (highest priority first); a built-in resource's one version.
pub(super) fn served_versions(store: &MemCluster, r: &ApiResource) -> Vec<String> {
    let Some(crd) = crd(store, &r.group, &r.plural) else { return vec![r.version.clone()] };
    let mut versions: Vec<String> = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.get("served").and_then(Value::as_bool) != Some(false))
        .filter_map(|v| v.get("name").and_then(Value::as_str).map(str::to_string))
        .collect();
    versions.sort_by(|a, b| version_order(a, b));
    versions
}

/// Whether objects of `r` may need a conversion webhook: its CRD's strategy is `Webhook`.
pub(super) fn converts_by_webhook(store: &MemCluster, r: &ApiResource) -> bool {
    crd(store, &r.group, &r.plural).is_some_and(|crd| text(&crd, "/spec/conversion/strategy") == "Webhook")
}

/// One object of `r` at `version`.
pub(super) async fn convert_one(store: &MemCluster, r: &ApiResource, object: Value, version: &str) -> Result<Value, ConversionError> {
    let mut out = convert(store, r, vec![object], version, false).await?;
    out.pop().ok_or_else(|| ConversionError::Count { gvk: gvk(&r.api_version(), &r.kind), got: 0, want: 1 })
}

/// Objects of `r` (each at its own apiVersion) at `version`, in one webhook call for those
/// not already there. `list`: they are the items of a list (for the message, which names
/// the list's kind).
pub(super) async fn convert(store: &MemCluster, r: &ApiResource, mut objects: Vec<Value>, version: &str, list: bool) -> Result<Vec<Value>, ConversionError> {
    let desired = if r.group.is_empty() { version.to_string() } else { format!("{}/{version}", r.group) };
    // Only objects are converted: a body that is not one is left for the store to refuse.
    let pending: Vec<usize> = (0..objects.len()).filter(|&i| objects[i].is_object() && text(&objects[i], "/apiVersion") != desired).collect();
    if pending.is_empty() {
        return Ok(objects);
    }
    let Some(crd) = crd(store, &r.group, &r.plural) else {
        // A built-in resource is served at one version: nothing to convert but the name.
        for i in pending {
            objects[i]["apiVersion"] = json!(desired);
        }
        return Ok(objects);
    };
    if !served_versions(store, r).iter().any(|v| v == version) {
        return Err(ConversionError::Version(desired));
    }
    if text(&crd, "/spec/conversion/strategy") != "Webhook" {
        for i in pending {
            objects[i]["apiVersion"] = json!(desired);
        }
        return Ok(objects);
    }
    let from = text(&objects[pending[0]], "/apiVersion").to_string();
    let kind = if list { format!("{}List", r.kind) } else { r.kind.clone() };
    let gvk = gvk(&from, &kind);
    static UID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let uid = format!("00000000-0000-4000-a000-{:012x}", UID.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let sent: Vec<Value> = pending.iter().map(|&i| objects[i].clone()).collect();
    let review = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
                        "request": {"uid": uid, "desiredAPIVersion": desired, "objects": sent}});
    let answer = webhook::post(crd.pointer("/spec/conversion/webhook/clientConfig"), &review, TIMEOUT)
        .await
        .map_err(|source| ConversionError::Call { gvk: gvk.clone(), source })?;
    let converted = converted_objects(&answer, &uid).map_err(|source| ConversionError::Failed { gvk: gvk.clone(), source })?;
    if converted.len() != pending.len() {
        return Err(ConversionError::Count { gvk, got: converted.len(), want: pending.len() });
    }
    for (n, (&i, mut out)) in pending.iter().zip(converted).enumerate() {
        let (object_what, meta_what) =
            if list { (format!("converted object at index {n}"), format!("metadata in object at index {n}")) } else { ("object".into(), "metadata".into()) };
        let invalid = |what: &str, reason: String| ConversionError::Invalid { gvk: gvk.clone(), what: what.to_string(), reason };
        let original = &objects[i];
        if !out.is_object() {
            return Err(invalid(&object_what, format!("invalid type, expected=Unstructured, got={}", json_type(&out))));
        }
        if text(&out, "/apiVersion") != desired {
            return Err(invalid(&object_what, format!("invalid groupVersion (expected {desired}, received {})", text(&out, "/apiVersion"))));
        }
        for (field, pointer) in [("kind", "/kind"), ("name", "/metadata/name"), ("namespace", "/metadata/namespace"), ("UID", "/metadata/uid")] {
            let (want, got) = (text(original, pointer), text(&out, pointer));
            if want != got {
                let reason = if field == "kind" {
                    format!("invalid kind (expected {want}, received {got})")
                } else {
                    format!("must have the same {field}: {want} != {got}")
                };
                return Err(invalid(&object_what, reason));
            }
        }
        restore_meta(original, &mut out).map_err(|source| ConversionError::Metadata { gvk: gvk.clone(), what: meta_what, source })?;
        objects[i] = out;
    }
    Ok(objects)
}

/// The `convertedObjects` of a ConversionReview answer, or why there are none (the API server's
/// words).
fn converted_objects(answer: &Value, uid: &str) -> Result<Vec<Value>, AnswerError> {
    let (api_version, kind) = (text(answer, "/apiVersion"), text(answer, "/kind"));
    if api_version != "apiextensions.k8s.io/v1" || kind != "ConversionReview" {
        return Err(AnswerError::Kind { api_version: api_version.into(), kind: kind.into() });
    }
    let Some(response) = answer.get("response").filter(|r| r.is_object()) else { return Err(AnswerError::Absent) };
    if text(response, "/uid") != uid {
        return Err(AnswerError::Uid { want: uid.into(), got: text(response, "/uid").into() });
    }
    let status = text(response, "/result/status");
    if status != "Success" {
        let message = text(response, "/result/message");
        return Err(if message.is_empty() { AnswerError::Status(status.into()) } else { AnswerError::Refused(message.into()) });
    }
    Ok(response.get("convertedObjects").and_then(Value::as_array).cloned().unwrap_or_default())
}

/// The converted object keeps the original's metadata, except the labels and annotations the
/// webhook returned (which must be maps of strings, and valid).
fn restore_meta(original: &Value, converted: &mut Value) -> Result<(), MetaError> {
    let returned = match converted.get("metadata") {
        Some(Value::Object(m)) => m.clone(),
        Some(other) => return Err(MetaError::NotAMap(json_type(other))),
        None => return Err(MetaError::Missing),
    };
    let mut meta = original.get("metadata").and_then(Value::as_object).cloned().unwrap_or_default();
    for field in ["labels", "annotations"] {
        match returned.get(field) {
            None | Some(Value::Null) => {
                meta.remove(field);
            }
            Some(Value::Object(m)) => {
                if let Some((k, v)) = m.iter().find(|(_, v)| !v.is_string()) {
                    return Err(MetaError::NotAString { field, key: k.clone(), ty: json_type(v) });
                }
                // Labels and annotations the webhook changed must still be valid ones.
                let errors = katalog::names::check_metadata("", "", &json!({ field: m }));
                if !errors.is_empty() {
                    return Err(MetaError::Rules(errors.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")));
                }
                meta.insert(field.into(), Value::Object(m.clone()));
            }
            Some(other) => return Err(MetaError::FieldNotAMap { field, ty: json_type(other) }),
        }
    }
    converted["metadata"] = Value::Object(meta);
    Ok(())
}

/// Go's name for the type a JSON value decodes into.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(_) => "int64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_ordered_as_kube_orders_them() {
        let mut v = vec!["v1alpha1", "foo", "v1", "v1beta1", "v2", "v1beta2", "v10", "bar"];
        v.sort_by(|a, b| version_order(a, b));
        assert_eq!(v, ["v10", "v2", "v1", "v1beta2", "v1beta1", "v1alpha1", "bar", "foo"]);
    }

    #[test]
    fn answers_are_checked_like_the_api_server_checks_them() {
        let ok = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
                        "response": {"uid": "u", "result": {"status": "Success"}, "convertedObjects": [{}]}});
        assert_eq!(converted_objects(&ok, "u").unwrap().len(), 1);
        assert_eq!(converted_objects(&ok, "x").unwrap_err().to_string(), r#"expected response.uid="x", got "u""#);
        let failed = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
                            "response": {"uid": "u", "result": {"status": "Failure", "message": "no path from v3"}}});
        assert_eq!(converted_objects(&failed, "u").unwrap_err().to_string(), "no path from v3");
        assert!(converted_objects(&json!({}), "u").unwrap_err().to_string().starts_with("expected webhook response of apiextensions.k8s.io/v1"));
    }

    #[test]
    fn metadata_is_kept_but_labels_and_annotations_come_from_the_webhook() {
        let original = json!({"metadata": {"name": "a", "uid": "1", "resourceVersion": "7", "labels": {"x": "1"}}});
        let mut converted = json!({"metadata": {"name": "a", "resourceVersion": "99", "labels": {"y": "2"}, "annotations": {"n": "z"}}});
        restore_meta(&original, &mut converted).unwrap();
        assert_eq!(converted["metadata"], json!({"name": "a", "uid": "1", "resourceVersion": "7", "labels": {"y": "2"}, "annotations": {"n": "z"}}));
        let mut bad = json!({"metadata": {"labels": {"y": 2}}});
        assert_eq!(restore_meta(&original, &mut bad).unwrap_err().to_string(), "metadata.labels[y] must be a string, but is int64 in converted object");
    }
}
