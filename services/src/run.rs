//! What `ork run --dev` does to the fresh dev cluster before the runtime starts: install the
//! Katalog's CRDs (generated from the entries, with `crdFile`'s schema where given), wait until
//! they are served, start the admission gateway when the Katalog declares a gateway feature (so
//! the local stack is the whole stack), and create the documents of every `crFiles` entry —
//! after the gateway, so they are admitted as on a real cluster.
//!
//! [`DevStack::start`] does all of it and starts the runtime: `ork run --dev` and the
//! workbench's Live view both start their local stack with it, and stop it with
//! [`DevStack::stop`].

use crate::cluster::{ApiResource, Cluster, ClusterError, KubeCluster, Patch};
use crate::devcluster::DevCluster;
use crate::gateway::{GatewayError, Running};
use crate::runtime::{Runtime, StartError};
use crate::serve::client::ClientError;
use katalog::diag::Diagnostic;
use katalog::model::Katalog;
use katalog::valid::Valid;
use serde::Serialize;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// What [`install`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Installed {
    /// CRDs installed (or already there).
    pub crds: usize,
    /// CR documents applied (or already there).
    pub crs: usize,
}

/// Why [`install`] stopped.
#[derive(Debug, thiserror::Error)]
// Variant fields are the message's parts and its `#[source]` cause.
#[allow(missing_docs)]
pub enum InstallError {
    /// The built-in CustomResourceDefinition resource is unknown (a broken build).
    #[error("the CRD resource is unknown")]
    NoCrdResource,
    /// A CRD could not be generated from its entry.
    #[error(transparent)]
    Generate(#[from] katalog::authoring::crd::CrdError),
    /// An entry has no complete API identity.
    #[error("crd `{0}`: incomplete API identity")]
    Identity(String),
    /// The cluster does not serve a CRD's resource after it was created.
    #[error("the dev cluster does not serve {plural}.{group} after its CRD was created")]
    NotServed {
        /// The resource's plural.
        plural: String,
        /// Its group.
        group: String,
    },
    /// A `crFiles` entry cannot be read or parsed.
    #[error("{0}")]
    Read(Diagnostic),
    /// A document of a `crFiles` entry is of a kind neither the Katalog nor Kubernetes defines.
    #[error("{}: {kind} ({api_version}) is neither a CRD of this Katalog nor a known Kubernetes kind", file.display())]
    UnknownKind {
        /// The file.
        file: PathBuf,
        /// The document's kind.
        kind: String,
        /// Its apiVersion.
        api_version: String,
    },
    /// The cluster refused an object.
    #[error("cannot create {kind} {name}: {source}")]
    Create {
        /// The object's kind.
        kind: String,
        /// Its namespace (namespaced kinds).
        namespace: Option<String>,
        /// Its name.
        name: String,
        /// The API error.
        #[source]
        source: ClusterError,
    },
    /// The admission gateway did not start (a port, TLS).
    #[error("the gateway did not start: {0}")]
    Gateway(#[source] GatewayError),
    /// The gateway did not register its webhooks in time.
    #[error("the gateway was not ready within {secs}s (its TLS Secret and webhook configurations are not in place){}", last.as_ref().map(|e| format!(": {e}")).unwrap_or_default())]
    GatewayNotReady {
        /// Seconds waited.
        secs: u64,
        /// The housekeeper's last error.
        last: Option<String>,
    },
    /// The cluster refused a document of a `crFiles` entry.
    #[error("{}: {source}", file.display())]
    Apply {
        /// The file.
        file: PathBuf,
        #[source]
        source: Box<InstallError>,
    },
}

/// Installs the CRDs of the enabled entries, waits until they are served, and creates the
/// documents of every `crFiles` entry (and the namespaces they name). Objects that exist are
/// kept as they are. ([`install_crds`] then [`apply_cr_files`].)
pub async fn install(cluster: &KubeCluster, katalog: &Katalog) -> Result<Installed, InstallError> {
    let custom = install_crds(cluster, katalog).await?;
    let crs = apply_cr_files(cluster, katalog, &custom).await?;
    Ok(Installed { crds: custom.len(), crs })
}

/// Installs the CRDs of the enabled entries and waits until they are served; returns their
/// resources (for [`apply_cr_files`]).
pub async fn install_crds(cluster: &KubeCluster, katalog: &Katalog) -> Result<Vec<ApiResource>, InstallError> {
    let crd_resource = katalog::kinds::known("apiextensions.k8s.io", "CustomResourceDefinition").ok_or(InstallError::NoCrdResource)?;
    let mut custom: Vec<ApiResource> = Vec::new();
    for (name, entry) in katalog.crds().iter().filter(|(_, e)| e.is_enabled()) {
        let crd = katalog::authoring::crd::generate(name, entry, katalog::install::DEFAULT_NAMESPACE).map_err(InstallError::Generate)?;
        create_or_keep(cluster, &crd_resource, None, &crd).await?;
        let id = katalog::kinds::api_identity(entry).ok_or_else(|| InstallError::Identity(name.to_string()))?;
        custom.push(id.resource());
    }
    for r in &custom {
        let mut served = false;
        for _ in 0..100 {
            if cluster.list(r, None, &Default::default()).await.is_ok() {
                served = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if !served {
            return Err(InstallError::NotServed { plural: r.plural.clone(), group: r.group.clone() });
        }
    }
    Ok(custom)
}

/// Creates the documents of every `crFiles` entry of the enabled entries (and the namespaces
/// they name); `custom` are the Katalog's served resources ([`install_crds`]). Returns how many
/// documents were applied (or already there).
pub async fn apply_cr_files(cluster: &KubeCluster, katalog: &Katalog, custom: &[ApiResource]) -> Result<usize, InstallError> {
    let cr_files: Vec<PathBuf> = katalog.crds().iter().filter(|(_, e)| e.is_enabled()).flat_map(|(_, e)| e.cr_file_paths.iter().cloned()).collect();
    let mut applied = 0;
    for file in &cr_files {
        applied += apply_file(cluster, file, custom, Existing::Keep).await?.len();
    }
    Ok(applied)
}

/// What [`apply_file`] does with an object that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Keep it as it is (`ork run --dev`'s crFiles: a restart does not undo changes).
    Keep,
    /// Bring it to the file's content (server-side apply, field manager `ork`): the
    /// workbench's Live view applying an edited CR file.
    Update,
}

/// One document [`apply_file`] applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedDoc {
    /// Its kind.
    pub kind: String,
    /// Its namespace (namespaced kinds).
    pub namespace: Option<String>,
    /// Its name.
    pub name: String,
}

/// Creates the documents of one YAML file (and the namespaces they name); `custom` are the
/// Katalog's served resources. Stops at the first refusal.
pub async fn apply_file(cluster: &KubeCluster, file: &Path, custom: &[ApiResource], existing: Existing) -> Result<Vec<AppliedDoc>, InstallError> {
    let docs = katalog::load::include::read_yaml_file(file, katalog::yaml::Limits::default()).map_err(InstallError::Read)?;
    let mut applied = Vec::new();
    for doc in docs.iter().map(|d| d.root.to_json()).filter(|d| d.get("kind").is_some()) {
        let api_version = doc.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
        let kind = doc.get("kind").and_then(Value::as_str).unwrap_or_default();
        let (group, version) = katalog::kinds::split_api_version(api_version);
        let r = custom
            .iter()
            .find(|r| r.group == group && r.version == version && r.kind == kind)
            .cloned()
            .or_else(|| katalog::kinds::known(group, kind))
            .ok_or_else(|| InstallError::UnknownKind { file: file.to_path_buf(), kind: kind.to_string(), api_version: api_version.to_string() })?;
        let ns = r.namespaced.then(|| doc.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("default").to_string());
        if let (Some(ns), Some(namespaces)) = (&ns, katalog::kinds::known("", "Namespace")) {
            let doc = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
            create_or_keep(cluster, &namespaces, None, &doc).await?;
        }
        let result = match existing {
            Existing::Keep => create_or_keep(cluster, &r, ns.as_deref(), &doc).await,
            Existing::Update => create_or_update(cluster, &r, ns.as_deref(), &doc).await,
        };
        result.map_err(|e| InstallError::Apply { file: file.to_path_buf(), source: Box::new(e) })?;
        let name = doc.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
        applied.push(AppliedDoc { kind: kind.to_string(), namespace: ns, name });
    }
    Ok(applied)
}

/// The resources the enabled entries of the Katalog serve (their CRDs').
pub fn served_resources(katalog: &Katalog) -> Vec<ApiResource> {
    katalog.crds().iter().filter(|(_, e)| e.is_enabled()).filter_map(|(_, e)| katalog::kinds::api_identity(e)).map(|i| i.resource()).collect()
}

/// Whether any cluster configuration exists: in-cluster, `$KUBECONFIG`, `~/.kube/config`.
pub fn has_cluster_config() -> bool {
    if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
        return true;
    }
    if let Some(v) = std::env::var_os("KUBECONFIG") {
        return std::env::split_paths(&v).any(|p| p.exists());
    }
    std::env::var_os("HOME").is_some_and(|h| PathBuf::from(h).join(".kube/config").exists())
}

/// How long [`start_gateway`] waits for the gateway's first housekeeping pass.
const GATEWAY_READY: Duration = Duration::from_secs(30);

/// Starts the admission gateway beside the runtime when the Katalog declares a gateway feature
/// (`None` otherwise): on loopback, reached by the dev cluster directly (`Endpoint::Direct`),
/// with `namespace` (created if missing) holding its TLS Secret, and waits (at most 30 s) until
/// its webhook configurations are registered. The caller stops it with `Running::shutdown`.
pub async fn start_gateway(cluster: Arc<KubeCluster>, valid: &Valid, namespace: &str) -> Result<Option<Running>, InstallError> {
    if !katalog::install::gateway_plan(&valid.katalog).any() {
        return Ok(None);
    }
    if let Some(namespaces) = katalog::kinds::known("", "Namespace") {
        let doc = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}});
        create_or_keep(&cluster, &namespaces, None, &doc).await?;
    }
    let opts = crate::gateway::Options { identity: "ork-run-dev".into(), ..crate::gateway::Options::dev(namespace) };
    let running = crate::gateway::start(cluster, Arc::new(valid.clone()), opts).await.map_err(InstallError::Gateway)?;
    if tokio::time::timeout(GATEWAY_READY, running.ready()).await.is_err() {
        let last = running.stats().last_error();
        running.shutdown().await;
        return Err(InstallError::GatewayNotReady { secs: GATEWAY_READY.as_secs(), last });
    }
    Ok(Some(running))
}

