//! `ork validate`: findings, and with `--full` the permissions and profiles per CRD (text and JSON).

use super::*;

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

/// The rules as an aligned table, each followed by its reasons.
fn print_rules(out: &mut impl Write, rules: &RuleSet, ns: &str, indent: &str, with_crd: bool) {
    let group = |g: &str| if g.is_empty() { "core".to_string() } else { g.to_string() };
    let target = |r: &Rule| {
        let mut t = r.key.resource.clone();
        if let Some(n) = &r.key.resource_name {
            t.push_str(&format!(" [{n}]"));
        }
        if r.key.scope == Scope::Namespace {
            t.push_str(&format!(" (namespace {ns})"));
        }
        t
    };
    let gw = rules.rules.iter().map(|r| group(&r.key.api_group).len()).max().unwrap_or(0);
    let tw = rules.rules.iter().map(|r| target(r).chars().count()).max().unwrap_or(0);
    for r in &rules.rules {
        let verbs: Vec<&str> = r.verb_list().iter().map(|v| v.as_str()).collect();
        let t = target(r);
        let pad = tw.saturating_sub(t.chars().count());
        let _ = writeln!(out, "{indent}{:gw$}  {t}{}  {}", group(&r.key.api_group), " ".repeat(pad), verbs.join(" "));
        for (why, vs) in r.reasons() {
            let vs: Vec<&str> = vs.iter().map(|v| v.as_str()).collect();
            let text = if with_crd { why.to_string() } else { why.what.clone() };
            let _ = writeln!(out, "{indent}    · {text} ({})", vs.join(", "));
        }
    }
}

fn validate_text(path: &Path, r: &Report, derived: Option<&Derivation>) {
    let color_out = stdout_color();
    let color_err = stderr_color();
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();

    // Findings that belong to no CRD first, then per CRD (sorted by name).
    let general: Vec<&Diagnostic> = r.diagnostics.iter().filter(|d| d.crd.is_none()).collect();
    for d in &general {
        let _ = writeln!(err, "{}", render(d, color_err));
    }
    let kind = r.kind.map_or("document", |k| k.as_str());
    if let Some(name) = &r.name {
        let _ = writeln!(out, "{kind} {name} ({})", display_path(path));
    }
    for c in &r.crds {
        let mine: Vec<&Diagnostic> = r.diagnostics.iter().filter(|d| d.crd.as_deref() == Some(c.name.as_str())).collect();
        let failed = mine.iter().any(|d| d.is_error());
        let mark = if failed { paint(color_out, "31", "✗") } else { paint(color_out, "32", "✓") };
        let state = if c.enabled { "" } else { " (disabled)" };
        let deps = if c.depends_on.is_empty() { String::new() } else { format!(", dependsOn {}", c.depends_on.join(", ")) };
        let _ = writeln!(
            out,
            "{mark} {}{state}  {} {} ({})  children: {}, validation: {}, mutation: {}, status fields: {}{deps}",
            c.name, c.kind, c.group_version, c.plural, c.children, c.validation_rules, c.mutation_rules, c.status_fields
        );
        for d in mine {
            let _ = writeln!(err, "{}", render(d, color_err));
        }
        if let Some(p) = derived.and_then(|d| d.crds.get(&c.name)) {
            let ns = derived.map_or("", |d| d.namespace.as_str());
            let profiles = if c.profiles.is_empty() { "none".to_string() } else { c.profiles.join(", ") };
            let _ = writeln!(out, "    profiles: {profiles}");
            let _ = writeln!(out, "    runtime permissions:");
            print_rules(&mut out, &p.runtime, ns, "      ", false);
            if !p.gateway.is_empty() {
                let _ = writeln!(out, "    gateway permissions:");
                print_rules(&mut out, &p.gateway, ns, "      ", false);
            }
        }
    }
    if r.startup_order.len() > 1 || derived.is_some() {
        let _ = writeln!(out, "startup order: {}", r.startup_order.join(" → "));
    }
    if let Some(d) = derived {
        let _ = writeln!(out, "runtime permissions ({} rules, ServiceAccount {}):", d.runtime.rules.len(), katalog::install::RUNTIME_SERVICE_ACCOUNT);
        print_rules(&mut out, &d.runtime, &d.namespace, "  ", true);
        if d.gateway.is_empty() {
            let _ = writeln!(out, "gateway permissions: none (no gateway feature declared)");
        } else {
            let _ = writeln!(
                out,
                "gateway permissions ({} rules, ServiceAccount {}; features: {}):",
                d.gateway.rules.len(),
                katalog::install::GATEWAY_SERVICE_ACCOUNT,
                d.gateway_features.join(", ")
            );
            print_rules(&mut out, &d.gateway, &d.namespace, "  ", true);
        }
    }
    let errors = r.diagnostics.error_count();
    let warnings = r.diagnostics.warning_count();
    let what = match r.kind {
        Some(DocKind::Simulate) => format!("{} op rule(s)", r.op_rules),
        Some(DocKind::E2e) => format!("{} expectation(s)", r.expectations),
        _ => format!("{} CRD(s)", r.crds.len()),
    };
    let summary = if errors == 0 {
        paint(color_out, "32", &format!("✓ valid: {what}, {warnings} warning(s)"))
    } else {
        paint(color_out, "31", &format!("✗ invalid: {errors} error(s), {warnings} warning(s)"))
    };
    let _ = writeln!(out, "{summary}");
}
