//! A CRD entry (`spec.crds.<name>`) and its `operatorBox` (reference §3–§4, G5 layout).

// Field names are the document's keys (camelCase in YAML), documented in docs/ and by the
// decoder's errors; a field has a doc comment only where its name does not say it all.
#![allow(missing_docs)]

use super::condition::{Condition, MutationRule, ValidationRule};
use super::resources::HookTemplates;
use crate::decode::{Cx, Decode, Map, Spanned, Str};
use crate::diag::Span;
use crate::string_enum;
use crate::yaml::{Node, Value};
use katalog_derive::Decode;

string_enum! {
    /// How CRs are decoded. Only `dynamic` exists in ork; `typed` (compiled Go types) has no
    /// Rust analogue.
    pub enum Mode { Dynamic = ["dynamic"], Typed = ["typed"] }
}

/// `apiTypes`.
#[derive(Debug, Clone, Default, Decode)]
pub struct ApiTypes {
    /// API group (empty for core).
    pub group: Option<Str>,
    pub version: Option<Str>,
    pub kind: Option<Str>,
    /// Plural resource name.
    pub plural: Option<Str>,
    /// `/apis` (default) or `/api` for core.
    pub api_path: Option<Str>,
    /// Go import path of generated types.
    #[decode(unsupported = "typed mode (compiled Go types) does not exist in ork; CRs are handled dynamically")]
    pub location: Option<Str>,
    /// Go type name.
    #[decode(unsupported = "typed mode (compiled Go types) does not exist in ork; CRs are handled dynamically")]
    pub object: Option<Str>,
    /// Go list type name.
    #[decode(unsupported = "typed mode (compiled Go types) does not exist in ork; CRs are handled dynamically")]
    pub object_list: Option<Str>,
    /// Go import alias.
    #[decode(unsupported = "typed mode (compiled Go types) does not exist in ork; CRs are handled dynamically")]
    pub alias: Option<Str>,
    #[decode(span)]
    pub span: Span,
}

string_enum! {
    /// The state a dependency must reach before a dependent CRD starts.
    pub enum DependencyCondition { Started = ["started"], Healthy = ["healthy"] }
}

/// One `dependsOn` edge.
#[derive(Debug, Clone)]
pub struct Dependency {
    /// The CRD entry depended on.
    pub name: Str,
    /// The state it must reach.
    pub condition: DependencyCondition,
}

/// `dependsOn` in its three shapes: `[db]`, `{db: healthy}`, `{db: {condition: healthy}}`.
pub fn decode_depends_on(node: &Node, cx: &mut Cx) -> Option<Vec<Dependency>> {
    #[derive(Debug, Clone, Default, Decode)]
    struct Full {
        #[decode(required)]
        condition: Option<Spanned<DependencyCondition>>,
    }
    match &node.value {
        Value::Null => Some(Vec::new()),
        Value::Seq(_) => {
            let names = Vec::<Str>::decode(node, cx)?;
            Some(names.into_iter().map(|name| Dependency { name, condition: DependencyCondition::Started }).collect())
        }
        Value::Map(entries) => {
            let mut out = Vec::new();
            for (k, v) in entries {
                let name = Str::new(k.as_scalar_text().unwrap_or_default().to_string(), k.span);
                let cond = cx.in_key(&name.value.clone(), |cx| match &v.value {
                    Value::Map(_) => Full::decode(v, cx).and_then(|f| f.condition.map(|c| c.value)),
                    Value::Null => Some(DependencyCondition::Started),
                    _ => DependencyCondition::decode(v, cx),
                });
                if let Some(condition) = cond {
                    out.push(Dependency { name, condition });
                }
            }
            Some(out)
        }
        Value::Scalar(..) => {
            cx.error_help(
                "wrong-type",
                node.span,
                format!("expected a list or an object, got {}", node.type_name()),
                "write `dependsOn: [other]` or `dependsOn: {other: healthy}`",
            );
            None
        }
    }
}

/// `admission.validation`.
#[derive(Debug, Clone, Default, Decode)]
#[decode(include = "rules")]
pub struct Validation {
    /// Rules; all violations are reported together.
    pub rules: Vec<ValidationRule>,
    /// Calls run before the rules.
    #[decode(unsupported = "external calls are not executed by ork")]
    pub external: Option<Node>,
}

