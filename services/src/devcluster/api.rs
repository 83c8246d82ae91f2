//! Request handling: authentication and authorization of every request, path parsing, the
//! verbs, `Status` bodies, watch streams. Discovery is in `discovery.rs`, the review kinds in
//! `reviews.rs`.

mod collection;
mod scale;

use super::admission::{Attributes, admit};
use super::authn::{self, Refusal, Tokens};
use super::authz::{self, AuditEntry, Request, User};
use super::conversion::{self, ConversionError};
use super::warning::Warnings;
use crate::cluster::{ApiResource, Cluster, ClusterError, MemCluster, Patch, Propagation};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The largest request body accepted, as kube-apiserver's limit (3 MiB).
pub(super) const MAX_BODY: usize = 3 * 1024 * 1024;

impl super::requests::Recorded for Access {
    fn log(&self) -> &super::requests::RequestLog {
        &self.requests
    }

    fn user_of(&self, headers: &axum::http::HeaderMap) -> Option<super::authz::User> {
        self.tokens.authenticate(headers).ok()
    }
}

/// Authentication and authorization settings.
#[derive(Default)]
pub(super) struct Access {
    /// Enforce RBAC (else every signed-in user may do anything, as with the API server's
    /// AlwaysAllow authorizer; anonymous requests are refused either way).
    pub rbac: bool,
    /// Bearer token → user.
    pub tokens: Tokens,
    /// Every decision, in order.
    pub audit: std::sync::Mutex<authz::AuditLog>,
    /// One entry per request answered (`requests::record`).
    pub requests: super::requests::RequestLog,
    /// How long a watch that asked for bookmarks stays quiet before it gets one.
    pub bookmark_every: Duration,
    /// Injected failures.
    pub faults: super::Faults,
    /// Writes seen (for `conflict_every`).
    pub writes: std::sync::atomic::AtomicU64,
    /// Resumed watches seen (for `expire_every`).
    pub resumes: std::sync::atomic::AtomicU64,
}

impl Access {
    /// Whether this write (PUT or PATCH of an object or its status) is refused with a 409.
    fn inject_conflict(&self) -> bool {
        let every = u64::from(self.faults.conflict_every);
        every > 0 && self.writes.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % every == every - 1
    }

    /// Whether this watch resuming from a resourceVersion is told it expired (410).
    pub(super) fn inject_expiry(&self) -> bool {
        let every = u64::from(self.faults.expire_every);
        every > 0 && self.resumes.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % every == every - 1
    }

    /// Records one authorization decision.
    fn record(&self, user: &User, request: &Request, allowed: bool) {
        if let Ok(mut audit) = self.audit.lock() {
            audit.push(AuditEntry { user: user.name.clone(), request: request.clone(), allowed, refused: None });
        }
    }

    /// Authorizes `request` for `user` and records the decision.
    fn authorize(&self, store: &MemCluster, user: &User, request: &Request) -> bool {
        let allowed = authz::authorize(store, self.rbac, user, request);
        self.record(user, request, allowed);
        allowed
    }
}

pub(super) struct Api {
    pub(super) store: Arc<MemCluster>,
    access: Arc<Access>,
    pub(super) addr: SocketAddr,
    /// Becomes true when the server stops: open watch streams end, so shutdown is prompt.
    pub(super) closing: tokio::sync::watch::Receiver<bool>,
}

impl Api {
    /// Authentication, authorization and fault settings.
    pub(super) fn access(&self) -> &Access {
        &self.access
    }
}

pub(super) fn router(store: Arc<MemCluster>, access: Arc<Access>, addr: SocketAddr, closing: tokio::sync::watch::Receiver<bool>) -> Router {
    let recorder = axum::middleware::from_fn_with_state(access.clone(), super::requests::record::<Access>);
    Router::new().fallback(handle).layer(recorder).with_state(Arc::new(Api { store, access, addr, closing }))
}

pub(super) fn respond(code: StatusCode, body: &Value) -> Response {
    Response::builder().status(code).header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())).unwrap_or_default()
}

pub(super) fn ok(body: &Value) -> Response {
    respond(StatusCode::OK, body)
}

/// A Kubernetes `Status` failure body.
pub(super) fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> Value {
    let mut s = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code});
    if let Some(d) = details {
        s["details"] = d;
    }
    s
}

