//! `ork e2e init`: an e2e.yaml written from the Katalog and its CRs, with the children's real
//! names. Upstream's scaffold (§6.4) reads only the Katalog and leaves name placeholders; ork
//! runs the reconciler on the CRs in memory (as `ork simulate` does) and lists what the first
//! reconcile creates, so the scaffold passes as written and is then edited to taste.

pub(crate) use crate::simulate::InitArgs;
use crate::simulate::{ScaffoldInputs, relative, scaffold_inputs};
use katalog::diag::display_path;
use katalog::yaml::emit;
use serde_json::{Value, json};
use services::simulate::{Plan, simulate_crd, targets};
use std::io::Write;
use std::path::{Path, PathBuf};

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

/// Runs `ork e2e init`; returns the exit code.
pub fn run(args: InitArgs) -> u8 {
    let mut err = std::io::stderr().lock();
    let ScaffoldInputs { katalog_path, katalog, templates, cr_path, crs, out_path } = match scaffold_inputs(&args, "e2e.yaml") {
        Ok(i) => i,
        Err(code) => return code,
    };
    let plan = Plan { katalog: &katalog, templates: &templates, crs: &crs, crd: None, cycles: 3, delete_at: None };
    let runs = match targets(&plan) {
        Ok(t) => t.runs,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return 1;
        }
    };
    let mut ready = Vec::new();
    let mut gone = Vec::new();
    let mut namespaces = std::collections::BTreeSet::new();
    for (crd, i) in &runs {
        let run = match simulate_crd(&plan, crd, *i) {
            Ok(r) => r,
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                return 1;
            }
        };
        if let Some((c, e)) = run.cycles.iter().find_map(|c| c.error.as_ref().map(|e| (c.cycle, e))) {
            let _ = writeln!(err, "error: crd `{crd}`: reconcile {c} fails in memory: {e}; fix it (or pick a CR that passes) before generating expectations");
            return 1;
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
    let out_dir = out_path.parent().map(Path::to_path_buf).filter(|p| !p.as_os_str().is_empty()).unwrap_or_else(|| PathBuf::from("."));
    let mut spec = json!({"katalog": relative(&out_dir, &katalog_path), "cr": relative(&out_dir, &cr_path), "expect": expect});
    let katalog_dir = katalog_path.parent().map(Path::to_path_buf).filter(|p| !p.as_os_str().is_empty()).unwrap_or_else(|| PathBuf::from("."));
    let crd_file = katalog_dir.join("crd.yaml");
    if crd_file.is_file() {
        spec["crd"] = json!(relative(&out_dir, &crd_file));
    }
    let doc = json!({
        "apiVersion": katalog::model::API_VERSION,
        "kind": "E2E",
        "metadata": {"name": format!("{}-e2e", katalog.name()), "description": "Generated by `ork e2e init` from an in-memory reconcile of the CRs; edit the expectations to taste."},
        "spec": spec,
    });
    let text = format!("# Expectations scaffolded by `ork e2e init`; run `ork e2e` to check them (docs/e2e.md).\n{}", emit(&doc));
    let code = crate::init::write_out((!args.dry_run).then_some(out_path.as_path()), &text);
    if code != 0 || args.dry_run {
        return code;
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "✓ wrote {}: {} CR(s), {} expectation(s). Run `ork e2e -f {}` to check it.",
        display_path(&out_path),
        runs.len(),
        runs.len() + 1,
        display_path(&out_path)
    );
    for ns in namespaces.iter().filter(|n| !matches!(n.as_str(), "default" | "kube-system" | "kube-public")) {
        let _ = writeln!(out, "  note: the CRs use namespace {ns}, which a fresh cluster lacks: add a Namespace manifest under spec.setup");
    }
    0
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
