//! Semantic versions (`semverMajor`, `semverCompare`, `semverBump`, `semverConstraint`, ...).
//!
//! Versions follow semver.org 2.0 with the leniencies image tags need: a leading `v` is accepted
//! (and kept by `semverBump`), and `1` or `1.2` mean `1.0.0` and `1.2.0`. Build metadata (`+...`)
//! is ignored for precedence, as the specification says.

use super::{bool_value, string_value, text};
use crate::template::eval::Val;
use crate::template::{Env, FuncError};
use serde_json::Value;
use std::cmp::Ordering;

const WANT: &str = "a semantic version like 1.2.3 or v1.2.3-rc.1";
const WANT_CONSTRAINT: &str = "a version constraint like \">=1.2.0, <2.0.0\", \"^1.2\" or \"~1.2.3\"";
const WANT_PART: &str = "one of major, minor or patch";

/// A parsed version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    /// Dot-separated pre-release identifiers (empty for a release).
    pub pre: Vec<String>,
    /// Whether the text had a leading `v`.
    pub v: bool,
}

impl Version {
    /// Parses `[v]MAJOR[.MINOR[.PATCH]][-PRE][+BUILD]`.
    pub(crate) fn parse(s: &str) -> Option<Version> {
        let s = s.trim();
        let (v, s) = match s.strip_prefix(['v', 'V']) {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let s = s.split_once('+').map_or(s, |(core, build)| if build.is_empty() { "" } else { core });
        let (core, pre) = match s.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (s, None),
        };
        let mut nums = core.split('.');
        let mut next = |required: bool| -> Option<u64> {
            match nums.next() {
                Some(n) => numeric(n),
                None if required => None,
                None => Some(0),
            }
        };
        let (major, minor, patch) = (next(true)?, next(false)?, next(false)?);
        if nums.next().is_some() {
            return None;
        }
        let pre = match pre {
            None => Vec::new(),
            Some(p) => {
                let ids: Vec<String> = p.split('.').map(str::to_string).collect();
                let valid = |id: &String| {
                    !id.is_empty()
                        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                        && !(id.len() > 1 && id.starts_with('0') && id.bytes().all(|b| b.is_ascii_digit()))
                };
                if !ids.iter().all(valid) {
                    return None;
                }
                ids
            }
        };
        Some(Version { major, minor, patch, pre, v })
    }

    /// Semver precedence: numbers, then a pre-release sorts before its release.
    pub(crate) fn precedence(&self, other: &Version) -> Ordering {
        (self.major, self.minor, self.patch).cmp(&(other.major, other.minor, other.patch)).then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => {
                for (a, b) in self.pre.iter().zip(&other.pre) {
                    let ord = match (a.parse::<u64>(), b.parse::<u64>()) {
                        (Ok(x), Ok(y)) => x.cmp(&y),
                        (Ok(_), Err(_)) => Ordering::Less,
                        (Err(_), Ok(_)) => Ordering::Greater,
                        (Err(_), Err(_)) => a.cmp(b),
                    };
                    if ord != Ordering::Equal {
                        return ord;
                    }
                }
                self.pre.len().cmp(&other.pre.len())
            }
        })
    }
}

/// A whole number without a leading zero (semver forbids `01`).
fn numeric(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse().ok()
}

fn version(v: &Value) -> Result<Version, FuncError> {
    let s = text(v);
    Version::parse(&s).ok_or(FuncError::Invalid { text: s, want: WANT })
}

pub(super) fn f_semver_major(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(Value::from(version(&a[0])?.major))
}

pub(super) fn f_semver_minor(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(Value::from(version(&a[0])?.minor))
}

pub(super) fn f_semver_patch(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(Value::from(version(&a[0])?.patch))
}

pub(super) fn f_semver_valid(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(Version::parse(&text(&a[0])).is_some())
}

pub(super) fn f_semver_compare(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(Value::from(version(&a[0])?.precedence(&version(&a[1])?) as i8))
}

pub(super) fn f_semver_bump(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let part = text(&a[0]);
    let v = version(&a[1])?;
    let (major, minor, patch) = match part.to_ascii_lowercase().as_str() {
        "major" => (v.major + 1, 0, 0),
        "minor" => (v.major, v.minor + 1, 0),
        // A pre-release of X.Y.Z bumps to its release X.Y.Z, as semver tools do.
        "patch" if !v.pre.is_empty() => (v.major, v.minor, v.patch),
        "patch" => (v.major, v.minor, v.patch + 1),
        _ => return Err(FuncError::Invalid { text: part, want: WANT_PART }),
    };
    string_value(format!("{}{major}.{minor}.{patch}", if v.v { "v" } else { "" }))
}

