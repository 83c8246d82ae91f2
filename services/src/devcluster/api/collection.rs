//! Reading: get, list (label and field selectors, `limit` and `continue` pages served from one
//! snapshot) and watch (a chunked stream of events, with the API server's selector semantics: an
//! object that comes to match the selector arrives as ADDED, one that stops matching leaves as
//! DELETED) — each as objects, or as a `meta.k8s.io` Table when the client asks for one
//! (`devcluster::table`).

use super::{Api, Target, bad_request, conversion_failed, error, ok, status};
use crate::cluster::{Cluster, ClusterError, Continue, FieldSelector, LabelSelector, ListParams, WatchEvent};
use crate::devcluster::conversion;
use crate::devcluster::table::{Printer, Wanted};
use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The version tag of continue tokens, as the API server writes it.
const TOKEN_VERSION: &str = "meta.k8s.io/v1";

/// A continue token: base64 of `{"v": "meta.k8s.io/v1", "rv": <snapshot>, "start": "<ns>/<name>"}`.
pub(super) fn encode_continue(c: &Continue) -> String {
    let token = json!({"v": TOKEN_VERSION, "rv": c.resource_version, "start": format!("{}/{}", c.namespace, c.name)});
    katalog::template::base64_encode(token.to_string().as_bytes())
}

/// Why a continue token is refused, in the API server's words (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum ContinueError {
    /// Not base64.
    #[error("continue key is not valid: illegal base64 data")]
    Base64,
    /// Not JSON.
    #[error("continue key is not valid: the token is not JSON")]
    Json,
    /// Another version tag.
    #[error("continue key is not valid: server does not recognize this encoded key version (version {TOKEN_VERSION})")]
    Version,
    /// No positive resourceVersion.
    #[error("continue key is not valid: incorrect encoded start resourceVersion (version {TOKEN_VERSION})")]
    ResourceVersion,
    /// No `namespace/name` start key.
    #[error("continue key is not valid: encoded start key is not a key (version {TOKEN_VERSION})")]
    StartKey,
}

/// The position a continue token names; `Err` with the API server's reason for a malformed one.
pub(super) fn decode_continue(token: &str) -> Result<Continue, ContinueError> {
    let bytes = katalog::template::base64_decode(token).map_err(|_| ContinueError::Base64)?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| ContinueError::Json)?;
    if v.get("v").and_then(Value::as_str) != Some(TOKEN_VERSION) {
        return Err(ContinueError::Version);
    }
    let rv = v.get("rv").and_then(Value::as_u64).filter(|rv| *rv > 0);
    let start = v.get("start").and_then(Value::as_str).and_then(|s| s.split_once('/'));
    match (rv, start) {
        (Some(resource_version), Some((namespace, name))) if !name.is_empty() => {
            Ok(Continue { resource_version, namespace: namespace.to_string(), name: name.to_string() })
        }
        (None, _) => Err(ContinueError::ResourceVersion),
        _ => Err(ContinueError::StartKey),
    }
}

/// How the objects of the request's resource are printed in a Table.
fn printer(api: &Api, t: &Target) -> Printer {
    Printer::of(api.crd_of(&t.res.group, &t.res.plural).as_ref(), &t.res, &t.version)
}

/// A Table, with the media type the API server answers it with.
fn table_response(table: &Value, wanted: Wanted) -> Response {
    let media = format!("application/json;as=Table;v={};g=meta.k8s.io", wanted.version);
    Response::builder().status(StatusCode::OK).header(header::CONTENT_TYPE, media).body(Body::from(table.to_string())).unwrap_or_default()
}

/// One object, at the version of the request; a Table of one row when `table` asks for it.
pub(super) async fn get(api: &Api, t: &Target, name: &str, table: Option<Wanted>) -> Response {
    let obj = match api.store.get(&t.res, t.ns.as_deref(), name).await {
        Ok(o) => o,
        Err(e) => return error(&e, Some(&t.res)),
    };
    let obj = match super::at_request(api, t, obj).await {
        Ok(o) => o,
        Err(resp) => return resp,
    };
    match table {
        None => ok(&obj),
        Some(w) => {
            let meta = json!({"resourceVersion": obj.pointer("/metadata/resourceVersion").cloned().unwrap_or(json!(""))});
            table_response(&printer(api, t).table(w, &[obj], meta, true, katalog::time::unix_now()), w)
        }
    }
}

