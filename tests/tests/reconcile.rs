//! The reconciler against a `MemCluster`: idempotence, drift correction of owned fields only,
//! pruning, deny, render errors, finalizers, the namespace guard, deletion and requeue.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use katalog::load::{LoadOptions, load_file};
use katalog::model::Katalog;
use katalog::template::{Rng, TemplateSet};
use katalog::validate::validate;
use serde_json::{Value, json};
use services::cluster::{ApiResource, Cluster, MemCluster, Op, Patch, Propagation};
use services::reconcile::{Ctx, Outcome, Reconciler};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::time::Duration;

const T0: i64 = 1_767_225_600;

fn load(text: &str) -> (Katalog, TemplateSet) {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!("ork-reconcile-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("katalog.yaml");
    std::fs::write(&path, text).unwrap();
    let loaded = load_file(&path, &LoadOptions::default());
    let report = validate(&loaded);
    let errors: Vec<String> = report.diagnostics.iter().filter(|d| d.is_error()).map(ToString::to_string).collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let _ = std::fs::remove_dir_all(&dir);
    (loaded.katalog.unwrap(), report.templates.unwrap())
}

const WEB: &str = r#"
apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: web}
spec:
  crds:
    site:
      apiTypes: {group: x.dev, version: v1, kind: Site, plural: sites}
      admission:
        validation:
          rules:
            - {field: spec.tier, notEquals: forbidden, message: "tier may not be forbidden"}
      operatorBox:
        runtime:
          restrictedNamespaces: [kube-system]
        reconcile:
          requeue: {after: "{{ .spec.requeue | default \"0\" }}"}
          onCreate:
            deployments:
              - name: "{{ .metadata.name }}"
                image: "{{ .spec.image }}"
                replicas: "{{ .spec.replicas | default 1 }}"
            configMaps:
              - name: "{{ .metadata.name }}-once"
                data: {created: "yes"}
                when: [{field: spec.extra, equals: "true"}]
          onReconcile:
            services:
              - {name: "{{ .metadata.name }}", port: "80"}
            configMaps:
              - name: "{{ .metadata.name }}-{{ .item }}"
                forEach: {field: spec.envs}
                data: {env: "{{ .item }}", size: "{{ add .spec.size 1 }}"}
        emit:
          status:
            fields:
              - {path: ready, value: "{{ readyReplicas .children.deployment }}", type: int}
"#;

struct World {
    katalog: Katalog,
    templates: TemplateSet,
    cluster: MemCluster,
    clock: Arc<AtomicI64>,
}

impl World {
    fn new(text: &str) -> World {
        let (katalog, templates) = load(text);
        let clock = Arc::new(AtomicI64::new(T0));
        let cluster = MemCluster::with_clock({
            let c = clock.clone();
            Arc::new(move || c.load(Ordering::SeqCst))
        });
        for (_, e) in katalog.crds().iter() {
            let id = katalog::kinds::api_identity(e).unwrap();
            cluster.register(ApiResource { group: id.group, version: id.version, kind: id.kind, plural: id.plural, namespaced: true }, true);
        }
        World { katalog, templates, cluster, clock }
    }

    fn site(&self) -> ApiResource {
        self.cluster.resource_for("x.dev/v1", "Site").unwrap()
    }

    fn seed(&self, ns: &str, spec: Value) {
        self.cluster.seed(&json!({"apiVersion": "x.dev/v1", "kind": "Site", "metadata": {"name": "s", "namespace": ns}, "spec": spec})).unwrap();
        self.cluster.take_ops();
    }

    /// One reconcile of `ns/s`; the requests it made; then the cluster settles.
    fn cycle(&self, ns: &str) -> (Outcome, Vec<Op>) {
        let r = Reconciler::new(&self.katalog, &self.templates, "site").unwrap();
        let ctx = Ctx { now: self.clock.load(Ordering::SeqCst), rng: Rng::Seeded(1) };
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let out = rt.block_on(r.reconcile(&self.cluster, Some(ns), "s", &ctx));
        let ops = self.cluster.take_ops();
        self.cluster.settle();
        self.clock.fetch_add(30, Ordering::SeqCst);
        (out, ops)
    }

    fn get(&self, r: &ApiResource, ns: &str, name: &str) -> Option<Value> {
        self.cluster.objects(r).into_iter().find(|o| o["metadata"]["name"] == name && o["metadata"]["namespace"] == ns)
    }

