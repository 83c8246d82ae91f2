//! The `gate` command line shared by `ork-gateway gate` and `ork gate serve`: flags, the
//! environment (flag > environment > default), the kube client, and the start-to-signal
//! lifecycle. Errors are typed; the binaries print them and choose exit codes.

use super::{Endpoint, GatewayError, Options, TlsSource};
use crate::cluster::KubeCluster;
use crate::serve::client::ClientError;
use crate::serve::settings::{self, SettingsError};
pub use crate::serve::settings::{LoadArgs, LogFormat};
use katalog::valid::Valid;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Flags of `gate` (serve).
#[derive(Debug, Clone, clap::Args)]
pub struct GateArgs {
    /// The Katalog or Komposer file [default: $KATALOG_PATH, else ./katalog.yaml, else ./komposer.yaml].
    #[arg(short = 'f', long = "file")]
    pub file: Option<PathBuf>,
    /// The install namespace: the TLS Secret, the Lease and the Service live there [default: $ORK_NAMESPACE, else orkestra-system].
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// The kubeconfig context to use [default: in-cluster configuration, else the current context].
    #[arg(long)]
    pub context: Option<String>,
    /// Port of the HTTPS webhooks; 0 picks a free one.
    #[arg(long, default_value_t = katalog::install::WEBHOOK_PORT)]
    pub webhook_port: u16,
    /// Port of /health /ready /metrics (plain HTTP); 0 picks a free one [default: $ORK_PORT, else 8080].
    #[arg(long)]
    pub port: Option<u16>,
    /// Address both servers bind.
    #[arg(long)]
    pub bind: Option<IpAddr>,
    /// Serve this certificate (PEM, e.g. from cert-manager) instead of managing the Secret orkestra-internal-tls; needs --tls-key.
    #[arg(long, requires = "tls_key", value_name = "PEM")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert.
    #[arg(long, requires = "tls_cert", value_name = "PEM")]
    pub tls_key: Option<PathBuf>,
    /// The Service the API server reaches the webhooks through.
    #[arg(long, default_value = katalog::install::GATEWAY_SERVICE)]
    pub service_name: String,
    /// How often the housekeeper checks the webhook configurations, the TLS Secret and the CRDs.
    #[arg(long, default_value = "2s", value_name = "DURATION")]
    pub sync_interval: String,
    /// Elect one housekeeper on the orkestra-gateway-housekeeper Lease (several replicas).
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set)]
    pub leader_elect: Option<bool>,
    /// Log format.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// How the Katalog is loaded.
    #[command(flatten)]
    pub load: LoadArgs,
}

/// Why the flags and the environment give no gateway [`Options`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    /// The namespace or the probe port (`crate::serve::settings`).
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// `--sync-interval` is not a positive duration.
    #[error("--sync-interval {0:?}: expected a positive duration such as 2s")]
    SyncInterval(String),
}

impl GateArgs {
    /// The Katalog file ([`settings::katalog_file`]; in a pod, the bundle's ConfigMap mounted
    /// where `$KATALOG_PATH` says).
    pub fn katalog(&self) -> PathBuf {
        settings::katalog_file(self.file.as_deref())
    }

    /// The loader options these flags select.
    pub fn load_options(&self) -> katalog::load::LoadOptions {
        self.load.options()
    }

    /// The install namespace: flag > `$ORK_NAMESPACE` > default.
    pub fn namespace(&self) -> Result<String, OptionsError> {
        Ok(settings::namespace(self.namespace.as_deref())?)
    }

    /// The gateway options; `bind` and `leader` are the caller's defaults for this binary.
    pub fn options(&self, bind: IpAddr, leader: bool) -> Result<Options, OptionsError> {
        let namespace = self.namespace()?;
        let port = settings::probe_port(self.port)?;
        let sync = katalog::duration::parse_duration(&self.sync_interval)
            .filter(|s| s.is_finite() && *s > 0.0)
            .ok_or_else(|| OptionsError::SyncInterval(self.sync_interval.clone()))?;
        let ip = self.bind.unwrap_or(bind);
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => TlsSource::Files { cert: cert.clone(), key: key.clone() },
            _ => TlsSource::Managed,
        };
        Ok(Options {
            webhook_addr: SocketAddr::new(ip, self.webhook_port),
            http_addr: SocketAddr::new(ip, port),
            endpoint: Endpoint::Service { name: self.service_name.clone(), port: katalog::install::WEBHOOK_PORT },
            tls,
            sync_interval: Duration::from_secs_f64(sync),
            leader_election: self.leader_elect.unwrap_or(leader),
            ..Options::new(&namespace)
        })
    }

    /// A client for `--context`, else in-cluster, else the current context.
    pub async fn client(&self) -> Result<kube::Client, ClientError> {
        crate::serve::client::infer(self.context.as_deref()).await
    }

    /// Installs the log subscriber for `--log-format`.
    pub fn init_logging(&self) {
        self.log_format.init();
    }
}

/// Runs a gateway for `katalog` on `client` until SIGTERM/Ctrl-C, then shuts it down. `Ok`
/// after a clean shutdown.
pub async fn serve(client: kube::Client, katalog: Valid, opts: Options) -> Result<(), GatewayError> {
    let running = super::start(Arc::new(KubeCluster::new(client)), Arc::new(katalog), opts).await?;
    tracing::info!(webhooks = %running.webhook_addr(), probes = %running.http_addr(), "gateway serving");
    crate::serve::signal::shutdown_signal().await;
    tracing::info!("stopping the gateway");
    running.shutdown().await;
    Ok(())
}
