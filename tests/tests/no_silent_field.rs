//! Fields that used to parse and then be ignored (issue 19 "no silent field"), executed: the
//! reconciler against a `MemCluster` and `ork simulate` through the binary, for
//! `ignoreObservedGeneration` and `secrets[].rotateAfter`. (`retryBackoff` and `queue.type` are
//! tested on the work queue, `services::runtime::queue`; the field-coverage test is in
//! `invariants`.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use katalog::load::{LoadOptions, load_file};
use katalog::model::Katalog;
use katalog::render::ANNOTATION_GENERATED_AT;
use katalog::template::{Rng, TemplateSet};
use katalog::time::parse_rfc3339;
use katalog::validate::validate;
use ork_tests::{TempDir, ork};
use serde_json::{Value, json};
use services::cluster::{ApiResource, Cluster, MemCluster, Op};
use services::reconcile::{Ctx, Outcome, Reconciler};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

const T0: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn katalog(runtime: &str, secrets: &str) -> String {
    format!(
        "apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: fields}}
spec:
  crds:
    app:
      apiTypes: {{group: x.dev, version: v1, kind: App, plural: apps}}
      operatorBox:
        runtime: {{{runtime}}}
        reconcile:
          onCreate:
            secrets:
{secrets}
          onReconcile:
            configMaps:
              - name: \"{{{{ .metadata.name }}}}\"
                data: {{size: \"{{{{ add .spec.size 1 }}}}\"}}
"
    )
}

const ROTATING: &str = "              - name: \"{{ .metadata.name }}-pw\"\n                once: true\n                rotateAfter: 2m\n                data: {password: \"{{ randomAlphanumeric 24 }}\"}\n";

struct World {
    katalog: Katalog,
    templates: TemplateSet,
    cluster: MemCluster,
    clock: Arc<AtomicI64>,
    _dir: TempDir,
}

impl World {
    fn new(text: &str) -> World {
        let dir = TempDir::new("no-silent-field");
        let path = dir.write("katalog.yaml", text);
        let loaded = load_file(&path, &LoadOptions::default());
        let report = validate(&loaded);
        let problems: Vec<String> = report.diagnostics.iter().filter(|d| d.is_error() || d.code == "not-supported-yet").map(ToString::to_string).collect();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        let (katalog, templates) = (loaded.katalog.unwrap(), report.templates.unwrap());
        let clock = Arc::new(AtomicI64::new(T0));
        let cluster = MemCluster::with_clock({
            let c = clock.clone();
            Arc::new(move || c.load(Ordering::SeqCst))
        });
        cluster.register(ApiResource { group: "x.dev".into(), version: "v1".into(), kind: "App".into(), plural: "apps".into(), namespaced: true }, true);
        cluster.seed(&json!({"apiVersion": "x.dev/v1", "kind": "App", "metadata": {"name": "a", "namespace": "default"}, "spec": {"size": 1}})).unwrap();
        cluster.take_ops();
        World { katalog, templates, cluster, clock, _dir: dir }
    }

    /// One reconcile; its requests; then the clock moves on by the requeue (else 30 s).
    fn cycle(&self) -> (Outcome, Vec<Op>) {
        let r = Reconciler::new(&self.katalog, &self.templates, "app").unwrap();
        let ctx = Ctx { now: self.clock.load(Ordering::SeqCst), rng: Rng::Seeded(self.clock.load(Ordering::SeqCst) as u64) };
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let out = rt.block_on(r.reconcile(&self.cluster, Some("default"), "a", &ctx));
        let ops = self.cluster.take_ops();
        self.cluster.settle();
        let step = match &out {
            Outcome::RequeueAfter(d) => d.as_secs() as i64,
            _ => 30,
        };
        self.clock.fetch_add(step, Ordering::SeqCst);
        (out, ops)
    }

    fn get(&self, group: &str, kind: &str, name: &str) -> Option<Value> {
        let r = self.cluster.resource_for(if group.is_empty() { "v1".to_string() } else { format!("{group}/v1") }.as_str(), kind)?;
        self.cluster.objects(&r).into_iter().find(|o| o["metadata"]["name"] == name)
    }

    fn events(&self) -> Vec<Value> {
        self.cluster.resource_for("events.k8s.io/v1", "Event").map(|r| self.cluster.objects(&r)).unwrap_or_default()
    }
}

fn has_generation(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.contains_key("observedGeneration") || m.values().any(has_generation),
        Value::Array(a) => a.iter().any(has_generation),
        _ => false,
    }
}

#[test]
fn ignore_observed_generation_keeps_it_out_of_the_status_on_success_and_failure() {
    let plain = World::new(&katalog("", "              []\n"));
    plain.cycle();
    let status = &plain.get("x.dev", "App", "a").unwrap()["status"];
    assert!(status.get("observedGeneration").is_some() && has_generation(&status["conditions"]), "by default it is recorded: {status}");

    let w = World::new(&katalog("ignoreObservedGeneration: true", "              []\n"));
    let (out, _) = w.cycle();
    assert_eq!(out, Outcome::Done);
    let status = w.get("x.dev", "App", "a").unwrap()["status"].clone();
    assert_eq!(status["conditions"][0]["status"], "True", "{status}");
    assert!(!has_generation(&status), "no observedGeneration anywhere: {status}");
    // The failure path builds its conditions elsewhere: the same rule holds.
    let _ = futures(w.cluster.patch(
        &w.cluster.resource_for("x.dev/v1", "App").unwrap(),
        Some("default"),
        "a",
        &services::cluster::Patch::Merge(json!({"spec": {"size": "big"}})),
    ));
    let (out, _) = w.cycle();
    assert!(matches!(out, Outcome::Failed(_)), "{out:?}");
    let status = w.get("x.dev", "App", "a").unwrap()["status"].clone();
    assert_eq!(status["conditions"][0]["status"], "False", "{status}");
    assert!(!has_generation(&status), "{status}");
}

fn futures<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
}

