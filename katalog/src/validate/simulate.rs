//! Checks on a `kind: Simulate` document (cli-and-workflows.md §4.4): referenced files exist,
//! op rules are complete. The loader has already expanded op-rule includes (and reported what
//! went wrong with them): no rule checked here has an `include`.

use crate::decode::Str;
use crate::diag::{Diagnostic, Diagnostics, suggest};
use crate::load::include::join_relative;
use crate::model::simulate::{DEFAULT_CYCLES, Expect, MAX_CYCLES, OP_VERBS, OpRule, Simulate};
use std::path::{Path, PathBuf};

/// Resolves a path written in the Simulate file `file` (relative to its directory).
pub fn resolve(file: &Path, p: &Str) -> PathBuf {
    join_relative(file, &p.value)
}

fn exists(base: &Path, p: &Str, what: &str, diags: &mut Diagnostics) -> bool {
    let path = resolve(base, p);
    if path.is_file() {
        return true;
    }
    diags.push(
        Diagnostic::error("file-not-found", format!("{what} {} not found", crate::diag::display_path(&path)))
            .at(p.span)
            .help("paths are relative to the simulate file"),
    );
    false
}

fn rule(r: &OpRule, absent: bool, diags: &mut Diagnostics) {
    let list = if absent { "absent" } else { "ops" };
    match &r.verb {
        None if !absent => {
            diags
                .push(Diagnostic::error("missing-field", format!("an `{list}` rule needs `verb`")).at(r.span).help(format!("one of: {}", OP_VERBS.join(", "))));
        }
        Some(v) if !OP_VERBS.contains(&v.as_str()) => {
            let help = match suggest(v, OP_VERBS.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("one of: {}", OP_VERBS.join(", ")),
            };
            diags.push(Diagnostic::error("invalid-verb", format!("unknown verb `{v}`")).at(v.span).help(help));
        }
        _ => {}
    }
    if r.resource.as_ref().is_none_or(|s| s.is_empty()) {
        diags
            .push(Diagnostic::error("missing-field", format!("an `{list}` rule needs `resource`")).at(r.span).help("the lowercase plural, e.g. `deployments`"));
    }
    if r.cycle == Some(0) {
        diags.push(Diagnostic::error("invalid-cycle", "cycles count from 1").at(r.span));
    }
}

fn expect(e: &Expect, diags: &mut Diagnostics) -> usize {
    for r in &e.ops {
        rule(r, false, diags);
    }
    for r in &e.absent {
        rule(r, true, diags);
    }
    let mut n = e.ops.len() + e.absent.len();
    for (_, per) in e.crds.iter() {
        n += expect(per, diags);
    }
    n
}

/// Checks a Simulate document read from `path` (as loaded: includes expanded). Returns the
/// number of op rules.
pub fn check(sim: &Simulate, path: &Path, diags: &mut Diagnostics) -> usize {
    let base = path;
    let span = sim.span;
    match (&sim.spec, sim.imports.is_empty()) {
        (None, true) => {
            diags.push(
                Diagnostic::error("missing-field", "a Simulate document needs `spec` (one run) or `imports` (a suite)")
                    .at(span)
                    .help("add `spec: {katalog: ./katalog.yaml, cr: ./cr.yaml}`"),
            );
            0
        }
        (Some(_), false) => {
            diags.push(Diagnostic::error("spec-and-imports", "a Simulate document has either `spec` or `imports`, not both").at(span));
            0
        }
        (None, false) => {
            for i in &sim.imports {
                exists(base, i, "imported simulate file", diags);
            }
            0
        }
        (Some(spec), true) => {
            if let Some(k) = &spec.katalog {
                exists(base, k, "katalog", diags);
            }
            if spec.cr.is_none() && spec.cr_files.is_empty() {
                diags
                    .push(Diagnostic::error("missing-field", "`spec` needs `cr` or `crFiles`: the CRs to reconcile").at(spec.span).help("add `cr: ./cr.yaml`"));
            }
            for f in spec.cr.iter().chain(&spec.cr_files) {
                exists(base, f, "CR file", diags);
            }
            for f in spec.crd.iter().chain(&spec.crd_files) {
                exists(base, f, "CRD file", diags);
            }
            let cycles = spec.cycles.unwrap_or(DEFAULT_CYCLES);
            if !(1..=MAX_CYCLES).contains(&cycles) {
                diags.push(Diagnostic::error("invalid-cycle", format!("`cycles` must be between 1 and {MAX_CYCLES}")).at(spec.span));
            }
            if let Some(d) = spec.delete_at
                && (d == 0 || d > cycles)
            {
                diags.push(Diagnostic::error("invalid-cycle", format!("`deleteAt: {d}` is outside the {cycles} cycles run")).at(spec.span));
            }
            spec.expect.as_ref().map_or(0, |e| expect(e, diags))
        }
    }
}
