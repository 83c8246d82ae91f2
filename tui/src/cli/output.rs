//! The one place where `ork` prints: every report (as text, coloured on terminals unless
//! `NO_COLOR`, or as JSON) and every error, and the one mapping from errors to exit codes
//! (ARCHITECTURE.md §4): 0 ok; 1 invalid input or a failed check; 2 usage, missing file, I/O.
//! Results go to stdout, diagnostics and progress to stderr.

use super::{CliError, Outcome, Output};
use katalog::authoring::diff::{FieldChange, Grant, Plan};
use katalog::authoring::generate::GenerateError;
use katalog::authoring::rbac::{Derivation, Rule, RuleSet, Scope, Verb};
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
use services::simulate::{CrdRun, FileRun, SimError};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::Path;

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
            StartError::Katalog(_) | StartError::Setup(_) => 1,
            StartError::Listen { .. } => 2,
        };
    }
    if e.is::<OfflineError>() || e.is::<InstallError>() {
        return 1;
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
        for d in s.diagnostics().iter() {
            let _ = writeln!(err, "{d}");
        }
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

// ---- ork init ----

/// `ork init --list`: the packs, one a line.
pub fn pack_list(packs: &[crate::packs::Pack]) {
    let mut out = std::io::stdout().lock();
    for p in packs {
        let first = p.examples.first().map(String::as_str).unwrap_or("");
        let _ = writeln!(out, "{:<14} {}  (start with: {first})", p.name, p.description);
    }
}

/// What `ork init` wrote, and where to start.
pub fn pack_written(pack: &crate::packs::Pack, files: usize, target: &Path) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "wrote pack `{}` ({files} files) into {}", pack.name, target.display());
    for ex in &pack.examples {
        let _ = writeln!(out, "  {}", target.join(ex).display());
    }
    if let Some(first) = pack.examples.first() {
        let _ = writeln!(out, "next: cd {} && ork validate", target.join(first).display());
    }
}

// ---- ork validate ----

fn rules_json(rules: &RuleSet) -> serde_json::Value {
    let rules: Vec<_> = rules
        .rules
        .iter()
        .map(|r| {
            let mut m = serde_json::json!({
                "scope": r.key.scope,
                "apiGroup": r.key.api_group,
                "resource": r.key.resource,
                "verbs": r.verb_list(),
                "reasons": r.reasons().iter().map(|(why, verbs)| {
                    let mut o = serde_json::json!({"reason": why.what, "verbs": verbs});
                    if let Some(c) = &why.crd {
                        o["crd"] = serde_json::json!(c);
                    }
                    o
                }).collect::<Vec<_>>(),
            });
            if let Some(n) = &r.key.resource_name {
                m["resourceName"] = serde_json::json!(n);
            }
            m
        })
        .collect();
    serde_json::Value::Array(rules)
}

fn permissions_json(d: &Derivation, r: &Report) -> serde_json::Value {
    let crds: serde_json::Map<String, serde_json::Value> = d
        .crds
        .iter()
        .map(|(name, p)| {
            let profiles = r.crds.iter().find(|c| &c.name == name).map(|c| c.profiles.clone()).unwrap_or_default();
            (name.clone(), serde_json::json!({"runtime": rules_json(&p.runtime), "gateway": rules_json(&p.gateway), "profiles": profiles}))
        })
        .collect();
    serde_json::json!({
        "namespace": d.namespace,
        "crds": crds,
        "runtime": rules_json(&d.runtime),
        "gateway": rules_json(&d.gateway),
        "gatewayFeatures": d.gateway_features,
        "warnings": d.warnings,
    })
}

/// `ork validate`'s report: the findings, the CRD summaries and, with `--full`, the permissions.
pub fn validate_report(output: Output, path: &Path, r: &Report, derived: Option<&Derivation>) {
    match output {
        Output::Json => validate_json(path, r, derived),
        Output::Text => validate_text(path, r, derived),
    }
}

