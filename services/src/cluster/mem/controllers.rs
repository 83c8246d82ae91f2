//! The controllers `MemCluster` runs itself: the garbage collector (owner references:
//! background, foreground, orphan; a dependent created when its owners are already gone is
//! deleted at once), the namespace lifecycle, and — on demand, as kubelet and the
//! workload controllers would — workloads becoming ready and Jobs completing.

use super::{FOREGROUND, Gr, Key, MemCluster, Store, deleting, finalizers, meta, meta_mut, owner_uids};
use crate::cluster::Propagation;
use serde_json::{Value, json};
use std::collections::BTreeSet;

impl Store {
    fn all_uids(&self) -> BTreeSet<String> {
        self.objects.values().flat_map(|m| m.values()).filter_map(|o| meta(o, "uid")).collect()
    }

    /// Whether `obj` (to be stored in namespace `ns`, "" when cluster-scoped) names owners and
    /// none of them exists: no object of the owner's kind and name (in `ns`, or cluster-scoped)
    /// has its uid. kube-controller-manager's garbage collector deletes such a dependent
    /// whenever it is created — a controller that re-creates a child from a stale copy of an
    /// owner deleted meanwhile leaves no garbage behind on a real cluster.
    pub(super) fn orphaned(&self, obj: &Value, ns: &str) -> bool {
        let Some(refs) = obj.pointer("/metadata/ownerReferences").and_then(Value::as_array).filter(|r| !r.is_empty()) else { return false };
        refs.iter().all(|r| {
            let field = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default();
            // An owner of a kind the cluster does not serve is not known to be gone (the
            // collector cannot look it up, and leaves the dependent).
            let Some((gr, kind)) = self.kind_for(field("apiVersion"), field("kind")) else { return false };
            let key = (if kind.res.namespaced { ns.to_string() } else { String::new() }, field("name").to_string());
            self.get(gr, &key).is_none_or(|owner| meta(owner, "uid").as_deref() != Some(field("uid")))
        })
    }

    /// Objects whose ownerReferences name `uid`.
    fn dependents(&self, uid: &str) -> Vec<(Gr, Key, bool)> {
        let mut out = Vec::new();
        for (gr, objs) in &self.objects {
            for (key, o) in objs {
                if let Some((_, block)) = owner_uids(o).into_iter().find(|(u, _)| u == uid) {
                    out.push((gr.clone(), key.clone(), block));
                }
            }
        }
        out
    }