pub(super) fn error(e: &ClusterError, r: Option<&ApiResource>) -> Response {
    let code = e.status_code();
    // The error may be about another resource (the namespace of a create).
    let r = match e {
        ClusterError::NotFound { resource, .. } | ClusterError::AlreadyExists { resource, .. } if r.is_some_and(|r| &r.plural != resource) => None,
        _ => r,
    };
    let (name, message) = match e {
        ClusterError::NotFound { resource, name } => (name.clone(), format!("{} \"{name}\" not found", qualified(r, resource))),
        ClusterError::AlreadyExists { resource, name } => (name.clone(), format!("{} \"{name}\" already exists", qualified(r, resource))),
        ClusterError::Conflict { resource, name, message } => {
            (name.clone(), format!("Operation cannot be fulfilled on {} \"{name}\": {message}", qualified(r, resource)))
        }
        ClusterError::ApplyConflict { name, conflicts, .. } => (name.clone(), crate::cluster::apply_conflict_message(conflicts)),
        ClusterError::Invalid { resource, name, causes } => {
            // Invalid names the kind, qualified by its group (`Deployment.apps "d" is invalid`).
            let kind = r.map_or(resource.clone(), |r| if r.group.is_empty() { r.kind.clone() } else { format!("{}.{}", r.kind, r.group) });
            (name.clone(), format!("{kind} \"{name}\" is invalid: {}", crate::cluster::FieldError::join(causes)))
        }
        other => (String::new(), other.to_string()),
    };
    let mut details = r.map(|r| json!({"name": name, "group": r.group, "kind": r.plural}));
    if let (ClusterError::Invalid { causes, .. }, Some(d), Some(r)) = (e, details.as_mut(), r) {
        d["kind"] = json!(r.kind);
        d["causes"] = causes.iter().map(|c| json!({"reason": c.reason(), "message": c.detail, "field": c.field})).collect();
    }
    if let (ClusterError::ApplyConflict { conflicts, .. }, Some(d)) = (e, details.as_mut()) {
        d["causes"] = conflicts.iter().map(|c| json!({"reason": "FieldManagerConflict", "message": c.cause_message(), "field": c.field})).collect();
    }
    respond(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), &status(code, e.reason(), &message, details))
}

/// `deployments.apps`, `configmaps`: how the API server names a resource in messages.
fn qualified(r: Option<&ApiResource>, fallback: &str) -> String {
    r.map_or_else(|| fallback.to_string(), ApiResource::group_resource)
}

pub(super) fn bad_request(message: &str) -> Response {
    respond(StatusCode::BAD_REQUEST, &status(400, "BadRequest", message, None))
}

pub(super) fn not_found(path: &str) -> Response {
    respond(StatusCode::NOT_FOUND, &status(404, "NotFound", &format!("the server could not find the requested resource ({path})"), None))
}

/// A parsed resource path.
pub(super) struct Target {
    /// The resource.
    pub(super) res: ApiResource,
    /// The namespace of the path, if any.
    pub(super) ns: Option<String>,
    /// The object name, if any.
    pub(super) name: Option<String>,
    /// The subresource, if any.
    pub(super) sub: Option<String>,
    /// The version the request is made at: `res` is the resource as stored (at the storage
    /// version of a custom resource), which may be another served version.
    pub(super) version: String,
}

impl Target {
    /// The resource at the version of the request.
    pub(super) fn view(&self) -> ApiResource {
        ApiResource { version: self.version.clone(), ..self.res.clone() }
    }
}

/// What the API server answers when a conversion fails: a 500 without a reason, which kubectl
/// prints as `Error from server: conversion webhook for … failed: …`.
pub(super) fn conversion_failed(e: &ConversionError) -> Response {
    let mut body = status(500, "", &e.to_string(), None);
    if let Some(m) = body.as_object_mut() {
        m.remove("reason");
    }
    respond(StatusCode::INTERNAL_SERVER_ERROR, &body)
}

/// `obj` (as stored) at the version of the request.
async fn at_request(api: &Api, t: &Target, obj: Value) -> Result<Value, Response> {
    conversion::convert_one(&api.store, &t.res, obj, &t.version).await.map_err(|e| conversion_failed(&e))
}

/// `obj` (as sent, at the version of the request) at the storage version.
async fn at_storage(api: &Api, t: &Target, obj: Value) -> Result<Value, Response> {
    if t.version == t.res.version && obj.get("apiVersion").and_then(Value::as_str).is_none_or(|v| v == t.res.api_version()) {
        return Ok(obj);
    }
    // What is sent may leave apiVersion out; it is the version of the request.
    let mut obj = obj;
    if obj.get("apiVersion").and_then(Value::as_str).is_none_or(str::is_empty) && obj.is_object() {
        obj["apiVersion"] = json!(t.view().api_version());
    }
    conversion::convert_one(&api.store, &t.res, obj, &t.res.version).await.map_err(|e| conversion_failed(&e))
}