#[test]
fn a_once_secret_is_regenerated_after_rotate_after_and_the_rotation_is_an_event() {
    let w = World::new(&katalog("", ROTATING));
    let (out, ops) = w.cycle();
    assert!(ops.iter().any(|o| o.verb == "create" && o.resource == "secrets"), "{ops:?}");
    assert_eq!(out, Outcome::RequeueAfter(Duration::from_secs(120)), "the reconcile asks to come back when the Secret is due");
    let first = w.get("", "Secret", "a-pw").unwrap();
    assert_eq!(first["metadata"]["annotations"][ANNOTATION_GENERATED_AT], "2026-01-01T00:00:00Z");

    // Two minutes later: regenerated (new data, new stamp), recorded, and due again in 2m.
    let (out, ops) = w.cycle();
    assert!(ops.iter().any(|o| o.verb == "update" && o.resource == "secrets" && o.name.as_deref() == Some("a-pw")), "{ops:?}");
    assert_eq!(out, Outcome::RequeueAfter(Duration::from_secs(120)));
    let second = w.get("", "Secret", "a-pw").unwrap();
    assert_ne!(second["data"]["password"], first["data"]["password"], "regenerated");
    assert_eq!(second["metadata"]["uid"], first["metadata"]["uid"], "the same object, updated");
    assert_eq!(second["metadata"]["annotations"][ANNOTATION_GENERATED_AT], "2026-01-01T00:02:00Z");
    let events = w.events();
    let rotated: Vec<&Value> = events.iter().filter(|e| e["reason"] == "SecretRotated").collect();
    assert_eq!(rotated.len(), 1, "{:?}", w.events());
    let e = rotated[0];
    assert_eq!(e["type"], "Normal");
    let note = e["note"].as_str().unwrap();
    assert!(note.contains("Secret a-pw") && note.contains("2026-01-01T00:00:00Z"), "{note}");
    for data in [&first, &second] {
        let pw = data["data"]["password"].as_str().unwrap();
        assert!(!note.contains(pw), "the note never holds the data");
    }
}

