//! Authentication by bearer token and RBAC authorization over the Roles, ClusterRoles and
//! bindings stored in the dev cluster, as the API server's RBAC authorizer decides; plus the
//! audit record of every decision.

use crate::cluster::{ApiResource, MemCluster};
use serde::Serialize;
use serde_json::Value;

/// Who a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// `ork-dev-admin`, `system:serviceaccount:<ns>:<name>`, …
    pub name: String,
    /// Groups (`system:masters` may do anything).
    pub groups: Vec<String>,
}

impl User {
    /// The administrator the default kubeconfig authenticates as.
    pub fn admin() -> User {
        User { name: "ork-dev-admin".into(), groups: vec!["system:masters".into(), "system:authenticated".into()] }
    }

    /// A ServiceAccount's user.
    pub fn service_account(namespace: &str, name: &str) -> User {
        User {
            name: format!("system:serviceaccount:{namespace}:{name}"),
            groups: vec!["system:serviceaccounts".into(), format!("system:serviceaccounts:{namespace}"), "system:authenticated".into()],
        }
    }
}

/// One request as the authorizer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Request {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`.
    pub verb: String,
    /// API group.
    pub group: String,
    /// Resource (plural).
    pub resource: String,
    /// Subresource, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
    /// Namespace, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Object name, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Who.
    pub user: String,
    /// What.
    #[serde(flatten)]
    pub request: Request,
    /// Whether it was allowed.
    pub allowed: bool,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect()).unwrap_or_default()
}

fn rule_allows(rule: &Value, r: &Request) -> bool {
    let has = |k: &str, x: &str| strings(rule.get(k)).iter().any(|v| v == "*" || v == x);
    let resource = match &r.subresource {
        Some(s) => format!("{}/{s}", r.resource),
        None => r.resource.clone(),
    };
    let resource_ok = strings(rule.get("resources"))
        .iter()
        .any(|v| v == "*" || *v == resource || r.subresource.as_ref().is_some_and(|s| *v == format!("*/{s}") || *v == format!("{}/*", r.resource)));
    let names = strings(rule.get("resourceNames"));
    let name_ok = names.is_empty() || r.name.as_ref().is_some_and(|n| names.contains(n));
    has("verbs", &r.verb) && has("apiGroups", &r.group) && resource_ok && name_ok
}

fn subject_is(subject: &Value, user: &User) -> bool {
    let s = |k: &str| subject.get(k).and_then(Value::as_str).unwrap_or_default();
    match s("kind") {
        "User" => s("name") == user.name,
        "Group" => user.groups.iter().any(|g| g == s("name")),
        "ServiceAccount" => {
            let ns = subject.get("namespace").and_then(Value::as_str).unwrap_or_default();
            user.name == format!("system:serviceaccount:{ns}:{}", s("name"))
        }
        _ => false,
    }
}

fn objects(store: &MemCluster, kind: &str) -> Vec<Value> {
    katalog::kinds::known("rbac.authorization.k8s.io", kind).map(|r| store.objects(&r)).unwrap_or_default()
}

fn named<'v>(list: &'v [Value], name: &str, ns: Option<&str>) -> Option<&'v Value> {
    list.iter().find(|o| o.pointer("/metadata/name").and_then(Value::as_str) == Some(name) && o.pointer("/metadata/namespace").and_then(Value::as_str) == ns)
}

/// Whether RBAC allows `user` to make `r`.
pub fn allowed(store: &MemCluster, user: &User, r: &Request) -> bool {
    if user.groups.iter().any(|g| g == "system:masters") {
        return true;
    }
    let cluster_roles = objects(store, "ClusterRole");
    let rules_allow =
        |role: Option<&Value>| role.and_then(|x| x.get("rules")).and_then(Value::as_array).is_some_and(|rules| rules.iter().any(|rule| rule_allows(rule, r)));
    for b in objects(store, "ClusterRoleBinding") {
        let subjects = b.get("subjects").and_then(Value::as_array).cloned().unwrap_or_default();
        if subjects.iter().any(|s| subject_is(s, user)) {
            let name = b.pointer("/roleRef/name").and_then(Value::as_str).unwrap_or_default();
            if rules_allow(named(&cluster_roles, name, None)) {
                return true;
            }
        }
    }
    let Some(ns) = r.namespace.as_deref() else { return false };
    let roles = objects(store, "Role");
    for b in objects(store, "RoleBinding").iter().filter(|b| b.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns)) {
        let subjects = b.get("subjects").and_then(Value::as_array).cloned().unwrap_or_default();
        if !subjects.iter().any(|s| subject_is(s, user)) {
            continue;
        }
        let name = b.pointer("/roleRef/name").and_then(Value::as_str).unwrap_or_default();
        let role = match b.pointer("/roleRef/kind").and_then(Value::as_str) {
            Some("ClusterRole") => named(&cluster_roles, name, None),
            _ => named(&roles, name, Some(ns)),
        };
        if rules_allow(role) {
            return true;
        }
    }
    false
}

/// The API server's 403 message.
pub fn forbidden_message(user: &User, r: &Request, res: &ApiResource) -> String {
    let qualified = if res.group.is_empty() { r.resource.clone() } else { format!("{}.{}", r.resource, res.group) };
    let object = match &r.name {
        Some(n) => format!("{qualified} \"{n}\""),
        None => qualified,
    };
    let resource = match &r.subresource {
        Some(s) => format!("{}/{s}", r.resource),
        None => r.resource.clone(),
    };
    let scope = match &r.namespace {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_string(),
    };
    format!("{object} is forbidden: User \"{}\" cannot {} resource \"{resource}\" in API group \"{}\" {scope}", user.name, r.verb, r.group)
}
