//! Admission: the dev cluster calls the Mutating- and ValidatingWebhookConfigurations stored in
//! it, as the API server does — mutating webhooks first (their JSON patches applied in turn),
//! then validating ones; rules, scope, namespaceSelector and objectSelector decide which
//! webhooks see a request; `failurePolicy` and `timeoutSeconds` apply when a call fails.
//! Webhooks are reached by `clientConfig.url` over HTTPS, trusting `clientConfig.caBundle`.

use super::conversion::{convert_one, served_versions};
use super::warning::Warnings;
use super::webhook;
use crate::cluster::{ApiResource, MemCluster, apply_json_patch};
use serde_json::{Value, json};
use std::time::Duration;

/// Why a request was not admitted: the HTTP status, the Status reason, the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// HTTP status.
    pub code: u16,
    /// `Forbidden`, `InternalError`, …
    pub reason: String,
    /// What kubectl prints.
    pub message: String,
}

/// One request as admission sees it.
#[allow(missing_docs)]
pub struct Attributes<'a> {
    /// `CREATE`, `UPDATE`, `DELETE`.
    pub operation: &'a str,
    pub resource: &'a ApiResource,
    /// `status`, or none.
    pub sub: Option<&'a str>,
    pub namespace: Option<&'a str>,
    /// Object name.
    pub name: &'a str,
    /// The object after the request (create, update).
    pub object: Option<&'a Value>,
    /// The object before it (update, delete).
    pub old: Option<&'a Value>,
    /// Who makes the request (after impersonation).
    pub user: &'a super::authz::User,
    /// A `dryRun=All` request: webhooks see `dryRun: true`, and one that declares side effects
    /// (`sideEffects` other than `None` and `NoneOnDryRun`) refuses it.
    pub dry_run: bool,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect()).unwrap_or_default()
}

fn rule_matches(rule: &Value, a: &Attributes<'_>) -> bool {
    let any = |list: Vec<String>, x: &str| list.iter().any(|i| i == "*" || i == x);
    let r = a.resource;
    let resource_ok = strings(rule.get("resources")).iter().any(|e| {
        let (res, sub) = e.split_once('/').map_or((e.as_str(), None), |(x, y)| (x, Some(y)));
        let res_ok = res == "*" || res == r.plural;
        let sub_ok = match (sub, a.sub) {
            (None, None) => true,
            (Some("*"), _) => true,
            (Some(s), Some(want)) => s == want,
            _ => false,
        };
        res_ok && sub_ok
    });
    let scope_ok = match rule.get("scope").and_then(Value::as_str).unwrap_or("*") {
        "Namespaced" => r.namespaced,
        "Cluster" => !r.namespaced,
        _ => true,
    };
    any(strings(rule.get("operations")), a.operation)
        && any(strings(rule.get("apiGroups")), &r.group)
        && any(strings(rule.get("apiVersions")), &r.version)
        && resource_ok
        && scope_ok
}

/// A `metav1.LabelSelector` (matchLabels, matchExpressions) against labels; absent matches all.
pub fn selector_matches(selector: Option<&Value>, labels: Option<&Value>) -> bool {
    let Some(sel) = selector.filter(|s| s.as_object().is_some_and(|m| !m.is_empty())) else { return true };
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    let labels_ok = sel.get("matchLabels").and_then(Value::as_object).is_none_or(|m| m.iter().all(|(k, v)| get(k) == v.as_str()));
    let exprs_ok = sel.get("matchExpressions").and_then(Value::as_array).is_none_or(|es| {
        es.iter().all(|e| {
            let key = e.get("key").and_then(Value::as_str).unwrap_or_default();
            let values = strings(e.get("values"));
            match e.get("operator").and_then(Value::as_str).unwrap_or_default() {
                "In" => get(key).is_some_and(|v| values.iter().any(|x| x == v)),
                "NotIn" => get(key).is_none_or(|v| !values.iter().any(|x| x == v)),
                "Exists" => get(key).is_some(),
                "DoesNotExist" => get(key).is_none(),
                _ => false,
            }
        })
    });
    labels_ok && exprs_ok
}

/// The resource, at the version the webhook sees it, when the webhook's rules match the request:
/// at the version of the request, or — unless `matchPolicy: Exact` — at another version the
/// resource is served at (the API server's default `Equivalent` policy: a webhook registered for
/// `v1` also sees requests made at `v2`, converted to `v1`).
fn matched(store: &MemCluster, hook: &Value, a: &Attributes<'_>) -> Option<ApiResource> {
    let rules = hook.get("rules").and_then(Value::as_array).cloned().unwrap_or_default();
    if rules.iter().any(|r| rule_matches(r, a)) {
        return Some(a.resource.clone());
    }
    if hook.get("matchPolicy").and_then(Value::as_str) == Some("Exact") {
        return None;
    }
    served_versions(store, a.resource).into_iter().filter(|v| *v != a.resource.version).find_map(|version| {
        let r = ApiResource { version, ..a.resource.clone() };
        let at = Attributes { resource: &r, ..*a };
        rules.iter().any(|rule| rule_matches(rule, &at)).then_some(r)
    })
}

