//! Regression tests for "secrets in logs and status" at the pure layer: what `render` reports
//! about a CR (violations, conditions, status fields, warnings, errors, `Debug`) never holds a
//! sensitive value — by the field's name, by the crdFile schema's `format: password`, or
//! interpolated into a rule's message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::common;

use katalog::load::{LoadOptions, load_file};
use katalog::render::{Request, render};
use katalog::sensitive::REDACTED_VALUE;
use katalog::template::{Rng, TemplateSet, base64_encode};
use serde_json::{Value, json};

const KATALOG: &str = r#"
apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: sensitive-test}
spec:
  crds:
    vault:
      crdFile: ./crd.yaml
      apiTypes: {group: x.dev, version: v1, kind: Vault, plural: vaults}
      admission:
        validation:
          rules:
            - {field: spec.password, regex: '^[a-z]{12,}$', message: "password {{ .spec.password }} is too weak"}
            - {field: spec.unlockCode, regex: '^[0-9]+$', message: "the unlock code must be digits"}
            - {field: spec.size, regex: '^[0-9]+$', message: "size must be digits"}
            - {field: spec.apiToken, prefix: zz-, action: warn, message: "token {{ .spec.apiToken | toBase64 }} is old"}
      operatorBox:
        reconcile:
          onReconcile:
            secrets:
              - {name: "{{ .metadata.name }}-creds", data: {generated: "{{ randomAlphanumeric 20 }}"}}
            deployments:
              - name: web
                when: [{field: spec.mode, equals: broken}]
                image: nginx
                replicas: "{{ .spec.apiToken }}"
        emit:
          status:
            fields:
              - {path: echo, value: "pw={{ .spec.password }} code={{ .spec.unlockCode }}"}
              - {path: count, type: int, value: "{{ .spec.apiToken }}"}
"#;

const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: vaults.x.dev}
spec:
  group: x.dev
  scope: Namespaced
  names: {kind: Vault, plural: vaults}
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
              properties:
                unlockCode: {type: string, format: password}
"#;

fn setup(dir: &common::Dir) -> (katalog::model::katalog::Katalog, TemplateSet) {
    dir.write("crd.yaml", CRD);
    let path = dir.write("katalog.yaml", KATALOG);
    let loaded = load_file(&path, &LoadOptions::default());
    assert!(!loaded.diagnostics.has_errors(), "{:?}", loaded.diagnostics);
    let k = loaded.katalog.unwrap();
    let (set, diags) = TemplateSet::compile(&k);
    assert!(diags.is_empty(), "{diags:?}");
    (k, set)
}

/// Values that break the password and unlock-code rules.
const PASSWORD: &str = "Hunter2-planted-pw";
const CODE: &str = "ul-planted-code";
/// Values that pass them.
const GOOD_PASSWORD: &str = "plantedlowercasepw";
const GOOD_CODE: &str = "99887766554433";
const TOKEN: &str = "tok-planted-token";

fn cr(password: &str, code: &str, size: &str, mode: &str) -> Value {
    json!({"apiVersion": "x.dev/v1", "kind": "Vault", "metadata": {"name": "v", "namespace": "default", "uid": "u-1", "generation": 1},
           "spec": {"password": password, "unlockCode": code, "apiToken": TOKEN, "size": size, "mode": mode}})
}

fn assert_clean(what: &str, text: &str) {
    for v in [PASSWORD, CODE, GOOD_PASSWORD, GOOD_CODE, TOKEN] {
        for form in [v.to_string(), base64_encode(v.as_bytes())] {
            assert!(!text.contains(&form), "{what} shows {form:?}:\n{text}");
        }
    }
}

#[test]
fn the_schema_of_the_crd_file_marks_fields_sensitive() {
    let dir = common::Dir::new("sensitive-schema");
    let (_, set) = setup(&dir);
    assert_eq!(set.sensitivity("vault").schema_paths(), ["spec.unlockCode"]);
    assert!(set.sensitivity("other").schema_paths().is_empty());
}

