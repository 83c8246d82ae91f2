//! A custom resource against its CRD's structural schema (`openAPIV3Schema` of the stored
//! version), as kube-apiserver treats it on every write: unknown fields are pruned, defaults are
//! applied (and `null` in a field that is neither nullable nor defaulted is dropped), then the
//! object is validated and every violation is reported, worded as the API server words it
//! (`spec.size: Invalid value: 50: spec.size in body should be less than or equal to 10`).
//!
//! What is enforced: `type` (integer apart from number), `nullable`, `enum`, `required`,
//! `minimum`/`maximum` (and exclusive), `multipleOf`, `minLength`/`maxLength`, `pattern`,
//! the formats the API server checks (see [`format_ok`]), `minItems`/`maxItems`,
//! `minProperties`/`maxProperties`, `additionalProperties`, `allOf`/`anyOf`/`oneOf`/`not`,
//! `x-kubernetes-preserve-unknown-fields`, `x-kubernetes-int-or-string`,
//! `x-kubernetes-embedded-resource`, `x-kubernetes-list-type: set`/`map` uniqueness, and (with
//! the `cel` feature, in every build with the dev cluster) the `x-kubernetes-validations` CEL
//! rules (see `cel.rs`). Not enforced: `uniqueItems` (the API server refuses a CRD that sets
//! it). On update, violations in fields the update leaves unchanged are let through
//! (the API server's validation ratcheting, roughly: by equal value at the same path).
//!
//! Pure functions over `serde_json::Value`; `MemCluster` calls them for kinds that have a schema.

use super::FieldError;
use super::structural::{Step, child, field_schema, path_string, type_of};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// A violation, with the path kept in steps for ratcheting.
struct Violation {
    path: Vec<Step>,
    /// Where to report it when not at `path` (a CEL rule's `fieldPath`).
    at: Option<String>,
    detail: String,
}

fn is(schema: &Value, key: &str) -> bool {
    schema.get(key).and_then(Value::as_bool) == Some(true)
}

/// Whether the object at this schema node keeps fields its schema does not name.
fn preserves(schema: &Value) -> bool {
    is(schema, "x-kubernetes-preserve-unknown-fields") || schema.get("additionalProperties").and_then(Value::as_bool) == Some(true)
}

/// Whether `key` of an object is kept though its schema does not name it: `apiVersion`, `kind`
/// and `metadata` at the root and in an embedded resource.
fn implicit(root: bool, schema: &Value, key: &str) -> bool {
    (root || is(schema, "x-kubernetes-embedded-resource")) && matches!(key, "apiVersion" | "kind" | "metadata")
}

/// Prunes the fields of `obj` its schema does not know and applies defaults, in place, as the
/// API server does on decoding a custom resource. Returns the pruned fields' paths
/// (`spec.bogus`), for `fieldValidation`.
pub(super) fn prune_and_default(schema: &Value, obj: &mut Value) -> Vec<String> {
    let mut pruned = Vec::new();
    walk(schema, obj, &[], true, &mut pruned, true);
    pruned
}

/// Prunes the fields of `obj` its schema does not know, applying no defaults: a server-side
/// apply configuration, whose manager owns what it sent and the schema keeps, not the defaults.
pub(super) fn prune(schema: &Value, obj: &mut Value) {
    walk(schema, obj, &[], true, &mut Vec::new(), false);
}

/// The fields `prune_and_default` would prune from `obj`.
pub(super) fn unknown_fields(schema: &Value, obj: &Value) -> Vec<String> {
    prune_and_default(schema, &mut obj.clone())
}

