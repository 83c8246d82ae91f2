//! The workbench: `ork tui [DIR|FILE]` (and `ork` alone on a terminal). One [`app::App`] holds
//! the state; the UI thread only turns messages ([`msg::Msg`]) into state and state into
//! frames. Key presses arrive from an input thread; file watching, validation, simulate, git,
//! the dev cluster and watches run on background threads ([`jobs::Jobs`]) and send messages
//! back, so the UI thread never waits on I/O. Each view is a component ([`view::View`]) with
//! its own state and key map, and shows reports built by the same library code as the CLI
//! commands (through [`crate::report::Doc`]).

pub mod analysis;
pub mod app;
pub mod harness;
pub mod id;
pub mod jobs;
pub mod msg;
pub mod options;
pub mod pattern;
pub mod term;
pub mod theme;
pub mod view;
pub mod views;
pub mod widgets;

pub use term::run;
