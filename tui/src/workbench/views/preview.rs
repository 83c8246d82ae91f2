//! `:preview` — what a CR file of the pattern becomes: its rendered children and status, each
//! child under a `# Source: CRD/entry` line naming the Katalog entry that produced it, in YAML
//! colours (exactly `ork template --cr FILE --status`: the same `render_offline`, the seed
//! derived from each CR, Secrets redacted), above them the admission verdict of `ork gate --cr
//! FILE` (the same `katalog::admission::Gate::review`: every denial, warning and the mutation
//! patch) and the render's own findings. Both reports are the CLI's [`Doc`]s.
//!
//! Every document of the file is a CR and is shown (`{`/`}` jump between them); `[`/`]` cycle
//! through the pattern's CR files. Rendering runs off the UI thread whenever the analysis (the
//! Katalog or a CR file saved) changes; the previous preview stays on screen meanwhile. Only the
//! visible lines are drawn, so a 10,000-line preview scrolls at the cost of one screen.

use super::super::view::{Action, Ctx, KeyHelp, View, ViewId, result_for};
use super::super::widgets::{DocPane, Move, NAV_KEYS, navigation};
use crate::report::gate::gate_doc;
use crate::report::template::{template_doc, template_findings_doc};
use crate::report::{Doc, Line as DocLine, Tone};
use crossterm::event::{KeyCode, KeyEvent};
use katalog::admission::{Ask, Operation, UserInfo, review_documents};
use katalog::load::include::read_yaml_values;
use katalog::render::offline::{OfflineOptions, render_offline};
use katalog::valid::Valid;
use katalog::yaml::Limits;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What one CR file renders to.
#[derive(Debug, Default)]
pub struct Rendered {
    seq: u64,
    /// The CR file.
    pub file: PathBuf,
    /// `ork gate --cr FILE`'s report, then the render's findings (and any document that could
    /// not be rendered or gated).
    pub verdict: Doc,
    /// `ork template --cr FILE --status`'s YAML.
    pub yaml: Doc,
    /// The first YAML line of each CR's part.
    pub starts: Vec<usize>,
    /// A one-line summary (documents, children).
    pub summary: String,
}

/// Renders and gates every CR of `file` as `ork template --status` and `ork gate` do (the
/// time is `now`; the gate's user `kubernetes-admin`, operation CREATE, seed 0, as `ork gate`'s
/// defaults).
pub fn render_file(valid: Arc<Valid>, file: &Path, shown: &str, install_namespace: &str, now: i64) -> Rendered {
    let mut r = Rendered { file: file.to_path_buf(), ..Rendered::default() };
    let crs = match read_yaml_values(file, Limits::default()) {
        Ok(crs) if crs.is_empty() => {
            r.verdict.toned(Tone::Bad, format!("{shown} contains no documents"));
            return r;
        }
        Ok(crs) => crs,
        Err(e) => {
            for (i, l) in e.to_string().lines().enumerate() {
                r.verdict.toned(if i == 0 { Tone::Bad } else { Tone::Plain }, l);
            }
            return r;
        }
    };
    // The admission verdict: `ork gate --cr FILE`.
    r.verdict.toned(Tone::Dim, format!("# ork gate --cr {shown}"));
    let user = UserInfo { username: "kubernetes-admin".into(), groups: Vec::new() };
    let ask = Ask { op: Operation::Create, old: None, namespace: None, user, install_namespace, now, seed: 0 };
    let mut reports = Vec::new();
    for result in review_documents(valid.clone(), &crs, &ask) {
        match result {
            Ok(report) => reports.push(report),
            Err(e) => r.verdict.toned(Tone::Bad, format!("{shown}: {e}")),
        }
    }
    r.verdict.append(gate_doc(&reports));
    // The children and status: `ork template --cr FILE --status` (and its findings).
    let opts = OfflineOptions { crd: None, seed: None, now, show_secrets: false };
    let mut findings = Doc::new();
    let mut children = 0;
    for i in 0..crs.len() {
        match render_offline(&valid.katalog, &valid.templates, &crs, i, &[], opts) {
            Ok(cr) => {
                findings.append(template_findings_doc(&cr));
                children += cr.children.len();
                r.starts.push(r.yaml.len());
                r.yaml.append(template_doc(std::slice::from_ref(&cr), true));
            }
            Err(e) => findings.toned(Tone::Bad, format!("error: {shown} document {}: {e}", i + 1)),
        }
    }
    if !findings.is_empty() {
        r.verdict.toned(Tone::Dim, format!("# ork template --cr {shown} --status (findings)"));
        r.verdict.append(findings);
    }
    let docs = if crs.len() == 1 { "1 CR".to_string() } else { format!("{} CRs", crs.len()) };
    r.summary = format!("{docs}, {children} child(ren) + status");
    r
}

