//! `ork e2e`: run E2E documents against a fresh dev cluster (or the current context) and report;
//! `ork e2e init` scaffolds one.

mod init;

use crate::validate::paint;
use crate::{Output, use_color};
use katalog::diag::display_path;
use services::e2e::{CaseResult, ClusterMode, DocRun, E2eError, Event, Kept, Options, Reporter, discover, junit, run_file};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Which cluster to run on.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Cluster {
    /// A fresh embedded dev cluster per document, RBAC enforced.
    Dev,
    /// The current kube context (borrowed: ork installs, runs, then removes what it installed).
    Current,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Write an e2e.yaml from the Katalog and its CRs: what the first reconcile creates, Ready, cleanup.
    #[command(mut_arg("output", |a| a.help("Where to write (default: e2e.yaml next to the Katalog)")))]
    Init(init::InitArgs),
}

/// Arguments of `ork e2e`.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    /// An e2e.yaml, or `DIR/...` to run every `*e2e.yaml` below DIR, each on its own cluster
    /// (default: ./e2e.yaml, then ./test/e2e.yaml).
    target: Option<String>,
    /// The e2e.yaml to run.
    #[arg(short = 'f', long = "file", conflicts_with = "target")]
    file: Option<PathBuf>,
    /// The cluster: a fresh embedded dev cluster enforcing RBAC, or the current kube context.
    #[arg(long, value_enum, default_value = "dev")]
    cluster: Cluster,
    /// Install this bundle instead of generating one from the Katalog ("does my deployed bundle suffice?").
    #[arg(long, value_name = "FILE")]
    bundle: Option<PathBuf>,
    /// Install namespace of the generated bundle and the runtime (default: $ORK_NAMESPACE, else orkestra-system).
    #[arg(short = 'n', long = "namespace")]
    namespace: Option<String>,
    /// Also write the results as JUnit XML to FILE.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Keep the last document's cluster and runtime running after the run, until Ctrl-C.
    #[arg(long)]
    keep: bool,
    /// Dev cluster: how long Deployments, StatefulSets and Jobs take to report ready (a duration).
    #[arg(long, value_name = "DURATION", default_value = "500ms")]
    ready_after: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
    #[command(flatten)]
    load: services::runtime::command::LoadArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

/// Prints progress as it happens: to stdout, or to stderr when stdout carries JSON.
struct Printer {
    color: bool,
    stderr: bool,
}

impl Printer {
    fn line(&self, s: &str) {
        if self.stderr {
            let _ = writeln!(std::io::stderr().lock(), "{s}");
        } else {
            let _ = writeln!(std::io::stdout().lock(), "{s}");
        }
    }

    fn case_line(&self, c: &CaseResult, width: usize) -> String {
        let pad = width.saturating_sub(c.name.chars().count());
        let time = format!("({:.1}s)", c.elapsed_secs);
        if c.passed {
            format!("  {} {}{}  {time}", paint(self.color, "32", "✓"), c.name, " ".repeat(pad))
        } else if c.not_run {
            format!("  ~ {}{}  (not run)", c.name, " ".repeat(pad))
        } else {
            format!("  {} {}{}  {time}", paint(self.color, "31", "✗"), c.name, " ".repeat(pad))
        }
    }
}

fn indent(text: &str, by: &str) -> String {
    text.lines().map(|l| format!("{by}{l}")).collect::<Vec<_>>().join("\n")
}

