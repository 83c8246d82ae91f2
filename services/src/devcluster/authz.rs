//! Authorization as the API server's RBAC authorizer decides it, over the Roles, ClusterRoles
//! and bindings stored in the dev cluster plus the bootstrap roles every cluster has; the
//! privilege-escalation checks of the RBAC storage (a Role or binding may grant only what its
//! author holds, unless the author may `escalate` / `bind`); the rules a user holds (what
//! `kubectl auth can-i --list` shows); and the audit record of every decision.

use crate::cluster::MemCluster;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The API group of the RBAC objects.
const RBAC: &str = "rbac.authorization.k8s.io";

/// Who a request is made by: an authenticated user (by token), an impersonated one, or
/// `system:anonymous`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct User {
    /// `ork-dev-admin`, `system:serviceaccount:<ns>:<name>`, `system:anonymous`, …
    pub name: String,
    /// Groups (`system:masters` may do anything).
    pub groups: Vec<String>,
    /// A uid, when one was given by impersonation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Extra attributes, when given by impersonation.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Vec<String>>,
}

impl User {
    /// The administrator the default kubeconfig authenticates as.
    pub fn admin() -> User {
        User { name: "ork-dev-admin".into(), groups: vec!["system:masters".into(), "system:authenticated".into()], ..User::default() }
    }

    /// A plain authenticated user.
    pub fn named(name: &str) -> User {
        User { name: name.into(), groups: vec!["system:authenticated".into()], ..User::default() }
    }

    /// A ServiceAccount's user.
    pub fn service_account(namespace: &str, name: &str) -> User {
        User {
            name: format!("system:serviceaccount:{namespace}:{name}"),
            groups: vec!["system:serviceaccounts".into(), format!("system:serviceaccounts:{namespace}"), "system:authenticated".into()],
            ..User::default()
        }
    }

    /// The user of a request that carries no credentials.
    pub fn anonymous() -> User {
        User { name: "system:anonymous".into(), groups: vec!["system:unauthenticated".into()], ..User::default() }
    }

    /// Whether this is `system:anonymous`.
    pub fn is_anonymous(&self) -> bool {
        self.name == "system:anonymous"
    }

    /// The user as the API server describes it to webhooks and in a SelfSubjectReview
    /// (`username`, `groups`, `uid`, `extra`).
    pub fn info(&self) -> Value {
        let mut info = json!({"username": self.name, "groups": self.groups});
        if let Some(uid) = &self.uid {
            info["uid"] = json!(uid);
        }
        if !self.extra.is_empty() {
            info["extra"] = json!(self.extra);
        }
        info
    }

    fn is_master(&self) -> bool {
        self.groups.iter().any(|g| g == "system:masters")
    }
}

/// One request as the authorizer sees it: a resource request (verb, group, resource, …) or,
/// with `path` set and `resource` empty, a non-resource request (`/version`, `/api`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Request {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `impersonate`, `bind`, …
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
    /// The URL path of a non-resource request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[allow(missing_docs)]
pub struct AuditEntry {
    pub user: String,
    #[serde(flatten)]
    pub request: Request,
    /// Whether it was allowed.
    pub allowed: bool,
    /// Why a request that authorization allowed was refused after all (the RBAC escalation
    /// check), as the API server's message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// The audit record of a dev cluster, bounded: the newest [`AuditLog::KEEP`] allowed decisions
/// and, separately, the newest [`AuditLog::KEEP`] refusals (the ones a report names), so a
/// long-running cluster does not grow without end and a flood of allowed requests never pushes
/// a refusal out.
#[derive(Debug, Default)]
pub struct AuditLog {
    next: u64,
    allowed: std::collections::VecDeque<(u64, AuditEntry)>,
    refused: std::collections::VecDeque<(u64, AuditEntry)>,
}

impl AuditLog {
    /// How many entries of each kind are kept.
    pub const KEEP: usize = 65_536;