fn walk(schema: &Value, v: &mut Value, path: &[Step], root: bool, pruned: &mut Vec<String>, defaults: bool) {
    match v {
        Value::Object(m) => {
            // The metadata of the object (and of embedded resources) is ObjectMeta, which the
            // schema does not describe.
            let keep_all = preserves(schema);
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                if implicit(root, schema, &k) {
                    continue;
                }
                match field_schema(schema, &k) {
                    Some(s) => {
                        if m.get(&k).is_some_and(Value::is_null) && !is(s, "nullable") {
                            // A null where null is not allowed: dropped, then defaulted below.
                            m.remove(&k);
                            continue;
                        }
                        if let Some(x) = m.get_mut(&k) {
                            walk(s, x, &child(path, Step::Key(k.clone())), false, pruned, defaults);
                        }
                    }
                    None if keep_all => {}
                    None => {
                        m.remove(&k);
                        pruned.push(path_string(&child(path, Step::Key(k))));
                    }
                }
            }
            if defaults {
                default_into(schema, m, path, pruned);
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items").filter(|s| s.is_object()) {
                for (i, x) in items.iter_mut().enumerate() {
                    walk(s, x, &child(path, Step::Index(i)), false, pruned, defaults);
                }
            }
        }
        _ => {}
    }
}

/// Sets each absent property that has a `default` (itself pruned and defaulted).
fn default_into(schema: &Value, m: &mut Map<String, Value>, path: &[Step], pruned: &mut Vec<String>) {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else { return };
    for (k, s) in props {
        if m.contains_key(k) {
            continue;
        }
        if let Some(d) = s.get("default") {
            let mut d = d.clone();
            walk(s, &mut d, &child(path, Step::Key(k.clone())), false, pruned, true);
            m.insert(k.clone(), d);
        }
    }
}

/// Everything wrong with `obj` (pruned and defaulted already) under `schema`. With `old` (an
/// update), violations at paths whose value the update did not change are not reported.
pub(super) fn validate(schema: &Value, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let mut out = Vec::new();
    check(schema, obj, &[], true, &mut out);
    #[cfg(feature = "cel")]
    out.extend(super::cel::rules(schema, obj, old).into_iter().map(|f| Violation { path: f.path, at: f.at, detail: f.detail }));
    out.into_iter()
        .filter(|v| !old.is_some_and(|old| unchanged(old, obj, &v.path)))
        .map(|v| FieldError { field: v.at.unwrap_or_else(|| path_string(&v.path)), detail: v.detail })
        .collect()
}

fn at<'a>(mut v: &'a Value, path: &[Step]) -> Option<&'a Value> {
    for step in path {
        v = match step {
            Step::Key(k) => v.get(k)?,
            Step::Index(i) => v.get(*i)?,
        };
    }
    Some(v)
}

fn unchanged(old: &Value, new: &Value, path: &[Step]) -> bool {
    at(old, path) == at(new, path)
}

/// How the API server shows a value in a field error: strings quoted, numbers and booleans bare.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// A limit as Go's `%v` prints it: `10`, `10.5`.
fn limit(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { format!("{n}") }
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.as_number().is_some_and(|n| n.is_i64() || n.is_u64()),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        _ => true,
    }
}

