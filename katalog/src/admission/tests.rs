#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::review::{decode_admission, decode_conversion, encode_admission, encode_conversion};
use super::*;
use crate::load::LoadOptions;
use crate::valid::load_valid;

const KATALOG: &str = r#"
apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: gate-test}
security:
  deletionProtection: {enabled: true}
  namespaceProtection:
    restrictedNamespaces: [kube-system]
spec:
  crds:
    app:
      apiTypes: {group: apps.example.com, version: v1, kind: App, plural: apps}
      admission:
        mutation:
          rules:
            - {field: spec.replicas, default: 1, valueType: int}
            - {field: spec.tier, override: gold, when: [{field: metadata.namespace, equals: production}]}
        validation:
          rules:
            - {field: spec.engine, in: "postgres,mysql", message: "spec.engine must be postgres or mysql"}
            - {field: spec.replicas, between: "1,5", valueType: int, message: "spec.replicas must be between 1 and 5"}
            - {field: metadata.labels.owner, exists: true, action: warn, message: "apps should carry an owner label"}
            - field: spec.engine
              equals: postgres
              message: "only admins may create a mysql app"
              when: [{field: request.userInfo.username, notIn: "admin"}, {field: request.operation, equals: CREATE}]
        conversion:
          paths:
            - {from: v1, to: v2, spec: {size: "{{ .spec.replicas }}", engine: "{{ .spec.engine }}", settings.tier: "{{ .spec.tier }}"}}
            - {from: v2, to: v1, spec: {replicas: "{{ .spec.size }}", engine: "{{ .spec.engine }}", tier: "{{ .spec.settings.tier }}"}}
      operatorBox:
        runtime:
          allowedNamespaces: [production]
          deletionProtection: {protectCRD: true, protectCRs: true}
    cache:
      apiTypes: {group: apps.example.com, version: v1, kind: Cache, plural: caches}
"#;