impl Api {
    /// `/api/v1/...` or `/apis/g/v/...` after the group/version.
    fn target(&self, group: &str, version: &str, rest: &[&str]) -> Result<Target, Response> {
        let (ns, rest) = match rest {
            ["namespaces", ns, r, tail @ ..] if !(tail.is_empty() && matches!(*r, "status" | "finalize")) => (Some(ns.to_string()), [&[*r][..], tail].concat()),
            other => (None, other.to_vec()),
        };
        let Some(plural) = rest.first() else { return Err(not_found("")) };
        // A custom resource is served at every `served` version of its CRD, stored at one.
        let res = self
            .store
            .resource(group, plural)
            .filter(|r| conversion::served_versions(&self.store, r).iter().any(|v| v == version))
            .ok_or_else(|| not_found(&format!("{plural}.{group}/{version}")))?;
        if ns.is_some() && !res.namespaced {
            return Err(not_found(&format!("{plural} is cluster-scoped")));
        }
        let name = rest.get(1).map(|s| s.to_string());
        let sub = rest.get(2).map(|s| s.to_string());
        let scalable = self.scale_paths(&res).is_some();
        if rest.len() > 3 || sub.as_deref().is_some_and(|s| s != "status" && !(s == "scale" && scalable)) {
            return Err(not_found(&rest.join("/")));
        }
        Ok(Target { res, ns, name, sub, version: version.to_string() })
    }
}

fn unauthorized() -> Response {
    respond(StatusCode::UNAUTHORIZED, &status(401, "Unauthorized", "Unauthorized", None))
}

fn forbidden(message: &str, details: Option<Value>) -> Response {
    respond(StatusCode::FORBIDDEN, &status(403, "Forbidden", message, details))
}

async fn handle(State(api): State<Arc<Api>>, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        let message = format!("Request entity too large: limit is {MAX_BODY}");
        return respond(StatusCode::PAYLOAD_TOO_LARGE, &status(413, "RequestEntityTooLarge", &message, None));
    };
    let path = uri.path().to_string();
    let user = match api.access.tokens.authenticate(&headers) {
        Ok(u) => u,
        Err(_) => return unauthorized(),
    };
    let mut audit = |u: &User, r: &Request, ok: bool| api.access.record(u, r, ok);
    let acting = user.clone();
    let user = match authn::impersonate(&api.store, api.access.rbac, user, &headers, &mut audit) {
        Ok(u) => u,
        Err(Refusal::Unauthorized) => return unauthorized(),
        Err(Refusal::Forbidden(m)) => return forbidden(&m, None),
        Err(Refusal::Internal(m)) => return respond(StatusCode::INTERNAL_SERVER_ERROR, &status(500, "InternalError", &m, None)),
    };
    let segs: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let q = super::query::parse(&uri);
    let mut response = match (method.clone(), segs.as_slice()) {
        (_, ["api", "v1", rest @ ..]) if !rest.is_empty() => resource(&api, &user, method, "", "v1", rest, &q, &headers, body).await,
        (_, ["apis", g, v, rest @ ..]) if !rest.is_empty() => resource(&api, &user, method, g, v, rest, &q, &headers, body).await,
        (Method::GET, _) => non_resource(&api, &user, &path, &segs),
        _ => not_found(&path),
    };
    // For the request log: who this was answered for.
    let impersonated = headers.contains_key("impersonate-user").then_some(user);
    response.extensions_mut().insert(super::requests::Who { acting, impersonated });
    response
}

/// The paths that are not resources: health, version, discovery. Authorized like the API
/// server does (health and version for everyone, discovery for signed-in users).
fn non_resource(api: &Api, user: &User, path: &str, segs: &[&str]) -> Response {
    let request = Request { verb: "get".into(), path: Some(path.to_string()), ..Request::default() };
    if !api.access.authorize(&api.store, user, &request) {
        return forbidden(&authz::forbidden_message(user, &request), None);
    }
    let found = |v: Option<Value>| v.map_or_else(|| not_found(path), |v| ok(&v));
    match segs {
        ["healthz" | "livez" | "readyz", ..] => {
            Response::builder().status(StatusCode::OK).header(header::CONTENT_TYPE, "text/plain; charset=utf-8").body(Body::from("ok")).unwrap_or_default()
        }
        ["version"] => ok(&Api::version()),
        ["api"] => ok(&api.core_versions()),
        ["api", "v1"] => found(api.resource_list("", "v1")),
        ["apis"] => ok(&api.groups()),
        ["apis", g] => found(api.group(g)),
        ["apis", g, v] => found(api.resource_list(g, v)),
        ["openapi", "v3"] => ok(&api.openapi_root()),
        ["openapi", "v3", "api", v] => found(api.openapi_doc("", v)),
        ["openapi", "v3", "apis", g, v] => found(api.openapi_doc(g, v)),
        _ => not_found(path),
    }
}

/// The field manager of a write that is not an apply, as kube-apiserver names it: the
/// `fieldManager` query parameter (kubectl sends one: `kubectl-create`, `kubectl-edit`,
/// `kubectl-client-side-apply`, …), else the `User-Agent` up to its first `/` (at most 128
/// characters), else `unknown` (a client that sends neither).
pub(super) fn field_manager(q: &BTreeMap<String, String>, headers: &HeaderMap) -> String {
    if let Some(m) = q.get("fieldManager").filter(|m| !m.is_empty()) {
        return m.clone();
    }
    let agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let prefix: String = agent.split('/').next().unwrap_or_default().chars().take(128).collect();
    if prefix.trim().is_empty() { "unknown".to_string() } else { prefix }
}