/// `admission.mutation`.
#[derive(Debug, Clone, Default, Decode)]
#[decode(include = "rules")]
pub struct Mutation {
    /// Mutate before validating at reconcile time (default true).
    pub mutate_first: Option<bool>,
    pub rules: Vec<MutationRule>,
    /// Calls run before the rules.
    #[decode(unsupported = "external calls are not executed by ork")]
    pub external: Option<Node>,
}

/// One conversion path.
#[derive(Debug, Clone, Default, Decode)]
pub struct ConversionPath {
    /// Source version.
    #[decode(required)]
    pub from: Option<Str>,
    /// Target version.
    #[decode(required)]
    pub to: Option<Str>,
    /// Field mapping (templates or literals).
    pub spec: Map<Str>,
}

/// `admission.conversion`.
#[derive(Debug, Clone, Default, Decode)]
#[decode(include = "paths")]
pub struct Conversion {
    pub storage_version: Option<Str>,
    pub paths: Vec<ConversionPath>,
    /// The other CRD of a pair (no paths).
    pub participant: Option<bool>,
    /// Patch the CRD's conversion strategy.
    #[decode(rename = "updateCRD")]
    pub update_crd: Option<bool>,
}

string_enum! {
    /// An admission operation.
    pub enum AdmissionOperation { Create = ["CREATE"], Update = ["UPDATE"], Delete = ["DELETE"], Connect = ["CONNECT"] }
}

/// `admission.webhooks`.
#[derive(Debug, Clone, Default, Decode)]
pub struct CrdWebhooks {
    /// Intercept for validation.
    pub validation: Option<bool>,
    /// Intercept for mutation.
    pub mutation: Option<bool>,
    /// Operations (default CREATE, UPDATE).
    pub operations: Vec<AdmissionOperation>,
}

/// CRD-level `admission`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Admission {
    /// Validation rules.
    pub validation: Option<Validation>,
    /// Mutation rules.
    pub mutation: Option<Mutation>,
    /// Version conversion.
    pub conversion: Option<Conversion>,
    /// Webhook interception.
    pub webhooks: Option<CrdWebhooks>,
}

/// `observe.cross[].selector`.
#[derive(Debug, Clone, Default, Decode)]
pub struct CrossSelector {
    /// Name (template).
    pub name: Option<Str>,
    /// Namespace (template).
    pub namespace: Option<Str>,
    pub match_labels: Map<Str>,
}

/// `observe.cross[]`: read another CRD's objects (`.cross.<as>` in templates, conditions and
/// status; a change of the object read re-queues the CRs that read it).
#[derive(Debug, Clone, Default, Decode)]
pub struct Cross {
    /// CRD entry name of this Katalog.
    pub crd: Option<Str>,
    /// Select by the labels of CRD entries instead of naming one.
    #[decode(unsupported = "cross reads that pick the CRD by label are not executed by ork; name the entry with `crd:`")]
    pub label_selector: Map<Str>,
    /// Which object: by name (and namespace), or by labels. Without it: the first object of
    /// the CRD in the CR's namespace.
    pub selector: Option<CrossSelector>,
    /// Name in `.cross.<as>` (default: the CRD entry name).
    #[decode(rename = "as")]
    pub as_: Option<Str>,
    /// `first` (the only strategy: the first match by namespace then name).
    pub strategy: Option<Spanned<CrossStrategy>>,
    /// HTTP fallback.
    #[decode(unsupported = "cross-binary sources are not read by ork")]
    pub source: Option<Node>,
    #[decode(span)]
    pub span: Span,
}

string_enum! {
    /// Which of several matching objects a cross read takes.
    pub enum CrossStrategy { First = ["first"], All = ["all"] }
}

string_enum! {
    /// A change a watch reacts to.
    pub enum WatchOn { Create = ["create", "created", "add"], Update = ["update", "updated", "modify"], Delete = ["delete", "deleted"] }
}

/// `keyFrom`: which CR a watched object's change is for.
#[derive(Debug, Clone, Default, Decode)]
pub struct KeyFrom {
    /// A label of the watched object whose value is the CR's name.
    pub label: Option<Str>,
    /// The CR's name (template over the watched object: `.metadata.labels.app`).
    pub name: Option<Str>,
    /// The CR's namespace (template over the watched object; default: the object's namespace).
    pub namespace: Option<Str>,
}