/// The Preview view.
#[derive(Default)]
pub struct Preview {
    files: Vec<PathBuf>,
    dir: PathBuf,
    index: usize,
    result: Option<Rendered>,
    yaml: DocPane,
    verdict_offset: usize,
    verdict_height: usize,
    seq: u64,
    running: bool,
    generation: u64,
    valid: Option<Arc<Valid>>,
    /// The Katalog is invalid (its error count).
    invalid: Option<usize>,
}

const KEYS: &[KeyHelp] = &[
    ("[ / ]", "previous / next CR file"),
    ("{ / }", "previous / next CR (document) of the file"),
    ("J/K", "scroll the admission verdict"),
    ("e", "open $EDITOR on the CR file"),
    ("r", "render again"),
    NAV_KEYS[0],
    NAV_KEYS[1],
    NAV_KEYS[2],
];

const COMMANDS: &[KeyHelp] = &[("cr FILE", "preview a CR file (a path, or part of one of the pattern's CR files)")];

impl Preview {
    /// The view, its lower pane drawing the rendered YAML highlighted.
    pub fn new() -> Preview {
        Preview { yaml: DocPane::yaml(), ..Preview::default() }
    }

    fn shown(&self, p: &Path) -> String {
        match p.strip_prefix(&self.dir) {
            Ok(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
            _ => katalog::diag::display_path(p),
        }
    }

    fn current(&self) -> Option<&PathBuf> {
        self.files.get(self.index)
    }

    /// Renders the current CR file in the background (the shown preview stays meanwhile).
    fn render_now(&mut self, ctx: &Ctx<'_>) {
        let (Some(valid), Some(file)) = (self.valid.clone(), self.current().cloned()) else { return };
        self.seq += 1;
        self.running = true;
        let (seq, shown, ns) = (self.seq, self.shown(&file), ctx.options.namespace.clone());
        ctx.jobs.spawn("render", move || {
            let mut r = render_file(valid, &file, &shown, &ns, katalog::time::unix_now());
            r.seq = seq;
            result_for(ViewId::Preview, r)
        });
    }

    fn cycle(&mut self, by: i64, ctx: &Ctx<'_>) -> Action {
        if self.files.is_empty() {
            return Action::Status("no CR files in this pattern".into());
        }
        let n = self.files.len() as i64;
        self.index = ((self.index as i64 + by).rem_euclid(n)) as usize;
        self.render_now(ctx);
        Action::None
    }

    fn jump_document(&mut self, forward: bool) -> Action {
        let Some(r) = &self.result else { return Action::None };
        let top = self.yaml.top();
        let target = if forward { r.starts.iter().find(|&&s| s > top) } else { r.starts.iter().rev().find(|&&s| s < top) };
        match target {
            Some(&s) => {
                self.yaml.scroll_to(s);
                Action::None
            }
            None if !forward => {
                self.yaml.apply(Move::Top);
                Action::None
            }
            None => Action::Status("no further CR in this file".into()),
        }
    }
}

impl View for Preview {
    fn id(&self) -> ViewId {
        ViewId::Preview
    }

    fn keys(&self) -> &'static [KeyHelp] {
        KEYS
    }

