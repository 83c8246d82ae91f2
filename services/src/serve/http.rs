//! The probe and metrics HTTP server of a server process (runtime-and-gateway.md §12.1):
//! `/health` and `/healthz` (liveness), `/ready` and `/readyz`, `/startup`, and `/metrics`
//! (Prometheus text), answered from a [`Probes`] the process provides — the runtime's
//! OperatorBoxes, the gateway's listeners. Plain HTTP, no authentication, read-only; bind it
//! where only the kubelet and your scraper reach it. A process adds its own routes to the
//! [`router`] (the runtime's `/katalog`).

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// What the probe endpoints report, provided by the process that serves them.
pub trait Probes: Send + Sync + 'static {
    /// `None` when the process can take work; else why not (`/ready` answers 503 with it).
    fn not_ready(&self) -> Option<String>;
    /// Whether startup finished (`/startup` answers 503 until then).
    fn started(&self) -> bool;
    /// The Prometheus text exposition (format 0.0.4) behind `/metrics`.
    fn metrics(&self) -> String;
}

/// A JSON response, pretty-printed.
pub fn json(status: StatusCode, v: &Value) -> Response {
    let body = serde_json::to_string_pretty(v).unwrap_or_else(|_| "{}".to_string());
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A plain text response.
pub fn text(status: StatusCode, body: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body.to_string()).into_response()
}

/// The probe and metrics routes, answered from `probes`.
pub fn router<P: Probes>(probes: Arc<P>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/healthz", get(health))
        .route("/ready", get(ready::<P>))
        .route("/readyz", get(ready::<P>))
        .route("/startup", get(startup::<P>))
        .route("/metrics", get(metrics::<P>))
        .with_state(probes)
}

/// Serves `router` on `listener` in a task until `shutdown` resolves (then finishes the
/// requests in flight). A server error is logged.
pub fn spawn<L>(listener: L, router: Router, shutdown: impl Future<Output = ()> + Send + 'static) -> JoinHandle<()>
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).with_graceful_shutdown(shutdown).await {
            tracing::error!("HTTP server: {e}");
        }
    })
}

/// Liveness: the process answers. (Work that fails is reported by `/ready`; restarting the pod
/// would not mend it.)
async fn health() -> Response {
    text(StatusCode::OK, "ok\n")
}

async fn ready<P: Probes>(State(p): State<Arc<P>>) -> Response {
    match p.not_ready() {
        None => text(StatusCode::OK, "ready\n"),
        Some(why) => text(StatusCode::SERVICE_UNAVAILABLE, &format!("not ready: {why}\n")),
    }
}

async fn startup<P: Probes>(State(p): State<Arc<P>>) -> Response {
    if p.started() { text(StatusCode::OK, "started\n") } else { text(StatusCode::SERVICE_UNAVAILABLE, "starting\n") }
}

async fn metrics<P: Probes>(State(p): State<Arc<P>>) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], p.metrics()).into_response()
}
