//! The admission gateway (feature `gateway`): an HTTPS server answering the Katalog's admission
//! webhooks (`webhooks`, verdicts from `katalog::admission::Gate`), with its metrics
//! (`metrics`). Built on `crate::serve` alone: it contains no reconciler, runtime or dev cluster.

pub mod metrics;
pub mod webhooks;
