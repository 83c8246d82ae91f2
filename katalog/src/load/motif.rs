//! Motif expansion (reference §9): inputs are checked and substituted, conditions that no longer
//! contain templates are decided, and the Motif's resources, status fields and admission rules
//! are spliced into the importing CRD entry.

use super::{DocKind, append_list, ensure, entry_mut, read_document};
use crate::decode::{Cx, Decode};
use crate::diag::{Diagnostic, Span, suggest};
use crate::model::Motif;
use crate::yaml::{Node, Scalar, Style, Value};
use std::collections::BTreeMap;

/// An input value after defaults: its text, and whether it is typed (int/number/bool) and so
/// substituted without quotes.
struct Input {
    value: String,
    typed: bool,
}

/// Expands `spec.imports` (profiles and notes) and every CRD's `operatorBox.reconcile.imports`.
pub(crate) fn expand_katalog_imports(mut root: Node, cx: &mut Cx) -> Node {
    // Katalog-wide imports: profiles and notes only.
    let wide: Vec<Node> = root.get("spec").and_then(|s| s.get("imports")).and_then(Node::as_seq).unwrap_or(&[]).to_vec();
    for (i, imp) in wide.iter().enumerate() {
        let Some((motif_node, _)) = cx.in_key("spec", |cx| cx.in_key("imports", |cx| cx.in_index(i, |cx| load_motif(imp, cx)))) else {
            continue;
        };
        for key in ["profiles", "notes"] {
            if let Some(block) = motif_node.get(key) {
                let span = block.span;
                if let Some(slot) = ensure(&mut root, key, Value::Map(Vec::new()), span) {
                    merge_named(slot, block);
                }
            }
        }
    }
    // CRD-level imports.
    let names: Vec<String> = root
        .get("spec")
        .and_then(|s| s.get("crds"))
        .and_then(Node::as_map)
        .unwrap_or(&[])
        .iter()
        .filter_map(|(k, _)| k.as_scalar_text().map(str::to_string))
        .collect();
    for name in names {
        let Some(entry) = entry_mut(&mut root, "spec").and_then(|s| entry_mut(s, "crds")).and_then(|c| entry_mut(c, &name)) else {
            continue;
        };
        let imports: Vec<Node> =
            entry.get("operatorBox").and_then(|o| o.get("reconcile")).and_then(|r| r.get("imports")).and_then(Node::as_seq).unwrap_or(&[]).to_vec();
        for (i, imp) in imports.iter().enumerate() {
            let loaded = cx.in_key("spec", |cx| {
                cx.in_key("crds", |cx| {
                    cx.in_key(&name, |cx| {
                        cx.in_key("operatorBox", |cx| cx.in_key("reconcile", |cx| cx.in_key("imports", |cx| cx.in_index(i, |cx| load_motif(imp, cx)))))
                    })
                })
            });
            if let Some((motif_node, inputs)) = loaded {
                splice(entry, &motif_node, &inputs, imp.span, cx);
            }
        }
    }
    root
}

/// Merges `block` (a Motif's profiles or notes) under the Katalog's own: lists of named items
/// keep the Katalog's item when both define a name (local wins).
fn merge_named(slot: &mut Node, block: &Node) {
    let (Value::Map(dst), Some(src)) = (&mut slot.value, block.as_map()) else { return };
    for (k, v) in src {
        match dst.iter_mut().find(|(dk, _)| dk.as_scalar_text() == k.as_scalar_text()) {
            Some((_, Node { value: Value::Seq(items), .. })) => {
                let names: Vec<String> = items.iter().filter_map(|n| n.get("name").and_then(|x| x.as_scalar_text().map(str::to_string))).collect();
                for item in v.as_seq().unwrap_or(&[]) {
                    let n = item.get("name").and_then(Node::as_scalar_text).unwrap_or("");
                    if !names.iter().any(|x| x == n) {
                        items.push(item.clone());
                    }
                }
            }
            Some(_) => {}
            None => dst.push((k.clone(), v.clone())),
        }
    }
}

