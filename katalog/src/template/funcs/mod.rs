//! The function library: Go's builtins plus the Katalog function set (reference §8).
//!
//! Argument order follows the upstream library, which is Sprig-style where the names coincide: the
//! subject comes **last** so functions read well in pipelines (`{{ .spec.port | default "8080" }}`,
//! `{{ .spec.name | trimPrefix "app-" }}`). The Kubernetes object helpers take the object first
//! (`{{ hasCondition .children.deployment "Available" }}`). `docs/templates.md` lists every
//! function with its signature.

mod access;
mod clock;
mod cron;
mod data;
mod go;
mod net;
mod numbers;
mod objects;
mod quantity;
mod semver;
mod text;
mod workloads;

// The table below names every builtin; each family's module contributes its `f_*` functions.
use access::*;
use clock::*;
use cron::*;
use data::*;
use go::*;
use net::*;
use numbers::*;
use objects::*;
use quantity::*;
use semver::*;
use text::*;
use workloads::*;

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

/// A function of upstream's library that ork refuses at load time, and what to use instead.
pub struct Refused {
    /// Name as written in templates.
    pub name: &'static str,
    /// Why ork does not provide it.
    pub why: &'static str,
    /// What to use instead (names a supported function or Katalog feature).
    pub instead: &'static str,
}

/// Upstream functions that need the network, a cluster or a feature ork does not execute:
/// rendering is pure (no cluster reads, no clock of its own), so a template naming one of these
/// is refused when it is parsed, with the nearest supported way to get the same answer.
pub static REFUSED: &[Refused] = &[
    Refused {
        name: "lookup",
        why: "rendering never reads the cluster",
        instead: "declare the object under `operatorBox.observe.cross` and read it as `.cross.<as>.spec`/`.status` (or a child as `.children.<kind>`)",
    },
    Refused {
        name: "promAboveThreshold",
        why: "rendering never queries Prometheus",
        instead: "gate on the runtime's own `.metrics.*`/`.health.*`, or fetch the value with an `external:` call and compare it with `gt`",
    },
    Refused {
        name: "promBelowThreshold",
        why: "rendering never queries Prometheus",
        instead: "gate on the runtime's own `.metrics.*`/`.health.*`, or fetch the value with an `external:` call and compare it with `lt`",
    },
    Refused { name: "getServeTarget", why: "the serve (gateway intake) provenance is not executed by ork", instead: SERVE_INSTEAD },
    Refused { name: "getServeAlias", why: "the serve (gateway intake) provenance is not executed by ork", instead: SERVE_INSTEAD },
    Refused { name: "getServeSource", why: "the serve (gateway intake) provenance is not executed by ork", instead: SERVE_INSTEAD },
    Refused { name: "hasServeTarget", why: "the serve (gateway intake) provenance is not executed by ork", instead: SERVE_INSTEAD },
    Refused { name: "hasServeAlias", why: "the serve (gateway intake) provenance is not executed by ork", instead: SERVE_INSTEAD },
    Refused { name: "hasServeSource", why: "the serve (gateway intake) provenance is not executed by ork", instead: SERVE_INSTEAD },
    Refused { name: "isDirectApply", why: "the serve (gateway intake) provenance is not executed by ork", instead: SERVE_INSTEAD },
];

const SERVE_INSTEAD: &str = "read the CR's own labels and annotations with `getLabel`/`getAnnotation` (e.g. `getAnnotation . \"team\"`)";

