//! The `katalog` crate through its public API: loading, e2e documents, rendering, rules and
//! secret redaction, without the `ork` binary.

mod common;
mod e2e_document;
mod fields;
mod loader;
mod render;
mod rules;
mod sensitive;
