//! Workload helpers: replica counts (`allReplicasReady`, `availableReplicas`, ...), Services
//! (`serviceClusterIP`, `endpointsReady`, ...) and containers (`containerImage`,
//! `containerPort`, ...). The object comes first; nil (a child not created yet) answers
//! empty/false/0.

use super::objects::{f_replicas_ready, int_at};
use super::{bool_value, lookup_path, text};
use crate::template::eval::Val;
use crate::template::value::to_text;
use crate::template::{Env, FuncError};
use serde_json::Value;

pub(super) fn f_all_replicas_ready(env: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    // One workload, or every workload of a list or a by-name map (`.children.deployments`).
    let items: Vec<&Value> = match &*a[0] {
        Value::Array(items) => items.iter().collect(),
        Value::Object(m) if !m.contains_key("kind") && !m.contains_key("spec") && !m.contains_key("status") && !m.contains_key("metadata") => {
            m.values().collect()
        }
        Value::Object(_) => vec![&*a[0]],
        _ => Vec::new(),
    };
    if items.is_empty() {
        return bool_value(false);
    }
    for item in items {
        let one = [Val::Borrowed(item)];
        if f_replicas_ready(env, &one)? != Value::Bool(true) {
            return bool_value(false);
        }
    }
    bool_value(true)
}

pub(super) fn f_available_replicas(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(Value::from(int_at(&a[0], "status.availableReplicas").unwrap_or(0)))
}

pub(super) fn f_updated_replicas(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(Value::from(int_at(&a[0], "status.updatedReplicas").unwrap_or(0)))
}

// Services.

fn at(obj: &Value, path: &str) -> Value {
    lookup_path(obj, path).cloned().unwrap_or(Value::Null)
}

pub(super) fn f_service_cluster_ip(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(at(&a[0], "spec.clusterIP"))
}

/// The Service port a name or number selects (the first port without one).
fn service_port<'v>(svc: &'v Value, which: Option<&Value>) -> Option<&'v Value> {
    let ports = lookup_path(svc, "spec.ports")?.as_array()?;
    match which {
        None => ports.first(),
        Some(w) => {
            let w = to_text(w);
            ports.iter().find(|p| p.get("name").is_some_and(|n| to_text(n) == w) || p.get("port").is_some_and(|n| to_text(n) == w))
        }
    }
}

pub(super) fn f_service_node_port(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(service_port(&a[0], a.get(1).map(|v| &**v)).and_then(|p| p.get("nodePort")).cloned().unwrap_or(Value::Null))
}

fn lb_ingress(svc: &Value, key: &str) -> Value {
    lookup_path(svc, "status.loadBalancer.ingress")
        .and_then(Value::as_array)
        .and_then(|i| i.iter().find_map(|e| e.get(key).filter(|v| !to_text(v).is_empty())))
        .cloned()
        .unwrap_or(Value::Null)
}

pub(super) fn f_service_lb_ip(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(lb_ingress(&a[0], "ip"))
}

pub(super) fn f_service_lb_host(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(lb_ingress(&a[0], "hostname"))
}

/// Whether an Endpoints object has a ready address, or an EndpointSlice a ready endpoint.
fn endpoints_ready(obj: &Value) -> bool {
    if let Some(subsets) = obj.get("subsets").and_then(Value::as_array) {
        return subsets.iter().any(|s| s.get("addresses").and_then(Value::as_array).is_some_and(|a| !a.is_empty()));
    }
    if let Some(eps) = obj.get("endpoints").and_then(Value::as_array) {
        // An endpoint without `conditions.ready` is ready (the API's documented default).
        return eps.iter().any(|e| lookup_path(e, "conditions.ready").and_then(Value::as_bool).unwrap_or(true));
    }
    false
}

pub(super) fn f_endpoints_ready(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    // One object, or any of a list or by-name map of them (`.children.endpointslices`).
    bool_value(match &*a[0] {
        Value::Array(items) => items.iter().any(endpoints_ready),
        Value::Object(m) if !m.contains_key("subsets") && !m.contains_key("endpoints") && !m.contains_key("metadata") => m.values().any(endpoints_ready),
        other => endpoints_ready(other),
    })
}

// Containers: of a Pod, a workload's pod template, or a CronJob's job template.

fn containers(obj: &Value) -> &[Value] {
    ["spec.containers", "spec.template.spec.containers", "spec.jobTemplate.spec.template.spec.containers"]
        .iter()
        .find_map(|p| lookup_path(obj, p).and_then(Value::as_array))
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The named container, or the first.
fn container<'v>(obj: &'v Value, name: Option<&Value>) -> Option<&'v Value> {
    let cs = containers(obj);
    match name {
        None => cs.first(),
        Some(n) => {
            let n = to_text(n);
            cs.iter().find(|c| c.get("name").is_some_and(|x| to_text(x) == n))
        }
    }
}

pub(super) fn f_container_image(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(container(&a[0], a.get(1).map(|v| &**v)).and_then(|c| c.get("image")).cloned().unwrap_or(Value::Null))
}

pub(super) fn f_container_env(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let var = text(&a[1]);
    let found = container(&a[0], a.get(2).map(|v| &**v))
        .and_then(|c| c.get("env"))
        .and_then(Value::as_array)
        .and_then(|env| env.iter().find(|e| e.get("name").is_some_and(|n| to_text(n) == var)))
        .and_then(|e| e.get("value"))
        .cloned();
    Ok(found.unwrap_or(Value::Null))
}

pub(super) fn f_container_port(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(container(&a[0], a.get(1).map(|v| &**v))
        .and_then(|c| c.get("ports"))
        .and_then(Value::as_array)
        .and_then(|p| p.first())
        .and_then(|p| p.get("containerPort"))
        .cloned()
        .unwrap_or(Value::Null))
}

fn all_ports(obj: &Value) -> impl Iterator<Item = &Value> {
    containers(obj).iter().filter_map(|c| c.get("ports").and_then(Value::as_array)).flatten()
}

pub(super) fn f_container_port_by_name(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    let name = text(&a[1]);
    Ok(all_ports(&a[0]).find(|p| p.get("name").is_some_and(|n| to_text(n) == name)).and_then(|p| p.get("containerPort")).cloned().unwrap_or(Value::Null))
}

pub(super) fn f_container_ports(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(Value::Array(all_ports(&a[0]).filter_map(|p| p.get("containerPort").cloned()).collect()))
}

pub(super) fn f_container_count(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    Ok(Value::from(containers(&a[0]).len()))
}

/// `clamp MIN MAX X`: X limited to [MIN, MAX].
pub(super) fn f_clamp(_: &mut Env<'_>, a: &[Val<'_>]) -> Result<Value, FuncError> {
    use crate::template::value::to_number;
    let (lo, hi, x) = (to_number(&a[0])?, to_number(&a[1])?, to_number(&a[2])?);
    if lo.as_f64() > hi.as_f64() {
        return Err(FuncError::Usage { usage: "MIN MAX X with MIN ≤ MAX" });
    }
    let pick = if x.as_f64() < lo.as_f64() {
        lo
    } else if x.as_f64() > hi.as_f64() {
        hi
    } else {
        x
    };
    Ok(pick.into_value())
}
