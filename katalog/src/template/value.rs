//! How template values print, compare and convert — Go's rules, applied to JSON values.

use serde_json::{Number, Value};
use std::cmp::Ordering;
use std::fmt::Write as _;

/// Go truthiness: false, 0, nil, and empty strings, lists and maps are false.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

/// Appends `v` as Go's `fmt.Print` would, except that nil prints nothing (upstream deletes every
/// `<no value>` after rendering, so a missing field renders as the empty string).
pub fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_nested(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push_str("map[");
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_nested(out, item);
            }
            out.push(']');
        }
    }
}

fn write_nested(out: &mut String, v: &Value) {
    if v.is_null() {
        out.push_str("<nil>");
    } else {
        write_value(out, v);
    }
}

/// The printed form of a value.
pub fn to_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        _ => {
            let mut s = String::new();
            write_value(&mut s, v);
            s
        }
    }
}

fn write_number(out: &mut String, n: &Number) {
    if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(f) = n.as_f64() {
        out.push_str(&format_float(f));
    }
}

/// Go's `%v` for a float64: `strconv.FormatFloat(f, 'g', -1, 64)` — shortest digits, exponent
/// form when the decimal exponent is < -4 or ≥ 6 (so `1e+06`, but `123456`).
pub fn format_float(f: f64) -> String {
    if f == 0.0 {
        return "0".into();
    }
    if !f.is_finite() {
        return if f.is_nan() {
            "NaN".into()
        } else if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-tripping digits: "1.2345e6".
    let sci = format!("{:e}", f.abs());
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let nd = digits.len() as i32;
    let dp = exp + 1;
    let sign = if f < 0.0 { "-" } else { "" };
    // Shortest formatting decides with precision 6, as strconv does.
    if !(-4..6).contains(&exp) {
        let frac = &digits[1..];
        let dot = if frac.is_empty() { String::new() } else { format!(".{frac}") };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{}{dot}e{esign}{:02}", &digits[..1], exp.abs());
    }
    if dp <= 0 {
        return format!("{sign}0.{}{digits}", "0".repeat((-dp) as usize));
    }
    if dp >= nd {
        return format!("{sign}{digits}{}", "0".repeat((dp - nd) as usize));
    }
    format!("{sign}{}.{}", &digits[..dp as usize], &digits[dp as usize..])
}

/// Go-ish type name used in error messages and `typeOf`.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "nil",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "map",
    }
}

/// A value used where its type does not fit: not a number, or not comparable with the other side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Text that does not parse as a number.
    #[error("{text:?} is not a number")]
    NotNumericText {
        /// The text as given.
        text: String,
    },
    /// A list, map or other non-scalar where a number is needed.
    #[error("a {type_name} is not a number")]
    NotNumeric {
        /// The Go-ish type name ([`type_name`]).
        type_name: &'static str,
    },
    /// `eq`/`ne` with a list or map on either side.
    #[error("cannot compare a {left} with a {right}")]
    NotComparable {
        /// Type of the left operand.
        left: &'static str,
        /// Type of the right operand.
        right: &'static str,
    },
    /// `eq`/`ne` between a string and a number (or bool): Go refuses, so do we.
    #[error("incompatible types for comparison: {left} and {right} (convert one side with toString or toInt)")]
    MixedEquality {
        /// Type of the left operand.
        left: &'static str,
        /// Type of the right operand.
        right: &'static str,
    },
    /// Ordering with NaN on a side.
    #[error("cannot order NaN")]
    NaN,
    /// `lt`/`le`/`gt`/`ge` on anything but two numbers or two strings.
    #[error("incompatible types for comparison: {left} and {right} (only numbers or strings can be ordered)")]
    NotOrderable {
        /// Type of the left operand.
        left: &'static str,
        /// Type of the right operand.
        right: &'static str,
    },
}

/// A number from a value: numbers as they are, numeric strings parsed, nil and "" as zero.
/// Anything else (e.g. `"a"`, a map) is a type error.
pub fn to_number(v: &Value) -> Result<Num, ValueError> {
    match v {
        Value::Null => Ok(Num::Int(0)),
        Value::Number(n) => Ok(match n.as_i64() {
            Some(i) => Num::Int(i),
            None => Num::Float(n.as_f64().unwrap_or(0.0)),
        }),
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                Ok(Num::Int(0))
            } else if let Ok(i) = t.parse::<i64>() {
                Ok(Num::Int(i))
            } else if let Ok(f) = t.parse::<f64>()
                && f.is_finite()
            {
                Ok(Num::Float(f))
            } else {
                Err(ValueError::NotNumericText { text: s.clone() })
            }
        }
        Value::Bool(b) => Ok(Num::Int(i64::from(*b))),
        other => Err(ValueError::NotNumeric { type_name: type_name(other) }),
    }
}

