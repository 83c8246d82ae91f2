//! `ork e2e`: a Katalog's operator, run for real against a cluster, checked from the outside
//! with `kubectl` (cli-and-workflows.md §6–§7, adapted to ork; docs/e2e.md).
//!
//! Per E2E document, in this fixed order: a cluster (by default a fresh embedded dev cluster
//! enforcing RBAC; `--cluster current` borrows the current kube context) → the CRDs applied
//! with `kubectl apply` and waited for → the install bundle (generated from the Katalog, or the
//! one given) applied → when the Katalog declares a gateway feature, the admission gateway
//! started in-process under the gateway's ServiceAccount, its webhooks registered on the dev
//! cluster → setup manifests applied and waited for → the runtime started in-process under the
//! bundle's ServiceAccount → the expectations, in order, each polled until it holds or
//! times out (the first `cr-applied` one applies the CRs, the first `cr-deleted` one deletes
//! them) → the runtime stopped and the cluster stopped (or, borrowed, cleaned up). Imports run
//! after, in order. Everything started is stopped on every path, errors included.

pub mod assert;
pub mod checks;
mod env;
mod failure;
pub mod junit;
mod run;
mod scrub;

pub use failure::Failure;

use crate::devcluster::requests::RequestEvent;
use env::Env;
use failure::refusals;
use katalog::diag::{Diagnostic, Diagnostics, display_path};
use katalog::load::{LoadOptions, load_file};
use katalog::model::e2e::{E2e, Expectation};
use katalog::valid::load_checked;
use katalog::validate::e2e::{resolve, seconds};
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Which cluster the run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterMode {
    /// A fresh embedded dev cluster per document, RBAC enforced (the default).
    Dev,
    /// The current kube context, borrowed: nothing created, installed objects removed after.
    Current,
}

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The cluster.
    pub cluster: ClusterMode,
    /// Use this install bundle instead of generating one from the Katalog.
    pub bundle: Option<PathBuf>,
    /// The install namespace (the bundle's).
    pub namespace: String,
    /// How long the dev cluster takes to report workloads ready.
    pub ready_after: Duration,
    /// Keep the environment of the last document running (see [`Kept`]).
    pub keep: bool,
    /// Start the admission gateway when the Katalog declares a gateway feature (the default).
    /// `false` (`--no-gateway`): the API server stores what the webhooks would refuse, and
    /// only the runtime's own checks (the second enforcement point) stand.
    pub gateway: bool,
    /// Set (by a Ctrl-C handler) to stop early: the expectation running fails as interrupted,
    /// the rest are not run, and everything started is stopped as on any other path.
    pub interrupted: Arc<AtomicBool>,
    /// How the Katalog a document names is loaded (its pattern root is the Katalog file's
    /// directory).
    pub load: LoadOptions,
}

impl Options {
    /// Whether the run was interrupted.
    pub fn is_interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cluster: ClusterMode::Dev,
            bundle: None,
            namespace: katalog::install::DEFAULT_NAMESPACE.to_string(),
            ready_after: Duration::from_millis(500),
            keep: false,
            gateway: true,
            interrupted: Arc::new(AtomicBool::new(false)),
            load: LoadOptions::default(),
        }
    }
}

/// One expectation's result.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// Its name.
    pub name: String,
    /// `setup-complete`, `cr-applied` or `cr-deleted`.
    pub after: String,
    /// The file that declares it (an included file, or the document).
    pub file: String,
    /// It held.
    pub passed: bool,
    /// It could not run (the document's setup failed).
    pub not_run: bool,
    /// Seconds from its start (CR apply or delete included) to the verdict.
    pub elapsed_secs: f64,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One E2E document's result.
