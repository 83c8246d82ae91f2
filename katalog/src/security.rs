//! Pod security: the one place that says what "hardened" means, so the install's Namespace
//! labels, ork's own workloads (`ork generate install` and the Helm chart), and the Katalog's
//! built-in `restricted`/`hardened` security profiles cannot drift apart.
//!
//! - [`namespace_labels`]: the Pod Security admission labels of the install Namespace
//!   (`restricted`, enforced, audited and warned).
//! - [`pod_security_context`], [`container_security_context`]: the security contexts ork's own
//!   pods and containers run with (non-root UID/GID [`RUN_AS_ID`], read-only root, no privilege
//!   escalation, every capability dropped, the runtime's default seccomp profile).
//! - [`restricted_violations`]: the Pod Security Standards (baseline and restricted, as the
//!   API server's `PodSecurity` admission checks them) applied to a pod spec, rule by rule;
//!   [`template_violations`] adds the rules on a pod template's annotations. The
//!   tests hold every pod ork writes, the chart's render and the built-in profiles to it.

use serde_json::{Value, json};

/// The Pod Security Standards level ork's install namespace enforces.
pub const PSS_LEVEL: &str = "restricted";

/// The UID and GID ork's containers run as (`nonroot` of distroless images).
pub const RUN_AS_ID: i64 = 65532;

/// The seccomp profile type every hardened pod and container uses.
pub const SECCOMP_TYPE: &str = "RuntimeDefault";

/// The Pod Security admission labels of the install Namespace, sorted by key.
pub fn namespace_labels() -> Vec<(&'static str, &'static str)> {
    vec![
        ("pod-security.kubernetes.io/audit", PSS_LEVEL),
        ("pod-security.kubernetes.io/enforce", PSS_LEVEL),
        ("pod-security.kubernetes.io/enforce-version", "latest"),
        ("pod-security.kubernetes.io/warn", PSS_LEVEL),
    ]
}

/// `{"type": "RuntimeDefault"}`.
pub fn seccomp_profile() -> Value {
    json!({"type": SECCOMP_TYPE})
}

/// The pod-level security context of ork's own pods.
pub fn pod_security_context() -> Value {
    json!({
        "runAsNonRoot": true,
        "runAsUser": RUN_AS_ID,
        "runAsGroup": RUN_AS_ID,
        "fsGroup": RUN_AS_ID,
        "seccompProfile": seccomp_profile(),
    })
}

/// The container-level security context of ork's own containers.
pub fn container_security_context() -> Value {
    json!({
        "allowPrivilegeEscalation": false,
        "readOnlyRootFilesystem": true,
        "runAsNonRoot": true,
        "runAsUser": RUN_AS_ID,
        "runAsGroup": RUN_AS_ID,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": seccomp_profile(),
    })
}

/// A Pod Security Standards level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Prevents known privilege escalations.
    Baseline,
    /// Current pod hardening best practice (includes baseline).
    Restricted,
}

/// One broken Pod Security Standards rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The level whose rule is broken.
    pub level: Level,
    /// The rule, named as the Pod Security Standards page names it ("Privilege Escalation").
    pub rule: &'static str,
    /// Where, as a path in the pod spec (`containers[0].securityContext.privileged`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = match self.level {
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        };
        write!(f, "{} ({level}): {}: {}", self.rule, self.path, self.message)
    }
}

/// Capabilities the baseline level lets a container add.
const BASELINE_CAPABILITIES: &[&str] =
    &["AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"];

/// Sysctls the baseline level allows.
const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

/// Volume sources the restricted level allows.
const RESTRICTED_VOLUMES: &[&str] = &["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim", "projected", "secret"];

/// SELinux types the baseline level allows.
const SELINUX_TYPES: &[&str] = &["container_t", "container_init_t", "container_kvm_t", "container_engine_t"];

struct Check {
    out: Vec<Violation>,
}

