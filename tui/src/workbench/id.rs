//! The names of the views: what `Msg::View` addresses, what number keys and `:` commands
//! switch to. (Its own module so that messages and views can both name a view.)

/// The views, in number-key order (`1`…`7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ViewId {
    /// The Katalog as a tree.
    Katalog,
    /// Every diagnostic.
    Problems,
    /// A CR's rendered children, status and admission verdict.
    Preview,
    /// The simulate files' runs.
    Simulate,
    /// The derived RBAC, and the plan against a deployed bundle.
    Rbac,
    /// The Katalog, CRDs and bundle against git HEAD or another file.
    Diff,
    /// The Katalog's CRs on a cluster.
    Live,
}

impl ViewId {
    /// Every view, in number-key order.
    pub const ALL: [ViewId; 7] = [ViewId::Katalog, ViewId::Problems, ViewId::Preview, ViewId::Simulate, ViewId::Rbac, ViewId::Diff, ViewId::Live];

    /// Its `:` command and tab title.
    pub fn name(self) -> &'static str {
        match self {
            ViewId::Katalog => "katalog",
            ViewId::Problems => "problems",
            ViewId::Preview => "preview",
            ViewId::Simulate => "simulate",
            ViewId::Rbac => "rbac",
            ViewId::Diff => "diff",
            ViewId::Live => "live",
        }
    }

    /// Other names the palette accepts.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            ViewId::Katalog => &["k", "kat", "tree"],
            ViewId::Problems => &["p", "prob", "diagnostics", "validate"],
            ViewId::Preview => &["pre", "template", "render"],
            ViewId::Simulate => &["s", "sim"],
            ViewId::Rbac => &["r", "bundle", "plan"],
            ViewId::Diff => &["d"],
            ViewId::Live => &["l", "cluster", "run"],
        }
    }

    /// Its number key.
    pub fn key(self) -> char {
        let i = ViewId::ALL.iter().position(|v| *v == self).unwrap_or(0);
        char::from(b'1' + i as u8)
    }
}
