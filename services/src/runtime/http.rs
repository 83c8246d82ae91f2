//! The runtime's HTTP server (runtime-and-gateway.md §12.1): the probes and metrics of
//! [`crate::serve::http`], answered from the OperatorBoxes, plus the `/katalog` JSON the TUI and
//! dashboards read. Plain HTTP, no authentication, read-only; bind it where only the kubelet
//! and your scraper reach it.

use super::Shared;
use crate::serve::http::json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use std::sync::Arc;

/// Every route: the probes, `/metrics`, `/katalog` and `/katalog/<crd>`.
pub(super) fn router(shared: Arc<Shared>) -> Router {
    let katalog = Router::new().route("/katalog", get(katalog)).route("/katalog/{crd}", get(crd)).with_state(shared.clone());
    crate::serve::http::router(shared).merge(katalog)
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
