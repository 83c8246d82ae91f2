//! `ork gate`: each document's verdict — refusals with every message, warnings, the JSONPatch.

use super::*;
use katalog::admission::{GateReport, Webhook};

/// The verdicts of `ork gate`, as text or JSON (`{"allowed", "results": [GateReport…]}`).
pub fn gate_report(output: Output, reports: &[GateReport]) {
    let mut out = std::io::stdout().lock();
    if output == Output::Json {
        let doc = json!({"allowed": reports.iter().all(|r| r.allowed), "results": reports});
        let _ = serde_json::to_writer_pretty(&mut out, &doc);
        let _ = writeln!(out);
        return;
    }
    let color = stdout_color();
    for r in reports {
        let at = if r.namespace.is_empty() { String::new() } else { format!(" in {}", r.namespace) };
        let verdict = if r.allowed { paint(color, "32", "allowed") } else { paint(color, "31", "denied") };
        let _ = writeln!(out, "{} {:?} ({}{at}): {verdict}", r.kind, r.name, r.operation);
        for step in r.refusals() {
            if step.webhook == Webhook::Validate && !step.verdict.denials.is_empty() {
                for d in &step.verdict.denials {
                    let _ = writeln!(out, "  {} {}: {} {}", paint(color, "31", "denied"), step.webhook.label(), d.message, d.got());
                }
            } else {
                let _ = writeln!(out, "  {} {}: {}", paint(color, "31", "denied"), step.webhook.label(), step.verdict.message);
            }
        }
        for w in r.warnings() {
            let _ = writeln!(out, "  {}: {w}", paint(color, "33", "warning"));
        }
        let patch = r.patch();
        if !patch.is_empty() {
            let _ = writeln!(out, "  mutation (JSONPatch):");
            for op in patch {
                let _ = writeln!(out, "    {} {} {}", op.op, op.path, op.value);
            }
        }
    }
}
