//! `ork diff A B` and `ork plan -f katalog.yaml --bundle deployed.yaml`.

use crate::validate::paint;
use crate::{default_file, use_color};
use katalog::authoring::bundle::shipped_json;
use katalog::authoring::diff::{FieldChange, Grant, Plan, normalize, plan, read_bundle, read_docs, unified};
use katalog::authoring::rbac::{Scope, Verb, derive};
use katalog::diag::display_path;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Arguments of `ork diff`.
#[derive(clap::Args)]
pub struct DiffArgs {
    /// The old file (a Katalog, a bundle, any YAML).
    a: PathBuf,
    /// The new file.
    b: PathBuf,
}

/// `ork diff`: 0 when equal by meaning, 1 when different, 2 when a file cannot be read.
pub fn run_diff(args: DiffArgs) -> u8 {
    let mut err = std::io::stderr().lock();
    let mut texts = Vec::new();
    for p in [&args.a, &args.b] {
        match read_docs(p) {
            Ok(docs) => texts.push(normalize(&docs)),
            Err(d) => {
                let _ = writeln!(err, "{d}");
                return 2;
            }
        }
    }
    let Some(diff) = unified(&display_path(&args.a), &texts[0], &display_path(&args.b), &texts[1]) else { return 0 };
    let color = use_color(std::io::stdout().is_terminal());
    let mut out = std::io::stdout().lock();
    for line in diff.lines() {
        // Headers bold, removed lines red, added green, hunk headers cyan.
        let code = match line.as_bytes() {
            [b'+', b'+', b'+', ..] | [b'-', b'-', b'-', ..] => "1",
            [b'+', ..] => "32",
            [b'-', ..] => "31",
            [b'@', b'@', ..] => "36",
            _ => "",
        };
        let _ = writeln!(out, "{}", if code.is_empty() { line.to_string() } else { paint(color, code, line) });
    }
    1
}

/// Arguments of `ork plan`.
#[derive(clap::Args)]
pub struct PlanArgs {
    /// The local Katalog or Komposer (default: ./katalog.yaml, then ./komposer.yaml).
    #[arg(short = 'f', long = "file")]
    file: Option<PathBuf>,
    /// The deployed bundle (as written by `ork generate bundle`, or exported from the cluster).
    #[arg(short = 'b', long = "bundle")]
    bundle: PathBuf,
    /// Install namespace (default: the bundle's, else $ORK_NAMESPACE, else orkestra-system).
    #[arg(short = 'n', long = "namespace")]
    namespace: Option<String>,
    /// Exit 1 when the plan adds any permission.
    #[arg(long)]
    fail_on_escalation: bool,
    #[command(flatten)]
    load: services::runtime::command::LoadArgs,
}

/// `ork plan`.
pub fn run_plan(args: PlanArgs) -> u8 {
    let mut err = std::io::stderr().lock();
    let docs = match read_docs(&args.bundle) {
        Ok(d) => d,
        Err(d) => {
            let _ = writeln!(err, "{d}");
            return 2;
        }
    };
    let deployed = match read_bundle(&docs) {
        Ok(d) => d,
        Err(e) => {
            let _ = writeln!(err, "error: {}: {e}", display_path(&args.bundle));
            return 1;
        }
    };
    if deployed.katalog.is_none() {
        let _ = writeln!(err, "note: {} has no Katalog ConfigMap: every CRD is new", display_path(&args.bundle));
    }
    let ns = match crate::generate::install_namespace(args.namespace.or_else(|| deployed.namespace.clone())) {
        Ok(ns) => ns,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return 2;
        }
    };
    let path = default_file(args.file);
    let v = match crate::validate::load_valid(&path, &args.load.options()) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let (derived, local) = match (derive(&v.katalog, &ns).map_err(|e| e.to_string()), shipped_json(&v.katalog, &v.expanded).map_err(|e| e.to_string())) {
        (Ok(d), Ok(l)) => (d, l),
        (Err(e), _) | (_, Err(e)) => {
            let _ = writeln!(err, "error: {e}");
            return 1;
        }
    };
    let p = plan(&local, &derived, &deployed);
    let color = use_color(std::io::stdout().is_terminal());
    print_plan(&p, &display_path(&path), &display_path(&args.bundle), &ns, color);
    if args.fail_on_escalation && !p.grants_added.is_empty() { 1 } else { 0 }
}

