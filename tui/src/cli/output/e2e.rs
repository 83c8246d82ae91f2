//! `ork e2e`: progress as it happens, and the per-case verdicts.

use super::*;

/// Prints e2e progress as it happens: to stdout, or to stderr when stdout carries JSON.
pub struct E2eProgress {
    color: bool,
    stderr: bool,
}

impl E2eProgress {
    /// Progress for `output` (JSON output sends progress to stderr).
    pub fn new(output: Output) -> E2eProgress {
        let json = output == Output::Json;
        E2eProgress { color: if json { stderr_color() } else { stdout_color() }, stderr: json }
    }

    /// One line of progress.
    pub fn line(&self, s: &str) {
        if self.stderr {
            eprint_line(s);
        } else {
            print_line(s);
        }
    }

    fn case_line(&self, c: &CaseResult, width: usize) -> String {
        let pad = width.saturating_sub(c.name.chars().count());
        let time = format!("({:.1}s)", c.elapsed_secs);
        if c.passed {
            format!("  {} {}{}  {time}", paint(self.color, "32", "✓"), c.name, " ".repeat(pad))
        } else if c.not_run {
            format!("  ~ {}{}  (not run)", c.name, " ".repeat(pad))
        } else {
            format!("  {} {}{}  {time}", paint(self.color, "31", "✗"), c.name, " ".repeat(pad))
        }
    }

    /// The end of a run: the JSON report, or with several documents the text summary.
    pub fn results(&self, runs: &[DocRun], passed: bool) {
        if self.stderr {
            let doc = serde_json::json!({"schemaVersion": 1, "passed": passed, "documents": runs});
            let mut out = std::io::stdout().lock();
            let _ = serde_json::to_writer_pretty(&mut out, &doc);
            let _ = writeln!(out);
        } else if runs.len() > 1 {
            self.line(&format!(
                "{} document(s): {} passed, {} failed",
                runs.len(),
                runs.iter().filter(|r| r.passed()).count(),
                runs.iter().filter(|r| !r.passed()).count()
            ));
            for r in runs.iter().filter(|r| !r.passed()) {
                self.line(&format!("  rerun: ork e2e -f {}", r.file));
            }
        }
    }
}

fn indent(text: &str, by: &str) -> String {
    text.lines().map(|l| format!("{by}{l}")).collect::<Vec<_>>().join("\n")
}

impl Reporter for E2eProgress {
    fn event(&self, e: Event) {
        match e {
            Event::Document { name, description, file } => {
                let d = description.map(|d| format!(" — {d}")).unwrap_or_default();
                self.line(&format!("Running E2E: {name}{d} ({file})"));
            }
            Event::Step(s) => self.line(&format!("→ {s}")),
            Event::Done(s) => self.line(&format!("  {} {s}", paint(self.color, "32", "✓"))),
            Event::Note(s) => self.line(&format!("  note: {s}")),
            Event::Waiting { name, timeout_secs } => self.line(&format!("  Waiting for {name:?} (timeout: {timeout_secs}s)...")),
            Event::StillWaiting { name, secs, reason } => self.line(&format!("    still waiting for {name:?} [{secs}s]: {reason}")),
            Event::Case(c) => {
                self.line(&self.case_line(&c, 0));
                if let Some(e) = &c.error {
                    self.line(&indent(e, "      "));
                }
            }
            Event::Diagnostics { title, text } => {
                self.line(&format!("    onFailure {title}"));
                self.line(&indent(&text, "      "));
            }
            Event::Finished(run) => {
                self.line("");
                self.line(&format!("E2E Results: {}", run.name));
                if let Some(e) = &run.error {
                    self.line(&format!("  {} setup failed: {}", paint(self.color, "31", "✗"), indent(e, "      ").trim_start()));
                }
                let width = run.cases.iter().map(|c| c.name.chars().count()).max().unwrap_or(0);
                for c in &run.cases {
                    self.line(&self.case_line(c, width));
                    if let (Some(e), false) = (&c.error, c.not_run) {
                        self.line(&indent(e, "      "));
                    }
                }
                let passed = run.cases.iter().filter(|c| c.passed).count();
                let not_run = run.cases.iter().filter(|c| c.not_run).count();
                let failed = run.cases.len() - passed - not_run;
                let mut summary = format!("{passed} passed, {failed} failed");
                if not_run > 0 {
                    summary.push_str(&format!(", {not_run} not run"));
                }
                let summary = format!("{summary} ({} expectation(s), {:.1}s)", run.cases.len(), run.elapsed_secs);
                self.line(&format!("  {}", paint(self.color, if run.passed() { "32" } else { "31" }, &summary)));
                self.line(&format!("  Cluster: {}", run.cluster));
                self.line("");
            }
        }
    }
}
