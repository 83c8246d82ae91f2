//! The columns kube-apiserver 1.32 prints for the built-in kinds kubectl users know, and the
//! cells of one object: names, types and priorities as the API server declares them (priority 1
//! is what `-o wide` adds), cells formatted as it formats them. Fields the API server would have
//! defaulted (a Deployment's replicas, a Service's type, a Secret's type, …) are read with that
//! default, since the dev cluster stores objects undefaulted.

use super::{Column, age, human_duration};
use katalog::time::parse_rfc3339;
use serde_json::{Value, json};

/// The cells of one object, given the current time (Unix seconds).
pub(super) type Cells = fn(&Value, i64) -> Vec<Value>;

/// The columns and cell function of a built-in kind, if the API server has a printer for it.
pub(super) fn builtin(group: &str, kind: &str) -> Option<(Vec<Column>, Cells)> {
    let c = Column::new;
    let name = || Column::name();
    let age_col = || c("Age", "string", 0, "How long ago the object was created.");
    let containers = || c("Containers", "string", 1, "The containers of the pod template.");
    let images = || c("Images", "string", 1, "The images of the pod template's containers.");
    let selector = || c("Selector", "string", 1, "The label selector of the pods.");
    let containers_at = |priority| c("Containers", "string", priority, "The containers of the pod template.");
    let images_at = |priority| c("Images", "string", priority, "The images of the pod template's containers.");
    let found: (Vec<Column>, Cells) = match (group, kind) {
        ("apps", "Deployment") => (
            vec![
                name(),
                c("Ready", "string", 0, "Pods ready, of the replicas wanted."),
                c("Up-to-date", "string", 0, "Replicas updated to the latest template."),
                c("Available", "string", 0, "Replicas available to serve."),
                age_col(),
                containers(),
                images(),
                selector(),
            ],
            deployment,
        ),
        ("apps", "StatefulSet") => {
            (vec![name(), c("Ready", "string", 0, "Pods ready, of the replicas wanted."), age_col(), containers(), images()], stateful_set)
        }
        ("apps", "ReplicaSet") => (
            vec![
                name(),
                c("Desired", "integer", 0, "Desired replicas."),
                c("Current", "integer", 0, "Replicas observed."),
                c("Ready", "integer", 0, "Replicas ready."),
                age_col(),
                containers(),
                images(),
                selector(),
            ],
            replica_set,
        ),
        ("apps", "DaemonSet") => (
            vec![
                name(),
                c("Desired", "integer", 0, "Nodes that should run the pod."),
                c("Current", "integer", 0, "Nodes running the pod."),
                c("Ready", "integer", 0, "Nodes whose pod is ready."),
                c("Up-to-date", "integer", 0, "Nodes running the latest template."),
                c("Available", "integer", 0, "Nodes whose pod is available."),
                c("Node Selector", "string", 0, "The node selector of the pod template."),
                age_col(),
                containers(),
                images(),
                selector(),
            ],
            daemon_set,
        ),
        ("batch", "Job") => (
            vec![
                name(),
                c("Status", "string", 0, "Complete, Failed, Terminating, Suspended, FailureTarget or Running."),
                c("Completions", "string", 0, "Pods that succeeded, of the completions wanted."),
                c("Duration", "string", 0, "How long the job ran, or has been running."),
                age_col(),
                containers(),
                images(),
                selector(),
            ],
            job,
        ),
        ("batch", "CronJob") => (
            vec![
                name(),
                c("Schedule", "string", 0, "The schedule in Cron format."),
                c("Timezone", "string", 0, "The time zone of the schedule."),
                c("Suspend", "boolean", 0, "Whether scheduling is suspended."),
                c("Active", "integer", 0, "Jobs running."),
                c("Last Schedule", "string", 0, "When a job was last scheduled."),
                age_col(),
                containers(),
                images(),
                selector(),
            ],
            cron_job,
        ),
        ("", "Pod") => (
            vec![
                name(),
                c("Ready", "string", 0, "Containers ready, of all containers."),
                c("Status", "string", 0, "The phase of the pod, or why its containers wait."),
                c("Restarts", "string", 0, "How often the containers restarted."),
                age_col(),
                c("IP", "string", 1, "The IP address of the pod."),
                c("Node", "string", 1, "The node the pod runs on."),
                c("Nominated Node", "string", 1, "The node the pod is nominated to."),
                c("Readiness Gates", "string", 1, "The readiness gates of the pod."),
            ],
            pod,
        ),
        ("", "Service") => (
            vec![
                name(),
                c("Type", "string", 0, "How the service is exposed."),
                c("Cluster-IP", "string", 0, "The IP address of the service."),
                c("External-IP", "string", 0, "The external addresses of the service."),
                c("Port(s)", "string", 0, "The ports the service exposes."),
                age_col(),
                c("Selector", "string", 1, "The pods the service routes to."),
            ],
            service,
        ),
        ("", "ConfigMap") => (vec![name(), c("Data", "string", 0, "Keys of data and binaryData."), age_col()], config_map),
        ("", "Secret") => (vec![name(), c("Type", "string", 0, "The type of the secret."), c("Data", "string", 0, "Keys of data."), age_col()], secret),
        ("", "Namespace") => (vec![name(), c("Status", "string", 0, "The phase of the namespace."), age_col()], namespace),
        ("", "ServiceAccount") => (vec![name(), c("Secrets", "string", 0, "Secrets the service account names."), age_col()], service_account),
        ("", "Event") | ("events.k8s.io", "Event") => (
            vec![
                c("Last Seen", "string", 0, "When the event was last seen."),
                c("Type", "string", 0, "The type of the event (Normal, Warning)."),
                c("Reason", "string", 0, "Why the event was recorded."),
                c("Object", "string", 0, "The object the event is about."),
                c("Subobject", "string", 1, "The part of the object the event is about."),
                c("Source", "string", 1, "The component that recorded the event."),
                c("Message", "string", 0, "What happened."),
                c("First Seen", "string", 1, "When the event was first seen."),
                c("Count", "string", 1, "How often the event was seen."),
                Column { priority: 1, ..Column::name() },
            ],
            if group.is_empty() { event } else { event_v1 },
        ),
        ("coordination.k8s.io", "Lease") => (vec![name(), c("Holder", "string", 0, "The holder of the lease."), age_col()], lease),
        ("networking.k8s.io", "Ingress") => (
            vec![
                name(),
                c("Class", "string", 0, "The IngressClass of the ingress."),
                c("Hosts", "string", 0, "The hosts of the ingress rules."),
                c("Address", "string", 0, "The load balancer's addresses."),
                c("Ports", "string", 0, "The ports the ingress opens."),
                age_col(),
            ],
            ingress,
        ),
        ("networking.k8s.io", "NetworkPolicy") => (vec![name(), c("Pod-Selector", "string", 0, "The pods the policy selects."), age_col()], network_policy),
        ("", "PersistentVolumeClaim") => (
            vec![
                name(),
                c("Status", "string", 0, "The phase of the claim."),
                c("Volume", "string", 0, "The volume bound to the claim."),
                c("Capacity", "string", 0, "The capacity of the bound volume."),
                c("Access Modes", "string", 0, "The access modes of the bound volume."),
                c("StorageClass", "string", 0, "The storage class of the claim."),
                c("VolumeAttributesClass", "string", 0, "The volume attributes class of the claim."),
                age_col(),
                c("VolumeMode", "string", 1, "The volume mode of the claim."),
            ],
            pvc,
        ),
        ("policy", "PodDisruptionBudget") => (
            vec![
                name(),
                c("Min Available", "string", 0, "The budget's minAvailable."),
                c("Max Unavailable", "string", 0, "The budget's maxUnavailable."),
                c("Allowed Disruptions", "integer", 0, "Pods that may be disrupted now."),
                age_col(),
            ],
            pdb,
        ),
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => (
            vec![
                name(),
                c("Role", "string", 0, "The role the binding grants."),
                age_col(),
                c("Users", "string", 1, "Users in the binding."),
                c("Groups", "string", 1, "Groups in the binding."),
                c("ServiceAccounts", "string", 1, "ServiceAccounts in the binding."),
            ],
            binding,
        ),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration") => {
            (vec![name(), c("Webhooks", "integer", 0, "How many webhooks the configuration registers."), age_col()], webhooks)
        }
        ("", "ReplicationController") => (
            vec![
                name(),
                c("Desired", "integer", 0, "Desired replicas."),
                c("Current", "integer", 0, "Replicas observed."),
                c("Ready", "integer", 0, "Replicas ready."),
                age_col(),
                containers(),
                images(),
                selector(),
            ],
            replication_controller,
        ),
        ("", "PodTemplate") => (vec![name(), containers_at(0), images_at(0), c("Pod Labels", "string", 0, "The labels of the pod template.")], pod_template),
        ("apps", "ControllerRevision") => (
            vec![name(), c("Controller", "string", 0, "The object that owns the revision."), c("Revision", "string", 0, "The revision number."), age_col()],
            controller_revision,
        ),
        ("networking.k8s.io", "IngressClass") => (
            vec![
                name(),
                c("Controller", "string", 0, "The controller that handles the class."),
                c("Parameters", "string", 0, "The resource holding the class's parameters."),
                age_col(),
            ],
            ingress_class,
        ),
        ("node.k8s.io", "RuntimeClass") => (vec![name(), c("Handler", "string", 0, "The container runtime handler."), age_col()], runtime_class),
        ("scheduling.k8s.io", "PriorityClass") => (
            vec![
                name(),
                c("Value", "integer", 0, "The priority of pods of the class."),
                c("Global-Default", "boolean", 0, "Whether pods without a class get this one."),
                age_col(),
                c("PreemptionPolicy", "string", 0, "Whether pods of the class preempt others."),
            ],
            priority_class,
        ),
        ("storage.k8s.io", "StorageClass") => (
            vec![
                name(),
                c("Provisioner", "string", 0, "The volume plugin that provisions volumes."),
                c("ReclaimPolicy", "string", 0, "What happens to a released volume."),
                c("VolumeBindingMode", "string", 0, "When volumes are bound."),
                c("AllowVolumeExpansion", "string", 0, "Whether volumes can grow."),
                age_col(),
            ],
            storage_class,
        ),
        _ => return None,
    };
    Some(found)
}

