//! `ork run`: the runtime against the current kube context, or with `--dev` (the default when
//! there is no cluster configuration at all) against an embedded dev cluster that this command
//! starts, with the Katalog's CRDs installed and its `crFiles` applied.

use super::Outcome;
use katalog::valid::{Valid, load_valid};
use services::cluster::KubeCluster;
use services::devcluster::{DevCluster, Options as DevOptions};
use services::run::{Installed, crd_plurals, install};
use services::runtime::command::{RunArgs, serve};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

/// Arguments of `ork run`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    run: RunArgs,
    /// Run against an embedded dev cluster started by this command (default when no kubeconfig exists).
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
    let admin = KubeCluster::new(client.clone());
    let Installed { crds, crs } = install(&admin, &valid.katalog).await?;
    tracing::info!(
        url = %dev.url(),
        kubeconfig = %kubeconfig.display(),
        "dev cluster ready: {crds} CRD(s) installed, {crs} CR(s) applied; try: kubectl --kubeconfig {} get {}",
        kubeconfig.display(),
        crd_plurals(&valid.katalog).join(",")
    );
    serve(client, valid, opts).await?;
    Ok(0)
}
