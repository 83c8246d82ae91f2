//! The terminal side: raw mode and the alternate screen (always restored — on quit, on error
//! and on panic), the input thread, the file watcher, the message loop, and suspending the UI
//! for `$EDITOR`.

use super::app::{App, Control, Options};
use super::jobs::Jobs;
use super::msg::Msg;
use super::pattern::Pattern;
use super::theme::Theme;
use crossterm::event::{self, DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::io::Stdout;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

/// How quiet the directory must stay before a change is validated: editors write a file in
/// several steps (truncate, write, rename), and one validation per save is enough.
pub const DEBOUNCE: Duration = Duration::from_millis(30);

/// Why the workbench could not start.
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    /// The path given is not a pattern.
    #[error(transparent)]
    Pattern(#[from] super::pattern::PatternError),
    /// The terminal could not be set up or drawn on.
    #[error("terminal: {0}")]
    Terminal(#[from] std::io::Error),
}

/// Restores the terminal: leaves raw mode, the alternate screen and mouse capture, shows the
/// cursor. Safe to call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(std::io::stdout(), DisableMouseCapture, LeaveAlternateScreen, crossterm::cursor::Show);
}

fn setup() -> std::io::Result<Terminal<CrosstermBackend<Stdout>>> {
    enable_raw_mode()?;
    let mut out = std::io::stdout();
    if let Err(e) = execute!(out, EnterAlternateScreen, EnableMouseCapture) {
        restore();
        return Err(e);
    }
    Terminal::new(CrosstermBackend::new(out))
}

/// The input thread's state: running, asked to pause (an editor owns the terminal), paused.
const RUN: u8 = 0;
const PAUSE: u8 = 1;
const PAUSED: u8 = 2;

/// Reads terminal events and sends them to the UI thread; pauses while an editor runs, so no
/// keystroke meant for the editor is taken.
fn spawn_input(tx: Sender<Msg>, state: Arc<AtomicU8>, stop: Arc<AtomicBool>) {
    let _ = std::thread::Builder::new().name("ork-input".into()).spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match state.load(Ordering::Acquire) {
                RUN => {}
                PAUSE | PAUSED => {
                    state.store(PAUSED, Ordering::Release);
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
                _ => {}
            }
            match event::poll(Duration::from_millis(50)) {
                Ok(true) => match event::read() {
                    Ok(e) => {
                        if tx.send(Msg::Input(e)).is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                },
                Ok(false) => {}
                Err(_) => return,
            }
        }
    });
}

/// Whether a changed path can matter to the pattern: not inside a hidden directory or
/// `target`, not an editor's swap or backup file.
fn relevant(dir: &Path, p: &Path) -> bool {
    let rel = p.strip_prefix(dir).unwrap_or(p);
    let hidden = rel.components().any(|c| {
        let s = c.as_os_str().to_string_lossy();
        (s.starts_with('.') && s != "." && s != "..") || s == "target"
    });
    let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let scratch = name.ends_with('~') || name.ends_with(".swp") || name.ends_with(".swx") || name == "4913" || name.starts_with(".#");
    !hidden && !scratch
}

