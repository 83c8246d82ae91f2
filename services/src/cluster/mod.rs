//! The `Cluster` trait: the Kubernetes API verbs the reconciler uses, over dynamic (JSON)
//! objects addressed by resource, namespace and name.

mod apply;
pub mod cache;
#[cfg(feature = "cel")]
mod cel;
mod fields;
#[cfg(feature = "kube")]
mod kube;
mod mem;
mod patch;
mod patch_schema;
mod schema;
mod selector;
mod strategic;
mod structural;
mod validation;

#[cfg(feature = "runtime")]
pub(crate) use self::kube::dynamic_api;
#[cfg(feature = "kube")]
pub use self::kube::{KubeCluster, Object, Watched};
pub use cache::{Cache, Cached, Seen, Store};
pub use katalog::kinds::ApiResource;
pub use mem::{Continue, MemCluster, Op, Page, Writes};
pub use patch::{JsonPatchError, apply_json_patch, apply_merge_patch, apply_patch, merge_diff};
pub use selector::{FieldSelector, LabelSelector};

use serde_json::Value;
use std::future::Future;

/// The field manager of ork's own writes: children applied by the reconciler, and every write
/// `KubeCluster` and `MemCluster`'s in-process calls make without naming another
/// (`metadata.managedFields`, docs/reconcile.md).
pub const FIELD_MANAGER: &str = "orkestra";

/// An API error, with the HTTP status and reason the API server would give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClusterError {
    /// 404.
    #[error("{resource} \"{name}\" not found")]
    NotFound {
        /// Resource (plural).
        resource: String,
        /// Object name.
        name: String,
    },
    /// 409 on create.
    #[error("{resource} \"{name}\" already exists")]
    AlreadyExists {
        /// Resource (plural).
        resource: String,
        /// Object name.
        name: String,
    },
    /// 409 on a stale resourceVersion.
    #[error("operation cannot be fulfilled on {resource} \"{name}\": {message}")]
    Conflict {
        /// Resource (plural).
        resource: String,
        /// Object name.
        name: String,
        /// Why, as the API server words it (`the object has been modified; …`).
        message: String,
    },
    /// 409 on a server-side apply that would change fields other field managers own (not
    /// forced). Displayed as the API server words it, after the object.
    #[error("{resource} \"{name}\": {}", apply_conflict_message(conflicts))]
    ApplyConflict {
        /// Resource (plural).
        resource: String,
        /// Object name.
        name: String,
        /// Each field and who owns it.
        conflicts: Vec<FieldConflict>,
    },
    /// 422: the object is not acceptable; one cause per invalid field.
    #[error("{resource} \"{name}\" is invalid: {}", FieldError::join(causes))]
    Invalid {
        /// Resource (plural).
        resource: String,
        /// Object name.
        name: String,
        /// What is wrong, field by field.
        causes: Vec<FieldError>,
    },
    /// 403: refused, e.g. creating in a namespace that is being deleted. The message is the
    /// API server's whole sentence (`configmaps "c" is forbidden: …`).
    #[error("{0}")]
    Forbidden(String),
    /// 400: the request itself is malformed (bad selector, bad patch).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 404: the resource type is not served.
    #[error("the server could not find the requested resource ({0})")]
    UnknownResource(String),
    /// 410: a watch from a resourceVersion older than the server keeps.
    #[error("too old resource version: {0}")]
    Gone(u64),
    /// 415: the body is in a format the resource does not accept (a strategic merge patch of a
    /// custom resource). The message is the API server's.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Transport or server failure (real clusters).
    #[error("{0}")]
    Other(String),
}

impl ClusterError {
    /// The HTTP status code.
    pub fn status_code(&self) -> u16 {
        match self {
            ClusterError::NotFound { .. } | ClusterError::UnknownResource(_) => 404,
            ClusterError::AlreadyExists { .. } | ClusterError::Conflict { .. } | ClusterError::ApplyConflict { .. } => 409,
            ClusterError::Invalid { .. } => 422,
            ClusterError::BadRequest(_) => 400,
            ClusterError::Forbidden(_) => 403,
            ClusterError::Gone(_) => 410,
            ClusterError::UnsupportedMediaType(_) => 415,
            ClusterError::Other(_) => 500,
        }
    }