    /// Deletes or marks one object (no op recorded: used by clients and by the collector).
    pub(super) fn delete_object(&mut self, gr: &Gr, key: &Key, propagation: Propagation, now: &str) {
        let Some(obj) = self.get(gr, key).cloned() else { return };
        if deleting(&obj) {
            return;
        }
        let uid = meta(&obj, "uid").unwrap_or_default();
        let is_namespace = gr.0.is_empty() && gr.1 == "namespaces";
        let mut fins = finalizers(&obj);
        match propagation {
            Propagation::Foreground if !self.dependents(&uid).is_empty() => fins.push(FOREGROUND.into()),
            Propagation::Orphan => {
                for (dgr, dkey, _) in self.dependents(&uid) {
                    if let Some(mut d) = self.get(&dgr, &dkey).cloned() {
                        if let Some(Value::Array(refs)) = d.pointer_mut("/metadata/ownerReferences") {
                            refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid.as_str()));
                        }
                        self.put(&dgr, dkey, d, false);
                    }
                }
            }
            _ => {}
        }
        if fins.is_empty() && !is_namespace {
            self.remove(gr, key);
            return;
        }
        let mut marked = obj;
        let m = meta_mut(&mut marked);
        m.insert("deletionTimestamp".into(), json!(now));
        m.insert("deletionGracePeriodSeconds".into(), json!(0));
        if !fins.is_empty() {
            m.insert("finalizers".into(), json!(fins));
        }
        if is_namespace {
            marked["status"] = json!({"phase": "Terminating"});
        }
        self.put(gr, key.clone(), marked, false);
    }

    /// The garbage collector and (unless deferred to [`MemCluster::settle`]) the namespace
    /// lifecycle, run to a fixed point.
    pub(super) fn collect(&mut self, now: &str) {
        self.collect_with(now, false);
    }

    /// [`Store::collect`], with the namespace lifecycle when `finalizing` or not deferred.
    pub(super) fn collect_with(&mut self, now: &str, finalizing: bool) {
        loop {
            let mut changed = false;
            let uids = self.all_uids();
            // Only objects being deleted and dependents whose owners are all gone have
            // anything to collect: the rest are not copied.
            let dangling = |o: &Value| {
                let owners = owner_uids(o);
                !owners.is_empty() && owners.iter().all(|(u, _)| !uids.contains(u))
            };
            let candidates: Vec<(Gr, Key)> = self
                .objects
                .iter()
                .flat_map(|(gr, m)| m.iter().filter(|(_, o)| deleting(o) || dangling(o)).map(move |(k, _)| (gr.clone(), k.clone())))
                .collect();
            for (gr, key) in candidates {
                let Some(obj) = self.get(&gr, &key).cloned() else { continue };
                // Dependents whose owners are all gone.
                if !deleting(&obj) {
                    self.delete_object(&gr, &key, Propagation::Background, now);
                    changed = true;
                    continue;
                }
                let uid = meta(&obj, "uid").unwrap_or_default();
                let mut fins = finalizers(&obj);
                if fins.iter().any(|f| f == FOREGROUND) {
                    let deps = self.dependents(&uid);
                    for (dgr, dkey, _) in &deps {
                        if self.get(dgr, dkey).is_some_and(|d| !deleting(d)) {
                            self.delete_object(dgr, dkey, Propagation::Foreground, now);
                            changed = true;
                        }
                    }
                    if self.dependents(&uid).iter().all(|(_, _, block)| !block) {
                        fins.retain(|f| f != FOREGROUND);
                        let mut o = obj.clone();
                        meta_mut(&mut o).insert("finalizers".into(), json!(fins));
                        if fins.is_empty() {
                            self.remove(&gr, &key);
                        } else {
                            self.put(&gr, key.clone(), o, false);
                        }
                        changed = true;
                    }
                }
                if gr.0.is_empty() && gr.1 == "namespaces" && (!self.namespaces_later || finalizing) {
                    let ns = key.1.clone();
                    let inside: Vec<(Gr, Key)> =
                        self.objects.iter().flat_map(|(g, m)| m.keys().filter(|k| k.0 == ns).map(move |k| (g.clone(), k.clone()))).collect();
                    for (g, k) in &inside {
                        if self.get(g, k).is_some_and(|o| !deleting(o)) {
                            self.delete_object(g, k, Propagation::Background, now);
                            changed = true;
                        }
                    }
                    let empty = self.objects.values().all(|m| m.keys().all(|k| k.0 != ns));
                    if empty && finalizers(&obj).is_empty() {
                        self.remove(&gr, &key);
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
    }
}

impl MemCluster {
    /// Plays the workload controllers and kubelet once: every Deployment and StatefulSet
    /// reports its desired replicas ready and available, every Job without a result completes;
    /// with [`MemCluster::finalize_namespaces_later`], deleted namespaces are emptied and
    /// removed (the namespace controller). Writes only what changes (not recorded as client requests). Returns how many objects
    /// changed.
    pub fn settle(&self) -> usize {
        let now = self.now();
        let mut s = self.store();
        let mut changed = 0;
        if s.namespaces_later && s.collect_pending {
            let before = s.objects.values().map(|m| m.len()).sum::<usize>();
            s.collect_with(&now, true);
            changed += before.abs_diff(s.objects.values().map(|m| m.len()).sum::<usize>());
            // Objects still held (finalizers, a namespace not empty yet) are looked at again.
            s.collect_pending = s.objects.values().any(|m| m.values().any(deleting));
        }
        // Only the workloads written since the last tick can need a new status.
        let pending = std::mem::take(&mut s.unsettled);
        let mut updates: Vec<(Gr, Key, Value)> = Vec::new();
        for (gr, key) in pending {
            let Some(obj) = s.get(&gr, &key) else { continue };
            if deleting(obj) {
                continue;
            }
            let status = if gr.1 == "jobs" {
                let done = obj.pointer("/status/succeeded").is_some() || obj.pointer("/status/failed").is_some();
                if done {
                    continue;
                }
                json!({"active": 0, "succeeded": 1, "startTime": now, "completionTime": now,
                       "conditions": [{"type": "Complete", "status": "True", "lastTransitionTime": now}]})
            } else {
                let replicas = obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
                let generation = obj.pointer("/metadata/generation").cloned().unwrap_or(json!(1));
                let mut st = json!({"observedGeneration": generation, "replicas": replicas, "readyReplicas": replicas,
                                    "availableReplicas": replicas, "updatedReplicas": replicas});
                if gr.1 == "deployments" {
                    st["conditions"] = json!([{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}]);
                }
                let same = obj.get("status").is_some_and(|cur| {
                    st.as_object().is_some_and(|m| m.iter().all(|(k, v)| cur.get(k) == Some(v) || k == "conditions" && cur.get(k).is_some()))
                });
                if same {
                    continue;
                }
                st
            };
            updates.push((gr, key, status));
        }
        for (gr, key, status) in updates {
            let Some(mut o) = s.get(&gr, &key).cloned() else { continue };
            o["status"] = status;
            s.put(&gr, key.clone(), o, false);
            // Its own write needs no second look.
            s.unsettled.remove(&(gr, key));
            changed += 1;
        }
        changed
    }
}
