//! What the structural-schema validator (`schema`) and the CEL rules (`cel`) both walk with:
//! field paths in steps, printed as the API server prints them (`spec.items[0].name`), the
//! schema of a field, and JSON type names.

use serde_json::Value;

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    Key(String),
    Index(usize),
}

/// `spec.items[0].name`, as the API server prints field paths.
pub(super) fn path_string(path: &[Step]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// `path` with `step` appended.
pub(super) fn child(path: &[Step], step: Step) -> Vec<Step> {
    let mut p = path.to_vec();
    p.push(step);
    p
}

/// The schema of field `key` of an object: a named property, else `additionalProperties`.
pub(super) fn field_schema<'a>(schema: &'a Value, key: &str) -> Option<&'a Value> {
    schema.pointer("/properties").and_then(|p| p.get(key)).or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()))
}

/// The JSON type name of a value, as the schema validator reports what it found.
pub(super) fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
