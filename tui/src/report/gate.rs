//! `ork gate`'s report: each document's verdict — refusals with every message, warnings, the
//! JSONPatch — printed by the CLI, shown by `:preview`.

use super::{Doc, Line, Tone};
use katalog::admission::{GateReport, Webhook};

/// The verdicts of `ork gate` as a report: per document its verdict, every denial, every
/// warning and the mutation patch.
pub fn gate_doc(reports: &[GateReport]) -> Doc {
    let mut d = Doc::new();
    for r in reports {
        let at = if r.namespace.is_empty() { String::new() } else { format!(" in {}", r.namespace) };
        let verdict = if r.allowed { Line::toned(Tone::Good, "allowed") } else { Line::toned(Tone::Bad, "denied") };
        let mut head = Line::plain(format!("{} {:?} ({}{at}): ", r.kind, r.name, r.operation));
        head.pieces.extend(verdict.pieces);
        d.push(head);
        for step in r.refusals() {
            if step.webhook == Webhook::Validate && !step.verdict.denials.is_empty() {
                for den in &step.verdict.denials {
                    d.push(Line::plain("  ").with(Tone::Bad, "denied").with(Tone::Plain, format!(" {}: {} {}", step.webhook.label(), den.message, den.got())));
                }
            } else {
                d.push(Line::plain("  ").with(Tone::Bad, "denied").with(Tone::Plain, format!(" {}: {}", step.webhook.label(), step.verdict.message)));
            }
        }
        for w in r.warnings() {
            d.push(Line::plain("  ").with(Tone::Warn, "warning").with(Tone::Plain, format!(": {w}")));
        }
        let patch = r.patch();
        if !patch.is_empty() {
            d.push("  mutation (JSONPatch):");
            for op in patch {
                d.push(format!("    {} {} {}", op.op, op.path, op.value));
            }
        }
    }
    d
}
