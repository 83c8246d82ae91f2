//! `ork gate`: the verdict the gateway's webhooks would give a CR, offline — mutation (the
//! JSONPatch), namespace protection, validation rules (every denial, warnings) and, for
//! `--op delete`, deletion protection — computed by the same `katalog::admission::Gate` the
//! gateway answers with.

use super::{CliError, Outcome, Output, default_file, install_namespace, output};
use katalog::admission::{Gate, Operation, UserInfo};
use katalog::diag::display_path;
use katalog::load::include::read_yaml_file;
use katalog::template::Rng;
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
pub struct Args {
    /// Katalog or Komposer file (default: ./katalog.yaml, then ./komposer.yaml).
    #[arg(short = 'f', long = "file")]
    file: Option<PathBuf>,
    /// CR file, one or more documents; each gets its verdict.
    #[arg(long)]
    cr: PathBuf,
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
    let docs = read_yaml_file(path, Limits::default())
        .map_err(|d| if d.is_unreadable() { CliError::Usage(d.to_string()) } else { CliError::Invalid(d.to_string()) })?;
    Ok(docs.into_iter().map(|d| d.root.to_json()).filter(|v| !v.is_null()).collect())
}

/// Gates every document of `--cr`; exit 1 when any is refused.
pub fn run(args: Args) -> Outcome {
    let path = default_file(args.file);
    let valid = load_valid(&path, &args.load.options())?;
    let crs = read_docs(&args.cr, "--cr")?;
    if crs.is_empty() {
        return Err(CliError::Invalid(format!("{} contains no documents", display_path(&args.cr))).into());
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
    let gate = Gate::new(Arc::new(valid));
    let user = UserInfo { username: args.user, groups: args.groups };
    let mut reports = Vec::new();
    for (i, cr) in crs.iter().enumerate() {
        let req = gate
            .request_for(i + 1, cr, op, old.as_ref(), args.namespace.as_deref(), user.clone())
            .map_err(|e| CliError::Invalid(format!("{}: {e}", display_path(&args.cr))))?;
        reports.push(gate.review(&req, &install_ns, now, Rng::Seeded(args.seed)));
    }
    output::gate_report(args.output, &reports);
    Ok(if reports.iter().all(|r| r.allowed) { 0 } else { 1 })
}
