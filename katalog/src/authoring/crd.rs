//! `ork generate crd`: an `apiextensions.k8s.io/v1` CustomResourceDefinition from `apiTypes`.
//!
//! The status subresource is always on (the runtime writes conditions through it); the schema
//! is the one `crdFile` supplies for the version, else an object that preserves unknown fields
//! under `spec` and `status`; printer columns show Ready, its reason, and age.

use crate::model::crd::CrdEntry;
use serde_json::{Value, json};

/// Builds the CRD for entry `name`. Errors name what is missing and how to fix it.
pub fn generate(name: &str, entry: &CrdEntry) -> Result<Value, String> {
    let id = crate::kinds::api_identity(entry)
        .ok_or_else(|| format!("crd `{name}` has no `apiTypes` (or crdFile) naming its kind; add group, version, kind and plural"))?;
    if crate::kinds::builtin_by_kind(&id.kind).is_some_and(|r| r.group == id.group) {
        return Err(format!("crd `{name}` serves the built-in kind `{}`, which needs no CustomResourceDefinition", id.kind));
    }
    let need = |v: &str, what: &str| {
        if v.is_empty() { Err(format!("crd `{name}`: `apiTypes.{what}` is required to generate a CRD")) } else { Ok(v.to_string()) }
    };
    let (group, version, kind, plural) = (need(&id.group, "group")?, need(&id.version, "version")?, id.kind.clone(), id.plural.clone());
    let scope = if id.namespaced { "Namespaced" } else { "Cluster" };
    let schema = match &entry.crd_file_path {
        Some(path) => crate::sensitive::crd_file_schema(path, &kind, &version).map_err(|e| format!("crd `{name}`: {e}"))?,
        None => None,
    }
    .unwrap_or_else(|| {
        json!({"openAPIV3Schema": {"type": "object", "properties": {
            "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
        }}})
    });
    let mut names = json!({"kind": kind, "listKind": format!("{kind}List"), "plural": plural, "singular": kind.to_ascii_lowercase()});
    if let Some(alias) = entry.api_types.as_ref().and_then(|a| a.alias.as_ref()).filter(|a| !a.value.is_empty()) {
        names["shortNames"] = json!([alias.value]);
    }
    Ok(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{group}"), "labels": {"managed-by": "orkestra"}},
        "spec": {
            "group": group,
            "names": names,
            "scope": scope,
            "versions": [{
                "name": version,
                "served": true,
                "storage": true,
                "subresources": {"status": {}},
                "schema": schema,
                "additionalPrinterColumns": [
                    {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
                    {"name": "Reason", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].reason", "priority": 1},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                ],
            }],
        },
    }))
}