/// The refusal for a function name upstream has and ork does not.
pub fn refused(name: &str) -> Option<&'static Refused> {
    REFUSED.iter().find(|r| r.name == name)
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
    "Empty" [1, m(1)] "Empty X — same as empty (upstream's capitalized alias)" => Kind::Plain(f_empty),
    // Conditional.
    "default" [1, m(2)] "default FALLBACK VALUE — FALLBACK when VALUE is empty" => Kind::Plain(f_default),
    "coalesce" [1, N] "coalesce X... — first non-empty argument" => Kind::Plain(f_coalesce),
    "ternary" [3, m(3)] "ternary IF_TRUE IF_FALSE COND" => Kind::Plain(f_ternary),
    "empty" [1, m(1)] "empty X — nil, false, 0, \"\", [] or {}" => Kind::Plain(f_empty),
    "notEmpty" [1, m(1)] "notEmpty X" => Kind::Plain(f_not_empty),
    "boolTernary" [3, m(3)] "boolTernary IF_TRUE IF_FALSE COND — COND read as a boolean (the text \"false\" is false)" => Kind::Plain(f_bool_ternary),
    "boolDefault" [1, m(2)] "boolDefault FALLBACK VALUE — VALUE as a boolean (a real false is kept), else FALLBACK" => Kind::Plain(f_bool_default),
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
    "clamp" [3, m(3)] "clamp MIN MAX X — X limited to MIN..MAX" => Kind::Plain(f_clamp),
    // Data.
    "toBase64" [1, m(1)] "toBase64 S — standard alphabet, padded" => Kind::Plain(f_to_base64),
    "fromBase64" [1, m(1)] "fromBase64 S — error on invalid input" => Kind::Plain(f_from_base64),
    "toJSON" [1, m(1)] "toJSON X — compact JSON, keys sorted" => Kind::Plain(f_to_json),
    "sha256sum" [1, m(1)] "sha256sum S — first 8 hex digits of the SHA-256 (upstream-compatible)" => Kind::Plain(f_sha256sum),
    "slugify" [1, m(1)] "slugify S — lowercase DNS-label-safe text" => Kind::Plain(f_slugify),
    "truncateName" [1, m(2)] "truncateName [MAX] NAME — at most MAX (63) characters, hash-suffixed when cut" => Kind::Plain(f_truncate_name),
    "repoSlug" [1, m(1)] "repoSlug URL — owner/repo of a Git remote (https, ssh or scp form)" => Kind::Plain(f_repo_slug),
    // Random (not idempotent: pair with `once: true`).
    "randomAlphanumeric" [1, m(1)] "randomAlphanumeric N" => Kind::Plain(f_random_alnum),
    "randomHex" [1, m(1)] "randomHex N — N hex digits" => Kind::Plain(f_random_hex),
    "randomBase64" [1, m(1)] "randomBase64 N — N random bytes, base64" => Kind::Plain(f_random_base64),
    // Collections.
    "listHas" [2, m(2)] "listHas LIST X" => Kind::Plain(f_list_has),
    "mapKeys" [1, m(1)] "mapKeys MAP — sorted keys" => Kind::Plain(f_map_keys),
    "listGet" [2, m(2)] "listGet LIST INDEX — element (negative counts from the end), or nil" => Kind::Plain(f_list_get),
    "listLen" [1, m(1)] "listLen LIST — length (0 for nil)" => Kind::Plain(f_list_len),
    "mapGet" [2, m(3)] "mapGet MAP KEY [FALLBACK] — value, else FALLBACK (nil)" => Kind::Plain(f_map_get),
    "mapValues" [1, m(1)] "mapValues MAP — values in key order" => Kind::Plain(f_map_values),
    "mapPick" [2, N] "mapPick MAP KEY... — only those keys (a key may be a list of keys)" => Kind::Plain(f_map_pick),
    "mapOmit" [2, N] "mapOmit MAP KEY... — all but those keys" => Kind::Plain(f_map_omit),
    // Safe access.
    "getStringOr" [3, m(3)] "getStringOr OBJ \"a.b\" FALLBACK — text at the path, else FALLBACK" => Kind::Plain(f_get_string_or),
    "getIntOr" [3, m(3)] "getIntOr OBJ \"a.b\" FALLBACK — whole number at the path, else FALLBACK" => Kind::Plain(f_get_int_or),
    "getBoolOr" [3, m(3)] "getBoolOr OBJ \"a.b\" FALLBACK — boolean at the path, else FALLBACK" => Kind::Plain(f_get_bool_or),
    // Coercion.
    "asList" [1, m(1)] "asList X — X if a list, [] for nil, else [X]" => Kind::Plain(f_as_list),
    "asMap" [1, m(1)] "asMap X — X if a map (or JSON object text), else {}" => Kind::Plain(f_as_map),
    "asString" [1, m(1)] "asString X — text; nil is \"\", lists and maps are JSON" => Kind::Plain(f_as_string),
    // Kubernetes object helpers.
    "get" [2, m(2)] "get OBJ \"a.b.c\" — value at a dot path, or empty" => Kind::Plain(f_get),
    "getOr" [3, m(3)] "getOr OBJ \"a.b\" FALLBACK" => Kind::Plain(f_get_or),
    "name" [1, m(1)] "name OBJ — metadata.name" => Kind::Plain(f_name),
    "namespace" [1, m(1)] "namespace OBJ — metadata.namespace" => Kind::Plain(f_namespace),
    "labels" [1, m(1)] "labels OBJ — metadata.labels" => Kind::Plain(f_labels),
    "annotations" [1, m(1)] "annotations OBJ — metadata.annotations" => Kind::Plain(f_annotations),
    "phase" [1, m(1)] "phase OBJ — status.phase" => Kind::Plain(f_phase),
    "meta" [1, m(1)] "meta OBJ — metadata ({} when missing)" => Kind::Plain(f_meta),
    "spec" [1, m(1)] "spec OBJ — spec ({} when missing)" => Kind::Plain(f_spec),
    "status" [1, m(1)] "status OBJ — status ({} when missing)" => Kind::Plain(f_status),
    "resourceName" [1, m(1)] "resourceName OBJ — metadata.name" => Kind::Plain(f_name),
    "resourceNamespace" [1, m(1)] "resourceNamespace OBJ — metadata.namespace" => Kind::Plain(f_namespace),
    "resourceUID" [1, m(1)] "resourceUID OBJ — metadata.uid" => Kind::Plain(f_resource_uid),
    "resourceVersion" [1, m(1)] "resourceVersion OBJ — metadata.resourceVersion" => Kind::Plain(f_resource_version),
    "creationTimestamp" [1, m(1)] "creationTimestamp OBJ — metadata.creationTimestamp" => Kind::Plain(f_creation_timestamp),
    "ownerKind" [1, m(1)] "ownerKind OBJ — kind of the controller owner reference (else the first)" => Kind::Plain(f_owner_kind),
    "ownerName" [1, m(1)] "ownerName OBJ — name of the controller owner reference (else the first)" => Kind::Plain(f_owner_name),
    "resourceExists" [1, m(1)] "resourceExists OBJ — OBJ is a non-empty object" => Kind::Plain(f_resource_exists),
    "isTerminating" [1, m(1)] "isTerminating OBJ — metadata.deletionTimestamp is set" => Kind::Plain(f_is_terminating),
    "generation" [1, m(1)] "generation OBJ — metadata.generation (0)" => Kind::Plain(f_generation),
    "observedGeneration" [1, m(1)] "observedGeneration OBJ — status.observedGeneration (0)" => Kind::Plain(f_observed_generation),
    "isSynced" [1, m(1)] "isSynced OBJ — status.observedGeneration ≥ metadata.generation" => Kind::Plain(f_is_synced),
    "getLabel" [2, m(2)] "getLabel OBJ KEY — metadata.labels[KEY]" => Kind::Plain(f_get_label),
    "getAnnotation" [2, m(2)] "getAnnotation OBJ KEY — metadata.annotations[KEY]" => Kind::Plain(f_get_annotation),
    "hasCondition" [2, m(3)] "hasCondition OBJ TYPE [STATUS] — status.conditions has TYPE with STATUS (True)" => Kind::Plain(f_has_condition),
    "conditionReason" [2, m(2)] "conditionReason OBJ TYPE" => Kind::Plain(f_condition_reason),
    "conditionMessage" [2, m(2)] "conditionMessage OBJ TYPE" => Kind::Plain(f_condition_message),
    "replicasReady" [1, m(1)] "replicasReady OBJ — status.readyReplicas ≥ spec.replicas (default 1)" => Kind::Plain(f_replicas_ready),
    "readyReplicas" [1, m(1)] "readyReplicas OBJ" => Kind::Plain(f_ready_replicas),
    "desiredReplicas" [1, m(1)] "desiredReplicas OBJ — spec.replicas (default 1)" => Kind::Plain(f_desired_replicas),
    "allReplicasReady" [1, m(1)] "allReplicasReady OBJS — every workload of a list or by-name map (or one workload) is replicasReady; false when none" => Kind::Plain(f_all_replicas_ready),
    "availableReplicas" [1, m(1)] "availableReplicas OBJ — status.availableReplicas (0)" => Kind::Plain(f_available_replicas),
    "updatedReplicas" [1, m(1)] "updatedReplicas OBJ — status.updatedReplicas (0)" => Kind::Plain(f_updated_replicas),
    // Services.
    "serviceClusterIP" [1, m(1)] "serviceClusterIP SVC — spec.clusterIP" => Kind::Plain(f_service_cluster_ip),
    "serviceNodePort" [1, m(2)] "serviceNodePort SVC [PORT] — nodePort of the port with that name or number (the first port)" => Kind::Plain(f_service_node_port),
    "serviceLoadBalancerIP" [1, m(1)] "serviceLoadBalancerIP SVC — first status.loadBalancer.ingress IP" => Kind::Plain(f_service_lb_ip),
    "serviceLoadBalancerHost" [1, m(1)] "serviceLoadBalancerHost SVC — first status.loadBalancer.ingress hostname" => Kind::Plain(f_service_lb_host),
    "endpointsReady" [1, m(1)] "endpointsReady OBJ — an Endpoints/EndpointSlice (or any of a list or map of them) has a ready address" => Kind::Plain(f_endpoints_ready),
    // Containers (of a Pod, a pod template, or a CronJob's job template).
    "containerImage" [1, m(2)] "containerImage OBJ [CONTAINER] — image of that container (the first)" => Kind::Plain(f_container_image),
    "containerEnv" [2, m(3)] "containerEnv OBJ VAR [CONTAINER] — literal value of an env var" => Kind::Plain(f_container_env),
    "containerPort" [1, m(2)] "containerPort OBJ [CONTAINER] — first containerPort of that container (the first)" => Kind::Plain(f_container_port),
    "containerPortByName" [2, m(2)] "containerPortByName OBJ PORT_NAME — containerPort of the named port, any container" => Kind::Plain(f_container_port_by_name),
    "containerPorts" [1, m(1)] "containerPorts OBJ — every containerPort, in order" => Kind::Plain(f_container_ports),
    "containerCount" [1, m(1)] "containerCount OBJ — number of containers" => Kind::Plain(f_container_count),
    // Jobs.
    "jobSucceeded" [1, m(1)] "jobSucceeded JOB — Complete condition or status.succeeded > 0" => Kind::Plain(f_job_succeeded),
    "jobFailed" [1, m(1)] "jobFailed JOB — Failed condition" => Kind::Plain(f_job_failed),
    "jobActive" [1, m(1)] "jobActive JOB — status.active > 0" => Kind::Plain(f_job_active),
    // Time.
    "timeUntil" [1, m(1)] "timeUntil RFC3339 — Go duration until the time (negative when past)" => Kind::Plain(f_time_until),
    "timeSince" [1, m(1)] "timeSince RFC3339 — Go duration since the time" => Kind::Plain(f_time_since),
    "durationSeconds" [1, m(1)] "durationSeconds D — seconds in a duration like 1h30m" => Kind::Plain(f_duration_seconds),
    "timeAgo" [1, m(1)] "timeAgo RFC3339 — coarse age: 45s ago, 5m ago, 3h ago, 2d ago (in 5m when future)" => Kind::Plain(f_time_ago),
    "timeFormat" [2, m(2)] "timeFormat LAYOUT RFC3339 — the time (UTC) in a Go layout like \"2006-01-02 15:04\"" => Kind::Plain(f_time_format),
    "isExpired" [1, m(1)] "isExpired RFC3339 — the time is now or past (false when empty)" => Kind::Plain(f_is_expired),
    "durationAdd" [2, m(2)] "durationAdd D RFC3339|D2 — the time moved by D, or the sum of two durations" => Kind::Plain(f_duration_add),
    "durationValid" [1, m(1)] "durationValid D — D is a duration like 90s or 1h30m" => Kind::Plain(f_duration_valid),
    "inBusinessHours" [0, m(2)] "inBusinessHours [START END] — now is Monday–Friday within START..END (09:00–17:00 UTC)" => Kind::Plain(f_in_business_hours),
    // Semantic versions.
    "semverMajor" [1, m(1)] "semverMajor V — major number of 1.2.3 (v prefix allowed)" => Kind::Plain(f_semver_major),
    "semverMinor" [1, m(1)] "semverMinor V" => Kind::Plain(f_semver_minor),
    "semverPatch" [1, m(1)] "semverPatch V" => Kind::Plain(f_semver_patch),
    "semverValid" [1, m(1)] "semverValid V — V is a semantic version" => Kind::Plain(f_semver_valid),
    "semverCompare" [2, m(2)] "semverCompare A B — -1, 0 or 1 by semver precedence" => Kind::Plain(f_semver_compare),
    "semverBump" [2, m(2)] "semverBump major|minor|patch V — the next version" => Kind::Plain(f_semver_bump),
    "semverConstraint" [2, m(2)] "semverConstraint CONSTRAINT V — V satisfies \">=1.2, <2\", \"^1.2\", \"~1.2.3\", \"1.x\", a || b" => Kind::Plain(f_semver_constraint),
    // Quantities (Kubernetes resource.Quantity).
    "parseQuantity" [1, m(1)] "parseQuantity Q — the value in base units: 500m → 0.5, 1Gi → 1073741824" => Kind::Plain(f_parse_quantity),
    "formatQuantity" [1, m(2)] "formatQuantity [decimal|binary] Q — canonical quantity text (2048Mi → 2Gi, 0.5 → 500m)" => Kind::Plain(f_format_quantity),
    "sumQuantity" [1, N] "sumQuantity Q... | LIST — the sum, in the first quantity's format" => Kind::Plain(f_sum_quantity),
    // Cron.
    "cronValid" [1, m(1)] "cronValid EXPR — a five-field cron expression or @macro" => Kind::Plain(f_cron_valid),
    "cronNormalize" [1, m(1)] "cronNormalize EXPR — macros expanded, names as numbers, single spaces" => Kind::Plain(f_cron_normalize),
    "cronToMap" [1, m(1)] "cronToMap EXPR — {minute, hour, dom, month, dow}" => Kind::Plain(f_cron_to_map),
    "cronFromMap" [1, m(1)] "cronFromMap MAP — expression from {minute, hour, dom, month, dow} (missing: *)" => Kind::Plain(f_cron_from_map),
    "cronFromAny" [1, m(1)] "cronFromAny X — expression from text, a field map or a list of five fields" => Kind::Plain(f_cron_from_any),
    "cronDescribe" [1, m(1)] "cronDescribe EXPR — short English description" => Kind::Plain(f_cron_describe),
    "cronField" [2, m(2)] "cronField minute|hour|dom|month|dow EXPR — that field, normalized" => Kind::Plain(f_cron_field),
    "cronMinute" [1, m(1)] "cronMinute EXPR" => Kind::Plain(f_cron_minute),
    "cronHour" [1, m(1)] "cronHour EXPR" => Kind::Plain(f_cron_hour),
    "cronDom" [1, m(1)] "cronDom EXPR — day-of-month field" => Kind::Plain(f_cron_dom),
    "cronMonth" [1, m(1)] "cronMonth EXPR" => Kind::Plain(f_cron_month),
    "cronDow" [1, m(1)] "cronDow EXPR — day-of-week field" => Kind::Plain(f_cron_dow),
    "cronExpr" [5, m(5)] "cronExpr MINUTE HOUR DOM MONTH DOW — validated expression (empty fields are *)" => Kind::Plain(f_cron_expr),
    // Network.
    "cidrContains" [2, m(2)] "cidrContains CIDR IP — IP is inside the range (IPv4 or IPv6)" => Kind::Plain(f_cidr_contains),
    "ipValid" [1, m(1)] "ipValid X — X is an IPv4 or IPv6 address" => Kind::Plain(f_ip_valid),
    "ipIsPrivate" [1, m(1)] "ipIsPrivate X — RFC 1918 IPv4 or fc00::/7 IPv6 (Go's IsPrivate)" => Kind::Plain(f_ip_is_private),
    // Validation helpers (the API server's format rules).
    "isDNS1123Subdomain" [1, m(1)] "isDNS1123Subdomain S — a valid object name for most kinds" => Kind::Plain(f_is_dns1123_subdomain),
    "isDNS1123Label" [1, m(1)] "isDNS1123Label S — a valid Service/Namespace name" => Kind::Plain(f_is_dns1123_label),
    "isValidLabelValue" [1, m(1)] "isValidLabelValue S — empty, or ≤ 63 of [A-Za-z0-9-_.] starting and ending alphanumeric" => Kind::Plain(f_is_valid_label_value),
    "isValidLabelKey" [1, m(1)] "isValidLabelKey S — [prefix/]name" => Kind::Plain(f_is_valid_qualified_name),
    "isValidAnnotationKey" [1, m(1)] "isValidAnnotationKey S — [prefix/]name" => Kind::Plain(f_is_valid_qualified_name),
    "isValidEmail" [1, m(1)] "isValidEmail S — local@domain.tld" => Kind::Plain(f_is_valid_email),
    "isValidGitURL" [1, m(1)] "isValidGitURL S — https/ssh/git URL or user@host:path" => Kind::Plain(f_is_valid_git_url),
    "isValidImage" [1, m(1)] "isValidImage S — [registry/]path[:tag][@digest]" => Kind::Plain(f_is_valid_image),
    "isValidPort" [1, m(1)] "isValidPort X — a whole number 1–65535" => Kind::Plain(f_is_valid_port),
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
