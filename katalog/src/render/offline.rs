//! Rendering CRs read from files, without a cluster (`ork template`): pick the CRD entry that
//! serves each CR, give the CR the uid and generation the API server would, seed randomness from
//! its identity, and return what the reconciler would write — already redacted for display
//! unless asked otherwise.

use super::{RenderError, Request, render};
use crate::model::katalog::Katalog;
use crate::template::{Rng, TemplateSet, codec_hash8};
use serde::Serialize;
use serde_json::{Value, json};

/// Why no CRD entry was picked for a CR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PickError {
    /// `--crd` names no entry.
    #[error("--crd {wanted}: no such CRD entry (known: {})", known.join(", "))]
    Unknown {
        /// The entry asked for.
        wanted: String,
        /// Every entry.
        known: Vec<String>,
    },
    /// The CR document has no `apiVersion` or `kind`.
    #[error("the CR has no apiVersion/kind")]
    NoType,
    /// No entry's apiTypes match the CR.
    #[error("no CRD entry serves {api_version} {kind} (entries: {}); check apiVersion/kind or pass --crd", known.join(", "))]
    NoMatch {
        /// The CR's apiVersion.
        api_version: String,
        /// The CR's kind.
        kind: String,
        /// Every entry.
        known: Vec<String>,
    },
    /// More than one entry serves the CR's type.
    #[error("several CRD entries serve {api_version} {kind} ({}); pass --crd", matches.join(", "))]
    Ambiguous {
        /// The CR's apiVersion.
        api_version: String,
        /// The CR's kind.
        kind: String,
        /// The entries that match.
        matches: Vec<String>,
    },
}

/// The CRD entry for a CR: `wanted` (`--crd`), else the entry whose apiTypes group/version/kind
/// match the CR's.
pub fn pick_crd(katalog: &Katalog, cr: &Value, wanted: Option<&str>) -> Result<String, PickError> {
    let known: Vec<String> = katalog.crds().iter().map(|(k, _)| k.value.clone()).collect();
    if let Some(w) = wanted {
        return if known.iter().any(|k| k == w) { Ok(w.to_string()) } else { Err(PickError::Unknown { wanted: w.to_string(), known }) };
    }
    let kind = cr.get("kind").and_then(Value::as_str).unwrap_or_default();
    let api_version = cr.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    if kind.is_empty() || api_version.is_empty() {
        return Err(PickError::NoType);
    }
    let matches: Vec<String> = katalog
        .crds()
        .iter()
        .filter(|(_, e)| crate::kinds::api_identity(e).is_some_and(|id| id.kind == kind && format!("{}/{}", id.group, id.version) == api_version))
        .map(|(k, _)| k.value.clone())
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(PickError::NoMatch { api_version: api_version.to_string(), kind: kind.to_string(), known }),
        _ => Err(PickError::Ambiguous { api_version: api_version.to_string(), kind: kind.to_string(), matches }),
    }
}

/// `Kind namespace/name` (`Kind name` for a cluster-scoped object).
pub fn identity(cr: &Value) -> String {
    let s = |p: &str| cr.pointer(p).and_then(Value::as_str).unwrap_or_default().to_string();
    let ns = s("/metadata/namespace");
    let name = s("/metadata/name");
    if ns.is_empty() { format!("{} {name}", s("/kind")) } else { format!("{} {ns}/{name}", s("/kind")) }
}

/// A CR read from a file has not been stored: give it the uid and generation the API server
/// would, deterministically (derived from its identity), so owner references are complete.
pub fn offline_cr(cr: &Value) -> Value {
    let mut cr = cr.clone();
    let id = identity(&cr);
    if let Some(meta) = cr.get_mut("metadata").and_then(Value::as_object_mut) {
        if !meta.contains_key("uid") {
            let h = crate::template::hex(&crate::template::sha256(id.as_bytes()));
            let uid = format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32]);
            meta.insert("uid".into(), json!(uid));
        }
        meta.entry("generation").or_insert(json!(1));
    }
    cr
}