    /// Records one decision.
    pub fn push(&mut self, entry: AuditEntry) {
        let list = if entry.allowed { &mut self.allowed } else { &mut self.refused };
        list.push_back((self.next, entry));
        if list.len() > Self::KEEP {
            list.pop_front();
        }
        self.next += 1;
    }

    /// Every kept entry, in the order the decisions were made.
    pub fn entries(&self) -> Vec<AuditEntry> {
        let mut all: Vec<&(u64, AuditEntry)> = self.allowed.iter().chain(self.refused.iter()).collect();
        all.sort_by_key(|(n, _)| *n);
        all.into_iter().map(|(_, e)| e.clone()).collect()
    }
}

/// An RBAC policy rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rule {
    /// Verbs (`*` is every verb).
    pub verbs: Vec<String>,
    /// API groups (`*` is every group).
    pub api_groups: Vec<String>,
    /// Resources, `res/sub` for subresources (`*`, `*/sub`, `res/*` are wildcards).
    pub resources: Vec<String>,
    /// Object names (empty: every object).
    pub resource_names: Vec<String>,
    /// Non-resource URL paths (a trailing `*` is a prefix match).
    pub non_resource_urls: Vec<String>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect()).unwrap_or_default()
}

fn owned(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

impl Rule {
    /// The rule of a stored Role or ClusterRole's `rules[]` item.
    pub fn from_json(v: &Value) -> Rule {
        Rule {
            verbs: strings(v.get("verbs")),
            api_groups: strings(v.get("apiGroups")),
            resources: strings(v.get("resources")),
            resource_names: strings(v.get("resourceNames")),
            non_resource_urls: strings(v.get("nonResourceURLs")),
        }
    }

    fn new(verbs: &[&str], groups: &[&str], resources: &[&str]) -> Rule {
        Rule { verbs: owned(verbs), api_groups: owned(groups), resources: owned(resources), ..Rule::default() }
    }

    fn non_resource(verbs: &[&str], urls: &[&str]) -> Rule {
        Rule { verbs: owned(verbs), non_resource_urls: owned(urls), ..Rule::default() }
    }

    /// Whether this rule allows `r`.
    fn allows(&self, r: &Request) -> bool {
        let has = |set: &[String], x: &str| set.iter().any(|v| v == "*" || v == x);
        if !has(&self.verbs, &r.verb) {
            return false;
        }
        if let (true, Some(path)) = (r.resource.is_empty(), &r.path) {
            return self.non_resource_urls.iter().any(|u| url_covers(u, path));
        }
        let resource = match &r.subresource {
            Some(s) => format!("{}/{s}", r.resource),
            None => r.resource.clone(),
        };
        let resource_ok = self
            .resources
            .iter()
            .any(|v| v == "*" || *v == resource || r.subresource.as_ref().is_some_and(|s| *v == format!("*/{s}") || *v == format!("{}/*", r.resource)));
        let name_ok = self.resource_names.is_empty() || r.name.as_ref().is_some_and(|n| self.resource_names.contains(n));
        has(&self.api_groups, &r.group) && resource_ok && name_ok
    }

    /// The rule as JSON (`rules[]` of a Role, `resourceRules[]` of a rules review).
    pub fn to_json(&self) -> Value {
        let mut v = json!({"verbs": self.verbs});
        for (k, list) in [
            ("apiGroups", &self.api_groups),
            ("resources", &self.resources),
            ("resourceNames", &self.resource_names),
            ("nonResourceURLs", &self.non_resource_urls),
        ] {
            if !list.is_empty() {
                v[k] = json!(list);
            }
        }
        v
    }

    /// One line as the API server prints a rule in escalation errors:
    /// `{APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}`.
    pub fn compact(&self) -> String {
        let q = |l: &[String]| format!("[{}]", l.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(" "));
        let mut parts = Vec::new();
        for (label, list) in [
            ("APIGroups", &self.api_groups),
            ("Resources", &self.resources),
            ("NonResourceURLs", &self.non_resource_urls),
            ("ResourceNames", &self.resource_names),
            ("Verbs", &self.verbs),
        ] {
            if !list.is_empty() {
                parts.push(format!("{label}:{}", q(list)));
            }
        }
        format!("{{{}}}", parts.join(", "))
    }

    /// The rule split into single-verb, single-group, single-resource (single-name) rules,
    /// as the API server breaks a rule down before checking that its author holds it.
    fn breakdown(&self) -> Vec<Rule> {
        let mut out = Vec::new();
        for g in &self.api_groups {
            for r in &self.resources {
                for v in &self.verbs {
                    if self.resource_names.is_empty() {
                        out.push(Rule::new(&[v], &[g], &[r]));
                    } else {
                        for n in &self.resource_names {
                            out.push(Rule { resource_names: vec![n.clone()], ..Rule::new(&[v], &[g], &[r]) });
                        }
                    }
                }
            }
        }
        for u in &self.non_resource_urls {
            for v in &self.verbs {
                out.push(Rule::non_resource(&[v], &[u]));
            }
        }
        out
    }

    /// Whether this (owner) rule covers the single-valued rule `sub`.
    fn covers(&self, sub: &Rule) -> bool {
        let has = |set: &[String], x: &str| set.iter().any(|v| v == x);
        let has_all = |set: &[String], xs: &[String]| xs.iter().all(|x| has(set, x));
        let verbs = has(&self.verbs, "*") || has_all(&self.verbs, &sub.verbs);
        let groups = has(&self.api_groups, "*") || has_all(&self.api_groups, &sub.api_groups);
        let resources = has(&self.resources, "*")
            || sub.resources.iter().all(|path| {
                has(&self.resources, path) || path.split_once('/').is_some_and(|(_, subresource)| has(&self.resources, &format!("*/{subresource}")))
            });
        let urls = sub.non_resource_urls.iter().all(|u| self.non_resource_urls.iter().any(|o| url_covers(o, u)));
        let names = self.resource_names.is_empty() || (!sub.resource_names.is_empty() && has_all(&self.resource_names, &sub.resource_names));
        verbs && groups && resources && names && urls
    }
}

fn url_covers(owner: &str, path: &str) -> bool {
    owner == path || owner.strip_suffix('*').is_some_and(|prefix| path.starts_with(prefix))
}

/// The paths every client may read, signed in or not (`system:public-info-viewer`).
const PUBLIC_PATHS: &[&str] = &["/healthz", "/livez", "/readyz", "/version", "/version/"];

/// The bootstrap ClusterRoles every cluster binds, that the dev cluster applies without storing
/// them: `system:public-info-viewer` (everyone), `system:discovery` and `system:basic-user`
/// (every authenticated user).
fn bootstrap_rules(user: &User) -> Vec<Rule> {
    let mut rules = vec![Rule::non_resource(&["get"], PUBLIC_PATHS)];
    if user.groups.iter().any(|g| g == "system:authenticated") {
        rules.push(Rule::non_resource(&["get"], &["/api", "/api/*", "/apis", "/apis/*", "/openapi", "/openapi/*"]));
        rules.push(Rule::new(&["create"], &["authorization.k8s.io"], &["selfsubjectaccessreviews", "selfsubjectrulesreviews"]));
        rules.push(Rule::new(&["create"], &["authentication.k8s.io"], &["selfsubjectreviews"]));
    }
    rules
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
    katalog::kinds::known(RBAC, kind).map(|r| store.objects(&r)).unwrap_or_default()
}

fn named<'v>(list: &'v [Value], name: &str, ns: Option<&str>) -> Option<&'v Value> {
    list.iter().find(|o| o.pointer("/metadata/name").and_then(Value::as_str) == Some(name) && o.pointer("/metadata/namespace").and_then(Value::as_str) == ns)
}

