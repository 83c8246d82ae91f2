//! The deletion path (runtime-and-gateway.md §1.13): onDelete (cleanup Jobs run and awaited,
//! other entries deleted; ordered groups one after another, each awaited, within `timeout`),
//! then cluster-scoped children (which owner references cannot cascade to), then the
//! finalizers go.

use super::children::owned_by;
use super::{Ctx, Outcome, ReconcileError, Reconciler, meta_str};
use crate::cluster::{Cluster, Patch, Propagation};
use katalog::model::ChildKind;
use katalog::render::{ANNOTATION_ENTRY, Block, Request, render};
use katalog::time::parse_rfc3339;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

/// How often an ordered deletion or a cleanup Job is checked again.
const POLL: Duration = Duration::from_secs(3);
/// The default `onDelete.timeout`.
const DEFAULT_TIMEOUT: f64 = 300.0;

fn job_finished(job: &Value) -> bool {
    let n = |p: &str| job.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    let cond = job.pointer("/status/conditions").and_then(Value::as_array).is_some_and(|cs| {
        cs.iter()
            .any(|c| matches!(c.get("type").and_then(Value::as_str), Some("Complete" | "Failed")) && c.get("status").and_then(Value::as_str) == Some("True"))
    });
    cond || n("/status/succeeded") > 0 || n("/status/failed") > 0
}

/// For each entry of onCreate/onReconcile (by source path, as children name it in their
/// `orkestra.orkspace.io/entry` annotation), when its children go: 0 first. An entry that others
/// `dependsOn` goes after all of them (reverse creation order); entries outside every `dependsOn`
/// are not ordered (`None`: the garbage collector removes them with the CR).
fn deletion_ranks(entry: &katalog::model::CrdEntry) -> BTreeMap<String, usize> {
    let Some(r) = entry.reconcile().filter(|_| entry.orders_children()) else { return BTreeMap::new() };
    let mut entries: Vec<(String, Option<String>, Vec<String>)> = Vec::new();
    for (key, block) in [("onCreate", &r.on_create), ("onReconcile", &r.on_reconcile)] {
        for (_, _, source, common) in block.iter().flat_map(|b| b.indexed_entries(key)) {
            entries.push((source, common.id.as_ref().map(|i| i.value.clone()), common.depends_on.iter().map(|d| d.value.clone()).collect()));
        }
    }
    // rank(e) = 0 when nothing depends on e, else 1 + the highest rank of its dependents
    // (validation refuses cycles; the bound guards against one anyway).
    let mut rank: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..=entries.len() {
        for (source, id, deps) in &entries {
            let mine = match id {
                Some(id) => entries.iter().filter(|(_, _, d)| d.contains(id)).filter_map(|(s, _, _)| rank.get(s).map(|r| r + 1)).max().unwrap_or(0),
                None => 0,
            };
            if id.is_some() || !deps.is_empty() {
                rank.insert(source.clone(), mine);
            }
        }
    }
    rank
}

