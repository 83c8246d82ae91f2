//! `ork-gateway`: the admission gateway as it runs in the cluster. Two subcommands, `gate` and
//! `version`; the runtime, authoring, the dev cluster and the TUI are not compiled in.

use clap::{Parser, Subcommand};
use katalog::valid::{Invalid, load_valid};
use services::gateway::GatewayError;
use services::gateway::command::{GateArgs, serve};
use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;

/// The ork gateway: answers the Katalog's admission and conversion webhooks over HTTPS and keeps
/// their webhook configurations and TLS certificate in the cluster.
#[derive(Parser)]
#[command(name = "ork-gateway", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the webhooks until SIGTERM (in-cluster configuration, else the current kube context).
    Gate(GateArgs),
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
            println!("ork-gateway {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Gate(args) => ExitCode::from(run(args)),
    }
}

/// The exit code for an error of `gate`: 1 when the Katalog is invalid or declares nothing to
/// serve, 2 when the flags, the environment, the cluster or a port cannot be used.
fn exit_code(e: &anyhow::Error) -> u8 {
    if e.downcast_ref::<Invalid>().is_some() || matches!(e.downcast_ref::<GatewayError>(), Some(GatewayError::NothingDeclared)) { 1 } else { 2 }
}

fn run(args: GateArgs) -> u8 {
    match serve_until_signal(args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e:#}");
            exit_code(&e)
        }
    }
}

fn serve_until_signal(args: GateArgs) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    args.init_logging();
    services::serve::panic::install_hook();
    // In a pod: listen on every interface (the API server and the kubelet reach the pod IP);
    // replicas elect one housekeeper.
    let opts = args.options(IpAddr::V4(Ipv4Addr::UNSPECIFIED), true)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    rt.block_on(async {
        let client = args.client().await?;
        let katalog = load_valid(&args.katalog(), &args.load_options()).map_err(|e| {
            let message = e.summary();
            anyhow::Error::new(e).context(message)
        })?;
        serve(client, katalog, opts).await?;
        Ok(())
    })
}