fn text<'a>(obj: &'a Value, ptr: &str) -> &'a str {
    obj.pointer(ptr).and_then(Value::as_str).unwrap_or_default()
}

fn int(obj: &Value, ptr: &str) -> i64 {
    obj.pointer(ptr).and_then(Value::as_i64).unwrap_or_default()
}

fn len(obj: &Value, ptr: &str) -> i64 {
    let n = match obj.pointer(ptr) {
        Some(Value::Array(a)) => a.len(),
        Some(Value::Object(m)) => m.len(),
        _ => 0,
    };
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn name_of(obj: &Value) -> Value {
    json!(text(obj, "/metadata/name"))
}

fn created(obj: &Value, now: i64) -> Value {
    json!(age(obj.pointer("/metadata/creationTimestamp").and_then(Value::as_str), now))
}

/// Replicas as the API server defaults them (1 when unset).
fn replicas(obj: &Value) -> i64 {
    obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1)
}

/// The containers' names and images of a pod spec, each joined by commas.
fn containers(obj: &Value, pod_spec: &str) -> (Value, Value) {
    let list = obj.pointer(&format!("{pod_spec}/containers")).and_then(Value::as_array).cloned().unwrap_or_default();
    let names: Vec<&str> = list.iter().map(|c| c.get("name").and_then(Value::as_str).unwrap_or_default()).collect();
    let images: Vec<&str> = list.iter().map(|c| c.get("image").and_then(Value::as_str).unwrap_or_default()).collect();
    (json!(names.join(",")), json!(images.join(",")))
}

