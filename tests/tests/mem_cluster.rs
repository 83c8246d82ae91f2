//! `MemCluster` against the API server's semantics, one behaviour per test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use services::cluster::{ApiResource, Cluster, ClusterError, ListParams, MemCluster, Patch, Propagation, WatchEvent};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

fn res(group: &str, kind: &str) -> ApiResource {
    katalog::kinds::known(group, kind).unwrap_or_else(|| panic!("{group}/{kind}"))
}

fn widgets() -> ApiResource {
    ApiResource { group: "x.dev".into(), version: "v1".into(), kind: "Widget".into(), plural: "widgets".into(), namespaced: true }
}

/// A cluster on a fixed clock that the test can move.
fn cluster() -> (MemCluster, Arc<AtomicI64>) {
    let t = Arc::new(AtomicI64::new(1_800_000_000));
    let c = MemCluster::with_clock({
        let t = t.clone();
        Arc::new(move || t.load(Ordering::SeqCst))
    });
    c.register(widgets(), true);
    (c, t)
}

fn rv(o: &Value) -> u64 {
    o.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap().parse().unwrap()
}

fn cm(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": "1"}})
}

#[tokio::test]
async fn create_sets_identity_and_rejects_duplicates_and_missing_namespaces() {
    let (c, _) = cluster();
    let cms = res("", "ConfigMap");
    let a = c.create(&cms, Some("default"), &cm("a")).await.unwrap();
    assert_eq!(a["metadata"]["namespace"], "default");
    assert_eq!(a["metadata"]["creationTimestamp"], "2027-01-15T08:00:00Z");
    assert!(a["metadata"]["uid"].as_str().is_some_and(|u| u.len() == 36));
    assert!(a["metadata"].get("generation").is_none(), "no spec, no generation");
    let b = c.create(&cms, Some("default"), &cm("b")).await.unwrap();
    assert!(rv(&b) > rv(&a), "resourceVersions increase");
    assert_ne!(a["metadata"]["uid"], b["metadata"]["uid"]);
    let dup = c.create(&cms, Some("default"), &cm("a")).await.unwrap_err();
    assert!(matches!(dup, ClusterError::AlreadyExists { .. }) && dup.status_code() == 409, "{dup}");
    let missing = c.create(&cms, Some("nowhere"), &cm("a")).await.unwrap_err();
    assert_eq!(missing, ClusterError::NotFound { resource: "namespaces".into(), name: "nowhere".into() });
    let w = c.create(&widgets(), Some("default"), &json!({"metadata": {"name": "w"}, "spec": {"size": 1}, "status": {"x": 1}})).await.unwrap();
    assert_eq!(w["metadata"]["generation"], 1);
    assert_eq!(w["apiVersion"], "x.dev/v1");
    assert!(w.get("status").is_none(), "status is dropped on create for a status subresource");
    let g = c.create(&cms, Some("default"), &json!({"metadata": {"generateName": "gen-"}})).await.unwrap();
    assert!(g["metadata"]["name"].as_str().unwrap().starts_with("gen-") && g["metadata"]["name"].as_str().unwrap().len() == 9);
    let bad = c.create(&cms, Some("default"), &json!({"metadata": {"name": "Bad_Name"}})).await.unwrap_err();
    assert!(matches!(bad, ClusterError::Invalid { .. }), "{bad}");
    let other_ns = c.create(&cms, Some("default"), &json!({"metadata": {"name": "x", "namespace": "kube-system"}})).await.unwrap_err();
    assert!(matches!(other_ns, ClusterError::BadRequest(_)), "{other_ns}");
    let unknown = ApiResource { group: "nope.dev".into(), version: "v1".into(), kind: "Nope".into(), plural: "nopes".into(), namespaced: true };
    assert_eq!(c.get(&unknown, Some("default"), "x").await.unwrap_err().status_code(), 404);
    assert!(c.get(&cms, Some("default"), "zzz").await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn a_stale_resource_version_is_a_conflict_and_a_no_op_update_changes_nothing() {
    let (c, _) = cluster();
    let cms = res("", "ConfigMap");
    let a = c.create(&cms, Some("default"), &cm("a")).await.unwrap();
    let mut edit = a.clone();
    edit["data"]["a"] = json!("2");
    let updated = c.update(&cms, Some("default"), &edit).await.unwrap();
    assert!(rv(&updated) > rv(&a));
    let stale = c.update(&cms, Some("default"), &edit).await.unwrap_err();
    assert!(matches!(stale, ClusterError::Conflict { .. }) && stale.status_code() == 409, "{stale}");
    let same = c.update(&cms, Some("default"), &updated).await.unwrap();
    assert_eq!(rv(&same), rv(&updated), "an update that changes nothing keeps the resourceVersion");
    let mut unconditional = updated.clone();
    unconditional["metadata"].as_object_mut().unwrap().remove("resourceVersion");
    unconditional["data"]["a"] = json!("3");
    assert_eq!(c.update(&cms, Some("default"), &unconditional).await.unwrap()["data"]["a"], "3");
    let mut renamed = updated.clone();
    renamed["metadata"]["name"] = json!("ghost");
    assert!(c.update(&cms, Some("default"), &renamed).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn generation_follows_the_spec_and_status_is_a_separate_subresource() {
    let (c, _) = cluster();
    let w = widgets();
    let created = c.create(&w, Some("default"), &json!({"metadata": {"name": "w"}, "spec": {"size": 1}})).await.unwrap();
    // A label change is not a spec change.
    let labelled = c.patch(&w, Some("default"), "w", &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}}))).await.unwrap();
    assert_eq!(labelled["metadata"]["generation"], 1);
    assert!(rv(&labelled) > rv(&created));
    // Status through the object is ignored; through the subresource it is all that changes.
    let via_object = c.patch(&w, Some("default"), "w", &Patch::Merge(json!({"status": {"ready": true}}))).await.unwrap();
    assert!(via_object.get("status").is_none());
    let st = c.patch_status(&w, Some("default"), "w", &Patch::Merge(json!({"status": {"ready": true}, "spec": {"size": 9}}))).await.unwrap();
    assert_eq!(st["status"]["ready"], true);
    assert_eq!(st["spec"]["size"], 1, "a status write ignores the spec");
    assert_eq!(st["metadata"]["generation"], 1, "a status write does not bump generation");
    let spec = c.patch(&w, Some("default"), "w", &Patch::Json(json!([{"op": "replace", "path": "/spec/size", "value": 2}]))).await.unwrap();
    assert_eq!(spec["metadata"]["generation"], 2);
    assert_eq!(spec["status"]["ready"], true, "an object write keeps the stored status");
    let mut put_status = spec.clone();
    put_status["status"] = json!({"phase": "Done"});
    let s2 = c.update_status(&w, Some("default"), &put_status).await.unwrap();
    assert_eq!(s2["status"], json!({"phase": "Done"}));
    let bad = c.patch(&w, Some("default"), "w", &Patch::Json(json!([{"op": "remove", "path": "/spec/nope"}]))).await.unwrap_err();
    assert_eq!(bad.status_code(), 400);
    // A resource without a status subresource keeps status like any field.
    let cms = res("", "ConfigMap");
    let plain = c.create(&cms, Some("default"), &json!({"metadata": {"name": "p"}, "status": {"x": 1}})).await.unwrap();
    assert_eq!(plain["status"]["x"], 1);
}

