//! `ork template`: rendered children (and status) as one YAML stream, findings on stderr.
//! Both are built as [`Doc`]s, shown as they are by the workbench's `:preview`.

use super::*;
use crate::report::template::template_findings_doc;

/// The findings of one rendered CR (mutations, violations, warnings) on stderr.
pub fn template_findings(cr: &OfflineCr) {
    let _ = std::io::stderr().lock().write_all(template_findings_doc(cr).to_text(false).as_bytes());
}