/// Whether the webhook's objectSelector and namespaceSelector select the request.
fn selects(store: &MemCluster, hook: &Value, a: &Attributes<'_>) -> bool {
    let labels_of = |o: Option<&Value>| o.and_then(|o| o.pointer("/metadata/labels")).cloned();
    // The object selector matches when either the new or the old object matches.
    let object_ok = [a.object, a.old].into_iter().flatten().any(|o| selector_matches(hook.get("objectSelector"), labels_of(Some(o)).as_ref()));
    let ns_labels = if a.resource.group.is_empty() && a.resource.plural == "namespaces" {
        labels_of(a.object.or(a.old))
    } else {
        match a.namespace {
            Some(ns) => katalog::kinds::builtin_by_kind("Namespace")
                .and_then(|r| store.objects(&r).into_iter().find(|n| n.pointer("/metadata/name").and_then(Value::as_str) == Some(ns)))
                .and_then(|n| n.pointer("/metadata/labels").cloned()),
            None => return object_ok,
        }
    };
    object_ok && selector_matches(hook.get("namespaceSelector"), ns_labels.as_ref())
}

/// The AdmissionReview of a request made at `request` and seen by the webhook as `a` (the same,
/// or another version of it).
fn review(a: &Attributes<'_>, request: &ApiResource, uid: u64) -> Value {
    let (r, q) = (a.resource, request);
    let mut req = json!({
        "uid": format!("00000000-0000-4000-9000-{uid:012x}"),
        "kind": {"group": r.group, "version": r.version, "kind": r.kind},
        "resource": {"group": r.group, "version": r.version, "resource": r.plural},
        "requestKind": {"group": q.group, "version": q.version, "kind": q.kind},
        "requestResource": {"group": q.group, "version": q.version, "resource": q.plural},
        "name": a.name,
        "operation": a.operation,
        "userInfo": a.user.info(),
        "object": a.object,
        "oldObject": a.old,
        "dryRun": a.dry_run,
    });
    if let Some(ns) = a.namespace {
        req["namespace"] = json!(ns);
    }
    if let Some(s) = a.sub {
        req["subResource"] = json!(s);
    }
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req})
}

fn configs(store: &MemCluster, kind: &str) -> Vec<Value> {
    let Some(r) = katalog::kinds::known("admissionregistration.k8s.io", kind) else { return Vec::new() };
    store.objects(&r)
}

/// The configurations of `kind`, by name (the order webhooks are called in).
fn hooks(store: &MemCluster, kind: &str) -> Vec<Value> {
    let mut cfgs = configs(store, kind);
    cfgs.sort_by_key(|c| c.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string());
    cfgs.iter().flat_map(|c| c.get("webhooks").and_then(Value::as_array).cloned().unwrap_or_default()).collect()
}

fn internal(message: String) -> Rejection {
    Rejection { code: 500, reason: "InternalError".into(), message }
}

/// The `response` of a webhook's answer, checked as the API server checks it: present, for the
/// request sent (its uid), an `admission.k8s.io/v1` AdmissionReview; else why not, in the API
/// server's words.
fn verify(answer: &Value, uid: &str) -> Result<Value, InvalidResponse> {
    let Some(response) = answer.get("response").filter(|r| r.is_object()) else { return Err(InvalidResponse::Absent) };
    let got = response.get("uid").and_then(Value::as_str).unwrap_or_default();
    if got != uid {
        return Err(InvalidResponse::Uid { want: uid.into(), got: got.into() });
    }
    let text = |k: &str| answer.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    if text("apiVersion") != "admission.k8s.io/v1" || text("kind") != "AdmissionReview" {
        return Err(InvalidResponse::Kind { api_version: text("apiVersion"), kind: text("kind") });
    }
    Ok(response.clone())
}

/// Why a webhook's answer is not a response to the request, in the API server's words.
#[derive(Debug, thiserror::Error)]
// Variant fields are the message's parts.
#[allow(missing_docs)]
enum InvalidResponse {
    #[error("webhook response was absent")]
    Absent,
    #[error("expected response.uid={want:?}, got {got:?}")]
    Uid { want: String, got: String },
    #[error("expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got {api_version}, Kind={kind}")]
    Kind { api_version: String, kind: String },
}

