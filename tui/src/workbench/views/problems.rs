//! `:problems` — every diagnostic of the latest validation (the same report `ork validate`
//! prints), live: each row shows severity, file:line:col, code, message and help. Enter
//! reveals the node in the Katalog view (or opens the editor for another file); `e` opens
//! `$EDITOR` at the line.

use super::super::view::{Action, Ctx, KeyHelp, View, ViewId};
use super::super::widgets::{Cursor, NAV_KEYS, navigation};
use crate::report::Tone;
use crossterm::event::{KeyCode, KeyEvent};
use katalog::diag::{Diagnostic, display_path};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use std::path::PathBuf;

/// The Problems view.
#[derive(Default)]
pub struct Problems {
    rows: Vec<Row>,
    shown: Vec<usize>,
    filter: String,
    cursor: Cursor,
    height: usize,
    katalog: PathBuf,
    counts: (usize, usize),
}

/// One diagnostic, flattened for display.
struct Row {
    error: bool,
    file: Option<PathBuf>,
    at: String,
    line: u32,
    code: &'static str,
    message: String,
    help: Option<String>,
}

impl Row {
    fn of(d: &Diagnostic, dir: &std::path::Path) -> Row {
        let file = d.span.map(|s| s.file.path().to_path_buf());
        let at = match (&file, d.span) {
            (Some(f), Some(s)) => {
                let shown = f.strip_prefix(dir).map(|r| r.display().to_string()).unwrap_or_else(|_| display_path(f));
                if s.line > 0 { format!("{shown}:{}:{}", s.line, s.col) } else { shown }
            }
            _ => String::from("-"),
        };
        Row { error: d.is_error(), file, at, line: d.span.map(|s| s.line).unwrap_or(1).max(1), code: d.code, message: d.message.clone(), help: d.help.clone() }
    }

    fn text(&self) -> String {
        format!("{} {} {} {}", self.at, self.code, self.message, self.help.as_deref().unwrap_or("")).to_lowercase()
    }
}

const KEYS: &[KeyHelp] =
    &[("enter", "show the node in the Katalog view (other files: edit)"), ("e", "open $EDITOR at the line"), NAV_KEYS[0], NAV_KEYS[1], NAV_KEYS[2]];

impl Problems {
    fn refilter(&mut self) {
        let f = self.filter.to_lowercase();
        self.shown = (0..self.rows.len()).filter(|&i| f.is_empty() || self.rows[i].text().contains(&f)).collect();
    }

    fn selected(&self) -> Option<&Row> {
        self.shown.get(self.cursor.index).map(|&i| &self.rows[i])
    }
}

impl View for Problems {
    fn id(&self) -> ViewId {
        ViewId::Problems
    }

    fn keys(&self) -> &'static [KeyHelp] {
        KEYS
    }

    fn badge(&self) -> Option<String> {
        match self.counts {
            (0, 0) => None,
            (e, w) => Some(format!("{}", e + w)),
        }
    }

    fn on_analysis(&mut self, ctx: &Ctx<'_>) {
        let Some(a) = ctx.analysis else { return };
        self.katalog = a.pattern.katalog.clone();
        self.rows = a.report.diagnostics.iter().map(|d| Row::of(d, &a.pattern.dir)).collect();
        self.counts = a.counts();
        self.refilter();
    }

    fn set_filter(&mut self, filter: &str) {
        self.filter = filter.to_string();
        self.cursor = Cursor::default();
        self.refilter();
    }

    fn on_scroll(&mut self, delta: i32, _ctx: &Ctx<'_>) {
        self.cursor.apply(super::super::widgets::Move::By(delta as i64), self.shown.len(), self.height);
    }

    fn on_key(&mut self, key: KeyEvent, _ctx: &Ctx<'_>) -> Action {
        if let Some(m) = navigation(&key) {
            self.cursor.apply(m, self.shown.len(), self.height / 2);
            return Action::None;
        }
        match key.code {
            KeyCode::Enter | KeyCode::Char('e') => {
                let Some(row) = self.selected() else { return Action::Status("no problem selected".into()) };
                let file = row.file.clone().unwrap_or_else(|| self.katalog.clone());
                if key.code == KeyCode::Enter && file == self.katalog {
                    return Action::Run(format!("goto {}", row.line));
                }
                Action::Edit { path: file, line: row.line }
            }
            _ => Action::Ignored,
        }
    }

    fn render(&mut self, frame: &mut Frame<'_>, area: Rect, ctx: &Ctx<'_>) {
        let t = ctx.theme;
        let title = match ctx.analysis {
            None => " problems — validating… ".to_string(),
            Some(a) => {
                let (e, w) = a.counts();
                format!(" problems — {e} error(s), {w} warning(s) · validated in {:.1} ms ", a.took.as_secs_f64() * 1000.0)
            }
        };
        let block = Block::default().borders(Borders::ALL).border_style(t.border()).title(title);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if ctx.analysis.is_some() && self.rows.is_empty() {
            let ok = Line::from(Span::styled("✓ no problems: the Katalog is valid", t.tone(Tone::Good)));
            frame.render_widget(Paragraph::new(ok), inner);
            return;
        }
        // Two lines per problem: what and where, then the help.
        self.height = inner.height as usize;
        let per_page = (self.height / 2).max(1);
        let first = self.cursor.visible(self.shown.len(), per_page);
        let mut lines = Vec::new();
        for (n, &i) in self.shown.iter().enumerate().skip(first).take(per_page) {
            let r = &self.rows[i];
            let (icon, sev, tone) = if r.error { ("✗", "error", Tone::Bad) } else { ("!", "warning", Tone::Warn) };
            let mut spans = vec![
                Span::styled(format!("{icon} {sev:<7} "), t.tone(tone)),
                Span::styled(r.at.clone(), t.tone(Tone::Strong)),
                Span::styled(format!(" [{}] ", r.code), t.tone(Tone::Dim)),
                Span::raw(r.message.clone()),
            ];
            if n == self.cursor.index {
                for s in &mut spans {
                    s.style = s.style.patch(t.selected());
                }
            }
            lines.push(Line::from(spans));
            let help = r.help.as_deref().map(|h| format!("          help: {h}")).unwrap_or_default();
            lines.push(Line::from(Span::styled(help, t.tone(Tone::Dim))));
        }
        frame.render_widget(Paragraph::new(lines), inner);
    }
}