/// `observe.watch[]`: watch any kind; a change enqueues the owning CR, the keyed one, or every CR.
#[derive(Debug, Clone, Default, Decode)]
pub struct WatchEntry {
    /// `group/version` or `v1`.
    #[decode(required)]
    pub api_version: Option<Str>,
    #[decode(required)]
    pub kind: Option<Str>,
    /// Only this namespace.
    pub namespace: Option<Str>,
    /// Only this object.
    pub name: Option<Str>,
    /// Which changes count (default: all).
    pub on: Vec<Spanned<WatchOn>>,
    /// Which CR a change is for.
    pub key_from: Option<KeyFrom>,
    /// Resource name of a kind that is neither built in nor a CRD of this Katalog.
    pub plural: Option<Str>,
    #[decode(unsupported = "gates on watch events are not executed by ork; gate in `preReconcile`")]
    pub enqueue_gate: Option<Node>,
    #[decode(unsupported = "watch indexes are not built by ork")]
    pub index: Option<Node>,
    #[decode(unsupported = "includes inside one watch entry are not read by ork; include the whole `observe` block")]
    pub include: Option<Node>,
    #[decode(span)]
    pub span: Span,
}

/// `observe.events.<name>`: Kubernetes Events that enqueue a CR.
#[derive(Debug, Clone, Default, Decode)]
pub struct EventWatch {
    /// Event reason (exact).
    pub reason: Option<Str>,
    /// Event action (exact).
    pub action: Option<Str>,
    /// `Normal` or `Warning`.
    #[decode(rename = "type")]
    pub kind: Option<Str>,
    pub reporting_controller: Option<Str>,
    pub reporting_instance: Option<Str>,
    /// The object the Event is about.
    pub regarding: Option<EventObject>,
    /// Only Events in this namespace.
    pub namespace: Option<Str>,
    /// Which CR an Event is for (default: the object it is about, when it is a CR of this CRD
    /// or owned by one; else every CR).
    pub key_from: Option<KeyFrom>,
    /// Which changes of the Event count (default: all).
    pub on: Vec<Spanned<WatchOn>>,
    #[decode(unsupported = "matching an Event's related object is not executed by ork")]
    pub related: Option<Node>,
    #[decode(unsupported = "matching an Event by its own name is not executed by ork")]
    pub name: Option<Str>,
    #[decode(unsupported = "gates on Events are not executed by ork; gate in `preReconcile`")]
    pub enqueue_gate: Option<Node>,
    #[decode(unsupported = "includes inside one event watch are not read by ork; include the whole `observe` block")]
    pub include: Option<Node>,
    #[decode(span)]
    pub span: Span,
}

/// `regarding:` of an event watch.
#[derive(Debug, Clone, Default, Decode)]
pub struct EventObject {
    pub api_version: Option<Str>,
    pub kind: Option<Str>,
    pub name: Option<Str>,
}

/// `operatorBox.observe`.
#[derive(Debug, Clone, Default, Decode)]
#[decode(include = "cross, watch, events")]
pub struct Observe {
    /// Cross-CRD reads.
    pub cross: Vec<Cross>,
    /// Extra watches.
    pub watch: Vec<WatchEntry>,
    /// Event watches, by name.
    pub events: Map<EventWatch>,
}

string_enum! {
    /// What a gate does when it cannot be evaluated.
    pub enum FailPolicy { Open = ["open"], Closed = ["closed"] }
}

/// `enqueueGate` / `reconcileGate`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Gate {
    /// Sentinels (OR).
    pub sentinels: Vec<Str>,
    /// Do not coalesce events.
    pub event_aware: Option<bool>,
    /// All must pass.
    pub when: Vec<Condition>,
    /// One must pass.
    pub or: Vec<Condition>,
    /// open | closed.
    pub fail_policy: Option<FailPolicy>,
    #[decode(unsupported = "external calls are not executed by ork")]
    pub external: Option<Node>,
}

