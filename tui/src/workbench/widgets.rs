//! Building blocks shared by the views: a scrollable report pane ([`DocPane`]) and a list
//! cursor ([`Cursor`]), both with the workbench's navigation keys (j/k, arrows, PgUp/PgDn,
//! g/G, Home/End) and the `/` filter. Drawing converts only the visible lines, so a
//! 10,000-line report scrolls at the cost of one screen.

use super::theme::Theme;
use crate::report::Doc;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// How a navigation key moves a cursor or a scroll position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// By lines (negative: up).
    By(i64),
    /// By pages (negative: up).
    Pages(i64),
    /// To the first line.
    Top,
    /// To the last line.
    Bottom,
}

/// The navigation meaning of a key, if it has one.
pub fn navigation(key: &KeyEvent) -> Option<Move> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char('j') | KeyCode::Down => Move::By(1),
        KeyCode::Char('k') | KeyCode::Up => Move::By(-1),
        KeyCode::PageDown => Move::Pages(1),
        KeyCode::PageUp => Move::Pages(-1),
        KeyCode::Char('d') if ctrl => Move::Pages(1),
        KeyCode::Char('u') if ctrl => Move::Pages(-1),
        KeyCode::Char('g') | KeyCode::Home => Move::Top,
        KeyCode::Char('G') | KeyCode::End => Move::Bottom,
        _ => return None,
    })
}

/// The navigation keys, for `?`.
pub const NAV_KEYS: &[(&str, &str)] = &[("j/k ↑/↓", "move"), ("PgUp/PgDn ctrl-u/d", "page"), ("g/G Home/End", "first / last")];

/// A selected row among `len` rows, kept visible in a window of `height` rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    /// The selected row.
    pub index: usize,
    /// The first visible row.
    pub offset: usize,
}

impl Cursor {
    /// Applies a move over `len` rows with a page of `page` rows.
    pub fn apply(&mut self, m: Move, len: usize, page: usize) {
        if len == 0 {
            *self = Cursor::default();
            return;
        }
        let last = len - 1;
        let page = page.max(1) as i64;
        self.index = match m {
            Move::By(d) => (self.index as i64 + d).clamp(0, last as i64) as usize,
            Move::Pages(p) => (self.index as i64 + p * page).clamp(0, last as i64) as usize,
            Move::Top => 0,
            Move::Bottom => last,
        };
    }

    /// Keeps the cursor within `len` rows and visible in `height` rows; returns the first
    /// visible row.
    pub fn visible(&mut self, len: usize, height: usize) -> usize {
        if len == 0 {
            *self = Cursor::default();
            return 0;
        }
        self.index = self.index.min(len - 1);
        let height = height.max(1);
        if self.index < self.offset {
            self.offset = self.index;
        } else if self.index >= self.offset + height {
            self.offset = self.index + 1 - height;
        }
        self.offset = self.offset.min(len.saturating_sub(height));
        self.offset
    }
}

/// A report in a bordered pane that scrolls, with an optional filter that keeps only the lines
/// containing it (case-insensitive).
#[derive(Debug, Default)]
pub struct DocPane {
    doc: Doc,
    /// Indices of the lines shown (all of them without a filter).
    shown: Vec<usize>,
    filter: String,
    offset: usize,
    height: usize,
    /// Plain lines are drawn as YAML (keys, comments, dashes told apart).
    yaml: bool,
}

impl DocPane {
    /// A pane that draws its plain lines as highlighted YAML (a rendered manifest).
    pub fn yaml() -> DocPane {
        DocPane { yaml: true, ..DocPane::default() }
    }

    /// A pane showing `doc`.
    pub fn new(doc: Doc) -> DocPane {
        let mut p = DocPane::default();
        p.set_doc(doc);
        p
    }

    /// The report shown.
    pub fn doc(&self) -> &Doc {
        &self.doc
    }

    /// Replaces the report, keeping the scroll position where it still fits.
    pub fn set_doc(&mut self, doc: Doc) {
        self.doc = doc;
        self.refilter();
    }

    /// Keeps only lines containing `filter` (case-insensitive; empty: all).
    pub fn set_filter(&mut self, filter: &str) {
        self.filter = filter.to_lowercase();
        self.offset = 0;
        self.refilter();
    }

