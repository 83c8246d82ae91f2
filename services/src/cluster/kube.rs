//! `KubeCluster`: the [`Cluster`] trait over kube-rs, for real clusters and for the dev cluster
//! through its HTTP API. Objects travel as [`Object`]s — JSON decoded once, straight into a
//! `serde_json::Value`; API errors keep their status code and reason.

use super::{ApiResource, Cluster, ClusterError, FIELD_MANAGER, FieldConflict, ListParams, ObjectList, Patch, Propagation, Result, WatchEvent, WatchStream};
use futures_util::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, PatchParams, PostParams, WatchParams};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;
use std::future::Future;

/// A Kubernetes object of any kind, as `KubeCluster`'s reads (`get`, `list`) carry it through
/// kube-rs's `Api`: the JSON the API server sent, decoded once into `value`, and its metadata
/// (without `managedFields`) typed, as `kube::Resource` requires. Watches use [`Watched`];
/// writes send and decode `Value`s. kube-rs's `DynamicObject` decodes through a flattened
/// map, which buffers every object before decoding it, and needs a second conversion to a
/// `Value`.
#[derive(Clone)]
pub struct Object {
    /// `value["metadata"]` without `managedFields`, typed.
    pub metadata: ObjectMeta,
    /// The whole object.
    pub value: Value,
}

impl Object {
    /// The object `value`.
    pub fn new(mut value: Value) -> Object {
        let metadata = match value.get_mut("metadata").and_then(Value::as_object_mut) {
            Some(m) => {
                // Typed without its largest part, which nothing here reads.
                let managed = m.remove("managedFields");
                let metadata = ObjectMeta::deserialize(&value["metadata"]).unwrap_or_default();
                if let (Some(managed), Some(m)) = (managed, value.get_mut("metadata").and_then(Value::as_object_mut)) {
                    m.insert("managedFields".into(), managed);
                }
                metadata
            }
            None => ObjectMeta::default(),
        };
        Object { metadata, value }
    }
}

/// An object as a watch (or its list) brings it: the JSON text, with only the metadata routing
/// needs decoded. Most events a controller sees are the echoes of its own writes, which it
/// recognises by resourceVersion and never needs whole: [`Watched::value`] decodes the rest
/// only when asked.
#[derive(Clone)]
pub struct Watched {
    /// Name, namespace, uid, resourceVersion, generation, labels, annotations, finalizers, owner
    /// references and deletionTimestamp; the rest of `metadata` is left out.
    pub metadata: ObjectMeta,
    raw: Box<serde_json::value::RawValue>,
}

/// The part of `metadata` a [`Watched`] decodes (unknown fields, `managedFields` above all,
/// are skipped without being built).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Peek {
    metadata: PeekMeta,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct PeekMeta {
    name: Option<String>,
    namespace: Option<String>,
    uid: Option<String>,
    resource_version: Option<String>,
    generation: Option<i64>,
    labels: Option<std::collections::BTreeMap<String, String>>,
    annotations: Option<std::collections::BTreeMap<String, String>>,
    finalizers: Option<Vec<String>>,
    owner_references: Option<Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference>>,
    deletion_timestamp: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>,
}

/// An object decoded into a `Value` without `metadata.managedFields`, which is skipped, never
/// built: often the larger part of an object, and read by nothing that decodes this way (write
/// answers, watched objects; a `get` keeps it).
struct Unmanaged(Value);

impl<'de> Deserialize<'de> for Unmanaged {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        /// A map whose key `skip` (if any) is skipped; the others' values are `Value`s, or, for
        /// the key `nested`, a map decoded the same way.
        struct Fields {
            skip: Option<&'static str>,
            nested: Option<&'static str>,
        }
        impl<'de> serde::de::DeserializeSeed<'de> for Fields {
            type Value = Value;
            fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<Value, D::Error> {
                d.deserialize_any(self)
            }
        }
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = Value;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> std::result::Result<Value, A::Error> {
                let mut m = serde_json::Map::new();
                while let Some(k) = a.next_key::<String>()? {
                    if Some(k.as_str()) == self.skip {
                        a.next_value::<serde::de::IgnoredAny>()?;
                    } else if Some(k.as_str()) == self.nested {
                        let v = a.next_value_seed(Fields { skip: Some("managedFields"), nested: None })?;
                        m.insert(k, v);
                    } else {
                        m.insert(k, a.next_value()?);
                    }
                }
                Ok(Value::Object(m))
            }
            // Not an object (nothing the API server answers a write with): kept as it is.
            fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<Value, E> {
                Ok(Value::Null)
            }
        }
        serde::de::DeserializeSeed::deserialize(Fields { skip: None, nested: Some("metadata") }, d).map(Unmanaged)
    }
}

