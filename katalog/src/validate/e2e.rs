//! Checks on a `kind: E2E` document (cli-and-workflows.md §6.3): referenced files exist, every
//! expectation has a name and at least one check, durations and assertions parse. The loader
//! has already expanded expectation includes and read the imported documents (and reported
//! what went wrong with them): no expectation checked here has an `include`.

use crate::decode::{Spanned, Str};
use crate::diag::{Diagnostic, Diagnostics, Span, display_path};
use crate::duration::parse_duration;
use crate::load::include::join_relative;
use crate::model::e2e::{After, ApplyCheck, Assertions, DeleteCheck, E2e, Expectation, GetCheck, MAX_DURATION_SECS, OnFailure, PatchCheck, PatchType, WaitFor};
use crate::yaml::Value;
use std::path::PathBuf;

/// Resolves a path written in a document against the directory of the file it was written in
/// (known from its position, so paths inside included files resolve from there).
pub fn resolve(p: &Str) -> PathBuf {
    join_relative(&p.span.file.path(), &p.value)
}

fn exists(p: &Str, what: &str, diags: &mut Diagnostics) -> bool {
    let path = resolve(p);
    if path.is_file() {
        return true;
    }
    diags.push(
        Diagnostic::error("file-not-found", format!("{what} {} not found", display_path(&path)))
            .at(p.span)
            .help("paths are relative to the file that names them"),
    );
    false
}

/// Seconds of a duration field, or `default` when absent. `None` when it does not parse or is
/// out of range (reported by [`check`]).
pub fn seconds(d: Option<&Str>, default: f64) -> Option<f64> {
    match d {
        None => Some(default),
        Some(s) => parse_duration(s).filter(|v| v.is_finite() && (0.0..=MAX_DURATION_SECS).contains(v)),
    }
}

fn duration(d: Option<&Str>, what: &str, diags: &mut Diagnostics) {
    if let Some(s) = d
        && seconds(Some(s), 0.0).is_none()
    {
        diags.push(
            Diagnostic::error("invalid-duration", format!("`{what}: {s}` is not a duration"))
                .at(s.span)
                .help("write a Go-style duration up to 24h: `90s`, `2m`, `1m30s`"),
        );
    }
}

fn number(s: &Str, diags: &mut Diagnostics) {
    if s.trim().parse::<f64>().map_or(true, |f| !f.is_finite()) {
        diags
            .push(Diagnostic::error("invalid-value", format!("`{s}` is not a number")).at(s.span).help("numeric assertions compare numbers: `greaterThan: 2`"));
    }
}

/// Checks the assertions of one step.
pub fn assertions(a: &Assertions, span: Span, diags: &mut Diagnostics) {
    for n in [&a.greater_than, &a.less_than, &a.greater_than_or_equal, &a.less_than_or_equal].into_iter().flatten() {
        number(n, diags);
    }
    for r in [&a.between, &a.not_between].into_iter().flatten() {
        let ok = r.split_once(',').is_some_and(|(lo, hi)| {
            let (lo, hi) = (lo.trim().parse::<f64>(), hi.trim().parse::<f64>());
            matches!((lo, hi), (Ok(l), Ok(h)) if l <= h)
        });
        if !ok {
            diags.push(
                Diagnostic::error("invalid-value", format!("`{r}` is not a range")).at(r.span).help("write `\"min,max\"` with min ≤ max, e.g. `\"1,3\"`"),
            );
        }
    }
    if let Some(re) = &a.regex
        && let Err(e) = regex_lite::Regex::new(re)
    {
        diags.push(Diagnostic::error("invalid-regex", format!("invalid regular expression: {e}")).at(re.span));
    }
    if a.exists == Some(true) && a.not_exists == Some(true) {
        diags.push(Diagnostic::error("contradiction", "`exists` and `notExists` cannot both hold").at(span));
    }
}

