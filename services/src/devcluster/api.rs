//! Request handling: discovery, path parsing, the verbs, `Status` bodies, watch streams.

use super::admission::{Attributes, admit};
use super::authz::{self, AuditEntry, User};
use crate::cluster::{ApiResource, Cluster, ClusterError, ListParams, MemCluster, Patch, Propagation, WatchEvent};
use crate::cluster::{FieldSelector, LabelSelector};
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

/// The Kubernetes version the dev cluster reports.
const MINOR: &str = "32";

/// Authentication and authorization settings.
#[derive(Default)]
pub(super) struct Access {
    /// Enforce RBAC (else every request is the administrator's).
    pub rbac: bool,
    /// Bearer token → user.
    pub tokens: BTreeMap<String, User>,
    /// Every decision, in order (RBAC mode).
    pub audit: std::sync::Mutex<Vec<AuditEntry>>,
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
    fn inject_expiry(&self) -> bool {
        let every = u64::from(self.faults.expire_every);
        every > 0 && self.resumes.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % every == every - 1
    }
}

struct Api {
    store: Arc<MemCluster>,
    access: Arc<Access>,
    addr: SocketAddr,
    /// Becomes true when the server stops: open watch streams end, so shutdown is prompt.
    closing: tokio::sync::watch::Receiver<bool>,
}

pub(super) fn router(store: Arc<MemCluster>, access: Arc<Access>, addr: SocketAddr, closing: tokio::sync::watch::Receiver<bool>) -> Router {
    Router::new().fallback(handle).with_state(Arc::new(Api { store, access, addr, closing }))
}

fn respond(code: StatusCode, body: &Value) -> Response {
    Response::builder().status(code).header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())).unwrap_or_default()
}

fn ok(body: &Value) -> Response {
    respond(StatusCode::OK, body)
}

/// A Kubernetes `Status` failure body.
fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> Value {
    let mut s = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code});
    if let Some(d) = details {
        s["details"] = d;
    }
    s
}

fn error(e: &ClusterError, r: Option<&ApiResource>) -> Response {
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
        ClusterError::Invalid { resource, name, message } => {
            (name.clone(), format!("{} \"{name}\" is invalid: {message}", r.map_or(resource.clone(), |r| r.kind.clone())))
        }
        other => (String::new(), other.to_string()),
    };
    let details = r.map(|r| json!({"name": name, "group": r.group, "kind": r.plural}));
    respond(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), &status(code, e.reason(), &message, details))
}

/// `deployments.apps`, `configmaps`: how the API server names a resource in messages.
fn qualified(r: Option<&ApiResource>, fallback: &str) -> String {
    match r {
        Some(r) if !r.group.is_empty() => format!("{}.{}", r.plural, r.group),
        Some(r) => r.plural.clone(),
        None => fallback.to_string(),
    }
}

fn bad_request(message: &str) -> Response {
    respond(StatusCode::BAD_REQUEST, &status(400, "BadRequest", message, None))
}

fn not_found(path: &str) -> Response {
    respond(StatusCode::NOT_FOUND, &status(404, "NotFound", &format!("the server could not find the requested resource ({path})"), None))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query(uri: &Uri) -> BTreeMap<String, String> {
    uri.query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(p), String::new()),
        })
        .collect()
}

/// A parsed resource path.
struct Target {
    res: ApiResource,
    ns: Option<String>,
    name: Option<String>,
    sub: Option<String>,
}

impl Api {
    fn served(&self, group: &str, version: &str) -> Vec<(ApiResource, bool)> {
        self.store.served().into_iter().filter(|(r, _)| r.group == group && r.version == version).collect()
    }

