//! One function per child kind: resource entry → Kubernetes manifest.

use super::meta::{Owner, label_value};
use super::{Block, Child, RenderError, RenderFailure};
use crate::decode::{Map as YMap, Str};
use crate::model::katalog::Katalog;
use crate::model::resources::*;
use crate::profiles::{ProfileClass, builtin};
use crate::rules::Evaluator;
use crate::template::value::to_text;
use serde_json::{Map, Value, json};
use std::borrow::Cow;

type R<T> = Result<T, RenderError>;

pub(super) struct Renderer<'r, 'a> {
    pub ev: &'r mut Evaluator<'a>,
    pub katalog: &'a Katalog,
    pub crd: &'a str,
    pub owner: &'r Owner,
    pub children: &'r mut Vec<Child>,
}

/// Per-entry rendering context.
struct Ctx<'c, 'a> {
    ev: &'c mut Evaluator<'a>,
    katalog: &'a Katalog,
    data: &'c Value,
    owner: &'c Owner,
    crd: &'c str,
    source: &'c str,
    kind: ChildKind,
}

macro_rules! each {
    ($r:expr, $blk:expr, $group:expr, $prefix:expr, $data:expr, $list:expr, $kind:expr, [$($common:ident).+], $build:expr) => {
        for (i, e) in $list.iter().enumerate() {
            let source = format!("{}.{}[{}]", $prefix, $kind.list_key(), i);
            #[allow(clippy::redundant_closure_call)]
            $r.entry($blk, $group, &source, $kind, &e.$($common).+, $data, &mut |c: &mut Ctx<'_, '_>| $build(c, e))?;
        }
    };
}

impl<'a> Renderer<'_, 'a> {
    /// Renders a lifecycle block (not onDelete).
    pub fn block(&mut self, blk: Block, block: &HookTemplates, data: &Value, group: Option<usize>) -> R<()> {
        let prefix = match group {
            Some(g) => format!("{}.groups[{g}]", blk.key()),
            None => blk.key().to_string(),
        };
        let gate = self.ev.gate(&block.when, &block.or, data).map_err(|e| self.err(&prefix, "", e))?;
        if !gate {
            return Ok(());
        }
        let p = prefix.as_str();
        each!(self, blk, group, p, data, block.deployments, ChildKind::Deployment, [common], deployment);
        each!(self, blk, group, p, data, block.stateful_sets, ChildKind::StatefulSet, [common], stateful_set);
        each!(self, blk, group, p, data, block.services, ChildKind::Service, [common], service);
        each!(self, blk, group, p, data, block.config_maps, ChildKind::ConfigMap, [common], config_map);
        each!(self, blk, group, p, data, block.secrets, ChildKind::Secret, [common], secret);
        each!(self, blk, group, p, data, block.jobs, ChildKind::Job, [common], job);
        each!(self, blk, group, p, data, block.cron_jobs, ChildKind::CronJob, [common], cron_job);
        each!(self, blk, group, p, data, block.ingresses, ChildKind::Ingress, [common], ingress);
        each!(self, blk, group, p, data, block.service_accounts, ChildKind::ServiceAccount, [common], |c: &mut Ctx<'_, '_>, e: &Plain| plain(
            c,
            &e.common,
            "v1",
            "ServiceAccount"
        ));
        each!(self, blk, group, p, data, block.roles, ChildKind::Role, [common], |c: &mut Ctx<'_, '_>, e: &Role| role(c, e, "Role"));
        each!(self, blk, group, p, data, block.role_bindings, ChildKind::RoleBinding, [common], |c: &mut Ctx<'_, '_>, e: &RoleBinding| role_binding(
            c,
            e,
            "RoleBinding"
        ));
        each!(self, blk, group, p, data, block.cluster_roles, ChildKind::ClusterRole, [common], |c: &mut Ctx<'_, '_>, e: &Role| role(c, e, "ClusterRole"));
        each!(self, blk, group, p, data, block.cluster_role_bindings, ChildKind::ClusterRoleBinding, [common], |c: &mut Ctx<'_, '_>, e: &RoleBinding| {
            role_binding(c, e, "ClusterRoleBinding")
        });
        each!(self, blk, group, p, data, block.namespaces, ChildKind::Namespace, [common], |c: &mut Ctx<'_, '_>, e: &Plain| plain(
            c,
            &e.common,
            "v1",
            "Namespace"
        ));
        each!(self, blk, group, p, data, block.network_policies, ChildKind::NetworkPolicy, [common], network_policy);
        each!(self, blk, group, p, data, block.resource_quotas, ChildKind::ResourceQuota, [common], resource_quota);
        each!(self, blk, group, p, data, block.limit_ranges, ChildKind::LimitRange, [common], limit_range);
        each!(self, blk, group, p, data, block.pdb, ChildKind::Pdb, [common], pdb);
        each!(self, blk, group, p, data, block.hpa, ChildKind::Hpa, [common], hpa);
        each!(self, blk, group, p, data, block.persistent_volume_claims, ChildKind::Pvc, [common], pvc);
        each!(self, blk, group, p, data, block.custom, ChildKind::Custom, [known.common], custom);
        Ok(())
    }

    /// Renders `onDelete` (its ordered groups, or the flat block as group 0).
    pub fn delete_block(&mut self, block: &HookTemplates, data: &Value) -> R<()> {
        if block.groups.is_empty() {
            return self.block(Block::OnDelete, block, data, Some(0)).map(|_| ());
        }
        let gate = self.ev.gate(&block.when, &block.or, data).map_err(|e| self.err("onDelete", "", e))?;
        if !gate {
            return Ok(());
        }
        for (g, group) in block.groups.iter().enumerate() {
            self.block(Block::OnDelete, group, data, Some(g))?;
        }
        Ok(())
    }

    /// A render failure at `resource`/`field`; `message` is anything displayable (text or a
    /// [`crate::rules::RuleError`]).
    fn err(&self, resource: &str, field: &str, message: impl std::fmt::Display) -> RenderError {
        RenderError {
            crd: self.crd.to_string(),
            resource: resource.to_string(),
            field: field.to_string(),
            message: message.to_string(),
            failure: RenderFailure::Render,
        }
    }

    /// One entry: forEach expansion, gate, build, replication.
    #[allow(clippy::too_many_arguments)]
    fn entry(
        &mut self,
        blk: Block,
        group: Option<usize>,
        source: &str,
        kind: ChildKind,
        common: &EntryCommon,
        data: &Value,
        build: &mut dyn FnMut(&mut Ctx<'_, 'a>) -> R<Value>,
    ) -> R<()> {
        let entry_source = source;
        for (suffix, item_data) in self.expand(source, common, data)? {
            let source = match &suffix {
                Some(s) => format!("{source}[{s}]"),
                None => source.to_string(),
            };
            if !self.ev.gate(&common.when, &common.or, &item_data).map_err(|e| self.err(&source, "when", e))? {
                continue;
            }
            let mut c = Ctx { ev: self.ev, katalog: self.katalog, data: &item_data, owner: self.owner, crd: self.crd, source: &source, kind };
            // An onDelete entry (other than a cleanup Job, which is created) only names the
            // object to delete: its identity is all that is rendered.
            let reference = blk == Block::OnDelete && !matches!(kind, ChildKind::Job | ChildKind::Custom);
            let mut manifest = match (reference, crate::kinds::child_resource(kind)) {
                (true, Some(r)) => {
                    let (_, _, meta) = c.meta(common, r.namespaced)?;
                    json!({"apiVersion": r.api_version(), "kind": r.kind, "metadata": meta})
                }
                _ => build(&mut c)?,
            };
            if let Some(Value::Object(m)) = manifest.get_mut("metadata") {
                let annotations = m.entry("annotations").or_insert_with(|| json!({}));
                if let Value::Object(a) = annotations {
                    a.insert(super::meta::ANNOTATION_ENTRY.into(), json!(entry_source));
                }
            }
            super::invalid::check(self.crd, &source, &manifest, false)?;
            let once = common.once.unwrap_or(false) && blk == Block::OnCreate && common.reconcile != Some(true);
            let drift_correct = blk == Block::OnReconcile || common.reconcile == Some(true);
            self.children.push(Child { block: blk, kind, source, drift_correct, once, group, manifest });
        }
        Ok(())
    }

    /// `forEach`: one data scope per list item (`.item`, `.index`, `.<as>`) or map key (`.item`
    /// = key, `.value`, keys sorted). No forEach: the data as is.
    fn expand<'d>(&mut self, source: &str, common: &EntryCommon, data: &'d Value) -> R<Vec<(Option<String>, Cow<'d, Value>)>> {
        let Some(fe) = &common.for_each else { return Ok(vec![(None, Cow::Borrowed(data))]) };
        let field = fe.field.as_ref().map(|f| f.value.as_str()).unwrap_or_default();
        let over = self.ev.field(field, data).map_err(|e| self.err(source, "forEach", e))?;
        let alias = fe.as_.as_ref().map(|a| a.value.clone());
        let scope = |item: Value, index: usize, value: Option<Value>| {
            let mut d = data.clone();
            if let Some(m) = d.as_object_mut() {
                if let Some(a) = &alias {
                    m.insert(a.clone(), item.clone());
                }
                m.insert("item".into(), item);
                m.insert("index".into(), json!(index));
                if let Some(v) = value {
                    m.insert("value".into(), v);
                }
            }
            d
        };
        Ok(match over {
            Value::Array(items) => items.into_iter().enumerate().map(|(i, it)| (Some(i.to_string()), Cow::Owned(scope(it, i, None)))).collect(),
            Value::Object(m) => m.into_iter().enumerate().map(|(i, (k, v))| (Some(k.clone()), Cow::Owned(scope(Value::String(k), i, Some(v))))).collect(),
            Value::Null => Vec::new(),
            other => {
                return Err(self.err(
                    source,
                    "forEach",
                    format!("`{field}` is a {} ({:?}); forEach needs a list or a map", crate::template::value::type_name(&other), to_text(&other)),
                ));
            }
        })
    }
}

