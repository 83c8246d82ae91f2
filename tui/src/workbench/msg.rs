//! What reaches the UI thread: key presses and resizes, file changes, and the results of
//! background work. A view's own results travel as [`Msg::View`], addressed to it and opened by
//! it alone (each view defines its message types privately).

use super::analysis::Analysis;
use super::id::ViewId;
use std::any::Any;
use std::path::PathBuf;
use std::sync::Arc;

/// A message for the UI thread.
pub enum Msg {
    /// A terminal event: key, mouse, resize.
    Input(crossterm::event::Event),
    /// Files of the pattern changed on disk (debounced); the pattern is re-read and re-validated.
    FilesChanged(Vec<PathBuf>),
    /// A validation of the pattern finished.
    Analyzed(Arc<Analysis>),
    /// A background job started (`true`) or ended (`false`); the status line lists running jobs.
    Job {
        /// Its name, as shown.
        name: String,
        /// Running or not.
        running: bool,
    },
    /// A line for the status bar.
    Status(String),
    /// The result of a view's background work, for that view.
    View(ViewId, Box<dyn Any + Send>),
    /// Nothing happened for a while: redraw ages and spinners.
    Tick,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Msg::Input(e) => write!(f, "Input({e:?})"),
            Msg::FilesChanged(p) => write!(f, "FilesChanged({p:?})"),
            Msg::Analyzed(a) => write!(f, "Analyzed(generation {})", a.generation),
            Msg::Job { name, running } => write!(f, "Job({name}, {running})"),
            Msg::Status(s) => write!(f, "Status({s})"),
            Msg::View(v, _) => write!(f, "View({v:?})"),
            Msg::Tick => write!(f, "Tick"),
        }
    }
}
