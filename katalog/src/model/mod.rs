//! The typed Katalog language: documents as the user wrote them, every value with its position.
//!
//! Only the newest upstream layout ("G5") is accepted. Fields of older layouts are rejected with
//! a message that says where the field lives now ([`crate::decode::legacy_hint`]).

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
