//! Child resource entries of `onCreate` / `onReconcile` / `onDelete` (reference §4.4–§4.6).

// Field names are the document's keys (camelCase in YAML), documented in docs/ and by the
// decoder's errors; a field has a doc comment only where its name does not say it all.
#![allow(missing_docs)]

use super::condition::Condition;
use crate::decode::{Cx, Decode, DecodeFields, Map, Str};
use crate::diag::Span;
use crate::yaml::Node;
use katalog_derive::Decode;

/// `forEach: {field, as}` — one entry per list item or map key.
#[derive(Debug, Clone, Default, Decode)]
pub struct ForEach {
    /// Dot path of the list or map.
    #[decode(required)]
    pub field: Option<Str>,
    /// Name of the loop variable (`.item` is always set too).
    #[decode(rename = "as")]
    pub as_: Option<Str>,
}

/// Fields every resource entry has.
#[derive(Debug, Clone, Default, Decode)]
pub struct EntryCommon {
    /// Object name (template); each kind has a default.
    pub name: Option<Str>,
    /// Namespace (template); defaults to the CR's namespace.
    pub namespace: Option<Str>,
    /// Labels (static keys, templated values).
    pub labels: Map<Str>,
    pub annotations: Map<Str>,
    /// All must pass for the entry to be desired.
    pub when: Vec<Condition>,
    /// One must pass.
    pub or: Vec<Condition>,
    /// Expand to one entry per item.
    pub for_each: Option<ForEach>,
    /// onCreate entries: also drift-correct every cycle.
    pub reconcile: Option<bool>,
    /// Create only if missing; never re-render.
    pub once: Option<bool>,
    /// Server-side-apply force override for this entry.
    pub force_conflict: Option<bool>,
    /// A name for this entry, unique within its CRD, that `dependsOn` of other entries uses
    /// (an ork extension).
    pub id: Option<Str>,
    /// Ids of entries whose children must be ready before this one is created (an ork
    /// extension); the CR's deletion removes them in the reverse order.
    pub depends_on: Vec<Str>,
    /// When the child counts as ready: conditions over the child object itself
    /// (`status.readyReplicas`); default per kind (docs/readiness.md).
    pub ready_when: Vec<Condition>,
    /// Artificial delay.
    #[decode(unsupported = "artificial delays are not executed by ork")]
    pub sleep: Option<Str>,
    /// Position of the entry.
    #[decode(span)]
    pub span: Span,
}

/// `resources: {profile | requests, limits}`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Resources {
    /// Built-in or user profile name.
    pub profile: Option<Str>,
    pub requests: Map<Str>,
    pub limits: Map<Str>,
    #[decode(span)]
    pub span: Span,
}

/// Linux capabilities.
#[derive(Debug, Clone, Default, Decode)]
pub struct Capabilities {
    /// Added capabilities.
    pub add: Vec<Str>,
    /// Dropped capabilities.
    pub drop: Vec<Str>,
}

/// Container `securityContext`: `profile` XOR explicit fields.
#[derive(Debug, Clone, Default, Decode)]
pub struct SecurityContext {
    /// baseline | restricted | hardened | user profile.
    pub profile: Option<Str>,
    pub allow_privilege_escalation: Option<bool>,
    pub read_only_root_filesystem: Option<bool>,
    pub run_as_non_root: Option<bool>,
    pub run_as_user: Option<i64>,
    pub run_as_group: Option<i64>,
    pub capabilities: Option<Capabilities>,
    #[decode(span)]
    pub span: Span,
}

/// Pod `podSecurity`: `profile` XOR explicit fields.
#[derive(Debug, Clone, Default, Decode)]
pub struct PodSecurity {
    /// baseline | restricted | hardened | user profile.
    pub profile: Option<Str>,
    pub run_as_non_root: Option<bool>,
    pub run_as_user: Option<i64>,
    pub run_as_group: Option<i64>,
    pub fs_group: Option<i64>,
    #[decode(span)]
    pub span: Span,
}

/// One probe.
#[derive(Debug, Clone, Default, Decode)]
pub struct Probe {
    /// http | tcp (http when `path` is set).
    #[decode(rename = "type")]
    pub kind: Option<Str>,
    /// HTTP path.
    pub path: Option<Str>,
    /// Port (defaults to the container port).
    pub port: Option<Str>,
    /// fast | standard | patient | slow-start | user profile.
    pub profile: Option<Str>,
    pub initial_delay_seconds: Option<Str>,
    pub period_seconds: Option<Str>,
    pub failure_threshold: Option<Str>,
    pub success_threshold: Option<Str>,
    pub timeout_seconds: Option<Str>,
    #[decode(span)]
    pub span: Span,
}

