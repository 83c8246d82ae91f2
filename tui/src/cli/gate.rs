//! `ork gate`: the verdict the gateway's webhooks would give a CR, offline — mutation (the
//! JSONPatch), namespace protection, validation rules (every denial, warnings) and, for
//! `--op delete`, deletion protection — computed by the same `katalog::admission::Gate` the
//! gateway answers with.
//!
//! `ork gate serve` runs the gateway itself (the same code as `ork-gateway gate`) against the
//! current kube context, or with `--dev` against an embedded dev cluster it starts.

use super::{CliError, Outcome, Output, default_file, install_namespace, output};
use katalog::admission::{Ask, Operation, UserInfo, review_documents};
use katalog::diag::display_path;
use katalog::load::include::read_yaml_values;
use katalog::time::{parse_rfc3339, unix_now};
use katalog::valid::load_valid;
use katalog::yaml::Limits;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// An admission operation, as `--op` takes it.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Op {
    /// The CR is created.
    Create,
    /// The CR replaces `--old`.
    Update,
    /// The CR is deleted.
    Delete,
}

/// Arguments of `ork gate`.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<GateCommand>,
    /// Katalog or Komposer file (default: ./katalog.yaml, then ./komposer.yaml).
    #[arg(short = 'f', long = "file")]
    file: Option<PathBuf>,
    /// CR file, one or more documents; each gets its verdict.
    #[arg(long, required = true)]
    cr: Option<PathBuf>,
    /// The operation the API server would be asked for.
    #[arg(long, value_enum, default_value = "create")]
    op: Op,
    /// The object before the update (`--op update`): rules read it as `.request.oldObject`.
    #[arg(long)]
    old: Option<PathBuf>,
    /// Namespace of the request (default: the CR's, else `default`).
    #[arg(long)]
    namespace: Option<String>,
    /// User making the request (rules read `.request.userInfo.username`).
    #[arg(long, default_value = "kubernetes-admin")]
    user: String,
    /// Groups of the user (repeatable).
    #[arg(long = "group")]
    groups: Vec<String>,
    /// The install namespace (the gateway's; default: $ORK_NAMESPACE, else orkestra-system).
    #[arg(long = "install-namespace")]
    install_namespace: Option<String>,
    /// The time templates see, RFC 3339 (default: now).
    #[arg(long)]
    now: Option<String>,
    /// Seed for random functions (default 0, so output is reproducible).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    output: Output,
    #[command(flatten)]
    load: services::runtime::command::LoadArgs,
}

fn read_docs(path: &Path, what: &str) -> Result<Vec<Value>, CliError> {
    if !path.exists() {
        return Err(CliError::Usage(format!("{what} {} not found", display_path(path))));
    }
    read_yaml_values(path, Limits::default()).map_err(|d| if d.is_unreadable() { CliError::Usage(d.to_string()) } else { CliError::Invalid(d.to_string()) })
}

/// Subcommands of `ork gate`.
#[derive(clap::Subcommand)]
enum GateCommand {
    /// Run the gateway: HTTPS webhooks, their configurations and TLS, /health /ready /metrics (current kube context, or --dev).
    ///
    /// Against a real cluster the webhook configurations point at the gateway Service (--service-name), as a deployed
    /// gateway's do: run it where that Service reaches it. With --dev the embedded cluster calls this process directly.
    Serve(Box<ServeArgs>),
}

/// Arguments of `ork gate serve`.
#[derive(clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    gate: services::gateway::command::GateArgs,
    /// Run against an embedded dev cluster started by this command (webhooks reached at 127.0.0.1).
    #[arg(long)]
    dev: bool,
    /// With --dev: where to write the dev cluster's kubeconfig, for kubectl.
    #[arg(long, default_value = "ork-dev.kubeconfig", value_name = "PATH")]
    kubeconfig: PathBuf,
}

