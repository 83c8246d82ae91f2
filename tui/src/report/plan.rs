//! `ork plan`'s report: what applying the local Katalog would change against a deployed
//! bundle — printed by the CLI, shown by the workbench's `:rbac` with escalations highlighted.

use super::{Doc, Line, Tone};
use katalog::authoring::diff::{FieldChange, Grant, Plan};
use katalog::authoring::rbac::{Scope, Verb};
use std::collections::BTreeMap;

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
    let mut by: BTreeMap<Grant, Vec<&str>> = BTreeMap::new();
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

/// `ork plan`'s report: CRDs added, removed and changed field by field; permissions added
/// (each an ESCALATION) and removed — printed by the CLI, shown by the workbench's `:rbac`.
pub fn plan_doc(p: &Plan, local: &str, bundle: &str, ns: &str) -> Doc {
    let mut out = Doc::new();
    out.push(format!("Plan: {local} against the deployed bundle {bundle} (namespace {ns})"));
    if p.is_empty() {
        out.push("No changes: the local Katalog and its permissions match the deployed bundle.");
        return out;
    }
    if !(p.crds_added.is_empty() && p.crds_removed.is_empty() && p.crds_changed.is_empty() && p.katalog_changes.is_empty()) {
        out.push("");
        out.push("Katalog:");
        for c in &p.crds_added {
            out.push(Line::plain("  ").with(Tone::Good, format!("+ crd {c}  (new)")));
        }
        for c in &p.crds_removed {
            out.push(Line::plain("  ").with(Tone::Bad, format!("- crd {c}  (removed)")));
        }
        for (c, changes) in &p.crds_changed {
            out.push(format!("  ~ crd {c}:"));
            for ch in changes {
                out.push(format!("      {}", change_line(ch)));
            }
        }
        for ch in &p.katalog_changes {
            out.push(format!("  {}", change_line(ch)));
        }
    }
    if !(p.grants_added.is_empty() && p.grants_removed.is_empty()) {
        out.push("");
        out.push("Permissions:");
        for (g, verbs) in grouped(&p.grants_added) {
            out.push(Line::plain("  ").with(Tone::Alarm, format!("+ {}   ESCALATION", grant_line(&g, &verbs, ns))));
        }
        for (g, verbs) in grouped(&p.grants_removed) {
            out.push(Line::plain("  ").with(Tone::Good, format!("- {}", grant_line(&g, &verbs, ns))));
        }
    }
    if !p.grants_added.is_empty() {
        let n = p.grants_added.len();
        out.push("");
        out.toned(
            Tone::Alarm,
            format!(
                "⚠ {n} permission escalation(s): the new Katalog needs permissions the deployed bundle does not grant. Review them before applying the new bundle."
            ),
        );
    }
    out
}
