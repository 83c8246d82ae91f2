//! One document's run, steps 3–11 of cli-and-workflows.md §7.2: everything checked before a
//! cluster exists ([`plan`]), then CRDs, bundle, setup and runtime ([`setup`]), then the
//! expectations, each polled until it holds or times out.

use super::checks::{self, Shell};
use super::env::Env;
use super::scrub::{self, Scrubbing};
use super::{CaseResult, DocRun, E2eError, Event, Failure, Options, Reporter, one};
use katalog::diag::{Diagnostic, display_path};
use katalog::model::e2e::{After, DEFAULT_TIMEOUT_SECS, DEFAULT_WAIT_TIMEOUT_SECS, E2e, E2eSpec, Expectation, OnFailure, WaitFor};
use katalog::valid::{Valid, load_valid};
use katalog::validate::e2e::{resolve, seconds};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A CRD manifest to apply: a file the user wrote, or one ork generated.
#[derive(Debug, Clone)]
enum CrdSource {
    File(PathBuf),
    Generated(String),
}

/// Everything a document's run needs, checked before any cluster exists.
pub(super) struct Plan {
    file: PathBuf,
    name: String,
    description: Option<String>,
    /// The Katalog, loaded once: the bundle is derived from it and the runtime runs it.
    katalog: Valid,
    crds: Vec<CrdSource>,
    bundle: String,
    bundle_from: String,
    gateway_features: Vec<String>,
    crs: Vec<PathBuf>,
    spec: E2eSpec,
    expectations: Vec<Expectation>,
    /// The sensitive values of the CR and setup files: never printed.
    guard: katalog::redact::Redactor,
}

pub(super) fn plan(path: &Path, doc: &E2e, spec: &E2eSpec, expectations: Vec<Expectation>, opts: &Options) -> Result<Plan, E2eError> {
    let katalog_path = spec.katalog.as_ref().map(resolve).unwrap_or_default();
    let valid = load_valid(&katalog_path, &opts.load).map_err(E2eError::from)?;
    let (k, expanded) = (&valid.katalog, &valid.expanded);
    let err = |m: String| one(Diagnostic::error("e2e", m).at(spec.span));
    // CRDs: as written in the document; else the Katalog's crdFiles; else generated from
    // apiTypes (what `ork generate crd` writes).
    let mut crds: Vec<CrdSource> = spec.crd.iter().chain(&spec.crd_files).map(|p| CrdSource::File(resolve(p))).collect();
    if crds.is_empty() {
        let mut entries: Vec<_> = k.crds().iter().filter(|(_, e)| e.is_enabled()).collect();
        entries.sort_by(|a, b| a.0.value.cmp(&b.0.value));
        for (name, e) in entries {
            match &e.crd_file_path {
                Some(p) => {
                    if !crds.iter().any(|c| matches!(c, CrdSource::File(q) if q == p)) {
                        crds.push(CrdSource::File(p.clone()));
                    }
                }
                _ => {
                    let served_builtin =
                        katalog::kinds::api_identity(e).is_some_and(|id| katalog::kinds::builtin_by_kind(&id.kind).is_some_and(|r| r.group == id.group));
                    if served_builtin {
                        continue;
                    }
                    let crd = katalog::authoring::crd::generate(name, e, &opts.namespace).map_err(|e| err(e.to_string()))?;
                    crds.push(CrdSource::Generated(katalog::yaml::emit(&crd)));
                }
            }
        }
    }
    let derived = katalog::authoring::rbac::derive(k, &opts.namespace).map_err(|e| err(e.to_string()))?;
    let (bundle, bundle_from) = match &opts.bundle {
        Some(b) => match katalog::files::read_text_bounded(b, katalog::yaml::Limits::default().max_bytes) {
            Ok(text) => (text, display_path(b)),
            Err(d) => return Err(E2eError::Io(d.into())),
        },
        None => {
            let shipped = katalog::authoring::bundle::shipped_katalog(k, expanded).map_err(|e| err(e.to_string()))?;
            // The gateway's ServiceAccount and rules too when it runs: it then proves them as
            // the runtime proves its own.
            let sel = katalog::authoring::bundle::Selection { runtime: true, gateway: opts.gateway && !derived.gateway_features.is_empty() };
            (katalog::authoring::bundle::bundle(&derived, k.name(), &shipped, sel), format!("generated from {}", display_path(&katalog_path)))
        }
    };
    let meta = doc.metadata.as_ref();
    let crs: Vec<PathBuf> = spec.cr.iter().chain(&spec.cr_files).map(resolve).collect();
    let setup_files = spec.setup.iter().flat_map(|s| &s.apply).filter_map(|a| a.path.as_ref()).map(resolve);
    let guard = scrub::of_files(k, &crs.iter().cloned().chain(setup_files).collect::<Vec<_>>());
    Ok(Plan {
        file: path.to_path_buf(),
        name: doc.name().to_string(),
        description: meta.and_then(|m| m.description.as_ref()).map(|d| d.value.clone()),
        katalog: valid,
        crds,
        bundle,
        bundle_from,
        gateway_features: derived.gateway_features.clone(),
        crs,
        spec: spec.clone(),
        expectations,
        guard,
    })
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 10.0).round() / 10.0
}