    fn resource_list(&self, group: &str, version: &str) -> Option<Value> {
        let served = self.served(group, version);
        if served.is_empty() {
            return None;
        }
        let gv = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
        let mut resources = Vec::new();
        for (r, status) in served {
            let verbs = json!(["create", "delete", "get", "list", "patch", "update", "watch"]);
            let mut entry = json!({"name": r.plural, "singularName": r.kind.to_lowercase(), "namespaced": r.namespaced, "kind": r.kind, "verbs": verbs});
            let short = short_names(&r.group, &r.plural);
            if !short.is_empty() {
                entry["shortNames"] = json!(short);
            }
            resources.push(entry);
            if status {
                resources.push(json!({"name": format!("{}/status", r.plural), "singularName": "", "namespaced": r.namespaced, "kind": r.kind, "verbs": ["get", "patch", "update"]}));
            }
            if r.group == "apps" && matches!(r.plural.as_str(), "deployments" | "statefulsets" | "replicasets") {
                resources.push(json!({"name": format!("{}/scale", r.plural), "singularName": "", "namespaced": true, "group": "autoscaling",
                                      "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]}));
            }
        }
        Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}))
    }

    /// `/openapi/v3`: one document per group/version.
    fn openapi_root(&self) -> Value {
        let mut paths = serde_json::Map::new();
        for (r, _) in self.store.served() {
            let p = if r.group.is_empty() { format!("api/{}", r.version) } else { format!("apis/{}/{}", r.group, r.version) };
            paths.insert(p.clone(), json!({"serverRelativeURL": format!("/openapi/v3/{p}")}));
        }
        json!({"paths": paths})
    }

