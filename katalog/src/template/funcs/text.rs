//! Conditionals (`default`, `coalesce`, `ternary`, `empty`) and string functions.

use super::{bool_value, count_arg, string_value, text};
use crate::template::eval::Val;
use crate::template::value::{is_empty, truthy, type_name};
use crate::template::{Env, FuncError};
use serde_json::Value;

// Conditional.

pub(super) fn f_default(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    match a.get(1) {
        Some(v) if !is_empty(v) => Ok(v.clone().into_owned()),
        _ => Ok(a[0].clone().into_owned()),
    }
}

pub(super) fn f_coalesce(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(a.iter().find(|v| !is_empty(v)).map(|v| v.clone().into_owned()).unwrap_or(Value::Null))
}

pub(super) fn f_ternary(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(if truthy(&a[2]) { a[0].clone().into_owned() } else { a[1].clone().into_owned() })
}

pub(super) fn f_empty(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(is_empty(&a[0]))
}

pub(super) fn f_not_empty(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(!is_empty(&a[0]))
}

// ---------------------------------------------------------------------------------------------
// Strings.

pub(super) fn f_to_lower(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    string_value(text(&a[0]).to_lowercase())
}

pub(super) fn f_to_upper(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    string_value(text(&a[0]).to_uppercase())
}

pub(super) fn f_trim(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    string_value(text(&a[0]).trim())
}

pub(super) fn f_trim_prefix(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let (p, s) = (text(&a[0]), text(&a[1]));
    string_value(s.strip_prefix(p.as_str()).unwrap_or(&s))
}

pub(super) fn f_trim_suffix(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let (p, s) = (text(&a[0]), text(&a[1]));
    string_value(s.strip_suffix(p.as_str()).unwrap_or(&s))
}

pub(super) fn f_has_prefix(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(text(&a[1]).starts_with(&text(&a[0])))
}

pub(super) fn f_has_suffix(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(text(&a[1]).ends_with(&text(&a[0])))
}

pub(super) fn f_contains(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(text(&a[1]).contains(&text(&a[0])))
}

pub(super) fn f_replace(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let old = text(&a[0]);
    if old.is_empty() {
        return Err(FuncError::EmptySearch);
    }
    string_value(text(&a[2]).replace(&old, &text(&a[1])))
}

pub(super) fn f_split(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let (sep, s) = (text(&a[0]), text(&a[1]));
    if s.is_empty() {
        return Ok(Value::Array(Vec::new()));
    }
    let parts: Vec<Value> = if sep.is_empty() {
        s.chars().map(|c| Value::String(c.to_string())).collect()
    } else {
        s.split(sep.as_str()).map(|p| Value::String(p.to_string())).collect()
    };
    Ok(Value::Array(parts))
}

pub(super) fn f_join(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let sep = text(&a[0]);
    match &*a[1] {
        Value::Array(items) => string_value(items.iter().map(text).collect::<Vec<_>>().join(&sep)),
        Value::Null => string_value(""),
        other => Err(FuncError::WrongCollection { func: "join", want: "list", got: type_name(other) }),
    }
}

pub(super) fn f_repeat(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let n = count_arg(&a[0], "repeat count", 10_000)?;
    let s = text(&a[1]);
    if s.len().saturating_mul(n) > 1 << 20 {
        return Err(FuncError::TooLarge);
    }
    string_value(s.repeat(n))
}

pub(super) fn f_truncate(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let n = count_arg(&a[0], "length", i64::MAX)?;
    string_value(text(&a[1]).chars().take(n).collect::<String>())
}

pub(super) fn f_camel_to_kebab(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let s = text(&a[0]);
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower = i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if i > 0 && (prev_lower || (next_lower && chars[i - 1].is_uppercase())) && !out.ends_with('-') {
                out.push('-');
            }
            out.extend(c.to_lowercase());
        } else if *c == '_' || *c == ' ' {
            out.push('-');
        } else {
            out.push(*c);
        }
    }
    string_value(out)
}

// Boolean-aware conditionals: Go truthiness makes the text "false" true, and `default` replaces
// a real `false`; these two read booleans the way a CR spec writes them.

/// A value read as a boolean: a bool, or boolean text (`true`, `false`, `yes`, `0`, ...).
fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if !s.trim().is_empty() => super::numbers::parse_bool(s),
        Value::Number(n) => n.as_f64().map(|f| f != 0.0),
        _ => None,
    }
}

pub(super) fn f_bool_ternary(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let cond = as_bool(&a[2]).unwrap_or_else(|| truthy(&a[2]));
    Ok(if cond { a[0].clone().into_owned() } else { a[1].clone().into_owned() })
}

pub(super) fn f_bool_default(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let fallback = as_bool(&a[0]).unwrap_or_else(|| truthy(&a[0]));
    bool_value(a.get(1).and_then(|v| as_bool(v)).unwrap_or(fallback))
}
