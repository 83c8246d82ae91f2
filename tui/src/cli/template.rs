//! `ork template`: render the children (and optionally the status) a CR produces.

use super::{CliError, Outcome, default_file, output};
use katalog::diag::display_path;
use katalog::load::include::read_yaml_values;
use katalog::render::offline::{OfflineOptions, render_offline};
use katalog::time::{parse_rfc3339, unix_now};
use katalog::valid::load_valid;
use katalog::yaml::Limits;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Arguments of `ork template`.
#[derive(clap::Args)]
pub struct Args {
    /// Katalog or Komposer file (default: ./katalog.yaml, then ./komposer.yaml).
    #[arg(short = 'f', long = "file")]
    file: Option<PathBuf>,
    /// CR file, one or more documents (default: cr.yaml next to the Katalog).
    #[arg(long)]
    cr: Option<PathBuf>,
    /// CRD entry to render with (default: the entry whose apiTypes match the CR).
    #[arg(long)]
    crd: Option<String>,
    /// Observed children (multi-document YAML), visible to templates as `.children`.
    #[arg(long)]
    children: Option<PathBuf>,
    /// Also print the status the runtime would write.
    #[arg(long)]
    status: bool,
    /// Seed for random functions (default: derived from the CR, so output is reproducible).
    #[arg(long)]
    seed: Option<u64>,
    /// The time templates see, RFC 3339 (default: now).
    #[arg(long)]
    now: Option<String>,
    #[command(flatten)]
    load: services::runtime::command::LoadArgs,
    /// Print rendered Secrets' data and sensitive values in children as they are (by default a
    /// Secret's values show as `<redacted: N bytes>` and the CR's sensitive values as `[redacted]`).
    #[arg(long)]
    show_secrets: bool,
}

/// Reads every document of a YAML file as JSON: `error: <diagnostic>`, exit 2 when the file
/// cannot be read at all, 1 when it is not valid YAML or too large.
fn read_docs(path: &Path) -> Result<Vec<Value>, CliError> {
    read_yaml_values(path, Limits::default()).map_err(|d| if d.is_unreadable() { CliError::Usage(d.to_string()) } else { CliError::Invalid(d.to_string()) })
}

/// Renders every CR of the file; exit 1 when a deny rule failed.
pub fn run(args: Args) -> Outcome {
    let path = default_file(args.file);
    let valid = load_valid(&path, &super::registry::with_remote(args.load.options()))?;
    let cr_path = args.cr.unwrap_or_else(|| path.parent().unwrap_or(Path::new(".")).join("cr.yaml"));
    if !cr_path.exists() {
        return Err(CliError::Usage(format!("{} not found; pass the CR with --cr FILE", display_path(&cr_path))).into());
    }
    let crs = read_docs(&cr_path)?;
    if crs.is_empty() {
        return Err(CliError::Invalid(format!("{} contains no documents", display_path(&cr_path))).into());
    }
    let observed = match &args.children {
        Some(p) => read_docs(p)?,
        None => Vec::new(),
    };
    let now = match &args.now {
        Some(t) => parse_rfc3339(t).map_err(|e| CliError::Usage(format!("--now: {e}")))?,
        None => unix_now(),
    };
    let opts = OfflineOptions { crd: args.crd.as_deref(), seed: args.seed, now, show_secrets: args.show_secrets };
    let mut rendered = Vec::new();
    for i in 0..crs.len() {
        let cr = render_offline(&valid.katalog, &valid.templates, &crs, i, &observed, opts).map_err(|e| {
            let doc = format!("{} document {}", display_path(&cr_path), i + 1);
            let message = format!("{doc}: {e}");
            anyhow::Error::new(e).context(message)
        })?;
        output::template_findings(&cr);
        rendered.push(cr);
    }
    output::write_out(None, &crate::report::template::template_yaml(&rendered, args.status))?;
    Ok(if rendered.iter().any(|c| c.denied) { 1 } else { 0 })
}