    /// The `reason` of the Kubernetes `Status` object.
    pub fn reason(&self) -> &'static str {
        match self {
            ClusterError::NotFound { .. } | ClusterError::UnknownResource(_) => "NotFound",
            ClusterError::AlreadyExists { .. } => "AlreadyExists",
            ClusterError::Conflict { .. } | ClusterError::ApplyConflict { .. } => "Conflict",
            ClusterError::Invalid { .. } => "Invalid",
            ClusterError::BadRequest(_) => "BadRequest",
            ClusterError::Forbidden(_) => "Forbidden",
            ClusterError::Gone(_) => "Expired",
            ClusterError::UnsupportedMediaType(_) => "UnsupportedMediaType",
            ClusterError::Other(_) => "InternalError",
        }
    }

    /// Whether this is a 404 for the object.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ClusterError::NotFound { .. })
    }

    /// Passes every text of the error through `scrub` (an API error can quote what was sent, a
    /// Secret's data among it: the reconciler scrubs it with the CR's `Redactor`).
    pub fn redact(&mut self, scrub: impl Fn(&str) -> String) {
        let one = |s: &mut String| *s = scrub(s);
        match self {
            ClusterError::NotFound { resource, name } | ClusterError::AlreadyExists { resource, name } => {
                one(resource);
                one(name);
            }
            ClusterError::Conflict { resource, name, message } => {
                one(resource);
                one(name);
                one(message);
            }
            ClusterError::Invalid { resource, name, causes } => {
                one(resource);
                one(name);
                for c in causes {
                    one(&mut c.field);
                    one(&mut c.detail);
                }
            }
            ClusterError::ApplyConflict { resource, name, conflicts } => {
                one(resource);
                one(name);
                for c in conflicts {
                    one(&mut c.manager);
                    one(&mut c.api_version);
                    one(&mut c.field);
                }
            }
            ClusterError::Forbidden(m)
            | ClusterError::BadRequest(m)
            | ClusterError::UnknownResource(m)
            | ClusterError::UnsupportedMediaType(m)
            | ClusterError::Other(m) => one(m),
            ClusterError::Gone(_) => {}
        }
    }
}

/// One field of a refused server-side apply: who owns it. The API server reports each as a
/// `details.causes` entry of reason `FieldManagerConflict`, message `conflict with "<manager>"
/// using <apiVersion>`, field `.spec.replicas`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldConflict {
    /// The field manager that owns the field.
    pub manager: String,
    /// The apiVersion that manager wrote it with (empty when not known).
    pub api_version: String,
    /// The field: `.spec.replicas`, `.spec.containers[name="a"].image`.
    pub field: String,
}

impl FieldConflict {
    /// The message of its `details.causes` entry: `conflict with "<manager>" using <apiVersion>`.
    pub fn cause_message(&self) -> String {
        if self.api_version.is_empty() {
            format!("conflict with \"{}\"", self.manager)
        } else {
            format!("conflict with \"{}\" using {}", self.manager, self.api_version)
        }
    }
}

/// The API server's message for a refused apply: `Apply failed with 1 conflict: conflict with
/// "m" using apps/v1: .spec.replicas` (several: grouped by manager, one field a line).
pub fn apply_conflict_message(conflicts: &[FieldConflict]) -> String {
    let all: Vec<(String, String, String)> = conflicts.iter().map(|c| (c.manager.clone(), c.api_version.clone(), c.field.clone())).collect();
    fields::conflict_message(&all)
}

/// One invalid field of a refused object, as the API server reports it in `details.causes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field path (`metadata.name`, `spec.selector`); empty when the whole object is meant.
    pub field: String,
    /// What is wrong: `Invalid value: "x": …`, `Forbidden: …`, `Required value`, ….
    pub detail: String,
}

impl FieldError {
    /// `Invalid value: <value>: <message>` for `field`.
    pub fn invalid(field: &str, value: &str, message: &str) -> FieldError {
        FieldError { field: field.into(), detail: format!("Invalid value: {value}: {message}") }
    }

    /// `Forbidden: <message>` for `field`.
    pub fn forbidden(field: &str, message: &str) -> FieldError {
        FieldError { field: field.into(), detail: format!("Forbidden: {message}") }
    }

