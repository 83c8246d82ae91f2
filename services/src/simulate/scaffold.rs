//! `ork simulate init` and `ork e2e init`: a simulate.yaml or an e2e.yaml written from a real,
//! in-memory run of the Katalog's reconciler on its CRs, so the scaffold passes as written and is
//! then edited to taste. Upstream's e2e scaffold (§6.4) reads only the Katalog and leaves name
//! placeholders; ork lists what the first reconcile creates, with the children's real names.

use super::{Plan, SimError, load_katalog, read_crs, simulate_crd, targets};
use katalog::diag::display_path;
use katalog::files::dir_of;
use katalog::load::LoadOptions;
use katalog::valid::Valid;
use katalog::yaml::emit;
use serde::Serialize;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Where a scaffold comes from and goes to.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The Katalog file.
    pub katalog: PathBuf,
    /// The CR file (default: cr.yaml next to the Katalog).
    pub cr: Option<PathBuf>,
    /// Where to write (default: `out_name` next to the Katalog).
    pub output: Option<PathBuf>,
    /// Overwrite an existing output file.
    pub force: bool,
    /// Print instead of writing (an existing output file is no obstacle).
    pub dry_run: bool,
    /// How the Katalog is loaded.
    pub load: &'a LoadOptions,
}

/// A scaffold, ready to write.
#[derive(Debug, Clone, Serialize)]
pub struct Scaffold {
    /// Where it goes.
    pub path: PathBuf,
    /// The YAML text.
    pub text: String,
    /// CRDs (simulate) or CRs (e2e) covered.
    pub targets: usize,
    /// Op rules (simulate) or expectations (e2e) written.
    pub rules: usize,
    /// Namespaces the CRs use that a fresh cluster lacks (e2e).
    pub missing_namespaces: Vec<String>,
}

/// Why no scaffold was written.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// The CR file does not exist.
    #[error("{} not found; pass the CRs with --cr FILE", display_path(.0))]
    NoCrs(PathBuf),
    /// The output exists and neither `--force` nor `--dry-run` was given.
    #[error("{} exists; use --force to overwrite it, or --dry-run to print", display_path(.0))]
    Exists(PathBuf),
    /// The Katalog or the CRs cannot be loaded (diagnostics with positions).
    #[error("the Katalog or its CRs cannot be loaded")]
    Load(SimError),
    /// The CRs cannot be matched with CRD entries, or a run could not happen.
    #[error(transparent)]
    Simulate(#[from] super::RunError),
    /// A `simulate init` cycle failed.
    #[error("crd `{crd}`: cycle {cycle} failed: {error}; fix it before generating expectations")]
    CycleFailed {
        /// The CRD entry.
        crd: String,
        /// The cycle.
        cycle: u32,
        /// The reconcile error.
        error: String,
    },
    /// An `e2e init` reconcile failed.
    #[error("crd `{crd}`: reconcile {cycle} fails in memory: {error}; fix it (or pick a CR that passes) before generating expectations")]
    ReconcileFailed {
        /// The CRD entry.
        crd: String,
        /// The cycle.
        cycle: u32,
        /// The reconcile error.
        error: String,
    },
}

/// What a scaffold starts from.
struct Inputs {
    katalog_path: PathBuf,
    valid: Valid,
    cr_path: PathBuf,
    crs: Vec<Value>,
    out_path: PathBuf,
}

/// Resolves the paths (checking them in this order: the CRs exist, the output does not, unless
/// forced), then loads the Katalog and the CRs.
fn inputs(req: &Request<'_>, out_name: &str) -> Result<Inputs, ScaffoldError> {
    let dir = dir_of(&req.katalog);
    let cr_path = req.cr.clone().unwrap_or_else(|| dir.join("cr.yaml"));
    let out_path = req.output.clone().unwrap_or_else(|| dir.join(out_name));
    if !cr_path.is_file() {
        return Err(ScaffoldError::NoCrs(cr_path));
    }
    if out_path.exists() && !req.force && !req.dry_run {
        return Err(ScaffoldError::Exists(out_path));
    }
    let valid = load_katalog(&req.katalog, req.load).map_err(ScaffoldError::Load)?;
    let crs = read_crs(std::slice::from_ref(&cr_path)).map_err(ScaffoldError::Load)?;
    Ok(Inputs { katalog_path: req.katalog.clone(), valid, cr_path, crs, out_path })
}

