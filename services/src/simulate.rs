//! `ork simulate`: the real reconciler against a [`MemCluster`], cycle by cycle, with every API
//! request recorded and checked against the Simulate document's expectations
//! (cli-and-workflows.md §4–§5).
//!
//! A cycle reconciles the CR under test once, records the requests it made, then lets the
//! cluster settle (Deployments become ready, Jobs complete) and moves the virtual clock on by
//! the requested delay (30 s when none). Nothing sleeps and nothing leaves the process. The CR
//! under test is the first document of its CRD's kind; every other document of the CR files is
//! seeded into the cluster beforehand (existing instances, peers, any pre-existing object).
//! Steady state is the first cycle that makes only reads (errors are `noErrors`' business).

pub mod scaffold;

use crate::cluster::{ApiResource, Cache, Cached, Cluster, ClusterError, MemCluster, Op, Propagation};
use crate::reconcile::{Ctx, Outcome, Reconciler, SetupError};
use katalog::diag::{Diagnostic, Diagnostics, display_path};
use katalog::load::{LoadOptions, load_file};
use katalog::model::Katalog;
use katalog::model::simulate::{Expect, OpRule, Simulate};
use katalog::template::{Rng, TemplateSet};
use katalog::valid::{Invalid, Valid, load_checked, load_valid};
use katalog::validate::simulate::resolve;
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

pub use katalog::model::simulate::DEFAULT_CYCLES;
/// The virtual clock's start: 2026-01-01T00:00:00Z.
pub const EPOCH: i64 = 1_767_225_600;
/// The clock step of a cycle that asks for no requeue (a resync).
const RESYNC_SECS: i64 = 30;
/// The seed of template randomness (deterministic runs).
const SEED: u64 = 0x0c0f_fee0;

/// One cycle.
#[derive(Debug, Clone, Serialize)]
pub struct Cycle {
    /// 1-based.
    pub cycle: u32,
    /// Every request, in order.
    pub ops: Vec<Op>,
    /// `done`, `requeue after 3s`, or `error`.
    pub outcome: String,
    /// The error, when the reconcile failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The CRs this one observes (`observe.cross`) reconciled before it in this cycle, with
    /// their outcomes (`database default/db: done`); their requests are not in `ops`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<String>,
}

impl Cycle {
    /// Whether the cycle changed nothing (only reads; an error that writes nothing, like a
    /// deny that is already on the status, is quiet too: `noErrors` is about errors). A cycle
    /// whose reconcileGate held is not: the CR has not been reconciled yet.
    pub fn quiet(&self) -> bool {
        !self.outcome.starts_with("gated") && self.ops.iter().all(|o| !o.is_write())
    }
}

/// A reconcile's outcome as a trace shows it, its error, and the virtual seconds to the next
/// cycle.
fn outcome_text(outcome: &Outcome) -> (String, Option<String>, i64) {
    match outcome {
        Outcome::Done => ("done".to_string(), None, RESYNC_SECS),
        Outcome::RequeueAfter(d) => (format!("requeue after {}s", d.as_secs()), None, d.as_secs().max(1) as i64),
        Outcome::Failed(e) => ("error".to_string(), Some(e.message.clone()), RESYNC_SECS),
        Outcome::Gated(why) => (format!("gated ({why})"), None, RESYNC_SECS),
        Outcome::Paused => ("paused".to_string(), None, RESYNC_SECS),
    }
}

/// The CRD entries `crd` reads with `observe.cross` (other than itself), sorted.
fn observed_crds(katalog: &Katalog, crd: &str) -> Vec<String> {
    let Some(obs) = katalog.crds().get(crd).and_then(|e| e.operator_box.as_ref()).and_then(|o| o.observe.as_ref()) else { return Vec::new() };
    let mut out: Vec<String> =
        obs.cross.iter().filter(|c| katalog::observe::executed(c)).filter_map(|c| c.crd.as_ref()).map(|c| c.value.clone()).filter(|c| c != crd).collect();
    out.sort();
    out.dedup();
    out
}

/// One expectation's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What was expected (`steady`, `create deployments web (cycle 1)`, `absent: …`).
    pub name: String,
    /// Whether it held.
    pub passed: bool,
    /// Why not.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// The simulation of one CRD's CR.