/// Watches `dir` (recursively) and sends one [`Msg::FilesChanged`] per burst of changes, once
/// the directory has been quiet for [`DEBOUNCE`]. The returned watcher must be kept alive.
pub fn watch(dir: &Path, tx: Sender<Msg>) -> notify::Result<notify::RecommendedWatcher> {
    use notify::{EventKind, RecursiveMode, Watcher};
    let (raw_tx, raw_rx) = channel::<Vec<PathBuf>>();
    let root = dir.to_path_buf();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res
            && matches!(ev.kind, EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) | EventKind::Any)
        {
            let _ = raw_tx.send(ev.paths);
        }
    })?;
    watcher.watch(dir, RecursiveMode::Recursive)?;
    let _ = std::thread::Builder::new().name("ork-watch".into()).spawn(move || {
        loop {
            let Ok(first) = raw_rx.recv() else { return };
            let mut paths: Vec<PathBuf> = first.into_iter().filter(|p| relevant(&root, p)).collect();
            loop {
                match raw_rx.recv_timeout(DEBOUNCE) {
                    Ok(more) => paths.extend(more.into_iter().filter(|p| relevant(&root, p))),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
            if !paths.is_empty() {
                paths.sort();
                paths.dedup();
                if tx.send(Msg::FilesChanged(paths)).is_err() {
                    return;
                }
            }
        }
    });
    Ok(watcher)
}

/// Runs `$VISUAL` / `$EDITOR` (default `vi`) on `path` at `line`, with the terminal given
/// back to it; returns a line for the status bar.
fn edit(terminal: &mut Terminal<CrosstermBackend<Stdout>>, input: &AtomicU8, path: &Path, line: u32) -> String {
    input.store(PAUSE, Ordering::Release);
    let waited = Instant::now();
    while input.load(Ordering::Acquire) != PAUSED && waited.elapsed() < Duration::from_millis(500) {
        std::thread::sleep(Duration::from_millis(5));
    }
    restore();
    let set = |k: &str| std::env::var(k).ok().filter(|e| !e.trim().is_empty());
    let editor = set("VISUAL").or_else(|| set("EDITOR")).unwrap_or_else(|| "vi".into());
    let mut words = editor.split_whitespace();
    let program = words.next().unwrap_or("vi").to_string();
    let status = std::process::Command::new(&program).args(words).arg(format!("+{line}")).arg(path).status();
    let _ = enable_raw_mode();
    let _ = execute!(std::io::stdout(), EnterAlternateScreen, EnableMouseCapture);
    let _ = terminal.clear();
    input.store(RUN, Ordering::Release);
    match status {
        Ok(s) if s.success() => format!("edited {}", katalog::diag::display_path(path)),
        Ok(s) => format!("{program} exited with {s}"),
        Err(e) => format!("cannot run {program}: {e} (set $EDITOR)"),
    }
}

/// What `ork tui` was asked to open, and how.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    /// A pattern directory or a Katalog / Komposer file (default: the current directory).
    pub target: Option<PathBuf>,
    /// A deployed bundle for the RBAC view's plan.
    pub bundle: Option<PathBuf>,
    /// The application's options.
    pub options: Options,
    /// Draw the first frame, then quit (for measuring start-up).
    pub exit_after_first_frame: bool,
}

/// Opens the workbench and runs it until the user quits.
pub fn run(launch: Launch) -> Result<(), TuiError> {
    let pattern = Pattern::open(launch.target.as_deref(), launch.bundle.clone())?;
    let (tx, rx) = channel();
    let jobs = Jobs::new(tx.clone());
    let mut app = App::new(pattern, launch.options, jobs, Theme::from_env());
    app.start();
    // A panic anywhere must leave a usable terminal behind: restore first, then report.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
    let mut terminal = setup()?;
    let result = event_loop(&mut terminal, &mut app, tx, rx, launch.exit_after_first_frame);
    restore();
    let _ = std::panic::take_hook();
    result
}

fn event_loop(terminal: &mut Terminal<CrosstermBackend<Stdout>>, app: &mut App, tx: Sender<Msg>, rx: Receiver<Msg>, exit_early: bool) -> Result<(), TuiError> {
    // The first validation of a demo takes a few milliseconds: wait for it (briefly), so the
    // first frame already says whether the Katalog is valid.
    let deadline = Instant::now() + Duration::from_millis(100);
    while app.analysis().is_none() {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(m) => {
                let _ = app.update(m);
            }
            Err(_) => break,
        }
    }
    terminal.draw(|f| app.render(f))?;
    if exit_early {
        return Ok(());
    }
    let input = Arc::new(AtomicU8::new(RUN));
    let stop = Arc::new(AtomicBool::new(false));
    spawn_input(tx.clone(), input.clone(), stop.clone());
    let _watcher = match watch(&app.pattern().dir.clone(), tx.clone()) {
        Ok(w) => Some(w),
        Err(e) => {
            let _ = tx.send(Msg::Status(format!("cannot watch the directory ({e}): press :validate after a change")));
            None
        }
    };
    let result = (|| {
        loop {
            let msg = match rx.recv_timeout(Duration::from_millis(250)) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => Msg::Tick,
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            };
            let mut control = app.update(msg);
            // Everything that arrived meanwhile, then one frame.
            while control == Control::Continue {
                match rx.try_recv() {
                    Ok(m) => control = app.update(m),
                    Err(_) => break,
                }
            }
            match control {
                Control::Continue => {}
                Control::Quit => return Ok(()),
                Control::Edit(path, line) => {
                    let said = edit(terminal, &input, &path, line);
                    let _ = tx.send(Msg::Status(said));
                    let _ = tx.send(Msg::FilesChanged(vec![path]));
                }
            }
            terminal.draw(|f| app.render(f))?;
        }
    })();
    stop.store(true, Ordering::Relaxed);
    result
}
