//! Least-privilege RBAC derived from a Katalog (docs/rbac.md).
//!
//! Every permission is a *grant*: one verb on one resource (optionally one object name), in the
//! cluster or only in the install namespace, with the reason it exists (which CRD, which entry,
//! what the runtime or gateway does with it). Grants are folded into one rule per
//! `(scope, apiGroup, resource, resourceName)`, so the rule that allowed a request, and why, can
//! be looked up ([`RuleSet::allows`]).
//!
//! The verbs are the ones the reconciler and the gateway actually issue (the contract is in
//! docs/rbac.md); no rule ever contains `*`.

use crate::install::{self, WebhookConfig};
use crate::kinds::{self, ApiResource, CustomError, api_identity};
use crate::model::Katalog;
use crate::model::condition::Operator;
use crate::model::crd::CrdEntry;
use crate::model::resources::{ChildKind, EntryCommon, HookTemplates};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The process a rule set belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Component {
    /// `ork-runtime`: reconciles CRs.
    Runtime,
    /// `ork-gateway`: admission webhooks.
    Gateway,
}

impl Component {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Component::Runtime => "runtime",
            Component::Gateway => "gateway",
        }
    }
}

/// A Kubernetes API verb, in canonical order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)]
pub enum Verb {
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
    /// escalate (roles, clusterroles)
    Escalate,
    /// bind (roles, clusterroles)
    Bind,
}

impl Verb {
    /// Every verb, in canonical order.
    pub const ALL: [Verb; 9] = [Verb::Get, Verb::List, Verb::Watch, Verb::Create, Verb::Update, Verb::Patch, Verb::Delete, Verb::Escalate, Verb::Bind];

    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Watch => "watch",
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
            Verb::Escalate => "escalate",
            Verb::Bind => "bind",
        }
    }

    /// Parses the API spelling.
    pub fn parse(s: &str) -> Option<Verb> {
        Verb::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Verb {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Where a rule applies: everywhere (ClusterRole) or only in the install namespace (Role).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// ClusterRole + ClusterRoleBinding.
    Cluster,
    /// Role + RoleBinding in the install namespace.
    Namespace,
}

/// Why a verb is granted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Reason {
    /// The CRD entry that needs it; `None` for what the process needs for itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crd: Option<String>,
    /// What needs it and what is done with it.
    pub what: String,
}

impl Reason {
    fn system(what: impl Into<String>) -> Reason {
        Reason { crd: None, what: what.into() }
    }

    fn crd(crd: &str, what: impl Into<String>) -> Reason {
        Reason { crd: Some(crd.to_string()), what: what.into() }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.crd {
            Some(c) => write!(f, "{c}: {}", self.what),
            None => f.write_str(&self.what),
        }
    }
}

/// What a rule covers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RuleKey {
    /// Cluster-wide or install namespace only.
    pub scope: Scope,
    /// API group ("" = core).
    pub api_group: String,
    /// Resource, with `/subresource` when it is one.
    pub resource: String,
    /// The one object name the rule is restricted to, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
}

/// One policy rule: a [`RuleKey`] and its verbs, each with its reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// What it covers.
    #[serde(flatten)]
    pub key: RuleKey,
    /// Verbs (canonical order) → why each is granted.
    pub verbs: BTreeMap<Verb, BTreeSet<Reason>>,
}

impl Rule {
    /// The verbs, canonical order.
    pub fn verb_list(&self) -> Vec<Verb> {
        self.verbs.keys().copied().collect()
    }

    /// Every reason of the rule with the verbs it justifies, ordered by their first verb (in
    /// canonical order), then by reason.
    pub fn reasons(&self) -> Vec<(&Reason, Vec<Verb>)> {
        let mut by: BTreeMap<&Reason, Vec<Verb>> = BTreeMap::new();
        for (v, rs) in &self.verbs {
            for r in rs {
                by.entry(r).or_default().push(*v);
            }
        }
        let mut out: Vec<(&Reason, Vec<Verb>)> = by.into_iter().collect();
        out.sort_by(|a, b| (a.1[0], a.0).cmp(&(b.1[0], b.0)));
        out
    }
}

