//! The admission gateway (feature `gateway`): an HTTPS server answering the Katalog's admission
//! webhooks (`webhooks`, verdicts from `katalog::admission::Gate`), with its metrics
//! (`metrics`), its self-managed TLS (`certs`), the webhook configurations it registers
//! (`configs`) and the housekeeper that keeps them (`housekeeper`). Built on `crate::serve`
//! alone: it contains no reconciler, runtime or dev cluster.
//!
//! [`start`] binds the webhook (HTTPS) and the probe (HTTP: `/health`, `/ready`, `/metrics`)
//! ports, starts both servers and the housekeeper, and returns a [`Running`] gateway. The
//! Kubernetes API is reached only through the [`Cluster`] trait, so the same code runs against
//! a real cluster (`KubeCluster`), the dev cluster and a `MemCluster`.

pub mod certs;
pub mod command;
pub mod configs;
pub mod housekeeper;
pub mod metrics;
pub mod webhooks;

use crate::cluster::{Cluster, ListParams};
use crate::serve::http::Probes;
use crate::serve::leader::{Elector, Timings};
use certs::{Lifetime, Tls};
use housekeeper::{Housekeeper, Stats};
use katalog::admission::Gate;
use katalog::install::{GATEWAY_LEASE, GATEWAY_SERVICE, WEBHOOK_PORT, gateway_plan};
use katalog::valid::Valid;
use metrics::Metrics;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use webhooks::{ListOthers, Webhooks};

/// How the API server reaches the webhooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// Through the Service `name` in the install namespace, on `port` (production:
    /// `clientConfig.service`). The certificate names the Service's DNS names.
    Service {
        /// The Service.
        name: String,
        /// Its port.
        port: u16,
    },
    /// At the bound webhook address itself (`clientConfig.url = https://<addr><path>`; the
    /// certificate also names that IP): for `ork e2e` and `ork run --dev`, whose embedded
    /// cluster resolves no Services.
    Direct,
}

/// Where the serving certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// Generated and kept by the gateway in the Secret `orkestra-internal-tls`, rotated before
    /// it expires (`security.certManager`).
    Managed,
    /// PEM files provided (e.g. by cert-manager): served as they are, re-read on each pass and
    /// swapped in when they change. The certificate file is also the CA bundle, so it must hold
    /// the chain up to the CA that signed it (or be self-signed). No Secret, no rotation.
    Files {
        /// Certificate (chain) PEM.
        cert: PathBuf,
        /// Private key PEM.
        key: PathBuf,
    },
}

/// How a gateway runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The install namespace (TLS Secret, Lease, Service; excluded from built-in deletion
    /// protection).
    pub namespace: String,
    /// Where the HTTPS webhook server listens (port 0: any free port).
    pub webhook_addr: SocketAddr,
    /// Where the plain HTTP probe and metrics server listens.
    pub http_addr: SocketAddr,
    /// How the API server reaches the webhooks.
    pub endpoint: Endpoint,
    /// The serving certificate.
    pub tls: TlsSource,
    /// How often the housekeeper checks the cluster (default 2 s).
    pub sync_interval: Duration,
    /// Elect one housekeeper on the Lease `orkestra-gateway-housekeeper` (several replicas).
    pub leader_election: bool,
    /// This replica's name on the Lease.
    pub identity: String,
}

impl Options {
    /// The production defaults for `namespace`: every interface, ports 8443 and 8080, the
    /// `orkestra-gateway` Service, managed TLS, a 2 s check, no leader election.
    pub fn new(namespace: &str) -> Options {
        Options {
            namespace: namespace.to_string(),
            webhook_addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), WEBHOOK_PORT),
            http_addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 8080),
            endpoint: Endpoint::Service { name: GATEWAY_SERVICE.to_string(), port: WEBHOOK_PORT },
            tls: TlsSource::Managed,
            sync_interval: Duration::from_secs(2),
            leader_election: false,
            identity: default_identity(),
        }
    }

    /// For a local gateway beside an embedded dev cluster: loopback, free ports, reached
    /// directly, managed TLS.
    pub fn dev(namespace: &str) -> Options {
        let lo = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
        Options { webhook_addr: lo, http_addr: lo, endpoint: Endpoint::Direct, ..Options::new(namespace) }
    }
}

/// This replica's identity: `$POD_NAME`, else `$HOSTNAME`, else `gateway`, with the process id.
pub fn default_identity() -> String {
    let host = ["POD_NAME", "HOSTNAME"].iter().find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty())).unwrap_or_else(|| "gateway".to_string());
    format!("{host}_{}", std::process::id())
}