fn validate_json(path: &Path, r: &Report, derived: Option<&Derivation>) {
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
        "opRules": r.op_rules,
        "expectations": r.expectations,
        "diagnostics": diags,
    });
    let mut doc = doc;
    if let Some(d) = derived {
        doc["permissions"] = permissions_json(d, r);
    }
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut out, &doc);
    let _ = writeln!(out);
}

/// The rules as an aligned table, each followed by its reasons.
fn print_rules(out: &mut impl Write, rules: &RuleSet, ns: &str, indent: &str, with_crd: bool) {
    let group = |g: &str| if g.is_empty() { "core".to_string() } else { g.to_string() };
    let target = |r: &Rule| {
        let mut t = r.key.resource.clone();
        if let Some(n) = &r.key.resource_name {
            t.push_str(&format!(" [{n}]"));
        }
        if r.key.scope == Scope::Namespace {
            t.push_str(&format!(" (namespace {ns})"));
        }
        t
    };
    let gw = rules.rules.iter().map(|r| group(&r.key.api_group).len()).max().unwrap_or(0);
    let tw = rules.rules.iter().map(|r| target(r).chars().count()).max().unwrap_or(0);
    for r in &rules.rules {
        let verbs: Vec<&str> = r.verb_list().iter().map(|v| v.as_str()).collect();
        let t = target(r);
        let pad = tw.saturating_sub(t.chars().count());
        let _ = writeln!(out, "{indent}{:gw$}  {t}{}  {}", group(&r.key.api_group), " ".repeat(pad), verbs.join(" "));
        for (why, vs) in r.reasons() {
            let vs: Vec<&str> = vs.iter().map(|v| v.as_str()).collect();
            let text = if with_crd { why.to_string() } else { why.what.clone() };
            let _ = writeln!(out, "{indent}    · {text} ({})", vs.join(", "));
        }
    }
}

fn validate_text(path: &Path, r: &Report, derived: Option<&Derivation>) {
    let color_out = stdout_color();
    let color_err = stderr_color();
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
        if let Some(p) = derived.and_then(|d| d.crds.get(&c.name)) {
            let ns = derived.map_or("", |d| d.namespace.as_str());
            let profiles = if c.profiles.is_empty() { "none".to_string() } else { c.profiles.join(", ") };
            let _ = writeln!(out, "    profiles: {profiles}");
            let _ = writeln!(out, "    runtime permissions:");
            print_rules(&mut out, &p.runtime, ns, "      ", false);
            if !p.gateway.is_empty() {
                let _ = writeln!(out, "    gateway permissions:");
                print_rules(&mut out, &p.gateway, ns, "      ", false);
            }
        }
    }
    if r.startup_order.len() > 1 || derived.is_some() {
        let _ = writeln!(out, "startup order: {}", r.startup_order.join(" → "));
    }
    if let Some(d) = derived {
        let _ = writeln!(out, "runtime permissions ({} rules, ServiceAccount {}):", d.runtime.rules.len(), katalog::install::RUNTIME_SERVICE_ACCOUNT);
        print_rules(&mut out, &d.runtime, &d.namespace, "  ", true);
        if d.gateway.is_empty() {
            let _ = writeln!(out, "gateway permissions: none (no gateway feature declared)");
        } else {
            let _ = writeln!(
                out,
                "gateway permissions ({} rules, ServiceAccount {}; features: {}):",
                d.gateway.rules.len(),
                katalog::install::GATEWAY_SERVICE_ACCOUNT,
                d.gateway_features.join(", ")
            );
            print_rules(&mut out, &d.gateway, &d.namespace, "  ", true);
        }
    }
    let errors = r.diagnostics.error_count();
    let warnings = r.diagnostics.warning_count();
    let what = match r.kind {
        Some(DocKind::Simulate) => format!("{} op rule(s)", r.op_rules),
        Some(DocKind::E2e) => format!("{} expectation(s)", r.expectations),
        _ => format!("{} CRD(s)", r.crds.len()),
    };
    let summary = if errors == 0 {
        paint(color_out, "32", &format!("✓ valid: {what}, {warnings} warning(s)"))
    } else {
        paint(color_out, "31", &format!("✗ invalid: {errors} error(s), {warnings} warning(s)"))
    };
    let _ = writeln!(out, "{summary}");
}