/// One API request, as an authorizer sees it.
#[derive(Debug, Clone, Copy)]
#[allow(missing_docs)]
pub struct Access<'a> {
    pub verb: &'a str,
    pub api_group: &'a str,
    /// Resource, with `/subresource` when it is one.
    pub resource: &'a str,
    /// Namespace of the object (`None` for cluster-scoped objects).
    pub namespace: Option<&'a str>,
    /// Object name (`None` for list, watch without a name selector, create).
    pub name: Option<&'a str>,
}

/// The rule that allowed an [`Access`], and the reasons for that verb.
#[derive(Debug, Clone, Copy)]
pub struct Allowed<'r> {
    /// The rule.
    pub rule: &'r Rule,
    /// Why its verb is granted.
    pub reasons: &'r BTreeSet<Reason>,
}

/// One flat permission (for comparisons): scope, group, resource, name, verb.
pub type Permission = (Scope, String, String, Option<String>, Verb);

/// The rules of one component, sorted by key.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RuleSet {
    /// Rules in key order.
    pub rules: Vec<Rule>,
}

impl RuleSet {
    fn from_grants(grants: BTreeMap<RuleKey, Verbs>) -> RuleSet {
        RuleSet { rules: grants.into_iter().map(|(key, verbs)| Rule { key, verbs }).collect() }
    }

    /// No rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Rules of one scope.
    pub fn scoped(&self, scope: Scope) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(move |r| r.key.scope == scope)
    }

    /// Every (scope, group, resource, name, verb) granted.
    pub fn permissions(&self) -> BTreeSet<Permission> {
        self.rules
            .iter()
            .flat_map(|r| r.verbs.keys().map(|v| (r.key.scope, r.key.api_group.clone(), r.key.resource.clone(), r.key.resource_name.clone(), *v)))
            .collect()
    }

    /// The rule allowing `a` for an installation in namespace `install_ns`, with the reasons for
    /// its verb; `None` when the request would be forbidden. Namespace-scoped rules only apply in
    /// `install_ns`; a rule with a resource name only applies to requests naming that object.
    pub fn allows(&self, install_ns: &str, a: &Access<'_>) -> Option<Allowed<'_>> {
        let verb = Verb::parse(a.verb)?;
        self.rules.iter().find_map(|r| {
            let k = &r.key;
            let in_scope = k.scope == Scope::Cluster || a.namespace == Some(install_ns);
            let named = k.resource_name.as_deref().is_none_or(|n| a.name == Some(n));
            if in_scope && named && k.api_group == a.api_group && k.resource == a.resource {
                r.verbs.get(&verb).map(|reasons| Allowed { rule: r, reasons })
            } else {
                None
            }
        })
    }
}

/// The permissions one CRD entry needs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CrdPermissions {
    /// Runtime rules caused by this CRD.
    pub runtime: RuleSet,
    /// Gateway rules caused by this CRD.
    pub gateway: RuleSet,
}

/// Everything derived from one Katalog for one install namespace.
#[derive(Debug, Clone, Serialize)]
pub struct Derivation {
    /// The install namespace.
    pub namespace: String,
    /// The runtime's rules.
    pub runtime: RuleSet,
    /// The gateway's rules; empty when the Katalog declares no gateway feature.
    pub gateway: RuleSet,
    /// The gateway features declared, human-readable, sorted.
    pub gateway_features: Vec<String>,
    /// Per enabled CRD entry (system rules excluded), by name.
    pub crds: BTreeMap<String, CrdPermissions>,
    /// Grants that are broader than the Katalog can bound (templated role names or rules).
    pub warnings: Vec<String>,
}

impl Derivation {
    /// The rules of a component.
    pub fn rules(&self, c: Component) -> &RuleSet {
        match c {
            Component::Runtime => &self.runtime,
            Component::Gateway => &self.gateway,
        }
    }
}

/// Verbs of one rule with their reasons.
type Verbs = BTreeMap<Verb, BTreeSet<Reason>>;
/// Rules per component, being collected.
type Collected = BTreeMap<Component, BTreeMap<RuleKey, Verbs>>;
/// One child entry of a block: kind, index within its kind, source path, common fields, resource.
type Entry<'b> = (ChildKind, usize, String, &'b EntryCommon, ApiResource);

/// Collects grants for both components, remembering which CRD caused each.
struct Sink {
    ns: String,
    warnings: Vec<String>,
    all: Collected,
    per_crd: BTreeMap<String, Collected>,
}

