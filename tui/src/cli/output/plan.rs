//! `ork diff` and `ork plan`: coloured unified diffs and permission changes.

use super::*;

/// A unified diff, coloured: headers bold, removed lines red, added green, hunk headers cyan.
pub fn diff_text(diff: &str) {
    let _ = std::io::stdout().lock().write_all(crate::report::diff::diff_doc(diff).to_text(stdout_color()).as_bytes());
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

/// `ork plan`'s report.
pub fn plan_text(p: &Plan, local: &str, bundle: &str, ns: &str) {
    let color = stdout_color();
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