/// Asks one webhook about the request: its response when it allows it (its warnings recorded
/// either way, as the API server records them before it looks at `allowed`), `None` when the call
/// failed under `failurePolicy: Ignore`, or why the request is refused.
async fn ask(hook: &Value, a: &Attributes<'_>, request: &ApiResource, warnings: &Warnings) -> Result<Option<Value>, Rejection> {
    static UID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let name = hook.get("name").and_then(Value::as_str).unwrap_or("?");
    let timeout = Duration::from_secs(hook.get("timeoutSeconds").and_then(Value::as_u64).unwrap_or(10).clamp(1, 30));
    let review = review(a, request, UID.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let ignore = hook.get("failurePolicy").and_then(Value::as_str) == Some("Ignore");
    let response = match webhook::post(hook.get("clientConfig"), &review, timeout).await {
        Ok(answer) => match verify(&answer, review.pointer("/request/uid").and_then(Value::as_str).unwrap_or_default()) {
            Ok(response) => response,
            Err(_) if ignore => return Ok(None),
            Err(why) => return Err(internal(format!("Internal error occurred: failed calling webhook \"{name}\": received invalid webhook response: {why}"))),
        },
        Err(_) if ignore => return Ok(None),
        Err(e) => return Err(internal(format!("Internal error occurred: failed calling webhook \"{name}\": failed to call webhook: {e}"))),
    };
    for w in response.get("warnings").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        warnings.add(w);
    }
    if response.get("allowed").and_then(Value::as_bool) != Some(true) {
        let st = response.get("status").cloned().unwrap_or(json!({}));
        let msg = st.get("message").and_then(Value::as_str).unwrap_or("");
        let code = st.get("code").and_then(Value::as_u64).filter(|c| (400..600).contains(c)).unwrap_or(403) as u16;
        let reason = st.get("reason").and_then(Value::as_str).filter(|r| !r.is_empty()).unwrap_or(if code == 403 { "Forbidden" } else { "BadRequest" });
        return Err(Rejection { code, reason: reason.to_string(), message: format!("admission webhook \"{name}\" denied the request: {msg}") });
    }
    Ok(Some(response))
}

/// Converts the objects of a request to the version the webhook sees (`seen`), or back.
async fn convert(store: &MemCluster, object: Option<&Value>, seen: &ApiResource) -> Result<Option<Value>, Rejection> {
    match object {
        None => Ok(None),
        Some(o) => convert_one(store, seen, o.clone(), &seen.version).await.map(Some).map_err(|e| internal(format!("Internal error occurred: {e}"))),
    }
}

/// Asks one webhook about the request, at the version it wants to see, and returns the object as
/// it stands afterwards (at the version of the request): patched by a mutating webhook, else
/// unchanged — also when the webhook does not select the request or is skipped under `Ignore`.
async fn call(store: &MemCluster, hook: &Value, a: &Attributes<'_>, warnings: &Warnings, mutating: bool) -> Result<Option<Value>, Rejection> {
    let Some(seen) = matched(store, hook, a) else { return Ok(a.object.cloned()) };
    if !selects(store, hook, a) {
        return Ok(a.object.cloned());
    }
    // The API server calls no webhook with side effects about a dry run: it refuses the request.
    if a.dry_run && !matches!(hook.get("sideEffects").and_then(Value::as_str), Some("None" | "NoneOnDryRun")) {
        let name = hook.get("name").and_then(Value::as_str).unwrap_or("?");
        return Err(Rejection { code: 400, reason: "BadRequest".into(), message: format!("admission webhook {name:?} does not support dry run") });
    }
    let converted = seen.version != a.resource.version;
    let (object, old) =
        if converted { (convert(store, a.object, &seen).await?, convert(store, a.old, &seen).await?) } else { (a.object.cloned(), a.old.cloned()) };
    let at = Attributes { resource: &seen, object: object.as_ref(), old: old.as_ref(), ..*a };
    let Some(response) = ask(hook, &at, a.resource, warnings).await? else { return Ok(a.object.cloned()) };
    let mut object = object;
    if mutating && let (Some(p), Some(obj)) = (response.get("patch").and_then(Value::as_str), object.as_mut()) {
        let name = hook.get("name").and_then(Value::as_str).unwrap_or("?");
        let ops = katalog::template::base64_decode(p)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .ok_or_else(|| internal(format!("Internal error occurred: webhook \"{name}\" returned a patch that is not base64 JSON")))?;
        apply_json_patch(obj, &ops).map_err(|e| internal(format!("Internal error occurred: webhook \"{name}\": {e}")))?;
        if converted {
            return convert(store, object.as_ref(), a.resource).await;
        }
        return Ok(object);
    }
    Ok(a.object.cloned())
}

/// Runs admission for a request; returns the object to store (mutated), or why not. What the
/// webhooks warn of goes to `warnings`, also when a webhook refuses the request.
pub async fn admit(store: &MemCluster, a: &Attributes<'_>, warnings: &Warnings) -> Result<Option<Value>, Rejection> {
    // The API server does not call webhooks about webhook configurations.
    if a.resource.group == "admissionregistration.k8s.io" {
        return Ok(a.object.cloned());
    }
    let mut object = a.object.cloned();
    // Mutating webhooks one after another, each seeing what the previous ones made.
    for hook in hooks(store, "MutatingWebhookConfiguration") {
        let now = Attributes { object: object.as_ref(), ..*a };
        object = call(store, &hook, &now, warnings, true).await?;
    }
    // Validating webhooks all at once, as the API server calls them: every one that answers has
    // its warnings kept; the first refusal (in configuration order) is the answer.
    let now = Attributes { object: object.as_ref(), ..*a };
    let now = &now;
    let asked: Vec<_> =
        hooks(store, "ValidatingWebhookConfiguration").into_iter().map(|hook| async move { call(store, &hook, now, warnings, false).await }).collect();
    for answer in futures_util::future::join_all(asked).await {
        answer?;
    }
    Ok(object)
}
