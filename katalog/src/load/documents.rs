//! The file side of loading a Simulate or E2E document: its op-rule and expectation
//! `include:`s are expanded here, and the E2E documents it imports are read to check their kind,
//! all through the same reader, under the same [`crate::yaml::Limits`] and the same
//! [`crate::files::PatternRoot`] as a Katalog's includes — so that `validate` and the runners
//! only ever see documents with no include left, and never read a file themselves.
//!
//! Unlike a Katalog's block includes (merged into the block that names them, see
//! [`super::include::expand`]), these includes are list items: `- include: FILE` is replaced by
//! the items of FILE (an `ops:` list for Simulate, a list of expectations for E2E).

use super::include::{self, join_relative, read_yaml_file};
use super::{DocKind, read_document};
use crate::decode::{Cx, Decode};
use crate::diag::{Diagnostic, Diagnostics, Span, display_path};
use crate::model::e2e::{E2e, Expectation};
use crate::model::simulate::{Expect, OpRule, OpsFile, Simulate};
use crate::yaml::{Node, Value};
use std::path::Path;

/// How deep expectation includes may nest: deeper is reported as a likely cycle.
const MAX_EXPECTATION_INCLUDE_DEPTH: usize = 8;

/// Expands every op-rule `include:` of the Simulate document read from `file` (in
/// `spec.expect` and each per-CRD `expect`): a rule `- include: FILE` is replaced by the `ops:`
/// of FILE, resolved against `file`. Included rules are taken as written (an `include:` inside
/// an included file is not followed; validation reports such a rule as incomplete).
pub(crate) fn expand_simulate(sim: &mut Simulate, file: &Path, cx: &mut Cx) {
    let Some(expect) = sim.spec.as_mut().and_then(|s| s.expect.as_mut()) else { return };
    cx.in_key("spec", |cx| cx.in_key("expect", |cx| expand_expect(expect, file, cx)));
}

fn expand_expect(e: &mut Expect, file: &Path, cx: &mut Cx) {
    e.ops = cx.in_key("ops", |cx| expand_ops(file, &e.ops, cx));
    e.absent = cx.in_key("absent", |cx| expand_ops(file, &e.absent, cx));
    for (name, per) in e.crds.0.iter_mut() {
        cx.in_key("crds", |cx| cx.in_key(name.as_str(), |cx| expand_expect(per, file, cx)));
    }
}

/// The rules of one list with each `include:` replaced by the rules its file holds; a rule
/// whose include cannot be read is dropped (the reason is reported).
fn expand_ops(file: &Path, rules: &[OpRule], cx: &mut Cx) -> Vec<OpRule> {
    let mut out = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        let Some(inc) = &r.include else {
            out.push(r.clone());
            continue;
        };
        let others = [r.cycle.is_some(), r.verb.is_some(), r.resource.is_some(), r.name.is_some(), r.count.is_some()];
        if others.iter().any(|b| *b) {
            cx.push_as_is(
                Diagnostic::error("include-with-fields", "an op rule with `include` has no other fields")
                    .at(r.span)
                    .help("move the other fields into the included file, or write a separate rule"),
            );
        }
        let path = join_relative(file, &inc.value);
        if !cx.in_index(i, |cx| cx.in_key("include", |cx| cx.admit(&path, inc.span, "include"))) {
            continue;
        }
        if !exists(&path, inc.span, "included ops file", "paths are relative to the simulate file", cx) {
            continue;
        }
        match read_included_ops(&path, inc.span, cx) {
            Ok(rules) => out.extend(rules),
            Err(found) => found.iter().for_each(|d| cx.push_as_is(d.clone())),
        }
    }
    out
}

/// Reads the `ops:` of an included file (its own findings: only when it has errors).
fn read_included_ops(path: &Path, span: Span, cx: &Cx) -> Result<Vec<OpRule>, Diagnostics> {
    let root = included_root(path, span, cx)?;
    Ok(decode_included::<OpsFile>(&root, path, cx)?.map(|f| f.ops).unwrap_or_default())
}

