//! Query strings of API requests: `%XX` and `+` decoding, shared by the router (list and watch
//! parameters) and authentication (impersonation headers use the same escapes); the Kubernetes
//! verb of a request, which the authorizer and the request log both name it by.

use axum::http::{Method, Uri};
use std::collections::BTreeMap;

/// Decodes `%XX` escapes (and `+` as a space, as in query strings).
pub(super) fn percent_decode(s: &str) -> String {
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

/// The query parameters of `uri`, decoded; a repeated name keeps its last value.
pub(super) fn parse(uri: &Uri) -> BTreeMap<String, String> {
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

/// The Kubernetes verb of a resource request: its method, whether it names an object, whether
/// it asks for a watch (`None`: a method the API does not serve).
pub(super) fn verb(method: &Method, named: bool, watching: bool) -> Option<&'static str> {
    Some(match (method, named) {
        (&Method::GET, true) => "get",
        (&Method::GET, false) if watching => "watch",
        (&Method::GET, false) => "list",
        (&Method::POST, _) => "create",
        (&Method::PUT, _) => "update",
        (&Method::PATCH, _) => "patch",
        (&Method::DELETE, true) => "delete",
        (&Method::DELETE, false) => "deletecollection",
        _ => return None,
    })
}
