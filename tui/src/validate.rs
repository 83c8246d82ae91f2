//! `ork validate`.

use crate::{Output, default_file, use_color};
use katalog::diag::{Diagnostic, display_path};
use katalog::load::{LoadOptions, load_file};
use katalog::validate::{Report, validate};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Arguments of `ork validate`.
#[derive(clap::Args)]
pub struct Args {
    /// Katalog, Komposer or Motif file (default: ./katalog.yaml, then ./komposer.yaml).
    #[arg(short = 'f', long = "file")]
    file: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
}

/// Runs the command; returns the exit code.
pub fn run(args: Args) -> u8 {
    let path = default_file(args.file);
    let loaded = load_file(&path, &LoadOptions::default());
    let report = validate(&loaded);
    let code = if loaded.unreadable() {
        2
    } else if report.is_valid() {
        0
    } else {
        1
    };
    match args.output {
        Output::Json => print_json(&path, &report),
        Output::Text => print_text(&path, &report),
    }
    code
}

fn print_json(path: &std::path::Path, r: &Report) {
    let diags: Vec<_> = r.diagnostics.iter().map(Diagnostic::to_json).collect();
    let doc = serde_json::json!({
        "schemaVersion": 1,
        "file": display_path(path),
        "kind": r.kind.map(|k| k.as_str()),
        "name": r.name,
        "valid": r.is_valid(),
        "errors": r.diagnostics.error_count(),
        "warnings": r.diagnostics.warning_count(),
        "crds": r.crds,
        "startupOrder": r.startup_order,
        "diagnostics": diags,
    });
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut out, &doc);
    let _ = writeln!(out);
}

fn paint(on: bool, code: &str, s: &str) -> String {
    if on { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() }
}

fn print_text(path: &std::path::Path, r: &Report) {
    let color_out = use_color(std::io::stdout().is_terminal());
    let color_err = use_color(std::io::stderr().is_terminal());
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();

    // Findings that belong to no CRD first, then per CRD (sorted by name).
    let general: Vec<&Diagnostic> = r.diagnostics.iter().filter(|d| d.crd.is_none()).collect();
    for d in &general {
        let _ = writeln!(err, "{}", render(d, color_err));
    }
    let kind = r.kind.map_or("document", |k| k.as_str());
    if let Some(name) = &r.name {
        let _ = writeln!(out, "{kind} {name} ({})", display_path(path));
    }
    for c in &r.crds {
        let mine: Vec<&Diagnostic> = r.diagnostics.iter().filter(|d| d.crd.as_deref() == Some(c.name.as_str())).collect();
        let failed = mine.iter().any(|d| d.is_error());
        let mark = if failed { paint(color_out, "31", "✗") } else { paint(color_out, "32", "✓") };
        let state = if c.enabled { "" } else { " (disabled)" };
        let deps = if c.depends_on.is_empty() { String::new() } else { format!(", dependsOn {}", c.depends_on.join(", ")) };
        let _ = writeln!(
            out,
            "{mark} {}{state}  {} {} ({})  children: {}, validation: {}, mutation: {}, status fields: {}{deps}",
            c.name, c.kind, c.group_version, c.plural, c.children, c.validation_rules, c.mutation_rules, c.status_fields
        );
        for d in mine {
            let _ = writeln!(err, "{}", render(d, color_err));
        }
    }
    if r.startup_order.len() > 1 {
        let _ = writeln!(out, "startup order: {}", r.startup_order.join(" → "));
    }
    let errors = r.diagnostics.error_count();
    let warnings = r.diagnostics.warning_count();
    let summary = if errors == 0 {
        paint(color_out, "32", &format!("✓ valid: {} CRD(s), {warnings} warning(s)", r.crds.len()))
    } else {
        paint(color_out, "31", &format!("✗ invalid: {errors} error(s), {warnings} warning(s)"))
    };
    let _ = writeln!(out, "{summary}");
}

fn render(d: &Diagnostic, color: bool) -> String {
    let text = d.to_string();
    if !color {
        return text;
    }
    let (sev, code) = if d.is_error() { ("error", "31") } else { ("warning", "33") };
    text.replacen(sev, &paint(true, code, sev), 1)
}

/// Loads and validates a Katalog for commands that need a valid one (`template`, `generate`).
/// Errors (and warnings) are printed to stderr; `Err` carries the exit code.
pub fn load_valid(path: &std::path::Path) -> Result<(katalog::model::katalog::Katalog, katalog::template::TemplateSet), u8> {
    let loaded = load_file(path, &LoadOptions::default());
    let report = validate(&loaded);
    let color = use_color(std::io::stderr().is_terminal());
    let mut err = std::io::stderr().lock();
    for d in report.diagnostics.iter().filter(|d| d.is_error()) {
        let _ = writeln!(err, "{}", render(d, color));
    }
    if loaded.unreadable() {
        return Err(2);
    }
    if !report.is_valid() {
        let _ = writeln!(err, "{}: invalid ({} error(s)); run `ork validate` for details", display_path(path), report.diagnostics.error_count());
        return Err(1);
    }
    match (loaded.katalog, report.templates) {
        (Some(k), Some(t)) => Ok((k, t)),
        _ => {
            let _ = writeln!(err, "{}: not a Katalog or Komposer (a Motif cannot be rendered on its own)", display_path(path));
            Err(1)
        }
    }
}
