//! `ork generate crd`: an `apiextensions.k8s.io/v1` CustomResourceDefinition from `apiTypes`.
//!
//! The status subresource is always on (the runtime writes conditions through it); the schema
//! is the one `crdFile` supplies for the version, else an object that preserves unknown fields
//! under `spec` and `status`; printer columns show Ready, its reason, and age.

use crate::model::crd::CrdEntry;
use crate::sensitive::SchemaError;
use serde_json::{Value, json};

/// Why a CRD cannot be generated for an entry: each names the entry and how to fix it.
#[derive(Debug, Clone, thiserror::Error)]
// Variant fields are the message's parts and its `#[source]` cause.
#[allow(missing_docs)]
pub enum CrdError {
    /// Neither `apiTypes` nor `crdFile` names the kind.
    #[error("crd `{crd}` has no `apiTypes` (or crdFile) naming its kind; add group, version, kind and plural")]
    NoKind {
        /// The CRD entry.
        crd: String,
    },
    /// The entry serves a built-in kind.
    #[error("crd `{crd}` serves the built-in kind `{kind}`, which needs no CustomResourceDefinition")]
    BuiltIn {
        /// The CRD entry.
        crd: String,
        /// The built-in kind.
        kind: String,
    },
    /// A field of the identity is missing (`group` or `version`).
    #[error("crd `{crd}`: `apiTypes.{field}` is required to generate a CRD")]
    Missing {
        /// The CRD entry.
        crd: String,
        /// The `apiTypes` field.
        field: &'static str,
    },
    /// The crdFile's schema cannot be read.
    #[error("crd `{crd}`: {source}")]
    Schema {
        /// The CRD entry.
        crd: String,
        #[source]
        source: SchemaError,
    },
}

/// Builds the CRD for entry `name`, installed in namespace `ns` (where the gateway that converts
/// between its versions runs). Errors name what is missing and how to fix it.
///
/// An entry whose `admission.conversion.paths` name more versions than `apiTypes.version` gets
/// every version (served; the storage version is `storageVersion`, else `apiTypes.version`) and
/// the conversion webhook stanza pointing at the gateway's `/convert`. The gateway injects the CA
/// bundle into it when the entry sets `updateCRD: true`.
pub fn generate(name: &str, entry: &CrdEntry, ns: &str) -> Result<Value, CrdError> {
    let id = crate::kinds::api_identity(entry).ok_or_else(|| CrdError::NoKind { crd: name.to_string() })?;
    if crate::kinds::builtin_by_kind(&id.kind).is_some_and(|r| r.group == id.group) {
        return Err(CrdError::BuiltIn { crd: name.to_string(), kind: id.kind });
    }
    let need = |v: &str, field: &'static str| {
        if v.is_empty() { Err(CrdError::Missing { crd: name.to_string(), field }) } else { Ok(v.to_string()) }
    };
    let (group, version, kind, plural) = (need(&id.group, "group")?, need(&id.version, "version")?, id.kind.clone(), id.plural.clone());
    let scope = if id.namespaced { "Namespaced" } else { "Cluster" };
    let schema = match &entry.crd_file_path {
        Some(path) => crate::sensitive::crd_file_schema(path, &kind, &version).map_err(|source| CrdError::Schema { crd: name.to_string(), source })?,
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
    let conversion = entry.admission.as_ref().and_then(|a| a.conversion.as_ref());
    let mut names_of_versions = std::collections::BTreeSet::from([version.clone()]);
    for p in conversion.iter().flat_map(|c| &c.paths) {
        names_of_versions.extend([&p.from, &p.to].into_iter().flatten().map(|v| v.value.clone()).filter(|v| !v.is_empty()));
    }
    let storage = conversion.and_then(|c| c.storage_version.as_ref()).map(|v| v.value.clone()).filter(|v| names_of_versions.contains(v)).unwrap_or(version);
    let versions: Vec<Value> = names_of_versions
        .iter()
        .map(|v| {
            json!({
                "name": v,
                "served": true,
                "storage": *v == storage,
                "subresources": {"status": {}},
                "schema": schema,
                "additionalPrinterColumns": [
                    {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
                    {"name": "Reason", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].reason", "priority": 1},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                ],
            })
        })
        .collect();
    let mut spec = json!({"group": group, "names": names, "scope": scope, "versions": versions});
    if names_of_versions.len() > 1 {
        spec["conversion"] = json!({
            "strategy": "Webhook",
            "webhook": {
                "conversionReviewVersions": ["v1"],
                "clientConfig": {"service": {"name": crate::install::GATEWAY_SERVICE, "namespace": ns, "path": "/convert", "port": crate::install::WEBHOOK_PORT}},
            },
        });
    }
    Ok(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{group}"), "labels": {"managed-by": "orkestra"}},
        "spec": spec,
    }))
}
