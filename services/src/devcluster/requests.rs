//! The request log: one entry per HTTP request the dev cluster answers, shaped as
//! kube-apiserver's audit log at the `Metadata` level (`audit.k8s.io/v1` `Event`): who asked
//! (after impersonation, and the acting user when impersonating), the verb, the object it
//! addressed, the answer's code, and when. Never a body, a token or a query value that could
//! hold a secret: the request URI keeps only the query parameters the API server defines for
//! reads and writes (`watch`, `labelSelector`, `fieldManager`, …).
//!
//! In memory the newest [`RequestLog::KEEP`] entries are kept, refusals (401 and 403) apart from
//! the rest so a flood of successes never pushes one out; the counts by verb and resource
//! ([`RequestCounts`]) stay exact however many entries were dropped. With a file, every entry is
//! also appended to it as one JSON line, flushed as it is written.

use super::authz::User;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A user as the audit log shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UserInfo {
    /// The user name.
    pub username: String,
    /// A uid, when one is known (impersonation may give one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Groups.
    pub groups: Vec<String>,
    /// Extra attributes (impersonation may give some).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Vec<String>>,
}

impl From<&User> for UserInfo {
    fn from(u: &User) -> UserInfo {
        UserInfo { username: u.name.clone(), uid: u.uid.clone(), groups: u.groups.clone(), extra: u.extra.clone() }
    }
}

/// The object a resource request addressed, as the path names it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// The resource (plural).
    pub resource: String,
    /// The namespace, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The object's name, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The API group (`""` for the core group, left out as the API server does).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub api_group: String,
    /// The API version of the request.
    pub api_version: String,
    /// The subresource, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
}

/// The answer's status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResponseStatus {
    /// The HTTP status code.
    pub code: u16,
    /// The `Status` reason of a failure (`Forbidden`, `NotFound`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The `Status` message of a failure (the API server's Metadata level keeps it too).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// One request, as an `audit.k8s.io/v1` `Event` at the `Metadata` level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestEvent {
    /// Always `Event`.
    pub kind: &'static str,
    /// Always `audit.k8s.io/v1`.
    pub api_version: &'static str,
    /// Always `Metadata`.
    pub level: &'static str,
    /// Unique per request (the start's random prefix and the sequence number, UUID-shaped).
    #[serde(rename = "auditID")]
    pub audit_id: String,
    /// `ResponseComplete`; `ResponseStarted` for a watch (logged when its stream starts).
    pub stage: &'static str,
    /// The path and the query parameters that cannot hold secrets.
    #[serde(rename = "requestURI")]
    pub request_uri: String,
    /// The Kubernetes verb (`get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection`; the lower-case HTTP method for a non-resource path).
    pub verb: String,
    /// Who made the request: the impersonating user when impersonating (as the API server logs it).
    pub user: UserInfo,
    /// The user impersonated, when the request impersonated one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impersonated_user: Option<UserInfo>,
    /// Where it came from (the dev cluster listens on loopback only).
    #[serde(rename = "sourceIPs")]
    pub source_ips: Vec<String>,
    /// The client's `User-Agent`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub user_agent: String,
    /// The object addressed (resource requests only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_ref: Option<ObjectRef>,
    /// The answer.
    pub response_status: ResponseStatus,
    /// When the request arrived (RFC 3339, microseconds).
    pub request_received_timestamp: String,
    /// When the answer was ready (RFC 3339, microseconds).
    pub stage_timestamp: String,
    /// `ork.dev/latency-microseconds`: the time between the two, to the microsecond.
    pub annotations: BTreeMap<String, String>,
    /// The sequence number of the request, from 0 per start.
    #[serde(skip)]
    pub seq: u64,
    /// Microseconds from arrival to answer.
    #[serde(skip)]
    pub latency_us: u64,
}

impl RequestEvent {
    /// An entry with what identifies a request; the rest empty (the log fills in its number,
    /// audit ID and times).
    pub fn new(verb: &str, user: UserInfo, object_ref: Option<ObjectRef>, response_status: ResponseStatus) -> RequestEvent {
        RequestEvent {
            kind: "Event",
            api_version: "audit.k8s.io/v1",
            level: "Metadata",
            audit_id: String::new(),
            stage: "ResponseComplete",
            request_uri: String::new(),
            verb: verb.to_string(),
            user,
            impersonated_user: None,
            source_ips: Vec::new(),
            user_agent: String::new(),
            object_ref,
            response_status,
            request_received_timestamp: String::new(),
            stage_timestamp: String::new(),
            annotations: BTreeMap::new(),
            seq: 0,
            latency_us: 0,
        }
    }

