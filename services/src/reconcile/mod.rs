//! The reconciler core (runtime-and-gateway.md §1.9–§1.14), written once against [`Cluster`]:
//! the runtime runs it on a real cluster, `ork simulate` on a [`crate::cluster::MemCluster`].
//!
//! One call reconciles one CR and returns an [`Outcome`]; it never sleeps. The order: read the
//! CR → deletion path if it is being deleted → namespace guard → what the Katalog puts on the
//! CR (finalizers only when deleting needs ork, the protection label, the entry's labels: one
//! merge patch, only when something is missing) → normalize → read the owned children →
//! render (mutation, validation, children, status) → apply children (create when missing;
//! drift-corrected entries updated only when a field they own differs; owned objects a
//! drift-corrected entry no longer wants are deleted) → status patch (only when it changed) →
//! an Event on a transition (a failure, the recovery from one, children of a ready CR changed). A second reconcile with
//! nothing changed writes nothing. Given a [`crate::cluster::Cached`] view (the runtime,
//! simulate) its reads come from watch-fed caches: a new CR costs its children's creates and
//! one status patch. The requests it makes are exactly those `katalog::authoring::rbac` grants
//! (docs/rbac.md).
//!
//! Nothing it writes or returns — conditions, status fields, Events, the error the runtime logs
//! and shows on `/katalog` — holds a sensitive value of the CR or of a Secret it reads or
//! renders: every text passes the CR's [`Redactor`] (`katalog::redact`, docs/reconcile.md).

mod children;
mod delete;
mod rotate;

use crate::cluster::{ApiResource, Cluster, ClusterError, ListParams, Patch, merge_diff};
use katalog::model::Katalog;
use katalog::model::crd::CrdEntry;
use katalog::redact::Redactor;
use katalog::render::{RenderFailure, Request, condition, conditions, render, set_path, template_data};
use katalog::rules::Evaluator;
use katalog::rules::Violation;
use katalog::template::{Rng, TemplateSet};
use katalog::time::format_rfc3339;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// The finalizer the runtime puts on every CR it reconciles.
pub use katalog::install::CLEANUP_FINALIZER;

/// The deletion-protection label the gateway's webhook selects on.
pub const LABEL_DELETION_PROTECTION: &str = "orkestra.io/deletion-protection";
/// Marks a CR the runtime has put the deletion-protection label on. The label is added once:
/// removing it afterwards is how a user lifts the protection of one object (the gateway's
/// refusal says so), and the runtime must not undo that on its next reconcile.
pub const ANNOTATION_PROTECTION_APPLIED: &str = "orkestra.orkspace.io/deletion-protection-applied";

/// What the caller should do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Converged (or nothing to do).
    Done,
    /// Call again after this delay (waiting on a Job, an ordered deletion, or `requeue:`).
    RequeueAfter(Duration),
    /// Failed; the status says why.
    Failed(ReconcileError),
    /// The CRD's `reconcileGate` held: nothing was written (why, for traces and `/katalog`).
    Gated(String),
    /// The CR carries `orkestra.orkspace.io/paused: "true"`: only its `Paused` condition is
    /// kept up to date.
    Paused,
}

/// A failed reconcile. `message` is the whole sentence the CR's status, its Events, the log
/// and `/katalog` show (scrubbed of the CR's sensitive values); when a cluster call failed,
/// `cluster` keeps that API error typed (its text is part of `message`, equally scrubbed) for
/// callers that branch on its status or reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ReconcileError {
    /// What went wrong, naming the CRD entry, resource and field where known.
    pub message: String,
    /// Whether retrying without a change can help (false for a deny rule).
    pub retry: bool,
    /// The API error behind the failure, when a cluster call failed.
    #[source]
    pub cluster: Option<ClusterError>,
}

impl ReconcileError {
    /// A failure worth retrying, described by `message`.
    fn retry(message: impl Into<String>) -> ReconcileError {
        ReconcileError { message: message.into(), retry: true, cluster: None }
    }

    /// A failure that retrying cannot mend until the CR changes (a deny rule, an object the API
    /// server would refuse).
    fn refused(message: String) -> ReconcileError {
        ReconcileError { message, retry: false, cluster: None }
    }