impl Reporter for Printer {
    fn event(&self, e: Event) {
        match e {
            Event::Document { name, description, file } => {
                let d = description.map(|d| format!(" — {d}")).unwrap_or_default();
                self.line(&format!("Running E2E: {name}{d} ({file})"));
            }
            Event::Step(s) => self.line(&format!("→ {s}")),
            Event::Done(s) => self.line(&format!("  {} {s}", paint(self.color, "32", "✓"))),
            Event::Note(s) => self.line(&format!("  note: {s}")),
            Event::Waiting { name, timeout_secs } => self.line(&format!("  Waiting for {name:?} (timeout: {timeout_secs}s)...")),
            Event::StillWaiting { name, secs, reason } => self.line(&format!("    still waiting for {name:?} [{secs}s]: {reason}")),
            Event::Case(c) => {
                self.line(&self.case_line(&c, 0));
                if let Some(e) = &c.error {
                    self.line(&indent(e, "      "));
                }
            }
            Event::Diagnostics { title, text } => {
                self.line(&format!("    onFailure {title}"));
                self.line(&indent(&text, "      "));
            }
            Event::Finished(run) => {
                self.line("");
                self.line(&format!("E2E Results: {}", run.name));
                if let Some(e) = &run.error {
                    self.line(&format!("  {} setup failed: {}", paint(self.color, "31", "✗"), indent(e, "      ").trim_start()));
                }
                let width = run.cases.iter().map(|c| c.name.chars().count()).max().unwrap_or(0);
                for c in &run.cases {
                    self.line(&self.case_line(c, width));
                    if let (Some(e), false) = (&c.error, c.not_run) {
                        self.line(&indent(e, "      "));
                    }
                }
                let passed = run.cases.iter().filter(|c| c.passed).count();
                let not_run = run.cases.iter().filter(|c| c.not_run).count();
                let failed = run.cases.len() - passed - not_run;
                let mut summary = format!("{passed} passed, {failed} failed");
                if not_run > 0 {
                    summary.push_str(&format!(", {not_run} not run"));
                }
                let summary = format!("{summary} ({} expectation(s), {:.1}s)", run.cases.len(), run.elapsed_secs);
                self.line(&format!("  {}", paint(self.color, if run.passed() { "32" } else { "31" }, &summary)));
                self.line(&format!("  Cluster: {}", run.cluster));
                self.line("");
            }
        }
    }
}

fn report_error(e: &E2eError) -> u8 {
    let mut err = std::io::stderr().lock();
    match e {
        E2eError::Invalid(d) | E2eError::Io(d) => {
            for d in d.iter() {
                let _ = writeln!(err, "{d}");
            }
        }
        E2eError::Environment(m) => {
            let _ = writeln!(err, "error: {m}");
        }
    }
    match e {
        E2eError::Invalid(_) => 1,
        E2eError::Io(_) | E2eError::Environment(_) => 2,
    }
}

/// The documents to run: discovery (`DIR/...` or a directory), else one file.
fn targets(args: &Args) -> Result<(Vec<PathBuf>, bool), u8> {
    let given = args.file.as_ref().map(|f| f.to_string_lossy().into_owned()).or_else(|| args.target.clone());
    let Some(target) = given else {
        for p in ["e2e.yaml", "test/e2e.yaml"] {
            if Path::new(p).is_file() {
                return Ok((vec![PathBuf::from(p)], false));
            }
        }
        let _ = writeln!(std::io::stderr(), "error: no e2e.yaml here (nor test/e2e.yaml); pass one with -f, or DIR/... to discover them");
        return Err(2);
    };
    let dir = target.strip_suffix("/...").map(|d| if d.is_empty() { "/" } else { d }).or_else(|| (target == "...").then_some("."));
    let dir = dir.map(PathBuf::from).or_else(|| Path::new(&target).is_dir().then(|| PathBuf::from(&target)));
    match dir {
        Some(d) if d.is_dir() => Ok((discover(&d), true)),
        Some(d) => {
            let why = if d.exists() { "is not a directory" } else { "not found" };
            let _ = writeln!(std::io::stderr(), "error: {}: {why}", display_path(&d));
            Err(2)
        }
        None => Ok((vec![PathBuf::from(target)], false)),
    }
}

