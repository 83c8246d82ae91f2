//! `ork generate crd` and `ork generate bundle`.

use crate::default_file;
use crate::init::write_out;
use crate::validate::load_valid;
use katalog::authoring::bundle::{Selection, bundle, shipped_katalog};
use katalog::authoring::crd::generate;
use katalog::authoring::rbac::derive;
use katalog::yaml::emit;
use services::runtime::command::LoadArgs;
use std::io::Write;
use std::path::PathBuf;

/// What to generate.
#[derive(clap::Subcommand)]
pub enum What {
    /// apiextensions.k8s.io/v1 CustomResourceDefinitions for the Katalog's CRD entries.
    Crd(CrdArgs),
    /// The install bundle: Namespace, ServiceAccounts, derived least-privilege roles, and the Katalog ConfigMap.
    Bundle(BundleArgs),
}

/// Arguments of `ork generate bundle`.
#[derive(clap::Args)]
pub struct BundleArgs {
    /// Katalog or Komposer file (default: ./katalog.yaml, then ./komposer.yaml).
    #[arg(short = 'f', long = "file")]
    file: Option<PathBuf>,
    /// Write to this file instead of stdout (written atomically).
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
    /// Install namespace (default: $ORK_NAMESPACE, else orkestra-system).
    #[arg(short = 'n', long = "namespace")]
    namespace: Option<String>,
    /// Components, comma-separated: runtime (run), gateway (gw), all.
    #[arg(long = "for", default_value = "all", value_name = "COMPONENTS")]
    for_: String,
    #[command(flatten)]
    load: LoadArgs,
}

/// The install namespace: the flag, else `ORK_NAMESPACE`, else the default; checked to be a
/// valid namespace name.
pub fn install_namespace(flag: Option<String>) -> Result<String, String> {
    let ns = flag.or_else(|| std::env::var("ORK_NAMESPACE").ok().filter(|s| !s.is_empty())).unwrap_or_else(|| katalog::install::DEFAULT_NAMESPACE.to_string());
    if katalog::model::katalog::is_rfc1123_label(&ns) {
        Ok(ns)
    } else {
        Err(format!("namespace {ns:?} is not a valid Kubernetes namespace name (lowercase letters, digits and '-', at most 63)"))
    }
}

fn selection(spec: &str) -> Result<Selection, String> {
    let mut sel = Selection { runtime: false, gateway: false };
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part {
            "runtime" | "run" => sel.runtime = true,
            "gateway" | "gw" => sel.gateway = true,
            "all" => sel = Selection { runtime: true, gateway: true },
            other => return Err(format!("--for {other}: unknown component (valid: runtime, run, gateway, gw, all)")),
        }
    }
    if !sel.runtime && !sel.gateway {
        return Err("--for selects no component (valid: runtime, run, gateway, gw, all)".to_string());
    }
    Ok(sel)
}

fn bundle_cmd(args: BundleArgs) -> u8 {
    let mut err = std::io::stderr().lock();
    let (sel, ns) = match (selection(&args.for_), install_namespace(args.namespace)) {
        (Ok(s), Ok(n)) => (s, n),
        (Err(e), _) | (_, Err(e)) => {
            let _ = writeln!(err, "error: {e}");
            return 2;
        }
    };
    let path = default_file(args.file);
    let v = match load_valid(&path, &args.load.options()) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let derived = match derive(&v.katalog, &ns) {
        Ok(d) => d,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return 1;
        }
    };
    for w in &derived.warnings {
        let _ = writeln!(err, "warning: {w}");
    }
    if sel.gateway && derived.gateway.is_empty() {
        if !sel.runtime {
            let _ = writeln!(
                err,
                "error: --for gateway: this Katalog declares no gateway feature (admission webhooks, deletion or namespace protection, conversion), so the gateway needs no permissions"
            );
            return 1;
        }
        let _ = writeln!(err, "note: no gateway feature is declared: the bundle has no gateway ServiceAccount or roles");
    }
    let shipped = match shipped_katalog(&v.katalog, &v.expanded) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return 1;
        }
    };
    let text = bundle(&derived, v.katalog.name(), &shipped, sel);
    write_out(args.output.as_deref(), &text)
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
    /// Write to this file instead of stdout (written atomically).
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
    #[command(flatten)]
    load: LoadArgs,
}

/// Runs the command; returns the exit code.
pub fn run(what: What) -> u8 {
    match what {
        What::Crd(args) => crd_cmd(args),
        What::Bundle(args) => bundle_cmd(args),
    }
}

fn crd_cmd(args: CrdArgs) -> u8 {
    let path = default_file(args.file);
    let katalog = match load_valid(&path, &args.load.options()) {
        Ok(v) => v.katalog,
        Err(code) => return code,
    };
    let mut err = std::io::stderr().lock();
    let mut entries: Vec<_> = katalog.crds().iter().filter(|(_, e)| e.is_enabled()).collect();
    if let Some(want) = &args.crd {
        entries.retain(|(k, _)| k.value == *want);
        if entries.is_empty() {
            let known: Vec<&str> = katalog.crds().iter().map(|(k, _)| k.as_str()).collect();
            let _ = writeln!(err, "error: --crd {want}: no such enabled CRD entry (known: {})", known.join(", "));
            return 1;
        }
    }
    let mut docs = Vec::new();
    for (name, entry) in entries {
        match generate(name, entry) {
            Ok(crd) => docs.push(crd),
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                return 1;
            }
        }
    }
    docs.sort_by_key(|d| d.pointer("/metadata/name").and_then(|v| v.as_str()).unwrap_or_default().to_string());
    let text: String = docs.iter().map(|d| format!("---\n{}", emit(d))).collect();
    write_out(args.output.as_deref(), &text)
}
