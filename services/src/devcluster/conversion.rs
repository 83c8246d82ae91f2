//! Versions of custom resources: a CustomResourceDefinition serves every version marked
//! `served`, and objects are stored once, at the `storage` version. Reads at another version
//! convert what is stored, writes at another version convert what is sent; with the CRD's
//! conversion strategy `None` only `apiVersion` changes, with `Webhook` a `ConversionReview`
//! (apiextensions.k8s.io/v1) goes to `spec.conversion.webhook.clientConfig` and its answer is
//! checked as kube-apiserver checks it (apiextensions-apiserver's webhook converter): the uid,
//! the number of objects, each one's apiVersion, kind, name, namespace and uid; metadata other
//! than labels and annotations is kept from the original.

use super::api::Api;
use super::webhook::{self, WebhookError};
use crate::cluster::ApiResource;
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
    #[error("conversion webhook for {gvk} failed: {reason}")]
    Failed { gvk: String, reason: String },
    /// The webhook returned another number of objects than it was sent.
    #[error("conversion webhook for {gvk} returned {got} objects, expected {want}")]
    Count { gvk: String, got: usize, want: usize },
    /// A returned object is not the object sent, at the version asked for.
    #[error("conversion webhook for {gvk} returned invalid {what}: {reason}")]
    Invalid { gvk: String, what: String, reason: String },
    /// The version asked for is not served.
    #[error("request to convert CR to an invalid group/version: {0}")]
    Version(String),
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

