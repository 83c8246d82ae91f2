//! Reading the CR's children and bringing them to what was rendered.

use super::{ReconcileError, Reconciler, meta_str};
use crate::cluster::{ApiResource, Cluster, ClusterError, ListParams, Propagation};
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

/// `have` with every field of `want` written over it (objects merged, everything else
/// replaced): drift correction touches only the fields the template owns.
fn overlay(have: &mut Value, want: &Value) {
    match (have, want) {
        (Value::Object(h), Value::Object(w)) => {
            for (k, v) in w {
                match h.get_mut(k) {
                    Some(hv) if hv.is_object() && v.is_object() => overlay(hv, v),
                    _ => {
                        h.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (h, w) => *h = w.clone(),
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

    /// Creates missing children, corrects drift on drift-corrected ones, deletes owned objects
    /// drift-corrected entries no longer want. Returns whether anything was written and the
    /// errors (each naming its entry), which do not stop the other children.
    pub(super) async fn apply_children<C: Cluster>(&self, cluster: &C, children: &[Child], observed: &[(ApiResource, Value)]) -> (bool, Vec<String>) {
        let mut wrote = false;
        let mut errors = Vec::new();
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
                Err(e) => errors.push(format!("{}: {e}", child.source)),
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
        (wrote, errors)
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
        let mut next = current.clone();
        overlay(&mut next, want);
        cluster.update(r, ns, &next).await.map_err(|source| ChildError::Api { verb: "update", source })?;
        Ok(true)
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
        let mut next = have.clone();
        overlay(&mut next, &json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "a", "image": "y"}]}}}}));
        assert_eq!(next["spec"]["replicas"], 3);
        assert_eq!(next["spec"]["template"]["spec"]["containers"], json!([{"name": "a", "image": "y"}]), "lists are replaced");
    }
}
