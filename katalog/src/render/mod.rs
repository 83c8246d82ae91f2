//! From a CR to what should exist: `(Katalog, CRD entry, CR, observed children)` → desired child
//! manifests and the status patch. Pure and deterministic (the clock and randomness are
//! inputs), shared by `ork template`, simulate, the runtime and the gateway.
//!
//! Order of work for one CR (reference §4.4, `runtime-and-gateway.md` §1.9–§1.11): mutation
//! (when `mutateFirst`, the default) → validation (a deny stops here) → mutation (when not
//! `mutateFirst`) → `onCreate` then `onReconcile` entries (block gate, entry gate, `forEach`) →
//! status (conditions, then `emit.status.fields` in order; the last writer of a path wins).

mod invalid;
mod kinds;
mod meta;
pub mod offline;
pub mod ready;

use crate::model::crd::{CrdEntry, StatusField, StatusType};
use crate::model::katalog::Katalog;
use crate::model::resources::ChildKind;
use crate::redact::Redactor;
use crate::rules::{Evaluator, PatchOp, Phase, Violation, apply_patch};
use crate::template::{Rng, TemplateSet};
use crate::time::format_rfc3339;
use serde_json::{Map, Value, json};
use std::fmt;

pub use meta::{ANNOTATION_ENTRY, LABEL_MANAGED, LABEL_MANAGED_BY, LABEL_OWNER, LABEL_OWNER_KIND, LABEL_OWNER_NAMESPACE, LABEL_WORKLOAD, label_value};

/// Everything one render needs besides the Katalog.
pub struct Request<'a> {
    /// The CRD entry name (`spec.crds.<name>`).
    pub crd: &'a str,
    /// The CR as stored (JSON).
    pub cr: &'a Value,
    /// Children as last observed (any kinds; exposed as `.children.*`).
    pub observed: &'a [Value],
    /// The other CRs of this CRD (for `unique` rules).
    pub others: &'a [Value],
    /// "Now", Unix seconds.
    pub now: i64,
    /// Random source for `random*` functions.
    pub rng: Rng,
    /// `.cross`: what the CRD's `observe.cross` reads found ([`crate::observe::cross_data`]);
    /// `Value::Null` when it reads nothing.
    pub cross: &'a Value,
}

/// Which lifecycle block an entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Block {
    /// `onCreate`: create if absent.
    OnCreate,
    /// `onReconcile`: drift-corrected every reconcile.
    OnReconcile,
    /// `onDelete`: runs while the CR is being deleted.
    OnDelete,
}

impl Block {
    /// The YAML key.
    pub fn key(self) -> &'static str {
        match self {
            Block::OnCreate => "onCreate",
            Block::OnReconcile => "onReconcile",
            Block::OnDelete => "onDelete",
        }
    }
}

/// The annotation on a `once` Secret with `rotateAfter`: when ork generated its data (RFC 3339,
/// UTC). The Secret is regenerated once it is older than `rotateAfter` (upstream's name).
pub const ANNOTATION_GENERATED_AT: &str = "orkestra.orkspace.io/generated-at";

/// One desired child object. Its manifest may hold secret values (a Secret's data, a value
/// interpolated anywhere), so its `Debug` names the object and leaves the manifest out.
#[derive(Clone, serde::Serialize)]
pub struct Child {
    /// Block of the entry.
    pub block: Block,
    /// Kind of entry.
    #[serde(skip)]
    pub kind: ChildKind,
    /// Where it was declared: `onCreate.deployments[0]` (plus `[key]` for forEach items).
    pub source: String,
    /// Whether it is drift-corrected every reconcile (`onReconcile`, or `reconcile: true`).
    pub drift_correct: bool,
    /// Create only if missing, never re-render (`once: true` on secrets).
    pub once: bool,
    /// With `once`: regenerate the object when it is older than this (`rotateAfter` on a
    /// Secret; its age is read from [`ANNOTATION_GENERATED_AT`]).
    #[serde(skip)]
    pub rotate_after: Option<std::time::Duration>,
    /// For `onDelete` ordered groups: the group index.
    pub group: Option<usize>,
    /// The manifest.
    pub manifest: Value,
    /// The entry's own `forceConflict` (`None`: the CRD's `reconcile.forceConflict` decides).
    #[serde(skip)]
    pub force_conflict: Option<bool>,
    /// The entry's `id` (what other entries' `dependsOn` name).
    #[serde(skip)]
    pub id: Option<String>,
    /// The entry's `dependsOn`.
    #[serde(skip)]
    pub depends_on: Vec<String>,
    /// The entry's `readyWhen` (empty: the kind's default rule).
    #[serde(skip)]
    pub ready_when: Vec<crate::model::Condition>,
    /// The ids this child still waits for (not ready yet): it is not created or updated until
    /// they are (set by [`ready::readiness`]).
    #[serde(skip)]
    pub waiting_for: Vec<String>,
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = |p: &str| self.manifest.pointer(p).and_then(Value::as_str).unwrap_or_default();
        f.debug_struct("Child")
            .field("block", &self.block)
            .field("source", &self.source)
            .field("object", &format!("{} {}", text("/kind"), text("/metadata/name")))
            .finish_non_exhaustive()
    }
}

