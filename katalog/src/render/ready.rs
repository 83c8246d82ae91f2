//! Readiness of a CR's children (docs/readiness.md): whether each desired child exists and is
//! ready — by its entry's `readyWhen` conditions over the child object, else by its kind's
//! default — and which children wait for the entries they `dependsOn`.

use super::{Block, Child};
use crate::model::ChildKind;
use crate::rules::Evaluator;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A desired child that is not ready, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NotReady {
    /// `Kind/name` of the child.
    pub child: String,
    /// Why: `not created yet`, `0/2 replicas ready`, `waiting for database`.
    pub reason: String,
}

impl std::fmt::Display for NotReady {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.child, self.reason)
    }
}

fn text<'v>(v: &'v Value, pointer: &str) -> &'v str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

fn int(v: &Value, pointer: &str) -> Option<i64> {
    v.pointer(pointer).and_then(|n| n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)))
}

/// `Kind/name` of an object.
pub fn describe(obj: &Value) -> String {
    format!("{}/{}", text(obj, "/kind"), text(obj, "/metadata/name"))
}

/// The status of condition `kind` of `obj` (`True`, `False`, `Unknown`), if it has one.
fn condition_status<'v>(obj: &'v Value, kind: &str) -> Option<&'v str> {
    obj.pointer("/status/conditions")?.as_array()?.iter().find(|c| c.get("type").and_then(Value::as_str) == Some(kind))?.get("status")?.as_str()
}

/// The observed object `child` was rendered as (same group, kind, namespace and name).
pub fn observed_of<'o>(child: &Value, observed: &'o [Value]) -> Option<&'o Value> {
    let group = |o: &Value| crate::kinds::split_api_version(text(o, "/apiVersion")).0.to_string();
    observed.iter().find(|o| {
        text(o, "/kind") == text(child, "/kind")
            && group(o) == group(child)
            && text(o, "/metadata/name") == text(child, "/metadata/name")
            && (text(child, "/metadata/namespace").is_empty() || text(o, "/metadata/namespace") == text(child, "/metadata/namespace"))
    })
}

/// Why `obj`, a child of kind `kind`, is not ready by its kind's default rule (`None`: it is).
///
/// - Deployment, StatefulSet: the controller has seen the current generation and
///   `readyReplicas` reaches `spec.replicas` (default 1);
/// - Job: condition `Complete` is True (`Failed` True: failed);
/// - Service of type LoadBalancer: the load balancer has an ingress address;
/// - custom kinds: condition `Ready` is True;
/// - every other kind: it exists.
pub fn default_ready(kind: ChildKind, obj: &Value) -> Option<String> {
    match kind {
        ChildKind::Deployment | ChildKind::StatefulSet => {
            if let (Some(g), Some(seen)) = (int(obj, "/metadata/generation"), int(obj, "/status/observedGeneration"))
                && seen < g
            {
                return Some(format!("generation {g} not yet observed"));
            }
            let want = int(obj, "/spec/replicas").unwrap_or(1);
            let ready = int(obj, "/status/readyReplicas").unwrap_or(0);
            (ready < want).then(|| format!("{ready}/{want} replicas ready"))
        }
        ChildKind::Job => match (condition_status(obj, "Complete"), condition_status(obj, "Failed")) {
            (Some("True"), _) => None,
            (_, Some("True")) => Some("job failed".into()),
            _ => Some("job not complete".into()),
        },
        ChildKind::Service if text(obj, "/spec/type") == "LoadBalancer" => {
            let has = obj.pointer("/status/loadBalancer/ingress").and_then(Value::as_array).is_some_and(|a| !a.is_empty());
            (!has).then(|| "no load balancer address yet".into())
        }
        ChildKind::Custom => match condition_status(obj, "Ready") {
            Some("True") => None,
            Some(other) => Some(format!("Ready is {other}")),
            None => Some("no Ready condition yet".into()),
        },
        _ => None,
    }
}

