//! Identity, access and namespace policy: ServiceAccount and Namespace (metadata only), Role,
//! ClusterRole and their bindings, ResourceQuota and LimitRange.

use super::{Ctx, R};
use crate::model::resources::*;
use crate::profiles::ProfileClass;
use serde_json::{Map, Value, json};

impl Ctx<'_, '_> {
    pub(super) fn limit_items(&mut self, items: &[LimitItem]) -> R<Value> {
        let mut out = Vec::new();
        for l in items {
            let mut m = Map::new();
            m.insert("type".into(), json!(self.required("limits.type", &l.kind)?));
            for (key, map) in [
                ("default", &l.default),
                ("defaultRequest", &l.default_request),
                ("max", &l.max),
                ("min", &l.min),
                ("maxLimitRequestRatio", &l.max_limit_request_ratio),
            ] {
                if !map.is_empty() {
                    m.insert(key.into(), Value::Object(self.map(&format!("limits.{key}"), map)?));
                }
            }
            out.push(Value::Object(m));
        }
        Ok(Value::Array(out))
    }

    // ------------------------------------------------------------------------------------------
    // Pods and containers.
}

pub(super) fn plain(c: &mut Ctx<'_, '_>, common: &EntryCommon, api_version: &str, kind: &str) -> R<Value> {
    let (_, _, meta) = c.meta(common, kind != "Namespace")?;
    Ok(json!({"apiVersion": api_version, "kind": kind, "metadata": meta}))
}

pub(super) fn role(c: &mut Ctx<'_, '_>, e: &Role, kind: &str) -> R<Value> {
    let (_, _, meta) = c.meta(&e.common, kind == "Role")?;
    let mut rules = Vec::new();
    for (i, r) in e.rules.iter().enumerate() {
        let field = format!("rules[{i}]");
        let mut m = Map::new();
        let groups = if r.api_groups.is_empty() { vec![json!("")] } else { c.list(&format!("{field}.apiGroups"), &r.api_groups)? };
        m.insert("apiGroups".into(), Value::Array(groups));
        m.insert("resources".into(), Value::Array(c.list(&format!("{field}.resources"), &r.resources)?));
        if !r.resource_names.is_empty() {
            m.insert("resourceNames".into(), Value::Array(c.list(&format!("{field}.resourceNames"), &r.resource_names)?));
        }
        if r.verbs.is_empty() {
            return Err(c.err(&format!("{field}.verbs"), "a rule needs at least one verb"));
        }
        m.insert("verbs".into(), Value::Array(c.list(&format!("{field}.verbs"), &r.verbs)?));
        rules.push(Value::Object(m));
    }
    Ok(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta, "rules": rules}))
}

pub(super) fn role_binding(c: &mut Ctx<'_, '_>, e: &RoleBinding, kind: &str) -> R<Value> {
    let namespaced = kind == "RoleBinding";
    let (_, namespace, meta) = c.meta(&e.common, namespaced)?;
    let Some(rr) = &e.role_ref else { return Err(c.err("roleRef", "`roleRef` is required for bindings")) };
    let default_kind = if namespaced { "Role" } else { "ClusterRole" };
    let role_ref = json!({
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": c.s_or("roleRef.kind", &rr.kind, default_kind)?,
        "name": c.required("roleRef.name", &rr.name)?,
    });
    let mut subjects = Vec::new();
    for (i, s) in e.subjects.iter().enumerate() {
        let field = format!("subjects[{i}]");
        let skind = c.required(&format!("{field}.kind"), &s.kind)?;
        let mut m = Map::new();
        m.insert("kind".into(), json!(skind));
        m.insert("name".into(), json!(c.required(&format!("{field}.name"), &s.name)?));
        if skind == "ServiceAccount" {
            let ns = match c.s(&format!("{field}.namespace"), &s.namespace)? {
                Some(ns) => ns,
                None => namespace
                    .clone()
                    .or_else(|| c.owner.namespace.clone())
                    .ok_or_else(|| c.err(&format!("{field}.namespace"), "a ServiceAccount subject needs a namespace"))?,
            };
            m.insert("namespace".into(), json!(ns));
        } else {
            m.insert("apiGroup".into(), json!(c.s_or(&format!("{field}.apiGroup"), &s.api_group, "rbac.authorization.k8s.io")?));
        }
        subjects.push(Value::Object(m));
    }
    Ok(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta, "roleRef": role_ref, "subjects": subjects}))
}

pub(super) fn resource_quota(c: &mut Ctx<'_, '_>, e: &ResourceQuota) -> R<Value> {
    if e.from_resource_quota.is_some() || !e.replication.to_namespaces.is_empty() {
        return Err(c.err("fromResourceQuota", "copying or replicating ResourceQuotas across namespaces is not supported by ork yet"));
    }
    let (_, _, meta) = c.meta(&e.common, true)?;
    let spec = match &e.profile {
        Some(p) => c.profile(ProfileClass::ResourceQuotas, "profile", p)?,
        None => json!({"hard": c.map("hard", &e.hard)?}),
    };
    Ok(json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": meta, "spec": spec}))
}

pub(super) fn limit_range(c: &mut Ctx<'_, '_>, e: &LimitRange) -> R<Value> {
    let (_, _, meta) = c.meta(&e.common, true)?;
    let spec = match &e.profile {
        Some(p) => c.profile(ProfileClass::LimitRanges, "profile", p)?,
        None => json!({"limits": c.limit_items(&e.limits)?}),
    };
    Ok(json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": meta, "spec": spec}))
}