impl Check {
    fn add(&mut self, level: Level, rule: &'static str, path: String, message: impl Into<String>) {
        self.out.push(Violation { level, rule, path, message: message.into() });
    }
}

fn is_true(v: Option<&Value>) -> bool {
    v.and_then(Value::as_bool) == Some(true)
}

/// Every container of a pod spec (containers, initContainers, ephemeralContainers) with its path.
fn containers(spec: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    for key in ["containers", "initContainers", "ephemeralContainers"] {
        for (i, c) in spec.get(key).and_then(Value::as_array).into_iter().flatten().enumerate() {
            out.push((format!("{key}[{i}]"), c));
        }
    }
    out
}

/// Every Pod Security Standards rule (baseline and restricted) `pod_spec` breaks; empty when it
/// may run in a namespace that enforces `restricted`. `pod_spec` is a PodSpec (a pod's `spec`,
/// or a workload's `spec.template.spec`).
pub fn restricted_violations(pod_spec: &Value) -> Vec<Violation> {
    use Level::*;
    let mut c = Check { out: Vec::new() };
    let pod_sc = pod_spec.get("securityContext");
    let ctrs = containers(pod_spec);

    // Baseline: host namespaces.
    for key in ["hostNetwork", "hostPID", "hostIPC"] {
        if is_true(pod_spec.get(key)) {
            c.add(Baseline, "Host Namespaces", key.into(), "must be unset or false");
        }
    }
    // Baseline: HostProcess.
    if is_true(pod_sc.and_then(|s| s.pointer("/windowsOptions/hostProcess"))) {
        c.add(Baseline, "HostProcess", "securityContext.windowsOptions.hostProcess".into(), "must be unset or false");
    }
    // Baseline: hostPath volumes; restricted: only the allowed volume types.
    for (i, v) in pod_spec.get("volumes").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let Some(obj) = v.as_object() else { continue };
        for key in obj.keys().filter(|k| k.as_str() != "name") {
            if key == "hostPath" {
                c.add(Baseline, "HostPath Volumes", format!("volumes[{i}].hostPath"), "hostPath volumes are forbidden");
            } else if !RESTRICTED_VOLUMES.contains(&key.as_str()) {
                c.add(
                    Restricted,
                    "Volume Types",
                    format!("volumes[{i}].{key}"),
                    format!("volume type `{key}` is not allowed (allowed: {})", RESTRICTED_VOLUMES.join(", ")),
                );
            }
        }
    }
    // Baseline: sysctls.
    for (i, s) in pod_sc.and_then(|s| s.get("sysctls")).and_then(Value::as_array).into_iter().flatten().enumerate() {
        let name = s.get("name").and_then(Value::as_str).unwrap_or("");
        if !SAFE_SYSCTLS.contains(&name) {
            c.add(Baseline, "Sysctls", format!("securityContext.sysctls[{i}].name"), format!("sysctl `{name}` is not in the safe set"));
        }
    }
    // Pod-level settings containers inherit.
    let pod_non_root = is_true(pod_sc.and_then(|s| s.get("runAsNonRoot")));
    let pod_seccomp = pod_sc.and_then(|s| s.pointer("/seccompProfile/type")).and_then(Value::as_str);
    check_common(&mut c, pod_sc, "securityContext");
    if let Some(t) = pod_seccomp
        && !matches!(t, "RuntimeDefault" | "Localhost" | "Unconfined")
    {
        c.add(Restricted, "Seccomp", "securityContext.seccompProfile.type".into(), format!("`{t}`: must be RuntimeDefault or Localhost"));
    }
    if let Some(v) = pod_sc.and_then(|s| s.get("runAsNonRoot"))
        && v.as_bool() == Some(false)
    {
        c.add(Restricted, "Running as Non-root", "securityContext.runAsNonRoot".into(), "must not be false");
    }

    for (path, ctr) in &ctrs {
        let sc = ctr.get("securityContext");
        let at = |f: &str| format!("{path}.securityContext.{f}");
        if is_true(sc.and_then(|s| s.get("privileged"))) {
            c.add(Baseline, "Privileged Containers", at("privileged"), "must be unset or false");
        }
        if is_true(sc.and_then(|s| s.pointer("/windowsOptions/hostProcess"))) {
            c.add(Baseline, "HostProcess", at("windowsOptions.hostProcess"), "must be unset or false");
        }
        for (j, p) in ctr.get("ports").and_then(Value::as_array).into_iter().flatten().enumerate() {
            if p.get("hostPort").and_then(Value::as_i64).is_some_and(|h| h != 0) {
                c.add(Baseline, "Host Ports", format!("{path}.ports[{j}].hostPort"), "must be unset or 0");
            }
        }
        if let Some(m) = sc.and_then(|s| s.get("procMount")).and_then(Value::as_str)
            && m != "Default"
        {
            c.add(Baseline, "/proc Mount Type", at("procMount"), format!("`{m}`: must be Default"));
        }
        check_common(&mut c, sc, &format!("{path}.securityContext"));
        // Capabilities: baseline limits what is added; restricted drops ALL and adds at most
        // NET_BIND_SERVICE.
        let caps = sc.and_then(|s| s.get("capabilities"));
        for (j, cap) in caps.and_then(|c| c.get("add")).and_then(Value::as_array).into_iter().flatten().enumerate() {
            let name = cap.as_str().unwrap_or("");
            if !BASELINE_CAPABILITIES.contains(&name) {
                c.add(Baseline, "Capabilities", at(&format!("capabilities.add[{j}]")), format!("`{name}` may not be added"));
            } else if name != "NET_BIND_SERVICE" {
                c.add(Restricted, "Capabilities", at(&format!("capabilities.add[{j}]")), format!("`{name}` may not be added (only NET_BIND_SERVICE)"));
            }
        }
        let drops_all = caps.and_then(|c| c.get("drop")).and_then(Value::as_array).is_some_and(|d| d.iter().any(|x| x.as_str() == Some("ALL")));
        if !drops_all {
            c.add(Restricted, "Capabilities", at("capabilities.drop"), "must include ALL");
        }
        if sc.and_then(|s| s.get("allowPrivilegeEscalation")).and_then(Value::as_bool) != Some(false) {
            c.add(Restricted, "Privilege Escalation", at("allowPrivilegeEscalation"), "must be false");
        }
        match sc.and_then(|s| s.get("runAsNonRoot")).and_then(Value::as_bool) {
            Some(false) => c.add(Restricted, "Running as Non-root", at("runAsNonRoot"), "must not be false"),
            None if !pod_non_root => c.add(Restricted, "Running as Non-root", at("runAsNonRoot"), "must be true (here or in the pod's securityContext)"),
            _ => {}
        }
        match sc.and_then(|s| s.pointer("/seccompProfile/type")).and_then(Value::as_str) {
            // Unconfined is reported once, as the baseline rule.
            Some("RuntimeDefault" | "Localhost" | "Unconfined") => {}
            Some(t) => c.add(Restricted, "Seccomp", at("seccompProfile.type"), format!("`{t}`: must be RuntimeDefault or Localhost")),
            None if pod_seccomp.is_none() => {
                c.add(Restricted, "Seccomp", at("seccompProfile.type"), "must be RuntimeDefault or Localhost (here or in the pod's securityContext)")
            }
            None => {}
        }
    }
    c.out
}

