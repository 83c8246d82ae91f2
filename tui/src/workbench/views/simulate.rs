//! `:simulate` — every simulate file of the pattern run by `services::simulate::run_file` (what
//! `ork simulate` runs), off the UI thread, and shown as `ork simulate` prints it: the same
//! [`Doc`] (cycles and their writes as a timeline, every expectation ✓/✗ with its reason, PASS
//! or FAIL), a file that cannot run with its diagnostics, and the summary of a discovery run
//! on top. `r` runs them again; after a save they run again by themselves when the last run
//! passed (a failing run stays on screen until `r`, so it is not lost while it is being fixed).

use super::super::view::{Action, Ctx, KeyHelp, View, ViewId, result_for};
use super::super::widgets::{DocPane, Move, NAV_KEYS};
use crate::report::simulate::{sim_error_doc, simulate_cannot_run_line, simulate_doc, simulate_summary_doc};
use crate::report::{Doc, Line, Tone};
use crossterm::event::{KeyCode, KeyEvent};
use katalog::load::LoadOptions;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::Paragraph;
use services::simulate::{FileRun, run_file};
use std::path::PathBuf;
use std::time::Instant;

/// One simulate file's run.
#[derive(Debug)]
pub struct FileResult {
    /// The file.
    pub path: PathBuf,
    /// As shown (relative to the pattern directory).
    pub shown: String,
    /// Its documents' runs, or why it could not run (as a report).
    pub outcome: Result<Vec<FileRun>, Doc>,
}

impl FileResult {
    fn passed(&self) -> bool {
        matches!(&self.outcome, Ok(files) if files.iter().all(FileRun::passed))
    }
}

/// A run of every simulate file.
#[derive(Debug)]
pub struct SimRun {
    seq: u64,
    /// Each file's result, in the pattern's order.
    pub files: Vec<FileResult>,
    /// The report shown.
    pub doc: Doc,
    millis: f64,
}

impl SimRun {
    /// How many files passed.
    pub fn passed(&self) -> usize {
        self.files.iter().filter(|f| f.passed()).count()
    }

    fn all_passed(&self) -> bool {
        self.passed() == self.files.len()
    }
}

/// Runs `files` as `ork simulate DIR/...` does, and builds the report: the summary, then each
/// file as `ork simulate -f FILE` prints it (or why it cannot run).
pub fn run_all(seq: u64, files: Vec<(PathBuf, String)>, load: &LoadOptions) -> SimRun {
    let started = Instant::now();
    let results: Vec<FileResult> = files
        .into_iter()
        .map(|(path, shown)| {
            let outcome = run_file(&path, load).map_err(|e| {
                let mut d = Doc::new();
                d.push(simulate_cannot_run_line(&shown));
                d.append(sim_error_doc(&e));
                d
            });
            FileResult { path, shown, outcome }
        })
        .collect();
    let failed: Vec<String> = results.iter().filter(|f| !f.passed()).map(|f| f.shown.clone()).collect();
    let mut doc = simulate_summary_doc(results.len(), &failed);
    // Failures first: what needs a look is on the first screen.
    let (bad, good): (Vec<&FileResult>, Vec<&FileResult>) = results.iter().partition(|f| !f.passed());
    for f in bad.into_iter().chain(good) {
        doc.push("");
        match &f.outcome {
            Ok(runs) => doc.append(simulate_doc(runs)),
            Err(report) => doc.append(report.clone()),
        }
    }
    SimRun { seq, files: results, doc, millis: started.elapsed().as_secs_f64() * 1000.0 }
}

/// The Simulate view.
#[derive(Default)]
pub struct SimulateView {
    pane: DocPane,
    last: Option<SimRun>,
    files: Vec<(PathBuf, String)>,
    seq: u64,
    running: bool,
    /// The running run was asked for (`r`): its verdict goes to the status line.
    asked: bool,
    generation: u64,
    /// The Katalog is invalid (its error count): nothing runs until it is valid again.
    invalid: Option<usize>,
    /// The Katalog changed since the shown (failing) run.
    stale: bool,
}

