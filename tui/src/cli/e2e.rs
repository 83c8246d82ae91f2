//! `ork e2e`: run E2E documents against a fresh dev cluster (or the current context) and report;
//! `ork e2e init` scaffolds one (services::simulate::scaffold).

use super::simulate::InitArgs;
use super::{CliError, Outcome, Output, discovery_dir, install_namespace, nothing_found, output};
use katalog::diag::display_path;
use services::e2e::{ClusterMode, DocRun, Kept, Options, discover, junit, run_file};
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
    Init(InitArgs),
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
    /// Keep the last document's cluster, runtime and gateway running after the run, until Ctrl-C.
    #[arg(long)]
    keep: bool,
    /// Do not start the admission gateway, even when the Katalog declares gateway features
    /// (namespace or deletion protection, admission webhooks, conversion): the API server then
    /// stores what the webhooks would refuse, which proves the runtime's own checks (the second
    /// enforcement point).
    #[arg(long)]
    no_gateway: bool,
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

/// The documents to run: discovery (`DIR/...` or a directory), else one file.
fn targets(args: &Args) -> Result<(Vec<PathBuf>, bool), CliError> {
    let given = args.file.as_ref().map(|f| f.to_string_lossy().into_owned()).or_else(|| args.target.clone());
    let Some(target) = given else {
        for p in ["e2e.yaml", "test/e2e.yaml"] {
            if Path::new(p).is_file() {
                return Ok((vec![PathBuf::from(p)], false));
            }
        }
        return Err(CliError::Usage("no e2e.yaml here (nor test/e2e.yaml); pass one with -f, or DIR/... to discover them".into()));
    };
    Ok(match discovery_dir(&target)? {
        Some(d) => {
            let found = discover(&d);
            if found.is_empty() {
                return Err(nothing_found("*e2e.yaml", &d));
            }
            (found, true)
        }
        None => (vec![PathBuf::from(target)], false),
    })
}

/// Runs the documents; exit 1 when an expectation failed, 2 when interrupted.
pub fn run(args: Args) -> Outcome {
    if let Some(Command::Init(a)) = args.command {
        if let Some(s) = a.scaffold(services::simulate::scaffold::e2e_yaml)? {
            output::e2e_scaffold_written(&s);
        }
        return Ok(0);
    }
    let ready_after = match katalog::duration::parse_duration(&args.ready_after) {
        Some(s) if (0.0..=3600.0).contains(&s) => Duration::from_secs_f64(s),
        _ => return Err(CliError::Usage(format!("--ready-after {:?} is not a duration (e.g. 500ms, 2s)", args.ready_after)).into()),
    };
    let namespace = install_namespace(args.namespace.clone())?;
    if let Some(b) = &args.bundle
        && !b.is_file()
    {
        let why = if b.exists() { "not a regular file" } else { "file not found" };
        return Err(CliError::Usage(format!("--bundle {}: {why}", display_path(b))).into());
    }
    let (files, discovered) = targets(&args)?;
    if args.keep && files.len() > 1 {
        return Err(CliError::Usage(format!("--keep keeps one cluster: run a single e2e.yaml (found {})", files.len())).into());
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
        gateway: !args.no_gateway,
        interrupted: Arc::new(AtomicBool::new(false)),
        load: super::registry::with_remote(args.load.options()),
    };
    let printer = output::E2eProgress::new(args.output);
    let rt = super::async_runtime(Some(2))?;
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
                output::eprint_line("interrupted: stopping the runtime and the cluster (Ctrl-C again to exit at once)");
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
                        output::eprint_line(&format!("{}: cannot run", display_path(f)));
                    }
                    let e = anyhow::Error::new(e);
                    output::print_error(&e);
                    code = code.max(output::exit_code(&e));
                }
            }
        }
        let total: usize = runs.iter().map(|r| r.cases.len()).sum();
        let failed: usize = runs.iter().map(DocRun::failed).sum();
        printer.results(&runs, code == 0 && runs.iter().all(DocRun::passed));
        if runs.iter().any(|r| !r.passed()) {
            let setup_failed = runs.iter().filter(|r| r.error.is_some()).count();
            let mut msg = format!("{failed} of {total} expectations failed");
            if setup_failed > 0 {
                msg.push_str(&format!(" ({setup_failed} document(s) could not set up)"));
            }
            output::error_line(msg);
            code = code.max(1);
        }
        if let Some(path) = &args.report {
            if let Err(e) = junit::write(path, &runs) {
                output::error_line(format!("cannot write {}: {e}", display_path(path)));
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
                return Ok(code);
            }
            match k.kubeconfig() {
                Some(kc) => printer.line(&format!(
                    "Kept: the dev cluster, the runtime and (when the Katalog declares a gateway feature) the gateway keep running. In another shell:\n  export KUBECONFIG={}\n  kubectl get all -A\nPress Ctrl-C to stop them.",
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
        Ok(code)
    })
}