#[derive(Debug, Clone, Serialize)]
pub struct CrdRun {
    /// CRD entry name.
    pub crd: String,
    /// The CR under test, `namespace/name`.
    pub cr: String,
    /// The cycles.
    pub cycles: Vec<Cycle>,
    /// The first cycle with only reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steady_at: Option<u32>,
    /// The CR no longer exists after the last cycle.
    pub deleted: bool,
    /// Expectations, in the fixed order steady, steadyAt, noErrors, deleted, ops, absent.
    pub checks: Vec<Check>,
    /// Whether there were expectations at all (else the run only prints operations).
    pub asserted: bool,
    /// Wall time of the cycles, milliseconds.
    pub millis: f64,
}

impl CrdRun {
    /// Every check held, and (without expectations) no cycle failed.
    pub fn passed(&self) -> bool {
        if self.asserted { self.checks.iter().all(|c| c.passed) } else { self.cycles.iter().all(|c| c.error.is_none()) }
    }
}

/// One Simulate document's result.
#[derive(Debug, Clone, Serialize)]
pub struct FileRun {
    /// The file.
    pub file: String,
    /// `metadata.name`.
    pub name: String,
    /// One run per CRD with a CR.
    pub runs: Vec<CrdRun>,
    /// CRDs skipped (no CR of their kind).
    pub notes: Vec<String>,
}

impl FileRun {
    /// Every run passed.
    pub fn passed(&self) -> bool {
        self.runs.iter().all(CrdRun::passed)
    }
}

/// Why a Simulate document could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The document, its Katalog or its CRs are invalid (diagnostics with positions).
    #[error("the Simulate document, its Katalog or its CRs are invalid ({} error(s))", .0.error_count())]
    Invalid(Diagnostics),
    /// A file is missing or unreadable.
    #[error("a file of the Simulate document is missing or unreadable")]
    Io(Diagnostics),
}

impl SimError {
    /// The findings.
    pub fn diagnostics(&self) -> &Diagnostics {
        match self {
            SimError::Invalid(d) | SimError::Io(d) => d,
        }
    }
}

fn one(d: Diagnostic) -> SimError {
    SimError::Invalid(d.into())
}

/// Loads and validates a Simulate document (with `load`: its includes must stay inside its
/// directory unless `load` allows files outside the root).
fn load_simulate(path: &Path, load: &LoadOptions) -> Result<Simulate, SimError> {
    let (loaded, _) = load_checked(path, load)?;
    let help = if loaded.e2e.is_some() { "this is an E2E document: run it with `ork e2e`" } else { "pass a simulate.yaml" };
    loaded.simulate.ok_or_else(|| one(Diagnostic::error("wrong-kind", format!("{} is not a `kind: Simulate` document", display_path(path))).help(help)))
}

/// Whether `path` is a suite (imports, no spec): discovery skips those.
pub fn is_suite(path: &Path) -> bool {
    load_file(path, &LoadOptions::default()).simulate.is_some_and(|s| s.spec.is_none() && !s.imports.is_empty())
}

/// Every `*simulate.yaml` below `dir` (hidden directories and `target` skipped), suites left
/// out (their leaves are found on their own), sorted.
pub fn discover(dir: &Path) -> Vec<PathBuf> {
    let mut out = katalog::load::find_documents(dir, "simulate.yaml");
    out.retain(|p| !is_suite(p));
    out
}

/// Runs a Simulate document: a leaf gives one [`FileRun`], a suite one per leaf it imports
/// (recursively, in order). `load` is how the Katalog each leaf names is loaded.
pub fn run_file(path: &Path, load: &LoadOptions) -> Result<Vec<FileRun>, SimError> {
    let mut out = Vec::new();
    run_into(path, load, &mut out, 0)?;
    Ok(out)
}

fn run_into(path: &Path, load: &LoadOptions, out: &mut Vec<FileRun>, depth: usize) -> Result<(), SimError> {
    if depth > 16 {
        return Err(one(Diagnostic::error("import-cycle", format!("{}: suites import each other too deeply (a cycle?)", display_path(path)))));
    }
    let sim = load_simulate(path, load)?;
    if sim.spec.is_none() {
        for i in &sim.imports {
            run_into(&resolve(path, i), load, out, depth + 1)?;
        }
        return Ok(());
    }
    out.push(run_leaf(path, &sim, load)?);
    Ok(())
}

/// The Katalog of a Simulate document, loaded (with `load`: its pattern root is the Katalog
/// file's directory) and validated.
pub fn load_katalog(path: &Path, load: &LoadOptions) -> Result<Valid, SimError> {
    load_valid(path, load).map_err(SimError::from)
}