/// An integer or a float.
#[derive(Debug, Clone, Copy, PartialEq)]
#[allow(missing_docs)]
pub enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    /// As f64.
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }

    /// Into a JSON value.
    pub fn into_value(self) -> Value {
        match self {
            Num::Int(i) => Value::from(i),
            Num::Float(f) => Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null),
        }
    }
}

/// Go `eq` on two values. Numbers compare by value (int and float mix), strings and bools
/// directly; nil equals nil and the empty string (a missing field is ""). Mixing a string and a
/// number, or comparing lists/maps, is an error as in Go.
pub fn equal(a: &Value, b: &Value) -> Result<bool, ValueError> {
    match (a, b) {
        (Value::Null, Value::Null) => Ok(true),
        (Value::Null, Value::String(s)) | (Value::String(s), Value::Null) => Ok(s.is_empty()),
        (Value::Null, _) | (_, Value::Null) => Ok(false),
        (Value::Bool(x), Value::Bool(y)) => Ok(x == y),
        (Value::String(x), Value::String(y)) => Ok(x == y),
        (Value::Number(_), Value::Number(_)) => Ok(compare(a, b)? == Ordering::Equal),
        (Value::Array(_) | Value::Object(_), _) | (_, Value::Array(_) | Value::Object(_)) => {
            Err(ValueError::NotComparable { left: type_name(a), right: type_name(b) })
        }
        _ => Err(ValueError::MixedEquality { left: type_name(a), right: type_name(b) }),
    }
}

/// Go `lt`/`le`/`gt`/`ge` ordering: numbers or strings only.
pub fn compare(a: &Value, b: &Value) -> Result<Ordering, ValueError> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => Ok(i.cmp(&j)),
            _ => {
                let (f, g) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
                f.partial_cmp(&g).ok_or(ValueError::NaN)
            }
        },
        (Value::String(x), Value::String(y)) => Ok(x.cmp(y)),
        (Value::Null, Value::String(y)) => Ok("".cmp(y.as_str())),
        (Value::String(x), Value::Null) => Ok(x.as_str().cmp("")),
        _ => Err(ValueError::NotOrderable { left: type_name(a), right: type_name(b) }),
    }
}

/// Go's `empty` notion (Sprig-compatible): nil, false, 0, "", empty list or map.
pub fn is_empty(v: &Value) -> bool {
    !truthy(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_print_like_go() {
        assert_eq!(format_float(1.5), "1.5");
        assert_eq!(format_float(3.0), "3");
        assert_eq!(format_float(123456.0), "123456");
        assert_eq!(format_float(1e6), "1e+06");
        assert_eq!(format_float(1234567.0), "1.234567e+06");
        assert_eq!(format_float(0.0001), "0.0001");
        assert_eq!(format_float(0.00001), "1e-05");
        assert_eq!(format_float(-2.25), "-2.25");
    }

    #[test]
    fn composite_values_print_like_go() {
        let mut s = String::new();
        write_value(&mut s, &json!({"b": [1, "x", null], "a": true}));
        assert_eq!(s, "map[a:true b:[1 x <nil>]]");
    }

    #[test]
    fn equality_rules() {
        assert_eq!(equal(&json!(1), &json!(1.0)), Ok(true));
        assert_eq!(equal(&Value::Null, &json!("")), Ok(true));
        assert_eq!(equal(&Value::Null, &json!(0)), Ok(false));
        assert!(equal(&json!("1"), &json!(1)).is_err());
        assert!(equal(&json!([1]), &json!([1])).is_err());
    }

    #[test]
    fn numbers_from_values() {
        assert_eq!(to_number(&json!("42")), Ok(Num::Int(42)));
        assert_eq!(to_number(&json!(" 2.5 ")), Ok(Num::Float(2.5)));
        assert_eq!(to_number(&json!("")), Ok(Num::Int(0)));
        assert!(to_number(&json!("abc")).is_err());
        assert!(to_number(&json!({})).is_err());
    }
}