/// `operatorBox.preReconcile`.
#[derive(Debug, Clone, Default, Decode)]
pub struct PreReconcile {
    /// Declared sentinels.
    pub sentinels: Vec<Str>,
    /// Gate in the watch.
    pub enqueue_gate: Option<Gate>,
    /// Gate after dequeue.
    pub reconcile_gate: Option<Gate>,
    #[decode(unsupported = "external calls are not executed by ork")]
    pub external: Option<Node>,
}

/// Per-CRD deletion protection.
#[derive(Debug, Clone, Default, Decode)]
pub struct CrdDeletionProtection {
    /// Protect the CRD object (default true).
    #[decode(rename = "protectCRD")]
    pub protect_crd: Option<bool>,
    /// Protect CR instances (default true).
    #[decode(rename = "protectCRs")]
    pub protect_crs: Option<bool>,
}

/// `operatorBox.runtime`.
#[derive(Debug, Clone, Default, Decode)]
pub struct RuntimePolicy {
    pub finalizers: Vec<Str>,
    /// Strip finalizers (testing).
    pub remove_finalizers: Option<bool>,
    pub deletion_protection: Option<CrdDeletionProtection>,
    /// Namespace allow-list (globs).
    pub allowed_namespaces: Vec<Str>,
    /// Namespace deny-list (globs).
    pub restricted_namespaces: Vec<Str>,
    /// Skip status patches.
    pub ignore_status_patch: Option<bool>,
    /// Skip observedGeneration.
    pub ignore_observed_generation: Option<bool>,
    /// Worker-pool autoscaler.
    #[decode(unsupported = "operator autoscaling is not executed by ork")]
    pub autoscale: Option<Node>,
    /// Delete finished CRs.
    #[decode(unsupported = "automatic CR cleanup is not executed by ork")]
    pub cleanup: Option<Node>,
}

string_enum! {
    /// Queue implementation.
    pub enum QueueType { RateLimited = ["ratelimited", "rate-limited"], Delayed = ["delayed"] }
}

/// `reconcile.queue`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Queue {
    /// Shared queue.
    #[decode(unsupported = "shared queues do not exist in ork: every OperatorBox has its own")]
    pub shared: Option<bool>,
    /// Queue type.
    #[decode(rename = "type")]
    pub kind: Option<QueueType>,
    /// Max depth (0 = unlimited).
    pub max_depth: Option<u32>,
    /// Consecutive failures before degraded.
    pub failure_threshold: Option<u32>,
    /// Limit behaviour.
    #[decode(unsupported = "queue limit behaviours are not executed by ork")]
    pub behaviour: Option<Node>,
    /// Error backoff: a duration or {initial, max, multiplier, maxAttempts}.
    pub retry_backoff: Option<RetryBackoff>,
}

/// `queue.retryBackoff`: how a CR whose reconcile failed is retried. Written as a duration (the
/// first delay, `"5s"`) or as `{initial, max, multiplier, maxAttempts}` (ork's reading of keys
/// upstream leaves unconfirmed; docs/runtime.md). Checked when decoded: durations parse and are
/// positive, `max ≥ initial`, `multiplier ≥ 1`, `maxAttempts ≥ 1`. Unset parts keep the queue's
/// defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RetryBackoff {
    /// The first delay, in seconds.
    pub initial: Option<f64>,
    /// The longest delay, in seconds.
    pub max: Option<f64>,
    /// Growth per consecutive failure (1 = a fixed delay).
    pub multiplier: Option<f64>,
    /// Consecutive failed reconciles after which the failure path stops retrying.
    pub max_attempts: Option<u32>,
    /// Where it is written.
    pub span: Span,
}

/// The long form of [`RetryBackoff`] as written.
#[derive(Debug, Clone, Default, Decode)]
struct RetryBackoffFields {
    initial: Option<Str>,
    max: Option<Str>,
    multiplier: Option<Node>,
    max_attempts: Option<u32>,
}

fn backoff_seconds(s: &Str, key: &str, cx: &mut Cx) -> Option<f64> {
    match crate::duration::parse_duration(s.as_str()) {
        Some(v) if v.is_finite() && v > 0.0 => Some(v),
        Some(_) => {
            cx.error_help(
                "invalid-value",
                s.span,
                format!("`retryBackoff.{key}` must be longer than zero"),
                "write a positive duration such as `5s` or `500ms`",
            );
            None
        }
        None => {
            cx.error_help(
                "invalid-duration",
                s.span,
                format!("`retryBackoff.{key}`: `{}` is not a duration", s.as_str()),
                "write a duration such as `5s`, `1m` or `500ms`",
            );
            None
        }
    }
}