fn check(schema: &Value, v: &Value, path: &[Step], root: bool, out: &mut Vec<Violation>) {
    let name = if path.is_empty() { ".".to_string() } else { path_string(path) };
    let mut push = |detail: String| out.push(Violation { path: path.to_vec(), at: None, detail });
    let invalid = |value: &str, message: String| format!("Invalid value: {value}: {name} in body {message}");
    if v.is_null() {
        if !is(schema, "nullable") && schema.get("type").is_some() {
            let t = schema.get("type").and_then(Value::as_str).unwrap_or_default();
            push(invalid("\"null\"", format!("must be of type {t}: \"null\"")));
        }
        return;
    }
    if is(schema, "x-kubernetes-int-or-string") {
        if !(type_ok("integer", v) || v.is_string()) {
            let found = type_of(v);
            push(invalid(&format!("{found:?}"), format!("must be of type integer,string: {found:?}")));
            return;
        }
    } else if let Some(t) = schema.get("type").and_then(Value::as_str)
        && !type_ok(t, v)
    {
        let found = type_of(v);
        push(invalid(&format!("{found:?}"), format!("must be of type {t}: {found:?}")));
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(v)
    {
        let list: Vec<String> = allowed.iter().map(|a| format!("{:?}", a.as_str().map_or_else(|| a.to_string(), str::to_string))).collect();
        push(format!("Unsupported value: {}: supported values: {}", shown(v), list.join(", ")));
    }
    match v {
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or_default();
            let num = |k: &str| schema.get(k).and_then(Value::as_f64);
            if let Some(max) = num("maximum") {
                if is(schema, "exclusiveMaximum") && x >= max {
                    push(invalid(&n.to_string(), format!("should be less than {}", limit(max))));
                } else if x > max {
                    push(invalid(&n.to_string(), format!("should be less than or equal to {}", limit(max))));
                }
            }
            if let Some(min) = num("minimum") {
                if is(schema, "exclusiveMinimum") && x <= min {
                    push(invalid(&n.to_string(), format!("should be greater than {}", limit(min))));
                } else if x < min {
                    push(invalid(&n.to_string(), format!("should be greater than or equal to {}", limit(min))));
                }
            }
            if let Some(m) = num("multipleOf").filter(|m| *m > 0.0)
                && ((x / m) - (x / m).round()).abs() > 1e-9
            {
                push(invalid(&n.to_string(), format!("should be a multiple of {}", limit(m))));
            }
        }
        Value::String(s) if !is(schema, "x-kubernetes-int-or-string") || schema.get("type").is_some() => {
            let len = s.chars().count() as u64;
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
                && len > max
            {
                push(format!("Too long: may not be longer than {max}"));
            }
            if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
                && len < min
            {
                push(invalid(&shown(v), format!("should be at least {min} chars long")));
            }
            if let Some(p) = schema.get("pattern").and_then(Value::as_str)
                && !pattern_matches(p, s)
            {
                push(invalid(&shown(v), format!("should match '{p}'")));
            }
            if let Some(f) = schema.get("format").and_then(Value::as_str)
                && !format_ok(f, s)
            {
                push(invalid(&shown(v), format!("must be of type {f}: {}", shown(v))));
            }
        }
        Value::String(_) => {}
        Value::Array(items) => {
            let len = items.len() as u64;
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
                && len > max
            {
                push(format!("Too many: {len}: must have at most {max} items"));
            }
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
                && len < min
            {
                push(invalid(&len.to_string(), format!("should have at least {min} items")));
            }
            list_type(schema, items, path, out);
            if let Some(s) = schema.get("items").filter(|s| s.is_object()) {
                for (i, x) in items.iter().enumerate() {
                    check(s, x, &child(path, Step::Index(i)), false, out);
                }
            }
        }
        Value::Object(m) => {
            let len = m.len() as u64;
            if let Some(max) = schema.get("maxProperties").and_then(Value::as_u64)
                && len > max
            {
                push(format!("Too many: {len}: must have at most {max} items"));
            }
            if let Some(min) = schema.get("minProperties").and_then(Value::as_u64)
                && len < min
            {
                push(invalid(&min.to_string(), format!("should have at least {min} properties")));
            }
            for r in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
                if !m.contains_key(r) {
                    out.push(Violation { path: child(path, Step::Key(r.to_string())), at: None, detail: "Required value".into() });
                }
            }
            if is(schema, "x-kubernetes-embedded-resource") {
                for k in ["apiVersion", "kind"] {
                    if m.get(k).and_then(Value::as_str).is_none_or(str::is_empty) {
                        out.push(Violation { path: child(path, Step::Key(k.to_string())), at: None, detail: "Required value: must not be empty".into() });
                    }
                }
            }
            for (k, x) in m {
                if root && k == "metadata" {
                    continue;
                }
                if let Some(s) = field_schema(schema, k) {
                    check(s, x, &child(path, Step::Key(k.clone())), false, out);
                }
            }
        }
        _ => {}
    }
    combinators(schema, v, path, out);
}

/// `allOf` (each applies), `anyOf` (one must), `oneOf` (exactly one must), `not` (must not).
fn combinators(schema: &Value, v: &Value, path: &[Step], out: &mut Vec<Violation>) {
    let name = if path.is_empty() { ".".to_string() } else { path_string(path) };
    let passes = |s: &Value| {
        let mut errs = Vec::new();
        check(s, v, path, false, &mut errs);
        errs.is_empty()
    };
    for s in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        check(s, v, path, false, out);
    }
    let mut fail = |what: &str| out.push(Violation { path: path.to_vec(), at: None, detail: format!("Invalid value: {}: {name} in body {what}", shown(v)) });
    if let Some(any) = schema.get("anyOf").and_then(Value::as_array)
        && !any.iter().any(passes)
    {
        fail("must validate at least one schema (anyOf)");
    }
    if let Some(one) = schema.get("oneOf").and_then(Value::as_array)
        && one.iter().filter(|s| passes(s)).count() != 1
    {
        fail("must validate one and only one schema (oneOf)");
    }
    if let Some(not) = schema.get("not").filter(|s| s.is_object())
        && passes(not)
    {
        fail("must not validate the schema (not)");
    }
}

