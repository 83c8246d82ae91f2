//! Top-level documents: Katalog, Motif, Komposer and their shared blocks (reference §2, §7, §9, §10).

// Field names are the document's keys (camelCase in YAML), documented in docs/ and by the
// decoder's errors; a field has a doc comment only where its name does not say it all.
#![allow(missing_docs)]

use super::condition::{MutationRule, ValidationRule};
use super::crd::{CrdEntry, EnvAuth, MotifImport, StatusConfig};
use super::resources::{Behavior, Capabilities, EgressRule, HookTemplates, IngressRule, LimitItem};
use crate::decode::{Cx, Decode, Map, Str};
use crate::diag::Span;
use crate::string_enum;
use crate::yaml::{Node, Value};
use katalog_derive::Decode;

/// `metadata`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Metadata {
    /// Name (required).
    #[decode(required)]
    pub name: Option<Str>,
    /// Logical tenant (default "default").
    pub namespace: Option<Str>,
    pub cluster_name: Option<Str>,
    pub description: Option<Str>,
    /// Semantic version.
    pub version: Option<Str>,
    pub author: Option<Str>,
    pub license: Option<Str>,
    /// Registry tags.
    pub tags: Vec<Str>,
    /// UI persona hint.
    pub created_by: Option<Str>,
    /// Opaque tooling data.
    pub projects: Option<Node>,
    #[decode(span)]
    pub span: Span,
}

string_enum! {
    /// Admission webhook failure policy.
    pub enum FailurePolicy { Fail = ["Fail"], Ignore = ["Ignore"] }
}

/// `security.deletionProtection`.
#[derive(Debug, Clone, Default, Decode)]
pub struct DeletionProtection {
    /// On (default true when the block is present).
    pub enabled: Option<bool>,
    /// Gateway service name.
    pub service_name: Option<Str>,
    /// Fail (default) | Ignore.
    pub failure_policy: Option<FailurePolicy>,
    /// Remove the webhook on graceful stop.
    pub cleanup_on_shutdown: Option<bool>,
}

/// `security.webhooks.admission`.
#[derive(Debug, Clone, Default, Decode)]
pub struct AdmissionToggle {
    /// Register admission webhooks for CRDs with rules.
    pub enabled: Option<bool>,
}

/// `security.webhooks`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Webhooks {
    pub admission: Option<AdmissionToggle>,
    /// Fail | Ignore (default Ignore).
    pub failure_policy: Option<FailurePolicy>,
    /// Gateway service name.
    pub service_name: Option<Str>,
    /// Remove on stop.
    pub cleanup_on_shutdown: Option<bool>,
}

/// `security.conversion`.
#[derive(Debug, Clone, Default, Decode)]
pub struct ConversionToggle {
    /// `/convert` endpoint on.
    pub enabled: Option<bool>,
    /// Stats window.
    #[decode(unsupported = "ork keeps no conversion statistics, so there is no window to size")]
    pub conversion_window: Option<u32>,
}

/// `security.namespaceProtection`.
#[derive(Debug, Clone, Default, Decode)]
pub struct NamespaceProtection {
    /// On (default true when the block is present).
    pub enabled: Option<bool>,
    /// Gateway service name.
    pub service_name: Option<Str>,
    /// Fail (default) | Ignore.
    pub failure_policy: Option<FailurePolicy>,
    /// Merged into every CRD's allow-list.
    pub allowed_namespaces: Vec<Str>,
    /// Merged into every CRD's deny-list.
    pub restricted_namespaces: Vec<Str>,
    /// Remove the webhook on graceful stop.
    pub cleanup_on_shutdown: Option<bool>,
}

/// `security.certManager`: the lifetime of the gateway's self-signed serving certificate.
#[derive(Debug, Clone, Default, Decode)]
pub struct CertManager {
    /// How long a generated serving certificate is valid (default `1y`).
    pub valid_for: Option<Str>,
    /// Rotate when the certificate expires within this (default `30d`; must be below `validFor`).
    pub rotation_threshold: Option<Str>,
    /// Rotate automatically (default true); when false an expiring certificate is only reported.
    pub auto_rotate: Option<bool>,
}

/// Top-level `security`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Security {
    pub deletion_protection: Option<DeletionProtection>,
    /// The gateway's TLS certificate lifecycle.
    pub cert_manager: Option<CertManager>,
    /// Admission webhooks.
    pub webhooks: Option<Webhooks>,
    /// Conversion webhook.
    pub conversion: Option<ConversionToggle>,
    pub namespace_protection: Option<NamespaceProtection>,
}