impl Ctx<'_, '_> {
    fn err(&self, field: &str, message: impl std::fmt::Display) -> RenderError {
        RenderError {
            crd: self.crd.to_string(),
            resource: self.source.to_string(),
            field: field.to_string(),
            message: message.to_string(),
            failure: RenderFailure::Render,
        }
    }

    /// Renders an optional template; an empty result is "not set".
    fn s(&mut self, field: &str, v: &Option<Str>) -> R<Option<String>> {
        let Some(v) = v else { return Ok(None) };
        let out = self.ev.text(&v.value, self.data).map_err(|e| self.err(field, e))?;
        Ok((!out.is_empty()).then_some(out))
    }

    fn text(&mut self, field: &str, v: &Str) -> R<String> {
        self.ev.text(&v.value, self.data).map_err(|e| self.err(field, e))
    }

    fn s_or(&mut self, field: &str, v: &Option<Str>, default: &str) -> R<String> {
        Ok(self.s(field, v)?.unwrap_or_else(|| default.to_string()))
    }

    fn required(&mut self, field: &str, v: &Option<Str>) -> R<String> {
        self.s(field, v)?
            .ok_or_else(|| self.err(field, format!("`{field}` is required for {} entries (it is missing or rendered empty)", self.kind.list_key())))
    }

    fn int(&mut self, field: &str, v: &Option<Str>) -> R<Option<i64>> {
        let Some(text) = self.s(field, v)? else { return Ok(None) };
        text.trim().parse::<i64>().map(Some).map_err(|_| self.err(field, format!("`{field}` rendered to {text:?}, which is not an integer")))
    }

    fn int_or(&mut self, field: &str, v: &Option<Str>, default: i64) -> R<i64> {
        Ok(self.int(field, v)?.unwrap_or(default))
    }

    fn bool_or(&mut self, field: &str, v: &Option<Str>, default: bool) -> R<bool> {
        let Some(text) = self.s(field, v)? else { return Ok(default) };
        crate::template::funcs::parse_bool(&text).ok_or_else(|| self.err(field, format!("`{field}` rendered to {text:?}, which is not true or false")))
    }

    /// An int-or-string (ports, maxSurge, minAvailable): digits become a number.
    fn int_or_str(&mut self, field: &str, v: &Option<Str>) -> R<Option<Value>> {
        Ok(self.s(field, v)?.map(|t| int_or_string(&t)))
    }

    fn map(&mut self, field: &str, m: &YMap<Str>) -> R<Map<String, Value>> {
        let mut out = Map::new();
        for (k, v) in m.iter() {
            let text = self.ev.text(&v.value, self.data).map_err(|e| self.err(&format!("{field}.{k}"), e))?;
            out.insert(k.value.clone(), Value::String(text));
        }
        Ok(out)
    }

    fn list(&mut self, field: &str, l: &[Str]) -> R<Vec<Value>> {
        let mut out = Vec::with_capacity(l.len());
        for (i, v) in l.iter().enumerate() {
            out.push(Value::String(self.ev.text(&v.value, self.data).map_err(|e| self.err(&format!("{field}[{i}]"), e))?));
        }
        Ok(out)
    }

    fn cr_name(&self) -> &str {
        &self.owner.name
    }