/// A map of labels as `k=v,k2=v2` (sorted), `<none>` when empty.
pub(super) fn format_labels(labels: Option<&Value>) -> String {
    let Some(m) = labels.and_then(Value::as_object).filter(|m| !m.is_empty()) else { return "<none>".into() };
    let mut pairs: Vec<String> = m.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect();
    pairs.sort();
    pairs.join(",")
}

/// A LabelSelector as its selector string (`app=web,tier in (a,b),!legacy`, requirements sorted
/// by key), `<none>` when it selects nothing or everything.
pub(super) fn format_selector(selector: Option<&Value>) -> String {
    let Some(sel) = selector.filter(|s| s.is_object()) else { return "<none>".into() };
    let mut reqs: Vec<(String, String)> = Vec::new();
    if let Some(m) = sel.get("matchLabels").and_then(Value::as_object) {
        reqs.extend(m.iter().map(|(k, v)| (k.clone(), format!("{k}={}", v.as_str().unwrap_or_default()))));
    }
    for e in sel.get("matchExpressions").and_then(Value::as_array).into_iter().flatten() {
        let key = e.get("key").and_then(Value::as_str).unwrap_or_default().to_string();
        let mut values: Vec<&str> = e.get("values").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        values.sort_unstable();
        let shown = match e.get("operator").and_then(Value::as_str).unwrap_or_default() {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.clone(),
            "DoesNotExist" => format!("!{key}"),
            _ => return "<error>".into(),
        };
        reqs.push((key, shown));
    }
    if reqs.is_empty() {
        return "<none>".into();
    }
    reqs.sort();
    reqs.into_iter().map(|(_, s)| s).collect::<Vec<_>>().join(",")
}

fn deployment(o: &Value, now: i64) -> Vec<Value> {
    let (names, images) = containers(o, "/spec/template/spec");
    vec![
        name_of(o),
        json!(format!("{}/{}", int(o, "/status/readyReplicas"), replicas(o))),
        json!(int(o, "/status/updatedReplicas")),
        json!(int(o, "/status/availableReplicas")),
        created(o, now),
        names,
        images,
        json!(format_selector(o.pointer("/spec/selector"))),
    ]
}

fn stateful_set(o: &Value, now: i64) -> Vec<Value> {
    let (names, images) = containers(o, "/spec/template/spec");
    vec![name_of(o), json!(format!("{}/{}", int(o, "/status/readyReplicas"), replicas(o))), created(o, now), names, images]
}

fn replica_set(o: &Value, now: i64) -> Vec<Value> {
    let (names, images) = containers(o, "/spec/template/spec");
    vec![
        name_of(o),
        json!(replicas(o)),
        json!(int(o, "/status/replicas")),
        json!(int(o, "/status/readyReplicas")),
        created(o, now),
        names,
        images,
        json!(format_selector(o.pointer("/spec/selector"))),
    ]
}

fn daemon_set(o: &Value, now: i64) -> Vec<Value> {
    let (names, images) = containers(o, "/spec/template/spec");
    vec![
        name_of(o),
        json!(int(o, "/status/desiredNumberScheduled")),
        json!(int(o, "/status/currentNumberScheduled")),
        json!(int(o, "/status/numberReady")),
        json!(int(o, "/status/updatedNumberScheduled")),
        json!(int(o, "/status/numberAvailable")),
        json!(format_labels(o.pointer("/spec/template/spec/nodeSelector"))),
        created(o, now),
        names,
        images,
        json!(format_selector(o.pointer("/spec/selector"))),
    ]
}