/// `gateway`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Gateway {
    /// Gateway on.
    pub enabled: Option<bool>,
    /// Gateway without CRDs.
    pub standalone: Option<bool>,
    /// Endpoint URL.
    pub endpoint: Option<Str>,
    /// Gateway API.
    #[decode(unsupported = "the self-service Gateway API is not implemented by ork")]
    pub api: Option<Node>,
    /// Intake webhooks.
    #[decode(unsupported = "intake webhooks are not implemented by ork")]
    pub webhooks: Option<Node>,
    /// Remote clusters.
    #[decode(unsupported = "remote clusters are not implemented by ork")]
    pub clusters: Option<Node>,
}

/// A user-defined notes function.
#[derive(Debug, Clone, Default, Decode)]
pub struct NoteFunction {
    /// Function name.
    #[decode(required)]
    pub name: Option<Str>,
    pub description: Option<Str>,
    /// Template rendered against the CR.
    #[decode(required)]
    pub expression: Option<Str>,
    /// Acknowledge overriding a built-in.
    pub shadow: Option<bool>,
}

/// `notes`.
#[derive(Debug, Clone, Default, Decode)]
#[decode(include = "functions")]
pub struct Notes {
    pub functions: Vec<NoteFunction>,
}

/// User `profiles.networkPolicies[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct NetworkPolicyProfile {
    #[decode(required)]
    pub name: Option<Str>,
    pub description: Option<Str>,
    pub pod_selector: Option<Map<Str>>,
    pub ingress: Option<Vec<IngressRule>>,
    pub egress: Option<Vec<EgressRule>>,
    pub policy_types: Vec<Str>,
}

/// User `profiles.resourceQuotas[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct ResourceQuotaProfile {
    #[decode(required)]
    pub name: Option<Str>,
    pub description: Option<Str>,
    /// Hard limits.
    pub hard: Map<Str>,
}

/// User `profiles.limitRanges[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct LimitRangeProfile {
    #[decode(required)]
    pub name: Option<Str>,
    pub description: Option<Str>,
    pub limits: Vec<LimitItem>,
}

/// User `profiles.hpa[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct HpaProfile {
    #[decode(required)]
    pub name: Option<Str>,
    pub description: Option<Str>,
    pub min_replicas: Option<Str>,
    pub max_replicas: Option<Str>,
    #[decode(rename = "targetCPUUtilizationPercentage")]
    pub target_cpu_utilization_percentage: Option<Str>,
    pub behavior: Option<Behavior>,
}

/// User `profiles.pdb[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct PdbProfile {
    #[decode(required)]
    pub name: Option<Str>,
    pub description: Option<Str>,
    /// Int or %.
    pub min_available: Option<Str>,
    /// Int or %.
    pub max_unavailable: Option<Str>,
}

/// User `profiles.rollingUpdate[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct RollingUpdateProfile {
    #[decode(required)]
    pub name: Option<Str>,
    pub description: Option<Str>,
    pub max_surge: Option<Str>,
    pub max_unavailable: Option<Str>,
}

/// User `profiles.reconciler[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct ReconcilerProfile {
    #[decode(required)]
    pub name: Option<Str>,
    pub description: Option<Str>,
    pub workers: Option<u32>,
    pub resync: Option<Str>,
    pub queue: Option<super::crd::Queue>,
}

/// User `profiles.resources[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct ResourcesProfile {
    #[decode(required)]
    pub name: Option<Str>,
    pub description: Option<Str>,
    pub requests: Map<Str>,
    pub limits: Map<Str>,
}

/// User `profiles.probes[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct ProbesProfile {
    #[decode(required)]
    pub name: Option<Str>,
    pub description: Option<Str>,
    pub initial_delay_seconds: Option<Str>,
    pub period_seconds: Option<Str>,
    pub failure_threshold: Option<Str>,
    pub success_threshold: Option<Str>,
    pub timeout_seconds: Option<Str>,
}

/// User `profiles.containerSecurity[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct ContainerSecurityProfile {
    #[decode(required)]
    pub name: Option<Str>,
    pub description: Option<Str>,
    pub allow_privilege_escalation: Option<bool>,
    pub read_only_root_filesystem: Option<bool>,
    pub run_as_non_root: Option<bool>,
    pub run_as_user: Option<i64>,
    pub run_as_group: Option<i64>,
    pub capabilities: Option<Capabilities>,
}

/// User `profiles.podSecurity[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct PodSecurityProfile {
    #[decode(required)]
    pub name: Option<Str>,
    pub description: Option<Str>,
    pub run_as_non_root: Option<bool>,
    pub run_as_user: Option<i64>,
    pub run_as_group: Option<i64>,
    pub fs_group: Option<i64>,
}

