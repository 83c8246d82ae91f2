//! The `ork` binary's library: the scriptable subcommands ([`cli`]), the workbench terminal UI
//! ([`workbench`]), and the styled reports both render ([`report`]) — one implementation of
//! each feature, shown as text by the CLI and as widgets by the workbench.

pub mod cli;
pub mod packs;
pub mod report;
pub mod workbench;
