//! The workspace's integration tests, in one test binary (as ripgrep and cargo do): linking the
//! whole tree once instead of once per file is most of the test suite's build time on a small
//! machine. One module per area; `lang` holds the `katalog` crate's own integration tests.
//!
//! Run one area with a filter: `cargo test -p ork-tests --test integration devcluster::`.

mod admission;
mod admission_gateway;
mod bundle;
mod bundle_sufficient;
mod chart;
mod devcluster;
mod e2e;
mod fuzz_loader;
mod gate_cli;
mod gateway;
mod gateway_fuzz;
mod images;
mod init;
mod install;
mod invariants;
mod kube_client;
mod lang;
mod leader;
mod mem_cluster;
mod observe;
mod oci;
mod rbac;
mod rbac_enforcement;
mod reconcile;
mod registry;
mod rt;
mod run;
mod runtime;
mod runtime_binary;
mod runtime_process;
mod secrets;
mod simulate;
mod ssa;
mod template;
mod tui;
mod validate;
mod wire;