    /// A failed cluster call, in the context `context` (`<entry>: create`): `<context>: <error>`.
    fn cluster(context: &str, error: ClusterError) -> ReconcileError {
        ReconcileError { message: format!("{context}: {error}"), retry: true, cluster: Some(error) }
    }

    /// Scrubs the message and the API error with `guard`.
    fn redact(&mut self, guard: &Redactor) {
        self.message = guard.scrub(&self.message);
        if let Some(c) = &mut self.cluster {
            c.redact(|s| guard.scrub(s));
        }
    }
}

impl From<ClusterError> for ReconcileError {
    fn from(e: ClusterError) -> Self {
        ReconcileError { message: e.to_string(), retry: true, cluster: Some(e) }
    }
}

/// Why a CRD entry has no reconciler (the Katalog did not pass validation).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    /// No CRD entry has the name.
    #[error("no CRD entry named `{0}`")]
    NoEntry(String),
    /// The entry's group, version, kind or plural is missing.
    #[error("crd `{0}`: its API identity (group, version, kind, plural) is incomplete")]
    Identity(String),
    /// A child entry's kind cannot be resolved to an API resource.
    #[error("crd `{crd}`: {source_path}: {detail:?}")]
    ChildKind {
        /// The CRD entry.
        crd: String,
        /// Where the child entry is (`onReconcile.configMaps[0]`).
        source_path: String,
        /// Why its kind is unknown.
        detail: katalog::kinds::CustomError,
    },
}

/// The clock and randomness of one reconcile.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Now, Unix seconds.
    pub now: i64,
    /// Random source of `random*` template functions.
    pub rng: Rng,
}

/// The reconciler of one CRD entry.
pub struct Reconciler<'k> {
    katalog: &'k Katalog,
    templates: &'k TemplateSet,
    crd: String,
    entry: &'k CrdEntry,
    own: ApiResource,
    child_resources: Vec<ApiResource>,
    delete_resources: Vec<ApiResource>,
    drift_entries: BTreeSet<String>,
    /// Every finalizer ork manages on the CR (removed when it is deleted).
    finalizers: Vec<String>,
    /// The finalizers the CR is given: `runtime.finalizers`, and the cleanup finalizer when
    /// deleting needs ork.
    wanted_finalizers: Vec<String>,
    unique_rules: bool,
    /// Whether what a reconcile writes can depend on its children's status: readiness from
    /// the children (the default), or a template that may read `.children`.
    reads_child_status: bool,
}

fn meta_str<'v>(obj: &'v Value, field: &str) -> Option<&'v str> {
    obj.get("metadata").and_then(|m| m.get(field)).and_then(Value::as_str)
}

/// The resources of CRD entry `crd`'s children: the live ones (onCreate, onReconcile: listed
/// and watched) and those of onDelete (only addressed by name while deleting; docs/rbac.md: the
/// verbs differ). What a reconciler watches, and what a viewer of its children lists.
fn entry_resources(katalog: &Katalog, entry: &katalog::model::crd::CrdEntry, crd: &str) -> Result<(Vec<ApiResource>, Vec<ApiResource>), SetupError> {
    let mut child_resources: Vec<ApiResource> = Vec::new();
    let mut delete_resources: Vec<ApiResource> = Vec::new();
    if let Some(r) = entry.reconcile() {
        let mut blocks: Vec<(bool, &katalog::model::HookTemplates)> = Vec::new();
        blocks.extend(r.on_create.iter().chain(&r.on_reconcile).map(|b| (true, b)));
        if let Some(d) = &r.on_delete {
            blocks.push((false, d));
            blocks.extend(d.groups.iter().map(|g| (false, g)));
        }
        for (live, b) in blocks {
            for (kind, i, source, _) in b.indexed_entries("") {
                let res = katalog::kinds::entry_resource(katalog, b, kind, i).map_err(|e| SetupError::ChildKind {
                    crd: crd.to_string(),
                    source_path: source.to_string(),
                    detail: e,
                })?;
                let list = if live { &mut child_resources } else { &mut delete_resources };
                if !list.iter().any(|c| c.group == res.group && c.plural == res.plural) {
                    list.push(res);
                }
            }
        }
    }
    Ok((child_resources, delete_resources))
}