/// `probes: {startup, liveness, readiness}`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Probes {
    pub startup: Option<Probe>,
    pub liveness: Option<Probe>,
    pub readiness: Option<Probe>,
}

/// `rollingUpdate: {profile | maxSurge, maxUnavailable}`.
#[derive(Debug, Clone, Default, Decode)]
pub struct RollingUpdate {
    /// safe | fast | blue-green | user profile.
    pub profile: Option<Str>,
    pub max_surge: Option<Str>,
    pub max_unavailable: Option<Str>,
    #[decode(span)]
    pub span: Span,
}

/// `{name, key, optional}` reference into a Secret or ConfigMap.
#[derive(Debug, Clone, Default, Decode)]
pub struct KeyRef {
    /// Object name.
    #[decode(required)]
    pub name: Option<Str>,
    #[decode(required)]
    pub key: Option<Str>,
    /// Optional reference.
    pub optional: Option<bool>,
}

/// `valueFrom`.
#[derive(Debug, Clone, Default, Decode)]
pub struct ValueFrom {
    /// From a Secret key.
    pub secret_key_ref: Option<KeyRef>,
    /// From a ConfigMap key.
    pub config_map_key_ref: Option<KeyRef>,
}

/// One environment variable.
#[derive(Debug, Clone, Default, Decode)]
pub struct EnvVar {
    #[decode(required)]
    pub name: Option<Str>,
    /// Literal or template value.
    pub value: Option<Str>,
    /// Value from a Secret or ConfigMap.
    pub value_from: Option<ValueFrom>,
}

/// `env` must be a list; a map gets a migration hint (upstream v0.7.13 changed this).
pub fn decode_env(node: &Node, cx: &mut Cx) -> Option<Vec<EnvVar>> {
    if node.as_map().is_some() {
        cx.error_help(
            "env-as-map",
            node.span,
            "`env` must be a list of {name, value} entries, not a map",
            "write `env:` as `- name: KEY` / `  value: \"...\"` items",
        );
        return None;
    }
    Vec::<EnvVar>::decode(node, cx)
}

/// One `envFrom` import.
#[derive(Debug, Clone, Default, Decode)]
pub struct EnvFromRef {
    /// Object name.
    #[decode(required)]
    pub name: Option<Str>,
    /// Prefix for the variable names.
    pub prefix: Option<Str>,
    /// Suffix (needs `keys`).
    pub suffix: Option<Str>,
    pub optional: Option<bool>,
    /// Import only these keys, as separate variables.
    pub keys: Vec<Str>,
}

/// `envFrom: {secretRef: [...], configMapRef: [...]}`.
#[derive(Debug, Clone, Default, Decode)]
pub struct EnvFrom {
    pub secret_ref: Vec<EnvFromRef>,
    pub config_map_ref: Vec<EnvFromRef>,
}

/// ConfigMap volume source.
#[derive(Debug, Clone, Default, Decode)]
pub struct ConfigMapVolume {
    /// ConfigMap name.
    #[decode(required)]
    pub name: Option<Str>,
}

/// Secret volume source.
#[derive(Debug, Clone, Default, Decode)]
pub struct SecretVolume {
    #[decode(required)]
    pub secret_name: Option<Str>,
}

/// emptyDir volume source.
#[derive(Debug, Clone, Default, Decode)]
pub struct EmptyDirVolume {
    /// Memory or disk.
    pub medium: Option<Str>,
    pub size_limit: Option<Str>,
}

/// PVC volume source.
#[derive(Debug, Clone, Default, Decode)]
pub struct PvcVolume {
    #[decode(required)]
    pub claim_name: Option<Str>,
    /// Read-only mount.
    pub read_only: Option<bool>,
}

/// hostPath volume source.
#[derive(Debug, Clone, Default, Decode)]
pub struct HostPathVolume {
    /// Host path.
    #[decode(required)]
    pub path: Option<Str>,
    #[decode(rename = "type")]
    pub kind: Option<Str>,
}

/// A pod volume: name plus exactly one source.
#[derive(Debug, Clone, Default, Decode)]
pub struct Volume {
    /// Volume name.
    #[decode(required)]
    pub name: Option<Str>,
    pub config_map: Option<ConfigMapVolume>,
    pub secret: Option<SecretVolume>,
    pub empty_dir: Option<EmptyDirVolume>,
    pub persistent_volume_claim: Option<PvcVolume>,
    pub host_path: Option<HostPathVolume>,
    #[decode(span)]
    pub span: Span,
}