    /// Name, namespace and metadata of the entry.
    fn meta(&mut self, common: &EntryCommon, namespaced: bool) -> R<(String, Option<String>, Value)> {
        let name = match self.s("name", &common.name)? {
            Some(n) => n,
            None => {
                self.kind.default_name(self.cr_name()).ok_or_else(|| self.err("name", format!("`name` is required for {} entries", self.kind.list_key())))?
            }
        };
        let namespace = if namespaced {
            Some(match self.s("namespace", &common.namespace)? {
                Some(ns) => ns,
                None => self
                    .owner
                    .namespace
                    .clone()
                    .ok_or_else(|| self.err("namespace", "the CR is cluster-scoped, so a namespaced child needs an explicit `namespace`"))?,
            })
        } else {
            None
        };
        let labels = self.map("labels", &common.labels)?;
        let annotations = self.map("annotations", &common.annotations)?;
        let meta = self.owner.metadata(&name, namespace.as_deref(), labels, annotations);
        Ok((name, namespace, meta))
    }

    /// A profile's values: user-defined (exact name) first, then built-in (any case).
    fn profile(&mut self, class: ProfileClass, field: &str, name: &Str) -> R<Value> {
        let name = self.text(field, name)?;
        if let Some(v) = self.user_profile(class, field, &name)? {
            return Ok(v);
        }
        builtin(class, &name).ok_or_else(|| {
            let known = crate::profiles::builtin_names(class).join(", ");
            self.err(field, format!("unknown {} {name:?} (built-in: {known})", class.describe()))
        })
    }

