//! The embedded dev cluster: the [`MemCluster`] store served over the Kubernetes REST API on
//! loopback, so that real `kubectl` and kube-rs work against it with nothing installed.
//!
//! It serves HTTPS with a generated CA, discovery and an OpenAPI v3 index sufficient for kubectl,
//! the resource verbs (get, list with selectors and pagination, watch streams with bookmarks,
//! create, update, merge/JSON/apply patches, delete with propagation and preconditions, the
//! status and scale subresources), CustomResourceDefinitions that become served resources,
//! Kubernetes-shaped `Status` errors, admission webhooks, optional token authentication with RBAC
//! enforcement and an audit log of its decisions, a request log shaped as the API server's
//! audit log (`requests`), and a kwok-like status faker (docs/devcluster.md).

mod admission;
mod api;
mod authn;
pub mod authz;
mod bootstrap;
mod conversion;
mod discovery;
mod proto;
mod query;
pub mod requests;
mod reviews;
mod table;
mod warning;
mod webhook;

use crate::cluster::MemCluster;
use crate::serve::client::{self, ClientError};
use crate::serve::tls;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How a dev cluster is started. `Debug` shows the users of `tokens`, never the tokens.
#[derive(Clone)]
pub struct Options {
    /// Port on 127.0.0.1 (0: a free one).
    pub port: u16,
    /// How long Deployments, StatefulSets and Jobs take to report ready/complete.
    pub ready_after: Duration,
    /// Serve HTTPS with a generated CA (as real clusters do); else plain HTTP.
    pub tls: bool,
    /// Enforce RBAC: requests are authorized by the Roles and bindings stored in the cluster
    /// (else 403). Without it every signed-in user may do anything. Either way requests
    /// authenticate by bearer token (unknown ones get 401; none at all is `system:anonymous`,
    /// who may read only `/version` and the health endpoints), and the default kubeconfig's
    /// token — random per start — is the administrator's (`system:masters`).
    pub rbac: bool,
    /// More tokens and their users (RBAC mode only: without RBAC they would all be
    /// administrators). Tokens must be unique.
    pub tokens: Vec<(String, authz::User)>,
    /// How long a watch that asked for bookmarks stays quiet before it gets one.
    pub bookmark_every: Duration,
    /// Failures to inject (none by default).
    pub faults: Faults,
    /// Where to append the request log, one JSON line per request (created 0600); it is kept
    /// in memory either way ([`DevCluster::requests`]).
    pub audit_log: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("port", &self.port)
            .field("ready_after", &self.ready_after)
            .field("tls", &self.tls)
            .field("rbac", &self.rbac)
            .field("token_users", &self.tokens.iter().map(|(_, u)| &u.name).collect::<Vec<_>>())
            .field("bookmark_every", &self.bookmark_every)
            .field("faults", &self.faults)
            .field("audit_log", &self.audit_log)
            .finish()
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            port: 0,
            ready_after: Duration::from_secs(1),
            tls: true,
            rbac: false,
            tokens: Vec::new(),
            bookmark_every: Duration::from_secs(10),
            faults: Faults::default(),
            audit_log: None,
        }
    }
}

/// Failures the dev cluster injects, to prove clients survive what real API servers do under
/// load: optimistic-concurrency conflicts, watches cut short, and watches that cannot resume.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// Every Nth update or patch (of an object or its status) fails with 409 Conflict and
    /// changes nothing (0: never).
    pub conflict_every: u32,
    /// Every watch stream ends after this long (`None`: at its timeout).
    pub drop_watches_after: Option<Duration>,
    /// Every Nth watch that resumes from a resourceVersion gets `410 Expired` and must list
    /// again (0: never).
    pub expire_every: u32,
}

/// A fresh random bearer token (256 bits from the operating system, hex): the administrator's,
/// and any other a caller gives the cluster (the runtime's in `ork e2e`).
pub fn random_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    katalog::template::Rng::Os.fill(&mut bytes).map_err(std::io::Error::other)?;
    Ok(katalog::template::hex(&bytes))
}

/// Serves `router` until `stopped`, then ends open watches (through `closing`) so that graceful
/// shutdown does not wait out their timeout.
fn serve<L>(listener: L, router: axum::Router, stopped: oneshot::Receiver<()>, closing: tokio::sync::watch::Sender<bool>) -> JoinHandle<()>
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    crate::serve::http::spawn(listener, router, async move {
        let _ = stopped.await;
        let _ = closing.send(true);
    })
}

/// A running dev cluster. Stops when [`DevCluster::stop`] is called or it is dropped.
pub struct DevCluster {
    addr: SocketAddr,
    /// The administrator's token, random per start.
    admin_token: String,
    store: Arc<MemCluster>,
    access: Arc<api::Access>,
    ca_pem: Option<String>,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
    faker: JoinHandle<()>,
}