    /// The user the request acted as (the impersonated one, if any).
    pub fn effective_user(&self) -> &UserInfo {
        self.impersonated_user.as_ref().unwrap_or(&self.user)
    }

    /// `deployments.apps`, `sites.perf.ork.dev/status`, `configmaps`; `""` for a non-resource path.
    pub fn resource(&self) -> String {
        self.object_ref.as_ref().map_or_else(String::new, |o| {
            let r = katalog::kinds::group_resource(&o.api_group, &o.resource);
            match &o.subresource {
                Some(s) => format!("{r}/{s}"),
                None => r,
            }
        })
    }
}

/// Requests counted by verb and resource (`resource` as [`RequestEvent::resource`] names it),
/// exact for the whole life of the cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestCounts {
    /// (verb, resource) → requests.
    pub by_verb_resource: BTreeMap<(String, String), u64>,
}

impl RequestCounts {
    /// Every request counted.
    pub fn total(&self) -> u64 {
        self.by_verb_resource.values().sum()
    }

    /// Requests per verb.
    pub fn by_verb(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for ((verb, _), n) in &self.by_verb_resource {
            *out.entry(verb.clone()).or_default() += n;
        }
        out
    }

    /// What was counted after `earlier` (a snapshot of the same log).
    pub fn since(&self, earlier: &RequestCounts) -> RequestCounts {
        let by_verb_resource = self
            .by_verb_resource
            .iter()
            .map(|(k, n)| (k.clone(), n - earlier.by_verb_resource.get(k).copied().unwrap_or(0).min(*n)))
            .filter(|(_, n)| *n > 0)
            .collect();
        RequestCounts { by_verb_resource }
    }
}

#[derive(Debug, Default)]
struct Kept {
    next: u64,
    recent: VecDeque<RequestEvent>,
    refused: VecDeque<RequestEvent>,
    counts: RequestCounts,
}

/// The request log of one dev cluster.
#[derive(Debug, Default)]
pub struct RequestLog {
    kept: Mutex<Kept>,
    file: Option<Mutex<std::fs::File>>,
    /// The random first half of every audit ID of this start.
    id_prefix: u64,
}

impl RequestLog {
    /// How many entries of each kind (refusals, the rest) are kept in memory.
    pub const KEEP: usize = 16_384;

    /// A log kept in memory and, with `file`, appended to it (created 0600 if missing).
    pub fn new(file: Option<&Path>) -> std::io::Result<RequestLog> {
        let mut bytes = [0u8; 8];
        katalog::template::Rng::Os.fill(&mut bytes).map_err(std::io::Error::other)?;
        let file = file.map(open).transpose()?.map(Mutex::new);
        Ok(RequestLog { kept: Mutex::default(), file, id_prefix: u64::from_le_bytes(bytes) })
    }

    /// The sequence number the next request gets (a mark for [`RequestLog::since`]).
    pub fn next_seq(&self) -> u64 {
        self.kept.lock().map(|k| k.next).unwrap_or(0)
    }

    /// Every kept entry, in the order the requests were answered.
    pub fn entries(&self) -> Vec<RequestEvent> {
        self.since(0)
    }

    /// The kept entries from sequence number `seq` on.
    pub fn since(&self, seq: u64) -> Vec<RequestEvent> {
        let Ok(k) = self.kept.lock() else { return Vec::new() };
        let mut all: Vec<RequestEvent> = k.recent.iter().chain(k.refused.iter()).filter(|e| e.seq >= seq).cloned().collect();
        all.sort_by_key(|e| e.seq);
        all
    }

    /// The exact counts so far.
    pub fn counts(&self) -> RequestCounts {
        self.kept.lock().map(|k| k.counts.clone()).unwrap_or_default()
    }

