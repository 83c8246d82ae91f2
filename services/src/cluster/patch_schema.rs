//! How the fields of the built-in kinds merge: the patch strategies and merge keys a strategic
//! merge patch follows, and the list and map types server-side apply follows.
//!
//! The data is `patch-schema.json`, generated from the Kubernetes OpenAPI definitions by
//! `scripts/gen-patch-schema.py` (never edited by hand; a test regenerates it and compares). It is
//! embedded in the binary and parsed once. Kinds it does not list (custom resources) have no
//! schema: strategic merge patch is refused for them, and server-side apply merges their maps
//! and replaces their lists.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The generated data (see the module documentation).
const DATA: &str = include_str!("patch-schema.json");

/// What a strategic merge patch does with a field of the same type in the patch and the object
/// (`x-kubernetes-patch-strategy`; `retainKeys`, which only tells clients to send `$retainKeys`,
/// changes nothing on the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strategy {
    /// Maps merge recursively, lists are replaced.
    Default,
    /// Lists merge: primitives as a set, objects by their merge key.
    Merge,
    /// The patch value replaces the field, maps included.
    Replace,
}

/// `x-kubernetes-list-type` (server-side apply); lists without one are atomic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ListType {
    /// Objects identified by the `listMapKeys` fields.
    Map,
    /// Distinct primitives.
    Set,
}

/// `x-kubernetes-map-type` (server-side apply); maps and structs are granular unless atomic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum MapType {
    /// Replaced as a whole.
    Atomic,
    /// Merged key by key.
    Granular,
}

/// What the value of a field is, when it refers to a definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Shape {
    /// A list of the definition.
    List,
    /// A map (arbitrary keys) whose values are the definition.
    Map,
}

/// One field of a definition, as the generator writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Field {
    patch_strategy: Option<String>,
    patch_merge_key: Option<String>,
    list_type: Option<ListType>,
    #[serde(default)]
    list_map_keys: Vec<String>,
    map_type: Option<MapType>,
    #[serde(rename = "ref")]
    reference: Option<String>,
    shape: Option<Shape>,
}

impl Field {
    /// The strategic merge patch strategy.
    pub(crate) fn strategy(&self) -> Strategy {
        let strategies = self.patch_strategy.as_deref().unwrap_or_default();
        if strategies.split(',').any(|s| s == "replace") {
            Strategy::Replace
        } else if strategies.split(',').any(|s| s == "merge") {
            Strategy::Merge
        } else {
            Strategy::Default
        }
    }

    /// The field identifying the objects of a merging list (`x-kubernetes-patch-merge-key`).
    pub(crate) fn merge_key(&self) -> Option<&str> {
        self.patch_merge_key.as_deref()
    }

    /// The server-side apply list type (`None`: atomic).
    pub(crate) fn list_type(&self) -> Option<ListType> {
        self.list_type
    }

    /// The fields identifying the objects of a `map` list.
    pub(crate) fn list_map_keys(&self) -> &[String] {
        &self.list_map_keys
    }

    /// The map type declared on the field itself (it overrides the definition's).
    pub(crate) fn map_type(&self) -> Option<MapType> {
        self.map_type
    }
}

/// One definition: its map type and the fields that merge in a special way or lead to one.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Definition {
    map_type: Option<MapType>,
    #[serde(default)]
    fields: BTreeMap<String, Field>,
}

/// The whole table: `apiVersion/kind` → root definition, and the definitions by name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatchSchema {
    /// Where the data comes from (read by people, not by the code).
    #[serde(rename = "source")]
    _source: String,
    kinds: BTreeMap<String, String>,
    definitions: BTreeMap<String, Definition>,
}

/// A position in a document, as far as the schema knows it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Node<'s> {
    /// Nothing known: maps merge recursively, lists are replaced.
    Unknown,
    /// An object of this definition.
    Object(&'s PatchSchema, &'s Definition),
    /// A map whose every value is an object of this definition.
    MapOf(&'s PatchSchema, &'s Definition),
}

/// Why the generated patch schema cannot be used (a build defect: regenerate it with
/// scripts/gen-patch-schema.py).
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum SchemaError {
    /// It is not the expected JSON.
    #[error("the patch schema is not valid: {0}")]
    Json(#[source] std::sync::Arc<serde_json::Error>),
    /// A field refers to a definition that is not there.
    #[error("the patch schema is not valid: {definition}.{field} refers to the unknown definition {reference}")]
    Dangling {
        /// The definition holding the field.
        definition: String,
        /// The field.
        field: String,
        /// The missing definition.
        reference: String,
    },
    /// A field's `patchStrategy` is not merge, replace or retainKeys.
    #[error("the patch schema is not valid: {definition}.{field} has an unknown patch strategy")]
    Strategy {
        /// The definition holding the field.
        definition: String,
        /// The field.
        field: String,
    },
}

impl PatchSchema {
    /// Parses the generated JSON, checking that every reference resolves.
    pub(crate) fn parse(text: &str) -> Result<PatchSchema, SchemaError> {
        let schema: PatchSchema = serde_json::from_str(text).map_err(|e| SchemaError::Json(std::sync::Arc::new(e)))?;
        for (name, d) in &schema.definitions {
            for (field, f) in &d.fields {
                if let Some(r) = &f.reference
                    && !schema.definitions.contains_key(r)
                {
                    return Err(SchemaError::Dangling { definition: name.clone(), field: field.clone(), reference: r.clone() });
                }
                if f.patch_strategy.as_deref().is_some_and(|s| s.split(',').any(|s| !matches!(s, "merge" | "replace" | "retainKeys"))) {
                    return Err(SchemaError::Strategy { definition: name.clone(), field: field.clone() });
                }
            }
        }
        Ok(schema)
    }

    /// The embedded schema of the built-in kinds, parsed on first use.
    pub(crate) fn builtin() -> Result<&'static PatchSchema, SchemaError> {
        static SCHEMA: OnceLock<Result<PatchSchema, SchemaError>> = OnceLock::new();
        SCHEMA.get_or_init(|| PatchSchema::parse(DATA)).as_ref().map_err(Clone::clone)
    }

    /// The root of a kind (`apiVersion` is `group/version`, or `v1` for the core group), or `None`
    /// for kinds it does not know (custom resources).
    pub(crate) fn root(&self, api_version: &str, kind: &str) -> Option<Node<'_>> {
        let name = self.kinds.get(&format!("{api_version}/{kind}"))?;
        // A kind whose definition has nothing special is left out of `definitions` by the
        // generator; it is still a built-in.
        static PLAIN: Definition = Definition { map_type: None, fields: BTreeMap::new() };
        Some(Node::Object(self, self.definitions.get(name).unwrap_or(&PLAIN)))
    }

    fn node(&self, f: &Field) -> Node<'_> {
        match f.reference.as_deref().and_then(|r| self.definitions.get(r)) {
            None => Node::Unknown,
            Some(d) if f.shape == Some(Shape::Map) => Node::MapOf(self, d),
            // For a list, the node of its elements.
            Some(d) => Node::Object(self, d),
        }
    }
}