    fn user_profile(&mut self, class: ProfileClass, field: &str, name: &str) -> R<Option<Value>> {
        let katalog = self.katalog;
        let Some(p) = &katalog.profiles else { return Ok(None) };
        fn find<'p, T>(list: &'p [T], name: &str, key: fn(&T) -> &Option<Str>) -> Option<&'p T> {
            list.iter().find(|e| key(e).as_ref().is_some_and(|n| n.value == name))
        }
        let mut obj = Map::new();
        macro_rules! put {
            ($key:literal, $v:expr) => {
                if let Some(v) = $v {
                    obj.insert($key.into(), v);
                }
            };
        }
        match class {
            ProfileClass::Resources => {
                let Some(e) = find(&p.resources, name, |e| &e.name) else { return Ok(None) };
                put!("requests", Some(Value::Object(self.map(field, &e.requests)?)).filter(non_empty));
                put!("limits", Some(Value::Object(self.map(field, &e.limits)?)).filter(non_empty));
            }
            ProfileClass::ContainerSecurity => {
                let Some(e) = find(&p.container_security, name, |e| &e.name) else { return Ok(None) };
                put!("allowPrivilegeEscalation", e.allow_privilege_escalation.map(Value::Bool));
                put!("readOnlyRootFilesystem", e.read_only_root_filesystem.map(Value::Bool));
                put!("runAsNonRoot", e.run_as_non_root.map(Value::Bool));
                put!("runAsUser", e.run_as_user.map(Value::from));
                put!("runAsGroup", e.run_as_group.map(Value::from));
                put!("capabilities", e.capabilities.as_ref().map(|c| self.capabilities(c)).transpose()?);
            }
            ProfileClass::PodSecurity => {
                let Some(e) = find(&p.pod_security, name, |e| &e.name) else { return Ok(None) };
                put!("runAsNonRoot", e.run_as_non_root.map(Value::Bool));
                put!("runAsUser", e.run_as_user.map(Value::from));
                put!("runAsGroup", e.run_as_group.map(Value::from));
                put!("fsGroup", e.fs_group.map(Value::from));
            }
            ProfileClass::Probes => {
                let Some(e) = find(&p.probes, name, |e| &e.name) else { return Ok(None) };
                put!("initialDelaySeconds", self.int(field, &e.initial_delay_seconds)?.map(Value::from));
                put!("periodSeconds", self.int(field, &e.period_seconds)?.map(Value::from));
                put!("failureThreshold", self.int(field, &e.failure_threshold)?.map(Value::from));
                put!("successThreshold", self.int(field, &e.success_threshold)?.map(Value::from));
                put!("timeoutSeconds", self.int(field, &e.timeout_seconds)?.map(Value::from));
            }
            ProfileClass::RollingUpdate => {
                let Some(e) = find(&p.rolling_update, name, |e| &e.name) else { return Ok(None) };
                put!("maxSurge", self.int_or_str(field, &e.max_surge)?);
                put!("maxUnavailable", self.int_or_str(field, &e.max_unavailable)?);
            }
            ProfileClass::Pdb => {
                let Some(e) = find(&p.pdb, name, |e| &e.name) else { return Ok(None) };
                put!("minAvailable", self.int_or_str(field, &e.min_available)?);
                put!("maxUnavailable", self.int_or_str(field, &e.max_unavailable)?);
            }
            ProfileClass::Hpa => {
                let Some(e) = find(&p.hpa, name, |e| &e.name) else { return Ok(None) };
                put!("minReplicas", self.int(field, &e.min_replicas)?.map(Value::from));
                put!("maxReplicas", self.int(field, &e.max_replicas)?.map(Value::from));
                put!("targetCPUUtilizationPercentage", self.int(field, &e.target_cpu_utilization_percentage)?.map(Value::from));
                put!("behavior", e.behavior.as_ref().map(|b| self.behavior_rules(b)).transpose()?);
            }
            ProfileClass::NetworkPolicies => {
                let Some(e) = find(&p.network_policies, name, |e| &e.name) else { return Ok(None) };
                put!("podSelector", e.pod_selector.as_ref().map(|m| self.map(field, m).map(|m| json!({"matchLabels": m}))).transpose()?);
                put!("ingress", e.ingress.as_ref().map(|r| self.ingress_rules(r)).transpose()?);
                put!("egress", e.egress.as_ref().map(|r| self.egress_rules(r)).transpose()?);
                if !e.policy_types.is_empty() {
                    obj.insert("policyTypes".into(), Value::Array(self.list(field, &e.policy_types)?));
                }
            }
            ProfileClass::ResourceQuotas => {
                let Some(e) = find(&p.resource_quotas, name, |e| &e.name) else { return Ok(None) };
                obj.insert("hard".into(), Value::Object(self.map(field, &e.hard)?));
            }
            ProfileClass::LimitRanges => {
                let Some(e) = find(&p.limit_ranges, name, |e| &e.name) else { return Ok(None) };
                obj.insert("limits".into(), self.limit_items(&e.limits)?);
            }
            ProfileClass::Reconciler => return Ok(None),
        }
        Ok(Some(Value::Object(obj)))
    }

    fn capabilities(&mut self, c: &Capabilities) -> R<Value> {
        let mut out = Map::new();
        if !c.add.is_empty() {
            out.insert("add".into(), Value::Array(self.list("capabilities.add", &c.add)?));
        }
        if !c.drop.is_empty() {
            out.insert("drop".into(), Value::Array(self.list("capabilities.drop", &c.drop)?));
        }
        Ok(Value::Object(out))
    }

    fn behavior_rules(&mut self, b: &Behavior) -> R<Value> {
        let mut out = Map::new();
        for (key, rules) in [("scaleUp", &b.scale_up), ("scaleDown", &b.scale_down)] {
            let Some(r) = rules else { continue };
            let mut m = Map::new();
            if let Some(w) = self.int("behavior.stabilizationWindowSeconds", &r.stabilization_window_seconds)? {
                m.insert("stabilizationWindowSeconds".into(), json!(w));
            }
            if let Some(s) = self.s("behavior.selectPolicy", &r.select_policy)? {
                m.insert("selectPolicy".into(), json!(s));
            }
            let mut policies = Vec::new();
            for p in &r.policies {
                policies.push(json!({
                    "type": self.required("behavior.policies.type", &p.kind)?,
                    "value": self.int("behavior.policies.value", &p.value)?.unwrap_or(0),
                    "periodSeconds": self.int("behavior.policies.periodSeconds", &p.period_seconds)?.unwrap_or(60),
                }));
            }
            if !policies.is_empty() {
                m.insert("policies".into(), Value::Array(policies));
            }
            out.insert(key.into(), Value::Object(m));
        }
        Ok(Value::Object(out))
    }

    fn peer(&mut self, p: &Peer) -> R<Value> {
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

    fn ports(&mut self, ports: &[PolicyPort]) -> R<Vec<Value>> {
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

    fn ingress_rules(&mut self, rules: &[IngressRule]) -> R<Value> {
        self.policy_rules("from", rules.iter().map(|r| (r.from.as_slice(), r.ports.as_slice())))
    }

    fn egress_rules(&mut self, rules: &[EgressRule]) -> R<Value> {
        self.policy_rules("to", rules.iter().map(|r| (r.to.as_slice(), r.ports.as_slice())))
    }

    /// NetworkPolicy ingress/egress rules: peers under `peer_key` (`from` / `to`) and ports.
    fn policy_rules<'p>(&mut self, peer_key: &str, rules: impl Iterator<Item = (&'p [Peer], &'p [PolicyPort])>) -> R<Value> {
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

    fn limit_items(&mut self, items: &[LimitItem]) -> R<Value> {
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

    fn resources(&mut self, r: &Resources) -> R<Value> {
        if let Some(p) = &r.profile {
            return self.profile(ProfileClass::Resources, "resources.profile", p);
        }
        let mut out = Map::new();
        if !r.requests.is_empty() {
            out.insert("requests".into(), Value::Object(self.map("resources.requests", &r.requests)?));
        }
        if !r.limits.is_empty() {
            out.insert("limits".into(), Value::Object(self.map("resources.limits", &r.limits)?));
        }
        Ok(Value::Object(out))
    }

    fn security_context(&mut self, s: &SecurityContext) -> R<Value> {
        if let Some(p) = &s.profile {
            return self.profile(ProfileClass::ContainerSecurity, "securityContext.profile", p);
        }
        let mut out = Map::new();
        let flags = [
            ("allowPrivilegeEscalation", s.allow_privilege_escalation),
            ("readOnlyRootFilesystem", s.read_only_root_filesystem),
            ("runAsNonRoot", s.run_as_non_root),
        ];
        for (k, v) in flags {
            if let Some(v) = v {
                out.insert(k.into(), json!(v));
            }
        }
        if let Some(u) = s.run_as_user {
            out.insert("runAsUser".into(), json!(u));
        }
        if let Some(g) = s.run_as_group {
            out.insert("runAsGroup".into(), json!(g));
        }
        if let Some(c) = &s.capabilities {
            out.insert("capabilities".into(), self.capabilities(c)?);
        }
        Ok(Value::Object(out))
    }

    fn pod_security(&mut self, s: &PodSecurity) -> R<Value> {
        if let Some(p) = &s.profile {
            return self.profile(ProfileClass::PodSecurity, "podSecurity.profile", p);
        }
        let mut out = Map::new();
        if let Some(v) = s.run_as_non_root {
            out.insert("runAsNonRoot".into(), json!(v));
        }
        for (k, v) in [("runAsUser", s.run_as_user), ("runAsGroup", s.run_as_group), ("fsGroup", s.fs_group)] {
            if let Some(v) = v {
                out.insert(k.into(), json!(v));
            }
        }
        Ok(Value::Object(out))
    }

    fn probe(&mut self, which: &str, p: &Probe, container_port: Option<&Value>) -> R<Value> {
        let field = format!("probes.{which}");
        let mut out = match &p.profile {
            Some(name) => self.profile(ProfileClass::Probes, &format!("{field}.profile"), name)?,
            None => builtin(ProfileClass::Probes, "standard").unwrap_or_else(|| json!({})),
        };
        let timings = [
            ("initialDelaySeconds", &p.initial_delay_seconds),
            ("periodSeconds", &p.period_seconds),
            ("failureThreshold", &p.failure_threshold),
            ("successThreshold", &p.success_threshold),
            ("timeoutSeconds", &p.timeout_seconds),
        ];
        for (key, v) in timings {
            if let Some(n) = self.int(&format!("{field}.{key}"), v)? {
                out[key] = json!(n);
            }
        }
        let port = match self.int_or_str(&format!("{field}.port"), &p.port)? {
            Some(port) => port,
            None => container_port.cloned().ok_or_else(|| self.err(&format!("{field}.port"), "the probe needs a `port` (the container declares none)"))?,
        };
        let path = self.s(&format!("{field}.path"), &p.path)?;
        let kind = self.s(&format!("{field}.type"), &p.kind)?.unwrap_or_else(|| if path.is_some() { "http".into() } else { "tcp".into() });
        match kind.to_ascii_lowercase().as_str() {
            "http" => out["httpGet"] = json!({"path": path.unwrap_or_else(|| "/".into()), "port": port}),
            "tcp" => out["tcpSocket"] = json!({"port": port}),
            other => return Err(self.err(&format!("{field}.type"), format!("probe type {other:?} is not http or tcp"))),
        }
        Ok(out)
    }

    fn env(&mut self, cf: &ContainerFields) -> R<Vec<Value>> {
        let mut env = Vec::new();
        for (i, e) in cf.env.iter().enumerate() {
            let field = format!("env[{i}]");
            let name = self.required(&format!("{field}.name"), &e.name)?;
            if let Some(vf) = &e.value_from {
                let (key, r) = match (&vf.secret_key_ref, &vf.config_map_key_ref) {
                    (Some(r), None) => ("secretKeyRef", r),
                    (None, Some(r)) => ("configMapKeyRef", r),
                    _ => return Err(self.err(&field, "`valueFrom` needs exactly one of secretKeyRef or configMapKeyRef")),
                };
                let mut rf = Map::new();
                rf.insert("name".into(), json!(self.required(&format!("{field}.valueFrom.name"), &r.name)?));
                rf.insert("key".into(), json!(self.required(&format!("{field}.valueFrom.key"), &r.key)?));
                if let Some(o) = r.optional {
                    rf.insert("optional".into(), json!(o));
                }
                env.push(json!({"name": name, "valueFrom": {key: rf}}));
            } else {
                let value = match &e.value {
                    Some(v) => self.text(&format!("{field}.value"), v)?,
                    None => String::new(),
                };
                env.push(json!({"name": name, "value": value}));
            }
        }
        Ok(env)
    }

    /// `envFrom`: whole-object imports, or per-key env vars when `keys` is given.
    fn env_from(&mut self, cf: &ContainerFields, env: &mut Vec<Value>) -> R<Vec<Value>> {
        let mut out = Vec::new();
        let Some(ef) = &cf.env_from else { return Ok(out) };
        for (list, ref_key, key_ref) in [(&ef.config_map_ref, "configMapRef", "configMapKeyRef"), (&ef.secret_ref, "secretRef", "secretKeyRef")] {
            for (i, r) in list.iter().enumerate() {
                let field = format!("envFrom.{ref_key}[{i}]");
                let name = self.required(&format!("{field}.name"), &r.name)?;
                let prefix = self.s(&format!("{field}.prefix"), &r.prefix)?.unwrap_or_default();
                let suffix = self.s(&format!("{field}.suffix"), &r.suffix)?.unwrap_or_default();
                if r.keys.is_empty() {
                    if !suffix.is_empty() {
                        return Err(self.err(&format!("{field}.suffix"), "`suffix` needs `keys` (whole-object imports only take a prefix)"));
                    }
                    let mut m = Map::new();
                    if !prefix.is_empty() {
                        m.insert("prefix".into(), json!(prefix));
                    }
                    let mut target = json!({"name": name});
                    if let Some(o) = r.optional {
                        target["optional"] = json!(o);
                    }
                    m.insert(ref_key.into(), target);
                    out.push(Value::Object(m));
                } else {
                    for k in self.list(&format!("{field}.keys"), &r.keys)? {
                        let key = to_text(&k);
                        let var = format!("{prefix}{key}{suffix}");
                        let mut rf = json!({"name": name, "key": key});
                        if let Some(o) = r.optional {
                            rf["optional"] = json!(o);
                        }
                        env.push(json!({"name": var, "valueFrom": {key_ref: rf}}));
                    }
                }
            }
        }
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn container(
        &mut self,
        name: &str,
        image: String,
        cf: &ContainerFields,
        port: Option<(Value, String)>,
        probes: Option<&Probes>,
        working_dir: &Option<Str>,
        extra_mounts: Vec<Value>,
    ) -> R<Value> {
        let mut c = Map::new();
        c.insert("name".into(), json!(container_name(name)));
        c.insert("image".into(), json!(image));
        if !cf.command.is_empty() {
            c.insert("command".into(), Value::Array(self.list("command", &cf.command)?));
        }
        if !cf.args.is_empty() {
            c.insert("args".into(), Value::Array(self.list("args", &cf.args)?));
        }
        if let Some(dir) = self.s("workingDirectory", working_dir)? {
            c.insert("workingDir".into(), json!(dir));
        }
        if let Some((p, proto)) = &port {
            c.insert("ports".into(), json!([{"containerPort": p, "protocol": proto}]));
        }
        let mut env = self.env(cf)?;
        let env_from = self.env_from(cf, &mut env)?;
        if !env.is_empty() {
            c.insert("env".into(), Value::Array(env));
        }
        if !env_from.is_empty() {
            c.insert("envFrom".into(), Value::Array(env_from));
        }
        if let Some(r) = &cf.resources {
            c.insert("resources".into(), self.resources(r)?);
        }
        if let Some(s) = &cf.security_context {
            c.insert("securityContext".into(), self.security_context(s)?);
        }
        if let Some(p) = probes {
            for (key, probe) in [("startupProbe", &p.startup), ("livenessProbe", &p.liveness), ("readinessProbe", &p.readiness)] {
                if let Some(probe) = probe {
                    let which = key.trim_end_matches("Probe");
                    c.insert(key.into(), self.probe(which, probe, port.as_ref().map(|(p, _)| p))?);
                }
            }
        }
        let mut mounts = Vec::new();
        for (i, m) in cf.volume_mounts.iter().enumerate() {
            let field = format!("volumeMounts[{i}]");
            let mut mount = Map::new();
            mount.insert("name".into(), json!(self.required(&format!("{field}.name"), &m.name)?));
            mount.insert("mountPath".into(), json!(self.required(&format!("{field}.mountPath"), &m.mount_path)?));
            if let Some(sp) = self.s(&format!("{field}.subPath"), &m.sub_path)? {
                mount.insert("subPath".into(), json!(sp));
            }
            if let Some(ro) = m.read_only {
                mount.insert("readOnly".into(), json!(ro));
            }
            mounts.push(Value::Object(mount));
        }
        mounts.extend(extra_mounts);
        if !mounts.is_empty() {
            c.insert("volumeMounts".into(), Value::Array(mounts));
        }
        Ok(Value::Object(c))
    }

    fn pod_spec(&mut self, pf: &PodFields, cf: &ContainerFields, container: Value, restart_policy: Option<&str>) -> R<Value> {
        let mut spec = Map::new();
        spec.insert("containers".into(), json!([container]));
        if let Some(rp) = restart_policy {
            spec.insert("restartPolicy".into(), json!(rp));
        }
        if let Some(sa) = self.s("serviceAccountName", &pf.service_account_name)? {
            spec.insert("serviceAccountName".into(), json!(sa));
        }
        if !pf.node_selector.is_empty() {
            spec.insert("nodeSelector".into(), Value::Object(self.map("nodeSelector", &pf.node_selector)?));
        }
        if let Some(ps) = &pf.pod_security {
            spec.insert("securityContext".into(), self.pod_security(ps)?);
        }
        if !cf.image_pull_secrets.is_empty() {
            let names = self.list("imagePullSecrets", &cf.image_pull_secrets)?;
            spec.insert("imagePullSecrets".into(), Value::Array(names.into_iter().map(|n| json!({"name": n})).collect()));
        }
        let mut volumes = Vec::new();
        for (i, v) in pf.volumes.iter().enumerate() {
            let field = format!("volumes[{i}]");
            let mut vol = Map::new();
            vol.insert("name".into(), json!(self.required(&format!("{field}.name"), &v.name)?));
            let mut sources = 0;
            if let Some(cm) = &v.config_map {
                vol.insert("configMap".into(), json!({"name": self.required(&format!("{field}.configMap.name"), &cm.name)?}));
                sources += 1;
            }
            if let Some(s) = &v.secret {
                vol.insert("secret".into(), json!({"secretName": self.required(&format!("{field}.secret.secretName"), &s.secret_name)?}));
                sources += 1;
            }
            if let Some(e) = &v.empty_dir {
                let mut m = Map::new();
                if let Some(medium) = self.s(&format!("{field}.emptyDir.medium"), &e.medium)? {
                    m.insert("medium".into(), json!(medium));
                }
                if let Some(limit) = self.s(&format!("{field}.emptyDir.sizeLimit"), &e.size_limit)? {
                    m.insert("sizeLimit".into(), json!(limit));
                }
                vol.insert("emptyDir".into(), Value::Object(m));
                sources += 1;
            }
            if let Some(p) = &v.persistent_volume_claim {
                let mut m = Map::new();
                m.insert("claimName".into(), json!(self.required(&format!("{field}.persistentVolumeClaim.claimName"), &p.claim_name)?));
                if let Some(ro) = p.read_only {
                    m.insert("readOnly".into(), json!(ro));
                }
                vol.insert("persistentVolumeClaim".into(), Value::Object(m));
                sources += 1;
            }
            if let Some(h) = &v.host_path {
                let mut m = Map::new();
                m.insert("path".into(), json!(self.required(&format!("{field}.hostPath.path"), &h.path)?));
                if let Some(t) = self.s(&format!("{field}.hostPath.type"), &h.kind)? {
                    m.insert("type".into(), json!(t));
                }
                vol.insert("hostPath".into(), Value::Object(m));
                sources += 1;
            }
            if sources != 1 {
                return Err(self.err(&field, "a volume needs exactly one of configMap, secret, emptyDir, persistentVolumeClaim or hostPath"));
            }
            volumes.push(Value::Object(vol));
        }
        if !volumes.is_empty() {
            spec.insert("volumes".into(), Value::Array(volumes));
        }
        Ok(Value::Object(spec))
    }

    /// Pod template labels: the entry's labels plus the workload selector labels.
    fn pod_labels(&mut self, common: &EntryCommon, selector: &Map<String, Value>) -> R<Map<String, Value>> {
        let mut labels = self.map("labels", &common.labels)?;
        labels.extend(selector.clone());
        Ok(labels)
    }

    fn selector(&self, workload: &str) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert(super::LABEL_OWNER.into(), json!(label_value(&self.owner.name)));
        m.insert(super::LABEL_WORKLOAD.into(), json!(label_value(workload)));
        m
    }

    fn port(&mut self, port: &Option<Str>, proto: &Option<Str>) -> R<Option<(Value, String)>> {
        let Some(p) = self.int("port", port)? else { return Ok(None) };
        if !(1..=65535).contains(&p) {
            return Err(self.err("port", format!("port {p} is outside 1-65535")));
        }
        Ok(Some((json!(p), protocol(self.s("protocol", proto)?.as_deref()))))
    }

    fn rolling_update(&mut self, r: &RollingUpdate) -> R<Value> {
        if let Some(p) = &r.profile {
            return self.profile(ProfileClass::RollingUpdate, "rollingUpdate.profile", p);
        }
        let mut out = Map::new();
        if let Some(v) = self.int_or_str("rollingUpdate.maxSurge", &r.max_surge)? {
            out.insert("maxSurge".into(), v);
        }
        if let Some(v) = self.int_or_str("rollingUpdate.maxUnavailable", &r.max_unavailable)? {
            out.insert("maxUnavailable".into(), v);
        }
        Ok(Value::Object(out))
    }
}

fn non_empty(v: &Value) -> bool {
    v.as_object().is_some_and(|m| !m.is_empty())
}

/// "8080" → 8080, "http" / "25%" → string.
fn int_or_string(t: &str) -> Value {
    t.trim().parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::String(t.to_string()))
}

fn protocol(p: Option<&str>) -> String {
    p.map(|p| p.to_ascii_uppercase()).unwrap_or_else(|| "TCP".into())
}

/// Container names are DNS labels; a workload name that is not one falls back to `app`.
fn container_name(name: &str) -> String {
    if crate::model::katalog::is_dns_label(name) { name.to_string() } else { "app".to_string() }
}

// ---------------------------------------------------------------------------------------------
// Kinds.

fn deployment(c: &mut Ctx<'_, '_>, e: &Deployment) -> R<Value> {
    let (name, _, meta) = c.meta(&e.common, true)?;
    let image = c.required("image", &e.container.image)?;
    let port = c.port(&e.port, &e.protocol)?;
    let container = c.container(&name, image, &e.container, port, e.probes.as_ref(), &e.working_directory, Vec::new())?;
    let selector = c.selector(&name);
    let pod = c.pod_spec(&e.pod, &e.container, container, None)?;
    let replicas = c.int_or("replicas", &e.replicas, 1)?;
    if replicas < 0 {
        return Err(c.err("replicas", format!("replicas must not be negative, got {replicas}")));
    }
    let labels = c.pod_labels(&e.common, &selector)?;
    let mut spec = json!({
        "replicas": replicas,
        "selector": {"matchLabels": selector},
        "template": {"metadata": {"labels": labels}, "spec": pod},
    });
    if let Some(r) = &e.rolling_update {
        spec["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": c.rolling_update(r)?});
    }
    Ok(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec}))
}

