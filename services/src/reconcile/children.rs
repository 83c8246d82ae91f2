//! Reading the CR's children and bringing them to what was rendered.

use super::{ReconcileError, Reconciler, meta_str};
use crate::cluster::{ApiResource, Cluster, ClusterError, FIELD_MANAGER, FieldConflict, ListParams, Patch, Propagation};
use katalog::model::ChildKind;
use katalog::render::{ANNOTATION_ENTRY, Block, Child, LABEL_OWNER, LABEL_OWNER_NAMESPACE, label_value};
use serde_json::Value;
use std::collections::BTreeSet;

/// (group, plural, namespace, name) of an object.
pub(super) type ObjKey = (String, String, String, String);

fn key(r: &ApiResource, obj: &Value) -> ObjKey {
    let s = |f: &str| meta_str(obj, f).unwrap_or_default().to_string();
    (r.group.clone(), r.plural.clone(), if r.namespaced { s("namespace") } else { String::new() }, s("name"))
}

/// Whether `obj` belongs to `cr`: an ownerReference to its uid, or (for children that cannot
/// carry one) the owner labels naming it.
pub(super) fn owned_by(obj: &Value, cr: &Value) -> bool {
    let uid = meta_str(cr, "uid").unwrap_or_default();
    let by_ref = obj
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| refs.iter().any(|r| r.get("uid").and_then(Value::as_str) == Some(uid)));
    let labels = |k: &str| obj.pointer("/metadata/labels").and_then(|l| l.get(k)).and_then(Value::as_str);
    let by_label = labels(LABEL_OWNER) == Some(label_value(meta_str(cr, "name").unwrap_or_default()).as_str())
        && labels(LABEL_OWNER_NAMESPACE) == meta_str(cr, "namespace").filter(|n| !n.is_empty());
    by_ref || by_label
}

/// Whether every field of `want` is in `have` with the same value (arrays element by element);
/// fields `have` has beyond `want` (defaults, other writers) do not count.
pub(super) fn contains(have: &Value, want: &Value) -> bool {
    match (have, want) {
        (Value::Object(h), Value::Object(w)) => w.iter().all(|(k, v)| h.get(k).is_some_and(|hv| contains(hv, v))),
        (Value::Array(h), Value::Array(w)) => h.len() == w.len() && h.iter().zip(w).all(|(a, b)| contains(a, b)),
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => have == want,
    }
}

/// What drift correction compares: the manifest without status, with only the metadata the
/// template sets (labels, annotations, owner references).
fn owned_fields(desired: &Value) -> Value {
    let mut d = desired.clone();
    if let Some(m) = d.as_object_mut() {
        m.remove("status");
        if let Some(Value::Object(meta)) = m.get_mut("metadata") {
            meta.retain(|k, _| matches!(k.as_str(), "labels" | "annotations" | "ownerReferences"));
        }
    }
    d
}

/// The server-side apply configuration of a drift-corrected child: exactly the fields the
/// template owns ([`owned_fields`]) with the identity the API server needs (apiVersion, kind,
/// name, namespace).
fn apply_config(manifest: &Value, want: &Value) -> Value {
    let mut config = want.clone();
    for k in ["apiVersion", "kind"] {
        if let Some(v) = manifest.get(k) {
            config[k] = v.clone();
        }
    }
    if config.is_object() && !config.get("metadata").is_some_and(Value::is_object) {
        config["metadata"] = Value::Object(serde_json::Map::new());
    }
    if let Some(Value::Object(meta)) = config.get_mut("metadata") {
        for k in ["name", "namespace"] {
            if let Some(v) = manifest.pointer(&format!("/metadata/{k}")) {
                meta.insert(k.into(), v.clone());
            }
        }
    }
    config
}

/// `.spec.replicas (manager "kubectl-edit")`, for the reconcile error.
fn describe(conflicts: &[FieldConflict]) -> String {
    conflicts.iter().map(|c| format!("{} (field manager \"{}\")", c.field, c.manager)).collect::<Vec<_>>().join(", ")
}

/// The reason of the `Ready` condition when a child could not be applied because another field
/// manager owns some of its fields (and `forceConflict` is false).
pub(super) const REASON_APPLY_CONFLICT: &str = "ApplyConflict";

/// Gives the `Ready` condition of `status` the reason [`REASON_APPLY_CONFLICT`] (when it is
/// False: the message already names the child, the fields and the other manager).
pub(super) fn mark_apply_conflict(status: &mut Value) {
    let Some(conds) = status.get_mut("conditions").and_then(Value::as_array_mut) else { return };
    for c in conds {
        if c.get("type").and_then(Value::as_str) == Some("Ready") && c.get("status").and_then(Value::as_str) == Some("False") {
            c["reason"] = Value::from(REASON_APPLY_CONFLICT);
        }
    }
}