fn role_rules(role: Option<&Value>) -> Vec<Rule> {
    role.and_then(|x| x.get("rules")).and_then(Value::as_array).map(|rules| rules.iter().map(Rule::from_json).collect()).unwrap_or_default()
}

/// A snapshot of the RBAC objects, read once per decision.
struct Policy {
    roles: Vec<Value>,
    cluster_roles: Vec<Value>,
    bindings: Vec<Value>,
    cluster_bindings: Vec<Value>,
}

impl Policy {
    fn read(store: &MemCluster) -> Policy {
        Policy {
            roles: objects(store, "Role"),
            cluster_roles: objects(store, "ClusterRole"),
            bindings: objects(store, "RoleBinding"),
            cluster_bindings: objects(store, "ClusterRoleBinding"),
        }
    }

    /// The rules `user` holds cluster-wide, plus with `namespace` those held in it.
    fn rules_for(&self, user: &User, namespace: Option<&str>) -> Vec<Rule> {
        let mut out = bootstrap_rules(user);
        let bound = |b: &&Value| b.get("subjects").and_then(Value::as_array).is_some_and(|s| s.iter().any(|s| subject_is(s, user)));
        for b in self.cluster_bindings.iter().filter(bound) {
            let name = b.pointer("/roleRef/name").and_then(Value::as_str).unwrap_or_default();
            out.extend(role_rules(named(&self.cluster_roles, name, None)));
        }
        let Some(ns) = namespace else { return out };
        for b in self.bindings.iter().filter(|b| b.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns)).filter(bound) {
            out.extend(self.referenced_rules(&b["roleRef"], Some(ns)).unwrap_or_default());
        }
        out
    }

    /// The rules of the role a binding refers to (`None` when that role does not exist).
    fn referenced_rules(&self, role_ref: &Value, ns: Option<&str>) -> Option<Vec<Rule>> {
        let name = role_ref.get("name").and_then(Value::as_str).unwrap_or_default();
        let role = match role_ref.get("kind").and_then(Value::as_str) {
            Some("ClusterRole") => named(&self.cluster_roles, name, None),
            _ => named(&self.roles, name, ns),
        };
        role.map(|r| role_rules(Some(r)))
    }
}

