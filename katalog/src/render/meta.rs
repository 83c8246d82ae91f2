//! Child metadata: names, namespaces, management labels and the owner link to the CR.

use crate::model::crd::CrdEntry;
use crate::template::funcs::lookup_path;
use serde_json::{Map, Value, json};

/// `orkestra.orkspace.io/managed: "true"` on every child.
pub const LABEL_MANAGED: &str = "orkestra.orkspace.io/managed";
/// `managed-by: orkestra` on every child.
pub const LABEL_MANAGED_BY: &str = "managed-by";
/// `orkestra-owner: <CR name>` on every child (also how ownership is checked before deleting).
pub const LABEL_OWNER: &str = "orkestra-owner";
/// The CR's namespace, on children that cannot carry an ownerReference (cluster-scoped children
/// of a namespaced CR, or children in another namespace).
pub const LABEL_OWNER_NAMESPACE: &str = "orkestra.orkspace.io/owner-namespace";
/// On every child: the Katalog entry it was rendered from (`onReconcile.configMaps[0]`), so
/// that the reconciler can tell which owned objects a drift-corrected entry no longer wants.
pub const ANNOTATION_ENTRY: &str = "orkestra.orkspace.io/entry";
/// `orkestra.orkspace.io/owner-kind: <Kind of the CR>` on every child, so that each
/// OperatorBox watches only its own children (a label selector the API server evaluates).
pub const LABEL_OWNER_KIND: &str = "orkestra.orkspace.io/owner-kind";
/// Selects the pods of one workload (Deployment / StatefulSet selector).
pub const LABEL_WORKLOAD: &str = "orkestra.orkspace.io/workload";

/// The CR as an owner of children.
#[derive(Debug, Clone)]
pub(crate) struct Owner {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// `None` for a cluster-scoped CR.
    pub namespace: Option<String>,
    pub uid: String,
}

impl Owner {
    pub fn from_cr(cr: &Value, entry: &CrdEntry) -> Owner {
        let s = |p: &str| lookup_path(cr, p).and_then(Value::as_str).unwrap_or_default().to_string();
        let namespace = s("metadata.namespace");
        // The CR's own namespace stands in for its kind's crdFile scope (the API server gives a CR
        // of a cluster-scoped kind none), so rendering reads no file.
        let namespaced = crate::kinds::is_namespaced(entry.namespaced, None) && !namespace.is_empty();
        Owner { api_version: s("apiVersion"), kind: s("kind"), name: s("metadata.name"), namespace: namespaced.then_some(namespace), uid: s("metadata.uid") }
    }

    /// Metadata for a child. The ownerReference is used whenever Kubernetes allows it (same
    /// namespace, or a cluster-scoped owner); otherwise the owner is recorded in labels only.
    pub fn metadata(&self, name: &str, namespace: Option<&str>, labels: Map<String, Value>, annotations: Map<String, Value>) -> Value {
        let mut labels = labels;
        labels.insert(LABEL_MANAGED.into(), json!("true"));
        labels.insert(LABEL_MANAGED_BY.into(), json!("orkestra"));
        labels.insert(LABEL_OWNER.into(), json!(label_value(&self.name)));
        labels.insert(LABEL_OWNER_KIND.into(), json!(label_value(&self.kind)));
        let can_own = match (&self.namespace, namespace) {
            (None, _) => true,
            (Some(own), Some(child)) => own == child,
            (Some(_), None) => false,
        };
        let mut meta = Map::new();
        meta.insert("name".into(), json!(name));
        if let Some(ns) = namespace {
            meta.insert("namespace".into(), json!(ns));
        }
        if !can_own && let Some(ns) = &self.namespace {
            labels.insert(LABEL_OWNER_NAMESPACE.into(), json!(ns));
        }
        meta.insert("labels".into(), Value::Object(labels));
        if !annotations.is_empty() {
            meta.insert("annotations".into(), Value::Object(annotations));
        }
        if can_own {
            meta.insert(
                "ownerReferences".into(),
                json!([{
                    "apiVersion": self.api_version, "kind": self.kind, "name": self.name, "uid": self.uid,
                    "controller": true, "blockOwnerDeletion": true
                }]),
            );
        }
        Value::Object(meta)
    }
}

/// A label value is at most 63 characters; longer values are cut and hash-suffixed so they stay
/// unique and stable.
pub fn label_value(s: &str) -> String {
    if s.len() <= 63 {
        return s.to_string();
    }
    crate::template::funcs::cut_with_hash(s, 63, &['-', '.', '_'])
}
