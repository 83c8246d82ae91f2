//! The derived permissions as a report: per component (runtime, gateway) every rule — group,
//! resource, scope, verbs — followed by its reasons (which CRD needs it, for what). The end of
//! `ork validate --full`, and what the workbench's `:rbac` shows.

use super::Doc;
use katalog::authoring::rbac::{Derivation, Rule, RuleSet, Scope};

/// The rules as an aligned table, each followed by its reasons.
pub fn rules_doc(doc: &mut Doc, rules: &RuleSet, ns: &str, indent: &str, with_crd: bool) {
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
        doc.push(format!("{indent}{:gw$}  {t}{}  {}", group(&r.key.api_group), " ".repeat(pad), verbs.join(" ")));
        for (why, vs) in r.reasons() {
            let vs: Vec<&str> = vs.iter().map(|v| v.as_str()).collect();
            let text = if with_crd { why.to_string() } else { why.what.clone() };
            doc.push(format!("{indent}    · {text} ({})", vs.join(", ")));
        }
    }
}

/// The derived permissions per component (runtime, then gateway), each rule with its scope
/// and its reasons (with the CRD that needs it): the end of `ork validate --full`, and what
/// the workbench's RBAC view shows.
pub fn permissions_doc(d: &Derivation) -> Doc {
    let mut doc = Doc::new();
    doc.push(format!("runtime permissions ({} rules, ServiceAccount {}):", d.runtime.rules.len(), katalog::install::RUNTIME_SERVICE_ACCOUNT));
    rules_doc(&mut doc, &d.runtime, &d.namespace, "  ", true);
    if d.gateway.is_empty() {
        doc.push("gateway permissions: none (no gateway feature declared)");
    } else {
        doc.push(format!(
            "gateway permissions ({} rules, ServiceAccount {}; features: {}):",
            d.gateway.rules.len(),
            katalog::install::GATEWAY_SERVICE_ACCOUNT,
            d.gateway_features.join(", ")
        ));
        rules_doc(&mut doc, &d.gateway, &d.namespace, "  ", true);
    }
    doc
}
