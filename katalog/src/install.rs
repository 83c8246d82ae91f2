//! Names of the objects an installation owns. The bundle, the runtime and the gateway must agree
//! on them, and the derived RBAC rules restrict access to exactly these names, so they are
//! defined once, here.
//!
//! Cluster-scoped names carry the install namespace as a suffix so that several installations
//! (one per namespace) can coexist in one cluster.
//!
//! [`gateway_plan`] says which webhook configurations a Katalog asks the gateway for: the gateway
//! registers exactly those, and the RBAC derivation grants exactly what that takes.

use crate::kinds::api_identity;
use crate::model::Katalog;
use crate::model::katalog::FailurePolicy;
use crate::namespaces::namespace_rules;

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
/// The plain-HTTP port of `/health`, `/ready`, `/startup` and `/metrics` (runtime and gateway).
pub const PROBE_PORT: u16 = 8080;
/// Where the Katalog ConfigMap is mounted in ork's pods.
pub const KATALOG_MOUNT: &str = "/etc/orkestra";
/// ConfigMap holding the expanded Katalog (key [`KATALOG_KEY`]).
pub const KATALOG_CONFIGMAP: &str = "orkestra-katalog";
/// Data key of the Katalog in [`KATALOG_CONFIGMAP`].
pub const KATALOG_KEY: &str = "katalog.yaml";
/// The runtime's leader-election Lease, in the install namespace.
pub const LEADER_LEASE: &str = "orkestra-konductor";
/// The gateway housekeeper's leader-election Lease, in the install namespace (one replica keeps
/// the webhook configurations and the TLS Secret; every replica answers webhooks).
pub const GATEWAY_LEASE: &str = "orkestra-gateway-housekeeper";
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
    /// Every configuration, in a fixed order.
    pub const ALL: [WebhookConfig; 4] =
        [WebhookConfig::Validation, WebhookConfig::Mutation, WebhookConfig::DeletionProtection, WebhookConfig::NamespaceProtection];

    /// The resource (plural) of its kind.
    pub fn resource(self) -> &'static str {
        if self.mutating() { "mutatingwebhookconfigurations" } else { "validatingwebhookconfigurations" }
    }

    /// Its kind.
    pub fn kind(self) -> &'static str {
        if self.mutating() { "MutatingWebhookConfiguration" } else { "ValidatingWebhookConfiguration" }
    }

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

/// One webhook configuration a Katalog declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredConfig {
    /// Which one.
    pub config: WebhookConfig,
    /// `failurePolicy: Fail` (else Ignore): validation and mutation default to Ignore
    /// (`security.webhooks.failurePolicy`), namespace and deletion protection to Fail (their
    /// own `failurePolicy`).
    pub fail: bool,
    /// Delete it when the gateway stops gracefully (the feature's `cleanupOnShutdown`).
    pub cleanup_on_shutdown: bool,
    /// The CRD entries that cause it, sorted (empty for deletion protection, which always
    /// covers built-in kinds).
    pub crds: Vec<String>,
}

/// What a Katalog asks of the gateway.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewayPlan {
    /// The webhook configurations to register, in [`WebhookConfig`] order.
    pub configs: Vec<DeclaredConfig>,
    /// CRD entries served through the conversion webhook (`security.conversion.enabled: true`
    /// and `admission.conversion` with paths, or a participant), sorted.
    pub conversion: Vec<String>,
    /// Of those, the entries with `updateCRD: true`: the gateway writes its CA bundle and
    /// address into their CRD's conversion stanza.
    pub update_crds: Vec<String>,
}

impl GatewayPlan {
    /// Whether the Katalog declares any gateway feature (then the gateway runs, with TLS).
    pub fn any(&self) -> bool {
        !self.configs.is_empty() || !self.conversion.is_empty()
    }

    /// The declared configuration `c`, if any.
    pub fn config(&self, c: WebhookConfig) -> Option<&DeclaredConfig> {
        self.configs.iter().find(|d| d.config == c)
    }