/// A container volume mount.
#[derive(Debug, Clone, Default, Decode)]
pub struct VolumeMount {
    /// Volume name.
    #[decode(required)]
    pub name: Option<Str>,
    #[decode(required)]
    pub mount_path: Option<Str>,
    pub sub_path: Option<Str>,
    pub read_only: Option<bool>,
}

/// Container-level fields shared by workload kinds.
#[derive(Debug, Clone, Default, Decode)]
pub struct ContainerFields {
    /// Image (required for workloads that are created).
    pub image: Option<Str>,
    pub image_pull_secrets: Vec<Str>,
    /// Replaces the image's entrypoint.
    pub command: Vec<Str>,
    pub args: Vec<Str>,
    #[decode(with = decode_env)]
    pub env: Vec<EnvVar>,
    /// Bulk environment imports.
    pub env_from: Option<EnvFrom>,
    pub resources: Option<Resources>,
    /// Container security.
    pub security_context: Option<SecurityContext>,
    pub volume_mounts: Vec<VolumeMount>,
}

/// Pod-level fields shared by workload kinds.
#[derive(Debug, Clone, Default, Decode)]
pub struct PodFields {
    pub pod_security: Option<PodSecurity>,
    pub volumes: Vec<Volume>,
    pub node_selector: Map<Str>,
    pub service_account_name: Option<Str>,
}

/// `deployments[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Deployment {
    #[decode(flatten)]
    pub common: EntryCommon,
    #[decode(flatten)]
    pub container: ContainerFields,
    #[decode(flatten)]
    pub pod: PodFields,
    /// Replicas (default "1").
    pub replicas: Option<Str>,
    /// Container port.
    pub port: Option<Str>,
    /// TCP | UDP | SCTP.
    pub protocol: Option<Str>,
    pub probes: Option<Probes>,
    /// Rollout strategy.
    pub rolling_update: Option<RollingUpdate>,
    pub working_directory: Option<Str>,
    /// Workload autoscaler.
    #[decode(unsupported = "workload autoscaling is not executed by ork; use an `hpa` entry")]
    pub autoscale: Option<Node>,
}

/// `statefulSets[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct StatefulSet {
    #[decode(flatten)]
    pub common: EntryCommon,
    #[decode(flatten)]
    pub container: ContainerFields,
    #[decode(flatten)]
    pub pod: PodFields,
    pub replicas: Option<Str>,
    /// Container port.
    pub port: Option<Str>,
    pub protocol: Option<Str>,
    pub probes: Option<Probes>,
    /// Rollout strategy.
    pub rolling_update: Option<RollingUpdate>,
    /// Image tag.
    pub tag: Option<Str>,
    /// Governing service (default: the entry name).
    pub service_name: Option<Str>,
    /// Per-replica volumes.
    pub volume_claim_templates: Vec<VolumeClaimTemplate>,
    /// Workload autoscaler.
    #[decode(unsupported = "workload autoscaling is not executed by ork; use an `hpa` entry")]
    pub autoscale: Option<Node>,
}

/// `statefulSets[].volumeClaimTemplates[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct VolumeClaimTemplate {
    /// Name (default "data").
    pub name: Option<Str>,
    pub storage_class: Option<Str>,
    pub storage_size: Option<Str>,
    /// Mount path (default "/data").
    pub mount_path: Option<Str>,
    pub access_modes: Vec<Str>,
}

/// `jobs[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Job {
    #[decode(flatten)]
    pub common: EntryCommon,
    #[decode(flatten)]
    pub container: ContainerFields,
    #[decode(flatten)]
    pub pod: PodFields,
    /// Retries (default 3).
    pub backoff_limit: Option<Str>,
    pub working_directory: Option<Str>,
}

/// `cronJobs[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct CronJob {
    #[decode(flatten)]
    pub common: EntryCommon,
    #[decode(flatten)]
    pub container: ContainerFields,
    #[decode(flatten)]
    pub pod: PodFields,
    /// Cron schedule (required).
    pub schedule: Option<Str>,
    pub suspend: Option<Str>,
    pub successful_jobs_history_limit: Option<Str>,
    pub failed_jobs_history_limit: Option<Str>,
    /// allow | forbid | replace.
    pub concurrency_policy: Option<Str>,
    pub starting_deadline_seconds: Option<Str>,
    pub working_directory: Option<Str>,
}

