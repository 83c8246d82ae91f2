//! Kubernetes' rules for object names, label keys and values, and annotation keys, as the API
//! server applies them (`k8s.io/apimachinery/pkg/util/validation`), with the API server's wording.
//!
//! One implementation serves the renderer (which refuses to produce a child the API server would
//! reject), the dev cluster (which rejects it with 422, as the API server does) and the CLI.

/// Longest DNS-1123 / DNS-1035 label.
pub const LABEL_MAX: usize = 63;
/// Longest DNS-1123 subdomain.
pub const SUBDOMAIN_MAX: usize = 253;
/// Largest total size of an object's annotations (keys plus values), in bytes.
pub const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

/// What a kind's `metadata.name` must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// RFC 1123 label: lowercase alphanumerics and '-', at most 63 (Namespaces).
    Dns1123Label,
    /// RFC 1035 label: the same, starting with a letter (Services).
    Dns1035Label,
    /// RFC 1123 subdomain: labels joined by '.', at most 253 (most kinds).
    Dns1123Subdomain,
    /// Any string usable as a URL path segment: not `.` or `..`, no `/` or `%` (RBAC objects).
    PathSegment,
}

impl NameRule {
    /// The rule the API server applies to names of `kind` in API group `group`.
    pub fn for_kind(group: &str, kind: &str) -> NameRule {
        match (group, kind) {
            ("", "Namespace") => NameRule::Dns1123Label,
            ("", "Service") => NameRule::Dns1035Label,
            ("rbac.authorization.k8s.io", "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding") => NameRule::PathSegment,
            _ => NameRule::Dns1123Subdomain,
        }
    }

    /// Short name of the rule, for messages ("RFC 1123 label", …).
    pub fn describe(self) -> &'static str {
        match self {
            NameRule::Dns1123Label => "RFC 1123 label",
            NameRule::Dns1035Label => "RFC 1035 label",
            NameRule::Dns1123Subdomain => "RFC 1123 subdomain",
            NameRule::PathSegment => "path segment name",
        }
    }

    /// Checks `name`; the API server's messages for each way it fails (empty when valid).
    pub fn check(self, name: &str) -> Vec<String> {
        if name.is_empty() {
            return vec!["Required value: name or generateName is required".into()];
        }
        match self {
            NameRule::Dns1123Label => dns1123_label(name),
            NameRule::Dns1035Label => dns1035_label(name),
            NameRule::Dns1123Subdomain => dns1123_subdomain(name),
            NameRule::PathSegment => path_segment(name),
        }
    }
}

fn alnum_lower(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn too_long(max: usize) -> String {
    format!("must be no more than {max} characters")
}

fn is_label_of(s: &str, first: fn(u8) -> bool) -> bool {
    let b = s.as_bytes();
    !b.is_empty() && first(b[0]) && alnum_lower(b[b.len() - 1]) && b.iter().all(|&c| alnum_lower(c) || c == b'-')
}

/// RFC 1123 label; the API server's messages when `s` is not one.
pub fn dns1123_label(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    if s.len() > LABEL_MAX {
        out.push(too_long(LABEL_MAX));
    }
    if !is_label_of(s, alnum_lower) {
        out.push("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')".into());
    }
    out
}

/// RFC 1035 label (starts with a letter); the API server's messages when `s` is not one.
pub fn dns1035_label(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    if s.len() > LABEL_MAX {
        out.push(too_long(LABEL_MAX));
    }
    if !is_label_of(s, |b| b.is_ascii_lowercase()) {
        out.push("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')".into());
    }
    out
}

/// Whether `s` is an RFC 1123 subdomain.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= SUBDOMAIN_MAX && s.split('.').all(|l| is_label_of(l, alnum_lower))
}

/// RFC 1123 subdomain; the API server's messages when `s` is not one.
pub fn dns1123_subdomain(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    if s.len() > SUBDOMAIN_MAX {
        out.push(too_long(SUBDOMAIN_MAX));
    }
    if !s.split('.').all(|l| is_label_of(l, alnum_lower)) {
        out.push("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".into());
    }
    out
}