/// Reads the Motif named by one import entry, checks its inputs against `with:`, and returns
/// the Motif tree with inputs substituted.
fn load_motif(imp: &Node, cx: &mut Cx) -> Option<(Node, BTreeMap<String, Input>)> {
    let reference = imp.get("motif")?;
    let r = reference.as_scalar_text()?; // a type error is reported by the decoder
    let is_file = r.starts_with("./") || r.starts_with("../") || r.starts_with('/') || r.ends_with(".yaml") || r.ends_with(".yml");
    let path = if is_file {
        let base = reference.span.file.path();
        let path = super::include::join_relative(&base, r);
        if !cx.in_key("motif", |cx| cx.admit(&path, reference.span, "motif")) {
            return None;
        }
        path
    } else {
        let version = imp.get("version").and_then(Node::as_scalar_text);
        let request = super::remote::request(r, version, crate::remote::RemoteKind::Motif, imp, reference.span);
        cx.in_key("motif", |cx| super::remote::fetch(cx, request, reference.span))?.join("motif.yaml")
    };
    let (_, motif_root) = cx.in_key("motif", |cx| {
        let before = cx.diagnostics().error_count();
        let doc = read_document(&path, cx, Some(&[DocKind::Motif]));
        if doc.is_none() && cx.diagnostics().error_count() == before {
            cx.error("motif-not-loaded", reference.span, format!("motif {r} could not be loaded"));
        }
        doc
    })?;
    cx.enter_file(&path);
    // Strict check of the Motif file itself.
    let motif = Motif::decode(&motif_root, cx)?;

    let with = imp.get("with");
    let mut inputs: BTreeMap<String, Input> = BTreeMap::new();
    let declared: Vec<&str> = motif.inputs.iter().filter_map(|i| i.name.as_ref().map(|n| n.as_str())).collect();
    for input in &motif.inputs {
        let Some(name) = input.name.as_ref() else { continue };
        let typed = matches!(
            input.kind,
            Some(crate::model::katalog::InputType::Int | crate::model::katalog::InputType::Number | crate::model::katalog::InputType::Bool)
        );
        let given = with.and_then(|w| w.get(name.as_str()));
        let value = match given {
            Some(v) => v.as_scalar_text().map(str::to_string).unwrap_or_default(),
            None if input.required == Some(true) => {
                cx.push(
                    Diagnostic::error("missing-input", format!("motif `{r}` requires input `{name}`"))
                        .at(imp.span)
                        .help(format!("add `with: {{{name}: ...}}` to this import")),
                );
                // Keep it declared so its uses are not reported again as undeclared.
                inputs.insert(name.value.clone(), Input { value: String::new(), typed });
                continue;
            }
            None => input.default.as_ref().map(|d| d.value.clone()).unwrap_or_default(),
        };
        if input.required == Some(true) && input.default.is_some() {
            cx.push(Diagnostic::warning("required-with-default", format!("input `{name}` is required, so its default is never used")).at(name.span));
        }
        inputs.insert(name.value.clone(), Input { value, typed });
    }
    if let Some(entries) = with.and_then(Node::as_map) {
        for (k, _) in entries {
            let key = k.as_scalar_text().unwrap_or("");
            if !declared.contains(&key) {
                let help = match suggest(key, declared.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None if declared.is_empty() => "this motif declares no inputs".to_string(),
                    None => format!("declared inputs: {}", declared.join(", ")),
                };
                cx.in_key("with", |cx| cx.error_help("unknown-input", k.span, format!("motif `{r}` has no input `{key}`"), help));
            }
        }
    }
    let mut tree = motif_root;
    substitute(&mut tree, &inputs, cx);
    Some((tree, inputs))
}

