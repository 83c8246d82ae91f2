//! `ork validate`.

use super::{Outcome, Output, default_file, install_namespace, output};
use katalog::authoring::rbac::derive;
use katalog::load::load_file;
use katalog::validate::validate;
use services::runtime::command::LoadArgs;
use std::path::PathBuf;

/// Arguments of `ork validate`.
#[derive(clap::Args)]
pub struct Args {
    /// Katalog, Komposer or Motif file (default: ./katalog.yaml, then ./komposer.yaml).
    #[arg(short = 'f', long = "file")]
    file: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
    /// Also show, per CRD, the permissions it needs (with the reason for each) and the profiles
    /// it uses, then the runtime and gateway totals: the review step before `generate bundle`.
    #[arg(long)]
    full: bool,
    /// Install namespace for --full (default: $ORK_NAMESPACE, else orkestra-system).
    #[arg(short = 'n', long = "namespace", requires = "full")]
    namespace: Option<String>,
    #[command(flatten)]
    load: LoadArgs,
    #[command(flatten)]
    imports: super::registry::ImportArgs,
}

/// Validates; exit 0 when valid, 1 when not, 2 when the file cannot be read.
pub fn run(args: Args) -> Outcome {
    let ns = if args.full { install_namespace(args.namespace)? } else { String::new() };
    let path = default_file(args.file);
    let loaded = load_file(&path, &args.imports.attach(args.load.options()));
    let report = validate(&loaded);
    let mut code = if loaded.unreadable() {
        2
    } else if report.is_valid() {
        0
    } else {
        1
    };
    let mut derived = None;
    if args.full
        && code == 0
        && let Some(k) = &loaded.katalog
    {
        match derive(k, &ns) {
            Ok(d) => {
                if args.output == Output::Text {
                    for w in &d.warnings {
                        output::warning_line(w);
                    }
                }
                derived = Some(d);
            }
            Err(e) => {
                output::error_line(e);
                code = 1;
            }
        }
    }
    output::validate_report(args.output, &path, &report, derived.as_ref());
    Ok(code)
}