    fn push(&self, mut event: RequestEvent) {
        let Ok(mut k) = self.kept.lock() else { return };
        event.seq = k.next;
        k.next += 1;
        let (hi, lo) = (self.id_prefix, event.seq);
        event.audit_id = format!("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff, (lo >> 48) & 0xffff, lo & 0xffff_ffff_ffff);
        *k.counts.by_verb_resource.entry((event.verb.clone(), event.resource())).or_default() += 1;
        if let Some(f) = &self.file
            && let Ok(mut line) = serde_json::to_vec(&event)
            && let Ok(mut f) = f.lock()
        {
            line.push(b'\n');
            // A full disk must not stop the cluster answering; the in-memory log still has it.
            let _ = f.write_all(&line).and_then(|()| f.flush());
        }
        let list = if matches!(event.response_status.code, 401 | 403) { &mut k.refused } else { &mut k.recent };
        list.push_back(event);
        if list.len() > Self::KEEP {
            list.pop_front();
        }
    }
}

/// Opens (creates, 0600) the audit log file for appending.
pub fn open(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

/// Who a request was answered for, set by the handler on its response once authentication and
/// impersonation are done.
#[derive(Debug, Clone)]
pub(super) struct Who {
    /// The authenticated user.
    pub acting: User,
    /// The user impersonated, if any.
    pub impersonated: Option<User>,
}

/// Query parameters the API server defines that never hold a secret; others are left out of
/// the logged URI.
const SAFE_QUERY: &[&str] = &[
    "watch",
    "resourceVersion",
    "resourceVersionMatch",
    "limit",
    "labelSelector",
    "fieldSelector",
    "timeoutSeconds",
    "allowWatchBookmarks",
    "sendInitialEvents",
    "fieldManager",
    "fieldValidation",
    "force",
    "dryRun",
    "propagationPolicy",
    "gracePeriodSeconds",
    "orphanDependents",
    "pretty",
];

fn logged_uri(uri: &axum::http::Uri) -> String {
    let kept: Vec<&str> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| SAFE_QUERY.contains(&p.split_once('=').map_or(*p, |(k, _)| k)))
        .collect();
    if kept.is_empty() { uri.path().to_string() } else { format!("{}?{}", uri.path(), kept.join("&")) }
}

/// The verb and object of a request, from its method and path alone, as the API server's
/// request-info resolver derives them.
fn resolve(method: &Method, uri: &axum::http::Uri) -> (String, Option<ObjectRef>) {
    let segs: Vec<&str> = uri.path().trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let (group, version, rest) = match segs.as_slice() {
        ["api", v, rest @ ..] if !rest.is_empty() => ("", *v, rest),
        ["apis", g, v, rest @ ..] if !rest.is_empty() => (*g, *v, rest),
        _ => return (method.as_str().to_ascii_lowercase(), None),
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, r, tail @ ..] if !(tail.is_empty() && matches!(*r, "status" | "finalize")) => (Some(ns.to_string()), [&[*r][..], tail].concat()),
        other => (None, other.to_vec()),
    };
    let name = rest.get(1).map(|s| s.to_string());
    let watching = super::query::parse(uri).get("watch").is_some_and(|w| w == "true" || w == "1");
    let Some(verb) = super::query::verb(method, name.is_some(), watching) else { return (method.as_str().to_ascii_lowercase(), None) };
    let object = ObjectRef {
        resource: rest.first().map(|s| s.to_string()).unwrap_or_default(),
        namespace,
        name,
        api_group: group.to_string(),
        api_version: version.to_string(),
        subresource: (rest.len() > 2).then(|| rest[2..].join("/")),
    };
    (verb.to_string(), Some(object))
}

/// RFC 3339 UTC with microseconds, as the API server writes audit timestamps.
fn micro_time(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = katalog::time::format_rfc3339(i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    format!("{}.{:06}Z", secs.trim_end_matches('Z'), d.subsec_micros())
}

/// What the recording middleware needs of the server: the log, and who a request's
/// credentials name (for a request refused before the handler named its user).
pub(super) trait Recorded: Send + Sync + 'static {
    /// The request log.
    fn log(&self) -> &RequestLog;
    /// The user the `Authorization` header in `headers` authenticates, if any.
    fn user_of(&self, headers: &axum::http::HeaderMap) -> Option<User>;
}

/// The largest failure body read back for its reason and message (the API server's request
/// limit: a `Status` is far smaller).
const FAILURE_BODY_MAX: usize = 3 * 1024 * 1024;

/// The middleware that records every request: the handler answers, then the entry is written.
/// A failure's `Status` reason and message are read from its body (small, never streamed).
/// A request refused before the handler knew its user (an impersonation refused) is logged as
/// its token's user.
pub(super) async fn record<A: Recorded>(State(access): State<Arc<A>>, request: Request, next: Next) -> Response {
    let received = SystemTime::now();
    let started = Instant::now();
    let method = request.method().clone();
    let uri = request.uri().clone();
    let agent = request.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    // Only what authentication reads, kept for a request refused before the handler named its user.
    let credentials = request.headers().get(header::AUTHORIZATION).cloned();
    let response = next.run(request).await;
    let (verb, object_ref) = resolve(&method, &uri);
    let code = response.status().as_u16();
    let (response, reason, message) = if code >= 400 { failure_of(response).await } else { (response, None, None) };
    let who = response.extensions().get::<Who>().cloned();
    let (user, impersonated_user) = match who {
        Some(w) => (UserInfo::from(&w.acting), w.impersonated.as_ref().map(UserInfo::from)),
        None => {
            let mut headers = axum::http::HeaderMap::new();
            if let Some(c) = credentials {
                headers.insert(header::AUTHORIZATION, c);
            }
            (access.user_of(&headers).map(|u| UserInfo::from(&u)).unwrap_or_default(), None)
        }
    };
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let stage = if verb == "watch" && code < 300 { "ResponseStarted" } else { "ResponseComplete" };
    access.log().push(RequestEvent {
        kind: "Event",
        api_version: "audit.k8s.io/v1",
        level: "Metadata",
        audit_id: String::new(),
        stage,
        request_uri: logged_uri(&uri),
        verb,
        user,
        impersonated_user,
        source_ips: vec!["127.0.0.1".into()],
        user_agent: agent,
        object_ref,
        response_status: ResponseStatus { code, reason, message },
        request_received_timestamp: micro_time(received),
        stage_timestamp: micro_time(received + started.elapsed()),
        annotations: BTreeMap::from([("ork.dev/latency-microseconds".to_string(), latency_us.to_string())]),
        seq: 0,
        latency_us,
    });
    response
}