#[tokio::test]
async fn finalizers_hold_an_object_until_the_last_one_is_removed() {
    let (c, t) = cluster();
    let w = widgets();
    c.create(&w, Some("default"), &json!({"metadata": {"name": "w", "finalizers": ["a.dev/x", "b.dev/y"]}, "spec": {}})).await.unwrap();
    t.store(1_800_000_100, Ordering::SeqCst);
    c.delete(&w, Some("default"), "w", Propagation::Background).await.unwrap();
    let marked = c.get(&w, Some("default"), "w").await.unwrap();
    assert_eq!(marked["metadata"]["deletionTimestamp"], "2027-01-15T08:01:40Z");
    // Deleting again is idempotent; adding a finalizer now is refused.
    c.delete(&w, Some("default"), "w", Propagation::Background).await.unwrap();
    let add = c.patch(&w, Some("default"), "w", &Patch::Merge(json!({"metadata": {"finalizers": ["a.dev/x", "b.dev/y", "c.dev/z"]}}))).await.unwrap_err();
    assert_eq!(add.status_code(), 403, "{add}");
    c.patch(&w, Some("default"), "w", &Patch::Merge(json!({"metadata": {"finalizers": ["b.dev/y"]}}))).await.unwrap();
    assert!(c.get(&w, Some("default"), "w").await.is_ok());
    c.patch(&w, Some("default"), "w", &Patch::Json(json!([{"op": "remove", "path": "/metadata/finalizers/0"}]))).await.unwrap();
    assert!(c.get(&w, Some("default"), "w").await.unwrap_err().is_not_found());
}

