//! The views, one module each.

pub mod diff;
pub mod katalog;
pub mod live;
pub mod preview;
pub mod problems;
pub mod simulate;

use super::view::{Action, Ctx, KeyHelp, View, ViewId};
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

/// Every view, in number-key order.
pub fn all() -> Vec<Box<dyn View>> {
    vec![
        Box::new(katalog::KatalogView::default()),
        Box::new(problems::Problems::default()),
        Box::new(preview::Preview::default()),
        Box::new(simulate::SimulateView::default()),
        Box::new(Pending(ViewId::Rbac)),
        Box::new(diff::DiffView::default()),
        Box::new(live::LiveView::default()),
    ]
}

/// TEMPORARY: a view being built on a branch (removed before the issue lands).
struct Pending(ViewId);

impl View for Pending {
    fn id(&self) -> ViewId {
        self.0
    }
    fn keys(&self) -> &'static [KeyHelp] {
        &[]
    }
    fn on_key(&mut self, _key: KeyEvent, _ctx: &Ctx<'_>) -> Action {
        Action::Ignored
    }
    fn render(&mut self, frame: &mut Frame<'_>, area: Rect, _ctx: &Ctx<'_>) {
        frame.render_widget(ratatui::widgets::Block::bordered().title(self.0.name()), area);
    }
}