/// Replaces `{{ .inputs.X }}` / `{{ inputs.X }}` in every string of the tree.
fn substitute(node: &mut Node, inputs: &BTreeMap<String, Input>, cx: &mut Cx) {
    match &mut node.value {
        Value::Scalar(text, style) => {
            if !text.contains("inputs") || !text.contains("{{") {
                return;
            }
            let (new, whole_typed) = substitute_text(text, node.span, inputs, cx);
            *text = new;
            if whole_typed {
                *style = Style::Plain;
            }
        }
        Value::Seq(items) => items.iter_mut().for_each(|n| substitute(n, inputs, cx)),
        Value::Map(entries) => entries.iter_mut().for_each(|(_, v)| substitute(v, inputs, cx)),
        Value::Null => {}
    }
}

/// Substitutes input references in one string. Returns the new text and whether the whole
/// string was a single reference to a typed input (so the result is a number or bool).
fn substitute_text(text: &str, span: Span, inputs: &BTreeMap<String, Input>, cx: &mut Cx) -> (String, bool) {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut whole_typed = false;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else { break };
        let inner = rest[start + 2..start + len].trim().trim_start_matches('-').trim_end_matches('-').trim();
        out.push_str(&rest[..start]);
        let name = inner.strip_prefix(".inputs.").or_else(|| inner.strip_prefix("inputs."));
        match name {
            Some(n) if n.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') => match inputs.get(n) {
                Some(v) => {
                    out.push_str(&v.value);
                    whole_typed = v.typed && start == 0 && len + 2 == rest.len() && out.len() == v.value.len();
                }
                None => {
                    let help = match suggest(n, inputs.keys().map(String::as_str)) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "declare it under `inputs:`".to_string(),
                    };
                    cx.push(Diagnostic::error("undeclared-input", format!("motif references undeclared input `{n}`")).at(span).help(help));
                    out.push_str(&rest[start..start + len + 2]);
                }
            },
            _ if inner.contains("inputs.") => {
                cx.push(
                    Diagnostic::warning("not-supported-yet", format!("input expression `{inner}` is parsed but not evaluated yet"))
                        .at(span)
                        .help("write the input reference alone (`{{ .inputs.name }}`); pipelines over inputs need the template engine"),
                );
                out.push_str(&rest[start..start + len + 2]);
            }
            _ => out.push_str(&rest[start..start + len + 2]),
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    (out, whole_typed)
}

/// Decides conditions without templates; returns false when the entry must be dropped. Decided
/// conditions are removed; the rest stay for reconcile time.
fn decide_conditions(entry: &mut Node) -> bool {
    let mut keep = true;
    for (key, all) in [("when", true), ("or", false)] {
        let Some(list) = entry_mut(entry, key) else { continue };
        let Value::Seq(conds) = &mut list.value else { continue };
        let mut decided: Vec<bool> = Vec::new();
        let mut remaining = Vec::new();
        for c in conds.drain(..) {
            match decide(&c) {
                Some(b) => decided.push(b),
                None => remaining.push(c),
            }
        }
        let undecided = !remaining.is_empty();
        *conds = remaining;
        if all {
            keep &= decided.iter().all(|b| *b);
        } else if !decided.is_empty() && !undecided {
            keep &= decided.iter().any(|b| *b);
        } else if decided.iter().any(|b| *b) {
            // One decided condition already passes: the whole `or` passes.
            conds.clear();
        }
    }
    keep
}