/// Why one child could not be brought to what was rendered (the reconcile goes on with the
/// others and reports each, prefixed with the child's entry).
#[derive(Debug, thiserror::Error)]
pub(super) enum ChildError {
    /// An object of the name exists and belongs to someone else.
    #[error("{plural} \"{name}\" already exists and is not owned by this CR; it is left alone")]
    NotOwned {
        /// Resource (plural).
        plural: String,
        /// Object name.
        name: String,
    },
    /// A server-side apply was refused: another field manager owns fields the template sets to
    /// other values, and `forceConflict` is false.
    #[error(
        "apply {plural} \"{name}\": {} owned by another field manager; forceConflict is false, so ork leaves them: set `forceConflict: true` on the entry (or `operatorBox.reconcile.forceConflict`) to take them, or stop the other writer",
        describe(conflicts)
    )]
    Conflict {
        /// Resource (plural).
        plural: String,
        /// Object name.
        name: String,
        /// Each field and its manager.
        conflicts: Vec<FieldConflict>,
    },
    /// A write was refused.
    #[error("{verb}: {source}")]
    Api {
        /// What was attempted (`create`, `update`, `delete (roleRef changed)`).
        verb: &'static str,
        /// The API error.
        #[source]
        source: ClusterError,
    },
}

/// Kinds that are created and then left as they are.
fn create_only(kind: ChildKind) -> bool {
    matches!(kind, ChildKind::Job | ChildKind::ServiceAccount | ChildKind::Namespace)
}

