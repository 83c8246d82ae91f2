//! Label selectors (equality- and set-based) and the field selectors every resource supports.

use super::{ApiResource, ClusterError};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector(Vec<Requirement>);

/// Splits on commas outside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let (mut depth, mut start, mut out) = (0i32, 0usize, Vec::new());
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn valid_key(k: &str) -> bool {
    !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

impl LabelSelector {
    /// Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h`.
    pub fn parse(s: &str) -> Result<LabelSelector, ClusterError> {
        let bad = |part: &str| ClusterError::BadRequest(format!("unable to parse label selector requirement `{part}`"));
        let mut reqs = Vec::new();
        for part in split_top(s).into_iter().map(str::trim).filter(|p| !p.is_empty()) {
            let set = |rest: &str| -> Option<Vec<String>> {
                let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
                Some(inner.split(',').map(|v| v.trim().to_string()).collect())
            };
            let req = if let Some(k) = part.strip_prefix('!') {
                Requirement::NotExists(k.trim().to_string())
            } else if let Some((k, v)) = part.split_once("!=") {
                Requirement::NotEq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                Requirement::Eq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, rest)) = part.split_once(" notin ") {
                Requirement::NotIn(k.trim().to_string(), set(rest).ok_or_else(|| bad(part))?)
            } else if let Some((k, rest)) = part.split_once(" in ") {
                Requirement::In(k.trim().to_string(), set(rest).ok_or_else(|| bad(part))?)
            } else {
                Requirement::Exists(part.to_string())
            };
            let key = match &req {
                Requirement::Eq(k, _) | Requirement::NotEq(k, _) | Requirement::In(k, _) | Requirement::NotIn(k, _) => k,
                Requirement::Exists(k) | Requirement::NotExists(k) => k,
            };
            if !valid_key(key) {
                return Err(bad(part));
            }
            reqs.push(req);
        }
        Ok(LabelSelector(reqs))
    }

    /// The `key=value` requirements (what a label index can answer).
    pub fn equalities(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().filter_map(|r| match r {
            Requirement::Eq(k, v) => Some((k.as_str(), v.as_str())),
            _ => None,
        })
    }

    /// Whether an object's labels satisfy every requirement.
    pub fn matches(&self, obj: &Value) -> bool {
        let labels = obj.pointer("/metadata/labels");
        self.matches_labels(|k| labels.and_then(|l| l.get(k)).and_then(Value::as_str))
    }

    /// Whether the labels `get` reads (a label's value by key) satisfy every requirement.
    pub fn matches_labels<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.0.iter().all(|r| match r {
            Requirement::Eq(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEq(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
        })
    }
}

/// The field selectors a resource supports beyond `metadata.name` and `metadata.namespace`
/// (the API server's field label conversions), with the path each one reads.
fn field_labels(r: &ApiResource) -> &'static [(&'static str, &'static str)] {
    match (r.group.as_str(), r.plural.as_str()) {
        ("", "events") => &[
            ("involvedObject.kind", "/involvedObject/kind"),
            ("involvedObject.namespace", "/involvedObject/namespace"),
            ("involvedObject.name", "/involvedObject/name"),
            ("involvedObject.uid", "/involvedObject/uid"),
            ("involvedObject.apiVersion", "/involvedObject/apiVersion"),
            ("involvedObject.resourceVersion", "/involvedObject/resourceVersion"),
            ("involvedObject.fieldPath", "/involvedObject/fieldPath"),
            ("reason", "/reason"),
            ("reportingComponent", "/reportingComponent"),
            ("source", "/source/component"),
            ("type", "/type"),
        ],
        ("events.k8s.io", "events") => &[
            ("regarding.kind", "/regarding/kind"),
            ("regarding.namespace", "/regarding/namespace"),
            ("regarding.name", "/regarding/name"),
            ("regarding.uid", "/regarding/uid"),
            ("regarding.apiVersion", "/regarding/apiVersion"),
            ("regarding.resourceVersion", "/regarding/resourceVersion"),
            ("regarding.fieldPath", "/regarding/fieldPath"),
            ("reason", "/reason"),
            ("reportingController", "/reportingController"),
            ("type", "/type"),
        ],
        ("", "pods") => &[
            ("spec.nodeName", "/spec/nodeName"),
            ("spec.restartPolicy", "/spec/restartPolicy"),
            ("spec.schedulerName", "/spec/schedulerName"),
            ("spec.serviceAccountName", "/spec/serviceAccountName"),
            ("spec.hostNetwork", "/spec/hostNetwork"),
            ("status.phase", "/status/phase"),
            ("status.podIP", "/status/podIP"),
            ("status.nominatedNodeName", "/status/nominatedNodeName"),
        ],
        ("", "secrets") => &[("type", "/type")],
        ("", "namespaces") => &[("status.phase", "/status/phase")],
        ("", "nodes") => &[("spec.unschedulable", "/spec/unschedulable")],
        ("", "replicationcontrollers") | ("apps", "replicasets") => &[("status.replicas", "/status/replicas")],
        ("batch", "jobs") => &[("status.successful", "/status/succeeded")],
        _ => &[],
    }
}

