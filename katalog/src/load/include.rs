//! Reading files and expanding `include:`: the file side of loading, which the decoder calls
//! back into ([`crate::decode::IncludeReader`]) so that decoding itself reads no files.
//!
//! An `include: FILE` on a block that accepts includes reads FILE (relative to the file that
//! names it, inside the pattern root), checks its top-level keys, and merges the inline block
//! over it; [`resolve_includes`] gives the document back as decoded, with no include left.

use crate::decode::Cx;
use crate::diag::{Diagnostic, FileId, display_path, suggest};
use crate::files::PatternRoot;
use crate::yaml::{self, Limits, Node, Value};
use std::path::{Path, PathBuf};

/// A decoding context that expands `include:` files (which must stay inside `root`).
pub fn context(limits: Limits, root: PatternRoot) -> Cx {
    Cx::with_root(limits, root).reading_includes(expand)
}

/// Resolves `include: FILE` on a block: reads FILE (relative to the file that names it),
/// checks that its top-level keys are among `keys`, and merges the inline block over it
/// (lists: included items first, an inline item with the same `name` replaces an included
/// one; mappings: inline keys win). Returns the merged node, or the input when there is no
/// include. Include cycles are errors. The [`crate::decode::IncludeReader`] of [`context`].
pub fn expand(cx: &mut Cx, node: &Node, keys: &[&str]) -> Option<Node> {
    let entries = node.as_map()?;
    let (inc_key, inc_val) = entries.iter().find(|(k, _)| k.as_scalar_text() == Some("include"))?;
    let rest: Vec<(Node, Node)> = entries.iter().filter(|(k, _)| k.as_scalar_text() != Some("include")).cloned().collect();
    let inline = Node::new(Value::Map(rest), node.span);
    let Some(rel) = inc_val.as_str() else {
        cx.in_key("include", |cx| cx.type_error(inc_val, "a file path"));
        return Some(inline);
    };
    let base = inc_key.span.file.path();
    let path = join_relative(&base, rel);
    if !cx.in_key("include", |cx| cx.admit(&path, inc_val.span, "include")) {
        return Some(inline);
    }
    let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
    if cx.include_stack().contains(&canonical) {
        let chain: Vec<String> = cx.include_stack().iter().chain(std::iter::once(&canonical)).map(|p| display_path(p)).collect();
        cx.in_key("include", |cx| {
            cx.error_help(
                "include-cycle",
                inc_val.span,
                format!("include cycle: {}", chain.join(" -> ")),
                "remove one of the includes so that no file includes itself",
            )
        });
        return Some(inline);
    }
    let included = match read_yaml_file(&path, cx.limits()) {
        Ok(docs) => docs,
        Err(d) => {
            let d = Diagnostic { span: d.span.or(Some(inc_val.span)), ..d };
            cx.in_key("include", |cx| cx.push(d));
            return Some(inline);
        }
    };
    let Some(root) = included.into_iter().next().map(|d| d.root) else {
        return Some(inline);
    };
    if root.is_null() {
        return Some(inline);
    }
    let Some(file_entries) = root.as_map() else {
        cx.in_key("include", |cx| {
            cx.error_help(
                "wrong-type",
                root.span,
                format!("included file must be an object, got {}", root.type_name()),
                format!("start the file with one of: {}", keys.join(", ")),
            )
        });
        return Some(inline);
    };
    if let [wrapper] = keys
        && let Some(key) = wrapper.strip_prefix('*')
    {
        let mut inner = None;
        for (k, v) in file_entries {
            if k.as_scalar_text() == Some(key) {
                inner = Some(v.clone());
            } else {
                let name = k.as_scalar_text().unwrap_or("");
                cx.push_as_is(
                    Diagnostic::error("unknown-field", format!("unknown top-level key `{name}` in included file"))
                        .at(k.span)
                        .path(name.to_string())
                        .help(format!("the file must have exactly one top-level key: `{key}`")),
                );
            }
        }
        cx.push_include(canonical);
        let base = inner.unwrap_or_else(|| Node::new(Value::Map(Vec::new()), root.span));
        return Some(merge_included(base, inline));
    }
    let mut kept = Vec::new();
    for (k, v) in file_entries {
        let name = k.as_scalar_text().unwrap_or("");
        if keys.contains(&name) {
            kept.push((k.clone(), v.clone()));
        } else {
            let mut d = Diagnostic::error("unknown-field", format!("unknown top-level key `{name}` in included file")).at(k.span).path(name.to_string());
            d = match suggest(name, keys.iter().copied()) {
                Some(s) => d.help(format!("did you mean `{s}`? (valid keys: {})", keys.join(", "))),
                None => d.help(format!("valid keys: {}", keys.join(", "))),
            };
            cx.push_as_is(d);
        }
    }
    cx.push_include(canonical);
    let merged = merge_included(Node::new(Value::Map(kept), root.span), inline);
    Some(merged)
}