impl From<Invalid> for SimError {
    /// An unreadable Katalog is an I/O failure (exit 2); an invalid one, or a file that is not a
    /// Katalog, is invalid input (exit 1).
    fn from(e: Invalid) -> SimError {
        match e.into_findings() {
            (true, d) => SimError::Io(d),
            (false, d) => SimError::Invalid(d),
        }
    }
}

/// Reads CR files (multi-document) as JSON; documents without `kind` are dropped.
pub fn read_crs(paths: &[PathBuf]) -> Result<Vec<Value>, SimError> {
    let mut out = Vec::new();
    for p in paths {
        match katalog::load::include::read_yaml_file(p, katalog::yaml::Limits::default()) {
            Ok(docs) => out.extend(docs.into_iter().map(|d| d.root.to_json()).filter(|v| v.get("kind").is_some_and(Value::is_string))),
            Err(d) => return Err(SimError::Io(d.into())),
        }
    }
    Ok(out)
}

/// What to simulate, independent of where it came from (a document, or `simulate init`).
pub struct Plan<'a> {
    /// The Katalog.
    pub katalog: &'a Katalog,
    /// Its templates.
    pub templates: &'a TemplateSet,
    /// The CR documents.
    pub crs: &'a [Value],
    /// Only this CRD entry.
    pub crd: Option<&'a str>,
    /// How many reconcile cycles to run.
    pub cycles: u32,
    /// Delete the CR at the start of this cycle.
    pub delete_at: Option<u32>,
}

/// The CRD entries to simulate, each with its CR under test (index into `crs`), and notes on
/// the CRDs skipped for want of a CR.
pub struct Targets {
    /// (CRD entry, index of its CR).
    pub runs: Vec<(String, usize)>,
    /// Skipped CRDs.
    pub notes: Vec<String>,
}

/// Why a simulation could not run (the Katalog and the CRs were valid, but they do not fit
/// together, or the simulated cluster refused a CR).
#[derive(Debug, thiserror::Error)]
// Variant fields are the message's parts and its `#[source]` cause.
#[allow(missing_docs)]
pub enum RunError {
    /// `crd:` names no enabled CRD entry.
    #[error("no enabled CRD entry `{crd}` (known: {})", known.join(", "))]
    NoSuchCrd {
        /// The name given.
        crd: String,
        /// The CRD entries of the Katalog.
        known: Vec<String>,
    },
    /// No CR is of a CRD of the Katalog.
    #[error(
        "no CR matches a CRD of the Katalog (the CR files hold: {}); a CR needs the kind and API group of a CRD entry",
        if kinds.is_empty() { "nothing".to_string() } else { kinds.join(", ") }
    )]
    NoMatchingCr {
        /// The kinds of the CR documents.
        kinds: Vec<String>,
    },
    /// The CRD entry has no reconciler.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// The in-memory cluster refused a CR document.
    #[error("cannot seed document {index} ({kind}): {source}")]
    Seed {
        /// 1-based position among the CR documents.
        index: usize,
        /// Its kind (`?` when it has none).
        kind: String,
        #[source]
        source: ClusterError,
    },
    /// No async runtime for the reconciler.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

/// See [`Targets`]; an error when no CRD has a CR.
pub fn targets(plan: &Plan<'_>) -> Result<Targets, RunError> {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let entries: Vec<(String, &katalog::model::CrdEntry)> =
        plan.katalog.crds().iter().filter(|(n, e)| e.is_enabled() && plan.crd.is_none_or(|c| c == n.as_str())).map(|(n, e)| (n.value.clone(), e)).collect();
    if let Some(c) = plan.crd
        && entries.is_empty()
    {
        let known = plan.katalog.crds().iter().map(|(k, _)| k.value.clone()).collect();
        return Err(RunError::NoSuchCrd { crd: c.to_string(), known });
    }
    let mut sorted = entries;
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, e) in &sorted {
        let Some(id) = katalog::kinds::api_identity(e) else { continue };
        let found = plan.crs.iter().position(|d| {
            d.get("kind").and_then(Value::as_str) == Some(id.kind.as_str())
                && katalog::kinds::split_api_version(d.get("apiVersion").and_then(Value::as_str).unwrap_or_default()).0 == id.group
        });
        match found {
            Some(i) => out.push((name.clone(), i)),
            None => notes.push(format!("crd `{name}`: no {} CR in the CR files; skipped", id.kind)),
        }
    }
    if out.is_empty() {
        let kinds: Vec<String> = plan.crs.iter().filter_map(|d| d.get("kind").and_then(Value::as_str).map(str::to_string)).collect();
        return Err(RunError::NoMatchingCr { kinds });
    }
    Ok(Targets { runs: out, notes })
}

