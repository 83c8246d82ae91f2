//! The `scale` subresource (autoscaling/v1 Scale), as `kubectl scale` and autoscalers use it.

use super::{Api, Target, bad_request, error, not_found, ok, parse_body, patch_of, respond, status};
use crate::cluster::{ApiResource, Cluster, Patch};
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A `.spec.replicas`-style path as a JSON pointer.
fn pointer(path: &str) -> String {
    path.trim_start_matches('.').split('.').fold(String::new(), |acc, seg| format!("{acc}/{seg}"))
}

/// The `scale` subresource (autoscaling/v1 Scale): of Deployments, StatefulSets and ReplicaSets,
/// and of custom resources whose CRD declares `subresources.scale` (at its replica paths).
#[allow(clippy::too_many_arguments)]
pub(super) async fn scale(api: &Api, t: &Target, name: &str, method: &Method, headers: &HeaderMap, body: &Bytes, q: &BTreeMap<String, String>) -> Response {
    let store = &api.store;
    let r = &t.res;
    let ns = t.ns.as_deref();
    let Some(paths) = api.scale_paths(r) else { return not_found(&format!("{}/scale", r.plural)) };
    let (spec_ptr, status_ptr) = (pointer(&paths.spec_replicas), pointer(&paths.status_replicas));
    let as_scale = |o: &Value| {
        let mut scale = json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
               "metadata": {"name": o.pointer("/metadata/name"), "namespace": o.pointer("/metadata/namespace"), "uid": o.pointer("/metadata/uid"),
                            "resourceVersion": o.pointer("/metadata/resourceVersion"), "creationTimestamp": o.pointer("/metadata/creationTimestamp")},
               "spec": {"replicas": o.pointer(&spec_ptr).cloned().unwrap_or(json!(1))},
               "status": {"replicas": o.pointer(&status_ptr).cloned().unwrap_or(json!(0))}});
        if let Some(selector) = paths.label_selector.as_deref().and_then(|p| o.pointer(&pointer(p))) {
            scale["status"]["selector"] = selector.clone();
        }
        scale
    };
    let result = match *method {
        Method::GET => store.get(r, ns, name).await,
        Method::PUT | Method::PATCH => {
            let current = match store.get(r, ns, name).await {
                Ok(c) => c,
                Err(e) => return error(&e, Some(r)),
            };
            let mut scale_obj = as_scale(&current);
            if *method == Method::PUT {
                scale_obj = match parse_body(headers, body) {
                    Ok(s) => s,
                    Err(resp) => return resp,
                };
            } else {
                let patch = match patch_of(headers, body, q) {
                    Ok(p) => p,
                    Err(resp) => return resp,
                };
                let scale_kind =
                    ApiResource { group: "autoscaling".into(), version: "v1".into(), kind: "Scale".into(), plural: r.plural.clone(), namespaced: true };
                if let Err(e) = crate::cluster::apply_patch(&mut scale_obj, &patch, &scale_kind) {
                    return error(&e, Some(r));
                }
            }
            let Some(replicas) = scale_obj.pointer("/spec/replicas").and_then(Value::as_i64) else {
                return bad_request("spec.replicas must be an integer");
            };
            // The replicas written at the resource's own path, as a merge patch.
            let write = spec_ptr.rsplit('/').filter(|s| !s.is_empty()).fold(json!(replicas), |inner, seg| json!({ seg: inner }));
            let dry = q.get("dryRun").is_some_and(|v| v == "All");
            store.writes(dry).patch_by(r, ns, name, &Patch::Merge(write), &super::field_manager(q, headers), false)
        }
        _ => return respond(StatusCode::METHOD_NOT_ALLOWED, &status(405, "MethodNotAllowed", "scale supports get, update and patch", None)),
    };
    match result {
        Ok(o) => ok(&as_scale(&o)),
        Err(e) => error(&e, Some(r)),
    }
}