/// The patch of a PATCH request, by its media type, as the API server reads it: 415 for a type
/// that is not a patch type, 422 for an apply without `fieldManager`.
pub(super) fn patch_of(headers: &HeaderMap, body: &Bytes, q: &BTreeMap<String, String>) -> Result<Patch, Response> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let media = ct.split(';').next().unwrap_or_default().trim();
    let known = ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"];
    if !known.contains(&media) {
        let message = format!("the body of the request was in an unknown format - accepted media types include: {}", known.join(", "));
        return Err(respond(StatusCode::UNSUPPORTED_MEDIA_TYPE, &status(415, "UnsupportedMediaType", &message, None)));
    }
    let field_manager = q.get("fieldManager").filter(|m| !m.is_empty());
    if media == "application/apply-patch+yaml" && field_manager.is_none() {
        return Err(respond(
            StatusCode::UNPROCESSABLE_ENTITY,
            &status(422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch", None),
        ));
    }
    let body = parse_body(headers, body)?;
    Ok(match media {
        "application/json-patch+json" => Patch::Json(body),
        "application/strategic-merge-patch+json" => Patch::Strategic(body),
        "application/apply-patch+yaml" => {
            let force = q.get("force").is_some_and(|f| f == "true" || f == "1");
            Patch::Apply { field_manager: field_manager.cloned().unwrap_or_default(), config: body, force }
        }
        _ => Patch::Merge(body),
    })
}

pub(super) fn parse_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, Response> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if ct.contains("protobuf") {
        return super::proto::decode(body).map_err(|e| match e {
            super::proto::ProtoError::Malformed { .. } => bad_request(&e.to_string()),
            // Clients fall back to JSON on 415 (client-go does, for protobuf and CBOR).
            _ => respond(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &status(415, "UnsupportedMediaType", &format!("the body of the request was in an unknown format: {ct}: {e}"), None),
            ),
        });
    }
    if ct.contains("cbor") {
        return Err(respond(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &status(
                415,
                "UnsupportedMediaType",
                &format!("the body of the request was in an unknown format: {ct} (the ork dev cluster reads JSON, YAML and protobuf)"),
                None,
            ),
        ));
    }
    if ct.contains("yaml") {
        let text = std::str::from_utf8(body).map_err(|_| bad_request("the body is not UTF-8"))?;
        let file = katalog::diag::FileId::intern(std::path::Path::new("<request>"));
        // A YAML body may not expand (aliases) beyond what a JSON body may be: the tree it
        // builds stays within a few times the request limit.
        let limits = katalog::yaml::Limits { max_bytes: MAX_BODY as u64, max_nodes: 100_000, max_expanded_bytes: MAX_BODY, ..katalog::yaml::Limits::default() };
        let docs = katalog::yaml::parse(text, file, limits).map_err(|d| bad_request(&format!("the YAML body is refused: {}", d.message)))?;
        return Ok(docs.into_iter().next().map(|d| d.root.to_json()).unwrap_or(Value::Null));
    }
    serde_json::from_slice(body).map_err(|e| bad_request(&format!("the body is not valid JSON: {e}")))
}

/// A request for a resource. What admission warns of goes to the client as `Warning` headers,
/// whatever the answer.
#[allow(clippy::too_many_arguments)]
async fn resource(
    api: &Arc<Api>,
    user: &User,
    method: Method,
    group: &str,
    version: &str,
    rest: &[&str],
    q: &BTreeMap<String, String>,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let warnings = Warnings::default();
    let mut response = answer(api, user, method, group, version, rest, q, headers, body, &warnings).await;
    warnings.write(response.headers_mut());
    response
}

