//! Profiles: named presets for resources, security contexts, probes, rollouts, PDBs, HPAs,
//! network policies, quotas and reconciler tuning (reference §7).
//!
//! This module owns the built-in tables (exactly as upstream defines them) and name resolution:
//! user-defined names are matched exactly and looked up first (so they can shadow a built-in);
//! built-in names are matched case-insensitively. Expanding a profile into a manifest is the
//! renderer's job; this module returns the Kubernetes-shaped fragment.

use crate::security::seccomp_profile;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The kinds of profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProfileClass {
    /// `resources.profile`.
    Resources,
    /// `securityContext.profile`.
    ContainerSecurity,
    /// `podSecurity.profile`.
    PodSecurity,
    /// `probes.<kind>.profile`.
    Probes,
    /// `rollingUpdate.profile`.
    RollingUpdate,
    /// `pdb[].behavior.profile`.
    Pdb,
    /// `hpa[].behavior.profile`.
    Hpa,
    /// `networkPolicies[].profile`.
    NetworkPolicies,
    /// `resourceQuotas[].profile`.
    ResourceQuotas,
    /// `limitRanges[].profile` (user-defined only).
    LimitRanges,
    /// `reconcile.profile`.
    Reconciler,
}

impl ProfileClass {
    /// Every class.
    pub fn all() -> &'static [ProfileClass] {
        use ProfileClass::*;
        &[Resources, ContainerSecurity, PodSecurity, Probes, RollingUpdate, Pdb, Hpa, NetworkPolicies, ResourceQuotas, LimitRanges, Reconciler]
    }

    /// The key under the top-level `profiles:` block.
    pub fn yaml_key(self) -> &'static str {
        match self {
            ProfileClass::Resources => "resources",
            ProfileClass::ContainerSecurity => "containerSecurity",
            ProfileClass::PodSecurity => "podSecurity",
            ProfileClass::Probes => "probes",
            ProfileClass::RollingUpdate => "rollingUpdate",
            ProfileClass::Pdb => "pdb",
            ProfileClass::Hpa => "hpa",
            ProfileClass::NetworkPolicies => "networkPolicies",
            ProfileClass::ResourceQuotas => "resourceQuotas",
            ProfileClass::LimitRanges => "limitRanges",
            ProfileClass::Reconciler => "reconciler",
        }
    }

    /// The class for a `profiles:` key.
    pub fn from_yaml_key(key: &str) -> Option<Self> {
        Self::all().iter().copied().find(|c| c.yaml_key() == key)
    }

    /// A human phrase: "resources profile".
    pub fn describe(self) -> &'static str {
        match self {
            ProfileClass::Resources => "resources profile",
            ProfileClass::ContainerSecurity => "container security profile",
            ProfileClass::PodSecurity => "pod security profile",
            ProfileClass::Probes => "probe profile",
            ProfileClass::RollingUpdate => "rolling update profile",
            ProfileClass::Pdb => "PDB profile",
            ProfileClass::Hpa => "HPA profile",
            ProfileClass::NetworkPolicies => "network policy profile",
            ProfileClass::ResourceQuotas => "resource quota profile",
            ProfileClass::LimitRanges => "limit range profile",
            ProfileClass::Reconciler => "reconciler profile",
        }
    }
}

/// Built-in names per class, in the documented order.
pub fn builtin_names(class: ProfileClass) -> &'static [&'static str] {
    match class {
        ProfileClass::Resources => &["tiny", "small", "medium", "large", "burst", "steady", "compute-heavy", "memory-heavy"],
        ProfileClass::ContainerSecurity | ProfileClass::PodSecurity => &["baseline", "restricted", "hardened"],
        ProfileClass::Probes => &["fast", "standard", "patient", "slow-start"],
        ProfileClass::RollingUpdate => &["safe", "fast", "blue-green"],
        ProfileClass::Pdb => &["zero-downtime", "rolling", "relaxed"],
        ProfileClass::Hpa => &["web", "api", "latency-sensitive", "batch", "cost-optimized"],
        ProfileClass::NetworkPolicies => &["deny-all", "deny-all-ingress", "deny-all-egress", "allow-same-namespace", "allow-dns-egress"],
        ProfileClass::ResourceQuotas => &["small", "medium", "large", "xlarge"],
        ProfileClass::LimitRanges => &[],
        ProfileClass::Reconciler => &["high-throughput", "conservative", "development"],
    }
}