impl Decode for RetryBackoff {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        if let Value::Scalar(..) = &node.value {
            let text = Str::decode(node, cx)?;
            let initial = backoff_seconds(&text, "initial", cx)?;
            return Some(RetryBackoff { initial: Some(initial), span: node.span, ..RetryBackoff::default() });
        }
        let f = RetryBackoffFields::decode(node, cx)?;
        let initial = f.initial.as_ref().and_then(|s| backoff_seconds(s, "initial", cx));
        let max = f.max.as_ref().and_then(|s| backoff_seconds(s, "max", cx));
        let multiplier = f.multiplier.as_ref().and_then(|m| match m.as_scalar_text().map(|t| t.trim().parse::<f64>()) {
            Some(Ok(v)) if v.is_finite() && v >= 1.0 => Some(v),
            Some(Ok(_)) => {
                cx.error_help(
                    "invalid-value",
                    m.span,
                    "`retryBackoff.multiplier` must be at least 1",
                    "1 retries after the same delay every time; 2 doubles it",
                );
                None
            }
            _ => {
                cx.type_error(m, "a number");
                None
            }
        });
        if let (Some(i), Some(m)) = (initial, max)
            && m < i
            && let Some(s) = &f.max
        {
            cx.error_help(
                "invalid-value",
                s.span,
                "`retryBackoff.max` is shorter than `initial`",
                "make `max` at least `initial`, or leave it out (default 1000s)",
            );
        }
        if f.max_attempts == Some(0) {
            cx.error_help("invalid-value", node.span, "`retryBackoff.maxAttempts` must be at least 1", "leave it out to retry without limit");
        }
        Some(RetryBackoff { initial, max, multiplier, max_attempts: f.max_attempts.filter(|n| *n > 0), span: node.span })
    }
}

/// Durations are parsed when decoded; nothing here is a template.
impl crate::decode::Walk for RetryBackoff {
    fn walk(&self, _: &mut dyn FnMut(&str, Span)) {}
    fn reach(r: &mut crate::decode::Reach) {
        <RetryBackoffFields as crate::decode::Walk>::reach(r);
    }
}

/// `reconcile.requeue`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Requeue {
    /// Duration template.
    pub after: Option<Str>,
    /// Gate: all must pass.
    pub when: Vec<Condition>,
    /// Gate: one must pass.
    pub or: Vec<Condition>,
}

/// `reconcile.normalize`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Normalize {
    /// Dot path → template.
    pub spec: Map<Str>,
}

/// A credential named by environment variables (never a literal).
#[derive(Debug, Clone, Default, Decode)]
pub struct EnvAuth {
    /// bearer | github | basic.
    #[decode(rename = "type")]
    pub kind: Option<AuthType>,
    /// Token variable.
    pub from_env: Option<Str>,
    /// Username variable.
    pub username_from_env: Option<Str>,
    /// Password variable.
    pub password_from_env: Option<Str>,
}

string_enum! {
    /// Authentication scheme of a fetch.
    pub enum AuthType { Bearer = ["bearer"], Github = ["github"], Basic = ["basic"] }
}

/// A motif import.
#[derive(Debug, Clone, Default, Decode)]
pub struct MotifImport {
    /// File path, `oci://…`, or registry name.
    #[decode(required)]
    pub motif: Option<Str>,
    /// Version (registry refs).
    pub version: Option<Str>,
    /// Registry ref.
    pub oci: Option<bool>,
    /// Registry credentials.
    pub auth: Option<EnvAuth>,
    /// A public key (PEM file, relative to this file) the Motif artifact must be signed with.
    pub verify: Option<Str>,
    /// Values for the motif's inputs.
    pub with: Map<Node>,
    #[decode(span)]
    pub span: Span,
}