    fn refilter(&mut self) {
        self.shown = if self.filter.is_empty() {
            (0..self.doc.lines.len()).collect()
        } else {
            self.doc.lines.iter().enumerate().filter(|(_, l)| l.text().to_lowercase().contains(&self.filter)).map(|(i, _)| i).collect()
        };
        self.offset = self.offset.min(self.shown.len().saturating_sub(1));
    }

    /// The first line shown.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The report line on top.
    pub fn top(&self) -> usize {
        self.shown.get(self.offset).copied().unwrap_or(0)
    }

    /// Scrolls so that report line `line` (or the first shown one after it) is on top.
    pub fn scroll_to(&mut self, line: usize) {
        let max = self.shown.len().saturating_sub(self.height.max(1));
        self.offset = self.shown.partition_point(|&i| i < line).min(max);
    }

    /// Scrolls by a navigation move; returns true when the key was a navigation key.
    pub fn on_key(&mut self, key: &KeyEvent) -> bool {
        match navigation(key) {
            Some(m) => {
                self.apply(m);
                true
            }
            None => false,
        }
    }

    /// Scrolls by a move.
    pub fn apply(&mut self, m: Move) {
        let max = self.shown.len().saturating_sub(self.height.max(1));
        let page = self.height.max(1) as i64;
        self.offset = match m {
            Move::By(d) => (self.offset as i64 + d).clamp(0, max as i64) as usize,
            Move::Pages(p) => (self.offset as i64 + p * page).clamp(0, max as i64) as usize,
            Move::Top => 0,
            Move::Bottom => max,
        };
    }

    /// Draws the pane with `title` (and, when the report is longer than the pane, the
    /// position in it).
    pub fn render(&mut self, frame: &mut Frame<'_>, area: Rect, theme: &Theme, title: &str) {
        self.height = area.height.saturating_sub(2) as usize;
        let max = self.shown.len().saturating_sub(self.height.max(1));
        self.offset = self.offset.min(max);
        let lines: Vec<Line<'_>> = self.shown.iter().skip(self.offset).take(self.height).map(|&i| draw_line(&self.doc.lines[i], theme, self.yaml)).collect();
        let mut block = Block::default().borders(Borders::ALL).border_style(theme.border()).title(Span::raw(format!(" {title} ")));
        if self.shown.len() > self.height {
            let pos = format!(" {}-{}/{} ", self.offset + 1, (self.offset + self.height).min(self.shown.len()), self.shown.len());
            block = block.title_bottom(Line::from(pos).right_aligned());
        }
        if !self.filter.is_empty() {
            block = block.title_bottom(Line::from(format!(" /{} ", self.filter)).left_aligned());
        }
        frame.render_widget(Paragraph::new(lines).block(block), area);
    }
}

/// A report line as drawn: a plain line of a YAML pane highlighted, anything else by its tones.
fn draw_line<'a>(l: &'a crate::report::Line, theme: &Theme, yaml: bool) -> Line<'a> {
    match l.pieces.as_slice() {
        [p] if yaml && p.tone == crate::report::Tone::Plain => Line::from(super::theme::yaml_spans(&p.text, theme)),
        _ => theme.line(l),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_stays_in_range_and_in_view() {
        let mut c = Cursor::default();
        c.apply(Move::By(-3), 10, 4);
        assert_eq!(c.index, 0);
        c.apply(Move::Pages(2), 10, 4);
        assert_eq!(c.index, 8);
        assert_eq!(c.visible(10, 4), 5);
        c.apply(Move::Bottom, 10, 4);
        assert_eq!((c.index, c.visible(10, 4)), (9, 6));
        assert_eq!(c.visible(3, 4), 0);
        assert_eq!(c.index, 2);
    }

    #[test]
    fn a_filter_keeps_matching_lines_only() {
        let mut d = Doc::new();
        for l in ["kind: Deployment", "kind: Service", "name: web"] {
            d.push(l);
        }
        let mut p = DocPane::new(d);
        p.set_filter("KIND");
        assert_eq!(p.shown, [0, 1]);
        p.set_filter("");
        assert_eq!(p.shown.len(), 3);
    }
}
