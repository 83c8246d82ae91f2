//! `katalog::render` on a Katalog written for the purpose: status semantics, owners, gates,
//! onDelete, custom passthrough, once-secrets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use katalog::load::{LoadOptions, load_file};
use katalog::render::{Block, Request, render};
use katalog::template::{Rng, TemplateSet};
use katalog::time::parse_rfc3339;
use serde_json::{Value, json};

const KATALOG: &str = r#"
apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: render-test}
spec:
  crds:
    site:
      apiTypes: {group: x.dev, version: v1, kind: Site, plural: sites}
      operatorBox:
        reconcile:
          onCreate:
            secrets:
              - name: "{{ .metadata.name }}-pw"
                once: true
                rotateAfter: 30d
                data: {password: "{{ randomAlphanumeric 16 }}"}
            clusterRoles:
              - rules: [{apiGroups: [""], resources: [configmaps], verbs: [get]}]
            configMaps:
              - name: gated
                when: [{field: spec.enabled, equals: "true"}]
                data: {a: b}
          onReconcile:
            custom:
              - apiVersion: cert-manager.io/v1
                kind: Certificate
                metadata: {name: "{{ .metadata.name }}-cert"}
                spec:
                  dnsNames: ["{{ .spec.host }}", "www.{{ .spec.host }}"]
                  secretName: "{{ .metadata.name }}-tls"
                  duration: 2160h
          onDelete:
            ordered: true
            groups:
              - name: backup
                jobs:
                  - {image: "backup:1", args: ["{{ .metadata.name }}"]}
              - name: rest
                configMaps:
                  - {name: "{{ .metadata.name }}-tombstone", data: {gone: "true"}}
        emit:
          status:
            fields:
              - {path: phase, value: Pending}
              - {path: phase, value: Running, when: [{field: spec.enabled, equals: "true"}]}
              - {path: host.name, value: "{{ .spec.host }}"}
              - {path: size, type: int, value: "{{ .spec.size }}"}
              - {path: ratio, type: auto, value: "0.5"}
              - {path: flag, type: bool, value: "yes"}
              - {path: note, value: "set", when: [{field: spec.enabled, equals: "false"}], clearOnFalse: true}
              - {path: broken, type: int, value: "{{ .spec.host }}"}
"#;

