//! The function library: Go's builtins plus the Katalog function set (reference §8).
//!
//! Argument order follows the upstream library, which is Sprig-style where the names coincide: the
//! subject comes **last** so functions read well in pipelines (`{{ .spec.port | default "8080" }}`,
//! `{{ .spec.name | trimPrefix "app-" }}`). The Kubernetes object helpers take the object first
//! (`{{ hasCondition .children.deployment "Available" }}`). `docs/templates.md` lists every
//! function with its signature.

use super::eval::Val;
use super::parse::Names;
use super::value::{Num, compare, equal, is_empty, to_number, to_text, truthy, type_name};
use super::{Env, FuncError, codec};
use crate::time::{format_duration, parse_rfc3339};
use serde_json::{Map, Value};
use std::fmt::Write as _;
use std::sync::Arc;

type PlainFn = fn(&mut Env<'_>, &[Val<'_>]) -> Result<Value, FuncError>;

/// How a function is invoked.
#[derive(Clone, Copy)]
pub(crate) enum Callable<'f> {
    /// Lazy `and`.
    And,
    /// Lazy `or`.
    Or,
    /// A user-defined notes function or a declared sentinel (zero arguments).
    Note(&'f str),
    /// Everything else.
    Plain(PlainFn),
}

#[derive(Clone, Copy)]
enum Kind {
    And,
    Or,
    Plain(PlainFn),
}

/// A registered function.
pub struct Func {
    /// Name as written in templates.
    pub name: &'static str,
    /// Minimum number of arguments (including a piped value).
    pub min: usize,
    /// Maximum, or `None` for variadic.
    pub max: Option<usize>,
    /// One-line signature for docs and errors.
    pub signature: &'static str,
    kind: Kind,
}

/// A resolved function reference in a parsed template.
#[derive(Clone)]
pub(crate) enum FuncRef {
    Builtin(&'static Func),
    Note(Arc<str>),
}

impl std::fmt::Debug for FuncRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FuncRef {
    pub fn name(&self) -> &str {
        match self {
            FuncRef::Builtin(f) => f.name,
            FuncRef::Note(n) => n,
        }
    }

    pub fn arity(&self) -> (usize, Option<usize>) {
        match self {
            FuncRef::Builtin(f) => (f.min, f.max),
            FuncRef::Note(_) => (0, Some(0)),
        }
    }

    pub fn callable(&self) -> Callable<'_> {
        match self {
            FuncRef::Builtin(f) => match f.kind {
                Kind::And => Callable::And,
                Kind::Or => Callable::Or,
                Kind::Plain(p) => Callable::Plain(p),
            },
            FuncRef::Note(n) => Callable::Note(n),
        }
    }
}

/// Resolves a function name: declared notes/sentinels shadow built-ins (a notes function that
/// shadows a built-in must say `shadow: true`; `ork validate` checks that).
pub(crate) fn lookup(name: &str, names: &dyn Names) -> Option<FuncRef> {
    if names.has(name) {
        return Some(FuncRef::Note(Arc::from(name)));
    }
    builtin(name).map(FuncRef::Builtin)
}

/// A built-in function by name.
pub fn builtin(name: &str) -> Option<&'static Func> {
    #[cfg(feature = "test-faults")]
    if name == TEST_PANIC.name {
        return Some(&TEST_PANIC);
    }
    FUNCS.iter().find(|f| f.name == name)
}

/// `testPanic [MESSAGE]` panics: the fault the runtime's panic isolation is tested with.
#[cfg(feature = "test-faults")]
static TEST_PANIC: Func = Func {
    name: "testPanic",
    min: 0,
    max: Some(1),
    signature: "testPanic [MESSAGE] — panics (test builds only)",
    kind: Kind::Plain(|_, args| {
        let message = args.first().map(|a| to_text(a)).unwrap_or_else(|| "testPanic".to_string());
        panic!("{message}")
    }),
};

/// Every built-in function, in table order.
pub fn all() -> &'static [Func] {
    FUNCS
}