/// `operatorBox.reconcile`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Reconcile {
    /// Generic declarative reconciler (true).
    pub default: Option<bool>,
    /// Go hook.
    #[decode(unsupported = "Go hooks (typed mode) do not exist in ork")]
    pub hooks: Option<Node>,
    /// Custom Go reconciler.
    #[decode(unsupported = "Go constructors (typed mode) do not exist in ork")]
    pub constructor: Option<Node>,
    /// Remote HTTP reconciler.
    #[decode(unsupported = "remote reconcilers are not executed by ork")]
    pub remote: Option<Node>,
    /// Tuning profile.
    pub profile: Option<Str>,
    /// Worker count (1..50).
    pub workers: Option<u32>,
    /// Resync period.
    pub resync: Option<Str>,
    pub queue: Option<Queue>,
    /// Requeue after success.
    pub requeue: Option<Requeue>,
    /// CR normalisation.
    pub normalize: Option<Normalize>,
    /// Motif imports (expanded at load time).
    pub imports: Vec<MotifImport>,
    /// Server-side-apply force.
    pub force_conflict: Option<bool>,
    /// Create-if-absent children.
    pub on_create: Option<HookTemplates>,
    /// Drift-corrected children.
    pub on_reconcile: Option<HookTemplates>,
    pub on_delete: Option<HookTemplates>,
}

string_enum! {
    /// Coercion of a status field.
    pub enum StatusType {
        String = ["string", "str"], Int = ["int", "integer"], Float = ["float"], Bool = ["bool", "boolean"], Auto = ["auto"],
    }
}

/// One `emit.status.fields[]` entry.
#[derive(Debug, Clone, Default, Decode)]
pub struct StatusField {
    /// Path under `status` (dot nesting).
    #[decode(required)]
    pub path: Option<Str>,
    /// Literal or template.
    pub value: Option<Str>,
    /// How the value is coerced before it is written.
    #[decode(rename = "type")]
    pub kind: Option<StatusType>,
    /// Gate: all must pass.
    pub when: Vec<Condition>,
    /// Gate: one must pass.
    pub or: Vec<Condition>,
    /// Write "" when the gate is false.
    pub clear_on_false: Option<bool>,
    #[decode(span)]
    pub span: Span,
}

/// `emit.status`.
#[derive(Debug, Clone, Default, Decode)]
#[decode(include = "fields")]
pub struct StatusConfig {
    /// Fields in order; the last writer of a path wins.
    pub fields: Vec<StatusField>,
    /// The Ready condition layer (default true).
    pub conditions: Option<bool>,
    /// What `Ready=True` means: `children` (default: the reconcile succeeded and every child is
    /// ready) or `reconcile` (upstream's meaning: the reconcile succeeded). An ork extension.
    pub readiness: Option<Spanned<Readiness>>,
}

string_enum! {
    /// The meaning of the `Ready` condition.
    pub enum Readiness { Children = ["children"], Reconcile = ["reconcile"] }
}

/// `operatorBox.emit`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Emit {
    pub status: Option<StatusConfig>,
    /// Structured events.
    #[decode(unsupported = "structured emit events are not executed by ork; Kubernetes Events are recorded automatically")]
    pub events: Option<Node>,
}

/// `operatorBox` (G5: exactly these five sections).
#[derive(Debug, Clone, Default, Decode)]
pub struct OperatorBox {
    /// Data in.
    pub observe: Option<Observe>,
    pub pre_reconcile: Option<PreReconcile>,
    pub runtime: Option<RuntimePolicy>,
    /// The work.
    pub reconcile: Option<Reconcile>,
    pub emit: Option<Emit>,
}

/// `endpoints`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Endpoints {
    /// Per-CRD endpoints on.
    pub enabled: Option<bool>,
    /// Health endpoint.
    pub health: Option<bool>,
    /// Info endpoint.
    pub info: Option<bool>,
}