    /// A merge patch by someone else than ork (the field manager `kubectl-patch`).
    fn patch(&self, r: &ApiResource, ns: &str, name: &str, p: Value) {
        self.cluster.patch_by(r, Some(ns), name, &Patch::Merge(p), "kubectl-patch", false).unwrap();
        self.cluster.take_ops();
    }
}

/// MemCluster futures are already resolved.
fn futures_ready<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
}

fn writes(ops: &[Op]) -> Vec<String> {
    ops.iter().filter(|o| o.is_write()).map(|o| format!("{} {} {}", o.verb, o.resource, o.name.clone().unwrap_or_default())).collect()
}

fn res(group: &str, kind: &str) -> ApiResource {
    katalog::kinds::known(group, kind).unwrap()
}

#[test]
fn first_cycle_creates_then_only_reads_once_converged() {
    let w = World::new(WEB);
    w.seed("default", json!({"image": "nginx:1", "envs": ["dev", "prod"], "size": 1}));
    let (out, ops) = w.cycle("default");
    assert_eq!(out, Outcome::Done);
    // Owner references let the garbage collector remove these children: no finalizer, and the
    // CR itself is not written but for its status. No Event: nothing failed or recovered.
    let wr = writes(&ops);
    assert_eq!(wr, ["create deployments s", "create services s", "create configmaps s-dev", "create configmaps s-prod", "patch sites/status s"]);
    let cr = w.get(&w.site(), "default", "s").unwrap();
    assert_eq!(cr["metadata"].get("finalizers"), None);
    assert_eq!(cr["status"]["conditions"][0]["type"], "Ready");
    // Ready means the children are: the Deployment has no ready replica yet.
    assert_eq!(cr["status"]["conditions"][0]["status"], "False");
    assert_eq!(cr["status"]["conditions"][0]["reason"], "ChildrenNotReady");
    assert_eq!(cr["status"]["conditions"][0]["message"], "children not ready: Deployment/s (0/1 replicas ready)");
    // The Deployment became ready (settle): the status follows once, then nothing changes.
    let (_, ops) = w.cycle("default");
    assert_eq!(writes(&ops), ["patch sites/status s"]);
    assert_eq!(w.get(&w.site(), "default", "s").unwrap()["status"]["conditions"][0]["status"], "True");
    assert_eq!(w.get(&w.site(), "default", "s").unwrap()["status"]["ready"], 1);
    for _ in 0..3 {
        let (out, ops) = w.cycle("default");
        assert_eq!(out, Outcome::Done);
        assert!(writes(&ops).is_empty(), "a converged CR is only read: {ops:?}");
        assert!(ops.iter().all(|o| matches!(o.verb, "get" | "list")));
    }
}

#[test]
fn drift_is_corrected_on_owned_fields_only() {
    let w = World::new(WEB);
    w.seed("default", json!({"image": "nginx:1", "envs": ["dev"], "size": 1}));
    w.cycle("default");
    w.cycle("default");
    let cms = res("", "ConfigMap");
    // Someone edits a field the template owns: corrected next cycle.
    w.patch(&cms, "default", "s-dev", json!({"data": {"env": "tampered"}}));
    let (_, ops) = w.cycle("default");
    assert_eq!(writes(&ops), ["patch configmaps s-dev", "create events "], "the correction (a forced server-side apply) is recorded as an Event");
    assert_eq!(w.get(&cms, "default", "s-dev").unwrap()["data"]["env"], "dev");
    // Someone adds what the template does not own: left alone.
    w.patch(&cms, "default", "s-dev", json!({"metadata": {"annotations": {"team.example/owner": "ops"}}, "data": {"extra": "kept"}}));
    let (_, ops) = w.cycle("default");
    assert!(writes(&ops).is_empty(), "{ops:?}");
    assert_eq!(w.get(&cms, "default", "s-dev").unwrap()["data"]["extra"], "kept");
    // onCreate without `reconcile: true` is never corrected.
    let deps = res("apps", "Deployment");
    w.patch(&deps, "default", "s", json!({"spec": {"replicas": 7}}));
    let (_, ops) = w.cycle("default");
    assert!(!writes(&ops).iter().any(|o| o.contains("deployments")), "{ops:?}");
    assert_eq!(w.get(&deps, "default", "s").unwrap()["spec"]["replicas"], 7);
}

