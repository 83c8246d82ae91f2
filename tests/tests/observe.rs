//! Katalogs that read the world (docs/observe.md, docs/readiness.md): `observe.cross`, the
//! preReconcile gates and sentinels, readiness (`ChildrenNotReady`, `dependsOn`) and the pause
//! annotation — through `ork simulate` (the real binary) and through the runtime in-process
//! against the dev cluster with the real kubectl.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::rt::*;
use crate::simulate::json as simulate_json;
use ork_tests::{TempDir, ork, root};
use serde_json::Value;
use services::devcluster::Options;
use services::runtime::{Options as RuntimeOptions, Runtime};
use std::path::Path;
use std::time::Duration;

/// The cycles of CRD `crd` in a simulate JSON report.
fn cycles<'v>(report: &'v Value, crd: &str) -> &'v Vec<Value> {
    let runs = report.pointer("/files/0/runs").or_else(|| report.pointer("/0/runs")).and_then(Value::as_array).unwrap_or_else(|| panic!("{report}"));
    let run = runs.iter().find(|r| r["crd"] == crd).unwrap_or_else(|| panic!("no run of {crd}: {report}"));
    run["cycles"].as_array().unwrap()
}

fn writes(cycle: &Value) -> Vec<String> {
    let ops = cycle["ops"].as_array().unwrap();
    ops.iter()
        .filter(|o| !matches!(o["verb"].as_str(), Some("get" | "list" | "watch")))
        .map(|o| format!("{} {} {}", o["verb"].as_str().unwrap(), o["resource"].as_str().unwrap(), o["name"].as_str().unwrap_or("")))
        .collect()
}

const DEMO: &str = "demos/intermediate/app-waits-for-database";

#[test]
fn simulate_shows_the_gate_holding_then_opening_and_children_in_depends_on_order() {
    let (code, report) = simulate_json(&root().join(DEMO), &[]);
    assert_eq!(code, 0, "{report}");
    let app = cycles(&report, "app");
    assert!(app[0]["outcome"].as_str().unwrap().starts_with("gated (reconcileGate"), "{}", app[0]);
    assert!(writes(&app[0]).is_empty(), "a held App is not touched: {:?}", writes(&app[0]));
    assert_eq!(app[0]["peers"][0], "database default/shop: done", "the observed Database is reconciled in the same cycle");
    let second = writes(&app[1]);
    assert!(second.contains(&"create configmaps shop-settings".to_string()), "{second:?}");
    assert!(!second.iter().any(|w| w.contains("deployments")), "the Deployment depends on the settings: {second:?}");
    assert!(writes(&app[2]).contains(&"create deployments shop".to_string()), "{:?}", writes(&app[2]));
    let database = cycles(&report, "database");
    assert!(writes(&database[0]).contains(&"create deployments shop-db".to_string()));
}

/// A copy of hello-website whose Katalog gets `extra` spliced into the operatorBox, and whose CR
/// gets `annotations`.
fn hello_with(extra: &str, cr_metadata: &str, cycles: u32) -> TempDir {
    let t = TempDir::new("observe-sim");
    let katalog = std::fs::read_to_string(root().join("demos/beginner/hello-website/katalog.yaml")).unwrap();
    let katalog = katalog.replace("      operatorBox:\n", &format!("      operatorBox:\n{extra}"));
    t.write("katalog.yaml", &katalog);
    let cr = std::fs::read_to_string(root().join("demos/beginner/hello-website/cr.yaml")).unwrap();
    t.write("cr.yaml", &cr.replace("  namespace: default\n", &format!("  namespace: default\n{cr_metadata}")));
    t.write(
        "simulate.yaml",
        &format!("apiVersion: orkestra.orkspace.io/v1\nkind: Simulate\nmetadata: {{name: t}}\nspec:\n  katalog: ./katalog.yaml\n  cr: ./cr.yaml\n  cycles: {cycles}\n"),
    );
    t
}