/// A fresh cluster serving the Katalog's CRDs and custom kinds, on a virtual clock.
fn cluster_for(katalog: &Katalog, clock: Arc<AtomicI64>) -> MemCluster {
    let c = MemCluster::with_clock(Arc::new(move || clock.load(Ordering::SeqCst)));
    for (_, e) in katalog.crds().iter() {
        if let Some(id) = katalog::kinds::api_identity(e).filter(|i| !i.plural.is_empty()) {
            let namespaced = id.namespaced;
            // The crdFile's schema checks the CRs as the API server would (the generated CRD has it).
            let schema = e.crd_file_path.as_ref().and_then(|p| katalog::sensitive::crd_file_schema(p, &id.kind, &id.version).ok().flatten());
            let schema = schema.and_then(|s| s.get("openAPIV3Schema").cloned());
            c.register_with_schema(ApiResource { group: id.group, version: id.version, kind: id.kind, plural: id.plural, namespaced }, true, schema);
        }
        for (_, b) in e.lifecycle_blocks() {
            for custom in b.custom.iter().chain(b.groups.iter().flat_map(|g| &g.custom)) {
                if let Ok(r) = katalog::kinds::resolve_custom(katalog, custom)
                    && c.resource_for(&r.api_version(), &r.kind).is_none()
                {
                    c.register(r, custom.known.has_status != Some(false));
                }
            }
        }
    }
    c
}

