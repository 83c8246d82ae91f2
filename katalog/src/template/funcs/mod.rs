//! The function library: Go's builtins plus the Katalog function set (reference §8).
//!
//! Argument order follows the upstream library, which is Sprig-style where the names coincide: the
//! subject comes **last** so functions read well in pipelines (`{{ .spec.port | default "8080" }}`,
//! `{{ .spec.name | trimPrefix "app-" }}`). The Kubernetes object helpers take the object first
//! (`{{ hasCondition .children.deployment "Available" }}`). `docs/templates.md` lists every
//! function with its signature.

mod data;
mod go;
mod numbers;
mod objects;
mod text;

// The table below names every builtin; each family's module contributes its `f_*` functions.
use data::*;
use go::*;
use numbers::*;
use objects::*;
use text::*;

pub(crate) use data::cut_with_hash;
pub use data::slugify;
pub use go::sprintf;
pub use numbers::parse_bool;

use super::eval::Val;
use super::parse::Names;
use super::value::{Num, to_number, to_text};
use super::{Env, FuncError};
use serde_json::Value;
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
