//! `ork run`: the runtime against the current kube context, or with `--dev` (the default when
//! there is no cluster configuration at all) against an embedded dev cluster that this command
//! starts, with the Katalog's CRDs installed, the admission gateway beside the runtime when the
//! Katalog declares a gateway feature, and its `crFiles` applied (through the gateway).

use super::Outcome;
use katalog::valid::{Valid, load_valid};
use services::devcluster::Options as DevOptions;
use services::run::{DevError, DevStack, DevStackOptions, crd_plurals, has_cluster_config};
use services::runtime::command::{RunArgs, serve};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

/// Arguments of `ork run`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    run: RunArgs,
    /// Run against an embedded dev cluster started by this command (default when no kubeconfig exists); when the Katalog
    /// declares a gateway feature, the admission gateway runs beside the runtime and its webhooks are registered there.
    #[arg(long)]
    dev: bool,
    /// With --dev: where to write the dev cluster's kubeconfig, for kubectl.
    #[arg(long, default_value = "ork-dev.kubeconfig", value_name = "PATH")]
    kubeconfig: PathBuf,
}

/// Runs until SIGTERM / Ctrl-C.
pub fn run(args: Args) -> Outcome {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dev = args.dev || (args.run.context.is_none() && !has_cluster_config());
    // A laptop: serve the endpoints on loopback only. Against a shared cluster the Lease keeps
    // this process from reconciling beside a deployed runtime; the dev cluster is ours alone.
    let opts = args.run.options(IpAddr::V4(Ipv4Addr::LOCALHOST), !dev)?;
    // Invalid Katalogs stop here, with ork validate's diagnostics. The runtime runs this very
    // Katalog: it is loaded once.
    let valid = load_valid(&args.run.katalog(), &super::registry::with_remote(args.run.load.options()))?;
    args.run.init_logging();
    services::serve::panic::install_hook();
    let rt = super::async_runtime(None)?;
    rt.block_on(async move {
        if !dev {
            let client = args.run.client().await.map_err(|e| {
                let message = format!("{e}\nhint: pass --dev to run against an embedded dev cluster");
                anyhow::Error::new(e).context(message)
            })?;
            serve(client, valid, opts).await?;
            return Ok(0);
        }
        run_dev(valid, args.kubeconfig, opts).await
    })
}

/// The dev stack (shared with the workbench's Live view) until SIGTERM / Ctrl-C.
async fn run_dev(valid: Valid, kubeconfig: PathBuf, opts: services::runtime::Options) -> Outcome {
    let plurals = crd_plurals(&valid.katalog);
    let stack = DevStack::start(valid, DevStackOptions { kubeconfig, cluster: DevOptions::default(), runtime: opts }).await.map_err(|e| match e {
        DevError::Install(e) => anyhow::Error::new(e),
        DevError::Runtime(e) => anyhow::Error::new(e),
        other => anyhow::anyhow!("{other}"),
    })?;
    if let Some(gw) = stack.gateway() {
        tracing::info!(
            webhooks = %gw.webhook_addr(),
            probes = %gw.http_addr(),
            "gateway ready beside the runtime: the Katalog's admission webhooks are registered on the dev cluster"
        );
    }
    let kubeconfig = stack.kubeconfig().display().to_string();
    tracing::info!(
        url = %stack.url(),
        kubeconfig = %kubeconfig,
        "dev cluster ready: {} CRD(s) installed, {} CR(s) applied; try: kubectl --kubeconfig {kubeconfig} get {}",
        stack.custom().len(),
        stack.crs_applied(),
        plurals.join(",")
    );
    services::serve::signal::shutdown_signal().await;
    // Stopped after the runtime (Ctrl-C / SIGTERM): the gateway, then the cluster.
    stack.stop().await;
    Ok(0)
}