#[test]
fn children_a_drift_corrected_entry_no_longer_wants_are_deleted() {
    let w = World::new(WEB);
    w.seed("default", json!({"image": "nginx:1", "envs": ["dev", "prod"], "size": 1, "extra": "true"}));
    w.cycle("default");
    let cms = res("", "ConfigMap");
    assert!(w.get(&cms, "default", "s-once").is_some());
    w.patch(&w.site(), "default", "s", json!({"spec": {"envs": ["prod"], "extra": "false"}}));
    let (_, ops) = w.cycle("default");
    let wr = writes(&ops);
    assert!(wr.contains(&"delete configmaps s-dev".to_string()), "{wr:?}");
    assert!(w.get(&cms, "default", "s-dev").is_none());
    assert!(w.get(&cms, "default", "s-prod").is_some());
    // The gated onCreate child is not drift-corrected, so it is not pruned either.
    assert!(w.get(&cms, "default", "s-once").is_some());
    // An object with the same owner label but another owner is never touched.
    w.cluster
        .seed(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "s-stray", "namespace": "default",
        "labels": {"orkestra-owner": "s"}, "annotations": {"orkestra.orkspace.io/entry": "onReconcile.configMaps[0]"}}}))
        .unwrap();
    w.cluster.take_ops();
    let (_, ops) = w.cycle("default");
    assert!(writes(&ops).is_empty(), "{ops:?}");
}

#[test]
fn a_denied_cr_gets_the_condition_and_no_children() {
    let w = World::new(WEB);
    w.seed("default", json!({"image": "nginx:1", "tier": "forbidden", "size": 1}));
    let (out, ops) = w.cycle("default");
    let Outcome::Failed(e) = out else { panic!("{out:?}") };
    assert!(!e.retry);
    assert!(e.message.contains("tier may not be forbidden"), "{}", e.message);
    assert!(!writes(&ops).iter().any(|o| o.starts_with("create deployments")));
    let cr = w.get(&w.site(), "default", "s").unwrap();
    let failed = cr["status"]["conditions"].as_array().unwrap().iter().find(|c| c["type"] == "ValidationFailed").unwrap().clone();
    assert_eq!(failed["status"], "True");
    assert_eq!(failed["reason"], "DenyRuleViolation");
    let (_, ops) = w.cycle("default");
    assert!(writes(&ops).is_empty(), "the denial is already on the status: {ops:?}");
}

/// Defect 8, runtime side: a child the API server would refuse (here a 70-character Service
/// name) fails the same way every time, so it is handled like a deny: ValidationFailed on the
/// status, nothing created, not retried until the CR changes.
#[test]
fn a_child_the_api_server_would_refuse_fails_like_a_deny_without_retry() {
    let w = World::new(WEB);
    let name = "a".repeat(70);
    w.cluster
        .seed(&json!({"apiVersion": "x.dev/v1", "kind": "Site", "metadata": {"name": name, "namespace": "default"}, "spec": {"image": "nginx:1", "size": 1}}))
        .unwrap();
    w.cluster.take_ops();
    let r = Reconciler::new(&w.katalog, &w.templates, "site").unwrap();
    let ctx = Ctx { now: T0, rng: Rng::Seeded(1) };
    let reconcile = || {
        let out = futures_ready(r.reconcile(&w.cluster, Some("default"), &name, &ctx));
        (out, w.cluster.take_ops())
    };
    let (out, ops) = reconcile();
    let Outcome::Failed(e) = out else { panic!("{out:?}") };
    assert!(!e.retry, "{e:?}");
    assert!(e.message.starts_with("validation failed: crd `site`: onReconcile.services[0]: the rendered Service"), "{}", e.message);
    assert!(e.message.contains("must be no more than 63 characters (Service names must be an RFC 1035 label)"), "{}", e.message);
    let created: Vec<String> = writes(&ops).into_iter().filter(|o| o.starts_with("create") && !o.starts_with("create events")).collect();
    assert!(created.is_empty(), "nothing is sent before every child is valid: {created:?}");
    let cr = w.get(&w.site(), "default", &name).unwrap();
    let conditions = cr["status"]["conditions"].as_array().unwrap();
    let of = |t: &str| conditions.iter().find(|c| c["type"] == t).unwrap().clone();
    assert_eq!((of("Ready")["status"].clone(), of("Ready")["reason"].clone()), (json!("False"), json!("ReconcileError")));
    assert_eq!((of("ValidationFailed")["status"].clone(), of("ValidationFailed")["reason"].clone()), (json!("True"), json!("InvalidObjectMetadata")));
    assert_eq!(of("ValidationFailed")["message"], of("Ready")["message"]);
    let (_, ops) = reconcile();
    assert!(writes(&ops).is_empty(), "the refusal is already on the status: {ops:?}");
}