fn has_condition(o: &Value, kind: &str) -> bool {
    o.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| cs.iter().any(|c| c.get("type").and_then(Value::as_str) == Some(kind) && c.get("status").and_then(Value::as_str) == Some("True")))
}

fn seconds(o: &Value, ptr: &str) -> Option<i64> {
    o.pointer(ptr).and_then(Value::as_str).and_then(|t| parse_rfc3339(t).ok())
}

fn job(o: &Value, now: i64) -> Vec<Value> {
    let succeeded = int(o, "/status/succeeded");
    let completions = match o.pointer("/spec/completions").and_then(Value::as_i64) {
        Some(c) => format!("{succeeded}/{c}"),
        None => match o.pointer("/spec/parallelism").and_then(Value::as_i64) {
            Some(p) if p > 1 => format!("{succeeded}/1 of {p}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let duration = match (seconds(o, "/status/startTime"), seconds(o, "/status/completionTime")) {
        (None, _) => String::new(),
        (Some(start), None) => human_duration(now - start),
        (Some(start), Some(end)) => human_duration(end - start),
    };
    let status = if has_condition(o, "Complete") {
        "Complete"
    } else if has_condition(o, "Failed") {
        "Failed"
    } else if o.pointer("/metadata/deletionTimestamp").is_some_and(|d| !d.is_null()) {
        "Terminating"
    } else if has_condition(o, "Suspended") {
        "Suspended"
    } else if has_condition(o, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    };
    let (names, images) = containers(o, "/spec/template/spec");
    vec![name_of(o), json!(status), json!(completions), json!(duration), created(o, now), names, images, json!(format_selector(o.pointer("/spec/selector")))]
}

fn cron_job(o: &Value, now: i64) -> Vec<Value> {
    let last = match o.pointer("/status/lastScheduleTime").and_then(Value::as_str) {
        Some(t) => age(Some(t), now),
        None => "<none>".into(),
    };
    let suspend = match o.pointer("/spec/suspend").and_then(Value::as_bool) {
        Some(true) => "True",
        // The API server defaults `suspend` to false.
        _ => "False",
    };
    let zone = o.pointer("/spec/timeZone").and_then(Value::as_str).unwrap_or("<none>");
    let (names, images) = containers(o, "/spec/jobTemplate/spec/template/spec");
    vec![
        name_of(o),
        json!(text(o, "/spec/schedule")),
        json!(zone),
        json!(suspend),
        json!(len(o, "/status/active")),
        json!(last),
        created(o, now),
        names,
        images,
        json!(format_selector(o.pointer("/spec/jobTemplate/spec/selector"))),
    ]
}

fn pod(o: &Value, now: i64) -> Vec<Value> {
    let statuses = o.pointer("/status/containerStatuses").and_then(Value::as_array).cloned().unwrap_or_default();
    let ready = statuses.iter().filter(|s| s.get("ready").and_then(Value::as_bool) == Some(true)).count();
    let total = len(o, "/spec/containers");
    let restarts: i64 = statuses.iter().filter_map(|s| s.get("restartCount").and_then(Value::as_i64)).sum();
    // The API server sets a new pod's phase to Pending.
    let mut status = o.pointer("/status/phase").and_then(Value::as_str).unwrap_or("Pending").to_string();
    if let Some(reason) = o.pointer("/status/reason").and_then(Value::as_str).filter(|r| !r.is_empty()) {
        status = reason.to_string();
    }
    for s in &statuses {
        if let Some(reason) = s.pointer("/state/waiting/reason").and_then(Value::as_str).filter(|r| !r.is_empty()) {
            status = reason.to_string();
        }
    }
    if o.pointer("/metadata/deletionTimestamp").is_some_and(|d| !d.is_null()) {
        status = "Terminating".into();
    }
    let or_none = |p: &str| {
        let t = text(o, p);
        json!(if t.is_empty() { "<none>" } else { t })
    };
    let gates = match o.pointer("/spec/readinessGates").and_then(Value::as_array).filter(|g| !g.is_empty()) {
        None => "<none>".to_string(),
        Some(g) => {
            let conditions = o.pointer("/status/conditions").and_then(Value::as_array).cloned().unwrap_or_default();
            let met = g
                .iter()
                .filter(|gate| {
                    let t = gate.get("conditionType");
                    conditions.iter().any(|c| c.get("type") == t && c.get("status").and_then(Value::as_str) == Some("True"))
                })
                .count();
            format!("{met}/{}", g.len())
        }
    };
    vec![
        name_of(o),
        json!(format!("{ready}/{total}")),
        json!(status),
        json!(restarts.to_string()),
        created(o, now),
        or_none("/status/podIP"),
        or_none("/spec/nodeName"),
        or_none("/status/nominatedNodeName"),
        json!(gates),
    ]
}

fn strings(o: &Value, ptr: &str) -> Vec<String> {
    o.pointer(ptr).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect()
}

/// The load balancer's IPs (else hostnames), sorted and deduplicated, as one string.
fn load_balancer(o: &Value, ptr: &str) -> String {
    let mut found: Vec<String> = o
        .pointer(ptr)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| {
            let ip = i.get("ip").and_then(Value::as_str).filter(|s| !s.is_empty());
            ip.or_else(|| i.get("hostname").and_then(Value::as_str).filter(|s| !s.is_empty())).map(str::to_string)
        })
        .collect();
    found.sort();
    found.dedup();
    // kubectl reads Tables as the API server prints them for `-o wide`, where nothing is cut.
    found.join(",")
}

fn service(o: &Value, now: i64) -> Vec<Value> {
    let kind = o.pointer("/spec/type").and_then(Value::as_str).unwrap_or("ClusterIP");
    let cluster_ip = o.pointer("/spec/clusterIPs/0").and_then(Value::as_str).unwrap_or("<none>");
    let external = strings(o, "/spec/externalIPs");
    let external_ip = match kind {
        "ClusterIP" | "NodePort" if !external.is_empty() => external.join(","),
        "ClusterIP" | "NodePort" => "<none>".into(),
        "LoadBalancer" => {
            let lb = load_balancer(o, "/status/loadBalancer/ingress");
            let mut all: Vec<String> = if lb.is_empty() { Vec::new() } else { lb.split(',').map(str::to_string).collect() };
            all.extend(external.iter().cloned());
            if all.is_empty() { "<pending>".into() } else { all.join(",") }
        }
        "ExternalName" => text(o, "/spec/externalName").to_string(),
        _ => "<unknown>".into(),
    };
    let ports: Vec<String> = o
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| {
            let port = p.get("port").and_then(Value::as_i64).unwrap_or_default();
            let protocol = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
            match p.get("nodePort").and_then(Value::as_i64).filter(|n| *n > 0) {
                Some(node) => format!("{port}:{node}/{protocol}"),
                None => format!("{port}/{protocol}"),
            }
        })
        .collect();
    let ports = if ports.is_empty() { "<none>".to_string() } else { ports.join(",") };
    vec![name_of(o), json!(kind), json!(cluster_ip), json!(external_ip), json!(ports), created(o, now), json!(format_labels(o.pointer("/spec/selector")))]
}

