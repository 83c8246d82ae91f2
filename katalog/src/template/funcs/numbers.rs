//! Type conversion and inspection (`toInt`, `toBool`, `typeOf`, ...) and arithmetic.

use super::{bool_value, string_value, text};
use crate::template::eval::Val;
use crate::template::value::{Num, to_number, type_name};
use crate::template::{Env, FuncError};
use serde_json::Value;

// Types.

pub(super) fn f_to_int(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(Value::from(match to_number(&a[0])? {
        Num::Int(i) => i,
        Num::Float(f) => f.trunc() as i64,
    }))
}

pub(super) fn f_to_float(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(Num::Float(to_number(&a[0])?.as_f64()).into_value())
}

/// Parses a boolean the way upstream does (Go `strconv.ParseBool` plus yes/no/on/off).
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "t" | "true" | "yes" | "y" | "on" => Some(true),
        "0" | "f" | "false" | "no" | "n" | "off" | "" => Some(false),
        _ => None,
    }
}

pub(super) fn f_to_bool(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    match &*a[0] {
        Value::Bool(b) => bool_value(*b),
        Value::Null => bool_value(false),
        Value::Number(n) => bool_value(n.as_f64().is_some_and(|f| f != 0.0)),
        Value::String(s) => parse_bool(s).map(Value::Bool).ok_or_else(|| FuncError::NotBooleanText { text: s.clone() }),
        other => Err(FuncError::NotBoolean { type_name: type_name(other) }),
    }
}

pub(super) fn f_to_string(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    string_value(text(&a[0]))
}

pub(super) fn f_type_of(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    string_value(type_name(&a[0]))
}

pub(super) fn f_type_map(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(a[0].is_object())
}

pub(super) fn f_type_list(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(a[0].is_array())
}

pub(super) fn f_type_string(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(a[0].is_string())
}

pub(super) fn f_type_number(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(a[0].is_number())
}

pub(super) fn f_type_bool(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(a[0].is_boolean())
}

pub(super) fn f_type_null(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(a[0].is_null())
}

pub(super) fn f_is_scalar(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(!(a[0].is_object() || a[0].is_array() || a[0].is_null()))
}

pub(super) fn f_is_composite(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(a[0].is_object() || a[0].is_array())
}

// ---------------------------------------------------------------------------------------------
// Math: integers stay integers (with overflow checks); any float makes the result a float.

pub(super) fn nums(a: &[Val<'_>]) -> Result<Vec<Num>, FuncError> {
    Ok(a.iter().map(|v| to_number(v)).collect::<Result<_, _>>()?)
}

pub(super) fn fold(a: &[Val<'_>], int: fn(i64, i64) -> Option<i64>, float: fn(f64, f64) -> f64, func: &'static str) -> Result<Value, FuncError> {
    let ns = nums(a)?;
    let mut acc = ns[0];
    for n in &ns[1..] {
        acc = match (acc, *n) {
            (Num::Int(x), Num::Int(y)) => Num::Int(int(x, y).ok_or(FuncError::Overflow { func })?),
            (x, y) => Num::Float(float(x.as_f64(), y.as_f64())),
        };
    }
    Ok(acc.into_value())
}

pub(super) fn f_add(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    fold(a, i64::checked_add, |x, y| x + y, "add")
}

pub(super) fn f_sub(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    fold(a, i64::checked_sub, |x, y| x - y, "sub")
}

pub(super) fn f_mul(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    fold(a, i64::checked_mul, |x, y| x * y, "mul")
}

pub(super) fn f_div(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    if to_number(&a[1])?.as_f64() == 0.0 {
        return Err(FuncError::DivisionByZero);
    }
    fold(a, i64::checked_div, |x, y| x / y, "div")
}

pub(super) fn f_mod(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    if to_number(&a[1])?.as_f64() == 0.0 {
        return Err(FuncError::ModuloByZero);
    }
    fold(a, i64::checked_rem, |x, y| x % y, "mod")
}

pub(super) fn pick(a: &[Val<'_>], want_less: bool) -> Result<Value, FuncError> {
    let ns = nums(a)?;
    let mut best = ns[0];
    for n in &ns[1..] {
        let less = n.as_f64() < best.as_f64();
        if less == want_less && n.as_f64() != best.as_f64() {
            best = *n;
        }
    }
    Ok(best.into_value())
}

pub(super) fn f_min(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    pick(a, true)
}

pub(super) fn f_max(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    pick(a, false)
}

pub(super) fn f_abs(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(match to_number(&a[0])? {
        Num::Int(i) => Num::Int(i.checked_abs().ok_or(FuncError::Overflow { func: "abs" })?),
        Num::Float(f) => Num::Float(f.abs()),
    }
    .into_value())
}