impl Reconciler<'_> {
    /// Deletes the CR's children in the reverse order of `dependsOn`: a rank's children go (in
    /// the foreground) before the next rank's are touched. True while some are still there.
    async fn delete_in_dependency_order<C: Cluster>(&self, cluster: &C, cr: &Value) -> Result<bool, ReconcileError> {
        let ranks = deletion_ranks(self.entry);
        if ranks.is_empty() {
            return Ok(false);
        }
        let annotation = format!("/metadata/annotations/{}", ANNOTATION_ENTRY.replace('/', "~1"));
        let owned = self.owned_children(cluster, cr).await?;
        let Some(top) = ranks.values().max().copied() else { return Ok(false) };
        for level in 0..=top {
            let mut waiting = false;
            for (r, obj) in &owned {
                let Some(rank) = obj.pointer(&annotation).and_then(Value::as_str).and_then(|e| ranks.get(e)) else { continue };
                if *rank != level {
                    continue;
                }
                waiting = true;
                if obj.pointer("/metadata/deletionTimestamp").is_none_or(Value::is_null) {
                    let (ns, name) = (meta_str(obj, "namespace").filter(|_| r.namespaced), meta_str(obj, "name").unwrap_or_default());
                    match cluster.delete(r, ns, name, Propagation::Foreground).await {
                        Ok(()) => {}
                        Err(e) if e.is_not_found() => {}
                        Err(e) => return Err(ReconcileError::cluster(&format!("delete {} {name} (dependsOn order)", r.plural), e)),
                    }
                }
            }
            if waiting {
                return Ok(true);
            }
        }
        Ok(false)
    }

    pub(super) async fn finalize<C: Cluster>(&self, cluster: &C, cr: &Value, ctx: &Ctx) -> Result<Outcome, ReconcileError> {
        let fins: Vec<&str> =
            cr.pointer("/metadata/finalizers").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        if !fins.iter().any(|f| self.finalizers.iter().any(|m| m == f)) {
            return Ok(Outcome::Done);
        }
        let (ns, name) = (meta_str(cr, "namespace").filter(|n| !n.is_empty()), meta_str(cr, "name").unwrap_or_default());
        let on_delete = self.entry.reconcile().and_then(|r| r.on_delete.as_ref());
        if let Some(block) = on_delete {
            let ordered = block.ordered == Some(true);
            let timeout = block.timeout.as_ref().and_then(|t| katalog::duration::parse_duration(t)).unwrap_or(DEFAULT_TIMEOUT);
            let since = meta_str(cr, "deletionTimestamp").and_then(|t| parse_rfc3339(t).ok()).unwrap_or(ctx.now);
            if (ctx.now - since) as f64 > timeout {
                let message = format!("crd `{}`: onDelete did not finish within {timeout}s; the CR keeps its finalizer", self.crd);
                self.event(cluster, cr, "Warning", &format!("{}DeleteTimeout", self.own.kind), "Delete", &message, ctx).await;
                return Err(ReconcileError::retry(message));
            }
            let req = Request { crd: &self.crd, cr, observed: &[], others: &[], now: ctx.now, rng: ctx.rng.clone(), cross: &Value::Null };
            let rendered = render(self.katalog, self.templates, req).map_err(|e| ReconcileError::retry(e.to_string()))?;
            let mut groups: Vec<usize> = rendered.children.iter().filter(|c| c.block == Block::OnDelete).filter_map(|c| c.group).collect();
            groups.sort_unstable();
            groups.dedup();
            let mut pending = false;
            for g in groups {
                for child in rendered.children.iter().filter(|c| c.block == Block::OnDelete && c.group == Some(g)) {
                    let Some(r) = self.delete_resources.iter().find(|r| r.kind == child.manifest["kind"].as_str().unwrap_or_default()).cloned() else {
                        continue;
                    };
                    let cns = meta_str(&child.manifest, "namespace").filter(|_| r.namespaced);
                    let cname = meta_str(&child.manifest, "name").unwrap_or_default();
                    if child.kind == ChildKind::Job {
                        // Cleanup Jobs outlive the CR: no owner reference.
                        match cluster.get(&r, cns, cname).await {
                            Ok(job) if job_finished(&job) => {}
                            Ok(_) => pending = true,
                            Err(e) if e.is_not_found() => {
                                let mut job = child.manifest.clone();
                                if let Some(m) = job.get_mut("metadata").and_then(Value::as_object_mut) {
                                    m.remove("ownerReferences");
                                }
                                cluster.create(&r, cns, &job).await.map_err(|e| ReconcileError::cluster(&format!("{}: create", child.source), e))?;
                                pending = true;
                            }
                            Err(e) => return Err(e.into()),
                        }
                        continue;
                    }
                    match cluster.get(&r, cns, cname).await {
                        Ok(obj) => {
                            if obj.pointer("/metadata/deletionTimestamp").is_none_or(Value::is_null) {
                                let propagation = if ordered { Propagation::Foreground } else { Propagation::Background };
                                match cluster.delete(&r, cns, cname, propagation).await {
                                    Ok(()) => {}
                                    Err(e) if e.is_not_found() => continue,
                                    Err(e) => return Err(ReconcileError::cluster(&format!("{}: delete", child.source), e)),
                                }
                            }
                            // Ordered groups wait until the object is gone; a flat block does not.
                            if ordered && cluster.get(&r, cns, cname).await.is_ok() {
                                pending = true;
                            }
                        }
                        Err(e) if e.is_not_found() => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                if pending && ordered {
                    return Ok(Outcome::RequeueAfter(POLL));
                }
            }
            if pending {
                return Ok(Outcome::RequeueAfter(POLL));
            }
        }
        if self.delete_in_dependency_order(cluster, cr).await? {
            return Ok(Outcome::RequeueAfter(POLL));
        }
        // Cluster-scoped children: nothing else deletes them.
        for (r, obj) in self.owned_children(cluster, cr).await? {
            if !r.namespaced && owned_by(&obj, cr) && obj.pointer("/metadata/deletionTimestamp").is_none_or(Value::is_null) {
                let n = meta_str(&obj, "name").unwrap_or_default();
                match cluster.delete(&r, None, n, Propagation::Background).await {
                    Ok(()) => {}
                    Err(e) if e.is_not_found() => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let kept: Vec<&str> = fins.iter().copied().filter(|f| !self.finalizers.iter().any(|m| m == f)).collect();
        cluster.patch(&self.own, ns, name, &Patch::Merge(json!({"metadata": {"finalizers": kept}}))).await?;
        self.event(cluster, cr, "Normal", &format!("{}Deleted", self.own.kind), "Delete", "cleanup finished; finalizers removed", ctx).await;
        Ok(Outcome::Done)
    }
}
