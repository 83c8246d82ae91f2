//! The clock and timestamp text: "now" as Unix seconds, RFC 3339 parse/format and Go duration
//! text.
//!
//! Kept apart from the template engine so the runtime (leader election, the reconcile clock) and
//! the dev cluster can read the time without depending on templates; the template functions
//! `timeUntil`/`timeSince` use it like everyone else. Times are whole Unix seconds everywhere:
//! Kubernetes timestamps carry no more precision than that.

/// A timestamp that is not RFC 3339 text (`2026-01-02T15:04:05Z`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not an RFC 3339 time like 2026-01-02T15:04:05Z")]
pub struct Rfc3339Error {
    /// The text that failed to parse, as given.
    pub text: String,
}

/// The current time as Unix seconds (0 if the system clock is set before 1970).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Parses an RFC 3339 timestamp (`2026-01-02T03:04:05Z`, fractional seconds and offsets allowed)
/// into Unix seconds; fractional seconds are dropped.
pub fn parse_rfc3339(s: &str) -> Result<i64, Rfc3339Error> {
    let bad = || Rfc3339Error { text: s.to_string() };
    let b = s.trim().as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Result<i64, Rfc3339Error> {
        std::str::from_utf8(&b[r]).ok().filter(|t| t.bytes().all(|c| c.is_ascii_digit())).and_then(|t| t.parse().ok()).ok_or_else(bad)
    };
    let (y, mo, d, h, mi, se) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return Err(bad());
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    let offset = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let off = num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60;
            if *sign == b'+' { off } else { -off }
        }
        _ => return Err(bad()),
    };
    Ok(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se - offset)
}

/// Unix seconds as RFC 3339 UTC (`2026-01-02T03:04:05Z`).
pub fn format_rfc3339(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", s / 3600, s % 3600 / 60, s % 60)
}

/// Seconds as Go's `time.Duration.String()` (`1h2m3s`, `0s`, `-5m0s`).
pub fn format_duration(secs: i64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let sign = if secs < 0 { "-" } else { "" };
    let a = secs.unsigned_abs();
    let (h, m, s) = (a / 3600, a % 3600 / 60, a % 60);
    if h > 0 {
        format!("{sign}{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{sign}{m}m{s}s")
    } else {
        format!("{sign}{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_rfc3339("2026-11-22T10:00:00Z").map(format_rfc3339), Ok("2026-11-22T10:00:00Z".into()));
        assert_eq!(parse_rfc3339("2026-11-22T12:00:00+02:00"), parse_rfc3339("2026-11-22T10:00:00Z"));
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00.123Z"), Ok(1_709_164_800));
        assert!(parse_rfc3339("yesterday").is_err());
        assert!(parse_rfc3339("2026-13-01T00:00:00Z").is_err());
    }

    #[test]
    fn rfc3339_errors_name_the_text_and_the_form() {
        let e = parse_rfc3339("yesterday").unwrap_err();
        assert_eq!(e.to_string(), "\"yesterday\" is not an RFC 3339 time like 2026-01-02T15:04:05Z");
    }

    #[test]
    fn go_durations() {
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(90), "1m30s");
        assert_eq!(format_duration(3723), "1h2m3s");
        assert_eq!(format_duration(-300), "-5m0s");
        assert_eq!(format_duration(7200), "2h0m0s");
    }
}
