//! Process plumbing shared by ork's server processes — the runtime (`ork-runtime`, `ork run`),
//! the gateway and the dev cluster — without pulling in each other: TLS (`tls`), the probe and
//! metrics HTTP server (`http`, `metrics`), log output (`logging`), panic logging and catching
//! (`panic`), Kubernetes clients (`client`) and the stop signal (`signal`).
//!
//! Feature `serve` compiles neither `runtime` (OperatorBoxes, leader election) nor
//! `devcluster`, `simulate`, `e2e` or `katalog::authoring`; features `runtime` and `dev` enable
//! it.

pub mod client;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod panic;
pub mod signal;
pub mod tls;