impl Sink {
    #[allow(clippy::too_many_arguments)]
    fn grant(&mut self, c: Component, scope: Scope, group: &str, resource: &str, name: Option<&str>, verbs: &[Verb], reason: &Reason) {
        for &verb in verbs {
            // Kubernetes cannot authorize `create` by object name (the name is not known to the
            // authorizer for generated names), so a create grant is never name-restricted.
            let name = if verb == Verb::Create { None } else { name };
            let key = RuleKey { scope, api_group: group.to_string(), resource: resource.to_string(), resource_name: name.map(str::to_string) };
            self.all.entry(c).or_default().entry(key.clone()).or_default().entry(verb).or_default().insert(reason.clone());
            if let Some(crd) = &reason.crd {
                self.per_crd
                    .entry(crd.clone())
                    .or_default()
                    .entry(c)
                    .or_default()
                    .entry(key.clone())
                    .or_default()
                    .entry(verb)
                    .or_default()
                    .insert(reason.clone());
            }
        }
    }

    fn runtime(&mut self, r: &ApiResource, sub: &str, verbs: &[Verb], reason: &Reason) {
        let resource = if sub.is_empty() { r.plural.clone() } else { format!("{}/{sub}", r.plural) };
        self.grant(Component::Runtime, Scope::Cluster, &r.group, &resource, None, verbs, reason);
    }
}

use Verb::*;

/// Why the rules of a Katalog cannot be derived. The Katalog must have passed `ork validate`,
/// which reports both cases with their position; these are what remains for a caller that
/// skipped it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeriveError {
    /// The resource plural of a CRD entry's own kind is not known.
    #[error("crd `{crd}`: its resource plural is not known; set `apiTypes.plural` (run `ork validate` for details)")]
    UnknownPlural {
        /// The CRD entry.
        crd: String,
    },
    /// The resource of a child entry cannot be resolved.
    #[error("crd `{crd}`: {entry}: the kind's resource cannot be resolved ({source:?}); run `ork validate`")]
    Unresolved {
        /// The CRD entry.
        crd: String,
        /// The child entry, as a path (`onCreate.custom[0]`).
        entry: String,
        /// Why it cannot be resolved.
        #[source]
        source: CustomError,
    },
}

/// Derives the runtime and gateway rules of `katalog` installed in namespace `ns`. The Katalog
/// must have passed validation; an entry whose resource still cannot be resolved is an error
/// (never a guessed rule).
pub fn derive(katalog: &Katalog, ns: &str) -> Result<Derivation, DeriveError> {
    let mut sink = Sink { ns: ns.to_string(), warnings: Vec::new(), all: BTreeMap::new(), per_crd: BTreeMap::new() };
    system_rules(&mut sink);
    let mut enabled: Vec<(&str, &CrdEntry)> = katalog.crds().iter().filter(|(_, e)| e.is_enabled()).map(|(n, e)| (n.as_str(), e)).collect();
    enabled.sort_by_key(|(n, _)| *n);
    for &(name, e) in &enabled {
        crd_rules(&mut sink, katalog, name, e)?;
    }
    let gateway_features = gateway_rules(&mut sink, katalog, &enabled);
    let mut all = std::mem::take(&mut sink.all);
    let mut crds: BTreeMap<String, CrdPermissions> = BTreeMap::new();
    for &(name, _) in &enabled {
        let mut per = sink.per_crd.remove(name).unwrap_or_default();
        crds.insert(
            name.to_string(),
            CrdPermissions {
                runtime: RuleSet::from_grants(per.remove(&Component::Runtime).unwrap_or_default()),
                gateway: RuleSet::from_grants(per.remove(&Component::Gateway).unwrap_or_default()),
            },
        );
    }
    Ok(Derivation {
        namespace: ns.to_string(),
        runtime: RuleSet::from_grants(all.remove(&Component::Runtime).unwrap_or_default()),
        gateway: RuleSet::from_grants(all.remove(&Component::Gateway).unwrap_or_default()),
        gateway_features,
        crds,
        warnings: sink.warnings,
    })
}