/// The closest known function name, for "did you mean".
pub(crate) fn suggest(name: &str) -> Option<&'static str> {
    // Common names from other template dialects that exist here under another name.
    let alias = match name {
        "upper" => Some("toUpper"),
        "lower" => Some("toLower"),
        "quote" => Some("printf \"%q\""),
        "toYaml" => Some("toJSON"),
        "trunc" => Some("truncate"),
        "sha256" => Some("sha256sum"),
        "b64enc" => Some("toBase64"),
        "b64dec" => Some("fromBase64"),
        "int" | "atoi" => Some("toInt"),
        _ => None,
    };
    if alias.is_some() {
        return alias;
    }
    FUNCS
        .iter()
        .map(|f| (strsim::jaro_winkler(&name.to_ascii_lowercase(), &f.name.to_ascii_lowercase()), f.name))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n)
}

macro_rules! funcs {
    ($($name:literal [$min:expr, $max:expr] $sig:literal => $kind:expr),* $(,)?) => {
        static FUNCS: &[Func] = &[
            $(Func { name: $name, min: $min, max: $max, signature: $sig, kind: $kind }),*
        ];
    };
}

const N: Option<usize> = None;
const fn m(n: usize) -> Option<usize> {
    Some(n)
}

funcs! {
    // Go text/template builtins.
    "and" [1, N] "and X Y... — first falsy argument, else the last" => Kind::And,
    "or" [1, N] "or X Y... — first truthy argument, else the last" => Kind::Or,
    "not" [1, m(1)] "not X" => Kind::Plain(f_not),
    "len" [1, m(1)] "len X — length of a string, list or map" => Kind::Plain(f_len),
    "index" [1, N] "index X KEY... — element of a list (by number) or map (by key)" => Kind::Plain(f_index),
    "slice" [1, m(3)] "slice X [I [J]] — sub-list or sub-string" => Kind::Plain(f_slice),
    "eq" [2, N] "eq X Y... — X equals any Y" => Kind::Plain(f_eq),
    "ne" [2, m(2)] "ne X Y" => Kind::Plain(f_ne),
    "lt" [2, m(2)] "lt X Y" => Kind::Plain(f_lt),
    "le" [2, m(2)] "le X Y" => Kind::Plain(f_le),
    "gt" [2, m(2)] "gt X Y" => Kind::Plain(f_gt),
    "ge" [2, m(2)] "ge X Y" => Kind::Plain(f_ge),
    "print" [0, N] "print X... — Go fmt.Sprint" => Kind::Plain(f_print),
    "println" [0, N] "println X... — Go fmt.Sprintln" => Kind::Plain(f_println),
    "printf" [1, N] "printf FORMAT X... — Go fmt.Sprintf (%s %d %v %q %f %x %t %%, width/precision)" => Kind::Plain(f_printf),
    "urlquery" [1, N] "urlquery X... — query-escaped text" => Kind::Plain(f_urlquery),
    // Conditional.
    "default" [1, m(2)] "default FALLBACK VALUE — FALLBACK when VALUE is empty" => Kind::Plain(f_default),
    "coalesce" [1, N] "coalesce X... — first non-empty argument" => Kind::Plain(f_coalesce),
    "ternary" [3, m(3)] "ternary IF_TRUE IF_FALSE COND" => Kind::Plain(f_ternary),
    "empty" [1, m(1)] "empty X — nil, false, 0, \"\", [] or {}" => Kind::Plain(f_empty),
    "notEmpty" [1, m(1)] "notEmpty X" => Kind::Plain(f_not_empty),
    // Strings.
    "toLower" [1, m(1)] "toLower S" => Kind::Plain(f_to_lower),
    "toUpper" [1, m(1)] "toUpper S" => Kind::Plain(f_to_upper),
    "trimSpace" [1, m(1)] "trimSpace S" => Kind::Plain(f_trim),
    "trim" [1, m(1)] "trim S — surrounding whitespace removed" => Kind::Plain(f_trim),
    "trimPrefix" [2, m(2)] "trimPrefix PREFIX S" => Kind::Plain(f_trim_prefix),
    "trimSuffix" [2, m(2)] "trimSuffix SUFFIX S" => Kind::Plain(f_trim_suffix),
    "hasPrefix" [2, m(2)] "hasPrefix PREFIX S" => Kind::Plain(f_has_prefix),
    "hasSuffix" [2, m(2)] "hasSuffix SUFFIX S" => Kind::Plain(f_has_suffix),
    "contains" [2, m(2)] "contains SUBSTR S" => Kind::Plain(f_contains),
    "replace" [3, m(3)] "replace OLD NEW S — every occurrence" => Kind::Plain(f_replace),
    "split" [2, m(2)] "split SEP S — list of parts" => Kind::Plain(f_split),
    "join" [2, m(2)] "join SEP LIST" => Kind::Plain(f_join),
    "repeat" [2, m(2)] "repeat COUNT S" => Kind::Plain(f_repeat),
    "truncate" [2, m(2)] "truncate LENGTH S — at most LENGTH characters" => Kind::Plain(f_truncate),
    "camelToKebab" [1, m(1)] "camelToKebab S — myAppName → my-app-name" => Kind::Plain(f_camel_to_kebab),
    // Types.
    "toInt" [1, m(1)] "toInt X — error on non-numeric text" => Kind::Plain(f_to_int),
    "toFloat" [1, m(1)] "toFloat X" => Kind::Plain(f_to_float),
    "toBool" [1, m(1)] "toBool X — true/false/1/0/yes/no" => Kind::Plain(f_to_bool),
    "toString" [1, m(1)] "toString X" => Kind::Plain(f_to_string),
    "typeOf" [1, m(1)] "typeOf X — nil, bool, int, float, string, list or map" => Kind::Plain(f_type_of),
    "typeMap" [1, m(1)] "typeMap X" => Kind::Plain(f_type_map),
    "typeList" [1, m(1)] "typeList X" => Kind::Plain(f_type_list),
    "typeString" [1, m(1)] "typeString X" => Kind::Plain(f_type_string),
    "typeNumber" [1, m(1)] "typeNumber X" => Kind::Plain(f_type_number),
    "typeBool" [1, m(1)] "typeBool X" => Kind::Plain(f_type_bool),
    "typeNull" [1, m(1)] "typeNull X" => Kind::Plain(f_type_null),
    "isScalar" [1, m(1)] "isScalar X" => Kind::Plain(f_is_scalar),
    "isComposite" [1, m(1)] "isComposite X" => Kind::Plain(f_is_composite),
    // Math.
    "add" [2, N] "add X Y... — sum" => Kind::Plain(f_add),
    "sub" [2, m(2)] "sub X Y — X minus Y" => Kind::Plain(f_sub),
    "mul" [2, N] "mul X Y... — product" => Kind::Plain(f_mul),
    "div" [2, m(2)] "div X Y — integer division for integers" => Kind::Plain(f_div),
    "mod" [2, m(2)] "mod X Y" => Kind::Plain(f_mod),
    "min" [1, N] "min X... — smallest" => Kind::Plain(f_min),
    "max" [1, N] "max X... — largest" => Kind::Plain(f_max),
    "abs" [1, m(1)] "abs X" => Kind::Plain(f_abs),
    // Data.
    "toBase64" [1, m(1)] "toBase64 S — standard alphabet, padded" => Kind::Plain(f_to_base64),
    "fromBase64" [1, m(1)] "fromBase64 S — error on invalid input" => Kind::Plain(f_from_base64),
    "toJSON" [1, m(1)] "toJSON X — compact JSON, keys sorted" => Kind::Plain(f_to_json),
    "sha256sum" [1, m(1)] "sha256sum S — first 8 hex digits of the SHA-256 (upstream-compatible)" => Kind::Plain(f_sha256sum),
    "slugify" [1, m(1)] "slugify S — lowercase DNS-label-safe text" => Kind::Plain(f_slugify),
    "truncateName" [1, m(2)] "truncateName [MAX] NAME — at most MAX (63) characters, hash-suffixed when cut" => Kind::Plain(f_truncate_name),
    // Random (not idempotent: pair with `once: true`).
    "randomAlphanumeric" [1, m(1)] "randomAlphanumeric N" => Kind::Plain(f_random_alnum),
    "randomHex" [1, m(1)] "randomHex N — N hex digits" => Kind::Plain(f_random_hex),
    "randomBase64" [1, m(1)] "randomBase64 N — N random bytes, base64" => Kind::Plain(f_random_base64),
    // Collections.
    "listHas" [2, m(2)] "listHas LIST X" => Kind::Plain(f_list_has),
    "mapKeys" [1, m(1)] "mapKeys MAP — sorted keys" => Kind::Plain(f_map_keys),
    // Kubernetes object helpers.
    "get" [2, m(2)] "get OBJ \"a.b.c\" — value at a dot path, or empty" => Kind::Plain(f_get),
    "getOr" [3, m(3)] "getOr OBJ \"a.b\" FALLBACK" => Kind::Plain(f_get_or),
    "name" [1, m(1)] "name OBJ — metadata.name" => Kind::Plain(f_name),
    "namespace" [1, m(1)] "namespace OBJ — metadata.namespace" => Kind::Plain(f_namespace),
    "labels" [1, m(1)] "labels OBJ — metadata.labels" => Kind::Plain(f_labels),
    "annotations" [1, m(1)] "annotations OBJ — metadata.annotations" => Kind::Plain(f_annotations),
    "phase" [1, m(1)] "phase OBJ — status.phase" => Kind::Plain(f_phase),
    "hasCondition" [2, m(3)] "hasCondition OBJ TYPE [STATUS] — status.conditions has TYPE with STATUS (True)" => Kind::Plain(f_has_condition),
    "conditionReason" [2, m(2)] "conditionReason OBJ TYPE" => Kind::Plain(f_condition_reason),
    "conditionMessage" [2, m(2)] "conditionMessage OBJ TYPE" => Kind::Plain(f_condition_message),
    "replicasReady" [1, m(1)] "replicasReady OBJ — status.readyReplicas ≥ spec.replicas (default 1)" => Kind::Plain(f_replicas_ready),
    "readyReplicas" [1, m(1)] "readyReplicas OBJ" => Kind::Plain(f_ready_replicas),
    "desiredReplicas" [1, m(1)] "desiredReplicas OBJ — spec.replicas (default 1)" => Kind::Plain(f_desired_replicas),
    "jobSucceeded" [1, m(1)] "jobSucceeded JOB — Complete condition or status.succeeded > 0" => Kind::Plain(f_job_succeeded),
    "jobFailed" [1, m(1)] "jobFailed JOB — Failed condition" => Kind::Plain(f_job_failed),
    "jobActive" [1, m(1)] "jobActive JOB — status.active > 0" => Kind::Plain(f_job_active),
    // Time.
    "timeUntil" [1, m(1)] "timeUntil RFC3339 — Go duration until the time (negative when past)" => Kind::Plain(f_time_until),
    "timeSince" [1, m(1)] "timeSince RFC3339 — Go duration since the time" => Kind::Plain(f_time_since),
    "durationSeconds" [1, m(1)] "durationSeconds D — seconds in a duration like 1h30m" => Kind::Plain(f_duration_seconds),
}