#[test]
fn a_paused_cr_gets_only_its_paused_condition() {
    let t = hello_with("", "  annotations: {orkestra.orkspace.io/paused: \"true\"}\n", 3);
    let (code, report) = simulate_json(t.path(), &[]);
    assert_eq!(code, 0, "{report}");
    let c = cycles(&report, "website");
    assert!(c.iter().all(|c| c["outcome"] == "paused"), "{c:?}");
    assert_eq!(writes(&c[0]), vec!["patch websites/status hello".to_string()], "only the Paused condition");
    assert!(writes(&c[1]).is_empty() && writes(&c[2]).is_empty(), "the condition is written once");
}

#[test]
fn a_sentinel_gate_lets_the_creation_through_and_holds_resyncs() {
    let extra = "        preReconcile:\n          sentinels: [generationChanged, labelsChanged]\n          reconcileGate: {sentinels: [generationChanged]}\n";
    let t = hello_with(extra, "", 3);
    let (code, report) = simulate_json(t.path(), &[]);
    assert_eq!(code, 0, "{report}");
    let c = cycles(&report, "website");
    assert_eq!(c[0]["outcome"], "done", "a creation sets every sentinel but deletionStarted");
    assert!(writes(&c[0]).iter().any(|w| w == "create deployments hello-web"));
    assert!(c[1]["outcome"].as_str().unwrap().contains("none of the sentinels generationChanged is set"), "{}", c[1]);
    assert!(writes(&c[1]).is_empty());
}

#[test]
fn sentinels_are_functions_in_gate_conditions() {
    let extra = "        preReconcile:\n          sentinels: [generationChanged]\n          reconcileGate:\n            when: [{field: '{{ generationChanged }}', equals: \"true\"}]\n";
    let t = hello_with(extra, "", 2);
    let (code, report) = simulate_json(t.path(), &[]);
    assert_eq!(code, 0, "{report}");
    let c = cycles(&report, "website");
    assert_eq!(c[0]["outcome"], "done");
    assert!(c[1]["outcome"].as_str().unwrap().starts_with("gated (reconcileGate: its conditions do not hold"), "{}", c[1]);
}

#[test]
fn a_failing_gate_holds_with_fail_policy_closed_and_passes_with_open() {
    let gate = |policy: &str| {
        format!(
            "        preReconcile:\n          reconcileGate:\n            failPolicy: {policy}\n            when: [{{field: '{{{{ div 1 0 }}}}', equals: \"1\"}}]\n"
        )
    };
    let t = hello_with(&gate("closed"), "", 2);
    let (code, report) = simulate_json(t.path(), &[]);
    assert_eq!(code, 0, "{report}");
    for c in cycles(&report, "website") {
        assert!(c["outcome"].as_str().unwrap().contains("cannot be evaluated (failPolicy: closed)"), "{c}");
        assert!(writes(c).is_empty(), "the CR is left untouched: {c}");
    }
    let t = hello_with(&gate("open"), "", 2);
    let (_, report) = simulate_json(t.path(), &[]);
    let c = cycles(&report, "website");
    assert_eq!(c[0]["outcome"], "done", "failPolicy open (the default) lets it through: {}", c[0]);
    assert!(writes(&c[0]).iter().any(|w| w == "create deployments hello-web"));
}

