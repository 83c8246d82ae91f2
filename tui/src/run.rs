//! `ork run`: the runtime against the current kube context, or with `--dev` (the default when
//! there is no cluster configuration at all) against an embedded dev cluster that this command
//! starts, with the Katalog's CRDs installed and its `crFiles` applied.

use crate::validate::load_valid;
use serde_json::Value;
use services::cluster::{ApiResource, Cluster, ClusterError, KubeCluster};
use services::devcluster::{DevCluster, Options as DevOptions};
use services::runtime::Runtime;
use services::runtime::command::{RunArgs, serve};
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

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
pub fn run(args: Args) -> u8 {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dev = args.dev || (args.run.context.is_none() && !has_cluster_config());
    // A laptop: serve the endpoints on loopback only. Against a shared cluster the Lease keeps
    // this process from reconciling beside a deployed runtime; the dev cluster is ours alone.
    let opts = match args.run.options(IpAddr::V4(Ipv4Addr::LOCALHOST), !dev) {
        Ok(o) => o,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e}");
            return 2;
        }
    };
    // Invalid Katalogs stop here, with ork validate's diagnostics.
    let valid = match load_valid(&opts.katalog, &opts.load) {
        Ok(v) => v,
        Err(code) => return code,
    };
    args.run.init_logging();
    services::serve::panic::install_hook();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: cannot start the async runtime: {e}");
            return 2;
        }
    };
    rt.block_on(async move {
        if !dev {
            let client = match args.run.client().await {
                Ok(c) => c,
                Err(e) => {
                    let _ = writeln!(std::io::stderr(), "error: {e}\nhint: pass --dev to run against an embedded dev cluster");
                    return 2;
                }
            };
            return serve(client, opts).await;
        }
        let cluster = match DevCluster::start(DevOptions::default()).await {
            Ok(c) => c,
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "error: cannot start the dev cluster: {e}");
                return 2;
            }
        };
        let code = run_dev(&cluster, &valid.katalog, &args.kubeconfig, opts).await;
        cluster.stop().await;
        code
    })
}

async fn run_dev(dev: &DevCluster, katalog: &katalog::model::Katalog, kubeconfig: &std::path::Path, opts: services::runtime::Options) -> u8 {
    let mut err = std::io::stderr().lock();
    if let Err(e) = dev.write_kubeconfig(kubeconfig) {
        let _ = writeln!(err, "error: cannot write {}: {e}", kubeconfig.display());
        return 2;
    }
    let client = match dev.client().await {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "error: cannot connect to the dev cluster: {e}");
            return 2;
        }
    };
    let admin = KubeCluster::new(client.clone());
    let (crds, crs) = match install(&admin, katalog).await {
        Ok(n) => n,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return 1;
        }
    };
    drop(err);
    tracing::info!(
        url = %dev.url(),
        kubeconfig = %kubeconfig.display(),
        "dev cluster ready: {crds} CRD(s) installed, {crs} CR(s) applied; try: kubectl --kubeconfig {} get {}",
        kubeconfig.display(),
        crd_plurals(katalog).join(",")
    );
    let runtime = match Runtime::start(client, opts).await {
        Ok(r) => r,
        Err(e @ services::runtime::StartError::Katalog(_)) => {
            let _ = writeln!(std::io::stderr(), "error: {e}");
            return 1;
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e}");
            return 2;
        }
    };
    runtime.run_until_signal().await;
    0
}

fn crd_plurals(katalog: &katalog::model::Katalog) -> Vec<String> {
    katalog.crds().iter().filter(|(_, e)| e.is_enabled()).filter_map(|(_, e)| katalog::kinds::api_identity(e).map(|i| i.plural)).collect()
}

/// Installs the CRDs (generated from the entries, with crdFile's schema where given), waits
/// until they are served, and creates the documents of every `crFiles` entry. Returns the
/// counts.
async fn install(cluster: &KubeCluster, katalog: &katalog::model::Katalog) -> Result<(usize, usize), String> {
    let crd_resource = katalog::kinds::known("apiextensions.k8s.io", "CustomResourceDefinition").ok_or("the CRD resource is unknown")?;
    let mut custom: Vec<ApiResource> = Vec::new();
    let mut cr_files: Vec<PathBuf> = Vec::new();
    for (name, entry) in katalog.crds().iter().filter(|(_, e)| e.is_enabled()) {
        let crd = katalog::authoring::crd::generate(name, entry).map_err(|e| e.to_string())?;
        create_or_keep(cluster, &crd_resource, None, &crd).await?;
        let id = katalog::kinds::api_identity(entry).ok_or_else(|| format!("crd `{name}`: incomplete API identity"))?;
        custom.push(ApiResource { group: id.group, version: id.version, kind: id.kind, plural: id.plural, namespaced: id.namespaced });
        cr_files.extend(entry.cr_file_paths.iter().cloned());
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
            return Err(format!("the dev cluster does not serve {}.{} after its CRD was created", r.plural, r.group));
        }
    }
    let mut applied = 0;
    for file in &cr_files {
        let docs = katalog::load::include::read_yaml_file(file, katalog::yaml::Limits::default()).map_err(|d| d.to_string())?;
        for doc in docs.iter().map(|d| d.root.to_json()).filter(|d| d.get("kind").is_some()) {
            let api_version = doc.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
            let kind = doc.get("kind").and_then(Value::as_str).unwrap_or_default();
            let (group, version) = katalog::kinds::split_api_version(api_version);
            let r = custom
                .iter()
                .find(|r| r.group == group && r.version == version && r.kind == kind)
                .cloned()
                .or_else(|| katalog::kinds::known(group, kind))
                .ok_or_else(|| format!("{}: {kind} ({api_version}) is neither a CRD of this Katalog nor a known Kubernetes kind", file.display()))?;
            let ns = r.namespaced.then(|| doc.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("default").to_string());
            if let (Some(ns), Some(namespaces)) = (&ns, katalog::kinds::known("", "Namespace")) {
                let doc = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
                create_or_keep(cluster, &namespaces, None, &doc).await?;
            }
            create_or_keep(cluster, &r, ns.as_deref(), &doc).await.map_err(|e| format!("{}: {e}", file.display()))?;
            applied += 1;
        }
    }
    Ok((custom.len(), applied))
}

async fn create_or_keep(cluster: &KubeCluster, r: &ApiResource, ns: Option<&str>, obj: &Value) -> Result<(), String> {
    match cluster.create(r, ns, obj).await {
        Ok(_) | Err(ClusterError::AlreadyExists { .. }) => Ok(()),
        Err(e) => Err(format!("cannot create {} {}: {e}", r.kind, obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default())),
    }
}