/// Top-level `profiles` (user-defined presets).
#[derive(Debug, Clone, Default, Decode)]
#[decode(include = "*profiles")]
pub struct Profiles {
    /// NetworkPolicy presets.
    pub network_policies: Vec<NetworkPolicyProfile>,
    /// ResourceQuota presets.
    pub resource_quotas: Vec<ResourceQuotaProfile>,
    /// LimitRange presets.
    pub limit_ranges: Vec<LimitRangeProfile>,
    /// HPA presets.
    pub hpa: Vec<HpaProfile>,
    /// PDB presets.
    pub pdb: Vec<PdbProfile>,
    /// Rolling update presets.
    pub rolling_update: Vec<RollingUpdateProfile>,
    /// Reconciler tuning presets.
    pub reconciler: Vec<ReconcilerProfile>,
    /// Resources presets.
    pub resources: Vec<ResourcesProfile>,
    /// Probe timing presets.
    pub probes: Vec<ProbesProfile>,
    /// Container security presets.
    pub container_security: Vec<ContainerSecurityProfile>,
    /// Pod security presets.
    pub pod_security: Vec<PodSecurityProfile>,
}

impl Profiles {
    /// Every declared (class, name, position).
    pub fn declared(&self) -> Vec<(crate::profiles::ProfileClass, &Str)> {
        use crate::profiles::ProfileClass as C;
        let mut out = Vec::new();
        macro_rules! add {
            ($field:ident, $class:expr) => {
                out.extend(self.$field.iter().filter_map(|p| p.name.as_ref().map(|n| ($class, n))));
            };
        }
        add!(network_policies, C::NetworkPolicies);
        add!(resource_quotas, C::ResourceQuotas);
        add!(limit_ranges, C::LimitRanges);
        add!(hpa, C::Hpa);
        add!(pdb, C::Pdb);
        add!(rolling_update, C::RollingUpdate);
        add!(reconciler, C::Reconciler);
        add!(resources, C::Resources);
        add!(probes, C::Probes);
        add!(container_security, C::ContainerSecurity);
        add!(pod_security, C::PodSecurity);
        out
    }
}

/// Katalog `spec`.
#[derive(Debug, Clone, Default, Decode)]
pub struct KatalogSpec {
    /// Katalog-wide motifs (profiles and notes only).
    pub imports: Vec<MotifImport>,
    /// Finalizers for every CRD without its own.
    pub finalizers: Vec<Str>,
    /// The CRDs, by entry name.
    #[decode(with = decode_crds)]
    pub crds: Map<CrdEntry>,
}

/// `spec.crds` must be a map keyed by entry name; the list shape gets a dedicated message.
pub fn decode_crds(node: &Node, cx: &mut Cx) -> Option<Map<CrdEntry>> {
    if let Value::Seq(items) = &node.value {
        let example = items.first().and_then(|i| i.get("name")).and_then(|n| n.as_scalar_text()).unwrap_or("website").to_string();
        cx.error_help(
            "crds-not-a-map",
            node.span,
            "`spec.crds` must be a map keyed by CRD name, not a list",
            format!("write `crds:` then `  {example}:` with the entry's fields below it (and no `name:` field)"),
        );
        return None;
    }
    let map = Map::<CrdEntry>::decode(node, cx)?;
    for (key, _) in map.iter() {
        if !is_dns_label(key) {
            cx.in_key(key, |cx| {
                cx.error_help(
                    "invalid-crd-name",
                    key.span,
                    format!("CRD entry name `{key}` is not a lowercase DNS label"),
                    "use lowercase letters, digits and '-', starting with a letter (e.g. `web-site`)",
                )
            });
        }
    }
    Some(map)
}

/// True for an RFC 1123 label: what Kubernetes accepts as a namespace name.
pub fn is_rfc1123_label(s: &str) -> bool {
    crate::names::dns1123_label(s).is_empty()
}

/// True for an RFC 1035 label (an RFC 1123 label that starts with a letter): what CRD entry
/// names, container and Service names use.
pub fn is_dns_label(s: &str) -> bool {
    crate::names::dns1035_label(s).is_empty()
}

