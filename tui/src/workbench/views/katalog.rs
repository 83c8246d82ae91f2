//! `:katalog` — the Katalog file as a tree (CRD → operatorBox sections → entries; any mapping
//! or list that holds more), and the selected node's YAML with its file:line. Built from the
//! file as parsed, so the tree stays while the Katalog is invalid; rows with a problem are
//! marked. `e` opens `$EDITOR` at the node's line (the file is validated again on return).

use super::super::analysis::Analysis;
use super::super::theme::yaml_spans;
use super::super::view::{Action, Ctx, KeyHelp, View, ViewId};
use super::super::widgets::{Cursor, Move, NAV_KEYS, navigation};
use crate::report::Tone;
use crossterm::event::{KeyCode, KeyEvent};
use katalog::yaml::{Node, Value};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// One node of the tree, in pre-order.
#[derive(Debug, Clone)]
struct Item {
    /// Its YAML path (`spec.crds.website.operatorBox`), the key that keeps it selected and
    /// expanded across validations.
    path: String,
    depth: usize,
    label: String,
    /// Its detail (the entry's kind of content, a scalar's value).
    detail: String,
    /// First and last line of its YAML (1-based).
    line: u32,
    end: u32,
    /// Whether it has children.
    branch: bool,
}

/// The Katalog view.
#[derive(Default)]
pub struct KatalogView {
    items: Vec<Item>,
    expanded: BTreeSet<String>,
    collapsed: BTreeSet<String>,
    visible: Vec<usize>,
    cursor: Cursor,
    height: usize,
    filter: String,
    file: PathBuf,
    shown_file: String,
    lines: Vec<String>,
    /// Lines with an error (true) or a warning (false).
    problems: BTreeMap<u32, bool>,
    yaml_only: bool,
    yaml_offset: usize,
    generation: u64,
}

const KEYS: &[KeyHelp] = &[
    ("enter space l/→", "expand / collapse"),
    ("h/←", "collapse, or go to the parent"),
    ("e", "open $EDITOR at the node's line"),
    ("y", "the node's YAML full screen (again: back)"),
    ("J/K", "scroll the YAML"),
    NAV_KEYS[0],
    NAV_KEYS[1],
    NAV_KEYS[2],
];

const COMMANDS: &[KeyHelp] = &[("goto LINE", "select the node at a line of the Katalog file")];

/// A short label for a list item: its name, else its path, else `[i]`.
fn item_label(n: &Node, i: usize) -> String {
    for k in ["name", "path", "field", "kind", "id"] {
        if let Some(v) = n.get(k).and_then(Node::as_scalar_text) {
            return v.to_string();
        }
    }
    format!("[{i}]")
}

fn last_line(n: &Node) -> u32 {
    match &n.value {
        Value::Map(m) => m.iter().map(|(k, v)| last_line(k).max(last_line(v))).max().unwrap_or(n.span.line),
        Value::Seq(s) => s.iter().map(last_line).max().unwrap_or(n.span.line),
        _ => n.span.line,
    }
}

/// What a collapsed node holds, in a few words.
fn summary(n: &Node) -> String {
    match &n.value {
        Value::Map(m) => format!("{} key(s)", m.len()),
        Value::Seq(s) => format!("{} item(s)", s.len()),
        _ => {
            let t = n.as_scalar_text().unwrap_or_default().replace('\n', " ");
            if t.chars().count() > 48 { format!("{}…", t.chars().take(47).collect::<String>()) } else { t }
        }
    }
}

fn walk(n: &Node, path: &str, depth: usize, key_line: u32, label: String, out: &mut Vec<Item>) {
    let branch = matches!(&n.value, Value::Map(m) if !m.is_empty()) || matches!(&n.value, Value::Seq(s) if !s.is_empty());
    let line = key_line.min(n.span.line).max(1);
    out.push(Item { path: path.to_string(), depth, label, detail: summary(n), line, end: last_line(n).max(line), branch });
    match &n.value {
        Value::Map(m) => {
            for (k, v) in m {
                let key = k.as_scalar_text().unwrap_or("?").to_string();
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                walk(v, &child, depth + 1, k.span.line, key, out);
            }
        }
        Value::Seq(s) => {
            for (i, v) in s.iter().enumerate() {
                walk(v, &format!("{path}[{i}]"), depth + 1, v.span.line, item_label(v, i), out);
            }
        }
        _ => {}
    }
}

/// Whether a node starts expanded: the document, `spec`, `crds`, each CRD, its operatorBox
/// and the operatorBox's sections — down to the entries.
fn open_by_default(path: &str) -> bool {
    let parts: Vec<&str> = path.split('.').collect();
    matches!(
        parts.as_slice(),
        [""] | ["spec"]
            | ["spec", "crds"]
            | ["spec", "crds", _]
            | ["spec", "crds", _, "operatorBox"]
            | ["spec", "crds", _, "operatorBox", _]
            | ["spec", "crds", _, "operatorBox", _, _]
    )
}