    fn commands(&self) -> &'static [KeyHelp] {
        COMMANDS
    }

    fn badge(&self) -> Option<String> {
        let r = self.result.as_ref()?;
        r.verdict.lines.iter().any(|l| l.text().ends_with("): denied")).then(|| "denied".to_string())
    }

    fn on_analysis(&mut self, ctx: &Ctx<'_>) {
        let Some(a) = ctx.analysis else { return };
        if a.generation == self.generation {
            return;
        }
        self.generation = a.generation;
        self.dir = a.pattern.dir.clone();
        if !a.is_valid() || a.valid.is_none() {
            // The CR files are recognised by the Katalog's kinds: keep the last list.
            self.invalid = Some(a.counts().0);
            return;
        }
        self.invalid = None;
        self.valid = a.valid.clone();
        // Keep the chosen file across analyses; start on cr.yaml when there is one.
        let chosen = self.current().cloned();
        self.files = a.pattern.crs.clone();
        self.index = match chosen {
            Some(c) => self.files.iter().position(|f| *f == c).unwrap_or(0),
            None => self.files.iter().position(|f| f.file_name().is_some_and(|n| n == "cr.yaml")).unwrap_or(0),
        };
        if self.files.is_empty() {
            self.result = None;
            self.yaml.set_doc(Doc::new());
            return;
        }
        self.render_now(ctx);
    }

    fn on_result(&mut self, result: Box<dyn std::any::Any + Send>, _ctx: &Ctx<'_>) -> Action {
        let Ok(r) = result.downcast::<Rendered>() else { return Action::None };
        if r.seq != self.seq {
            return Action::None;
        }
        self.running = false;
        let same_file = self.result.as_ref().is_some_and(|old| old.file == r.file);
        if !same_file {
            self.yaml.apply(Move::Top);
            self.verdict_offset = 0;
        }
        self.yaml.set_doc(r.yaml.clone());
        self.result = Some(*r);
        Action::None
    }

    fn set_filter(&mut self, filter: &str) {
        self.yaml.set_filter(filter);
    }

    fn on_scroll(&mut self, delta: i32, _ctx: &Ctx<'_>) {
        self.yaml.apply(Move::By(delta as i64));
    }

    fn on_key(&mut self, key: KeyEvent, ctx: &Ctx<'_>) -> Action {
        if let Some(m) = navigation(&key) {
            self.yaml.apply(m);
            return Action::None;
        }
        match key.code {
            KeyCode::Char('[') => self.cycle(-1, ctx),
            KeyCode::Char(']') => self.cycle(1, ctx),
            KeyCode::Char('{') => self.jump_document(false),
            KeyCode::Char('}') => self.jump_document(true),
            KeyCode::Char('J') => {
                let max = self.result.as_ref().map(|r| r.verdict.len()).unwrap_or(0).saturating_sub(self.verdict_height.max(1));
                self.verdict_offset = (self.verdict_offset + 1).min(max);
                Action::None
            }
            KeyCode::Char('K') => {
                self.verdict_offset = self.verdict_offset.saturating_sub(1);
                Action::None
            }
            KeyCode::Char('r') => {
                self.render_now(ctx);
                Action::None
            }
            KeyCode::Char('e') => match self.current() {
                Some(f) => Action::Edit { path: f.clone(), line: 1 },
                None => Action::Status("no CR file to edit".into()),
            },
            _ => Action::Ignored,
        }
    }

    fn on_command(&mut self, command: &str, arg: &str, ctx: &Ctx<'_>) -> Option<Action> {
        if command != "cr" {
            return None;
        }
        let arg = arg.trim();
        let found = self.files.iter().position(|f| self.shown(f) == arg).or_else(|| self.files.iter().position(|f| self.shown(f).contains(arg)));
        Some(match found {
            Some(i) if !arg.is_empty() => {
                self.index = i;
                self.render_now(ctx);
                Action::None
            }
            _ => Action::Status(format!("no CR file matches {arg:?} (the pattern's CR files: [ and ] in :preview)")),
        })
    }

    fn render(&mut self, frame: &mut Frame<'_>, area: Rect, ctx: &Ctx<'_>) {
        let t = ctx.theme;
        let note = self.invalid.map(|errors| {
            DocLine::toned(Tone::Bad, format!("✗ the Katalog is invalid ({errors} error(s)): see :problems (2)"))
                .with(Tone::Dim, if self.result.is_some() { " — the last preview is shown" } else { "" })
        });
        let [top, body] = Layout::vertical([Constraint::Length(u16::from(note.is_some())), Constraint::Min(0)]).areas(area);
        if let Some(n) = &note {
            frame.render_widget(Paragraph::new(t.line(n)), top);
        }
        let Some(file) = self.current().cloned() else {
            if ctx.analysis.is_some() && self.invalid.is_none() {
                let text = vec![
                    Line::from(Span::styled("No CR file in this pattern.", t.tone(Tone::Strong))),
                    Line::from(Span::styled(
                        "A CR file is a YAML file whose documents are custom resources of the Katalog's kinds (e.g. cr.yaml); save one here and it appears.",
                        t.tone(Tone::Dim),
                    )),
                ];
                frame.render_widget(Paragraph::new(text).wrap(ratatui::widgets::Wrap { trim: true }), body);
            }
            return;
        };
        let shown = self.shown(&file);
        let position = if self.files.len() > 1 { format!(" ({}/{} · [ ] file)", self.index + 1, self.files.len()) } else { String::new() };
        let running = if self.running { " · rendering…" } else { "" };
        let Some(r) = &self.result else {
            let block = Block::default().borders(Borders::ALL).border_style(t.border()).title(format!(" {shown}{position}{running} "));
            frame.render_widget(block, body);
            return;
        };
        // The verdict on top, as high as it is (at most two fifths of the view), the YAML below.
        let cap = (body.height as usize * 2 / 5).max(4);
        let want = (r.verdict.len() + 2).min(cap) as u16;
        let [upper, lower] = Layout::vertical([Constraint::Length(want), Constraint::Min(3)]).areas(body);
        self.verdict_height = upper.height.saturating_sub(2) as usize;
        let max = r.verdict.len().saturating_sub(self.verdict_height.max(1));
        self.verdict_offset = self.verdict_offset.min(max);
        let stale = if r.file != file { " · was " } else { "" };
        let mut block = Block::default().borders(Borders::ALL).border_style(t.border()).title(format!(" admission — {shown}{position}{running} "));
        if r.verdict.len() > self.verdict_height {
            block = block.title_bottom(
                Line::from(format!(" J/K {}-{}/{} ", self.verdict_offset + 1, self.verdict_offset + self.verdict_height, r.verdict.len())).right_aligned(),
            );
        }
        frame.render_widget(Paragraph::new(t.window(&r.verdict, self.verdict_offset, self.verdict_height)).block(block), upper);
        let title = format!("rendered — {}{stale}{}", r.summary, if r.starts.len() > 1 { " · { } CR" } else { "" });
        let title = if stale.is_empty() { title } else { format!("{title}{}", self.shown(&r.file)) };
        self.yaml.render(frame, lower, &t, &title);
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::harness::Harness;
    use super::*;
    use std::time::Duration;

    fn demo(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../demos").join(rel)
    }

    /// Timestamps (`2026-11-28T17:58:56Z`) as `<now>`: the status is written at the time of
    /// rendering.
    fn scrub_times(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = String::with_capacity(s.len());
        let mut i = 0;
        let is_stamp = |w: &[u8]| {
            w.len() == 20
                && w.iter().enumerate().all(|(k, c)| match k {
                    4 | 7 => *c == b'-',
                    10 => *c == b'T',
                    13 | 16 => *c == b':',
                    19 => *c == b'Z',
                    _ => c.is_ascii_digit(),
                })
        };
        while i < b.len() {
            if i + 20 <= b.len() && is_stamp(&b[i..i + 20]) {
                out.push_str("<now>");
                i += 20;
                continue;
            }
            let ch = s[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
        out
    }

    fn screen(h: &mut Harness, w: u16, hgt: u16) -> String {
        scrub_times(&h.render(w, hgt))
    }

    #[test]
    fn hello_website_shows_each_child_with_the_entry_that_produced_it() {
        let mut h = Harness::open(&demo("beginner/hello-website"));
        h.keys("3");
        let s = screen(&mut h, 100, 30);
        assert!(s.contains("# Source: "), "{s}");
        insta::assert_snapshot!(s);
    }

    #[test]
    fn hello_website_at_80_by_24() {
        let mut h = Harness::open(&demo("beginner/hello-website"));
        h.keys("3");
        insta::assert_snapshot!(screen(&mut h, 80, 24));
    }

    #[test]
    fn a_denied_cr_shows_every_deny_message_from_the_gate() {
        let mut h = Harness::open(&demo("security/admission-rules"));
        h.keys("3:cr cr-denied<Enter>").settle();
        let s = screen(&mut h, 100, 30);
        assert!(s.contains("denied validate: spec.engine must be postgres or mysql"), "{s}");
        insta::assert_snapshot!(s);
    }

    #[test]
    fn a_mutated_cr_shows_the_patch() {
        let mut h = Harness::open(&demo("security/admission-rules"));
        h.keys("3:cr no-owner<Enter>").settle();
        let s = screen(&mut h, 100, 30);
        assert!(s.contains("mutation (JSONPatch):") && s.contains("add /spec/replicas 1"), "{s}");
        insta::assert_snapshot!(s);
    }

    #[test]
    fn brackets_cycle_through_the_cr_files() {
        let mut h = Harness::open(&demo("security/admission-rules"));
        h.keys("3");
        let first = screen(&mut h, 100, 30);
        h.keys("]").settle();
        let second = screen(&mut h, 100, 30);
        assert_ne!(first, second);
        h.keys("[").settle();
        assert_eq!(screen(&mut h, 100, 30), first);
    }

    #[test]
    fn the_view_shows_the_reports_ork_template_and_ork_gate_print() {
        let h = Harness::open(&demo("security/admission-rules"));
        let Some(valid) = h.app.analysis().and_then(|a| a.valid.clone()) else { panic!("not valid") };
        let file = demo("security/admission-rules/cr-denied.yaml");
        let r = render_file(valid.clone(), &file, "cr-denied.yaml", "orkestra-system", 0);
        // The same library calls as the commands, formatted by the commands' builders.
        let crs = read_yaml_values(&file, Limits::default()).unwrap_or_else(|e| panic!("{e}"));
        let opts = OfflineOptions { crd: None, seed: None, now: 0, show_secrets: false };
        let rendered: Vec<_> =
            (0..crs.len()).map(|i| render_offline(&valid.katalog, &valid.templates, &crs, i, &[], opts).unwrap_or_else(|e| panic!("{e}"))).collect();
        assert_eq!(r.yaml.to_text(false), crate::report::template::template_yaml(&rendered, true));
        let user = UserInfo { username: "kubernetes-admin".into(), groups: Vec::new() };
        let ask = Ask { op: Operation::Create, old: None, namespace: None, user, install_namespace: "orkestra-system", now: 0, seed: 0 };
        let reports: Vec<_> = review_documents(valid, &crs, &ask).into_iter().map(|r| r.unwrap_or_else(|e| panic!("{e}"))).collect();
        assert!(r.verdict.to_text(false).contains(&gate_doc(&reports).to_text(false)));
        assert!(r.verdict.to_text(false).contains("error: Database default/legacy: deny rule on spec.engine"));
    }

    #[test]
    fn a_saved_cr_is_rendered_again() {
        let dir = std::env::temp_dir().join(format!("ork-wb-preview-save-{}", std::process::id()));
        let src = demo("beginner/hello-website");
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        for f in ["katalog.yaml", "cr.yaml"] {
            std::fs::copy(src.join(f), dir.join(f)).unwrap_or_else(|e| panic!("{e}"));
        }
        let mut h = Harness::open(&dir);
        h.keys("3");
        assert!(screen(&mut h, 100, 30).contains("name: hello-web"));
        let cr = std::fs::read_to_string(dir.join("cr.yaml")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("cr.yaml"), cr.replace("name: hello", "name: again")).unwrap_or_else(|e| panic!("{e}"));
        h.send(crate::workbench::msg::Msg::FilesChanged(vec![dir.join("cr.yaml")])).settle();
        let s = screen(&mut h, 100, 30);
        assert!(s.contains("name: again-web") && !s.contains("name: hello-web"), "{s}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn secrets_stay_redacted_as_ork_template_shows_them() {
        let mut h = Harness::open(&demo("security/deletion-protection"));
        h.keys("3/kind: Secret<Enter>").settle();
        h.keys("<Esc>/key: <Enter>");
        let s = screen(&mut h, 100, 30);
        assert!(s.contains("key: \"<redacted: 32 bytes>\""), "{s}");
    }

    #[test]
    fn an_invalid_katalog_points_at_problems() {
        let mut h = Harness::open(&demo("beginner/hello-website/invalid/katalog-typo.yaml"));
        h.keys("3");
        let s = screen(&mut h, 100, 12);
        assert!(s.contains("the Katalog is invalid") && s.contains(":problems"), "{s}");
    }

    #[test]
    fn a_10000_line_preview_draws_only_what_is_visible() {
        let mut pane = DocPane::yaml();
        let mut d = Doc::new();
        for i in 0..10_000 {
            d.push(format!("  key{i}: value # {i}"));
        }
        pane.set_doc(d);
        let t = super::super::super::theme::Theme { color: true };
        let backend = ratatui::backend::TestBackend::new(100, 30);
        let mut term = ratatui::Terminal::new(backend).unwrap_or_else(|e| panic!("{e}"));
        let started = std::time::Instant::now();
        for _ in 0..100 {
            pane.apply(Move::Pages(1));
            term.draw(|f| pane.render(f, f.area(), &t, "big")).unwrap_or_else(|e| panic!("{e}"));
        }
        // 100 frames of a 10,000-line document: far below 16 ms each even unoptimised.
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        pane.apply(Move::Bottom);
        term.draw(|f| pane.render(f, f.area(), &t, "big")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(pane.top(), 10_000 - 28);
    }
}