#[test]
fn a_template_error_at_reconcile_time_is_reported_on_the_status_not_a_panic() {
    let w = World::new(WEB);
    w.seed("default", json!({"image": "nginx:1", "envs": ["dev"], "size": "big"}));
    let (out, _) = w.cycle("default");
    let Outcome::Failed(e) = out else { panic!("{out:?}") };
    assert!(e.retry);
    assert!(e.message.contains("onReconcile.configMaps[0]") && e.message.contains("add"), "{}", e.message);
    let cr = w.get(&w.site(), "default", "s").unwrap();
    let ready = &cr["status"]["conditions"][0];
    assert_eq!(ready["status"], "False");
    assert!(ready["message"].as_str().unwrap().contains("add"), "{ready}");
}

#[test]
fn the_namespace_guard_skips_restricted_namespaces_without_writing() {
    let w = World::new(WEB);
    w.seed("kube-system", json!({"image": "nginx:1"}));
    let (out, ops) = w.cycle("kube-system");
    assert_eq!(out, Outcome::Done);
    assert!(writes(&ops).is_empty(), "{ops:?}");
}

#[test]
fn requeue_after_is_returned_not_slept() {
    let w = World::new(WEB);
    w.seed("default", json!({"image": "nginx:1", "requeue": "45s", "size": 1}));
    let (out, _) = w.cycle("default");
    assert_eq!(out, Outcome::RequeueAfter(Duration::from_secs(45)));
}

const DB: &str = r#"
apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: db}
spec:
  crds:
    site:
      apiTypes: {group: x.dev, version: v1, kind: Site, plural: sites}
      operatorBox:
        reconcile:
          onCreate:
            namespaces:
              - name: "{{ .metadata.name }}-space"
            configMaps:
              - {name: "{{ .metadata.name }}-cfg", data: {a: b}}
          onDelete:
            ordered: true
            timeout: 2m
            groups:
              - jobs:
                  - {name: "{{ .metadata.name }}-backup", image: busybox}
              - configMaps: [{name: "{{ .metadata.name }}-cfg"}]
"#;

#[test]
fn deletion_runs_ordered_groups_then_drops_the_finalizer() {
    let w = World::new(DB);
    w.seed("default", json!({}));
    w.cycle("default");
    let nss = res("", "Namespace");
    assert!(w.get(&nss, "", "s-space").is_none(), "namespaces are cluster-scoped");
    assert!(w.cluster.objects(&nss).iter().any(|n| n["metadata"]["name"] == "s-space"));
    futures_ready(w.cluster.delete(&w.site(), Some("default"), "s", Propagation::Background)).unwrap();
    w.cluster.take_ops();
    let (out, ops) = w.cycle("default");
    assert_eq!(out, Outcome::RequeueAfter(Duration::from_secs(3)), "waits for the backup Job");
    assert_eq!(writes(&ops), ["create jobs s-backup"]);
    let job = w.get(&res("batch", "Job"), "default", "s-backup").unwrap();
    assert!(job["metadata"].get("ownerReferences").is_none(), "a cleanup Job outlives its CR");
    let (out, ops) = w.cycle("default");
    assert_eq!(out, Outcome::Done);
    let wr = writes(&ops);
    assert_eq!(&wr[..3], ["delete configmaps s-cfg", "delete namespaces s-space", "patch sites s"], "{wr:?}");
    assert!(w.get(&w.site(), "default", "s").is_none(), "the CR is gone");
    assert!(w.cluster.objects(&nss).iter().all(|n| n["metadata"]["name"] != "s-space"));
}

#[test]
fn an_ordered_deletion_that_does_not_finish_in_time_keeps_the_finalizer() {
    let w = World::new(DB);
    w.seed("default", json!({}));
    w.cycle("default");
    futures_ready(w.cluster.delete(&w.site(), Some("default"), "s", Propagation::Background)).unwrap();
    let r = Reconciler::new(&w.katalog, &w.templates, "site").unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    // The Job never completes (no settle); after 2 minutes the reconciler gives up loudly.
    let ctx = |t: i64| Ctx { now: t, rng: Rng::Seeded(1) };
    let first = rt.block_on(r.reconcile(&w.cluster, Some("default"), "s", &ctx(T0)));
    assert_eq!(first, Outcome::RequeueAfter(Duration::from_secs(3)));
    let late = rt.block_on(r.reconcile(&w.cluster, Some("default"), "s", &ctx(T0 + 3600)));
    let Outcome::Failed(e) = late else { panic!("{late:?}") };
    assert!(e.message.contains("did not finish within 120s"), "{}", e.message);
    assert!(w.get(&w.site(), "default", "s").is_some());
    let events = w.cluster.objects(&res("events.k8s.io", "Event"));
    assert!(events.iter().any(|e| e["reason"] == "SiteDeleteTimeout" && e["type"] == "Warning"), "{events:?}");
}

