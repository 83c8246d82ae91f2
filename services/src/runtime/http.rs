//! The runtime's HTTP server (runtime-and-gateway.md §12.1): probes, Prometheus metrics and the
//! `/katalog` JSON the TUI and dashboards read. Plain HTTP, no authentication, read-only; bind
//! it where only the kubelet and your scraper reach it.

use super::Shared;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use std::sync::Arc;

fn json(status: StatusCode, v: &Value) -> Response {
    let body = serde_json::to_string_pretty(v).unwrap_or_else(|_| "{}".to_string());
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn text(status: StatusCode, body: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body.to_string()).into_response()
}

/// Every route.
pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/healthz", get(health))
        .route("/ready", get(ready))
        .route("/readyz", get(ready))
        .route("/startup", get(startup))
        .route("/metrics", get(metrics))
        .route("/katalog", get(katalog))
        .route("/katalog/{crd}", get(crd))
        .with_state(shared)
}

/// Liveness: the process answers. (A box that fails is reported by `/ready` and `/katalog`;
/// restarting the pod would not mend it.)
async fn health() -> Response {
    text(StatusCode::OK, "ok\n")
}

async fn ready(State(s): State<Arc<Shared>>) -> Response {
    match s.not_ready() {
        None => text(StatusCode::OK, "ready\n"),
        Some(why) => text(StatusCode::SERVICE_UNAVAILABLE, &format!("not ready: {why}\n")),
    }
}

async fn startup(State(s): State<Arc<Shared>>) -> Response {
    if s.started() { text(StatusCode::OK, "started\n") } else { text(StatusCode::SERVICE_UNAVAILABLE, "starting\n") }
}

async fn metrics(State(s): State<Arc<Shared>>) -> Response {
    let body = s.metrics_text();
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

async fn katalog(State(s): State<Arc<Shared>>) -> Response {
    let v = s.summary();
    let status = if v["totalDegraded"].as_u64().unwrap_or(0) > 0 { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
    json(status, &v)
}

async fn crd(State(s): State<Arc<Shared>>, Path(name): Path<String>) -> Response {
    match s.crd_summary(&name) {
        Some(v) => json(StatusCode::OK, &v),
        None => json(StatusCode::NOT_FOUND, &serde_json::json!({"error": format!("no CRD entry named `{name}` runs here"), "isKonductor": s.leading()})),
    }
}
