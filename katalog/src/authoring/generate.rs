//! The steps of `ork generate crd`, `ork generate bundle` and `ork plan` that are not printing:
//! which components a bundle is for, whether the Katalog needs a gateway, the CRDs of the enabled
//! entries as one YAML stream, and the plan of a Katalog against a deployed bundle.

use super::bundle::{Selection, shipped_json};
use super::crd::generate;
use super::diff::{Deployed, Plan, plan};
use super::rbac::Derivation;
use crate::model::katalog::Katalog;
use crate::yaml::{Node, emit};

/// Why a generate step gave nothing.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// `--for` names an unknown component (a usage error).
    #[error("--for {0}: unknown component (valid: runtime, run, gateway, gw, all)")]
    UnknownComponent(String),
    /// `--for` selects nothing (a usage error).
    #[error("--for selects no component (valid: runtime, run, gateway, gw, all)")]
    NoComponent,
    /// Only the gateway was asked for, and the Katalog needs none.
    #[error(
        "--for gateway: this Katalog declares no gateway feature (admission webhooks, deletion or namespace protection, conversion), so the gateway needs no permissions"
    )]
    NoGateway,
    /// `--crd` names no enabled entry.
    #[error("--crd {wanted}: no such enabled CRD entry (known: {})", known.join(", "))]
    UnknownCrd {
        /// The entry asked for.
        wanted: String,
        /// Every entry.
        known: Vec<String>,
    },
    /// A CRD could not be generated.
    #[error(transparent)]
    Crd(#[from] super::crd::CrdError),
    /// The permissions could not be derived.
    #[error(transparent)]
    Derive(#[from] super::rbac::DeriveError),
    /// The shipped Katalog could not be written.
    #[error(transparent)]
    Ship(#[from] super::bundle::ShipError),
}

impl GenerateError {
    /// Whether the error is in the command line rather than in the Katalog.
    pub fn is_usage(&self) -> bool {
        matches!(self, GenerateError::UnknownComponent(_) | GenerateError::NoComponent)
    }
}

/// The components of `--for`: comma-separated runtime (run), gateway (gw), all.
pub fn selection(spec: &str) -> Result<Selection, GenerateError> {
    let mut sel = Selection { runtime: false, gateway: false };
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part {
            "runtime" | "run" => sel.runtime = true,
            "gateway" | "gw" => sel.gateway = true,
            "all" => sel = Selection { runtime: true, gateway: true },
            other => return Err(GenerateError::UnknownComponent(other.to_string())),
        }
    }
    if !sel.runtime && !sel.gateway {
        return Err(GenerateError::NoComponent);
    }
    Ok(sel)
}

/// What a bundle for `sel` needs to say about the gateway: `Err` when only the gateway was asked
/// for and the Katalog declares no gateway feature; a note when the gateway part is dropped.
pub fn gateway_note(derived: &Derivation, sel: Selection) -> Result<Option<&'static str>, GenerateError> {
    if sel.gateway && derived.gateway.is_empty() {
        if !sel.runtime {
            return Err(GenerateError::NoGateway);
        }
        return Ok(Some("no gateway feature is declared: the bundle has no gateway ServiceAccount or roles"));
    }
    Ok(None)
}

/// The CustomResourceDefinitions of the enabled entries (or only `only`), sorted by name, as one
/// YAML stream, for an installation in namespace `ns`.
pub fn crds(katalog: &Katalog, only: Option<&str>, ns: &str) -> Result<String, GenerateError> {
    let mut entries: Vec<_> = katalog.crds().iter().filter(|(_, e)| e.is_enabled()).collect();
    if let Some(want) = only {
        entries.retain(|(k, _)| k.value == want);
        if entries.is_empty() {
            let known = katalog.crds().iter().map(|(k, _)| k.as_str().to_string()).collect();
            return Err(GenerateError::UnknownCrd { wanted: want.to_string(), known });
        }
    }
    let mut docs = Vec::new();
    for (name, entry) in entries {
        docs.push(generate(name, entry, ns)?);
    }
    docs.sort_by_key(|d| d.pointer("/metadata/name").and_then(|v| v.as_str()).unwrap_or_default().to_string());
    Ok(docs.iter().map(|d| format!("---\n{}", emit(d))).collect())
}

/// What applying the Katalog (`expanded` as shipped, `derived` its permissions) would change
/// against the `deployed` bundle.
pub fn plan_against(katalog: &Katalog, expanded: &Node, derived: &Derivation, deployed: &Deployed) -> Result<Plan, GenerateError> {
    let local = shipped_json(katalog, expanded)?;
    Ok(plan(&local, derived, deployed))
}

/// A Katalog (`expanded` as shipped, `derived` its permissions) as if it were deployed: the
/// baseline [`plan_against`] compares a newer version with (`ork pull` over an older pull).
pub fn as_deployed(katalog: &Katalog, expanded: &Node, derived: &Derivation) -> Result<Deployed, GenerateError> {
    Ok(Deployed { katalog: Some(shipped_json(katalog, expanded)?), namespace: Some(derived.namespace.clone()), grants: super::diff::derived_grants(derived) })
}
