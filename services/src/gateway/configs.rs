//! The webhook configurations a Katalog asks for (`katalog::install::gateway_plan`), as the
//! objects the housekeeper keeps in the cluster, and the conversion stanza of CRDs with
//! `updateCRD: true`.
//!
//! | configuration | webhook | path | rules | failurePolicy |
//! |---|---|---|---|---|
//! | `orkestra-admission-validation-<ns>` | `validate.orkestra.orkspace.io` | `/validate` | the CRDs with validation rules, `admission.webhooks.operations` (default CREATE, UPDATE) | `security.webhooks.failurePolicy`, default Ignore |
//! | `orkestra-admission-mutation-<ns>` (Mutating) | `mutate.orkestra.orkspace.io`, `reinvocationPolicy: IfNeeded` | `/mutate` | the CRDs with mutation rules, same operations | the same |
//! | `orkestra-namespace-protection-<ns>` | `namespace-protection.orkestra.orkspace.io` | `/namespace-protection` | CREATE, UPDATE of the CRDs with namespace rules, every namespace (kube-system too) | `security.namespaceProtection.failurePolicy`, default Fail |
//! | `orkestra-deletion-protection-<ns>` | `protect.crds.orkestra.orkspace.io` | `/deletion-protection` | DELETE of CustomResourceDefinitions (the handler refuses the Katalog's `protectCRD` ones) | `security.deletionProtection.failurePolicy`, default Fail |
//! | | `protect.resources.orkestra.orkspace.io` | | DELETE of the Katalog's kinds (`protectCRs`), objects labelled `orkestra.io/deletion-protection: "true"` | the same |
//! | | `protect.builtins.orkestra.orkspace.io` | | DELETE of the built-in kinds ork creates ([`PROTECTED_BUILTINS`]), labelled, outside the gateway's own namespace (so it can never lock itself out) | the same |
//!
//! `protect.crds` has no selector that could narrow it to the Katalog's CRDs (CRDs carry no
//! label of ours, and `matchConditions` are not on every API server ork supports): the handler
//! allows every CRD that is not protected, as upstream's does.
//!
//! Every webhook: `sideEffects: None`, `admissionReviewVersions: [v1]`, `timeoutSeconds: 5`,
//! `matchPolicy: Exact`, rules for every API version (`apiVersions: ["*"]`: the verdicts depend
//! on group and resource, not on the version a client uses), and the CA bundle. The fields the
//! API server would default are written out, so that a stored configuration equals the desired
//! one and the housekeeper does not rewrite it on every pass. The output is deterministic.

use super::Reach;
use katalog::admission::{DELETION_PROTECTION_LABEL, Gate, Webhook};
use katalog::install::{DeclaredConfig, GatewayPlan, WebhookConfig};
use katalog::kinds::{ApiIdentity, api_identity};
use katalog::model::crd::CrdEntry;
use serde_json::{Value, json};

/// The group of the webhook names.
const DOMAIN: &str = "orkestra.orkspace.io";

/// Built-in kinds whose labelled objects deletion protection covers: what an installation and
/// a Katalog's children are made of. Pods, ReplicaSets, ControllerRevisions, Endpoints and
/// EndpointSlices are left out on purpose: controllers delete them in every rollout, and pods
/// and ReplicaSets inherit the label from their templates.
pub const PROTECTED_BUILTINS: &[(&str, &[&str])] = &[
    ("", &["configmaps", "namespaces", "persistentvolumeclaims", "secrets", "serviceaccounts", "services"]),
    ("apps", &["daemonsets", "deployments", "statefulsets"]),
    ("autoscaling", &["horizontalpodautoscalers"]),
    ("batch", &["cronjobs", "jobs"]),
    ("networking.k8s.io", &["ingresses", "networkpolicies"]),
    ("policy", &["poddisruptionbudgets"]),
    ("rbac.authorization.k8s.io", &["clusterrolebindings", "clusterroles", "rolebindings", "roles"]),
];

/// The labels of every object the gateway manages (Orkestra's resource labels).
pub fn labels() -> Value {
    json!({"app.kubernetes.io/name": "orkestra", "app.kubernetes.io/tag": "orkestra-internal"})
}

/// Where the API server sends `path`, trusting `ca_bundle` (base64 PEM).
pub fn client_config(reach: &Reach, path: &str, ca_bundle: &str) -> Value {
    match reach {
        Reach::Service { name, namespace, port } => json!({
            "service": {"name": name, "namespace": namespace, "path": path, "port": port},
            "caBundle": ca_bundle,
        }),
        Reach::Url(base) => json!({"url": format!("{base}{path}"), "caBundle": ca_bundle}),
    }
}