fn create_error(r: &ApiResource, ns: Option<&str>, obj: &Value, source: ClusterError) -> InstallError {
    InstallError::Create {
        kind: r.kind.clone(),
        namespace: ns.map(str::to_string),
        name: obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string(),
        source,
    }
}

async fn create_or_keep(cluster: &KubeCluster, r: &ApiResource, ns: Option<&str>, obj: &Value) -> Result<(), InstallError> {
    match cluster.create(r, ns, obj).await {
        Ok(_) | Err(ClusterError::AlreadyExists { .. }) => Ok(()),
        Err(source) => Err(create_error(r, ns, obj, source)),
    }
}

async fn create_or_update(cluster: &KubeCluster, r: &ApiResource, ns: Option<&str>, obj: &Value) -> Result<(), InstallError> {
    match cluster.create(r, ns, obj).await {
        Ok(_) => Ok(()),
        Err(ClusterError::AlreadyExists { name, .. }) => {
            let patch = Patch::Apply { field_manager: "ork".to_string(), config: obj.clone(), force: true };
            cluster.patch(r, ns, &name, &patch).await.map(|_| ()).map_err(|source| create_error(r, ns, obj, source))
        }
        Err(source) => Err(create_error(r, ns, obj, source)),
    }
}

/// The plurals of the enabled entries, for the "try: kubectl get …" hint.
pub fn crd_plurals(katalog: &Katalog) -> Vec<String> {
    katalog.crds().iter().filter(|(_, e)| e.is_enabled()).filter_map(|(_, e)| katalog::kinds::api_identity(e).map(|i| i.plural)).collect()
}

