//! Network kinds: Service, Ingress and NetworkPolicy (with the peer and port rules NetworkPolicy
//! profiles share).

use super::fields::protocol;
use super::{Ctx, R};
use crate::model::resources::*;
use crate::profiles::ProfileClass;
use crate::render::meta::label_value;
use serde_json::{Map, Value, json};

impl Ctx<'_, '_> {
    pub(super) fn peer(&mut self, p: &Peer) -> R<Value> {
        let mut out = Map::new();
        if let Some(s) = &p.pod_selector {
            out.insert("podSelector".into(), json!({"matchLabels": self.map("podSelector", s)?}));
        }
        if let Some(s) = &p.namespace_selector {
            out.insert("namespaceSelector".into(), json!({"matchLabels": self.map("namespaceSelector", s)?}));
        }
        if let Some(b) = &p.ip_block {
            let mut block = Map::new();
            block.insert("cidr".into(), json!(self.required("ipBlock.cidr", &b.cidr)?));
            if !b.except.is_empty() {
                block.insert("except".into(), Value::Array(self.list("ipBlock.except", &b.except)?));
            }
            out.insert("ipBlock".into(), Value::Object(block));
        }
        Ok(Value::Object(out))
    }

    pub(super) fn ports(&mut self, ports: &[PolicyPort]) -> R<Vec<Value>> {
        let mut out = Vec::new();
        for p in ports {
            let mut m = Map::new();
            m.insert("protocol".into(), json!(protocol(self.s("ports.protocol", &p.protocol)?.as_deref())));
            if let Some(port) = self.int_or_str("ports.port", &p.port)? {
                m.insert("port".into(), port);
            }
            out.push(Value::Object(m));
        }
        Ok(out)
    }

    pub(super) fn ingress_rules(&mut self, rules: &[IngressRule]) -> R<Value> {
        self.policy_rules("from", rules.iter().map(|r| (r.from.as_slice(), r.ports.as_slice())))
    }

    pub(super) fn egress_rules(&mut self, rules: &[EgressRule]) -> R<Value> {
        self.policy_rules("to", rules.iter().map(|r| (r.to.as_slice(), r.ports.as_slice())))
    }

    /// NetworkPolicy ingress/egress rules: peers under `peer_key` (`from` / `to`) and ports.
    pub(super) fn policy_rules<'p>(&mut self, peer_key: &str, rules: impl Iterator<Item = (&'p [Peer], &'p [PolicyPort])>) -> R<Value> {
        let mut out = Vec::new();
        for (peers, ports) in rules {
            let mut m = Map::new();
            if !peers.is_empty() {
                let peers = peers.iter().map(|p| self.peer(p)).collect::<R<Vec<_>>>()?;
                m.insert(peer_key.into(), Value::Array(peers));
            }
            if !ports.is_empty() {
                m.insert("ports".into(), Value::Array(self.ports(ports)?));
            }
            out.push(Value::Object(m));
        }
        Ok(Value::Array(out))
    }
}

pub(super) fn service(c: &mut Ctx<'_, '_>, e: &Service) -> R<Value> {
    let (_, _, meta) = c.meta(&e.common, true)?;
    let kind = match c.s_or("type", &e.kind, "ClusterIP")?.to_ascii_lowercase().as_str() {
        "clusterip" => "ClusterIP",
        "nodeport" => "NodePort",
        "loadbalancer" => "LoadBalancer",
        other => return Err(c.err("type", format!("service type {other:?} is not ClusterIP, NodePort or LoadBalancer"))),
    };
    let port = c.int("port", &e.port)?.ok_or_else(|| c.err("port", "`port` is required for services entries"))?;
    let target = c.int_or_str("targetPort", &e.target_port)?.unwrap_or_else(|| json!(port));
    let proto = protocol(c.s("protocol", &e.protocol)?.as_deref());
    let selector = if e.selector.is_empty() {
        let mut m = Map::new();
        m.insert(crate::render::LABEL_OWNER.into(), json!(label_value(c.cr_name())));
        m
    } else {
        c.map("selector", &e.selector)?
    };
    let mut spec = json!({
        "type": kind,
        "selector": selector,
        "ports": [{"name": format!("{}-{port}", proto.to_ascii_lowercase()), "port": port, "targetPort": target, "protocol": proto}],
    });
    if e.headless == Some(true) {
        spec["clusterIP"] = json!("None");
    }
    Ok(json!({"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}))
}

pub(super) fn ingress(c: &mut Ctx<'_, '_>, e: &Ingress) -> R<Value> {
    let (_, _, meta) = c.meta(&e.common, true)?;
    let default_service = format!("{}-svc", c.cr_name());
    let service = c.s_or("serviceName", &e.service_name, &default_service)?;
    let port = match c.int_or_str("servicePort", &e.service_port)? {
        Some(Value::Number(n)) => json!({"number": n}),
        Some(other) => json!({"name": other}),
        None => json!({"number": 80}),
    };
    let path = json!({
        "path": c.s_or("path", &e.path, "/")?,
        "pathType": c.s_or("pathType", &e.path_type, "Prefix")?,
        "backend": {"service": {"name": service, "port": port}},
    });
    let host = c.s("host", &e.host)?;
    let mut rule = json!({"http": {"paths": [path]}});
    if let Some(h) = &host {
        rule["host"] = json!(h);
    }
    let mut spec = json!({"rules": [rule]});
    if let Some(class) = c.s("className", &e.class_name)? {
        spec["ingressClassName"] = json!(class);
    }
    if let Some(tls) = &e.tls {
        let hosts = if tls.hosts.is_empty() { host.iter().map(|h| json!(h)).collect() } else { c.list("tls.hosts", &tls.hosts)? };
        let default_secret = format!("{}-tls", c.cr_name());
        spec["tls"] = json!([{"hosts": hosts, "secretName": c.s_or("tls.secretName", &tls.secret_name, &default_secret)?}]);
    }
    Ok(json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta, "spec": spec}))
}

pub(super) fn network_policy(c: &mut Ctx<'_, '_>, e: &NetworkPolicy) -> R<Value> {
    if e.from_network_policy.is_some() || !e.replication.to_namespaces.is_empty() {
        return Err(c.err("fromNetworkPolicy", "copying or replicating NetworkPolicies across namespaces is not supported by ork yet"));
    }
    let (_, _, meta) = c.meta(&e.common, true)?;
    let mut spec = match &e.profile {
        Some(p) => c.profile(ProfileClass::NetworkPolicies, "profile", p)?,
        None => json!({}),
    };
    let selector = match &e.pod_selector {
        Some(m) => json!({"matchLabels": c.map("podSelector", m)?}),
        None => spec.get("podSelector").cloned().unwrap_or_else(|| json!({})),
    };
    spec["podSelector"] = selector;
    if let Some(r) = &e.ingress {
        spec["ingress"] = c.ingress_rules(r)?;
    }
    if let Some(r) = &e.egress {
        spec["egress"] = c.egress_rules(r)?;
    }
    if !e.policy_types.is_empty() {
        spec["policyTypes"] = Value::Array(c.list("policyTypes", &e.policy_types)?);
    } else if spec.get("policyTypes").is_none() {
        let mut types = Vec::new();
        if spec.get("ingress").is_some() || spec.get("egress").is_none() {
            types.push(json!("Ingress"));
        }
        if spec.get("egress").is_some() {
            types.push(json!("Egress"));
        }
        spec["policyTypes"] = Value::Array(types);
    }
    Ok(json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta, "spec": spec}))
}
