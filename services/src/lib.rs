//! Everything that talks to a cluster.
//!
//! `cluster` defines the [`cluster::Cluster`] trait — the Kubernetes API verbs the reconciler
//! uses, over dynamic objects — and [`cluster::MemCluster`], an in-memory store with API-server
//! semantics (resourceVersions, conflicts, finalizers, garbage collection, status subresources,
//! watches). `reconcile` is the reconciler core, written once against the trait: the runtime runs
//! it on a real cluster, `ork simulate` on a `MemCluster`. `simulate` and `e2e` (feature `dev`)
//! are the runners behind `ork simulate` and `ork e2e`. `serve` (feature `serve`) is the process
//! plumbing every server shares: TLS, probes and metrics, logging, panics, kube clients.
//!
//! This crate does not parse Katalogs or render templates (that is `katalog`); it applies what
//! `katalog::render` computes.

pub mod cluster;
#[cfg(feature = "dev")]
pub mod devcluster;
#[cfg(feature = "dev")]
pub mod e2e;
#[cfg(feature = "dev")]
pub mod files;
#[cfg(feature = "gateway")]
pub mod gateway;
pub mod reconcile;
#[cfg(feature = "dev")]
pub mod run;
#[cfg(feature = "runtime")]
pub mod runtime;
#[cfg(feature = "serve")]
pub mod serve;
#[cfg(feature = "dev")]
pub mod simulate;