/// A name usable as one URL path segment; the API server's messages when `s` is not one.
pub fn path_segment(s: &str) -> Vec<String> {
    if s == "." || s == ".." {
        return vec![format!("may not be '{s}'")];
    }
    ["/", "%"].iter().filter(|c| s.contains(**c)).map(|c| format!("may not contain '{c}'")).collect()
}

fn is_qualified_part(s: &str) -> bool {
    let b = s.as_bytes();
    let ok = |c: u8| c.is_ascii_alphanumeric();
    !b.is_empty() && ok(b[0]) && ok(b[b.len() - 1]) && b.iter().all(|&c| ok(c) || matches!(c, b'-' | b'_' | b'.'))
}

/// A qualified name (`[prefix/]name`): what label and annotation keys must be; the API server's
/// messages when `s` is not one.
pub fn qualified_name(s: &str) -> Vec<String> {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    let mut out = Vec::new();
    if name.contains('/') {
        return vec!["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')".into()];
    }
    if let Some(p) = prefix {
        if p.is_empty() {
            out.push("prefix part must be non-empty".into());
        } else {
            out.extend(dns1123_subdomain(p).into_iter().map(|m| format!("prefix part {m}")));
        }
    }
    if name.is_empty() {
        out.push("name part must be non-empty".into());
    } else if name.len() > LABEL_MAX {
        out.push(format!("name part {}", too_long(LABEL_MAX)));
    }
    if !is_qualified_part(name) {
        out.push("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')".into());
    }
    out
}

/// A label value (empty, or at most 63 characters of a qualified name part); the API server's
/// messages when `s` is not one.
pub fn label_value(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    if s.len() > LABEL_MAX {
        out.push(too_long(LABEL_MAX));
    }
    if !s.is_empty() && !is_qualified_part(s) {
        out.push("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')".into());
    }
    out
}

/// One violation in an object's metadata: the field path (`metadata.labels`, …), the offending
/// value as the API server quotes it, and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaViolation {
    /// `metadata.name`, `metadata.labels`, `metadata.annotations`.
    pub field: String,
    /// The value that is refused (a name, a key or a label value).
    pub value: String,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for MetaViolation {
    /// `metadata.labels: Invalid value: "x": must be no more than 63 characters`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown: String =
            if self.value.chars().count() > 80 { format!("{}...", self.value.chars().take(77).collect::<String>()) } else { self.value.clone() };
        write!(f, "{}: Invalid value: {shown:?}: {}", self.field, self.message)
    }
}

/// Every violation of the name, label and annotation rules in `metadata` (a JSON object) of an
/// object of `kind` in `group`; `name` is checked unless the object is named by `generateName`.
pub fn check_metadata(group: &str, kind: &str, metadata: &serde_json::Value) -> Vec<MetaViolation> {
    let mut out = Vec::new();
    let v = |field: &str, value: &str, message: String| MetaViolation { field: field.into(), value: value.into(), message };
    if let Some(name) = metadata.get("name").and_then(serde_json::Value::as_str).filter(|n| !n.is_empty()) {
        for m in NameRule::for_kind(group, kind).check(name) {
            out.push(v("metadata.name", name, m));
        }
    }
    if let Some(ns) = metadata.get("namespace").and_then(serde_json::Value::as_str).filter(|n| !n.is_empty()) {
        for m in dns1123_label(ns) {
            out.push(v("metadata.namespace", ns, m));
        }
    }
    if let Some(labels) = metadata.get("labels").and_then(serde_json::Value::as_object) {
        for (k, val) in labels {
            for m in qualified_name(k) {
                out.push(v("metadata.labels", k, m));
            }
            match val.as_str() {
                Some(s) => out.extend(label_value(s).into_iter().map(|m| v("metadata.labels", s, m))),
                None => out.push(v("metadata.labels", &val.to_string(), "label values must be strings".into())),
            }
        }
    }
    if let Some(ann) = metadata.get("annotations").and_then(serde_json::Value::as_object) {
        let mut total = 0usize;
        for (k, val) in ann {
            for m in qualified_name(&k.to_ascii_lowercase()) {
                out.push(v("metadata.annotations", k, m));
            }
            total += k.len() + val.as_str().map_or(0, str::len);
        }
        if total > ANNOTATIONS_MAX_BYTES {
            out.push(v("metadata.annotations", "", format!("Too long: may not be more than {ANNOTATIONS_MAX_BYTES} bytes")));
        }
    }
    out
}

