//! How the dev cluster applies patches, driven by the real `kubectl`: strategic merge patch for
//! the built-in kinds (what `kubectl apply`, `edit`, `set image` and `patch` send), merge patch
//! and the 415 for custom resources, and server-side apply merging lists by their keys.
//!
//! Regression tests for a data-loss bug: strategic merge patches used to be applied as JSON merge
//! patches, so a `kubectl apply` that changed one container replaced the whole container list
//! (dropping the others) and stored the directives (`$setElementOrder/…`, `$patch`).
//!
//! Every expected value is written by hand from the Kubernetes semantics
//! (k8s.io/apimachinery/pkg/util/strategicpatch and structured-merge-diff); the comments say why
//! where it is not obvious.
use super::{Dev, kubectl, ok, start};
use ork_tests::TempDir;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

/// Runs kubectl against the dev cluster with extra environment; returns (exit code, stdout + stderr).
fn kubectl_env(dev: &Dev, env: &[(&str, &Path)], args: &[&str]) -> (i32, String) {
    let mut cmd = Command::new("kubectl");
    cmd.args(args).env("KUBECONFIG", &dev.kubeconfig).env("KUBECACHEDIR", dev.kubeconfig.with_file_name("kube-cache"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("kubectl is required: {e}"));
    (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// The stored object, as `kubectl get -o json` returns it.
fn get(dev: &Dev, args: &[&str]) -> Value {
    let out = ok(dev, &[args, &["-o", "json"]].concat());
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("kubectl get {args:?} did not print JSON ({e}):\n{out}"))
}

/// Paths of every object key starting with `$` (patch directives must never be stored).
fn dollar_keys(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if k.starts_with('$') {
                    out.push(format!("{path}.{k}"));
                }
                dollar_keys(v, &format!("{path}.{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                dollar_keys(v, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn assert_no_directives(obj: &Value) {
    let mut found = Vec::new();
    dollar_keys(obj, "", &mut found);
    assert!(found.is_empty(), "patch directives were stored: {found:?}\n{obj:#}");
}

/// Deployment `x` in `default`: container `a` (env FOO, BAR) and container `b`, a RollingUpdate
/// strategy, two labels and three finalizers. `image_a` and `env_a` vary between applies.
fn deployment(image_a: &str, env_a: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: x
  namespace: default
  labels: {{app: x, tier: web}}
  finalizers: [x.dev/a, x.dev/b, x.dev/c]
spec:
  replicas: 1
  selector: {{matchLabels: {{app: x}}}}
  strategy:
    type: RollingUpdate
    rollingUpdate: {{maxSurge: 1, maxUnavailable: 0}}
  template:
    metadata: {{labels: {{app: x}}}}
    spec:
      containers:
      - name: a
        image: {image_a}
        env: {env_a}
      - name: b
        image: busybox:1
"
    )
}

const FOO_BAR: &str = "[{name: FOO, value: '1'}, {name: BAR, value: '2'}]";

fn containers(dev: &Dev) -> Value {
    get(dev, &["-n", "default", "get", "deploy", "x"])["spec"]["template"]["spec"]["containers"].clone()
}

/// Starts a dev cluster with deployment `x` created by `kubectl apply`.
fn with_deployment(t: &TempDir) -> Dev {
    let dev = start(t.path());
    let d1 = t.write("d1.yaml", &deployment("nginx:1", FOO_BAR));
    assert_eq!(ok(&dev, &["apply", "-f", &d1.to_string_lossy()]), "deployment.apps/x created\n");
    dev
}

#[test]
fn strategic_merge_patch_apply_keeps_other_containers_and_env() {
    let t = TempDir::new("smp-apply");
    let dev = with_deployment(&t);
    // The second apply changes a's image and drops BAR: kubectl sends a three-way strategic merge
    // patch with `$setElementOrder/containers`, `$setElementOrder/env` and `{$patch: delete, name: BAR}`.
    let d2 = t.write("d2.yaml", &deployment("nginx:2", "[{name: FOO, value: '1'}]"));
    assert_eq!(ok(&dev, &["apply", "-f", &d2.to_string_lossy()]), "deployment.apps/x configured\n");
    let stored = get(&dev, &["-n", "default", "get", "deploy", "x"]);
    assert_eq!(
        stored["spec"]["template"]["spec"]["containers"],
        json!([{"name": "a", "image": "nginx:2", "env": [{"name": "FOO", "value": "1"}]}, {"name": "b", "image": "busybox:1"}])
    );
    assert_no_directives(&stored);
    // Applying the same file again changes nothing.
    assert_eq!(ok(&dev, &["apply", "-f", &d2.to_string_lossy()]), "deployment.apps/x unchanged\n");
}

#[test]
fn strategic_merge_patch_apply_keeps_other_containers_when_webhooks_are_configured() {
    // With any webhook configuration stored, the dev cluster applies the patch before admission
    // (webhooks see the patched object): the same strategic merge, through that path.
    let t = TempDir::new("smp-admission");
    let dev = with_deployment(&t);
    let hooks = t.write(
        "hooks.yaml",
        r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: unrelated}
webhooks:
- name: unrelated.ork.test
  clientConfig: {url: "https://127.0.0.1:9/validate"}
  rules: [{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [secrets]}]
  sideEffects: None
  admissionReviewVersions: [v1]
  failurePolicy: Ignore
"#,
    );
    ok(&dev, &["apply", "-f", &hooks.to_string_lossy()]);
    let d2 = t.write("d2.yaml", &deployment("nginx:2", "[{name: FOO, value: '1'}]"));
    assert_eq!(ok(&dev, &["apply", "-f", &d2.to_string_lossy()]), "deployment.apps/x configured\n");
    let stored = get(&dev, &["-n", "default", "get", "deploy", "x"]);
    assert_eq!(
        stored["spec"]["template"]["spec"]["containers"],
        json!([{"name": "a", "image": "nginx:2", "env": [{"name": "FOO", "value": "1"}]}, {"name": "b", "image": "busybox:1"}])
    );
    assert_no_directives(&stored);
}

#[test]
fn strategic_merge_patch_set_image_keeps_other_containers_and_env() {
    let t = TempDir::new("smp-set-image");
    let dev = with_deployment(&t);
    // `kubectl set image` patches `containers: [{name: a, image: nginx:3}]`: a merge by name.
    assert_eq!(ok(&dev, &["-n", "default", "set", "image", "deploy/x", "a=nginx:3"]), "deployment.apps/x image updated\n");
    assert_eq!(
        containers(&dev),
        json!([{"name": "a", "image": "nginx:3", "env": [{"name": "FOO", "value": "1"}, {"name": "BAR", "value": "2"}]}, {"name": "b", "image": "busybox:1"}])
    );
}

#[test]
fn strategic_merge_patch_edit_changes_one_image_and_keeps_the_rest() {
    let t = TempDir::new("smp-edit");
    let dev = with_deployment(&t);
    let editor = t.write("edit.sh", "#!/bin/sh\nsed -i 's#image: nginx:1#image: nginx:9#' \"$1\"\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let (code, out) = kubectl_env(&dev, &[("KUBE_EDITOR", &editor), ("EDITOR", &editor)], &["-n", "default", "edit", "deploy/x"]);
    assert_eq!((code, out.as_str()), (0, "deployment.apps/x edited\n"));
    let stored = get(&dev, &["-n", "default", "get", "deploy", "x"]);
    assert_eq!(
        stored["spec"]["template"]["spec"]["containers"],
        json!([{"name": "a", "image": "nginx:9", "env": [{"name": "FOO", "value": "1"}, {"name": "BAR", "value": "2"}]}, {"name": "b", "image": "busybox:1"}])
    );
    assert_no_directives(&stored);
}

fn patch(dev: &Dev, p: &str) -> String {
    ok(dev, &["-n", "default", "patch", "deploy", "x", "--type=strategic", "-p", p])
}

#[test]
fn strategic_merge_patch_delete_directive_removes_one_list_element() {
    let t = TempDir::new("smp-delete");
    let dev = with_deployment(&t);
    assert_eq!(patch(&dev, r#"{"spec":{"template":{"spec":{"containers":[{"name":"a","$patch":"delete"}]}}}}"#), "deployment.apps/x patched\n");
    assert_eq!(containers(&dev), json!([{"name": "b", "image": "busybox:1"}]));
    // In a nested list too: BAR goes, FOO stays.
    ok(&dev, &["apply", "-f", &t.path().join("d1.yaml").to_string_lossy()]);
    patch(&dev, r#"{"spec":{"template":{"spec":{"containers":[{"name":"a","env":[{"name":"BAR","$patch":"delete"}]}]}}}}"#);
    assert_eq!(containers(&dev)[0]["env"], json!([{"name": "FOO", "value": "1"}]));
}

#[test]
fn strategic_merge_patch_retain_keys_drops_rolling_update() {
    let t = TempDir::new("smp-retain");
    let dev = with_deployment(&t);
    // `$retainKeys` clears every key of the live map it does not list: rollingUpdate goes.
    patch(&dev, r#"{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}"#);
    let stored = get(&dev, &["-n", "default", "get", "deploy", "x"]);
    assert_eq!(stored["spec"]["strategy"], json!({"type": "Recreate"}));
    assert_no_directives(&stored);
}

#[test]
fn strategic_merge_patch_delete_from_primitive_list_removes_one_finalizer() {
    let t = TempDir::new("smp-finalizers");
    let dev = with_deployment(&t);
    patch(&dev, r#"{"metadata":{"$deleteFromPrimitiveList/finalizers":["x.dev/b"]}}"#);
    let finalizers = || get(&dev, &["-n", "default", "get", "deploy", "x"])["metadata"]["finalizers"].clone();
    assert_eq!(finalizers(), json!(["x.dev/a", "x.dev/c"]));
    // finalizers has the `merge` strategy: a patch adds to the set instead of replacing it. A new
    // item that the patch does not place with `$setElementOrder` comes first: the API server
    // orders patch items before server-only items it cannot compare them with.
    patch(&dev, r#"{"metadata":{"finalizers":["x.dev/d"]}}"#);
    assert_eq!(finalizers(), json!(["x.dev/d", "x.dev/a", "x.dev/c"]));
}

#[test]
fn strategic_merge_patch_set_element_order_reorders_containers() {
    let t = TempDir::new("smp-order");
    let dev = with_deployment(&t);
    patch(&dev, r#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}]}}}}"#);
    let stored = get(&dev, &["-n", "default", "get", "deploy", "x"]);
    assert_eq!(
        stored["spec"]["template"]["spec"]["containers"],
        json!([{"name": "b", "image": "busybox:1"}, {"name": "a", "image": "nginx:1", "env": [{"name": "FOO", "value": "1"}, {"name": "BAR", "value": "2"}]}])
    );
    assert_no_directives(&stored);
}

#[test]
fn strategic_merge_patch_replace_directive_replaces_a_map() {
    let t = TempDir::new("smp-replace");
    let dev = with_deployment(&t);
    patch(&dev, r#"{"metadata":{"labels":{"$patch":"replace","only":"this"}}}"#);
    let stored = get(&dev, &["-n", "default", "get", "deploy", "x"]);
    assert_eq!(stored["metadata"]["labels"], json!({"only": "this"}));
    assert_no_directives(&stored);
    // Without the directive, labels merge.
    patch(&dev, r#"{"metadata":{"labels":{"more":"too"}}}"#);
    assert_eq!(get(&dev, &["-n", "default", "get", "deploy", "x"])["metadata"]["labels"], json!({"only": "this", "more": "too"}));
}

#[test]
fn strategic_merge_patch_unknown_directive_is_a_bad_request() {
    let t = TempDir::new("smp-bad");
    let dev = with_deployment(&t);
    let before = containers(&dev);
    let (code, out) = kubectl(
        &dev,
        &[
            "-n",
            "default",
            "patch",
            "deploy",
            "x",
            "--type=strategic",
            "-p",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"a","$patch":"explode"}]}}}}"#,
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("Error from server (BadRequest): ") && out.contains("$patch") && out.contains("explode"), "{out}");
    assert_eq!(containers(&dev), before, "a refused patch changes nothing");
}

#[test]
fn merge_patch_apply_works_on_custom_resources_and_strategic_merge_patch_is_415() {
    let t = TempDir::new("smp-cr");
    let dev = start(t.path());
    t.write(
        "crd.yaml",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.x.dev}\nspec:\n  group: x.dev\n  scope: Namespaced\n  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}\n",
    );
    ok(&dev, &["apply", "-f", &t.path().join("crd.yaml").to_string_lossy()]);
    assert!(ok(&dev, &["wait", "--for", "condition=established", "--timeout=10s", "crd/widgets.x.dev"]).contains("condition met"));
    let w1 = t.write(
        "w1.yaml",
        "apiVersion: x.dev/v1\nkind: Widget\nmetadata: {name: w1, namespace: default}\nspec: {size: 3, tags: [a, b], nested: {keep: 1, drop: 2}}\n",
    );
    assert_eq!(ok(&dev, &["apply", "-f", &w1.to_string_lossy()]), "widget.x.dev/w1 created\n");
    // kubectl has no Go type for a Widget, so it sends a three-way JSON merge patch: lists are
    // replaced, and `nested.drop` (in the last applied configuration, not in the new one) goes.
    let w2 =
        t.write("w2.yaml", "apiVersion: x.dev/v1\nkind: Widget\nmetadata: {name: w1, namespace: default}\nspec: {size: 4, tags: [c], nested: {keep: 1}}\n");
    assert_eq!(ok(&dev, &["apply", "-f", &w2.to_string_lossy()]), "widget.x.dev/w1 configured\n");
    let spec = || get(&dev, &["-n", "default", "get", "widget", "w1"])["spec"].clone();
    assert_eq!(spec(), json!({"size": 4, "tags": ["c"], "nested": {"keep": 1}}));
    // Custom resources have no patch strategies: the API server refuses a strategic merge patch
    // with 415 UnsupportedMediaType, which kubectl prints prefixed with the patch type and kind.
    let (code, out) = kubectl(&dev, &["-n", "default", "patch", "widget", "w1", "--type=strategic", "-p", r#"{"spec":{"size":5}}"#]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        out,
        "error: application/strategic-merge-patch+json is not supported by x.dev/v1, Kind=Widget: the body of the request was in an unknown format - \
         accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml\n"
    );
    assert_eq!(spec(), json!({"size": 4, "tags": ["c"], "nested": {"keep": 1}}));
    // A merge patch still works.
    ok(&dev, &["-n", "default", "patch", "widget", "w1", "--type=merge", "-p", r#"{"spec":{"size":5}}"#]);
    assert_eq!(spec()["size"], json!(5));
}

#[test]
fn server_side_apply_merges_containers_by_name_and_keeps_the_rest() {
    let t = TempDir::new("ssa");
    let dev = start(t.path());
    let d1 = t.write("d1.yaml", &deployment("nginx:1", FOO_BAR));
    assert_eq!(ok(&dev, &["apply", "--server-side", "-f", &d1.to_string_lossy()]), "deployment.apps/x serverside-applied\n");
    // Another manager applies only a's image. `containers` is a list map keyed by name, and a's
    // env and container b are owned by the first manager: they stay. (It takes the image from the
    // first manager, hence --force-conflicts, as against a real API server.)
    let partial = t.write(
        "partial.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x, namespace: default, labels: {extra: more}, finalizers: [x.dev/z]}\nspec:\n  template:\n    spec:\n      containers:\n      - {name: a, image: nginx:5}\n",
    );
    let out = ok(&dev, &["apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", &partial.to_string_lossy()]);
    assert_eq!(out, "deployment.apps/x serverside-applied\n");
    let stored = get(&dev, &["-n", "default", "get", "deploy", "x"]);
    assert_eq!(
        stored["spec"]["template"]["spec"]["containers"],
        json!([{"name": "a", "image": "nginx:5", "env": [{"name": "FOO", "value": "1"}, {"name": "BAR", "value": "2"}]}, {"name": "b", "image": "busybox:1"}])
    );
    // Labels (a granular map) merge; finalizers (a set) are a union, new items last.
    assert_eq!(stored["metadata"]["labels"], json!({"app": "x", "tier": "web", "extra": "more"}));
    assert_eq!(stored["metadata"]["finalizers"], json!(["x.dev/a", "x.dev/b", "x.dev/c", "x.dev/z"]));
    assert_eq!(stored["spec"]["strategy"], json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}));
}

/// The patch schema the dev cluster embeds (services/src/cluster/patch-schema.json) is generated
/// from the Kubernetes OpenAPI definitions of the pinned kubernetes-validate package: regenerate
/// it with scripts/gen-patch-schema.py and compare, so the committed file cannot drift from its
/// source or be edited by hand.
#[test]
fn patch_schema_is_what_the_generator_writes() {
    let python = ork_tests::root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run ./scripts/test.sh, which installs kubernetes-validate (the source of the patch schema) into .venv/",
        python.display()
    );
    let out = Command::new(&python)
        .arg(ork_tests::root().join("scripts/gen-patch-schema.py"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} scripts/gen-patch-schema.py: {e}", python.display()));
    assert!(out.status.success(), "scripts/gen-patch-schema.py failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let generated = String::from_utf8_lossy(&out.stdout);
    let path = ork_tests::root().join("services/src/cluster/patch-schema.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    assert!(
        generated == committed,
        "{} differs from what scripts/gen-patch-schema.py writes: regenerate it with\n  .venv/bin/python scripts/gen-patch-schema.py > services/src/cluster/patch-schema.json",
        path.display()
    );
    // The schema says what the dev cluster needs: containers merge by name.
    assert!(committed.contains(r#""containers":{"listMapKeys":["name"],"listType":"map","patchMergeKey":"name","patchStrategy":"merge""#));
}