impl KatalogView {
    fn rebuild(&mut self, a: &Analysis) {
        let selected = self.selected().map(|i| i.path.clone());
        self.items.clear();
        for (d, doc) in a.source.iter().enumerate() {
            let kind = doc.get("kind").and_then(Node::as_str).unwrap_or("document").to_string();
            let name = doc.get("metadata").and_then(|m| m.get("name")).and_then(Node::as_str).unwrap_or("").to_string();
            let label = format!("{kind} {name}").trim().to_string();
            let root = if a.source.len() > 1 { format!("#{d}") } else { String::new() };
            walk(doc, &root, 0, doc.span.line, label, &mut self.items);
        }
        self.file = a.pattern.katalog.clone();
        self.shown_file = a.pattern.shown(&a.pattern.katalog);
        self.lines = a.lines.clone();
        self.problems.clear();
        for d in a.report.diagnostics.iter() {
            if let Some(s) = d.span
                && *s.file.path() == *self.file
            {
                let e = self.problems.entry(s.line).or_insert(false);
                *e |= d.is_error();
            }
        }
        self.refresh();
        if let Some(p) = selected {
            self.select_path(&p);
        }
    }

    fn is_open(&self, it: &Item) -> bool {
        !self.collapsed.contains(&it.path) && (self.expanded.contains(&it.path) || open_by_default(&it.path) || !self.filter.is_empty())
    }

    fn refresh(&mut self) {
        self.visible.clear();
        let f = self.filter.to_lowercase();
        let mut skip_deeper_than: Option<usize> = None;
        for (i, it) in self.items.iter().enumerate() {
            if let Some(d) = skip_deeper_than {
                if it.depth > d {
                    continue;
                }
                skip_deeper_than = None;
            }
            if f.is_empty() || it.path.to_lowercase().contains(&f) || it.label.to_lowercase().contains(&f) {
                self.visible.push(i);
            }
            if it.branch && !self.is_open(it) {
                skip_deeper_than = Some(it.depth);
            }
        }
    }

    fn selected(&self) -> Option<&Item> {
        self.visible.get(self.cursor.index).map(|&i| &self.items[i])
    }

    fn select_path(&mut self, path: &str) {
        if let Some(pos) = self.visible.iter().position(|&i| self.items[i].path == path) {
            self.cursor.index = pos;
        }
    }

    /// Selects the deepest node whose lines contain `line`, opening its ancestors.
    fn goto(&mut self, line: u32) -> bool {
        let best = self.items.iter().enumerate().filter(|(_, it)| it.line <= line && line <= it.end).max_by_key(|(_, it)| (it.depth, it.line)).map(|(i, _)| i);
        let Some(best) = best else { return false };
        let path = self.items[best].path.clone();
        for it in &self.items {
            if it.branch && path.starts_with(&it.path) && it.path != path {
                self.collapsed.remove(&it.path);
                self.expanded.insert(it.path.clone());
            }
        }
        self.refresh();
        self.select_path(&path);
        self.yaml_offset = 0;
        true
    }

    fn toggle(&mut self, open: Option<bool>) {
        let Some(it) = self.selected().cloned() else { return };
        if !it.branch {
            return;
        }
        let now = self.is_open(&it);
        let want = open.unwrap_or(!now);
        if want {
            self.collapsed.remove(&it.path);
            self.expanded.insert(it.path.clone());
        } else {
            self.expanded.remove(&it.path);
            self.collapsed.insert(it.path.clone());
        }
        self.refresh();
        self.select_path(&it.path);
    }

    fn parent(&mut self) {
        let Some(pos) = self.visible.get(self.cursor.index).copied() else { return };
        let depth = self.items[pos].depth;
        if let Some(p) = (0..pos).rev().find(|&j| self.items[j].depth < depth) {
            let path = self.items[p].path.clone();
            self.select_path(&path);
        }
    }

    fn render_yaml(&self, frame: &mut Frame<'_>, area: Rect, ctx: &Ctx<'_>) {
        let t = ctx.theme;
        let Some(it) = self.selected() else {
            frame.render_widget(Block::default().borders(Borders::ALL).title(" yaml "), area);
            return;
        };
        let title = format!(" {}:{} ", self.shown_file, it.line);
        let height = area.height.saturating_sub(2) as usize;
        let from = it.line as usize + self.yaml_offset;
        let to = it.end as usize;
        let mut lines = Vec::new();
        for n in from..=to {
            if lines.len() >= height {
                break;
            }
            let Some(text) = self.lines.get(n - 1) else { break };
            let mark = match self.problems.get(&(n as u32)) {
                Some(true) => Span::styled("✗", t.tone(Tone::Bad)),
                Some(false) => Span::styled("!", t.tone(Tone::Warn)),
                None => Span::raw(" "),
            };
            let mut spans = vec![Span::styled(format!("{n:>4} "), t.tone(Tone::Dim)), mark, Span::raw(" ")];
            spans.extend(yaml_spans(text, &t));
            lines.push(Line::from(spans));
        }
        let block = Block::default().borders(Borders::ALL).border_style(t.border()).title(title);
        frame.render_widget(Paragraph::new(lines).block(block), area);
    }
}

