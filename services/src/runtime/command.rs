//! The `run` command line shared by `ork-runtime run` and `ork run`: flags, the environment
//! (runtime-and-gateway.md §1.2; flag > environment > default), the kube client, and the
//! start-to-signal lifecycle. Errors are typed; the binaries print them and choose exit codes.

use super::operator::Defaults;
use super::{Options, Runtime, StartError};
use crate::serve::client::ClientError;
use crate::serve::leader::Timings;
use crate::serve::settings::{self, SettingsError, env};
pub use crate::serve::settings::{LoadArgs, LogFormat};
use katalog::valid::Valid;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Flags of `run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// The Katalog or Komposer file [default: $KATALOG_PATH, else ./katalog.yaml, else ./komposer.yaml].
    #[arg(short = 'f', long = "file")]
    pub file: Option<PathBuf>,
    /// The install namespace, where the orkestra-konductor Lease lives [default: $ORK_NAMESPACE, else orkestra-system].
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// The kubeconfig context to use [default: in-cluster configuration, else the current context].
    #[arg(long)]
    pub context: Option<String>,
    /// Port of /health /ready /startup /metrics /katalog; 0 picks a free one [default: $ORK_PORT, else 8080].
    #[arg(long)]
    pub port: Option<u16>,
    /// Address the HTTP server binds.
    #[arg(long)]
    pub bind: Option<IpAddr>,
    /// Elect a leader on the orkestra-konductor Lease so that only one replica reconciles.
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set)]
    pub leader_elect: Option<bool>,
    /// Log format.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// How the Katalog is loaded.
    #[command(flatten)]
    pub load: LoadArgs,
}

/// Why the flags and the environment give no runtime [`Options`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    /// The namespace or the probe port (`crate::serve::settings`).
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// A duration variable (`LEASE_DURATION`, `DEFAULT_RESYNC`, …) is not a positive duration.
    #[error("${name}={value:?}: expected seconds or a duration such as 15s")]
    Seconds {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// A count variable (`DEFAULT_WORKERS`, `FAILURE_THRESHOLD`) is not a whole number.
    #[error("${name}={value:?}: expected a whole number")]
    Number {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// The leader election timings are out of order.
    #[error("leader election needs RETRY_PERIOD < RENEW_DEADLINE < LEASE_DURATION (got {retry:?} < {renew:?} < {lease:?})")]
    Timings {
        /// `RETRY_PERIOD`.
        retry: Duration,
        /// `RENEW_DEADLINE`.
        renew: Duration,
        /// `LEASE_DURATION`.
        lease: Duration,
    },
}

fn env_seconds(name: &'static str) -> Result<Option<Duration>, OptionsError> {
    match env(name) {
        None => Ok(None),
        Some(v) => {
            let secs = v.parse::<f64>().ok().or_else(|| katalog::duration::parse_duration(&v));
            match secs.filter(|s| s.is_finite() && *s > 0.0) {
                Some(s) => Ok(Some(Duration::from_secs_f64(s))),
                None => Err(OptionsError::Seconds { name, value: v }),
            }
        }
    }
}

fn env_number(name: &'static str) -> Result<Option<u32>, OptionsError> {
    match env(name) {
        None => Ok(None),
        Some(v) => v.parse::<u32>().map(Some).map_err(|_| OptionsError::Number { name, value: v }),
    }
}

impl RunArgs {
    /// The Katalog file ([`settings::katalog_file`]).
    pub fn katalog(&self) -> PathBuf {
        settings::katalog_file(self.file.as_deref())
    }

    /// The runtime options; `bind` and `leader` are the caller's defaults for this binary.
    pub fn options(&self, bind: IpAddr, leader: bool) -> Result<Options, OptionsError> {
        let namespace = settings::namespace(self.namespace.as_deref())?;
        let port = settings::probe_port(self.port)?;
        let mut timings = Timings::default();
        if let Some(d) = env_seconds("LEASE_DURATION")? {
            timings.lease_duration = d;
        }
        if let Some(d) = env_seconds("RENEW_DEADLINE")? {
            timings.renew_deadline = d;
        }
        if let Some(d) = env_seconds("RETRY_PERIOD")? {
            timings.retry_period = d;
        }
        if timings.renew_deadline >= timings.lease_duration || timings.retry_period >= timings.renew_deadline {
            return Err(OptionsError::Timings { retry: timings.retry_period, renew: timings.renew_deadline, lease: timings.lease_duration });
        }
        let mut defaults = Defaults::default();
        if let Some(w) = env_number("DEFAULT_WORKERS")? {
            defaults.workers = w.clamp(1, 50) as usize;
        }
        if let Some(d) = env_seconds("DEFAULT_RESYNC")? {
            defaults.resync = d;
        }
        if let Some(t) = env_number("FAILURE_THRESHOLD")? {
            defaults.failure_threshold = t.max(1);
        }
        let drain = env_seconds("SHUTDOWN_TIMEOUT")?.unwrap_or(Duration::from_secs(30));
        Ok(Options {
            namespace,
            http: Some(SocketAddr::new(self.bind.unwrap_or(bind), port)),
            leader: self.leader_elect.unwrap_or(leader).then_some(timings),
            identity: super::default_identity(),
            drain,
            defaults,
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

/// Starts the runtime for the valid Katalog `katalog` and runs it until SIGTERM/Ctrl-C, then
/// shuts down. `Ok` after a clean shutdown.
pub async fn serve(client: kube::Client, katalog: Valid, opts: Options) -> Result<(), StartError> {
    let rt = Runtime::start(client, katalog, opts).await?;
    rt.run_until_signal().await;
    Ok(())
}