/// [`restricted_violations`] of a pod template (`{metadata, spec}`: a Pod, or a workload's
/// `spec.template`), with the baseline rules that read its annotations: the AppArmor
/// annotations must name `runtime/default` or a `localhost/` profile, and the (deprecated)
/// seccomp annotations must not say `unconfined`.
pub fn template_violations(template: &Value) -> Vec<Violation> {
    let mut c = Check { out: Vec::new() };
    for (k, v) in template.pointer("/metadata/annotations").and_then(Value::as_object).into_iter().flatten() {
        let v = v.as_str().unwrap_or("");
        let at = format!("metadata.annotations[{k}]");
        if k.starts_with("container.apparmor.security.beta.kubernetes.io/") && v != "runtime/default" && !v.starts_with("localhost/") {
            c.add(Level::Baseline, "AppArmor", at, format!("`{v}`: must be runtime/default or localhost/<profile>"));
        } else if (k == "seccomp.security.alpha.kubernetes.io/pod" || k.starts_with("container.seccomp.security.alpha.kubernetes.io/")) && v == "unconfined" {
            c.add(Level::Baseline, "Seccomp", at, "must not be unconfined");
        }
    }
    c.out.extend(restricted_violations(template.get("spec").unwrap_or(&Value::Null)));
    c.out
}