/// The resources of the live children (onCreate, onReconcile) of CRD entry `crd`, as its
/// reconciler watches them (the Katalog must have passed validation).
pub fn child_resources(katalog: &Katalog, crd: &str) -> Result<Vec<ApiResource>, SetupError> {
    let entry = katalog.crds().get(crd).ok_or_else(|| SetupError::NoEntry(crd.to_string()))?;
    Ok(entry_resources(katalog, entry, crd)?.0)
}

impl<'k> Reconciler<'k> {
    /// The reconciler of CRD entry `crd` (the Katalog must have passed validation).
    pub fn new(katalog: &'k Katalog, templates: &'k TemplateSet, crd: &str) -> Result<Reconciler<'k>, SetupError> {
        let entry = katalog.crds().get(crd).ok_or_else(|| SetupError::NoEntry(crd.to_string()))?;
        let id = katalog::kinds::api_identity(entry).filter(|i| !i.plural.is_empty()).ok_or_else(|| SetupError::Identity(crd.to_string()))?;
        let own = ApiResource { group: id.group, version: id.version, kind: id.kind, plural: id.plural, namespaced: id.namespaced };
        let (child_resources, delete_resources) = entry_resources(katalog, entry, crd)?;
        // The cleanup finalizer is added only when deleting the CR needs ork (owner references
        // let the garbage collector remove the other children): onDelete actions, ordered
        // deletion, cluster-scoped children of a namespaced CR. It is always removed.
        let cleanup = entry.reconcile().is_some_and(|r| r.on_delete.is_some())
            || entry.orders_children()
            || (own.namespaced && child_resources.iter().any(|r| !r.namespaced));
        let mut finalizers = vec![CLEANUP_FINALIZER.to_string()];
        let mut wanted_finalizers = if cleanup { finalizers.clone() } else { Vec::new() };
        if let Some(rt) = entry.runtime() {
            let declared: Vec<String> = rt.finalizers.iter().map(|f| f.value.clone()).filter(|f| f != CLEANUP_FINALIZER).collect();
            finalizers.extend(declared.iter().cloned());
            wanted_finalizers.extend(declared);
        }
        let unique_rules = entry
            .admission
            .as_ref()
            .and_then(|a| a.validation.as_ref())
            .is_some_and(|v| v.rules.iter().any(|r| r.cmp.operator.as_ref().is_some_and(|o| o.value == katalog::model::Operator::Unique)));
        Ok(Reconciler {
            katalog,
            templates,
            crd: crd.to_string(),
            entry,
            own,
            child_resources,
            delete_resources,
            drift_entries: katalog::render::drift_corrected_entries(entry),
            finalizers,
            wanted_finalizers,
            unique_rules,
            reads_child_status: katalog::render::readiness_from_children(entry) || templates.may_read("children"),
        })
    }

    /// Whether a change of a child's status alone can change what a reconcile writes (docs/runtime.md
    /// "Caches"): false when Ready means the reconcile succeeded (`readiness: reconcile`) and no
    /// template of the Katalog may read `.children` — then such a change queues nothing.
    pub fn reads_child_status(&self) -> bool {
        self.reads_child_status
    }

    /// The CRD's resource.
    pub fn resource(&self) -> &ApiResource {
        &self.own
    }

    /// The resources of the children of onCreate and onReconcile.
    pub fn child_resources(&self) -> &[ApiResource] {
        &self.child_resources
    }

    /// What a reconcile reads and a cache can answer: the CRD's resource, its children's, and
    /// those `observe.cross` reads (distinct).
    pub fn read_resources(&self) -> Vec<ApiResource> {
        let mut out: Vec<ApiResource> = std::iter::once(&self.own).chain(&self.child_resources).cloned().collect();
        let cross = self.entry.operator_box.as_ref().and_then(|o| o.observe.as_ref()).map(|o| o.cross.iter()).into_iter().flatten();
        for r in cross.filter(|c| katalog::observe::executed(c)).filter_map(|c| katalog::observe::cross_resource(self.katalog, c)) {
            if !out.iter().any(|o| o.group == r.group && o.plural == r.plural) {
                out.push(r);
            }
        }
        out
    }

    /// Reconciles the CR `ns/name` once, as a resync does (no watch event: every sentinel is
    /// false). A failure's message is scrubbed of the CR's sensitive values (the runtime logs it
    /// and shows it as the box's `lastError`).
    pub async fn reconcile<C: Cluster>(&self, cluster: &C, ns: Option<&str>, name: &str, ctx: &Ctx) -> Outcome {
        self.reconcile_event(cluster, ns, name, ctx, &katalog::observe::no_change()).await
    }

    /// Reconciles the CR `ns/name` once for a change whose sentinels are `sentinels`
    /// (`katalog::observe::sentinels`; the `reconcileGate` reads them).
    pub async fn reconcile_event<C: Cluster>(&self, cluster: &C, ns: Option<&str>, name: &str, ctx: &Ctx, sentinels: &BTreeMap<String, bool>) -> Outcome {
        let mut guard = Redactor::default();
        match self.run(cluster, ns, name, ctx, sentinels, &mut guard).await {
            Ok(o) => o,
            Err(mut e) => {
                e.redact(&guard);
                Outcome::Failed(e)
            }
        }
    }

    /// The redactor of `cr` alone (its sensitive fields, by name and by the CRD's schema).
    fn guard_of(&self, cr: &Value) -> Redactor {
        Redactor::for_cr(self.templates.sensitivity(&self.crd), cr, &[])
    }

    /// One reconcile; `guard` learns the sensitive values as they are read (the CR, its observed
    /// Secrets, the Secrets it renders) and scrubs what is written.
    async fn run<C: Cluster>(
        &self,
        cluster: &C,
        ns: Option<&str>,
        name: &str,
        ctx: &Ctx,
        sentinels: &BTreeMap<String, bool>,
        guard: &mut Redactor,
    ) -> Result<Outcome, ReconcileError> {
        let ns = if self.own.namespaced { ns } else { None };
        let mut cr = match cluster.get(&self.own, ns, name).await {
            Ok(cr) => cr,
            Err(e) if e.is_not_found() => return Ok(Outcome::Done),
            Err(e) => return Err(e.into()),
        };
        *guard = self.guard_of(&cr);
        if cr.pointer("/metadata/deletionTimestamp").is_some_and(|v| !v.is_null()) {
            return self.finalize(cluster, &cr, ctx).await;
        }
        if !katalog::namespaces::namespace_allowed(self.katalog, self.entry, ns.unwrap_or_default()) {
            return Ok(Outcome::Done);
        }
        if katalog::observe::is_paused(&cr) {
            return self.paused(cluster, &cr, ctx).await;
        }
        let cross = self.read_cross(cluster, &cr, ctx, guard).await?;
        if let Some(hold) = self.reconcile_gate(&cr, &cross, ctx, sentinels) {
            // A gate's template error can quote a value: the CR's secrets stay out of traces.
            return Ok(Outcome::Gated(guard.scrub(&hold)));
        }
        if let Some(p) = self.metadata_patch(&cr, ctx)? {
            cr = cluster.patch(&self.own, ns, name, &Patch::Merge(p)).await?;
        }
        let cr_view = self.normalized(&cr, ctx)?;
        let others = if self.unique_rules {
            cluster.list(&self.own, None, &ListParams::default()).await?.items.into_iter().filter(|o| meta_str(o, "uid") != meta_str(&cr, "uid")).collect()
        } else {
            Vec::new()
        };
        let observed = self.owned_children(cluster, &cr).await?;
        let observed_values: Vec<Value> = observed.iter().map(|(_, o)| o.clone()).collect();
        observed_values.iter().for_each(|o| guard.add_secret(o));
        let first = Request { crd: &self.crd, cr: &cr_view, observed: &observed_values, others: &others, now: ctx.now, rng: ctx.rng.clone(), cross: &cross };
        let rendered = match render(self.katalog, self.templates, first) {
            Ok(r) => r,
            Err(e) => {
                // An object the API server would refuse is refused the same way every time: like
                // a deny, it is reported (ValidationFailed) and not retried until the CR changes.
                let invalid = e.failure == RenderFailure::InvalidObject;
                let message = guard.scrub(&if invalid { format!("validation failed: {e}") } else { e.to_string() });
                let mut status = cr.get("status").cloned().unwrap_or(json!({}));
                let mut conds = conditions(&cr, &[], Some(&message), &[], ctx.now);
                if invalid {
                    let generation = cr.pointer("/metadata/generation").and_then(Value::as_i64);
                    let failed = condition("ValidationFailed", true, "InvalidObjectMetadata", &message, generation, &cr, ctx.now);
                    conds.retain(|c| c.get("type").and_then(Value::as_str) != Some("ValidationFailed"));
                    conds.insert(1, failed);
                }
                status["conditions"] = json!(conds);
                self.write_status(cluster, &cr, status, ctx, Some(&message), guard).await?;
                return Err(if invalid { ReconcileError::refused(message) } else { ReconcileError::retry(message) });
            }
        };
        guard.extend(&rendered.redactor);
        if rendered.denied() {
            let message = guard.scrub(&denial(&rendered.violations));
            self.write_status(cluster, &cr, rendered.status.clone(), ctx, Some(&message), guard).await?;
            return Err(ReconcileError::refused(message));
        }
        let (mut wrote, mut errors, apply_conflict) = self.apply_children(cluster, &rendered.children, &observed).await;
        let rotation = self.rotate_secrets(cluster, &cr, &rendered.children, &observed, ctx).await;
        wrote |= rotation.wrote;
        errors.extend(rotation.errors);
        let mut status = rendered.status.clone();
        if wrote && self.reads_child_status {
            // Status templates read the children as they are now (layer 3, §1.11).
            let fresh: Vec<Value> = self.owned_children(cluster, &cr).await?.into_iter().map(|(_, o)| o).collect();
            let again = Request { crd: &self.crd, cr: &cr_view, observed: &fresh, others: &others, now: ctx.now, rng: ctx.rng.clone(), cross: &cross };
            if let Ok(again) = render(self.katalog, self.templates, again) {
                guard.extend(&again.redactor);
                status = again.status;
            }
        }
        // API errors can quote what was sent (a Secret's data among it).
        let error = (!errors.is_empty()).then(|| guard.scrub(&errors.join("; ")));
        if let Some(e) = &error
            && status.get("conditions").is_some()
        {
            status["conditions"] = json!(conditions(&cr, &rendered.violations, Some(e), &[], ctx.now));
            if apply_conflict {
                children::mark_apply_conflict(&mut status);
            }
        }
        let was_ready = ready_status(cr.get("status")) == Some(true);
        let recovered = failed(cr.get("status")) && ready_status(Some(&status)) == Some(true);
        let status_written = self.write_status(cluster, &cr, status, ctx, error.as_deref(), guard).await?;
        if let Some(e) = error {
            return Err(ReconcileError::retry(e));
        }
        // Events tell transitions, not every success: a failure (written with its status), the
        // recovery from one, and children of a ready CR changed (drift corrected, a new spec).
        // A new CR's first creates and its way to Ready write none.
        if (recovered && status_written) || (wrote && was_ready) {
            self.event(cluster, &cr, "Normal", &format!("{}Reconciled", self.own.kind), "Reconcile", "children and status are as declared", ctx).await;
        }
        Ok(rotate::sooner(self.requeue(&cr_view, ctx), rotation.next))
    }

    /// `observe.cross`: each read's object (by name, or the first matching the labels) as
    /// `.cross` data. A read that finds nothing is `found: "false"`; an API error fails the
    /// reconcile. The values of the objects' sensitive fields join `guard`.
    async fn read_cross<C: Cluster>(&self, cluster: &C, cr: &Value, ctx: &Ctx, guard: &mut Redactor) -> Result<Value, ReconcileError> {
        if !self.entry.operator_box.as_ref().and_then(|o| o.observe.as_ref()).is_some_and(|o| o.cross.iter().any(katalog::observe::executed)) {
            return Ok(Value::Null);
        }
        let mut ev = Evaluator::new(self.templates, ctx.now, ctx.rng.clone());
        let data = template_data(cr, &[]);
        let queries = katalog::observe::cross_queries(self.katalog, self.entry, &mut ev, cr, &data)
            .map_err(|e| ReconcileError::retry(format!("crd `{}`: {e}", self.crd)))?;
        let mut found = Vec::with_capacity(queries.len());
        for q in &queries {
            let ns = q.namespace.as_deref();
            let obj = match &q.object {
                Some(name) => match cluster.get(&q.resource, ns, name).await {
                    Ok(o) => Some(o),
                    Err(e) if e.is_not_found() => None,
                    Err(ClusterError::UnknownResource(_)) => None,
                    Err(e) => return Err(ReconcileError::cluster(&format!("observe.cross {}: get {}", q.name, q.resource.plural), e)),
                },
                None => {
                    let params = ListParams { label_selector: q.labels.clone(), field_selector: None };
                    match cluster.list(&q.resource, ns, &params).await {
                        Ok(list) => list.items.into_iter().next(),
                        Err(ClusterError::UnknownResource(_)) => None,
                        Err(e) => return Err(ReconcileError::cluster(&format!("observe.cross {}: list {}", q.name, q.resource.plural), e)),
                    }
                }
            };
            if let Some(o) = &obj {
                guard.add_cr(self.templates.sensitivity(&q.crd), o);
            }
            found.push((q.name.clone(), obj));
        }
        Ok(katalog::observe::cross_data(&found))
    }

    /// `preReconcile.reconcileGate`, over the CR (normalized), `.cross` and the sentinels:
    /// `Some(why)` when it holds.
    fn reconcile_gate(&self, cr: &Value, cross: &Value, ctx: &Ctx, sentinels: &BTreeMap<String, bool>) -> Option<String> {
        let gate = self.entry.pre_reconcile()?.reconcile_gate.as_ref()?;
        let view = self.normalized(cr, ctx).unwrap_or_else(|_| cr.clone());
        let mut data = template_data(&view, &[]);
        if cross.is_object() {
            data["cross"] = cross.clone();
        }
        let mut ev = Evaluator::new(self.templates, ctx.now, ctx.rng.clone()).with_sentinels(sentinels.clone());
        katalog::observe::gate(&mut ev, "reconcileGate", gate, &data)
    }

    /// `preReconcile.enqueueGate` on a change of `cr` with `sentinels` (the watch path: the CR
    /// and its sentinels, no `.cross`): `Some(why)` when the change is to be dropped. A CR being
    /// deleted is never dropped.
    pub fn enqueue_gate(&self, cr: &Value, sentinels: &BTreeMap<String, bool>, now: i64) -> Option<String> {
        let gate = self.entry.pre_reconcile()?.enqueue_gate.as_ref()?;
        if cr.pointer("/metadata/deletionTimestamp").is_some_and(|v| !v.is_null()) {
            return None;
        }
        let data = template_data(cr, &[]);
        let mut ev = Evaluator::new(self.templates, now, katalog::template::Rng::Os).with_sentinels(sentinels.clone());
        katalog::observe::gate(&mut ev, "enqueueGate", gate, &data).map(|why| self.guard_of(cr).scrub(&why))
    }

    /// A paused CR: its `Paused` condition is set (once) and nothing else is touched.
    async fn paused<C: Cluster>(&self, cluster: &C, cr: &Value, ctx: &Ctx) -> Result<Outcome, ReconcileError> {
        if self.entry.runtime().and_then(|r| r.ignore_status_patch) == Some(true) {
            return Ok(Outcome::Paused);
        }
        let mut conds: Vec<Value> = cr.pointer("/status/conditions").and_then(Value::as_array).cloned().unwrap_or_default();
        let generation = cr.pointer("/metadata/generation").and_then(Value::as_i64);
        let message = format!("reconciling is paused by the annotation {}", katalog::observe::ANNOTATION_PAUSED);
        let paused = condition("Paused", true, "PausedByAnnotation", &message, generation, cr, ctx.now);
        match conds.iter_mut().find(|c| c.get("type").and_then(Value::as_str) == Some("Paused")) {
            Some(c) if c.get("status") == paused.get("status") && c.get("reason") == paused.get("reason") => return Ok(Outcome::Paused),
            Some(c) => *c = paused,
            None => conds.push(paused),
        }
        let (ns, name) = (meta_str(cr, "namespace"), meta_str(cr, "name").unwrap_or_default());
        cluster.patch_status(&self.own, ns, name, &Patch::Merge(json!({"status": {"conditions": conds}}))).await?;
        Ok(Outcome::Paused)
    }

    /// The merge patch that adds what the Katalog puts on the CR and is missing: finalizers,
    /// the deletion-protection label, the entry's `labels` (`None` when nothing is missing:
    /// most CRs are never written but for their status).
    fn metadata_patch(&self, cr: &Value, ctx: &Ctx) -> Result<Option<Value>, ReconcileError> {
        let mut patch = Map::new();
        let current: Vec<&str> =
            cr.pointer("/metadata/finalizers").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        let remove = self.entry.runtime().and_then(|r| r.remove_finalizers) == Some(true);
        if remove {
            let kept: Vec<&str> = current.iter().copied().filter(|f| !self.finalizers.iter().any(|m| m == f)).collect();
            if kept.len() != current.len() {
                patch.insert("finalizers".into(), json!(kept));
            }
        } else if self.wanted_finalizers.iter().any(|f| !current.contains(&f.as_str())) {
            let mut all: Vec<String> = current.iter().map(|s| s.to_string()).collect();
            all.extend(self.wanted_finalizers.iter().filter(|f| !current.contains(&f.as_str())).cloned());
            patch.insert("finalizers".into(), json!(all));
        }
        let mut labels = Map::new();
        let protect_crs = katalog::protection::protects_crs(self.katalog, self.entry);
        let annotation = |name: &str| cr.pointer(&format!("/metadata/annotations/{}", name.replace('/', "~1"))).is_some();
        let mut annotations = Map::new();
        if protect_crs && !annotation(ANNOTATION_PROTECTION_APPLIED) {
            labels.insert(LABEL_DELETION_PROTECTION.into(), json!("true"));
            annotations.insert(ANNOTATION_PROTECTION_APPLIED.into(), json!("true"));
        }
        if !self.entry.labels.is_empty() {
            let mut ev = Evaluator::new(self.templates, ctx.now, ctx.rng.clone());
            let data = template_data(cr, &[]);
            for (k, v) in self.entry.labels.iter() {
                let text = ev.text(v, &data).map_err(|e| ReconcileError::retry(format!("crd `{}`: labels.{k}: {e}", self.crd)))?;
                labels.insert(k.value.clone(), json!(katalog::render::label_value(&text)));
            }
        }
        let have = cr.pointer("/metadata/labels").cloned().unwrap_or(json!({}));
        let missing: Map<String, Value> = labels.into_iter().filter(|(k, v)| have.get(k) != Some(v)).collect();
        if !missing.is_empty() {
            patch.insert("labels".into(), Value::Object(missing));
        }
        if !annotations.is_empty() {
            patch.insert("annotations".into(), Value::Object(annotations));
        }
        Ok((!patch.is_empty()).then(|| json!({"metadata": patch})))
    }

    /// The CR as templates see it: `normalize.spec` applied (not written back).
    fn normalized(&self, cr: &Value, ctx: &Ctx) -> Result<Value, ReconcileError> {
        let Some(n) = self.entry.reconcile().and_then(|r| r.normalize.as_ref()) else { return Ok(cr.clone()) };
        let mut out = cr.clone();
        let mut ev = Evaluator::new(self.templates, ctx.now, ctx.rng.clone());
        for (path, template) in n.spec.iter() {
            let data = template_data(&out, &[]);
            let v = ev.text(template, &data).map_err(|e| ReconcileError::retry(format!("crd `{}`: normalize.spec.{path}: {e}", self.crd)))?;
            set_path(&mut out, &format!("spec.{path}"), json!(v));
        }
        Ok(out)
    }

    /// Patches the status when it differs from `desired` (scrubbed by `guard` first: a status
    /// never holds a sensitive value). Returns whether it wrote.
    async fn write_status<C: Cluster>(
        &self,
        cluster: &C,
        cr: &Value,
        mut desired: Value,
        ctx: &Ctx,
        error: Option<&str>,
        guard: &Redactor,
    ) -> Result<bool, ReconcileError> {
        if self.entry.runtime().and_then(|r| r.ignore_status_patch) == Some(true) {
            return Ok(false);
        }
        if katalog::render::ignores_observed_generation(self.entry)
            && let Some(d) = desired.as_object_mut()
        {
            // The failure paths build their conditions without the entry at hand.
            katalog::render::drop_condition_generations(d);
        }
        guard.scrub_json(&mut desired);
        let current = cr.get("status").cloned().unwrap_or(json!({}));
        if current == desired {
            return Ok(false);
        }
        let (ns, name) = (meta_str(cr, "namespace"), meta_str(cr, "name").unwrap_or_default());
        cluster.patch_status(&self.own, ns, name, &Patch::Merge(json!({"status": merge_diff(&current, &desired)}))).await?;
        if let Some(e) = error {
            let reason = if e.starts_with("validation failed") { "ValidationFailed".to_string() } else { format!("{}ReconcileError", self.own.kind) };
            self.event(cluster, cr, "Warning", &reason, "Reconcile", e, ctx).await;
        }
        Ok(true)
    }

    /// Records a Kubernetes Event about the CR (events.k8s.io/v1), its note scrubbed of the
    /// CR's sensitive values. Best effort: an Event that cannot be written never fails the
    /// reconcile.
    #[allow(clippy::too_many_arguments)]
    async fn event<C: Cluster>(&self, cluster: &C, cr: &Value, kind: &str, reason: &str, action: &str, note: &str, ctx: &Ctx) {
        record_event(cluster, cr, kind, reason, action, &self.guard_of(cr).scrub(note), ctx.now).await;
    }

    /// `reconcile.requeue`: a delay after success, when its gate passes.
    fn requeue(&self, cr: &Value, ctx: &Ctx) -> Outcome {
        let Some(rq) = self.entry.reconcile().and_then(|r| r.requeue.as_ref()) else { return Outcome::Done };
        let Some(after) = &rq.after else { return Outcome::Done };
        let mut ev = Evaluator::new(self.templates, ctx.now, ctx.rng.clone());
        let data = template_data(cr, &[]);
        if !ev.gate(&rq.when, &rq.or, &data).unwrap_or(false) {
            return Outcome::Done;
        }
        match ev.text(after, &data).ok().and_then(|t| katalog::duration::parse_duration(&t)) {
            Some(secs) if secs > 0.0 => Outcome::RequeueAfter(Duration::from_secs_f64(secs)),
            _ => Outcome::Done,
        }
    }
}