const KEYS: &[KeyHelp] = &[("r", "run every simulate file again"), NAV_KEYS[0], NAV_KEYS[1], NAV_KEYS[2]];
const COMMANDS: &[KeyHelp] = &[("rerun", "run every simulate file again")];

impl SimulateView {
    fn run(&mut self, ctx: &Ctx<'_>) {
        self.seq += 1;
        self.running = true;
        self.asked = false;
        self.stale = false;
        let (seq, files, load) = (self.seq, self.files.clone(), ctx.options.load.clone());
        ctx.jobs.spawn("simulate", move || result_for(ViewId::Simulate, run_all(seq, files, &load)));
    }

    /// The latest finished run.
    pub fn last(&self) -> Option<&SimRun> {
        self.last.as_ref()
    }

    fn rerun(&mut self, ctx: &Ctx<'_>) -> Action {
        if self.files.is_empty() {
            return Action::Status("no simulate files to run".into());
        }
        self.run(ctx);
        self.asked = true;
        Action::None
    }
}

impl View for SimulateView {
    fn id(&self) -> ViewId {
        ViewId::Simulate
    }

    fn keys(&self) -> &'static [KeyHelp] {
        KEYS
    }

    fn commands(&self) -> &'static [KeyHelp] {
        COMMANDS
    }

    fn badge(&self) -> Option<String> {
        if self.files.is_empty() {
            return None;
        }
        match &self.last {
            Some(r) if r.all_passed() => Some(format!("✓ {}/{}", r.passed(), r.files.len())),
            Some(r) => Some(format!("✗ {}/{}", r.passed(), r.files.len())),
            None => Some("…".into()),
        }
    }

    fn on_analysis(&mut self, ctx: &Ctx<'_>) {
        let Some(a) = ctx.analysis else { return };
        if a.generation == self.generation {
            return;
        }
        self.generation = a.generation;
        self.files = a.pattern.simulate.iter().map(|p| (p.clone(), a.pattern.shown(p))).collect();
        if !a.is_valid() {
            self.invalid = Some(a.counts().0);
            return;
        }
        self.invalid = None;
        if self.files.is_empty() {
            self.last = None;
            self.pane.set_doc(Doc::new());
            return;
        }
        // Again by itself only when the last run passed: a failing run stays until `r`.
        match &self.last {
            Some(r) if !r.all_passed() => self.stale = true,
            _ => self.run(ctx),
        }
    }

    fn on_result(&mut self, result: Box<dyn std::any::Any + Send>, _ctx: &Ctx<'_>) -> Action {
        let Ok(run) = result.downcast::<SimRun>() else { return Action::None };
        if run.seq != self.seq {
            return Action::None;
        }
        self.running = false;
        self.pane.set_doc(run.doc.clone());
        let status = format!("simulate: {}/{} file(s) passed", run.passed(), run.files.len());
        self.last = Some(*run);
        if std::mem::take(&mut self.asked) { Action::Status(status) } else { Action::None }
    }

    fn set_filter(&mut self, filter: &str) {
        self.pane.set_filter(filter);
    }

    fn on_scroll(&mut self, delta: i32, _ctx: &Ctx<'_>) {
        self.pane.apply(Move::By(delta as i64));
    }

    fn on_key(&mut self, key: KeyEvent, ctx: &Ctx<'_>) -> Action {
        if self.pane.on_key(&key) {
            return Action::None;
        }
        match key.code {
            KeyCode::Char('r') => self.rerun(ctx),
            _ => Action::Ignored,
        }
    }

    fn on_command(&mut self, command: &str, _arg: &str, ctx: &Ctx<'_>) -> Option<Action> {
        (command == "rerun").then(|| self.rerun(ctx))
    }

    fn render(&mut self, frame: &mut Frame<'_>, area: Rect, ctx: &Ctx<'_>) {
        let t = ctx.theme;
        let mut note: Option<Line> = None;
        if let Some(errors) = self.invalid {
            note = Some(
                Line::toned(Tone::Bad, format!("✗ the Katalog is invalid ({errors} error(s)): see :problems (2)"))
                    .with(Tone::Dim, " — simulate runs again when it is valid"),
            );
        } else if self.stale {
            note = Some(Line::toned(Tone::Warn, "! the Katalog changed since this failing run: r to run again"));
        } else if self.files.is_empty() && ctx.analysis.is_some() {
            note = Some(Line::toned(Tone::Dim, "no simulate files (*simulate.yaml) here: write one with `ork simulate init`"));
        }
        let [top, body] = Layout::vertical([Constraint::Length(u16::from(note.is_some())), Constraint::Min(0)]).areas(area);
        if let Some(n) = &note {
            frame.render_widget(Paragraph::new(t.line(n)), top);
        }
        let mut title = String::from("simulate");
        match &self.last {
            Some(r) => {
                let icon = if r.all_passed() { "✓" } else { "✗" };
                title.push_str(&format!(" — {icon} {}/{} passed · ran in {:.1} ms", r.passed(), r.files.len(), r.millis));
            }
            None if self.running => title.push_str(" — running…"),
            None => {}
        }
        if self.running && self.last.is_some() {
            title.push_str(" · running again…");
        }
        if self.last.is_none() && !self.running && !self.files.is_empty() && self.invalid.is_none() {
            frame.render_widget(Paragraph::new(Span::styled("r to run the simulate files", t.tone(Tone::Dim))), body);
            return;
        }
        self.pane.render(frame, body, &t, &title);
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::harness::Harness;
    use super::*;
    use std::path::Path;

    fn demo(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../demos").join(rel)
    }

    /// A copy of a demo directory in a fresh temporary directory.
    fn copy_demo(rel: &str, name: &str) -> PathBuf {
        let unique = format!(
            // Fixed width: snapshots replace this path, and the lines around it must not move.
            "ork-wb-{name}-{:010}-{:020}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
        );
        let to = std::env::temp_dir().join(unique);
        copy_dir(&demo(rel), &to);
        to
    }

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{e}"));
        for e in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{e}")).filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                copy_dir(&p, &to.join(e.file_name()));
            } else {
                std::fs::copy(&p, to.join(e.file_name())).unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }

    /// The screen with the padding before each line's right border squeezed: a scrubbed
    /// duration (`12.3 ms` → `N ms`) or a temporary path is shorter than what was drawn, so the
    /// padding after it varies from run to run.
    fn stable(screen: &str) -> String {
        let mut out = String::new();
        for line in screen.lines() {
            let mut l = line.to_string();
            for border in ['│', '┐', '┘'] {
                if let Some(body) = l.strip_suffix(border) {
                    let fill = if border == '│' { ' ' } else { '─' };
                    let kept = body.trim_end_matches(fill);
                    l = format!("{kept}{fill}{border}");
                    break;
                }
            }
            out.push_str(&l);
            out.push('\n');
        }
        out
    }

    fn opened(dir: &Path) -> Harness {
        // Opening settles: the first validation and the simulate run it starts have ended.
        let mut h = Harness::open(dir);
        h.keys("4");
        h
    }

    #[test]
    fn a_passing_demo_runs_every_simulate_file() {
        let mut h = opened(&demo("security/admission-rules"));
        let screen = h.render(100, 30);
        assert!(screen.contains("simulate ✓ 2/2"), "{screen}");
        insta::assert_snapshot!(stable(&screen));
    }

    #[test]
    fn a_passing_demo_at_80_by_24() {
        let mut h = opened(&demo("beginner/hello-website"));
        insta::assert_snapshot!(stable(&h.render(80, 24)));
    }

    #[test]
    fn a_broken_expectation_fails_with_its_reason_and_r_runs_again() {
        let dir = copy_demo("security/admission-rules", "sim-fail");
        let sim = dir.join("simulate.yaml");
        let text = std::fs::read_to_string(&sim).unwrap_or_else(|e| panic!("{e}"));
        let broken = text.replacen("resource: services\n      verb: create", "resource: services\n      verb: delete", 1);
        assert_ne!(text, broken, "the demo's simulate.yaml changed: update this test");
        std::fs::write(&sim, broken).unwrap_or_else(|e| panic!("{e}"));
        let mut h = opened(&dir);
        let screen = h.render(100, 30);
        assert!(screen.contains("simulate ✗ 1/2"), "{screen}");
        insta::assert_snapshot!(stable(&screen.replace(&dir.display().to_string(), "$DIR")));
        // r runs again (and says so in the status line).
        h.keys(":nosuch<Enter>");
        assert!(!h.app.status().starts_with("simulate:"));
        h.keys("r").settle();
        assert_eq!(h.app.status(), "simulate: 1/2 file(s) passed");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_save_runs_a_passing_simulation_again_but_not_a_failing_one() {
        let dir = copy_demo("beginner/hello-website", "sim-save");
        let mut h = opened(&dir);
        assert!(h.render(100, 30).contains("simulate ✓ 1/1"));
        // Break the expectation and save: the last run passed, so it runs again by itself.
        let sim = dir.join("simulate.yaml");
        let text = std::fs::read_to_string(&sim).unwrap_or_else(|e| panic!("{e}"));
        let broken = text.replacen("verb: create", "verb: delete", 1);
        assert_ne!(text, broken, "the demo's simulate.yaml changed: update this test");
        std::fs::write(&sim, &broken).unwrap_or_else(|e| panic!("{e}"));
        h.send(crate::workbench::msg::Msg::FilesChanged(vec![sim.clone()])).settle();
        assert!(h.render(100, 30).contains("simulate ✗ 0/1"));
        // Fixed and saved: the failing run stays (marked stale) until r.
        std::fs::write(&sim, &text).unwrap_or_else(|e| panic!("{e}"));
        h.send(crate::workbench::msg::Msg::FilesChanged(vec![sim])).settle();
        let s = h.render(100, 30);
        assert!(s.contains("simulate ✗ 0/1") && s.contains("r to run again"), "{s}");
        h.keys("r").settle();
        assert!(h.render(100, 30).contains("simulate ✓ 1/1"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_file_that_cannot_run_is_shown_with_its_diagnostics() {
        let dir = copy_demo("beginner/hello-website", "sim-error");
        std::fs::write(
            dir.join("broken.simulate.yaml"),
            "apiVersion: orkestra.orkspace.io/v1\nkind: Simulate\nmetadata: {name: broken}\nspec:\n  katalog: ./nosuch.yaml\n  cr: ./cr.yaml\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mut h = opened(&dir);
        let screen = h.render(100, 30);
        assert!(screen.contains("broken.simulate.yaml") && screen.contains("✗ cannot run") && screen.contains("simulate ✗"), "{screen}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_view_shows_the_report_ork_simulate_prints() {
        let p = demo("security/admission-rules");
        let files: Vec<(PathBuf, String)> = services::simulate::discover(&p).into_iter().map(|f| (f.clone(), f.display().to_string())).collect();
        assert_eq!(files.len(), 2);
        let run = run_all(1, files, &LoadOptions::default());
        let shown = run.doc.to_text(false);
        for f in &run.files {
            let Ok(runs) = &f.outcome else { panic!("{} did not run", f.shown) };
            // The view's report holds the CLI builder's report of the same run verbatim…
            let cli = simulate_doc(runs).to_text(false);
            assert!(shown.contains(&cli), "{shown}\n---\n{cli}");
            // …and a run of its own, as `ork simulate -f FILE` makes it, says the same
            // (durations aside).
            let again = run_file(&f.path, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
            let scrub = |s: String| crate::workbench::harness::scrub_durations(&s);
            assert_eq!(scrub(simulate_doc(&again).to_text(false)), scrub(cli));
        }
        assert!(shown.starts_with("2 file(s): 2 passed, 0 failed\n"), "{shown}");
    }
}
