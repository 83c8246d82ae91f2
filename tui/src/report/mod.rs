//! Styled reports: what a command has to say, as lines of toned text, built once and shown two
//! ways — as text by the CLI ([`Doc::to_text`]: ANSI colours on a terminal unless `NO_COLOR`,
//! plain otherwise) and as ratatui text by the workbench (`workbench::theme`). A report is
//! built by one function; neither front end formats it again, so the CLI and the workbench
//! can never disagree about what a simulate run, a plan or a verdict says.

pub mod diff;
pub mod gate;
pub mod oci;
pub mod plan;
pub mod rbac;
pub mod simulate;
pub mod template;

use std::fmt::Write as _;

/// How a piece of text is meant: the front end picks the colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Tone {
    /// Ordinary text.
    #[default]
    Plain,
    /// A success: ✓, PASS, allowed.
    Good,
    /// A failure: ✗, FAIL, an error, a denial, a removed line.
    Bad,
    /// A warning, an escalation, something to look at.
    Warn,
    /// Secondary detail: positions, timings, hints.
    Dim,
    /// A heading or a name that matters.
    Strong,
    /// An added line, a key, a highlight.
    Accent,
    /// What must not be missed: a permission escalation.
    Alarm,
}

impl Tone {
    /// The ANSI SGR code of the tone (`None` for plain text).
    pub fn ansi(self) -> Option<&'static str> {
        match self {
            Tone::Plain => None,
            Tone::Good => Some("32"),
            Tone::Bad => Some("31"),
            Tone::Warn => Some("33"),
            Tone::Dim => Some("2"),
            Tone::Strong => Some("1"),
            Tone::Accent => Some("36"),
            Tone::Alarm => Some("1;31"),
        }
    }
}

/// A run of text with one tone.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Piece {
    /// How it is meant.
    pub tone: Tone,
    /// The text (no newline).
    pub text: String,
}

/// One line of a report: pieces side by side.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Line {
    /// The pieces, left to right.
    pub pieces: Vec<Piece>,
}

impl Line {
    /// An empty line.
    pub fn new() -> Line {
        Line::default()
    }

    /// A line of one plain piece.
    pub fn plain(text: impl Into<String>) -> Line {
        Line::toned(Tone::Plain, text)
    }

    /// A line of one piece with `tone`.
    pub fn toned(tone: Tone, text: impl Into<String>) -> Line {
        Line { pieces: vec![Piece { tone, text: text.into() }] }
    }

    /// Appends a piece with `tone` (builder style).
    pub fn with(mut self, tone: Tone, text: impl Into<String>) -> Line {
        self.push(tone, text);
        self
    }

    /// Appends a piece with `tone`.
    pub fn push(&mut self, tone: Tone, text: impl Into<String>) {
        let text = text.into();
        if text.is_empty() {
            return;
        }
        match self.pieces.last_mut() {
            Some(last) if last.tone == tone => last.text.push_str(&text),
            _ => self.pieces.push(Piece { tone, text }),
        }
    }

    /// The line without its tones.
    pub fn text(&self) -> String {
        self.pieces.iter().map(|p| p.text.as_str()).collect()
    }

    /// The line as text, each toned piece in its ANSI colour when `color`.
    pub fn to_text(&self, color: bool) -> String {
        let mut s = String::new();
        for p in &self.pieces {
            match p.tone.ansi() {
                Some(code) if color => {
                    let _ = write!(s, "\x1b[{code}m{}\x1b[0m", p.text);
                }
                _ => s.push_str(&p.text),
            }
        }
        s
    }
}

impl From<&str> for Line {
    fn from(s: &str) -> Line {
        Line::plain(s)
    }
}

impl From<String> for Line {
    fn from(s: String) -> Line {
        Line::plain(s)
    }
}

/// A report: lines, top to bottom.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Doc {
    /// The lines.
    pub lines: Vec<Line>,
}

impl Doc {
    /// An empty report.
    pub fn new() -> Doc {
        Doc::default()
    }

    /// Appends a line.
    pub fn push(&mut self, line: impl Into<Line>) {
        self.lines.push(line.into());
    }

    /// Appends a line of one piece with `tone`.
    pub fn toned(&mut self, tone: Tone, text: impl Into<String>) {
        self.lines.push(Line::toned(tone, text));
    }

    /// Appends every line of `other`.
    pub fn append(&mut self, other: Doc) {
        self.lines.extend(other.lines);
    }

    /// Appends each line of a multi-line plain text (a YAML document, a diff).
    pub fn push_text(&mut self, text: &str, tone: Tone) {
        for l in text.lines() {
            self.lines.push(Line::toned(tone, l));
        }
    }

    /// True when it has no lines.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The number of lines.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// The report as text, one `\n`-terminated line each, in ANSI colours when `color`.
    pub fn to_text(&self, color: bool) -> String {
        let mut s = String::new();
        for l in &self.lines {
            s.push_str(&l.to_text(color));
            s.push('\n');
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tones_become_ansi_only_when_colour_is_on() {
        let mut d = Doc::new();
        d.push(Line::plain("cycle 1: ").with(Tone::Good, "✓ steady"));
        assert_eq!(d.to_text(false), "cycle 1: ✓ steady\n");
        assert_eq!(d.to_text(true), "cycle 1: \x1b[32m✓ steady\x1b[0m\n");
    }

    #[test]
    fn pieces_of_one_tone_merge_and_empty_pieces_vanish() {
        let l = Line::plain("a").with(Tone::Plain, "b").with(Tone::Bad, "").with(Tone::Bad, "c");
        assert_eq!(l.pieces.len(), 2);
        assert_eq!(l.text(), "abc");
    }
}
