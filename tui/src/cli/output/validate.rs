//! `ork validate`: findings, and with `--full` the permissions and profiles per CRD (text and JSON).

use super::*;
use crate::report::rbac::{permissions_doc, rules_doc};
use crate::report::{Doc, Line as ReportLine, Tone};

fn rules_json(rules: &RuleSet) -> serde_json::Value {
    let rules: Vec<_> = rules
        .rules
        .iter()
        .map(|r| {
            let mut m = serde_json::json!({
                "scope": r.key.scope,
                "apiGroup": r.key.api_group,
                "resource": r.key.resource,
                "verbs": r.verb_list(),
                "reasons": r.reasons().iter().map(|(why, verbs)| {
                    let mut o = serde_json::json!({"reason": why.what, "verbs": verbs});
                    if let Some(c) = &why.crd {
                        o["crd"] = serde_json::json!(c);
                    }
                    o
                }).collect::<Vec<_>>(),
            });
            if let Some(n) = &r.key.resource_name {
                m["resourceName"] = serde_json::json!(n);
            }
            m
        })
        .collect();
    serde_json::Value::Array(rules)
}

fn permissions_json(d: &Derivation, r: &Report) -> serde_json::Value {
    let crds: serde_json::Map<String, serde_json::Value> = d
        .crds
        .iter()
        .map(|(name, p)| {
            let profiles = r.crds.iter().find(|c| &c.name == name).map(|c| c.profiles.clone()).unwrap_or_default();
            (name.clone(), serde_json::json!({"runtime": rules_json(&p.runtime), "gateway": rules_json(&p.gateway), "profiles": profiles}))
        })
        .collect();
    serde_json::json!({
        "namespace": d.namespace,
        "crds": crds,
        "runtime": rules_json(&d.runtime),
        "gateway": rules_json(&d.gateway),
        "gatewayFeatures": d.gateway_features,
        "warnings": d.warnings,
    })
}

/// `ork validate`'s report: the findings, the CRD summaries and, with `--full`, the permissions.
pub fn validate_report(output: Output, path: &Path, r: &Report, derived: Option<&Derivation>) {
    match output {
        Output::Json => validate_json(path, r, derived),
        Output::Text => validate_text(path, r, derived),
    }
}

fn validate_json(path: &Path, r: &Report, derived: Option<&Derivation>) {
    let diags: Vec<_> = r.diagnostics.iter().map(Diagnostic::to_json).collect();
    let doc = serde_json::json!({
        "schemaVersion": 1,
        "file": display_path(path),
        "kind": r.kind.map(|k| k.as_str()),
        "name": r.name,
        "valid": r.is_valid(),
        "errors": r.diagnostics.error_count(),
        "warnings": r.diagnostics.warning_count(),
        "crds": r.crds,
        "startupOrder": r.startup_order,
        "opRules": r.op_rules,
        "expectations": r.expectations,
        "diagnostics": diags,
    });
    let mut doc = doc;
    if let Some(d) = derived {
        doc["permissions"] = permissions_json(d, r);
    }
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut out, &doc);
    let _ = writeln!(out);
}

/// `ork validate`'s text report (what goes to stdout), built once. `findings` is called where
/// the findings of no CRD (`None`, first) and of each CRD (after its line) belong, with the
/// report built so far: the CLI prints that part and the findings (on stderr) there.
pub fn validate_doc(path: &Path, r: &Report, derived: Option<&Derivation>, mut findings: impl FnMut(&mut Doc, Option<&str>)) -> Doc {
    let mut doc = Doc::new();
    findings(&mut doc, None);
    let kind = r.kind.map_or("document", |k| k.as_str());
    if let Some(name) = &r.name {
        doc.push(format!("{kind} {name} ({})", display_path(path)));
    }
    for c in &r.crds {
        let failed = r.diagnostics.iter().any(|d| d.crd.as_deref() == Some(c.name.as_str()) && d.is_error());
        let mark = if failed { ReportLine::toned(Tone::Bad, "✗") } else { ReportLine::toned(Tone::Good, "✓") };
        let state = if c.enabled { "" } else { " (disabled)" };
        let deps = if c.depends_on.is_empty() { String::new() } else { format!(", dependsOn {}", c.depends_on.join(", ")) };
        doc.push(mark.with(
            Tone::Plain,
            format!(
                " {}{state}  {} {} ({})  children: {}, validation: {}, mutation: {}, status fields: {}{deps}",
                c.name, c.kind, c.group_version, c.plural, c.children, c.validation_rules, c.mutation_rules, c.status_fields
            ),
        ));
        findings(&mut doc, Some(&c.name));
        if let Some(p) = derived.and_then(|d| d.crds.get(&c.name)) {
            let ns = derived.map_or("", |d| d.namespace.as_str());
            let profiles = if c.profiles.is_empty() { "none".to_string() } else { c.profiles.join(", ") };
            doc.push(format!("    profiles: {profiles}"));
            doc.push("    runtime permissions:");
            rules_doc(&mut doc, &p.runtime, ns, "      ", false);
            if !p.gateway.is_empty() {
                doc.push("    gateway permissions:");
                rules_doc(&mut doc, &p.gateway, ns, "      ", false);
            }
        }
    }
    if r.startup_order.len() > 1 || derived.is_some() {
        doc.push(format!("startup order: {}", r.startup_order.join(" → ")));
    }
    if let Some(d) = derived {
        doc.append(permissions_doc(d));
    }
    let errors = r.diagnostics.error_count();
    let warnings = r.diagnostics.warning_count();
    let what = match r.kind {
        Some(DocKind::Simulate) => format!("{} op rule(s)", r.op_rules),
        Some(DocKind::E2e) => format!("{} expectation(s)", r.expectations),
        _ => format!("{} CRD(s)", r.crds.len()),
    };
    if errors == 0 {
        doc.toned(Tone::Good, format!("✓ valid: {what}, {warnings} warning(s)"));
    } else {
        doc.toned(Tone::Bad, format!("✗ invalid: {errors} error(s), {warnings} warning(s)"));
    }
    doc
}

fn validate_text(path: &Path, r: &Report, derived: Option<&Derivation>) {
    let color_out = stdout_color();
    let color_err = stderr_color();
    // Each part of the report is printed when the findings that follow it are, so stdout and
    // stderr interleave on a terminal as they always have.
    let flush = |doc: &mut Doc| {
        let _ = std::io::stdout().lock().write_all(doc.to_text(color_out).as_bytes());
        doc.lines.clear();
    };
    let mut doc = validate_doc(path, r, derived, |doc, crd| {
        flush(doc);
        let mut err = std::io::stderr().lock();
        for d in r.diagnostics.iter().filter(|d| d.crd.as_deref() == crd) {
            let _ = writeln!(err, "{}", render(d, color_err));
        }
    });
    flush(&mut doc);
}