fn stateful_set(c: &mut Ctx<'_, '_>, e: &StatefulSet) -> R<Value> {
    let (name, _, meta) = c.meta(&e.common, true)?;
    let mut image = c.required("image", &e.container.image)?;
    let last = image.rsplit('/').next().unwrap_or_default();
    if !last.contains(':') && !last.contains('@') {
        image = format!("{image}:{}", c.s_or("tag", &e.tag, "latest")?);
    }
    let mut claims = Vec::new();
    let mut mounts = Vec::new();
    for (i, v) in e.volume_claim_templates.iter().enumerate() {
        let field = format!("volumeClaimTemplates[{i}]");
        let claim = c.s_or(&format!("{field}.name"), &v.name, "data")?;
        let mut spec = Map::new();
        let modes = if v.access_modes.is_empty() { vec![json!("ReadWriteOnce")] } else { c.list(&format!("{field}.accessModes"), &v.access_modes)? };
        spec.insert("accessModes".into(), Value::Array(modes));
        if let Some(sc) = c.s(&format!("{field}.storageClass"), &v.storage_class)? {
            spec.insert("storageClassName".into(), json!(sc));
        }
        spec.insert("resources".into(), json!({"requests": {"storage": c.s_or(&format!("{field}.storageSize"), &v.storage_size, "1Gi")?}}));
        claims.push(json!({"metadata": {"name": claim}, "spec": spec}));
        mounts.push(json!({"name": claim, "mountPath": c.s_or(&format!("{field}.mountPath"), &v.mount_path, "/data")?}));
    }
    let port = c.port(&e.port, &e.protocol)?;
    let container = c.container(&name, image, &e.container, port, e.probes.as_ref(), &None, mounts)?;
    let selector = c.selector(&name);
    let pod = c.pod_spec(&e.pod, &e.container, container, None)?;
    let labels = c.pod_labels(&e.common, &selector)?;
    let mut spec = json!({
        "replicas": c.int_or("replicas", &e.replicas, 1)?,
        "serviceName": c.s_or("serviceName", &e.service_name, &name)?,
        "selector": {"matchLabels": selector},
        "template": {"metadata": {"labels": labels}, "spec": pod},
    });
    if !claims.is_empty() {
        spec["volumeClaimTemplates"] = Value::Array(claims);
    }
    if let Some(r) = &e.rolling_update {
        // StatefulSets take maxUnavailable only.
        let ru = c.rolling_update(r)?;
        if let Some(mu) = ru.get("maxUnavailable") {
            spec["updateStrategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": mu}});
        }
    }
    Ok(json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta, "spec": spec}))
}

