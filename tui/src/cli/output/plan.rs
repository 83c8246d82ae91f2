//! `ork diff` and `ork plan`: coloured unified diffs and permission changes.

use super::*;

/// A unified diff, coloured: headers bold, removed lines red, added green, hunk headers cyan.
pub fn diff_text(diff: &str) {
    let _ = std::io::stdout().lock().write_all(crate::report::diff::diff_doc(diff).to_text(stdout_color()).as_bytes());
}

/// `ork plan`'s report.
pub fn plan_text(p: &Plan, local: &str, bundle: &str, ns: &str) {
    let _ = std::io::stdout().lock().write_all(crate::report::plan::plan_doc(p, local, bundle, ns).to_text(stdout_color()).as_bytes());
}
