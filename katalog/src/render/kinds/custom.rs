//! Custom kinds (any apiVersion/kind): metadata rendered as usual, every string in the free-form
//! spec rendered as a template.

use super::{Ctx, R};
use crate::decode::Map as YMap;
use crate::model::resources::*;
use serde_json::{Map, Value, json};

/// Renders every string inside a free-form value (custom specs).
pub(super) fn render_tree(c: &mut Ctx<'_, '_>, field: &str, v: Value) -> R<Value> {
    Ok(match v {
        Value::String(s) => Value::String(c.ev.text(&s, c.data).map_err(|e| c.err(field, e))?),
        Value::Array(items) => Value::Array(items.into_iter().enumerate().map(|(i, it)| render_tree(c, &format!("{field}[{i}]"), it)).collect::<R<_>>()?),
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, it) in m {
                let rendered = render_tree(c, &format!("{field}.{k}"), it)?;
                out.insert(k, rendered);
            }
            Value::Object(out)
        }
        other => other,
    })
}

pub(super) fn custom(c: &mut Ctx<'_, '_>, e: &Custom) -> R<Value> {
    let k = &e.known;
    let api_version = c.required("apiVersion", &k.api_version)?;
    let kind = c.required("kind", &k.kind)?;
    let Some(md) = &k.metadata else { return Err(c.err("metadata", "`metadata.name` is required for custom entries")) };
    let common = EntryCommon {
        name: md.name.clone(),
        namespace: md.namespace.clone(),
        labels: YMap(k.common.labels.0.iter().chain(md.labels.0.iter()).cloned().collect()),
        annotations: YMap(k.common.annotations.0.iter().chain(md.annotations.0.iter()).cloned().collect()),
        ..EntryCommon::default()
    };
    let namespaced = md.namespaced != Some(false);
    let (_, _, meta) = c.meta(&common, namespaced)?;
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), json!(api_version));
    obj.insert("kind".into(), json!(kind));
    obj.insert("metadata".into(), meta);
    if let Some(spec) = &k.spec {
        obj.insert("spec".into(), render_tree(c, "spec", spec.to_json())?);
    }
    for (key, node) in &e.extra {
        let rendered = render_tree(c, &key.value, node.to_json())?;
        obj.insert(key.value.clone(), rendered);
    }
    Ok(Value::Object(obj))
}