/// The result of rendering one CR. Violations, status and warnings are already scrubbed of the
/// CR's sensitive values; the CR and the children are not (the reconciler writes them), so its
/// `Debug` shows counts for those.
#[derive(Clone)]
pub struct Rendered {
    /// The CR after mutation.
    pub cr: Value,
    /// The mutations applied (JSON patch).
    pub mutations: Vec<PatchOp>,
    /// Every validation violation (deny and warn).
    pub violations: Vec<Violation>,
    /// Desired children in declaration order. Empty when a deny rule failed.
    pub children: Vec<Child>,
    /// The desired `status` object (conditions, observedGeneration, declared fields).
    pub status: Value,
    /// Status fields that could not be resolved (reported, not fatal: reference §1.11).
    pub warnings: Vec<String>,
    /// The desired children that are not ready (docs/readiness.md), in declaration order.
    pub not_ready: Vec<ready::NotReady>,
    /// The sensitive values of this CR, its observed Secrets and the Secrets it renders: scrub
    /// any further message about it with this (docs/reconcile.md, "Sensitive values").
    pub redactor: Redactor,
}

impl fmt::Debug for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rendered")
            .field("mutations", &self.mutations.len())
            .field("violations", &self.violations)
            .field("children", &self.children)
            .field("status", &self.status)
            .field("warnings", &self.warnings)
            .field("not_ready", &self.not_ready)
            .finish_non_exhaustive()
    }
}

impl Rendered {
    /// Whether a deny rule failed.
    pub fn denied(&self) -> bool {
        self.violations.iter().any(Violation::is_deny)
    }
}

/// A render failure, naming the CRD, the resource entry and the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError {
    /// CRD entry name.
    pub crd: String,
    /// The entry: `onCreate.deployments[0]`, `admission.validation`, `emit.status.fields[2]`.
    pub resource: String,
    /// The field within it (`replicas`), or empty.
    pub field: String,
    /// What went wrong.
    pub message: String,
    /// Which kind of failure.
    pub failure: RenderFailure,
}

