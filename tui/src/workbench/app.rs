//! The application state and its update function (Elm style): [`App::update`] turns one
//! [`Msg`] into new state (and, rarely, a [`Control`] for the terminal loop), [`App::render`]
//! turns state into a frame. Neither does I/O: work is handed to [`Jobs`].
//!
//! Global keys (k9s and gitui conventions): `1`…`7` and `:name` switch views, `:` opens the
//! command palette (Tab completes, ↑/↓ walk the history), `/` filters the view, `?` lists
//! every key of the current view, `esc` goes back, `q` / `ctrl-c` quit, Tab / shift-Tab cycle
//! the views, the mouse wheel scrolls.

use super::analysis::Analysis;
use super::jobs::Jobs;
use super::msg::Msg;
use super::pattern::Pattern;
use super::theme::Theme;
use super::view::{Action, Ctx, KeyHelp, View, ViewId};
use super::views;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

pub use super::options::Options;

/// What the terminal loop must do after an update.
#[derive(Debug, PartialEq, Eq)]
pub enum Control {
    /// Keep going.
    Continue,
    /// Restore the terminal and end.
    Quit,
    /// Suspend the UI, run `$EDITOR` on a file at a line, then resume and validate again.
    Edit(PathBuf, u32),
}

/// The line at the bottom: what is being typed, or the last message.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Input {
    /// No input: the status line.
    None,
    /// The `:` palette, with what was typed.
    Palette(String),
    /// The `/` filter, with what was typed.
    Filter(String),
}

/// The global keys, for `?`.
const GLOBAL_KEYS: &[KeyHelp] = &[
    ("1-7", "switch view"),
    (":", "command palette (Tab completes, ↑/↓ history)"),
    ("/", "filter the view"),
    ("Tab / shift-Tab", "next / previous view"),
    ("?", "this help"),
    ("esc", "back: close, clear the filter, previous view"),
    ("q ctrl-c", "quit"),
];

/// The palette's own commands.
const APP_COMMANDS: &[KeyHelp] = &[("quit", "leave the workbench (also :q)"), ("help", "list the keys (also ?)"), ("validate", "validate again now")];

/// The workbench's whole state.
pub struct App {
    /// Options it was started with.
    pub options: Options,
    pattern: Pattern,
    views: Vec<Box<dyn View>>,
    active: usize,
    /// Views visited before, for `esc`.
    back: Vec<usize>,
    analysis: Option<Arc<Analysis>>,
    generation: u64,
    validating: bool,
    revalidate: bool,
    /// When the last change on disk was seen (for the "validated in" timing).
    changed_at: Option<Instant>,
    input: Input,
    history: Vec<String>,
    history_pos: Option<usize>,
    filters: Vec<String>,
    help: bool,
    /// First line of the help shown (it scrolls when taller than the screen).
    help_offset: usize,
    status: String,
    jobs_running: BTreeSet<String>,
    jobs: Jobs,
    theme: Theme,
    ticks: u64,
}

impl App {
    /// The application on `pattern`, its views created, nothing validated yet (call
    /// [`App::start`]).
    pub fn new(pattern: Pattern, options: Options, jobs: Jobs, theme: Theme) -> App {
        let views = views::all();
        let filters = vec![String::new(); views.len()];
        let active = options.start.and_then(|s| views.iter().position(|v| v.id() == s)).unwrap_or(0);
        App {
            options,
            pattern,
            views,
            active,
            back: Vec::new(),
            analysis: None,
            generation: 0,
            validating: false,
            revalidate: false,
            changed_at: None,
            input: Input::None,
            history: Vec::new(),
            history_pos: None,
            filters,
            help: false,
            help_offset: 0,
            status: String::from("? for help · : for commands · q to quit"),
            jobs_running: BTreeSet::new(),
            jobs,
            theme,
            ticks: 0,
        }
    }

    /// Starts the first validation.
    pub fn start(&mut self) {
        self.validate();
    }

    /// The pattern opened.
    pub fn pattern(&self) -> &Pattern {
        &self.pattern
    }

    /// The latest analysis.
    pub fn analysis(&self) -> Option<&Arc<Analysis>> {
        self.analysis.as_ref()
    }

    /// Whether background work is running (a validation or a job).
    pub fn busy(&self) -> bool {
        self.validating || !self.jobs_running.is_empty()
    }