/// What the runtime needs whatever the Katalog says.
fn system_rules(s: &mut Sink) {
    let lease = Reason::system(format!("leader election: the Lease `{}` in the install namespace", install::LEADER_LEASE));
    s.grant(Component::Runtime, Scope::Namespace, "coordination.k8s.io", "leases", Some(install::LEADER_LEASE), &[Get, Create, Update], &lease);
    let events = Reason::system("records Kubernetes Events on the CRs it reconciles and on its Lease (events.k8s.io/v1)");
    s.grant(Component::Runtime, Scope::Cluster, "events.k8s.io", "events", None, &[Create, Patch], &events);
}

fn crd_rules(s: &mut Sink, katalog: &Katalog, name: &str, e: &CrdEntry) -> Result<(), DeriveError> {
    let id = api_identity(e).filter(|id| !id.plural.is_empty()).ok_or_else(|| DeriveError::UnknownPlural { crd: name.to_string() })?;
    let own = id.resource();
    s.runtime(&own, "", &[Get, List, Watch], &Reason::crd(name, "watches its CRs"));
    s.runtime(
        &own,
        "",
        &[Patch],
        &Reason::crd(name, format!("adds and removes the finalizer `{}` and the labels it stamps on CRs", install::CLEANUP_FINALIZER)),
    );
    let skip_status = e.runtime().and_then(|r| r.ignore_status_patch) == Some(true);
    if !skip_status {
        s.runtime(&own, "status", &[Patch], &Reason::crd(name, "writes status: conditions, observedGeneration and declared fields"));
    }
    observe_rules(s, katalog, name, e)?;
    let Some(r) = e.reconcile() else { return Ok(()) };
    for (key, block) in [("onCreate", &r.on_create), ("onReconcile", &r.on_reconcile)] {
        if let Some(b) = block {
            live_block(s, katalog, (name, e), key, b, key == "onReconcile")?;
        }
    }
    if let Some(d) = &r.on_delete {
        if d.groups.is_empty() {
            delete_block(s, katalog, name, "onDelete", d)?;
        } else {
            for (g, group) in d.groups.iter().enumerate() {
                delete_block(s, katalog, name, &format!("onDelete.groups[{g}]"), group)?;
            }
        }
    }
    Ok(())
}

/// What `observe` reads: a cross read gets or lists the other CRD's objects and watches them
/// (a change re-queues the readers); a watch and an event watch list and watch their kind.
fn observe_rules(s: &mut Sink, katalog: &Katalog, name: &str, e: &CrdEntry) -> Result<(), DeriveError> {
    let Some(obs) = e.operator_box.as_ref().and_then(|o| o.observe.as_ref()) else { return Ok(()) };
    for (i, c) in obs.cross.iter().enumerate().filter(|(_, c)| crate::observe::executed(c)) {
        let Some(target) = crate::observe::cross_resource(katalog, c) else {
            return Err(DeriveError::UnknownPlural { crd: c.crd.as_ref().map(|c| c.value.clone()).unwrap_or_default() });
        };
        let what = format!("observe.cross[{i}] reads `{}` ({}) and re-queues its CRs when one changes", crate::observe::cross_name(c), target.kind);
        s.runtime(&target, "", &[Get, List, Watch], &Reason::crd(name, what));
    }
    for (i, w) in obs.watch.iter().enumerate() {
        let target = crate::observe::watch_resource(katalog, w).map_err(|source| DeriveError::Unresolved {
            crd: name.to_string(),
            entry: format!("observe.watch[{i}]"),
            source,
        })?;
        s.runtime(&target, "", &[List, Watch], &Reason::crd(name, format!("observe.watch[{i}] watches {} to re-queue CRs", target.kind)));
    }
    if !obs.events.is_empty() {
        let keys: Vec<&str> = obs.events.iter().map(|(k, _)| k.as_str()).collect();
        let what = format!("observe.events ({}) watches Events to re-queue CRs", keys.join(", "));
        s.runtime(&crate::observe::events_resource(), "", &[List, Watch], &Reason::crd(name, what));
    }
    Ok(())
}

/// Each entry of a block with its source path (`onCreate.deployments[0]`), in declaration
/// order per kind, and its resolved resource.
fn resolved<'b>(katalog: &Katalog, crd: &str, prefix: &str, b: &'b HookTemplates) -> Result<Vec<Entry<'b>>, DeriveError> {
    let mut out = Vec::new();
    for (kind, i, source, common) in b.indexed_entries(prefix) {
        let res = kinds::entry_resource(katalog, b, kind, i).map_err(|e| DeriveError::Unresolved { crd: crd.to_string(), entry: source.clone(), source: e })?;
        out.push((kind, i, source, common, res));
    }
    Ok(out)
}

