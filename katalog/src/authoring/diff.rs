//! `ork diff` and `ork plan`.
//!
//! `diff` compares two YAML files by meaning: each document is parsed and re-emitted with its
//! keys in a normal order (comments, quoting and key order are not changes), then the two texts
//! are compared line by line as a unified diff.
//!
//! `plan` compares a local Katalog with a deployed bundle: which CRDs are added, removed or
//! changed (field by field), and which permissions are added (escalations) or removed, for each
//! component.

use super::rbac::{Derivation, Scope};
use crate::diag::Diagnostic;
use crate::load::include::read_yaml_file;
use crate::yaml::{Limits, emit};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Reads a YAML file (one or more documents) as JSON values; empty documents are dropped.
pub fn read_docs(path: &Path) -> Result<Vec<Value>, Diagnostic> {
    Ok(read_yaml_file(path, Limits::default())?.into_iter().filter(|d| !d.root.is_null()).map(|d| d.root.to_json()).collect())
}

/// The normal form of a YAML stream: each document re-emitted with sorted keys.
pub fn normalize(docs: &[Value]) -> String {
    docs.iter().map(|d| format!("---\n{}", emit(d))).collect()
}

/// A unified diff of two texts (3 lines of context), or `None` when they are equal.
pub fn unified(a_name: &str, a: &str, b_name: &str, b: &str) -> Option<String> {
    (a != b).then(|| similar::TextDiff::from_lines(a, b).unified_diff().context_radius(3).header(a_name, b_name).to_string())
}

/// One permission as deployed or derived: component, scope, group, resource, name, verb.
pub type Grant = (String, Scope, String, String, Option<String>, String);

/// What a deployed bundle contains.
#[derive(Debug, Clone, Default)]
pub struct Deployed {
    /// The Katalog in its ConfigMap.
    pub katalog: Option<Value>,
    /// The install namespace (from the Namespace document or the ConfigMap).
    pub namespace: Option<String>,
    /// Every permission of its roles.
    pub grants: BTreeSet<Grant>,
}

/// Why a deployed bundle cannot be read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BundleError {
    /// The Katalog text in the bundle's ConfigMap is not YAML.
    #[error("the Katalog in ConfigMap `{configmap}` does not parse: {}", .source.message)]
    KatalogSyntax {
        /// The ConfigMap's name.
        configmap: String,
        /// The parser's finding.
        #[source]
        source: Diagnostic,
    },
}