fn resources(cpu_req: &str, cpu_lim: &str, mem_req: &str, mem_lim: &str) -> Value {
    json!({"requests": {"cpu": cpu_req, "memory": mem_req}, "limits": {"cpu": cpu_lim, "memory": mem_lim}})
}

fn probe(initial: i64, period: i64, failure: i64, success: i64, timeout: i64) -> Value {
    json!({"initialDelaySeconds": initial, "periodSeconds": period, "failureThreshold": failure,
           "successThreshold": success, "timeoutSeconds": timeout})
}

fn policy(kind: &str, value: i64, period: i64) -> Value {
    json!({"type": kind, "value": value, "periodSeconds": period})
}

fn hpa(target: i64, up_window: i64, up_select: &str, up: Vec<Value>, down_window: i64, down_select: &str, down: Vec<Value>) -> Value {
    json!({"targetCPUUtilizationPercentage": target, "behavior": {
        "scaleUp": {"stabilizationWindowSeconds": up_window, "selectPolicy": up_select, "policies": up},
        "scaleDown": {"stabilizationWindowSeconds": down_window, "selectPolicy": down_select, "policies": down}}})
}

fn quota(pods: &str, cpu: &str, mem: &str, rcpu: &str, rmem: &str, lcpu: &str, lmem: &str) -> Value {
    json!({"hard": {"pods": pods, "cpu": cpu, "memory": mem, "requests.cpu": rcpu, "requests.memory": rmem,
                    "limits.cpu": lcpu, "limits.memory": lmem}})
}