/// The readiness of the desired children against the observed ones. Marks each child that waits
/// for an entry it `dependsOn` (`Child::waiting_for`) and returns every child that is not
/// ready, in declaration order. A child's `readyWhen` conditions are evaluated over the child
/// object; an error in them counts as not ready, with the error as the reason.
pub fn readiness(ev: &mut Evaluator<'_>, children: &mut [Child], observed: &[Value]) -> Vec<NotReady> {
    // Why each child is not ready (`None`: it is).
    let mut ready: Vec<Option<String>> = Vec::with_capacity(children.len());
    for c in children.iter() {
        let state = match observed_of(&c.manifest, observed) {
            None => Some("not created yet".to_string()),
            Some(obj) if c.ready_when.is_empty() => default_ready(c.kind, obj),
            Some(obj) => match ev.gate(&c.ready_when, &[], obj) {
                Ok(true) => None,
                Ok(false) => Some("readyWhen does not hold".to_string()),
                Err(e) => Some(format!("readyWhen: {e}")),
            },
        };
        ready.push(state);
    }
    // An id is ready when every child rendered from its entry is.
    let mut by_id: BTreeMap<&str, bool> = BTreeMap::new();
    for (c, r) in children.iter().zip(&ready) {
        if let Some(id) = &c.id {
            let e = by_id.entry(id.as_str()).or_insert(true);
            *e &= r.is_none();
        }
    }
    let waiting: Vec<Vec<String>> =
        children.iter().map(|c| c.depends_on.iter().filter(|d| !by_id.get(d.as_str()).copied().unwrap_or(false)).cloned().collect()).collect();
    let mut out = Vec::new();
    for ((c, r), w) in children.iter_mut().zip(ready).zip(waiting) {
        if c.block == Block::OnDelete {
            continue;
        }
        let child = describe(&c.manifest);
        match (r, w.is_empty()) {
            (Some(reason), true) => out.push(NotReady { child, reason }),
            (Some(_), false) => out.push(NotReady { child, reason: format!("waiting for {}", w.join(", ")) }),
            (None, _) => {}
        }
        c.waiting_for = w;
    }
    out
}

/// `.readiness` in templates: `ready` (`"true"`/`"false"`) and `notReady` (`Kind/name` of each
/// child that is not).
pub fn readiness_data(not_ready: &[NotReady]) -> Value {
    json!({
        "ready": if not_ready.is_empty() { "true" } else { "false" },
        "notReady": not_ready.iter().map(|n| n.child.clone()).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workloads_are_ready_when_their_replicas_are() {
        let d = json!({"kind": "Deployment", "metadata": {"name": "w", "generation": 2}, "spec": {"replicas": 2}, "status": {"observedGeneration": 2, "readyReplicas": 1}});
        assert_eq!(default_ready(ChildKind::Deployment, &d), Some("1/2 replicas ready".into()));
        let mut up = d.clone();
        up["status"]["readyReplicas"] = json!(2);
        assert_eq!(default_ready(ChildKind::Deployment, &up), None);
        up["metadata"]["generation"] = json!(3);
        assert_eq!(default_ready(ChildKind::Deployment, &up), Some("generation 3 not yet observed".into()));
        let one = json!({"metadata": {"name": "s"}, "spec": {}, "status": {"readyReplicas": 1}});
        assert_eq!(default_ready(ChildKind::StatefulSet, &one), None, "replicas default to 1");
    }

    #[test]
    fn jobs_custom_kinds_and_load_balancers_have_their_own_rule() {
        let job = |c: &str| json!({"status": {"conditions": [{"type": c, "status": "True"}]}});
        assert_eq!(default_ready(ChildKind::Job, &job("Complete")), None);
        assert_eq!(default_ready(ChildKind::Job, &job("Failed")), Some("job failed".into()));
        assert!(default_ready(ChildKind::Job, &json!({})).is_some());
        assert_eq!(default_ready(ChildKind::Custom, &job("Ready")), None);
        assert_eq!(default_ready(ChildKind::Custom, &json!({})), Some("no Ready condition yet".into()));
        let lb = json!({"spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {}}});
        assert!(default_ready(ChildKind::Service, &lb).is_some());
        assert_eq!(default_ready(ChildKind::Service, &json!({"spec": {"type": "ClusterIP"}})), None);
        assert_eq!(default_ready(ChildKind::ConfigMap, &json!({})), None);
    }
}