/// `kind: Katalog`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Katalog {
    /// `orkestra.orkspace.io/v1`.
    #[decode(required)]
    pub api_version: Option<Str>,
    /// `Katalog`.
    #[decode(required)]
    pub kind: Option<Str>,
    #[decode(required)]
    pub metadata: Option<Metadata>,
    /// Tooling lifecycle.
    #[decode(unsupported = "lifecycle metadata (maturity, deprecation) is not enforced by ork yet")]
    pub lifecycle: Option<Node>,
    /// Import policy.
    #[decode(unsupported = "import policies are not enforced by ork yet")]
    pub policy: Option<Node>,
    /// Default crossAccess.
    #[decode(unsupported = "cross reads between Katalogs are not executed by ork, so there is no access to grant")]
    pub cross_access: Option<bool>,
    #[decode(required)]
    pub spec: Option<KatalogSpec>,
    pub security: Option<Security>,
    #[decode(unsupported = "notifications are not sent by ork")]
    pub notification: Option<Node>,
    /// Provider libraries.
    #[decode(unsupported = "provider libraries do not exist in ork")]
    pub providers: Option<Node>,
    /// User profiles.
    pub profiles: Option<Profiles>,
    /// User notes.
    pub notes: Option<Notes>,
    pub gateway: Option<Gateway>,
    /// Publish policy.
    #[decode(unsupported = "publish policies are read by `ork push` (not implemented yet)")]
    pub publish: Option<Node>,
}

impl Katalog {
    /// The name from metadata ("" when missing).
    pub fn name(&self) -> &str {
        self.metadata.as_ref().and_then(|m| m.name.as_ref()).map_or("", |n| n.as_str())
    }

    /// The CRD entries.
    pub fn crds(&self) -> &Map<CrdEntry> {
        static EMPTY: std::sync::OnceLock<Map<CrdEntry>> = std::sync::OnceLock::new();
        self.spec.as_ref().map_or_else(|| EMPTY.get_or_init(Map::default), |s| &s.crds)
    }
}

string_enum! {
    /// A motif input type (a hint: typed inputs are substituted unquoted).
    pub enum InputType {
        String = ["string"], Int = ["int", "integer"], Number = ["number"], Bool = ["bool", "boolean"],
    }
}

/// `inputs[]` of a Motif.
#[derive(Debug, Clone, Default, Decode)]
pub struct MotifInput {
    /// Input name.
    #[decode(required)]
    pub name: Option<Str>,
    pub description: Option<Str>,
    /// Must be given in `with`.
    pub required: Option<bool>,
    /// Type hint.
    #[decode(rename = "type")]
    pub kind: Option<InputType>,
    /// Default (not with required).
    pub default: Option<Str>,
}

/// Motif `resources`: `onCreate` plus inline lists (→ onReconcile).
#[derive(Debug, Clone, Default, Decode)]
pub struct MotifResources {
    /// Merged into the CRD's onCreate.
    pub on_create: Option<HookTemplates>,
    /// Inline lists, merged into onReconcile.
    #[decode(flatten)]
    pub inline: HookTemplates,
}

/// Motif `admission`.
#[derive(Debug, Clone, Default, Decode)]
pub struct MotifAdmission {
    /// Appended validation rules.
    pub validation: Option<MotifRules<ValidationRule>>,
    /// Appended mutation rules.
    pub mutation: Option<MotifRules<MutationRule>>,
}

/// `{rules: [...]}`.
#[derive(Debug, Clone)]
pub struct MotifRules<T> {
    pub rules: Vec<T>,
}

impl<T: Decode> Decode for MotifRules<T> {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        let Some(entries) = node.as_map() else {
            cx.type_error(node, "an object");
            return None;
        };
        let mut rules = Vec::new();
        for (k, v) in entries {
            let key = k.as_scalar_text().unwrap_or_default();
            if key == "rules" {
                rules = cx.in_key(key, |cx| Vec::<T>::decode(v, cx)).unwrap_or_default();
            } else {
                cx.in_key(key, |cx| {
                    let help = match crate::diag::suggest(key, ["rules"]) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "valid fields here: rules".to_string(),
                    };
                    cx.error_help("unknown-field", k.span, format!("unknown field `{key}`"), help)
                });
            }
        }
        Some(MotifRules { rules })
    }
}

/// `kind: Motif`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Motif {
    #[decode(required)]
    pub api_version: Option<Str>,
    /// `Motif`.
    #[decode(required)]
    pub kind: Option<Str>,
    #[decode(required)]
    pub metadata: Option<Metadata>,
    pub inputs: Vec<MotifInput>,
    /// Profiles (Katalog-wide imports only).
    pub profiles: Option<Profiles>,
    /// Notes (Katalog-wide imports only).
    pub notes: Option<Notes>,
    /// Child resources.
    pub resources: Option<MotifResources>,
    /// Status fields.
    pub status: Option<StatusConfig>,
    /// Admission rules.
    pub admission: Option<MotifAdmission>,
}

