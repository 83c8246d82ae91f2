//! The one place where `ork` prints: every report (as text, coloured on terminals unless
//! `NO_COLOR`, or as JSON) and every error, and the one mapping from errors to exit codes
//! (ARCHITECTURE.md §4): 0 ok; 1 invalid input or a failed check; 2 usage, missing file, I/O.
//! Results go to stdout, diagnostics and progress to stderr.

use super::{CliError, Outcome, Output};
use katalog::authoring::diff::Plan;
use katalog::authoring::generate::GenerateError;
use katalog::authoring::rbac::{Derivation, RuleSet};
use katalog::diag::{Diagnostic, display_path};
use katalog::load::DocKind;
use katalog::render::offline::{OfflineCr, OfflineError};
use katalog::valid::Invalid;
use katalog::validate::Report;
use serde_json::json;
use services::e2e::{CaseResult, DocRun, E2eError, Event, Reporter};
use services::run::InstallError;
use services::runtime::StartError;
use services::simulate::scaffold::{Scaffold, ScaffoldError};
use services::simulate::{FileRun, SimError};
use std::io::{IsTerminal, Write};
use std::path::Path;

mod e2e;
mod gate;
mod init;
mod plan;
mod simulate;
mod template;
mod validate;

pub use e2e::*;
pub use gate::*;
pub use init::*;
pub use plan::*;
pub use simulate::*;
pub use template::*;
pub use validate::*;

/// Colour only for terminals, and never with NO_COLOR.
pub fn use_color(stream_is_tty: bool) -> bool {
    stream_is_tty && std::env::var_os("NO_COLOR").is_none()
}

/// Whether stdout gets colour.
pub fn stdout_color() -> bool {
    use_color(std::io::stdout().is_terminal())
}

/// Whether stderr gets colour.
pub fn stderr_color() -> bool {
    use_color(std::io::stderr().is_terminal())
}

/// `s` in the ANSI colour `code` when `on`.
pub fn paint(on: bool, code: &str, s: &str) -> String {
    if on { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() }
}

/// A diagnostic as text, its severity coloured when `color`.
fn render(d: &Diagnostic, color: bool) -> String {
    let text = d.to_string();
    if !color {
        return text;
    }
    let (sev, code) = if d.is_error() { ("error", "31") } else { ("warning", "33") };
    text.replacen(sev, &paint(true, code, sev), 1)
}

/// A line on stderr.
pub fn eprint_line(s: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{s}");
}

/// A line on stdout.
pub fn print_line(s: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{s}");
}

/// `error: …` on stderr.
pub fn error_line(e: impl std::fmt::Display) {
    eprint_line(&format!("error: {e}"));
}

/// `warning: …` on stderr.
pub fn warning_line(w: impl std::fmt::Display) {
    eprint_line(&format!("warning: {w}"));
}

/// `note: …` on stderr.
pub fn note_line(n: impl std::fmt::Display) {
    eprint_line(&format!("note: {n}"));
}

/// The exit code of a command: its own when it ran to the end, else its error's (printed).
pub fn finish(result: Outcome) -> u8 {
    match result {
        Ok(code) => code,
        Err(e) => {
            print_error(&e);
            exit_code(&e)
        }
    }
}

/// The exit code for an error: 2 for usage, a missing or unreadable file, I/O, and a cluster or
/// port that cannot be used; 1 for invalid input and failed checks.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    if let Some(e) = e.downcast_ref::<CliError>() {
        return match e {
            CliError::Usage(_) | CliError::Read(_) | CliError::Write { .. } => 2,
            CliError::Invalid(_) => 1,
        };
    }
    if let Some(e) = e.downcast_ref::<Invalid>() {
        return if matches!(e, Invalid::Unreadable { .. }) { 2 } else { 1 };
    }
    if let Some(e) = e.downcast_ref::<SimError>() {
        return sim_code(e);
    }
    if let Some(e) = e.downcast_ref::<ScaffoldError>() {
        return match e {
            ScaffoldError::NoCrs(_) | ScaffoldError::Exists(_) => 2,
            ScaffoldError::Load(s) => sim_code(s),
            _ => 1,
        };
    }
    if let Some(e) = e.downcast_ref::<E2eError>() {
        return match e {
            E2eError::Invalid(_) => 1,
            E2eError::Io(_) | E2eError::Environment(_) => 2,
        };
    }
    if let Some(e) = e.downcast_ref::<GenerateError>() {
        return if e.is_usage() { 2 } else { 1 };
    }
    if let Some(e) = e.downcast_ref::<StartError>() {
        return match e {
            StartError::Setup(_) => 1,
            StartError::Listen { .. } => 2,
        };
    }
    if e.is::<OfflineError>() || e.is::<InstallError>() {
        return 1;
    }
    if let Some(e) = e.downcast_ref::<oci::OciError>() {
        return if e.is_invalid_input() { 1 } else { 2 };
    }
    // OptionsError, ClientError, I/O and the rest: the command line or the environment.
    2
}

fn sim_code(e: &SimError) -> u8 {
    match e {
        SimError::Io(_) => 2,
        SimError::Invalid(_) => 1,
    }
}

/// Prints an error to stderr the way its kind is shown: diagnostics one per finding (errors
/// only, coloured, for a Katalog that did not load), everything else as `error: …`.
pub fn print_error(e: &anyhow::Error) {
    let mut err = std::io::stderr().lock();
    if let Some(e) = e.downcast_ref::<Invalid>() {
        let color = stderr_color();
        for d in e.errors() {
            let _ = writeln!(err, "{}", render(d, color));
        }
        if !matches!(e, Invalid::Unreadable { .. }) {
            let _ = writeln!(err, "{e}");
        }
        return;
    }
    let sim = e.downcast_ref::<SimError>().or(match e.downcast_ref::<ScaffoldError>() {
        Some(ScaffoldError::Load(s)) => Some(s),
        _ => None,
    });
    if let Some(s) = sim {
        let _ = err.write_all(crate::report::simulate::sim_error_doc(s).to_text(false).as_bytes());
        return;
    }
    if let Some(E2eError::Invalid(d) | E2eError::Io(d)) = e.downcast_ref::<E2eError>() {
        for d in d.iter() {
            let _ = writeln!(err, "{d}");
        }
        return;
    }
    if let Some(CliError::Read(d)) = e.downcast_ref::<CliError>() {
        let _ = writeln!(err, "{d}");
        return;
    }
    let _ = writeln!(err, "error: {e}");
}

/// Writes `text` to stdout (`out` is `None`) or atomically to `out`.
pub fn write_out(out: Option<&Path>, text: &str) -> Result<(), CliError> {
    match out {
        None => {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            Ok(())
        }
        Some(out) => services::files::write_atomic(out, text.as_bytes()).map_err(|source| CliError::Write { path: out.to_path_buf(), source }),
    }
}

/// Prints a report to stdout (coloured on a terminal).
pub fn print_doc(doc: &crate::report::Doc) {
    let _ = std::io::stdout().lock().write_all(doc.to_text(stdout_color()).as_bytes());
}

/// Prints a value as pretty JSON to stdout, newline-terminated.
pub fn print_json(value: &impl serde::Serialize) {
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut out, value);
    let _ = out.write_all(b"\n");
}
