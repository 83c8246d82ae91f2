//! The API server's built-in validation of what `MemCluster` stores: names per kind (RFC 1123
//! label or subdomain, RFC 1035 label for Services, path segments for RBAC objects), label and
//! annotation keys and values, a CRD's name, and the fields Kubernetes refuses to change
//! (immutable ConfigMap/Secret data, workload selectors, a Job's template, a Service's cluster
//! IP, a CRD's scope). Messages follow the API server's field errors.

use super::{ApiResource, FieldError};
use serde_json::Value;

/// Namespaces the API server refuses to delete.
pub(super) const IMMORTAL_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public"];

fn quoted(s: &str) -> String {
    format!("{s:?}")
}

/// A value as the API server quotes it in an error (JSON here; Go syntax there).
fn shown(v: Option<&Value>) -> String {
    v.map_or_else(|| "null".to_string(), Value::to_string)
}

/// The object's name (by its kind's rule), namespace, labels, annotations, and its pod
/// template's labels and selector: the check the renderer runs on what it renders
/// ([`katalog::names::check_object`]), so both refuse the same objects.
fn metadata(obj: &Value) -> Vec<FieldError> {
    katalog::names::check_object(obj).into_iter().map(|v| FieldError::invalid(&v.field, &quoted(&v.value), &v.message)).collect()
}

/// Everything wrong with `obj` as a new object of `r` (its name already resolved).
pub(super) fn on_create(r: &ApiResource, obj: &Value) -> Vec<FieldError> {
    let mut errs = metadata(obj);
    if r.group == "apiextensions.k8s.io" && r.kind == "CustomResourceDefinition" {
        errs.extend(crd(obj));
    }
    errs
}

fn crd(obj: &Value) -> Vec<FieldError> {
    let s = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or_default();
    let mut errs = Vec::new();
    let (name, group, plural) = (s("/metadata/name"), s("/spec/group"), s("/spec/names/plural"));
    if name != format!("{plural}.{group}") {
        errs.push(FieldError::invalid("metadata.name", &quoted(name), "must be spec.names.plural+\".\"+spec.group"));
    }
    if group.is_empty() {
        errs.push(FieldError::required("spec.group", ""));
    } else if !group.contains('.') {
        errs.push(FieldError::invalid("spec.group", &quoted(group), "should be a domain with at least one dot"));
    }
    if plural.is_empty() {
        errs.push(FieldError::required("spec.names.plural", ""));
    }
    #[cfg(feature = "cel")]
    for (i, version) in obj.pointer("/spec/versions").and_then(Value::as_array).into_iter().flatten().enumerate() {
        if let Some(schema) = version.pointer("/schema/openAPIV3Schema") {
            let mut bad = Vec::new();
            super::cel::compile_errors(schema, &format!("spec.versions[{i}].schema.openAPIV3Schema"), &mut bad);
            errs.extend(bad.into_iter().map(|(field, source, why)| FieldError::invalid(&field, &quoted(&source), &format!("compilation failed: {why}"))));
        }
    }
    errs
}