/// How [`DevStack::start`] runs.
#[derive(Debug, Clone)]
pub struct DevStackOptions {
    /// Where the dev cluster's kubeconfig is written (for kubectl).
    pub kubeconfig: PathBuf,
    /// The dev cluster.
    pub cluster: crate::devcluster::Options,
    /// The runtime (its HTTP address: where `/katalog` is served).
    pub runtime: crate::runtime::Options,
}

/// Why [`DevStack::start`] failed (everything it had started is stopped again).
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    /// The dev cluster did not start.
    #[error("cannot start the dev cluster: {0}")]
    Cluster(#[source] std::io::Error),
    /// The kubeconfig could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Kubeconfig {
        /// Where.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// No client for the dev cluster.
    #[error("cannot connect to the dev cluster: {0}")]
    Client(#[source] ClientError),
    /// The CRDs, the gateway or the crFiles.
    #[error(transparent)]
    Install(#[from] InstallError),
    /// The runtime.
    #[error(transparent)]
    Runtime(#[from] StartError),
}

/// The local stack of `ork run --dev` (and of the workbench's Live view): the embedded dev
/// cluster with the Katalog's CRDs installed, the admission gateway beside it when the Katalog
/// declares a gateway feature, the `crFiles` applied, and the runtime reconciling.
pub struct DevStack {
    cluster: DevCluster,
    admin: Arc<KubeCluster>,
    custom: Vec<ApiResource>,
    gateway: Option<Running>,
    runtime: Runtime,
    kubeconfig: PathBuf,
    crs: usize,
}

impl std::fmt::Debug for DevStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevStack").field("url", &self.cluster.url()).field("kubeconfig", &self.kubeconfig).finish_non_exhaustive()
    }
}

impl DevStack {
    /// Starts the dev cluster, writes its kubeconfig, installs the CRDs, starts the gateway
    /// (when declared), applies the crFiles (through the gateway) and starts the runtime, on
    /// the current tokio runtime. On failure, what was started is stopped.
    pub async fn start(valid: Valid, opts: DevStackOptions) -> Result<DevStack, DevError> {
        let cluster = DevCluster::start(opts.cluster).await.map_err(DevError::Cluster)?;
        match Self::start_on(&cluster, valid, &opts.kubeconfig, opts.runtime).await {
            Ok((admin, custom, gateway, runtime, crs)) => Ok(DevStack { cluster, admin, custom, gateway, runtime, kubeconfig: opts.kubeconfig, crs }),
            Err(e) => {
                cluster.stop().await;
                Err(e)
            }
        }
    }

    #[allow(clippy::type_complexity)]
    async fn start_on(
        dev: &DevCluster,
        valid: Valid,
        kubeconfig: &Path,
        opts: crate::runtime::Options,
    ) -> Result<(Arc<KubeCluster>, Vec<ApiResource>, Option<Running>, Runtime, usize), DevError> {
        dev.write_kubeconfig(kubeconfig).map_err(|source| DevError::Kubeconfig { path: kubeconfig.to_path_buf(), source })?;
        let client = dev.client().await.map_err(DevError::Client)?;
        let admin = Arc::new(KubeCluster::new(client.clone()));
        let custom = install_crds(&admin, &valid.katalog).await?;
        // The gateway before the crFiles: they are admitted (or refused) as on a real cluster.
        let gateway = start_gateway(admin.clone(), &valid, &opts.namespace).await?;
        let started = async {
            let crs = apply_cr_files(&admin, &valid.katalog, &custom).await?;
            let runtime = Runtime::start(client, valid, opts).await?;
            Ok::<_, DevError>((crs, runtime))
        }
        .await;
        match started {
            Ok((crs, runtime)) => Ok((admin, custom, gateway, runtime, crs)),
            Err(e) => {
                if let Some(gw) = gateway {
                    gw.shutdown().await;
                }
                Err(e)
            }
        }
    }

    /// The dev cluster's API URL.
    pub fn url(&self) -> String {
        self.cluster.url()
    }

    /// The kubeconfig written.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// A client of the dev cluster as its administrator.
    pub fn cluster(&self) -> &Arc<KubeCluster> {
        &self.admin
    }

    /// The Katalog's resources, served.
    pub fn custom(&self) -> &[ApiResource] {
        &self.custom
    }

    /// How many crFiles documents were applied (or already there).
    pub fn crs_applied(&self) -> usize {
        self.crs
    }

    /// The gateway, when the Katalog declares a gateway feature.
    pub fn gateway(&self) -> Option<&Running> {
        self.gateway.as_ref()
    }

    /// The runtime.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Where the runtime serves `/katalog` (and its probes), when it serves HTTP.
    pub fn runtime_addr(&self) -> Option<SocketAddr> {
        self.runtime.http_addr()
    }

    /// Stops the runtime (draining), then the gateway, then the dev cluster.
    pub async fn stop(self) {
        self.runtime.shutdown().await;
        if let Some(gw) = self.gateway {
            gw.shutdown().await;
        }
        self.cluster.stop().await;
    }
}