fn config_map(o: &Value, now: i64) -> Vec<Value> {
    vec![name_of(o), json!(len(o, "/data") + len(o, "/binaryData")), created(o, now)]
}

fn secret(o: &Value, now: i64) -> Vec<Value> {
    let kind = o.get("type").and_then(Value::as_str).filter(|t| !t.is_empty()).unwrap_or("Opaque");
    vec![name_of(o), json!(kind), json!(len(o, "/data")), created(o, now)]
}

fn namespace(o: &Value, now: i64) -> Vec<Value> {
    vec![name_of(o), json!(text(o, "/status/phase")), created(o, now)]
}

fn service_account(o: &Value, now: i64) -> Vec<Value> {
    vec![name_of(o), json!(len(o, "/secrets")), created(o, now)]
}

/// A core/v1 Event: when it was last and first seen (from the deprecated timestamps, else
/// `eventTime` and `series`), what it is about (`kind/name`, lower-case kind), its source.
fn event(o: &Value, now: i64) -> Vec<Value> {
    let first = match o.get("firstTimestamp").and_then(Value::as_str).filter(|t| !t.is_empty()) {
        Some(t) => age(Some(t), now),
        None => age(o.get("eventTime").and_then(Value::as_str).filter(|t| !t.is_empty()), now),
    };
    let mut last = match o.get("lastTimestamp").and_then(Value::as_str).filter(|t| !t.is_empty()) {
        Some(t) => age(Some(t), now),
        None => first.clone(),
    };
    let mut count = o.get("count").and_then(Value::as_i64).unwrap_or_default();
    if let Some(series) = o.get("series").filter(|s| s.is_object()) {
        last = age(series.get("lastObservedTime").and_then(Value::as_str), now);
        count = series.get("count").and_then(Value::as_i64).unwrap_or_default();
    } else if count == 0 {
        // A singleton event of the events.k8s.io API has no count.
        count = 1;
    }
    let kind = text(o, "/involvedObject/kind").to_lowercase();
    let target = match text(o, "/involvedObject/name") {
        "" => kind,
        n => format!("{kind}/{n}"),
    };
    let first_non_empty = |a: &str, b: &str| if a.is_empty() { b.to_string() } else { a.to_string() };
    let component = first_non_empty(text(o, "/source/component"), text(o, "/reportingComponent"));
    let instance = first_non_empty(text(o, "/source/host"), text(o, "/reportingInstance"));
    let source = if instance.is_empty() { component } else { format!("{component}, {instance}") };
    vec![
        json!(last),
        json!(text(o, "/type")),
        json!(text(o, "/reason")),
        json!(target),
        json!(text(o, "/involvedObject/fieldPath")),
        json!(source),
        json!(text(o, "/message").trim()),
        json!(first),
        json!(count),
        name_of(o),
    ]
}

/// An events.k8s.io/v1 Event: the same table as core/v1 (the API server prints both views with
/// one printer).
fn event_v1(o: &Value, now: i64) -> Vec<Value> {
    event(&crate::cluster::MemCluster::core_event(o), now)
}

fn lease(o: &Value, now: i64) -> Vec<Value> {
    vec![name_of(o), json!(text(o, "/spec/holderIdentity")), created(o, now)]
}