// ---- ork template ----

/// The findings of one rendered CR (mutations, violations, warnings) on stderr.
pub fn template_findings(cr: &OfflineCr) {
    let mut err = std::io::stderr().lock();
    for f in &cr.findings {
        let _ = writeln!(err, "{}: {}", f.level, f.message);
    }
}

/// The children (and with `status`, the status) of rendered CRs as one YAML stream.
pub fn template_yaml(crs: &[OfflineCr], status: bool) -> String {
    let mut out = String::new();
    for cr in crs {
        for child in &cr.children {
            out.push_str(&format!("---\n# Source: {}/{}\n", cr.crd, child.source));
            out.push_str(&katalog::yaml::emit(&child.manifest));
        }
        if status {
            out.push_str(&format!("---\n# Status of {}\n", cr.identity));
            out.push_str(&katalog::yaml::emit(&json!({"status": cr.status})));
        }
    }
    out
}

// ---- ork simulate ----

/// The JSON report of simulated files.
pub fn simulate_json(files: &[FileRun]) {
    let doc = json!({"schemaVersion": 1, "passed": files.iter().all(FileRun::passed), "files": files});
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut out, &doc);
    let _ = writeln!(out);
}

/// The text report of simulated files.
pub fn simulate_text(files: &[FileRun]) {
    let color = stdout_color();
    let mut out = std::io::stdout().lock();
    for f in files {
        simulate_file(&mut out, f, color);
    }
}

/// The writes of a cycle, merged per resource/object: `+` created, `-` deleted, `~` changed.
fn writes(run: &CrdRun, cycle: usize) -> Vec<String> {
    let mut merged: BTreeMap<(String, String), char> = BTreeMap::new();
    let mut order = Vec::new();
    for op in run.cycles[cycle].ops.iter().filter(|o| o.is_write()) {
        let target = match (&op.namespace, &op.name) {
            (Some(ns), Some(n)) => format!("{ns}/{n}"),
            (None, Some(n)) => n.clone(),
            _ => String::new(),
        };
        let k = (op.resource.clone(), target);
        let icon = match op.verb {
            "create" => '+',
            "delete" => '-',
            _ => '~',
        };
        match merged.get_mut(&k) {
            Some(c) if *c == '+' => {}
            Some(c) if icon == '+' || (icon == '-' && *c == '~') => *c = icon,
            Some(_) => {}
            None => {
                order.push(k.clone());
                merged.insert(k, icon);
            }
        }
    }
    order.into_iter().map(|k| format!("{} {} {}", merged[&k], k.0, k.1).trim_end().to_string()).collect()
}

fn simulate_file(out: &mut impl Write, f: &FileRun, color: bool) {
    let _ = writeln!(out, "Simulating {} ({})", f.name, f.file);
    for n in &f.notes {
        let _ = writeln!(out, "  note: {n}");
    }
    for run in &f.runs {
        let _ = writeln!(out, "  crd {}, CR {}", run.crd, run.cr);
        let mut i = 0;
        while i < run.cycles.len() {
            let c = &run.cycles[i];
            if c.quiet() {
                let mut j = i;
                while j + 1 < run.cycles.len() && run.cycles[j + 1].quiet() && run.cycles[j + 1].outcome == c.outcome && run.cycles[j + 1].error == c.error {
                    j += 1;
                }
                let reads = c.ops.len();
                let span = if j > i {
                    format!("cycles {}–{}: only reads ({reads} request(s) each)", c.cycle, run.cycles[j].cycle)
                } else {
                    format!("cycle {}: only reads ({reads} request(s))", c.cycle)
                };
                let _ = writeln!(out, "    {span}, {}", c.outcome);
                if let Some(e) = &c.error {
                    let _ = writeln!(out, "      {}", paint(color, "31", &format!("! {e}")));
                }
                i = j + 1;
                continue;
            }
            let _ = writeln!(out, "    cycle {}: {}", c.cycle, c.outcome);
            for w in writes(run, i) {
                let _ = writeln!(out, "      {w}");
            }
            if let Some(e) = &c.error {
                let _ = writeln!(out, "      {}", paint(color, "31", &format!("! {e}")));
            }
            i += 1;
        }
        let timing = format!("{:.1} ms", run.millis);
        match run.steady_at {
            Some(c) => {
                let _ = writeln!(out, "    {}", paint(color, "32", &format!("✓ steady at cycle {c} ({timing})")));
            }
            None => {
                let _ = writeln!(out, "    ~ no steady state in {} cycles ({timing})", run.cycles.len());
            }
        }
        if run.deleted {
            let _ = writeln!(out, "    the CR is gone");
        }
        for c in &run.checks {
            let line = if c.passed { paint(color, "32", &format!("✓ {}", c.name)) } else { paint(color, "31", &format!("✗ {}: {}", c.name, c.detail)) };
            let _ = writeln!(out, "    {line}");
        }
        let verdict = if run.passed() { paint(color, "32", "PASS") } else { paint(color, "31", "FAIL") };
        let _ = writeln!(out, "    {verdict}");
    }
}