    /// The status line's message.
    pub fn status(&self) -> &str {
        &self.status
    }

    /// The view shown.
    pub fn active(&self) -> ViewId {
        self.views[self.active].id()
    }

    /// Runs a validation now, or after the running one when one runs.
    fn validate(&mut self) {
        if self.validating {
            self.revalidate = true;
            return;
        }
        self.validating = true;
        self.generation += 1;
        let (generation, pattern, opts) = (self.generation, self.pattern.clone(), self.options.load.clone());
        self.jobs.spawn("validate", move || Msg::Analyzed(Arc::new(Analysis::run(generation, pattern, &opts))));
    }

    /// Applies one message.
    pub fn update(&mut self, msg: Msg) -> Control {
        match msg {
            Msg::Input(Event::Key(key)) if key.kind != KeyEventKind::Release => return self.on_key(key),
            Msg::Input(Event::Mouse(m)) => {
                let delta = match m.kind {
                    MouseEventKind::ScrollDown => 3,
                    MouseEventKind::ScrollUp => -3,
                    _ => 0,
                };
                if delta != 0 {
                    let (analysis, jobs, theme, options) = (self.analysis.as_ref(), &self.jobs, self.theme, &self.options);
                    self.views[self.active].on_scroll(delta, &Ctx { analysis, jobs, theme, options });
                }
            }
            Msg::Input(_) => {}
            Msg::FilesChanged(_) => {
                self.changed_at.get_or_insert_with(Instant::now);
                self.validate();
            }
            Msg::Analyzed(a) => {
                self.validating = false;
                let (errors, warnings) = a.counts();
                if let Some(t) = self.changed_at.take() {
                    self.status =
                        format!("validated after the change: {} error(s), {} warning(s) in {:.1} ms", errors, warnings, t.elapsed().as_secs_f64() * 1000.0);
                }
                self.pattern = a.pattern.clone();
                self.analysis = Some(a);
                let (analysis, jobs, theme, options) = (self.analysis.as_ref(), &self.jobs, self.theme, &self.options);
                let ctx = Ctx { analysis, jobs, theme, options };
                for v in &mut self.views {
                    v.on_analysis(&ctx);
                }
                if self.revalidate {
                    self.revalidate = false;
                    self.validate();
                }
            }
            Msg::Job { name, running } => {
                if running {
                    self.jobs_running.insert(name);
                } else {
                    self.jobs_running.remove(&name);
                }
            }
            Msg::Status(s) => self.status = s,
            Msg::View(id, result) => {
                if let Some(i) = self.views.iter().position(|v| v.id() == id) {
                    let (analysis, jobs, theme, options) = (self.analysis.as_ref(), &self.jobs, self.theme, &self.options);
                    let ctx = Ctx { analysis, jobs, theme, options };
                    let action = self.views[i].on_result(result, &ctx);
                    return self.act(action);
                }
            }
            Msg::Tick => self.ticks += 1,
        }
        Control::Continue
    }

    fn act(&mut self, action: Action) -> Control {
        match action {
            Action::None | Action::Ignored => Control::Continue,
            Action::Edit { path, line } => Control::Edit(path, line),
            Action::Switch(id) => {
                self.switch_to(id);
                Control::Continue
            }
            Action::Status(s) => {
                self.status = s;
                Control::Continue
            }
            Action::Run(line) => self.command(&line),
        }
    }

    /// Shows view `id` (remembering the current one for `esc`).
    pub fn switch_to(&mut self, id: ViewId) {
        let Some(i) = self.views.iter().position(|v| v.id() == id) else { return };
        if i != self.active {
            self.back.push(self.active);
            if self.back.len() > 32 {
                self.back.remove(0);
            }
            self.active = i;
        }
        let (analysis, jobs, theme, options) = (self.analysis.as_ref(), &self.jobs, self.theme, &self.options);
        self.views[i].on_show(&Ctx { analysis, jobs, theme, options });
    }