/// `spec.crds.<name>`.
#[derive(Debug, Clone, Default, Decode)]
pub struct CrdEntry {
    /// false: parsed, not started.
    pub enabled: Option<bool>,
    pub description: Option<Str>,
    /// dynamic (typed is not supported).
    pub mode: Option<Spanned<Mode>>,
    /// API identity.
    pub api_types: Option<ApiTypes>,
    /// CRD manifest (overrides apiTypes).
    pub crd_file: Option<Str>,
    /// CRs applied in dev mode.
    pub cr_files: Vec<Str>,
    /// Where `crdFile` points: resolved against the file that names it and admitted by the
    /// loader's pattern-root check. `None` for a remote crdFile, one outside the root, or an
    /// entry that did not come through the loader (`load::load_file`). Readers open this path,
    /// never `crd_file` joined by hand.
    #[decode(skip)]
    pub crd_file_path: Option<std::path::PathBuf>,
    /// `crFiles`, resolved and admitted like [`CrdEntry::crd_file_path`] (a refused entry is
    /// left out).
    #[decode(skip)]
    pub cr_file_paths: Vec<std::path::PathBuf>,
    #[decode(unsupported = "per-CRD setup manifests are not applied by ork; list them under `spec.setup` of an e2e.yaml (`ork e2e`)")]
    pub setup: Option<Node>,
    /// Scope (default true).
    pub namespaced: Option<bool>,
    /// Informer namespace.
    pub namespace: Option<Str>,
    /// Visible to other Katalogs' cross reads.
    #[decode(unsupported = "cross reads between Katalogs are not executed by ork, so there is no access to grant")]
    pub cross_access: Option<bool>,
    /// Labels stamped on each CR.
    pub labels: Map<Str>,
    /// Watch only matching CRs.
    pub label_selector: Map<Str>,
    /// Server-side field selector.
    pub field_selector: Map<Str>,
    /// Start order.
    #[decode(with = decode_depends_on)]
    pub depends_on: Vec<Dependency>,
    /// Child enrichment.
    #[decode(unsupported = "child enrichment is not executed by ork")]
    pub enrich_all: Option<bool>,
    /// Child enrichment.
    #[decode(unsupported = "child enrichment is not executed by ork")]
    pub enrich: Option<Node>,
    /// Per-CRD runtime endpoints.
    #[decode(unsupported = "per-CRD endpoints are not served by ork; the runtime's /healthz, /readyz and /katalog cover every CRD")]
    pub endpoints: Option<Endpoints>,
    pub admission: Option<Admission>,
    pub operator_box: Option<OperatorBox>,
    /// Self-service intake.
    #[decode(unsupported = "self-service intake (`serve`) is not executed by ork")]
    pub serve: Option<Node>,
    /// Stamped by the loader.
    pub katalog_name: Option<Str>,
    /// Stamped by the loader.
    pub katalog_namespace: Option<Str>,
    /// Stamped by the loader.
    pub katalog_description: Option<Str>,
    /// Stamped by the loader.
    pub katalog_version: Option<Str>,
    #[decode(span)]
    pub span: Span,
}

impl CrdEntry {
    /// True unless `enabled: false`.
    pub fn is_enabled(&self) -> bool {
        self.enabled != Some(false)
    }

    /// The reconcile section, if any.
    pub fn reconcile(&self) -> Option<&Reconcile> {
        self.operator_box.as_ref()?.reconcile.as_ref()
    }

    /// The preReconcile section (sentinels and gates), if any.
    pub fn pre_reconcile(&self) -> Option<&PreReconcile> {
        self.operator_box.as_ref()?.pre_reconcile.as_ref()
    }

    /// The runtime section, if any.
    pub fn runtime(&self) -> Option<&RuntimePolicy> {
        self.operator_box.as_ref()?.runtime.as_ref()
    }

    /// Whether an onCreate/onReconcile entry orders its creation with `dependsOn` (the
    /// children of entries with an `id` or a `dependsOn` are then deleted in the reverse order).
    pub fn orders_children(&self) -> bool {
        self.reconcile().is_some_and(|r| r.on_create.iter().chain(&r.on_reconcile).any(|b| b.entries().iter().any(|(_, c)| !c.depends_on.is_empty())))
    }

    /// onCreate, onReconcile and onDelete blocks that exist, with their names.
    pub fn lifecycle_blocks(&self) -> Vec<(&'static str, &HookTemplates)> {
        let Some(r) = self.reconcile() else { return Vec::new() };
        let mut out = Vec::new();
        if let Some(b) = &r.on_create {
            out.push(("onCreate", b));
        }
        if let Some(b) = &r.on_reconcile {
            out.push(("onReconcile", b));
        }
        if let Some(b) = &r.on_delete {
            out.push(("onDelete", b));
        }
        out
    }
}

impl crate::decode::Walk for Dependency {
    fn walk(&self, _: &mut dyn FnMut(&str, Span)) {}
}