#[allow(clippy::too_many_arguments)]
async fn answer(
    api: &Arc<Api>,
    user: &User,
    method: Method,
    group: &str,
    version: &str,
    rest: &[&str],
    q: &BTreeMap<String, String>,
    headers: &HeaderMap,
    body: Bytes,
    warnings: &Warnings,
) -> Response {
    let t = match api.target(group, version, rest) {
        Ok(t) => t,
        Err(resp) => return resp,
    };
    let watching = q.get("watch").is_some_and(|w| w == "true" || w == "1");
    let verb = super::query::verb(&method, t.name.is_some(), watching).unwrap_or("unknown");
    let request = Request {
        verb: verb.to_string(),
        group: t.res.group.clone(),
        resource: t.res.plural.clone(),
        subresource: t.sub.clone(),
        namespace: t.ns.clone(),
        name: t.name.clone(),
        path: None,
    };
    if !api.access.authorize(&api.store, user, &request) {
        let details = json!({"name": t.name.clone().unwrap_or_default(), "group": t.res.group, "kind": t.res.plural});
        return forbidden(&authz::forbidden_message(user, &request), Some(details));
    }
    if super::reviews::is_review(&t.res.group, &t.res.plural) {
        if method != Method::POST {
            return respond(StatusCode::METHOD_NOT_ALLOWED, &status(405, "MethodNotAllowed", &format!("{} supports create only", t.res.plural), None));
        }
        let json_body = parse_body(headers, &body).ok().filter(Value::is_object);
        return match super::reviews::answer(&api.store, api.access.rbac, user, &t.res.plural, json_body) {
            Ok(review) => respond(StatusCode::CREATED, &review),
            Err(m) => bad_request(&m.to_string()),
        };
    }
    let dry = match dry_run(q) {
        Ok(d) => d && method != Method::GET,
        Err(resp) => return resp,
    };
    if matches!(method, Method::PUT | Method::PATCH)
        && let Some(name) = &t.name
        && api.access.inject_conflict()
    {
        let e = ClusterError::Conflict {
            resource: t.res.plural.clone(),
            name: name.clone(),
            message: "the object has been modified; please apply your changes to the latest version and try again".into(),
        };
        return error(&e, Some(&t.res));
    }
    let store = &api.store;
    let r = &t.res;
    let ns = t.ns.as_deref();
    let status_sub = t.sub.as_deref() == Some("status");
    if let (Some("scale"), Some(name)) = (t.sub.as_deref(), &t.name) {
        return scale::scale(api, &t, name, &method, headers, &body, q).await;
    }
    // Objects reach the store at the storage version and the client at the request's: a custom
    // resource's other versions are converted both ways.
    let view = t.view();
    let manager = field_manager(q, headers);
    // A dry run goes the whole way — admission, defaulting, validation, field ownership,
    // generated names — and answers what would be stored, storing nothing.
    let writes = store.writes(dry);
    // At its stored version a custom resource is decoded as the API server decodes a request,
    // before admission: fields its schema does not know refused or warned of (fieldValidation),
    // then pruned, and defaults applied, so webhooks see what would be stored. At another
    // version that happens after conversion, before the store.
    let decode_first = t.version == t.res.version && store.has_schema(r);
    let decode = |obj: Value, defaults: bool| -> Result<Value, Response> {
        if !decode_first {
            return Ok(obj);
        }
        unknown_fields(api, &t, q, &obj, warnings)?;
        Ok(store.pruned(r, obj, defaults))
    };
    let checked = |obj: &Value| if decode_first { Ok(()) } else { unknown_fields(api, &t, q, obj, warnings) };
    let result: Result<Value, ClusterError> = match (&method, &t.name) {
        (&Method::GET, _) => {
            // A Table when the Accept header asks for one (kubectl get).
            let table = match super::table::wanted(headers, q) {
                Ok(table) => table,
                Err(e) => return bad_request(&e.to_string()),
            };
            let watching = q.get("watch").is_some_and(|w| w == "true" || w == "1");
            return match &t.name {
                Some(name) => collection::get(api, &t, name, table).await,
                None if watching => collection::watch(api, &t, q, table).await,
                None => collection::list(api, &t, q, table).await,
            };
        }
        (&Method::POST, None) => match parse_body(headers, &body) {
            Ok(obj) => {
                let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
                let obj = match decode(obj, true) {
                    Ok(obj) => obj,
                    Err(resp) => return resp,
                };
                let obj = match admitted(api, user, "CREATE", &t, &name, Some(&obj), None, warnings, dry).await {
                    Ok(obj) => obj,
                    Err(resp) => return resp,
                };
                match at_storage(api, &t, obj).await {
                    Ok(obj) => match checked(&obj) {
                        Ok(()) => writes.create_by(r, ns, &obj, &manager),
                        Err(resp) => return resp,
                    },
                    Err(resp) => return resp,
                }
            }
            Err(resp) => return resp,
        },
        (&Method::PUT, Some(name)) => match parse_body(headers, &body) {
            Ok(obj) if obj.pointer("/metadata/name").and_then(Value::as_str).is_some_and(|n| n != name) => {
                return bad_request("the name of the object does not match the name on the URL");
            }
            Ok(obj) => {
                let old = match store.get(r, ns, name).await {
                    Ok(o) => o,
                    Err(e) => return error(&e, Some(r)),
                };
                let old = match at_request(api, &t, old).await {
                    Ok(o) => o,
                    Err(resp) => return resp,
                };
                let obj = match decode(obj, true) {
                    Ok(obj) => obj,
                    Err(resp) => return resp,
                };
                let obj = match admitted(api, user, "UPDATE", &t, name, Some(&obj), Some(&old), warnings, dry).await {
                    Ok(obj) => obj,
                    Err(resp) => return resp,
                };
                match at_storage(api, &t, obj).await {
                    Ok(obj) => match checked(&obj) {
                        Ok(()) => writes.update_by(r, ns, &obj, &manager, status_sub),
                        Err(resp) => return resp,
                    },
                    Err(resp) => return resp,
                }
            }
            Err(resp) => return resp,
        },
        (&Method::PATCH, Some(name)) => {
            let patch = match patch_of(headers, &body, q) {
                Ok(p) => p,
                Err(resp) => return resp,
            };
            match store.get(r, ns, name).await {
                Err(e) => match &patch {
                    // Server-side apply creates a missing object; its manager owns what it applied.
                    Patch::Apply { config, field_manager, .. } if e.is_not_found() && !status_sub => {
                        let mut config = config.clone();
                        if let Some(m) = config.as_object_mut() {
                            let meta = m.entry("metadata").or_insert_with(|| json!({}));
                            if let Some(meta) = meta.as_object_mut() {
                                meta.entry("name").or_insert_with(|| json!(name));
                            }
                        }
                        let config = match decode(config, false) {
                            Ok(obj) => obj,
                            Err(resp) => return resp,
                        };
                        let obj = match admitted(api, user, "CREATE", &t, name, Some(&config), None, warnings, dry).await {
                            Ok(obj) => obj,
                            Err(resp) => return resp,
                        };
                        match at_storage(api, &t, obj).await {
                            Ok(obj) => match checked(&obj) {
                                Ok(()) => writes.create_applied(r, ns, &obj, field_manager),
                                Err(resp) => return resp,
                            },
                            Err(resp) => return resp,
                        }
                    }
                    _ => Err(e),
                },
                Ok(old) if previewed(api, &t) => {
                    // Admission and the RBAC escalation check see the patched object, and a patch
                    // at another version than the stored one applies to the object at that
                    // version, so the patch is applied here first, as the store would apply it.
                    let old = match at_request(api, &t, old).await {
                        Ok(o) => o,
                        Err(resp) => return resp,
                    };
                    // An apply computes the object's managedFields here (conflicts included).
                    let apply = matches!(patch, Patch::Apply { .. });
                    let new = if apply {
                        match store.preview_apply(&view, &old, &patch, status_sub) {
                            Ok(n) => n,
                            Err(e) => return error(&e, Some(r)),
                        }
                    } else {
                        let mut new = old.clone();
                        if let Err(e) = crate::cluster::apply_patch(&mut new, &patch, &view) {
                            return error(&e, Some(r));
                        }
                        new
                    };
                    let new = match decode(new, true) {
                        Ok(obj) => obj,
                        Err(resp) => return resp,
                    };
                    let obj = match admitted(api, user, "UPDATE", &t, name, Some(&new), Some(&old), warnings, dry).await {
                        Ok(obj) => obj,
                        Err(resp) => return resp,
                    };
                    let obj = match at_storage(api, &t, obj).await {
                        Ok(obj) => obj,
                        Err(resp) => return resp,
                    };
                    if let Err(resp) = checked(&obj) {
                        return resp;
                    }
                    if apply { writes.update_applied(r, ns, &obj, status_sub) } else { writes.update_by(r, ns, &obj, &manager, status_sub) }
                }
                Ok(old) => {
                    // The fields the patched object would lose, looked at before the store
                    // patches it (atomically): refused or warned of as fieldValidation says.
                    if api.store.has_schema(r) {
                        let mut new = old;
                        if crate::cluster::apply_patch(&mut new, &patch, r).is_ok()
                            && let Err(resp) = unknown_fields(api, &t, q, &new, warnings)
                        {
                            return resp;
                        }
                    }
                    writes.patch_by(r, ns, name, &patch, &manager, status_sub)
                }
            }
        }
        (&Method::DELETE, Some(name)) => return delete(api, user, &t, name, q, headers, &body, warnings, dry).await,
        _ => return respond(StatusCode::METHOD_NOT_ALLOWED, &status(405, "MethodNotAllowed", &format!("{method} is not supported on this path"), None)),
    };
    match result {
        Ok(obj) => {
            if !dry {
                after_write(store, r, &obj).await;
            }
            let code = if method == Method::POST { StatusCode::CREATED } else { StatusCode::OK };
            match at_request(api, &t, obj).await {
                Ok(obj) => respond(code, &obj),
                Err(resp) => resp,
            }
        }
        Err(e) => error(&e, Some(r)),
    }
}