/// The kinds of [`RenderError`]: whether retrying the same CR can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderFailure {
    /// A template, profile or value could not be rendered (it may read observed children,
    /// which change).
    Render,
    /// The CR, or an object rendered from it, breaks the API server's rules for names, labels
    /// or annotations: it would be refused every time, until the CR or the Katalog changes
    /// (the runtime treats it like a deny rule: reported, not retried).
    InvalidObject,
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "crd `{}`: {}", self.crd, self.resource)?;
        if !self.field.is_empty() {
            write!(f, ".{}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for RenderError {}

/// Renders one CR of CRD entry `req.crd`. Nothing it reports — violations, status, warnings,
/// errors — shows a sensitive value of the CR, of its observed Secrets or of the Secrets it
/// renders ([`crate::sensitive`]); [`Rendered::redactor`] knows those values for the caller's
/// own messages.
pub fn render(katalog: &Katalog, templates: &TemplateSet, req: Request<'_>) -> Result<Rendered, RenderError> {
    let crd = req.crd;
    let mut guard = Redactor::for_cr(templates.sensitivity(crd), req.cr, req.observed);
    match render_guarded(katalog, templates, req, &mut guard) {
        Ok(mut r) => {
            if !r.mutations.is_empty() {
                guard.add_cr(templates.sensitivity(crd), &r.cr);
            }
            for c in &r.children {
                guard.add_secret(&c.manifest);
            }
            guard.scrub_json(&mut r.status);
            r.warnings.iter_mut().for_each(|w| *w = guard.scrub(w));
            r.redactor = guard;
            Ok(r)
        }
        Err(mut e) => {
            e.message = guard.scrub(&e.message);
            Err(e)
        }
    }
}

fn render_guarded(katalog: &Katalog, templates: &TemplateSet, req: Request<'_>, guard: &mut Redactor) -> Result<Rendered, RenderError> {
    let crd = req.crd;
    let err = |resource: &str, field: &str, message: String| RenderError {
        crd: crd.to_string(),
        resource: resource.to_string(),
        field: field.to_string(),
        message,
        failure: RenderFailure::Render,
    };
    let Some(entry) = katalog.crds().get(crd) else {
        let known: Vec<&str> = katalog.crds().iter().map(|(k, _)| k.as_str()).collect();
        return Err(err("spec.crds", "", format!("no CRD entry named `{crd}` (known: {})", known.join(", "))));
    };
    if !req.cr.is_object() {
        return Err(err("cr", "", "the CR is not an object".into()));
    }
    invalid::check(crd, "cr", req.cr, true)?;
    let mut ev = Evaluator::new(templates, req.now, req.rng.clone());
    let admission = entry.admission.as_ref();
    let validation = admission.and_then(|a| a.validation.as_ref()).map(|v| v.rules.as_slice()).unwrap_or_default();
    let mutation = admission.and_then(|a| a.mutation.as_ref());
    let mutate_first = mutation.and_then(|m| m.mutate_first).unwrap_or(true);
    let mutation_rules = mutation.map(|m| m.rules.as_slice()).unwrap_or_default();

    let mut cr = req.cr.clone();
    let mut mutations = Vec::new();
    let mutate = |ev: &mut Evaluator<'_>, cr: &mut Value, mutations: &mut Vec<PatchOp>| {
        let ops = ev.mutate(mutation_rules, cr).map_err(|e| err("admission.mutation", "", e.to_string()))?;
        apply_patch(cr, &ops).map_err(|e| err("admission.mutation", "", e.to_string()))?;
        mutations.extend(ops);
        Ok::<(), RenderError>(())
    };
    if mutate_first {
        mutate(&mut ev, &mut cr, &mut mutations)?;
    }
    let mut violations = ev.validate(validation, &cr, req.others, Phase::Reconcile).map_err(|e| err("admission", "", e.to_string()))?;
    // Before the conditions quote them (and cut them to length): no sensitive value, by field or
    // interpolated into a rule's message.
    if !mutations.is_empty() {
        guard.add_cr(templates.sensitivity(crd), &cr);
    }
    for v in &mut violations {
        v.redact(templates.sensitivity(crd));
        v.message = guard.scrub(&v.message);
        v.value = guard.scrub(&v.value);
    }
    let denied = violations.iter().any(Violation::is_deny);
    if !mutate_first && !denied {
        mutate(&mut ev, &mut cr, &mut mutations)?;
    }

    let mut data = template_data(&cr, req.observed);
    if req.cross.is_object()
        && let Some(m) = data.as_object_mut()
    {
        m.insert("cross".into(), req.cross.clone());
    }
    let mut children = Vec::new();
    if !denied && let Some(reconcile) = entry.reconcile() {
        let ctx = meta::Owner::from_cr(&cr, entry);
        let mut r = kinds::Renderer { ev: &mut ev, katalog, crd, owner: &ctx, children: &mut children };
        if let Some(block) = &reconcile.on_create {
            r.block(Block::OnCreate, block, &data, None)?;
        }
        if let Some(block) = &reconcile.on_reconcile {
            r.block(Block::OnReconcile, block, &data, None)?;
        }
        if cr.pointer("/metadata/deletionTimestamp").is_some_and(|v| !v.is_null())
            && let Some(block) = &reconcile.on_delete
        {
            r.delete_block(block, &data)?;
        }
    }

    let mut not_ready = ready::readiness(&mut ev, &mut children, req.observed);
    if !readiness_from_children(entry) {
        not_ready.clear();
    }
    if let Some(m) = data.as_object_mut() {
        m.insert("readiness".into(), ready::readiness_data(&not_ready));
    }
    let mut warnings = Vec::new();
    let status = status(entry, &mut ev, &cr, &data, &violations, denied, &not_ready, req.now, &mut warnings);
    Ok(Rendered { cr, mutations, violations, children, status, warnings, not_ready, redactor: Redactor::default() })
}

/// Whether the CR's `Ready` waits for its children to be ready (`emit.status.readiness:
/// children`, the default), rather than meaning the reconcile succeeded (`reconcile`).
pub fn readiness_from_children(entry: &CrdEntry) -> bool {
    let config = entry.operator_box.as_ref().and_then(|o| o.emit.as_ref()).and_then(|e| e.status.as_ref());
    config.and_then(|c| c.readiness.as_ref()).is_none_or(|r| r.value != crate::model::crd::Readiness::Reconcile)
}

/// The entries of a CRD whose children are drift-corrected (`onReconcile`, or `onCreate` with
/// `reconcile: true`), by source path: their owned objects that are no longer desired are
/// deleted.
pub fn drift_corrected_entries(entry: &CrdEntry) -> std::collections::BTreeSet<String> {
    let Some(r) = entry.reconcile() else { return Default::default() };
    let mut out = std::collections::BTreeSet::new();
    for (key, block, all) in [("onCreate", &r.on_create, false), ("onReconcile", &r.on_reconcile, true)] {
        if let Some(b) = block {
            out.extend(b.indexed_entries(key).into_iter().filter(|(_, _, _, c)| all || c.reconcile == Some(true)).map(|(_, _, s, _)| s));
        }
    }
    out
}

/// `.children.<singular>` (first by name) and `.children.<plural>` (by name) for each observed
/// kind, e.g. `.children.deployment`, `.children.deployments.web`.
pub fn children_data(observed: &[Value]) -> Value {
    let mut sorted: Vec<&Value> = observed.iter().collect();
    sorted.sort_by_key(|o| {
        (o.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default(), o.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default())
    });
    let mut out = Map::new();
    for obj in sorted {
        let Some(kind) = obj.get("kind").and_then(Value::as_str) else { continue };
        let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
        for (singular, plural) in child_keys(kind) {
            out.entry(singular.clone()).or_insert_with(|| obj.clone());
            let by_name = out.entry(plural).or_insert_with(|| Value::Object(Map::new()));
            if let Some(m) = by_name.as_object_mut() {
                m.entry(name.clone()).or_insert_with(|| obj.clone());
            }
        }
    }
    Value::Object(out)
}

/// The `.children` keys of a kind: its lowercase name with plural, plus upstream's short forms.
fn child_keys(kind: &str) -> Vec<(String, String)> {
    let lower = kind.to_ascii_lowercase();
    let plural = |s: &str| {
        if s.ends_with("ss") || s.ends_with('x') {
            format!("{s}es")
        } else if let Some(stem) = s.strip_suffix('y') {
            format!("{stem}ies")
        } else {
            format!("{s}s")
        }
    };
    let mut keys = vec![(lower.clone(), plural(&lower))];
    let short = match lower.as_str() {
        "horizontalpodautoscaler" => Some("hpa"),
        "persistentvolumeclaim" => Some("pvc"),
        "persistentvolume" => Some("pv"),
        "poddisruptionbudget" => Some("pdb"),
        _ => None,
    };
    if let Some(s) = short {
        keys.push((s.to_string(), format!("{s}s")));
    }
    if !is_builtin_kind(kind) {
        keys.push(("custom".into(), "customs".into()));
    }
    keys
}

fn is_builtin_kind(kind: &str) -> bool {
    matches!(
        kind,
        "Deployment"
            | "StatefulSet"
            | "ReplicaSet"
            | "Service"
            | "EndpointSlice"
            | "Secret"
            | "ConfigMap"
            | "Job"
            | "CronJob"
            | "Pod"
            | "ServiceAccount"
            | "Namespace"
            | "Ingress"
            | "HorizontalPodAutoscaler"
            | "PersistentVolumeClaim"
            | "PersistentVolume"
            | "NetworkPolicy"
            | "ResourceQuota"
            | "LimitRange"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "Role"
            | "RoleBinding"
            | "PodDisruptionBudget"
    )
}

/// The template data for a CR: the CR's own keys plus `.children` and an empty `.inputs`.
pub fn template_data(cr: &Value, observed: &[Value]) -> Value {
    let mut data = match cr {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    data.insert("children".into(), children_data(observed));
    data.entry("inputs").or_insert_with(|| Value::Object(Map::new()));
    data.entry("status").or_insert_with(|| Value::Object(Map::new()));
    Value::Object(data)
}

/// Truncates a condition message the way upstream does: 256 characters, `...` at the end.
pub fn truncate_message(s: &str) -> String {
    if s.chars().count() <= 256 {
        return s.to_string();
    }
    let head: String = s.chars().take(253).collect();
    format!("{head}...")
}

/// One status condition; `lastTransitionTime` is kept from `previous` when status and reason
/// are unchanged (so an unchanged status does not rewrite itself every reconcile).
pub fn condition(kind: &str, ok: bool, reason: &str, message: &str, generation: Option<i64>, previous: &Value, now: i64) -> Value {
    let status = if ok { "True" } else { "False" };
    let old =
        previous.pointer("/status/conditions").and_then(Value::as_array).and_then(|cs| cs.iter().find(|c| c.get("type").and_then(Value::as_str) == Some(kind)));
    let since = match old {
        Some(c) if c.get("status").and_then(Value::as_str) == Some(status) && c.get("reason").and_then(Value::as_str) == Some(reason) => {
            c.get("lastTransitionTime").cloned().unwrap_or_else(|| Value::String(format_rfc3339(now)))
        }
        _ => Value::String(format_rfc3339(now)),
    };
    let mut c = json!({"type": kind, "status": status, "reason": reason, "message": truncate_message(message), "lastTransitionTime": since});
    if let Some(g) = generation {
        c["observedGeneration"] = json!(g);
    }
    c
}

/// The three standard conditions for a reconcile outcome. `error` is the failure text (Ready
/// False) or `None` for success.
pub fn conditions(cr: &Value, violations: &[Violation], error: Option<&str>, not_ready: &[ready::NotReady], now: i64) -> Vec<Value> {
    let generation = cr.pointer("/metadata/generation").and_then(Value::as_i64);
    let describe = |v: &Violation| format!("field {:?}: {} {}", v.field, v.message, v.got());
    let denies: Vec<String> = violations.iter().filter(|v| v.is_deny()).map(describe).collect();
    let warns: Vec<String> = violations.iter().filter(|v| !v.is_deny()).map(|v| format!("field {:?}: {}", v.field, v.message)).collect();
    let deny_text = format!("validation failed: {}", denies.join("; "));
    let error = error.map(str::to_string).or_else(|| (!denies.is_empty()).then(|| deny_text.clone()));
    let ready = match &error {
        None if not_ready.is_empty() => condition("Ready", true, "ReconcileSucceeded", "", generation, cr, now),
        None => {
            let list: Vec<String> = not_ready.iter().map(ToString::to_string).collect();
            condition("Ready", false, "ChildrenNotReady", &format!("children not ready: {}", list.join(", ")), generation, cr, now)
        }
        Some(e) => condition("Ready", false, "ReconcileError", e, generation, cr, now),
    };
    let failed = if denies.is_empty() {
        condition("ValidationFailed", false, "ValidationPassed", "", generation, cr, now)
    } else {
        condition("ValidationFailed", true, "DenyRuleViolation", &deny_text, generation, cr, now)
    };
    let warned = if warns.is_empty() {
        condition("ValidationWarning", false, "NoWarnings", "", generation, cr, now)
    } else {
        condition("ValidationWarning", true, "WarnRuleViolation", &warns.join("; "), generation, cr, now)
    };
    vec![ready, failed, warned]
}

/// The desired status object: conditions (unless `conditions: false`), observedGeneration, then
/// declared fields in order. Gated fields are always evaluated; unconditional fields only when
/// the reconcile succeeded (so a denied CR does not claim to be "Active").
#[allow(clippy::too_many_arguments)]
fn status(
    entry: &CrdEntry,
    ev: &mut Evaluator<'_>,
    cr: &Value,
    data: &Value,
    violations: &[Violation],
    denied: bool,
    not_ready: &[ready::NotReady],
    now: i64,
    warnings: &mut Vec<String>,
) -> Value {
    let config = entry.operator_box.as_ref().and_then(|o| o.emit.as_ref()).and_then(|e| e.status.as_ref());
    let mut status = Map::new();
    if config.and_then(|c| c.conditions) != Some(false) {
        // A denied CR's children are not rendered: its Ready says why (the deny), not which
        // children are missing.
        let not_ready = if denied { &[][..] } else { not_ready };
        status.insert("conditions".into(), Value::Array(conditions(cr, violations, None, not_ready, now)));
        if let Some(g) = cr.pointer("/metadata/generation").and_then(Value::as_i64).filter(|_| !ignores_observed_generation(entry)) {
            status.insert("observedGeneration".into(), json!(g));
        }
    }
    if ignores_observed_generation(entry) {
        drop_condition_generations(&mut status);
    }
    let fields = config.map(|c| c.fields.as_slice()).unwrap_or_default();
    let mut status = Value::Object(status);
    for (i, field) in fields.iter().enumerate() {
        let gated = !field.when.is_empty() || !field.or.is_empty();
        if denied && !gated {
            continue;
        }
        match status_field(ev, field, data) {
            Ok(Some((path, value))) => set_path(&mut status, &path, value),
            Ok(None) => {}
            Err(e) => warnings.push(format!("emit.status.fields[{i}]: {e}")),
        }
    }
    status
}

/// `operatorBox.runtime.ignoreObservedGeneration: true`: the status records no
/// `observedGeneration`, neither at its top level nor in its conditions (upstream's "skipped"
/// case, for kinds whose `metadata.generation` means nothing, runtime-and-gateway.md §1.11).
pub fn ignores_observed_generation(entry: &CrdEntry) -> bool {
    entry.runtime().and_then(|r| r.ignore_observed_generation) == Some(true)
}

/// Removes `observedGeneration` from each of `status.conditions` (for
/// [`ignores_observed_generation`]; status fields the Katalog declares are left alone).
pub fn drop_condition_generations(status: &mut Map<String, Value>) {
    for c in status.get_mut("conditions").and_then(Value::as_array_mut).into_iter().flatten() {
        if let Some(c) = c.as_object_mut() {
            c.remove("observedGeneration");
        }
    }
}

/// Why a status field has no value: its template or gate failed, or its text is not of the
/// field's `type`. Shown as a render warning, prefixed with the field's position.
#[derive(Debug, thiserror::Error)]
enum StatusFieldError {
    /// The path, value or gate template failed.
    #[error(transparent)]
    Rule(#[from] crate::rules::RuleError),
    /// The rendered text is not of the declared type.
    #[error("`{path}`: {text:?} is not {expected}")]
    Type {
        /// The status path.
        path: String,
        /// The rendered text.
        text: String,
        /// `an integer`, `a number` or `a boolean`.
        expected: &'static str,
    },
}

fn status_field(ev: &mut Evaluator<'_>, field: &StatusField, data: &Value) -> Result<Option<(String, Value)>, StatusFieldError> {
    let Some(path) = &field.path else { return Ok(None) };
    let path = ev.text(&path.value, data)?;
    if !ev.gate(&field.when, &field.or, data)? {
        return Ok(field.clear_on_false.unwrap_or(false).then(|| (path, Value::String(String::new()))));
    }
    let text = match &field.value {
        Some(v) => ev.text(&v.value, data)?,
        None => String::new(),
    };
    match coerce_status(&text, field.kind.unwrap_or(StatusType::String)) {
        Ok(value) => Ok(value.map(|v| (path, v))),
        Err(expected) => Err(StatusFieldError::Type { path, text, expected }),
    }
}

/// Status value types (reference §4.7). An empty text for a typed field leaves the field
/// unset: there is nothing to report yet (e.g. before the child exists). `Err` names the
/// type the text is not.
fn coerce_status(text: &str, t: StatusType) -> Result<Option<Value>, &'static str> {
    let trimmed = text.trim();
    if trimmed.is_empty() && !matches!(t, StatusType::String) {
        return Ok(None);
    }
    let int = || trimmed.parse::<i64>().ok().map(Value::from);
    let float = || trimmed.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number);
    let boolean = || crate::template::funcs::parse_bool(trimmed).map(Value::Bool);
    Ok(Some(match t {
        StatusType::String => Value::String(text.to_string()),
        StatusType::Int => int().ok_or("an integer")?,
        StatusType::Float => float().ok_or("a number")?,
        StatusType::Bool => boolean().ok_or("a boolean")?,
        StatusType::Auto => match trimmed {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => int().or_else(float).unwrap_or_else(|| Value::String(text.to_string())),
        },
    }))
}

/// Sets `a.b.c` in an object, creating intermediate objects (a non-object in the way is replaced).
pub fn set_path(target: &mut Value, path: &str, value: Value) {
    let parts: Vec<&str> = path.split('.').filter(|p| !p.is_empty()).collect();
    let Some((last, parents)) = parts.split_last() else { return };
    let mut cur = target;
    for p in parents {
        if !cur.get(*p).is_some_and(Value::is_object)
            && let Some(m) = cur.as_object_mut()
        {
            m.insert((*p).to_string(), Value::Object(Map::new()));
        }
        let Some(next) = cur.get_mut(*p) else { return };
        cur = next;
    }
    if let Some(m) = cur.as_object_mut() {
        m.insert((*last).to_string(), value);
    }
}