/// The status of the `Ready` condition of `status` (`None`: it has none).
fn ready_status(status: Option<&Value>) -> Option<bool> {
    let conds = status?.get("conditions")?.as_array()?;
    let ready = conds.iter().find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))?;
    Some(ready.get("status").and_then(Value::as_str) == Some("True"))
}

/// Whether `status` says the last reconcile failed (`Ready` False for another reason than
/// children still getting ready).
fn failed(status: Option<&Value>) -> bool {
    let ready = status
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c.get("type").and_then(Value::as_str) == Some("Ready")));
    ready.is_some_and(|c| c.get("status").and_then(Value::as_str) == Some("False") && c.get("reason").and_then(Value::as_str) != Some("ChildrenNotReady"))
}

/// The message of a denial: each deny violation's field, message and value (or that the value is
/// redacted).
fn denial(violations: &[Violation]) -> String {
    let denies: Vec<String> = violations.iter().filter(|v| v.is_deny()).map(|v| format!("field {:?}: {} {}", v.field, v.message, v.got())).collect();
    format!("validation failed: {}", denies.join("; "))
}

/// Records an `events.k8s.io/v1` Event about `regarding` (any object with apiVersion, kind and
/// metadata), in its namespace (else `default`). Best effort: a refused Event changes nothing.
pub async fn record_event<C: Cluster>(cluster: &C, regarding: &Value, kind: &str, reason: &str, action: &str, note: &str, now: i64) {
    let Some(events) = katalog::kinds::known("events.k8s.io", "Event") else { return };
    let name = meta_str(regarding, "name").unwrap_or_default();
    let ns = meta_str(regarding, "namespace").unwrap_or("default");
    let micro = format_rfc3339(now).replace('Z', ".000000Z");
    // The API server caps a note at 1 KiB; cut at a character boundary (`truncate` panics
    // inside a multi-byte character).
    let mut cut = note.len().min(1024);
    while !note.is_char_boundary(cut) {
        cut -= 1;
    }
    let note = &note[..cut];
    let ev = json!({
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"generateName": format!("{name}."), "namespace": ns},
        "eventTime": micro,
        "reportingController": "orkestra.orkspace.io/runtime",
        "reportingInstance": "ork",
        "action": action,
        "reason": reason,
        "type": kind,
        "note": note,
        "regarding": {
            "apiVersion": regarding.get("apiVersion"), "kind": regarding.get("kind"), "name": name,
            "namespace": meta_str(regarding, "namespace"), "uid": meta_str(regarding, "uid"),
        },
    });
    let _ = cluster.create(&events, Some(ns), &ev).await;
}