fn has_webhooks(store: &MemCluster) -> bool {
    ["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"]
        .iter()
        .filter_map(|k| katalog::kinds::known("admissionregistration.k8s.io", k))
        .any(|r| !store.objects(&r).is_empty())
}

/// Whether a write is applied here before it is stored, because something must see the
/// resulting object first: admission webhooks, or the RBAC escalation check; or because it is
/// made at another version than the one stored, or may be (a conversion webhook converts).
fn previewed(api: &Api, t: &Target) -> bool {
    has_webhooks(&api.store)
        || (api.access.rbac && t.res.group == "rbac.authorization.k8s.io")
        || t.version != t.res.version
        || conversion::converts_by_webhook(&api.store, &t.res)
}

/// What stands between a write and the store, in the API server's order: admission webhooks
/// (mutating, then validating), then for RBAC objects the privilege-escalation check. Returns
/// the object to store, or the refusal as the API server words it.
/// Admission sees the objects at the version of the request; what webhooks warn of goes to
/// `warnings`.
#[allow(clippy::too_many_arguments)]
async fn admitted(
    api: &Api,
    user: &User,
    operation: &str,
    t: &Target,
    name: &str,
    object: Option<&Value>,
    old: Option<&Value>,
    warnings: &Warnings,
    dry_run: bool,
) -> Result<Value, Response> {
    let details = || json!({"name": name, "group": t.res.group, "kind": t.res.plural});
    let object = if has_webhooks(&api.store) {
        let view = t.view();
        let a = Attributes { operation, resource: &view, sub: t.sub.as_deref(), namespace: t.ns.as_deref(), name, object, old, user, dry_run };
        match admit(&api.store, &a, warnings).await {
            Ok(obj) => obj.unwrap_or(Value::Null),
            Err(rej) => {
                let code = StatusCode::from_u16(rej.code).unwrap_or(StatusCode::FORBIDDEN);
                return Err(respond(code, &status(rej.code, &rej.reason, &rej.message, Some(details()))));
            }
        }
    } else {
        object.cloned().unwrap_or(Value::Null)
    };
    if api.access.rbac && operation != "DELETE" && t.sub.is_none() && t.res.group == "rbac.authorization.k8s.io" {
        match authz::check_escalation(&api.store, user, &t.res.kind, t.ns.as_deref(), &object, old) {
            Ok(()) => {}
            Err(authz::Escalation::Forbidden(m)) => {
                let request = Request {
                    verb: if old.is_some() { "update" } else { "create" }.into(),
                    group: t.res.group.clone(),
                    resource: t.res.plural.clone(),
                    namespace: t.ns.clone(),
                    name: Some(name.to_string()),
                    ..Request::default()
                };
                if let Ok(mut audit) = api.access.audit.lock() {
                    audit.push(AuditEntry { user: user.name.clone(), request, allowed: false, refused: Some(m.clone()) });
                }
                return Err(forbidden(&m, Some(details())));
            }
            Err(authz::Escalation::RoleNotFound { resource, name }) => {
                return Err(error(
                    &ClusterError::NotFound { resource: resource.clone(), name },
                    katalog::kinds::known("rbac.authorization.k8s.io", if resource == "roles" { "Role" } else { "ClusterRole" }).as_ref(),
                ));
            }
        }
    }
    Ok(object)
}

