//! `ork generate install`: everything one `kubectl apply -f` needs to run a Katalog on a
//! cluster — the bundle (Namespace, ServiceAccounts, derived roles, the Katalog ConfigMap) and
//! the workloads: the runtime Deployment (two replicas, one leader), the gateway Deployment and
//! Service when the Katalog declares a gateway feature, a PodDisruptionBudget each, and
//! NetworkPolicies that deny every ingress but the ports each component serves.
//!
//! Every pod and container runs with `crate::security`'s contexts; the Helm chart
//! (`charts/orkestra`) renders the same workload objects from its default values (a test
//! compares them). No timestamps, fixed order: the same Katalog gives the same bytes.

use super::bundle::{Selection, bundle_documents};
use super::generate::{GenerateError, crds};
use super::rbac::Derivation;
use crate::install::{
    GATEWAY_SERVICE, GATEWAY_SERVICE_ACCOUNT, KATALOG_CONFIGMAP, KATALOG_KEY, KATALOG_MOUNT, PROBE_PORT, RUNTIME_SERVICE_ACCOUNT, WEBHOOK_PORT,
};
use crate::model::Katalog;
use crate::security::{container_security_context, pod_security_context};
use crate::yaml::emit;
use serde_json::{Value, json};

/// The images of the two components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    /// The `ork-runtime` image.
    pub runtime: String,
    /// The `ork-gateway` image.
    pub gateway: String,
}

impl Default for Images {
    /// The released images of this version of ork.
    fn default() -> Self {
        let v = env!("CARGO_PKG_VERSION");
        Images { runtime: format!("{IMAGE_REPOSITORY}/ork-runtime:{v}"), gateway: format!("{IMAGE_REPOSITORY}/ork-gateway:{v}") }
    }
}

/// Where ork's images are published.
pub const IMAGE_REPOSITORY: &str = "ghcr.io/orkspace";

/// One of the two workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Workload {
    Runtime,
    Gateway,
}

impl Workload {
    fn component(self) -> &'static str {
        match self {
            Workload::Runtime => "runtime",
            Workload::Gateway => "gateway",
        }
    }

    /// The Deployment, PDB, NetworkPolicy (and for the gateway the Service) name, which is also
    /// the ServiceAccount's.
    fn name(self) -> &'static str {
        match self {
            Workload::Runtime => RUNTIME_SERVICE_ACCOUNT,
            Workload::Gateway => GATEWAY_SERVICE_ACCOUNT,
        }
    }

    /// The ports the container serves, by name.
    fn ports(self) -> Vec<(&'static str, u16)> {
        match self {
            Workload::Runtime => vec![("http", PROBE_PORT)],
            Workload::Gateway => vec![("webhook", WEBHOOK_PORT), ("http", PROBE_PORT)],
        }
    }

    fn args(self) -> Value {
        match self {
            Workload::Runtime => json!(["run", "--log-format", "json"]),
            Workload::Gateway => json!(["gate", "--log-format", "json"]),
        }
    }

    fn resources(self) -> Value {
        match self {
            Workload::Runtime => json!({"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}),
            Workload::Gateway => json!({"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}}),
        }
    }
}

/// The labels that select a component's pods.
fn selector(w: Workload) -> Value {
    json!({"app.kubernetes.io/component": w.component(), "app.kubernetes.io/name": "orkestra"})
}

/// The labels of every object: the selector, part-of and managed-by.
fn labels(w: Option<Workload>) -> Value {
    let mut m = match w {
        Some(w) => selector(w),
        None => json!({"app.kubernetes.io/name": "orkestra"}),
    };
    m["app.kubernetes.io/managed-by"] = json!("ork");
    m["app.kubernetes.io/part-of"] = json!("orkestra");
    m
}

fn meta(name: &str, ns: &str, w: Option<Workload>) -> Value {
    json!({"name": name, "namespace": ns, "labels": labels(w)})
}

fn probe(path: &str, period: u32, failure: u32) -> Value {
    json!({"httpGet": {"path": path, "port": "http"}, "periodSeconds": period, "timeoutSeconds": 2, "failureThreshold": failure})
}

fn deployment(w: Workload, ns: &str, image: &str) -> Value {
    let mut pod_labels = selector(w);
    pod_labels["app.kubernetes.io/part-of"] = json!("orkestra");
    let ports: Vec<Value> = w.ports().into_iter().map(|(name, port)| json!({"name": name, "containerPort": port, "protocol": "TCP"})).collect();
    let container = json!({
        "name": w.component(),
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "args": w.args(),
        "env": [
            {"name": "ORK_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "KATALOG_PATH", "value": format!("{KATALOG_MOUNT}/{KATALOG_KEY}")},
            {"name": "ORK_PORT", "value": PROBE_PORT.to_string()},
        ],
        "ports": ports,
        "startupProbe": probe("/startup", 2, 60),
        "livenessProbe": probe("/health", 10, 3),
        "readinessProbe": probe("/ready", 5, 2),
        "resources": w.resources(),
        "securityContext": container_security_context(),
        "volumeMounts": [
            {"name": "katalog", "mountPath": KATALOG_MOUNT, "readOnly": true},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    });
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(w.name(), ns, Some(w)),
        "spec": {
            "replicas": 2,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": selector(w)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "serviceAccountName": w.name(),
                    // Both components call the API server (the runtime reconciles, the gateway
                    // keeps its webhook configurations and TLS Secret): the pod opts in, the
                    // ServiceAccount itself does not mount its token anywhere else.
                    "automountServiceAccountToken": true,
                    "enableServiceLinks": false,
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": pod_security_context(),
                    "topologySpreadConstraints": [{
                        "maxSkew": 1,
                        "topologyKey": "kubernetes.io/hostname",
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": selector(w)},
                    }],
                    "containers": [container],
                    "volumes": [
                        {"name": "katalog", "configMap": {"name": KATALOG_CONFIGMAP}},
                        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
                    ],
                },
            },
        },
    })
}

fn pdb(w: Workload, ns: &str) -> Value {
    json!({
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": meta(w.name(), ns, Some(w)),
        "spec": {"minAvailable": 1, "selector": {"matchLabels": selector(w)}, "unhealthyPodEvictionPolicy": "AlwaysAllow"},
    })
}

fn gateway_service(ns: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(GATEWAY_SERVICE, ns, Some(Workload::Gateway)),
        "spec": {
            "type": "ClusterIP",
            "selector": selector(Workload::Gateway),
            "ports": [{"name": "webhook", "port": WEBHOOK_PORT, "targetPort": "webhook", "protocol": "TCP"}],
        },
    })
}

