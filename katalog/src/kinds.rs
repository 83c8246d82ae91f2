//! Kubernetes API resources by kind: group, version, the real plural and the scope.
//!
//! The reconciler needs a resource's plural to address it and RBAC rules name it, so a plural is
//! never guessed from the kind. It comes from this table (the built-in Kubernetes APIs and a few
//! widely installed add-ons), from a CRD declared in the same Katalog, or from an explicit
//! `plural:` on a `custom` entry. Anything else is a validation error asking for the plural.
//!
//! The API identity a CRD entry of the Katalog serves, and whether its CRs are namespaced, is
//! [`identity`].

use crate::model::Katalog;
use crate::model::resources::{ChildKind, Custom, HookTemplates};

pub mod identity;
pub use identity::{ApiIdentity, api_identity, is_namespaced};

/// One API resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
#[allow(missing_docs)]
pub struct ApiResource {
    /// API group; empty for the core group.
    pub group: String,
    pub version: String,
    pub kind: String,
    /// Resource name (plural, lowercase).
    pub plural: String,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
}

/// `plural.group` (`deployments.apps`), or `plural` for the core group: how the API server names
/// a resource in its messages.
pub fn group_resource(group: &str, plural: &str) -> String {
    if group.is_empty() { plural.to_string() } else { format!("{plural}.{group}") }
}

impl ApiResource {
    /// `plural.group`, or `plural` for the core group ([`group_resource`]).
    pub fn group_resource(&self) -> String {
        group_resource(&self.group, &self.plural)
    }

    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.clone() } else { format!("{}/{}", self.group, self.version) }
    }
}

/// `(group, version, kind, plural, namespaced)`.
type Row = (&'static str, &'static str, &'static str, &'static str, bool);

