//! Cron expressions (`cronValid`, `cronNormalize`, `cronToMap`, `cronDescribe`, ...).
//!
//! The five-field format Kubernetes CronJobs use (`minute hour day-of-month month day-of-week`),
//! with `*`, lists, ranges, steps (`*/15`, `1-30/5`), month and weekday names (`JAN`, `mon-fri`),
//! `?` as a synonym of `*`, `7` as Sunday, and the macros `@yearly @annually @monthly @weekly
//! @daily @midnight @hourly`. Normalizing expands macros, turns names into numbers and joins the
//! fields with single spaces, so two spellings of one schedule compare equal.

use super::{bool_value, string_value, text};
use crate::template::eval::Val;
use crate::template::{Env, FuncError};
use serde_json::{Map, Value};

const WANT: &str = "a five-field cron expression like \"*/15 * * * *\" or a macro like @daily";
const WANT_FIELD: &str = "a cron field name: minute, hour, dom, month or dow (or 0-4)";

/// Field names in order, as `cronToMap` keys them.
const NAMES: [&str; 5] = ["minute", "hour", "dom", "month", "dow"];
const BOUNDS: [(u32, u32); 5] = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];
const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// Normalizes an expression into its five fields, or `None` when it is not valid cron.
pub(crate) fn normalize(expr: &str) -> Option<[String; 5]> {
    let expr = expr.trim();
    let expanded = match expr.to_ascii_lowercase().as_str() {
        "@yearly" | "@annually" => "0 0 1 1 *".to_string(),
        "@monthly" => "0 0 1 * *".to_string(),
        "@weekly" => "0 0 * * 0".to_string(),
        "@daily" | "@midnight" => "0 0 * * *".to_string(),
        "@hourly" => "0 * * * *".to_string(),
        _ => expr.to_string(),
    };
    let fields: Vec<&str> = expanded.split_whitespace().collect();
    if fields.len() != 5 {
        return None;
    }
    let mut out: [String; 5] = Default::default();
    for (i, f) in fields.iter().enumerate() {
        out[i] = field(f, i)?;
    }
    Some(out)
}

/// Validates and normalizes one field.
fn field(f: &str, i: usize) -> Option<String> {
    let (lo, hi) = BOUNDS[i];
    let mut parts = Vec::new();
    for item in f.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s.parse().ok().filter(|s| *s > 0 && *s <= hi)?;
                (r, Some(step))
            }
            None => (item, None),
        };
        let range = match range {
            "*" | "?" => "*".to_string(),
            r => {
                let (a, b) = match r.split_once('-') {
                    Some((a, b)) => (value(a, i)?, Some(value(b, i)?)),
                    None => (value(r, i)?, None),
                };
                if a < lo || a > hi || b.is_some_and(|b| b < a || b > hi) {
                    return None;
                }
                match b {
                    Some(b) => format!("{a}-{b}"),
                    None => a.to_string(),
                }
            }
        };
        parts.push(match step {
            Some(s) => format!("{range}/{s}"),
            None => range,
        });
    }
    Some(parts.join(","))
}

/// A number or, for months and weekdays, a three-letter name.
fn value(s: &str, i: usize) -> Option<u32> {
    if let Ok(n) = s.parse() {
        return Some(n);
    }
    let lower = s.to_ascii_lowercase();
    match i {
        3 => MONTHS.iter().position(|m| *m == lower).map(|p| p as u32 + 1),
        4 => DAYS.iter().position(|d| *d == lower).map(|p| p as u32),
        _ => None,
    }
}

fn fields(v: &Value) -> Result<[String; 5], FuncError> {
    let s = text(v);
    normalize(&s).ok_or(FuncError::Invalid { text: s, want: WANT })
}

fn index_of(name: &str) -> Option<usize> {
    match name.to_ascii_lowercase().as_str() {
        "minute" | "minutes" | "0" => Some(0),
        "hour" | "hours" | "1" => Some(1),
        "dom" | "dayofmonth" | "day" | "2" => Some(2),
        "month" | "months" | "3" => Some(3),
        "dow" | "dayofweek" | "weekday" | "4" => Some(4),
        _ => None,
    }
}

pub(super) fn f_cron_valid(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(normalize(&text(&a[0])).is_some())
}

pub(super) fn f_cron_normalize(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    string_value(fields(&a[0])?.join(" "))
}

pub(super) fn f_cron_to_map(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let f = fields(&a[0])?;
    Ok(Value::Object(NAMES.iter().zip(f).map(|(k, v)| (k.to_string(), Value::String(v))).collect::<Map<_, _>>()))
}