/// The NetworkPolicy that denies every ingress to ork's pods.
fn default_deny(ns: &str) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta("orkestra-default-deny", ns, None),
        "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "orkestra"}}, "policyTypes": ["Ingress"]},
    })
}

/// The NetworkPolicy that lets in exactly the ports a component serves, from anywhere: the API
/// server calling webhooks and the kubelet and Prometheus probing can come from any address.
fn allow_served(w: Workload, ns: &str) -> Value {
    let ports: Vec<Value> = w.ports().into_iter().map(|(_, port)| json!({"port": port, "protocol": "TCP"})).collect();
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta(w.name(), ns, Some(w)),
        "spec": {"podSelector": {"matchLabels": selector(w)}, "policyTypes": ["Ingress"], "ingress": [{"ports": ports}]},
    })
}

/// The workload objects of an installation in `ns`, in apply order; the gateway's only when
/// `gateway` (the Katalog declares a gateway feature).
pub fn workloads(ns: &str, images: &Images, gateway: bool) -> Vec<Value> {
    let mut out = vec![deployment(Workload::Runtime, ns, &images.runtime), pdb(Workload::Runtime, ns)];
    if gateway {
        out.extend([gateway_service(ns), deployment(Workload::Gateway, ns, &images.gateway), pdb(Workload::Gateway, ns)]);
    }
    out.push(default_deny(ns));
    out.push(allow_served(Workload::Runtime, ns));
    if gateway {
        out.push(allow_served(Workload::Gateway, ns));
    }
    out
}

/// The whole installation of `katalog`, in apply order: its CRDs, the bundle for both
/// components (see [`super::bundle::bundle`]), then [`workloads`].
pub fn install(katalog: &Katalog, d: &Derivation, katalog_yaml: &str, images: &Images) -> Result<String, GenerateError> {
    let name = katalog.name();
    let mut out = format!(
        "# Installation of Katalog `{}`, generated by `ork generate install`. Apply with `kubectl apply -f`; \
         `kubectl delete --ignore-not-found -f` removes all of it, the CRDs and so every CR too (delete the CRs first and let the runtime finish them).\n\
         # Do not edit: regenerate.\n",
        super::bundle::one_line(name)
    );
    out.push_str(&crds(katalog, None, &d.namespace)?);
    out.push_str(&bundle_documents(d, katalog_yaml, Selection { runtime: true, gateway: true }));
    for doc in workloads(&d.namespace, images, !d.gateway.is_empty()) {
        out.push_str("---\n");
        out.push_str(&emit(&doc));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::restricted_violations;

    #[test]
    fn gateway_objects_only_with_a_gateway() {
        let names = |g| {
            workloads("ns", &Images::default(), g)
                .iter()
                .map(|o| format!("{}/{}", o["kind"].as_str().unwrap_or(""), o["metadata"]["name"].as_str().unwrap_or("")))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(false), ["Deployment/orkestra", "PodDisruptionBudget/orkestra", "NetworkPolicy/orkestra-default-deny", "NetworkPolicy/orkestra"]);
        assert_eq!(
            names(true),
            [
                "Deployment/orkestra",
                "PodDisruptionBudget/orkestra",
                "Service/orkestra-gateway",
                "Deployment/orkestra-gateway",
                "PodDisruptionBudget/orkestra-gateway",
                "NetworkPolicy/orkestra-default-deny",
                "NetworkPolicy/orkestra",
                "NetworkPolicy/orkestra-gateway"
            ]
        );
    }

    #[test]
    fn pods_pass_restricted_and_policies_open_only_served_ports() {
        for o in workloads("ns", &Images::default(), true) {
            match o["kind"].as_str() {
                Some("Deployment") => assert_eq!(restricted_violations(&o["spec"]["template"]["spec"]), vec![]),
                Some("NetworkPolicy") if o["metadata"]["name"] == "orkestra" => {
                    assert_eq!(o["spec"]["ingress"], json!([{"ports": [{"port": 8080, "protocol": "TCP"}]}]));
                }
                Some("NetworkPolicy") if o["metadata"]["name"] == "orkestra-gateway" => {
                    assert_eq!(o["spec"]["ingress"], json!([{"ports": [{"port": 8443, "protocol": "TCP"}, {"port": 8080, "protocol": "TCP"}]}]));
                }
                _ => {}
            }
        }
    }
}
