//! `ork simulate`'s report: per file, per CRD run, the cycles as a timeline (writes merged per
//! object), steady state, every expectation ✓/✗ with its reason; discovery lines and the summary
//! — printed by the CLI, shown by `:simulate`.

use super::{Doc, Line, Tone};
use services::simulate::{CrdRun, FileRun, SimError};
use std::collections::BTreeMap;

/// The text report of simulated files (the same [`Doc`] the workbench's `:simulate` shows).
pub fn simulate_doc(files: &[FileRun]) -> Doc {
    let mut d = Doc::new();
    for f in files {
        simulate_file(&mut d, f);
    }
    d
}

/// The writes of a cycle, merged per resource/object: `+` created, `-` deleted, `~` changed.
fn writes(run: &CrdRun, cycle: usize) -> Vec<String> {
    let mut merged: BTreeMap<(String, String), char> = BTreeMap::new();
    let mut order = Vec::new();
    for op in run.cycles[cycle].ops.iter().filter(|o| o.is_write()) {
        let target = match (&op.namespace, &op.name) {
            (Some(ns), Some(n)) => format!("{ns}/{n}"),
            (None, Some(n)) => n.clone(),
            _ => String::new(),
        };
        let k = (op.resource.clone(), target);
        let icon = match op.verb {
            "create" => '+',
            "delete" => '-',
            _ => '~',
        };
        match merged.get_mut(&k) {
            Some(c) if *c == '+' => {}
            Some(c) if icon == '+' || (icon == '-' && *c == '~') => *c = icon,
            Some(_) => {}
            None => {
                order.push(k.clone());
                merged.insert(k, icon);
            }
        }
    }
    order.into_iter().map(|k| format!("{} {} {}", merged[&k], k.0, k.1).trim_end().to_string()).collect()
}

/// A line of `indent` spaces and one toned piece.
fn toned(indent: &str, tone: Tone, text: String) -> Line {
    Line::plain(indent).with(tone, text)
}

fn simulate_file(d: &mut Doc, f: &FileRun) {
    d.push(format!("Simulating {} ({})", f.name, f.file));
    for n in &f.notes {
        d.push(format!("  note: {n}"));
    }
    for run in &f.runs {
        d.push(format!("  crd {}, CR {}", run.crd, run.cr));
        let mut i = 0;
        while i < run.cycles.len() {
            let c = &run.cycles[i];
            if c.quiet() {
                let mut j = i;
                while j + 1 < run.cycles.len() && run.cycles[j + 1].quiet() && run.cycles[j + 1].outcome == c.outcome && run.cycles[j + 1].error == c.error {
                    j += 1;
                }
                let reads = c.ops.len();
                let span = if j > i {
                    format!("cycles {}–{}: only reads ({reads} request(s) each)", c.cycle, run.cycles[j].cycle)
                } else {
                    format!("cycle {}: only reads ({reads} request(s))", c.cycle)
                };
                d.push(format!("    {span}, {}", c.outcome));
                if let Some(e) = &c.error {
                    d.push(toned("      ", Tone::Bad, format!("! {e}")));
                }
                i = j + 1;
                continue;
            }
            if c.outcome.starts_with("gated") {
                d.push(toned("    ", Tone::Warn, format!("cycle {}: {}", c.cycle, c.outcome)));
            } else {
                d.push(format!("    cycle {}: {}", c.cycle, c.outcome));
            }
            for p in &c.peers {
                d.push(toned("      ", Tone::Dim, format!("observed {p}")));
            }
            for w in writes(run, i) {
                d.push(format!("      {w}"));
            }
            if let Some(e) = &c.error {
                d.push(toned("      ", Tone::Bad, format!("! {e}")));
            }
            i += 1;
        }
        let timing = format!("{:.1} ms", run.millis);
        match run.steady_at {
            Some(c) => d.push(toned("    ", Tone::Good, format!("✓ steady at cycle {c} ({timing})"))),
            None => d.push(format!("    ~ no steady state in {} cycles ({timing})", run.cycles.len())),
        }
        if run.deleted {
            d.push("    the CR is gone");
        }
        for c in &run.checks {
            d.push(if c.passed {
                toned("    ", Tone::Good, format!("✓ {}", c.name))
            } else {
                toned("    ", Tone::Bad, format!("✗ {}: {}", c.name, c.detail))
            });
        }
        d.push(if run.passed() { toned("    ", Tone::Good, "PASS".into()) } else { toned("    ", Tone::Bad, "FAIL".into()) });
    }
}

/// One discovered simulate file's verdict line (and, when it failed, its report).
pub fn simulate_discovered_doc(shown: &str, millis: f64, files: &[FileRun]) -> Doc {
    let ok = files.iter().all(FileRun::passed);
    let (tone, verdict) = if ok { (Tone::Good, "✓ passed") } else { (Tone::Bad, "✗ failed") };
    let mut d = Doc::new();
    d.push(Line::plain(format!("{shown:<60} ")).with(tone, verdict).with(Tone::Plain, format!(" ({millis:.1} ms)")));
    if !ok {
        d.append(simulate_doc(files));
    }
    d
}

/// A discovered simulate file that could not run.
pub fn simulate_cannot_run_line(shown: &str) -> Line {
    Line::plain(format!("{shown:<60} ")).with(Tone::Bad, "✗ cannot run")
}

/// Why a simulate file could not run, as `print_error` shows it: its diagnostics, one a line.
pub fn sim_error_doc(e: &SimError) -> Doc {
    let mut d = Doc::new();
    for diag in e.diagnostics().iter() {
        let tone = if diag.is_error() { Tone::Bad } else { Tone::Warn };
        for (i, l) in diag.to_string().split('\n').enumerate() {
            d.toned(if i == 0 { tone } else { Tone::Plain }, l);
        }
    }
    d
}

/// The summary of a discovery run.
pub fn simulate_summary_doc(found: usize, failed: &[String]) -> Doc {
    let mut d = Doc::new();
    d.push(format!("{} file(s): {} passed, {} failed", found, found - failed.len(), failed.len()));
    for f in failed {
        d.push(format!("  rerun: ork simulate -f {f}"));
    }
    d
}