/// Everything wrong with changing `old` into `new` (an object write, not status).
pub(super) fn on_update(r: &ApiResource, old: &Value, new: &Value) -> Vec<FieldError> {
    let mut errs = metadata(new);
    let at = |o: &Value, p: &str| o.pointer(p).cloned();
    let immutable = |errs: &mut Vec<FieldError>, field: &str, ptr: &str| {
        if at(old, ptr) != at(new, ptr) {
            errs.push(FieldError::invalid(field, &shown(new.pointer(ptr)), "field is immutable"));
        }
    };
    match (r.group.as_str(), r.kind.as_str()) {
        ("", "ConfigMap" | "Secret") if old.get("immutable").and_then(Value::as_bool) == Some(true) => {
            let why = "field is immutable when `immutable` is set";
            if new.get("immutable").and_then(Value::as_bool) != Some(true) {
                errs.push(FieldError::forbidden("immutable", why));
            }
            for field in ["data", "binaryData"] {
                if old.get(field) != new.get(field) {
                    errs.push(FieldError::forbidden(field, why));
                }
            }
        }
        ("apps", "Deployment" | "ReplicaSet" | "DaemonSet") => immutable(&mut errs, "spec.selector", "/spec/selector"),
        ("apps", "StatefulSet") => {
            let frozen = |o: &Value| {
                let mut spec = o.get("spec").cloned().unwrap_or(Value::Null);
                if let Some(m) = spec.as_object_mut() {
                    for k in ["replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"] {
                        m.remove(k);
                    }
                }
                spec
            };
            if frozen(old) != frozen(new) {
                errs.push(FieldError::forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
            }
        }
        ("batch", "Job") => {
            immutable(&mut errs, "spec.selector", "/spec/selector");
            immutable(&mut errs, "spec.template", "/spec/template");
        }
        ("", "Service") => {
            let ip = |o: &Value| o.pointer("/spec/clusterIP").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
            if let (Some(before), Some(after)) = (ip(old), ip(new))
                && before != after
            {
                errs.push(FieldError::invalid("spec.clusterIPs[0]", &format!("[]string{{{after:?}}}"), "may not change once set"));
            }
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            errs.extend(crd(new));
            immutable(&mut errs, "spec.scope", "/spec/scope");
        }
        _ => {}
    }
    errs
}

/// A Service's cluster IP is allocated once: an update that leaves it out keeps the allocated
/// one, as the API server does.
pub(super) fn keep_allocated(r: &ApiResource, old: &Value, new: &mut Value) {
    if r.group.is_empty() && r.kind == "Service" {
        for field in ["clusterIP", "clusterIPs"] {
            let missing =
                new.pointer(&format!("/spec/{field}")).is_none_or(|v| v.is_null() || v.as_str() == Some("") || v.as_array().is_some_and(Vec::is_empty));
            if missing && let (Some(v), Some(spec)) = (old.pointer(&format!("/spec/{field}")), new.get_mut("spec").and_then(Value::as_object_mut)) {
                spec.insert(field.into(), v.clone());
            }
        }
    }
}

/// A Secret's `stringData` is write-only: the API server merges it into `data` (base64) and
/// never stores it.
pub(super) fn fold_string_data(r: &ApiResource, obj: &mut Value) {
    if !(r.group.is_empty() && r.kind == "Secret") {
        return;
    }
    let Some(Value::Object(string_data)) = obj.as_object_mut().and_then(|o| o.remove("stringData")) else { return };
    if !obj.get("data").is_some_and(Value::is_object) {
        obj["data"] = Value::Object(serde_json::Map::new());
    }
    if let Some(Value::Object(data)) = obj.get_mut("data") {
        for (k, v) in string_data {
            data.insert(k, Value::String(katalog::template::base64_encode(v.as_str().unwrap_or_default().as_bytes())));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn res(group: &str, kind: &str) -> ApiResource {
        katalog::kinds::known(group, kind).unwrap_or_else(|| panic!("{kind} is a built-in"))
    }

    #[test]
    fn names_labels_and_crd_names_follow_the_api_server() {
        let svc = res("", "Service");
        let errs = on_create(&svc, &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "Hello_World", "labels": {"a": "x".repeat(64)}}}));
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].detail.starts_with("Invalid value: \"Hello_World\": a DNS-1035 label"), "{errs:?}");
        assert_eq!(errs[1].field, "metadata.labels");
        assert!(on_create(&res("apps", "Deployment"), &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a.b"}})).is_empty());
        assert_eq!(on_create(&res("", "Namespace"), &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a.b"}})).len(), 1);
        let crd = res("apiextensions.k8s.io", "CustomResourceDefinition");
        let bad = on_create(
            &crd,
            &json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "widgets"}, "spec": {"group": "x.io", "names": {"plural": "widgets"}}}),
        );
        assert_eq!(FieldError::join(&bad), "metadata.name: Invalid value: \"widgets\": must be spec.names.plural+\".\"+spec.group");
    }

    #[test]
    fn immutable_fields_cannot_change() {
        let cm = res("", "ConfigMap");
        let old = json!({"metadata": {"name": "c"}, "immutable": true, "data": {"a": "1"}});
        let errs = on_update(&cm, &old, &json!({"metadata": {"name": "c"}, "immutable": true, "data": {"a": "2"}}));
        assert_eq!(FieldError::join(&errs), "data: Forbidden: field is immutable when `immutable` is set");
        assert!(on_update(&cm, &old, &json!({"metadata": {"name": "c", "labels": {"x": "y"}}, "immutable": true, "data": {"a": "1"}})).is_empty());
        let dep = res("apps", "Deployment");
        let d = |app: &str| json!({"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"app": app}}}});
        assert_eq!(on_update(&dep, &d("a"), &d("b"))[0].field, "spec.selector");
        let svc = res("", "Service");
        let s = |ip: &str| json!({"metadata": {"name": "s"}, "spec": {"clusterIP": ip}});
        assert_eq!(
            FieldError::join(&on_update(&svc, &s("10.96.0.10"), &s("10.96.0.11"))),
            "spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.11\"}: may not change once set"
        );
        let mut omitted = json!({"metadata": {"name": "s"}, "spec": {"ports": []}});
        keep_allocated(&svc, &s("10.96.0.10"), &mut omitted);
        assert_eq!(omitted.pointer("/spec/clusterIP"), Some(&json!("10.96.0.10")));
    }

    #[test]
    fn secret_string_data_is_folded_into_data() {
        let mut s = json!({"data": {"a": "eA=="}, "stringData": {"b": "hi"}});
        fold_string_data(&res("", "Secret"), &mut s);
        assert_eq!(s, json!({"data": {"a": "eA==", "b": "aGk="}}));
    }
}
