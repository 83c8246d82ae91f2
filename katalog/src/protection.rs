//! Which objects deletion protection covers: `security.deletionProtection` (on by default once
//! the block is there) and each CRD entry's `operatorBox.runtime.deletionProtection`
//! (`protectCRD`, `protectCRs`, both default true).
//!
//! One rule for the runtime, which labels the CRs it covers, the gateway, which refuses their
//! deletion, and the gateway's plan of webhook configurations: they must never disagree.

use crate::model::Katalog;
use crate::model::crd::{CrdDeletionProtection, CrdEntry};
use crate::model::katalog::DeletionProtection;

/// `security.deletionProtection`, when it is on.
pub fn deletion_protection(katalog: &Katalog) -> Option<&DeletionProtection> {
    katalog.security.as_ref().and_then(|s| s.deletion_protection.as_ref()).filter(|d| d.enabled != Some(false))
}

fn per_crd(entry: &CrdEntry) -> Option<&CrdDeletionProtection> {
    entry.runtime().and_then(|r| r.deletion_protection.as_ref())
}

/// Whether deletion protection covers the CRs of `entry` (labelled by the runtime, refused by
/// the gateway): protection is on and the entry does not set `protectCRs: false`.
pub fn protects_crs(katalog: &Katalog, entry: &CrdEntry) -> bool {
    deletion_protection(katalog).is_some() && per_crd(entry).and_then(|d| d.protect_crs) != Some(false)
}

/// Whether deletion protection covers the CustomResourceDefinition of `entry`: protection is on
/// and the entry does not set `protectCRD: false`.
pub fn protects_crd(katalog: &Katalog, entry: &CrdEntry) -> bool {
    deletion_protection(katalog).is_some() && per_crd(entry).and_then(|d| d.protect_crd) != Some(false)
}