/// The full webhook name `<short>.orkestra.orkspace.io`.
fn hook_name(short: &str) -> String {
    format!("{short}.{DOMAIN}")
}

fn rule(group: &str, plural: &str, operations: &[&str]) -> Value {
    json!({"apiGroups": [group], "apiVersions": ["*"], "resources": [plural], "operations": operations, "scope": "*"})
}

/// One webhook with the fields every one of ours carries.
fn webhook(name: &str, path: &str, rules: Vec<Value>, fail: bool, ctx: &Ctx<'_>) -> Value {
    json!({
        "name": hook_name(name),
        "clientConfig": client_config(ctx.reach, path, ctx.ca_bundle),
        "rules": rules,
        "failurePolicy": if fail { "Fail" } else { "Ignore" },
        "matchPolicy": "Exact",
        "namespaceSelector": {},
        "objectSelector": {},
        "sideEffects": "None",
        "timeoutSeconds": 5,
        "admissionReviewVersions": ["v1"],
    })
}

struct Ctx<'a> {
    reach: &'a Reach,
    ca_bundle: &'a str,
}

/// The identity of a CRD entry of the Gate's Katalog.
fn identity<'g>(gate: &'g Gate, crd: &str) -> Option<(&'g CrdEntry, ApiIdentity)> {
    let e = gate.valid().katalog.crds().get(crd)?;
    Some((e, api_identity(e).filter(|id| !id.plural.is_empty())?))
}

/// The operations of a CRD's validation and mutation webhooks (default CREATE, UPDATE).
fn operations(e: &CrdEntry) -> Vec<&'static str> {
    let ops: Vec<&'static str> =
        e.admission.as_ref().and_then(|a| a.webhooks.as_ref()).map(|w| w.operations.iter().map(|o| o.as_str()).collect()).unwrap_or_default();
    let mut ops = if ops.is_empty() { vec!["CREATE", "UPDATE"] } else { ops };
    ops.sort();
    ops.dedup();
    ops
}

/// Rules for the CRD entries `crds`, sorted by group and resource.
fn crd_rules(gate: &Gate, crds: &[String], ops: impl Fn(&CrdEntry) -> Vec<&'static str>) -> Vec<Value> {
    let mut rows: Vec<(String, String, Vec<&'static str>)> =
        crds.iter().filter_map(|c| identity(gate, c)).map(|(e, id)| (id.group.clone(), id.plural.clone(), ops(e))).collect();
    rows.sort();
    rows.dedup();
    rows.iter().map(|(g, p, o)| rule(g, p, o)).collect()
}

/// The configuration object of `d`, with its webhooks; `ns` is the gateway's namespace.
pub fn desired_config(gate: &Gate, d: &DeclaredConfig, ns: &str, reach: &Reach, ca_bundle: &str) -> Value {
    let ctx = Ctx { reach, ca_bundle };
    let webhooks: Vec<Value> = match d.config {
        WebhookConfig::Validation => {
            vec![webhook("validate", Webhook::Validate.path(), crd_rules(gate, &d.crds, operations), d.fail, &ctx)]
        }
        WebhookConfig::Mutation => {
            let mut w = webhook("mutate", Webhook::Mutate.path(), crd_rules(gate, &d.crds, operations), d.fail, &ctx);
            w["reinvocationPolicy"] = json!("IfNeeded");
            vec![w]
        }
        WebhookConfig::NamespaceProtection => {
            vec![webhook("namespace-protection", Webhook::NamespaceProtection.path(), crd_rules(gate, &d.crds, |_| vec!["CREATE", "UPDATE"]), d.fail, &ctx)]
        }
        WebhookConfig::DeletionProtection => deletion_webhooks(gate, d.fail, ns, &ctx),
    };
    json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": d.config.kind(),
        "metadata": {"name": d.config.name(ns), "labels": labels()},
        "webhooks": webhooks,
    })
}