    /// `Required value: <message>` for `field`.
    pub fn required(field: &str, message: &str) -> FieldError {
        FieldError { field: field.into(), detail: format!("Required value: {message}") }
    }

    /// The `reason` of the cause (`FieldValueInvalid`, …).
    pub fn reason(&self) -> &'static str {
        match self.detail.split(':').next().unwrap_or_default() {
            "Forbidden" => "FieldValueForbidden",
            "Required value" => "FieldValueRequired",
            "Unsupported value" => "FieldValueNotSupported",
            "Too long" => "FieldValueTooLong",
            "Too many" => "FieldValueTooMany",
            "Duplicate value" => "FieldValueDuplicate",
            _ => "FieldValueInvalid",
        }
    }

    /// The causes as the API server joins them in a message: one as is, several in brackets.
    pub fn join(causes: &[FieldError]) -> String {
        let one = |c: &FieldError| if c.field.is_empty() { c.detail.clone() } else { format!("{}: {}", c.field, c.detail) };
        match causes {
            [c] => one(c),
            many => format!("[{}]", many.iter().map(one).collect::<Vec<_>>().join(", ")),
        }
    }
}

/// Result of a cluster call.
pub type Result<T> = std::result::Result<T, ClusterError>;

/// Selectors of a list or watch.
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    /// Label selector (`app=web,tier in (a,b),!legacy`).
    pub label_selector: Option<String>,
    /// Field selector (`metadata.name=x`, `metadata.namespace!=y`).
    pub field_selector: Option<String>,
}

impl ListParams {
    /// Only objects with these labels.
    pub fn labels(selector: impl Into<String>) -> ListParams {
        ListParams { label_selector: Some(selector.into()), field_selector: None }
    }
}

/// A list answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectList {
    /// Matching objects, sorted by namespace then name.
    pub items: Vec<Value>,
    /// The store's resourceVersion at the time of the list (to watch from).
    pub resource_version: u64,
}

/// A patch body.
#[derive(Debug, Clone, PartialEq)]
pub enum Patch {
    /// RFC 7386 JSON merge patch (`application/merge-patch+json`).
    Merge(Value),
    /// RFC 6902 JSON patch (`application/json-patch+json`): an array of operations.
    Json(Value),
    /// Strategic merge patch (`application/strategic-merge-patch+json`): a merge patch whose
    /// lists merge by the merge keys of the built-in kinds' schemas, with the `$patch`,
    /// `$retainKeys`, `$setElementOrder/…` and `$deleteFromPrimitiveList/…` directives. Refused
    /// (415) for kinds without a schema: custom resources.
    Strategic(Value),
    /// Server-side apply (`application/apply-patch+yaml`): the applied configuration merged by
    /// the schema's list keys and map types, with field ownership (`metadata.managedFields`): a
    /// change of a field another manager owns is a [`ClusterError::ApplyConflict`] unless
    /// `force`; fields the manager applied before and no longer applies are removed when no
    /// other manager owns them. A missing object is created.
    Apply {
        /// The `fieldManager` of the request, which the API server requires for apply.
        field_manager: String,
        /// The applied configuration.
        config: Value,
        /// `force=true`: take the conflicting fields from their managers.
        force: bool,
    },
}

/// What happens to an object's dependents when it is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
    /// Delete the object now; the garbage collector deletes dependents afterwards.
    #[default]
    Background,
    /// Delete dependents first; the object goes when the blocking ones are gone.
    Foreground,
    /// Delete the object; dependents lose their owner reference and stay.
    Orphan,
}

/// One watch notification.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchEvent {
    /// Created.
    Added(Value),
    /// Changed (including marked for deletion).
    Modified(Value),
    /// Gone from the store.
    Deleted(Value),
}

impl WatchEvent {
    /// `ADDED`, `MODIFIED`, `DELETED`.
    pub fn kind(&self) -> &'static str {
        match self {
            WatchEvent::Added(_) => "ADDED",
            WatchEvent::Modified(_) => "MODIFIED",
            WatchEvent::Deleted(_) => "DELETED",
        }
    }

    /// The object.
    pub fn object(&self) -> &Value {
        match self {
            WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => o,
        }
    }
}