fn paths(ps: &[PathBuf]) -> String {
    ps.iter().map(|p| display_path(p)).collect::<Vec<_>>().join(", ")
}

/// Runs one document. `Ok((run, env))`: the run (a setup failure is recorded in it; every text
/// scrubbed of the run's secrets), and the environment to stop or keep.
pub(super) async fn run_leaf(plan: Plan, opts: &Options, rep: &dyn Reporter) -> Result<(DocRun, Option<Env>), E2eError> {
    let rep = &Scrubbing::new(rep, plan.guard.clone());
    let started = Instant::now();
    let file = display_path(&plan.file);
    rep.event(Event::Document { name: plan.name.clone(), description: plan.description.clone(), file: file.clone() });
    let mut env = Env::start(opts, rep).await.map_err(E2eError::Environment)?;
    let mut run = DocRun {
        file,
        name: plan.name.clone(),
        description: plan.description.clone(),
        cluster: env.describe(),
        elapsed_secs: 0.0,
        error: None,
        cases: Vec::new(),
    };
    if let Err(e) = setup(&plan, opts, &mut env, rep).await {
        let e = e.to_string();
        run.error = Some(e.clone());
        run.cases = plan
            .expectations
            .iter()
            .map(|x| CaseResult {
                name: x.name.as_ref().map(|n| n.value.clone()).unwrap_or_default(),
                after: x.after().as_str().to_string(),
                file: display_path(&x.span.file.path()),
                passed: false,
                not_run: true,
                elapsed_secs: 0.0,
                error: Some(format!("not run: {e}")),
            })
            .collect();
    } else {
        run.cases = expectations(&plan, &mut env, opts, rep).await;
        rep.learn_cluster_secrets(&env.shell).await;
        // Every run on the dev cluster proves the bundle: a request the runtime was refused (a
        // watch, say, whose failure no expectation would notice) fails the run.
        for (who, refused) in [("runtime", env.runtime_refusals()), ("gateway", env.gateway_refusals())] {
            if refused.is_empty() || opts.is_interrupted() {
                continue;
            }
            let case = CaseResult {
                name: format!("the {who} needed no permission beyond the bundle"),
                after: "run".into(),
                file: display_path(&plan.file),
                passed: false,
                not_run: false,
                elapsed_secs: 0.0,
                error: Some(refused.join("\n")),
            };
            rep.event(Event::Case(case.clone()));
            run.cases.push(case);
        }
        if run.cases.iter().any(|c| !c.passed)
            && let Some(f) = &plan.spec.on_failure
        {
            on_failure(&env.shell, f, rep).await;
        }
    }
    run.elapsed_secs = secs(started.elapsed());
    Ok((rep.run(run), Some(env)))
}

