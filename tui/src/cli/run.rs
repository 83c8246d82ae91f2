//! `ork run`: the runtime against the current kube context, or with `--dev` (the default when
//! there is no cluster configuration at all) against an embedded dev cluster that this command
//! starts, with the Katalog's CRDs installed, the admission gateway beside the runtime when the
//! Katalog declares a gateway feature, and its `crFiles` applied (through the gateway).

use super::Outcome;
use katalog::valid::{Valid, load_valid};
use services::cluster::KubeCluster;
use services::devcluster::{DevCluster, Options as DevOptions};
use services::run::{apply_cr_files, crd_plurals, install_crds, start_gateway};
use services::runtime::command::{RunArgs, serve};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;

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

/// Whether any cluster configuration exists: in-cluster, `$KUBECONFIG`, `~/.kube/config`.
fn has_cluster_config() -> bool {
    if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
        return true;
    }
    if let Some(v) = std::env::var_os("KUBECONFIG") {
        return std::env::split_paths(&v).any(|p| p.exists());
    }
    std::env::var_os("HOME").is_some_and(|h| PathBuf::from(h).join(".kube/config").exists())
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
    let valid = load_valid(&args.run.katalog(), &args.run.load.options())?;
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
        let cluster = DevCluster::start(DevOptions::default()).await.map_err(|e| anyhow::anyhow!("cannot start the dev cluster: {e}"))?;
        let result = run_dev(&cluster, valid, &args.kubeconfig, opts).await;
        cluster.stop().await;
        result
    })
}

async fn run_dev(dev: &DevCluster, valid: Valid, kubeconfig: &std::path::Path, opts: services::runtime::Options) -> Outcome {
    dev.write_kubeconfig(kubeconfig).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", kubeconfig.display()))?;
    let client = dev.client().await.map_err(|e| anyhow::anyhow!("cannot connect to the dev cluster: {e}"))?;
    let admin = Arc::new(KubeCluster::new(client.clone()));
    let custom = install_crds(&admin, &valid.katalog).await?;
    // The gateway before the crFiles: they are admitted (or refused) as on a real cluster.
    let gateway = start_gateway(admin.clone(), &valid, &opts.namespace).await?;
    if let Some(gw) = &gateway {
        tracing::info!(
            webhooks = %gw.webhook_addr(),
            probes = %gw.http_addr(),
            "gateway ready beside the runtime: the Katalog's admission webhooks are registered on the dev cluster"
        );
    }
    let result = async {
        let crs = apply_cr_files(&admin, &valid.katalog, &custom).await?;
        tracing::info!(
            url = %dev.url(),
            kubeconfig = %kubeconfig.display(),
            "dev cluster ready: {} CRD(s) installed, {crs} CR(s) applied; try: kubectl --kubeconfig {} get {}",
            custom.len(),
            kubeconfig.display(),
            crd_plurals(&valid.katalog).join(",")
        );
        serve(client, valid.clone(), opts).await?;
        Ok(0)
    }
    .await;
    // Stopped after the runtime (Ctrl-C / SIGTERM), and on every error path once it started.
    if let Some(gw) = gateway {
        gw.shutdown().await;
    }
    result
}