fn deletion_webhooks(gate: &Gate, fail: bool, ns: &str, ctx: &Ctx<'_>) -> Vec<Value> {
    let path = Webhook::DeletionProtection.path();
    let labelled = json!({"matchLabels": {DELETION_PROTECTION_LABEL: "true"}});
    let mut out = Vec::new();
    if !gate.protected_crds().is_empty() {
        out.push(webhook("protect.crds", path, vec![rule("apiextensions.k8s.io", "customresourcedefinitions", &["DELETE"])], fail, ctx));
    }
    let builtin = |g: &str, p: &str| PROTECTED_BUILTINS.iter().any(|(bg, ps)| *bg == g && ps.contains(&p));
    let mut own: Vec<(String, String)> = gate
        .valid()
        .katalog
        .crds()
        .iter()
        .filter(|(_, e)| e.is_enabled())
        .filter_map(|(_, e)| api_identity(e).filter(|id| !id.plural.is_empty()))
        .filter(|id| gate.protects_crs(&id.group, &id.plural) && !builtin(&id.group, &id.plural))
        .map(|id| (id.group, id.plural))
        .collect();
    own.sort();
    own.dedup();
    if !own.is_empty() {
        let rules = own.iter().map(|(g, p)| rule(g, p, &["DELETE"])).collect();
        let mut w = webhook("protect.resources", path, rules, fail, ctx);
        w["objectSelector"] = labelled.clone();
        out.push(w);
    }
    let rules = PROTECTED_BUILTINS
        .iter()
        .map(|(g, plurals)| json!({"apiGroups": [g], "apiVersions": ["*"], "resources": plurals, "operations": ["DELETE"], "scope": "*"}))
        .collect();
    let mut w = webhook("protect.builtins", path, rules, fail, ctx);
    w["objectSelector"] = labelled;
    w["namespaceSelector"] = json!({"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": [ns]}]});
    out.push(w);
    out
}

/// Every configuration `plan` declares, in [`WebhookConfig`] order.
pub fn desired(gate: &Gate, plan: &GatewayPlan, ns: &str, reach: &Reach, ca_bundle: &str) -> Vec<(WebhookConfig, Value)> {
    plan.configs.iter().map(|d| (d.config, desired_config(gate, d, ns, reach, ca_bundle))).collect()
}

/// The webhooks the HTTPS server answers for `plan`, in the API server's order.
pub fn routes(plan: &GatewayPlan) -> Vec<Webhook> {
    let declared = |c| plan.config(c).is_some();
    Webhook::ALL
        .into_iter()
        .filter(|w| match w {
            Webhook::Mutate => declared(WebhookConfig::Mutation),
            Webhook::NamespaceProtection => declared(WebhookConfig::NamespaceProtection),
            Webhook::Validate => declared(WebhookConfig::Validation),
            Webhook::DeletionProtection => declared(WebhookConfig::DeletionProtection),
            Webhook::Convert => !plan.conversion.is_empty(),
        })
        .collect()
}

/// The `spec.conversion` of a CRD whose conversion the gateway serves.
pub fn conversion_stanza(reach: &Reach, ca_bundle: &str) -> Value {
    let mut cc = client_config(reach, Webhook::Convert.path(), ca_bundle);
    // A merge patch keeps keys it does not mention: drop the other way of reaching the gateway.
    match reach {
        Reach::Service { .. } => cc["url"] = Value::Null,
        Reach::Url(_) => cc["service"] = Value::Null,
    }
    json!({"strategy": "Webhook", "webhook": {"clientConfig": cc, "conversionReviewVersions": ["v1"]}})
}

/// Whether the stored conversion of a CRD already is `stanza` (nulls in it meaning absent).
pub fn conversion_matches(stored: Option<&Value>, stanza: &Value) -> bool {
    fn covers(have: Option<&Value>, want: &Value) -> bool {
        match want {
            Value::Null => have.is_none_or(Value::is_null),
            Value::Object(m) => m.iter().all(|(k, v)| covers(have.and_then(|h| h.get(k)), v)),
            other => have == Some(other),
        }
    }
    covers(stored, stanza)
}

/// The CRD name (`plural.group`) of a CRD entry of the Gate's Katalog.
pub fn crd_name(gate: &Gate, crd: &str) -> Option<String> {
    identity(gate, crd).map(|(_, id)| format!("{}.{}", id.plural, id.group))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merge_patch_stanza_matches_what_it_produces() {
        let reach = Reach::Url("https://127.0.0.1:8443".into());
        let s = conversion_stanza(&reach, "Q0E=");
        let stored = json!({"strategy": "Webhook", "webhook": {"clientConfig": {"url": "https://127.0.0.1:8443/convert", "caBundle": "Q0E="}, "conversionReviewVersions": ["v1"]}});
        assert!(conversion_matches(Some(&stored), &s));
        let mut old = stored.clone();
        old["webhook"]["clientConfig"]["service"] = json!({"name": "x"});
        assert!(!conversion_matches(Some(&old), &s));
        assert!(!conversion_matches(None, &s));
    }
}
