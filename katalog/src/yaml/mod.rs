//! A span-preserving YAML tree, built with hard input caps.
//!
//! `yaml-rust2`'s event parser gives positions; this module turns its events into [`Node`]s that
//! remember where they came from, so every later check can point at file:line:col. Untrusted
//! input is bounded here, once: nesting depth, and the total number of nodes *and* of text
//! bytes after alias expansion (a "billion laughs" document, or one long string repeated by
//! aliases, is rejected after a bounded amount of work and memory). The file size is bounded
//! by the reader ([`crate::files::read_bounded`]). Duplicate mapping keys are errors, as the
//! YAML spec requires.
//!
//! The tree and its parser are in `parse`; `emit` writes JSON values back as block YAML (what
//! `ork template` prints and the packs contain). Both are re-exported here, so callers use
//! `katalog::yaml::{parse, emit, Node, ...}`.

mod emit;
mod parse;

pub use emit::{emit, emit_scalar_str};
pub use parse::{DEFAULT_MAX_BYTES, Document, Limits, Node, Scalar, Style, Value, parse};
