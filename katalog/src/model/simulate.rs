//! `kind: Simulate` (cli-and-workflows.md §4): what `ork simulate` runs and what it expects.

// Field names are the document's keys (camelCase in YAML), documented in docs/ and by the
// decoder's errors; a field has a doc comment only where its name does not say it all.
#![allow(missing_docs)]

use crate::decode::{Map, Str};
use crate::diag::Span;
use katalog_derive::Decode;

/// `metadata` of a Simulate document.
#[derive(Debug, Clone, Default, Decode)]
pub struct SimulateMetadata {
    /// Name (required).
    #[decode(required)]
    pub name: Option<Str>,
    /// Free text.
    pub description: Option<Str>,
}

/// One `ops` / `absent` rule: operations of one cycle matching verb, resource and name.
#[derive(Debug, Clone, Default, Decode)]
pub struct OpRule {
    /// The cycle (1-based); absent: any cycle.
    pub cycle: Option<u32>,
    /// `create`, `update`, `patch`, `delete`, `apply` (also `get`, `list`, `watch`).
    pub verb: Option<Str>,
    /// Resource plural (`deployments`, `websites/status`; `status` matches any status write).
    pub resource: Option<Str>,
    /// Exact object name.
    pub name: Option<Str>,
    /// At least this many (ops; default 1).
    pub count: Option<u32>,
    /// A file whose `ops:` list replaces this rule.
    pub include: Option<Str>,
    #[decode(span)]
    pub span: Span,
}

/// `expect` (top level, or per CRD under `crds`, which then replaces the top level).
#[derive(Debug, Clone, Default, Decode)]
pub struct Expect {
    /// A cycle with only reads is reached.
    pub steady: Option<bool>,
    /// ... no later than this cycle.
    pub steady_at: Option<u32>,
    /// No cycle ends in an error.
    pub no_errors: Option<bool>,
    /// The CR is gone by the last cycle (with `deleteAt`): an ork extension.
    pub deleted: Option<bool>,
    /// Operations that must happen.
    pub ops: Vec<OpRule>,
    /// Operations that must not happen.
    pub absent: Vec<OpRule>,
    /// Per CRD entry.
    pub crds: Map<Expect>,
    #[decode(span)]
    pub span: Span,
}

/// `spec` of a leaf Simulate document.
#[derive(Debug, Clone, Default, Decode)]
pub struct SimulateSpec {
    /// Katalog or Komposer file, relative to this file (required).
    #[decode(required)]
    pub katalog: Option<Str>,
    /// CR file (multi-document).
    pub cr: Option<Str>,
    /// More CR files, appended.
    pub cr_files: Vec<Str>,
    /// CRD manifest (for --envtest upstream; unused by ork).
    pub crd: Option<Str>,
    /// More CRD manifests.
    pub crd_files: Vec<Str>,
    /// Cycles to run (default 10).
    pub cycles: Option<u32>,
    /// Stub external calls (ork never executes them).
    pub skip_external: Option<bool>,
    /// Serve target.
    #[decode(unsupported = "serve targets (`serve`) are not executed by ork")]
    pub target: Option<Str>,
    /// Restrict to one CRD entry.
    pub crd_name: Option<Str>,
    /// Request the CR's deletion at the start of this cycle (an ork extension).
    pub delete_at: Option<u32>,
    /// Expectations; absent: print the operations only.
    pub expect: Option<Expect>,
    #[decode(span)]
    pub span: Span,
}

/// `kind: Simulate`: a leaf (`spec`) or a suite (`imports`).
#[derive(Debug, Clone, Default, Decode)]
pub struct Simulate {
    /// `orkestra.orkspace.io/v1`.
    #[decode(required)]
    pub api_version: Option<Str>,
    /// `Simulate`.
    #[decode(required)]
    pub kind: Option<Str>,
    #[decode(required)]
    pub metadata: Option<SimulateMetadata>,
    /// The run.
    pub spec: Option<SimulateSpec>,
    /// Other Simulate files run in order (a suite).
    pub imports: Vec<Str>,
    #[decode(span)]
    pub span: Span,
}

/// The file an `include:` op rule names: just `ops`.
#[derive(Debug, Clone, Default, Decode)]
pub struct OpsFile {
    /// The rules.
    pub ops: Vec<OpRule>,
}

/// Cycles run when a document does not say.
pub const DEFAULT_CYCLES: u32 = 10;
/// The most cycles a document may ask for.
pub const MAX_CYCLES: u32 = 10_000;

/// The verbs an op rule may name.
pub const OP_VERBS: &[&str] = &["create", "update", "patch", "delete", "apply", "get", "list", "watch"];
