//! What `ork run --dev` does to the fresh dev cluster before the runtime starts: install the
//! Katalog's CRDs (generated from the entries, with `crdFile`'s schema where given), wait until
//! they are served, start the admission gateway when the Katalog declares a gateway feature (so
//! the local stack is the whole stack), and create the documents of every `crFiles` entry —
//! after the gateway, so they are admitted as on a real cluster.

use crate::cluster::{ApiResource, Cluster, ClusterError, KubeCluster};
use crate::gateway::{GatewayError, Running};
use katalog::diag::Diagnostic;
use katalog::model::Katalog;
use katalog::valid::Valid;
use serde::Serialize;
use serde_json::Value;
use std::path::PathBuf;
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
        let docs = katalog::load::include::read_yaml_file(file, katalog::yaml::Limits::default()).map_err(InstallError::Read)?;
        for doc in docs.iter().map(|d| d.root.to_json()).filter(|d| d.get("kind").is_some()) {
            let api_version = doc.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
            let kind = doc.get("kind").and_then(Value::as_str).unwrap_or_default();
            let (group, version) = katalog::kinds::split_api_version(api_version);
            let r = custom
                .iter()
                .find(|r| r.group == group && r.version == version && r.kind == kind)
                .cloned()
                .or_else(|| katalog::kinds::known(group, kind))
                .ok_or_else(|| InstallError::UnknownKind { file: file.clone(), kind: kind.to_string(), api_version: api_version.to_string() })?;
            let ns = r.namespaced.then(|| doc.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("default").to_string());
            if let (Some(ns), Some(namespaces)) = (&ns, katalog::kinds::known("", "Namespace")) {
                let doc = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
                create_or_keep(cluster, &namespaces, None, &doc).await?;
            }
            create_or_keep(cluster, &r, ns.as_deref(), &doc).await.map_err(|e| InstallError::Apply { file: file.clone(), source: Box::new(e) })?;
            applied += 1;
        }
    }
    Ok(applied)
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

async fn create_or_keep(cluster: &KubeCluster, r: &ApiResource, ns: Option<&str>, obj: &Value) -> Result<(), InstallError> {
    match cluster.create(r, ns, obj).await {
        Ok(_) | Err(ClusterError::AlreadyExists { .. }) => Ok(()),
        Err(source) => Err(InstallError::Create {
            kind: r.kind.clone(),
            name: obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string(),
            source,
        }),
    }
}

/// The plurals of the enabled entries, for the "try: kubectl get …" hint.
pub fn crd_plurals(katalog: &Katalog) -> Vec<String> {
    katalog.crds().iter().filter(|(_, e)| e.is_enabled()).filter_map(|(_, e)| katalog::kinds::api_identity(e).map(|i| i.plural)).collect()
}