/// One change as a store sees it: the event, and for a modification the object before it (what
/// a server needs to tell a selective watch that an object entered or left its selector).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The event.
    pub event: WatchEvent,
    /// The object before a `Modified` event (`None` otherwise, or when not known).
    pub prev: Option<Value>,
}

/// A stream of watch events, in resourceVersion order. A store shares each change between its
/// watches and its history (`Arc`): a watch that only reads it ([`WatchStream::next_change`])
/// copies nothing.
#[derive(Debug)]
pub struct WatchStream(tokio::sync::mpsc::UnboundedReceiver<std::sync::Arc<Change>>);

impl WatchStream {
    /// A stream fed by `rx`.
    pub(crate) fn new(rx: tokio::sync::mpsc::UnboundedReceiver<std::sync::Arc<Change>>) -> WatchStream {
        WatchStream(rx)
    }

    fn owned(c: std::sync::Arc<Change>) -> WatchEvent {
        std::sync::Arc::try_unwrap(c).map_or_else(|shared| shared.event.clone(), |c| c.event)
    }

    /// The next event; `None` when the cluster is gone.
    pub async fn next(&mut self) -> Option<WatchEvent> {
        self.0.recv().await.map(Self::owned)
    }

    /// The next event with the object before it, shared; `None` when the cluster is gone.
    pub async fn next_change(&mut self) -> Option<std::sync::Arc<Change>> {
        self.0.recv().await
    }

    /// The next event if one is already there.
    pub fn try_next(&mut self) -> Option<WatchEvent> {
        self.0.try_recv().ok().map(Self::owned)
    }

    /// The next event with the object before it, shared, if one is already there.
    pub fn try_next_change(&mut self) -> Option<std::sync::Arc<Change>> {
        self.0.try_recv().ok()
    }
}

/// The Kubernetes API, as far as the reconciler needs it. Namespaced resources take
/// `Some(namespace)` (in `list`/`watch`, `None` means every namespace); cluster-scoped ones
/// take `None`.
pub trait Cluster: Send + Sync {
    /// GET one object.
    fn get(&self, r: &ApiResource, ns: Option<&str>, name: &str) -> impl Future<Output = Result<Value>> + Send;
    /// LIST objects matching the selectors.
    fn list(&self, r: &ApiResource, ns: Option<&str>, params: &ListParams) -> impl Future<Output = Result<ObjectList>> + Send;
    /// CREATE (`metadata.generateName` supported).
    fn create(&self, r: &ApiResource, ns: Option<&str>, obj: &Value) -> impl Future<Output = Result<Value>> + Send;
    /// UPDATE (PUT). With `metadata.resourceVersion` set, a stale version is a Conflict.
    /// Status is ignored for resources with a status subresource.
    fn update(&self, r: &ApiResource, ns: Option<&str>, obj: &Value) -> impl Future<Output = Result<Value>> + Send;
    /// PATCH the object (status ignored for resources with a status subresource).
    fn patch(&self, r: &ApiResource, ns: Option<&str>, name: &str, patch: &Patch) -> impl Future<Output = Result<Value>> + Send;
    /// PUT the status subresource (only `status` is taken from `obj`).
    fn update_status(&self, r: &ApiResource, ns: Option<&str>, obj: &Value) -> impl Future<Output = Result<Value>> + Send;
    /// PATCH the status subresource.
    fn patch_status(&self, r: &ApiResource, ns: Option<&str>, name: &str, patch: &Patch) -> impl Future<Output = Result<Value>> + Send;
    /// DELETE. An object with finalizers (or a foreground deletion) is only marked with a
    /// deletionTimestamp; it goes when its last finalizer is removed.
    fn delete(&self, r: &ApiResource, ns: Option<&str>, name: &str, propagation: Propagation) -> impl Future<Output = Result<()>> + Send;
    /// WATCH from a resourceVersion (events after it).
    fn watch(&self, r: &ApiResource, ns: Option<&str>, resource_version: u64) -> impl Future<Output = Result<WatchStream>> + Send;
}

/// A namespace/name of an object.
pub fn object_name(obj: &Value) -> (&str, &str) {
    let s = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or_default();
    (s("/metadata/namespace"), s("/metadata/name"))
}