/// Reads a bundle (or `kubectl get -o yaml` output, `List`s included): the Katalog from the ConfigMap (`orkestra-katalog` preferred; data key
/// `katalog.yaml`, then `katalog`, then the first key) and the rules of every Role and
/// ClusterRole (a name containing `gateway` is the gateway's, anything else the runtime's).
pub fn read_bundle(docs: &[Value]) -> Result<Deployed, BundleError> {
    // `kubectl get … -o yaml` of several objects is one `kind: List` with `items`.
    let flat: Vec<Value> = docs
        .iter()
        .flat_map(|d| match d.get("items").and_then(Value::as_array) {
            Some(items) if d.get("kind").and_then(Value::as_str).is_some_and(|k| k.ends_with("List")) => items.clone(),
            _ => vec![d.clone()],
        })
        .collect();
    let docs = flat.as_slice();
    let mut out = Deployed::default();
    let kind = |d: &Value| d.get("kind").and_then(Value::as_str).unwrap_or_default().to_string();
    let name = |d: &Value| d.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
    let mut maps: Vec<(&Value, &serde_json::Map<String, Value>)> =
        docs.iter().filter(|d| kind(d) == "ConfigMap").filter_map(|d| Some((d, d.get("data")?.as_object()?))).collect();
    maps.sort_by_key(|(d, _)| name(d) != crate::install::KATALOG_CONFIGMAP);
    if let Some((cm, data)) = maps.first() {
        let text =
            data.get(crate::install::KATALOG_KEY).or_else(|| data.get("katalog")).or_else(|| data.values().next()).and_then(Value::as_str).unwrap_or_default();
        let parsed = crate::yaml::parse(text, crate::diag::FileId::intern(Path::new("<deployed katalog>")), Limits::default())
            .map_err(|d| BundleError::KatalogSyntax { configmap: name(cm), source: d })?;
        out.katalog = parsed.into_iter().map(|d| d.root).find(|r| !r.is_null()).map(|r| r.to_json());
        out.namespace = cm.pointer("/metadata/namespace").and_then(Value::as_str).map(str::to_string);
    }
    if let Some(ns) = docs.iter().find(|d| kind(d) == "Namespace") {
        out.namespace = Some(name(ns));
    }
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect()).unwrap_or_default()
    };
    for d in docs.iter().filter(|d| matches!(kind(d).as_str(), "Role" | "ClusterRole")) {
        let component = if name(d).contains("gateway") { "gateway" } else { "runtime" };
        let scope = if kind(d) == "Role" { Scope::Namespace } else { Scope::Cluster };
        for rule in d.get("rules").and_then(Value::as_array).into_iter().flatten() {
            let names = strings(rule.get("resourceNames"));
            let names: Vec<Option<String>> = if names.is_empty() { vec![None] } else { names.into_iter().map(Some).collect() };
            for g in strings(rule.get("apiGroups")) {
                for r in strings(rule.get("resources")) {
                    for n in &names {
                        for v in strings(rule.get("verbs")) {
                            out.grants.insert((component.to_string(), scope, g.clone(), r.clone(), n.clone(), v));
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Every permission of a derivation, in the form of [`Grant`].
pub fn derived_grants(d: &Derivation) -> BTreeSet<Grant> {
    let mut out = BTreeSet::new();
    for (c, rules) in [("runtime", &d.runtime), ("gateway", &d.gateway)] {
        for (scope, g, r, n, v) in rules.permissions() {
            out.insert((c.to_string(), scope, g, r, n, v.as_str().to_string()));
        }
    }
    out
}

/// One changed field of a CRD entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    /// Dotted path within the entry (`operatorBox.reconcile.onCreate.deployments[0].image`).
    pub path: String,
    /// The deployed value (compact JSON), `None` when new.
    pub old: Option<String>,
    /// The local value, `None` when removed.
    pub new: Option<String>,
}

/// What applying the local Katalog would change.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// CRD entries only in the local Katalog.
    pub crds_added: Vec<String>,
    /// CRD entries only in the deployed one.
    pub crds_removed: Vec<String>,
    /// CRD entries in both that differ, with their field changes.
    pub crds_changed: Vec<(String, Vec<FieldChange>)>,
    /// Katalog-level blocks (everything but `spec.crds`) that differ.
    pub katalog_changes: Vec<FieldChange>,
    /// Permissions the local Katalog needs that are not deployed: escalations.
    pub grants_added: Vec<Grant>,
    /// Permissions deployed that the local Katalog no longer needs.
    pub grants_removed: Vec<Grant>,
}

impl Plan {
    /// Nothing would change.
    pub fn is_empty(&self) -> bool {
        self.crds_added.is_empty()
            && self.crds_removed.is_empty()
            && self.crds_changed.is_empty()
            && self.katalog_changes.is_empty()
            && self.grants_added.is_empty()
            && self.grants_removed.is_empty()
    }
}

/// Compares the local Katalog (as shipped) and its derived rules with a deployed bundle.
pub fn plan(local: &Value, derived: &Derivation, deployed: &Deployed) -> Plan {
    let mut p = Plan::default();
    let empty = Value::Object(Default::default());
    let crds = |v: &Value| v.pointer("/spec/crds").and_then(Value::as_object).cloned().unwrap_or_default();
    let (l, d) = (crds(local), crds(deployed.katalog.as_ref().unwrap_or(&empty)));
    for (name, entry) in &l {
        match d.get(name) {
            None => p.crds_added.push(name.clone()),
            Some(old) => {
                let mut changes = Vec::new();
                field_changes("", old, entry, &mut changes);
                if !changes.is_empty() {
                    p.crds_changed.push((name.clone(), changes));
                }
            }
        }
    }
    p.crds_removed = d.keys().filter(|k| !l.contains_key(*k)).cloned().collect();
    let without_crds = |v: &Value| {
        let mut v = v.clone();
        if let Some(spec) = v.get_mut("spec").and_then(Value::as_object_mut) {
            spec.remove("crds");
        }
        v
    };
    if let Some(dk) = &deployed.katalog {
        field_changes("", &without_crds(dk), &without_crds(local), &mut p.katalog_changes);
    }
    let mine = derived_grants(derived);
    p.grants_added = mine.difference(&deployed.grants).cloned().collect();
    p.grants_removed = deployed.grants.difference(&mine).cloned().collect();
    p
}

fn compact(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 { format!("{}…", s.chars().take(79).collect::<String>()) } else { s }
}

/// Leaf-level differences between `old` and `new` under `path`; a subtree present on one side
/// only is one change.
fn field_changes(path: &str, old: &Value, new: &Value, out: &mut Vec<FieldChange>) {
    let join = |k: &str| if path.is_empty() { k.to_string() } else { format!("{path}.{k}") };
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeMap<&String, ()> = a.keys().chain(b.keys()).map(|k| (k, ())).collect();
            for k in keys.keys() {
                match (a.get(*k), b.get(*k)) {
                    (Some(x), Some(y)) => field_changes(&join(k), x, y, out),
                    (Some(x), None) => out.push(FieldChange { path: join(k), old: Some(compact(x)), new: None }),
                    (None, Some(y)) => out.push(FieldChange { path: join(k), old: None, new: Some(compact(y)) }),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for i in 0..a.len().max(b.len()) {
                let p = format!("{path}[{i}]");
                match (a.get(i), b.get(i)) {
                    (Some(x), Some(y)) => field_changes(&p, x, y, out),
                    (Some(x), None) => out.push(FieldChange { path: p, old: Some(compact(x)), new: None }),
                    (None, Some(y)) => out.push(FieldChange { path: p, old: None, new: Some(compact(y)) }),
                    (None, None) => {}
                }
            }
        }
        (a, b) if a != b => out.push(FieldChange { path: path.to_string(), old: Some(compact(a)), new: Some(compact(b)) }),
        _ => {}
    }
}
