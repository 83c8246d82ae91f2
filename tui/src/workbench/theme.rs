//! Colours: one place maps a report's [`Tone`] and the chrome's roles to ratatui styles, and
//! `NO_COLOR` turns every colour off (bold, dim and reverse stay, so the UI is still legible).

use crate::report::{Doc, Line as DocLine, Tone};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};

/// The styles of the workbench.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    /// Colours on (false under `NO_COLOR`).
    pub color: bool,
}

impl Theme {
    /// Colours unless `NO_COLOR` is set.
    pub fn from_env() -> Theme {
        Theme { color: std::env::var_os("NO_COLOR").is_none() }
    }

    /// The style of a tone.
    pub fn tone(&self, t: Tone) -> Style {
        let s = Style::default();
        match (t, self.color) {
            (Tone::Plain, _) => s,
            (Tone::Strong, _) => s.add_modifier(Modifier::BOLD),
            (Tone::Dim, _) => s.add_modifier(Modifier::DIM),
            (Tone::Good, true) => s.fg(Color::Green),
            (Tone::Bad, true) => s.fg(Color::Red),
            (Tone::Warn, true) => s.fg(Color::Yellow),
            (Tone::Accent, true) => s.fg(Color::Cyan),
            (Tone::Alarm, true) => s.fg(Color::Red).add_modifier(Modifier::BOLD),
            (Tone::Bad | Tone::Alarm, false) => s.add_modifier(Modifier::BOLD),
            (Tone::Good | Tone::Warn | Tone::Accent, false) => s,
        }
    }

    /// The selected row of a list or tree.
    pub fn selected(&self) -> Style {
        if self.color { Style::default().bg(Color::DarkGray).add_modifier(Modifier::BOLD) } else { Style::default().add_modifier(Modifier::REVERSED) }
    }

    /// The header and status bars.
    pub fn bar(&self) -> Style {
        if self.color { Style::default().bg(Color::Blue).fg(Color::White) } else { Style::default().add_modifier(Modifier::REVERSED) }
    }

    /// The border of the focused pane.
    pub fn border(&self) -> Style {
        if self.color { Style::default().fg(Color::Cyan) } else { Style::default() }
    }

    /// A report line as a ratatui line.
    pub fn line<'a>(&self, l: &'a DocLine) -> Line<'a> {
        Line::from(l.pieces.iter().map(|p| Span::styled(p.text.as_str(), self.tone(p.tone))).collect::<Vec<_>>())
    }

    /// A window of a report (`offset`, at most `height` lines) as ratatui text: only the
    /// visible lines are converted, so a long report costs nothing to scroll.
    pub fn window<'a>(&self, d: &'a Doc, offset: usize, height: usize) -> Text<'a> {
        Text::from(d.lines.iter().skip(offset).take(height).map(|l| self.line(l)).collect::<Vec<_>>())
    }
}

/// A YAML line in colour: keys accented, comments dimmed, list dashes dimmed, values plain.
/// (Line by line, so a 10,000-line document costs only its visible lines.)
pub fn yaml_spans<'a>(text: &'a str, t: &Theme) -> Vec<Span<'a>> {
    let indent = text.len() - text.trim_start().len();
    let (lead, mut rest) = text.split_at(indent);
    let mut spans = vec![Span::raw(lead)];
    if let Some(after) = rest.strip_prefix("- ") {
        spans.push(Span::styled("- ", t.tone(Tone::Dim)));
        rest = after;
    }
    if rest.starts_with('#') {
        spans.push(Span::styled(rest, t.tone(Tone::Dim)));
        return spans;
    }
    let quoted = rest.starts_with('"') || rest.starts_with('\'');
    let key_end = if quoted { None } else { rest.find(": ").map(|i| i + 1).or_else(|| rest.ends_with(':').then_some(rest.len())) };
    if let Some(end) = key_end {
        let (key, value) = rest.split_at(end);
        spans.push(Span::styled(key, t.tone(Tone::Accent)));
        rest = value;
    }
    match rest.find(" #") {
        Some(i) if !rest[..i].contains('"') && !rest[..i].contains('\'') => {
            spans.push(Span::raw(&rest[..i]));
            spans.push(Span::styled(&rest[i..], t.tone(Tone::Dim)));
        }
        _ => spans.push(Span::raw(rest)),
    }
    spans
}
