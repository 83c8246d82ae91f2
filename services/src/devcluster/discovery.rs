//! Discovery: `/api`, `/apis`, the APIResourceList of each group/version (with short names,
//! singular names, categories, verbs and subresources — for custom resources, read from their
//! CustomResourceDefinition), and the OpenAPI v3 index kubectl reads before it sends a patch.

use super::api::Api;
use super::conversion;
use crate::cluster::ApiResource;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The name of the ObjectMeta schema in OpenAPI documents, as the API server names it.
const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// The Kubernetes minor version the dev cluster reports.
pub(super) const MINOR: &str = "32";

/// Where a resource's `scale` subresource reads and writes its replicas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ScalePaths {
    /// JSON path of the desired replicas (`.spec.replicas`).
    pub spec_replicas: String,
    /// JSON path of the observed replicas (`.status.replicas`).
    pub status_replicas: String,
    /// JSON path of the label selector the scale reports, if any.
    pub label_selector: Option<String>,
}

/// What discovery says of one resource beyond its identity.
#[derive(Debug, Clone, Default)]
pub(super) struct Names {
    short: Vec<String>,
    singular: String,
    categories: Vec<String>,
}

impl Api {
    /// The resources served at a group/version, with whether each has a status subresource
    /// there: a custom resource at every version its CRD serves.
    fn served(&self, group: &str, version: &str) -> Vec<(ApiResource, bool)> {
        self.store
            .served()
            .into_iter()
            .filter(|(r, _)| r.group == group)
            .filter_map(|(r, status)| {
                let crd = self.crd_of(&r.group, &r.plural);
                if crd.is_none() {
                    return (r.version == version).then_some((r, status));
                }
                let versions = conversion::served_versions(&self.store, &r);
                let at = crd.as_ref()?.pointer("/spec/versions")?.as_array()?.iter().find(|v| v.get("name").and_then(Value::as_str) == Some(version))?;
                let status = at.pointer("/subresources/status").is_some();
                versions.iter().any(|v| v == version).then(|| (ApiResource { version: version.to_string(), ..r }, status))
            })
            .collect()
    }

    /// Every served (resource, version): a custom resource once per version its CRD serves.
    fn served_at_every_version(&self) -> Vec<ApiResource> {
        self.store
            .served()
            .into_iter()
            .flat_map(|(r, _)| conversion::served_versions(&self.store, &r).into_iter().map(move |v| ApiResource { version: v, ..r.clone() }))
            .collect()
    }

    /// The CustomResourceDefinition that serves `(group, plural)`, if it is a custom resource.
    pub(super) fn crd_of(&self, group: &str, plural: &str) -> Option<Value> {
        conversion::crd(&self.store, group, plural)
    }