/// A CustomResourceDefinition that was created or changed becomes (or stays) served, and gets
/// the `NamesAccepted` and `Established` conditions.
async fn after_write(store: &MemCluster, r: &ApiResource, obj: &Value) {
    if r.group != "apiextensions.k8s.io" || r.kind != "CustomResourceDefinition" {
        return;
    }
    let s = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or_default().to_string();
    let versions = obj.pointer("/spec/versions").and_then(Value::as_array).cloned().unwrap_or_default();
    let version = versions
        .iter()
        .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .or_else(|| versions.first())
        .and_then(|v| v.get("name").and_then(Value::as_str))
        .unwrap_or_default()
        .to_string();
    let status_sub = versions.iter().any(|v| v.pointer("/subresources/status").is_some());
    let res = ApiResource {
        group: s("/spec/group"),
        version,
        kind: s("/spec/names/kind"),
        plural: s("/spec/names/plural"),
        namespaced: s("/spec/scope") != "Cluster",
    };
    if res.group.is_empty() || res.plural.is_empty() || res.version.is_empty() {
        return;
    }
    let stored = res.version.clone();
    // Objects are checked against the schema of the version they are stored at.
    let schema =
        versions.iter().find(|v| v.get("name").and_then(Value::as_str) == Some(stored.as_str())).and_then(|v| v.pointer("/schema/openAPIV3Schema")).cloned();
    store.register_with_schema(res, status_sub, schema);
    if obj.pointer("/status/conditions").is_none() {
        let now = obj.pointer("/metadata/creationTimestamp").cloned().unwrap_or(Value::Null);
        let cond = |t: &str, reason: &str| json!({"type": t, "status": "True", "reason": reason, "message": "", "lastTransitionTime": now});
        let mut with = obj.clone();
        with["status"] = json!({
            "conditions": [cond("NamesAccepted", "NoConflicts"), cond("Established", "InitialNamesAccepted")],
            "acceptedNames": obj.pointer("/spec/names").cloned().unwrap_or(json!({})),
            "storedVersions": [stored],
        });
        let _ = store.update_by(r, None, &with, "kube-apiserver", true);
    }
}