fn setup() -> (katalog::model::katalog::Katalog, TemplateSet) {
    // One file per call: tests run in parallel and must not read each other's half-written file.
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("ork-render-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("katalog.yaml");
    std::fs::write(&path, KATALOG).unwrap();
    let loaded = load_file(&path, &LoadOptions::default());
    assert!(!loaded.diagnostics.has_errors(), "{:?}", loaded.diagnostics);
    let k = loaded.katalog.unwrap();
    let (set, diags) = TemplateSet::compile(&k);
    assert!(diags.is_empty(), "{diags:?}");
    (k, set)
}

fn cr(enabled: bool) -> Value {
    json!({"apiVersion": "x.dev/v1", "kind": "Site",
           "metadata": {"name": "blog", "namespace": "web", "uid": "u-1", "generation": 4},
           "spec": {"enabled": enabled, "host": "blog.example", "size": "3"}})
}

fn now() -> i64 {
    parse_rfc3339("2026-11-22T10:00:00Z").unwrap()
}

#[test]
fn status_fields_apply_in_order_with_types_and_clear_on_false() {
    let (k, set) = setup();
    let out =
        render(&k, &set, Request { crd: "site", cr: &cr(true), observed: &[], others: &[], now: now(), rng: Rng::Seeded(1), cross: &serde_json::Value::Null })
            .unwrap();
    let s = &out.status;
    assert_eq!(s["phase"], "Running", "the last matching entry wins");
    assert_eq!(s["host"]["name"], "blog.example", "dot paths nest");
    assert_eq!(s["size"], 3);
    assert_eq!(s["ratio"], 0.5);
    assert_eq!(s["flag"], true);
    assert_eq!(s["note"], "", "clearOnFalse writes an empty string when the gate fails");
    assert!(s.get("broken").is_none());
    assert_eq!(out.warnings, vec!["emit.status.fields[7]: `broken`: \"blog.example\" is not an integer".to_string()]);
    assert_eq!(s["observedGeneration"], 4);
    assert_eq!(s["conditions"][0]["type"], "Ready");
    assert_eq!(s["conditions"][0]["observedGeneration"], 4);
    let out =
        render(&k, &set, Request { crd: "site", cr: &cr(false), observed: &[], others: &[], now: now(), rng: Rng::Seeded(1), cross: &serde_json::Value::Null })
            .unwrap();
    assert_eq!(out.status["phase"], "Pending");
    assert_eq!(out.status["note"], "set");
}

#[test]
fn last_transition_time_is_kept_when_nothing_changed() {
    let (k, set) = setup();
    let mut stored = cr(true);
    stored["status"] = json!({"conditions": [
        {"type": "Ready", "status": "True", "reason": "ReconcileSucceeded", "lastTransitionTime": "2026-01-01T00:00:00Z"},
        {"type": "ValidationFailed", "status": "True", "reason": "DenyRuleViolation", "lastTransitionTime": "2026-01-01T00:00:00Z"}
    ]});
    // Every child exists and is ready: Ready stays True.
    let first =
        render(&k, &set, Request { crd: "site", cr: &stored, observed: &[], others: &[], now: now(), rng: Rng::Seeded(1), cross: &serde_json::Value::Null })
            .unwrap();
    assert_eq!(first.status["conditions"][0]["reason"], "ChildrenNotReady", "nothing exists yet");
    let observed: Vec<Value> = first
        .children
        .iter()
        .map(|c| {
            let mut m = c.manifest.clone();
            let replicas = m.pointer("/spec/replicas").cloned().unwrap_or(json!(1));
            m["status"] = json!({"readyReplicas": replicas, "conditions": [{"type": "Complete", "status": "True"}, {"type": "Ready", "status": "True"}]});
            m
        })
        .collect();
    let out = render(
        &k,
        &set,
        Request { crd: "site", cr: &stored, observed: &observed, others: &[], now: now(), rng: Rng::Seeded(1), cross: &serde_json::Value::Null },
    )
    .unwrap();
    assert_eq!(out.status["conditions"][0]["status"], "True", "{:?}", out.not_ready);
    assert_eq!(out.status["conditions"][0]["lastTransitionTime"], "2026-01-01T00:00:00Z");
    assert_eq!(out.status["conditions"][1]["lastTransitionTime"], "2026-11-22T10:00:00Z", "status changed: new time");
}

#[test]
fn gates_owners_and_flags() {
    let (k, set) = setup();
    let out =
        render(&k, &set, Request { crd: "site", cr: &cr(false), observed: &[], others: &[], now: now(), rng: Rng::Seeded(1), cross: &serde_json::Value::Null })
            .unwrap();
    let sources: Vec<&str> = out.children.iter().map(|c| c.source.as_str()).collect();
    assert_eq!(sources, ["onCreate.secrets[0]", "onCreate.clusterRoles[0]", "onReconcile.custom[0]"], "gated-off child is not desired");
    let secret = &out.children[0];
    assert!(secret.once && !secret.drift_correct);
    assert_eq!(secret.manifest["metadata"]["annotations"]["orkestra.orkspace.io/generated-at"], "2026-11-22T10:00:00Z");
    let pw = katalog::template::base64_decode(secret.manifest["data"]["password"].as_str().unwrap()).unwrap();
    assert_eq!(pw.len(), 16);
    // A cluster-scoped child of a namespaced CR: owner labels, no ownerReference.
    let role = &out.children[1].manifest;
    assert_eq!(role["metadata"]["name"], "blog-cluster-role");
    assert!(role["metadata"].get("namespace").is_none());
    assert!(role["metadata"].get("ownerReferences").is_none());
    assert_eq!(role["metadata"]["labels"]["orkestra-owner"], "blog");
    assert_eq!(role["metadata"]["labels"]["orkestra.orkspace.io/owner-namespace"], "web");
    // Custom passthrough: every string rendered, shape kept.
    let cert = &out.children[2];
    assert!(cert.drift_correct);
    assert_eq!(cert.manifest["spec"], json!({"dnsNames": ["blog.example", "www.blog.example"], "secretName": "blog-tls", "duration": "2160h"}));
    assert_eq!(cert.manifest["metadata"]["ownerReferences"][0]["uid"], "u-1");
    assert_eq!(cert.manifest["metadata"]["namespace"], "web");
}

#[test]
fn on_delete_renders_only_while_deleting() {
    let (k, set) = setup();
    let mut deleting = cr(true);
    deleting["metadata"]["deletionTimestamp"] = json!("2026-11-22T09:00:00Z");
    let out =
        render(&k, &set, Request { crd: "site", cr: &deleting, observed: &[], others: &[], now: now(), rng: Rng::Seeded(1), cross: &serde_json::Value::Null })
            .unwrap();
    let delete: Vec<(&str, Option<usize>)> = out.children.iter().filter(|c| c.block == Block::OnDelete).map(|c| (c.source.as_str(), c.group)).collect();
    assert_eq!(delete, [("onDelete.groups[0].jobs[0]", Some(0)), ("onDelete.groups[1].configMaps[0]", Some(1))]);
    let job = &out.children.iter().find(|c| c.source == "onDelete.groups[0].jobs[0]").unwrap().manifest;
    assert_eq!(job["spec"]["template"]["spec"]["containers"][0]["args"], json!(["blog"]));
    assert_eq!(job["spec"]["template"]["spec"]["restartPolicy"], "Never");
    let out =
        render(&k, &set, Request { crd: "site", cr: &cr(true), observed: &[], others: &[], now: now(), rng: Rng::Seeded(1), cross: &serde_json::Value::Null })
            .unwrap();
    assert!(out.children.iter().all(|c| c.block != Block::OnDelete));
}

#[test]
fn unknown_crd_and_non_object_cr_are_errors() {
    let (k, set) = setup();
    let e = render(&k, &set, Request { crd: "nope", cr: &cr(true), observed: &[], others: &[], now: 0, rng: Rng::Seeded(1), cross: &serde_json::Value::Null })
        .unwrap_err();
    assert!(e.to_string().contains("no CRD entry named `nope` (known: site)"), "{e}");
    let e =
        render(&k, &set, Request { crd: "site", cr: &json!([1]), observed: &[], others: &[], now: 0, rng: Rng::Seeded(1), cross: &serde_json::Value::Null })
            .unwrap_err();
    assert!(e.to_string().contains("not an object"), "{e}");
}

/// Defect 8: the renderer refuses an object the API server would refuse, as an
/// `InvalidObject` failure (the runtime does not retry it) naming the entry that rendered it.
#[test]
fn objects_the_api_server_would_refuse_are_render_errors() {
    let (k, set) = setup();
    let mut long = cr(true);
    long["metadata"]["name"] = json!("x".repeat(250));
    let e = render(&k, &set, Request { crd: "site", cr: &long, observed: &[], others: &[], now: now(), rng: Rng::Seeded(1), cross: &serde_json::Value::Null })
        .unwrap_err();
    assert_eq!(e.failure, katalog::render::RenderFailure::InvalidObject);
    // `<name>-pw` is 253 characters, the most a Secret name may have; `<name>-cert` is 255.
    assert_eq!((e.crd.as_str(), e.resource.as_str()), ("site", "onReconcile.custom[0]"), "{e}");
    assert!(e.message.contains("metadata.name: Invalid value") && e.message.contains("must be no more than 253 characters"), "{e}");
    let mut bad = cr(true);
    bad["metadata"]["name"] = json!("Blog");
    let e = render(&k, &set, Request { crd: "site", cr: &bad, observed: &[], others: &[], now: now(), rng: Rng::Seeded(1), cross: &serde_json::Value::Null })
        .unwrap_err();
    assert_eq!((e.resource.as_str(), e.failure), ("cr", katalog::render::RenderFailure::InvalidObject), "{e}");
    // A custom kind's spec is its CRD schema's business, not checked here.
    let mut broken = cr(true);
    broken["spec"]["host"] = json!("Not A Host");
    let e =
        render(&k, &set, Request { crd: "site", cr: &broken, observed: &[], others: &[], now: now(), rng: Rng::Seeded(1), cross: &serde_json::Value::Null });
    assert!(e.is_ok(), "a custom kind's spec is not checked: {e:?}");
}