/// `to` relative to directory `from` (both made absolute), `./`-prefixed.
pub fn relative(from: &Path, to: &Path) -> String {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (from, to) = (abs(from), abs(to));
    let a: Vec<_> = from.components().collect();
    let b: Vec<_> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = std::iter::repeat_n("..".to_string(), a.len() - common).collect();
    parts.extend(b[common..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned()));
    let joined = parts.join("/");
    if joined.starts_with("..") { joined } else { format!("./{joined}") }
}

/// A simulate.yaml from a real run: the first cycle's creates, steady state, no errors.
pub fn simulate_yaml(req: &Request<'_>) -> Result<Scaffold, ScaffoldError> {
    let Inputs { katalog_path, valid, cr_path, crs, out_path } = inputs(req, "simulate.yaml")?;
    let plan = Plan { katalog: &valid.katalog, templates: &valid.templates, crs: &crs, crd: None, cycles: super::DEFAULT_CYCLES, delete_at: None };
    let targets = targets(&plan).map_err(ScaffoldError::Simulate)?.runs;
    let mut per_crd = serde_json::Map::new();
    let mut rules = 0;
    let mut cycles = 5;
    for (crd, i) in &targets {
        let run = simulate_crd(&plan, crd, *i).map_err(ScaffoldError::Simulate)?;
        if let Some((cycle, error)) = run.cycles.iter().find_map(|c| c.error.as_ref().map(|e| (c.cycle, e))) {
            return Err(ScaffoldError::CycleFailed { crd: crd.clone(), cycle, error: error.clone() });
        }
        let ops: Vec<Value> = run.cycles[0]
            .ops
            .iter()
            .filter(|o| o.verb == "create" && o.resource != "namespaces" && o.resource != "events")
            .map(|o| json!({"cycle": 1, "verb": "create", "resource": o.resource, "name": o.name}))
            .collect();
        rules += ops.len();
        let mut e = json!({"noErrors": true, "ops": ops});
        if let Some(s) = run.steady_at {
            e["steady"] = json!(true);
            cycles = cycles.max(s + 2);
        }
        per_crd.insert(crd.clone(), e);
    }
    let expect = if per_crd.len() == 1 { per_crd.into_iter().next().map(|(_, e)| e).unwrap_or_default() } else { json!({"noErrors": true, "crds": per_crd}) };
    let out_dir = dir_of(&out_path);
    let doc = json!({
        "apiVersion": katalog::model::API_VERSION,
        "kind": "Simulate",
        "metadata": {"name": format!("{}-sim", valid.katalog.name()), "description": "Generated by `ork simulate init` from a real run; edit the expectations to taste."},
        "spec": {"katalog": relative(&out_dir, &katalog_path), "cr": relative(&out_dir, &cr_path), "cycles": cycles, "expect": expect},
    });
    let text = format!("# Expectations recorded by `ork simulate init`; run `ork simulate` to check them.\n{}", emit(&doc));
    Ok(Scaffold { path: out_path, text, targets: targets.len(), rules, missing_namespaces: Vec::new() })
}

/// How kubectl should name a resource: its Kind when that is a built-in kind of this group,
/// else `plural.group`.
fn kubectl_kind(group: &str, plural: &str) -> String {
    let known = katalog::kinds::all_known().find(|r| r.group == group && r.plural == plural);
    match known {
        Some(r) if katalog::kinds::builtin_by_kind(&r.kind).is_some_and(|b| b.group == group) => r.kind,
        _ if group.is_empty() => plural.to_string(),
        _ => format!("{plural}.{group}"),
    }
}

