//! Process plumbing shared by ork's server processes — the runtime (`ork-runtime`, `ork run`),
//! the gateway and the dev cluster — without pulling in each other: TLS (`tls`), the probe and
//! metrics HTTP server (`http`, `metrics`), log output (`logging`), panic logging and catching
//! (`panic`), Kubernetes clients (`client`), the stop signal (`signal`), leader election on a
//! Lease (`leader`: the runtime's and the gateway's housekeeper's) and the settings both server
//! binaries read from flags and the environment (`settings`).
//!
//! Feature `serve` compiles neither `runtime` (OperatorBoxes) nor
//! `devcluster`, `simulate`, `e2e` or `katalog::authoring`; features `runtime` and `dev` enable
//! it.

pub mod client;
pub mod http;
pub mod leader;
pub mod logging;
pub mod metrics;
pub mod panic;
pub mod settings;
pub mod signal;
pub mod tls;
