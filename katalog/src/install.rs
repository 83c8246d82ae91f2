//! Names of the objects an installation owns. The bundle, the runtime and the gateway must agree
//! on them, and the derived RBAC rules restrict access to exactly these names, so they are
//! defined once, here.
//!
//! Cluster-scoped names carry the install namespace as a suffix so that several installations
//! (one per namespace) can coexist in one cluster.

/// The install namespace when none is given.
pub const DEFAULT_NAMESPACE: &str = "orkestra-system";
/// ServiceAccount of the runtime.
pub const RUNTIME_SERVICE_ACCOUNT: &str = "orkestra";
/// ServiceAccount of the gateway.
pub const GATEWAY_SERVICE_ACCOUNT: &str = "orkestra-gateway";
/// The gateway's Service (its webhooks and the CRD conversion webhook point at it).
pub const GATEWAY_SERVICE: &str = "orkestra-gateway";
/// The HTTPS port of the gateway's webhooks (Service and container).
pub const WEBHOOK_PORT: u16 = 8443;
/// ConfigMap holding the expanded Katalog (key [`KATALOG_KEY`]).
pub const KATALOG_CONFIGMAP: &str = "orkestra-katalog";
/// Data key of the Katalog in [`KATALOG_CONFIGMAP`].
pub const KATALOG_KEY: &str = "katalog.yaml";
/// The runtime's leader-election Lease, in the install namespace.
pub const LEADER_LEASE: &str = "orkestra-konductor";
/// The gateway's self-managed TLS Secret, in the install namespace.
pub const TLS_SECRET: &str = "orkestra-internal-tls";
/// The finalizer the runtime puts on every CR it reconciles.
pub const CLEANUP_FINALIZER: &str = "orkestra.orkspace.io/cleanup";

/// ClusterRole (and ClusterRoleBinding) of the runtime.
pub fn runtime_cluster_role(ns: &str) -> String {
    format!("orkestra-{ns}")
}

/// ClusterRole (and ClusterRoleBinding) of the gateway.
pub fn gateway_cluster_role(ns: &str) -> String {
    format!("orkestra-gateway-{ns}")
}

/// A webhook configuration the gateway manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WebhookConfig {
    /// Validating: the `/validate` webhook for CRDs with validation rules.
    Validation,
    /// Mutating: the `/mutate` webhook for CRDs with mutation rules.
    Mutation,
    /// Validating: `/deletion-protection`.
    DeletionProtection,
    /// Validating: `/namespace-protection`.
    NamespaceProtection,
}

impl WebhookConfig {
    /// Whether it is a MutatingWebhookConfiguration (else Validating).
    pub fn mutating(self) -> bool {
        self == WebhookConfig::Mutation
    }

    /// Its object name for the install namespace `ns`.
    pub fn name(self, ns: &str) -> String {
        let base = match self {
            WebhookConfig::Validation => "orkestra-admission-validation",
            WebhookConfig::Mutation => "orkestra-admission-mutation",
            WebhookConfig::DeletionProtection => "orkestra-deletion-protection",
            WebhookConfig::NamespaceProtection => "orkestra-namespace-protection",
        };
        format!("{base}-{ns}")
    }
}
