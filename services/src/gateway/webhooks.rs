//! The HTTPS routes of the admission webhooks: `/validate`, `/mutate`, `/namespace-protection`,
//! `/deletion-protection` (AdmissionReview) and `/convert` (ConversionReview), POST only.
//!
//! Each request body is bounded in size ([`MAX_BODY`], answered 413) and in the time it takes to
//! arrive ([`READ_TIMEOUT`], 408); a body that is not a review gets 400 with the reason. The
//! verdict is `katalog::admission::Gate`'s — the same `ork gate` prints — and a panic while
//! computing one is answered 500, never a dropped connection.

use super::metrics::Metrics;
use crate::cluster::ApiResource;
use crate::serve::http::{json, text};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use futures_util::future::BoxFuture;
use katalog::admission::review::{decode_admission, decode_conversion, encode_admission, encode_conversion};
use katalog::admission::{Gate, Webhook};
use katalog::template::Rng;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The largest review body accepted (the API server's own request limit is 3 MiB).
pub const MAX_BODY: usize = 3 * 1024 * 1024;
/// How long a client may take to send a body.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Lists the CRs of a resource in a namespace, for `unique` rules (best effort: the reconciler
/// checks uniqueness authoritatively).
pub type ListOthers = Arc<dyn Fn(ApiResource, String) -> BoxFuture<'static, Vec<Value>> + Send + Sync>;

/// What the webhook routes share.
pub struct Webhooks {
    /// The verdicts.
    pub gate: Arc<Gate>,
    /// The gateway's namespace (its own configurations are protected).
    pub install_namespace: String,
    /// Request counters and latencies.
    pub metrics: Arc<Metrics>,
    /// How to read the other CRs of a kind, when a `unique` rule needs them.
    pub others: Option<ListOthers>,
}

/// The routes of `webhooks` (the declared features; a path not listed answers 404).
pub fn router(state: Arc<Webhooks>, webhooks: &[Webhook]) -> Router {
    let mut r = Router::new();
    for &w in webhooks {
        r = r.route(w.path(), post(move |State(s): State<Arc<Webhooks>>, body: Body| answer(s, w, body)));
    }
    r.with_state(state)
}

/// Reads at most [`MAX_BODY`] bytes within [`READ_TIMEOUT`].
async fn read(body: Body) -> Result<axum::body::Bytes, Response> {
    match tokio::time::timeout(READ_TIMEOUT, axum::body::to_bytes(body, MAX_BODY)).await {
        Err(_) => Err(text(StatusCode::REQUEST_TIMEOUT, &format!("the request body did not arrive within {}s\n", READ_TIMEOUT.as_secs()))),
        Ok(Err(e)) => {
            let too_large = std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            if too_large {
                Err(text(StatusCode::PAYLOAD_TOO_LARGE, &format!("the request body is larger than {MAX_BODY} bytes\n")))
            } else {
                Err(text(StatusCode::BAD_REQUEST, &format!("the request body could not be read: {e}\n")))
            }
        }
        Ok(Ok(bytes)) => Ok(bytes),
    }
}

async fn answer(s: Arc<Webhooks>, w: Webhook, body: Body) -> Response {
    let bytes = match read(body).await {
        Ok(b) => b,
        Err(r) => {
            s.metrics.observe(w, "invalid", Duration::ZERO);
            return r;
        }
    };
    let start = Instant::now();
    let state = s.clone();
    let answered = crate::serve::panic::catch(async move { verdict(&state, w, &bytes).await }).await;
    let (status, outcome, body) = match answered {
        Ok(x) => x,
        Err(p) => {
            tracing::error!(webhook = w.label(), "panic while answering a review: {}", p.message);
            (StatusCode::INTERNAL_SERVER_ERROR, "failed", None)
        }
    };
    s.metrics.observe(w, outcome, start.elapsed());
    match (status, body) {
        (StatusCode::OK, Some(v)) => json(StatusCode::OK, &v),
        (status, Some(Value::String(reason))) => text(status, &format!("{reason}\n")),
        (status, _) => text(status, "the review could not be answered\n"),
    }
}

/// The answer to one review body: (HTTP status, metrics outcome, JSON body or the reason text).
async fn verdict(s: &Webhooks, w: Webhook, bytes: &[u8]) -> (StatusCode, &'static str, Option<Value>) {
    let now = katalog::time::unix_now();
    if w == Webhook::Convert {
        let req = match decode_conversion(bytes) {
            Ok(r) => r,
            Err(e) => return (StatusCode::BAD_REQUEST, "invalid", Some(Value::String(e.to_string()))),
        };
        let result = s.gate.convert(&req.objects, &req.desired_api_version, now, Rng::Os);
        let outcome = if result.is_ok() { "converted" } else { "failed" };
        return (StatusCode::OK, outcome, Some(encode_conversion(&req, &result)));
    }
    let req = match decode_admission(bytes) {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_REQUEST, "invalid", Some(Value::String(e.to_string()))),
    };
    let mut others = Vec::new();
    if w == Webhook::Validate
        && let Some(list) = &s.others
        && let Some((_, id)) = s.gate.crd_of(&req.group, &req.resource).filter(|_| s.gate.needs_others(&req.group, &req.resource))
    {
        let uid = req.object.as_ref().and_then(|o| o.pointer("/metadata/uid")).cloned();
        others = list(id.resource(), req.namespace.clone()).await;
        // The object itself (on update) is not one of the others.
        others.retain(|o| {
            o.pointer("/metadata/name").and_then(Value::as_str) != Some(req.name.as_str()) || (uid.is_some() && o.pointer("/metadata/uid") != uid.as_ref())
        });
    }
    let v = s.gate.answer(w, &req, &others, &s.install_namespace, now, Rng::Os);
    (StatusCode::OK, v.outcome(), Some(encode_admission(&req, &v)))
}
