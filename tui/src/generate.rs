//! `ork generate crd`.

use crate::default_file;
use crate::validate::load_valid;
use katalog::authoring::crd::generate;
use katalog::yaml::emit;
use std::io::Write;
use std::path::PathBuf;

/// What to generate.
#[derive(clap::Subcommand)]
pub enum What {
    /// apiextensions.k8s.io/v1 CustomResourceDefinitions for the Katalog's CRD entries.
    Crd(CrdArgs),
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
}

/// Runs the command; returns the exit code.
pub fn run(what: What) -> u8 {
    let What::Crd(args) = what;
    let path = default_file(args.file);
    let (katalog, _) = match load_valid(&path) {
        Ok(v) => v,
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
    match &args.output {
        None => {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            0
        }
        Some(out) => match crate::init::write_atomic(out, text.as_bytes()) {
            Ok(()) => 0,
            Err(e) => {
                let _ = writeln!(err, "error: cannot write {}: {e}", out.display());
                2
            }
        },
    }
}