/// Gates every document of `--cr`; exit 1 when any is refused. `ork gate serve` runs the gateway.
pub fn run(args: Args) -> Outcome {
    if let Some(GateCommand::Serve(serve)) = args.command {
        return run_serve(*serve);
    }
    let Some(cr_file) = args.cr else { return Err(CliError::Usage("--cr is required".into()).into()) };
    let path = default_file(args.file);
    let valid = load_valid(&path, &super::registry::with_remote(args.load.options()))?;
    let crs = read_docs(&cr_file, "--cr")?;
    if crs.is_empty() {
        return Err(CliError::Invalid(format!("{} contains no documents", display_path(&cr_file))).into());
    }
    let old = match (&args.old, args.op) {
        (Some(p), Op::Update) => {
            let mut docs = read_docs(p, "--old")?;
            if docs.len() != 1 {
                return Err(CliError::Invalid(format!("--old {} must hold exactly one document, found {}", display_path(p), docs.len())).into());
            }
            docs.pop()
        }
        (Some(_), _) => return Err(CliError::Usage("--old is only meaningful with --op update".into()).into()),
        (None, _) => None,
    };
    let now = match &args.now {
        Some(t) => parse_rfc3339(t).map_err(|e| CliError::Usage(format!("--now: {e}")))?,
        None => unix_now(),
    };
    let op = match args.op {
        Op::Create => Operation::Create,
        Op::Update => Operation::Update,
        Op::Delete => Operation::Delete,
    };
    let install_ns = install_namespace(args.install_namespace)?;
    let user = UserInfo { username: args.user, groups: args.groups };
    let ask = Ask { op, old: old.as_ref(), namespace: args.namespace.as_deref(), user, install_namespace: &install_ns, now, seed: args.seed };
    let mut reports = Vec::new();
    for r in review_documents(Arc::new(valid), &crs, &ask) {
        reports.push(r.map_err(|e| CliError::Invalid(format!("{}: {e}", display_path(&cr_file))))?);
    }
    output::gate_report(args.output, &reports);
    Ok(if reports.iter().all(|r| r.allowed) { 0 } else { 1 })
}

/// `ork gate serve`: the gateway until SIGTERM / Ctrl-C.
fn run_serve(args: ServeArgs) -> Outcome {
    use services::cluster::{Cluster, KubeCluster};
    use services::gateway::command::serve;
    use std::net::{IpAddr, Ipv4Addr};
    let _ = rustls::crypto::ring::default_provider().install_default();
    // A laptop: loopback only; against a shared cluster the Lease keeps this process from
    // housekeeping beside a deployed gateway.
    let mut opts = args.gate.options(IpAddr::V4(Ipv4Addr::LOCALHOST), !args.dev).map_err(|e| CliError::Usage(e.to_string()))?;
    let valid = load_valid(&args.gate.katalog(), &args.gate.load_options())?;
    args.gate.init_logging();
    services::serve::panic::install_hook();
    let rt = super::async_runtime(None)?;
    rt.block_on(async move {
        if !args.dev {
            let client = args.gate.client().await.map_err(|e| {
                let message = format!("{e}\nhint: pass --dev to run against an embedded dev cluster");
                anyhow::Error::new(e).context(message)
            })?;
            serve(client, valid, opts).await?;
            return Ok(0);
        }
        let dev = services::devcluster::DevCluster::start(services::devcluster::Options::default())
            .await
            .map_err(|e| anyhow::anyhow!("cannot start the dev cluster: {e}"))?;
        let result = async {
            dev.write_kubeconfig(&args.kubeconfig).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", args.kubeconfig.display()))?;
            let client = dev.client().await.map_err(|e| anyhow::anyhow!("cannot connect to the dev cluster: {e}"))?;
            let admin = KubeCluster::new(client.clone());
            services::run::install(&admin, &valid.katalog).await?;
            // The TLS Secret lives in the install namespace: the dev cluster starts without it.
            if let Some(r) = katalog::kinds::known("", "Namespace") {
                let ns = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": opts.namespace}});
                if let Err(e) = admin.create(&r, None, &ns).await
                    && !matches!(e, services::cluster::ClusterError::AlreadyExists { .. })
                {
                    return Err(anyhow::anyhow!("cannot create namespace {}: {e}", opts.namespace));
                }
            }
            // The dev cluster resolves no Services: its API server calls the bound address.
            opts.endpoint = services::gateway::Endpoint::Direct;
            tracing::info!(url = %dev.url(), kubeconfig = %args.kubeconfig.display(), "dev cluster ready; the gateway registers its webhooks on it");
            serve(client, valid, opts).await?;
            Ok(0)
        }
        .await;
        dev.stop().await;
        result
    })
}
