//! `:live` — the Katalog's CRs on a cluster. From the start screen, `d` starts the embedded dev
//! cluster with the runtime exactly as `ork run --dev` does (`services::run::DevStack`: CRDs
//! installed, the gateway beside it when the Katalog declares gateway features, crFiles
//! applied), and `c` connects to the current kube context. Then every CR of the Katalog's kinds
//! is listed with Ready and phase, its children under it as a tree (kind, name, readiness,
//! age), and for the selected CR a pane that explains it: why it is not Ready (the failing
//! condition, the deny rule, the refused apply, the dependency its OperatorBox waits for, the
//! children not ready), its conditions and its Events; the header shows each OperatorBox's
//! health from the runtime's `/katalog`. Updates stream from watches ([`backend`]); `a` applies
//! a CR file of the pattern, `D` deletes the selected CR, `x` (or `:live stop`) stops
//! everything that was started — as does leaving the workbench.

pub mod backend;
pub mod model;

use super::super::view::{Action, Ctx, KeyHelp, View, ViewId};
use super::super::widgets::{Cursor, Move, NAV_KEYS, navigation};
use crate::report::Tone;
use backend::{Mode, Session, Setup};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use katalog::valid::Valid;
use model::{CrKey, Model, Readiness, Row, Started, Update, age, explain, ready_word};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Where the view is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// The start screen.
    Idle,
    /// Starting (dev cluster or connecting).
    Starting(Mode),
    /// Running.
    Running(Started),
    /// Stopping.
    Stopping,
    /// The start failed: why.
    Failed(String),
}

/// The Live view.
pub struct LiveView {
    phase: Phase,
    session: Option<Session>,
    model: Model,
    cursor: Cursor,
    height: usize,
    valid: Option<Arc<Valid>>,
    dir: PathBuf,
    files: Vec<PathBuf>,
    file: usize,
    /// dependsOn of each kind, from the Katalog.
    depends: HashMap<String, Vec<String>>,
    confirm: Option<CrKey>,
    /// Unix seconds used for ages (`None`: the clock; tests fix it).
    now: Option<i64>,
    /// Whether the session is (or was) the dev stack.
    dev: bool,
    /// The row selected before the rows changed: selected again after they are rebuilt, so
    /// the selection stays on its CR while others come and go.
    anchor: Option<Row>,
}

impl Default for LiveView {
    fn default() -> Self {
        LiveView {
            phase: Phase::Idle,
            session: None,
            model: Model::default(),
            cursor: Cursor::default(),
            height: 10,
            valid: None,
            dir: PathBuf::from("."),
            files: Vec::new(),
            file: 0,
            depends: HashMap::new(),
            confirm: None,
            now: None,
            anchor: None,
            dev: false,
        }
    }
}

const KEYS: &[KeyHelp] = &[
    ("d", "start the embedded dev cluster + runtime (as ork run --dev)"),
    ("c", "connect to the current kube context"),
    ("x", "stop everything started (also :live stop)"),
    ("a", "apply the chosen CR file of the pattern"),
    ("[ ]", "choose the CR file to apply"),
    ("D", "delete the selected CR (asks y/n)"),
    NAV_KEYS[0],
    NAV_KEYS[1],
    NAV_KEYS[2],
];

const COMMANDS: &[KeyHelp] =
    &[("live dev", "start the dev cluster"), ("live connect", "connect to the current context"), ("live stop", "stop everything started")];

const FIX_FIRST: &str = "fix the Katalog first (see :problems)";

impl LiveView {
    fn start(&mut self, mode: Mode, ctx: &Ctx<'_>) -> Action {
        if self.session.is_some() {
            return Action::Status("the live session runs already: x stops it".into());
        }
        let Some(valid) = self.valid.clone() else {
            return Action::Status(FIX_FIRST.into());
        };
        let rt = match ctx.jobs.runtime() {
            Ok(rt) => rt,
            Err(e) => return Action::Status(e),
        };
        self.model.clear();
        self.cursor = Cursor::default();
        let setup = Setup { mode, valid, namespace: ctx.options.namespace.clone() };
        self.session = Some(Session::start(rt, setup, ctx.jobs.sender()));
        self.phase = Phase::Starting(mode);
        self.dev = mode == Mode::Dev;
        Action::Status(match mode {
            Mode::Dev => "starting the dev cluster, the gateway and the runtime…".into(),
            Mode::Connect => "connecting to the current kube context…".into(),
        })
    }