/// The Kubernetes-shaped fragment a built-in expands to (name matched case-insensitively).
pub fn builtin(class: ProfileClass, name: &str) -> Option<Value> {
    let n = name.to_ascii_lowercase();
    let v = match (class, n.as_str()) {
        (ProfileClass::Resources, "tiny") => resources("25m", "100m", "64Mi", "128Mi"),
        (ProfileClass::Resources, "small") => resources("100m", "500m", "128Mi", "512Mi"),
        (ProfileClass::Resources, "medium") => resources("250m", "1", "256Mi", "1Gi"),
        (ProfileClass::Resources, "large") => resources("500m", "2", "512Mi", "2Gi"),
        (ProfileClass::Resources, "burst") => resources("200m", "2", "256Mi", "2Gi"),
        (ProfileClass::Resources, "steady") => resources("300m", "600m", "256Mi", "512Mi"),
        (ProfileClass::Resources, "compute-heavy") => resources("1", "2", "512Mi", "1Gi"),
        (ProfileClass::Resources, "memory-heavy") => resources("250m", "500m", "1Gi", "2Gi"),
        (ProfileClass::ContainerSecurity, "baseline") => {
            json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["NET_RAW"]}})
        }
        // `restricted` and `hardened` also set the seccomp profile the Pod Security Standards'
        // `restricted` level requires (upstream's tables do not), so a pod using either passes
        // the install namespace's Pod Security admission (`crate::security`).
        (ProfileClass::ContainerSecurity, "restricted") => json!({"allowPrivilegeEscalation": false, "runAsNonRoot": true,
            "capabilities": {"drop": ["ALL"]}, "seccompProfile": seccomp_profile()}),
        (ProfileClass::ContainerSecurity, "hardened") => json!({"allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true, "runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}, "seccompProfile": seccomp_profile()}),
        (ProfileClass::PodSecurity, "baseline") => json!({"runAsNonRoot": false}),
        (ProfileClass::PodSecurity, "restricted") => json!({"runAsNonRoot": true, "runAsUser": 1000, "seccompProfile": seccomp_profile()}),
        (ProfileClass::PodSecurity, "hardened") => {
            json!({"runAsNonRoot": true, "runAsUser": 65534, "runAsGroup": 65534, "fsGroup": 65534, "seccompProfile": seccomp_profile()})
        }
        (ProfileClass::Probes, "fast") => probe(5, 10, 2, 1, 5),
        (ProfileClass::Probes, "standard") => probe(15, 20, 3, 1, 10),
        (ProfileClass::Probes, "patient") => probe(30, 30, 5, 1, 10),
        (ProfileClass::Probes, "slow-start") => probe(0, 10, 30, 1, 10),
        (ProfileClass::RollingUpdate, "safe") => json!({"maxSurge": 1, "maxUnavailable": 0}),
        (ProfileClass::RollingUpdate, "fast") => json!({"maxSurge": "25%", "maxUnavailable": "25%"}),
        (ProfileClass::RollingUpdate, "blue-green") => json!({"maxSurge": "100%", "maxUnavailable": 0}),
        (ProfileClass::Pdb, "zero-downtime") => json!({"minAvailable": "100%"}),
        (ProfileClass::Pdb, "rolling") => json!({"maxUnavailable": 1}),
        (ProfileClass::Pdb, "relaxed") => json!({"maxUnavailable": "25%"}),
        // Single-policy directions use selectPolicy Min unless upstream code says otherwise;
        // cost-optimized scale-up follows the code (Max), not the doc table (Min).
        (ProfileClass::Hpa, "web") => hpa(70, 0, "Max", vec![policy("Percent", 100, 15), policy("Pods", 4, 15)], 300, "Min", vec![policy("Percent", 10, 60)]),
        (ProfileClass::Hpa, "api") => hpa(60, 0, "Max", vec![policy("Percent", 100, 15), policy("Pods", 4, 15)], 600, "Min", vec![policy("Percent", 5, 60)]),
        (ProfileClass::Hpa, "latency-sensitive") => {
            hpa(50, 0, "Max", vec![policy("Percent", 200, 15), policy("Pods", 10, 15)], 900, "Min", vec![policy("Percent", 5, 120)])
        }
        (ProfileClass::Hpa, "batch") => hpa(80, 30, "Max", vec![policy("Percent", 100, 60)], 120, "Min", vec![policy("Percent", 50, 60)]),
        (ProfileClass::Hpa, "cost-optimized") => hpa(80, 180, "Max", vec![policy("Percent", 25, 60)], 60, "Min", vec![policy("Percent", 50, 60)]),
        (ProfileClass::NetworkPolicies, "deny-all") => json!({"policyTypes": ["Ingress", "Egress"], "ingress": [], "egress": []}),
        (ProfileClass::NetworkPolicies, "deny-all-ingress") => json!({"policyTypes": ["Ingress"], "ingress": []}),
        (ProfileClass::NetworkPolicies, "deny-all-egress") => json!({"policyTypes": ["Egress"], "egress": []}),
        (ProfileClass::NetworkPolicies, "allow-same-namespace") => {
            json!({"policyTypes": ["Ingress"], "ingress": [{"from": [{"podSelector": {}}]}]})
        }
        (ProfileClass::NetworkPolicies, "allow-dns-egress") => json!({"policyTypes": ["Egress"],
            "egress": [{"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}),
        (ProfileClass::ResourceQuotas, "small") => quota("10", "2", "4Gi", "1", "2Gi", "2", "4Gi"),
        (ProfileClass::ResourceQuotas, "medium") => quota("20", "4", "8Gi", "2", "4Gi", "4", "8Gi"),
        (ProfileClass::ResourceQuotas, "large") => quota("50", "8", "16Gi", "4", "8Gi", "8", "16Gi"),
        (ProfileClass::ResourceQuotas, "xlarge") => quota("100", "16", "32Gi", "8", "16Gi", "16", "32Gi"),
        (ProfileClass::Reconciler, "high-throughput") => json!({"workers": 10, "resync": "5m", "queue": {"maxDepth": 1000}}),
        (ProfileClass::Reconciler, "conservative") => json!({"workers": 2, "resync": "1m", "queue": {"maxDepth": 100}}),
        (ProfileClass::Reconciler, "development") => json!({"workers": 1, "resync": "30s", "queue": {"maxDepth": 50}}),
        _ => return None,
    };
    Some(v)
}

/// The user-defined profile names of a document, per class.
#[derive(Debug, Clone, Default)]
pub struct UserProfiles(BTreeMap<ProfileClass, BTreeSet<String>>);

impl UserProfiles {
    /// Records a user-defined profile.
    pub fn insert(&mut self, class: ProfileClass, name: &str) {
        self.0.entry(class).or_default().insert(name.to_string());
    }

    /// True when `name` is a user-defined profile of `class` (exact match).
    pub fn contains(&self, class: ProfileClass, name: &str) -> bool {
        self.0.get(&class).is_some_and(|s| s.contains(name))
    }

    fn names(&self, class: ProfileClass) -> impl Iterator<Item = &str> {
        self.0.get(&class).into_iter().flat_map(|s| s.iter().map(String::as_str))
    }
}

/// What a profile name resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// A user-defined profile (exact name).
    User(String),
    /// A built-in (canonical lowercase name).
    Builtin(&'static str),
}

/// A profile name that resolves to nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownProfile {
    /// The class looked in.
    pub class: ProfileClass,
    /// The name given.
    pub name: String,
    /// The closest known name, if any is close.
    pub suggestion: Option<String>,
    /// Every known name (user first, then built-in).
    pub known: Vec<String>,
}

impl fmt::Display for UnknownProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} \"{}\"", self.class.describe(), self.name)?;
        if let Some(s) = &self.suggestion {
            write!(f, "; did you mean \"{s}\"?")?;
        }
        if !self.known.is_empty() {
            write!(f, " (known: {})", self.known.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownProfile {}

/// Resolves a profile name: user-defined (exact) first, then built-in (case-insensitive).
pub fn resolve(class: ProfileClass, name: &str, user: &UserProfiles) -> Result<Resolved, UnknownProfile> {
    if user.contains(class, name) {
        return Ok(Resolved::User(name.to_string()));
    }
    if let Some(b) = builtin_names(class).iter().find(|b| b.eq_ignore_ascii_case(name)) {
        return Ok(Resolved::Builtin(b));
    }
    let known: Vec<String> = user.names(class).chain(builtin_names(class).iter().copied()).map(str::to_string).collect();
    let suggestion = crate::diag::suggest(name, known.iter().map(String::as_str)).map(str::to_string);
    Err(UnknownProfile { class, name: name.to_string(), suggestion, known })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restricted_and_hardened_pass_the_install_namespace_s_pod_security() {
        for name in ["restricted", "hardened"] {
            let pod = json!({
                "securityContext": builtin(ProfileClass::PodSecurity, name),
                "containers": [{"name": "c", "image": "x", "securityContext": builtin(ProfileClass::ContainerSecurity, name)}],
            });
            assert_eq!(crate::security::restricted_violations(&pod), vec![], "{name}");
            // The container profile alone is enough: a CR template that sets only
            // `securityContext: {profile: restricted}` runs in a `restricted` namespace.
            let alone = json!({"containers": [{"name": "c", "image": "x", "securityContext": builtin(ProfileClass::ContainerSecurity, name)}]});
            assert_eq!(crate::security::restricted_violations(&alone), vec![], "{name} alone");
        }
        let baseline = json!({"containers": [{"name": "c", "image": "x", "securityContext": builtin(ProfileClass::ContainerSecurity, "baseline")}]});
        let v = crate::security::restricted_violations(&baseline);
        assert!(!v.is_empty() && v.iter().all(|v| v.level == crate::security::Level::Restricted), "{v:?}");
    }

    #[test]
    fn every_builtin_name_has_a_table_entry() {
        for &class in ProfileClass::all() {
            for name in builtin_names(class) {
                assert!(builtin(class, name).is_some(), "{class:?} {name}");
            }
            assert_eq!(ProfileClass::from_yaml_key(class.yaml_key()), Some(class));
        }
        assert!(builtin_names(ProfileClass::LimitRanges).is_empty());
    }

    #[test]
    fn tables_match_the_reference() {
        assert_eq!(builtin(ProfileClass::Resources, "tiny").unwrap()["limits"]["memory"], "128Mi");
        assert_eq!(builtin(ProfileClass::Resources, "memory-heavy").unwrap()["requests"]["memory"], "1Gi");
        assert_eq!(builtin(ProfileClass::Resources, "compute-heavy").unwrap()["requests"]["cpu"], "1");
        let h = builtin(ProfileClass::ContainerSecurity, "hardened").unwrap();
        assert_eq!(h["readOnlyRootFilesystem"], true);
        assert_eq!(h["capabilities"]["drop"][0], "ALL");
        assert_eq!(builtin(ProfileClass::ContainerSecurity, "baseline").unwrap()["capabilities"]["drop"][0], "NET_RAW");
        assert_eq!(builtin(ProfileClass::PodSecurity, "hardened").unwrap()["fsGroup"], 65534);
        assert_eq!(builtin(ProfileClass::PodSecurity, "restricted").unwrap()["runAsUser"], 1000);
        assert_eq!(builtin(ProfileClass::Probes, "slow-start").unwrap()["failureThreshold"], 30);
        assert_eq!(builtin(ProfileClass::Probes, "standard").unwrap()["initialDelaySeconds"], 15);
        assert_eq!(builtin(ProfileClass::RollingUpdate, "blue-green").unwrap()["maxSurge"], "100%");
        assert_eq!(builtin(ProfileClass::Pdb, "rolling").unwrap()["maxUnavailable"], 1);
        let web = builtin(ProfileClass::Hpa, "web").unwrap();
        assert_eq!(web["targetCPUUtilizationPercentage"], 70);
        assert_eq!(web["behavior"]["scaleDown"]["stabilizationWindowSeconds"], 300);
        assert_eq!(web["behavior"]["scaleUp"]["policies"][1]["value"], 4);
        assert_eq!(builtin(ProfileClass::Hpa, "cost-optimized").unwrap()["behavior"]["scaleUp"]["selectPolicy"], "Max");
        assert_eq!(builtin(ProfileClass::ResourceQuotas, "xlarge").unwrap()["hard"]["limits.memory"], "32Gi");
        assert_eq!(builtin(ProfileClass::Reconciler, "conservative").unwrap()["queue"]["maxDepth"], 100);
        assert_eq!(builtin(ProfileClass::NetworkPolicies, "allow-dns-egress").unwrap()["egress"][0]["ports"][0]["port"], 53);
    }

    #[test]
    fn resolution_rules() {
        let mut user = UserProfiles::default();
        assert_eq!(resolve(ProfileClass::Resources, "Small", &user), Ok(Resolved::Builtin("small")));
        user.insert(ProfileClass::Resources, "small");
        user.insert(ProfileClass::Resources, "Gpu");
        assert_eq!(resolve(ProfileClass::Resources, "small", &user), Ok(Resolved::User("small".into())));
        assert!(resolve(ProfileClass::Resources, "gpu", &user).is_err());
        let e = resolve(ProfileClass::Resources, "smal", &user).unwrap_err();
        assert_eq!(e.suggestion.as_deref(), Some("small"));
        assert!(resolve(ProfileClass::LimitRanges, "default", &UserProfiles::default()).is_err());
    }
}
