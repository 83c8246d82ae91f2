//! `ork gate`: each document's verdict — refusals with every message, warnings, the JSONPatch.
//! The text report is a [`Doc`], shown as it is by the workbench's `:preview`.

use super::*;
use crate::report::gate::gate_doc;
use katalog::admission::GateReport;

/// The verdicts of `ork gate`, as text or JSON (`{"allowed", "results": [GateReport…]}`).
pub fn gate_report(output: Output, reports: &[GateReport]) {
    let mut out = std::io::stdout().lock();
    if output == Output::Json {
        let doc = json!({"allowed": reports.iter().all(|r| r.allowed), "results": reports});
        let _ = serde_json::to_writer_pretty(&mut out, &doc);
        let _ = writeln!(out);
        return;
    }
    let _ = out.write_all(gate_doc(reports).to_text(stdout_color()).as_bytes());
}
