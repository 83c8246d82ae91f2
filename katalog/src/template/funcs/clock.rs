//! Time functions beyond `timeUntil`/`timeSince`: `timeAgo`, `timeFormat`, `isExpired`,
//! `durationAdd`, `durationValid`, `inBusinessHours`. "Now" is always `Env.now`, never the
//! system clock, so a render is reproducible.

use super::{bool_value, string_value, text};
use crate::duration::parse_duration;
use crate::template::eval::Val;
use crate::template::{Env, FuncError};
use crate::time::{format_duration, format_rfc3339, parse_rfc3339};
use serde_json::Value;

const WANT_HHMM: &str = "a time of day like 09:00";

/// Coarse "how long ago": the largest whole unit (`45s ago`, `5m ago`, `3h ago`, `2d ago`);
/// a future time reads `in 5m`.
pub(crate) fn ago(secs: i64) -> String {
    let a = secs.unsigned_abs();
    let span = match a {
        0..60 => format!("{a}s"),
        60..3600 => format!("{}m", a / 60),
        3600..86_400 => format!("{}h", a / 3600),
        _ => format!("{}d", a / 86_400),
    };
    if secs >= 0 { format!("{span} ago") } else { format!("in {span}") }
}

pub(super) fn f_time_ago(env: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let t = parse_rfc3339(&text(&a[0]))?;
    string_value(ago(env.now - t))
}

pub(super) fn f_is_expired(env: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let s = text(&a[0]);
    // No expiry set means nothing has expired.
    if s.trim().is_empty() {
        return bool_value(false);
    }
    bool_value(parse_rfc3339(&s)? <= env.now)
}

pub(super) fn f_duration_valid(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(parse_duration(&text(&a[0])).is_some())
}

/// A duration, which may be negative here (`-30m` moves a time back).
fn duration(v: &Value) -> Result<f64, FuncError> {
    let s = text(v);
    let t = s.trim();
    let parsed = match t.strip_prefix('-') {
        Some(rest) => parse_duration(rest).map(|d| -d),
        None => parse_duration(t.strip_prefix('+').unwrap_or(t)),
    };
    parsed.ok_or(FuncError::NotDuration { text: s })
}

pub(super) fn f_duration_add(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let d = duration(&a[0])?;
    let last = text(&a[1]);
    // `durationAdd "1h" TIME` moves a time; `durationAdd "1h" "30m"` adds two durations.
    match parse_rfc3339(&last) {
        Ok(t) => string_value(format_rfc3339(t + d.round() as i64)),
        Err(_) => string_value(format_duration((d + duration(&a[1])?).round() as i64)),
    }
}

/// `HH:MM` as minutes since midnight.
fn hhmm(v: &Value) -> Result<i64, FuncError> {
    let s = text(v);
    let bad = || FuncError::Invalid { text: s.clone(), want: WANT_HHMM };
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (i64, i64) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if !(0..=24).contains(&h) || !(0..60).contains(&m) || h * 60 + m > 24 * 60 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

pub(super) fn f_in_business_hours(env: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let (start, end) = match a {
        [] => (9 * 60, 17 * 60),
        [s, e] => (hhmm(s)?, hhmm(e)?),
        _ => return Err(FuncError::Usage { usage: "[START END] — times of day like \"09:00\" \"17:00\" (UTC)" }),
    };
    let day = env.now.div_euclid(86_400);
    // 1970-01-01 was a Thursday: 0 = Thursday, so Saturday and Sunday are 2 and 3.
    let weekday = day.rem_euclid(7);
    let minute = env.now.rem_euclid(86_400) / 60;
    bool_value(!matches!(weekday, 2 | 3) && minute >= start && minute < end)
}

const MONTHS: [&str; 12] = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS: [&str; 7] = ["Thursday", "Friday", "Saturday", "Sunday", "Monday", "Tuesday", "Wednesday"];

/// Formats Unix seconds (UTC) with a Go reference layout (`2006-01-02 15:04:05`, `Jan 2`,
/// `Monday`, `3:04PM`, `MST`, `Z07:00`, ...). The names `RFC3339`, `DateTime`, `DateOnly`,
/// `TimeOnly` and `Kitchen` stand for Go's layout constants.
pub(crate) fn go_format(t: i64, layout: &str) -> String {
    let layout = match layout {
        "RFC3339" => "2006-01-02T15:04:05Z07:00",
        "DateTime" => "2006-01-02 15:04:05",
        "DateOnly" => "2006-01-02",
        "TimeOnly" => "15:04:05",
        "Kitchen" => "3:04PM",
        "RFC1123" => "Mon, 02 Jan 2006 15:04:05 MST",
        other => other,
    };
    let rfc = format_rfc3339(t);
    let num = |r: std::ops::Range<usize>| -> i64 { rfc[r].parse().unwrap_or(0) };
    let (y, mo, d, h, mi, s) = (num(0..4), num(5..7), num(8..10), num(11..13), num(14..16), num(17..19));
    let wd = DAYS[t.div_euclid(86_400).rem_euclid(7) as usize];
    let month = MONTHS[(mo - 1).clamp(0, 11) as usize];
    let h12 = if h % 12 == 0 { 12 } else { h % 12 };
    // Longest tokens first, so `January` wins over `Jan` and `2006` over `2`.
    let tokens: [(&str, String); 24] = [
        ("January", month.to_string()),
        ("Monday", wd.to_string()),
        ("Z07:00", "Z".into()),
        ("-07:00", "+00:00".into()),
        ("-0700", "+0000".into()),
        ("2006", format!("{y:04}")),
        ("Jan", month[..3].to_string()),
        ("Mon", wd[..3].to_string()),
        ("MST", "UTC".into()),
        ("Z0700", "Z".into()),
        ("01", format!("{mo:02}")),
        ("02", format!("{d:02}")),
        ("_2", format!("{d:>2}")),
        ("15", format!("{h:02}")),
        ("03", format!("{h12:02}")),
        ("04", format!("{mi:02}")),
        ("05", format!("{s:02}")),
        ("06", format!("{:02}", y % 100)),
        ("PM", if h >= 12 { "PM" } else { "AM" }.into()),
        ("pm", if h >= 12 { "pm" } else { "am" }.into()),
        ("1", mo.to_string()),
        ("2", d.to_string()),
        ("3", h12.to_string()),
        ("4", mi.to_string()),
    ];
    let mut out = String::new();
    let mut rest = layout;
    'outer: while !rest.is_empty() {
        for (tok, val) in &tokens {
            if let Some(r) = rest.strip_prefix(tok) {
                out.push_str(val);
                rest = r;
                continue 'outer;
            }
        }
        if let Some(r) = rest.strip_prefix('5') {
            out.push_str(&s.to_string());
            rest = r;
            continue;
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

pub(super) fn f_time_format(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let t = parse_rfc3339(&text(&a[1]))?;
    string_value(go_format(t, &text(&a[0])))
}