/// An expected exit code is what a process can return: 0–255.
fn exit_code(code: Option<&Spanned<i64>>, diags: &mut Diagnostics) {
    if let Some(c) = code
        && !(0..=255).contains(&c.value)
    {
        diags.push(
            Diagnostic::error("invalid-value", format!("`exitCode: {}` is not an exit code", c.value))
                .at(c.span)
                .help("exit codes are 0–255; kubectl exits 1 when the API server refuses a request (an admission webhook's denial)"),
        );
    }
}

fn required(v: &Option<Str>, step: &str, field: &str, span: Span, diags: &mut Diagnostics) {
    if v.as_ref().is_none_or(|s| s.trim().is_empty()) {
        diags.push(Diagnostic::error("missing-field", format!("a `{step}` step needs `{field}`")).at(span));
    }
}

fn get(g: &GetCheck, diags: &mut Diagnostics) {
    required(&g.kind, "kubectl.get", "kind", g.span, diags);
    if g.field.is_some() && g.format.is_some() {
        diags.push(
            Diagnostic::error("conflicting-fields", "`field` and `format` exclude each other")
                .at(g.span)
                .help("`field` prints one JSONPath; `format` prints the whole object"),
        );
    }
    if g.name.is_some() && g.label_selector.is_some() {
        diags.push(Diagnostic::error("conflicting-fields", "`name` and `labelSelector` exclude each other").at(g.span));
    }
    assertions(&g.assert, g.span, diags);
}

fn apply(a: &ApplyCheck, diags: &mut Diagnostics) {
    match (&a.file, &a.inline) {
        (Some(f), None) => {
            exists(f, "manifest", diags);
        }
        (None, Some(_)) => {}
        _ => diags.push(Diagnostic::error("missing-field", "a `kubectl.apply` step needs exactly one of `file` and `inline`").at(a.span)),
    }
    exit_code(a.exit_code.as_ref(), diags);
    assertions(&a.assert, a.span, diags);
}

fn delete(d: &DeleteCheck, diags: &mut Diagnostics) {
    match (&d.file, &d.kind, &d.name) {
        (Some(f), None, None) => {
            exists(f, "manifest", diags);
        }
        (None, Some(_), Some(_)) => {}
        _ => diags.push(
            Diagnostic::error("missing-field", "a `kubectl.delete` step names a `file`, or a `kind` and a `name`")
                .at(d.span)
                .help("e.g. `{kind: Website, name: hello}`"),
        ),
    }
    exit_code(d.exit_code.as_ref(), diags);
    assertions(&d.assert, d.span, diags);
}

fn patch(p: &PatchCheck, diags: &mut Diagnostics) {
    exit_code(p.exit_code.as_ref(), diags);
    assertions(&p.assert, p.span, diags);
    let Some(body) = &p.patch else { return };
    let json_type = p.patch_type.as_ref().is_some_and(|t| t.value == PatchType::Json);
    match &body.value {
        Value::Seq(_) if !json_type => diags.push(Diagnostic::error("invalid-value", "a list is a JSON patch: add `type: json`").at(body.span)),
        Value::Map(_) if json_type => diags.push(
            Diagnostic::error("invalid-value", "a JSON patch is a list of operations")
                .at(body.span)
                .help("write `- {op: replace, path: /spec/replicas, value: 3}`"),
        ),
        Value::Null => diags.push(Diagnostic::error("missing-field", "the patch is empty").at(body.span)),
        _ => {}
    }
}

fn wait_for(w: &WaitFor, diags: &mut Diagnostics) {
    duration(w.timeout.as_ref(), "timeout", diags);
}

fn on_failure(f: &OnFailure, diags: &mut Diagnostics) {
    for g in f.kubectl.iter().flat_map(|k| &k.get) {
        required(&g.kind, "onFailure.kubectl.get", "kind", g.span, diags);
    }
}