/// An expression from a map of fields; a missing field is `*`.
fn from_map(m: &Map<String, Value>) -> Result<Value, FuncError> {
    let mut parts: [String; 5] = Default::default();
    for (i, slot) in parts.iter_mut().enumerate() {
        let v = m.iter().find(|(k, _)| index_of(k) == Some(i)).map(|(_, v)| text(v)).filter(|t| !t.is_empty());
        *slot = v.unwrap_or_else(|| "*".into());
    }
    string_value(fields(&Value::String(parts.join(" ")))?.join(" "))
}

pub(super) fn f_cron_from_map(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    match &*a[0] {
        Value::Object(m) => from_map(m),
        other => Err(FuncError::WrongCollection { func: "cronFromMap", want: "map", got: crate::template::value::type_name(other) }),
    }
}

pub(super) fn f_cron_from_any(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    match &*a[0] {
        Value::Object(m) => from_map(m),
        Value::Array(items) => string_value(fields(&Value::String(items.iter().map(text).collect::<Vec<_>>().join(" ")))?.join(" ")),
        other => string_value(fields(other)?.join(" ")),
    }
}

pub(super) fn f_cron_field(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let name = text(&a[0]);
    let i = index_of(&name).ok_or(FuncError::Invalid { text: name, want: WANT_FIELD })?;
    string_value(fields(&a[1])?[i].clone())
}

fn nth(a: &[Val<'_>], i: usize) -> Result<Value, FuncError> {
    string_value(fields(&a[0])?[i].clone())
}

pub(super) fn f_cron_minute(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    nth(a, 0)
}

pub(super) fn f_cron_hour(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    nth(a, 1)
}

pub(super) fn f_cron_dom(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    nth(a, 2)
}

pub(super) fn f_cron_month(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    nth(a, 3)
}

pub(super) fn f_cron_dow(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    nth(a, 4)
}

pub(super) fn f_cron_expr(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let parts: Vec<String> = a.iter().map(|v| Some(text(v)).filter(|t| !t.is_empty()).unwrap_or_else(|| "*".into())).collect();
    string_value(fields(&Value::String(parts.join(" ")))?.join(" "))
}

pub(super) fn f_cron_describe(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    string_value(describe(&fields(&a[0])?))
}

/// A short English description of normalized fields.
pub(crate) fn describe(f: &[String; 5]) -> String {
    let [min, hour, dom, month, dow] = f.each_ref().map(String::as_str);
    let plain = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mut out = match (min, hour) {
        ("*", "*") => "every minute".to_string(),
        (m, "*") if plain(m) => format!("at minute {m} of every hour"),
        (m, h) if plain(m) && plain(h) => format!("at {:02}:{:02}", h.parse::<u32>().unwrap_or(0), m.parse::<u32>().unwrap_or(0)),
        (m, "*") => match m.strip_prefix("*/") {
            Some(n) => format!("every {n} minutes"),
            None => format!("at minutes {m}"),
        },
        (m, h) => {
            let minutes = match m {
                "*" => "every minute".to_string(),
                m => match m.strip_prefix("*/") {
                    Some(n) => format!("every {n} minutes"),
                    None => format!("at minute {m}"),
                },
            };
            let hours = match h.strip_prefix("*/") {
                Some(n) => format!("every {n} hours"),
                None => format!("hour {h}"),
            };
            format!("{minutes} past {hours}")
        }
    };
    if dom != "*" {
        out.push_str(&format!(" on day-of-month {dom}"));
    }
    if month != "*" {
        let names = |s: &str| -> String {
            if plain(s) {
                let i: usize = s.parse().unwrap_or(1);
                MONTHS.get(i.wrapping_sub(1)).map(|m| capitalize(m)).unwrap_or_else(|| s.to_string())
            } else {
                s.to_string()
            }
        };
        out.push_str(&format!(" in {}", names(month)));
    }
    if dow != "*" {
        let days = match dow {
            "1-5" => "Monday to Friday".to_string(),
            "0,6" | "6,0" => "Saturday and Sunday".to_string(),
            d if plain(d) => {
                let i: usize = d.parse().unwrap_or(0) % 7;
                capitalize(DAYS[i])
            }
            d => format!("day-of-week {d}"),
        };
        out.push_str(&format!(" on {days}"));
    }
    if dom == "*" && month == "*" && dow == "*" && plain(min) && plain(hour) {
        out.push_str(" every day");
    }
    out
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
}