pub(super) async fn list(api: &Api, t: &Target, q: &BTreeMap<String, String>, table: Option<Wanted>) -> Response {
    let params = ListParams { label_selector: q.get("labelSelector").cloned(), field_selector: q.get("fieldSelector").cloned() };
    let after = match q.get("continue").filter(|c| !c.is_empty()).map(|c| decode_continue(c)) {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(m)) => return bad_request(&m.to_string()),
    };
    let limit = match q.get("limit").filter(|l| !l.is_empty()).map(|l| l.parse::<i64>()) {
        None => None,
        Some(Ok(l)) => usize::try_from(l).ok(),
        Some(Err(_)) => return bad_request("limit must be an integer"),
    };
    let page = match api.store.list_page(&t.res, t.ns.as_deref(), &params, limit, after.as_ref()) {
        Ok(p) => p,
        Err(ClusterError::Gone(_)) => {
            let message =
                "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.";
            return super::respond(StatusCode::GONE, &status(410, "Expired", message, None));
        }
        Err(e) => return error(&e, Some(&t.res)),
    };
    let mut meta = json!({"resourceVersion": page.resource_version.to_string()});
    if let Some(next) = &page.next {
        meta["continue"] = json!(encode_continue(next));
        meta["remainingItemCount"] = json!(page.remaining);
    }
    // The items at the version of the request: one conversion for the page.
    let items = match conversion::convert(&api.store, &t.res, page.items, &t.version, true).await {
        Ok(items) => items,
        Err(e) => return conversion_failed(&e),
    };
    if let Some(w) = table {
        // A page of a Table carries the list's metadata, `continue` included (kubectl's
        // `--chunk-size` pages through it).
        return table_response(&printer(api, t).table(w, &items, meta, true, katalog::time::unix_now()), w);
    }
    ok(&json!({"kind": format!("{}List", t.res.kind), "apiVersion": t.view().api_version(), "metadata": meta, "items": items}))
}

/// What a watch with a selector sends for one change: the object entering the selector is
/// ADDED, leaving it is DELETED (with the object as it was, at the new resourceVersion), moving
/// within it is MODIFIED; changes outside it are not sent.
fn selected<'v>(event: &'v WatchEvent, prev: Option<&Value>, keep: &dyn Fn(&Value) -> bool) -> Option<(&'static str, Cow<'v, Value>)> {
    match event {
        WatchEvent::Added(o) => keep(o).then_some(("ADDED", Cow::Borrowed(o))),
        WatchEvent::Deleted(o) => keep(o).then_some(("DELETED", Cow::Borrowed(o))),
        WatchEvent::Modified(o) => {
            let was = prev.is_none_or(keep);
            match (was, keep(o)) {
                (true, true) => Some(("MODIFIED", Cow::Borrowed(o))),
                (false, true) => Some(("ADDED", Cow::Borrowed(o))),
                (true, false) => {
                    let mut gone = prev.cloned().unwrap_or_else(|| o.clone());
                    if let (Some(m), Some(rv)) = (gone.get_mut("metadata").and_then(Value::as_object_mut), o.pointer("/metadata/resourceVersion")) {
                        m.insert("resourceVersion".into(), rv.clone());
                    }
                    Some(("DELETED", Cow::Owned(gone)))
                }
                (false, false) => None,
            }
        }
    }
}

/// How many bytes of events that are already waiting a watch sends in one write.
const BATCH_BYTES: usize = 64 * 1024;

/// What one change puts on a watch stream.
enum Line {
    /// Nothing: the object is not selected.
    Skip,
    /// An event line.
    Event(Vec<u8>),
    /// An ERROR event line, after which the stream ends.
    Last(Vec<u8>),
}

/// How a watch turns its changes into lines.
struct Lines<'a> {
    keep: &'a (dyn Fn(&Value) -> bool + Sync),
    shown: &'a Shown,
    /// The apiVersion the watch serves.
    desired: &'a str,
    store: &'a Arc<crate::cluster::MemCluster>,
    res: &'a crate::cluster::ApiResource,
    version: &'a str,
}

impl Lines<'_> {
    async fn line(&self, change: &crate::cluster::Change) -> Line {
        let Some((kind, object)) = selected(&change.event, change.prev.as_ref(), self.keep) else { return Line::Skip };
        if self.shown.table.is_none() && object.get("apiVersion").and_then(Value::as_str) == Some(self.desired) {
            // Nothing to convert or print: written from the store's shared copy.
            return Line::Event(event_line_of(kind, &object).into());
        }
        match conversion::convert_one(self.store, self.res, object.into_owned(), self.version).await {
            Ok(object) => Line::Event(event_line(&json!({"type": kind, "object": self.shown.object(object)})).into()),
            Err(e) => {
                let mut failure = status(500, "", &e.to_string(), None);
                if let Some(m) = failure.as_object_mut() {
                    m.remove("reason");
                }
                // Nothing follows an ERROR event: the stream ends after it.
                Line::Last(event_line(&json!({"type": "ERROR", "object": failure})).into())
            }
        }
    }
}