/// Resolves `rel` against the directory of the file `base`, dropping `.` components so that
/// messages show `dir/x.yaml`, not `dir/./x.yaml`.
pub fn join_relative(base: &Path, rel: &str) -> PathBuf {
    let mut out = base.parent().map(Path::to_path_buf).unwrap_or_default();
    for c in Path::new(rel).components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir if out.file_name().is_some_and(|n| n != "..") => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Reads and parses a YAML file, applying `limits` (`max_bytes` while reading: see
/// [`crate::files::read_bounded`]).
pub fn read_yaml_file(path: &Path, limits: Limits) -> Result<Vec<yaml::Document>, Diagnostic> {
    let text = crate::files::read_text_bounded(path, limits.max_bytes)?;
    yaml::parse(&text, FileId::intern(path), limits)
}

/// Every document of a YAML file (CR files, observed children, bundles) as JSON values, empty
/// documents left out, under `limits`.
pub fn read_yaml_values(path: &Path, limits: Limits) -> Result<Vec<serde_json::Value>, Diagnostic> {
    Ok(read_yaml_file(path, limits)?.into_iter().map(|d| d.root.to_json()).filter(|v| !v.is_null()).collect())
}

/// Merges an inline block over the content of its included file.
fn merge_included(base: Node, over: Node) -> Node {
    match (base.value, over.value) {
        (Value::Map(mut b), Value::Map(o)) => {
            for (ok, ov) in o {
                let key = ok.as_scalar_text().map(str::to_string);
                match b.iter().position(|(bk, _)| bk.as_scalar_text().map(str::to_string) == key) {
                    Some(i) => {
                        let (bk, bv) = b.remove(i);
                        let _ = bk;
                        b.insert(i, (ok, merge_included(bv, ov)));
                    }
                    None => b.push((ok, ov)),
                }
            }
            Node::new(Value::Map(b), over.span)
        }
        (Value::Seq(b), Value::Seq(o)) => {
            let name_of = |n: &Node| n.get("name").and_then(|v| v.as_scalar_text()).map(str::to_string);
            let inline_names: Vec<String> = o.iter().filter_map(name_of).collect();
            let mut items: Vec<Node> = b.into_iter().filter(|n| name_of(n).is_none_or(|nm| !inline_names.contains(&nm))).collect();
            items.extend(o);
            Node::new(Value::Seq(items), over.span)
        }
        (_, ov) => Node::new(ov, over.span),
    }
}

/// `node` with every block that was decoded through an `include:` (as recorded in `includes`,
/// from [`Cx::take_includes`]) replaced by its merged content: the document as decoded, with no
/// include left.
pub fn resolve_includes(node: &Node, includes: &[(Node, Node)]) -> Node {
    if node.get("include").is_some()
        && let Some((_, merged)) = includes.iter().find(|(orig, _)| orig == node)
    {
        return resolve_includes(merged, includes);
    }
    let value = match &node.value {
        Value::Map(entries) => Value::Map(entries.iter().map(|(k, v)| (k.clone(), resolve_includes(v, includes))).collect()),
        Value::Seq(items) => Value::Seq(items.iter().map(|v| resolve_includes(v, includes)).collect()),
        other => other.clone(),
    };
    Node::new(value, node.span)
}