/// One discovered simulate file's verdict line (and, when it failed, its report).
pub fn simulate_discovered(shown: &str, millis: f64, files: &[FileRun]) {
    let color = stdout_color();
    let mut out = std::io::stdout().lock();
    let ok = files.iter().all(FileRun::passed);
    let verdict = if ok { paint(color, "32", "✓ passed") } else { paint(color, "31", "✗ failed") };
    let _ = writeln!(out, "{shown:<60} {verdict} ({millis:.1} ms)");
    if !ok {
        for f in files {
            simulate_file(&mut out, f, color);
        }
    }
}

/// A discovered simulate file that could not run.
pub fn simulate_cannot_run(shown: &str) {
    let color = stdout_color();
    print_line(&format!("{shown:<60} {}", paint(color, "31", "✗ cannot run")));
}

/// The summary of a discovery run.
pub fn simulate_summary(found: usize, failed: &[String]) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{} file(s): {} passed, {} failed", found, found - failed.len(), failed.len());
    for f in failed {
        let _ = writeln!(out, "  rerun: ork simulate -f {f}");
    }
}

/// The confirmation of a written simulate.yaml.
pub fn simulate_scaffold_written(s: &Scaffold) {
    let shown = display_path(&s.path);
    print_line(&format!("✓ wrote {shown}: {} CRD(s), {} op rule(s). Run `ork simulate -f {shown}` to check it.", s.targets, s.rules));
}

/// The confirmation of a written e2e.yaml, with the namespaces a fresh cluster lacks.
pub fn e2e_scaffold_written(s: &Scaffold) {
    let shown = display_path(&s.path);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "✓ wrote {shown}: {} CR(s), {} expectation(s). Run `ork e2e -f {shown}` to check it.", s.targets, s.rules);
    for ns in &s.missing_namespaces {
        let _ = writeln!(out, "  note: the CRs use namespace {ns}, which a fresh cluster lacks: add a Namespace manifest under spec.setup");
    }
}

// ---- ork e2e ----

/// Prints e2e progress as it happens: to stdout, or to stderr when stdout carries JSON.
pub struct E2eProgress {
    color: bool,
    stderr: bool,
}

impl E2eProgress {
    /// Progress for `output` (JSON output sends progress to stderr).
    pub fn new(output: Output) -> E2eProgress {
        let json = output == Output::Json;
        E2eProgress { color: if json { stderr_color() } else { stdout_color() }, stderr: json }
    }

    /// One line of progress.
    pub fn line(&self, s: &str) {
        if self.stderr {
            eprint_line(s);
        } else {
            print_line(s);
        }
    }