/// `services[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Service {
    #[decode(flatten)]
    pub common: EntryCommon,
    /// ClusterIP | NodePort | LoadBalancer.
    #[decode(rename = "type")]
    pub kind: Option<Str>,
    /// clusterIP: None.
    pub headless: Option<bool>,
    pub protocol: Option<Str>,
    pub port: Option<Str>,
    pub target_port: Option<Str>,
    /// Pod selector.
    pub selector: Map<Str>,
}

/// Copy-from-namespace and replicate-to-namespaces fields.
#[derive(Debug, Clone, Default, Decode)]
pub struct Replication {
    /// Source namespace of a copy.
    #[decode(unsupported = "copying objects from another namespace is not implemented by ork yet")]
    pub from_namespace: Option<Str>,
    /// Replicate into these namespaces.
    #[decode(unsupported = "replicating objects into other namespaces is not implemented by ork yet")]
    pub to_namespaces: Vec<Str>,
}

/// `configMaps[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct ConfigMap {
    #[decode(flatten)]
    pub common: EntryCommon,
    pub data: Map<Str>,
    /// Copy of another ConfigMap.
    #[decode(unsupported = "copying objects from another namespace is not implemented by ork yet")]
    pub from_config_map: Option<Str>,
    /// Copy / replicate.
    #[decode(flatten)]
    pub replication: Replication,
}

/// `secrets[].tls`.
#[derive(Debug, Clone, Default, Decode)]
pub struct SecretTls {
    /// Certificate CN.
    pub common_name: Option<Str>,
    pub dns_names: Vec<Str>,
    pub valid_for: Option<Str>,
}

/// `secrets[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Secret {
    #[decode(flatten)]
    pub common: EntryCommon,
    /// Secret type (Opaque).
    #[decode(rename = "type")]
    pub kind: Option<Str>,
    /// Data (templated).
    pub data: Map<Str>,
    /// Copy of another Secret.
    #[decode(unsupported = "copying objects from another namespace is not implemented by ork yet")]
    pub from_secret: Option<Str>,
    /// Copy / replicate.
    #[decode(flatten)]
    pub replication: Replication,
    /// With `once`: recreate when older than this.
    pub rotate_after: Option<Str>,
    /// Generated self-signed certificate.
    #[decode(unsupported = "TLS certificate generation for secrets is not implemented yet")]
    pub tls: Option<SecretTls>,
}

/// `ingresses[].tls`.
#[derive(Debug, Clone, Default, Decode)]
pub struct IngressTls {
    /// Generate a certificate.
    pub create: Option<bool>,
    pub secret_name: Option<Str>,
    pub hosts: Vec<Str>,
    pub valid_for: Option<Str>,
}

/// `ingresses[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Ingress {
    #[decode(flatten)]
    pub common: EntryCommon,
    pub host: Option<Str>,
    /// Backend service.
    pub service_name: Option<Str>,
    /// Backend port.
    pub service_port: Option<Str>,
    /// Path ("/").
    pub path: Option<Str>,
    /// Prefix | Exact | ImplementationSpecific.
    pub path_type: Option<Str>,
    /// Ingress class.
    pub class_name: Option<Str>,
    pub tls: Option<IngressTls>,
}

/// `{apiVersion, kind, name}`.
#[derive(Debug, Clone, Default, Decode)]
pub struct ObjectRef {
    pub api_version: Option<Str>,
    pub kind: Option<Str>,
    pub name: Option<Str>,
}

/// One HPA scaling policy.
#[derive(Debug, Clone, Default, Decode)]
pub struct ScalingPolicy {
    /// Percent | Pods.
    #[decode(rename = "type")]
    pub kind: Option<Str>,
    /// Pods or percent, as `type` says.
    pub value: Option<Str>,
    pub period_seconds: Option<Str>,
}

/// One direction of HPA behavior.
#[derive(Debug, Clone, Default, Decode)]
pub struct ScalingRules {
    pub stabilization_window_seconds: Option<Str>,
    /// Max | Min | Disabled.
    pub select_policy: Option<Str>,
    pub policies: Vec<ScalingPolicy>,
}

/// `hpa[].behavior` / `pdb[].behavior`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Behavior {
    /// Profile name.
    pub profile: Option<Str>,
    pub scale_up: Option<ScalingRules>,
    pub scale_down: Option<ScalingRules>,
    #[decode(span)]
    pub span: Span,
}