/// Expands the E2E document read from `file`: each `spec.expect` item `- include: FILE` is
/// replaced by the expectations FILE holds (resolved against the file that names it,
/// recursively, bounded), and each imported document is read to check that it is an E2E
/// document. Also reports a `spec` whose `expect` list, as written, is empty: after expansion
/// that can no longer be told from a list whose includes failed.
pub(crate) fn expand_e2e(doc: &mut E2e, file: &Path, cx: &mut Cx) {
    for (i, imp) in doc.imports.iter().enumerate() {
        let Some(p) = &imp.path else { continue };
        let import = join_relative(&p.span.file.path(), &p.value);
        if !cx.in_key("imports", |cx| cx.in_index(i, |cx| cx.admit(&import, p.span, "E2E import"))) {
            continue;
        }
        if !exists(&import, p.span, "imported E2E file", "paths are relative to the file that names them", cx) {
            continue;
        }
        if import.canonicalize().ok() == file.canonicalize().ok() {
            cx.push_as_is(Diagnostic::error("import-cycle", "an E2E document cannot import itself").at(p.span));
            continue;
        }
        let mut sub = include::context(cx.limits(), cx.root().clone());
        if read_document(&import, &mut sub, Some(&[DocKind::E2e])).is_none() {
            sub.take_diagnostics().iter().for_each(|d| cx.push_as_is(d.clone()));
        }
    }
    let Some(spec) = doc.spec.as_mut() else { return };
    if spec.expect.is_empty() {
        cx.push_as_is(
            Diagnostic::error("missing-field", "`spec.expect` needs at least one expectation")
                .at(spec.span)
                .help("add `expect: [{name: CR is ready, after: cr-applied, resources: [...]}]`"),
        );
        return;
    }
    let mut out = Vec::new();
    expand_into(&spec.expect, cx, &mut out, 0);
    spec.expect = out;
}

/// Appends `list` to `out`, each `include:` replaced by its file's expectations. An
/// `outside-root` refusal names the YAML path of the include: in the document (depth 0) or in
/// the included file that names it.
fn expand_into(list: &[Expectation], cx: &mut Cx, out: &mut Vec<Expectation>, depth: usize) {
    for (i, e) in list.iter().enumerate() {
        let Some(inc) = &e.include else {
            out.push(e.clone());
            continue;
        };
        if e.name.is_some() || e.after.is_some() || e.timeout.is_some() || e.wait.is_some() || e.checks() > 0 || e.on_failure.is_some() {
            cx.push_as_is(
                Diagnostic::error("include-with-fields", "an expectation with `include` has no other fields")
                    .at(e.span)
                    .help("move the other fields into the included file, or write a separate expectation"),
            );
        }
        if depth >= MAX_EXPECTATION_INCLUDE_DEPTH {
            cx.push_as_is(Diagnostic::error("include-cycle", "expectation includes nest too deeply (a cycle?)").at(inc.span));
            continue;
        }
        let path = join_relative(&inc.span.file.path(), &inc.value);
        if let Err(d) = cx.root().check(&path, inc.span, "include") {
            let at = if depth == 0 { format!("spec.expect[{i}].include") } else { format!("[{i}].include") };
            cx.push_as_is(d.path(at));
            continue;
        }
        if !exists(&path, inc.span, "included expectations file", "paths are relative to the file that names them", cx) {
            continue;
        }
        match read_included_expectations(&path, inc.span, cx) {
            Ok(more) => expand_into(&more, cx, out, depth + 1),
            Err(found) => found.iter().for_each(|d| cx.push_as_is(d.clone())),
        }
    }
}

/// Reads the list of expectations of an included file (its own findings: only when it has
/// errors).
fn read_included_expectations(path: &Path, span: Span, cx: &Cx) -> Result<Vec<Expectation>, Diagnostics> {
    let root = included_root(path, span, cx).map_err(|d| Diagnostic { span: d.span.or(Some(span)), ..d })?;
    if !matches!(root.value, Value::Seq(_)) {
        return Err(Diagnostic::error("wrong-type", format!("an included expectations file holds a list, got {}", root.type_name()))
            .at(root.span)
            .help("start the file with `- name: …`")
            .into());
    }
    Ok(decode_included::<Vec<Expectation>>(&root, path, cx)?.unwrap_or_default())
}

/// The first non-empty document of the included file `path` (named at `span`).
fn included_root(path: &Path, span: Span, cx: &Cx) -> Result<Node, Diagnostic> {
    let docs = read_yaml_file(path, cx.limits())?;
    docs.into_iter()
        .map(|d| d.root)
        .find(|r| !r.is_null())
        .ok_or_else(|| Diagnostic::error("empty-document", format!("{} is empty", display_path(path))).at(span))
}

/// Decodes `root`, read from the included file `path`, in a context of its own (same limits and
/// pattern root); its findings when they hold an error.
fn decode_included<T: Decode>(root: &Node, path: &Path, cx: &Cx) -> Result<Option<T>, Diagnostics> {
    let mut sub = include::context(cx.limits(), cx.root().clone());
    sub.enter_file(path);
    let decoded = T::decode(root, &mut sub);
    let found = sub.take_diagnostics();
    if found.has_errors() {
        return Err(found);
    }
    Ok(decoded)
}

/// Whether `path` (named at `span` as `what`) is a regular file; reports `file-not-found` when
/// not, with `help` saying what paths are relative to.
fn exists(path: &Path, span: Span, what: &str, help: &str, cx: &mut Cx) -> bool {
    if path.is_file() {
        return true;
    }
    cx.push_as_is(Diagnostic::error("file-not-found", format!("{what} {} not found", display_path(path))).at(span).help(help));
    false
}
