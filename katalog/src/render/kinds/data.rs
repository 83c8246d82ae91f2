//! Data kinds: ConfigMap, Secret and PersistentVolumeClaim.

use super::{Ctx, R};
use crate::model::resources::*;
use crate::template::value::to_text;
use serde_json::{Map, Value, json};

pub(super) fn config_map(c: &mut Ctx<'_, '_>, e: &ConfigMap) -> R<Value> {
    if e.from_config_map.is_some() || !e.replication.to_namespaces.is_empty() {
        return Err(c.err("fromConfigMap", "copying or replicating ConfigMaps across namespaces is not supported by ork yet"));
    }
    let (_, _, meta) = c.meta(&e.common, true)?;
    let data = c.map("data", &e.data)?;
    Ok(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}))
}

pub(super) fn secret(c: &mut Ctx<'_, '_>, e: &Secret) -> R<Value> {
    if e.from_secret.is_some() || !e.replication.to_namespaces.is_empty() {
        return Err(c.err("fromSecret", "copying or replicating Secrets across namespaces is not supported by ork yet"));
    }
    let (_, _, mut meta) = c.meta(&e.common, true)?;
    if e.common.once == Some(true)
        && let Some(text) = c.s("rotateAfter", &e.rotate_after)?
    {
        let secs = crate::duration::parse_duration(&text).filter(|s| s.is_finite() && *s > 0.0);
        let Some(period) = secs.and_then(|s| std::time::Duration::try_from_secs_f64(s).ok()) else {
            return Err(c.err("rotateAfter", format!("`{text}` is not a positive duration (write one such as 30d or 12h)")));
        };
        c.rotate_after = Some(period);
        let now = crate::time::format_rfc3339(c.ev.now());
        meta["annotations"][crate::render::ANNOTATION_GENERATED_AT] = json!(now);
    }
    let data = c.map("data", &e.data)?;
    let encoded: Map<String, Value> = data.into_iter().map(|(k, v)| (k, json!(crate::template::base64_encode(to_text(&v).as_bytes())))).collect();
    let kind = c.s_or("type", &e.kind, "Opaque")?;
    Ok(json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta, "type": kind, "data": encoded}))
}

pub(super) fn pvc(c: &mut Ctx<'_, '_>, e: &Pvc) -> R<Value> {
    let (_, _, meta) = c.meta(&e.common, true)?;
    let modes = if e.access_modes.is_empty() { vec![json!("ReadWriteOnce")] } else { c.list("accessModes", &e.access_modes)? };
    let mut spec = json!({"accessModes": modes, "resources": {"requests": {"storage": c.required("storage", &e.storage)?}}});
    for (key, v) in [("storageClassName", &e.storage_class_name), ("volumeMode", &e.volume_mode), ("volumeName", &e.volume_name)] {
        if let Some(t) = c.s(key, v)? {
            spec[key] = json!(t);
        }
    }
    Ok(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta, "spec": spec}))
}