/// Built-in Kubernetes resources (GA versions).
const BUILTIN: &[Row] = &[
    ("", "v1", "ConfigMap", "configmaps", true),
    ("", "v1", "Endpoints", "endpoints", true),
    ("", "v1", "Event", "events", true),
    ("", "v1", "LimitRange", "limitranges", true),
    ("", "v1", "Namespace", "namespaces", false),
    ("", "v1", "Node", "nodes", false),
    ("", "v1", "PersistentVolume", "persistentvolumes", false),
    ("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true),
    ("", "v1", "Pod", "pods", true),
    ("", "v1", "PodTemplate", "podtemplates", true),
    ("", "v1", "ReplicationController", "replicationcontrollers", true),
    ("", "v1", "ResourceQuota", "resourcequotas", true),
    ("", "v1", "Secret", "secrets", true),
    ("", "v1", "Service", "services", true),
    ("", "v1", "ServiceAccount", "serviceaccounts", true),
    ("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", false),
    ("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", false),
    ("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false),
    ("apps", "v1", "ControllerRevision", "controllerrevisions", true),
    ("apps", "v1", "DaemonSet", "daemonsets", true),
    ("apps", "v1", "Deployment", "deployments", true),
    ("apps", "v1", "ReplicaSet", "replicasets", true),
    ("apps", "v1", "StatefulSet", "statefulsets", true),
    ("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true),
    ("batch", "v1", "CronJob", "cronjobs", true),
    ("batch", "v1", "Job", "jobs", true),
    ("coordination.k8s.io", "v1", "Lease", "leases", true),
    ("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true),
    ("events.k8s.io", "v1", "Event", "events", true),
    ("networking.k8s.io", "v1", "Ingress", "ingresses", true),
    ("networking.k8s.io", "v1", "IngressClass", "ingressclasses", false),
    ("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true),
    ("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", false),
    ("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false),
    ("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true),
    ("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", false),
    ("storage.k8s.io", "v1", "StorageClass", "storageclasses", false),
];

/// Widely installed add-ons whose plurals are fixed by their published CRDs.
const ADDONS: &[Row] = &[
    ("argoproj.io", "v1alpha1", "AppProject", "appprojects", true),
    ("argoproj.io", "v1alpha1", "Application", "applications", true),
    ("cert-manager.io", "v1", "Certificate", "certificates", true),
    ("cert-manager.io", "v1", "CertificateRequest", "certificaterequests", true),
    ("cert-manager.io", "v1", "ClusterIssuer", "clusterissuers", false),
    ("cert-manager.io", "v1", "Issuer", "issuers", true),
    ("external-secrets.io", "v1beta1", "ClusterSecretStore", "clustersecretstores", false),
    ("external-secrets.io", "v1beta1", "ExternalSecret", "externalsecrets", true),
    ("external-secrets.io", "v1beta1", "SecretStore", "secretstores", true),
    ("gateway.networking.k8s.io", "v1", "GRPCRoute", "grpcroutes", true),
    ("gateway.networking.k8s.io", "v1", "Gateway", "gateways", true),
    ("gateway.networking.k8s.io", "v1", "GatewayClass", "gatewayclasses", false),
    ("gateway.networking.k8s.io", "v1", "HTTPRoute", "httproutes", true),
    ("monitoring.coreos.com", "v1", "PodMonitor", "podmonitors", true),
    ("monitoring.coreos.com", "v1", "PrometheusRule", "prometheusrules", true),
    ("monitoring.coreos.com", "v1", "ServiceMonitor", "servicemonitors", true),
];

fn row(r: &Row) -> ApiResource {
    ApiResource { group: r.0.into(), version: r.1.into(), kind: r.2.into(), plural: r.3.into(), namespaced: r.4 }
}

/// A built-in Kubernetes kind by kind alone (for `apiTypes: {kind: Namespace}`). `Event` means
/// the core v1 Event.
pub fn builtin_by_kind(kind: &str) -> Option<ApiResource> {
    BUILTIN.iter().find(|r| r.2 == kind).map(row)
}

/// Every built-in resource and the add-ons of the table (what an in-memory cluster serves).
pub fn all_known() -> impl Iterator<Item = ApiResource> {
    BUILTIN.iter().chain(ADDONS).map(row)
}

/// Whether a built-in kind has a `status` subresource (its status is written separately from
/// the rest of the object).
pub fn has_status_subresource(group: &str, kind: &str) -> bool {
    matches!(
        (group, kind),
        ("", "Namespace" | "Node" | "PersistentVolume" | "PersistentVolumeClaim" | "Pod" | "ReplicationController" | "ResourceQuota" | "Service")
            | ("apps", "DaemonSet" | "Deployment" | "ReplicaSet" | "StatefulSet")
            | ("autoscaling", "HorizontalPodAutoscaler")
            | ("batch", "CronJob" | "Job")
            | ("networking.k8s.io", "Ingress")
            | ("policy", "PodDisruptionBudget")
            | ("apiextensions.k8s.io", "CustomResourceDefinition")
            | ("cert-manager.io", _)
            | ("monitoring.coreos.com", _)
            | ("gateway.networking.k8s.io", _)
            | ("argoproj.io", _)
            | ("external-secrets.io", _)
    )
}

/// Every built-in kind name (for suggestions).
pub fn builtin_kinds() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|r| r.2)
}

/// A known resource (built-in or add-on) by group and kind; the version is the caller's.
pub fn known(group: &str, kind: &str) -> Option<ApiResource> {
    BUILTIN.iter().chain(ADDONS).find(|r| r.0 == group && r.2 == kind).map(row)
}

/// Splits an `apiVersion` into group and version (`v1` → core group).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.rsplit_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

/// The resource of a built-in child kind; `None` for `custom`.
pub fn child_resource(kind: ChildKind) -> Option<ApiResource> {
    let (group, k) = match kind {
        ChildKind::Deployment => ("apps", "Deployment"),
        ChildKind::StatefulSet => ("apps", "StatefulSet"),
        ChildKind::Service => ("", "Service"),
        ChildKind::ConfigMap => ("", "ConfigMap"),
        ChildKind::Secret => ("", "Secret"),
        ChildKind::Job => ("batch", "Job"),
        ChildKind::CronJob => ("batch", "CronJob"),
        ChildKind::Ingress => ("networking.k8s.io", "Ingress"),
        ChildKind::ServiceAccount => ("", "ServiceAccount"),
        ChildKind::Role => ("rbac.authorization.k8s.io", "Role"),
        ChildKind::RoleBinding => ("rbac.authorization.k8s.io", "RoleBinding"),
        ChildKind::ClusterRole => ("rbac.authorization.k8s.io", "ClusterRole"),
        ChildKind::ClusterRoleBinding => ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ChildKind::Namespace => ("", "Namespace"),
        ChildKind::NetworkPolicy => ("networking.k8s.io", "NetworkPolicy"),
        ChildKind::ResourceQuota => ("", "ResourceQuota"),
        ChildKind::LimitRange => ("", "LimitRange"),
        ChildKind::Pdb => ("policy", "PodDisruptionBudget"),
        ChildKind::Hpa => ("autoscaling", "HorizontalPodAutoscaler"),
        ChildKind::Pvc => ("", "PersistentVolumeClaim"),
        ChildKind::Custom => return None,
    };
    known(group, k)
}

/// The resource of entry `index` (within its kind, as [`HookTemplates::indexed_entries`]
/// counts) of kind `kind` in `block`: the built-in table, or the custom entry resolved.
pub fn entry_resource(katalog: &Katalog, block: &HookTemplates, kind: ChildKind, index: usize) -> Result<ApiResource, CustomError> {
    match child_resource(kind) {
        Some(r) => Ok(r),
        None => match block.custom.get(index) {
            Some(c) => resolve_custom(katalog, c),
            // Only an index `indexed_entries` did not produce gets here.
            None => Err(CustomError::NotLiteral("kind")),
        },
    }
}

/// Why a `custom` entry's resource cannot be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomError {
    /// `apiVersion` or `kind` is missing or is a template (RBAC and the client need it literal).
    #[error("`{0}` of a custom entry must be a literal, not missing or a template")]
    NotLiteral(&'static str),
    /// Neither the table, nor a CRD of this Katalog, nor `plural:` gives the plural.
    #[error("the plural of {kind} in group `{group}` is not known; set `plural:` on the custom entry")]
    UnknownPlural {
        /// Group of the entry.
        group: String,
        /// Kind of the entry.
        kind: String,
    },
}

/// Resolves a `custom` entry to its resource ([`resolve_kind`] with its `metadata.namespaced`).
pub fn resolve_custom(katalog: &Katalog, c: &Custom) -> Result<ApiResource, CustomError> {
    let k = &c.known;
    resolve_kind(katalog, &k.api_version, &k.kind, &k.plural, k.metadata.as_ref().and_then(|m| m.namespaced))
}

/// Resolves a literal `apiVersion` and `kind` (a `custom` entry, an `observe.watch`) to its
/// resource: explicit `plural` first, then a CRD of this Katalog with the same group and kind,
/// then the table. The scope is `declared_scope` when given, else what the source says
/// (namespaced when only `plural` is known).
pub fn resolve_kind(
    katalog: &Katalog,
    api_version: &Option<crate::decode::Str>,
    kind: &Option<crate::decode::Str>,
    plural: &Option<crate::decode::Str>,
    declared_scope: Option<bool>,
) -> Result<ApiResource, CustomError> {
    let literal = |v: &Option<crate::decode::Str>, what: &'static str| match v {
        Some(s) if !s.is_empty() && !s.contains("{{") => Ok(s.value.clone()),
        _ => Err(CustomError::NotLiteral(what)),
    };
    let api_version = literal(api_version, "apiVersion")?;
    let kind = literal(kind, "kind")?;
    let (group, version) = split_api_version(&api_version);
    let from_katalog = || {
        katalog.crds().iter().find_map(|(_, e)| {
            let id = api_identity(e)?;
            (id.group == group && id.kind == kind && !id.plural.is_empty()).then_some((id.plural, id.namespaced))
        })
    };
    let (plural, namespaced) = if let Some(p) = plural.as_ref().filter(|p| !p.is_empty()) {
        (p.value.clone(), declared_scope.unwrap_or(true))
    } else if let Some((p, ns)) = from_katalog() {
        (p, ns)
    } else if let Some(r) = known(group, &kind) {
        (r.plural, r.namespaced)
    } else {
        return Err(CustomError::UnknownPlural { group: group.to_string(), kind });
    };
    Ok(ApiResource { group: group.to_string(), version: version.to_string(), kind, plural, namespaced: declared_scope.unwrap_or(namespaced) })
}
