//! `ork template`: render the children (and optionally the status) a CR produces.

use crate::default_file;
use crate::validate::load_valid;
use katalog::diag::display_path;
use katalog::load::include::read_yaml_file;
use katalog::model::katalog::Katalog;
use katalog::render::{Request, render};
use katalog::template::{Rng, codec_hash8, parse_rfc3339, unix_now};
use katalog::yaml::{Limits, emit};
use serde_json::{Value, json};
use std::io::Write;
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

fn fail(code: u8, msg: impl std::fmt::Display) -> u8 {
    let _ = writeln!(std::io::stderr(), "error: {msg}");
    code
}

/// Reads every document of a YAML file as JSON. `Err`: the exit code (2 when the file cannot
/// be read at all, 1 when it is not valid YAML or too large) and the message.
pub fn read_docs(path: &Path) -> Result<Vec<Value>, (u8, String)> {
    let docs = read_yaml_file(path, Limits::default()).map_err(|d| (if d.is_unreadable() { 2 } else { 1 }, d.to_string()))?;
    Ok(docs.into_iter().map(|d| d.root.to_json()).filter(|v| !v.is_null()).collect())
}

/// Runs the command; returns the exit code.
pub fn run(args: Args) -> u8 {
    let path = default_file(args.file);
    let (katalog, templates) = match load_valid(&path, &args.load.options()) {
        Ok(v) => (v.katalog, v.templates),
        Err(code) => return code,
    };
    let cr_path = args.cr.unwrap_or_else(|| path.parent().unwrap_or(Path::new(".")).join("cr.yaml"));
    if !cr_path.exists() {
        return fail(2, format!("{} not found; pass the CR with --cr FILE", display_path(&cr_path)));
    }
    let crs = match read_docs(&cr_path) {
        Ok(d) if d.is_empty() => return fail(1, format!("{} contains no documents", display_path(&cr_path))),
        Ok(d) => d,
        Err((code, e)) => return fail(code, e),
    };
    let observed = match &args.children {
        Some(p) => match read_docs(p) {
            Ok(d) => d,
            Err((code, e)) => return fail(code, e),
        },
        None => Vec::new(),
    };
    let now = match &args.now {
        Some(t) => match parse_rfc3339(t) {
            Ok(n) => n,
            Err(e) => return fail(2, format!("--now: {e}")),
        },
        None => unix_now(),
    };
    let mut out = String::new();
    let mut code = 0;
    for (i, cr) in crs.iter().enumerate() {
        let doc = format!("{} document {}", display_path(&cr_path), i + 1);
        let crd = match pick_crd(&katalog, cr, args.crd.as_deref()) {
            Ok(c) => c,
            Err(e) => return fail(1, format!("{doc}: {e}")),
        };
        let cr = offline_cr(cr);
        let seed = args.seed.unwrap_or_else(|| u64::from_str_radix(&codec_hash8(&identity(&cr)), 16).unwrap_or(0));
        // `unique` rules compare with the other CRs of the same kind in the file.
        let same_kind = |c: &Value| c.get("kind") == cr.get("kind") && c.get("apiVersion") == cr.get("apiVersion");
        let others: Vec<Value> = crs.iter().enumerate().filter(|(j, c)| *j != i && same_kind(c)).map(|(_, c)| c.clone()).collect();
        let req = Request { crd: &crd, cr: &cr, observed: &observed, others: &others, now, rng: Rng::Seeded(seed) };
        let rendered = match render(&katalog, &templates, req) {
            Ok(r) => r,
            Err(e) => return fail(1, format!("{doc}: {e}")),
        };
        let mut err = std::io::stderr().lock();
        for op in &rendered.mutations {
            let value = if templates.sensitivity(&crd).pointer(&op.path) {
                katalog::sensitive::REDACTED_VALUE.to_string()
            } else {
                rendered.redactor.scrub(&op.value.to_string())
            };
            let _ = writeln!(err, "note: {}: mutation set {} = {value}", identity(&cr), op.path);
        }
        for v in &rendered.violations {
            let level = if v.is_deny() { "error" } else { "warning" };
            let _ = writeln!(err, "{level}: {}: {} rule on {}: {} {}", identity(&cr), v.action, v.field, v.message, v.got());
        }
        for w in &rendered.warnings {
            let _ = writeln!(err, "warning: {}: {w}", identity(&cr));
        }
        if rendered.denied() {
            code = 1;
        }
        for child in &rendered.children {
            out.push_str(&format!("---\n# Source: {crd}/{}\n", child.source));
            if args.show_secrets {
                out.push_str(&emit(&child.manifest));
            } else {
                let mut shown = child.manifest.clone();
                katalog::redact::redact_secret_data(&mut shown);
                rendered.redactor.scrub_json(&mut shown);
                out.push_str(&emit(&shown));
            }
        }
        if args.status {
            out.push_str(&format!("---\n# Status of {}\n", identity(&cr)));
            out.push_str(&emit(&json!({"status": rendered.status})));
        }
    }
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    code
}

/// `Kind namespace/name`.
fn identity(cr: &Value) -> String {
    let s = |p: &str| cr.pointer(p).and_then(Value::as_str).unwrap_or_default().to_string();
    let ns = s("/metadata/namespace");
    let name = s("/metadata/name");
    if ns.is_empty() { format!("{} {name}", s("/kind")) } else { format!("{} {ns}/{name}", s("/kind")) }
}

/// A CR read from a file has not been stored: give it the uid and generation the API server
/// would, deterministically (derived from its identity), so owner references are complete.
fn offline_cr(cr: &Value) -> Value {
    let mut cr = cr.clone();
    let id = identity(&cr);
    if let Some(meta) = cr.get_mut("metadata").and_then(Value::as_object_mut) {
        if !meta.contains_key("uid") {
            let h = katalog::template::hex(&katalog::template::sha256(id.as_bytes()));
            let uid = format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32]);
            meta.insert("uid".into(), json!(uid));
        }
        meta.entry("generation").or_insert(json!(1));
    }
    cr
}

/// The CRD entry for a CR: `--crd`, else the entry whose apiTypes group/version/kind match.
pub fn pick_crd(katalog: &Katalog, cr: &Value, wanted: Option<&str>) -> Result<String, String> {
    let known: Vec<String> = katalog.crds().iter().map(|(k, _)| k.value.clone()).collect();
    if let Some(w) = wanted {
        return if known.iter().any(|k| k == w) { Ok(w.to_string()) } else { Err(format!("--crd {w}: no such CRD entry (known: {})", known.join(", "))) };
    }
    let kind = cr.get("kind").and_then(Value::as_str).unwrap_or_default();
    let api_version = cr.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    if kind.is_empty() || api_version.is_empty() {
        return Err("the CR has no apiVersion/kind".into());
    }
    let matches: Vec<String> = katalog
        .crds()
        .iter()
        .filter(|(_, e)| katalog::kinds::api_identity(e).is_some_and(|id| id.kind == kind && format!("{}/{}", id.group, id.version) == api_version))
        .map(|(k, _)| k.value.clone())
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(format!("no CRD entry serves {api_version} {kind} (entries: {}); check apiVersion/kind or pass --crd", known.join(", "))),
        _ => Err(format!("several CRD entries serve {api_version} {kind} ({}); pass --crd", matches.join(", "))),
    }
}