const SECRETS: &str = r#"
apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: secrets}
spec:
  crds:
    site:
      apiTypes: {group: x.dev, version: v1, kind: Site, plural: sites}
      admission:
        validation:
          rules:
            - {field: spec.password, regex: '^[a-z]{12,}$', message: "password {{ .spec.password }} is too weak"}
      operatorBox:
        reconcile:
          onReconcile:
            secrets: [{name: "{{ .metadata.name }}-creds", data: {password: "{{ .spec.password }}"}}]
            deployments:
              - name: "{{ .metadata.name }}"
                when: [{field: spec.mode, equals: broken}]
                image: nginx
                replicas: "{{ .spec.password }}"
        emit:
          status:
            fields: [{path: echo, value: "pw={{ .spec.password }}"}]
"#;

/// Regression for "secrets in logs and status": the reconciler's outcome, the CR's status and
/// its Events never hold the password — denied, reconciled or failing to render.
#[test]
fn a_password_reaches_neither_status_nor_events_nor_the_error() {
    let events = res("events.k8s.io", "Event");
    for (password, mode) in [("Weak-planted-pw1", "normal"), ("plantedlowercasepw", "normal"), ("plantedlowercasepw", "broken")] {
        let w = World::new(SECRETS);
        w.seed("default", json!({"password": password, "mode": mode}));
        let (out, _) = w.cycle("default");
        let cr = w.get(&w.site(), "default", "s").unwrap();
        let notes: Vec<String> = w.cluster.objects(&events).iter().map(|e| e["note"].as_str().unwrap_or_default().to_string()).collect();
        let shown = format!("{out:?}\n{}\n{}", cr["status"], notes.join("\n"));
        assert!(!shown.contains(password), "{password} ({mode}) leaked:\n{shown}");
        match (password.starts_with("Weak"), mode) {
            (true, _) => {
                let Outcome::Failed(e) = &out else { panic!("{out:?}") };
                assert!(!e.retry);
                assert_eq!(e.message, "validation failed: field \"spec.password\": password [redacted] is too weak (value redacted: sensitive field)");
                assert_eq!(cr["status"]["conditions"][1]["message"], e.message.as_str());
                assert!(notes.contains(&e.message), "{notes:?}");
            }
            (false, "normal") => {
                assert_eq!(out, Outcome::Done);
                assert_eq!(cr["status"]["echo"], "pw=[redacted]");
                let secret = w.get(&res("", "Secret"), "default", "s-creds").unwrap();
                assert_eq!(secret["data"]["password"], katalog::template::base64_encode(password.as_bytes()), "the Secret itself holds the value");
            }
            _ => {
                let Outcome::Failed(e) = &out else { panic!("{out:?}") };
                assert!(e.retry && e.message.contains("`replicas` rendered to \"[redacted]\", which is not an integer"), "{e:?}");
                assert!(cr["status"]["conditions"][0]["message"].as_str().unwrap_or_default().contains("[redacted]"), "{}", cr["status"]);
                assert!(notes.iter().any(|n| n.contains("not an integer")), "{notes:?}");
            }
        }
    }
}

#[test]
fn the_deletion_protection_label_is_added_once_so_removing_it_lifts_the_protection() {
    let protected = WEB.replacen("metadata: {name: web}\n", "metadata: {name: web}\nsecurity:\n  deletionProtection: {enabled: true}\n", 1);
    let w = World::new(&protected);
    w.seed("default", json!({"image": "nginx:1", "envs": [], "size": 1}));
    w.cycle("default");
    let cr = w.get(&w.site(), "default", "s").unwrap();
    assert_eq!(cr["metadata"]["labels"]["orkestra.io/deletion-protection"], "true");
    // The user lifts the protection of this one object: the runtime leaves it lifted.
    w.patch(&w.site(), "default", "s", json!({"metadata": {"labels": {"orkestra.io/deletion-protection": null}}}));
    for _ in 0..3 {
        let (_, ops) = w.cycle("default");
        assert!(!writes(&ops).contains(&"patch sites s".to_string()), "{ops:?}");
    }
    assert!(w.get(&w.site(), "default", "s").unwrap()["metadata"]["labels"].get("orkestra.io/deletion-protection").is_none());
}

