//! Just enough of the Kubernetes protobuf encoding for what kubectl's typed commands send:
//! the envelope (`k8s\0` + runtime.Unknown), ObjectMeta, and the kinds whose imperative
//! `kubectl create` verbs are common (Namespace, ConfigMap, Secret, ServiceAccount, Role,
//! ClusterRole, RoleBinding, ClusterRoleBinding), plus the reviews of `kubectl auth can-i`.
//! Anything else is answered 415, and kubectl users pass `-f` (JSON) instead.

use serde_json::{Map, Value, json};

/// A decoded field: varint or length-delimited bytes.
#[derive(Debug, Clone)]
enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

fn varint(b: &[u8], i: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*i)?;
        *i += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// Every field of a message, in order (fixed-width fields skipped).
fn fields(b: &[u8]) -> Option<Vec<(u64, Wire<'_>)>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let key = varint(b, &mut i)?;
        match key & 7 {
            0 => out.push((key >> 3, Wire::Varint(varint(b, &mut i)?))),
            2 => {
                let len = usize::try_from(varint(b, &mut i)?).ok()?;
                let end = i.checked_add(len).filter(|e| *e <= b.len())?;
                out.push((key >> 3, Wire::Bytes(&b[i..end])));
                i = end;
            }
            1 => i = i.checked_add(8)?,
            5 => i = i.checked_add(4)?,
            _ => return None,
        }
    }
    Some(out)
}

fn bytes<'a, 'f>(fs: &'f [(u64, Wire<'a>)], n: u64) -> impl Iterator<Item = &'a [u8]> + 'f {
    fs.iter().filter(move |(f, _)| *f == n).filter_map(|(_, w)| match w {
        Wire::Bytes(b) => Some(*b),
        Wire::Varint(_) => None,
    })
}