/// `hpa[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Hpa {
    #[decode(flatten)]
    pub common: EntryCommon,
    /// Scaled workload.
    pub scale_target_ref: Option<ObjectRef>,
    pub min_replicas: Option<Str>,
    pub max_replicas: Option<Str>,
    #[decode(rename = "targetCPUUtilizationPercentage")]
    pub target_cpu_utilization_percentage: Option<Str>,
    pub behavior: Option<Behavior>,
}

/// `pdb[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Pdb {
    #[decode(flatten)]
    pub common: EntryCommon,
    /// Pod selector.
    pub selector: Map<Str>,
    /// Int or percentage.
    pub min_available: Option<Str>,
    /// Int or percentage.
    pub max_unavailable: Option<Str>,
    /// Behavior profile.
    pub behavior: Option<Behavior>,
}

/// `ipBlock`.
#[derive(Debug, Clone, Default, Decode)]
pub struct IpBlock {
    #[decode(required)]
    pub cidr: Option<Str>,
    pub except: Vec<Str>,
}

/// A NetworkPolicy peer.
#[derive(Debug, Clone, Default, Decode)]
pub struct Peer {
    /// Pods by label.
    pub pod_selector: Option<Map<Str>>,
    /// Namespaces by label.
    pub namespace_selector: Option<Map<Str>>,
    /// Addresses by CIDR.
    pub ip_block: Option<IpBlock>,
}

/// A NetworkPolicy port.
#[derive(Debug, Clone, Default, Decode)]
pub struct PolicyPort {
    pub protocol: Option<Str>,
    pub port: Option<Str>,
}

/// An ingress rule.
#[derive(Debug, Clone, Default, Decode)]
pub struct IngressRule {
    /// Peers traffic may come from.
    pub from: Vec<Peer>,
    pub ports: Vec<PolicyPort>,
}

/// An egress rule.
#[derive(Debug, Clone, Default, Decode)]
pub struct EgressRule {
    /// Peers traffic may go to.
    pub to: Vec<Peer>,
    pub ports: Vec<PolicyPort>,
}

/// `networkPolicies[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct NetworkPolicy {
    #[decode(flatten)]
    pub common: EntryCommon,
    /// Pods the policy applies to (`{}` = all).
    pub pod_selector: Option<Map<Str>>,
    pub ingress: Option<Vec<IngressRule>>,
    pub egress: Option<Vec<EgressRule>>,
    /// Ingress / Egress (derived when absent).
    pub policy_types: Vec<Str>,
    /// Profile (XOR rules).
    pub profile: Option<Str>,
    /// Copy of another policy.
    #[decode(unsupported = "copying objects from another namespace is not implemented by ork yet")]
    pub from_network_policy: Option<Str>,
    /// Copy / replicate.
    #[decode(flatten)]
    pub replication: Replication,
}

/// `resourceQuotas[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct ResourceQuota {
    #[decode(flatten)]
    pub common: EntryCommon,
    /// Hard limits.
    pub hard: Map<Str>,
    /// Profile (XOR hard).
    pub profile: Option<Str>,
    /// Copy of another quota.
    #[decode(unsupported = "copying objects from another namespace is not implemented by ork yet")]
    pub from_resource_quota: Option<Str>,
    /// Copy / replicate.
    #[decode(flatten)]
    pub replication: Replication,
}

/// One LimitRange item.
#[derive(Debug, Clone, Default, Decode)]
pub struct LimitItem {
    /// Container | Pod | PersistentVolumeClaim.
    #[decode(rename = "type")]
    pub kind: Option<Str>,
    /// Default limits.
    pub default: Map<Str>,
    pub default_request: Map<Str>,
    pub max: Map<Str>,
    pub min: Map<Str>,
    pub max_limit_request_ratio: Map<Str>,
}

/// `limitRanges[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct LimitRange {
    #[decode(flatten)]
    pub common: EntryCommon,
    pub limits: Vec<LimitItem>,
    /// User-defined profile.
    pub profile: Option<Str>,
}

/// `persistentVolumeClaims[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Pvc {
    #[decode(flatten)]
    pub common: EntryCommon,
    /// Size (required).
    pub storage: Option<Str>,
    pub storage_class_name: Option<Str>,
    pub access_modes: Vec<Str>,
    /// Filesystem | Block.
    pub volume_mode: Option<Str>,
    /// Pre-bound volume.
    pub volume_name: Option<Str>,
}

