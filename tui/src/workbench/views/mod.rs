//! The views, one module each.

pub mod diff;
pub mod katalog;
pub mod live;
pub mod preview;
pub mod problems;
pub mod rbac;
pub mod simulate;

use super::view::View;

/// Every view, in number-key order.
pub fn all() -> Vec<Box<dyn View>> {
    vec![
        Box::new(katalog::KatalogView::default()),
        Box::new(problems::Problems::default()),
        Box::new(preview::Preview::new()),
        Box::new(simulate::SimulateView::default()),
        Box::new(rbac::RbacView::default()),
        Box::new(diff::DiffView::default()),
        Box::new(live::LiveView::default()),
    ]
}