#[test]
fn a_denied_cr_reports_which_fields_failed_but_no_sensitive_value() {
    let dir = common::Dir::new("sensitive-deny");
    let (k, set) = setup(&dir);
    let out = render(
        &k,
        &set,
        Request {
            crd: "vault",
            cr: &cr(PASSWORD, CODE, "x1", "normal"),
            observed: &[],
            others: &[],
            now: 0,
            rng: Rng::Seeded(1),
            cross: &serde_json::Value::Null,
        },
    )
    .unwrap();
    assert!(out.denied());
    let by_field = |f: &str| out.violations.iter().find(|v| v.field == f).unwrap();
    // By name, with the interpolated value scrubbed from the message.
    let pw = by_field("spec.password");
    assert!(pw.sensitive);
    assert_eq!((pw.value.as_str(), pw.message.as_str(), pw.got()), (REDACTED_VALUE, "password [redacted] is too weak", REDACTED_VALUE.to_string()));
    // By the schema's `format: password`.
    let code = by_field("spec.unlockCode");
    assert!(code.sensitive, "{code:?}");
    assert_eq!(code.value, REDACTED_VALUE);
    // An ordinary field still shows its value.
    let size = by_field("spec.size");
    assert!(!size.sensitive);
    assert_eq!(size.got(), "(got \"x1\")");
    // A value interpolated in another form (base64) is scrubbed too.
    assert_eq!(by_field("spec.apiToken").message, "token [redacted] is old");
    let conditions = out.status["conditions"].to_string();
    assert!(conditions.contains("field \\\"spec.password\\\": password [redacted] is too weak (value redacted: sensitive field)"), "{conditions}");
    assert!(conditions.contains("(got \\\"x1\\\")"), "{conditions}");
    assert_clean("status", &out.status.to_string());
    assert_clean("violations", &serde_json::to_string(&out.violations).unwrap());
    assert_clean("Debug", &format!("{out:?}"));
}

#[test]
fn status_fields_warnings_and_render_errors_are_scrubbed() {
    let dir = common::Dir::new("sensitive-status");
    let (k, set) = setup(&dir);
    let good = cr(GOOD_PASSWORD, GOOD_CODE, "1", "normal");
    let out = render(&k, &set, Request { crd: "vault", cr: &good, observed: &[], others: &[], now: 0, rng: Rng::Seeded(1), cross: &serde_json::Value::Null })
        .unwrap();
    assert!(!out.denied(), "{:?}", out.violations);
    assert_eq!(out.status["echo"], "pw=[redacted] code=[redacted]");
    assert!(out.warnings.iter().any(|w| w.contains("\"[redacted]\" is not an integer")), "{:?}", out.warnings);
    assert_clean("warnings", &out.warnings.join("\n"));
    // The generated Secret value is known to the redactor, for the caller's own messages.
    let secret = out.children.iter().find(|c| c.manifest["kind"] == "Secret").unwrap();
    let generated = secret.manifest["data"]["generated"].as_str().unwrap().to_string();
    assert_eq!(out.redactor.scrub(&format!("x {generated} y")), "x [redacted] y");
    assert!(!format!("{secret:?}").contains(&generated), "a child's Debug leaves its manifest out: {secret:?}");

    let err = render(
        &k,
        &set,
        Request {
            crd: "vault",
            cr: &cr(GOOD_PASSWORD, GOOD_CODE, "1", "broken"),
            observed: &[],
            others: &[],
            now: 0,
            rng: Rng::Seeded(1),
            cross: &serde_json::Value::Null,
        },
    )
    .unwrap_err();
    assert!(err.message.contains("rendered to \"[redacted]\", which is not an integer"), "{err}");
    assert_clean("render error", &err.to_string());
}

#[test]
fn values_read_from_observed_secrets_are_scrubbed() {
    let dir = common::Dir::new("sensitive-observed");
    let (k, set) = setup(&dir);
    let observed = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "v-creds", "namespace": "default"},
                          "data": {"generated": base64_encode(b"observed-generated-value")}});
    let mut c = cr(GOOD_PASSWORD, GOOD_CODE, "1", "normal");
    c["spec"]["size"] = json!("observed-generated-value");
    let out =
        render(&k, &set, Request { crd: "vault", cr: &c, observed: &[observed], others: &[], now: 0, rng: Rng::Seeded(1), cross: &serde_json::Value::Null })
            .unwrap();
    let size = out.violations.iter().find(|v| v.field == "spec.size").unwrap();
    assert_eq!(size.got(), "(got \"[redacted]\")", "a Secret's value never shows, whatever field holds it");
}