    fn case_line(&self, c: &CaseResult, width: usize) -> String {
        let pad = width.saturating_sub(c.name.chars().count());
        let time = format!("({:.1}s)", c.elapsed_secs);
        if c.passed {
            format!("  {} {}{}  {time}", paint(self.color, "32", "✓"), c.name, " ".repeat(pad))
        } else if c.not_run {
            format!("  ~ {}{}  (not run)", c.name, " ".repeat(pad))
        } else {
            format!("  {} {}{}  {time}", paint(self.color, "31", "✗"), c.name, " ".repeat(pad))
        }
    }

    /// The end of a run: the JSON report, or with several documents the text summary.
    pub fn results(&self, runs: &[DocRun], passed: bool) {
        if self.stderr {
            let doc = serde_json::json!({"schemaVersion": 1, "passed": passed, "documents": runs});
            let mut out = std::io::stdout().lock();
            let _ = serde_json::to_writer_pretty(&mut out, &doc);
            let _ = writeln!(out);
        } else if runs.len() > 1 {
            self.line(&format!(
                "{} document(s): {} passed, {} failed",
                runs.len(),
                runs.iter().filter(|r| r.passed()).count(),
                runs.iter().filter(|r| !r.passed()).count()
            ));
            for r in runs.iter().filter(|r| !r.passed()) {
                self.line(&format!("  rerun: ork e2e -f {}", r.file));
            }
        }
    }
}

fn indent(text: &str, by: &str) -> String {
    text.lines().map(|l| format!("{by}{l}")).collect::<Vec<_>>().join("\n")
}

impl Reporter for E2eProgress {
    fn event(&self, e: Event) {
        match e {
            Event::Document { name, description, file } => {
                let d = description.map(|d| format!(" — {d}")).unwrap_or_default();
                self.line(&format!("Running E2E: {name}{d} ({file})"));
            }
            Event::Step(s) => self.line(&format!("→ {s}")),
            Event::Done(s) => self.line(&format!("  {} {s}", paint(self.color, "32", "✓"))),
            Event::Note(s) => self.line(&format!("  note: {s}")),
            Event::Waiting { name, timeout_secs } => self.line(&format!("  Waiting for {name:?} (timeout: {timeout_secs}s)...")),
            Event::StillWaiting { name, secs, reason } => self.line(&format!("    still waiting for {name:?} [{secs}s]: {reason}")),
            Event::Case(c) => {
                self.line(&self.case_line(&c, 0));
                if let Some(e) = &c.error {
                    self.line(&indent(e, "      "));
                }
            }
            Event::Diagnostics { title, text } => {
                self.line(&format!("    onFailure {title}"));
                self.line(&indent(&text, "      "));
            }
            Event::Finished(run) => {
                self.line("");
                self.line(&format!("E2E Results: {}", run.name));
                if let Some(e) = &run.error {
                    self.line(&format!("  {} setup failed: {}", paint(self.color, "31", "✗"), indent(e, "      ").trim_start()));
                }
                let width = run.cases.iter().map(|c| c.name.chars().count()).max().unwrap_or(0);
                for c in &run.cases {
                    self.line(&self.case_line(c, width));
                    if let (Some(e), false) = (&c.error, c.not_run) {
                        self.line(&indent(e, "      "));
                    }
                }
                let passed = run.cases.iter().filter(|c| c.passed).count();
                let not_run = run.cases.iter().filter(|c| c.not_run).count();
                let failed = run.cases.len() - passed - not_run;
                let mut summary = format!("{passed} passed, {failed} failed");
                if not_run > 0 {
                    summary.push_str(&format!(", {not_run} not run"));
                }
                let summary = format!("{summary} ({} expectation(s), {:.1}s)", run.cases.len(), run.elapsed_secs);
                self.line(&format!("  {}", paint(self.color, if run.passed() { "32" } else { "31" }, &summary)));
                self.line(&format!("  Cluster: {}", run.cluster));
                self.line("");
            }
        }
    }
}

// ---- ork diff / ork plan ----