    fn stop(&mut self) -> Action {
        match &self.session {
            Some(s) => {
                s.stop();
                self.phase = Phase::Stopping;
                Action::Status(if self.dev { "stopping the watches, the runtime, the gateway and the dev cluster…" } else { "stopping the watches…" }.into())
            }
            None => Action::Status("nothing runs".into()),
        }
    }

    /// The rows, rebuilt if anything changed, with the cursor moved back to the row it was
    /// on; returns how many there are.
    fn sync(&mut self) -> usize {
        let anchor = self.anchor.take();
        let rows = self.model.rows();
        if let Some(a) = anchor
            && rows.get(self.cursor.index) != Some(&a)
        {
            let found = rows.iter().position(|r| *r == a).or_else(|| rows.iter().position(|r| matches!(r, Row::Cr(k) if k == a.cr())));
            if let Some(i) = found {
                self.cursor.index = i;
            }
        }
        rows.len()
    }

    fn selected(&mut self) -> Option<CrKey> {
        self.sync();
        let i = self.cursor.index;
        self.model.rows().get(i).map(|r| r.cr().clone())
    }

    fn file_shown(&self, f: &std::path::Path) -> String {
        f.strip_prefix(&self.dir).map(|p| p.display().to_string()).unwrap_or_else(|_| katalog::diag::display_path(f))
    }

    fn apply(&mut self) -> Action {
        let Some(s) = &self.session else { return Action::Status("start the dev cluster (d) or connect (c) first".into()) };
        let Some(f) = self.files.get(self.file).cloned() else { return Action::Status("no CR file in the pattern".into()) };
        let shown = self.file_shown(&f);
        s.apply(f, shown.clone());
        Action::Status(format!("applying {shown}…"))
    }

    fn on_update(&mut self, u: Update) -> Action {
        let mut action = Action::None;
        match &u {
            Update::Started(s) => {
                self.phase = Phase::Running(s.clone());
                action =
                    Action::Status(if s.dev { "dev cluster ready: watching the Katalog's CRs".into() } else { "connected: watching the Katalog's CRs".into() });
            }
            Update::Failed(e) => {
                self.phase = Phase::Failed(e.clone());
                self.session = None;
                action = Action::Status(format!("✗ {e}"));
            }
            Update::Stopped => {
                if matches!(self.phase, Phase::Running(_) | Phase::Stopping) {
                    self.phase = Phase::Idle;
                }
                self.session = None;
                action =
                    Action::Status(if self.dev { "stopped: the watches, the runtime, the gateway and the dev cluster" } else { "stopped: the watches" }.into());
            }
            Update::Applied { file, result } => {
                let text = match result {
                    Ok(keys) => format!("✓ applied {file}: {}", keys.iter().map(|k| format!("{} {}", k.kind, k.path())).collect::<Vec<_>>().join(", ")),
                    Err((Some(k), why)) => format!("✗ {file}: {} {} refused: {why}", k.kind, k.path()),
                    Err((None, why)) => format!("✗ {file}: {why}"),
                };
                action = Action::Status(text);
            }
            Update::Deleted { key, result } => {
                let text = match result {
                    Ok(()) => format!("✓ deleted {} {}", key.kind, key.path()),
                    Err(why) => format!("✗ delete {} {} refused: {why}", key.kind, key.path()),
                };
                action = Action::Status(text);
            }
            _ => {}
        }
        if self.anchor.is_none() && !self.model.is_dirty() {
            self.anchor = self.model.rows().get(self.cursor.index).cloned();
        }
        self.model.apply(u);
        action
    }

