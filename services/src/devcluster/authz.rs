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
    let resource_ok = strings(rule.get("resources")).iter().any(|v| {
        v == "*" || *v == resource || r.subresource.as_ref().is_some_and(|s| *v == format!("*/{s}") || *v == format!("{}/*", r.resource))
    });
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
    list.iter().find(|o| {
        o.pointer("/metadata/name").and_then(Value::as_str) == Some(name) && o.pointer("/metadata/namespace").and_then(Value::as_str) == ns
    })
}

/// Whether RBAC allows `user` to make `r`.
pub fn allowed(store: &MemCluster, user: &User, r: &Request) -> bool {
    if user.groups.iter().any(|g| g == "system:masters") {
        return true;
    }
    let cluster_roles = objects(store, "ClusterRole");
    let rules_allow = |role: Option<&Value>| {
        role.and_then(|x| x.get("rules")).and_then(Value::as_array).is_some_and(|rules| rules.iter().any(|rule| rule_allows(rule, r)))
    };
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

/// Reads the `resourceAttributes` of a protobuf-encoded `SelfSubjectAccessReview` (what
/// `kubectl auth can-i` sends): the Kubernetes envelope (`k8s\0` + runtime.Unknown), then
/// spec (2) → resourceAttributes (1) → namespace 1, verb 2, group 3, version 4, resource 5,
/// subresource 6, name 7.
pub fn access_review_attributes(body: &[u8]) -> Option<Request> {
    fn varint(b: &[u8], i: &mut usize) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *b.get(*i)?;
            *i += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    /// The length-delimited fields of a message: (field number, bytes).
    fn fields(b: &[u8]) -> Option<Vec<(u64, &[u8])>> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let key = varint(b, &mut i)?;
            match key & 7 {
                0 => {
                    varint(b, &mut i)?;
                }
                2 => {
                    let len = varint(b, &mut i)? as usize;
                    let end = i.checked_add(len).filter(|e| *e <= b.len())?;
                    out.push((key >> 3, &b[i..end]));
                    i = end;
                }
                1 => i += 8,
                5 => i += 4,
                _ => return None,
            }
        }
        Some(out)
    }
    let field = |b: &'_ [u8], n: u64| -> Option<Vec<u8>> { fields(b)?.into_iter().find(|(f, _)| *f == n).map(|(_, v)| v.to_vec()) };
    let raw = field(body.strip_prefix(b"k8s\0")?, 2)?;
    let attrs = field(&field(&raw, 2)?, 1)?;
    let text = |n: u64| field(&attrs, n).map(|v| String::from_utf8_lossy(&v).into_owned()).filter(|s| !s.is_empty());
    Some(Request {
        verb: text(2)?,
        group: text(3).unwrap_or_default(),
        resource: text(5)?,
        subresource: text(6),
        namespace: text(1),
        name: text(7),
    })
}