/// One RBAC policy rule.
#[derive(Debug, Clone, Default, Decode)]
pub struct PolicyRule {
    pub api_groups: Vec<Str>,
    pub resources: Vec<Str>,
    pub verbs: Vec<Str>,
    pub resource_names: Vec<Str>,
}

/// `roles[]` and `clusterRoles[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct Role {
    #[decode(flatten)]
    pub common: EntryCommon,
    pub rules: Vec<PolicyRule>,
}

/// `roleRef`.
#[derive(Debug, Clone, Default, Decode)]
pub struct RoleRef {
    /// Role name.
    #[decode(required)]
    pub name: Option<Str>,
    /// Role | ClusterRole.
    pub kind: Option<Str>,
    pub api_group: Option<Str>,
}

/// A binding subject.
#[derive(Debug, Clone, Default, Decode)]
pub struct Subject {
    /// User | Group | ServiceAccount.
    #[decode(required)]
    pub kind: Option<Str>,
    #[decode(required)]
    pub name: Option<Str>,
    /// Namespace (ServiceAccount).
    pub namespace: Option<Str>,
    pub api_group: Option<Str>,
}

/// `roleBindings[]` and `clusterRoleBindings[]`.
#[derive(Debug, Clone, Default, Decode)]
pub struct RoleBinding {
    #[decode(flatten)]
    pub common: EntryCommon,
    /// Bound role.
    pub role_ref: Option<RoleRef>,
    pub subjects: Vec<Subject>,
}

/// `namespaces[]` and `serviceAccounts[]`: name, labels, annotations.
#[derive(Debug, Clone, Default, Decode)]
pub struct Plain {
    #[decode(flatten)]
    pub common: EntryCommon,
}

/// `custom[].metadata`.
#[derive(Debug, Clone, Default, Decode)]
pub struct CustomMeta {
    /// Name (required).
    #[decode(required)]
    pub name: Option<Str>,
    pub namespace: Option<Str>,
    /// Scope (absent: namespaced).
    pub namespaced: Option<bool>,
    pub labels: Map<Str>,
    pub annotations: Map<Str>,
}

/// The declared part of a `custom[]` entry.
#[derive(Debug, Clone, Default, Decode)]
pub struct CustomKnown {
    /// Gates, loops and phase flags (its `name`/`namespace` are not used: see `metadata`).
    #[decode(flatten)]
    pub common: EntryCommon,
    /// API version of the kind (required).
    pub api_version: Option<Str>,
    /// Kind (required).
    pub kind: Option<Str>,
    /// The kind's resource name, when neither the built-in table nor a CRD of this Katalog knows
    /// it (an ork extension; not part of the object).
    pub plural: Option<Str>,
    /// Object metadata.
    pub metadata: Option<CustomMeta>,
    /// Free-form spec (templated).
    pub spec: Option<Node>,
    /// Initial status.
    pub status: Option<Node>,
    /// Whether the kind has a status subresource (absent: detect).
    pub has_status: Option<bool>,
}

/// `custom[]`: any kind. Top-level keys other than the declared ones (`data`, `rules`, …) are
/// passed through into the object as written.
#[derive(Debug, Clone, Default)]
pub struct Custom {
    /// Declared fields.
    pub known: CustomKnown,
    /// Other top-level keys, in source order.
    pub extra: Vec<(Str, Node)>,
}

impl Decode for Custom {
    fn decode(node: &Node, cx: &mut Cx) -> Option<Self> {
        let Some(entries) = node.as_map() else {
            cx.type_error(node, "an object");
            return None;
        };
        let mut out = Custom::default();
        let mut present = Vec::new();
        for (k, v) in entries {
            let key = k.as_scalar_text().unwrap_or_default();
            if cx.in_key(key, |cx| out.known.decode_field(key, v, cx)) {
                present.push(key);
            } else {
                out.extra.push((Str::new(key.to_string(), k.span), v.clone()));
            }
        }
        out.known.finish(node, &present, cx);
        Some(out)
    }
}