impl<'s> Node<'s> {
    /// The schema of a field of this object: its merge metadata (if any) and the node of its
    /// value (of its elements, for a list).
    pub(crate) fn field(self, name: &str) -> (Option<&'s Field>, Node<'s>) {
        match self {
            Node::Unknown => (None, Node::Unknown),
            Node::MapOf(s, d) => (None, Node::Object(s, d)),
            Node::Object(s, d) => match d.fields.get(name) {
                Some(f) => (Some(f), s.node(f)),
                None => (None, Node::Unknown),
            },
        }
    }

    /// Whether server-side apply replaces this object as a whole: the field says atomic, or it
    /// says nothing and the definition is atomic.
    pub(crate) fn atomic(self, field: Option<&Field>) -> bool {
        match field.and_then(Field::map_type) {
            Some(t) => t == MapType::Atomic,
            None => matches!(self, Node::Object(_, d) if d.map_type == Some(MapType::Atomic)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_schema_parses_and_knows_the_builtin_merge_keys() {
        let s = PatchSchema::builtin().unwrap_or_else(|e| panic!("{e}"));
        let deployment = s.root("apps/v1", "Deployment").unwrap_or_else(|| panic!("Deployment is a built-in"));
        let (_, spec) = deployment.field("spec");
        let (_, template) = spec.field("template");
        let (_, pod) = template.field("spec");
        let (containers, container) = pod.field("containers");
        let containers = containers.unwrap_or_else(|| panic!("containers has merge metadata"));
        assert_eq!((containers.strategy(), containers.merge_key()), (Strategy::Merge, Some("name")));
        assert_eq!((containers.list_type(), containers.list_map_keys()), (Some(ListType::Map), &["name".to_string()][..]));
        let (env, _) = container.field("env");
        assert_eq!(env.map(Field::merge_key), Some(Some("name")));
        let (ports, _) = container.field("ports");
        assert_eq!(ports.map(Field::list_map_keys), Some(&["containerPort".to_string(), "protocol".to_string()][..]));
        let (strategy, _) = spec.field("strategy");
        assert_eq!(strategy.map(Field::strategy), Some(Strategy::Default), "retainKeys is a client-side hint");
        let (volumes, _) = pod.field("volumes");
        assert_eq!(volumes.map(Field::strategy), Some(Strategy::Merge), "merge,retainKeys merges");
        let (args, _) = container.field("args");
        assert!(args.is_none(), "lists without a strategy are not in the table");
        let (selector, selector_node) = spec.field("selector");
        assert!(selector_node.atomic(selector), "a LabelSelector is an atomic map");
        let (finalizers, _) = deployment.field("metadata").1.field("finalizers");
        assert_eq!(finalizers.map(|f| (f.strategy(), f.list_type())), Some((Strategy::Merge, Some(ListType::Set))));
        let pdb = s.root("policy/v1", "PodDisruptionBudget").unwrap_or_else(|| panic!("PDB is a built-in"));
        assert_eq!(pdb.field("spec").1.field("selector").0.map(Field::strategy), Some(Strategy::Replace));
        assert!(s.root("v1", "ConfigMap").is_some());
        assert!(s.root("x.dev/v1", "Widget").is_none(), "custom resources have no schema");
        assert!(s.root("cert-manager.io/v1", "Certificate").is_none(), "add-ons are custom resources too");
    }

    #[test]
    fn a_broken_schema_is_an_error_not_a_panic() {
        assert!(PatchSchema::parse("{").is_err());
        let dangling = r#"{"source": "", "kinds": {}, "definitions": {"a": {"fields": {"b": {"ref": "nope"}}}}}"#;
        assert!(PatchSchema::parse(dangling).unwrap_err().to_string().contains("unknown definition nope"));
        let strategy = r#"{"source": "", "kinds": {}, "definitions": {"a": {"fields": {"b": {"patchStrategy": "sideways"}}}}}"#;
        assert!(PatchSchema::parse(strategy).unwrap_err().to_string().contains("unknown patch strategy"));
    }
}