/// Runs the cycles of one CRD.
pub fn simulate_crd(plan: &Plan<'_>, crd: &str, cr_index: usize) -> Result<CrdRun, RunError> {
    let started = std::time::Instant::now();
    let clock = Arc::new(AtomicI64::new(EPOCH));
    let cluster = cluster_for(plan.katalog, clock.clone());
    let reconciler = Reconciler::new(plan.katalog, plan.templates, crd)?;
    let own = reconciler.resource().clone();
    let mut cr_ns = None;
    let mut cr_name = String::new();
    for (i, doc) in plan.crs.iter().enumerate() {
        let mut doc = doc.clone();
        if i == cr_index && own.namespaced && doc.pointer("/metadata/namespace").is_none() {
            doc["metadata"]["namespace"] = Value::String("default".into());
        }
        let seeded = cluster.seed(&doc).map_err(|source| RunError::Seed {
            index: i + 1,
            kind: doc.get("kind").and_then(Value::as_str).unwrap_or("?").to_string(),
            source,
        })?;
        if i == cr_index {
            cr_ns = seeded.pointer("/metadata/namespace").and_then(Value::as_str).map(str::to_string);
            cr_name = seeded.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
        }
    }
    cluster.take_ops();
    let rt = tokio::runtime::Builder::new_current_thread().build().map_err(RunError::Runtime)?;
    // The CRs this one observes are reconciled too (each cycle, before it), by their own
    // reconcilers: a cross read sees them change as it would in a cluster.
    let mut peers = Vec::new();
    for p in observed_crds(plan.katalog, crd) {
        let r = Reconciler::new(plan.katalog, plan.templates, &p)?;
        let keys: Vec<(Option<String>, String)> = cluster
            .objects(r.resource())
            .iter()
            .map(|o| {
                let (ns, name) = crate::cluster::object_name(o);
                (Some(ns.to_string()).filter(|n| !n.is_empty()), name.to_string())
            })
            .collect();
        peers.push((p, r, keys));
    }
    // The reconciler reads through a cache, as in the runtime: its reads of what the cache
    // holds are not requests. Between cycles the cache catches up with the cluster, as a
    // watch-fed one does while the runtime waits.
    let cache = Cache::new(&reconciler.read_resources(), &[katalog::render::LABEL_OWNER]);
    let refresh = |cache: &Cache| {
        for r in reconciler.read_resources() {
            if let Some(store) = cache.store(&r) {
                store.begin_list();
                cluster.objects(&r).into_iter().for_each(|o| store.listed(o));
                store.end_list();
            }
        }
    };
    let find_cr = |cluster: &MemCluster| {
        cluster.objects(&own).into_iter().find(|o| {
            o.pointer("/metadata/name").and_then(Value::as_str) == Some(cr_name.as_str())
                && o.pointer("/metadata/namespace").and_then(Value::as_str) == cr_ns.as_deref()
        })
    };
    let mut before: Option<Value> = None;
    let mut cycles = Vec::new();
    for c in 1..=plan.cycles {
        let ctx = Ctx { now: clock.load(Ordering::SeqCst), rng: Rng::Seeded(SEED) };
        if plan.delete_at == Some(c) {
            // The user's delete is not one of the reconciler's requests.
            let _ = rt.block_on(cluster.delete(&own, cr_ns.as_deref(), &cr_name, Propagation::Background));
            cluster.take_ops();
        }
        let mut peer_lines = Vec::new();
        for (p, r, keys) in &peers {
            for (ns, name) in keys {
                let out = rt.block_on(r.reconcile(&cluster, ns.as_deref(), name, &ctx));
                let shown = ns.as_ref().map_or_else(|| name.clone(), |ns| format!("{ns}/{name}"));
                peer_lines.push(format!("{p} {shown}: {}", outcome_text(&out).0));
            }
        }
        cluster.take_ops();
        // The sentinels of what changed since the last cycle (the first sees a creation).
        let now_cr = find_cr(&cluster);
        let sentinels = match &now_cr {
            Some(cr) if before.as_ref() == Some(cr) => katalog::observe::no_change(),
            Some(cr) => katalog::observe::sentinels(before.as_ref(), cr),
            None => katalog::observe::no_change(),
        };
        // A change the enqueueGate drops is not reconciled (a resync, with no change, is).
        let dropped = now_cr.as_ref().filter(|_| sentinels.values().any(|v| *v)).and_then(|cr| reconciler.enqueue_gate(cr, &sentinels, ctx.now));
        let outcome = match dropped {
            Some(why) => Outcome::Gated(why),
            None => {
                refresh(&cache);
                rt.block_on(reconciler.reconcile_event(&Cached::new(&cluster, &cache), cr_ns.as_deref(), &cr_name, &ctx, &sentinels))
            }
        };
        let ops = cluster.take_ops();
        before = find_cr(&cluster);
        cluster.settle();
        let (text, error, step) = outcome_text(&outcome);
        clock.fetch_add(step, Ordering::SeqCst);
        cycles.push(Cycle { cycle: c, ops, outcome: text, error, peers: peer_lines });
    }
    let deleted = find_cr(&cluster).is_none();
    let steady_at = cycles.iter().find(|c| c.quiet()).map(|c| c.cycle);
    let cr = match &cr_ns {
        Some(ns) => format!("{ns}/{cr_name}"),
        None => cr_name.clone(),
    };
    Ok(CrdRun { crd: crd.to_string(), cr, cycles, steady_at, deleted, checks: Vec::new(), asserted: false, millis: started.elapsed().as_secs_f64() * 1000.0 })
}

fn run_leaf(path: &Path, sim: &Simulate, load: &LoadOptions) -> Result<FileRun, SimError> {
    let Some(spec) = &sim.spec else { return Err(one(Diagnostic::error("missing-field", "no spec"))) };
    let name = sim.metadata.as_ref().and_then(|m| m.name.as_ref()).map(|n| n.value.clone()).unwrap_or_default();
    let katalog_path = spec.katalog.as_ref().map(|k| resolve(path, k)).unwrap_or_default();
    let Valid { katalog, templates, .. } = load_katalog(&katalog_path, load)?;
    let cr_paths: Vec<PathBuf> = spec.cr.iter().chain(&spec.cr_files).map(|p| resolve(path, p)).collect();
    let crs = read_crs(&cr_paths)?;
    let plan = Plan {
        katalog: &katalog,
        templates: &templates,
        crs: &crs,
        crd: spec.crd_name.as_ref().map(|c| c.as_str()),
        cycles: spec.cycles.unwrap_or(DEFAULT_CYCLES),
        delete_at: spec.delete_at,
    };
    let err = |e: RunError| one(Diagnostic::error("simulate", e.to_string()).at(spec.span));
    let Targets { runs: targets, notes } = targets(&plan).map_err(err)?;
    let mut runs = Vec::new();
    let known = known_resources(&katalog);
    for (crd, i) in targets {
        let mut run = simulate_crd(&plan, &crd, i).map_err(err)?;
        if let Some(expect) = spec.expect.as_ref() {
            let e = expect.crds.get(&crd).unwrap_or(expect);
            run.checks = check(e, &run, &known);
            run.asserted = true;
        }
        runs.push(run);
    }
    Ok(FileRun { file: display_path(path), name, runs, notes })
}