    fn on_key(&mut self, key: KeyEvent) -> Control {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            return Control::Quit;
        }
        match self.input.clone() {
            Input::Palette(text) => return self.palette_key(key, text),
            Input::Filter(text) => {
                self.filter_key(key, text);
                return Control::Continue;
            }
            Input::None => {}
        }
        if self.help {
            match super::widgets::navigation(&key) {
                Some(super::widgets::Move::By(d)) => self.help_offset = (self.help_offset as i64 + d).max(0) as usize,
                Some(super::widgets::Move::Pages(p)) => self.help_offset = (self.help_offset as i64 + p * 10).max(0) as usize,
                Some(super::widgets::Move::Top) => self.help_offset = 0,
                Some(super::widgets::Move::Bottom) => self.help_offset = usize::MAX,
                None if matches!(key.code, KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter) => {
                    self.help = false;
                    self.help_offset = 0;
                }
                None => {}
            }
            return Control::Continue;
        }
        // The view first: a view may use any key but the global ones below.
        let (analysis, jobs, theme, options) = (self.analysis.as_ref(), &self.jobs, self.theme, &self.options);
        let ctx = Ctx { analysis, jobs, theme, options };
        let global = matches!(key.code, KeyCode::Char(':' | '/' | '?' | 'q' | '1'..='7') | KeyCode::Tab | KeyCode::BackTab);
        if !global {
            let action = self.views[self.active].on_key(key, &ctx);
            if !matches!(action, Action::Ignored) {
                return self.act(action);
            }
        }
        match key.code {
            KeyCode::Char('q') => return Control::Quit,
            KeyCode::Char(c @ '1'..='7') => {
                let i = (c as u8 - b'1') as usize;
                if let Some(id) = ViewId::ALL.get(i) {
                    self.switch_to(*id);
                }
            }
            KeyCode::Tab => self.switch_to(self.views[(self.active + 1) % self.views.len()].id()),
            KeyCode::BackTab => self.switch_to(self.views[(self.active + self.views.len() - 1) % self.views.len()].id()),
            KeyCode::Char(':') => {
                self.input = Input::Palette(String::new());
                self.history_pos = None;
            }
            KeyCode::Char('/') => self.input = Input::Filter(self.filters[self.active].clone()),
            KeyCode::Char('?') => self.help = true,
            KeyCode::Esc => {
                if !self.filters[self.active].is_empty() {
                    self.filters[self.active].clear();
                    self.views[self.active].set_filter("");
                } else if let Some(prev) = self.back.pop() {
                    self.active = prev;
                }
            }
            _ => {}
        }
        Control::Continue
    }

    fn filter_key(&mut self, key: KeyEvent, mut text: String) {
        match key.code {
            KeyCode::Esc => {
                text.clear();
                self.input = Input::None;
            }
            KeyCode::Enter => self.input = Input::None,
            KeyCode::Backspace => {
                text.pop();
                self.input = Input::Filter(text.clone());
            }
            KeyCode::Char(c) => {
                text.push(c);
                self.input = Input::Filter(text.clone());
            }
            _ => return,
        }
        self.filters[self.active] = text.clone();
        self.views[self.active].set_filter(&text);
    }

    fn palette_key(&mut self, key: KeyEvent, mut text: String) -> Control {
        match key.code {
            KeyCode::Esc => self.input = Input::None,
            KeyCode::Enter => {
                self.input = Input::None;
                let line = text.trim().to_string();
                if !line.is_empty() {
                    self.history.retain(|h| *h != line);
                    self.history.push(line.clone());
                    return self.command(&line);
                }
            }
            KeyCode::Backspace => {
                text.pop();
                self.input = Input::Palette(text);
            }
            KeyCode::Tab => {
                let done = self.complete(&text);
                self.input = Input::Palette(done);
            }
            KeyCode::Up | KeyCode::Down => {
                if self.history.is_empty() {
                    return Control::Continue;
                }
                let last = self.history.len() - 1;
                let pos = match (self.history_pos, key.code) {
                    (None, KeyCode::Up) => Some(last),
                    (Some(p), KeyCode::Up) => Some(p.saturating_sub(1)),
                    (Some(p), KeyCode::Down) if p < last => Some(p + 1),
                    _ => None,
                };
                self.history_pos = pos;
                self.input = Input::Palette(pos.map(|p| self.history[p].clone()).unwrap_or_default());
            }
            KeyCode::Char(c) => {
                text.push(c);
                self.input = Input::Palette(text);
            }
            _ => {}
        }
        Control::Continue
    }

    /// Every word the palette knows: view names and aliases, the application's commands, the
    /// active view's commands.
    fn vocabulary(&self) -> Vec<&'static str> {
        let mut words: Vec<&'static str> = Vec::new();
        for id in ViewId::ALL {
            words.push(id.name());
            words.extend(id.aliases());
        }
        words.extend(APP_COMMANDS.iter().map(|(c, _)| *c));
        words.push("q");
        for v in &self.views {
            words.extend(v.commands().iter().map(|(c, _)| c.split_whitespace().next().unwrap_or(c)));
        }
        words.sort_unstable();
        words.dedup();
        words
    }

    /// Tab completion: the longest common prefix of the words starting with what was typed
    /// (the first word only; arguments are left as typed).
    fn complete(&mut self, text: &str) -> String {
        if text.contains(' ') {
            return text.to_string();
        }
        let matches: Vec<&str> = self.vocabulary().into_iter().filter(|w| w.starts_with(text)).collect();
        match matches.as_slice() {
            [] => {
                self.status = format!("no command starts with {text:?}");
                text.to_string()
            }
            [one] => format!("{one} "),
            many => {
                self.status = many.join("  ");
                let mut prefix = many[0].to_string();
                for w in &many[1..] {
                    while !w.starts_with(&prefix) {
                        prefix.pop();
                    }
                }
                prefix
            }
        }
    }

    /// Runs a palette command.
    pub fn command(&mut self, line: &str) -> Control {
        let (cmd, arg) = line.split_once(' ').map(|(c, a)| (c, a.trim())).unwrap_or((line, ""));
        match cmd {
            "q" | "quit" | "q!" => return Control::Quit,
            "help" => {
                self.help = true;
                return Control::Continue;
            }
            // Debug builds only (the tests' binary): proves the terminal is restored on a panic.
            #[cfg(debug_assertions)]
            "__panic" => panic!("panic requested with :__panic"),
            "validate" => {
                self.changed_at = Some(Instant::now());
                self.validate();
                return Control::Continue;
            }
            _ => {}
        }
        if let Some(id) = ViewId::ALL.into_iter().find(|id| id.name() == cmd || id.aliases().contains(&cmd)) {
            self.switch_to(id);
            if arg.is_empty() {
                return Control::Continue;
            }
        }
        // A view's command: the active view first, then the others (switching to the one
        // that takes it).
        let order: Vec<usize> = std::iter::once(self.active).chain((0..self.views.len()).filter(|i| *i != self.active)).collect();
        for i in order {
            let (analysis, jobs, theme, options) = (self.analysis.as_ref(), &self.jobs, self.theme, &self.options);
            let ctx = Ctx { analysis, jobs, theme, options };
            if let Some(action) = self.views[i].on_command(cmd, arg, &ctx) {
                if i != self.active {
                    let id = self.views[i].id();
                    self.switch_to(id);
                }
                return self.act(action);
            }
        }
        let suggestion = katalog::diag::suggest(cmd, self.vocabulary().iter().copied());
        self.status = match suggestion {
            Some(s) => format!("unknown command :{cmd} — did you mean :{s}?"),
            None => format!("unknown command :{cmd} (Tab completes, ? lists the keys)"),
        };
        Control::Continue
    }

    /// Draws the whole screen.
    pub fn render(&mut self, frame: &mut Frame<'_>) {
        let area = frame.area();
        let [header, tabs, body, status] =
            Layout::vertical([Constraint::Length(1), Constraint::Length(1), Constraint::Min(1), Constraint::Length(1)]).areas(area);
        self.render_header(frame, header);
        self.render_tabs(frame, tabs);
        let (analysis, jobs, theme, options) = (self.analysis.as_ref(), &self.jobs, self.theme, &self.options);
        let ctx = Ctx { analysis, jobs, theme, options };
        self.views[self.active].render(frame, body, &ctx);
        self.render_status(frame, status);
        if self.help {
            self.render_help(frame, body);
        }
    }

    fn render_header(&self, frame: &mut Frame<'_>, area: Rect) {
        let t = self.theme;
        let mut spans = vec![Span::styled(" ork ", t.bar().add_modifier(Modifier::BOLD)), Span::raw(" "), Span::raw(self.pattern.shown(&self.pattern.katalog))];
        if self.pattern.dir != std::path::Path::new(".") {
            spans.push(Span::styled(format!("  in {}", katalog::diag::display_path(&self.pattern.dir)), t.tone(crate::report::Tone::Dim)));
        }
        spans.push(Span::raw("  "));
        match &self.analysis {
            None => spans.push(Span::styled("… validating", t.tone(crate::report::Tone::Dim))),
            Some(a) => {
                let (e, w) = a.counts();
                if a.is_valid() {
                    spans.push(Span::styled("✓ valid", t.tone(crate::report::Tone::Good)));
                } else {
                    spans.push(Span::styled(format!("✗ {e} error(s)"), t.tone(crate::report::Tone::Bad)));
                }
                if w > 0 {
                    spans.push(Span::styled(format!(" {w} warning(s)"), t.tone(crate::report::Tone::Warn)));
                }
            }
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
    }

    fn render_tabs(&self, frame: &mut Frame<'_>, area: Rect) {
        let t = self.theme;
        let mut spans = Vec::new();
        for (i, v) in self.views.iter().enumerate() {
            let id = v.id();
            let label = match v.badge() {
                Some(b) => format!(" {} {} {b} ", id.key(), id.name()),
                None => format!(" {} {} ", id.key(), id.name()),
            };
            let style = if i == self.active { t.selected() } else { Style::default() };
            spans.push(Span::styled(label, style));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
    }

    fn render_status(&self, frame: &mut Frame<'_>, area: Rect) {
        let t = self.theme;
        let line = match &self.input {
            Input::Palette(s) => {
                Line::from(vec![Span::styled(":", t.tone(crate::report::Tone::Accent)), Span::raw(s.clone()), Span::styled("█", Style::default())])
            }
            Input::Filter(s) => {
                Line::from(vec![Span::styled("/", t.tone(crate::report::Tone::Accent)), Span::raw(s.clone()), Span::styled("█", Style::default())])
            }
            Input::None => {
                let mut spans = vec![Span::raw(self.status.clone())];
                if !self.jobs_running.is_empty() {
                    const SPIN: [&str; 4] = ["⠋", "⠙", "⠹", "⠸"];
                    let names: Vec<&str> = self.jobs_running.iter().map(String::as_str).collect();
                    spans.insert(0, Span::styled(format!("{} {} · ", SPIN[(self.ticks % 4) as usize], names.join(", ")), t.tone(crate::report::Tone::Accent)));
                }
                Line::from(spans)
            }
        };
        frame.render_widget(Paragraph::new(line).style(t.bar()), area);
    }

    fn render_help(&self, frame: &mut Frame<'_>, body: Rect) {
        let t = self.theme;
        let view = &self.views[self.active];
        let mut lines = vec![Line::styled(format!("{} view", view.id().name()), t.tone(crate::report::Tone::Strong))];
        let row = |k: &str, h: &str| Line::from(vec![Span::styled(format!("  {k:<22}"), t.tone(crate::report::Tone::Accent)), Span::raw(h.to_string())]);
        for (k, h) in view.keys() {
            lines.push(row(k, h));
        }
        if !view.commands().is_empty() {
            lines.push(Line::styled("commands", t.tone(crate::report::Tone::Strong)));
            for (k, h) in view.commands() {
                lines.push(row(&format!(":{k}"), h));
            }
        }
        lines.push(Line::styled("everywhere", t.tone(crate::report::Tone::Strong)));
        for (k, h) in GLOBAL_KEYS {
            lines.push(row(k, h));
        }
        for (k, h) in APP_COMMANDS {
            lines.push(row(&format!(":{k}"), h));
        }
        lines.push(Line::styled("views (number key, :name or an alias)", t.tone(crate::report::Tone::Strong)));
        for v in ViewId::ALL {
            lines.push(row(&format!("{} :{}", v.key(), v.name()), &format!("also :{}", v.aliases().join(" :"))));
        }
        let height = (lines.len() as u16 + 2).min(body.height);
        let width = body.width.min(78);
        let area = Rect { x: body.x + (body.width - width) / 2, y: body.y, width, height };
        let inner = height.saturating_sub(2) as usize;
        let overflow = lines.len() > inner;
        let offset = self.help_offset.min(lines.len().saturating_sub(inner));
        frame.render_widget(Clear, area);
        let title = if overflow {
            format!(" keys {}-{}/{} — j/k scroll, esc closes ", offset + 1, offset + inner, lines.len())
        } else {
            " keys — esc closes ".to_string()
        };
        let block = Block::default().borders(Borders::ALL).border_style(t.border()).title(title);
        frame.render_widget(Paragraph::new(lines.into_iter().skip(offset).collect::<Vec<_>>()).block(block), area);
    }
}