/// Every violation of the name, label and annotation rules in a whole object (`apiVersion`,
/// `kind`, `metadata`, `spec`) as the API server checks it on create: its own metadata
/// ([`check_metadata`]) and, for the built-in kinds whose spec the API server validates, the
/// labels and annotations of the pod template they carry (`spec.template`, and
/// `spec.jobTemplate` with its pod template for a CronJob) and their label selector
/// (`spec.selector`: a Service's map, a workload's or PodDisruptionBudget's `matchLabels`). A
/// custom kind's spec is its CRD schema's business, so only its metadata is checked. Field
/// paths are the object's (`spec.template.metadata.labels`).
pub fn check_object(object: &serde_json::Value) -> Vec<MetaViolation> {
    use serde_json::Value;
    let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or_default();
    let mut out = object.get("metadata").map(|m| check_metadata(group, kind, m)).unwrap_or_default();
    let Some(spec) = object.get("spec") else { return out };
    let nested = |prefix: &str, meta: Option<&Value>, out: &mut Vec<MetaViolation>| {
        let Some(meta) = meta else { return };
        // A template's metadata carries labels and annotations; its name, if any, is ignored.
        let only: serde_json::Map<String, Value> = meta
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| matches!(k.as_str(), "labels" | "annotations"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.extend(check_metadata("", "", &Value::Object(only)).into_iter().map(|v| MetaViolation { field: format!("{prefix}.{}", v.field), ..v }));
    };
    let workload = matches!((group, kind), ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") | ("batch", "Job"));
    if workload {
        nested("spec.template", spec.pointer("/template/metadata"), &mut out);
    }
    if (group, kind) == ("batch", "CronJob") {
        nested("spec.jobTemplate", spec.pointer("/jobTemplate/metadata"), &mut out);
        nested("spec.jobTemplate.spec.template", spec.pointer("/jobTemplate/spec/template/metadata"), &mut out);
    }
    let selector = match (group, kind) {
        ("", "Service") => spec.get("selector").map(|s| ("spec.selector", s)),
        _ if workload || (group, kind) == ("policy", "PodDisruptionBudget") => spec.pointer("/selector/matchLabels").map(|s| ("spec.selector.matchLabels", s)),
        _ => None,
    };
    if let Some((field, Value::Object(labels))) = selector {
        let as_labels = serde_json::json!({ "labels": labels });
        out.extend(check_metadata("", "", &as_labels).into_iter().map(|v| MetaViolation { field: field.to_string(), ..v }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_api_server_rules() {
        assert!(dns1123_label("my-ns").is_empty());
        assert!(dns1123_label("1ns").is_empty());
        assert_eq!(dns1123_label("My_ns").len(), 1);
        assert_eq!(dns1123_label(&"a".repeat(64)), vec!["must be no more than 63 characters".to_string()]);
        assert!(dns1035_label("web").is_empty());
        assert_eq!(dns1035_label("1web").len(), 1);
        assert!(dns1123_subdomain("a.b-c.d").is_empty());
        assert_eq!(dns1123_subdomain("a..b").len(), 1);
        assert_eq!(dns1123_subdomain("Hello_World").len(), 1);
        assert_eq!(dns1123_subdomain(&"a".repeat(254)), vec!["must be no more than 253 characters".to_string()]);
        assert!(path_segment("system:controller:x").is_empty());
        assert_eq!(path_segment("a/b"), vec!["may not contain '/'".to_string()]);
        assert_eq!(path_segment(".."), vec!["may not be '..'".to_string()]);
        assert_eq!(NameRule::for_kind("", "Service"), NameRule::Dns1035Label);
        assert_eq!(NameRule::for_kind("apps", "Deployment"), NameRule::Dns1123Subdomain);
        assert_eq!(NameRule::Dns1123Subdomain.check(""), vec!["Required value: name or generateName is required".to_string()]);
    }

    #[test]
    fn labels_and_annotations_follow_the_api_server_rules() {
        assert!(qualified_name("app.kubernetes.io/name").is_empty());
        assert!(qualified_name("Tier_1").is_empty());
        assert_eq!(qualified_name("/x"), vec!["prefix part must be non-empty".to_string()]);
        assert_eq!(qualified_name(&"a".repeat(64)), vec!["name part must be no more than 63 characters".to_string()]);
        assert_eq!(qualified_name("a/b/c").len(), 1);
        assert!(label_value("").is_empty());
        assert!(label_value("v1.2_x-y").is_empty());
        assert_eq!(label_value("-x").len(), 1);
        assert_eq!(label_value(&"a".repeat(70)), vec!["must be no more than 63 characters".to_string()]);
        let meta = serde_json::json!({"name": "Hello_World", "labels": {"app": "x".repeat(70)}, "annotations": {"ok/fine": "v"}});
        let v = check_metadata("", "Service", &meta);
        let shown: Vec<String> = v.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert!(shown[0].starts_with("metadata.name: Invalid value: \"Hello_World\": a DNS-1035 label"), "{shown:?}");
        assert!(shown[1].starts_with("metadata.labels: Invalid value: \"xxxx"), "{shown:?}");
        assert!(shown[1].ends_with("must be no more than 63 characters"), "{shown:?}");
    }

    #[test]
    fn whole_objects_are_checked_like_the_api_server_does() {
        let long = "a".repeat(70);
        let deployment = serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"selector": {"matchLabels": {"app": long}}, "template": {"metadata": {"labels": {"app": long, "bad key!": "x"}}}}
        });
        let fields: Vec<String> = check_object(&deployment).iter().map(|v| v.field.clone()).collect();
        assert_eq!(fields, ["spec.template.metadata.labels", "spec.template.metadata.labels", "spec.selector.matchLabels"]);
        let service = serde_json::json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": long}, "spec": {"selector": {"app": long}}});
        let shown: Vec<String> = check_object(&service).iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert!(shown[0].starts_with("metadata.name: Invalid value: \"aaaa") && shown[0].ends_with("must be no more than 63 characters"), "{shown:?}");
        assert!(shown[1].starts_with("spec.selector: Invalid value"), "{shown:?}");
        let cron = serde_json::json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
            "spec": {"jobTemplate": {"spec": {"template": {"metadata": {"annotations": {"/x": "y"}}}}}}});
        let fields: Vec<String> = check_object(&cron).iter().map(|v| v.field.clone()).collect();
        assert_eq!(fields, ["spec.jobTemplate.spec.template.metadata.annotations"]);
        let fine = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x.y", "namespace": "default"}, "data": {"k": "v"}});
        assert!(check_object(&fine).is_empty());
        // A custom kind's spec is not the API server's to check; its metadata is.
        let custom = serde_json::json!({"apiVersion": "x.dev/v1", "kind": "Rollout", "metadata": {"name": "Bad_Name"},
            "spec": {"selector": {"matchLabels": {"app": long}}, "template": {"metadata": {"labels": {"app": long}}}}});
        let fields: Vec<String> = check_object(&custom).iter().map(|v| v.field.clone()).collect();
        assert_eq!(fields, ["metadata.name"]);
    }
}