impl Watched {
    /// The whole object, without `metadata.managedFields` (what caches keep).
    pub fn value(&self) -> Value {
        serde_json::from_str::<Unmanaged>(self.raw.get()).map(|u| u.0).unwrap_or_default()
    }

    /// Its resourceVersion as a number (the order of a store's copies).
    pub fn resource_version(&self) -> Option<u64> {
        self.metadata.resource_version.as_deref().and_then(|v| v.parse().ok())
    }

    /// (namespace, name), the namespace "" for a cluster-scoped object.
    pub fn key(&self) -> (String, String) {
        (self.metadata.namespace.clone().unwrap_or_default(), self.metadata.name.clone().unwrap_or_default())
    }
}

impl<'de> Deserialize<'de> for Watched {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(d)?;
        let peek: Peek = serde_json::from_str(raw.get()).map_err(serde::de::Error::custom)?;
        let m = peek.metadata;
        let metadata = ObjectMeta {
            name: m.name,
            namespace: m.namespace,
            uid: m.uid,
            resource_version: m.resource_version,
            generation: m.generation,
            labels: m.labels,
            annotations: m.annotations,
            finalizers: m.finalizers,
            owner_references: m.owner_references,
            deletion_timestamp: m.deletion_timestamp,
            ..ObjectMeta::default()
        };
        Ok(Watched { metadata, raw })
    }
}

impl Serialize for Watched {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.raw.serialize(s)
    }
}

/// Names the object, never its content.
impl std::fmt::Debug for Watched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watched").field("namespace", &self.metadata.namespace).field("name", &self.metadata.name).finish_non_exhaustive()
    }
}

/// The `kube::Resource` of an object of any kind, described at run time.
macro_rules! dynamic_resource {
    ($t:ty) => {
        impl kube::Resource for $t {
            type DynamicType = kube::discovery::ApiResource;
            type Scope = kube::core::DynamicResourceScope;

            fn group(dt: &Self::DynamicType) -> Cow<'_, str> {
                dt.group.as_str().into()
            }

            fn version(dt: &Self::DynamicType) -> Cow<'_, str> {
                dt.version.as_str().into()
            }

            fn kind(dt: &Self::DynamicType) -> Cow<'_, str> {
                dt.kind.as_str().into()
            }

            fn api_version(dt: &Self::DynamicType) -> Cow<'_, str> {
                dt.api_version.as_str().into()
            }

            fn plural(dt: &Self::DynamicType) -> Cow<'_, str> {
                dt.plural.as_str().into()
            }

            fn meta(&self) -> &ObjectMeta {
                &self.metadata
            }

            fn meta_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

dynamic_resource!(Object);
dynamic_resource!(Watched);

/// Names the object, never its content (a Secret's data stays out of logs).
impl std::fmt::Debug for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Object")
            .field("kind", &self.value.get("kind"))
            .field("namespace", &self.metadata.namespace)
            .field("name", &self.metadata.name)
            .finish_non_exhaustive()
    }
}

impl<'de> Deserialize<'de> for Object {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Value::deserialize(d).map(Object::new)
    }
}

impl Serialize for Object {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

/// A cluster reached through a kube-rs client. The answers of its writes and the objects of
/// its watches come without `metadata.managedFields` (nothing that reads them needs it, and it
/// is often most of an object); `get` and `list` keep them.
#[derive(Clone)]
pub struct KubeCluster {
    client: kube::Client,
}

impl std::fmt::Debug for KubeCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeCluster").finish_non_exhaustive()
    }
}

/// kube-rs's description of a resource, for `Api::*_with`.
pub(crate) fn dynamic(r: &ApiResource) -> kube::discovery::ApiResource {
    kube::discovery::ApiResource {
        group: r.group.clone(),
        version: r.version.clone(),
        api_version: r.api_version(),
        kind: r.kind.clone(),
        plural: r.plural.clone(),
    }
}