#[allow(clippy::too_many_arguments)]
async fn delete(
    api: &Api,
    user: &User,
    t: &Target,
    name: &str,
    q: &BTreeMap<String, String>,
    headers: &HeaderMap,
    body: &Bytes,
    warnings: &Warnings,
    dry: bool,
) -> Response {
    let opts = if body.is_empty() { json!({}) } else { parse_body(headers, body).unwrap_or(json!({})) };
    // kubectl sends a delete's dryRun in the DeleteOptions body (a list), not in the query.
    let dry = match opts.get("dryRun").and_then(Value::as_array).map(|d| d.iter().map(|v| v.as_str().unwrap_or_default()).collect::<Vec<_>>()) {
        None => dry,
        Some(d) if d.is_empty() => dry,
        Some(d) if d == ["All"] => true,
        Some(d) => return bad_request(&format!("dryRun: Unsupported value: {:?}: supported values: \"All\"", d.join(","))),
    };
    let policy = opts.get("propagationPolicy").and_then(Value::as_str).map(str::to_string).or_else(|| q.get("propagationPolicy").cloned());
    let propagation = match policy.as_deref() {
        None | Some("Background") => Propagation::Background,
        Some("Foreground") => Propagation::Foreground,
        Some("Orphan") => Propagation::Orphan,
        Some(other) => return bad_request(&format!("unknown propagationPolicy {other:?}")),
    };
    let store = &api.store;
    let r = &t.res;
    let ns = t.ns.as_deref();
    let current = match store.get(r, ns, name).await {
        Ok(c) => c,
        Err(e) => return error(&e, Some(r)),
    };
    for (field, path) in [("uid", "/metadata/uid"), ("resourceVersion", "/metadata/resourceVersion")] {
        if let Some(want) = opts.pointer(&format!("/preconditions/{field}")).and_then(Value::as_str)
            && current.pointer(path).and_then(Value::as_str) != Some(want)
        {
            let e = ClusterError::Conflict { resource: r.plural.clone(), name: name.to_string(), message: format!("Precondition failed: {field}: {want}") };
            return error(&e, Some(r));
        }
    }
    let shown = match at_request(api, t, current.clone()).await {
        Ok(o) => o,
        Err(resp) => return resp,
    };
    if let Err(resp) = admitted(api, user, "DELETE", t, name, None, Some(&shown), warnings, dry).await {
        return resp;
    }
    if dry {
        // What would be deleted, left in place.
        return ok(&shown);
    }
    if let Err(e) = store.delete(r, ns, name, propagation).await {
        return error(&e, Some(r));
    }
    match store.get(r, ns, name).await {
        // Still there: marked for deletion (finalizers); the API server returns the object.
        Ok(obj) => match at_request(api, t, obj).await {
            Ok(obj) => ok(&obj),
            Err(resp) => resp,
        },
        Err(_) => {
            if r.group == "apiextensions.k8s.io" && r.kind == "CustomResourceDefinition" {
                let group = current.pointer("/spec/group").and_then(Value::as_str).unwrap_or_default();
                let plural = current.pointer("/spec/names/plural").and_then(Value::as_str).unwrap_or_default();
                store.unregister(group, plural);
            }
            ok(&json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                       "details": {"name": name, "group": r.group, "kind": r.plural, "uid": current.pointer("/metadata/uid")}}))
        }
    }
}

/// The `dryRun` parameter: absent or empty (a real write), `All` (a dry run), else a 400.
fn dry_run(q: &BTreeMap<String, String>) -> Result<bool, Response> {
    match q.get("dryRun").map(String::as_str) {
        None | Some("") => Ok(false),
        Some("All") => Ok(true),
        Some(other) => Err(bad_request(&format!("dryRun: Unsupported value: {other:?}: supported values: \"All\""))),
    }
}

/// `fieldValidation` of a write of a custom resource whose schema would prune fields of `obj`
/// (at the storage version): `Strict` refuses it (400, `strict decoding error: unknown field
/// "spec.bogus"`), `Warn` (the API server's default) warns of each field, `Ignore` says nothing.
fn unknown_fields(api: &Api, t: &Target, q: &BTreeMap<String, String>, obj: &Value, warnings: &Warnings) -> Result<(), Response> {
    let mode = q.get("fieldValidation").map_or("Warn", String::as_str);
    if mode.eq_ignore_ascii_case("Ignore") {
        return Ok(());
    }
    let unknown = api.store.unknown_fields(&t.res, obj);
    if unknown.is_empty() {
        return Ok(());
    }
    let each: Vec<String> = unknown.iter().map(|f| format!("unknown field {f:?}")).collect();
    if mode.eq_ignore_ascii_case("Strict") {
        let (kind, version) = (&t.res.kind, &t.version);
        let message = format!("{kind} in version {version:?} cannot be handled as a {kind}: strict decoding error: {}", each.join(", "));
        return Err(bad_request(&message));
    }
    for w in &each {
        warnings.add(w);
    }
    Ok(())
}