fn gate() -> Gate {
    let dir = std::env::temp_dir().join(format!("ork-gate-test-{}-{:?}", std::process::id(), std::thread::current().id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("katalog.yaml");
    std::fs::write(&path, KATALOG).unwrap();
    let valid = load_valid(&path, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}: {:?}", e.errors().collect::<Vec<_>>()));
    Gate::new(Arc::new(valid))
}

fn request(kind: &str, plural: &str, op: Operation, ns: &str, name: &str, object: Value) -> Request {
    Request {
        uid: "u1".into(),
        group: "apps.example.com".into(),
        version: "v1".into(),
        kind: kind.into(),
        resource: plural.into(),
        operation: Some(op),
        namespace: ns.into(),
        name: name.into(),
        object: (op != Operation::Delete).then(|| object.clone()),
        old_object: (op == Operation::Delete).then_some(object),
        user: UserInfo { username: "alice".into(), groups: vec!["system:authenticated".into()] },
        ..Request::default()
    }
}

fn app(ns: &str, spec: Value) -> Value {
    json!({"apiVersion": "apps.example.com/v1", "kind": "App", "metadata": {"name": "my-app", "namespace": ns}, "spec": spec})
}

#[test]
fn every_deny_rule_is_reported_and_warn_rules_become_warnings() {
    let g = gate();
    let r = request("App", "apps", Operation::Create, "production", "my-app", app("production", json!({"engine": "oracle", "replicas": 9})));
    let v = g.validate(&r, &[], 0, Rng::Seeded(1));
    assert!(!v.allowed);
    assert_eq!(v.code, 403);
    assert!(v.message.contains("spec.engine must be postgres or mysql"), "{}", v.message);
    assert!(v.message.contains("spec.replicas must be between 1 and 5"), "{}", v.message);
    assert!(v.message.starts_with("[App \"my-app\"] "), "{}", v.message);
    assert_eq!(v.warnings, ["[App \"my-app\"] apps should carry an owner label"]);
    let review = encode_admission(&r, &v);
    assert_eq!(review["response"]["uid"], "u1");
    assert_eq!(review["response"]["status"]["details"]["causes"].as_array().map(Vec::len), Some(3));
}

#[test]
fn rules_read_the_request() {
    let g = gate();
    let mut spec = json!({"engine": "mysql", "replicas": 1});
    let r = request("App", "apps", Operation::Create, "production", "my-app", app("production", spec.clone()));
    let v = g.validate(&r, &[], 0, Rng::Seeded(1));
    assert!(v.message.contains("only admins may create a mysql app"), "{}", v.message);
    let mut admin = r.clone();
    admin.user.username = "admin".into();
    assert!(g.validate(&admin, &[], 0, Rng::Seeded(1)).allowed);
    spec["engine"] = json!("mysql");
    let update = request("App", "apps", Operation::Update, "production", "my-app", app("production", spec));
    assert!(g.validate(&update, &[], 0, Rng::Seeded(1)).allowed, "the rule is gated on CREATE");
}

#[test]
fn mutation_is_a_patch_that_is_idempotent() {
    let g = gate();
    let r = request("App", "apps", Operation::Create, "production", "my-app", app("production", json!({"engine": "postgres"})));
    let v = g.mutate(&r, 0, Rng::Seeded(1));
    assert!(v.allowed);
    let paths: Vec<&str> = v.patch.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["/spec/replicas", "/spec/tier"]);
    assert_eq!(v.patch[0].value, json!(1));
    let mut again = r.clone();
    apply_patch(again.object.as_mut().unwrap(), &v.patch).unwrap();
    assert!(g.mutate(&again, 0, Rng::Seeded(1)).patch.is_empty(), "mutating a mutated object changes nothing");
    let review = encode_admission(&r, &v);
    assert_eq!(review["response"]["patchType"], "JSONPatch");
}

#[test]
fn namespace_protection_says_which_rule_refused() {
    let g = gate();
    let staging = request("App", "apps", Operation::Create, "staging", "my-app", app("staging", json!({})));
    assert_eq!(g.namespace_protection(&staging).message, r#"[App "my-app"] namespace "staging" is not in the allowed list: [production]"#);
    let cache = json!({"apiVersion": "apps.example.com/v1", "kind": "Cache", "metadata": {"name": "my-cache", "namespace": "kube-system"}});
    let sys = request("Cache", "caches", Operation::Create, "kube-system", "my-cache", cache);
    assert_eq!(g.namespace_protection(&sys).message, r#"[Cache "my-cache"] namespace "kube-system" is restricted"#);
    let ok = request("App", "apps", Operation::Create, "production", "my-app", app("production", json!({})));
    assert!(g.namespace_protection(&ok).allowed);
    let delete = request("App", "apps", Operation::Delete, "staging", "my-app", app("staging", json!({})));
    assert!(g.namespace_protection(&delete).allowed, "deleting a misplaced CR is always possible");
}

#[test]
fn deletion_protection_refuses_labelled_objects_and_protected_crds_and_says_how_to_lift_it() {
    let g = gate();
    let mut labelled = app("production", json!({}));
    labelled["metadata"]["labels"] = json!({DELETION_PROTECTION_LABEL: "true"});
    let v = g.deletion_protection(&request("App", "apps", Operation::Delete, "production", "my-app", labelled), "orkestra-system");
    assert!(!v.allowed);
    assert!(v.message.contains("kubectl label apps.apps.example.com my-app -n production orkestra.io/deletion-protection-"), "{}", v.message);
    assert!(g.deletion_protection(&request("App", "apps", Operation::Delete, "production", "my-app", app("production", json!({}))), "orkestra-system").allowed);
    let crd = Request {
        group: "apiextensions.k8s.io".into(),
        resource: "customresourcedefinitions".into(),
        kind: "CustomResourceDefinition".into(),
        name: "apps.apps.example.com".into(),
        operation: Some(Operation::Delete),
        ..Request::default()
    };
    assert!(g.deletion_protection(&crd, "orkestra-system").message.contains("protectCRD: false"));
    assert!(g.deletion_protection(&Request { name: "other.example.com".into(), ..crd }, "orkestra-system").allowed);
}

#[test]
fn conversion_round_trips_losslessly() {
    let g = gate();
    let v1 = json!({"apiVersion": "apps.example.com/v1", "kind": "App", "metadata": {"name": "a", "labels": {"x": "y"}},
                    "spec": {"replicas": 3, "engine": "postgres", "tier": "gold"}, "status": {"phase": "Ready"}});
    let v2 = g.convert(std::slice::from_ref(&v1), "apps.example.com/v2", 0, Rng::Seeded(1)).unwrap();
    assert_eq!(v2[0]["spec"], json!({"size": 3, "engine": "postgres", "settings": {"tier": "gold"}}));
    assert_eq!(v2[0]["status"], v1["status"]);
    let back = g.convert(&v2, "apps.example.com/v1", 0, Rng::Seeded(1)).unwrap();
    assert_eq!(back[0], v1);
    let err = g.convert(&[v1], "apps.example.com/v3", 0, Rng::Seeded(1)).unwrap_err();
    assert!(err.to_string().contains("no conversion path declared for v1 → v3"), "{err}");
    let req = decode_conversion(
        br#"{"apiVersion":"apiextensions.k8s.io/v1","kind":"ConversionReview","request":{"uid":"c1","desiredAPIVersion":"apps.example.com/v2","objects":[]}}"#,
    )
    .unwrap();
    assert_eq!(encode_conversion(&req, &Ok(vec![]))["response"]["result"]["status"], "Success");
}

#[test]
fn review_runs_the_chain_in_the_api_servers_order() {
    let g = gate();
    let r = request("App", "apps", Operation::Create, "staging", "my-app", app("staging", json!({"engine": "postgres"})));
    let report = g.review(&r, "orkestra-system", 0, Rng::Seeded(1));
    assert!(!report.allowed);
    let hooks: Vec<Webhook> = report.steps.iter().map(|s| s.webhook).collect();
    assert_eq!(hooks, [Webhook::Mutate, Webhook::NamespaceProtection, Webhook::Validate]);
    assert_eq!(report.object.as_ref().unwrap()["spec"]["replicas"], 1, "validation sees the mutated object");
    assert_eq!(report.refusals().count(), 1);
}

#[test]
fn malformed_reviews_are_errors_not_panics() {
    for body in [
        &b""[..],
        b"null",
        b"[]",
        b"{}",
        b"{\"request\":1}",
        b"{\"request\":{}}",
        b"{\"request\":{\"uid\":\"x\",\"operation\":\"EAT\"}}",
        b"{\"request\":{\"uid\":\"x\",\"operation\":\"CREATE\"}}",
        b"{\"request\":{\"uid\":\"x\",\"operation\":\"CREATE\",\"resource\":{\"resource\":\"apps\"},\"object\":5}}",
    ] {
        assert!(decode_admission(body).is_err(), "{}", String::from_utf8_lossy(body));
    }
    let ok = decode_admission(br#"{"apiVersion":"admission.k8s.io/v1","request":{"uid":"x","operation":"DELETE","resource":{"group":"apps.example.com","version":"v1","resource":"apps"},"oldObject":{"kind":"App"}}}"#).unwrap();
    assert_eq!(ok.op(), Operation::Delete);
    assert!(format!("{ok:?}").contains("…"), "Debug leaves objects out");
}
