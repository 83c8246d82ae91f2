//! The default ClusterRoles every Kubernetes cluster has (`cluster-admin`, `admin`, `edit`,
//! `view`) and the binding of `cluster-admin` to `system:masters`, stored at start as the API
//! server's bootstrap policy stores them. Bindings to these roles are then checked against their
//! real rules: a client that may not `bind` `view` can bind it only if it holds everything
//! `view` grants, as on a real cluster.
//!
//! Kubernetes builds `admin`, `edit` and `view` by aggregation; here they are stored with the
//! rules aggregation gives them in Kubernetes 1.32 (the `aggregate-to-*` roles' rules).

use crate::cluster::MemCluster;
use serde_json::{Value, json};

type Rules = &'static [(&'static [&'static str], &'static [&'static str], &'static [&'static str])];

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "delete", "deletecollection", "patch", "update"];

/// What `view` grants: reading most namespaced objects, not Secrets.
const VIEW: Rules = &[
    (
        &[""],
        &[
            "configmaps",
            "endpoints",
            "persistentvolumeclaims",
            "persistentvolumeclaims/status",
            "pods",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "serviceaccounts",
            "services",
            "services/status",
        ],
        READ,
    ),
    (
        &[""],
        &[
            "bindings",
            "events",
            "limitranges",
            "namespaces/status",
            "pods/log",
            "pods/status",
            "replicationcontrollers/status",
            "resourcequotas",
            "resourcequotas/status",
        ],
        READ,
    ),
    (&[""], &["namespaces"], READ),
    (&["discovery.k8s.io"], &["endpointslices"], READ),
    (
        &["apps"],
        &[
            "controllerrevisions",
            "daemonsets",
            "daemonsets/status",
            "deployments",
            "deployments/scale",
            "deployments/status",
            "replicasets",
            "replicasets/scale",
            "replicasets/status",
            "statefulsets",
            "statefulsets/scale",
            "statefulsets/status",
        ],
        READ,
    ),
    (&["autoscaling"], &["horizontalpodautoscalers", "horizontalpodautoscalers/status"], READ),
    (&["batch"], &["cronjobs", "cronjobs/status", "jobs", "jobs/status"], READ),
    (&["policy"], &["poddisruptionbudgets", "poddisruptionbudgets/status"], READ),
    (&["networking.k8s.io"], &["ingresses", "ingresses/status", "networkpolicies"], READ),
];

/// What `edit` adds to `view`: writing those objects, Secrets included.
const EDIT: Rules = &[
    (&[""], &["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"], READ),
    (&[""], &["serviceaccounts"], &["impersonate"]),
    (&[""], &["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], WRITE),
    (&[""], &["pods/eviction", "serviceaccounts/token"], &["create"]),
    (
        &[""],
        &[
            "configmaps",
            "events",
            "persistentvolumeclaims",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "secrets",
            "serviceaccounts",
            "services",
            "services/proxy",
        ],
        WRITE,
    ),
    (
        &["apps"],
        &["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"],
        WRITE,
    ),
    (&["autoscaling"], &["horizontalpodautoscalers"], WRITE),
    (&["batch"], &["cronjobs", "jobs"], WRITE),
    (&["policy"], &["poddisruptionbudgets"], WRITE),
    (&["networking.k8s.io"], &["ingresses", "networkpolicies"], WRITE),
];

/// What `admin` adds to `edit`: managing access within a namespace.
const ADMIN: Rules = &[
    (&["authorization.k8s.io"], &["localsubjectaccessreviews"], &["create"]),
    (&["rbac.authorization.k8s.io"], &["rolebindings", "roles"], &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]),
];

fn rules(sets: &[Rules]) -> Vec<Value> {
    sets.iter().flat_map(|s| s.iter()).map(|(groups, resources, verbs)| json!({"apiGroups": groups, "resources": resources, "verbs": verbs})).collect()
}

fn cluster_role(name: &str, rules: Vec<Value>) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
           "metadata": {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
                        "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}},
           "rules": rules})
}

/// The bootstrap objects, in the order they are stored.
pub(super) fn objects() -> Vec<Value> {
    vec![
        cluster_role("cluster-admin", vec![json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}), json!({"nonResourceURLs": ["*"], "verbs": ["*"]})]),
        cluster_role("admin", rules(&[VIEW, EDIT, ADMIN])),
        cluster_role("edit", rules(&[VIEW, EDIT])),
        cluster_role("view", rules(&[VIEW])),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "cluster-admin", "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
                            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters"}]}),
    ]
}

/// Stores the bootstrap policy in `store`.
pub(super) fn seed(store: &MemCluster) -> Result<(), crate::cluster::ClusterError> {
    for o in objects() {
        store.seed(&o)?;
    }
    Ok(())
}