    fn names(&self, r: &ApiResource) -> Names {
        if let Some(crd) = self.crd_of(&r.group, &r.plural) {
            let list = |p: &str| {
                crd.pointer(p).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect()).unwrap_or_default()
            };
            let singular =
                crd.pointer("/spec/names/singular").and_then(Value::as_str).filter(|s| !s.is_empty()).map_or_else(|| r.kind.to_lowercase(), str::to_string);
            return Names { short: list("/spec/names/shortNames"), singular, categories: list("/spec/names/categories") };
        }
        // The workload kinds are in the category `all` (`kubectl get all`), as in Kubernetes.
        let all = matches!(
            (r.group.as_str(), r.plural.as_str()),
            ("", "pods" | "replicationcontrollers" | "services")
                | ("apps", "daemonsets" | "deployments" | "replicasets" | "statefulsets")
                | ("autoscaling", "horizontalpodautoscalers")
                | ("batch", "cronjobs" | "jobs")
        );
        let categories = if all { vec!["all".to_string()] } else { Vec::new() };
        Names { short: short_names(&r.group, &r.plural).iter().map(|s| s.to_string()).collect(), singular: r.kind.to_lowercase(), categories }
    }

    /// The `scale` subresource of `r`: built in for Deployments, StatefulSets and ReplicaSets;
    /// declared by `subresources.scale` of the served version for custom resources.
    pub(super) fn scale_paths(&self, r: &ApiResource) -> Option<ScalePaths> {
        if r.group == "apps" && matches!(r.plural.as_str(), "deployments" | "statefulsets" | "replicasets") {
            return Some(ScalePaths { spec_replicas: ".spec.replicas".into(), status_replicas: ".status.replicas".into(), label_selector: None });
        }
        let crd = self.crd_of(&r.group, &r.plural)?;
        let version = crd.pointer("/spec/versions")?.as_array()?.iter().find(|v| v.get("name").and_then(Value::as_str) == Some(r.version.as_str()))?;
        let scale = version.pointer("/subresources/scale")?;
        let s = |k: &str| scale.get(k).and_then(Value::as_str).map(str::to_string);
        Some(ScalePaths { spec_replicas: s("specReplicasPath")?, status_replicas: s("statusReplicasPath")?, label_selector: s("labelSelectorPath") })
    }

    pub(super) fn resource_list(&self, group: &str, version: &str) -> Option<Value> {
        let served = self.served(group, version);
        if served.is_empty() {
            return None;
        }
        let gv = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
        let mut resources = Vec::new();
        for (r, status) in served {
            let verbs = if super::reviews::is_review(&r.group, &r.plural) {
                json!(["create"])
            } else {
                json!(["create", "delete", "get", "list", "patch", "update", "watch"])
            };
            let names = self.names(&r);
            let mut entry = json!({"name": r.plural, "singularName": names.singular, "namespaced": r.namespaced, "kind": r.kind, "verbs": verbs});
            if !names.short.is_empty() {
                entry["shortNames"] = json!(names.short);
            }
            if !names.categories.is_empty() {
                entry["categories"] = json!(names.categories);
            }
            resources.push(entry);
            if status {
                resources.push(
                    json!({"name": format!("{}/status", r.plural), "singularName": "", "namespaced": r.namespaced, "kind": r.kind, "verbs": ["get", "patch", "update"]}),
                );
            }
            if self.scale_paths(&r).is_some() {
                resources.push(json!({"name": format!("{}/scale", r.plural), "singularName": "", "namespaced": r.namespaced, "group": "autoscaling",
                                      "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]}));
            }
        }
        Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}))
    }

    /// `/openapi/v3`: one document per group/version.
    pub(super) fn openapi_root(&self) -> Value {
        let mut paths = serde_json::Map::new();
        for r in self.served_at_every_version() {
            let p = if r.group.is_empty() { format!("api/{}", r.version) } else { format!("apis/{}/{}", r.group, r.version) };
            paths.insert(p.clone(), json!({"serverRelativeURL": format!("/openapi/v3/{p}")}));
        }
        json!({"paths": paths})
    }

    /// The OpenAPI v3 document of a group/version: one PATCH and POST operation per resource,
    /// declaring the `fieldValidation` parameter, which is what kubectl looks for before it
    /// leaves validation to the server; and one schema per kind, tagged with its
    /// `x-kubernetes-group-version-kind`, which `kubectl explain` reads (`schema_of`). The PATCH
    /// operations declare no request body, so kubectl does not compute strategic merge patches
    /// from these schemas (it uses its own types).
    pub(super) fn openapi_doc(&self, group: &str, version: &str) -> Option<Value> {
        let served = self.served(group, version);
        if served.is_empty() {
            return None;
        }
        let base = if group.is_empty() { format!("/api/{version}") } else { format!("/apis/{group}/{version}") };
        let mut paths = serde_json::Map::new();
        let param = json!([{"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                           {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true}}]);
        let mut schemas = serde_json::Map::new();
        schemas.insert(OBJECT_META.into(), json!({"type": "object", "description": "Standard object metadata: name, namespace, labels, annotations, ownerReferences, finalizers and what the server sets (uid, resourceVersion, creationTimestamp, generation, managedFields)."}));
        for (r, _) in served {
            let gvk = json!({"group": r.group, "version": r.version, "kind": r.kind});
            let (schema_name, schema) = self.schema_of(&r);
            schemas.insert(schema_name, schema);
            let coll = if r.namespaced { format!("{base}/namespaces/{{namespace}}/{}", r.plural) } else { format!("{base}/{}", r.plural) };
            paths.insert(
                coll.clone(),
                json!({"post": {"x-kubernetes-action": "post", "x-kubernetes-group-version-kind": gvk, "parameters": param, "responses": {}}}),
            );
            paths.insert(
                format!("{coll}/{{name}}"),
                json!({"patch": {"x-kubernetes-action": "patch", "x-kubernetes-group-version-kind": gvk, "parameters": param, "responses": {}}}),
            );
        }
        Some(
            json!({"openapi": "3.0.0", "info": {"title": "Kubernetes (ork dev cluster)", "version": format!("v1.{MINOR}.0")}, "paths": paths, "components": {"schemas": schemas}}),
        )
    }

    /// The OpenAPI schema `kubectl explain` shows for `r` and its name in the document: a custom
    /// resource's `openAPIV3Schema` at that version (with `apiVersion`, `kind` and `metadata`
    /// as the API server adds them; the name is the group reversed, as there); for a built-in
    /// kind, whose schemas the dev cluster does not carry, a schema without fields whose
    /// description says so, so `kubectl explain deployment` answers with that instead of an
    /// unexplained "not found".
    fn schema_of(&self, r: &ApiResource) -> (String, Value) {
        let gvk = json!([{"group": r.group, "version": r.version, "kind": r.kind}]);
        if let Some(crd) = self.crd_of(&r.group, &r.plural) {
            let at = crd
                .pointer("/spec/versions")
                .and_then(Value::as_array)
                .and_then(|vs| vs.iter().find(|v| v.get("name").and_then(Value::as_str) == Some(r.version.as_str())))
                .and_then(|v| v.pointer("/schema/openAPIV3Schema"))
                .or_else(|| crd.pointer("/spec/validation/openAPIV3Schema"))
                .cloned();
            let mut schema = at.filter(Value::is_object).unwrap_or_else(|| json!({"type": "object"}));
            let reversed: Vec<&str> = r.group.split('.').rev().collect();
            let name = format!("{}.{}.{}", reversed.join("."), r.version, r.kind);
            if !schema.get("properties").is_some_and(Value::is_object) {
                schema["properties"] = json!({});
            }
            schema["properties"]["apiVersion"] = json!({"type": "string", "description": format!("The group and version of the object: {}.", r.api_version())});
            schema["properties"]["kind"] = json!({"type": "string", "description": format!("The kind of the object: {}.", r.kind)});
            schema["properties"]["metadata"] = json!({"allOf": [{"$ref": format!("#/components/schemas/{OBJECT_META}")}], "description": "Name, namespace, labels, annotations, and what the server sets."});
            schema["x-kubernetes-group-version-kind"] = gvk;
            return (name, schema);
        }
        let package = match r.group.as_str() {
            "" => "core".to_string(),
            g => g.trim_end_matches(".k8s.io").replace(".authorization", "").to_string(),
        };
        let description = format!(
            "The ork dev cluster serves no OpenAPI schema for the built-in kind {kind}, so kubectl explain cannot show its fields here \
             (it can for custom resources, from their CRD). Run kubectl explain {plural} against a real cluster, or read \
             https://kubernetes.io/docs/reference/kubernetes-api/.",
            kind = r.kind,
            plural = r.plural
        );
        (
            format!("io.k8s.api.{package}.{}.{}", r.version, r.kind),
            json!({"type": "object", "description": description, "x-kubernetes-group-version-kind": gvk}),
        )
    }

    /// `/apis`: every group with its versions, the preferred one first. A group of custom
    /// resources lists its versions as the API server does, by priority (`v2` before `v1` before
    /// `v1beta1`), so the preferred version is the highest.
    pub(super) fn groups(&self) -> Value {
        let mut by_group: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut custom = std::collections::BTreeSet::new();
        for (r, _) in self.store.served() {
            if r.group.is_empty() {
                continue;
            }
            if self.crd_of(&r.group, &r.plural).is_some() {
                custom.insert(r.group.clone());
            }
            let v = by_group.entry(r.group.clone()).or_default();
            for version in conversion::served_versions(&self.store, &r) {
                if !v.contains(&version) {
                    v.push(version);
                }
            }
        }
        for g in &custom {
            if let Some(vs) = by_group.get_mut(g) {
                vs.sort_by(|a, b| conversion::version_order(a, b));
            }
        }
        by_group.retain(|_, vs| !vs.is_empty());
        let groups: Vec<Value> = by_group
            .into_iter()
            .map(|(g, vs)| {
                let versions: Vec<Value> = vs.iter().map(|v| json!({"groupVersion": format!("{g}/{v}"), "version": v})).collect();
                json!({"name": g, "versions": versions, "preferredVersion": versions[0]})
            })
            .collect();
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
    }

    /// `/apis/<group>`.
    pub(super) fn group(&self, name: &str) -> Option<Value> {
        let groups = self.groups();
        let mut grp = groups["groups"].as_array()?.iter().find(|x| x["name"] == name)?.clone();
        grp["kind"] = json!("APIGroup");
        grp["apiVersion"] = json!("v1");
        Some(grp)
    }

    /// `/version`.
    pub(super) fn version() -> Value {
        json!({"major": "1", "minor": MINOR, "gitVersion": format!("v1.{MINOR}.0-ork-dev"), "platform": "linux/amd64"})
    }

    /// `/api`.
    pub(super) fn core_versions(&self) -> Value {
        json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": self.addr.to_string()}]})
    }
}

/// kubectl's short names of the built-in resources.
fn short_names(group: &str, plural: &str) -> &'static [&'static str] {
    match (group, plural) {
        ("", "configmaps") => &["cm"],
        ("", "endpoints") => &["ep"],
        ("", "events") => &["ev"],
        ("", "limitranges") => &["limits"],
        ("", "namespaces") => &["ns"],
        ("", "nodes") => &["no"],
        ("", "persistentvolumeclaims") => &["pvc"],
        ("", "persistentvolumes") => &["pv"],
        ("", "pods") => &["po"],
        ("", "replicationcontrollers") => &["rc"],
        ("", "resourcequotas") => &["quota"],
        ("", "serviceaccounts") => &["sa"],
        ("", "services") => &["svc"],
        ("apps", "daemonsets") => &["ds"],
        ("apps", "deployments") => &["deploy"],
        ("apps", "replicasets") => &["rs"],
        ("apps", "statefulsets") => &["sts"],
        ("autoscaling", "horizontalpodautoscalers") => &["hpa"],
        ("batch", "cronjobs") => &["cj"],
        ("networking.k8s.io", "ingresses") => &["ing"],
        ("networking.k8s.io", "networkpolicies") => &["netpol"],
        ("policy", "poddisruptionbudgets") => &["pdb"],
        ("apiextensions.k8s.io", "customresourcedefinitions") => &["crd", "crds"],
        ("scheduling.k8s.io", "priorityclasses") => &["pc"],
        ("storage.k8s.io", "storageclasses") => &["sc"],
        _ => &[],
    }
}