#[test]
fn the_rotation_time_and_requeue_combine_into_the_sooner_requeue() {
    let text = katalog("", ROTATING).replace("        reconcile:\n", "        reconcile:\n          requeue: {after: 45s}\n");
    let w = World::new(&text);
    let (out, _) = w.cycle();
    assert_eq!(out, Outcome::RequeueAfter(Duration::from_secs(45)), "requeue is sooner");
    let (out, ops) = w.cycle(); // t = 45 s: not due
    assert!(!ops.iter().any(|o| o.resource == "secrets" && o.is_write()), "{ops:?}");
    assert_eq!(out, Outcome::RequeueAfter(Duration::from_secs(45)));
    let (out, _) = w.cycle(); // t = 90 s: due in 30 s, sooner than requeue
    assert_eq!(out, Outcome::RequeueAfter(Duration::from_secs(30)));
    let (out, ops) = w.cycle(); // t = 120 s: due (generated at 0, rotateAfter 120 s)
    assert!(ops.iter().any(|o| o.verb == "update" && o.resource == "secrets"), "{ops:?}");
    assert_eq!(out, Outcome::RequeueAfter(Duration::from_secs(45)));
    let s = w.get("", "Secret", "a-pw").unwrap();
    let at = parse_rfc3339(s["metadata"]["annotations"][ANNOTATION_GENERATED_AT].as_str().unwrap()).unwrap();
    assert_eq!(at, T0 + 120, "rotated exactly when due, not at the next requeue");
}

#[test]
fn simulate_shows_the_rotation_at_the_cycle_it_falls_due() {
    let t = TempDir::new("sim-rotate");
    t.write(
        "katalog.yaml",
        &katalog("ignoreObservedGeneration: true", ROTATING.replace("2m", "5m").as_str())
            .replace("        reconcile:\n", "        reconcile:\n          requeue: {after: 2m}\n"),
    );
    t.write("cr.yaml", "apiVersion: x.dev/v1\nkind: App\nmetadata: {name: a, namespace: default}\nspec: {size: 1}\n");
    t.write(
        "simulate.yaml",
        "apiVersion: orkestra.orkspace.io/v1\nkind: Simulate\nmetadata: {name: rotate}\nspec:\n  katalog: ./katalog.yaml\n  cr: ./cr.yaml\n  cycles: 6\n  expect:\n    noErrors: true\n    ops:\n      - {cycle: 1, verb: create, resource: secrets, name: a-pw}\n      - {cycle: 4, verb: update, resource: secrets, name: a-pw}\n    absent:\n      - {cycle: 2, verb: update, resource: secrets}\n      - {cycle: 3, verb: update, resource: secrets}\n      - {cycle: 5, verb: update, resource: secrets}\n",
    );
    let run = ork(t.path(), &["simulate", "--output", "json"]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {} / {}", run.stdout, run.stderr));
    assert_eq!(run.code, 0, "{}", serde_json::to_string_pretty(&v).unwrap());
    // Every request, the rotation's update among them, is allowed by the derived RBAC.
    let loaded = load_file(&t.path().join("katalog.yaml"), &LoadOptions::default());
    let rbac = katalog::authoring::rbac::derive(loaded.katalog.as_ref().unwrap(), "ork-system").unwrap();
    let mut updates = 0;
    for c in v["files"][0]["runs"][0]["cycles"].as_array().unwrap() {
        for op in c["ops"].as_array().unwrap() {
            let s = |k: &str| op.get(k).and_then(Value::as_str);
            let a = katalog::authoring::rbac::Access {
                verb: s("verb").unwrap(),
                api_group: s("group").unwrap(),
                resource: s("resource").unwrap(),
                namespace: s("namespace"),
                name: s("name"),
            };
            assert!(rbac.runtime.allows("ork-system", &a).is_some(), "not allowed by the derived ClusterRole: {op}");
            updates += usize::from(a.verb == "update" && a.resource == "secrets");
        }
    }
    assert_eq!(updates, 1);
    // Clock: 0 → 2m → 4m → 5m (the rotation is sooner than requeue) → 7m → 9m.
    let outcomes: Vec<&str> = v["files"][0]["runs"][0]["cycles"].as_array().unwrap().iter().map(|c| c["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["requeue after 120s", "requeue after 120s", "requeue after 60s", "requeue after 120s", "requeue after 120s", "requeue after 60s"]);
}
