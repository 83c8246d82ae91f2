//! `ork generate bundle`: the install bundle of a Katalog as one multi-document YAML stream.
//!
//! Fixed order: the Namespace (Pod Security Standards `restricted`, enforced, audited and
//! warned), the ServiceAccounts, per component a ClusterRole + ClusterRoleBinding (cluster-wide
//! rules) and a Role + RoleBinding (rules confined to the install namespace), then the ConfigMap
//! with the expanded Katalog. Each rule is preceded by comments giving the reason for each of its
//! verbs. No timestamps, sorted everywhere: the same Katalog gives the same bytes.

use super::rbac::{Component, Derivation, Rule, Scope};
use crate::install;
use crate::kinds::api_identity;
use crate::model::Katalog;
use crate::yaml::{Node, emit};
use serde_json::{Map, Value, json};

/// Which components the bundle is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    /// The runtime's ServiceAccount and roles.
    pub runtime: bool,
    /// The gateway's (dropped when the Katalog declares no gateway feature).
    pub gateway: bool,
}

/// Why the shipped Katalog cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShipError {
    /// A CRD entry of the expanded document is not in the model (the two come from different loads).
    #[error("crd `{crd}` vanished from the model")]
    NotInModel {
        /// The CRD entry.
        crd: String,
    },
    /// The entry's crdFile, which is not shipped, does not give the whole identity to write into `apiTypes`.
    #[error("crd `{crd}`: its crdFile does not give a complete identity; write `apiTypes: {{group, version, kind, plural}}`")]
    IncompleteIdentity {
        /// The CRD entry.
        crd: String,
    },
}

/// The Katalog text shipped in the ConfigMap: the expanded document, self-contained. Motif
/// imports are already spliced in, so their `imports:` lists go; `crdFile` and `crFiles` are
/// local development paths, so they go too, with the identity `crdFile` supplied written into
/// `apiTypes` (and its scope into `namespaced`).
pub fn shipped_katalog(katalog: &Katalog, expanded: &Node) -> Result<String, ShipError> {
    shipped_json(katalog, expanded).map(|v| emit(&v))
}

/// [`shipped_katalog`] as JSON.
pub fn shipped_json(katalog: &Katalog, expanded: &Node) -> Result<Value, ShipError> {
    let mut doc = expanded.to_json();
    doc["kind"] = json!("Katalog");
    let Some(crds) = doc.pointer_mut("/spec/crds").and_then(Value::as_object_mut) else { return Ok(doc) };
    for (name, entry) in crds.iter_mut() {
        let Some(e) = entry.as_object_mut() else { continue };
        if let Some(r) = e.get_mut("operatorBox").and_then(|o| o.get_mut("reconcile")).and_then(Value::as_object_mut) {
            r.remove("imports");
        }
        e.remove("crFiles");
        if e.remove("crdFile").is_some() {
            let model = katalog.crds().get(name).ok_or_else(|| ShipError::NotInModel { crd: name.clone() })?;
            let id = api_identity(model)
                .filter(|id| !id.plural.is_empty() && !id.version.is_empty())
                .ok_or_else(|| ShipError::IncompleteIdentity { crd: name.clone() })?;
            e.insert("apiTypes".into(), json!({"group": id.group, "version": id.version, "kind": id.kind, "plural": id.plural}));
            if !id.namespaced && !e.contains_key("namespaced") {
                e.insert("namespaced".into(), json!(false));
            }
        }
    }
    Ok(doc)
}

fn labels(component: Option<Component>) -> Value {
    let mut m = Map::new();
    m.insert("app.kubernetes.io/managed-by".into(), json!("ork"));
    m.insert("app.kubernetes.io/part-of".into(), json!("orkestra"));
    if let Some(c) = component {
        m.insert("app.kubernetes.io/component".into(), json!(c.as_str()));
    }
    Value::Object(m)
}

fn rule_json(r: &Rule) -> Value {
    let mut m = Map::new();
    m.insert("apiGroups".into(), json!([r.key.api_group]));
    m.insert("resources".into(), json!([r.key.resource]));
    if let Some(n) = &r.key.resource_name {
        m.insert("resourceNames".into(), json!([n]));
    }
    m.insert("verbs".into(), json!(r.verb_list().iter().map(|v| v.as_str()).collect::<Vec<_>>()));
    Value::Object(m)
}