/// Steps 3–8 of §7.2: CRDs, bundle, setup, runtime.
async fn setup(plan: &Plan, opts: &Options, env: &mut Env, rep: &dyn Reporter) -> Result<(), Failure> {
    let step = Duration::from_secs(60);
    // CRDs.
    let mut files = Vec::new();
    let mut generated = 0;
    for (i, c) in plan.crds.iter().enumerate() {
        match c {
            CrdSource::File(p) => files.push(p.clone()),
            CrdSource::Generated(text) => {
                generated += 1;
                files.push(env.write(&format!("crd-{i}.generated.yaml"), text)?);
            }
        }
    }
    if !files.is_empty() {
        let from: Vec<PathBuf> = plan.crds.iter().filter_map(|c| if let CrdSource::File(p) = c { Some(p.clone()) } else { None }).collect();
        let what = match (from.is_empty(), generated) {
            (false, 0) => paths(&from),
            (true, n) => format!("{n} CRD(s) generated from the Katalog's apiTypes"),
            (false, n) => format!("{} and {n} generated from apiTypes", paths(&from)),
        };
        rep.event(Event::Step(format!("Applying CRDs ({what})...")));
        for f in &files {
            env.apply(f, step).await.map_err(|e| e.context(format!("applying CRDs from {} failed", display_path(f))))?;
            let f_arg = f.to_string_lossy().into_owned();
            env.shell
                .kubectl_ok(&["wait", "--for=condition=Established", "-f", &f_arg, "--timeout=60s"], step)
                .await
                .map_err(|e| e.context(format!("CRDs of {} not established", display_path(f))))?;
        }
        rep.event(Event::Done("CRD(s) established".into()));
    }
    // The bundle.
    rep.event(Event::Step(format!("Applying the install bundle ({}, namespace {})...", plan.bundle_from, opts.namespace)));
    let bundle = env.write("bundle.yaml", &plan.bundle)?;
    env.apply(&bundle, step).await.map_err(|e| e.context("applying the bundle failed"))?;
    rep.event(Event::Done("bundle applied".into()));
    // The gateway, before anything the webhooks judge is applied (setup manifests, CRs).
    if !plan.gateway_features.is_empty() {
        let features = plan.gateway_features.join(", ");
        if !opts.gateway {
            rep.event(Event::Note(format!(
                "--no-gateway: the Katalog's gateway features ({features}) are not enforced at admission; the API server stores what the webhooks would refuse, and only the runtime's own checks apply"
            )));
        } else if !env.start_gateway(&plan.katalog, opts, rep).await? {
            rep.event(Event::Note(format!(
                "the gateway is not started on a borrowed cluster (its API server cannot call webhooks on this machine's loopback): the Katalog's gateway features ({features}) are enforced only by a deployed ork-gateway, else by the runtime alone"
            )));
        }
    }
    // Setup.
    if let Some(s) = &plan.spec.setup {
        for a in &s.apply {
            let Some(p) = &a.path else { continue };
            let file = resolve(p);
            rep.event(Event::Step(format!("Applying setup {}...", display_path(&file))));
            env.apply(&file, step).await.map_err(|e| e.context(format!("setup {} failed", display_path(&file))))?;
            for w in &a.wait {
                wait(env, w, opts, rep).await?;
            }
        }
        for w in &s.wait {
            wait(env, w, opts, rep).await?;
        }
    }
    // The runtime.
    env.start_runtime(&plan.katalog, opts, rep).await
}

async fn wait(env: &Env, w: &WaitFor, opts: &Options, rep: &dyn Reporter) -> Result<(), Failure> {
    let timeout = Duration::from_secs_f64(seconds(w.timeout.as_ref(), DEFAULT_WAIT_TIMEOUT_SECS).unwrap_or(DEFAULT_WAIT_TIMEOUT_SECS));
    let kind = w.kind.as_ref().map_or("", |k| k.as_str());
    let what = match &w.name {
        Some(n) => format!("{kind}/{n}"),
        None => kind.to_string(),
    };
    rep.event(Event::Step(format!("Waiting for {what} (timeout {}s)...", timeout.as_secs())));
    let started = Instant::now();
    loop {
        match checks::wait_for(&env.shell, w, timeout).await {
            Ok(()) => return Ok(()),
            Err(e) if started.elapsed() >= timeout => return Err(e.context(format!("timeout after {}s waiting for {what}", timeout.as_secs()))),
            Err(_) if opts.is_interrupted() => return Err(Failure::Interrupted),
            Err(_) => tokio::time::sleep(env.poll()).await,
        }
    }
}

