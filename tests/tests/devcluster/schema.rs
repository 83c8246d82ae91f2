//! Issue 20: custom resources are checked against their CRD's structural schema as kube-apiserver
//! checks them — refused with every violation, unknown fields pruned (or refused under
//! `fieldValidation=Strict`, kubectl's default), defaults applied — and `dryRun=All` runs a
//! write the whole way without storing it, so `kubectl diff` and `--dry-run=server` work.

use super::{Dev, apply, kubectl, kubectl_stdin, ok, start};
use ork_tests::TempDir;

const CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: websites.schema.ork.test}
spec:
  group: schema.ork.test
  scope: Namespaced
  names: {kind: Website, plural: websites, singular: website, listKind: WebsiteList}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [image]
            properties:
              image: {type: string, pattern: '^[a-z:.0-9]+$'}
              size: {type: integer, maximum: 10}
              replicas: {type: integer, default: 1}
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
"#;

fn website(name: &str, spec: &str) -> String {
    format!("apiVersion: schema.ork.test/v1\nkind: Website\nmetadata: {{name: {name}, namespace: default}}\nspec: {spec}\n")
}

fn with_crd(t: &TempDir) -> Dev {
    let dev = start(t.path());
    let (code, out) = apply(&dev, CRD);
    assert_eq!(code, 0, "{out}");
    dev
}