/// A lifecycle block: `onCreate`, `onReconcile`, `onDelete` (and each `onDelete` group).
#[derive(Debug, Clone, Default, Decode)]
pub struct HookTemplates {
    /// Group name (onDelete groups).
    pub name: Option<Str>,
    pub deployments: Vec<Deployment>,
    pub stateful_sets: Vec<StatefulSet>,
    pub services: Vec<Service>,
    pub config_maps: Vec<ConfigMap>,
    pub secrets: Vec<Secret>,
    pub jobs: Vec<Job>,
    pub cron_jobs: Vec<CronJob>,
    pub ingresses: Vec<Ingress>,
    pub service_accounts: Vec<Plain>,
    pub roles: Vec<Role>,
    pub role_bindings: Vec<RoleBinding>,
    pub cluster_roles: Vec<Role>,
    pub cluster_role_bindings: Vec<RoleBinding>,
    pub namespaces: Vec<Plain>,
    pub network_policies: Vec<NetworkPolicy>,
    pub resource_quotas: Vec<ResourceQuota>,
    pub limit_ranges: Vec<LimitRange>,
    pub pdb: Vec<Pdb>,
    pub hpa: Vec<Hpa>,
    pub persistent_volume_claims: Vec<Pvc>,
    /// Any other kind.
    pub custom: Vec<Custom>,
    #[decode(unsupported = "replicaSets children are not rendered by ork; use deployments")]
    pub replica_sets: Option<Node>,
    /// Bare pods.
    #[decode(unsupported = "bare pod children are not rendered by ork; use deployments or jobs")]
    pub pods: Option<Node>,
    #[decode(unsupported = "persistentVolumes children are not rendered by ork; use persistentVolumeClaims or custom")]
    pub persistent_volumes: Option<Node>,
    /// Calls made before the block's resources.
    #[decode(unsupported = "external calls are not executed by ork")]
    pub external: Option<Node>,
    /// Gate for the whole block (all).
    pub when: Vec<Condition>,
    /// Gate for the whole block (any).
    pub or: Vec<Condition>,
    /// onDelete: delete groups one after another.
    pub ordered: Option<bool>,
    /// onDelete: ordered stages.
    pub groups: Vec<HookTemplates>,
    /// onDelete: how long ordered deletion waits.
    pub timeout: Option<Str>,
    #[decode(span)]
    pub span: Span,
}

/// The kind of a child resource list, for iteration and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChildKind {
    /// apps/v1 Deployment.
    Deployment,
    /// apps/v1 StatefulSet.
    StatefulSet,
    /// v1 Service.
    Service,
    /// v1 ConfigMap.
    ConfigMap,
    /// v1 Secret.
    Secret,
    /// batch/v1 Job.
    Job,
    /// batch/v1 CronJob.
    CronJob,
    /// networking.k8s.io/v1 Ingress.
    Ingress,
    /// v1 ServiceAccount.
    ServiceAccount,
    /// rbac Role.
    Role,
    /// rbac RoleBinding.
    RoleBinding,
    /// rbac ClusterRole.
    ClusterRole,
    /// rbac ClusterRoleBinding.
    ClusterRoleBinding,
    /// v1 Namespace.
    Namespace,
    /// networking NetworkPolicy.
    NetworkPolicy,
    /// v1 ResourceQuota.
    ResourceQuota,
    /// v1 LimitRange.
    LimitRange,
    /// policy/v1 PodDisruptionBudget.
    Pdb,
    /// autoscaling/v2 HorizontalPodAutoscaler.
    Hpa,
    /// v1 PersistentVolumeClaim.
    Pvc,
    /// Any other kind.
    Custom,
}

impl ChildKind {
    /// The YAML list key in a lifecycle block.
    pub fn list_key(self) -> &'static str {
        match self {
            ChildKind::Deployment => "deployments",
            ChildKind::StatefulSet => "statefulSets",
            ChildKind::Service => "services",
            ChildKind::ConfigMap => "configMaps",
            ChildKind::Secret => "secrets",
            ChildKind::Job => "jobs",
            ChildKind::CronJob => "cronJobs",
            ChildKind::Ingress => "ingresses",
            ChildKind::ServiceAccount => "serviceAccounts",
            ChildKind::Role => "roles",
            ChildKind::RoleBinding => "roleBindings",
            ChildKind::ClusterRole => "clusterRoles",
            ChildKind::ClusterRoleBinding => "clusterRoleBindings",
            ChildKind::Namespace => "namespaces",
            ChildKind::NetworkPolicy => "networkPolicies",
            ChildKind::ResourceQuota => "resourceQuotas",
            ChildKind::LimitRange => "limitRanges",
            ChildKind::Pdb => "pdb",
            ChildKind::Hpa => "hpa",
            ChildKind::Pvc => "persistentVolumeClaims",
            ChildKind::Custom => "custom",
        }
    }

    /// The default object name for a CR named `cr`, where the kind has one.
    pub fn default_name(self, cr: &str) -> Option<String> {
        let suffix = match self {
            ChildKind::Deployment => "-deployment",
            ChildKind::Service => "-svc",
            ChildKind::ConfigMap => "-config",
            ChildKind::Secret => "-secret",
            ChildKind::Job => "-job",
            ChildKind::CronJob => "-cronjob",
            ChildKind::StatefulSet => "",
            ChildKind::Ingress => "-ingress",
            ChildKind::Hpa => "-hpa",
            ChildKind::Pdb => "-pdb",
            ChildKind::Role => "-role",
            ChildKind::RoleBinding => "-rolebinding",
            ChildKind::ClusterRole => "-cluster-role",
            ChildKind::ClusterRoleBinding => "-crb",
            _ => return None,
        };
        Some(format!("{cr}{suffix}"))
    }
}