fn change_line(c: &FieldChange) -> String {
    match (&c.old, &c.new) {
        (None, Some(n)) => format!("+ {}: {n}  (new)", c.path),
        (Some(o), None) => format!("- {}: {o}  (removed)", c.path),
        (Some(o), Some(n)) => format!("~ {}: {o} → {n}", c.path),
        (None, None) => String::new(),
    }
}

/// Grants grouped by target, verbs in canonical order.
fn grouped(grants: &[Grant]) -> Vec<(Grant, String)> {
    let mut by: std::collections::BTreeMap<Grant, Vec<&str>> = std::collections::BTreeMap::new();
    for (c, scope, g, r, n, v) in grants {
        by.entry((c.clone(), *scope, g.clone(), r.clone(), n.clone(), String::new())).or_default().push(v);
    }
    by.into_iter()
        .map(|(k, mut verbs)| {
            verbs.sort_by_key(|v| Verb::parse(v).map_or(usize::MAX, |x| x as usize));
            (k, verbs.join(", "))
        })
        .collect()
}

fn grant_line(g: &Grant, verbs: &str, ns: &str) -> String {
    let (c, scope, group, res, name, _) = g;
    let group = if group.is_empty() { "core" } else { group };
    let mut target = res.clone();
    if let Some(n) = name {
        target.push_str(&format!(" [{n}]"));
    }
    if *scope == Scope::Namespace {
        target.push_str(&format!(" (namespace {ns})"));
    }
    format!("{c:<8} {group} {target}: {verbs}")
}

fn print_plan(p: &Plan, local: &str, bundle: &str, ns: &str, color: bool) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "Plan: {local} against the deployed bundle {bundle} (namespace {ns})");
    if p.is_empty() {
        let _ = writeln!(out, "No changes: the local Katalog and its permissions match the deployed bundle.");
        return;
    }
    if !(p.crds_added.is_empty() && p.crds_removed.is_empty() && p.crds_changed.is_empty() && p.katalog_changes.is_empty()) {
        let _ = writeln!(out, "\nKatalog:");
        for c in &p.crds_added {
            let _ = writeln!(out, "  {}", paint(color, "32", &format!("+ crd {c}  (new)")));
        }
        for c in &p.crds_removed {
            let _ = writeln!(out, "  {}", paint(color, "31", &format!("- crd {c}  (removed)")));
        }
        for (c, changes) in &p.crds_changed {
            let _ = writeln!(out, "  ~ crd {c}:");
            for ch in changes {
                let _ = writeln!(out, "      {}", change_line(ch));
            }
        }
        for ch in &p.katalog_changes {
            let _ = writeln!(out, "  {}", change_line(ch));
        }
    }
    if !(p.grants_added.is_empty() && p.grants_removed.is_empty()) {
        let _ = writeln!(out, "\nPermissions:");
        for (g, verbs) in grouped(&p.grants_added) {
            let _ = writeln!(out, "  {}", paint(color, "1;31", &format!("+ {}   ESCALATION", grant_line(&g, &verbs, ns))));
        }
        for (g, verbs) in grouped(&p.grants_removed) {
            let _ = writeln!(out, "  {}", paint(color, "32", &format!("- {}", grant_line(&g, &verbs, ns))));
        }
    }
    if !p.grants_added.is_empty() {
        let n = p.grants_added.len();
        let _ = writeln!(
            out,
            "\n{}",
            paint(
                color,
                "1;31",
                &format!(
                    "⚠ {n} permission escalation(s): the new Katalog needs permissions the deployed bundle does not grant. Review them before applying the new bundle."
                )
            )
        );
    }
}