/// Whether `user` may do anything: `system:masters`, or, without `rbac`, every signed-in user
/// (the API server's AlwaysAllow authorizer).
fn unrestricted(rbac: bool, user: &User) -> bool {
    user.is_master() || (!rbac && !user.is_anonymous())
}

/// The rules a restricted `user` holds (cluster-wide, plus in `namespace`): with `rbac` the
/// stored policy and the bootstrap roles; without it only the public paths (`system:anonymous`).
fn held(store: &MemCluster, rbac: bool, user: &User, namespace: Option<&str>) -> Vec<Rule> {
    if rbac { Policy::read(store).rules_for(user, namespace) } else { bootstrap_rules(user) }
}

/// Whether `user` may make `r`: unrestricted users always, others by the rules they hold.
pub fn authorize(store: &MemCluster, rbac: bool, user: &User, r: &Request) -> bool {
    unrestricted(rbac, user) || held(store, rbac, user, r.namespace.as_deref()).iter().any(|rule| rule.allows(r))
}

/// The rules `user` holds in `namespace` (cluster-wide ones included), as a
/// SelfSubjectRulesReview reports them (`*` for an unrestricted user).
pub fn rules_review(store: &MemCluster, rbac: bool, user: &User, namespace: &str) -> Vec<Rule> {
    if unrestricted(rbac, user) {
        return vec![Rule::new(&["*"], &["*"], &["*"]), Rule::non_resource(&["*"], &["*"])];
    }
    held(store, rbac, user, Some(namespace).filter(|n| !n.is_empty()))
}