/// How to render CRs offline.
#[derive(Debug, Clone, Copy, Default)]
pub struct OfflineOptions<'a> {
    /// The CRD entry to render with (default: the one whose apiTypes match each CR).
    pub crd: Option<&'a str>,
    /// Seed of template randomness (default: derived from each CR's identity).
    pub seed: Option<u64>,
    /// The time templates see, Unix seconds.
    pub now: i64,
    /// Keep Secret data and the CR's sensitive values in the children as they are.
    pub show_secrets: bool,
}

/// A rendering failure of the CR at `index` (0-based) of the file.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OfflineError {
    /// No CRD entry was picked for the CR.
    #[error("{0}")]
    Pick(#[from] PickError),
    /// The CR could not be rendered.
    #[error("{0}")]
    Render(#[from] RenderError),
}

/// A rule that held no more: its level (`error` for deny, `warning` for warn) and the line.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// `note`, `error` or `warning`.
    pub level: &'static str,
    /// What happened, sensitive values redacted.
    pub message: String,
}

/// One child as shown: the template entry it came from and its manifest.
#[derive(Debug, Clone, Serialize)]
pub struct ShownChild {
    /// The entry: `onCreate.deployments[0]`.
    pub source: String,
    /// The manifest (redacted unless [`OfflineOptions::show_secrets`]).
    pub manifest: Value,
}

/// What rendering one CR offline gives, ready for display.
#[derive(Debug, Clone, Serialize)]
pub struct OfflineCr {
    /// The CRD entry used.
    pub crd: String,
    /// `Kind namespace/name`.
    pub identity: String,
    /// Mutations, violations and warnings, in that order (sensitive values redacted).
    pub findings: Vec<Finding>,
    /// The children.
    pub children: Vec<ShownChild>,
    /// The status the runtime would write.
    pub status: Value,
    /// Whether a deny rule failed.
    pub denied: bool,
}

/// Renders the CR at `index` (in range) of `crs` (the documents of one file) as the reconciler would on its
/// first reconcile; `unique` rules compare with the other CRs of the same kind in `crs`.
pub fn render_offline(
    katalog: &Katalog,
    templates: &TemplateSet,
    crs: &[Value],
    index: usize,
    observed: &[Value],
    opts: OfflineOptions<'_>,
) -> Result<OfflineCr, OfflineError> {
    let cr = &crs[index];
    let crd = pick_crd(katalog, cr, opts.crd)?;
    let cr = offline_cr(cr);
    let seed = opts.seed.unwrap_or_else(|| u64::from_str_radix(&codec_hash8(&identity(&cr)), 16).unwrap_or(0));
    let same_kind = |c: &Value| c.get("kind") == cr.get("kind") && c.get("apiVersion") == cr.get("apiVersion");
    let others: Vec<Value> = crs.iter().enumerate().filter(|(j, c)| *j != index && same_kind(c)).map(|(_, c)| c.clone()).collect();
    let req = Request { crd: &crd, cr: &cr, observed, others: &others, now: opts.now, rng: Rng::Seeded(seed), cross: &serde_json::Value::Null };
    let rendered = render(katalog, templates, req)?;
    let id = identity(&cr);
    let mut findings = Vec::new();
    for op in &rendered.mutations {
        let value = if templates.sensitivity(&crd).pointer(&op.path) {
            crate::sensitive::REDACTED_VALUE.to_string()
        } else {
            rendered.redactor.scrub(&op.value.to_string())
        };
        findings.push(Finding { level: "note", message: format!("{id}: mutation set {} = {value}", op.path) });
    }
    for v in &rendered.violations {
        let level = if v.is_deny() { "error" } else { "warning" };
        findings.push(Finding { level, message: format!("{id}: {} rule on {}: {} {}", v.action, v.field, v.message, v.got()) });
    }
    for w in &rendered.warnings {
        findings.push(Finding { level: "warning", message: format!("{id}: {w}") });
    }
    let children = rendered
        .children
        .iter()
        .map(|child| {
            let mut shown = child.manifest.clone();
            if !opts.show_secrets {
                crate::redact::redact_secret_data(&mut shown);
                rendered.redactor.scrub_json(&mut shown);
            }
            ShownChild { source: child.source.clone(), manifest: shown }
        })
        .collect();
    Ok(OfflineCr { crd, identity: id, findings, children, status: rendered.status.clone(), denied: rendered.denied() })
}
