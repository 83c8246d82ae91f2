//! Authoring-only code: generating CRDs (and later RBAC bundles and scaffolds). Compiled only with
//! the `authoring` feature, so `ork-runtime` and `ork-gateway` never contain it.

pub mod bundle;
pub mod crd;
pub mod diff;
pub mod generate;
pub mod install;
pub mod rbac;