fn ingress(o: &Value, now: i64) -> Vec<Value> {
    let class = o.pointer("/spec/ingressClassName").and_then(Value::as_str).unwrap_or("<none>");
    let rules = o.pointer("/spec/rules").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut hosts = Vec::new();
    let mut more = false;
    for r in &rules {
        if hosts.len() == 3 {
            more = true;
        }
        let host = r.get("host").and_then(Value::as_str).unwrap_or_default();
        if !more && !host.is_empty() {
            hosts.push(host.to_string());
        }
    }
    let hosts = match (hosts.is_empty(), more) {
        (true, _) => "*".to_string(),
        (false, true) => format!("{} + {} more...", hosts.join(","), rules.len() - 3),
        (false, false) => hosts.join(","),
    };
    let ports = if len(o, "/spec/tls") > 0 { "80, 443" } else { "80" };
    vec![name_of(o), json!(class), json!(hosts), json!(load_balancer(o, "/status/loadBalancer/ingress")), json!(ports), created(o, now)]
}

fn network_policy(o: &Value, now: i64) -> Vec<Value> {
    vec![name_of(o), json!(format_selector(o.pointer("/spec/podSelector"))), created(o, now)]
}

/// Access modes as kubectl abbreviates them (`RWO,ROX`), in the API server's fixed order.
fn access_modes(o: &Value, ptr: &str) -> String {
    let modes = strings(o, ptr);
    [("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"), ("ReadWriteOncePod", "RWOP")]
        .iter()
        .filter(|(m, _)| modes.iter().any(|x| x == m))
        .map(|(_, short)| *short)
        .collect::<Vec<_>>()
        .join(",")
}

fn pvc(o: &Value, now: i64) -> Vec<Value> {
    let mut phase = o.pointer("/status/phase").and_then(Value::as_str).unwrap_or("Pending").to_string();
    if o.pointer("/metadata/deletionTimestamp").is_some_and(|d| !d.is_null()) {
        phase = "Terminating".into();
    }
    let volume = text(o, "/spec/volumeName");
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (text(o, "/status/capacity/storage").to_string(), access_modes(o, "/status/accessModes"))
    };
    let class = o
        .pointer("/spec/storageClassName")
        .and_then(Value::as_str)
        .or_else(|| o.pointer("/metadata/annotations/volume.beta.kubernetes.io~1storage-class").and_then(Value::as_str))
        .unwrap_or_default();
    let vac = o.pointer("/spec/volumeAttributesClassName").and_then(Value::as_str).unwrap_or("<unset>");
    let mode = o.pointer("/spec/volumeMode").and_then(Value::as_str).unwrap_or("Filesystem");
    vec![name_of(o), json!(phase), json!(volume), json!(capacity), json!(modes), json!(class), json!(vac), created(o, now), json!(mode)]
}

fn pdb(o: &Value, now: i64) -> Vec<Value> {
    let shown = |p: &str| match o.pointer(p) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "N/A".into(),
    };
    vec![name_of(o), json!(shown("/spec/minAvailable")), json!(shown("/spec/maxUnavailable")), json!(int(o, "/status/disruptionsAllowed")), created(o, now)]
}

fn binding(o: &Value, now: i64) -> Vec<Value> {
    let role = format!("{}/{}", text(o, "/roleRef/kind"), text(o, "/roleRef/name"));
    let (mut users, mut groups, mut sas) = (Vec::new(), Vec::new(), Vec::new());
    for s in o.get("subjects").and_then(Value::as_array).into_iter().flatten() {
        let name = s.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        match s.get("kind").and_then(Value::as_str).unwrap_or_default() {
            "User" => users.push(name),
            "Group" => groups.push(name),
            "ServiceAccount" => match s.get("namespace").and_then(Value::as_str).filter(|n| !n.is_empty()) {
                Some(ns) => sas.push(format!("{ns}/{name}")),
                None => sas.push(name),
            },
            _ => {}
        }
    }
    vec![name_of(o), json!(role), created(o, now), json!(users.join(", ")), json!(groups.join(", ")), json!(sas.join(", "))]
}

fn webhooks(o: &Value, now: i64) -> Vec<Value> {
    vec![name_of(o), json!(len(o, "/webhooks")), created(o, now)]
}

fn replication_controller(o: &Value, now: i64) -> Vec<Value> {
    let (names, images) = containers(o, "/spec/template/spec");
    vec![
        name_of(o),
        json!(replicas(o)),
        json!(int(o, "/status/replicas")),
        json!(int(o, "/status/readyReplicas")),
        created(o, now),
        names,
        images,
        json!(format_labels(o.pointer("/spec/selector"))),
    ]
}

fn pod_template(o: &Value, _now: i64) -> Vec<Value> {
    let (names, images) = containers(o, "/template/spec");
    vec![name_of(o), names, images, json!(format_labels(o.pointer("/template/metadata/labels")))]
}