/// An e2e.yaml from the Katalog and its CRs: what the first reconcile creates, Ready, cleanup.
pub fn e2e_yaml(req: &Request<'_>) -> Result<Scaffold, ScaffoldError> {
    let Inputs { katalog_path, valid, cr_path, crs, out_path } = inputs(req, "e2e.yaml")?;
    let plan = Plan { katalog: &valid.katalog, templates: &valid.templates, crs: &crs, crd: None, cycles: 3, delete_at: None };
    let runs = targets(&plan).map_err(ScaffoldError::Simulate)?.runs;
    let mut ready = Vec::new();
    let mut gone = Vec::new();
    let mut namespaces = std::collections::BTreeSet::new();
    for (crd, i) in &runs {
        let run = simulate_crd(&plan, crd, *i).map_err(ScaffoldError::Simulate)?;
        if let Some((cycle, error)) = run.cycles.iter().find_map(|c| c.error.as_ref().map(|e| (c.cycle, e))) {
            return Err(ScaffoldError::ReconcileFailed { crd: crd.clone(), cycle, error: error.clone() });
        }
        let cr = &crs[*i];
        let kind = cr["kind"].as_str().unwrap_or_default().to_string();
        let name = cr.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
        let ns = cr.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("default").to_string();
        namespaces.insert(ns.clone());
        let children: Vec<Value> = run.cycles[0]
            .ops
            .iter()
            .filter(|o| o.verb == "create" && !matches!(o.resource.as_str(), "namespaces" | "events") && !o.resource.contains('/'))
            .map(|o| {
                let mut r = json!({"kind": kubectl_kind(&o.group, &o.resource), "name": o.name});
                if let Some(n) = o.namespace.as_ref().filter(|n| n.as_str() != "default") {
                    r["namespace"] = json!(n);
                }
                r
            })
            .collect();
        let mut own = json!({"kind": kind, "name": name});
        if ns != "default" {
            own["namespace"] = json!(ns);
        }
        let mut get = own.clone();
        get["field"] = json!("{.status.conditions[?(@.type==\"Ready\")].status}");
        get["equals"] = json!("True");
        let mut e = json!({"name": format!("{kind} {name} is reconciled and Ready"), "after": "cr-applied", "timeout": "60s", "kubectl": {"get": [get]}});
        if !children.is_empty() {
            e["resources"] = json!(children);
        }
        ready.push(e);
        let mut none = own.clone();
        none["count"] = json!(0);
        gone.push(none);
        for c in children {
            let mut c = c;
            c["count"] = json!(0);
            gone.push(c);
        }
    }
    let mut expect = ready;
    expect.push(json!({"name": "deleting the CRs removes what they created", "after": "cr-deleted", "timeout": "30s", "resources": gone}));
    let out_dir = dir_of(&out_path);
    let mut spec = json!({"katalog": relative(&out_dir, &katalog_path), "cr": relative(&out_dir, &cr_path), "expect": expect});
    let crd_file = dir_of(&katalog_path).join("crd.yaml");
    if crd_file.is_file() {
        spec["crd"] = json!(relative(&out_dir, &crd_file));
    }
    let doc = json!({
        "apiVersion": katalog::model::API_VERSION,
        "kind": "E2E",
        "metadata": {"name": format!("{}-e2e", valid.katalog.name()), "description": "Generated by `ork e2e init` from an in-memory reconcile of the CRs; edit the expectations to taste."},
        "spec": spec,
    });
    let text = format!("# Expectations scaffolded by `ork e2e init`; run `ork e2e` to check them (docs/e2e.md).\n{}", emit(&doc));
    let missing_namespaces = namespaces.into_iter().filter(|n| !matches!(n.as_str(), "default" | "kube-system" | "kube-public")).collect();
    Ok(Scaffold { path: out_path, text, targets: runs.len(), rules: runs.len() + 1, missing_namespaces })
}

#[cfg(test)]
mod tests {
    use super::kubectl_kind;

    #[test]
    fn kubectl_names_built_ins_by_kind_and_the_rest_by_plural_and_group() {
        assert_eq!(kubectl_kind("apps", "deployments"), "Deployment");
        assert_eq!(kubectl_kind("", "configmaps"), "ConfigMap");
        assert_eq!(kubectl_kind("example.com", "widgets"), "widgets.example.com");
    }
}
