//! Everything that talks to a cluster.
//!
//! `cluster` defines the [`cluster::Cluster`] trait — the Kubernetes API verbs the reconciler
//! uses, over dynamic objects — and [`cluster::MemCluster`], an in-memory store with API-server
//! semantics (resourceVersions, conflicts, finalizers, garbage collection, status subresources,
//! watches). `reconcile` is the reconciler core, written once against the trait: the runtime runs
//! it on a real cluster, `ork simulate` on a `MemCluster`. `simulate` (feature `dev`) is the
//! runner behind `ork simulate`.
//!
//! This crate does not parse Katalogs or render templates (that is `katalog`); it applies what
//! `katalog::render` computes.

pub mod cluster;
#[cfg(feature = "dev")]
pub mod devcluster;
pub mod reconcile;
#[cfg(feature = "runtime")]
pub mod runtime;
#[cfg(feature = "dev")]
pub mod simulate;


