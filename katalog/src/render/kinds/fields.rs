//! Typed field rendering for one entry: optional and required text, numbers, booleans,
//! int-or-string, maps and lists (each a template rendered against the entry's data), the
//! entry's metadata, and the small value helpers the kind builders share.

use super::{Ctx, R};
use crate::decode::{Map as YMap, Str};
use crate::model::resources::*;
use crate::render::{RenderError, RenderFailure};
use serde_json::{Map, Value};

impl Ctx<'_, '_> {
    pub(super) fn err(&self, field: &str, message: impl std::fmt::Display) -> RenderError {
        RenderError {
            crd: self.crd.to_string(),
            resource: self.source.to_string(),
            field: field.to_string(),
            message: message.to_string(),
            failure: RenderFailure::Render,
        }
    }

    /// Renders an optional template; an empty result is "not set".
    pub(super) fn s(&mut self, field: &str, v: &Option<Str>) -> R<Option<String>> {
        let Some(v) = v else { return Ok(None) };
        let out = self.ev.text(&v.value, self.data).map_err(|e| self.err(field, e))?;
        Ok((!out.is_empty()).then_some(out))
    }

    pub(super) fn text(&mut self, field: &str, v: &Str) -> R<String> {
        self.ev.text(&v.value, self.data).map_err(|e| self.err(field, e))
    }

    pub(super) fn s_or(&mut self, field: &str, v: &Option<Str>, default: &str) -> R<String> {
        Ok(self.s(field, v)?.unwrap_or_else(|| default.to_string()))
    }

    pub(super) fn required(&mut self, field: &str, v: &Option<Str>) -> R<String> {
        self.s(field, v)?
            .ok_or_else(|| self.err(field, format!("`{field}` is required for {} entries (it is missing or rendered empty)", self.kind.list_key())))
    }

    pub(super) fn int(&mut self, field: &str, v: &Option<Str>) -> R<Option<i64>> {
        let Some(text) = self.s(field, v)? else { return Ok(None) };
        text.trim().parse::<i64>().map(Some).map_err(|_| self.err(field, format!("`{field}` rendered to {text:?}, which is not an integer")))
    }

    pub(super) fn int_or(&mut self, field: &str, v: &Option<Str>, default: i64) -> R<i64> {
        Ok(self.int(field, v)?.unwrap_or(default))
    }

    pub(super) fn bool_or(&mut self, field: &str, v: &Option<Str>, default: bool) -> R<bool> {
        let Some(text) = self.s(field, v)? else { return Ok(default) };
        crate::template::funcs::parse_bool(&text).ok_or_else(|| self.err(field, format!("`{field}` rendered to {text:?}, which is not true or false")))
    }

    /// An int-or-string (ports, maxSurge, minAvailable): digits become a number.
    pub(super) fn int_or_str(&mut self, field: &str, v: &Option<Str>) -> R<Option<Value>> {
        Ok(self.s(field, v)?.map(|t| int_or_string(&t)))
    }

    pub(super) fn map(&mut self, field: &str, m: &YMap<Str>) -> R<Map<String, Value>> {
        let mut out = Map::new();
        for (k, v) in m.iter() {
            let text = self.ev.text(&v.value, self.data).map_err(|e| self.err(&format!("{field}.{k}"), e))?;
            out.insert(k.value.clone(), Value::String(text));
        }
        Ok(out)
    }

    pub(super) fn list(&mut self, field: &str, l: &[Str]) -> R<Vec<Value>> {
        let mut out = Vec::with_capacity(l.len());
        for (i, v) in l.iter().enumerate() {
            out.push(Value::String(self.ev.text(&v.value, self.data).map_err(|e| self.err(&format!("{field}[{i}]"), e))?));
        }
        Ok(out)
    }

    pub(super) fn cr_name(&self) -> &str {
        &self.owner.name
    }

    /// Name, namespace and metadata of the entry.
    pub(super) fn meta(&mut self, common: &EntryCommon, namespaced: bool) -> R<(String, Option<String>, Value)> {
        let name = match self.s("name", &common.name)? {
            Some(n) => n,
            None => {
                self.kind.default_name(self.cr_name()).ok_or_else(|| self.err("name", format!("`name` is required for {} entries", self.kind.list_key())))?
            }
        };
        let namespace = if namespaced {
            Some(match self.s("namespace", &common.namespace)? {
                Some(ns) => ns,
                None => self
                    .owner
                    .namespace
                    .clone()
                    .ok_or_else(|| self.err("namespace", "the CR is cluster-scoped, so a namespaced child needs an explicit `namespace`"))?,
            })
        } else {
            None
        };
        let labels = self.map("labels", &common.labels)?;
        let annotations = self.map("annotations", &common.annotations)?;
        let meta = self.owner.metadata(&name, namespace.as_deref(), labels, annotations);
        Ok((name, namespace, meta))
    }
}

pub(super) fn non_empty(v: &Value) -> bool {
    v.as_object().is_some_and(|m| !m.is_empty())
}

/// "8080" → 8080, "http" / "25%" → string.
pub(super) fn int_or_string(t: &str) -> Value {
    t.trim().parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::String(t.to_string()))
}

pub(super) fn protocol(p: Option<&str>) -> String {
    p.map(|p| p.to_ascii_uppercase()).unwrap_or_else(|| "TCP".into())
}

/// Container names are DNS labels; a workload name that is not one falls back to `app`.
pub(super) fn container_name(name: &str) -> String {
    if crate::model::katalog::is_dns_label(name) { name.to_string() } else { "app".to_string() }
}