fn gated(c: &EntryCommon) -> bool {
    !c.when.is_empty() || !c.or.is_empty() || c.for_each.is_some()
}

/// onCreate / onReconcile: what the reconciler does to keep each child as declared.
/// The values a templated field can take when reconciled, if validation pins them (and no
/// mutation running after validation can change them).
fn pinned(e: &CrdEntry, template: &str) -> Option<Vec<String>> {
    let adm = e.admission.as_ref()?;
    let rules = &adm.validation.as_ref()?.rules;
    let late_mutation = adm.mutation.as_ref().is_some_and(|m| m.mutate_first == Some(false) && !m.rules.is_empty());
    if late_mutation {
        return None;
    }
    crate::rules::allowed_values(rules, template).filter(|v| !v.is_empty())
}

fn live_block(s: &mut Sink, katalog: &Katalog, (crd, entry): (&str, &CrdEntry), key: &str, b: &HookTemplates, drift_block: bool) -> Result<(), DeriveError> {
    let block_gated = !b.when.is_empty() || !b.or.is_empty();
    for (kind, i, source, common, res) in resolved(katalog, crd, key, b)? {
        let why = |what: &str| Reason::crd(crd, format!("{source} {what}"));
        s.runtime(&res, "", &[Get, List, Watch], &why("is read and watched (owned children re-trigger the CR)"));
        s.runtime(&res, "", &[Create], &why("is created when missing"));
        // `once` Secrets are onCreate-only, so never drift-corrected; Jobs are immutable;
        // ServiceAccounts and Namespaces are not drift-corrected (docs/rbac.md).
        let drift = drift_block || common.reconcile == Some(true);
        let create_only = matches!(kind, ChildKind::Job | ChildKind::ServiceAccount | ChildKind::Namespace);
        if drift && !create_only {
            s.runtime(&res, "", &[Patch], &why("is applied (server-side apply) when it drifts from the template"));
        }
        if !drift && kind == ChildKind::Secret && common.once == Some(true) && b.secrets.get(i).is_some_and(|e| e.rotate_after.is_some()) {
            s.runtime(&res, "", &[Update], &why("is regenerated once it is older than rotateAfter"));
        }
        if drift && matches!(kind, ChildKind::RoleBinding | ChildKind::ClusterRoleBinding) {
            s.runtime(&res, "", &[Delete], &why("is re-created when its roleRef changes (roleRef is immutable)"));
        }
        if drift && (block_gated || gated(common)) {
            s.runtime(&res, "", &[Delete], &why("is deleted when its condition or forEach item goes away"));
        }
        if !res.namespaced {
            s.runtime(&res, "", &[Delete], &why("is cluster-scoped: deleted with the CR (garbage collection cannot cascade to it)"));
        }
        if (common.id.is_some() || !common.depends_on.is_empty()) && entry.orders_children() {
            s.runtime(&res, "", &[Delete], &why("is deleted in the reverse order of dependsOn when the CR is deleted"));
        }
        match kind {
            ChildKind::Role | ChildKind::ClusterRole => {
                let role = if kind == ChildKind::Role { &b.roles[i] } else { &b.cluster_roles[i] };
                role_rules(s, crd, &source, &res, &role.rules);
            }
            ChildKind::RoleBinding | ChildKind::ClusterRoleBinding => {
                let rb = if kind == ChildKind::RoleBinding { &b.role_bindings[i] } else { &b.cluster_role_bindings[i] };
                let default = if kind == ChildKind::RoleBinding { "Role" } else { "ClusterRole" };
                let role_ref = rb.role_ref.as_ref();
                let rk = role_ref.and_then(|r| r.kind.as_ref()).map_or(default, |k| k.as_str());
                let targets: &[&str] = match rk {
                    "Role" => &["roles"],
                    "ClusterRole" => &["clusterroles"],
                    _ => &["roles", "clusterroles"],
                };
                let name = role_ref.and_then(|r| r.name.as_ref()).map_or("", |n| n.as_str());
                let mut reason = why("binds a role whose permissions the runtime itself does not hold");
                let names: Vec<Option<String>> = if !name.contains("{{") {
                    vec![Some(name.to_string())]
                } else if let Some(values) = pinned(entry, name) {
                    reason.what.push_str("; the roles are those a deny rule with `in` allows for `roleRef.name`");
                    values.into_iter().map(Some).collect()
                } else {
                    s.warnings.push(format!(
                        "crd `{crd}`: {source}: `roleRef.name` is a template no validation rule pins, so the runtime may bind any {rk}: whoever writes the CR chooses the role (e.g. cluster-admin). Write the name literally, or add a deny rule with operator `in` listing the roles allowed."
                    ));
                    vec![None]
                };
                for t in targets {
                    for n in &names {
                        s.grant(Component::Runtime, Scope::Cluster, "rbac.authorization.k8s.io", t, n.as_deref(), &[Bind], &reason);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// A role the runtime creates: Kubernetes lets it grant only permissions it holds itself. When
/// the role's rules are literal, the runtime is given exactly those permissions (bounded by the
/// Katalog); otherwise (templated, `*`, verbs beyond the standard ones) only `escalate` can
/// work, which lets the runtime write any role, so it is granted with a warning.
fn role_rules(s: &mut Sink, crd: &str, source: &str, res: &ApiResource, rules: &[crate::model::resources::PolicyRule]) {
    let lit = |v: &crate::decode::Str| !v.contains("{{") && !v.contains('*');
    let literal = rules.iter().all(|r| {
        !r.api_groups.is_empty()
            && !r.resources.is_empty()
            && !r.verbs.is_empty()
            && r.api_groups.iter().chain(&r.resources).chain(&r.resource_names).all(lit)
            && r.verbs.iter().all(|v| Verb::parse(v).is_some())
    });
    if !literal {
        s.warnings.push(format!(
            "crd `{crd}`: {source}: the role's rules are templated or use `*` or non-standard verbs, so the runtime needs `escalate` on {} and can write a role with any permission. Write the rules literally to bound it.",
            res.plural
        ));
        s.runtime(res, "", &[Escalate], &Reason::crd(crd, format!("{source} has rules that cannot be known in advance")));
        return;
    }
    let why = Reason::crd(crd, format!("{source} grants it (Kubernetes lets the runtime grant only what it holds)"));
    for r in rules {
        let names: Vec<Option<&str>> = if r.resource_names.is_empty() { vec![None] } else { r.resource_names.iter().map(|n| Some(n.as_str())).collect() };
        let verbs: Vec<Verb> = r.verbs.iter().filter_map(|v| Verb::parse(v)).collect();
        for g in &r.api_groups {
            for res in &r.resources {
                for n in &names {
                    s.grant(Component::Runtime, Scope::Cluster, g, res, *n, &verbs, &why);
                }
            }
        }
    }
}

/// onDelete: cleanup Jobs are created and awaited; everything else is deleted and awaited.
fn delete_block(s: &mut Sink, katalog: &Katalog, crd: &str, key: &str, b: &HookTemplates) -> Result<(), DeriveError> {
    for (kind, _, source, _, res) in resolved(katalog, crd, key, b)? {
        let why = |what: &str| Reason::crd(crd, format!("{source} {what}"));
        if kind == ChildKind::Job {
            s.runtime(&res, "", &[Create, Get], &why("runs when the CR is deleted; the finalizer waits for it to finish"));
        } else {
            s.runtime(&res, "", &[Delete, Get], &why("is deleted when the CR is deleted, and awaited until gone"));
        }
    }
    Ok(())
}

/// What the gateway does, from the one definition of its features ([`install::gateway_plan`]):
/// its webhook configurations (created and kept; every ork configuration name may be deleted, so
/// removing a feature from the Katalog removes its webhook), the TLS Secret, the CA bundle of
/// conversion CRDs, its Lease, and `list` for `unique` rules. Nothing cluster-wide but `create`
/// (which Kubernetes cannot restrict by name) and `list` for `unique` rules.
fn gateway_rules(s: &mut Sink, katalog: &Katalog, enabled: &[(&str, &CrdEntry)]) -> Vec<String> {
    let plan = install::gateway_plan(katalog);
    if !plan.any() {
        return Vec::new();
    }
    let gw = Component::Gateway;
    let entry = |name: &str| enabled.iter().find(|(n, _)| *n == name).map(|(_, e)| *e);
    let mut features = BTreeSet::new();
    for d in &plan.configs {
        let (resource, name) = (d.config.resource(), d.config.name(&s.ns));
        let reason = match (d.config, d.crds.first()) {
            (WebhookConfig::Validation, Some(crd)) => Reason::crd(crd, "admission.validation: the validating webhook configuration for CRDs with rules"),
            (WebhookConfig::Mutation, Some(crd)) => Reason::crd(crd, "admission.mutation: the mutating webhook configuration for CRDs with rules"),
            (WebhookConfig::DeletionProtection, _) => Reason::system("security.deletionProtection: the webhook that blocks deleting protected objects"),
            _ => Reason::system("security.namespaceProtection: the webhook that rejects CRs in forbidden namespaces"),
        };
        s.grant(gw, Scope::Cluster, "admissionregistration.k8s.io", resource, Some(&name), &[Get, Create, Update], &reason);
        match d.config {
            WebhookConfig::Validation => {
                for crd in &d.crds {
                    features.insert(format!("validation webhook ({crd})"));
                    let Some(e) = entry(crd) else { continue };
                    let unique = e
                        .admission
                        .iter()
                        .flat_map(|a| &a.validation)
                        .flat_map(|v| &v.rules)
                        .any(|r| r.cmp.operator.as_ref().is_some_and(|o| o.value == Operator::Unique));
                    if unique && let Some(id) = api_identity(e) {
                        s.grant(
                            gw,
                            Scope::Cluster,
                            &id.group,
                            &id.plural,
                            None,
                            &[List],
                            &Reason::crd(crd, "admission.validation: a `unique` rule compares a CR with the others of its kind"),
                        );
                    }
                }
            }
            WebhookConfig::Mutation => features.extend(d.crds.iter().map(|crd| format!("mutation webhook ({crd})"))),
            WebhookConfig::DeletionProtection => {
                features.insert("deletion protection".to_string());
            }
            WebhookConfig::NamespaceProtection => {
                features.insert("namespace protection".to_string());
            }
        }
    }
    // Every one of ork's configuration names, declared or not: the housekeeper deletes those of
    // features the Katalog does not declare (declarative removal) and, on shutdown, those with
    // `cleanupOnShutdown`. Holding `delete` on the declared ones too keeps the rules monotonic
    // (declaring a feature never takes a permission away) and costs nothing: a gateway that
    // answers a webhook can already make it allow everything.
    for c in WebhookConfig::ALL {
        let why = Reason::system("deletes it when the Katalog does not declare its feature (declarative removal), or on shutdown with cleanupOnShutdown");
        s.grant(gw, Scope::Cluster, "admissionregistration.k8s.io", c.resource(), Some(&c.name(&s.ns)), &[Get, Delete], &why);
    }
    for crd in &plan.conversion {
        features.insert(format!("conversion webhook ({crd})"));
    }
    for crd in &plan.update_crds {
        let Some(id) = entry(crd).and_then(api_identity) else { continue };
        let crd_name = format!("{}.{}", id.plural, id.group);
        s.grant(
            gw,
            Scope::Cluster,
            "apiextensions.k8s.io",
            "customresourcedefinitions",
            Some(&crd_name),
            &[Get, Patch],
            &Reason::crd(crd, "admission.conversion.updateCRD: injects the CA bundle into the CRD's conversion webhook"),
        );
    }
    let mut verbs = vec![Get, Create, Update];
    if plan.any_cleanup() {
        verbs.push(Delete);
    }
    let why = Reason::system(format!("its self-signed TLS certificate, kept in the Secret `{}` in the install namespace", install::TLS_SECRET));
    s.grant(gw, Scope::Namespace, "", "secrets", Some(install::TLS_SECRET), &verbs, &why);
    let lease = Reason::system(format!("leader election of the housekeeper: the Lease `{}` in the install namespace", install::GATEWAY_LEASE));
    s.grant(gw, Scope::Namespace, "coordination.k8s.io", "leases", Some(install::GATEWAY_LEASE), &[Get, Create, Update], &lease);
    features.into_iter().collect()
}