/// The API server's 403 message.
pub fn forbidden_message(user: &User, r: &Request) -> String {
    if let (true, Some(path)) = (r.resource.is_empty(), &r.path) {
        return format!("forbidden: User \"{}\" cannot {} path \"{path}\"", user.name, r.verb);
    }
    let qualified = katalog::kinds::group_resource(&r.group, &r.resource);
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

/// Why a write of an RBAC object is refused by the escalation checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Escalation {
    /// 403: the object would grant what its author does not hold.
    Forbidden(String),
    /// 404: a binding refers to a role that does not exist (and the author may not `bind` it).
    RoleNotFound {
        /// `roles` or `clusterroles`.
        resource: String,
        /// The role's name.
        name: String,
    },
}

/// The RBAC storage's privilege-escalation check for a create or update of a Role,
/// ClusterRole, RoleBinding or ClusterRoleBinding by `user` (RBAC mode; other kinds pass):
/// a role may hold only rules its author holds (in its namespace) unless the author may
/// `escalate` it; a binding may refer only to a role whose rules its author holds unless the
/// author may `bind` that role. An update that changes only owner references or finalizers
/// passes, as for the garbage collector.
pub fn check_escalation(store: &MemCluster, user: &User, kind: &str, namespace: Option<&str>, object: &Value, old: Option<&Value>) -> Result<(), Escalation> {
    if user.is_master() || !matches!(kind, "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding") {
        return Ok(());
    }
    if old.is_some_and(|o| without_gc_fields(o) == without_gc_fields(object)) {
        return Ok(());
    }
    let name = object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
    let policy = Policy::read(store);
    // What the author holds where the object lives: decides `escalate`/`bind` and coverage.
    let held = policy.rules_for(user, namespace);
    let may = |verb: &str, resource: &str, target: &str| {
        let r = Request {
            verb: verb.into(),
            group: RBAC.into(),
            resource: resource.into(),
            namespace: namespace.map(str::to_string),
            name: Some(target.to_string()),
            ..Request::default()
        };
        held.iter().any(|rule| rule.allows(&r))
    };
    let plural = format!("{}s", kind.to_ascii_lowercase());
    let wanted = match kind {
        "Role" | "ClusterRole" => {
            if may("escalate", &plural, &name) {
                return Ok(());
            }
            role_rules(Some(object))
        }
        _ => {
            let role_ref = object.get("roleRef").cloned().unwrap_or(Value::Null);
            let role_kind = role_ref.get("kind").and_then(Value::as_str).unwrap_or_default();
            let role_name = role_ref.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
            let role_plural = if role_kind == "ClusterRole" { "clusterroles" } else { "roles" };
            if may("bind", role_plural, &role_name) {
                return Ok(());
            }
            let role_ns = if role_kind == "ClusterRole" { None } else { namespace };
            policy.referenced_rules(&role_ref, role_ns).ok_or(Escalation::RoleNotFound { resource: role_plural.into(), name: role_name })?
        }
    };
    let atoms: Vec<Rule> = wanted.iter().flat_map(Rule::breakdown).filter(|atom| !held.iter().any(|h| h.covers(atom))).collect();
    let mut missing: Vec<String> = compact_rules(atoms).iter().map(Rule::compact).collect();
    missing.sort();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    let groups = format!("[{}]", user.groups.iter().map(|g| format!("{g:?}")).collect::<Vec<_>>().join(" "));
    Err(Escalation::Forbidden(format!(
        "{plural}.{RBAC} \"{name}\" is forbidden: user \"{}\" (groups={groups}) is attempting to grant RBAC permissions not currently held:\n{}",
        user.name,
        missing.join("\n")
    )))
}

