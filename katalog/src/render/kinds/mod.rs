//! One function per child kind: resource entry → Kubernetes manifest.
//!
//! This module walks a lifecycle block (gates, `forEach`, replication, the onDelete reference
//! form) and hands each entry to its kind's builder. The builders live by family — `workloads`,
//! `network`, `access`, `data`, `custom` — on top of the pod template builder (`pod`), named
//! profiles (`profiles`) and typed field rendering (`fields`).

mod access;
mod custom;
mod data;
mod fields;
mod network;
mod pod;
mod profiles;
mod workloads;

use access::{limit_range, plain, resource_quota, role, role_binding};
use custom::custom;
use data::{config_map, pvc, secret};
use network::{ingress, network_policy, service};
use workloads::{cron_job, deployment, hpa, job, pdb, stateful_set};

use super::meta::Owner;
use super::{Block, Child, RenderError, RenderFailure};
use crate::model::katalog::Katalog;
use crate::model::resources::*;
use crate::rules::Evaluator;
use crate::template::value::to_text;
use serde_json::{Value, json};
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
    /// Set by a builder whose entry rotates (`secrets[].rotateAfter`).
    rotate_after: Option<std::time::Duration>,
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
            let mut c =
                Ctx { ev: self.ev, katalog: self.katalog, data: &item_data, owner: self.owner, crd: self.crd, source: &source, kind, rotate_after: None };
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
            let rotate_after = c.rotate_after;
            if let Some(Value::Object(m)) = manifest.get_mut("metadata") {
                let annotations = m.entry("annotations").or_insert_with(|| json!({}));
                if let Value::Object(a) = annotations {
                    a.insert(super::meta::ANNOTATION_ENTRY.into(), json!(entry_source));
                }
            }
            super::invalid::check(self.crd, &source, &manifest, false)?;
            let once = common.once.unwrap_or(false) && blk == Block::OnCreate && common.reconcile != Some(true);
            let drift_correct = blk == Block::OnReconcile || common.reconcile == Some(true);
            let rotate_after = rotate_after.filter(|_| once);
            if rotate_after.is_none()
                && let Some(Value::Object(a)) = manifest.pointer_mut("/metadata/annotations")
            {
                // A drift-corrected Secret does not rotate; a stamp that changes every render
                // would rewrite it every reconcile.
                a.remove(super::ANNOTATION_GENERATED_AT);
            }
            self.children.push(Child {
                block: blk,
                kind,
                source,
                drift_correct,
                once,
                rotate_after,
                group,
                manifest,
                force_conflict: common.force_conflict,
                id: common.id.as_ref().map(|i| i.value.clone()),
                depends_on: common.depends_on.iter().map(|d| d.value.clone()).collect(),
                ready_when: common.ready_when.clone(),
                waiting_for: Vec::new(),
            });
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