/// A unified diff, coloured: headers bold, removed lines red, added green, hunk headers cyan.
pub fn diff_text(diff: &str) {
    let color = stdout_color();
    let mut out = std::io::stdout().lock();
    for line in diff.lines() {
        let code = match line.as_bytes() {
            [b'+', b'+', b'+', ..] | [b'-', b'-', b'-', ..] => "1",
            [b'+', ..] => "32",
            [b'-', ..] => "31",
            [b'@', b'@', ..] => "36",
            _ => "",
        };
        let _ = writeln!(out, "{}", if code.is_empty() { line.to_string() } else { paint(color, code, line) });
    }
}

fn change_line(c: &FieldChange) -> String {
    match (&c.old, &c.new) {
        (None, Some(n)) => format!("+ {}: {n}  (new)", c.path),
        (Some(o), None) => format!("- {}: {o}  (removed)", c.path),
        (Some(o), Some(n)) => format!("~ {}: {o} → {n}", c.path),
        (None, None) => String::new(),
    }
}

/// Grants grouped by target, verbs in canonical order.
fn grouped(grants: &[Grant]) -> Vec<(Grant, String)> {
    let mut by: BTreeMap<Grant, Vec<&str>> = BTreeMap::new();
    for (c, scope, g, r, n, v) in grants {
        by.entry((c.clone(), *scope, g.clone(), r.clone(), n.clone(), String::new())).or_default().push(v);
    }
    by.into_iter()
        .map(|(k, mut verbs)| {
            verbs.sort_by_key(|v| Verb::parse(v).map_or(usize::MAX, |x| x as usize));
            (k, verbs.join(", "))
        })
        .collect()
}

fn grant_line(g: &Grant, verbs: &str, ns: &str) -> String {
    let (c, scope, group, res, name, _) = g;
    let group = if group.is_empty() { "core" } else { group };
    let mut target = res.clone();
    if let Some(n) = name {
        target.push_str(&format!(" [{n}]"));
    }
    if *scope == Scope::Namespace {
        target.push_str(&format!(" (namespace {ns})"));
    }
    format!("{c:<8} {group} {target}: {verbs}")
}

/// `ork plan`'s report.
pub fn plan_text(p: &Plan, local: &str, bundle: &str, ns: &str) {
    let color = stdout_color();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "Plan: {local} against the deployed bundle {bundle} (namespace {ns})");
    if p.is_empty() {
        let _ = writeln!(out, "No changes: the local Katalog and its permissions match the deployed bundle.");
        return;
    }
    if !(p.crds_added.is_empty() && p.crds_removed.is_empty() && p.crds_changed.is_empty() && p.katalog_changes.is_empty()) {
        let _ = writeln!(out, "\nKatalog:");
        for c in &p.crds_added {
            let _ = writeln!(out, "  {}", paint(color, "32", &format!("+ crd {c}  (new)")));
        }
        for c in &p.crds_removed {
            let _ = writeln!(out, "  {}", paint(color, "31", &format!("- crd {c}  (removed)")));
        }
        for (c, changes) in &p.crds_changed {
            let _ = writeln!(out, "  ~ crd {c}:");
            for ch in changes {
                let _ = writeln!(out, "      {}", change_line(ch));
            }
        }
        for ch in &p.katalog_changes {
            let _ = writeln!(out, "  {}", change_line(ch));
        }
    }
    if !(p.grants_added.is_empty() && p.grants_removed.is_empty()) {
        let _ = writeln!(out, "\nPermissions:");
        for (g, verbs) in grouped(&p.grants_added) {
            let _ = writeln!(out, "  {}", paint(color, "1;31", &format!("+ {}   ESCALATION", grant_line(&g, &verbs, ns))));
        }
        for (g, verbs) in grouped(&p.grants_removed) {
            let _ = writeln!(out, "  {}", paint(color, "32", &format!("- {}", grant_line(&g, &verbs, ns))));
        }
    }
    if !p.grants_added.is_empty() {
        let n = p.grants_added.len();
        let _ = writeln!(
            out,
            "\n{}",
            paint(
                color,
                "1;31",
                &format!(
                    "⚠ {n} permission escalation(s): the new Katalog needs permissions the deployed bundle does not grant. Review them before applying the new bundle."
                )
            )
        );
    }
}
