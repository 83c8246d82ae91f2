//! A view is a component: its own state, its own keys, its own drawing. The [`app::App`]
//! routes keys to the active view (after the global keys), background results addressed to a
//! view ([`Msg::View`]) to that view, and every new [`Analysis`] to every view.
//!
//! [`app::App`]: super::app::App

use super::analysis::Analysis;
use super::jobs::Jobs;
use super::msg::Msg;
use super::theme::Theme;
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use std::any::Any;
use std::path::PathBuf;
use std::sync::Arc;

pub use super::id::ViewId;
pub use super::options::Options;

/// What a view asks of the application.
#[derive(Debug)]
pub enum Action {
    /// Nothing more.
    None,
    /// The key was not the view's: the application may use it.
    Ignored,
    /// Open `$EDITOR` on a file at a line (1-based), then validate again.
    Edit {
        /// The file.
        path: PathBuf,
        /// The line.
        line: u32,
    },
    /// Switch to a view.
    Switch(ViewId),
    /// Show a line in the status bar.
    Status(String),
    /// Run a palette command (as if typed after `:`), e.g. `goto 12` for the Katalog view.
    Run(String),
}

/// What a view can see and use: the latest analysis, the background job runner, the theme,
/// and the application's options.
pub struct Ctx<'a> {
    /// The latest validation (`None` before the first one ends).
    pub analysis: Option<&'a Arc<Analysis>>,
    /// Runs work off the UI thread.
    pub jobs: &'a Jobs,
    /// Colours.
    pub theme: Theme,
    /// The options the workbench was started with.
    pub options: &'a Options,
}

/// One keybinding, for the `?` help.
pub type KeyHelp = (&'static str, &'static str);

/// A view of the workbench.
pub trait View {
    /// Which view it is.
    fn id(&self) -> ViewId;

    /// Its keys, for `?` (the global keys are listed by the application).
    fn keys(&self) -> &'static [KeyHelp];

    /// A key press the global key map did not take. Return [`Action::Ignored`] for keys the
    /// view does not use.
    fn on_key(&mut self, key: KeyEvent, ctx: &Ctx<'_>) -> Action;

    /// Mouse wheel: `delta` lines (negative: up).
    fn on_scroll(&mut self, delta: i32, ctx: &Ctx<'_>) {
        let _ = (delta, ctx);
    }

    /// A new analysis arrived (also called once when the view is first shown).
    fn on_analysis(&mut self, ctx: &Ctx<'_>) {
        let _ = ctx;
    }

    /// The view became the visible one.
    fn on_show(&mut self, ctx: &Ctx<'_>) {
        let _ = ctx;
    }

    /// A result of the view's own background work ([`Msg::View`]).
    fn on_result(&mut self, result: Box<dyn Any + Send>, ctx: &Ctx<'_>) -> Action {
        let _ = (result, ctx);
        Action::None
    }

    /// The `/` filter changed (empty: no filter).
    fn set_filter(&mut self, filter: &str) {
        let _ = filter;
    }

    /// A `:` command the application does not know, with its argument: the view may take it
    /// (e.g. `:bundle FILE`). `None` when it is not the view's.
    fn on_command(&mut self, command: &str, arg: &str, ctx: &Ctx<'_>) -> Option<Action> {
        let _ = (command, arg, ctx);
        None
    }

    /// The `:` commands it takes, with a line of help each (for completion and `?`).
    fn commands(&self) -> &'static [KeyHelp] {
        &[]
    }

    /// A one-line summary for the tab bar (e.g. `✓ 3/3`), when it has one.
    fn badge(&self) -> Option<String> {
        None
    }

    /// Draws the view into `area`.
    fn render(&mut self, frame: &mut Frame<'_>, area: Rect, ctx: &Ctx<'_>);
}

/// A result message for `view`.
pub fn result_for(view: ViewId, value: impl Any + Send) -> Msg {
    Msg::View(view, Box::new(value))
}