fn job_template(c: &mut Ctx<'_, '_>, name: &str, common: &EntryCommon, cf: &ContainerFields, pf: &PodFields, wd: &Option<Str>) -> R<Value> {
    let image = c.required("image", &cf.image)?;
    let container = c.container(name, image, cf, None, None, wd, Vec::new())?;
    let pod = c.pod_spec(pf, cf, container, Some("Never"))?;
    let labels = c.map("labels", &common.labels)?;
    Ok(json!({"metadata": {"labels": labels}, "spec": pod}))
}

fn job(c: &mut Ctx<'_, '_>, e: &Job) -> R<Value> {
    let (name, _, meta) = c.meta(&e.common, true)?;
    let template = job_template(c, &name, &e.common, &e.container, &e.pod, &e.working_directory)?;
    let backoff = c.int_or("backoffLimit", &e.backoff_limit, 3)?;
    Ok(json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
        "spec": {"backoffLimit": backoff, "template": template}}))
}

fn cron_job(c: &mut Ctx<'_, '_>, e: &CronJob) -> R<Value> {
    let (name, _, meta) = c.meta(&e.common, true)?;
    let template = job_template(c, &name, &e.common, &e.container, &e.pod, &e.working_directory)?;
    let policy = match c.s_or("concurrencyPolicy", &e.concurrency_policy, "allow")?.to_ascii_lowercase().as_str() {
        "allow" => "Allow",
        "forbid" => "Forbid",
        "replace" => "Replace",
        other => return Err(c.err("concurrencyPolicy", format!("{other:?} is not allow, forbid or replace"))),
    };
    let mut spec = json!({
        "schedule": c.required("schedule", &e.schedule)?,
        "suspend": c.bool_or("suspend", &e.suspend, false)?,
        "concurrencyPolicy": policy,
        "successfulJobsHistoryLimit": c.int_or("successfulJobsHistoryLimit", &e.successful_jobs_history_limit, 3)?,
        "failedJobsHistoryLimit": c.int_or("failedJobsHistoryLimit", &e.failed_jobs_history_limit, 1)?,
        "jobTemplate": {"spec": {"template": template}},
    });
    if let Some(d) = c.int("startingDeadlineSeconds", &e.starting_deadline_seconds)? {
        spec["startingDeadlineSeconds"] = json!(d);
    }
    Ok(json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta, "spec": spec}))
}

