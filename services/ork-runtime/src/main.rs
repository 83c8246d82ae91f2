//! `ork-runtime`: the operator as it runs in the cluster. Two subcommands, `run` and `version`;
//! everything else of ork (authoring, bundles, scaffolds, the dev cluster, the TUI) is not
//! compiled in.

use clap::{Parser, Subcommand};
use services::runtime::command::{RunArgs, serve};
use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;

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

fn run(args: RunArgs) -> u8 {
    let _ = rustls::crypto::ring::default_provider().install_default();
    args.init_logging();
    services::serve::panic::install_hook();
    // In a pod: listen on every interface (the kubelet probes the pod IP), lead via the Lease.
    let opts = match args.options(IpAddr::V4(Ipv4Addr::UNSPECIFIED), true) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 2;
        }
    };
    rt.block_on(async {
        let client = match args.client().await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        };
        serve(client, opts).await
    })
}