    fn render_start(&self, frame: &mut Frame<'_>, area: Rect, ctx: &Ctx<'_>) {
        let t = ctx.theme;
        let key = |k: &str| Span::styled(format!("  {k:<4}"), t.tone(Tone::Accent));
        let mut lines = vec![Line::styled("The Katalog's CRs on a cluster, live", t.tone(Tone::Strong)), Line::raw("")];
        if self.valid.is_none() {
            let what = if ctx.analysis.is_none() { "validating the Katalog…".to_string() } else { format!("✗ {FIX_FIRST}") };
            lines.push(Line::styled(what, t.tone(Tone::Bad)));
            lines.push(Line::raw(""));
        }
        lines.push(Line::from(vec![key("d"), Span::raw("start the embedded dev cluster with the runtime (as ork run --dev):")]));
        lines.push(Line::raw("        CRDs installed, the gateway beside it when the Katalog declares"));
        lines.push(Line::raw("        gateway features, crFiles applied, a kubeconfig for kubectl"));
        lines.push(Line::from(vec![key("c"), Span::raw("connect to the current kube context ($KUBECONFIG, ~/.kube/config)")]));
        lines.push(Line::from(vec![key("x"), Span::raw("stop everything started (quitting the workbench does too)")]));
        lines.push(Line::from(vec![key("?"), Span::raw("every key")]));
        lines.push(Line::raw(""));
        match &self.phase {
            Phase::Starting(Mode::Dev) => lines.push(Line::styled("… starting the dev cluster, the gateway and the runtime", t.tone(Tone::Accent))),
            Phase::Starting(Mode::Connect) => lines.push(Line::styled("… connecting to the current kube context", t.tone(Tone::Accent))),
            Phase::Stopping => lines.push(Line::styled("… stopping", t.tone(Tone::Accent))),
            Phase::Failed(e) => lines.push(Line::styled(format!("✗ {e}"), t.tone(Tone::Bad))),
            Phase::Idle | Phase::Running(_) => {}
        }
        if !self.files.is_empty() {
            let names: Vec<String> = self.files.iter().map(|f| self.file_shown(f)).collect();
            lines.push(Line::styled(format!("CR files to apply with a: {}", names.join(", ")), t.tone(Tone::Dim)));
        }
        let block = Block::default().borders(Borders::ALL).border_style(t.border()).title(" live ");
        frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), area);
    }

    fn header(&self, s: &Started, ctx: &Ctx<'_>) -> Vec<Line<'static>> {
        let t = ctx.theme;
        let dim = t.tone(Tone::Dim);
        let mut first = vec![Span::styled(if s.dev { "● dev cluster " } else { "● " }, t.tone(Tone::Good)), Span::raw(s.cluster.clone())];
        if let Some(r) = s.runtime {
            first.push(Span::styled("  runtime ", dim));
            first.push(Span::raw(format!("http://{r}/katalog")));
        }
        if s.gateway.is_some() {
            first.push(Span::styled("  gateway ✓", dim));
        }
        let second = match &s.kubeconfig {
            Some(k) => Line::from(vec![
                Span::styled("kubectl --kubeconfig ", dim),
                Span::raw(k.display().to_string()),
                Span::styled(format!(" get {}", s.plurals.join(",")), dim),
            ]),
            None => Line::styled(format!("kubectl get {}", s.plurals.join(",")), dim),
        };
        let mut third = vec![Span::styled("boxes ", dim)];
        if self.model.health.is_empty() {
            third.push(Span::styled(if s.runtime.is_some() { "…" } else { "no runtime started here" }, dim));
        }
        for b in &self.model.health {
            let tone = match b.state.as_str() {
                "healthy" => Tone::Good,
                "degraded" => Tone::Bad,
                _ => Tone::Warn,
            };
            third.push(Span::raw(format!("{} ", b.name)));
            third.push(Span::styled(format!("{}  ", b.state), t.tone(tone)));
        }
        if let Some(e) = &self.model.health_error {
            third.push(Span::styled(format!("/katalog: {e}"), t.tone(Tone::Warn)));
        }
        if let Some(f) = self.files.get(self.file) {
            third.push(Span::styled(" · a applies ", dim));
            third.push(Span::raw(self.file_shown(f)));
            if self.files.len() > 1 {
                third.push(Span::styled(format!(" ({}/{}, [ ] other)", self.file + 1, self.files.len()), dim));
            }
        }
        vec![Line::from(first), second, Line::from(third)]
    }

    fn render_list(&mut self, frame: &mut Frame<'_>, area: Rect, ctx: &Ctx<'_>) {
        let t = ctx.theme;
        let now = self.now.unwrap_or_else(katalog::time::unix_now);
        let (total, ready) = self.model.counts();
        let mut title = format!(" CRs {total} · {ready} Ready ");
        if !self.model.watch_errors.is_empty() {
            title.push_str(&format!("· ✗ {} watch(es) failing ", self.model.watch_errors.len()));
        }
        let mut block = Block::default().borders(Borders::ALL).border_style(t.border()).title(title);
        if !self.model.filter().is_empty() {
            block = block.title_bottom(Line::from(format!(" /{} ", self.model.filter())));
        }
        let inner = block.inner(area);
        frame.render_widget(block, area);
        self.height = inner.height as usize;
        let width = inner.width as usize;
        let rows_len = self.sync();
        let first = self.cursor.visible(rows_len, self.height);
        let (kind_w, ready_w, phase_w, age_w) = (12usize, 9usize, 12usize, 4usize);
        let name_w = width.saturating_sub(2 + kind_w + 1 + ready_w + 1 + phase_w + 1 + age_w).max(8);
        let mut lines = Vec::with_capacity(self.height);
        if rows_len == 0 {
            let text = if self.model.crs.is_empty() { "no CRs of the Katalog's kinds yet: a applies a CR file" } else { "no CR matches the filter" };
            lines.push(Line::styled(text, t.tone(Tone::Dim)));
        }
        let cursor = self.cursor.index;
        let rows: Vec<(usize, Row)> = self.model.rows().iter().enumerate().skip(first).take(self.height).map(|(i, r)| (i, r.clone())).collect();
        for (i, row) in rows {
            let mut spans = match &row {
                Row::Cr(k) => {
                    let Some(cr) = self.model.crs.get(k) else { continue };
                    let word = ready_word(cr);
                    let (icon, tone) = match word {
                        "Ready" => ("✓", Tone::Good),
                        "Pending" | "Deleting" => ("…", Tone::Warn),
                        _ => ("✗", Tone::Bad),
                    };
                    vec![
                        Span::styled(format!("{icon} "), t.tone(tone)),
                        Span::styled(format!("{:<kind_w$} ", clip(&k.kind, kind_w)), t.tone(Tone::Strong)),
                        Span::raw(format!("{:<name_w$}", clip(&k.path(), name_w))),
                        Span::styled(format!("{word:<ready_w$} "), t.tone(tone)),
                        Span::raw(format!("{:<phase_w$} ", clip(cr.phase.as_deref().unwrap_or("-"), phase_w))),
                        Span::styled(format!("{:>age_w$}", age(cr.created, now)), t.tone(Tone::Dim)),
                    ]
                }
                Row::Child { child, last, .. } => {
                    let Some(c) = self.model.children.get(child) else { continue };
                    let branch = if *last { "└─ " } else { "├─ " };
                    let (text, tone) = match &c.readiness {
                        Readiness::Ready(s) => (format!("✓ {s}").trim_end().to_string(), Tone::Good),
                        Readiness::NotReady(s) => (format!("✗ {s}"), Tone::Bad),
                    };
                    let label = format!("{branch}{} {}", c.key.kind, c.key.name);
                    vec![
                        Span::raw("  "),
                        Span::styled(format!("{:<w$}", clip(&label, kind_w + 1 + name_w), w = kind_w + 1 + name_w), t.tone(Tone::Plain)),
                        Span::styled(format!("{:<ready_w$} ", clip(&text, ready_w)), t.tone(tone)),
                        Span::raw(format!("{:<phase_w$} ", "")),
                        Span::styled(format!("{:>age_w$}", age(c.created, now)), t.tone(Tone::Dim)),
                    ]
                }
            };
            if i == cursor {
                for s in &mut spans {
                    s.style = s.style.patch(t.selected());
                }
            }
            lines.push(Line::from(spans));
        }
        frame.render_widget(Paragraph::new(lines), inner);
    }

    fn render_detail(&mut self, frame: &mut Frame<'_>, area: Rect, ctx: &Ctx<'_>) {
        let t = ctx.theme;
        let now = self.now.unwrap_or_else(katalog::time::unix_now);
        let key = self.selected();
        let Some(cr) = key.as_ref().and_then(|k| self.model.crs.get(k)) else {
            let block = Block::default().borders(Borders::ALL).border_style(t.border()).title(" details ");
            let mut lines = vec![Line::styled("select a CR: its readiness explained, conditions and Events", t.tone(Tone::Dim))];
            for (what, e) in &self.model.watch_errors {
                lines.push(Line::styled(format!("✗ watch {what}: {e}"), t.tone(Tone::Bad)));
            }
            frame.render_widget(Paragraph::new(lines).block(block), area);
            return;
        };
        let mut lines: Vec<Line<'_>> = Vec::new();
        let word = ready_word(cr);
        let why = explain(&self.model, cr, self.depends.get(&cr.key.kind).map(Vec::as_slice).unwrap_or_default());
        let head = match word {
            "Ready" => Line::styled(format!("✓ Ready · phase {}", cr.phase.as_deref().unwrap_or("-")), t.tone(Tone::Good)),
            "Refused" => Line::styled("✗ not on the cluster: the apply was refused", t.tone(Tone::Bad)),
            w => Line::styled(format!("✗ {w} · phase {} — why:", cr.phase.as_deref().unwrap_or("-")), t.tone(Tone::Bad)),
        };
        lines.push(head);
        for (bad, l) in &why {
            lines.push(Line::styled(format!("  {} {l}", if *bad { "✗" } else { "!" }), t.tone(if *bad { Tone::Bad } else { Tone::Warn })));
        }
        if !cr.conditions.is_empty() {
            lines.push(Line::styled("conditions", t.tone(Tone::Strong)));
            for c in &cr.conditions {
                let msg = if c.message.is_empty() { String::new() } else { format!(" — {}", c.message) };
                lines
                    .push(Line::from(vec![Span::styled(format!("  {}={}", c.kind, c.status), t.tone(Tone::Accent)), Span::raw(format!(" {}{msg}", c.reason))]));
            }
        }
        let events = (!cr.uid.is_empty()).then(|| self.model.events.get(&cr.uid)).flatten();
        if let Some(events) = events.filter(|e| !e.is_empty()) {
            lines.push(Line::styled("events", t.tone(Tone::Strong)));
            // Newest first; the same event again (kind, reason, message) counts on one line.
            let mut merged: Vec<model::EventRow> = Vec::new();
            for e in events.iter().rev() {
                match merged.last_mut() {
                    Some(m) if m.kind == e.kind && m.reason == e.reason && m.message == e.message => m.count += e.count,
                    _ => merged.push(e.clone()),
                }
            }
            for e in &merged {
                let tone = if e.kind == "Warning" { Tone::Warn } else { Tone::Plain };
                let count = if e.count > 1 { format!(" (×{})", e.count) } else { String::new() };
                lines.push(Line::from(vec![
                    Span::styled(format!("  {:>4} ", age(e.last, now)), t.tone(Tone::Dim)),
                    Span::styled(format!("{:<7} {} ", e.kind, e.reason), t.tone(tone)),
                    Span::raw(format!("{}{count}", e.message)),
                ]));
            }
        }
        let block = Block::default().borders(Borders::ALL).border_style(t.border()).title(format!(" {} {} ", cr.key.kind, cr.key.path()));
        frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), area);
    }
}