/// Evaluates a template-free condition of the load-time subset; `None` when it must wait.
fn decide(c: &Node) -> Option<bool> {
    let field = c.get("field")?.as_scalar_text()?;
    let has_template = |n: &Node| n.as_scalar_text().is_some_and(|t| t.contains("{{"));
    if field.contains("{{") || c.as_map()?.iter().any(|(_, v)| has_template(v)) {
        return None;
    }
    // A dot path (`spec.x`) is read from the CR at reconcile time; only literal values, which is
    // what an input substitution leaves behind, are decided now.
    let looks_like_path = field.contains('.') && !field.contains(' ');
    if looks_like_path {
        return None;
    }
    let val = |k: &str| c.get(k).and_then(Node::as_scalar_text);
    let negate = c.get("negate").and_then(|n| n.scalar()) == Some(Scalar::Bool(true));
    let r = if let Some(v) = val("equals") {
        field == v
    } else if let Some(v) = val("notEquals") {
        field != v
    } else if let Some(v) = val("contains") {
        field.contains(v)
    } else if let Some(v) = val("prefix") {
        field.starts_with(v)
    } else if let Some(v) = val("suffix") {
        field.ends_with(v)
    } else if c.get("exists").is_some() {
        !field.is_empty()
    } else if c.get("notExists").is_some() {
        field.is_empty()
    } else {
        return None;
    };
    Some(r != negate)
}

/// Splices a Motif (inputs substituted) into a CRD entry node.
fn splice(entry: &mut Node, motif: &Node, _inputs: &BTreeMap<String, Input>, at: Span, cx: &mut Cx) {
    for key in ["profiles", "notes"] {
        if let Some(b) = motif.get(key) {
            cx.push(
                Diagnostic::warning("motif-profiles-ignored", format!("the motif's `{key}` are ignored when it is imported by a CRD"))
                    .at(b.span)
                    .help("import the motif under `spec.imports` too, to use its profiles and notes"),
            );
        }
    }
    let Some(obox) = ensure(entry, "operatorBox", Value::Map(Vec::new()), at) else { return };
    if let Some(resources) = motif.get("resources").and_then(Node::as_map) {
        for (k, v) in resources {
            let key = k.as_scalar_text().unwrap_or("");
            if key == "onCreate" {
                for (kind, items) in v.as_map().unwrap_or(&[]) {
                    splice_list(obox, "onCreate", kind.as_scalar_text().unwrap_or(""), items, at);
                }
            } else {
                splice_list(obox, "onReconcile", key, v, at);
            }
        }
    }
    if let Some(fields) = motif.get("status").and_then(|s| s.get("fields")).and_then(Node::as_seq)
        && let Some(emit) = ensure(obox, "emit", Value::Map(Vec::new()), at)
        && let Some(status) = ensure(emit, "status", Value::Map(Vec::new()), at)
    {
        append_list(status, "fields", fields, at);
    }
    for kind in ["validation", "mutation"] {
        if let Some(rules) = motif.get("admission").and_then(|a| a.get(kind)).and_then(|v| v.get("rules")).and_then(Node::as_seq)
            && let Some(adm) = ensure(entry, "admission", Value::Map(Vec::new()), at)
            && let Some(block) = ensure(adm, kind, Value::Map(Vec::new()), at)
        {
            append_list(block, "rules", rules, at);
        }
    }
}

/// Appends a motif resource list (entries decided at load time) to
/// `operatorBox.reconcile.<phase>.<kind>`.
fn splice_list(obox: &mut Node, phase: &str, kind: &str, items: &Node, at: Span) {
    let Some(list) = items.as_seq() else {
        // Not a list: let the decoder report it where it stands in the CRD.
        if let Some(rec) = ensure(obox, "reconcile", Value::Map(Vec::new()), at)
            && let Some(block) = ensure(rec, phase, Value::Map(Vec::new()), at)
        {
            block_insert(block, kind, items.clone());
        }
        return;
    };
    let kept: Vec<Node> = list.iter().cloned().filter_map(|mut e| if decide_conditions(&mut e) { Some(e) } else { None }).collect();
    if let Some(rec) = ensure(obox, "reconcile", Value::Map(Vec::new()), at)
        && let Some(block) = ensure(rec, phase, Value::Map(Vec::new()), at)
    {
        append_list(block, kind, &kept, at);
    }
}

fn block_insert(block: &mut Node, key: &str, value: Node) {
    if let Value::Map(m) = &mut block.value {
        let span = value.span;
        m.push((Node::new(Value::Scalar(key.to_string(), Style::Plain), span), value));
    }
}