impl HookTemplates {
    /// Every entry's common fields with its kind, in a fixed kind order then declaration order.
    pub fn entries(&self) -> Vec<(ChildKind, &EntryCommon)> {
        let mut out: Vec<(ChildKind, &EntryCommon)> = Vec::new();
        out.extend(self.deployments.iter().map(|e| (ChildKind::Deployment, &e.common)));
        out.extend(self.stateful_sets.iter().map(|e| (ChildKind::StatefulSet, &e.common)));
        out.extend(self.services.iter().map(|e| (ChildKind::Service, &e.common)));
        out.extend(self.config_maps.iter().map(|e| (ChildKind::ConfigMap, &e.common)));
        out.extend(self.secrets.iter().map(|e| (ChildKind::Secret, &e.common)));
        out.extend(self.jobs.iter().map(|e| (ChildKind::Job, &e.common)));
        out.extend(self.cron_jobs.iter().map(|e| (ChildKind::CronJob, &e.common)));
        out.extend(self.ingresses.iter().map(|e| (ChildKind::Ingress, &e.common)));
        out.extend(self.service_accounts.iter().map(|e| (ChildKind::ServiceAccount, &e.common)));
        out.extend(self.roles.iter().map(|e| (ChildKind::Role, &e.common)));
        out.extend(self.role_bindings.iter().map(|e| (ChildKind::RoleBinding, &e.common)));
        out.extend(self.cluster_roles.iter().map(|e| (ChildKind::ClusterRole, &e.common)));
        out.extend(self.cluster_role_bindings.iter().map(|e| (ChildKind::ClusterRoleBinding, &e.common)));
        out.extend(self.namespaces.iter().map(|e| (ChildKind::Namespace, &e.common)));
        out.extend(self.network_policies.iter().map(|e| (ChildKind::NetworkPolicy, &e.common)));
        out.extend(self.resource_quotas.iter().map(|e| (ChildKind::ResourceQuota, &e.common)));
        out.extend(self.limit_ranges.iter().map(|e| (ChildKind::LimitRange, &e.common)));
        out.extend(self.pdb.iter().map(|e| (ChildKind::Pdb, &e.common)));
        out.extend(self.hpa.iter().map(|e| (ChildKind::Hpa, &e.common)));
        out.extend(self.persistent_volume_claims.iter().map(|e| (ChildKind::Pvc, &e.common)));
        out.extend(self.custom.iter().map(|e| (ChildKind::Custom, &e.known.common)));
        out
    }

    /// Every entry with its index within its kind and its source path
    /// (`<prefix>.deployments[0]`, as render and RBAC name it), in [`HookTemplates::entries`]
    /// order.
    pub fn indexed_entries(&self, prefix: &str) -> Vec<(ChildKind, usize, String, &EntryCommon)> {
        let mut counts: std::collections::BTreeMap<ChildKind, usize> = std::collections::BTreeMap::new();
        self.entries()
            .into_iter()
            .map(|(kind, common)| {
                let i = *counts.entry(kind).and_modify(|n| *n += 1).or_insert(0);
                (kind, i, format!("{prefix}.{}[{i}]", kind.list_key()), common)
            })
            .collect()
    }

    /// Number of entries (groups included).
    pub fn count(&self) -> usize {
        self.entries().len() + self.groups.iter().map(HookTemplates::count).sum::<usize>()
    }
}

impl crate::decode::Walk for Custom {
    fn walk(&self, f: &mut dyn FnMut(&str, Span)) {
        self.known.walk(f);
        for (_, v) in &self.extra {
            v.walk(f);
        }
    }
}