#[derive(Debug, Clone, Serialize)]
pub struct DocRun {
    /// The file.
    pub file: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.description`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The cluster it ran on.
    pub cluster: String,
    /// Wall time, seconds.
    pub elapsed_secs: f64,
    /// Why the document could not run its expectations (setup failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The expectations, in order.
    pub cases: Vec<CaseResult>,
}

impl DocRun {
    /// Everything ran and held.
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.cases.iter().all(|c| c.passed)
    }

    /// Expectations that did not hold (or could not run).
    pub fn failed(&self) -> usize {
        self.cases.iter().filter(|c| !c.passed).count()
    }
}

/// Progress, as it happens (the CLI prints it; §7.3).
#[derive(Debug, Clone)]
pub enum Event {
    /// A document starts.
    Document {
        /// `metadata.name`.
        name: String,
        /// `metadata.description`.
        description: Option<String>,
        /// The E2E file, as displayed.
        file: String,
    },
    /// A step starts (`→ …`).
    Step(String),
    /// A step finished well (`✓ …`).
    Done(String),
    /// Something worth knowing (`note: …`).
    Note(String),
    /// An expectation starts polling.
    Waiting {
        /// Its name.
        name: String,
        /// Its timeout, seconds.
        timeout_secs: f64,
    },
    /// An expectation is still not holding.
    StillWaiting {
        /// Its name.
        name: String,
        /// Seconds so far.
        secs: u64,
        /// Why it does not hold yet.
        reason: String,
    },
    /// An expectation's verdict.
    Case(CaseResult),
    /// Output of an `onFailure` step.
    Diagnostics {
        /// What ran.
        title: String,
        /// What it printed.
        text: String,
    },
    /// A document finished.
    Finished(DocRun),
}

/// Receives [`Event`]s.
pub trait Reporter: Send + Sync {
    /// One event.
    fn event(&self, e: Event);
}

/// Why a run could not happen at all.
#[derive(Debug, thiserror::Error)]
pub enum E2eError {
    /// A document, its Katalog or its files are invalid (exit 1).
    #[error("the E2E document, its Katalog or its files are invalid ({} error(s))", .0.error_count())]
    Invalid(Diagnostics),
    /// A file is missing or unreadable (exit 2).
    #[error("a file of the E2E document is missing or unreadable")]
    Io(Diagnostics),
    /// The machine lacks what the run needs: kubectl, a free port, a kube context (exit 2).
    #[error(transparent)]
    Environment(Failure),
}

impl From<katalog::valid::Invalid> for E2eError {
    /// An unreadable Katalog is an I/O failure (exit 2); an invalid one, or a file that is not a
    /// Katalog, is invalid input (exit 1).
    fn from(e: katalog::valid::Invalid) -> E2eError {
        match e.into_findings() {
            (true, d) => E2eError::Io(d),
            (false, d) => E2eError::Invalid(d),
        }
    }
}

fn one(d: Diagnostic) -> E2eError {
    E2eError::Invalid(d.into())
}

/// Loads a valid E2E document and its expectations (includes expanded by the loader, which
/// keeps them inside the document's directory unless `load` allows files outside the root).
fn load_e2e(path: &Path, load: &LoadOptions) -> Result<(E2e, Vec<Expectation>), E2eError> {
    let (loaded, _) = load_checked(path, load)?;
    let Some(doc) = loaded.e2e else {
        let help = if loaded.simulate.is_some() { "this is a Simulate document: run it with `ork simulate`" } else { "pass an e2e.yaml (`kind: E2E`)" };
        return Err(one(Diagnostic::error("wrong-kind", format!("{} is not a `kind: E2E` document", display_path(path))).help(help)));
    };
    let expectations = doc.spec.as_ref().map(|spec| spec.expect.clone()).unwrap_or_default();
    Ok((doc, expectations))
}

/// Whether `path` is a pure aggregator (imports and no run of its own): discovery skips those.
pub fn is_suite(path: &Path) -> bool {
    load_file(path, &LoadOptions::default()).e2e.is_some_and(|d| d.is_suite())
}

/// Every `*e2e.yaml` below `dir` (hidden directories and `target` skipped), pure aggregators
/// left out, sorted.
pub fn discover(dir: &Path) -> Vec<PathBuf> {
    let mut out = katalog::load::find_documents(dir, "e2e.yaml");
    out.retain(|p| !is_suite(p));
    out
}

/// The environment of the last document, still running (`--keep`): the dev cluster and the
/// runtime serve until [`Kept::stop`].
pub struct Kept {
    env: Env,
}

impl Kept {
    /// The administrator kubeconfig of the kept cluster (`None` for a borrowed cluster).
    pub fn kubeconfig(&self) -> Option<&Path> {
        self.env.admin_kubeconfig()
    }

    /// Stops the runtime and the cluster (a borrowed one is cleaned up).
    pub async fn stop(self) {
        self.env.teardown().await;
    }
}

/// Runs an E2E document: its own run (when it has a `spec`), then its imports, in order.
/// Returns one [`DocRun`] per document run, and with `--keep` the last environment, running.
pub async fn run_file(path: &Path, opts: &Options, rep: &dyn Reporter) -> Result<(Vec<DocRun>, Option<Kept>), E2eError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut out = Vec::new();
    let mut kept = None;
    let result = run_into(path, opts, rep, &mut out, &mut kept, 0).await;
    if let Err(e) = result {
        if let Some(k) = kept.take() {
            k.teardown().await;
        }
        return Err(e);
    }
    Ok((out, kept.map(|env| Kept { env })))
}

async fn run_into(path: &Path, opts: &Options, rep: &dyn Reporter, out: &mut Vec<DocRun>, kept: &mut Option<Env>, depth: usize) -> Result<(), E2eError> {
    if depth > 16 {
        return Err(one(Diagnostic::error("import-cycle", format!("{}: suites import each other too deeply (a cycle?)", display_path(path)))));
    }
    let (doc, expectations) = load_e2e(path, &opts.load)?;
    if let Some(spec) = doc.spec.as_ref().filter(|s| s.katalog.is_some()) {
        let plan = run::plan(path, &doc, spec, expectations, opts)?;
        if let Some(previous) = kept.take() {
            previous.teardown().await;
        }
        let (run, env) = run::run_leaf(plan, opts, rep).await?;
        rep.event(Event::Finished(run.clone()));
        out.push(run);
        match env {
            Some(env) if opts.keep => *kept = Some(env),
            Some(env) => env.teardown().await,
            None => {}
        }
    }
    for import in &doc.imports {
        let Some(p) = &import.path else { continue };
        if opts.is_interrupted() {
            break;
        }
        if import.fresh_cluster == Some(true) && opts.cluster == ClusterMode::Current {
            return Err(one(Diagnostic::error(
                "unsupported",
                "`freshCluster: true` needs a cluster ork creates; with `--cluster current` every document shares that cluster",
            )
            .at(import.span)
            .help("drop `--cluster current` (each document then gets a fresh dev cluster), or remove `freshCluster`")));
        }
        if let Some(w) = seconds(import.wait.as_ref(), 0.0).filter(|w| *w > 0.0) {
            rep.event(Event::Note(format!("waiting {w}s before {}", p.value)));
            tokio::time::sleep(Duration::from_secs_f64(w)).await;
        }
        Box::pin(run_into(&resolve(p), opts, rep, out, kept, depth + 1)).await?;
    }
    Ok(())
}

/// Reconcile failures per CRD so far (from the runtime's `/katalog` JSON): what a later
/// [`diagnose`] compares against, so that it reports only what failed since.
fn failures(summary: &Value) -> std::collections::BTreeMap<String, u64> {
    summary["crds"].as_array().into_iter().flatten().map(|c| (c["name"].as_str().unwrap_or("?").to_string(), c["failures"].as_u64().unwrap_or(0))).collect()
}

/// What the runtime and the cluster know about why things fail: what a CRD waits for, and its
/// last reconcile error when it failed since `before` (or is degraded) — from the runtime's
/// `/katalog` JSON — and the requests of the runtime's ServiceAccount the dev cluster refused
/// (`denied`: the request log's 403s since the same moment), counted, with the API server's message.
fn diagnose(summary: Option<&Value>, before: Option<&std::collections::BTreeMap<String, u64>>, denied: &[RequestEvent], runtime_user: &str) -> Vec<String> {
    let mut out = Vec::new();
    for c in summary.and_then(|s| s["crds"].as_array()).into_iter().flatten() {
        let name = c["name"].as_str().unwrap_or("?");
        if let Some(w) = c["waiting"].as_str() {
            out.push(format!("runtime: crd `{name}` waiting: {w}"));
        }
        let failed_since = before.is_none_or(|b| c["failures"].as_u64().unwrap_or(0) > b.get(name).copied().unwrap_or(0));
        if !failed_since && c["state"] != "degraded" {
            continue;
        }
        if let Some(e) = c["last_error"].as_str().or_else(|| c["lastError"].as_str()) {
            let state = c["state"].as_str().unwrap_or("?");
            out.push(format!("runtime: crd `{name}` ({state}) last error: {e}"));
        }
    }
    out.extend(refusals(denied, runtime_user, "the runtime"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diagnosis_names_the_runtime_errors_and_the_403s() {
        let summary = json!({"crds": [
            {"name": "website", "state": "degraded", "failures": 4, "last_error": "services is forbidden: …"},
            {"name": "db", "state": "starting", "waiting": "CRD databases.x not served"},
            {"name": "ok", "state": "healthy"},
        ]});
        let user = "system:serviceaccount:orkestra-system:orkestra";
        let forbidden = format!("services is forbidden: User \"{user}\" cannot create resource \"services\" in API group \"\" in the namespace \"default\"");
        let denied = |verb: &str, name: &str| {
            let object = crate::devcluster::requests::ObjectRef {
                resource: "services".into(),
                namespace: Some("default".into()),
                name: Some(name.into()),
                api_version: "v1".into(),
                ..Default::default()
            };
            let status = crate::devcluster::requests::ResponseStatus { code: 403, reason: Some("Forbidden".into()), message: Some(forbidden.clone()) };
            RequestEvent::new(verb, crate::devcluster::requests::UserInfo { username: user.into(), ..Default::default() }, Some(object), status)
        };
        let lines = diagnose(Some(&summary), None, &[denied("create", "a"), denied("create", "b")], user);
        assert_eq!(
            lines,
            vec![
                "runtime: crd `website` (degraded) last error: services is forbidden: …".to_string(),
                "runtime: crd `db` waiting: CRD databases.x not served".to_string(),
                "the runtime was refused: create services in namespace default (403) ×2".to_string(),
                format!("  {forbidden}"),
            ]
        );
        assert!(diagnose(None, None, &[], user).is_empty());
        // Only what failed since the mark: an old error of a healthy box is not news.
        let before = failures(&json!({"crds": [{"name": "ok", "failures": 2}]}));
        let healthy = json!({"crds": [{"name": "ok", "state": "healthy", "failures": 2, "last_error": "conflict"}]});
        assert!(diagnose(Some(&healthy), Some(&before), &[], user).is_empty());
        let again = json!({"crds": [{"name": "ok", "state": "healthy", "failures": 3, "last_error": "conflict"}]});
        assert_eq!(diagnose(Some(&again), Some(&before), &[], user), vec!["runtime: crd `ok` (healthy) last error: conflict".to_string()]);
    }

    #[test]
    fn discovery_finds_e2e_files_and_skips_suites() {
        let dir = std::env::temp_dir().join(format!("ork-e2e-discover-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (p, text) in [
            ("b/e2e.yaml", "apiVersion: orkestra.orkspace.io/v1\nkind: E2E\nmetadata: {name: b}\nspec: {katalog: ./k.yaml}\n"),
            ("a/x.e2e.yaml", "apiVersion: orkestra.orkspace.io/v1\nkind: E2E\nmetadata: {name: a}\nspec: {katalog: ./k.yaml}\n"),
            ("suite-e2e.yaml", "apiVersion: orkestra.orkspace.io/v1\nkind: E2E\nmetadata: {name: s}\nimports: [./a/x.e2e.yaml]\n"),
            (".hidden/e2e.yaml", "kind: E2E\n"),
            ("a/simulate.yaml", "kind: Simulate\n"),
        ] {
            let f = dir.join(p);
            let _ = std::fs::create_dir_all(f.parent().unwrap_or(&dir));
            let _ = std::fs::write(&f, text);
        }
        let found: Vec<String> = discover(&dir).iter().map(|p| p.strip_prefix(&dir).unwrap_or(p).display().to_string()).collect();
        assert_eq!(found, vec!["a/x.e2e.yaml", "b/e2e.yaml"]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