/// A role document: the header emitted normally, then `rules:` with a reason comment above
/// each rule.
fn role_doc(kind: &str, name: &str, namespace: Option<&str>, component: Component, rules: &[&Rule]) -> String {
    let mut meta = json!({"name": name, "labels": labels(Some(component))});
    if let Some(ns) = namespace {
        meta["namespace"] = json!(ns);
    }
    let mut out = emit(&json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta}));
    out.push_str("rules:\n");
    for r in rules {
        for (reason, verbs) in r.reasons() {
            let verbs: Vec<&str> = verbs.iter().map(|v| v.as_str()).collect();
            out.push_str(&format!("# {} ({})\n", one_line(&reason.to_string()), verbs.join(", ")));
        }
        out.push_str(&emit(&json!([rule_json(r)])));
    }
    out
}

/// Comments are one line: newlines in a reason (from a user's name) become spaces.
pub(super) fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn binding_doc(kind: &str, role_kind: &str, name: &str, namespace: Option<&str>, sa: &str, ns: &str, component: Component) -> String {
    let mut meta = json!({"name": name, "labels": labels(Some(component))});
    if let Some(n) = namespace {
        meta["namespace"] = json!(n);
    }
    emit(&json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": meta,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}],
    }))
}

/// The bundle for the derived rules `d`, shipping `katalog_yaml` (see [`shipped_katalog`]).
pub fn bundle(d: &Derivation, katalog_name: &str, katalog_yaml: &str, sel: Selection) -> String {
    let header = format!("# Install bundle for Katalog `{}`, generated by `ork generate bundle`. Do not edit: regenerate.\n", one_line(katalog_name));
    header + &bundle_documents(d, katalog_yaml, sel)
}

/// The documents of [`bundle`], each after its `---` line, without the header comment: what
/// `ork generate install` puts after the CRDs.
pub fn bundle_documents(d: &Derivation, katalog_yaml: &str, sel: Selection) -> String {
    let ns = d.namespace.as_str();
    let mut docs: Vec<String> = Vec::new();
    let mut ns_labels = labels(None);
    for (k, v) in crate::security::namespace_labels() {
        ns_labels[k] = json!(v);
    }
    docs.push(emit(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": ns_labels}})));
    let mut components = Vec::new();
    if sel.runtime {
        components.push((Component::Runtime, install::RUNTIME_SERVICE_ACCOUNT, install::runtime_cluster_role(ns)));
    }
    if sel.gateway && !d.gateway.is_empty() {
        components.push((Component::Gateway, install::GATEWAY_SERVICE_ACCOUNT, install::gateway_cluster_role(ns)));
    }
    for (c, sa, _) in &components {
        docs.push(emit(&json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": sa, "namespace": ns, "labels": labels(Some(*c))},
            // Only the component's own pods mount its token (they opt in).
            "automountServiceAccountToken": false,
        })));
    }
    for (c, sa, cluster_name) in &components {
        let rules = d.rules(*c);
        let cluster: Vec<&Rule> = rules.scoped(Scope::Cluster).collect();
        if !cluster.is_empty() {
            docs.push(role_doc("ClusterRole", cluster_name, None, *c, &cluster));
            docs.push(binding_doc("ClusterRoleBinding", "ClusterRole", cluster_name, None, sa, ns, *c));
        }
        let local: Vec<&Rule> = rules.scoped(Scope::Namespace).collect();
        if !local.is_empty() {
            docs.push(role_doc("Role", sa, Some(ns), *c, &local));
            docs.push(binding_doc("RoleBinding", "Role", sa, Some(ns), sa, ns, *c));
        }
    }
    docs.push(emit(&json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": install::KATALOG_CONFIGMAP, "namespace": ns, "labels": labels(None)},
        "data": {install::KATALOG_KEY: katalog_yaml},
    })));
    let mut out = String::new();
    for doc in docs {
        out.push_str("---\n");
        out.push_str(&doc);
    }
    out
}