pub(super) fn f_semver_constraint(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let c = text(&a[0]);
    let v = version(&a[1])?;
    satisfies(&c, &v).map(Value::Bool).ok_or(FuncError::Invalid { text: c, want: WANT_CONSTRAINT })
}

/// Whether `v` satisfies the constraint: `||`-separated alternatives of comma- or space-separated
/// comparators. `None` when the constraint does not parse.
pub(crate) fn satisfies(constraint: &str, v: &Version) -> Option<bool> {
    let mut any = false;
    for alt in constraint.split("||") {
        let mut all = true;
        let mut seen = false;
        let mut tokens = alt.split([',', ' ']).filter(|t| !t.is_empty()).peekable();
        while let Some(tok) = tokens.next() {
            // `>= 1.2` written with a space: join the operator with the next token.
            let joined;
            let tok = if tok.bytes().all(|b| b"<>=!~^".contains(&b)) {
                joined = format!("{tok}{}", tokens.next()?);
                joined.as_str()
            } else {
                tok
            };
            seen = true;
            all &= comparator(tok, v)?;
        }
        if !seen {
            return None;
        }
        any |= all;
    }
    Some(any)
}

fn comparator(tok: &str, v: &Version) -> Option<bool> {
    let op_len = tok.find(|c: char| !"<>=!~^".contains(c)).unwrap_or(tok.len());
    let (op, rest) = tok.split_at(op_len);
    let rest = rest.trim();
    // Wildcards: `*`, `1.x`, `1.2.*`; the number of fixed parts decides the range.
    let parts: Vec<&str> = rest.trim_start_matches(['v', 'V']).split(['-', '+']).next()?.split('.').collect();
    let fixed = parts.iter().take_while(|p| !matches!(**p, "x" | "X" | "*")).count();
    if rest.is_empty() || parts.len() > 3 || parts[fixed..].iter().any(|p| !matches!(*p, "x" | "X" | "*")) {
        return None;
    }
    let base = if fixed == 0 { Version::parse("0.0.0")? } else { Version::parse(&parts[..fixed].join("."))? };
    let base = if fixed == 3 { Version::parse(rest)? } else { base };
    let cmp = v.precedence(&base);
    let upper = |level: usize| -> Version {
        let mut u = Version { major: base.major, minor: base.minor, patch: base.patch, pre: Vec::new(), v: false };
        match level {
            0 => u.major = u64::MAX,
            1 => (u.major, u.minor, u.patch) = (base.major + 1, 0, 0),
            2 => (u.minor, u.patch) = (base.minor + 1, 0),
            _ => u.patch = base.patch + 1,
        }
        u
    };
    let in_range = |lo: &Version, hi: &Version| v.precedence(lo) != Ordering::Less && v.precedence(hi) == Ordering::Less;
    Some(match op {
        "" | "=" | "==" if fixed < 3 => in_range(&base, &upper(fixed)),
        "" | "=" | "==" => cmp == Ordering::Equal,
        "!=" => cmp != Ordering::Equal,
        ">" if fixed < 3 => v.precedence(&upper(fixed)) != Ordering::Less,
        ">" => cmp == Ordering::Greater,
        ">=" => cmp != Ordering::Less,
        "<" => cmp == Ordering::Less,
        "<=" if fixed < 3 => v.precedence(&upper(fixed)) == Ordering::Less,
        "<=" => cmp != Ordering::Greater,
        // ~1.2.3 := >=1.2.3 <1.3.0; ~1 := >=1.0.0 <2.0.0.
        "~" => in_range(&base, &upper(fixed.clamp(1, 2))),
        // ^1.2.3 := <2.0.0; ^0.2.3 := <0.3.0; ^0.0.3 := <0.0.4.
        "^" => {
            let level = if base.major > 0 || fixed <= 1 {
                1
            } else if base.minor > 0 || fixed == 2 {
                2
            } else {
                3
            };
            in_range(&base, &upper(level))
        }
        _ => return None,
    })
}
