//! The typed Katalog language: documents as the user wrote them, every value with its position.
//!
//! Only the newest upstream layout ("G5") is accepted. Fields of older layouts are rejected with
//! a message that says where the field lives now ([`legacy_hint`]).

pub mod condition;
pub mod crd;
pub mod e2e;
pub mod katalog;
pub mod resources;
pub mod simulate;

pub use condition::{Comparison, Condition, MutationRule, Operator, RuleAction, ValidationRule};
pub use crd::{CrdEntry, OperatorBox};
pub use e2e::E2e;
pub use katalog::{Katalog, Komposer, Metadata, Motif};
pub use resources::{ChildKind, HookTemplates};
pub use simulate::Simulate;

/// The only supported `apiVersion`.
pub const API_VERSION: &str = "orkestra.orkspace.io/v1";

/// The document kinds ork reads.
pub const KINDS: &[&str] = &["Katalog", "Komposer", "Motif", "Simulate", "E2E"];

/// A migration hint for a key that is valid in an older upstream layout (or a common mistake),
/// looked up by the Rust type being decoded. `None` when the key has no special story.
pub fn legacy_hint(type_name: &str, key: &str) -> Option<&'static str> {
    Some(match (type_name, key) {
        ("Katalog", "imports") => "a Katalog cannot import other Katalogs; use `kind: Komposer` with `imports.files`, or `spec.imports` for motifs",
        ("Komposer", "crds") => "Komposer CRD overrides go under `spec.crds`",
        ("CrdEntry", "validation" | "mutation" | "conversion" | "webhooks") => {
            "in the current layout admission rules live under `admission:` (e.g. `admission.validation`)"
        }
        ("CrdEntry", "imports" | "normalize" | "forceConflict") => "in the current layout this lives under `operatorBox.reconcile`",
        (
            "CrdEntry",
            "allowedNamespaces" | "restrictedNamespaces" | "deletionProtection" | "ignoreStatusPatch" | "ignoreObservedGeneration" | "removeFinalizers",
        ) => "in the current layout this lives under `operatorBox.runtime`",
        ("CrdEntry", "workers" | "resync") => "in the current layout this lives under `operatorBox.reconcile`",
        ("CrdEntry", "name") => "the entry name is its key under `spec.crds`; remove `name:`",
        ("OperatorBox", "reconciler") => "`reconciler` was renamed: use `operatorBox.reconcile`",
        ("OperatorBox", "onCreate" | "onReconcile" | "onDelete") => {
            "lifecycle blocks live under `operatorBox.reconcile` (e.g. `operatorBox.reconcile.onCreate`)"
        }
        ("OperatorBox", "status") => "status lives under `operatorBox.emit.status`",
        ("OperatorBox", "finalizers" | "autoscale") => "this lives under `operatorBox.runtime`",
        ("OperatorBox", "cross") => "cross reads live under `operatorBox.observe.cross`",
        ("OperatorBox", "default" | "hooks" | "constructor") => "this lives under `operatorBox.reconcile`",
        (_, "anyOf") => "`anyOf` was renamed to `or`",
        (_, "reconcileMode") => "did you mean `reconcile`?",
        _ => return None,
    })
}