/// The rules a pod's and a container's security context share: AppArmor, SELinux, seccomp not
/// `Unconfined` (baseline), and `runAsUser` not 0 (restricted).
fn check_common(c: &mut Check, sc: Option<&Value>, at: &str) {
    use Level::*;
    let Some(sc) = sc else { return };
    if let Some(t) = sc.pointer("/appArmorProfile/type").and_then(Value::as_str)
        && t != "RuntimeDefault"
        && t != "Localhost"
    {
        c.add(Baseline, "AppArmor", format!("{at}.appArmorProfile.type"), format!("`{t}`: must be RuntimeDefault or Localhost"));
    }
    if let Some(se) = sc.get("seLinuxOptions") {
        if let Some(t) = se.get("type").and_then(Value::as_str)
            && !t.is_empty()
            && !SELINUX_TYPES.contains(&t)
        {
            c.add(Baseline, "SELinux", format!("{at}.seLinuxOptions.type"), format!("`{t}` is not an allowed type"));
        }
        for key in ["user", "role"] {
            if se.get(key).and_then(Value::as_str).is_some_and(|s| !s.is_empty()) {
                c.add(Baseline, "SELinux", format!("{at}.seLinuxOptions.{key}"), "must be unset");
            }
        }
    }
    if sc.pointer("/seccompProfile/type").and_then(Value::as_str) == Some("Unconfined") {
        c.add(Baseline, "Seccomp", format!("{at}.seccompProfile.type"), "must not be Unconfined");
    }
    if sc.get("runAsUser").and_then(Value::as_i64) == Some(0) {
        c.add(Restricted, "Running as Non-root user", format!("{at}.runAsUser"), "must not be 0");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hardened_pod() -> Value {
        json!({
            "securityContext": pod_security_context(),
            "containers": [{"name": "c", "image": "x", "securityContext": container_security_context()}],
            "volumes": [{"name": "tmp", "emptyDir": {}}, {"name": "k", "configMap": {"name": "k"}}],
        })
    }

    fn rules(spec: &Value) -> Vec<&'static str> {
        restricted_violations(spec).into_iter().map(|v| v.rule).collect()
    }

    #[test]
    fn ork_s_own_contexts_pass_every_rule() {
        assert_eq!(restricted_violations(&hardened_pod()), vec![]);
    }

    #[test]
    fn each_rule_is_checked_field_by_field() {
        let cases: Vec<(&str, Value, &str)> = vec![
            ("/hostNetwork", json!(true), "Host Namespaces"),
            ("/hostPID", json!(true), "Host Namespaces"),
            ("/hostIPC", json!(true), "Host Namespaces"),
            ("/containers/0/securityContext/privileged", json!(true), "Privileged Containers"),
            ("/containers/0/securityContext/allowPrivilegeEscalation", json!(true), "Privilege Escalation"),
            ("/containers/0/securityContext/runAsNonRoot", json!(false), "Running as Non-root"),
            ("/securityContext/runAsNonRoot", json!(false), "Running as Non-root"),
            ("/containers/0/securityContext/runAsUser", json!(0), "Running as Non-root user"),
            ("/securityContext/runAsUser", json!(0), "Running as Non-root user"),
            ("/containers/0/securityContext/seccompProfile/type", json!("Unconfined"), "Seccomp"),
            ("/securityContext/seccompProfile/type", json!("Unconfined"), "Seccomp"),
            ("/containers/0/securityContext/capabilities/drop", json!(["NET_RAW"]), "Capabilities"),
            ("/containers/0/securityContext/capabilities/add", json!(["SYS_ADMIN"]), "Capabilities"),
            ("/containers/0/securityContext/capabilities/add", json!(["CHOWN"]), "Capabilities"),
            ("/containers/0/securityContext/procMount", json!("Unmasked"), "/proc Mount Type"),
            ("/containers/0/securityContext/appArmorProfile", json!({"type": "Unconfined"}), "AppArmor"),
            ("/containers/0/securityContext/seLinuxOptions", json!({"user": "root"}), "SELinux"),
            ("/securityContext/sysctls", json!([{"name": "kernel.msgmax", "value": "1"}]), "Sysctls"),
            ("/containers/0/ports", json!([{"containerPort": 80, "hostPort": 80}]), "Host Ports"),
            ("/volumes/0", json!({"name": "h", "hostPath": {"path": "/"}}), "HostPath Volumes"),
            ("/volumes/0", json!({"name": "n", "nfs": {"server": "s", "path": "/"}}), "Volume Types"),
        ];
        for (ptr, value, rule) in cases {
            let mut spec = hardened_pod();
            let (parent, key) = ptr.rsplit_once('/').unwrap_or(("", ptr));
            let target = spec.pointer_mut(parent).and_then(Value::as_object_mut);
            match target {
                Some(obj) => {
                    obj.insert(key.to_string(), value);
                }
                None => {
                    // An array element (`/volumes/0`).
                    if let Some(slot) = spec.pointer_mut(ptr) {
                        *slot = value;
                    }
                }
            }
            assert_eq!(rules(&spec), vec![rule], "{ptr}");
        }
    }

    #[test]
    fn a_template_s_annotations_may_not_unconfine_it() {
        let mut t = json!({"metadata": {"annotations": {
            "container.apparmor.security.beta.kubernetes.io/c": "runtime/default",
            "container.apparmor.security.beta.kubernetes.io/d": "localhost/strict",
            "seccomp.security.alpha.kubernetes.io/pod": "runtime/default",
            "prometheus.io/scrape": "true",
        }}, "spec": hardened_pod()});
        assert_eq!(template_violations(&t), vec![]);
        t["metadata"]["annotations"]["container.apparmor.security.beta.kubernetes.io/c"] = json!("unconfined");
        t["metadata"]["annotations"]["container.seccomp.security.alpha.kubernetes.io/c"] = json!("unconfined");
        let v: Vec<&str> = template_violations(&t).iter().map(|v| v.rule).collect();
        assert_eq!(v, ["AppArmor", "Seccomp"]);
        // The spec's own rules still apply.
        t["spec"]["hostPID"] = json!(true);
        assert_eq!(template_violations(&t).len(), 3);
    }

    #[test]
    fn settings_may_come_from_the_pod_or_every_container() {
        let mut spec = hardened_pod();
        // Without the pod's runAsNonRoot and seccomp, the container's own still satisfy the rules.
        spec["securityContext"] = json!({});
        assert_eq!(rules(&spec), Vec::<&str>::new());
        // Without either, both rules are broken, for init containers too.
        spec["containers"][0]["securityContext"] = json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}});
        spec["initContainers"] = spec["containers"].clone();
        assert_eq!(rules(&spec), vec!["Running as Non-root", "Seccomp", "Running as Non-root", "Seccomp"]);
        let v = &restricted_violations(&spec)[2];
        assert_eq!(v.path, "initContainers[0].securityContext.runAsNonRoot");
        assert_eq!(
            v.to_string(),
            "Running as Non-root (restricted): initContainers[0].securityContext.runAsNonRoot: must be true (here or in the pod's securityContext)"
        );
    }
}