#[test]
fn a_custom_resource_breaking_its_schema_is_refused_with_every_violation() {
    let t = TempDir::new("dev-schema");
    let dev = with_crd(&t);
    let (code, out) = apply(&dev, &website("bad", "{size: 50}"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("The Website \"bad\" is invalid: "), "{out}");
    assert!(out.contains("* spec.size: Invalid value: 50: spec.size in body should be less than or equal to 10"), "{out}");
    assert!(out.contains("* spec.image: Required value"), "{out}");
    let (code, out) = kubectl(&dev, &["get", "website", "bad"]);
    assert_eq!(code, 1, "nothing stored: {out}");

    // Every write path checks: create, merge patch, JSON patch, server-side apply, replace.
    let (code, out) = apply(&dev, &website("good", "{image: nginx, size: 3}"));
    assert_eq!(code, 0, "{out}");
    let (code, out) = kubectl(&dev, &["patch", "website", "good", "--type=merge", "-p", r#"{"spec":{"size":11}}"#]);
    assert!(code == 1 && out.contains("spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10"), "{out}");
    let (code, out) = kubectl(&dev, &["patch", "website", "good", "--type=json", "-p", r#"[{"op":"replace","path":"/spec/image","value":"UPPER"}]"#]);
    assert!(code == 1 && out.contains("spec.image in body should match '^[a-z:.0-9]+$'"), "{out}");
    let (code, _, err) = kubectl_stdin(&dev, &["apply", "--server-side", "--force-conflicts", "-f", "-"], &website("good", "{image: nginx, size: \"3\"}"));
    assert!(code == 1 && err.contains(r#"spec.size in body must be of type integer: "string""#), "{err}");
    assert_eq!(ok(&dev, &["get", "website", "good", "-o", "jsonpath={.spec.size}"]), "3");
    // Defaults are applied on write.
    assert_eq!(ok(&dev, &["get", "website", "good", "-o", "jsonpath={.spec.replicas}"]), "1");
}

const CEL_CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: scalers.schema.ork.test}
spec:
  group: schema.ork.test
  scope: Namespaced
  names: {kind: Scaler, plural: scalers, singular: scaler, listKind: ScalerList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-validations:
            - {rule: "self.min <= self.max", message: "min must not exceed max"}
            - {rule: "self.tier == oldSelf.tier", message: "tier is immutable", reason: FieldValueForbidden, fieldPath: .tier}
            properties:
              min: {type: integer}
              max: {type: integer}
              tier: {type: string}
"#;

fn scaler(spec: &str) -> String {
    format!("apiVersion: schema.ork.test/v1\nkind: Scaler\nmetadata: {{name: s, namespace: default}}\nspec: {spec}\n")
}

#[test]
fn x_kubernetes_validations_rules_are_evaluated_and_a_rule_that_does_not_compile_refuses_its_crd() {
    let t = TempDir::new("dev-cel");
    let dev = start(t.path());
    let broken = CEL_CRD.replace("self.min <= self.max", "self.min <=");
    let (code, out) = apply(&dev, &broken);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: \"self.min <=\": compilation failed"
        ),
        "{out}"
    );
    let (code, out) = apply(&dev, CEL_CRD);
    assert_eq!(code, 0, "{out}");
    let (code, out) = apply(&dev, &scaler("{min: 5, max: 3, tier: gold}"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(r#"The Scaler "s" is invalid: spec: Invalid value: "object": min must not exceed max"#), "{out}");
    // The transition rule is skipped on create, evaluated with the stored object on update.
    let (code, out) = apply(&dev, &scaler("{min: 1, max: 3, tier: gold}"));
    assert_eq!(code, 0, "{out}");
    let (code, out) = kubectl(&dev, &["patch", "scaler", "s", "--type=merge", "-p", r#"{"spec":{"tier":"silver"}}"#]);
    assert!(code == 1 && out.contains("spec.tier: Forbidden: tier is immutable"), "{out}");
    let (code, out) = kubectl(&dev, &["patch", "scaler", "s", "--type=merge", "-p", r#"{"spec":{"max":4}}"#]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(ok(&dev, &["get", "scaler", "s", "-o", "jsonpath={.spec.max} {.spec.tier}"]), "4 gold");
}

#[test]
fn unknown_fields_are_pruned_refused_under_strict_and_warned_of() {
    let t = TempDir::new("dev-prune");
    let dev = with_crd(&t);
    let yaml = website("w", "{image: nginx, bogus: 1}");
    // kubectl's default `--validate=strict` asks the server for fieldValidation=Strict.
    let (code, out) = apply(&dev, &yaml);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(r#"strict decoding error: unknown field "spec.bogus""#), "{out}");
    let (code, _, err) = kubectl_stdin(&dev, &["apply", "--validate=warn", "-f", "-"], &yaml);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(r#"Warning: unknown field "spec.bogus""#), "{err}");
    let (code, out, err) = kubectl_stdin(&dev, &["apply", "--validate=false", "-f", "-"], &website("w", "{image: nginx, other: 2}"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("Warning"), "Ignore says nothing: {err}");
    let spec = ok(&dev, &["get", "website", "w", "-o", "jsonpath={.spec}"]);
    assert_eq!(spec, r#"{"image":"nginx","replicas":1}"#, "pruned, defaulted");
    // A server-side apply owns what it applied and the schema kept: no pruned field, no default.
    let (code, out, err) = kubectl_stdin(&dev, &["apply", "--server-side", "--validate=false", "-f", "-"], &website("ssa", "{image: nginx, bogus: 1}"));
    assert_eq!(code, 0, "{out}{err}");
    let owned = ok(&dev, &["get", "website", "ssa", "--show-managed-fields", "-o", "jsonpath={.metadata.managedFields[0].fieldsV1}"]);
    assert_eq!(owned, r#"{"f:spec":{"f:image":{}}}"#);
}

#[test]
fn server_dry_runs_diff_and_dry_run_delete_store_nothing() {
    let t = TempDir::new("dev-dry");
    let dev = with_crd(&t);
    let yaml = website("d", "{image: nginx}");
    let (code, out, err) = kubectl_stdin(&dev, &["apply", "--dry-run=server", "-f", "-"], &yaml);
    assert_eq!((code, out.as_str()), (0, "website.schema.ork.test/d created (server dry run)\n"), "{err}");
    let (code, out, err) = kubectl_stdin(&dev, &["create", "--dry-run=server", "-o", "yaml", "-f", "-"], &yaml);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("replicas: 1") && out.contains("uid:"), "the object that would be stored, defaulted: {out}");
    let (code, out) = kubectl(&dev, &["get", "website", "d"]);
    assert_eq!(code, 1, "nothing stored: {out}");
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: default}\ndata: {a: \"1\"}\n";
    let (code, out, err) = kubectl_stdin(&dev, &["create", "--dry-run=server", "-f", "-"], cm);
    assert_eq!((code, out.as_str()), (0, "configmap/c created (server dry run)\n"), "{err}");
    assert_eq!(kubectl(&dev, &["get", "cm", "c"]).0, 1);
    // A dry run is refused like the real write.
    let (code, _, err) = kubectl_stdin(&dev, &["apply", "--dry-run=server", "-f", "-"], &website("d", "{size: 50}"));
    assert!(code == 1 && err.contains("* spec.image: Required value"), "{err}");

    // kubectl diff: exit 1 and the change when there is one, exit 0 when none.
    let (code, out) = apply(&dev, &yaml);
    assert_eq!(code, 0, "{out}");
    let (code, out, err) = kubectl_stdin(&dev, &["diff", "-f", "-"], &yaml);
    assert_eq!(code, 0, "no change: {out}{err}");
    let (code, out, err) = kubectl_stdin(&dev, &["diff", "-f", "-"], &website("d", "{image: httpd}"));
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("-  image: nginx") && out.contains("+  image: httpd"), "{out}");
    assert_eq!(ok(&dev, &["get", "website", "d", "-o", "jsonpath={.spec.image}"]), "nginx", "diff changed nothing");

    // A dry-run delete answers and leaves the object.
    assert_eq!(ok(&dev, &["delete", "website", "d", "--dry-run=server"]), "website.schema.ork.test \"d\" deleted (server dry run)\n");
    assert_eq!(ok(&dev, &["get", "website", "d", "-o", "jsonpath={.metadata.name}"]), "d");

    // Only `All` is a dry run.
    t.write("cm.json", r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"raw"}}"#);
    let (code, out) =
        kubectl(&dev, &["create", "--raw", "/api/v1/namespaces/default/configmaps?dryRun=Some", "-f", &t.path().join("cm.json").to_string_lossy()]);
    assert!(code == 1 && out.contains("dryRun: Unsupported value: \"Some\""), "{out}");
}

/// Answers every review allowed, adding the label `dry: "<dryRun>"` (a mutating webhook).
async fn mark(axum::Json(review): axum::Json<serde_json::Value>) -> axum::Json<serde_json::Value> {
    let req = &review["request"];
    let dry = req["dryRun"].as_bool().unwrap_or_default().to_string();
    let patch = serde_json::json!([{"op": "add", "path": "/metadata/labels", "value": {"dry": dry}}]);
    let patch = katalog::template::base64_encode(patch.to_string().as_bytes());
    axum::Json(serde_json::json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "response": {"uid": req["uid"], "allowed": true, "patchType": "JSONPatch", "patch": patch}}))
}

/// A dry run goes through the mutating webhooks (which see `dryRun: true`) and answers what they
/// made, storing nothing; a webhook that declares side effects refuses dry runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_runs_pass_through_webhooks_and_webhooks_with_side_effects_refuse_them() {
    let hooks = super::hooks::serve(axum::Router::new().route("/mark", axum::routing::post(mark))).await;
    let c = super::hooks::cluster("dry-hooks").await;
    let config = |side_effects: &str| {
        format!(
            "apiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata: {{name: mark}}\nwebhooks:\n- name: mark.ork.test\n  clientConfig: {{url: \"https://{}/mark\", caBundle: {}}}\n  rules: [{{apiGroups: [\"\"], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}}]\n  failurePolicy: Fail\n  sideEffects: {side_effects}\n  admissionReviewVersions: [v1]\n",
            hooks.addr, hooks.ca_bundle
        )
    };
    let out = c.apply(&config("NoneOnDryRun"), &[]).await;
    assert_eq!(out.code, 0, "{out}");
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: first, namespace: default}\n";
    let out = c.kubectl_in(&["create", "--dry-run=server", "-o", "jsonpath={.metadata.labels.dry}", "-f", "-"], Some(cm)).await;
    assert_eq!((out.code, out.stdout.as_str()), (0, "true"), "{out}");
    assert_eq!(c.kubectl(&["get", "cm", "first"]).await.code, 1, "nothing stored");
    let out = c.kubectl_in(&["create", "-o", "jsonpath={.metadata.labels.dry}", "-f", "-"], Some(cm)).await;
    assert_eq!((out.code, out.stdout.as_str()), (0, "false"), "{out}");

    let out = c.apply(&config("Some"), &[]).await;
    assert_eq!(out.code, 0, "{out}");
    let out = c.kubectl_in(&["create", "--dry-run=server", "-f", "-"], Some(&cm.replace("name: first", "name: second"))).await;
    assert_eq!(out.code, 1, "{out}");
    assert!(out.stderr.contains(r#"admission webhook "mark.ork.test" does not support dry run"#), "{out}");
}