fn text(fs: &[(u64, Wire<'_>)], n: u64) -> Option<String> {
    bytes(fs, n).last().map(|b| String::from_utf8_lossy(b).into_owned())
}

fn flag(fs: &[(u64, Wire<'_>)], n: u64) -> Option<bool> {
    fs.iter().rev().find_map(|(f, w)| match (f, w) {
        (f, Wire::Varint(v)) if *f == n => Some(*v != 0),
        _ => None,
    })
}

/// A `map<string, string>` (or bytes, base64-encoded as JSON carries them).
fn string_map(fs: &[(u64, Wire<'_>)], n: u64, base64: bool) -> Option<Value> {
    let mut m = Map::new();
    for entry in bytes(fs, n) {
        let e = fields(entry)?;
        let k = text(&e, 1).unwrap_or_default();
        let v = bytes(&e, 2).last().unwrap_or_default();
        let v = if base64 { katalog::template::base64_encode(v) } else { String::from_utf8_lossy(v).into_owned() };
        m.insert(k, json!(v));
    }
    (!m.is_empty()).then_some(Value::Object(m))
}

fn object_meta(b: &[u8]) -> Option<Value> {
    let fs = fields(b)?;
    let mut m = Map::new();
    for (n, key) in [(1, "name"), (2, "generateName"), (3, "namespace")] {
        if let Some(v) = text(&fs, n).filter(|v| !v.is_empty()) {
            m.insert(key.into(), json!(v));
        }
    }
    for (n, key) in [(11, "labels"), (12, "annotations")] {
        if let Some(v) = string_map(&fs, n, false) {
            m.insert(key.into(), v);
        }
    }
    let finalizers: Vec<String> = bytes(&fs, 14).map(|b| String::from_utf8_lossy(b).into_owned()).collect();
    if !finalizers.is_empty() {
        m.insert("finalizers".into(), json!(finalizers));
    }
    Some(Value::Object(m))
}

/// A message of string fields as a JSON object (empty strings left out, as JSON omits them).
fn texts(b: &[u8], names: &[(u64, &str)]) -> Option<Value> {
    let fs = fields(b)?;
    let mut m = Map::new();
    for (n, key) in names {
        if let Some(v) = text(&fs, *n).filter(|v| !v.is_empty()) {
            m.insert((*key).into(), json!(v));
        }
    }
    Some(Value::Object(m))
}

/// An RBAC PolicyRule (repeated string fields).
fn policy_rule(b: &[u8]) -> Option<Value> {
    let fs = fields(b)?;
    let mut m = Map::new();
    for (n, key) in [(1, "verbs"), (2, "apiGroups"), (3, "resources"), (4, "resourceNames"), (5, "nonResourceURLs")] {
        let list: Vec<String> = bytes(&fs, n).map(|v| String::from_utf8_lossy(v).into_owned()).collect();
        if !list.is_empty() || n == 1 {
            m.insert(key.into(), json!(list));
        }
    }
    Some(Value::Object(m))
}

/// The envelope's (apiVersion, kind) and raw object bytes.
fn envelope(body: &[u8]) -> Option<(String, String, Vec<u8>)> {
    let fs = fields(body.strip_prefix(b"k8s\0")?)?;
    let tm = fields(bytes(&fs, 1).last()?)?;
    Some((text(&tm, 1).unwrap_or_default(), text(&tm, 2)?, bytes(&fs, 2).last()?.to_vec()))
}

/// The JSON of a protobuf request body, for the kinds this module knows; `None` otherwise.
pub fn decode(body: &[u8]) -> Option<Value> {
    let (api_version, kind, raw) = envelope(body)?;
    let fs = fields(&raw)?;
    let mut obj = json!({"apiVersion": api_version, "kind": kind, "metadata": object_meta(bytes(&fs, 1).last().unwrap_or_default())?});
    match (api_version.as_str(), kind.as_str()) {
        ("v1", "Namespace") => {}
        ("v1", "ConfigMap") => {
            if let Some(d) = string_map(&fs, 2, false) {
                obj["data"] = d;
            }
            if let Some(d) = string_map(&fs, 3, true) {
                obj["binaryData"] = d;
            }
            if let Some(i) = flag(&fs, 4) {
                obj["immutable"] = json!(i);
            }
        }
        ("v1", "Secret") => {
            if let Some(d) = string_map(&fs, 2, true) {
                obj["data"] = d;
            }
            if let Some(t) = text(&fs, 3) {
                obj["type"] = json!(t);
            }
            if let Some(d) = string_map(&fs, 4, false) {
                obj["stringData"] = d;
            }
            if let Some(i) = flag(&fs, 5) {
                obj["immutable"] = json!(i);
            }
        }
        ("rbac.authorization.k8s.io/v1", "Role" | "ClusterRole") => {
            let rules: Option<Vec<Value>> = bytes(&fs, 2).map(policy_rule).collect();
            obj["rules"] = json!(rules?);
        }
        ("rbac.authorization.k8s.io/v1", "RoleBinding" | "ClusterRoleBinding") => {
            let subjects: Option<Vec<Value>> = bytes(&fs, 2).map(|b| texts(b, &[(1, "kind"), (2, "apiGroup"), (3, "name"), (4, "namespace")])).collect();
            obj["subjects"] = json!(subjects?);
            obj["roleRef"] = texts(bytes(&fs, 3).last()?, &[(1, "apiGroup"), (2, "kind"), (3, "name")])?;
        }
        ("v1", "ServiceAccount") => {
            if let Some(a) = flag(&fs, 4) {
                obj["automountServiceAccountToken"] = json!(a);
            }
        }
        _ => return None,
    }
    Some(obj)
}

/// The `spec` of a protobuf SelfSubjectAccessReview (resource or non-resource attributes) as
/// JSON.
pub fn access_review(body: &[u8]) -> Option<Value> {
    let (_, kind, raw) = envelope(body)?;
    if kind != "SelfSubjectAccessReview" {
        return None;
    }
    let spec = fields(bytes(&fields(&raw)?, 2).last()?)?;
    let read = |n: u64, names: &[(u64, &str)]| texts(bytes(&spec, n).last()?, names);
    let resource = [(1, "namespace"), (2, "verb"), (3, "group"), (4, "version"), (5, "resource"), (6, "subresource"), (7, "name")];
    let spec = match (read(1, &resource), read(2, &[(1, "path"), (2, "verb")])) {
        (Some(a), _) => json!({"resourceAttributes": a}),
        (None, Some(a)) => json!({"nonResourceAttributes": a}),
        (None, None) => return None,
    };
    Some(json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": spec}))
}

/// The `spec.namespace` of a protobuf SelfSubjectRulesReview as JSON.
pub fn rules_review(body: &[u8]) -> Option<Value> {
    let (_, kind, raw) = envelope(body)?;
    if kind != "SelfSubjectRulesReview" {
        return None;
    }
    let spec = bytes(&fields(&raw)?, 2).last().and_then(fields);
    let namespace = spec.and_then(|s| text(&s, 1)).unwrap_or_default();
    Some(json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview", "spec": {"namespace": namespace}}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(n: u64, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![((n << 3) | 2) as u8, payload.len() as u8];
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn a_protobuf_configmap_decodes_to_its_json() {
        let label = [field(1, b"app"), field(2, b"web")].concat();
        let meta = [field(1, b"c1"), field(3, b"demo"), field(11, &label)].concat();
        let data = [field(1, b"a"), field(2, b"b")].concat();
        let raw = [field(1, &meta), field(2, &data)].concat();
        let type_meta = [field(1, b"v1"), field(2, b"ConfigMap")].concat();
        let body = [b"k8s\0".to_vec(), field(1, &type_meta), field(2, &raw)].concat();
        assert_eq!(
            decode(&body).unwrap(),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c1", "namespace": "demo", "labels": {"app": "web"}}, "data": {"a": "b"}})
        );
        assert!(decode(b"not protobuf").is_none());
        let deployment = [b"k8s\0".to_vec(), field(1, &[field(1, b"apps/v1"), field(2, b"Deployment")].concat()), field(2, &raw)].concat();
        assert!(decode(&deployment).is_none(), "unknown kinds are not guessed");
    }
}