/// `x-kubernetes-list-type: set` (no item twice) and `map` (no two items with the same
/// `x-kubernetes-list-map-keys`): each repeat is a `Duplicate value` at its index.
fn list_type(schema: &Value, items: &[Value], path: &[Step], out: &mut Vec<Violation>) {
    let keys: Vec<&str> = schema.get("x-kubernetes-list-map-keys").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let identity = |x: &Value| -> Value {
        match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("map") => Value::Object(keys.iter().filter_map(|k| Some((k.to_string(), x.get(*k)?.clone()))).collect()),
            _ => x.clone(),
        }
    };
    if !matches!(schema.get("x-kubernetes-list-type").and_then(Value::as_str), Some("set" | "map")) {
        return;
    }
    let mut seen: Vec<Value> = Vec::new();
    for (i, x) in items.iter().enumerate() {
        let id = identity(x);
        if seen.contains(&id) {
            out.push(Violation { path: child(path, Step::Index(i)), at: None, detail: format!("Duplicate value: {}", shown(&id)) });
        } else {
            seen.push(id);
        }
    }
}

/// Compiled patterns, by source: a pattern is compiled once, however many objects it checks.
fn compiled(p: &str) -> Option<Arc<regex::Regex>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<Arc<regex::Regex>>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    let mut c = cache.lock().unwrap_or_else(|p| p.into_inner());
    if c.len() > 1024 {
        c.clear();
    }
    c.entry(p.to_string()).or_insert_with(|| regex::Regex::new(p).ok().map(Arc::new)).clone()
}

/// Whether `s` matches `pattern` (unanchored, as ECMA-262 `test`); a pattern that does not
/// compile matches everything (the API server refuses such a CRD in the first place).
fn pattern_matches(pattern: &str, s: &str) -> bool {
    compiled(pattern).is_none_or(|re| re.is_match(s))
}

/// Whether `s` is of string format `f`. Checked, as the API server's format registry checks
/// them: `date-time`, `date`, `byte` (base64), `uuid` (and `uuid3`/`uuid4`/`uuid5`),
/// `hostname`, `ipv4`, `ipv6`, `cidr`, `mac`, `duration`, `email`, `uri`. Others (`int32`,
/// `int64`, `password`, …) are not checked, as there.
pub(super) fn format_ok(f: &str, s: &str) -> bool {
    let all = |s: &str, ok: fn(char) -> bool| !s.is_empty() && s.chars().all(ok);
    match f {
        "date-time" | "datetime" => katalog::time::parse_rfc3339(s).is_ok(),
        "date" => {
            let p: Vec<&str> = s.split('-').collect();
            p.len() == 3
                && p[0].len() == 4
                && p[1].len() == 2
                && p[2].len() == 2
                && p.iter().all(|x| all(x, |c| c.is_ascii_digit()))
                && (1..=12).contains(&p[1].parse::<u32>().unwrap_or(0))
                && (1..=31).contains(&p[2].parse::<u32>().unwrap_or(0))
        }
        "byte" => katalog::template::base64_decode(s).is_ok(),
        "uuid" | "uuid3" | "uuid4" | "uuid5" => {
            let p: Vec<&str> = s.split('-').collect();
            let lens = [8, 4, 4, 4, 12];
            p.len() == 5 && p.iter().zip(lens).all(|(x, n)| x.len() == n && all(x, |c| c.is_ascii_hexdigit()))
        }
        "hostname" => {
            s.len() <= 253
                && s.split('.')
                    .all(|l| !l.is_empty() && l.len() <= 63 && all(l, |c| c.is_ascii_alphanumeric() || c == '-') && !l.starts_with('-') && !l.ends_with('-'))
        }
        "ipv4" => s.parse::<std::net::Ipv4Addr>().is_ok(),
        "ipv6" => s.parse::<std::net::Ipv6Addr>().is_ok(),
        "cidr" => s.split_once('/').is_some_and(|(ip, bits)| {
            let max = if ip.parse::<std::net::Ipv4Addr>().is_ok() {
                32
            } else if ip.parse::<std::net::Ipv6Addr>().is_ok() {
                128
            } else {
                return false;
            };
            bits.parse::<u32>().is_ok_and(|b| b <= max)
        }),
        "mac" => {
            let p: Vec<&str> = s.split([':', '-']).collect();
            matches!(p.len(), 6 | 8 | 20) && p.iter().all(|x| x.len() == 2 && all(x, |c| c.is_ascii_hexdigit()))
        }
        "duration" => duration_ok(s),
        "email" => s.split_once('@').is_some_and(|(u, d)| !u.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')),
        "uri" => s.split_once(':').is_some_and(|(scheme, _)| scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())),
        _ => true,
    }
}

