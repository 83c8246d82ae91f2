//! `ork`: the developer workbench — the terminal UI (`ork tui`, or `ork` alone on a terminal)
//! and scriptable subcommands for CI.
//!
//! Exit codes (ARCHITECTURE.md §4): 0 success; 1 invalid input or a failed check; 2 usage
//! error, missing file, I/O failure. Diagnostics go to stderr, results to stdout. Each command
//! lives in [`cli`]; [`cli::output`] renders every report and maps every error to its code.

use clap::{Parser, Subcommand};
use ork_tui::cli::{devcluster, diff, e2e, gate, generate, init, output, registry, run, simulate, template, tui, validate};
use std::process::ExitCode;

/// ork turns a YAML Katalog into a secure Kubernetes operator.
#[derive(Parser)]
#[command(name = "ork", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Open the workbench: author, validate, preview, simulate, diff and watch a Katalog live (`ork` alone does this on a terminal).
    Tui(tui::Args),
    /// Check a Katalog, Komposer or Motif offline: schema, references, profiles, namespaces, dependencies.
    Validate(validate::Args),
    /// Write an example pack (embedded in ork) into a directory.
    Init(init::Args),
    /// Render the child resources (and with --status, the status) a CR produces, as YAML.
    Template(template::Args),
    /// Generate Kubernetes manifests from a Katalog.
    #[command(subcommand)]
    Generate(generate::What),
    /// Run the reconciler against an in-memory cluster, cycle by cycle, and check simulate.yaml's expectations.
    Simulate(simulate::Args),
    /// Run e2e.yaml tests: the Katalog's operator on a fresh dev cluster (RBAC enforced) or the current context, checked with kubectl.
    E2e(e2e::Args),
    /// The verdict the gateway's admission webhooks would give a CR (mutation, namespace protection, validation; deletion protection with --op delete), offline; exit 1 when refused.
    Gate(gate::Args),
    /// Run the operator: reconcile the Katalog's CRs on the current cluster, or with --dev on an embedded dev cluster.
    Run(run::Args),
    /// Serve a Kubernetes API on 127.0.0.1 backed by an in-memory store (kubectl and kube-rs work against it) and write its kubeconfig.
    DevCluster(devcluster::Args),
    /// Compare two YAML files by meaning (key order and comments ignored); exit 1 when they differ.
    Diff(diff::DiffArgs),
    /// Show what applying a Katalog would change against a deployed bundle: CRDs and permissions.
    Plan(diff::PlanArgs),
    /// Push a pattern directory to an OCI registry after its simulate and e2e gates; prints the digest.
    Push(registry::PushArgs),
    /// Pull a pattern from an OCI registry (every digest verified), validate it, and show the permissions it would grant.
    Pull(registry::PullArgs),
    /// Show a pattern artifact in a registry: metadata, gate results, signatures, files.
    Inspect(registry::InspectArgs),
    /// Make an ECDSA P-256 key pair for signing pushes (private key encrypted with $ORK_SIGN_PASSPHRASE).
    Keygen(registry::KeygenArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Some(Command::Tui(args)) => tui::run(args),
        Some(Command::Validate(args)) => validate::run(args),
        Some(Command::Init(args)) => init::run(args),
        Some(Command::Template(args)) => template::run(args),
        Some(Command::Generate(what)) => generate::run(what),
        Some(Command::Simulate(args)) => simulate::run(args),
        Some(Command::E2e(args)) => e2e::run(args),
        Some(Command::DevCluster(args)) => devcluster::run(args),
        Some(Command::Gate(args)) => gate::run(args),
        Some(Command::Run(args)) => run::run(args),
        Some(Command::Diff(args)) => diff::run_diff(args),
        Some(Command::Plan(args)) => diff::run_plan(args),
        Some(Command::Push(args)) => registry::push(args),
        Some(Command::Pull(args)) => registry::pull(args),
        Some(Command::Inspect(args)) => registry::inspect(args),
        Some(Command::Keygen(args)) => registry::keygen(args),
        // On a terminal, `ork` alone opens the workbench on the current directory; in a
        // script it prints help (ARCHITECTURE.md §4).
        None if tui::on_terminal() => tui::run(tui::Args::default()),
        None => {
            use clap::CommandFactory;
            let _ = Cli::command().print_help();
            Ok(0)
        }
    };
    ExitCode::from(output::finish(result))
}