/// The resource names an expectation may use: every resource the simulated cluster serves.
fn known_resources(katalog: &Katalog) -> Vec<String> {
    let mut out: Vec<String> = cluster_for(katalog, Arc::new(AtomicI64::new(EPOCH))).served().into_iter().map(|(r, _)| r.plural).collect();
    out.sort();
    out.dedup();
    out
}

fn op_matches(r: &OpRule, op: &Op) -> bool {
    let verb_ok = r.verb.as_ref().is_none_or(|v| v.as_str() == op.verb);
    let res = r.resource.as_ref().map_or("", |s| s.as_str());
    let res_ok = op.resource == res || (res == "status" && op.resource.ends_with("/status"));
    let name_ok = r.name.as_ref().is_none_or(|n| op.name.as_deref() == Some(n.as_str()));
    verb_ok && res_ok && name_ok
}

fn describe(r: &OpRule) -> String {
    let mut s = format!("{} {}", r.verb.as_ref().map_or("any", |v| v.as_str()), r.resource.as_ref().map_or("", |s| s.as_str()));
    if let Some(n) = &r.name {
        s.push_str(&format!(" {n}"));
    }
    match r.cycle {
        Some(c) => s.push_str(&format!(" (cycle {c})")),
        None => s.push_str(" (any cycle)"),
    }
    s
}

fn matching<'r>(r: &OpRule, run: &'r CrdRun) -> Vec<&'r Op> {
    run.cycles.iter().filter(|c| r.cycle.is_none_or(|n| n == c.cycle)).flat_map(|c| c.ops.iter()).filter(|o| op_matches(r, o)).collect()
}

fn check(e: &Expect, run: &CrdRun, known: &[String]) -> Vec<Check> {
    let mut out = Vec::new();
    let last = run.cycles.len() as u32;
    if e.steady == Some(true) {
        out.push(match run.steady_at {
            Some(c) => Check { name: "steady".into(), passed: true, detail: format!("at cycle {c}") },
            None => Check { name: "steady".into(), passed: false, detail: format!("every one of the {last} cycles wrote something") },
        });
    }
    if let Some(at) = e.steady_at {
        let passed = run.steady_at.is_some_and(|c| c <= at);
        let detail = match run.steady_at {
            Some(c) if !passed => format!("expected steady at cycle ≤{at}, reached at cycle {c}"),
            None => format!("expected steady at cycle ≤{at}, never reached in {last} cycles"),
            _ => String::new(),
        };
        out.push(Check { name: format!("steadyAt ≤ {at}"), passed, detail });
    }
    if e.no_errors == Some(true) {
        let failed: Vec<String> = run.cycles.iter().filter_map(|c| c.error.as_ref().map(|m| format!("cycle {}: {m}", c.cycle))).collect();
        out.push(Check { name: "noErrors".into(), passed: failed.is_empty(), detail: failed.join("; ") });
    }
    if e.deleted == Some(true) {
        out.push(Check {
            name: "deleted".into(),
            passed: run.deleted,
            detail: if run.deleted { String::new() } else { format!("the CR still exists after cycle {last}") },
        });
    }
    // The loader expanded the op-rule includes.
    for (absent, list) in [(false, &e.ops), (true, &e.absent)] {
        for r in list {
            let res = r.resource.as_ref().map_or("", |s| s.as_str());
            let base = res.split('/').next().unwrap_or_default();
            if res != "status" && !known.iter().any(|k| k == base) {
                let hint = katalog::diag::suggest(base, known.iter().map(String::as_str)).map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
                out.push(Check { name: describe(r), passed: false, detail: format!("`{res}` is not a resource of this cluster{hint}") });
                continue;
            }
            let found = matching(r, run);
            let want = r.count.unwrap_or(1) as usize;
            let name = if absent { format!("absent: {}", describe(r)) } else { describe(r) };
            let (passed, detail) = if absent {
                (found.is_empty(), if found.is_empty() { String::new() } else { format!("expected no op matching it, found {}", found.len()) })
            } else if found.is_empty() {
                (false, "no op matching it".to_string())
            } else if found.len() < want {
                (false, format!("wanted {want} op(s) matching it, got {}", found.len()))
            } else {
                (true, String::new())
            };
            out.push(Check { name, passed, detail });
        }
    }
    out
}
