//! Driving the workbench without a terminal: the real [`App`] with its real background jobs,
//! keys typed as text, frames drawn on ratatui's `TestBackend` and read back as text. Used by
//! the views' snapshot tests and by the benchmarks (tui/benches/workbench.rs).

use super::app::{App, Control, Options};
use super::jobs::Jobs;
use super::msg::Msg;
use super::pattern::Pattern;
use super::theme::Theme;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// The workbench on a pattern, without a terminal.
pub struct Harness {
    /// The application.
    pub app: App,
    rx: Receiver<Msg>,
    /// What the last update asked of the terminal loop (quit, edit).
    pub control: Control,
}

impl Harness {
    /// Opens `target` (a pattern directory or Katalog file) with default options, colours off.
    pub fn open(target: &Path) -> Harness {
        Harness::with(target, None, Options { namespace: katalog::install::DEFAULT_NAMESPACE.to_string(), ..Options::default() })
    }

    /// Opens `target` with a bundle and options, colours off, and waits for the first
    /// validation. Panics when the pattern cannot be opened (tests and benchmarks only).
    pub fn with(target: &Path, bundle: Option<std::path::PathBuf>, options: Options) -> Harness {
        let pattern = Pattern::open(Some(target), bundle).unwrap_or_else(|e| panic!("{e}"));
        let (tx, rx) = channel();
        let mut app = App::new(pattern, options, Jobs::new(tx), Theme { color: false });
        app.start();
        let mut h = Harness { app, rx, control: Control::Continue };
        h.settle();
        h
    }

    /// Handles one message.
    pub fn send(&mut self, msg: Msg) -> &mut Harness {
        self.control = self.app.update(msg);
        self
    }

    /// Handles messages until no background work runs and nothing arrives for 30 ms (at
    /// most 60 s).
    pub fn settle(&mut self) -> &mut Harness {
        self.wait_until(Duration::from_secs(60), |app| !app.busy());
        self
    }

    /// Handles messages until `done` holds for the app and nothing arrives for 30 ms, or
    /// `timeout` passes; returns whether `done` held.
    pub fn wait_until(&mut self, timeout: Duration, done: impl Fn(&App) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            match self.rx.recv_timeout(Duration::from_millis(30)) {
                Ok(m) => {
                    self.control = self.app.update(m);
                }
                Err(RecvTimeoutError::Timeout) if done(&self.app) => return true,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return done(&self.app),
            }
            if Instant::now() > deadline {
                return done(&self.app);
            }
        }
    }

    /// Types `keys`: plain characters, and `<Enter>`, `<Esc>`, `<Tab>`, `<BackTab>`, `<Up>`,
    /// `<Down>`, `<Left>`, `<Right>`, `<PgUp>`, `<PgDn>`, `<Home>`, `<End>`, `<Backspace>`,
    /// `<Space>`, `<C-x>` (ctrl) for the others. Each key is handled before the next.
    pub fn keys(&mut self, keys: &str) -> &mut Harness {
        let mut rest = keys;
        while let Some(c) = rest.chars().next() {
            let (key, len) = if c == '<'
                && let Some(end) = rest.find('>')
                && end > 1
            {
                let name = &rest[1..end];
                let k = match name {
                    "Enter" => KeyEvent::from(KeyCode::Enter),
                    "Esc" => KeyEvent::from(KeyCode::Esc),
                    "Tab" => KeyEvent::from(KeyCode::Tab),
                    "BackTab" => KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT),
                    "Up" => KeyEvent::from(KeyCode::Up),
                    "Down" => KeyEvent::from(KeyCode::Down),
                    "Left" => KeyEvent::from(KeyCode::Left),
                    "Right" => KeyEvent::from(KeyCode::Right),
                    "PgUp" => KeyEvent::from(KeyCode::PageUp),
                    "PgDn" => KeyEvent::from(KeyCode::PageDown),
                    "Home" => KeyEvent::from(KeyCode::Home),
                    "End" => KeyEvent::from(KeyCode::End),
                    "Backspace" => KeyEvent::from(KeyCode::Backspace),
                    "Space" => KeyEvent::from(KeyCode::Char(' ')),
                    n if n.starts_with("C-") && n.len() == 3 => KeyEvent::new(KeyCode::Char(n.as_bytes()[2] as char), KeyModifiers::CONTROL),
                    other => panic!("unknown key <{other}>"),
                };
                (k, end + 1)
            } else {
                (KeyEvent::from(KeyCode::Char(c)), c.len_utf8())
            };
            rest = &rest[len..];
            self.control = self.app.update(Msg::Input(Event::Key(key)));
        }
        self
    }

    /// Draws one frame of `width` × `height` and returns it as text, one line per row,
    /// trailing spaces removed, every duration (`1.5 ms`, `12 ms`, `3s`) written as `N ms` / `Ns`
    /// (same width) so that snapshots do not depend on the machine's speed.
    pub fn render(&mut self, width: u16, height: u16) -> String {
        scrub_durations(&self.render_raw(width, height))
    }

    /// [`Harness::render`] with durations as measured.
    pub fn render_raw(&mut self, width: u16, height: u16) -> String {
        let mut terminal = match Terminal::new(TestBackend::new(width, height)) {
            Ok(t) => t,
            Err(e) => panic!("test terminal: {e}"),
        };
        if let Err(e) = terminal.draw(|f| self.app.render(f)) {
            panic!("draw: {e}");
        }
        let buf = terminal.backend().buffer();
        let mut out = String::new();
        for y in 0..buf.area.height {
            let mut line = String::new();
            for x in 0..buf.area.width {
                line.push_str(buf[(x, y)].symbol());
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// Draws one frame on `terminal` (for benchmarks that time drawing alone).
    pub fn draw(&mut self, terminal: &mut Terminal<TestBackend>) {
        if let Err(e) = terminal.draw(|f| self.app.render(f)) {
            panic!("draw: {e}");
        }
    }
}

/// Replaces each number directly followed by ` ms`, `ms`, `µs` or `s` and a non-letter with `N`.
/// A line where that happened and that ends in a border has the fill before the border (spaces,
/// or `─` in a title) cut to one, since the number's width changed it.
pub fn scrub_durations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let scrubbed = scrub_line(line);
        if scrubbed == line {
            out.push_str(line);
            continue;
        }
        let mut l = scrubbed;
        for (border, fill) in [('│', ' '), ('┐', '─'), ('┘', '─')] {
            if let Some(body) = l.strip_suffix(border) {
                l = format!("{}{fill}{border}", body.trim_end_matches(fill));
                break;
            }
        }
        out.push_str(&l);
    }
    out
}

