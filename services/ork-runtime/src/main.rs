//! `ork-runtime`: the operator as it runs in the cluster. Two subcommands, `run` and `version`;
//! everything else of ork (authoring, bundles, scaffolds, the dev cluster, the TUI) is not
//! compiled in.

use clap::{Parser, Subcommand};
use katalog::valid::{Invalid, load_valid};
use services::runtime::StartError;
use services::runtime::command::{RunArgs, serve};
use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The ork runtime: reconciles the CRs of a Katalog, one isolated OperatorBox per CRD.
#[derive(Parser)]
#[command(name = "ork-runtime", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Reconcile until SIGTERM (in-cluster configuration, else the current kube context).
    Run(RunArgs),
    /// Print the version.
    Version,
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
    match cli.command {
        Command::Version => {
            println!("ork-runtime {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Run(args) => ExitCode::from(run(args)),
    }
}

/// The exit code for an error of `run`: 1 when the Katalog is invalid or cannot be run, 2 when
/// the flags, the environment, the cluster or the port cannot be used.
fn exit_code(e: &anyhow::Error) -> u8 {
    if e.downcast_ref::<Invalid>().is_some() || matches!(e.downcast_ref::<StartError>(), Some(StartError::Setup(_))) { 1 } else { 2 }
}

fn run(args: RunArgs) -> u8 {
    match serve_until_signal(args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            exit_code(&e)
        }
    }
}

fn serve_until_signal(args: RunArgs) -> anyhow::Result<()> {
    // No transparent huge pages: the heap grows in small steps, and with THP every fault maps
    // and zeroes 2 MiB, which nearly doubled peak RSS (BENCHMARKS.md, "Peers"). Where the
    // kernel refuses (not Linux, or a seccomp profile), the heap just keeps them.
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    let _ = rustls::crypto::ring::default_provider().install_default();
    args.init_logging();
    services::serve::panic::install_hook();
    // In a pod: listen on every interface (the kubelet probes the pod IP), lead via the Lease.
    let opts = args.options(IpAddr::V4(Ipv4Addr::UNSPECIFIED), true)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    rt.block_on(async {
        let client = args.client().await?;
        let katalog = load_valid(&args.katalog(), &args.load.options()).map_err(|e| {
            let message = e.summary();
            anyhow::Error::new(e).context(message)
        })?;
        serve(client, katalog, opts).await?;
        Ok(())
    })
}
