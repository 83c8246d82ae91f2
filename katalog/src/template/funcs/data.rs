//! Encodings and digests, name shaping (`slugify`, `truncateName`), random values and
//! collection helpers.

use super::{bool_value, count_arg, string_value, text};
use crate::template::eval::Val;
use crate::template::value::{equal, type_name};
use crate::template::{Env, FuncError, codec};
use serde_json::Value;

// Data.

pub(super) fn f_to_base64(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    string_value(codec::base64_encode(text(&a[0]).as_bytes()))
}

pub(super) fn f_from_base64(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let bytes = codec::base64_decode(&text(&a[0]))?;
    String::from_utf8(bytes).map(Value::String).map_err(|_| FuncError::NotUtf8)
}

pub(super) fn f_to_json(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(serde_json::to_string(&*a[0]).map(Value::String)?)
}

pub(super) fn f_sha256sum(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    string_value(codec::hex(&codec::sha256(text(&a[0]).as_bytes()))[..8].to_string())
}

/// Lowercase, runs of anything but `[a-z0-9]` become one `-`, no leading/trailing `-`.
pub fn slugify(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

pub(super) fn f_slugify(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    string_value(slugify(&text(&a[0])))
}

pub(super) fn f_truncate_name(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let (max, name) = match a {
        [max, name] => (count_arg(max, "maximum length", 253)?, text(name)),
        [name] => (63, text(name)),
        _ => return Err(FuncError::Usage { usage: "[MAX] NAME" }),
    };
    if name.chars().count() <= max {
        return string_value(name);
    }
    if max < 10 {
        return Err(FuncError::NoRoomForHash { max });
    }
    string_value(cut_with_hash(&name, max, &['-', '.']))
}

/// `s` cut to `max - 9` characters (trailing `trim` characters removed) plus `-` and the first 8
/// hex digits of its SHA-256: short, stable and still unique. Callers check `s` is too long.
pub(crate) fn cut_with_hash(s: &str, max: usize, trim: &[char]) -> String {
    let head: String = s.chars().take(max.saturating_sub(9)).collect();
    format!("{}-{}", head.trim_end_matches(trim), crate::template::codec_hash8(s))
}

// ---------------------------------------------------------------------------------------------
// Random.

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

pub(super) fn f_random_alnum(env: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let n = count_arg(&a[0], "length", 4096)?;
    let mut out = String::with_capacity(n);
    // Rejection sampling keeps the distribution uniform over the 62 symbols.
    while out.len() < n {
        let mut buf = [0u8; 64];
        env.rng.fill(&mut buf)?;
        for b in buf {
            if out.len() < n && (b as usize) < 62 * 4 {
                out.push(ALNUM[b as usize % 62] as char);
            }
        }
    }
    string_value(out)
}

pub(super) fn f_random_hex(env: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let n = count_arg(&a[0], "length", 4096)?;
    let mut buf = vec![0u8; n.div_ceil(2)];
    env.rng.fill(&mut buf)?;
    string_value(codec::hex(&buf)[..n].to_string())
}

pub(super) fn f_random_base64(env: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let n = count_arg(&a[0], "byte count", 4096)?;
    let mut buf = vec![0u8; n];
    env.rng.fill(&mut buf)?;
    string_value(codec::base64_encode(&buf))
}

// ---------------------------------------------------------------------------------------------
// Collections.

pub(super) fn f_list_has(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    match &*a[0] {
        Value::Array(items) => bool_value(items.iter().any(|i| equal(i, &a[1]).unwrap_or(false))),
        Value::Null => bool_value(false),
        other => Err(FuncError::WrongCollection { func: "listHas", want: "list", got: type_name(other) }),
    }
}

pub(super) fn f_map_keys(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    match &*a[0] {
        Value::Object(m) => Ok(Value::Array(m.keys().map(|k| Value::String(k.clone())).collect())),
        Value::Null => Ok(Value::Array(Vec::new())),
        other => Err(FuncError::WrongCollection { func: "mapKeys", want: "map", got: type_name(other) }),
    }
}

/// `owner/repo` from a Git remote: `https://github.com/owner/repo.git`,
/// `git@github.com:owner/repo.git`, `ssh://git@host/owner/repo`, or `owner/repo` itself. The
/// path's last two segments, without `.git` and trailing slashes (`group/sub/repo` on GitLab
/// gives `sub/repo`).
pub(crate) fn repo_slug(s: &str) -> String {
    let s = s.trim();
    let path = match s.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map_or("", |(_, p)| p),
        None => match s.split_once(':') {
            Some((host, p)) if host.contains('@') || host.contains('.') => p,
            _ => s,
        },
    };
    let path = path.split(['?', '#']).next().unwrap_or("").trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let segs: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    segs[segs.len().saturating_sub(2)..].join("/")
}

pub(super) fn f_repo_slug(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    string_value(repo_slug(&text(&a[0])))
}
