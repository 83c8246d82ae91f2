//! Go `text/template` builtins: `not`, `len`, `index`, `slice`, the comparisons, `print`,
//! `println`, `printf` (Go `fmt.Sprintf` for the verbs templates use) and `urlquery`.

use super::{bool_value, count_arg, int_arg, string_value, text};
use crate::template::eval::Val;
use crate::template::value::{compare, equal, truthy, type_name};
use crate::template::{Env, FuncError};
use serde_json::Value;
use std::fmt::Write as _;

pub(super) fn f_not(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(!truthy(&a[0]))
}

pub(super) fn f_len(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(Value::from(match &*a[0] {
        Value::String(s) => s.chars().count(),
        Value::Array(l) => l.len(),
        Value::Object(m) => m.len(),
        Value::Null => 0,
        other => return Err(FuncError::NoLength { type_name: type_name(other) }),
    }))
}

pub(super) fn f_index(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let mut cur: &Value = &a[0];
    for key in &a[1..] {
        cur = match cur {
            Value::Array(l) => {
                let i = int_arg(key, "list index")?;
                match usize::try_from(i).ok().and_then(|i| l.get(i)) {
                    Some(v) => v,
                    None => return Err(FuncError::IndexOutOfRange { index: i, len: l.len() }),
                }
            }
            Value::Object(m) => m.get(&text(key)).unwrap_or(&Value::Null),
            Value::Null => &Value::Null,
            other => return Err(FuncError::NotIndexable { type_name: type_name(other) }),
        };
    }
    Ok(cur.clone())
}

pub(super) fn f_slice(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let len = match &*a[0] {
        Value::Array(l) => l.len(),
        Value::String(s) => s.len(),
        Value::Null => 0,
        other => return Err(FuncError::NotSliceable { type_name: type_name(other) }),
    };
    let from = a.get(1).map(|v| count_arg(v, "slice start", len as i64)).transpose()?.unwrap_or(0);
    let to = a.get(2).map(|v| count_arg(v, "slice end", len as i64)).transpose()?.unwrap_or(len);
    if from > to {
        return Err(FuncError::SliceOrder { from, to });
    }
    match &*a[0] {
        Value::Array(l) => Ok(Value::Array(l[from..to].to_vec())),
        Value::String(s) => s.get(from..to).map(|t| Value::String(t.into())).ok_or(FuncError::SliceSplitsCharacter),
        _ => Ok(Value::Null),
    }
}

pub(super) fn f_eq(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    for other in &a[1..] {
        if equal(&a[0], other)? {
            return bool_value(true);
        }
    }
    bool_value(false)
}

pub(super) fn f_ne(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(!equal(&a[0], &a[1])?)
}

pub(super) fn f_lt(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(compare(&a[0], &a[1])?.is_lt())
}

pub(super) fn f_le(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(compare(&a[0], &a[1])?.is_le())
}

pub(super) fn f_gt(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(compare(&a[0], &a[1])?.is_gt())
}

pub(super) fn f_ge(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(compare(&a[0], &a[1])?.is_ge())
}

/// Go `fmt.Sprint`: spaces between operands when neither side is a string.
pub(super) fn f_print(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let mut out = String::new();
    for (i, v) in a.iter().enumerate() {
        if i > 0 && !v.is_string() && !a[i - 1].is_string() {
            out.push(' ');
        }
        out.push_str(&text(v));
    }
    string_value(out)
}

pub(super) fn f_println(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let parts: Vec<String> = a.iter().map(|v| text(v)).collect();
    string_value(parts.join(" ") + "\n")
}

pub(super) fn f_printf(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let format = text(&a[0]);
    string_value(sprintf(&format, &a[1..]))
}

/// Go `fmt.Sprintf` for the verbs templates use. Errors are rendered inline the way Go does
/// (`%!d(string=abc)`), so a bad format is visible rather than fatal.
pub fn sprintf(format: &str, args: &[Val<'_>]) -> String {
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    let mut next = 0usize;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut flags = String::new();
        while let Some(&f) = chars.peek() {
            if matches!(f, '-' | '+' | ' ' | '0' | '#') {
                flags.push(f);
                chars.next();
            } else {
                break;
            }
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            chars.next();
        }
        let mut precision: Option<usize> = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                chars.next();
            }
            precision = Some(p.parse().unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next) else {
            let _ = write!(out, "%!{verb}(MISSING)");
            continue;
        };
        next += 1;
        let body = match (verb, &**arg) {
            ('v' | 's', v) => {
                let t = text(v);
                match precision {
                    Some(p) if verb == 's' => t.chars().take(p).collect(),
                    _ => t,
                }
            }
            ('q', Value::String(s)) => format!("{s:?}"),
            ('q', v) => format!("{:?}", text(v)),
            ('t', Value::Bool(b)) => b.to_string(),
            ('d', Value::Number(n)) if n.as_i64().is_some() => n.as_i64().unwrap_or(0).to_string(),
            ('f' | 'F' | 'e' | 'g', Value::Number(n)) => {
                let f = n.as_f64().unwrap_or(0.0);
                match verb {
                    'e' => format!("{:.*e}", precision.unwrap_or(6), f),
                    'g' => crate::template::value::format_float(f),
                    _ => format!("{:.*}", precision.unwrap_or(6), f),
                }
            }
            ('x', Value::Number(n)) if n.as_i64().is_some() => format!("{:x}", n.as_i64().unwrap_or(0)),
            ('X', Value::Number(n)) if n.as_i64().is_some() => format!("{:X}", n.as_i64().unwrap_or(0)),
            ('x', Value::String(s)) => s.bytes().map(|b| format!("{b:02x}")).collect(),
            (verb, v) => {
                let _ = write!(out, "%!{verb}({}={})", type_name(v), text(v));
                continue;
            }
        };
        let w: usize = width.parse().unwrap_or(0);
        let pad = w.saturating_sub(body.chars().count());
        if flags.contains('-') {
            out.push_str(&body);
            out.push_str(&" ".repeat(pad));
        } else if flags.contains('0') && matches!(verb, 'd' | 'f' | 'x' | 'X') {
            let (sign, digits) = body.strip_prefix('-').map(|d| ("-", d)).unwrap_or(("", &body));
            out.push_str(sign);
            out.push_str(&"0".repeat(pad));
            out.push_str(digits);
        } else {
            out.push_str(&" ".repeat(pad));
            out.push_str(&body);
        }
    }
    if next < args.len() {
        out.push_str("%!(EXTRA ");
        let extra: Vec<String> = args[next..].iter().map(|v| format!("{}={}", type_name(v), text(v))).collect();
        out.push_str(&extra.join(", "));
        out.push(')');
    }
    out
}

pub(super) fn f_urlquery(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let joined: String = a.iter().map(|v| text(v)).collect();
    let mut out = String::new();
    for b in joined.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    string_value(out)
}