/// Pause and resume on the in-memory cluster: a paused CR gets its `Paused` condition once and
/// nothing else; a spec change waits; removing the annotation resumes and drops the condition.
#[test]
fn a_paused_cr_is_left_alone_until_the_annotation_goes() {
    let w = World::new(WEB);
    w.seed("default", json!({"image": "nginx:1", "envs": ["dev"], "size": 1}));
    w.cycle("default");
    w.cycle("default");
    let paused = "orkestra.orkspace.io/paused";
    w.patch(&w.site(), "default", "s", json!({"metadata": {"annotations": {paused: "true"}}, "spec": {"image": "nginx:2"}}));
    let (out, ops) = w.cycle("default");
    assert_eq!(out, Outcome::Paused);
    assert_eq!(writes(&ops), ["patch sites/status s"], "only the Paused condition");
    let cr = w.get(&w.site(), "default", "s").unwrap();
    let cond = cr["status"]["conditions"].as_array().unwrap().iter().find(|c| c["type"] == "Paused").cloned().unwrap();
    assert_eq!((cond["status"].as_str(), cond["reason"].as_str()), (Some("True"), Some("PausedByAnnotation")));
    let (out, ops) = w.cycle("default");
    assert_eq!(out, Outcome::Paused);
    assert!(writes(&ops).is_empty(), "the condition is written once: {ops:?}");
    assert_eq!(w.get(&res("apps", "Deployment"), "default", "s").unwrap()["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1");
    // Any other value does not pause.
    w.patch(&w.site(), "default", "s", json!({"metadata": {"annotations": {paused: null}}}));
    let (out, _) = w.cycle("default");
    assert_eq!(out, Outcome::Done);
    let cr = w.get(&w.site(), "default", "s").unwrap();
    assert!(!cr["status"]["conditions"].as_array().unwrap().iter().any(|c| c["type"] == "Paused"), "resumed: {cr}");
}

/// The reconcileGate reads the change's sentinels; with `failPolicy: closed` a failing gate
/// leaves the CR exactly as it was (no finalizer, no status).
#[test]
fn the_reconcile_gate_reads_sentinels_and_a_closed_failing_gate_touches_nothing() {
    let gated = WEB.replace(
        "        runtime:\n          restrictedNamespaces: [kube-system]\n",
        "        preReconcile:\n          sentinels: [generationChanged]\n          reconcileGate: {sentinels: [generationChanged]}\n",
    );
    let w = World::new(&gated);
    w.seed("default", json!({"image": "nginx:1", "envs": [], "size": 1}));
    let r = Reconciler::new(&w.katalog, &w.templates, "site").unwrap();
    let ctx = Ctx { now: T0, rng: Rng::Seeded(1) };
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let Outcome::Gated(why) = rt.block_on(r.reconcile(&w.cluster, Some("default"), "s", &ctx)) else { panic!("a resync is held") };
    assert!(why.contains("generationChanged"), "{why}");
    assert!(writes(&w.cluster.take_ops()).is_empty());
    let cr = w.get(&w.site(), "default", "s").unwrap();
    let created = katalog::observe::sentinels(None, &cr);
    assert_eq!(rt.block_on(r.reconcile_event(&w.cluster, Some("default"), "s", &ctx, &created)), Outcome::Done);

    let closed = WEB.replace(
        "        runtime:\n          restrictedNamespaces: [kube-system]\n",
        "        preReconcile:\n          reconcileGate:\n            failPolicy: closed\n            when: [{field: '{{ div 1 0 }}', equals: \"x\"}]\n",
    );
    let w = World::new(&closed);
    w.seed("default", json!({"image": "nginx:1", "envs": [], "size": 1}));
    let before = w.get(&w.site(), "default", "s").unwrap();
    let r = Reconciler::new(&w.katalog, &w.templates, "site").unwrap();
    let out = rt.block_on(r.reconcile(&w.cluster, Some("default"), "s", &ctx));
    assert!(matches!(&out, Outcome::Gated(why) if why.contains("failPolicy: closed")), "{out:?}");
    assert!(writes(&w.cluster.take_ops()).is_empty());
    assert_eq!(w.get(&w.site(), "default", "s").unwrap(), before, "untouched");
}