/// Runs the command; returns the exit code.
pub fn run(args: Args) -> u8 {
    if let Some(Command::Init(a)) = args.command {
        return init::run(a);
    }
    let mut err = std::io::stderr().lock();
    let ready_after = match katalog::duration::parse_duration(&args.ready_after) {
        Some(s) if (0.0..=3600.0).contains(&s) => Duration::from_secs_f64(s),
        _ => {
            let _ = writeln!(err, "error: --ready-after {:?} is not a duration (e.g. 500ms, 2s)", args.ready_after);
            return 2;
        }
    };
    let namespace = match crate::generate::install_namespace(args.namespace.clone()) {
        Ok(ns) => ns,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return 2;
        }
    };
    if let Some(b) = &args.bundle
        && !b.is_file()
    {
        let why = if b.exists() { "not a regular file" } else { "file not found" };
        let _ = writeln!(err, "error: --bundle {}: {why}", display_path(b));
        return 2;
    }
    let (files, discovered) = match targets(&args) {
        Ok(t) => t,
        Err(code) => return code,
    };
    drop(err);
    if discovered && files.is_empty() {
        // A CI job that tests nothing must not pass.
        let _ = writeln!(std::io::stderr(), "error: no *e2e.yaml files found, so nothing was tested; check the directory, or name a file with -f");
        return 1;
    }
    if args.keep && files.len() > 1 {
        let _ = writeln!(std::io::stderr(), "error: --keep keeps one cluster: run a single e2e.yaml (found {})", files.len());
        return 2;
    }
    let opts = Options {
        cluster: match args.cluster {
            Cluster::Dev => ClusterMode::Dev,
            Cluster::Current => ClusterMode::Current,
        },
        bundle: args.bundle.clone(),
        namespace,
        ready_after,
        keep: args.keep,
        interrupted: Arc::new(AtomicBool::new(false)),
        load: args.load.options(),
    };
    let json = args.output == Output::Json;
    let printer = Printer { color: use_color(if json { std::io::stderr().is_terminal() } else { std::io::stdout().is_terminal() }), stderr: json };
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: cannot start the async runtime: {e}");
            return 2;
        }
    };
    rt.block_on(async {
        let mut runs: Vec<DocRun> = Vec::new();
        let mut code = 0u8;
        let mut kept: Option<Kept> = None;
        // The first Ctrl-C stops the run the orderly way (the runtime drained, the cluster
        // stopped, a borrowed cluster cleaned up); a second one exits at once.
        let watcher = {
            let flag = opts.interrupted.clone();
            tokio::spawn(async move {
                // SIGTERM (a CI timeout) stops as Ctrl-C does: runtime drained, cluster stopped,
                // scratch directory removed.
                services::serve::signal::shutdown_signal().await;
                flag.store(true, Ordering::SeqCst);
                let _ = writeln!(std::io::stderr(), "interrupted: stopping the runtime and the cluster (Ctrl-C again to exit at once)");
                services::serve::signal::shutdown_signal().await;
                std::process::exit(2);
            })
        };
        for f in &files {
            if opts.interrupted.load(Ordering::SeqCst) {
                break;
            }
            match run_file(f, &opts, &printer).await {
                Ok((r, k)) => {
                    runs.extend(r);
                    kept = k;
                }
                Err(e) => {
                    if discovered {
                        let _ = writeln!(std::io::stderr(), "{}: cannot run", display_path(f));
                    }
                    code = code.max(report_error(&e));
                }
            }
        }
        let total: usize = runs.iter().map(|r| r.cases.len()).sum();
        let failed: usize = runs.iter().map(DocRun::failed).sum();
        if json {
            let doc = serde_json::json!({"schemaVersion": 1, "passed": code == 0 && runs.iter().all(DocRun::passed), "documents": runs});
            let mut out = std::io::stdout().lock();
            let _ = serde_json::to_writer_pretty(&mut out, &doc);
            let _ = writeln!(out);
        } else if runs.len() > 1 {
            printer.line(&format!("{} document(s): {} passed, {} failed", runs.len(), runs.iter().filter(|r| r.passed()).count(), runs.iter().filter(|r| !r.passed()).count()));
            for r in runs.iter().filter(|r| !r.passed()) {
                printer.line(&format!("  rerun: ork e2e -f {}", r.file));
            }
        }
        if runs.iter().any(|r| !r.passed()) {
            let setup_failed = runs.iter().filter(|r| r.error.is_some()).count();
            let mut msg = format!("{failed} of {total} expectations failed");
            if setup_failed > 0 {
                msg.push_str(&format!(" ({setup_failed} document(s) could not set up)"));
            }
            let _ = writeln!(std::io::stderr(), "error: {msg}");
            code = code.max(1);
        }
        if let Some(path) = &args.report {
            if let Err(e) = junit::write(path, &runs) {
                let _ = writeln!(std::io::stderr(), "error: cannot write {}: {e}", display_path(path));
                code = 2;
            } else {
                printer.line(&format!("JUnit report: {}", display_path(path)));
            }
        }
        if opts.interrupted.load(Ordering::SeqCst) {
            code = 2;
        }
        if let Some(k) = kept {
            if opts.interrupted.load(Ordering::SeqCst) {
                k.stop().await;
                return code;
            }
            match k.kubeconfig() {
                Some(kc) => printer.line(&format!(
                    "Kept: the dev cluster and the runtime keep running. In another shell:\n  export KUBECONFIG={}\n  kubectl get all -A\nPress Ctrl-C to stop them.",
                    kc.display()
                )),
                None => printer.line("Kept: the runtime keeps running against the current context. Press Ctrl-C to stop it and remove what ork installed."),
            }
            while !opts.interrupted.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            k.stop().await;
        }
        watcher.abort();
        code
    })
}
