//! `ork diff A B` and `ork plan -f katalog.yaml --bundle deployed.yaml`.

use super::{CliError, Outcome, default_file, install_namespace, output};
use katalog::authoring::diff::{normalize, read_bundle, read_docs, unified};
use katalog::authoring::generate::{GenerateError, plan_against};
use katalog::authoring::rbac::derive;
use katalog::diag::display_path;
use katalog::valid::load_valid;
use std::path::PathBuf;

/// Arguments of `ork diff`.
#[derive(clap::Args)]
pub struct DiffArgs {
    /// The old file (a Katalog, a bundle, any YAML).
    a: PathBuf,
    /// The new file.
    b: PathBuf,
}

/// `ork diff`: 0 when equal by meaning, 1 when different, 2 when a file cannot be read.
pub fn run_diff(args: DiffArgs) -> Outcome {
    let mut texts = Vec::new();
    for p in [&args.a, &args.b] {
        let docs = read_docs(p).map_err(CliError::Read)?;
        texts.push(normalize(&docs));
    }
    let Some(diff) = unified(&display_path(&args.a), &texts[0], &display_path(&args.b), &texts[1]) else { return Ok(0) };
    output::diff_text(&diff);
    Ok(1)
}

/// Arguments of `ork plan`.
#[derive(clap::Args)]
pub struct PlanArgs {
    /// The local Katalog or Komposer (default: ./katalog.yaml, then ./komposer.yaml).
    #[arg(short = 'f', long = "file")]
    file: Option<PathBuf>,
    /// The deployed bundle (as written by `ork generate bundle`, or exported from the cluster).
    #[arg(short = 'b', long = "bundle")]
    bundle: PathBuf,
    /// Install namespace (default: the bundle's, else $ORK_NAMESPACE, else orkestra-system).
    #[arg(short = 'n', long = "namespace")]
    namespace: Option<String>,
    /// Exit 1 when the plan adds any permission.
    #[arg(long)]
    fail_on_escalation: bool,
    #[command(flatten)]
    load: services::runtime::command::LoadArgs,
}

/// `ork plan`: 0, or with --fail-on-escalation 1 when the plan adds a permission.
pub fn run_plan(args: PlanArgs) -> Outcome {
    let docs = read_docs(&args.bundle).map_err(CliError::Read)?;
    let deployed = read_bundle(&docs).map_err(|e| CliError::Invalid(format!("{}: {e}", display_path(&args.bundle))))?;
    if deployed.katalog.is_none() {
        output::note_line(format!("{} has no Katalog ConfigMap: every CRD is new", display_path(&args.bundle)));
    }
    let ns = install_namespace(args.namespace.or_else(|| deployed.namespace.clone()))?;
    let path = default_file(args.file);
    let v = load_valid(&path, &super::registry::with_remote(args.load.options()))?;
    let derived = derive(&v.katalog, &ns).map_err(GenerateError::from)?;
    let p = plan_against(&v.katalog, &v.expanded, &derived, &deployed)?;
    output::plan_text(&p, &display_path(&path), &display_path(&args.bundle), &ns);
    Ok(if args.fail_on_escalation && !p.grants_added.is_empty() { 1 } else { 0 })
}