/// The controller of a revision as `kind.group/name` (lower-case kind), `<none>` without one.
fn controller_revision(o: &Value, now: i64) -> Vec<Value> {
    let owner = o
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .and_then(|refs| refs.iter().find(|r| r.get("controller").and_then(Value::as_bool) == Some(true)));
    let controller = owner.map_or_else(
        || "<none>".to_string(),
        |r| {
            let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default();
            let (group, _) = katalog::kinds::split_api_version(s("apiVersion"));
            let kind = if group.is_empty() { s("kind").to_lowercase() } else { format!("{}.{group}", s("kind")).to_lowercase() };
            format!("{kind}/{}", s("name"))
        },
    );
    vec![name_of(o), json!(controller), json!(int(o, "/revision")), created(o, now)]
}

fn ingress_class(o: &Value, now: i64) -> Vec<Value> {
    let parameters = match o.pointer("/spec/parameters").filter(|p| p.is_object()) {
        None => "<none>".to_string(),
        Some(p) => {
            let s = |k: &str| p.get(k).and_then(Value::as_str);
            let kind = match s("apiGroup") {
                Some(g) => format!("{}.{g}", s("kind").unwrap_or_default()),
                None => s("kind").unwrap_or_default().to_string(),
            };
            format!("{kind}/{}", s("name").unwrap_or_default())
        }
    };
    vec![name_of(o), json!(text(o, "/spec/controller")), json!(parameters), created(o, now)]
}

fn runtime_class(o: &Value, now: i64) -> Vec<Value> {
    vec![name_of(o), json!(text(o, "/handler")), created(o, now)]
}

fn priority_class(o: &Value, now: i64) -> Vec<Value> {
    let policy = o.get("preemptionPolicy").and_then(Value::as_str).unwrap_or("PreemptLowerPriority");
    vec![name_of(o), json!(int(o, "/value")), json!(o.get("globalDefault").and_then(Value::as_bool).unwrap_or(false)), created(o, now), json!(policy)]
}