/// One line of a watch stream, `{"type":…,"object":…}`, the type first as the API server writes
/// it: a client decoding events as they stream (kube-rs) reads the type before the object and
/// decodes the object in place instead of buffering it.
fn event_line(event: &Value) -> Bytes {
    event_line_of(event["type"].as_str().unwrap_or_default(), &event["object"])
}

fn event_line_of(kind: &str, object: &Value) -> Bytes {
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(b"{\"type\":");
    let _ = serde_json::to_writer(&mut out, kind);
    out.extend_from_slice(b",\"object\":");
    let _ = serde_json::to_writer(&mut out, object);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

/// What a watch sends as an event's object: the object, or a Table of one row (column
/// definitions only in the first event of the stream, as the API server sends them).
#[derive(Clone)]
struct Shown {
    table: Option<(Printer, Wanted, Arc<std::sync::atomic::AtomicBool>)>,
}

impl Shown {
    fn object(&self, object: Value) -> Value {
        let Some((printer, wanted, headers_sent)) = &self.table else { return object };
        let first = !headers_sent.swap(true, std::sync::atomic::Ordering::Relaxed);
        let meta = json!({"resourceVersion": object.pointer("/metadata/resourceVersion").cloned().unwrap_or(json!(""))});
        printer.table(*wanted, &[object], meta, first, katalog::time::unix_now())
    }
}

pub(super) async fn watch(api: &Arc<Api>, t: &Target, q: &BTreeMap<String, String>, table: Option<Wanted>) -> Response {
    let shown = Shown { table: table.map(|w| (printer(api, t), w, Arc::new(std::sync::atomic::AtomicBool::new(false)))) };
    let labels = match LabelSelector::parse(q.get("labelSelector").map_or("", String::as_str)) {
        Ok(l) => l,
        Err(e) => return error(&e, Some(&t.res)),
    };
    let fields = match FieldSelector::parse(&t.res, q.get("fieldSelector").map_or("", String::as_str)) {
        Ok(f) => f,
        Err(e) => return error(&e, Some(&t.res)),
    };
    let from: u64 = q.get("resourceVersion").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut initial: Vec<Value> = Vec::new();
    let mut start = from;
    let keep = move |o: &Value| labels.matches(o) && fields.matches(o);
    if from == 0 {
        // No version: the current state first, as ADDED events, then what follows.
        match api.store.list_page(&t.res, t.ns.as_deref(), &ListParams::default(), None, None) {
            Ok(l) => {
                start = l.resource_version;
                let items = match conversion::convert(&api.store, &t.res, l.items.into_iter().filter(|o| keep(o)).collect(), &t.version, true).await {
                    Ok(items) => items,
                    Err(e) => return conversion_failed(&e),
                };
                initial = items.into_iter().map(|o| json!({"type": "ADDED", "object": shown.object(o)})).collect();
            }
            Err(e) => return error(&e, Some(&t.res)),
        }
    }
    let mut timeout = Duration::from_secs(q.get("timeoutSeconds").and_then(|s| s.parse().ok()).unwrap_or(1800));
    if let Some(drop_after) = api.access().faults.drop_watches_after {
        // An injected broken connection: the stream ends early, as when a load balancer cuts it.
        timeout = timeout.min(drop_after);
    }
    let expired = from > 0 && api.access().inject_expiry();
    let too_old = || json!({"type": "ERROR", "object": status(410, "Expired", &format!("too old resource version: {from}"), None)});
    let stream = match crate::cluster::Cluster::watch(api.store.as_ref(), &t.res, t.ns.as_deref(), start).await {
        Ok(_) if expired => {
            initial.push(too_old());
            None
        }
        Ok(s) => Some(s),
        Err(ClusterError::Gone(_)) => {
            initial.push(too_old());
            None
        }
        Err(e) => return error(&e, Some(&t.res)),
    };
    let deadline = tokio::time::Instant::now() + timeout;
    let closing = api.closing.clone();
    // Bookmarks: when asked, after `bookmark_every` of quiet, the current resourceVersion, so a
    // client can resume from it without replaying (kube-rs asks for them).
    let bookmarks = q.get("allowWatchBookmarks").is_some_and(|b| b == "true");
    let bookmark_every = api.access().bookmark_every;
    let store = api.store.clone();
    let (api_version, kind) = (t.view().api_version(), t.res.kind.clone());
    // Each change is converted to the version of the watch; a failed conversion ends the watch
    // with an ERROR event saying why.
    let converter = (api.store.clone(), t.res.clone(), t.version.clone());
    let desired = if t.res.group.is_empty() { t.version.clone() } else { format!("{}/{}", t.res.group, t.version) };
    let state = (initial.into_iter(), stream);
    let body = futures_util::stream::unfold(state, move |(mut first, mut stream)| {
        let keep = keep.clone();
        let mut closing = closing.clone();
        let store = store.clone();
        let (api_version, kind) = (api_version.clone(), kind.clone());
        let (store_at, res, version) = converter.clone();
        let shown = shown.clone();
        let desired = desired.clone();
        async move {
            if let Some(e) = first.next() {
                return Some((Ok::<Bytes, std::convert::Infallible>(event_line(&e)), (first, stream)));
            }
            let s = stream.as_mut()?;
            loop {
                if *closing.borrow() {
                    return None;
                }
                let change = tokio::select! {
                    ev = tokio::time::timeout_at(deadline, s.next_change()) => match ev {
                        Ok(Some(change)) => change,
                        _ => return None,
                    },
                    _ = closing.changed() => return None,
                    _ = async { if bookmarks { tokio::time::sleep(bookmark_every).await } else { std::future::pending::<()>().await } } => {
                        let rv = store.resource_version().to_string();
                        let mark = json!({"type": "BOOKMARK", "object": {"apiVersion": api_version, "kind": kind, "metadata": {"resourceVersion": rv}}});
                        return Some((Ok(event_line(&mark)), (first, stream)));
                    }
                };
                let lines = Lines { keep: &keep, shown: &shown, desired: &desired, store: &store_at, res: &res, version: &version };
                let mut out = match lines.line(&change).await {
                    Line::Skip => continue,
                    Line::Event(b) => b,
                    Line::Last(b) => return Some((Ok(Bytes::from(b)), (first.clone(), None))),
                };
                // Events already waiting go out in the same write (bounded), as a busy API
                // server's do: one TLS record and one system call for many.
                while out.len() < BATCH_BYTES
                    && let Some(change) = s.try_next_change()
                {
                    match lines.line(&change).await {
                        Line::Skip => {}
                        Line::Event(b) => out.extend_from_slice(&b),
                        Line::Last(b) => {
                            out.extend_from_slice(&b);
                            return Some((Ok(Bytes::from(out)), (first.clone(), None)));
                        }
                    }
                }
                return Some((Ok(Bytes::from(out)), (first, stream)));
            }
        }
    });
    Response::builder().status(StatusCode::OK).header(header::CONTENT_TYPE, "application/json").body(Body::from_stream(body)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip_and_malformed_ones_are_refused() {
        let c = Continue { resource_version: 42, namespace: "team".into(), name: "cm-7".into() };
        assert_eq!(decode_continue(&encode_continue(&c)), Ok(c));
        assert!(decode_continue("3").is_err(), "an offset is not a token");
        assert!(decode_continue("!!!").unwrap_err().to_string().starts_with("continue key is not valid"));
        let wrong_version = katalog::template::base64_encode(br#"{"v":"x","rv":1,"start":"a/b"}"#);
        assert!(decode_continue(&wrong_version).unwrap_err().to_string().contains("version"));
    }

    #[test]
    fn selective_watches_see_objects_enter_and_leave() {
        let keep = |o: &Value| o.pointer("/metadata/labels/app") == Some(&json!("web"));
        let web = json!({"metadata": {"name": "a", "resourceVersion": "5", "labels": {"app": "web"}}});
        let db = json!({"metadata": {"name": "a", "resourceVersion": "6", "labels": {"app": "db"}}});
        let (to_web, to_db) = (WatchEvent::Modified(web.clone()), WatchEvent::Modified(db.clone()));
        let entered = selected(&to_web, Some(&db), &keep).unwrap();
        assert_eq!(entered.0, "ADDED");
        let left = selected(&to_db, Some(&web), &keep).unwrap();
        assert_eq!(left.0, "DELETED");
        assert_eq!(left.1.pointer("/metadata/labels/app"), Some(&json!("web")), "the object as it was");
        assert_eq!(left.1.pointer("/metadata/resourceVersion"), Some(&json!("6")), "at the new version");
        assert!(selected(&WatchEvent::Modified(db.clone()), Some(&db), &keep).is_none());
        assert_eq!(selected(&WatchEvent::Modified(web.clone()), Some(&web), &keep).unwrap().0, "MODIFIED");
    }
}