/// `text` cut to `w` characters (with `…` when cut).
fn clip(text: &str, w: usize) -> String {
    if text.chars().count() <= w {
        return text.to_string();
    }
    let mut s: String = text.chars().take(w.saturating_sub(1)).collect();
    s.push('…');
    s
}

impl View for LiveView {
    fn id(&self) -> ViewId {
        ViewId::Live
    }

    fn keys(&self) -> &'static [KeyHelp] {
        KEYS
    }

    fn commands(&self) -> &'static [KeyHelp] {
        COMMANDS
    }

    fn badge(&self) -> Option<String> {
        match &self.phase {
            Phase::Running(_) => {
                let (total, ready) = self.model.counts();
                Some(format!("{ready}/{total}"))
            }
            Phase::Starting(_) => Some("…".into()),
            _ => None,
        }
    }

    fn on_analysis(&mut self, ctx: &Ctx<'_>) {
        let Some(a) = ctx.analysis else { return };
        self.valid = a.valid.clone();
        self.dir = a.pattern.dir.clone();
        self.files = a.pattern.crs.clone();
        self.file = self.file.min(self.files.len().saturating_sub(1));
        self.depends.clear();
        if let Some(v) = &self.valid {
            for (_, e) in v.katalog.crds().iter() {
                if let Some(id) = katalog::kinds::api_identity(e) {
                    self.depends.insert(id.kind, e.depends_on.iter().map(|d| d.name.as_str().to_string()).collect());
                }
            }
        }
    }

    fn set_filter(&mut self, filter: &str) {
        self.model.set_filter(filter);
        self.cursor = Cursor::default();
    }

    fn on_scroll(&mut self, delta: i32, _ctx: &Ctx<'_>) {
        let n = self.sync();
        self.cursor.apply(Move::By(delta as i64), n, self.height);
    }

    fn on_key(&mut self, key: KeyEvent, ctx: &Ctx<'_>) -> Action {
        if let Some(k) = self.confirm.take() {
            if key.code == KeyCode::Char('y') {
                if let Some(s) = &self.session {
                    s.delete(k.clone());
                    return Action::Status(format!("deleting {} {}…", k.kind, k.path()));
                }
                return Action::Status("nothing runs".into());
            }
            return Action::Status("delete cancelled".into());
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if !ctrl {
            match key.code {
                KeyCode::Char('d') => return self.start(Mode::Dev, ctx),
                KeyCode::Char('c') => return self.start(Mode::Connect, ctx),
                KeyCode::Char('x') => return self.stop(),
                KeyCode::Char('a') => return self.apply(),
                KeyCode::Char('[') | KeyCode::Char(']') => {
                    if self.files.is_empty() {
                        return Action::Status("no CR file in the pattern".into());
                    }
                    let n = self.files.len();
                    self.file = if key.code == KeyCode::Char(']') { (self.file + 1) % n } else { (self.file + n - 1) % n };
                    return Action::Status(format!("a applies {}", self.file_shown(&self.files[self.file])));
                }
                KeyCode::Char('D') => {
                    if self.session.is_none() {
                        return Action::Status("nothing runs".into());
                    }
                    let Some(k) = self.selected() else { return Action::Status("no CR selected".into()) };
                    // Asked on the view's last line (y deletes, any other key cancels).
                    self.confirm = Some(k);
                    return Action::None;
                }
                _ => {}
            }
        }
        if let Some(m) = navigation(&key) {
            let n = self.sync();
            self.cursor.apply(m, n, self.height.max(1));
            return Action::None;
        }
        Action::Ignored
    }

    fn on_command(&mut self, command: &str, arg: &str, ctx: &Ctx<'_>) -> Option<Action> {
        if command != "live" && !ViewId::Live.aliases().contains(&command) {
            return None;
        }
        Some(match arg {
            "stop" => self.stop(),
            "dev" => self.start(Mode::Dev, ctx),
            "connect" => self.start(Mode::Connect, ctx),
            "apply" => self.apply(),
            other => Action::Status(format!(":live {other}: expected dev, connect, apply or stop")),
        })
    }

    fn on_result(&mut self, result: Box<dyn std::any::Any + Send>, _ctx: &Ctx<'_>) -> Action {
        match result.downcast::<Update>() {
            Ok(u) => self.on_update(*u),
            Err(_) => Action::None,
        }
    }

    fn render(&mut self, frame: &mut Frame<'_>, area: Rect, ctx: &Ctx<'_>) {
        let Phase::Running(started) = &self.phase else {
            self.render_start(frame, area, ctx);
            return;
        };
        let header = self.header(started, ctx);
        let confirm = self.confirm.as_ref().map(|k| format!("delete {} {}? y/n", k.kind, k.path()));
        let extra = u16::from(confirm.is_some());
        let rest = area.height.saturating_sub(3 + extra);
        let list_h = (rest * 11 / 20).max(4).min(rest);
        let [head, list, detail, bottom] =
            Layout::vertical([Constraint::Length(3), Constraint::Length(list_h), Constraint::Min(3), Constraint::Length(extra)]).areas(area);
        frame.render_widget(Paragraph::new(header), head);
        self.render_list(frame, list, ctx);
        self.render_detail(frame, detail, ctx);
        if let Some(c) = confirm {
            frame.render_widget(Paragraph::new(Line::styled(c, ctx.theme.tone(Tone::Warn).add_modifier(ratatui::style::Modifier::BOLD))), bottom);
        }
    }
}

#[cfg(test)]
mod tests;
