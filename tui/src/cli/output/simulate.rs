//! `ork simulate` and the `simulate init` / `e2e init` scaffolds: cycle-by-cycle reports (text and JSON).

use super::*;
use crate::report::simulate::{simulate_cannot_run_line, simulate_discovered_doc, simulate_doc, simulate_summary_doc};

/// The JSON report of simulated files.
pub fn simulate_json(files: &[FileRun]) {
    let doc = json!({"schemaVersion": 1, "passed": files.iter().all(FileRun::passed), "files": files});
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut out, &doc);
    let _ = writeln!(out);
}

/// The text report of simulated files.
pub fn simulate_text(files: &[FileRun]) {
    let _ = std::io::stdout().lock().write_all(simulate_doc(files).to_text(stdout_color()).as_bytes());
}

/// One discovered simulate file's verdict line (and, when it failed, its report).
pub fn simulate_discovered(shown: &str, millis: f64, files: &[FileRun]) {
    let _ = std::io::stdout().lock().write_all(simulate_discovered_doc(shown, millis, files).to_text(stdout_color()).as_bytes());
}

/// A discovered simulate file that could not run.
pub fn simulate_cannot_run(shown: &str) {
    print_line(&simulate_cannot_run_line(shown).to_text(stdout_color()));
}

/// The summary of a discovery run.
pub fn simulate_summary(found: usize, failed: &[String]) {
    let _ = std::io::stdout().lock().write_all(simulate_summary_doc(found, failed).to_text(false).as_bytes());
}

/// The confirmation of a written simulate.yaml.
pub fn simulate_scaffold_written(s: &Scaffold) {
    let shown = display_path(&s.path);
    print_line(&format!("✓ wrote {shown}: {} CRD(s), {} op rule(s). Run `ork simulate -f {shown}` to check it.", s.targets, s.rules));
}

/// The confirmation of a written e2e.yaml, with the namespaces a fresh cluster lacks.
pub fn e2e_scaffold_written(s: &Scaffold) {
    let shown = display_path(&s.path);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "✓ wrote {shown}: {} CR(s), {} expectation(s). Run `ork e2e -f {shown}` to check it.", s.targets, s.rules);
    for ns in &s.missing_namespaces {
        let _ = writeln!(out, "  note: the CRs use namespace {ns}, which a fresh cluster lacks: add a Namespace manifest under spec.setup");
    }
}