/// A failure's `Status` reason and message, and the response rebuilt with the same body.
async fn failure_of(response: Response) -> (Response, Option<String>, Option<String>) {
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, FAILURE_BODY_MAX).await else {
        return (Response::from_parts(parts, Body::empty()), None, None);
    };
    let status: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let text = |k: &str| status.get(k).and_then(serde_json::Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    let (reason, message) = (text("reason"), text("message"));
    (Response::from_parts(parts, Body::from(bytes)), reason, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_resolve_to_the_api_servers_verbs_and_objects() {
        let r = |m: Method, p: &str| resolve(&m, &p.parse().unwrap_or_default());
        let (verb, o) = r(Method::GET, "/apis/apps/v1/namespaces/shop/deployments?watch=true&labelSelector=a%3Db");
        assert_eq!(verb, "watch");
        let o = o.unwrap_or_default();
        assert_eq!((o.resource.as_str(), o.namespace.as_deref(), o.api_group.as_str(), o.api_version.as_str()), ("deployments", Some("shop"), "apps", "v1"));
        assert_eq!(r(Method::GET, "/api/v1/namespaces/shop").1.unwrap_or_default().name.as_deref(), Some("shop"));
        let (verb, o) = r(Method::PUT, "/api/v1/namespaces/shop/finalize");
        let o = o.unwrap_or_default();
        assert_eq!((verb.as_str(), o.resource.as_str(), o.name.as_deref(), o.subresource.as_deref()), ("update", "namespaces", Some("shop"), Some("finalize")));
        let (verb, o) = r(Method::PATCH, "/apis/perf.ork.dev/v1/namespaces/default/sites/s-1/status");
        assert_eq!((verb.as_str(), o.unwrap_or_default().subresource.as_deref()), ("patch", Some("status")));
        assert_eq!(r(Method::DELETE, "/api/v1/namespaces/a/pods").0, "deletecollection");
        assert_eq!(r(Method::GET, "/version"), ("get".to_string(), None));
    }

    #[test]
    fn the_logged_uri_keeps_only_parameters_that_hold_no_secret() {
        let uri: axum::http::Uri = "/api/v1/secrets?labelSelector=a&token=s3cret&continue=abc&watch=1".parse().unwrap_or_default();
        assert_eq!(logged_uri(&uri), "/api/v1/secrets?labelSelector=a&watch=1");
    }

    #[test]
    fn counts_stay_exact_when_entries_are_dropped() {
        let log = RequestLog::new(None).unwrap_or_default();
        let object = ObjectRef { resource: "configmaps".into(), api_version: "v1".into(), ..ObjectRef::default() };
        let event = |code: u16| RequestEvent::new("create", UserInfo::default(), Some(object.clone()), ResponseStatus { code, ..ResponseStatus::default() });
        log.push(event(403));
        let mark = log.counts();
        for _ in 0..RequestLog::KEEP + 10 {
            log.push(event(201));
        }
        assert_eq!(log.counts().total(), RequestLog::KEEP as u64 + 11);
        assert_eq!(log.counts().since(&mark).by_verb()["create"], RequestLog::KEEP as u64 + 10);
        let kept = log.entries();
        assert_eq!(kept.len(), RequestLog::KEEP + 1, "the refusal is kept beside the newest entries");
        assert_eq!(kept[0].response_status.code, 403);
        assert!(kept.windows(2).all(|w| w[0].seq < w[1].seq));
        assert_ne!(kept[1].audit_id, kept[2].audit_id);
        assert_eq!(log.since(log.next_seq() - 1).len(), 1);
    }

    #[test]
    fn timestamps_have_microseconds() {
        let t = UNIX_EPOCH + std::time::Duration::from_micros(1_700_000_000_123_456);
        assert_eq!(micro_time(t), "2023-11-14T22:13:20.123456Z");
    }
}