    /// Whether any declared configuration is removed on shutdown.
    pub fn any_cleanup(&self) -> bool {
        self.configs.iter().any(|d| d.cleanup_on_shutdown)
    }
}

/// The gateway features `katalog` declares (docs/rbac.md, "The gateway's contract"):
/// - validation / mutation: `security.webhooks.admission.enabled: true` and an enabled CRD with
///   validation / mutation rules whose `admission.webhooks.validation` / `mutation` is not false;
/// - namespace protection: `security.namespaceProtection` (unless `enabled: false`) and an
///   enabled CRD with namespace rules (its own or the global ones);
/// - deletion protection: `security.deletionProtection` (unless `enabled: false`);
/// - conversion: `security.conversion.enabled: true` and a CRD with conversion paths.
pub fn gateway_plan(katalog: &Katalog) -> GatewayPlan {
    let sec = katalog.security.as_ref();
    let webhooks = sec.and_then(|s| s.webhooks.as_ref());
    let admission = webhooks.and_then(|w| w.admission.as_ref()).and_then(|a| a.enabled) == Some(true);
    let admission_fail = webhooks.and_then(|w| w.failure_policy.as_ref()).is_some_and(|p| *p == FailurePolicy::Fail);
    let admission_cleanup = webhooks.and_then(|w| w.cleanup_on_shutdown) == Some(true);
    let deletion = crate::protection::deletion_protection(katalog);
    let ns_prot = sec.and_then(|s| s.namespace_protection.as_ref()).filter(|n| n.enabled != Some(false));
    let conversion_on = sec.and_then(|s| s.conversion.as_ref()).and_then(|c| c.enabled) == Some(true);

    let (mut validating, mut mutating, mut ns_rules) = (Vec::new(), Vec::new(), Vec::new());
    let mut plan = GatewayPlan::default();
    for (name, e) in katalog.crds().iter() {
        if !e.is_enabled() || api_identity(e).is_none_or(|id| id.plural.is_empty()) {
            continue;
        }
        let name = name.value.clone();
        if ns_prot.is_some() {
            let (allowed, restricted) = namespace_rules(katalog, e);
            if !allowed.is_empty() || !restricted.is_empty() {
                ns_rules.push(name.clone());
            }
        }
        let Some(adm) = &e.admission else { continue };
        let hooks = adm.webhooks.as_ref();
        if admission && adm.validation.as_ref().is_some_and(|v| !v.rules.is_empty()) && hooks.and_then(|h| h.validation) != Some(false) {
            validating.push(name.clone());
        }
        if admission && adm.mutation.as_ref().is_some_and(|m| !m.rules.is_empty()) && hooks.and_then(|h| h.mutation) != Some(false) {
            mutating.push(name.clone());
        }
        if conversion_on
            && let Some(c) = &adm.conversion
            && (!c.paths.is_empty() || c.participant == Some(true))
        {
            plan.conversion.push(name.clone());
            if c.update_crd == Some(true) {
                plan.update_crds.push(name);
            }
        }
    }
    let mut push = |config, fail, cleanup_on_shutdown, mut crds: Vec<String>| {
        crds.sort();
        plan.configs.push(DeclaredConfig { config, fail, cleanup_on_shutdown, crds });
    };
    if !validating.is_empty() {
        push(WebhookConfig::Validation, admission_fail, admission_cleanup, validating);
    }
    if !mutating.is_empty() {
        push(WebhookConfig::Mutation, admission_fail, admission_cleanup, mutating);
    }
    if let Some(d) = deletion {
        let fail = d.failure_policy.as_ref().is_none_or(|p| *p == FailurePolicy::Fail);
        push(WebhookConfig::DeletionProtection, fail, d.cleanup_on_shutdown == Some(true), Vec::new());
    }
    if let Some(n) = ns_prot.filter(|_| !ns_rules.is_empty()) {
        let fail = n.failure_policy.as_ref().is_none_or(|p| *p == FailurePolicy::Fail);
        push(WebhookConfig::NamespaceProtection, fail, n.cleanup_on_shutdown == Some(true), ns_rules);
    }
    plan.conversion.sort();
    plan.update_crds.sort();
    plan
}