/// A Komposer `imports.files[]` entry: a path / URL string, or `{url, auth}`.
#[derive(Debug, Clone, Default)]
pub struct FileImport {
    /// Path, `https://` URL or `$ENV`.
    pub url: Str,
    /// Credentials (named env vars).
    pub auth: Option<EnvAuth>,
}

impl Decode for FileImport {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        #[derive(Debug, Clone, Default, Decode)]
        struct Full {
            #[decode(required)]
            url: Option<Str>,
            auth: Option<EnvAuth>,
        }
        if node.as_map().is_some() {
            let f = Full::decode(node, cx)?;
            return Some(FileImport { url: f.url?, auth: f.auth });
        }
        Some(FileImport { url: Str::decode(node, cx)?, auth: None })
    }
}

/// A Komposer `imports.registry[]` entry: a ref string, or the struct form.
#[derive(Debug, Clone, Default)]
pub struct RegistryImport {
    /// The reference.
    pub url: Str,
    /// Struct-form fields, as written.
    pub details: Option<RegistryImportDetails>,
}

/// The struct form of a registry import.
#[derive(Debug, Clone, Default, Decode)]
pub struct RegistryImportDetails {
    #[decode(required)]
    pub url: Option<Str>,
    /// OCI reference.
    pub oci: Option<bool>,
    /// Load komposer.yaml from the artifact.
    pub use_komposer: Option<bool>,
    pub version: Option<Str>,
    /// Registry credentials.
    pub auth: Option<EnvAuth>,
    /// A public key (PEM file, relative to this file) the artifact must be signed with.
    pub verify: Option<Str>,
    /// Git refs per pattern.
    pub katalog: Option<Node>,
}

impl Decode for RegistryImport {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        if node.as_map().is_some() {
            let d = RegistryImportDetails::decode(node, cx)?;
            return Some(RegistryImport { url: d.url.clone()?, details: Some(d) });
        }
        Some(RegistryImport { url: Str::decode(node, cx)?, details: None })
    }
}

/// Komposer `imports`.
#[derive(Debug, Clone, Default, Decode)]
pub struct KomposerImports {
    /// Registry patterns (resolved through the `oci` crate's cache).
    pub registry: Vec<RegistryImport>,
    /// Katalog files.
    pub files: Vec<FileImport>,
    /// Helm-rendered Katalogs.
    #[decode(unsupported = "Helm imports are not implemented by ork")]
    pub helm: Option<Node>,
}

/// Komposer `spec`.
#[derive(Debug, Clone, Default, Decode)]
pub struct KomposerSpec {
    /// Field overrides onto imported entries, or new entries.
    #[decode(with = decode_crds)]
    pub crds: Map<CrdEntry>,
}

/// `kind: Komposer`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Komposer {
    #[decode(required)]
    pub api_version: Option<Str>,
    /// `Komposer`.
    #[decode(required)]
    pub kind: Option<Str>,
    #[decode(required)]
    pub metadata: Option<Metadata>,
    #[decode(unsupported = "lifecycle metadata (maturity, deprecation) is not enforced by ork yet")]
    pub lifecycle: Option<Node>,
    #[decode(unsupported = "import policies are not enforced by ork yet")]
    pub policy: Option<Node>,
    pub imports: Option<KomposerImports>,
    /// Security (merged over the imports').
    pub security: Option<Security>,
    #[decode(unsupported = "notifications are not sent by ork")]
    pub notification: Option<Node>,
    #[decode(unsupported = "provider libraries do not exist in ork")]
    pub providers: Option<Node>,
    pub profiles: Option<Profiles>,
    pub notes: Option<Notes>,
    pub gateway: Option<Gateway>,
    #[decode(unsupported = "publish policies are read by `ork push` (not implemented yet)")]
    pub publish: Option<Node>,
    /// Inline overrides.
    pub spec: Option<KomposerSpec>,
}

impl<T: crate::decode::Walk> crate::decode::Walk for MotifRules<T> {
    fn walk(&self, f: &mut dyn FnMut(&str, Span)) {
        self.rules.walk(f);
    }
    fn reach(r: &mut crate::decode::Reach) {
        T::reach(r);
    }
}

/// Import locations are paths and URLs, never templates.
impl crate::decode::Walk for FileImport {
    fn walk(&self, _: &mut dyn FnMut(&str, Span)) {}
}

/// Registry references are never templates.
impl crate::decode::Walk for RegistryImport {
    fn walk(&self, _: &mut dyn FnMut(&str, Span)) {}
    fn reach(r: &mut crate::decode::Reach) {
        <RegistryImportDetails as crate::decode::Walk>::reach(r);
    }
}