/// Merges single-group, single-resource rules that differ only in their verbs (verbs in first-seen
/// order), as the API server compacts the rules it reports missing; other rules stay as they are.
fn compact_rules(atoms: Vec<Rule>) -> Vec<Rule> {
    let mut out: Vec<Rule> = Vec::new();
    for atom in atoms {
        let simple = |r: &Rule| r.resource_names.is_empty() && r.non_resource_urls.is_empty() && r.api_groups.len() == 1 && r.resources.len() == 1;
        if simple(&atom)
            && let Some(into) = out.iter_mut().find(|r| simple(r) && r.api_groups == atom.api_groups && r.resources == atom.resources)
        {
            for v in atom.verbs {
                if !into.verbs.contains(&v) {
                    into.verbs.push(v);
                }
            }
            continue;
        }
        out.push(atom);
    }
    out
}

/// The object without what the garbage collector may change (owner references, finalizers)
/// and without server-managed metadata.
fn without_gc_fields(o: &Value) -> Value {
    let mut o = o.clone();
    if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in ["ownerReferences", "finalizers", "resourceVersion", "generation", "managedFields", "creationTimestamp", "uid"] {
            m.remove(k);
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(v: Value) -> Rule {
        Rule::from_json(&v)
    }

    #[test]
    fn coverage_follows_the_rbac_storage_rules() {
        let star = rule(json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}));
        let get_pods = rule(json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}));
        let named = rule(json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"], "resourceNames": ["a"]}));
        let sub = rule(json!({"verbs": ["get"], "apiGroups": [""], "resources": ["*/status"]}));
        for atom in get_pods.breakdown() {
            assert!(star.covers(&atom));
            assert!(!named.covers(&atom), "a name-restricted rule does not cover every name");
        }
        for atom in named.breakdown() {
            assert!(get_pods.covers(&atom));
        }
        let status = rule(json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods/status"]}));
        assert!(status.breakdown().iter().all(|a| sub.covers(a)), "*/status covers pods/status");
        assert!(!get_pods.breakdown().iter().all(|a| sub.covers(a)));
        let wide = rule(json!({"verbs": ["get", "list"], "apiGroups": ["", "apps"], "resources": ["pods", "deployments"]}));
        assert_eq!(wide.breakdown().len(), 8);
        let urls = rule(json!({"verbs": ["get"], "nonResourceURLs": ["/healthz/*"]}));
        assert!(urls.covers(&Rule::non_resource(&["get"], &["/healthz/etcd"])));
        assert!(!urls.covers(&Rule::non_resource(&["get"], &["/metrics"])));
    }

    #[test]
    fn compact_rules_read_as_the_api_server_prints_them() {
        assert_eq!(Rule::new(&["get"], &["apps"], &["deployments"]).compact(), r#"{APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}"#);
        let named = Rule { resource_names: vec!["x".into()], ..Rule::new(&["get"], &[""], &["secrets"]) };
        assert_eq!(named.compact(), r#"{APIGroups:[""], Resources:["secrets"], ResourceNames:["x"], Verbs:["get"]}"#);
        assert_eq!(Rule::non_resource(&["get"], &["/metrics"]).compact(), r#"{NonResourceURLs:["/metrics"], Verbs:["get"]}"#);
    }

    #[test]
    fn requests_are_allowed_by_matching_rules_only() {
        let r = Request { verb: "get".into(), group: "".into(), resource: "pods".into(), subresource: Some("log".into()), ..Request::default() };
        assert!(rule(json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods/*"]})).allows(&r));
        assert!(!rule(json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]})).allows(&r));
        let path = Request { verb: "get".into(), path: Some("/version".into()), ..Request::default() };
        assert!(bootstrap_rules(&User::anonymous()).iter().any(|x| x.allows(&path)));
        let api = Request { verb: "get".into(), path: Some("/apis/apps/v1".into()), ..Request::default() };
        assert!(!bootstrap_rules(&User::anonymous()).iter().any(|x| x.allows(&api)), "anonymous users cannot discover");
        assert!(bootstrap_rules(&User::named("alice")).iter().any(|x| x.allows(&api)));
    }
}