fn error(e: kube::Error, r: &ApiResource, name: &str) -> ClusterError {
    match e {
        kube::Error::Api(s) => {
            let (resource, name) = (r.plural.clone(), name.to_string());
            match (s.code, s.reason.as_str()) {
                (404, _) => ClusterError::NotFound { resource, name },
                (409, "AlreadyExists") => ClusterError::AlreadyExists { resource, name },
                (409, _) if s.details.iter().flat_map(|d| d.causes.iter()).any(|c| c.reason == "FieldManagerConflict") => {
                    let conflicts = s
                        .details
                        .iter()
                        .flat_map(|d| d.causes.iter())
                        .filter(|c| c.reason == "FieldManagerConflict")
                        .map(|c| conflict_of(&c.message, &c.field))
                        .collect();
                    ClusterError::ApplyConflict { resource, name, conflicts }
                }
                (409, _) => ClusterError::Conflict { resource, name, message: s.message },
                (422, _) => {
                    let causes: Vec<super::FieldError> = s
                        .details
                        .iter()
                        .flat_map(|d| d.causes.iter())
                        .map(|c| super::FieldError { field: c.field.clone(), detail: c.message.clone() })
                        .collect();
                    let causes = if causes.is_empty() { vec![super::FieldError { field: String::new(), detail: s.message }] } else { causes };
                    ClusterError::Invalid { resource, name, causes }
                }
                (400, _) => ClusterError::BadRequest(s.message),
                (403, _) => ClusterError::Forbidden(s.message),
                (410, _) => ClusterError::Gone(0),
                (415, _) => ClusterError::UnsupportedMediaType(s.message),
                _ => ClusterError::Other(format!("{} ({})", s.message, s.code)),
            }
        }
        other => ClusterError::Other(other.to_string()),
    }
}

/// A `FieldManagerConflict` cause back as a [`FieldConflict`]: its message is `conflict with
/// "<manager>"` with ` using <apiVersion>` when the API server knows the version.
fn conflict_of(message: &str, field: &str) -> FieldConflict {
    let rest = message.strip_prefix("conflict with \"").unwrap_or(message);
    let (manager, tail) = rest.rsplit_once('"').unwrap_or((rest, ""));
    let api_version = tail.trim().strip_prefix("using ").unwrap_or_default().trim().to_string();
    FieldConflict { manager: manager.to_string(), api_version, field: field.to_string() }
}

/// Every write names ork as its field manager (`metadata.managedFields`).
fn post_params() -> PostParams {
    PostParams { field_manager: Some(FIELD_MANAGER.to_string()), ..PostParams::default() }
}

fn patch_params() -> PatchParams {
    PatchParams { field_manager: Some(FIELD_MANAGER.to_string()), ..PatchParams::default() }
}

fn apply_params(field_manager: &str, force: bool) -> PatchParams {
    let p = PatchParams::apply(field_manager);
    if force { p.force() } else { p }
}

/// An `Api` for `r`: in namespace `ns` when the resource is namespaced and one is given, else
/// across all namespaces (or cluster-scoped).
pub(crate) fn dynamic_api<K: kube::Resource<DynamicType = kube::discovery::ApiResource, Scope = kube::core::DynamicResourceScope>>(
    client: kube::Client,
    r: &ApiResource,
    ns: Option<&str>,
) -> Api<K> {
    let d = dynamic(r);
    match ns.filter(|n| r.namespaced && !n.is_empty()) {
        Some(ns) => Api::namespaced_with(client, ns, &d),
        None => Api::all_with(client, &d),
    }
}

fn to_value(o: Object) -> Result<Value> {
    Ok(o.value)
}

impl KubeCluster {
    /// Over an existing client.
    pub fn new(client: kube::Client) -> KubeCluster {
        KubeCluster { client }
    }

    fn api(&self, r: &ApiResource, ns: Option<&str>) -> Api<Object> {
        dynamic_api(self.client.clone(), r, ns)
    }