/// A Widget owning a Deployment owning a ConfigMap (ownerReferences by uid).
async fn chain(c: &MemCluster, block: bool) -> (String, String) {
    let w = c.create(&widgets(), Some("default"), &json!({"metadata": {"name": "w"}, "spec": {}})).await.unwrap();
    let owner = |o: &Value, kind: &str| json!([{"apiVersion": "x", "kind": kind, "name": o["metadata"]["name"], "uid": o["metadata"]["uid"], "controller": true, "blockOwnerDeletion": block}]);
    let d = c
        .create(
            &res("apps", "Deployment"),
            Some("default"),
            &json!({"metadata": {"name": "d", "ownerReferences": owner(&w, "Widget")}, "spec": {"replicas": 1}}),
        )
        .await
        .unwrap();
    c.create(
        &res("", "ConfigMap"),
        Some("default"),
        &json!({"metadata": {"name": "c", "ownerReferences": owner(&d, "Deployment"), "finalizers": ["x.dev/hold"]}}),
    )
    .await
    .unwrap();
    (w["metadata"]["uid"].as_str().unwrap().to_string(), d["metadata"]["uid"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn background_deletion_cascades_through_owner_references() {
    let (c, _) = cluster();
    chain(&c, true).await;
    c.delete(&widgets(), Some("default"), "w", Propagation::Background).await.unwrap();
    assert!(c.get(&widgets(), Some("default"), "w").await.unwrap_err().is_not_found(), "the owner goes first");
    assert!(c.get(&res("apps", "Deployment"), Some("default"), "d").await.unwrap_err().is_not_found());
    let held = c.get(&res("", "ConfigMap"), Some("default"), "c").await.unwrap();
    assert!(held["metadata"]["deletionTimestamp"].is_string(), "a dependent with a finalizer is only marked");
    c.patch(&res("", "ConfigMap"), Some("default"), "c", &Patch::Merge(json!({"metadata": {"finalizers": null}}))).await.unwrap();
    assert!(c.get(&res("", "ConfigMap"), Some("default"), "c").await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn foreground_deletion_keeps_the_owner_until_blocking_dependents_are_gone() {
    let (c, _) = cluster();
    chain(&c, true).await;
    c.delete(&widgets(), Some("default"), "w", Propagation::Foreground).await.unwrap();
    let owner = c.get(&widgets(), Some("default"), "w").await.unwrap();
    assert!(owner["metadata"]["finalizers"].as_array().unwrap().contains(&json!("foregroundDeletion")));
    let d = c.get(&res("apps", "Deployment"), Some("default"), "d").await.unwrap();
    assert!(d["metadata"]["deletionTimestamp"].is_string(), "the Deployment waits for its ConfigMap");
    c.patch(&res("", "ConfigMap"), Some("default"), "c", &Patch::Merge(json!({"metadata": {"finalizers": []}}))).await.unwrap();
    for (r, n) in [(res("", "ConfigMap"), "c"), (res("apps", "Deployment"), "d"), (widgets(), "w")] {
        assert!(c.get(&r, Some("default"), n).await.unwrap_err().is_not_found(), "{n} should be gone");
    }
    // Dependents that do not block: the owner goes at once.
    chain(&c, false).await;
    c.delete(&widgets(), Some("default"), "w", Propagation::Foreground).await.unwrap();
    assert!(c.get(&widgets(), Some("default"), "w").await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn a_dependent_created_after_its_owner_is_gone_is_collected() {
    let (c, _) = cluster();
    let w = c.create(&widgets(), Some("default"), &json!({"metadata": {"name": "w"}, "spec": {}})).await.unwrap();
    let api_version = w["apiVersion"].clone();
    let owned =
        |uid: &Value| json!({"metadata": {"name": "late", "ownerReferences": [{"apiVersion": api_version, "kind": "Widget", "name": "w", "uid": uid}]}});
    // Its owner exists: kept.
    c.create(&res("", "ConfigMap"), Some("default"), &owned(&w["metadata"]["uid"])).await.unwrap();
    assert!(c.get(&res("", "ConfigMap"), Some("default"), "late").await.is_ok());
    c.delete(&widgets(), Some("default"), "w", Propagation::Background).await.unwrap();
    assert!(c.get(&res("", "ConfigMap"), Some("default"), "late").await.unwrap_err().is_not_found());
    // Created from a stale copy of the deleted owner: the create answers, the collector deletes it.
    let created = c.create(&res("", "ConfigMap"), Some("default"), &owned(&w["metadata"]["uid"])).await.unwrap();
    assert_eq!(created["metadata"]["name"], "late");
    assert!(c.get(&res("", "ConfigMap"), Some("default"), "late").await.unwrap_err().is_not_found());
    // A new owner of the same name is not the old one (uids differ).
    c.create(&widgets(), Some("default"), &json!({"metadata": {"name": "w"}, "spec": {}})).await.unwrap();
    c.create(&res("", "ConfigMap"), Some("default"), &owned(&w["metadata"]["uid"])).await.unwrap();
    assert!(c.get(&res("", "ConfigMap"), Some("default"), "late").await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn orphan_deletion_leaves_dependents_without_the_owner_reference() {
    let (c, _) = cluster();
    chain(&c, true).await;
    c.delete(&widgets(), Some("default"), "w", Propagation::Orphan).await.unwrap();
    let d = c.get(&res("apps", "Deployment"), Some("default"), "d").await.unwrap();
    assert_eq!(d["metadata"]["ownerReferences"], json!([]));
    assert!(d["metadata"].get("deletionTimestamp").is_none());
}

#[tokio::test]
async fn deleting_a_namespace_deletes_what_is_in_it() {
    let (c, _) = cluster();
    let nss = res("", "Namespace");
    c.create(&nss, None, &json!({"metadata": {"name": "team"}})).await.unwrap();
    c.create(&res("", "ConfigMap"), Some("team"), &cm("a")).await.unwrap();
    c.create(&res("", "ConfigMap"), Some("team"), &json!({"metadata": {"name": "held", "finalizers": ["x/y"]}})).await.unwrap();
    c.delete(&nss, None, "team", Propagation::Background).await.unwrap();
    let ns = c.get(&nss, None, "team").await.unwrap();
    assert_eq!(ns["status"]["phase"], "Terminating");
    assert!(c.get(&res("", "ConfigMap"), Some("team"), "a").await.unwrap_err().is_not_found());
    let refused = c.create(&res("", "ConfigMap"), Some("team"), &cm("new")).await.unwrap_err();
    assert_eq!(refused.status_code(), 403, "{refused}");
    c.patch(&res("", "ConfigMap"), Some("team"), "held", &Patch::Merge(json!({"metadata": {"finalizers": null}}))).await.unwrap();
    assert!(c.get(&nss, None, "team").await.unwrap_err().is_not_found(), "an empty terminating namespace goes");
}

#[tokio::test]
async fn watches_deliver_events_in_order_and_replay_from_a_resource_version() {
    let (c, _) = cluster();
    let cms = res("", "ConfigMap");
    let start = c.resource_version();
    let mut live = c.watch(&cms, Some("default"), start).await.unwrap();
    let a = c.create(&cms, Some("default"), &cm("a")).await.unwrap();
    c.create(&cms, Some("kube-system"), &cm("elsewhere")).await.unwrap();
    c.patch(&cms, Some("default"), "a", &Patch::Merge(json!({"data": {"a": "2"}}))).await.unwrap();
    c.delete(&cms, Some("default"), "a", Propagation::Background).await.unwrap();
    let mut seen = Vec::new();
    while let Some(ev) = live.try_next() {
        seen.push((ev.kind(), ev.object()["metadata"]["name"].as_str().unwrap().to_string(), ev.object()["metadata"]["resourceVersion"].clone()));
    }
    assert_eq!(seen.iter().map(|(k, n, _)| format!("{k} {n}")).collect::<Vec<_>>(), ["ADDED a", "MODIFIED a", "DELETED a"]);
    // Replay: a watch from the first create's version sees what came after it, all namespaces.
    let mut replay = c.watch(&cms, None, rv(&a)).await.unwrap();
    let kinds: Vec<&str> = std::iter::from_fn(|| replay.try_next()).map(|e| e.kind()).collect();
    assert_eq!(kinds, ["ADDED", "MODIFIED", "DELETED"]);
    // Far enough in the past is gone (410).
    for i in 0..4200 {
        c.patch(&cms, Some("kube-system"), "elsewhere", &Patch::Merge(json!({"data": {"i": i.to_string()}}))).await.unwrap();
    }
    assert_eq!(c.watch(&cms, None, start).await.unwrap_err().status_code(), 410);
    // The live watch kept up, in resourceVersion order.
    let mut last = 0;
    let mut count = 0;
    let mut kube_system = c.watch(&cms, Some("kube-system"), c.resource_version()).await.unwrap();
    c.patch(&cms, Some("kube-system"), "elsewhere", &Patch::Merge(json!({"data": {"i": "last"}}))).await.unwrap();
    while let Some(WatchEvent::Modified(o)) = kube_system.try_next() {
        let v = rv(&o);
        assert!(v > last);
        last = v;
        count += 1;
    }
    assert_eq!(count, 1);
}

#[tokio::test]
async fn lists_filter_by_namespace_and_selectors_and_every_request_is_recorded() {
    let (c, _) = cluster();
    let cms = res("", "ConfigMap");
    for (ns, name, app) in [("default", "a", "web"), ("default", "b", "db"), ("kube-system", "c", "web")] {
        c.create(&cms, Some(ns), &json!({"metadata": {"name": name, "labels": {"app": app}}})).await.unwrap();
    }
    let names = |l: services::cluster::ObjectList| l.items.iter().map(|o| o["metadata"]["name"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(names(c.list(&cms, None, &ListParams::labels("app=web")).await.unwrap()), ["a", "c"]);
    assert_eq!(names(c.list(&cms, Some("default"), &ListParams::default()).await.unwrap()), ["a", "b"]);
    let by_name = ListParams { label_selector: None, field_selector: Some("metadata.name=b".into()) };
    assert_eq!(names(c.list(&cms, None, &by_name).await.unwrap()), ["b"]);
    assert_eq!(c.list(&cms, None, &ListParams::labels("app in web")).await.unwrap_err().status_code(), 400);
    // The label index follows relabels and deletes.
    c.patch(&cms, Some("default"), "b", &Patch::Merge(json!({"metadata": {"labels": {"app": "web"}}}))).await.unwrap();
    c.delete(&cms, Some("kube-system"), "c", Propagation::Background).await.unwrap();
    assert_eq!(names(c.list(&cms, None, &ListParams::labels("app=web")).await.unwrap()), ["a", "b"]);
    assert!(c.list(&cms, None, &ListParams::labels("app=db")).await.unwrap().items.is_empty());
    assert!(c.list(&cms, None, &ListParams::labels("app=web,tier=none")).await.unwrap().items.is_empty());
    let ops = c.take_ops();
    let verbs: Vec<String> = ops.iter().map(|o| format!("{} {} {}", o.verb, o.resource, o.name.clone().unwrap_or_default())).collect();
    assert_eq!(
        &verbs[..7],
        ["create configmaps a", "create configmaps b", "create configmaps c", "list configmaps ", "list configmaps ", "list configmaps ", "list configmaps "]
    );
    assert_eq!(&verbs[7..], ["patch configmaps b", "delete configmaps c", "list configmaps ", "list configmaps ", "list configmaps "]);
    assert!(c.take_ops().is_empty());
}

#[tokio::test]
async fn bindings_keep_their_role_ref_and_settle_plays_the_controllers() {
    let (c, _) = cluster();
    let rb = res("rbac.authorization.k8s.io", "RoleBinding");
    let b = c
        .create(
            &rb,
            Some("default"),
            &json!({"metadata": {"name": "b"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}, "subjects": []}),
        )
        .await
        .unwrap();
    let mut changed = b.clone();
    changed["roleRef"]["name"] = json!("edit");
    assert_eq!(c.update(&rb, Some("default"), &changed).await.unwrap_err().status_code(), 422);

    let deps = res("apps", "Deployment");
    c.create(&deps, Some("default"), &json!({"metadata": {"name": "d"}, "spec": {"replicas": 3}})).await.unwrap();
    c.create(&res("batch", "Job"), Some("default"), &json!({"metadata": {"name": "j"}, "spec": {}})).await.unwrap();
    c.take_ops();
    assert_eq!(c.settle(), 2);
    assert_eq!(c.settle(), 0, "settling twice changes nothing");
    assert!(c.take_ops().is_empty(), "settling is not a client request");
    let d = c.get(&deps, Some("default"), "d").await.unwrap();
    assert_eq!(d["status"]["readyReplicas"], 3);
    let j = c.get(&res("batch", "Job"), Some("default"), "j").await.unwrap();
    assert_eq!(j["status"]["conditions"][0]["type"], "Complete");
}