#[test]
fn the_derived_rbac_gains_exactly_the_observe_reads() {
    let run = ork(&root().join(DEMO), &["generate", "bundle"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The runtime's ClusterRole: databases get/list/watch for the cross read, and nothing on apps'
    // side beyond what it had.
    let role =
        run.stdout.split("\n---\n").find(|d| d.contains("kind: ClusterRole\n") && d.contains("observe.cross")).unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(role.contains("observe.cross[0] reads `db` (Database)"), "{role}");
    let without = {
        let t = TempDir::new("observe-rbac");
        for f in ["crd.yaml", "app.yaml", "database.yaml"] {
            t.write(f, &std::fs::read_to_string(root().join(DEMO).join(f)).unwrap());
        }
        let k = std::fs::read_to_string(root().join(DEMO).join("katalog.yaml")).unwrap();
        let cut = k.find("        observe:").unwrap();
        let end = k.find("        reconcile:\n          onReconcile:\n            configMaps").unwrap();
        t.write("katalog.yaml", &format!("{}{}", &k[..cut], &k[end..]).replace("{{ .cross.db.status.serviceName }}", "x"));
        let run = ork(t.path(), &["generate", "bundle"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout
    };
    let rules = |text: &str| -> Vec<String> { text.lines().filter(|l| l.trim_start().starts_with("- ") || l.contains("verbs")).map(str::to_string).collect() };
    let (with, without) = (rules(&run.stdout), rules(&without));
    let added: Vec<&String> = with.iter().filter(|l| !without.contains(l)).collect();
    assert!(
        added.iter().all(|l| !l.contains("create") && !l.contains("update") && !l.contains("delete") && !l.contains("patch")),
        "observe adds reads only: {added:?}"
    );
}

/// The status `field` (`reason`, `status`, `message`) of condition `kind` of an object.
async fn condition(kubeconfig: &Path, what: &str, kind: &str, field: &str) -> String {
    let path = format!("jsonpath={{.status.conditions[?(@.type==\"{kind}\")].{field}}}");
    let (code, out) = kubectl(kubeconfig, &["get", what, "-o", &path]).await;
    if code == 0 { out.trim().to_string() } else { format!("<kubectl: {out}>") }
}

async fn metric(addr: std::net::SocketAddr, prefix: &str) -> Option<u64> {
    let (_, body) = http_get(addr, "/metrics").await.ok()?;
    body.lines().find(|l| l.starts_with(prefix))?.rsplit(' ').next()?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runtime_holds_the_app_until_its_database_is_ready_then_wires_it_and_pauses_on_request() {
    let dir = TempDir::new("observe-runtime");
    let demo = root().join(DEMO);
    // The dev cluster's workload controller only runs when the test says so (`settle`).
    let opts = Options { ready_after: Duration::from_secs(3600), ..Options::default() };
    let (dev, kubeconfig) = dev_with_crds(dir.path(), opts, &[demo.join("crd.yaml")]).await;
    let client = client(&dev).await;
    let valid = katalog::valid::load_valid(&demo.join("katalog.yaml"), &Default::default()).unwrap_or_else(|e| panic!("{e}"));
    let ropts = RuntimeOptions { http: Some("127.0.0.1:0".parse().unwrap()), ..RuntimeOptions::default() };
    let runtime = Runtime::start(client, valid, ropts).await.unwrap();
    runtime.wait_started(Duration::from_secs(10)).await.unwrap();
    let addr = runtime.http_addr().unwrap();
    let k = |args: &'static [&'static str]| {
        let kubeconfig = kubeconfig.clone();
        async move { kubectl(&kubeconfig, args).await }
    };

    // Without its Database the App is gated: counted, and left untouched.
    assert_eq!(kubectl(&kubeconfig, &["apply", "-f", &demo.join("app.yaml").to_string_lossy()]).await.0, 0);
    wait_for(Duration::from_secs(10), "a gated App reconcile", || async {
        match metric(addr, "ork_reconcile_total{crd=\"app\",result=\"gated\"}").await {
            Some(n) if n >= 1 => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    let (_, app) = k(&["get", "app", "shop", "-o", "json"]).await;
    let app: Value = serde_json::from_str(&app).unwrap();
    assert!(app["metadata"].get("finalizers").is_none() && app.get("status").is_none(), "a held App is untouched: {app}");
    let (_, body) = http_get(addr, "/katalog").await.unwrap();
    assert!(body.contains("\"state\": \"gated\"") || body.contains("\"state\":\"gated\""), "{body}");

    // The Database: Ready=False, ChildrenNotReady, until its Deployment reports ready.
    assert_eq!(kubectl(&kubeconfig, &["apply", "-f", &demo.join("database.yaml").to_string_lossy()]).await.0, 0);
    wait_for(Duration::from_secs(10), "Database ChildrenNotReady", || async {
        let reason = condition(&kubeconfig, "database/shop", "Ready", "reason").await;
        if reason == "ChildrenNotReady" { Ok(()) } else { Err(reason) }
    })
    .await;
    let message = condition(&kubeconfig, "database/shop", "Ready", "message").await;
    assert!(message.contains("Deployment/shop-db (0/1 replicas ready)"), "{message}");
    assert_eq!(condition(&kubeconfig, "database/shop", "Ready", "status").await, "False");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_ne!(k(&["get", "configmap", "shop-settings"]).await.0, 0, "the App is still held");

    // The dev cluster reports the Deployment ready: the Database is Ready, the App's gate opens.
    dev.store().settle();
    wait_for(Duration::from_secs(10), "Database Ready", || async {
        let s = condition(&kubeconfig, "database/shop", "Ready", "status").await;
        if s == "True" { Ok(()) } else { Err(s) }
    })
    .await;
    let env = "jsonpath={.spec.template.spec.containers[0].env[?(@.name==\"DATABASE_SERVICE\")].value}";
    wait_for(Duration::from_secs(15), "the App's Deployment, wired to the Database", || async {
        dev.store().settle();
        let (code, out) = kubectl(&kubeconfig, &["get", "deployment", "shop", "-o", env]).await;
        if code == 0 && out.trim() == "shop-db" { Ok(()) } else { Err(out) }
    })
    .await;
    wait_for(Duration::from_secs(15), "App Ready", || async {
        dev.store().settle();
        let s = condition(&kubeconfig, "app/shop", "Ready", "status").await;
        if s == "True" { Ok(()) } else { Err(s) }
    })
    .await;

    // Pause: the Paused condition, the count, and a spec change left alone until resumed.
    assert_eq!(k(&["annotate", "app", "shop", "orkestra.orkspace.io/paused=true"]).await.0, 0);
    wait_for(Duration::from_secs(10), "Paused", || async {
        let s = condition(&kubeconfig, "app/shop", "Paused", "status").await;
        if s == "True" { Ok(()) } else { Err(s) }
    })
    .await;
    assert_eq!(metric(addr, "ork_paused_resources{crd=\"app\"}").await, Some(1));
    assert_eq!(k(&["patch", "app", "shop", "--type=merge", "-p", r#"{"spec":{"image":"ghcr.io/example/shop:3.0.0"}}"#]).await.0, 0);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let image = "jsonpath={.spec.template.spec.containers[0].image}";
    let (_, img) = kubectl(&kubeconfig, &["get", "deployment", "shop", "-o", image]).await;
    assert_eq!(img.trim(), "ghcr.io/example/shop:2.1.0", "a paused App is not reconciled");
    assert_eq!(k(&["annotate", "app", "shop", "orkestra.orkspace.io/paused-"]).await.0, 0);
    wait_for(Duration::from_secs(10), "resumed", || async {
        let (_, img) = kubectl(&kubeconfig, &["get", "deployment", "shop", "-o", image]).await;
        if img.trim() == "ghcr.io/example/shop:3.0.0" { Ok(()) } else { Err(img) }
    })
    .await;
    assert_eq!(condition(&kubeconfig, "app/shop", "Paused", "status").await, "", "the Paused condition goes on resume");
    assert_eq!(metric(addr, "ork_paused_resources{crd=\"app\"}").await, Some(0));

    runtime.shutdown().await;
    dev.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enqueue_gate_on_generation_drops_label_only_changes() {
    let dir = TempDir::new("observe-enqueue");
    let hello = root().join("demos/beginner/hello-website");
    let crd = dir.write("crd.yaml", &std::fs::read_to_string(hello.join("crd.yaml")).unwrap());
    let katalog = "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: gated}\nspec:\n  crds:\n    website:\n      apiTypes: {group: demo.ork.dev, version: v1, kind: Website, plural: websites}\n      operatorBox:\n        preReconcile:\n          sentinels: [generationChanged, labelsChanged]\n          enqueueGate: {sentinels: [generationChanged]}\n        reconcile:\n          resync: 1h\n          onReconcile:\n            configMaps:\n              - name: \"{{ .metadata.name }}-seen\"\n                data: {tier: '{{ index .metadata.labels \"tier\" }}', image: '{{ .spec.image }}'}\n";
    let path = dir.write("katalog.yaml", katalog);
    let (dev, kubeconfig) = dev_with_crds(dir.path(), Options::default(), &[crd]).await;
    let valid = katalog::valid::load_valid(&path, &Default::default()).unwrap_or_else(|e| panic!("{e}"));
    let runtime = Runtime::start(client(&dev).await, valid, RuntimeOptions::default()).await.unwrap();
    runtime.wait_started(Duration::from_secs(10)).await.unwrap();
    let cr =
        dir.write("cr.yaml", "apiVersion: demo.ork.dev/v1\nkind: Website\nmetadata: {name: w, namespace: default, labels: {tier: a}}\nspec: {image: one}\n");
    assert_eq!(kubectl(&kubeconfig, &["apply", "-f", &cr.to_string_lossy()]).await.0, 0);
    let data = |field: &'static str| {
        let kubeconfig = kubeconfig.clone();
        async move { kubectl(&kubeconfig, &["get", "configmap", "w-seen", "-o", &format!("jsonpath={{.data.{field}}}")]).await.1.trim().to_string() }
    };
    wait_for(Duration::from_secs(10), "the first reconcile", || async {
        let t = data("tier").await;
        if t == "a" { Ok(()) } else { Err(t) }
    })
    .await;
    assert_eq!(kubectl(&kubeconfig, &["label", "website", "w", "tier=b", "--overwrite"]).await.0, 0);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(data("tier").await, "a", "a label change does not pass the enqueueGate");
    assert_eq!(kubectl(&kubeconfig, &["patch", "website", "w", "--type=merge", "-p", r#"{"spec":{"image":"two"}}"#]).await.0, 0);
    wait_for(Duration::from_secs(10), "the spec change reconciled", || async {
        let (t, i) = (data("tier").await, data("image").await);
        if (t.as_str(), i.as_str()) == ("b", "two") { Ok(()) } else { Err(format!("{t} {i}")) }
    })
    .await;
    runtime.shutdown().await;
    dev.stop().await;
}

/// `ork_reconcile_total` of `crd` with result success.
async fn reconciles(addr: std::net::SocketAddr, crd: &str) -> u64 {
    metric(addr, &format!("ork_reconcile_total{{crd=\"{crd}\",result=\"success\"}}")).await.unwrap_or(0)
}

/// Waits until the reconcile count stops moving for 600 ms; returns it.
async fn settled_count(addr: std::net::SocketAddr, crd: &str) -> u64 {
    let mut last = reconciles(addr, crd).await;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(600)).await;
        let now = reconciles(addr, crd).await;
        if now == last && now > 0 {
            return now;
        }
        last = now;
    }
    panic!("the reconcile count of {crd} never settled ({last})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watched_objects_and_matching_events_queue_the_cr_they_are_for() {
    let dir = TempDir::new("observe-watch");
    let hello = root().join("demos/beginner/hello-website");
    let crd = dir.write("crd.yaml", &std::fs::read_to_string(hello.join("crd.yaml")).unwrap());
    let katalog = "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: watching}\nspec:\n  crds:\n    website:\n      apiTypes: {group: demo.ork.dev, version: v1, kind: Website, plural: websites}\n      operatorBox:\n        observe:\n          watch:\n            - {apiVersion: v1, kind: ConfigMap, keyFrom: {label: site}, on: [create, update]}\n          events:\n            poke: {reason: Poke, regarding: {kind: Website}}\n        reconcile:\n          resync: 1h\n          onReconcile:\n            configMaps:\n              - {name: \"{{ .metadata.name }}-own\", data: {a: b}}\n";
    let path = dir.write("katalog.yaml", katalog);
    let (dev, kubeconfig) = dev_with_crds(dir.path(), Options::default(), &[crd]).await;
    let valid = katalog::valid::load_valid(&path, &Default::default()).unwrap_or_else(|e| panic!("{e}"));
    let ropts = RuntimeOptions { http: Some("127.0.0.1:0".parse().unwrap()), ..RuntimeOptions::default() };
    let runtime = Runtime::start(client(&dev).await, valid, ropts).await.unwrap();
    runtime.wait_started(Duration::from_secs(10)).await.unwrap();
    let addr = runtime.http_addr().unwrap();
    let cr = dir.write("cr.yaml", "apiVersion: demo.ork.dev/v1\nkind: Website\nmetadata: {name: w, namespace: default}\nspec: {image: one}\n");
    assert_eq!(kubectl(&kubeconfig, &["apply", "-f", &cr.to_string_lossy()]).await.0, 0);
    let before = settled_count(addr, "website").await;

    // A ConfigMap keyed to the CR by its label queues it; one keyed to nobody does not.
    assert_eq!(kubectl(&kubeconfig, &["create", "configmap", "other", "--from-literal=x=1"]).await.0, 0);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(reconciles(addr, "website").await, before, "a ConfigMap without the label names no CR");
    let watched =
        dir.write("watched.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: poke, namespace: default, labels: {site: w}}\ndata: {x: \"1\"}\n");
    assert_eq!(kubectl(&kubeconfig, &["apply", "-f", &watched.to_string_lossy()]).await.0, 0);
    wait_for(Duration::from_secs(10), "a reconcile from the watch", || async {
        let n = reconciles(addr, "website").await;
        if n > before { Ok(()) } else { Err(format!("{n}")) }
    })
    .await;
    let before = settled_count(addr, "website").await;

    // An Event with the watched reason about the CR queues it; another reason does not.
    let event = |reason: &str| {
        format!(
            "apiVersion: events.k8s.io/v1\nkind: Event\nmetadata: {{name: e-{}, namespace: default}}\neventTime: \"2026-01-01T00:00:00.000000Z\"\nreportingController: test\nreportingInstance: test\naction: Test\nreason: {reason}\ntype: Normal\nregarding: {{apiVersion: demo.ork.dev/v1, kind: Website, name: w, namespace: default}}\n",
            reason.to_lowercase()
        )
    };
    let other = dir.write("other-event.yaml", &event("Other"));
    assert_eq!(kubectl(&kubeconfig, &["apply", "-f", &other.to_string_lossy()]).await.0, 0);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(reconciles(addr, "website").await, before, "an Event of another reason is not watched");
    let poke = dir.write("poke-event.yaml", &event("Poke"));
    assert_eq!(kubectl(&kubeconfig, &["apply", "-f", &poke.to_string_lossy()]).await.0, 0);
    wait_for(Duration::from_secs(10), "a reconcile from the Event", || async {
        let n = reconciles(addr, "website").await;
        if n > before { Ok(()) } else { Err(format!("{n}")) }
    })
    .await;
    runtime.shutdown().await;
    dev.stop().await;
}

#[test]
fn simulate_drops_a_change_the_enqueue_gate_holds_and_reconciles_at_the_resync() {
    let extra = "        preReconcile:\n          enqueueGate:\n            when: [{field: metadata.labels.enabled, equals: \"true\"}]\n";
    let t = hello_with(extra, "", 2);
    let (code, report) = simulate_json(t.path(), &[]);
    assert_eq!(code, 0, "{report}");
    let c = cycles(&report, "website");
    assert!(c[0]["outcome"].as_str().unwrap().starts_with("gated (enqueueGate: its conditions do not hold"), "{}", c[0]);
    assert!(c[0]["ops"].as_array().unwrap().is_empty(), "a dropped change makes no request");
    assert_eq!(c[1]["outcome"], "done", "the resync is not a change: no enqueueGate");
}