    /// Requests for `r` in `ns` (as `dynamic_api` scopes them).
    fn request(&self, r: &ApiResource, ns: Option<&str>) -> kube::core::Request {
        let ns = ns.filter(|n| r.namespaced && !n.is_empty());
        kube::core::Request::new(<Object as kube::Resource>::url_path(&dynamic(r), ns))
    }

    /// Sends a write and decodes its answer once, into a `Value` without
    /// `metadata.managedFields`: nothing of a write's answer is read typed, so it is neither
    /// wrapped in an [`Object`] nor is what is sent copied into one.
    async fn send(&self, req: http::Request<Vec<u8>>, r: &ApiResource, name: &str) -> Result<Value> {
        self.client.request::<Unmanaged>(req).await.map(|u| u.0).map_err(|e| error(e, r, name))
    }

    /// A patch of the object, or of its `subresource`.
    async fn patch_at(&self, r: &ApiResource, ns: Option<&str>, name: &str, subresource: Option<&str>, patch: &Patch) -> Result<Value> {
        let request = self.request(r, ns);
        let send_patch = |pp: &PatchParams, p: &kube::api::Patch<&Value>| match subresource {
            Some(sub) => built(request.patch_subresource(sub, name, pp, p)),
            None => built(request.patch(name, pp, p)),
        };
        let req = match patch {
            Patch::Merge(p) => send_patch(&patch_params(), &kube::api::Patch::Merge(p)),
            Patch::Strategic(p) => send_patch(&patch_params(), &kube::api::Patch::Strategic(p)),
            Patch::Apply { field_manager, config, force } => send_patch(&apply_params(field_manager, *force), &kube::api::Patch::Apply(config)),
            // A JSON patch as an optimistic read-modify-write (the reconciler uses merge patches).
            Patch::Json(ops) => {
                let get = match subresource {
                    Some(sub) => request.get_subresource(sub, name),
                    None => request.get(name, &kube::api::GetParams::default()),
                };
                // Whole, `managedFields` included: an operation may name them.
                let mut doc: Value = self.client.request(built(get)?).await.map_err(|e| error(e, r, name))?;
                super::apply_json_patch(&mut doc, ops).map_err(|e| ClusterError::BadRequest(e.to_string()))?;
                let b = body(&doc)?;
                match subresource {
                    Some(sub) => built(request.replace_subresource(sub, name, &post_params(), b)),
                    None => built(request.replace(name, &post_params(), b)),
                }
            }
        };
        self.send(req?, r, name).await
    }
}

/// The body of a write: `obj` as JSON.
fn body(obj: &Value) -> Result<Vec<u8>> {
    if !obj.is_object() {
        return Err(ClusterError::BadRequest("not a Kubernetes object: a JSON object is needed".into()));
    }
    serde_json::to_vec(obj).map_err(|e| ClusterError::BadRequest(e.to_string()))
}

/// A request kube-core could not build (a name or parameter it refuses) as a bad request.
fn built(req: std::result::Result<http::Request<Vec<u8>>, kube::core::request::Error>) -> Result<http::Request<Vec<u8>>> {
    req.map_err(|e| ClusterError::BadRequest(e.to_string()))
}

fn name_of(obj: &Value) -> String {
    obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string()
}

impl Cluster for KubeCluster {
    fn get(&self, r: &ApiResource, ns: Option<&str>, name: &str) -> impl Future<Output = Result<Value>> + Send {
        let api = self.api(r, ns);
        async move { to_value(api.get(name).await.map_err(|e| error(e, r, name))?) }
    }

    fn list(&self, r: &ApiResource, ns: Option<&str>, params: &ListParams) -> impl Future<Output = Result<ObjectList>> + Send {
        let api = self.api(r, ns);
        let mut lp = kube::api::ListParams::default();
        if let Some(l) = &params.label_selector {
            lp = lp.labels(l);
        }
        if let Some(f) = &params.field_selector {
            lp = lp.fields(f);
        }
        async move {
            let list = api.list(&lp).await.map_err(|e| error(e, r, ""))?;
            let resource_version = list.metadata.resource_version.as_deref().and_then(|v| v.parse().ok()).unwrap_or(0);
            let items = list.items.into_iter().map(to_value).collect::<Result<Vec<_>>>()?;
            Ok(ObjectList { items, resource_version })
        }
    }