/// Checks one expectation (includes already expanded).
pub fn expectation(e: &Expectation, diags: &mut Diagnostics) {
    if e.name.as_ref().is_none_or(|n| n.trim().is_empty()) {
        diags.push(
            Diagnostic::error("missing-field", "an expectation needs a `name`")
                .at(e.span)
                .help("add `name: <what is expected>`; it names the test case in reports"),
        );
    }
    if e.checks() == 0 {
        diags.push(
            Diagnostic::error("no-checks", "an expectation needs at least one check").at(e.span).help("add `resources:`, `commands:` or `kubectl:` steps"),
        );
    }
    duration(e.timeout.as_ref(), "timeout", diags);
    duration(e.wait.as_ref(), "wait", diags);
    for r in &e.resources {
        required(&r.kind, "resources", "kind", r.span, diags);
        if r.name.is_some() && r.count.is_some_and(|c| c > 1) {
            diags.push(Diagnostic::error("invalid-value", "a named resource exists at most once: `count` may be 0 or 1").at(r.span));
        }
        if r.count == Some(0) && r.ready == Some(true) {
            diags.push(Diagnostic::error("contradiction", "`count: 0` and `ready: true` cannot both hold").at(r.span));
        }
    }
    for c in &e.commands {
        required(&c.run, "commands", "run", c.span, diags);
        exit_code(c.exit_code.as_ref(), diags);
        assertions(&c.assert, c.span, diags);
    }
    if let Some(k) = &e.kubectl {
        k.get.iter().for_each(|g| get(g, diags));
        k.apply.iter().for_each(|a| apply(a, diags));
        k.delete.iter().for_each(|d| delete(d, diags));
        k.patch.iter().for_each(|p| patch(p, diags));
        for a in &k.auth {
            assertions(&a.assert, a.span, diags);
        }
    }
    if let Some(f) = &e.on_failure {
        on_failure(f, diags);
    }
}

/// Checks an E2E document (as loaded: includes expanded, imports read).
/// Returns its expectations.
pub fn check(doc: &E2e, diags: &mut Diagnostics) -> Vec<Expectation> {
    if doc.spec.is_none() && doc.imports.is_empty() {
        diags.push(
            Diagnostic::error("missing-field", "an E2E document needs `spec` (one run) or `imports` (a suite)")
                .at(doc.span)
                .help("add `spec: {katalog: ./katalog.yaml, cr: ./cr.yaml, expect: [...]}`"),
        );
    }
    for i in &doc.imports {
        duration(i.wait.as_ref(), "wait", diags);
    }
    let Some(spec) = &doc.spec else { return Vec::new() };
    match &spec.katalog {
        Some(k) => {
            exists(k, "katalog", diags);
        }
        None => diags.push(
            Diagnostic::error("missing-field", "`spec` needs `katalog`: the Katalog (or Komposer) under test")
                .at(spec.span)
                .help("add `katalog: ./katalog.yaml`"),
        ),
    }
    for f in spec.crd.iter().chain(&spec.crd_files) {
        exists(f, "CRD file", diags);
    }
    if spec.cr.is_none() && spec.cr_files.is_empty() {
        diags.push(
            Diagnostic::error("missing-field", "`spec` needs `cr` or `crFiles`: the CRs applied at `cr-applied`").at(spec.span).help("add `cr: ./cr.yaml`"),
        );
    }
    for f in spec.cr.iter().chain(&spec.cr_files) {
        exists(f, "CR file", diags);
    }
    if let Some(setup) = &spec.setup {
        for step in &setup.apply {
            if let Some(p) = &step.path {
                exists(p, "setup manifest", diags);
            }
            step.wait.iter().for_each(|w| wait_for(w, diags));
        }
        setup.wait.iter().for_each(|w| wait_for(w, diags));
    }
    if let Some(f) = &spec.on_failure {
        on_failure(f, diags);
    }
    // Includes were expanded, and an empty `expect` reported, when the document was loaded.
    let expanded = spec.expect.clone();
    let mut deleted_at: Option<Span> = None;
    for e in &expanded {
        expectation(e, diags);
        match e.after() {
            After::CrDeleted if deleted_at.is_none() => deleted_at = Some(e.span),
            After::CrApplied => {
                if let Some(at) = deleted_at {
                    diags.push(
                        Diagnostic::warning("order", format!("this `cr-applied` expectation comes after the CRs were deleted (at {at}); it sees them gone"))
                            .at(e.span)
                            .help("put `cr-deleted` expectations last"),
                    );
                }
            }
            _ => {}
        }
    }
    expanded
}