    /// The OpenAPI v3 document of a group/version: one PATCH and POST operation per resource,
    /// declaring the `fieldValidation` parameter, which is what kubectl looks for before it
    /// leaves validation to the server. (Schemas are not served: objects are not validated.)
    fn openapi_doc(&self, group: &str, version: &str) -> Option<Value> {
        let served = self.served(group, version);
        if served.is_empty() {
            return None;
        }
        let base = if group.is_empty() { format!("/api/{version}") } else { format!("/apis/{group}/{version}") };
        let mut paths = serde_json::Map::new();
        let param = json!([{"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                           {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true}}]);
        for (r, _) in served {
            let gvk = json!({"group": r.group, "version": r.version, "kind": r.kind});
            let coll = if r.namespaced { format!("{base}/namespaces/{{namespace}}/{}", r.plural) } else { format!("{base}/{}", r.plural) };
            paths.insert(
                coll.clone(),
                json!({"post": {"x-kubernetes-action": "post", "x-kubernetes-group-version-kind": gvk, "parameters": param, "responses": {}}}),
            );
            paths.insert(
                format!("{coll}/{{name}}"),
                json!({"patch": {"x-kubernetes-action": "patch", "x-kubernetes-group-version-kind": gvk, "parameters": param, "responses": {}}}),
            );
        }
        Some(
            json!({"openapi": "3.0.0", "info": {"title": "Kubernetes (ork dev cluster)", "version": format!("v1.{MINOR}.0")}, "paths": paths, "components": {"schemas": {}}}),
        )
    }

    fn groups(&self) -> Value {
        let mut by_group: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (r, _) in self.store.served() {
            if !r.group.is_empty() {
                let v = by_group.entry(r.group.clone()).or_default();
                if !v.contains(&r.version) {
                    v.push(r.version.clone());
                }
            }
        }
        let groups: Vec<Value> = by_group
            .into_iter()
            .map(|(g, vs)| {
                let versions: Vec<Value> = vs.iter().map(|v| json!({"groupVersion": format!("{g}/{v}"), "version": v})).collect();
                json!({"name": g, "versions": versions, "preferredVersion": versions[0]})
            })
            .collect();
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
    }

    /// `/api/v1/...` or `/apis/g/v/...` after the group/version.
    fn target(&self, group: &str, version: &str, rest: &[&str]) -> Result<Target, Response> {
        let (ns, rest) = match rest {
            ["namespaces", ns, r, tail @ ..] if !(tail.is_empty() && matches!(*r, "status" | "finalize")) => (Some(ns.to_string()), [&[*r][..], tail].concat()),
            other => (None, other.to_vec()),
        };
        let Some(plural) = rest.first() else { return Err(not_found("")) };
        let res = self.store.resource(group, plural).filter(|r| r.version == version).ok_or_else(|| not_found(&format!("{plural}.{group}/{version}")))?;
        if ns.is_some() && !res.namespaced {
            return Err(not_found(&format!("{plural} is cluster-scoped")));
        }
        let name = rest.get(1).map(|s| s.to_string());
        let sub = rest.get(2).map(|s| s.to_string());
        let scalable = res.group == "apps" && matches!(res.plural.as_str(), "deployments" | "statefulsets" | "replicasets");
        if rest.len() > 3 || sub.as_deref().is_some_and(|s| s != "status" && !(s == "scale" && scalable)) {
            return Err(not_found(&rest.join("/")));
        }
        Ok(Target { res, ns, name, sub })
    }
}

/// The user a request authenticates as; `None` when RBAC is on and the token is unknown.
fn authenticate(api: &Api, headers: &HeaderMap) -> Option<User> {
    if !api.access.rbac {
        return Some(User::admin());
    }
    let token = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))?;
    api.access.tokens.get(token.trim()).cloned()
}

async fn handle(State(api): State<Arc<Api>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_string();
    let Some(user) = authenticate(&api, &headers) else {
        return respond(StatusCode::UNAUTHORIZED, &status(401, "Unauthorized", "Unauthorized", None));
    };
    let segs: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let q = query(&uri);
    match (method.clone(), segs.as_slice()) {
        (Method::GET, ["version"]) => ok(&json!({"major": "1", "minor": MINOR, "gitVersion": format!("v1.{MINOR}.0-ork-dev"), "platform": "linux/amd64"})),
        (Method::GET, ["api"]) => ok(
            &json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": api.addr.to_string()}]}),
        ),
        (Method::GET, ["api", "v1"]) => api.resource_list("", "v1").map_or_else(|| not_found(&path), |v| ok(&v)),
        (Method::GET, ["apis"]) => ok(&api.groups()),
        (Method::GET, ["apis", g]) => {
            let groups = api.groups();
            match groups["groups"].as_array().and_then(|gs| gs.iter().find(|x| x["name"] == *g)) {
                Some(grp) => {
                    let mut grp = grp.clone();
                    grp["kind"] = json!("APIGroup");
                    grp["apiVersion"] = json!("v1");
                    ok(&grp)
                }
                None => not_found(&path),
            }
        }
        (Method::GET, ["apis", g, v]) => api.resource_list(g, v).map_or_else(|| not_found(&path), |x| ok(&x)),
        (Method::GET, ["openapi", "v3"]) => ok(&api.openapi_root()),
        (Method::GET, ["openapi", "v3", "api", v]) => api.openapi_doc("", v).map_or_else(|| not_found(&path), |x| ok(&x)),
        (Method::GET, ["openapi", "v3", "apis", g, v]) => api.openapi_doc(g, v).map_or_else(|| not_found(&path), |x| ok(&x)),
        (_, ["api", "v1", rest @ ..]) if !rest.is_empty() => resource(&api, &user, method, "", "v1", rest, &q, &headers, body).await,
        (_, ["apis", g, v, rest @ ..]) if !rest.is_empty() => resource(&api, &user, method, g, v, rest, &q, &headers, body).await,
        _ => not_found(&path),
    }
}

/// kubectl's short names of the built-in resources.
fn short_names(group: &str, plural: &str) -> &'static [&'static str] {
    match (group, plural) {
        ("", "configmaps") => &["cm"],
        ("", "endpoints") => &["ep"],
        ("", "events") => &["ev"],
        ("", "limitranges") => &["limits"],
        ("", "namespaces") => &["ns"],
        ("", "nodes") => &["no"],
        ("", "persistentvolumeclaims") => &["pvc"],
        ("", "persistentvolumes") => &["pv"],
        ("", "pods") => &["po"],
        ("", "replicationcontrollers") => &["rc"],
        ("", "resourcequotas") => &["quota"],
        ("", "serviceaccounts") => &["sa"],
        ("", "services") => &["svc"],
        ("apps", "daemonsets") => &["ds"],
        ("apps", "deployments") => &["deploy"],
        ("apps", "replicasets") => &["rs"],
        ("apps", "statefulsets") => &["sts"],
        ("autoscaling", "horizontalpodautoscalers") => &["hpa"],
        ("batch", "cronjobs") => &["cj"],
        ("networking.k8s.io", "ingresses") => &["ing"],
        ("networking.k8s.io", "networkpolicies") => &["netpol"],
        ("policy", "poddisruptionbudgets") => &["pdb"],
        ("apiextensions.k8s.io", "customresourcedefinitions") => &["crd", "crds"],
        ("scheduling.k8s.io", "priorityclasses") => &["pc"],
        ("storage.k8s.io", "storageclasses") => &["sc"],
        _ => &[],
    }
}