impl DevCluster {
    /// Binds 127.0.0.1 and serves in the background (on the current tokio runtime). Extra
    /// tokens without RBAC, or a token given twice, are refused (`InvalidInput`).
    pub async fn start(opts: Options) -> std::io::Result<DevCluster> {
        let invalid = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, m);
        if !opts.rbac && !opts.tokens.is_empty() {
            return Err(invalid("tokens for other users need RBAC (without it every user would be an administrator); enable rbac".into()));
        }
        let admin_token = random_token()?;
        let tokens = authn::Tokens::new(opts.tokens.iter().cloned().chain([(admin_token.clone(), authz::User::admin())]))
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let listener = TcpListener::bind(("127.0.0.1", opts.port)).await?;
        let addr = listener.local_addr()?;
        let store = Arc::new(MemCluster::new());
        store.finalize_namespaces_later();
        store.use_os_random();
        // Nobody reads a served cluster's request log (simulate does): do not keep it.
        store.record_requests(false);
        // Answered, never stored: what `kubectl auth can-i` and `kubectl auth whoami` create.
        reviews::register(&store);
        bootstrap::seed(&store).map_err(|e| std::io::Error::other(format!("cannot store the bootstrap RBAC policy: {e}")))?;
        let (closing_tx, closing) = tokio::sync::watch::channel(false);
        let requests = requests::RequestLog::new(opts.audit_log.as_deref()).map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot open the audit log {}: {e}", opts.audit_log.as_deref().unwrap_or(std::path::Path::new("")).display()))
        })?;
        let access =
            Arc::new(api::Access { rbac: opts.rbac, tokens, bookmark_every: opts.bookmark_every, faults: opts.faults, requests, ..Default::default() });
        let router = api::router(store.clone(), access.clone(), addr, closing);
        let (stop, stopped) = oneshot::channel::<()>();
        let mut ca_pem = None;
        let server = if opts.tls {
            let ca = tls::Ca::new("ork-dev-ca").map_err(std::io::Error::other)?;
            let leaf = ca.leaf(&["localhost", "127.0.0.1"]).map_err(std::io::Error::other)?;
            ca_pem = Some(ca.pem());
            serve(tls::TlsListener::new(listener, tls::server_config(&leaf).map_err(std::io::Error::other)?)?, router, stopped, closing_tx)
        } else {
            serve(
                axum::serve::ListenerExt::tap_io(listener, |tcp| {
                    let _ = tcp.set_nodelay(true);
                }),
                router,
                stopped,
                closing_tx,
            )
        };
        let faker = {
            let store = store.clone();
            let every = opts.ready_after.max(Duration::from_millis(10));
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    store.settle();
                }
            })
        };
        Ok(DevCluster { addr, admin_token, store, access, ca_pem, stop: Some(stop), server, faker })
    }

    /// `https://127.0.0.1:<port>` (or `http://` without TLS).
    pub fn url(&self) -> String {
        let scheme = if self.ca_pem.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The CA that signed the serving certificate (PEM), with TLS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The store behind the API.
    pub fn store(&self) -> &Arc<MemCluster> {
        &self.store
    }

    /// Every authorization decision so far (RBAC mode), in order.
    pub fn audit(&self) -> Vec<authz::AuditEntry> {
        self.access.audit.lock().map(|a| a.entries()).unwrap_or_default()
    }

    /// The request log's kept entries (the newest [`requests::RequestLog::KEEP`] answered, and
    /// as many refusals), in order: one `audit.k8s.io/v1` Event per request.
    pub fn requests(&self) -> Vec<requests::RequestEvent> {
        self.access.requests.entries()
    }

    /// The kept entries from sequence number `seq` on (see [`DevCluster::request_mark`]).
    pub fn requests_since(&self, seq: u64) -> Vec<requests::RequestEvent> {
        self.access.requests.since(seq)
    }

    /// The sequence number the next request will get: a mark for [`DevCluster::requests_since`].
    pub fn request_mark(&self) -> u64 {
        self.access.requests.next_seq()
    }

    /// Requests so far by verb and resource, exact however many entries were dropped: cheap
    /// enough to read around a benchmark ([`requests::RequestCounts::since`]).
    pub fn request_counts(&self) -> requests::RequestCounts {
        self.access.requests.counts()
    }

    /// A kubeconfig for this cluster (context `ork-dev`, namespace `default`), trusting its CA,
    /// authenticating as the administrator. It holds a credential: write it with
    /// [`DevCluster::write_kubeconfig`].
    pub fn kubeconfig(&self) -> String {
        self.kubeconfig_with_token(&self.admin_token)
    }

    /// Writes the administrator's kubeconfig to `path`, readable by its owner only (0600), atomically
    /// (a temporary file in the same directory, then a rename), so no reader ever sees a
    /// partial file and no other user ever sees the token.
    pub fn write_kubeconfig(&self, path: &std::path::Path) -> std::io::Result<()> {
        crate::files::write_private(path, self.kubeconfig().as_bytes())
    }

    /// The same, authenticating with `token`.
    pub fn kubeconfig_with_token(&self, token: &str) -> String {
        let ca =
            self.ca_pem.as_ref().map(|p| format!("    certificate-authority-data: {}\n", katalog::template::base64_encode(p.as_bytes()))).unwrap_or_default();
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: ork-dev\n  cluster:\n{ca}    server: {}\ncontexts:\n- name: ork-dev\n  context:\n    cluster: ork-dev\n    user: ork-dev\n    namespace: default\ncurrent-context: ork-dev\nusers:\n- name: ork-dev\n  user:\n    token: {token}\n",
            self.url()
        )
    }

    /// A kube-rs client as the administrator (the default kubeconfig's token).
    pub async fn client(&self) -> Result<kube::Client, ClientError> {
        self.client_with_token(&self.admin_token).await
    }

    /// A kube-rs client authenticating with `token` (a user given in [`Options::tokens`]),
    /// trusting this cluster's CA.
    pub async fn client_with_token(&self, token: &str) -> Result<kube::Client, ClientError> {
        client::from_kubeconfig_yaml(&self.kubeconfig_with_token(token), "dev cluster").await
    }

    /// Stops serving and waits for the server task.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.faker.abort();
        let _ = (&mut self.server).await;
    }
}

impl Drop for DevCluster {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.faker.abort();
        self.server.abort();
    }
}
