//! Block-style YAML from JSON values: deterministic, quoted only where a plain scalar would read
//! back as something else, multi-line strings as literal blocks.

/// Writes a JSON value as block-style YAML: keys in the value's (sorted) order, strings quoted
/// only when a plain scalar would read back as something else. Deterministic byte for byte.
pub fn emit(v: &serde_json::Value) -> String {
    let mut out = String::new();
    emit_value(&mut out, v, 0, false);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn emit_value(out: &mut String, v: &serde_json::Value, indent: usize, in_seq: bool) {
    use serde_json::Value as J;
    match v {
        J::Object(m) if !m.is_empty() => {
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 || !in_seq {
                    if !out.is_empty() && !out.ends_with('\n') {
                        out.push('\n');
                    }
                    out.push_str(&" ".repeat(indent));
                }
                out.push_str(&emit_scalar_str(k));
                out.push(':');
                emit_child(out, item, indent);
            }
        }
        J::Array(items) if !items.is_empty() => {
            for item in items {
                if !out.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str(&" ".repeat(indent));
                out.push_str("- ");
                match item {
                    J::Object(m) if !m.is_empty() => emit_value(out, item, indent + 2, true),
                    J::Array(a) if !a.is_empty() => {
                        out.push('\n');
                        emit_value(out, item, indent + 2, false);
                    }
                    J::String(text) if literal_ok(text) => emit_literal(out, text, indent + 2),
                    _ => out.push_str(&emit_scalar(item)),
                }
            }
        }
        _ => out.push_str(&emit_scalar(v)),
    }
}

/// A multi-line string reads best (and diffs line by line) as a literal block. Not for text
/// with characters a literal block cannot hold, or whose first line starts with a space (that
/// would need an indentation indicator).
fn literal_ok(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with(' ')
        && !s.starts_with('\n')
        && s.chars().all(|c| c == '\n' || c == '\t' || !c.is_control())
        && !s.contains('\u{feff}')
        && s.trim_end_matches('\n').lines().all(|l| !l.ends_with(' ') && !l.ends_with('\t'))
}

/// `|`, `|-` or `|+` by the trailing newlines, then the lines indented.
fn emit_literal(out: &mut String, s: &str, indent: usize) {
    let body = s.trim_end_matches('\n');
    let chomp = match s.len() - body.len() {
        0 => "|-",
        1 => "|",
        _ => "|+",
    };
    out.push_str(chomp);
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            out.push_str(&" ".repeat(indent));
            out.push_str(line);
        }
    }
    let trailing = s.len() - body.len();
    if trailing > 1 {
        // Keep chomping: every trailing newline is content; the emitter starts the next key
        // on a fresh line without adding one.
        out.push_str(&"\n".repeat(trailing));
    }
}

fn emit_child(out: &mut String, v: &serde_json::Value, indent: usize) {
    use serde_json::Value as J;
    match v {
        J::Object(m) if !m.is_empty() => {
            out.push('\n');
            emit_value(out, v, indent + 2, false);
        }
        J::Array(a) if !a.is_empty() => {
            out.push('\n');
            emit_value(out, v, indent, false);
        }
        J::String(text) if literal_ok(text) => {
            out.push(' ');
            emit_literal(out, text, indent + 2);
        }
        _ => {
            out.push(' ');
            out.push_str(&emit_scalar(v));
        }
    }
}

fn emit_scalar(v: &serde_json::Value) -> String {
    use serde_json::Value as J;
    match v {
        J::Null => "null".into(),
        J::Bool(b) => b.to_string(),
        J::Number(n) => n.to_string(),
        J::String(s) => emit_scalar_str(s),
        J::Array(_) => "[]".into(),
        J::Object(_) => "{}".into(),
    }
}

/// A string as a YAML scalar: plain when unambiguous, else JSON-style double-quoted (which YAML
/// reads identically).
pub fn emit_scalar_str(s: &str) -> String {
    if plain_safe(s) { s.to_string() } else { serde_json::Value::String(s.to_string()).to_string() }
}

fn plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else { return false };
    if !(first.is_ascii_alphabetic() || first == '/' || first == '_') {
        return false;
    }
    if s.ends_with(' ') || s.ends_with(':') {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    if matches!(lower.as_str(), "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "~") {
        return false;
    }
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let ok = b.is_ascii_alphanumeric()
            || matches!(b, b'.' | b'_' | b'/' | b'-' | b'+' | b'=' | b'(' | b')' | b'$' | b'^' | b'<' | b'>' | b';')
            || (b == b' ' && bytes.get(i + 1).is_some_and(|n| *n != b'#'))
            || (b == b':' && bytes.get(i + 1).is_some_and(|n| *n != b' '));
        if !ok {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, parse};
    use serde_json::json;

    #[test]
    fn multi_line_strings_are_literal_blocks_and_read_back_identically() {
        let texts = ["a\nb\n", "a\nb", "a\n\nb\n\n\n", "{{ if .x }}\n  y: 1\n{{ end }}\n", "x:\n\tz\n", " lead\nx", "trail \nx"];
        for t in texts {
            let v = serde_json::json!({"k": t, "list": [t], "z": 1});
            let y = emit(&v);
            let docs = parse(&y, crate::diag::FileId::intern(std::path::Path::new("t.yaml")), Limits::default()).unwrap();
            assert_eq!(docs[0].root.to_json(), v, "{t:?} emitted as\n{y}");
        }
        assert!(emit(&serde_json::json!({"k": "a\nb\n"})).contains("k: |\n  a\n  b\n"));
    }

    #[test]
    fn emits_block_yaml_that_reads_back() {
        let v = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"a": "true", "b": "8080", "c": ""}},
            "spec": {"replicas": 2, "list": [{"name": "x", "ports": [1, 2]}, "plain", ["nested"]], "empty": {}, "none": [],
                     "url": "http://x.y:80/p", "image": "nginx:1.27", "odd": "a: b", "hash": "x #y", "multi": "l1\nl2", "null": null}
        });
        let text = emit(&v);
        let docs = parse(&text, crate::diag::FileId::intern(std::path::Path::new("emit.yaml")), Limits::default()).unwrap();
        assert_eq!(docs[0].root.to_json(), v, "{text}");
        assert!(text.contains("  replicas: 2\n"), "{text}");
        assert!(text.contains("image: nginx:1.27\n"), "{text}");
        assert!(text.contains("a: \"true\"\n"), "{text}");
    }
}