fn service(c: &mut Ctx<'_, '_>, e: &Service) -> R<Value> {
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
        m.insert(super::LABEL_OWNER.into(), json!(label_value(c.cr_name())));
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

fn config_map(c: &mut Ctx<'_, '_>, e: &ConfigMap) -> R<Value> {
    if e.from_config_map.is_some() || !e.replication.to_namespaces.is_empty() {
        return Err(c.err("fromConfigMap", "copying or replicating ConfigMaps across namespaces is not supported by ork yet"));
    }
    let (_, _, meta) = c.meta(&e.common, true)?;
    let data = c.map("data", &e.data)?;
    Ok(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}))
}

fn secret(c: &mut Ctx<'_, '_>, e: &Secret) -> R<Value> {
    if e.from_secret.is_some() || !e.replication.to_namespaces.is_empty() {
        return Err(c.err("fromSecret", "copying or replicating Secrets across namespaces is not supported by ork yet"));
    }
    let (_, _, mut meta) = c.meta(&e.common, true)?;
    if e.common.once == Some(true) && e.rotate_after.is_some() {
        let now = crate::time::format_rfc3339(c.ev.now());
        meta["annotations"]["orkestra.orkspace.io/generated-at"] = json!(now);
    }
    let data = c.map("data", &e.data)?;
    let encoded: Map<String, Value> = data.into_iter().map(|(k, v)| (k, json!(crate::template::base64_encode(to_text(&v).as_bytes())))).collect();
    let kind = c.s_or("type", &e.kind, "Opaque")?;
    Ok(json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta, "type": kind, "data": encoded}))
}