/// Step 9: the expectations, in order.
async fn expectations(plan: &Plan, env: &mut Env, opts: &Options, rep: &Scrubbing<'_>) -> Vec<CaseResult> {
    let mut out = Vec::new();
    for e in &plan.expectations {
        let name = e.name.as_ref().map(|n| n.value.clone()).unwrap_or_default();
        if opts.is_interrupted() {
            out.push(CaseResult {
                name,
                after: e.after().as_str().to_string(),
                file: display_path(&e.span.file.path()),
                passed: false,
                not_run: true,
                elapsed_secs: 0.0,
                error: Some("not run: interrupted".into()),
            });
            continue;
        }
        let started = Instant::now();
        let mark = env.mark();
        let mut result = CaseResult {
            name: name.clone(),
            after: e.after().as_str().to_string(),
            file: display_path(&e.span.file.path()),
            passed: false,
            not_run: false,
            elapsed_secs: 0.0,
            error: None,
        };
        let trigger = match e.after() {
            After::CrApplied if !env.crs_applied => {
                env.crs_applied = true;
                rep.event(Event::Step(format!("Applying CRs from {}...", paths(&plan.crs))));
                env.apply_crs(&plan.crs).await.map_err(|m| m.context("applying the CRs failed"))
            }
            After::CrDeleted if !env.crs_deleted => {
                env.crs_deleted = true;
                rep.event(Event::Step(format!("Deleting CRs from {}...", paths(&plan.crs))));
                env.delete_crs(&plan.crs).await.map_err(|m| m.context("deleting the CRs failed"))
            }
            _ => Ok(()),
        };
        let verdict = match trigger {
            Err(m) => Err(m),
            Ok(()) => poll(e, &name, env, opts, rep).await,
        };
        result.elapsed_secs = secs(started.elapsed());
        match verdict {
            Ok(()) => result.passed = true,
            Err(m) => {
                result.error = Some(m.reported(env.runtime_report(Some(&mark))).to_string());
                rep.learn_cluster_secrets(&env.shell).await;
                if let Some(f) = &e.on_failure {
                    on_failure(&env.shell, f, rep).await;
                }
            }
        }
        let result = rep.case(result);
        rep.event(Event::Case(result.clone()));
        out.push(result);
    }
    out
}

/// Polls one expectation until it holds or its timeout passes.
async fn poll(e: &Expectation, name: &str, env: &Env, opts: &Options, rep: &Scrubbing<'_>) -> Result<(), Failure> {
    let timeout_secs = seconds(e.timeout.as_ref(), DEFAULT_TIMEOUT_SECS).unwrap_or(DEFAULT_TIMEOUT_SECS);
    let timeout = Duration::from_secs_f64(timeout_secs);
    rep.event(Event::Waiting { name: name.to_string(), timeout_secs });
    if let Some(w) = seconds(e.wait.as_ref(), 0.0).filter(|w| *w > 0.0) {
        tokio::time::sleep(Duration::from_secs_f64(w)).await;
    }
    let started = Instant::now();
    let mut next_note = 10;
    loop {
        let left = timeout.saturating_sub(started.elapsed());
        match checks::pass(&env.shell, e, left).await {
            Ok(()) => return Ok(()),
            Err(reason) => {
                let elapsed = started.elapsed();
                if elapsed >= timeout {
                    return Err(reason.context(format!("timeout after {}", human(timeout_secs))));
                }
                if opts.is_interrupted() {
                    return Err(reason.context(format!("interrupted after {:.1}s", elapsed.as_secs_f64())));
                }
                if elapsed.as_secs() >= next_note {
                    rep.learn_cluster_secrets(&env.shell).await;
                    rep.event(Event::StillWaiting { name: name.to_string(), secs: elapsed.as_secs(), reason: reason.to_string() });
                    next_note += 10;
                }
                tokio::time::sleep(env.poll().min(timeout.saturating_sub(elapsed))).await;
            }
        }
    }
}

/// `90s`, `1.5s`.
fn human(secs: f64) -> String {
    if secs.fract() == 0.0 { format!("{secs:.0}s") } else { format!("{secs}s") }
}

/// Runs an `onFailure` block: its output goes to the log, never into the verdict.
async fn on_failure(sh: &Shell, f: &OnFailure, rep: &dyn Reporter) {
    let t = Duration::from_secs(30);
    for c in &f.commands {
        let cwd = katalog::files::dir_of(&c.span.file.path());
        let text = match sh.sh(c, &cwd, t).await {
            Ok(o) => o.combined(),
            Err(e) => e.to_string(),
        };
        rep.event(Event::Diagnostics { title: format!("$ {}", c.value), text });
    }
    for g in f.kubectl.iter().flat_map(|k| &k.get) {
        let args = checks::get_args(g, true);
        let text = match sh.kubectl(&args, t).await {
            Ok(o) => o.combined(),
            Err(e) => e.to_string(),
        };
        rep.event(Event::Diagnostics { title: format!("$ kubectl {}", args.join(" ")), text });
    }
}