/// A field selector: `metadata.name` and `metadata.namespace` on every resource, plus the
/// fields the API server supports for the resource (`involvedObject.name` on events, …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    /// Parses `metadata.name=x,metadata.namespace!=y` for resource `r`.
    pub fn parse(r: &ApiResource, s: &str) -> Result<FieldSelector, ClusterError> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, eq, v) = if let Some((k, v)) = part.split_once("!=") {
                (k, false, v)
            } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                (k, true, v)
            } else {
                return Err(ClusterError::BadRequest(format!("invalid field selector `{part}`")));
            };
            let k = k.trim();
            let path = match k {
                "metadata.name" => "/metadata/name",
                "metadata.namespace" => "/metadata/namespace",
                other => field_labels(r)
                    .iter()
                    .find(|(label, _)| *label == other)
                    .map(|(_, path)| *path)
                    .ok_or_else(|| ClusterError::BadRequest(format!("field label not supported: {other}")))?,
            };
            out.push((path.to_string(), eq, v.trim().to_string()));
        }
        Ok(FieldSelector(out))
    }

    /// Whether the object satisfies every requirement (a missing field reads as "").
    pub fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(path, eq, v)| {
            let actual = match obj.pointer(path) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            (actual == *v) == *eq
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selectors_match_like_kubernetes() {
        let o = json!({"metadata": {"name": "a", "namespace": "n", "labels": {"app": "web", "tier": "front"}}});
        let m = |s: &str| LabelSelector::parse(s).unwrap_or_else(|e| panic!("{e}")).matches(&o);
        assert!(m(""));
        assert!(m("app=web"));
        assert!(m("app==web,tier"));
        assert!(!m("app=db"));
        assert!(m("app!=db"));
        assert!(m("tier in (front, back)"));
        assert!(!m("tier notin (front)"));
        assert!(m("!legacy"));
        assert!(!m("!app"));
        assert!(m("legacy notin (x)"), "notin matches objects without the label");
        assert!(LabelSelector::parse("tier in front").is_err());
        assert!(LabelSelector::parse("a b=c").is_err());
        let cm = katalog::kinds::known("", "ConfigMap").unwrap();
        let f = |s: &str| FieldSelector::parse(&cm, s).unwrap_or_else(|e| panic!("{e}")).matches(&o);
        assert!(f("metadata.name=a,metadata.namespace!=x"));
        assert!(!f("metadata.name!=a"));
        assert!(FieldSelector::parse(&cm, "spec.x=1").is_err());
        let events = katalog::kinds::known("", "Event").unwrap();
        let ev = json!({"involvedObject": {"kind": "ConfigMap", "name": "a", "namespace": "n"}, "type": "Normal"});
        let e = |s: &str| FieldSelector::parse(&events, s).unwrap_or_else(|e| panic!("{e}")).matches(&ev);
        assert!(e("involvedObject.name=a,involvedObject.namespace=n,involvedObject.kind=ConfigMap,involvedObject.uid="));
        assert!(!e("type=Warning"));
        assert!(FieldSelector::parse(&cm, "involvedObject.name=a").is_err(), "only events have involvedObject");
    }
}