/// The patch of a PATCH request, by its media type, as the API server reads it: 415 for a type
/// that is not a patch type, 422 for an apply without `fieldManager`.
fn patch_of(headers: &HeaderMap, body: &Bytes, q: &BTreeMap<String, String>) -> Result<Patch, Response> {
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
        "application/apply-patch+yaml" => Patch::Apply { field_manager: field_manager.cloned().unwrap_or_default(), config: body },
        _ => Patch::Merge(body),
    })
}

fn parse_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, Response> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if ct.contains("protobuf")
        && let Some(obj) = super::proto::decode(body)
    {
        return Ok(obj);
    }
    if ct.contains("protobuf") || ct.contains("cbor") {
        // Clients fall back to JSON on 415 (client-go does, for protobuf and CBOR).
        return Err(respond(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &status(
                415,
                "UnsupportedMediaType",
                &format!(
                    "the body of the request was in an unknown format: {ct} (the ork dev cluster reads protobuf only for Namespace, ConfigMap, Secret and ServiceAccount; use kubectl apply -f / create -f)"
                ),
                None,
            ),
        ));
    }
    if ct.contains("yaml") {
        let text = std::str::from_utf8(body).map_err(|_| bad_request("the body is not UTF-8"))?;
        let file = katalog::diag::FileId::intern(std::path::Path::new("<request>"));
        let docs = katalog::yaml::parse(text, file, katalog::yaml::Limits::default()).map_err(|d| bad_request(&d.message))?;
        return Ok(docs.into_iter().next().map(|d| d.root.to_json()).unwrap_or(Value::Null));
    }
    serde_json::from_slice(body).map_err(|e| bad_request(&format!("the body is not valid JSON: {e}")))
}

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
    let t = match api.target(group, version, rest) {
        Ok(t) => t,
        Err(resp) => return resp,
    };
    if t.res.group == "authorization.k8s.io" && method == Method::POST {
        return access_review(api, user, headers, &body);
    }
    if api.access.rbac {
        let verb = match (&method, &t.name) {
            (&Method::GET, Some(_)) => "get",
            (&Method::GET, None) if q.get("watch").is_some_and(|w| w == "true" || w == "1") => "watch",
            (&Method::GET, None) => "list",
            (&Method::POST, _) => "create",
            (&Method::PUT, _) => "update",
            (&Method::PATCH, _) => "patch",
            (&Method::DELETE, _) => "delete",
            _ => "unknown",
        };
        let request = authz::Request {
            verb: verb.to_string(),
            group: t.res.group.clone(),
            resource: t.res.plural.clone(),
            subresource: t.sub.clone(),
            namespace: t.ns.clone(),
            name: t.name.clone(),
        };
        let allowed = authz::allowed(&api.store, user, &request);
        let message = (!allowed).then(|| authz::forbidden_message(user, &request, &t.res));
        if let Ok(mut audit) = api.access.audit.lock() {
            audit.push(AuditEntry { user: user.name.clone(), request, allowed });
        }
        if let Some(m) = message {
            let details = json!({"name": t.name.clone().unwrap_or_default(), "group": t.res.group, "kind": t.res.plural});
            return respond(StatusCode::FORBIDDEN, &status(403, "Forbidden", &m, Some(details)));
        }
    }
    if q.get("dryRun").is_some_and(|v| !v.is_empty()) && method != Method::GET {
        return bad_request("dryRun is not supported by the ork dev cluster");
    }
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
        return scale(store, &t, name, &method, headers, &body, q).await;
    }
    let result: Result<Value, ClusterError> = match (&method, &t.name) {
        (&Method::GET, Some(name)) => store.get(r, ns, name).await,
        (&Method::GET, None) => {
            let watching = q.get("watch").is_some_and(|w| w == "true" || w == "1");
            if watching {
                return watch(api, &t, q).await;
            }
            return list(store, &t, q).await;
        }
        (&Method::POST, None) => match parse_body(headers, &body) {
            Ok(obj) => {
                let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
                match admitted(store, "CREATE", &t, &name, Some(&obj), None).await {
                    Ok(obj) => store.create(r, ns, &obj).await,
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
                match admitted(store, "UPDATE", &t, name, Some(&obj), Some(&old)).await {
                    Ok(obj) if status_sub => store.update_status(r, ns, &obj).await,
                    Ok(obj) => store.update(r, ns, &obj).await,
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
                    // Server-side apply creates a missing object (field ownership is not tracked).
                    Patch::Apply { config, .. } if e.is_not_found() => match admitted(store, "CREATE", &t, name, Some(config), None).await {
                        Ok(obj) => store.create(r, ns, &obj).await,
                        Err(resp) => return resp,
                    },
                    _ => Err(e),
                },
                Ok(old) if has_webhooks(store) => {
                    // Admission sees the patched object, so the patch is applied here first, as
                    // the store would apply it.
                    let mut new = old.clone();
                    if let Err(e) = crate::cluster::apply_patch(&mut new, &patch, r) {
                        return error(&e, Some(r));
                    }
                    match admitted(store, "UPDATE", &t, name, Some(&new), Some(&old)).await {
                        Ok(obj) if status_sub => store.update_status(r, ns, &obj).await,
                        Ok(obj) => store.update(r, ns, &obj).await,
                        Err(resp) => return resp,
                    }
                }
                Ok(_) if status_sub => store.patch_status(r, ns, name, &patch).await,
                Ok(_) => store.patch(r, ns, name, &patch).await,
            }
        }
        (&Method::DELETE, Some(name)) => return delete(store, &t, name, q, headers, &body).await,
        _ => return respond(StatusCode::METHOD_NOT_ALLOWED, &status(405, "MethodNotAllowed", &format!("{method} is not supported on this path"), None)),
    };
    match result {
        Ok(obj) => {
            after_write(store, r, &obj).await;
            let code = if method == Method::POST { StatusCode::CREATED } else { StatusCode::OK };
            respond(code, &obj)
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

/// Admission for a write; the object to store, or the rejection as the API server words it.
async fn admitted(store: &MemCluster, operation: &str, t: &Target, name: &str, object: Option<&Value>, old: Option<&Value>) -> Result<Value, Response> {
    if !has_webhooks(store) {
        return Ok(object.cloned().unwrap_or(Value::Null));
    }
    let a = Attributes { operation, resource: &t.res, sub: t.sub.as_deref(), namespace: t.ns.as_deref(), name, object, old };
    match admit(store, &a).await {
        Ok(obj) => Ok(obj.unwrap_or(Value::Null)),
        Err(rej) => {
            let details = json!({"name": name, "group": t.res.group, "kind": t.res.plural});
            Err(respond(StatusCode::from_u16(rej.code).unwrap_or(StatusCode::FORBIDDEN), &status(rej.code, &rej.reason, &rej.message, Some(details))))
        }
    }
}

/// `SelfSubjectAccessReview` (what `kubectl auth can-i` asks), answered for the requesting user
/// by the same authorizer that guards every request. kubectl sends it as protobuf.
fn access_review(api: &Api, user: &User, headers: &HeaderMap, body: &Bytes) -> Response {
    let json_review = parse_body(headers, body).ok().or_else(|| super::proto::access_review(body));
    let attrs = match &json_review {
        Some(r) => r.pointer("/spec/resourceAttributes").map(|a| {
            let s = |k: &str| a.get(k).and_then(Value::as_str).filter(|v| !v.is_empty()).map(str::to_string);
            authz::Request {
                verb: s("verb").unwrap_or_default(),
                group: s("group").unwrap_or_default(),
                resource: s("resource").unwrap_or_default(),
                subresource: s("subresource"),
                namespace: s("namespace"),
                name: s("name"),
            }
        }),
        None => None,
    };
    let Some(attrs) = attrs else {
        return bad_request("a SelfSubjectAccessReview needs spec.resourceAttributes");
    };
    let allowed = !api.access.rbac || authz::allowed(&api.store, user, &attrs);
    let mut review = json_review
        .unwrap_or_else(|| json!({"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1", "spec": {"resourceAttributes": attrs}}));
    review["status"] = json!({"allowed": allowed});
    respond(StatusCode::CREATED, &review)
}

/// The `scale` subresource of Deployments, StatefulSets and ReplicaSets (autoscaling/v1 Scale).
async fn scale(store: &MemCluster, t: &Target, name: &str, method: &Method, headers: &HeaderMap, body: &Bytes, q: &BTreeMap<String, String>) -> Response {
    let r = &t.res;
    let ns = t.ns.as_deref();
    let as_scale = |o: &Value| {
        json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
               "metadata": {"name": o.pointer("/metadata/name"), "namespace": o.pointer("/metadata/namespace"), "uid": o.pointer("/metadata/uid"),
                            "resourceVersion": o.pointer("/metadata/resourceVersion"), "creationTimestamp": o.pointer("/metadata/creationTimestamp")},
               "spec": {"replicas": o.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
               "status": {"replicas": o.pointer("/status/replicas").cloned().unwrap_or(json!(0))}})
    };
    let result = match *method {
        Method::GET => store.get(r, ns, name).await,
        Method::PUT | Method::PATCH => {
            let current = match store.get(r, ns, name).await {
                Ok(c) => c,
                Err(e) => return error(&e, Some(r)),
            };
            let mut scale_obj = as_scale(&current);
            if *method == Method::PUT {
                scale_obj = match parse_body(headers, body) {
                    Ok(s) => s,
                    Err(resp) => return resp,
                };
            } else {
                let patch = match patch_of(headers, body, q) {
                    Ok(p) => p,
                    Err(resp) => return resp,
                };
                let scale_kind =
                    ApiResource { group: "autoscaling".into(), version: "v1".into(), kind: "Scale".into(), plural: r.plural.clone(), namespaced: true };
                if let Err(e) = crate::cluster::apply_patch(&mut scale_obj, &patch, &scale_kind) {
                    return error(&e, Some(r));
                }
            }
            let Some(replicas) = scale_obj.pointer("/spec/replicas").and_then(Value::as_i64) else {
                return bad_request("spec.replicas must be an integer");
            };
            store.patch(r, ns, name, &Patch::Merge(json!({"spec": {"replicas": replicas}}))).await
        }
        _ => return respond(StatusCode::METHOD_NOT_ALLOWED, &status(405, "MethodNotAllowed", "scale supports get, update and patch", None)),
    };
    match result {
        Ok(o) => ok(&as_scale(&o)),
        Err(e) => error(&e, Some(r)),
    }
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
    store.register(res, status_sub);
    if obj.pointer("/status/conditions").is_none() {
        let now = obj.pointer("/metadata/creationTimestamp").cloned().unwrap_or(Value::Null);
        let cond = |t: &str, reason: &str| json!({"type": t, "status": "True", "reason": reason, "message": "", "lastTransitionTime": now});
        let mut with = obj.clone();
        with["status"] = json!({
            "conditions": [cond("NamesAccepted", "NoConflicts"), cond("Established", "InitialNamesAccepted")],
            "acceptedNames": obj.pointer("/spec/names").cloned().unwrap_or(json!({})),
            "storedVersions": [stored],
        });
        let _ = store.update_status(r, None, &with).await;
    }
}

async fn list(store: &MemCluster, t: &Target, q: &BTreeMap<String, String>) -> Response {
    let params = ListParams { label_selector: q.get("labelSelector").cloned(), field_selector: q.get("fieldSelector").cloned() };
    let all = match store.list(&t.res, t.ns.as_deref(), &params).await {
        Ok(l) => l,
        Err(e) => return error(&e, Some(&t.res)),
    };
    let start: usize = q.get("continue").and_then(|c| c.parse().ok()).unwrap_or(0);
    let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).filter(|l| *l > 0).unwrap_or(usize::MAX);
    let total = all.items.len();
    let items: Vec<Value> = all.items.into_iter().skip(start).take(limit).collect();
    let end = start + items.len();
    let mut meta = json!({"resourceVersion": all.resource_version.to_string()});
    if end < total {
        meta["continue"] = json!(end.to_string());
        meta["remainingItemCount"] = json!(total - end);
    }
    ok(&json!({"kind": format!("{}List", t.res.kind), "apiVersion": t.res.api_version(), "metadata": meta, "items": items}))
}

async fn delete(store: &MemCluster, t: &Target, name: &str, q: &BTreeMap<String, String>, headers: &HeaderMap, body: &Bytes) -> Response {
    let opts = if body.is_empty() { json!({}) } else { parse_body(headers, body).unwrap_or(json!({})) };
    let policy = opts.get("propagationPolicy").and_then(Value::as_str).map(str::to_string).or_else(|| q.get("propagationPolicy").cloned());
    let propagation = match policy.as_deref() {
        None | Some("Background") => Propagation::Background,
        Some("Foreground") => Propagation::Foreground,
        Some("Orphan") => Propagation::Orphan,
        Some(other) => return bad_request(&format!("unknown propagationPolicy {other:?}")),
    };
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
    if let Err(resp) = admitted(store, "DELETE", t, name, None, Some(&current)).await {
        return resp;
    }
    if let Err(e) = store.delete(r, ns, name, propagation).await {
        return error(&e, Some(r));
    }
    match store.get(r, ns, name).await {
        // Still there: marked for deletion (finalizers); the API server returns the object.
        Ok(obj) => ok(&obj),
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

async fn watch(api: &Arc<Api>, t: &Target, q: &BTreeMap<String, String>) -> Response {
    let labels = match LabelSelector::parse(q.get("labelSelector").map_or("", String::as_str)) {
        Ok(l) => l,
        Err(e) => return error(&e, Some(&t.res)),
    };
    let fields = match FieldSelector::parse(q.get("fieldSelector").map_or("", String::as_str)) {
        Ok(f) => f,
        Err(e) => return error(&e, Some(&t.res)),
    };
    let from: u64 = q.get("resourceVersion").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut initial: Vec<Value> = Vec::new();
    let mut start = from;
    if from == 0 {
        // No version: the current state first, as ADDED events, then what follows.
        match api.store.list(&t.res, t.ns.as_deref(), &ListParams::default()).await {
            Ok(l) => {
                start = l.resource_version;
                initial = l.items.into_iter().map(|o| json!({"type": "ADDED", "object": o})).collect();
            }
            Err(e) => return error(&e, Some(&t.res)),
        }
    }
    let mut timeout = Duration::from_secs(q.get("timeoutSeconds").and_then(|s| s.parse().ok()).unwrap_or(1800));
    if let Some(drop_after) = api.access.faults.drop_watches_after {
        // An injected broken connection: the stream ends early, as when a load balancer cuts it.
        timeout = timeout.min(drop_after);
    }
    let expired = from > 0 && api.access.inject_expiry();
    let stream = match api.store.watch(&t.res, t.ns.as_deref(), start).await {
        Ok(_) if expired => {
            let e = status(410, "Expired", &format!("too old resource version: {from}"), None);
            initial.push(json!({"type": "ERROR", "object": e}));
            None
        }
        Ok(s) => Some(s),
        Err(ClusterError::Gone(_)) => {
            let expired = status(410, "Expired", &format!("too old resource version: {from}"), None);
            initial.push(json!({"type": "ERROR", "object": expired}));
            None
        }
        Err(e) => return error(&e, Some(&t.res)),
    };
    let deadline = tokio::time::Instant::now() + timeout;
    let closing = api.closing.clone();
    let keep = move |o: &Value| labels.matches(o) && fields.matches(o);
    let initial: Vec<Value> = initial.into_iter().filter(|e| e["type"] == "ERROR" || keep(&e["object"])).collect();
    // Bookmarks: when asked, after `bookmark_every` of quiet, the current resourceVersion, so a
    // client can resume from it without replaying (kube-rs asks for them).
    let bookmarks = q.get("allowWatchBookmarks").is_some_and(|b| b == "true");
    let bookmark_every = api.access.bookmark_every;
    let store = api.store.clone();
    let (api_version, kind) = (t.res.api_version(), t.res.kind.clone());
    let state = (initial.into_iter(), stream);
    let body = futures_util::stream::unfold(state, move |(mut first, mut stream)| {
        let keep = keep.clone();
        let mut closing = closing.clone();
        let store = store.clone();
        let (api_version, kind) = (api_version.clone(), kind.clone());
        async move {
            if let Some(e) = first.next() {
                return Some((Ok::<Bytes, std::convert::Infallible>(Bytes::from(format!("{e}\n"))), (first, stream)));
            }
            let s = stream.as_mut()?;
            loop {
                if *closing.borrow() {
                    return None;
                }
                let ev = tokio::select! {
                    ev = tokio::time::timeout_at(deadline, s.next()) => match ev {
                        Ok(Some(ev)) => ev,
                        _ => return None,
                    },
                    _ = closing.changed() => return None,
                    _ = async { if bookmarks { tokio::time::sleep(bookmark_every).await } else { std::future::pending::<()>().await } } => {
                        let rv = store.resource_version().to_string();
                        let mark = json!({"type": "BOOKMARK", "object": {"apiVersion": api_version, "kind": kind, "metadata": {"resourceVersion": rv}}});
                        return Some((Ok(Bytes::from(format!("{mark}\n"))), (first, stream)));
                    }
                };
                if !keep(ev.object()) {
                    continue;
                }
                let kind = match &ev {
                    WatchEvent::Added(_) => "ADDED",
                    WatchEvent::Modified(_) => "MODIFIED",
                    WatchEvent::Deleted(_) => "DELETED",
                };
                let line = json!({"type": kind, "object": ev.object()});
                return Some((Ok(Bytes::from(format!("{line}\n"))), (first, stream)));
            }
        }
    });
    Response::builder().status(StatusCode::OK).header(header::CONTENT_TYPE, "application/json").body(Body::from_stream(body)).unwrap_or_default()
}