impl Reconciler<'_> {
    /// Every object of a declared child kind that this CR owns, sorted.
    pub(super) async fn owned_children<C: Cluster>(&self, cluster: &C, cr: &Value) -> Result<Vec<(ApiResource, Value)>, ReconcileError> {
        let selector = ListParams::labels(format!("{LABEL_OWNER}={}", label_value(meta_str(cr, "name").unwrap_or_default())));
        let mut out = Vec::new();
        for r in &self.child_resources {
            match cluster.list(r, None, &selector).await {
                Ok(list) => out.extend(list.items.into_iter().filter(|o| owned_by(o, cr)).map(|o| (r.clone(), o))),
                // A custom kind whose CRD is not installed: nothing of it exists (yet).
                Err(ClusterError::UnknownResource(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(out)
    }

    fn child_resource(&self, child: &Child) -> Option<ApiResource> {
        let m = &child.manifest;
        let (group, _) = katalog::kinds::split_api_version(m.get("apiVersion").and_then(Value::as_str).unwrap_or_default());
        let kind = m.get("kind").and_then(Value::as_str).unwrap_or_default();
        self.child_resources.iter().find(|r| r.group == group && r.kind == kind).cloned()
    }

    /// Whether a child's server-side apply is forced (`forceConflict`): the entry's own setting,
    /// else `operatorBox.reconcile.forceConflict`, else true (upstream applies with force).
    fn force_conflict(&self, child: &Child) -> bool {
        child.force_conflict.or_else(|| self.entry.reconcile().and_then(|r| r.force_conflict)).unwrap_or(true)
    }

    /// Creates missing children, corrects drift on drift-corrected ones, deletes owned objects
    /// drift-corrected entries no longer want. Returns whether anything was written, the errors
    /// (each naming its entry), which do not stop the other children, and whether one of them
    /// is an apply conflict.
    pub(super) async fn apply_children<C: Cluster>(&self, cluster: &C, children: &[Child], observed: &[(ApiResource, Value)]) -> (bool, Vec<String>, bool) {
        let mut wrote = false;
        let mut errors = Vec::new();
        let mut conflict = false;
        let autoscaled: BTreeSet<String> = children
            .iter()
            .filter(|c| c.kind == ChildKind::Hpa)
            .filter_map(|c| c.manifest.pointer("/spec/scaleTargetRef/name").and_then(Value::as_str).map(str::to_string))
            .collect();
        let mut desired: BTreeSet<ObjKey> = BTreeSet::new();
        for child in children.iter().filter(|c| c.block != Block::OnDelete) {
            let Some(r) = self.child_resource(child) else {
                errors.push(format!("{}: kind {} is not served by the cluster", child.source, child.manifest["kind"]));
                continue;
            };
            let k = key(&r, &child.manifest);
            desired.insert(k.clone());
            if !child.waiting_for.is_empty() {
                // Ordered creation: not created (or changed) until the entries it depends on
                // are ready; kept if it exists.
                continue;
            }
            let current = observed.iter().find(|(or, o)| key(or, o) == k).map(|(_, o)| o);
            let mut want = owned_fields(&child.manifest);
            if matches!(child.kind, ChildKind::Deployment | ChildKind::StatefulSet)
                && autoscaled.contains(&k.3)
                && let Some(spec) = want.get_mut("spec").and_then(Value::as_object_mut)
            {
                spec.remove("replicas");
            }
            match self.apply_one(cluster, &r, &k, child, current, &want).await {
                Ok(w) => wrote |= w,
                Err(e) => {
                    conflict |= matches!(e, ChildError::Conflict { .. });
                    errors.push(format!("{}: {e}", child.source));
                }
            }
        }
        for (r, obj) in observed {
            let k = key(r, obj);
            let entry = obj.pointer(&format!("/metadata/annotations/{}", ANNOTATION_ENTRY.replace('/', "~1"))).and_then(Value::as_str);
            let prunable = entry.is_some_and(|e| self.drift_entries.contains(e));
            let being_deleted = obj.pointer("/metadata/deletionTimestamp").is_some_and(|v| !v.is_null());
            if prunable && !desired.contains(&k) && !being_deleted {
                let ns = r.namespaced.then_some(k.2.as_str());
                match cluster.delete(r, ns, &k.3, Propagation::Background).await {
                    Ok(()) => wrote = true,
                    Err(e) if e.is_not_found() => {}
                    Err(e) => errors.push(format!("{}: delete {} {}: {e}", entry.unwrap_or_default(), r.plural, k.3)),
                }
            }
        }
        (wrote, errors, conflict)
    }

    async fn apply_one<C: Cluster>(
        &self,
        cluster: &C,
        r: &ApiResource,
        k: &ObjKey,
        child: &Child,
        current: Option<&Value>,
        want: &Value,
    ) -> Result<bool, ChildError> {
        let ns = r.namespaced.then_some(k.2.as_str());
        let Some(current) = current else {
            return match cluster.create(r, ns, &child.manifest).await {
                Ok(_) => Ok(true),
                Err(ClusterError::AlreadyExists { .. }) => Err(ChildError::NotOwned { plural: r.plural.clone(), name: k.3.clone() }),
                Err(source) => Err(ChildError::Api { verb: "create", source }),
            };
        };
        if !child.drift_correct || child.once || create_only(child.kind) || contains(current, want) {
            return Ok(false);
        }
        let binding = matches!(child.kind, ChildKind::RoleBinding | ChildKind::ClusterRoleBinding);
        if binding && current.get("roleRef") != child.manifest.get("roleRef") {
            // roleRef is immutable: a binding to another role is a new binding.
            cluster.delete(r, ns, &k.3, Propagation::Background).await.map_err(|source| ChildError::Api { verb: "delete (roleRef changed)", source })?;
            cluster.create(r, ns, &child.manifest).await.map_err(|source| ChildError::Api { verb: "create", source })?;
            return Ok(true);
        }
        // Server-side apply of exactly the fields the template sets, as `orkestra`: fields other
        // managers set (a label, an HPA's replicas) stay theirs.
        let force = self.force_conflict(child);
        let config = apply_config(&child.manifest, want);
        let apply = |force: bool| Patch::Apply { field_manager: FIELD_MANAGER.to_string(), config: config.clone(), force };
        match cluster.patch(r, ns, &k.3, &apply(force)).await {
            Ok(_) => Ok(true),
            // ork's own create-time entry (`orkestra`, operation Update) is another manager to
            // the API server; fields ork created are ork's to change.
            Err(ClusterError::ApplyConflict { conflicts, .. }) if conflicts.iter().all(|c| c.manager == FIELD_MANAGER) => {
                cluster.patch(r, ns, &k.3, &apply(true)).await.map_err(|source| ChildError::Api { verb: "apply", source })?;
                Ok(true)
            }
            Err(ClusterError::ApplyConflict { conflicts, .. }) => Err(ChildError::Conflict {
                plural: r.plural.clone(),
                name: k.3.clone(),
                conflicts: conflicts.into_iter().filter(|c| c.manager != FIELD_MANAGER).collect(),
            }),
            Err(source) => Err(ChildError::Api { verb: "apply", source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn drift_is_judged_on_the_fields_the_template_owns() {
        let have = json!({"spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "a", "image": "x", "terminationMessagePath": "/dev/termination-log"}]}}}});
        assert!(contains(&have, &json!({"spec": {"replicas": 2.0, "template": {"spec": {"containers": [{"name": "a", "image": "x"}]}}}})));
        assert!(!contains(&have, &json!({"spec": {"replicas": 3}})));
        assert!(!contains(&have, &json!({"spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}}})));
        let config = apply_config(
            &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "n"}}),
            &json!({"spec": {"replicas": 3}}),
        );
        assert_eq!(config, json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "n"}, "spec": {"replicas": 3}}));
    }
}