/// Where the API server sends webhook requests (from [`Endpoint`] and the bound address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// `clientConfig.service`.
    Service {
        /// The Service.
        name: String,
        /// Its namespace.
        namespace: String,
        /// Its port.
        port: u16,
    },
    /// `clientConfig.url` = this base + the path (`https://127.0.0.1:8443`).
    Url(String),
}

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The Katalog declares no gateway feature: there is nothing to serve.
    #[error(
        "the Katalog declares no gateway feature (security.webhooks.admission, security.namespaceProtection, security.deletionProtection or security.conversion): nothing to serve"
    )]
    NothingDeclared,
    /// A port cannot be bound.
    #[error("cannot listen on {addr} ({what}): {source}")]
    Bind {
        /// `webhooks (HTTPS)` or `probes and metrics (HTTP)`.
        what: &'static str,
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The TLS server configuration cannot be built.
    #[error("TLS: {0}")]
    Tls(#[from] crate::serve::tls::TlsError),
}

/// What `/ready` and `/metrics` report.
struct GatewayProbes {
    tls: Arc<Tls>,
    passed: AtomicBool,
    stats: Arc<Stats>,
    metrics: Arc<Metrics>,
}

impl Probes for GatewayProbes {
    fn not_ready(&self) -> Option<String> {
        if !self.tls.serving().is_set() {
            return Some(format!("no TLS certificate loaded yet{}", self.stats.last_error().map(|e| format!(": {e}")).unwrap_or_default()));
        }
        if !self.passed.load(Ordering::SeqCst) {
            return Some(format!("the housekeeper's first pass has not succeeded{}", self.stats.last_error().map(|e| format!(": {e}")).unwrap_or_default()));
        }
        None
    }

    fn started(&self) -> bool {
        self.not_ready().is_none()
    }

    fn metrics(&self) -> String {
        let mut out = self.metrics.render();
        out.push_str(&self.stats.render());
        out
    }
}

/// A running gateway.
pub struct Running {
    webhook_addr: SocketAddr,
    http_addr: SocketAddr,
    ready: watch::Receiver<bool>,
    stop: watch::Sender<bool>,
    housekeeping: JoinHandle<()>,
    https: JoinHandle<()>,
    http: JoinHandle<()>,
    stats: Arc<Stats>,
    metrics: Arc<Metrics>,
    tls: Arc<Tls>,
}

impl Running {
    /// Where the HTTPS webhook server listens.
    pub fn webhook_addr(&self) -> SocketAddr {
        self.webhook_addr
    }

    /// Where the HTTP probe and metrics server listens.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// Resolves once a housekeeper pass succeeded: the certificate is served and (on the
    /// leader, or without leader election) the webhook configurations are registered. Callers
    /// bound the wait.
    pub async fn ready(&self) {
        let mut rx = self.ready.clone();
        let _ = rx.wait_for(|r| *r).await;
    }

    /// Whether [`Running::ready`] would resolve now.
    pub fn is_ready(&self) -> bool {
        *self.ready.borrow()
    }

    /// The housekeeper's counters.
    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }

    /// The webhook request counters.
    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// The PEM CA bundle the webhook configurations carry now (`None` before the first pass).
    pub fn ca_bundle(&self) -> Option<String> {
        self.tls.current().map(|m| m.ca_bundle(katalog::time::unix_now()))
    }

    /// Stops the housekeeper (deleting the configurations with `cleanupOnShutdown` when this
    /// replica leads, and releasing the Lease), then both servers, finishing requests in
    /// flight. Bounded: a part that does not stop within 10 s is abandoned.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let bound = Duration::from_secs(10);
        let mut housekeeping = self.housekeeping;
        if tokio::time::timeout(bound, &mut housekeeping).await.is_err() {
            housekeeping.abort();
        }
        for mut task in [self.https, self.http] {
            if tokio::time::timeout(bound, &mut task).await.is_err() {
                task.abort();
            }
        }
    }
}