/// A StorageClass, its name marked `(default)` when annotated as the default class.
fn storage_class(o: &Value, now: i64) -> Vec<Value> {
    let default = ["storageclass.kubernetes.io~1is-default-class", "storageclass.beta.kubernetes.io~1is-default-class"]
        .iter()
        .any(|a| o.pointer(&format!("/metadata/annotations/{a}")).and_then(Value::as_str) == Some("true"));
    let name = text(o, "/metadata/name");
    let name = if default { format!("{name} (default)") } else { name.to_string() };
    vec![
        json!(name),
        json!(text(o, "/provisioner")),
        json!(o.get("reclaimPolicy").and_then(Value::as_str).unwrap_or("Delete")),
        json!(o.get("volumeBindingMode").and_then(Value::as_str).unwrap_or("Immediate")),
        json!(o.get("allowVolumeExpansion").and_then(Value::as_bool).unwrap_or(false)),
        created(o, now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn at(secs_ago: i64) -> String {
        katalog::time::format_rfc3339(NOW - secs_ago)
    }

    #[test]
    fn a_deployment_shows_ready_up_to_date_available_and_the_wide_columns() {
        let (cols, cells) = builtin("apps", "Deployment").unwrap();
        let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"]);
        assert_eq!(cols.iter().map(|c| c.priority).collect::<Vec<_>>(), [0, 0, 0, 0, 0, 1, 1, 1]);
        let d = json!({"metadata": {"name": "web", "creationTimestamp": at(75)},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web", "tier": "a"}},
                     "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1"}, {"name": "side", "image": "busybox"}]}}},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}});
        assert_eq!(
            cells(&d, NOW),
            vec![json!("web"), json!("2/3"), json!(3), json!(2), json!("75s"), json!("nginx,side"), json!("nginx:1,busybox"), json!("app=web,tier=a")]
        );
        let bare = json!({"metadata": {"name": "x"}, "spec": {}});
        assert_eq!(cells(&bare, NOW)[1], json!("0/1"), "replicas default to 1");
        assert_eq!(cells(&bare, NOW)[4], json!("<unknown>"));
    }

    #[test]
    fn services_jobs_and_events_format_their_cells_as_the_api_server() {
        let (_, svc) = builtin("", "Service").unwrap();
        let s = json!({"metadata": {"name": "web", "creationTimestamp": at(3600)},
            "spec": {"clusterIPs": ["10.96.0.10"], "ports": [{"port": 80}, {"port": 443, "protocol": "TCP", "nodePort": 30443}], "selector": {"app": "web"}}});
        assert_eq!(
            svc(&s, NOW),
            vec![json!("web"), json!("ClusterIP"), json!("10.96.0.10"), json!("<none>"), json!("80/TCP,443:30443/TCP"), json!("60m"), json!("app=web")]
        );
        let lb = json!({"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer"}});
        assert_eq!(svc(&lb, NOW)[3], json!("<pending>"));
        assert_eq!(svc(&lb, NOW)[4], json!("<none>"));

        let (_, job) = builtin("batch", "Job").unwrap();
        let j = json!({"metadata": {"name": "once", "creationTimestamp": at(200)},
            "status": {"succeeded": 1, "startTime": at(200), "completionTime": at(195), "conditions": [{"type": "Complete", "status": "True"}]}});
        assert_eq!(job(&j, NOW)[..5], [json!("once"), json!("Complete"), json!("1/1"), json!("5s"), json!("3m20s")]);
        let running = json!({"metadata": {"name": "r"}, "spec": {"parallelism": 3}, "status": {"startTime": at(30)}});
        assert_eq!(job(&running, NOW)[1..4], [json!("Running"), json!("0/1 of 3"), json!("30s")]);

        let (cols, ev) = builtin("", "Event").unwrap();
        assert_eq!(cols.iter().filter(|c| c.priority == 0).map(|c| c.name.as_str()).collect::<Vec<_>>(), ["Last Seen", "Type", "Reason", "Object", "Message"]);
        let e = json!({"metadata": {"name": "w.1"}, "involvedObject": {"kind": "Website", "name": "w"}, "reason": "Reconciled", "type": "Normal",
            "message": " done \n", "eventTime": "2027-01-15T08:00:00.000000Z", "reportingComponent": "ork", "reportingInstance": "i1"});
        let now = katalog::time::parse_rfc3339("2027-01-15T08:02:00Z").unwrap();
        assert_eq!(
            ev(&e, now),
            vec![
                json!("2m"),
                json!("Normal"),
                json!("Reconciled"),
                json!("website/w"),
                json!(""),
                json!("ork, i1"),
                json!("done"),
                json!("2m"),
                json!(1),
                json!("w.1")
            ]
        );
        let (_, ev1) = builtin("events.k8s.io", "Event").unwrap();
        let v1 =
            json!({"metadata": {"name": "w.1"}, "regarding": {"kind": "Website", "name": "w"}, "note": "done", "eventTime": "2027-01-15T08:00:00.000000Z"});
        assert_eq!(ev1(&v1, now)[3..7], [json!("website/w"), json!(""), json!(""), json!("done")]);
    }

    #[test]
    fn selectors_and_labels_print_sorted() {
        let sel = json!({"matchLabels": {"b": "2"}, "matchExpressions": [{"key": "a", "operator": "In", "values": ["y", "x"]}, {"key": "c", "operator": "DoesNotExist"}]});
        assert_eq!(format_selector(Some(&sel)), "a in (x,y),b=2,!c");
        assert_eq!(format_selector(Some(&json!({}))), "<none>");
        assert_eq!(format_selector(None), "<none>");
        assert_eq!(format_labels(Some(&json!({"z": "1", "a": "2"}))), "a=2,z=1");
        assert_eq!(format_labels(Some(&json!({}))), "<none>");
    }

    #[test]
    fn config_maps_secrets_namespaces_leases_and_bindings() {
        let (_, cm) = builtin("", "ConfigMap").unwrap();
        assert_eq!(cm(&json!({"metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}, "binaryData": {"c": ""}}), NOW)[1], json!(3));
        let (_, secret) = builtin("", "Secret").unwrap();
        assert_eq!(secret(&json!({"metadata": {"name": "s"}, "data": {"a": "MQ=="}}), NOW)[1..3], [json!("Opaque"), json!(1)]);
        let (_, ns) = builtin("", "Namespace").unwrap();
        assert_eq!(ns(&json!({"metadata": {"name": "n"}, "status": {"phase": "Active"}}), NOW)[1], json!("Active"));
        let (_, lease) = builtin("coordination.k8s.io", "Lease").unwrap();
        assert_eq!(lease(&json!({"metadata": {"name": "l"}, "spec": {"holderIdentity": "a"}}), NOW)[1], json!("a"));
        let (_, rb) = builtin("rbac.authorization.k8s.io", "RoleBinding").unwrap();
        let b = json!({"metadata": {"name": "b"}, "roleRef": {"kind": "Role", "name": "r"},
            "subjects": [{"kind": "User", "name": "u"}, {"kind": "ServiceAccount", "name": "s", "namespace": "n"}]});
        assert_eq!(rb(&b, NOW)[1], json!("Role/r"));
        assert_eq!(rb(&b, NOW)[3..6], [json!("u"), json!(""), json!("n/s")]);
        assert!(builtin("rbac.authorization.k8s.io", "Role").is_none(), "Roles get the default table");
        let (_, sc) = builtin("storage.k8s.io", "StorageClass").unwrap();
        let standard =
            json!({"metadata": {"name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}, "provisioner": "x.io/disk"});
        assert_eq!(sc(&standard, NOW)[..5], [json!("standard (default)"), json!("x.io/disk"), json!("Delete"), json!("Immediate"), json!(false)]);
        let (_, rev) = builtin("apps", "ControllerRevision").unwrap();
        let r = json!({"metadata": {"name": "web-1", "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "controller": true}]}, "revision": 2});
        assert_eq!(rev(&r, NOW)[1..3], [json!("statefulset.apps/web"), json!(2)]);
        let (_, pc) = builtin("scheduling.k8s.io", "PriorityClass").unwrap();
        assert_eq!(pc(&json!({"metadata": {"name": "high"}, "value": 1000}), NOW)[1..3], [json!(1000), json!(false)]);
        let (_, ic) = builtin("networking.k8s.io", "IngressClass").unwrap();
        let class = json!({"metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx", "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "p"}}});
        assert_eq!(ic(&class, NOW)[1..3], [json!("k8s.io/ingress-nginx"), json!("IngressParameters.k8s.example.com/p")]);
    }
}