impl View for KatalogView {
    fn id(&self) -> ViewId {
        ViewId::Katalog
    }

    fn keys(&self) -> &'static [KeyHelp] {
        KEYS
    }

    fn commands(&self) -> &'static [KeyHelp] {
        COMMANDS
    }

    fn on_analysis(&mut self, ctx: &Ctx<'_>) {
        if let Some(a) = ctx.analysis
            && a.generation != self.generation
        {
            self.generation = a.generation;
            self.rebuild(a);
        }
    }

    fn set_filter(&mut self, filter: &str) {
        self.filter = filter.to_string();
        self.cursor = Cursor::default();
        self.refresh();
    }

    fn on_scroll(&mut self, delta: i32, _ctx: &Ctx<'_>) {
        self.cursor.apply(Move::By(delta as i64), self.visible.len(), self.height);
    }

    fn on_command(&mut self, command: &str, arg: &str, _ctx: &Ctx<'_>) -> Option<Action> {
        if command != "goto" {
            return None;
        }
        Some(match arg.trim().parse::<u32>() {
            Ok(line) if self.goto(line) => Action::Switch(ViewId::Katalog),
            Ok(line) => Action::Status(format!("no node at line {line}")),
            Err(_) => Action::Status("usage: :goto LINE".into()),
        })
    }

    fn on_key(&mut self, key: KeyEvent, _ctx: &Ctx<'_>) -> Action {
        if let Some(m) = navigation(&key) {
            self.cursor.apply(m, self.visible.len(), self.height);
            self.yaml_offset = 0;
            return Action::None;
        }
        match key.code {
            KeyCode::Enter | KeyCode::Char(' ') => self.toggle(None),
            KeyCode::Char('l') | KeyCode::Right => self.toggle(Some(true)),
            KeyCode::Char('h') | KeyCode::Left => {
                let open = self.selected().is_some_and(|it| it.branch && self.is_open(it));
                if open { self.toggle(Some(false)) } else { self.parent() }
            }
            KeyCode::Char('y') => self.yaml_only = !self.yaml_only,
            KeyCode::Char('J') => self.yaml_offset += 1,
            KeyCode::Char('K') => self.yaml_offset = self.yaml_offset.saturating_sub(1),
            KeyCode::Char('e') => {
                let line = self.selected().map(|i| i.line).unwrap_or(1);
                return Action::Edit { path: self.file.clone(), line };
            }
            _ => return Action::Ignored,
        }
        Action::None
    }

    fn render(&mut self, frame: &mut Frame<'_>, area: Rect, ctx: &Ctx<'_>) {
        let t = ctx.theme;
        if self.yaml_only {
            self.render_yaml(frame, area, ctx);
            return;
        }
        let [left, right] = if area.width >= 100 {
            Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(area)
        } else {
            Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area)
        };
        self.height = left.height.saturating_sub(2) as usize;
        let first = self.cursor.visible(self.visible.len(), self.height);
        let mut lines = Vec::new();
        for (n, &i) in self.visible.iter().enumerate().skip(first).take(self.height) {
            let it = &self.items[i];
            let icon = if !it.branch {
                " "
            } else if self.is_open(it) {
                "▾"
            } else {
                "▸"
            };
            let mark = (it.line..=it.end).filter_map(|l| self.problems.get(&l)).fold(None, |acc: Option<bool>, e| Some(acc.unwrap_or(false) | e));
            let mut spans = vec![
                Span::raw(format!("{}{icon} ", "  ".repeat(it.depth))),
                Span::styled(it.label.clone(), t.tone(if it.depth <= 3 { Tone::Strong } else { Tone::Plain })),
            ];
            if !it.branch || !self.is_open(it) {
                spans.push(Span::styled(format!("  {}", it.detail), t.tone(Tone::Dim)));
            }
            match mark {
                Some(true) => spans.push(Span::styled("  ✗", t.tone(Tone::Bad))),
                Some(false) => spans.push(Span::styled("  !", t.tone(Tone::Warn))),
                None => {}
            }
            if n == self.cursor.index {
                for s in &mut spans {
                    s.style = s.style.patch(t.selected());
                }
            }
            lines.push(Line::from(spans));
        }
        let title = format!(" {} ", self.shown_file);
        let block = Block::default().borders(Borders::ALL).border_style(t.border()).title(title);
        if self.items.is_empty() {
            let msg = if ctx.analysis.is_none() { "reading…" } else { "the file does not parse as YAML: see :problems" };
            frame.render_widget(Paragraph::new(Span::styled(msg, t.tone(Tone::Dim))).block(block), left);
        } else {
            frame.render_widget(Paragraph::new(lines).block(block), left);
        }
        self.render_yaml(frame, right, ctx);
    }
}