fn scrub_line(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let starts_number = c.is_ascii_digit() && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '.'));
        if starts_number {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                j += 1;
            }
            let unit_at = if chars.get(j) == Some(&' ') { j + 1 } else { j };
            let rest: String = chars[unit_at..chars.len().min(unit_at + 3)].iter().collect();
            let unit = if rest.starts_with("ms") {
                Some(2)
            } else if rest.starts_with('s') || rest.starts_with("µs") {
                Some(if rest.starts_with('s') { 1 } else { 2 })
            } else {
                None
            };
            if let Some(n) = unit
                && !chars.get(unit_at + n).is_some_and(|c| c.is_alphanumeric())
            {
                out.push('N');
                out.extend(&chars[j..unit_at + n]);
                i = unit_at + n;
                continue;
            }
            out.extend(&chars[i..j]);
            i = j;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_are_scrubbed_and_other_numbers_kept() {
        assert_eq!(super::scrub_durations("validated in 1.0 ms, 12ms, 3s ago; 3 errors, v1, 60s"), "validated in N ms, Nms, Ns ago; 3 errors, v1, Ns");
        assert_eq!(super::scrub_durations("┌ ran in 12.5 ms ───┐\n│ took 3 ms      │\n│ 42 items  │"), "┌ ran in N ms ─┐\n│ took N ms │\n│ 42 items  │");
    }

    use super::*;

    fn demo(rel: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../demos").join(rel)
    }

    #[test]
    fn the_katalog_view_of_a_demo() {
        let mut h = Harness::open(&demo("beginner/hello-website"));
        insta::assert_snapshot!(h.render(100, 30));
    }

    #[test]
    fn number_keys_and_the_palette_switch_views_and_esc_goes_back() {
        let mut h = Harness::open(&demo("beginner/hello-website"));
        h.keys("2");
        assert_eq!(h.app.active(), super::super::view::ViewId::Problems);
        h.keys(":kat<Enter>");
        assert_eq!(h.app.active(), super::super::view::ViewId::Katalog);
        h.keys("<Esc>");
        assert_eq!(h.app.active(), super::super::view::ViewId::Problems);
        h.keys(":prob<Tab><Enter>");
        assert_eq!(h.app.active(), super::super::view::ViewId::Problems);
        h.keys(":nosuch<Enter>");
        assert!(h.app.status().contains("unknown command :nosuch"), "{}", h.app.status());
        h.keys("q");
        assert_eq!(h.control, Control::Quit);
    }

    #[test]
    fn help_lists_the_views_keys_and_the_global_ones_at_80_by_24() {
        let mut h = Harness::open(&demo("beginner/hello-website"));
        h.keys("?");
        insta::assert_snapshot!(h.render(80, 24));
        // Taller than the screen: it scrolls to its last line.
        h.keys("G");
        let end = h.render(80, 24);
        assert!(end.contains("7 :live") && end.contains(":cluster"), "{end}");
        h.keys("<Esc>");
        assert!(!h.render(80, 24).contains("esc closes"), "esc closes the help");
    }

    #[test]
    fn an_invalid_katalog_shows_its_problems_with_position_and_help() {
        let mut h = Harness::open(&demo("beginner/hello-website/invalid/katalog-typo.yaml"));
        h.keys("2");
        insta::assert_snapshot!(h.render(100, 16));
        // Enter on the problem reveals its node in the Katalog view.
        h.keys("<Enter>");
        assert_eq!(h.app.active(), super::super::view::ViewId::Katalog);
    }
}
