//! The embedded dev cluster driven by the real `kubectl`: every step asserts kubectl's output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ork_tests::{TempDir, ork_bin};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A dev cluster process, stopped by PID when dropped.
struct Dev {
    child: Child,
    kubeconfig: PathBuf,
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &Path) -> Dev {
    let kubeconfig = dir.join("kubeconfig");
    let mut child = Command::new(ork_bin())
        .args(["dev-cluster", "--port", "0", "--ready-after", "200ms", "--kubeconfig"])
        .arg(&kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ork dev-cluster");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("first line");
    assert!(line.starts_with("dev cluster serving https://127.0.0.1:"), "TLS by default: {line}");
    Dev { child, kubeconfig }
}

/// Runs kubectl against the dev cluster; returns (exit code, stdout + stderr).
fn kubectl(dev: &Dev, args: &[&str]) -> (i32, String) {
    let out = Command::new("kubectl").args(args).env("KUBECONFIG", &dev.kubeconfig).output().unwrap_or_else(|e| panic!("kubectl is required: {e}"));
    (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn ok(dev: &Dev, args: &[&str]) -> String {
    let (code, out) = kubectl(dev, args);
    assert_eq!(code, 0, "kubectl {args:?} failed:\n{out}");
    out
}

#[test]
fn kubectl_drives_the_dev_cluster() {
    let t = TempDir::new("dev");
    let dev = start(t.path());
    // Discovery and the namespaces of a fresh cluster.
    let version = ok(&dev, &["version"]);
    assert!(version.contains("Server Version: v1.32.0-ork-dev"), "{version}");
    let nss = ok(&dev, &["get", "namespaces", "-o", "name"]);
    assert_eq!(nss, "namespace/default\nnamespace/kube-node-lease\nnamespace/kube-public\nnamespace/kube-system\n");
    let res = ok(&dev, &["api-resources", "--api-group=apps", "-o", "name"]);
    assert!(res.contains("deployments.apps") && res.contains("statefulsets.apps"), "{res}");

    // Imperative creates (kubectl sends these as protobuf) and declarative ones (JSON).
    assert_eq!(ok(&dev, &["create", "namespace", "demo"]), "namespace/demo created\n");
    assert_eq!(ok(&dev, &["-n", "demo", "create", "configmap", "imperative", "--from-literal=k=v"]), "configmap/imperative created\n");
    assert_eq!(ok(&dev, &["-n", "demo", "get", "configmap", "imperative", "-o", "jsonpath={.data.k}"]), "v");
    let (code, out) = kubectl(&dev, &["-n", "demo", "create", "deployment", "imperative", "--image=nginx"]);
    assert!(code != 0 && out.contains("use kubectl apply -f / create -f"), "kinds without a protobuf decoder say what to do: {out}");
    t.write("ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo2\n");
    assert_eq!(ok(&dev, &["apply", "-f", &t.path().join("ns.yaml").to_string_lossy()]), "namespace/demo2 created\n");

    // A CRD becomes served once Established; a CR of it round-trips.
    t.write(
        "crd.yaml",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.x.dev}\nspec:\n  group: x.dev\n  scope: Namespaced\n  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    subresources: {status: {}}\n    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}\n",
    );
    ok(&dev, &["apply", "-f", &t.path().join("crd.yaml").to_string_lossy()]);
    assert!(ok(&dev, &["wait", "--for", "condition=established", "--timeout=10s", "crd/widgets.x.dev"]).contains("condition met"));
    t.write("w.yaml", "apiVersion: x.dev/v1\nkind: Widget\nmetadata: {name: w1, namespace: demo}\nspec: {size: 3}\n");
    assert_eq!(ok(&dev, &["apply", "-f", &t.path().join("w.yaml").to_string_lossy()]), "widget.x.dev/w1 created\n");
    assert_eq!(ok(&dev, &["-n", "demo", "get", "widget", "w1", "-o", "jsonpath={.spec.size}"]), "3");
    let yaml = ok(&dev, &["-n", "demo", "get", "widgets", "w1", "-o", "yaml"]);
    assert!(yaml.contains("kind: Widget") && yaml.contains("resourceVersion:") && yaml.contains("uid:"), "{yaml}");
    assert!(ok(&dev, &["apply", "--server-side", "-f", &t.path().join("w.yaml").to_string_lossy()]).contains("widget.x.dev/w1 serverside-applied"));

    // ConfigMap: apply, label, annotate, merge and JSON patches, selectors, replace.
    t.write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c1, namespace: demo}\ndata: {a: b}\n");
    let cm = t.path().join("cm.yaml").to_string_lossy().into_owned();
    assert_eq!(ok(&dev, &["apply", "-f", &cm]), "configmap/c1 created\n");
    assert_eq!(ok(&dev, &["apply", "-f", &cm]), "configmap/c1 unchanged\n");
    assert_eq!(ok(&dev, &["-n", "demo", "label", "cm", "c1", "tier=web"]), "configmap/c1 labeled\n");
    assert_eq!(ok(&dev, &["-n", "demo", "annotate", "cm", "c1", "note=hi"]), "configmap/c1 annotated\n");
    assert_eq!(ok(&dev, &["-n", "demo", "patch", "cm", "c1", "--type", "merge", "-p", r#"{"data":{"x":"1"}}"#]), "configmap/c1 patched\n");
    assert_eq!(
        ok(&dev, &["-n", "demo", "patch", "cm", "c1", "--type", "json", "-p", r#"[{"op":"add","path":"/data/y","value":"2"}]"#]),
        "configmap/c1 patched\n"
    );
    assert_eq!(
        ok(&dev, &["-n", "demo", "get", "cm", "c1", "-o", "jsonpath={.metadata.labels.tier} {.metadata.annotations.note} {.data.x}{.data.y}"]),
        "web hi 12"
    );
    assert_eq!(ok(&dev, &["-n", "demo", "get", "cm", "-l", "tier=web", "-o", "name"]), "configmap/c1\n");
    assert_eq!(ok(&dev, &["-n", "demo", "get", "cm", "-l", "tier=db", "-o", "name"]), "");
    let current = ok(&dev, &["-n", "demo", "get", "cm", "c1", "-o", "yaml"]);
    t.write("c1.yaml", &current.replace("a: b", "a: replaced"));
    assert_eq!(ok(&dev, &["replace", "-f", &t.path().join("c1.yaml").to_string_lossy()]), "configmap/c1 replaced\n");
    // A stale resourceVersion is a conflict, printed as Kubernetes prints it.
    let (code, out) = kubectl(&dev, &["replace", "-f", &t.path().join("c1.yaml").to_string_lossy()]);
    assert_ne!(code, 0);
    assert!(out.contains("Operation cannot be fulfilled on configmaps \"c1\": the object has been modified"), "{out}");
    let (code, out) = kubectl(&dev, &["-n", "demo", "get", "cm", "nope"]);
    assert_ne!(code, 0);
    assert!(out.contains("Error from server (NotFound): configmaps \"nope\" not found"), "{out}");

    // Deployments: scale, and the status faker makes them ready.
    t.write("dep.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: demo}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx}]\n");
    ok(&dev, &["apply", "-f", &t.path().join("dep.yaml").to_string_lossy()]);
    assert_eq!(ok(&dev, &["-n", "demo", "scale", "deploy", "web", "--replicas=3"]), "deployment.apps/web scaled\n");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ready = ok(&dev, &["-n", "demo", "get", "deploy", "web", "-o", "jsonpath={.status.readyReplicas}"]);
        if ready == "3" {
            break;
        }
        assert!(Instant::now() < deadline, "the deployment never reported 3 ready replicas (last: {ready:?})");
        std::thread::sleep(Duration::from_millis(100));
    }

    // `get -w` sees a change.
    let mut watcher = Command::new("kubectl")
        .args(["-n", "demo", "get", "cm", "c1", "-w", "-o", "jsonpath={.metadata.labels.phase}{\"\\n\"}"])
        .env("KUBECONFIG", &dev.kubeconfig)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watcher.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "", "the initial state, unlabelled");
    ok(&dev, &["-n", "demo", "label", "cm", "c1", "phase=two"]);
    assert_eq!(lines.next().unwrap().unwrap(), "two");
    let _ = watcher.kill();
    let _ = watcher.wait();

    // Delete waits for finalizers.
    t.write("held.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: held, namespace: demo, finalizers: [x.dev/hold]}\n");
    ok(&dev, &["apply", "-f", &t.path().join("held.yaml").to_string_lossy()]);
    let mut deleting = Command::new("kubectl")
        .args(["-n", "demo", "delete", "cm", "held", "--timeout=20s"])
        .env("KUBECONFIG", &dev.kubeconfig)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    assert!(deleting.try_wait().unwrap().is_none(), "kubectl delete must wait for the finalizer");
    assert!(!ok(&dev, &["-n", "demo", "get", "cm", "held", "-o", "jsonpath={.metadata.deletionTimestamp}"]).is_empty());
    ok(&dev, &["-n", "demo", "patch", "cm", "held", "--type", "json", "-p", r#"[{"op":"remove","path":"/metadata/finalizers"}]"#]);
    let status = deleting.wait().unwrap();
    assert!(status.success());
    let (code, _) = kubectl(&dev, &["-n", "demo", "get", "cm", "held"]);
    assert_ne!(code, 0);

    // Owner references: deleting the owner removes the child.
    let uid = ok(&dev, &["-n", "demo", "get", "widget", "w1", "-o", "jsonpath={.metadata.uid}"]);
    t.write("child.yaml", &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: child\n  namespace: demo\n  ownerReferences: [{{apiVersion: x.dev/v1, kind: Widget, name: w1, uid: {uid}}}]\n"));
    ok(&dev, &["apply", "-f", &t.path().join("child.yaml").to_string_lossy()]);
    assert_eq!(ok(&dev, &["-n", "demo", "delete", "widget", "w1"]), "widget.x.dev \"w1\" deleted\n");
    let (code, out) = kubectl(&dev, &["-n", "demo", "get", "cm", "child"]);
    assert!(code != 0 && out.contains("not found"), "{out}");

    // Without RBAC enforcement everything is allowed.
    assert_eq!(ok(&dev, &["auth", "can-i", "create", "deployments", "-n", "demo"]), "yes\n");
}
