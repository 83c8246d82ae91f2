//! The Katalog language: the typed model, strict loading, profiles and offline validation.
//!
//! This crate owns everything that can be decided from files alone: it reads YAML with hard input
//! caps, decodes it strictly into the model (every unknown field or wrong type is reported with
//! file:line:col, YAML path and a suggestion), expands `include:`, Motif imports and Komposer
//! imports, and runs the checks behind `ork validate`. It does no network I/O and has no
//! Kubernetes client: like `kube-core`, it is the pure layer the runtime, the gateway and the
//! workbench share. Reading local files is its only I/O.

extern crate self as katalog;

pub mod admission;
#[cfg(feature = "authoring")]
pub mod authoring;
pub mod decode;
pub mod diag;
pub mod duration;
pub mod files;
pub mod install;
pub mod kinds;
pub mod load;
pub mod model;
pub mod names;
pub mod namespaces;
pub mod observe;
pub mod profiles;
pub mod protection;
pub mod redact;
pub mod remote;
pub mod render;
pub mod rules;
pub mod security;
pub mod sensitive;
pub mod template;
pub mod time;
pub mod valid;
pub mod validate;
pub mod yaml;

pub use diag::{Diagnostic, Diagnostics, Severity, Span};