    fn create(&self, r: &ApiResource, ns: Option<&str>, obj: &Value) -> impl Future<Output = Result<Value>> + Send {
        let name = name_of(obj);
        let req = body(obj).and_then(|b| built(self.request(r, ns).create(&post_params(), b)));
        async move { self.send(req?, r, &name).await }
    }

    fn update(&self, r: &ApiResource, ns: Option<&str>, obj: &Value) -> impl Future<Output = Result<Value>> + Send {
        let name = name_of(obj);
        let req = body(obj).and_then(|b| built(self.request(r, ns).replace(&name, &post_params(), b)));
        async move { self.send(req?, r, &name).await }
    }

    fn patch(&self, r: &ApiResource, ns: Option<&str>, name: &str, patch: &Patch) -> impl Future<Output = Result<Value>> + Send {
        self.patch_at(r, ns, name, None, patch)
    }

    fn update_status(&self, r: &ApiResource, ns: Option<&str>, obj: &Value) -> impl Future<Output = Result<Value>> + Send {
        let name = name_of(obj);
        let req = body(obj).and_then(|b| built(self.request(r, ns).replace_subresource("status", &name, &post_params(), b)));
        async move { self.send(req?, r, &name).await }
    }

    fn patch_status(&self, r: &ApiResource, ns: Option<&str>, name: &str, patch: &Patch) -> impl Future<Output = Result<Value>> + Send {
        self.patch_at(r, ns, name, Some("status"), patch)
    }

    fn delete(&self, r: &ApiResource, ns: Option<&str>, name: &str, propagation: Propagation) -> impl Future<Output = Result<()>> + Send {
        let api = self.api(r, ns);
        let dp = match propagation {
            Propagation::Background => DeleteParams::background(),
            Propagation::Foreground => DeleteParams::foreground(),
            Propagation::Orphan => DeleteParams::orphan(),
        };
        async move {
            api.delete(name, &dp).await.map_err(|e| error(e, r, name))?;
            Ok(())
        }
    }

    fn watch(&self, r: &ApiResource, ns: Option<&str>, resource_version: u64) -> impl Future<Output = Result<WatchStream>> + Send {
        let api = self.api(r, ns);
        async move {
            let stream = api.watch(&WatchParams::default(), &resource_version.to_string()).await.map_err(|e| error(e, r, ""))?;
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            tokio::spawn(async move {
                let mut stream = std::pin::pin!(stream);
                while let Some(Ok(ev)) = stream.next().await {
                    let out = match ev {
                        kube::api::WatchEvent::Added(o) => to_value(o).map(WatchEvent::Added),
                        kube::api::WatchEvent::Modified(o) => to_value(o).map(WatchEvent::Modified),
                        kube::api::WatchEvent::Deleted(o) => to_value(o).map(WatchEvent::Deleted),
                        kube::api::WatchEvent::Bookmark(_) => continue,
                        kube::api::WatchEvent::Error(_) => break,
                    };
                    let Ok(ev) = out else { break };
                    if tx.send(std::sync::Arc::new(super::Change { event: ev, prev: None })).is_err() {
                        break;
                    }
                }
            });
            Ok(WatchStream::new(rx))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmanaged_skips_managed_fields_only() {
        let text = r#"{"kind":"ConfigMap","metadata":{"name":"a","managedFields":[{"manager":"m","fieldsV1":{"f:data":{}}}],"labels":{"x":"y"}},"data":{"managedFields":"kept"}}"#;
        let v = serde_json::from_str::<Unmanaged>(text).unwrap().0;
        let mut want: Value = serde_json::from_str(text).unwrap();
        want["metadata"].as_object_mut().unwrap().remove("managedFields");
        assert_eq!(v, want);
    }

    #[test]
    fn a_field_manager_conflict_cause_reads_back() {
        let c = conflict_of("conflict with \"kubectl-edit\" using apps/v1", ".spec.replicas");
        assert_eq!(c, FieldConflict { manager: "kubectl-edit".into(), api_version: "apps/v1".into(), field: ".spec.replicas".into() });
        assert_eq!(c.cause_message(), "conflict with \"kubectl-edit\" using apps/v1");
        let bare = conflict_of("conflict with \"m\"", ".data.a");
        assert_eq!((bare.manager.as_str(), bare.api_version.as_str()), ("m", ""));
    }
}
