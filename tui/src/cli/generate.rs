//! `ork generate crd`, `ork generate bundle` and `ork generate install`.

use super::{CliError, Outcome, default_file, install_namespace, output};
use katalog::authoring::bundle::{bundle, shipped_katalog};
use katalog::authoring::generate::{GenerateError, crds, gateway_note, selection};
use katalog::authoring::install::{Images, install};
use katalog::authoring::rbac::{Derivation, derive};
use katalog::valid::{Valid, load_valid};
use services::runtime::command::LoadArgs;
use std::path::PathBuf;

/// What to generate.
#[derive(clap::Subcommand)]
pub enum What {
    /// apiextensions.k8s.io/v1 CustomResourceDefinitions for the Katalog's CRD entries.
    Crd(CrdArgs),
    /// The install bundle: Namespace, ServiceAccounts, derived least-privilege roles, and the Katalog ConfigMap.
    Bundle(BundleArgs),
    /// Everything one `kubectl apply -f` needs: the CRDs, the bundle, the runtime (and, when the
    /// Katalog declares a gateway feature, the gateway) Deployments, PodDisruptionBudgets and NetworkPolicies.
    Install(InstallArgs),
}

/// What `ork generate bundle` and `ork generate install` are for and where they write.
#[derive(clap::Args)]
pub struct InstallTarget {
    /// Katalog or Komposer file (default: ./katalog.yaml, then ./komposer.yaml).
    #[arg(short = 'f', long = "file")]
    file: Option<PathBuf>,
    /// Write to this file instead of stdout (written atomically).
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
    /// Install namespace (default: $ORK_NAMESPACE, else orkestra-system).
    #[arg(short = 'n', long = "namespace")]
    namespace: Option<String>,
}

/// Arguments of `ork generate install`.
#[derive(clap::Args)]
pub struct InstallArgs {
    #[command(flatten)]
    target: InstallTarget,
    /// The ork-runtime image (default: ghcr.io/orkspace/ork-runtime:<this version>).
    #[arg(long = "image-runtime", value_name = "REF")]
    image_runtime: Option<String>,
    /// The ork-gateway image (default: ghcr.io/orkspace/ork-gateway:<this version>).
    #[arg(long = "image-gateway", value_name = "REF")]
    image_gateway: Option<String>,
    #[command(flatten)]
    load: LoadArgs,
}

/// Arguments of `ork generate bundle`.
#[derive(clap::Args)]
pub struct BundleArgs {
    #[command(flatten)]
    target: InstallTarget,
    /// Components, comma-separated: runtime (run), gateway (gw), all.
    #[arg(long = "for", default_value = "all", value_name = "COMPONENTS")]
    for_: String,
    #[command(flatten)]
    load: LoadArgs,
}

/// Arguments of `ork generate crd`.
#[derive(clap::Args)]
pub struct CrdArgs {
    /// Katalog or Komposer file (default: ./katalog.yaml, then ./komposer.yaml).
    #[arg(short = 'f', long = "file")]
    file: Option<PathBuf>,
    /// Only this CRD entry (default: every enabled entry).
    #[arg(long)]
    crd: Option<String>,
    /// Install namespace, where the gateway that converts between versions runs (default:
    /// $ORK_NAMESPACE, else orkestra-system).
    #[arg(short = 'n', long = "namespace")]
    namespace: Option<String>,
    /// Write to this file instead of stdout (written atomically).
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
    #[command(flatten)]
    load: LoadArgs,
}

/// Runs the command.
pub fn run(what: What) -> Outcome {
    match what {
        What::Crd(args) => crd_cmd(args),
        What::Bundle(args) => bundle_cmd(args),
        What::Install(args) => install_cmd(args),
    }
}

fn bundle_cmd(args: BundleArgs) -> Outcome {
    // Both flags are checked before the Katalog is read; `--for` is reported first.
    let (sel, ns) = (selection(&args.for_), install_namespace(args.target.namespace));
    let sel = sel?;
    let ns = ns?;
    let (v, derived) = load_and_derive(args.target.file, args.load, &ns)?;
    if let Some(note) = gateway_note(&derived, sel)? {
        output::note_line(note);
    }
    let shipped = shipped_katalog(&v.katalog, &v.expanded).map_err(GenerateError::from)?;
    let text = bundle(&derived, v.katalog.name(), &shipped, sel);
    output::write_out(args.target.output.as_deref(), &text)?;
    Ok(0)
}

fn install_cmd(args: InstallArgs) -> Outcome {
    let mut images = Images::default();
    for (flag, given, slot) in [("--image-runtime", args.image_runtime, &mut images.runtime), ("--image-gateway", args.image_gateway, &mut images.gateway)] {
        if let Some(r) = given {
            *slot = image_ref(flag, &r)?;
        }
    }
    let ns = install_namespace(args.target.namespace)?;
    let (v, derived) = load_and_derive(args.target.file, args.load, &ns)?;
    let shipped = shipped_katalog(&v.katalog, &v.expanded).map_err(GenerateError::from)?;
    output::write_out(args.target.output.as_deref(), &install(&v.katalog, &derived, &shipped, &images)?)?;
    Ok(0)
}

/// The valid Katalog of `file` (or the default) and its permissions in `ns`, the derivation's
/// warnings printed: what `bundle` and `install` start from.
fn load_and_derive(file: Option<PathBuf>, load: LoadArgs, ns: &str) -> anyhow::Result<(Valid, Derivation)> {
    let v = load_valid(&default_file(file), &super::registry::with_remote(load.options()))?;
    let derived = derive(&v.katalog, ns).map_err(GenerateError::from)?;
    for w in &derived.warnings {
        output::warning_line(w);
    }
    Ok((v, derived))
}

/// An image reference as a container's `image:` takes it: no spaces or control characters, not
/// empty (what the registry then accepts is the kubelet's business).
fn image_ref(flag: &str, r: &str) -> Result<String, CliError> {
    let r = r.trim();
    if r.is_empty() || r.chars().any(|c| c.is_whitespace() || c.is_control()) || r.starts_with('-') {
        return Err(CliError::Usage(format!("{flag} {r:?}: expected an image reference like registry.example.com/ork-runtime:0.1.0")));
    }
    Ok(r.to_string())
}

fn crd_cmd(args: CrdArgs) -> Outcome {
    let path = default_file(args.file);
    let v = load_valid(&path, &super::registry::with_remote(args.load.options()))?;
    let text = crds(&v.katalog, args.crd.as_deref(), &install_namespace(args.namespace)?)?;
    output::write_out(args.output.as_deref(), &text)?;
    Ok(0)
}