// ---------------------------------------------------------------------------------------------
// Argument helpers.

fn text(v: &Value) -> String {
    to_text(v)
}

fn int_arg(v: &Value, what: &'static str) -> Result<i64, FuncError> {
    match to_number(v)? {
        Num::Int(i) => Ok(i),
        Num::Float(f) if f.fract() == 0.0 && f.abs() < 9e15 => Ok(f as i64),
        Num::Float(f) => Err(FuncError::NotWhole { what, got: f }),
    }
}

fn count_arg(v: &Value, what: &'static str, max: i64) -> Result<usize, FuncError> {
    let n = int_arg(v, what)?;
    if n < 0 || n > max {
        return Err(FuncError::OutOfBounds { what, max, got: n });
    }
    Ok(n as usize)
}

fn bool_value(b: bool) -> Result<Value, FuncError> {
    Ok(Value::Bool(b))
}

fn string_value(s: impl Into<String>) -> Result<Value, FuncError> {
    Ok(Value::String(s.into()))
}

/// Value at a dot path (`a.b.0.c`: list indexes allowed).
pub fn lookup_path<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    let mut cur = v;
    for part in path.trim_start_matches('.').split('.').filter(|p| !p.is_empty()) {
        cur = match cur {
            Value::Object(m) => m.get(part)?,
            Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

// ---------------------------------------------------------------------------------------------
// Builtins.

fn f_not(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(!truthy(&a[0]))
}

fn f_len(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(Value::from(match &*a[0] {
        Value::String(s) => s.chars().count(),
        Value::Array(l) => l.len(),
        Value::Object(m) => m.len(),
        Value::Null => 0,
        other => return Err(FuncError::NoLength { type_name: type_name(other) }),
    }))
}

fn f_index(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
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

fn f_slice(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
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

fn f_eq(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    for other in &a[1..] {
        if equal(&a[0], other)? {
            return bool_value(true);
        }
    }
    bool_value(false)
}

fn f_ne(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(!equal(&a[0], &a[1])?)
}

fn f_lt(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(compare(&a[0], &a[1])?.is_lt())
}

fn f_le(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(compare(&a[0], &a[1])?.is_le())
}

fn f_gt(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(compare(&a[0], &a[1])?.is_gt())
}

fn f_ge(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(compare(&a[0], &a[1])?.is_ge())
}

/// Go `fmt.Sprint`: spaces between operands when neither side is a string.
fn f_print(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let mut out = String::new();
    for (i, v) in a.iter().enumerate() {
        if i > 0 && !v.is_string() && !a[i - 1].is_string() {
            out.push(' ');
        }
        out.push_str(&text(v));
    }
    string_value(out)
}

fn f_println(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let parts: Vec<String> = a.iter().map(|v| text(v)).collect();
    string_value(parts.join(" ") + "\n")
}

fn f_printf(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
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
                    'g' => super::value::format_float(f),
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

fn f_urlquery(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
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

// ---------------------------------------------------------------------------------------------
// Conditional.

fn f_default(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    match a.get(1) {
        Some(v) if !is_empty(v) => Ok(v.clone().into_owned()),
        _ => Ok(a[0].clone().into_owned()),
    }
}

fn f_coalesce(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(a.iter().find(|v| !is_empty(v)).map(|v| v.clone().into_owned()).unwrap_or(Value::Null))
}

fn f_ternary(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(if truthy(&a[2]) { a[0].clone().into_owned() } else { a[1].clone().into_owned() })
}

fn f_empty(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(is_empty(&a[0]))
}

fn f_not_empty(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(!is_empty(&a[0]))
}

// ---------------------------------------------------------------------------------------------
// Strings.

fn f_to_lower(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    string_value(text(&a[0]).to_lowercase())
}

fn f_to_upper(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    string_value(text(&a[0]).to_uppercase())
}

fn f_trim(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    string_value(text(&a[0]).trim())
}

fn f_trim_prefix(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let (p, s) = (text(&a[0]), text(&a[1]));
    string_value(s.strip_prefix(p.as_str()).unwrap_or(&s))
}

fn f_trim_suffix(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let (p, s) = (text(&a[0]), text(&a[1]));
    string_value(s.strip_suffix(p.as_str()).unwrap_or(&s))
}

fn f_has_prefix(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(text(&a[1]).starts_with(&text(&a[0])))
}

fn f_has_suffix(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(text(&a[1]).ends_with(&text(&a[0])))
}

fn f_contains(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(text(&a[1]).contains(&text(&a[0])))
}

fn f_replace(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let old = text(&a[0]);
    if old.is_empty() {
        return Err(FuncError::EmptySearch);
    }
    string_value(text(&a[2]).replace(&old, &text(&a[1])))
}

fn f_split(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
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

fn f_join(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let sep = text(&a[0]);
    match &*a[1] {
        Value::Array(items) => string_value(items.iter().map(text).collect::<Vec<_>>().join(&sep)),
        Value::Null => string_value(""),
        other => Err(FuncError::WrongCollection { func: "join", want: "list", got: type_name(other) }),
    }
}

fn f_repeat(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let n = count_arg(&a[0], "repeat count", 10_000)?;
    let s = text(&a[1]);
    if s.len().saturating_mul(n) > 1 << 20 {
        return Err(FuncError::TooLarge);
    }
    string_value(s.repeat(n))
}

fn f_truncate(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let n = count_arg(&a[0], "length", i64::MAX)?;
    string_value(text(&a[1]).chars().take(n).collect::<String>())
}

fn f_camel_to_kebab(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
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

// ---------------------------------------------------------------------------------------------
// Types.

fn f_to_int(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(Value::from(match to_number(&a[0])? {
        Num::Int(i) => i,
        Num::Float(f) => f.trunc() as i64,
    }))
}

fn f_to_float(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
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

fn f_to_bool(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    match &*a[0] {
        Value::Bool(b) => bool_value(*b),
        Value::Null => bool_value(false),
        Value::Number(n) => bool_value(n.as_f64().is_some_and(|f| f != 0.0)),
        Value::String(s) => parse_bool(s).map(Value::Bool).ok_or_else(|| FuncError::NotBooleanText { text: s.clone() }),
        other => Err(FuncError::NotBoolean { type_name: type_name(other) }),
    }
}

fn f_to_string(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    string_value(text(&a[0]))
}

fn f_type_of(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    string_value(type_name(&a[0]))
}

fn f_type_map(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(a[0].is_object())
}

fn f_type_list(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(a[0].is_array())
}

fn f_type_string(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(a[0].is_string())
}

fn f_type_number(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(a[0].is_number())
}

fn f_type_bool(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(a[0].is_boolean())
}

fn f_type_null(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(a[0].is_null())
}

fn f_is_scalar(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(!(a[0].is_object() || a[0].is_array() || a[0].is_null()))
}

fn f_is_composite(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(a[0].is_object() || a[0].is_array())
}

// ---------------------------------------------------------------------------------------------
// Math: integers stay integers (with overflow checks); any float makes the result a float.

fn nums(a: &[Val<'_>]) -> Result<Vec<Num>, FuncError> {
    Ok(a.iter().map(|v| to_number(v)).collect::<Result<_, _>>()?)
}

fn fold(a: &[Val<'_>], int: fn(i64, i64) -> Option<i64>, float: fn(f64, f64) -> f64, func: &'static str) -> Result<Value, FuncError> {
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

fn f_add(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    fold(a, i64::checked_add, |x, y| x + y, "add")
}

fn f_sub(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    fold(a, i64::checked_sub, |x, y| x - y, "sub")
}

fn f_mul(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    fold(a, i64::checked_mul, |x, y| x * y, "mul")
}

fn f_div(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    if to_number(&a[1])?.as_f64() == 0.0 {
        return Err(FuncError::DivisionByZero);
    }
    fold(a, i64::checked_div, |x, y| x / y, "div")
}

fn f_mod(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    if to_number(&a[1])?.as_f64() == 0.0 {
        return Err(FuncError::ModuloByZero);
    }
    fold(a, i64::checked_rem, |x, y| x % y, "mod")
}

fn pick(a: &[Val<'_>], want_less: bool) -> Result<Value, FuncError> {
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

fn f_min(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    pick(a, true)
}

fn f_max(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    pick(a, false)
}

fn f_abs(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(match to_number(&a[0])? {
        Num::Int(i) => Num::Int(i.checked_abs().ok_or(FuncError::Overflow { func: "abs" })?),
        Num::Float(f) => Num::Float(f.abs()),
    }
    .into_value())
}

// ---------------------------------------------------------------------------------------------
// Data.

fn f_to_base64(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    string_value(codec::base64_encode(text(&a[0]).as_bytes()))
}

fn f_from_base64(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let bytes = codec::base64_decode(&text(&a[0]))?;
    String::from_utf8(bytes).map(Value::String).map_err(|_| FuncError::NotUtf8)
}

fn f_to_json(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(serde_json::to_string(&*a[0]).map(Value::String)?)
}

fn f_sha256sum(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
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

fn f_slugify(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    string_value(slugify(&text(&a[0])))
}

fn f_truncate_name(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
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
    format!("{}-{}", head.trim_end_matches(trim), super::codec_hash8(s))
}

// ---------------------------------------------------------------------------------------------
// Random.

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn f_random_alnum(env: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
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

fn f_random_hex(env: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let n = count_arg(&a[0], "length", 4096)?;
    let mut buf = vec![0u8; n.div_ceil(2)];
    env.rng.fill(&mut buf)?;
    string_value(codec::hex(&buf)[..n].to_string())
}

fn f_random_base64(env: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let n = count_arg(&a[0], "byte count", 4096)?;
    let mut buf = vec![0u8; n];
    env.rng.fill(&mut buf)?;
    string_value(codec::base64_encode(&buf))
}

// ---------------------------------------------------------------------------------------------
// Collections.

fn f_list_has(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    match &*a[0] {
        Value::Array(items) => bool_value(items.iter().any(|i| equal(i, &a[1]).unwrap_or(false))),
        Value::Null => bool_value(false),
        other => Err(FuncError::WrongCollection { func: "listHas", want: "list", got: type_name(other) }),
    }
}

fn f_map_keys(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    match &*a[0] {
        Value::Object(m) => Ok(Value::Array(m.keys().map(|k| Value::String(k.clone())).collect())),
        Value::Null => Ok(Value::Array(Vec::new())),
        other => Err(FuncError::WrongCollection { func: "mapKeys", want: "map", got: type_name(other) }),
    }
}

// ---------------------------------------------------------------------------------------------
// Kubernetes object helpers. They accept nil (a child that does not exist yet) and answer
// "empty"/false rather than failing: status templates run before children exist.

fn f_get(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(lookup_path(&a[0], &text(&a[1])).cloned().unwrap_or(Value::Null))
}

fn f_get_or(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    match lookup_path(&a[0], &text(&a[1])) {
        Some(v) if !v.is_null() => Ok(v.clone()),
        _ => Ok(a[2].clone().into_owned()),
    }
}

fn meta_field(a: &[Val<'_>], path: &str) -> Result<Value, FuncError> {
    Ok(lookup_path(&a[0], path).cloned().unwrap_or(Value::Null))
}

fn f_name(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    meta_field(a, "metadata.name")
}

fn f_namespace(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    meta_field(a, "metadata.namespace")
}

fn f_labels(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(lookup_path(&a[0], "metadata.labels").cloned().unwrap_or(Value::Object(Map::new())))
}

fn f_annotations(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(lookup_path(&a[0], "metadata.annotations").cloned().unwrap_or(Value::Object(Map::new())))
}

fn f_phase(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    meta_field(a, "status.phase")
}

fn condition<'v>(obj: &'v Value, kind: &str) -> Option<&'v Value> {
    lookup_path(obj, "status.conditions")?.as_array()?.iter().find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

fn f_has_condition(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let want = a.get(2).map(|v| text(v)).unwrap_or_else(|| "True".into());
    let found = condition(&a[0], &text(&a[1])).and_then(|c| c.get("status")).is_some_and(|s| to_text(s).eq_ignore_ascii_case(&want));
    bool_value(found)
}

fn f_condition_reason(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(condition(&a[0], &text(&a[1])).and_then(|c| c.get("reason")).cloned().unwrap_or(Value::Null))
}

fn f_condition_message(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(condition(&a[0], &text(&a[1])).and_then(|c| c.get("message")).cloned().unwrap_or(Value::Null))
}

fn int_at(obj: &Value, path: &str) -> Option<i64> {
    lookup_path(obj, path).and_then(|v| to_number(v).ok()).map(|n| n.as_f64() as i64)
}

fn f_replicas_ready(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    if !a[0].is_object() {
        return bool_value(false);
    }
    let desired = int_at(&a[0], "spec.replicas").unwrap_or(1);
    let ready = int_at(&a[0], "status.readyReplicas").unwrap_or(0);
    bool_value(ready >= desired)
}

fn f_ready_replicas(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(Value::from(int_at(&a[0], "status.readyReplicas").unwrap_or(0)))
}

fn f_desired_replicas(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let default = if a[0].is_object() { 1 } else { 0 };
    Ok(Value::from(int_at(&a[0], "spec.replicas").unwrap_or(default)))
}

fn f_job_succeeded(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let complete = condition(&a[0], "Complete").and_then(|c| c.get("status")).is_some_and(|s| to_text(s) == "True");
    bool_value(complete || int_at(&a[0], "status.succeeded").unwrap_or(0) > 0)
}

fn f_job_failed(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let failed = condition(&a[0], "Failed").and_then(|c| c.get("status")).is_some_and(|s| to_text(s) == "True");
    bool_value(failed)
}

fn f_job_active(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    bool_value(int_at(&a[0], "status.active").unwrap_or(0) > 0)
}

// ---------------------------------------------------------------------------------------------
// Time.

fn f_time_until(env: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let t = parse_rfc3339(&text(&a[0]))?;
    string_value(format_duration(t - env.now))
}

fn f_time_since(env: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let t = parse_rfc3339(&text(&a[0]))?;
    string_value(format_duration(env.now - t))
}

fn f_duration_seconds(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let s = text(&a[0]);
    let d = crate::validate::parse_duration(&s).ok_or_else(|| FuncError::NotDuration { text: s.clone() })?;
    Ok(if d.fract() == 0.0 && d.abs() < 9e15 { Num::Int(d as i64) } else { Num::Float(d) }.into_value())
}