fn ingress(c: &mut Ctx<'_, '_>, e: &Ingress) -> R<Value> {
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

fn plain(c: &mut Ctx<'_, '_>, common: &EntryCommon, api_version: &str, kind: &str) -> R<Value> {
    let (_, _, meta) = c.meta(common, kind != "Namespace")?;
    Ok(json!({"apiVersion": api_version, "kind": kind, "metadata": meta}))
}

fn role(c: &mut Ctx<'_, '_>, e: &Role, kind: &str) -> R<Value> {
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

fn role_binding(c: &mut Ctx<'_, '_>, e: &RoleBinding, kind: &str) -> R<Value> {
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

fn network_policy(c: &mut Ctx<'_, '_>, e: &NetworkPolicy) -> R<Value> {
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

fn resource_quota(c: &mut Ctx<'_, '_>, e: &ResourceQuota) -> R<Value> {
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

fn limit_range(c: &mut Ctx<'_, '_>, e: &LimitRange) -> R<Value> {
    let (_, _, meta) = c.meta(&e.common, true)?;
    let spec = match &e.profile {
        Some(p) => c.profile(ProfileClass::LimitRanges, "profile", p)?,
        None => json!({"limits": c.limit_items(&e.limits)?}),
    };
    Ok(json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": meta, "spec": spec}))
}

fn pdb(c: &mut Ctx<'_, '_>, e: &Pdb) -> R<Value> {
    let (_, _, meta) = c.meta(&e.common, true)?;
    let selector = if e.selector.is_empty() {
        let mut m = Map::new();
        m.insert(super::LABEL_OWNER.into(), json!(label_value(c.cr_name())));
        m
    } else {
        c.map("selector", &e.selector)?
    };
    let mut spec = match e.behavior.as_ref().and_then(|b| b.profile.as_ref()) {
        Some(p) => c.profile(ProfileClass::Pdb, "behavior.profile", p)?,
        None => json!({}),
    };
    if let Some(v) = c.int_or_str("minAvailable", &e.min_available)? {
        spec["minAvailable"] = v;
    }
    if let Some(v) = c.int_or_str("maxUnavailable", &e.max_unavailable)? {
        spec["maxUnavailable"] = v;
    }
    if spec.get("minAvailable").is_some() && spec.get("maxUnavailable").is_some() {
        return Err(c.err("minAvailable", "a PodDisruptionBudget takes minAvailable or maxUnavailable, not both"));
    }
    spec["selector"] = json!({"matchLabels": selector});
    Ok(json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta, "spec": spec}))
}

fn hpa(c: &mut Ctx<'_, '_>, e: &Hpa) -> R<Value> {
    let (_, _, meta) = c.meta(&e.common, true)?;
    let profile = match e.behavior.as_ref().and_then(|b| b.profile.as_ref()) {
        Some(p) => c.profile(ProfileClass::Hpa, "behavior.profile", p)?,
        None => json!({}),
    };
    let target = e.scale_target_ref.clone().unwrap_or_default();
    let default_target = format!("{}-deployment", c.cr_name());
    let scale_target = json!({
        "apiVersion": c.s_or("scaleTargetRef.apiVersion", &target.api_version, "apps/v1")?,
        "kind": c.s_or("scaleTargetRef.kind", &target.kind, "Deployment")?,
        "name": c.s_or("scaleTargetRef.name", &target.name, &default_target)?,
    });
    let min = c.int("minReplicas", &e.min_replicas)?.or_else(|| profile.get("minReplicas").and_then(Value::as_i64)).unwrap_or(1);
    let max = c
        .int("maxReplicas", &e.max_replicas)?
        .or_else(|| profile.get("maxReplicas").and_then(Value::as_i64))
        .ok_or_else(|| c.err("maxReplicas", "`maxReplicas` is required for hpa entries"))?;
    if max < min {
        return Err(c.err("maxReplicas", format!("maxReplicas ({max}) is below minReplicas ({min})")));
    }
    let cpu = c
        .int("targetCPUUtilizationPercentage", &e.target_cpu_utilization_percentage)?
        .or_else(|| profile.get("targetCPUUtilizationPercentage").and_then(Value::as_i64))
        .unwrap_or(80);
    let mut spec = json!({
        "scaleTargetRef": scale_target,
        "minReplicas": min,
        "maxReplicas": max,
        "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": cpu}}}],
    });
    let explicit = match &e.behavior {
        Some(b) if b.scale_up.is_some() || b.scale_down.is_some() => Some(c.behavior_rules(b)?),
        _ => None,
    };
    if let Some(b) = explicit.or_else(|| profile.get("behavior").cloned()) {
        spec["behavior"] = b;
    }
    Ok(json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta, "spec": spec}))
}

fn pvc(c: &mut Ctx<'_, '_>, e: &Pvc) -> R<Value> {
    let (_, _, meta) = c.meta(&e.common, true)?;
    let modes = if e.access_modes.is_empty() { vec![json!("ReadWriteOnce")] } else { c.list("accessModes", &e.access_modes)? };
    let mut spec = json!({"accessModes": modes, "resources": {"requests": {"storage": c.required("storage", &e.storage)?}}});
    for (key, v) in [("storageClassName", &e.storage_class_name), ("volumeMode", &e.volume_mode), ("volumeName", &e.volume_name)] {
        if let Some(t) = c.s(key, v)? {
            spec[key] = json!(t);
        }
    }
    Ok(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta, "spec": spec}))
}

/// Renders every string inside a free-form value (custom specs).
fn render_tree(c: &mut Ctx<'_, '_>, field: &str, v: Value) -> R<Value> {
    Ok(match v {
        Value::String(s) => Value::String(c.ev.text(&s, c.data).map_err(|e| c.err(field, e))?),
        Value::Array(items) => Value::Array(items.into_iter().enumerate().map(|(i, it)| render_tree(c, &format!("{field}[{i}]"), it)).collect::<R<_>>()?),
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, it) in m {
                let rendered = render_tree(c, &format!("{field}.{k}"), it)?;
                out.insert(k, rendered);
            }
            Value::Object(out)
        }
        other => other,
    })
}

fn custom(c: &mut Ctx<'_, '_>, e: &Custom) -> R<Value> {
    let k = &e.known;
    let api_version = c.required("apiVersion", &k.api_version)?;
    let kind = c.required("kind", &k.kind)?;
    let Some(md) = &k.metadata else { return Err(c.err("metadata", "`metadata.name` is required for custom entries")) };
    let common = EntryCommon {
        name: md.name.clone(),
        namespace: md.namespace.clone(),
        labels: YMap(k.common.labels.0.iter().chain(md.labels.0.iter()).cloned().collect()),
        annotations: YMap(k.common.annotations.0.iter().chain(md.annotations.0.iter()).cloned().collect()),
        ..EntryCommon::default()
    };
    let namespaced = md.namespaced != Some(false);
    let (_, _, meta) = c.meta(&common, namespaced)?;
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), json!(api_version));
    obj.insert("kind".into(), json!(kind));
    obj.insert("metadata".into(), meta);
    if let Some(spec) = &k.spec {
        obj.insert("spec".into(), render_tree(c, "spec", spec.to_json())?);
    }
    for (key, node) in &e.extra {
        let rendered = render_tree(c, &key.value, node.to_json())?;
        obj.insert(key.value.clone(), rendered);
    }
    Ok(Value::Object(obj))
}