/// A Go duration (`1h30m`, `250ms`, `-1.5s`) or the short forms the format also takes (`3d`, `1w`).
fn duration_ok(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    if s == "0" {
        return true;
    }
    let units = ["ns", "us", "µs", "ms", "s", "m", "h", "d", "w"];
    let mut rest = s;
    let mut any = false;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let Some(unit) = units.iter().filter(|u| rest.starts_with(**u)).max_by_key(|u| u.len()) else { return false };
        rest = &rest[unit.len()..];
        any = true;
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "properties": {
            "spec": {"type": "object", "required": ["image"], "properties": {
                "size": {"type": "integer", "maximum": 10, "minimum": 1},
                "image": {"type": "string", "minLength": 2, "maxLength": 5, "pattern": "^[a-z]+$"},
                "mode": {"type": "string", "enum": ["a", "b"]},
                "ratio": {"type": "number", "exclusiveMaximum": true, "maximum": 1, "exclusiveMinimum": true, "minimum": 0, "multipleOf": 0.25},
                "on": {"type": "boolean"},
                "tags": {"type": "array", "maxItems": 2, "minItems": 1, "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
                "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"], "items": {"type": "object", "properties": {"name": {"type": "string"}, "port": {"type": "integer"}}}},
                "labels": {"type": "object", "maxProperties": 2, "minProperties": 1, "additionalProperties": {"type": "string"}},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "port": {"x-kubernetes-int-or-string": true},
                "note": {"type": "string", "nullable": true},
                "replicas": {"type": "integer", "default": 1},
                "when": {"type": "string", "format": "date-time"},
                "tmpl": {"type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true},
            }},
            "status": {"type": "object", "properties": {"phase": {"type": "string"}}},
        }})
    }

    fn errors(obj: Value) -> Vec<String> {
        let mut obj = obj;
        prune_and_default(&schema(), &mut obj);
        validate(&schema(), &obj, None).iter().map(|e| format!("{}: {}", e.field, e.detail)).collect()
    }

    fn cr(spec: Value) -> Value {
        json!({"apiVersion": "x.io/v1", "kind": "W", "metadata": {"name": "w", "bogus": 1}, "spec": spec})
    }

    #[test]
    fn a_valid_object_has_no_errors() {
        assert!(errors(cr(json!({"image": "ab", "size": 3}))).is_empty());
    }

    #[test]
    fn maximum_and_required_are_both_reported() {
        assert_eq!(
            errors(cr(json!({"size": 50}))),
            ["spec.image: Required value", "spec.size: Invalid value: 50: spec.size in body should be less than or equal to 10"]
        );
        assert_eq!(errors(cr(json!({"image": "ab", "size": 0}))), ["spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1"]);
    }

    #[test]
    fn types_tell_integer_from_number() {
        assert_eq!(
            errors(cr(json!({"image": "ab", "size": 2.5}))),
            ["spec.size: Invalid value: \"number\": spec.size in body must be of type integer: \"number\""]
        );
        assert_eq!(
            errors(cr(json!({"image": "ab", "size": "2"}))),
            ["spec.size: Invalid value: \"string\": spec.size in body must be of type integer: \"string\""]
        );
        assert_eq!(
            errors(cr(json!({"image": "ab", "on": "yes"}))),
            ["spec.on: Invalid value: \"string\": spec.on in body must be of type boolean: \"string\""]
        );
        assert_eq!(errors(cr(json!({"image": "ab", "ratio": 0.5}))), Vec::<String>::new());
        assert_eq!(errors(json!({"spec": []})), ["spec: Invalid value: \"array\": spec in body must be of type object: \"array\""]);
    }

    #[test]
    fn exclusive_bounds_and_multiple_of() {
        assert_eq!(errors(cr(json!({"image": "ab", "ratio": 1}))), ["spec.ratio: Invalid value: 1: spec.ratio in body should be less than 1"]);
        assert_eq!(errors(cr(json!({"image": "ab", "ratio": 0}))), ["spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0"]);
        assert_eq!(errors(cr(json!({"image": "ab", "ratio": 0.3}))), ["spec.ratio: Invalid value: 0.3: spec.ratio in body should be a multiple of 0.25"]);
    }

    #[test]
    fn string_lengths_and_pattern() {
        assert_eq!(errors(cr(json!({"image": "abcdef"}))), ["spec.image: Too long: may not be longer than 5"]);
        assert_eq!(errors(cr(json!({"image": "a"}))), ["spec.image: Invalid value: \"a\": spec.image in body should be at least 2 chars long"]);
        assert_eq!(errors(cr(json!({"image": "AB"}))), ["spec.image: Invalid value: \"AB\": spec.image in body should match '^[a-z]+$'"]);
    }

    #[test]
    fn enum_lists_the_supported_values() {
        assert_eq!(errors(cr(json!({"image": "ab", "mode": "c"}))), ["spec.mode: Unsupported value: \"c\": supported values: \"a\", \"b\""]);
    }

    #[test]
    fn item_and_property_counts() {
        assert_eq!(errors(cr(json!({"image": "ab", "tags": ["a", "b", "c"]}))), ["spec.tags: Too many: 3: must have at most 2 items"]);
        assert_eq!(errors(cr(json!({"image": "ab", "tags": []}))), ["spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items"]);
        assert_eq!(errors(cr(json!({"image": "ab", "labels": {"a": "1", "b": "2", "c": "3"}}))), ["spec.labels: Too many: 3: must have at most 2 items"]);
        assert_eq!(errors(cr(json!({"image": "ab", "labels": {}}))), ["spec.labels: Invalid value: 1: spec.labels in body should have at least 1 properties"]);
        assert_eq!(
            errors(cr(json!({"image": "ab", "labels": {"a": 1}}))),
            ["spec.labels.a: Invalid value: \"integer\": spec.labels.a in body must be of type string: \"integer\""]
        );
    }

    #[test]
    fn list_types_refuse_duplicates() {
        assert_eq!(errors(cr(json!({"image": "ab", "tags": ["a", "a"]}))), ["spec.tags[1]: Duplicate value: \"a\""]);
        assert_eq!(
            errors(cr(json!({"image": "ab", "ports": [{"name": "x", "port": 1}, {"name": "x", "port": 2}]}))),
            ["spec.ports[1]: Duplicate value: {\"name\":\"x\"}"]
        );
    }

    #[test]
    fn unknown_fields_are_pruned_and_reported() {
        let mut obj = cr(json!({"image": "ab", "bogus": 1, "free": {"any": {"thing": 1}}, "ports": [{"name": "x", "extra": true}]}));
        obj["status"] = json!({"phase": "Ready", "other": 1});
        obj["top"] = json!(1);
        let pruned = prune_and_default(&schema(), &mut obj);
        assert_eq!(pruned, ["spec.bogus", "spec.ports[0].extra", "status.other", "top"]);
        assert_eq!(obj["spec"]["free"], json!({"any": {"thing": 1}}));
        assert!(obj.get("top").is_none());
        // metadata is ObjectMeta: the schema does not prune it.
        assert_eq!(obj["metadata"]["bogus"], json!(1));
        assert_eq!(unknown_fields(&schema(), &cr(json!({"image": "ab"}))), Vec::<String>::new());
        let mut config = cr(json!({"image": "ab", "bogus": 1}));
        prune(&schema(), &mut config);
        assert_eq!(config["spec"], json!({"image": "ab"}), "pruned, not defaulted");
    }

    #[test]
    fn defaults_fill_absent_fields_and_non_nullable_nulls() {
        let mut obj = cr(json!({"image": "ab", "replicas": null, "note": null, "mode": null}));
        prune_and_default(&schema(), &mut obj);
        assert_eq!(obj["spec"]["replicas"], json!(1));
        assert_eq!(obj["spec"]["note"], Value::Null);
        assert!(obj["spec"].get("mode").is_none());
        let mut obj = cr(json!({"image": "ab"}));
        prune_and_default(&schema(), &mut obj);
        assert_eq!(obj["spec"]["replicas"], json!(1));
    }

    #[test]
    fn nullable_int_or_string_and_embedded_resources() {
        assert!(errors(cr(json!({"image": "ab", "note": null, "port": "http"}))).is_empty());
        assert!(errors(cr(json!({"image": "ab", "port": 80}))).is_empty());
        assert_eq!(
            errors(cr(json!({"image": "ab", "port": true}))),
            ["spec.port: Invalid value: \"boolean\": spec.port in body must be of type integer,string: \"boolean\""]
        );
        assert_eq!(
            errors(cr(json!({"image": "ab", "tmpl": {"metadata": {"name": "x"}, "spec": {}}}))),
            ["spec.tmpl.apiVersion: Required value: must not be empty", "spec.tmpl.kind: Required value: must not be empty"]
        );
        assert!(errors(cr(json!({"image": "ab", "tmpl": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}}}))).is_empty());
    }

    #[test]
    fn formats() {
        assert!(errors(cr(json!({"image": "ab", "when": "2024-01-02T03:04:05Z"}))).is_empty());
        assert_eq!(
            errors(cr(json!({"image": "ab", "when": "yesterday"}))),
            ["spec.when: Invalid value: \"yesterday\": spec.when in body must be of type date-time: \"yesterday\""]
        );
        for (f, good, bad) in [
            ("date", "2024-02-29", "2024-13-01"),
            ("byte", "aGVsbG8=", "not base64!"),
            ("uuid", "123e4567-e89b-12d3-a456-426614174000", "123"),
            ("hostname", "a.example.com", "-a.com"),
            ("ipv4", "10.0.0.1", "10.0.0"),
            ("ipv6", "::1", "1::2::3"),
            ("cidr", "10.0.0.0/8", "10.0.0.0/33"),
            ("mac", "00:1a:2b:3c:4d:5e", "00:1a"),
            ("duration", "1h30m", "soon"),
            ("email", "a@b.io", "nobody"),
            ("int32", "anything", "anything"),
        ] {
            assert!(format_ok(f, good), "{f} {good}");
            assert_eq!(format_ok(f, bad), f == "int32", "{f} {bad}");
        }
    }

    #[test]
    fn combinators_apply() {
        let s = json!({"type": "object", "properties": {"v": {"type": "integer", "anyOf": [{"minimum": 5}, {"maximum": 1}], "not": {"enum": [7]}}}});
        let v = |n: i64| validate(&s, &json!({"v": n}), None).into_iter().map(|e| e.detail).collect::<Vec<_>>();
        assert!(v(6).is_empty());
        assert_eq!(v(3), ["Invalid value: 3: v in body must validate at least one schema (anyOf)"]);
        assert_eq!(v(7), ["Invalid value: 7: v in body must not validate the schema (not)"]);
    }

    #[test]
    fn an_update_keeps_unchanged_invalid_fields() {
        let old = cr(json!({"size": 50}));
        let new = {
            let mut n = old.clone();
            n["status"] = json!({"phase": "Ready"});
            n
        };
        assert!(validate(&schema(), &new, Some(&old)).is_empty());
        let changed = cr(json!({"size": 60}));
        assert_eq!(validate(&schema(), &changed, Some(&old)).len(), 1);
    }
}