/// Starts a gateway for the Katalog `valid` (see the module documentation). Cluster errors do
/// not stop it: the housekeeper retries, and `/ready` says what is missing.
pub async fn start<C: Cluster + 'static>(cluster: Arc<C>, valid: Arc<Valid>, opts: Options) -> Result<Running, GatewayError> {
    let plan = gateway_plan(&valid.katalog);
    if !plan.any() {
        return Err(GatewayError::NothingDeclared);
    }
    let bind = |addr: SocketAddr, what: &'static str| async move {
        let l = tokio::net::TcpListener::bind(addr).await.map_err(|source| GatewayError::Bind { what, addr, source })?;
        let bound = l.local_addr().map_err(|source| GatewayError::Bind { what, addr, source })?;
        Ok::<_, GatewayError>((l, bound))
    };
    let (webhook_tcp, webhook_addr) = bind(opts.webhook_addr, "webhooks (HTTPS)").await?;
    let (http_tcp, http_addr) = bind(opts.http_addr, "probes and metrics (HTTP)").await?;
    let ns = opts.namespace.clone();

    let (reach, mut names) = match &opts.endpoint {
        Endpoint::Service { name, port } => (Reach::Service { name: name.clone(), namespace: ns.clone(), port: *port }, service_names(name, &ns)),
        Endpoint::Direct => {
            let ip = if webhook_addr.ip().is_unspecified() { IpAddr::V4(Ipv4Addr::LOCALHOST) } else { webhook_addr.ip() };
            let host = if ip.is_ipv6() { format!("[{ip}]") } else { ip.to_string() };
            (Reach::Url(format!("https://{host}:{}", webhook_addr.port())), vec![ip.to_string()])
        }
    };
    if opts.endpoint == Endpoint::Direct {
        names.extend(service_names(GATEWAY_SERVICE, &ns));
    }
    let tls = Arc::new(Tls::new(opts.tls.clone(), names, &ns, Lifetime::from_katalog(&valid.katalog)));
    let gate = Arc::new(Gate::new(valid));
    let metrics = Arc::new(Metrics::default());
    let others: ListOthers = {
        let cluster = cluster.clone();
        Arc::new(move |r, ns| {
            let cluster = cluster.clone();
            Box::pin(async move { cluster.list(&r, Some(&ns), &ListParams::default()).await.map(|l| l.items).unwrap_or_default() })
        })
    };
    let state = Arc::new(Webhooks { gate: gate.clone(), install_namespace: ns.clone(), metrics: metrics.clone(), others: Some(others) });
    let router = webhooks::router(state, &configs::routes(&plan));

    let (stop, stopped) = watch::channel(false);
    let until_stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let listener = crate::serve::tls::TlsListener::new(webhook_tcp, tls.serving().server_config()?).map_err(|source| GatewayError::Bind {
        what: "webhooks (HTTPS)",
        addr: webhook_addr,
        source,
    })?;
    // The webhook server stops after the housekeeper (which may still need it to answer while it
    // deletes configurations on shutdown).
    let (https_stop, https_stopped) = watch::channel(false);
    let https = crate::serve::http::spawn(listener, router, until_stopped(https_stopped));

    let housekeeper = Housekeeper::new(cluster.clone(), gate, plan, &ns, reach, tls.clone());
    let stats = housekeeper.stats();
    let probes = Arc::new(GatewayProbes { tls: tls.clone(), passed: AtomicBool::new(false), stats: stats.clone(), metrics: metrics.clone() });
    let http = crate::serve::http::spawn(http_tcp, crate::serve::http::router(probes.clone()), until_stopped(stopped.clone()));

    let (ready_tx, ready) = watch::channel(false);
    let leader = opts.leader_election.then(|| Elector::new(cluster, &ns, GATEWAY_LEASE, &opts.identity, Timings::default()).spawn_until(stopped.clone()));
    let housekeeping = tokio::spawn(housekeep(housekeeper, leader, opts.sync_interval, stopped, probes, ready_tx, https_stop));
    Ok(Running { webhook_addr, http_addr, ready, stop, housekeeping, https, http, stats, metrics, tls })
}

/// The DNS names of the Service `name` in `ns`, the one the API server uses first.
fn service_names(name: &str, ns: &str) -> Vec<String> {
    vec![format!("{name}.{ns}.svc"), name.to_string(), format!("{name}.{ns}"), format!("{name}.{ns}.svc.cluster.local")]
}

/// The housekeeper's loop: a pass at start and every `interval`, as leader or follower, until
/// `stop`; then cleanupOnShutdown (leader only), the Lease, and the webhook server.
async fn housekeep<C: Cluster + 'static>(
    hk: Housekeeper<C>,
    leader: Option<(watch::Receiver<bool>, JoinHandle<()>)>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
    probes: Arc<GatewayProbes>,
    ready: watch::Sender<bool>,
    https_stop: watch::Sender<bool>,
) {
    let (mut leading, elector) = match leader {
        Some((rx, task)) => (Some(rx), Some(task)),
        None => (None, None),
    };
    let mut was_leading = false;
    loop {
        if *stop.borrow() {
            break;
        }
        let writer = leading.as_ref().is_none_or(|rx| *rx.borrow());
        if writer != was_leading && leading.is_some() {
            tracing::info!("gateway housekeeper: {}", if writer { "leading (keeps the webhook configurations)" } else { "following (serves webhooks only)" });
        }
        was_leading = writer;
        if hk.pass(writer).await.is_ok() {
            probes.passed.store(true, Ordering::SeqCst);
            let _ = ready.send(true);
        }
        let leadership_changed = async {
            match leading.as_mut() {
                Some(rx) => {
                    if rx.changed().await.is_err() {
                        // The elector is gone (only on stop): wait for the ticker.
                        std::future::pending::<()>().await;
                    }
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => {}
            _ = leadership_changed => {}
        }
    }
    if was_leading {
        hk.cleanup().await;
    }
    if let Some(task) = elector {
        // The elector saw `stop` too: it releases the Lease and ends.
        let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    }
    let _ = https_stop.send(true);
}