impl Api {
    /// The versions a resource is served at: a custom resource's `served` versions, in the API
    /// server's order (highest priority first); a built-in resource's one version.
    pub(super) fn served_versions(&self, r: &ApiResource) -> Vec<String> {
        let Some(crd) = self.crd_of(&r.group, &r.plural) else { return vec![r.version.clone()] };
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
    pub(super) fn converts_by_webhook(&self, r: &ApiResource) -> bool {
        self.crd_of(&r.group, &r.plural).is_some_and(|crd| text(&crd, "/spec/conversion/strategy") == "Webhook")
    }

    /// One object of `r` at `version`.
    pub(super) async fn convert_one(&self, r: &ApiResource, object: Value, version: &str) -> Result<Value, ConversionError> {
        let mut out = self.convert(r, vec![object], version, false).await?;
        out.pop().ok_or_else(|| ConversionError::Count { gvk: gvk(&r.api_version(), &r.kind), got: 0, want: 1 })
    }

    /// Objects of `r` (each at its own apiVersion) at `version`, in one webhook call for those
    /// not already there. `list`: they are the items of a list (for the message, which names
    /// the list's kind).
    pub(super) async fn convert(&self, r: &ApiResource, mut objects: Vec<Value>, version: &str, list: bool) -> Result<Vec<Value>, ConversionError> {
        let desired = if r.group.is_empty() { version.to_string() } else { format!("{}/{version}", r.group) };
        let pending: Vec<usize> = (0..objects.len()).filter(|&i| text(&objects[i], "/apiVersion") != desired).collect();
        if pending.is_empty() {
            return Ok(objects);
        }
        let Some(crd) = self.crd_of(&r.group, &r.plural) else {
            // A built-in resource is served at one version: nothing to convert but the name.
            for i in pending {
                objects[i]["apiVersion"] = json!(desired);
            }
            return Ok(objects);
        };
        if !self.served_versions(r).iter().any(|v| v == version) {
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
        let converted = converted_objects(&answer, &uid).map_err(|reason| ConversionError::Failed { gvk: gvk.clone(), reason })?;
        if converted.len() != pending.len() {
            return Err(ConversionError::Count { gvk, got: converted.len(), want: pending.len() });
        }
        for (n, (&i, mut out)) in pending.iter().zip(converted).enumerate() {
            let (object_what, meta_what) = if list {
                (format!("converted object at index {n}"), format!("metadata in object at index {n}"))
            } else {
                ("object".into(), "metadata".into())
            };
            let invalid = |what: &str, reason: String| ConversionError::Invalid { gvk: gvk.clone(), what: what.to_string(), reason };
            let original = &objects[i];
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
            restore_meta(original, &mut out).map_err(|reason| invalid(&meta_what, reason))?;
            objects[i] = out;
        }
        Ok(objects)
    }
}

/// The `convertedObjects` of a ConversionReview answer, or why there are none (the API server's
/// words).
fn converted_objects(answer: &Value, uid: &str) -> Result<Vec<Value>, String> {
    let (api_version, kind) = (text(answer, "/apiVersion"), text(answer, "/kind"));
    if api_version != "apiextensions.k8s.io/v1" || kind != "ConversionReview" {
        return Err(format!("expected webhook response of apiextensions.k8s.io/v1, Kind=ConversionReview, got {api_version}, Kind={kind}"));
    }
    let Some(response) = answer.get("response").filter(|r| r.is_object()) else { return Err("no response provided".into()) };
    if text(response, "/uid") != uid {
        return Err(format!("expected response.uid={uid:?}, got {:?}", text(response, "/uid")));
    }
    let status = text(response, "/result/status");
    if status != "Success" {
        let message = text(response, "/result/message");
        return Err(if message.is_empty() { format!("response.result.status was '{status}', not 'Success'") } else { message.to_string() });
    }
    Ok(response.get("convertedObjects").and_then(Value::as_array).cloned().unwrap_or_default())
}

/// The converted object keeps the original's metadata, except the labels and annotations the
/// webhook returned (which must be maps of strings, and valid).
fn restore_meta(original: &Value, converted: &mut Value) -> Result<(), String> {
    let returned = match converted.get("metadata") {
        Some(Value::Object(m)) => m.clone(),
        Some(other) => return Err(format!("invalid metadata of type {} in converted object", json_type(other))),
        None => return Err("missing metadata in converted object".into()),
    };
    let mut meta = original.get("metadata").and_then(Value::as_object).cloned().unwrap_or_default();
    for field in ["labels", "annotations"] {
        match returned.get(field) {
            None | Some(Value::Null) => {
                meta.remove(field);
            }
            Some(Value::Object(m)) => {
                if let Some((k, v)) = m.iter().find(|(_, v)| !v.is_string()) {
                    return Err(format!("metadata.{field}[{k}] must be a string, but is {} in converted object", json_type(v)));
                }
                // Labels and annotations the webhook changed must still be valid ones.
                let errors = katalog::names::check_metadata("", "", &json!({ field: m }));
                if !errors.is_empty() {
                    return Err(errors.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "));
                }
                meta.insert(field.into(), Value::Object(m.clone()));
            }
            Some(other) => return Err(format!("invalid metadata.{field} of type {} in converted object", json_type(other))),
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
        assert_eq!(converted_objects(&ok, "x").unwrap_err(), r#"expected response.uid="x", got "u""#);
        let failed = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
                            "response": {"uid": "u", "result": {"status": "Failure", "message": "no path from v3"}}});
        assert_eq!(converted_objects(&failed, "u").unwrap_err(), "no path from v3");
        assert!(converted_objects(&json!({}), "u").unwrap_err().starts_with("expected webhook response of apiextensions.k8s.io/v1"));
    }

    #[test]
    fn metadata_is_kept_but_labels_and_annotations_come_from_the_webhook() {
        let original = json!({"metadata": {"name": "a", "uid": "1", "resourceVersion": "7", "labels": {"x": "1"}}});
        let mut converted = json!({"metadata": {"name": "a", "resourceVersion": "99", "labels": {"y": "2"}, "annotations": {"n": "z"}}});
        restore_meta(&original, &mut converted).unwrap();
        assert_eq!(converted["metadata"], json!({"name": "a", "uid": "1", "resourceVersion": "7", "labels": {"y": "2"}, "annotations": {"n": "z"}}));
        let mut bad = json!({"metadata": {"labels": {"y": 2}}});
        assert_eq!(restore_meta(&original, &mut bad).unwrap_err(), "metadata.labels[y] must be a string, but is int64 in converted object");
    }
}
