//! Go `text/template` for Katalogs (reference §8), with the Katalog function library.
//!
//! Why our own engine: the candidate crates were evaluated against what a Katalog needs (sorted
//! map iteration, missing keys rendering empty, closures as functions for notes and the clock,
//! parse-time positions, parse-once/execute-many); `docs/decisions.md` records the results.
//!
//! Semantics, and where they deliberately differ from Go:
//! - a string without `{{` is a literal: never parsed, returned unchanged;
//! - the rendered text is whitespace-trimmed and a missing value renders as "" (upstream runs Go
//!   with `missingkey=zero` and deletes `<no value>`); a field of a missing value is also missing
//!   (`.spec.a.b` with no `a`) where Go would fail — templates read optional CR fields constantly;
//! - `range` over a map visits keys in sorted order (as Go does), over an integer counts up;
//! - unknown functions, wrong argument counts and undefined variables are **parse** errors.

mod codec;
mod error;
mod eval;
pub mod funcs;
mod parse;
mod set;
pub mod value;

pub use codec::{Base64Error, base64_decode, base64_encode, hex, sha256};
pub use error::{FuncError, RandomError};
pub use parse::{Names, ParseError};
pub use set::{DeclaredNames, TemplateSet};

use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Read as _;
use std::sync::Arc;

/// A parsed template, cheap to clone and safe to share between threads.
#[derive(Clone, Debug)]
pub struct Template {
    nodes: Arc<[parse::Node]>,
    literal: Option<Arc<str>>,
}

/// An execution error, with the byte offset of the action that failed.
#[derive(Debug, Clone)]
pub struct EvalError {
    /// Byte offset into the template source.
    pub pos: usize,
    /// What went wrong, as reported (a failed function call reads `NAME: REASON`).
    pub message: String,
    /// The function failure behind the message, when a function call failed. Shared so the
    /// error stays cheap to clone.
    pub cause: Option<Arc<FuncError>>,
}

impl PartialEq for EvalError {
    /// Errors are equal when they report the same text at the same place.
    fn eq(&self, other: &Self) -> bool {
        self.pos == other.pos && self.message == other.message
    }
}

impl Eq for EvalError {}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EvalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}
impl std::error::Error for ParseError {}

/// Whether a string is a template (contains `{{`); anything else is a literal.
pub fn is_template(s: &str) -> bool {
    s.contains("{{")
}

impl Template {
    /// Parses with only the built-in functions known.
    pub fn parse(src: &str) -> Result<Template, ParseError> {
        Self::parse_with(src, &())
    }

    /// Parses, resolving function names against the built-ins and `names` (notes functions and
    /// sentinels a Katalog declares).
    pub fn parse_with(src: &str, names: &dyn Names) -> Result<Template, ParseError> {
        if !is_template(src) {
            return Ok(Template { nodes: Arc::from(Vec::new()), literal: Some(Arc::from(src)) });
        }
        let nodes = parse::parse(src, names)?;
        Ok(Template { nodes: Arc::from(nodes), literal: None })
    }

    /// Whether rendering may read the top-level key `key` of its data (`.children`): a field
    /// chain that starts with it, or the data handed on whole (`.`, `$` or a variable alone,
    /// which may hold it). Conservative: `.children` inside `with`/`range` counts too.
    pub fn may_read(&self, key: &str) -> bool {
        parse::may_read(&self.nodes, key)
    }

    /// The text of a literal (non-template) string.
    pub fn literal(&self) -> Option<&str> {
        self.literal.as_deref()
    }

    /// Renders against `data` (the template's `.` and `$`).
    pub fn render(&self, data: &Value, env: &mut Env<'_>) -> Result<String, EvalError> {
        if let Some(lit) = &self.literal {
            return Ok(lit.to_string());
        }
        let mut state = eval::State::new(env, data);
        state.run(&self.nodes)?;
        let out = state.out;
        let trimmed = out.trim();
        Ok(if trimmed.len() == out.len() { out } else { trimmed.to_string() })
    }
}

/// User-defined notes functions by name, parsed.
pub type Notes = BTreeMap<String, Template>;

/// Where random functions get their bytes.
#[derive(Debug, Clone)]
pub enum Rng {
    /// The operating system (`/dev/urandom`): what secrets need.
    Os,
    /// A deterministic stream (splitmix64) for reproducible previews and tests.
    Seeded(u64),
}

impl Rng {
    /// Fills `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) -> Result<(), RandomError> {
        match self {
            Rng::Os => std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(buf)).map_err(|source| RandomError { source }),
            Rng::Seeded(state) => {
                for chunk in buf.chunks_mut(8) {
                    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                    let mut z = *state;
                    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                    z ^= z >> 31;
                    chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
                }
                Ok(())
            }
        }
    }
}

/// What templates can reach besides their data: notes functions, the clock, randomness.
pub struct Env<'r> {
    /// Notes functions callable by name.
    pub notes: Option<&'r Notes>,
    /// "Now", as Unix seconds (an input, so renders are reproducible).
    pub now: i64,
    /// Random source.
    pub rng: Rng,
    /// The values of a CRD's declared sentinels while a preReconcile gate is evaluated (empty
    /// elsewhere: a sentinel called outside a gate is an error).
    pub sentinels: std::collections::BTreeMap<String, bool>,
    depth: u32,
}

impl<'r> Env<'r> {
    /// An environment with the given clock and randomness and no notes.
    pub fn new(now: i64, rng: Rng) -> Self {
        Env { notes: None, now, rng, sentinels: Default::default(), depth: 0 }
    }

    /// Adds notes functions.
    pub fn with_notes(mut self, notes: &'r Notes) -> Self {
        self.notes = Some(notes);
        self
    }
}

#[cfg(test)]
mod tests;

/// First 8 hex digits of the SHA-256 of `s` (what `sha256sum` returns; used for stable suffixes).
pub fn codec_hash8(s: &str) -> String {
    hex(&sha256(s.as_bytes()))[..8].to_string()
}
