//! Events as one store with two views, as the API server keeps them: core/v1 `events` and
//! `events.k8s.io/v1` `events` are the same objects (one name, uid and resourceVersion), each
//! shown with its own field names. Every write to either view is mirrored into the other within
//! the same store operation, with the same resourceVersion, so lists, gets and watches of
//! either view see the writes of the other.

use super::{Gr, MemCluster};
use serde_json::{Map, Value, json};

/// The core/v1 name of each `events.k8s.io/v1` field that is named differently; every other
/// field (metadata, eventTime, series, action, reason, type, related, reportingInstance) is the
/// same in both views.
const RENAMED: &[(&str, &str)] = &[
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("reportingController", "reportingComponent"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
];

/// Which view an object of `gr` belongs to, if it is an Event.
fn view(gr: &Gr) -> Option<View> {
    match (gr.0.as_str(), gr.1.as_str()) {
        ("", "events") => Some(View::Core),
        ("events.k8s.io", "events") => Some(View::Events),
        _ => None,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum View {
    Core,
    Events,
}

/// The other view of an Event written to `gr`: its (group, plural) and the object as that view
/// shows it; `None` when `gr` is not an Event resource.
pub(super) fn mirror(gr: &Gr, obj: &Value) -> Option<(Gr, Value)> {
    match view(gr)? {
        View::Core => Some((("events.k8s.io".into(), "events".into()), as_events_v1(obj))),
        View::Events => Some(((String::new(), "events".into()), as_core(obj))),
    }
}

fn renamed(obj: &Value, from_events: bool, api_version: &str) -> Value {
    let Some(m) = obj.as_object() else { return obj.clone() };
    let mut out = Map::new();
    for (k, v) in m {
        let key = RENAMED
            .iter()
            .find_map(|(ev, core)| match from_events {
                true if k == ev => Some(*core),
                false if k == core => Some(*ev),
                _ => None,
            })
            .unwrap_or(k);
        out.insert(key.to_string(), v.clone());
    }
    out.insert("apiVersion".into(), json!(api_version));
    out.insert("kind".into(), json!("Event"));
    Value::Object(out)
}

/// An `events.k8s.io/v1` Event as core/v1 shows it.
fn as_core(obj: &Value) -> Value {
    renamed(obj, true, "v1")
}

/// A core/v1 Event as `events.k8s.io/v1` shows it.
fn as_events_v1(obj: &Value) -> Value {
    renamed(obj, false, "events.k8s.io/v1")
}

impl MemCluster {
    /// An Event of either view as core/v1 shows it (the dev cluster prints both views' Tables
    /// from it, as the API server does).
    pub fn core_event(obj: &Value) -> Value {
        if obj.get("apiVersion").and_then(Value::as_str) == Some("v1") { obj.clone() } else { as_core(obj) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_views_rename_fields_both_ways_and_keep_the_rest() {
        let ev = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "w.1", "namespace": "d"},
            "regarding": {"kind": "Website", "name": "w"}, "note": "ready", "reportingController": "ork", "reportingInstance": "i",
            "deprecatedCount": 2, "series": {"count": 3}, "eventTime": "2026-01-01T00:00:00.000000Z", "action": "A", "reason": "R", "type": "Normal"});
        let core = as_core(&ev);
        assert_eq!(core["apiVersion"], "v1");
        assert_eq!(core["involvedObject"]["name"], "w");
        assert_eq!(core["message"], "ready");
        assert_eq!(core["reportingComponent"], "ork");
        assert_eq!(core["count"], 2);
        assert_eq!(core["series"]["count"], 3);
        assert!(core.get("note").is_none() && core.get("regarding").is_none());
        assert_eq!(as_events_v1(&core), ev, "a round trip is the identity");
        let (gr, other) = mirror(&(String::new(), "events".into()), &core).unwrap();
        assert_eq!(gr, ("events.k8s.io".to_string(), "events".to_string()));
        assert_eq!(other, ev);
        assert!(mirror(&(String::new(), "configmaps".into()), &core).is_none());
    }

    #[test]
    fn a_write_to_either_view_is_read_listed_and_watched_through_the_other() {
        use crate::cluster::{ListParams, Patch, Propagation, WatchEvent};
        let c = MemCluster::new();
        let core = katalog::kinds::known("", "Event").unwrap();
        let v1 = katalog::kinds::known("events.k8s.io", "Event").unwrap();
        let mut watch = c.sync_watch(&core, Some("default"), c.resource_version()).unwrap();
        let ev = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e1"}, "note": "hi",
            "regarding": {"kind": "Website", "name": "w"}, "reason": "Seen", "type": "Normal"});
        let created = c.create_by(&v1, Some("default"), &ev, "test").unwrap();
        let seen = c.peek(&core, Some("default"), "e1").unwrap();
        assert_eq!((seen["message"].clone(), seen["involvedObject"]["name"].clone()), (json!("hi"), json!("w")));
        for field in ["uid", "resourceVersion", "creationTimestamp"] {
            assert_eq!(seen["metadata"][field], created["metadata"][field], "{field} is shared");
        }
        let params = ListParams { field_selector: Some("involvedObject.name=w".into()), ..ListParams::default() };
        assert_eq!(c.list_page(&core, Some("default"), &params, None, None).unwrap().items.len(), 1);
        match watch.try_next().ok_or(()) {
            Ok(WatchEvent::Added(o)) => assert_eq!(o["message"], "hi"),
            other => panic!("the core view's watch sees the create: {other:?}"),
        }
        c.patch_by(&core, Some("default"), "e1", &Patch::Merge(json!({"message": "changed"})), "test", false).unwrap();
        assert_eq!(c.peek(&v1, Some("default"), "e1").unwrap()["note"], "changed");
        assert!(matches!(watch.try_next().ok_or(()), Ok(WatchEvent::Modified(_))));
        c.sync_delete(&core, Some("default"), "e1", Propagation::Background).unwrap();
        assert!(c.peek(&v1, Some("default"), "e1").is_none(), "deleted from both views");
        assert!(matches!(watch.try_next().ok_or(()), Ok(WatchEvent::Deleted(_))));
    }
}
