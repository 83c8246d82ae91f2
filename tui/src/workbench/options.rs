//! How the workbench was started (`ork tui`'s flags), as the application and every view see it.

use super::id::ViewId;
use katalog::load::LoadOptions;

/// How the workbench was started.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// How Katalogs are loaded (the `--max-*` limits, `--allow-outside-root`).
    pub load: LoadOptions,
    /// The install namespace (RBAC, plan, gate).
    pub namespace: String,
    /// The view to open on.
    pub start: Option<ViewId>,
}
