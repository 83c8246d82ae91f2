//! The environment of one document's run: a scratch directory, the cluster (a fresh dev cluster,
//! or the borrowed current context), the kubeconfigs, the in-process gateway (when the Katalog
//! declares a gateway feature) and the in-process runtime; and how all of it is stopped again.

use super::checks::Shell;
use super::{ClusterMode, Event, Failure, Options, Reporter, diagnose, failures};
use crate::devcluster::{DevCluster, Options as DevOptions, authz::User};
use crate::runtime::{Options as RuntimeOptions, Runtime};
use katalog::diag::display_path;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A private temporary directory (it holds an administrator kubeconfig), removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, Failure> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!("ork-e2e-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
        let _ = std::fs::remove_dir_all(&p);
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(&p).map_err(|source| Failure::CreateDir { path: p.clone(), source })?;
        Ok(Scratch(p))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A moment of a run, for reporting only what went wrong after it.
pub(super) struct Mark {
    requests: u64,
    failures: std::collections::BTreeMap<String, u64>,
}

/// See the module documentation.
pub(super) struct Env {
    scratch: Scratch,
    dev: Option<DevCluster>,
    admin: Option<PathBuf>,
    pub shell: Shell,
    runtime: Option<Runtime>,
    gateway: Option<crate::gateway::Running>,
    mode: ClusterMode,
    token: String,
    /// The token the dev cluster accepts for the gateway's ServiceAccount.
    gateway_token: String,
    gateway_user: String,
    context: String,
    /// Files applied, in order (a borrowed cluster gets them deleted in reverse).
    applied: Vec<PathBuf>,
    crs: Vec<PathBuf>,
    pub crs_applied: bool,
    pub crs_deleted: bool,
}

impl Env {
    /// Checks for kubectl, then starts (or borrows) the cluster.
    pub async fn start(opts: &Options, rep: &dyn Reporter) -> Result<Env, Failure> {
        let scratch = Scratch::new()?;
        let runtime_user = User::service_account(&opts.namespace, katalog::install::RUNTIME_SERVICE_ACCOUNT);
        let shell = Shell { kubeconfig: None, runtime_kubeconfig: None, runtime_user: runtime_user.name.clone(), scratch: scratch.0.clone(), cache_dir: None };
        shell
            .kubectl(&["version", "--client"], Duration::from_secs(30))
            .await
            .map_err(|e| Failure::Check(format!("{e}; ork e2e drives the cluster with the real kubectl")))?;
        // The token the dev cluster accepts for the runtime's ServiceAccount: random per run.
        let token = crate::devcluster::random_token().map_err(Failure::Token)?;
        let gateway_token = crate::devcluster::random_token().map_err(Failure::Token)?;
        let gateway_user = User::service_account(&opts.namespace, katalog::install::GATEWAY_SERVICE_ACCOUNT);
        let mut env = Env {
            scratch,
            dev: None,
            admin: None,
            shell,
            runtime: None,
            gateway: None,
            mode: opts.cluster,
            token,
            gateway_token,
            gateway_user: gateway_user.name.clone(),
            context: String::new(),
            applied: Vec::new(),
            crs: Vec::new(),
            crs_applied: false,
            crs_deleted: false,
        };
        match opts.cluster {
            ClusterMode::Dev => {
                rep.event(Event::Step("Starting a dev cluster (RBAC enforced)...".into()));
                let tokens = vec![(env.token.clone(), runtime_user), (env.gateway_token.clone(), gateway_user)];
                let dev_opts = DevOptions { rbac: true, tokens, ready_after: opts.ready_after, ..DevOptions::default() };
                let dev = DevCluster::start(dev_opts).await.map_err(Failure::DevCluster)?;
                let admin = env.write("admin.kubeconfig", &dev.kubeconfig())?;
                env.shell.runtime_kubeconfig = Some(env.write("runtime.kubeconfig", &dev.kubeconfig_with_token(&env.token))?);
                env.shell.kubeconfig = Some(admin.clone());
                env.shell.cache_dir = Some(env.scratch.0.join("kube-cache"));
                env.context = dev.url();
                env.admin = Some(admin);
                env.dev = Some(dev);
                rep.event(Event::Done(format!("dev cluster at {}", env.context)));
            }
            ClusterMode::Current => {
                let out =
                    env.shell.kubectl_ok(&["config", "current-context"], Duration::from_secs(30)).await.map_err(|e| e.context("no current kube context"))?;
                env.context = out.stdout.trim().to_string();
                rep.event(Event::Note(format!(
                    "using the current context `{}` (borrowed: nothing is created; what ork installs is removed after)",
                    env.context
                )));
            }
        }
        Ok(env)
    }

    /// For reports: which cluster.
    pub fn describe(&self) -> String {
        match self.mode {
            ClusterMode::Dev => format!("dev cluster {}", self.context),
            ClusterMode::Current => format!("current context {}", self.context),
        }
    }

    /// The administrator kubeconfig (dev cluster).
    pub fn admin_kubeconfig(&self) -> Option<&Path> {
        self.admin.as_deref()
    }

    /// How often expectations are checked: the dev cluster answers in microseconds.
    pub fn poll(&self) -> Duration {
        match self.mode {
            ClusterMode::Dev => Duration::from_secs(1),
            ClusterMode::Current => Duration::from_secs(3),
        }
    }

    /// Writes a file into the scratch directory.
    pub fn write(&self, name: &str, text: &str) -> Result<PathBuf, Failure> {
        let p = self.scratch.0.join(name);
        crate::files::write_private(&p, text.as_bytes()).map_err(|source| Failure::Write { path: p.clone(), source })?;
        Ok(p)
    }

    /// `kubectl apply -f file`, remembered for the teardown of a borrowed cluster.
    pub async fn apply(&mut self, file: &Path, timeout: Duration) -> Result<(), Failure> {
        let f = file.to_string_lossy().into_owned();
        self.applied.push(file.to_path_buf());
        self.shell.kubectl_ok(&["apply", "-f", &f], timeout).await.map(|_| ())
    }

    fn file_args(verb: &str, files: &[PathBuf]) -> Vec<String> {
        let mut args = vec![verb.to_string()];
        for f in files {
            args.extend(["-f".to_string(), f.to_string_lossy().into_owned()]);
        }
        args
    }

    /// Applies every CR file (the first `cr-applied` expectation).
    pub async fn apply_crs(&mut self, crs: &[PathBuf]) -> Result<(), Failure> {
        self.crs = crs.to_vec();
        self.shell.kubectl_ok(&Self::file_args("apply", crs), Duration::from_secs(60)).await.map(|_| ())
    }

    /// Deletes every CR file's objects, without waiting (the first `cr-deleted` expectation):
    /// the expectation itself observes the deletion.
    pub async fn delete_crs(&mut self, crs: &[PathBuf]) -> Result<(), Failure> {
        let mut args = Self::file_args("delete", crs);
        args.extend(["--ignore-not-found".into(), "--wait=false".into()]);
        self.shell.kubectl_ok(&args, Duration::from_secs(60)).await.map(|_| ())
    }

    /// Starts the admission gateway in-process on the dev cluster, as the gateway's ServiceAccount
    /// (its token: every request is authorized by the bundle's gateway rules), reached directly
    /// on a loopback port, and waits until its TLS Secret and webhook configurations are in
    /// place. `Ok(false)`: not started, because a borrowed cluster's API server cannot call a
    /// webhook on this machine's loopback.
    pub async fn start_gateway(&mut self, katalog: &katalog::valid::Valid, opts: &Options, rep: &dyn Reporter) -> Result<bool, Failure> {
        let Some(dev) = &self.dev else { return Ok(false) };
        rep.event(Event::Step(format!("Starting the gateway in-process as {}...", self.gateway_user)));
        let client = dev.client_with_token(&self.gateway_token).await.map_err(Failure::GatewayClient)?;
        let cluster = std::sync::Arc::new(crate::cluster::KubeCluster::new(client));
        let gopts = crate::gateway::Options {
            // A deleted or edited configuration is back within a second or two.
            sync_interval: Duration::from_secs(1),
            identity: "ork-e2e".into(),
            ..crate::gateway::Options::dev(&opts.namespace)
        };
        let running = crate::gateway::start(cluster, std::sync::Arc::new(katalog.clone()), gopts).await.map_err(Failure::GatewayStart)?;
        let bound = Duration::from_secs(30);
        let ready = tokio::time::timeout(bound, running.ready()).await.is_ok();
        let (addr, last) = (running.webhook_addr(), running.stats().last_error());
        self.gateway = Some(running);
        if !ready {
            return Err(Failure::GatewayNotReady { secs: bound.as_secs(), last });
        }
        rep.event(Event::Done(format!("gateway ready: webhooks on https://{addr}")));
        Ok(true)
    }

    /// Starts the runtime in-process: on the dev cluster as the bundle's ServiceAccount (its
    /// token), on a borrowed cluster with the current context's credentials.
    pub async fn start_runtime(&mut self, katalog: &katalog::valid::Valid, opts: &Options, rep: &dyn Reporter) -> Result<(), Failure> {
        let client = match &self.dev {
            Some(dev) => {
                rep.event(Event::Step(format!("Starting the runtime in-process as {}...", self.shell.runtime_user)));
                dev.client_with_token(&self.token).await.map_err(Failure::RuntimeClient)?
            }
            None => {
                rep.event(Event::Step(format!("Starting the runtime in-process with the credentials of context `{}`...", self.context)));
                kube::Client::try_default().await.map_err(Failure::CurrentContext)?
            }
        };
        let ropts = RuntimeOptions {
            namespace: opts.namespace.clone(),
            http: None,
            // On the dev cluster the runtime elects itself on the Lease as a deployed one does,
            // which proves the bundle's Lease and Event rules too. A borrowed cluster may have a
            // deployed runtime holding the Lease: there the in-process one runs unelected.
            leader: (self.mode == ClusterMode::Dev).then(crate::serve::leader::Timings::default),
            identity: "ork-e2e".into(),
            drain: Duration::from_secs(5),
            ..RuntimeOptions::default()
        };
        let rt = Runtime::start(client, katalog.clone(), ropts).await.map_err(Failure::RuntimeStart)?;
        let mut started = rt.wait_started(Duration::from_secs(30)).await.map_err(Failure::from);
        if started.is_ok() && self.mode == ClusterMode::Dev {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while !rt.leading() && std::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if !rt.leading() {
                started = Err(Failure::NoLease);
            }
        }
        self.runtime = Some(rt);
        if let Err(e) = started {
            return Err(e.reported(self.runtime_report(None)));
        }
        rep.event(Event::Done(format!("runtime started ({})", display_path(&katalog.path))));
        Ok(())
    }

    /// Where the runtime and the request log are now (see [`Env::runtime_report`]).
    pub fn mark(&self) -> Mark {
        Mark {
            requests: self.dev.as_ref().map_or(0, DevCluster::request_mark),
            failures: self.runtime.as_ref().map(|r| failures(&r.summary())).unwrap_or_default(),
        }
    }

    /// Why things may be failing, from the runtime and the dev cluster's request log (the
    /// runtime's and the gateway's refused requests): since `mark`, or everything.
    pub fn runtime_report(&self, since: Option<&Mark>) -> Vec<String> {
        let summary = self.runtime.as_ref().map(Runtime::summary);
        let from = since.map_or(0, |m| m.requests);
        let denied: Vec<_> =
            self.dev.as_ref().map(|d| d.requests_since(from).into_iter().filter(|e| e.response_status.code == 403).collect()).unwrap_or_default();
        let mut out = diagnose(summary.as_ref(), since.map(|m| &m.failures), &denied, &self.shell.runtime_user);
        // A gateway refused by RBAC cannot keep its webhook configurations: admission checks
        // then fail for a reason the expectation alone would not show.
        if self.gateway.is_some() {
            out.extend(super::refusals(&denied, &self.gateway_user, "the gateway"));
        }
        out
    }

    /// Every request of the runtime the dev cluster refused during the whole run (RBAC mode),
    /// as 403 lines: the bundle is sufficient exactly when this is empty.
    pub fn runtime_refusals(&self) -> Vec<String> {
        self.dev.as_ref().map(|d| super::refusals(&d.requests(), &self.shell.runtime_user, "the runtime")).unwrap_or_default()
    }

    /// The same for the gateway's ServiceAccount (empty when no gateway ran).
    pub fn gateway_refusals(&self) -> Vec<String> {
        match (&self.dev, &self.gateway) {
            (Some(d), Some(_)) => super::refusals(&d.requests(), &self.gateway_user, "the gateway"),
            _ => Vec::new(),
        }
    }

    /// Stops the runtime, the gateway, then the dev cluster; a borrowed cluster gets the CRs (while the
    /// runtime still runs, so its finalizers are handled), then what was applied, deleted in
    /// reverse order.
    pub async fn teardown(mut self) {
        let borrowed = self.mode == ClusterMode::Current;
        if borrowed && self.crs_applied && !self.crs_deleted && self.runtime.is_some() {
            let mut args = Self::file_args("delete", &self.crs);
            args.extend(["--ignore-not-found".into(), "--timeout=30s".into()]);
            let _ = self.shell.kubectl(&args, Duration::from_secs(40)).await;
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown().await;
        }
        if let Some(gw) = self.gateway.take() {
            gw.shutdown().await;
        }
        if borrowed {
            for f in std::mem::take(&mut self.applied).iter().rev() {
                let f = f.to_string_lossy().into_owned();
                // Waits until the objects are gone (a namespace is emptied after its DELETE has
                // answered), so the next run on this cluster does not meet a terminating one.
                let _ = self.shell.kubectl(&["delete", "-f", &f, "--ignore-not-found", "--timeout=50s"], Duration::from_secs(60)).await;
            }
        }
        if let Some(dev) = self.dev.take() {
            dev.stop().await;
        }
    }
}
