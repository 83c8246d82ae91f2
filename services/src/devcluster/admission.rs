//! Admission: the dev cluster calls the Mutating- and ValidatingWebhookConfigurations stored in
//! it, as the API server does — mutating webhooks first (their JSON patches applied in turn),
//! then validating ones; rules, scope, namespaceSelector and objectSelector decide which
//! webhooks see a request; `failurePolicy` and `timeoutSeconds` apply when a call fails.
//! Webhooks are reached by `clientConfig.url` over HTTPS, trusting `clientConfig.caBundle`.

use crate::cluster::{ApiResource, MemCluster, apply_json_patch};
use crate::serve::tls;
use axum::body::Bytes;
use axum::http::{Request, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

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

fn wants(store: &MemCluster, hook: &Value, a: &Attributes<'_>) -> bool {
    let rules = hook.get("rules").and_then(Value::as_array).cloned().unwrap_or_default();
    if !rules.iter().any(|r| rule_matches(r, a)) {
        return false;
    }
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

/// Why a webhook could not be called; the text follows the API server's, after `failed to
/// call webhook: `.
#[derive(Debug, thiserror::Error)]
// Variant fields are the message's parts and its `#[source]` cause.
#[allow(missing_docs)]
pub enum WebhookError {
    /// The webhook is addressed by `clientConfig.service`.
    #[error("clientConfig.service is not supported by the ork dev cluster (no cluster DNS); use clientConfig.url")]
    ServiceRef,
    /// `clientConfig.url` does not parse.
    #[error("bad webhook URL {url:?}: {source}")]
    Url {
        url: String,
        #[source]
        source: axum::http::uri::InvalidUri,
    },
    /// The URL is not https.
    #[error("webhook URL {0:?} must use https")]
    NotHttps(String),
    /// `clientConfig.caBundle` is not base64.
    #[error("caBundle is not base64: {0}")]
    CaBundleEncoding(String),
    /// `clientConfig.caBundle` is missing.
    #[error("clientConfig.caBundle is required by the ork dev cluster (it has no system roots)")]
    NoCaBundle,
    /// The CA bundle cannot be used.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The host is not a valid TLS server name.
    #[error("bad webhook host {host:?}: {source}")]
    Host {
        host: String,
        #[source]
        source: rustls_pki_types::InvalidDnsNameError,
    },
    /// The TCP connection failed.
    #[error("Post {url:?}: dial tcp {host}:{port}: {source}")]
    Dial {
        url: String,
        host: String,
        port: u16,
        #[source]
        source: std::io::Error,
    },
    /// The TLS handshake failed.
    #[error("Post {url:?}: tls: {source}")]
    Handshake {
        url: String,
        #[source]
        source: std::io::Error,
    },
    /// HTTP failed (handshake, request, body).
    #[error("Post {url:?}: {source}")]
    Http {
        url: String,
        #[source]
        source: hyper::Error,
    },
    /// The request could not be built.
    #[error("{0}")]
    Request(#[from] axum::http::Error),
    /// The webhook answered with an error status.
    #[error("Post {url:?}: the webhook answered HTTP {status}")]
    Status { url: String, status: axum::http::StatusCode },
    /// The answer is not JSON.
    #[error("the webhook's AdmissionReview does not parse: {0}")]
    Review(#[source] serde_json::Error),
    /// No answer within `timeoutSeconds`.
    #[error("context deadline exceeded after {0}s")]
    Timeout(u64),
}

async fn call(hook: &Value, review: &Value) -> Result<Value, WebhookError> {
    let cc = hook.get("clientConfig").cloned().unwrap_or(json!({}));
    let Some(url) = cc.get("url").and_then(Value::as_str) else {
        return Err(WebhookError::ServiceRef);
    };
    let uri: Uri = url.parse().map_err(|source| WebhookError::Url { url: url.to_string(), source })?;
    if uri.scheme_str() != Some("https") {
        return Err(WebhookError::NotHttps(url.to_string()));
    }
    let host = uri.host().unwrap_or_default().trim_matches(|c| c == '[' || c == ']').to_string();
    let port = uri.port_u16().unwrap_or(443);
    let ca = cc
        .get("caBundle")
        .and_then(Value::as_str)
        .map(|b| katalog::template::base64_decode(b).map_err(|e| WebhookError::CaBundleEncoding(e.to_string())))
        .transpose()?;
    let Some(ca) = ca else { return Err(WebhookError::NoCaBundle) };
    let config = tls::client_config(&ca)?;
    let name = ServerName::try_from(host.clone()).map_err(|source| WebhookError::Host { host: host.clone(), source })?;
    let tcp =
        TcpStream::connect((host.as_str(), port)).await.map_err(|source| WebhookError::Dial { url: url.to_string(), host: host.clone(), port, source })?;
    let stream = TlsConnector::from(config).connect(name, tcp).await.map_err(|source| WebhookError::Handshake { url: url.to_string(), source })?;
    let http = |source| WebhookError::Http { url: url.to_string(), source };
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(http)?;
    tokio::spawn(conn);
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
    let req = Request::post(path)
        .header(header::HOST, format!("{host}:{port}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json")
        .body(Full::new(Bytes::from(review.to_string())))?;
    let resp = sender.send_request(req).await.map_err(http)?;
    let status = resp.status();
    let body = resp.into_body().collect().await.map_err(http)?.to_bytes();
    if !status.is_success() {
        return Err(WebhookError::Status { url: url.to_string(), status });
    }
    serde_json::from_slice(&body).map_err(WebhookError::Review)
}

fn review(a: &Attributes<'_>, uid: u64) -> Value {
    let r = a.resource;
    let mut req = json!({
        "uid": format!("00000000-0000-4000-9000-{uid:012x}"),
        "kind": {"group": r.group, "version": r.version, "kind": r.kind},
        "resource": {"group": r.group, "version": r.version, "resource": r.plural},
        "requestKind": {"group": r.group, "version": r.version, "kind": r.kind},
        "requestResource": {"group": r.group, "version": r.version, "resource": r.plural},
        "name": a.name,
        "operation": a.operation,
        "userInfo": a.user.info(),
        "object": a.object,
        "oldObject": a.old,
        "dryRun": false,
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

/// Runs admission for a request; returns the object to store (mutated), or why not.
pub async fn admit(store: &MemCluster, a: &Attributes<'_>) -> Result<Option<Value>, Rejection> {
    // The API server does not call webhooks about webhook configurations.
    if a.resource.group == "admissionregistration.k8s.io" {
        return Ok(a.object.cloned());
    }
    static UID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut object = a.object.cloned();
    for (kind, mutating) in [("MutatingWebhookConfiguration", true), ("ValidatingWebhookConfiguration", false)] {
        let mut cfgs = configs(store, kind);
        cfgs.sort_by_key(|c| c.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string());
        for cfg in cfgs {
            for hook in cfg.get("webhooks").and_then(Value::as_array).cloned().unwrap_or_default() {
                let now = Attributes { object: object.as_ref(), ..*a };
                if !wants(store, &hook, &now) {
                    continue;
                }
                let name = hook.get("name").and_then(Value::as_str).unwrap_or("?").to_string();
                let timeout = Duration::from_secs(hook.get("timeoutSeconds").and_then(Value::as_u64).unwrap_or(10).clamp(1, 30));
                let uid = UID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let answer = match tokio::time::timeout(timeout, call(&hook, &review(&now, uid))).await {
                    Ok(r) => r,
                    Err(_) => Err(WebhookError::Timeout(timeout.as_secs())),
                };
                let response = match answer {
                    Ok(v) => v.get("response").cloned().unwrap_or(json!({})),
                    Err(e) => {
                        if hook.get("failurePolicy").and_then(Value::as_str) == Some("Ignore") {
                            continue;
                        }
                        return Err(Rejection {
                            code: 500,
                            reason: "InternalError".into(),
                            message: format!("Internal error occurred: failed calling webhook \"{name}\": failed to call webhook: {e}"),
                        });
                    }
                };
                if response.get("allowed").and_then(Value::as_bool) != Some(true) {
                    let st = response.get("status").cloned().unwrap_or(json!({}));
                    let msg = st.get("message").and_then(Value::as_str).unwrap_or("");
                    let code = st.get("code").and_then(Value::as_u64).filter(|c| (400..600).contains(c)).unwrap_or(403) as u16;
                    let reason =
                        st.get("reason").and_then(Value::as_str).filter(|r| !r.is_empty()).unwrap_or(if code == 403 { "Forbidden" } else { "BadRequest" });
                    return Err(Rejection { code, reason: reason.to_string(), message: format!("admission webhook \"{name}\" denied the request: {msg}") });
                }
                if mutating && let (Some(p), Some(obj)) = (response.get("patch").and_then(Value::as_str), object.as_mut()) {
                    let ops = katalog::template::base64_decode(p).ok().and_then(|b| serde_json::from_slice::<Value>(&b).ok()).ok_or_else(|| Rejection {
                        code: 500,
                        reason: "InternalError".into(),
                        message: format!("Internal error occurred: webhook \"{name}\" returned a patch that is not base64 JSON"),
                    })?;
                    apply_json_patch(obj, &ops).map_err(|e| Rejection {
                        code: 500,
                        reason: "InternalError".into(),
                        message: format!("Internal error occurred: webhook \"{name}\": {e}"),
                    })?;
                }
            }
        }
    }
    Ok(object)
}
