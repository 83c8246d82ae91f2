//! Collections (`listGet`, `mapGet`, `mapPick`, ...), safe access with a fallback
//! (`getStringOr`, `getIntOr`, `getBoolOr`) and coercion (`asList`, `asMap`, `asString`).
//!
//! Collections come first (`mapGet MAP KEY`), as in `listHas` and `getOr`. A nil collection (a
//! field that is not set) reads as empty rather than failing: templates read optional fields.

use super::numbers::parse_bool;
use super::{int_arg, lookup_path, string_value, text};
use crate::template::eval::Val;
use crate::template::value::{Num, to_number, type_name};
use crate::template::{Env, FuncError};
use serde_json::{Map, Value};

fn list<'v>(v: &'v Value, func: &'static str) -> Result<&'v [Value], FuncError> {
    match v {
        Value::Array(items) => Ok(items),
        Value::Null => Ok(&[]),
        other => Err(FuncError::WrongCollection { func, want: "list", got: type_name(other) }),
    }
}

fn map<'v>(v: &'v Value, func: &'static str) -> Result<Option<&'v Map<String, Value>>, FuncError> {
    match v {
        Value::Object(m) => Ok(Some(m)),
        Value::Null => Ok(None),
        other => Err(FuncError::WrongCollection { func, want: "map", got: type_name(other) }),
    }
}

pub(super) fn f_list_get(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let items = list(&a[0], "listGet")?;
    let i = int_arg(&a[1], "list index")?;
    // A negative index counts from the end; out of range is nil, like a missing map key.
    let idx = if i < 0 { items.len() as i64 + i } else { i };
    Ok(usize::try_from(idx).ok().and_then(|i| items.get(i)).cloned().unwrap_or(Value::Null))
}

pub(super) fn f_list_len(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(Value::from(list(&a[0], "listLen")?.len()))
}

pub(super) fn f_map_get(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let found = map(&a[0], "mapGet")?.and_then(|m| m.get(&text(&a[1]))).filter(|v| !v.is_null()).cloned();
    Ok(found.or_else(|| a.get(2).map(|f| f.clone().into_owned())).unwrap_or(Value::Null))
}

pub(super) fn f_map_values(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    // Values in key order, like `mapKeys` and `range`.
    Ok(Value::Array(map(&a[0], "mapValues")?.map(|m| m.values().cloned().collect()).unwrap_or_default()))
}

/// The key arguments of `mapPick`/`mapOmit`: each is a key or a list of keys.
fn keys(a: &[Val<'_>]) -> Vec<String> {
    let mut out = Vec::new();
    for k in a {
        match &**k {
            Value::Array(items) => out.extend(items.iter().map(text)),
            other => out.push(text(other)),
        }
    }
    out
}

pub(super) fn f_map_pick(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let want = keys(&a[1..]);
    let m = map(&a[0], "mapPick")?;
    Ok(Value::Object(m.map(|m| m.iter().filter(|(k, _)| want.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default()))
}

pub(super) fn f_map_omit(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let drop = keys(&a[1..]);
    let m = map(&a[0], "mapOmit")?;
    Ok(Value::Object(m.map(|m| m.iter().filter(|(k, _)| !drop.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default()))
}

// Safe access: the value at a dot path when it has the right type, else the fallback.

fn at<'v>(a: &'v [Val<'_>]) -> Option<&'v Value> {
    lookup_path(&a[0], &text(&a[1])).filter(|v| !v.is_null())
}

pub(super) fn f_get_string_or(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    match at(a) {
        Some(Value::String(s)) if !s.is_empty() => string_value(s.clone()),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => string_value(text(v)),
        _ => string_value(text(&a[2])),
    }
}

pub(super) fn f_get_int_or(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let n = at(a).filter(|v| !matches!(v, Value::Bool(_))).and_then(|v| to_number(v).ok()).and_then(|n| match n {
        Num::Int(i) => Some(i),
        Num::Float(f) if f.fract() == 0.0 && f.abs() < 9e15 => Some(f as i64),
        Num::Float(_) => None,
    });
    match n {
        Some(i) => Ok(Value::from(i)),
        None => Ok(Value::from(int_arg(&a[2], "fallback")?)),
    }
}

pub(super) fn f_get_bool_or(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let b = match at(a) {
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) if !s.trim().is_empty() => parse_bool(s),
        _ => None,
    };
    Ok(Value::Bool(match b {
        Some(b) => b,
        None => match &*a[2] {
            Value::Bool(b) => *b,
            other => parse_bool(&text(other)).unwrap_or(false),
        },
    }))
}

// Coercion.

pub(super) fn f_as_list(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(match &*a[0] {
        Value::Array(items) => Value::Array(items.clone()),
        Value::Null => Value::Array(Vec::new()),
        other => Value::Array(vec![other.clone()]),
    })
}

pub(super) fn f_as_map(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(match &*a[0] {
        Value::Object(m) => Value::Object(m.clone()),
        // JSON object text is a map too: CR fields sometimes carry embedded JSON.
        Value::String(s) if s.trim_start().starts_with('{') => serde_json::from_str::<Map<String, Value>>(s).map(Value::Object).unwrap_or_default(),
        _ => Value::Object(Map::new()),
    })
}

pub(super) fn f_as_string(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(match &*a[0] {
        Value::String(s) => Value::String(s.clone()),
        Value::Null => Value::String(String::new()),
        v @ (Value::Array(_) | Value::Object(_)) => Value::String(serde_json::to_string(v)?),
        other => Value::String(text(other)),
    })
}
