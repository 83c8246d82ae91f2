//! The embedded dev cluster driven by the real `kubectl`: every step asserts kubectl's output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod conversion;
mod hooks;
mod imperative;
mod patch;
mod requests;
mod schema;
mod tables;
mod warnings;

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
    start_with(dir, &[])
}

/// `ork dev-cluster` with `extra` flags, writing its kubeconfig into `dir`.
fn start_with(dir: &Path, extra: &[&str]) -> Dev {
    let kubeconfig = dir.join("kubeconfig");
    let mut child = Command::new(ork_bin())
        .args(["dev-cluster", "--port", "0", "--ready-after", "200ms", "--kubeconfig"])
        .arg(&kubeconfig)
        .args(extra)
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
    let cache = dev.kubeconfig.with_file_name("kube-cache");
    let out = Command::new("kubectl")
        .args(args)
        .env("KUBECONFIG", &dev.kubeconfig)
        .env("KUBECACHEDIR", cache)
        .output()
        .unwrap_or_else(|e| panic!("kubectl is required: {e}"));
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
    assert_eq!(ok(&dev, &["-n", "demo", "create", "deployment", "imperative", "--image=nginx"]), "deployment.apps/imperative created\n");
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

/// Runs kubectl with `input` on its stdin; returns (exit code, stdout, stderr).
fn kubectl_stdin(dev: &Dev, args: &[&str], input: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = Command::new("kubectl")
        .args(args)
        .env("KUBECONFIG", &dev.kubeconfig)
        .env("KUBECACHEDIR", dev.kubeconfig.with_file_name("kube-cache"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Applies `yaml` with kubectl (stdin); returns (exit code, output).
fn apply(dev: &Dev, yaml: &str) -> (i32, String) {
    let (code, out, err) = kubectl_stdin(dev, &["apply", "-f", "-"], yaml);
    (code, format!("{out}{err}"))
}

/// Issue 13, defect 8: the dev cluster stored objects the API server refuses. Now names follow
/// each kind's rule, labels and annotations theirs, a CRD's name is `plural.group`, immutable
/// fields stay, and `default`/`kube-system` cannot be deleted — with kubectl printing the API
/// server's messages.
#[test]
fn invalid_names_and_immutable_fields_are_refused_like_the_api_server() {
    let t = TempDir::new("dev-invalid");
    let dev = start(t.path());
    let refused = |yaml: &str, want: &str| {
        let (code, out) = apply(&dev, yaml);
        assert_ne!(code, 0, "accepted:\n{yaml}\n{out}");
        assert!(out.contains(want), "expected {want:?} in:\n{out}");
    };
    refused(
        "apiVersion: v1\nkind: Service\nmetadata: {name: Hello_World}\nspec: {ports: [{port: 80}]}\n",
        "The Service \"Hello_World\" is invalid: metadata.name: Invalid value: \"Hello_World\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character",
    );
    refused("apiVersion: v1\nkind: Service\nmetadata: {name: 1web}\nspec: {ports: [{port: 80}]}\n", "a DNS-1035 label");
    refused(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: team.a}\n",
        "The Namespace \"team.a\" is invalid: metadata.name: Invalid value: \"team.a\": a lowercase RFC 1123 label",
    );
    let long = "a".repeat(70);
    refused(
        &format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c, labels: {{app: {long}}}}}\n"),
        &format!("metadata.labels: Invalid value: \"{long}\": must be no more than 63 characters"),
    );
    refused(&format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {}}}\nspec: {{}}\n", "d".repeat(260)), "must be no more than 253 characters");
    refused(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets}\nspec: {group: ork.dev, scope: Namespaced, names: {plural: widgets, kind: Widget}, versions: [{name: v1, served: true, storage: true}]}\n",
        "metadata.name: Invalid value: \"widgets\": must be spec.names.plural+\".\"+spec.group",
    );
    // Immutable fields.
    assert_eq!(apply(&dev, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: frozen}\nimmutable: true\ndata: {a: \"1\"}\n").0, 0);
    refused(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: frozen}\nimmutable: true\ndata: {a: \"2\"}\n",
        "data: Forbidden: field is immutable when `immutable` is set",
    );
    let deploy = |app: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d}}\nspec: {{selector: {{matchLabels: {{app: {app}}}}}, template: {{metadata: {{labels: {{app: {app}}}}}, spec: {{containers: [{{name: c, image: nginx}}]}}}}}}\n"
        )
    };
    assert_eq!(apply(&dev, &deploy("a")).0, 0);
    refused(&deploy("b"), "The Deployment \"d\" is invalid: spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"b\"}}: field is immutable");
    let job = |image: &str| {
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {{name: j}}\nspec: {{template: {{spec: {{restartPolicy: Never, containers: [{{name: c, image: {image}}}]}}}}}}\n"
        )
    };
    assert_eq!(apply(&dev, &job("busybox:1")).0, 0);
    refused(&job("busybox:2"), "spec.template: Invalid value:");
    assert_eq!(apply(&dev, "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n").0, 0);
    let ip = ok(&dev, &["get", "service", "web", "-o", "jsonpath={.spec.clusterIP}"]);
    assert!(ip.starts_with("10.96."), "a cluster IP is allocated: {ip}");
    let (code, out) = kubectl(&dev, &["patch", "service", "web", "--type=merge", "-p", r#"{"spec":{"clusterIP":"10.96.200.1"}}"#]);
    assert_ne!(code, 0);
    assert!(out.contains("spec.clusterIPs[0]: Invalid value: []string{\"10.96.200.1\"}: may not change once set"), "{out}");
    // Re-applying the Service without its clusterIP keeps the allocated one.
    assert_eq!(apply(&dev, "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 81}]}\n").0, 0);
    assert_eq!(ok(&dev, &["get", "service", "web", "-o", "jsonpath={.spec.clusterIP}"]), ip);
    for ns in ["default", "kube-system"] {
        let (code, out) = kubectl(&dev, &["delete", "namespace", ns]);
        assert_ne!(code, 0);
        assert!(out.contains(&format!("namespaces \"{ns}\" is forbidden: this namespace may not be deleted")), "{out}");
    }
    // A Secret's stringData is stored as data, never as itself.
    assert_eq!(apply(&dev, "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {k: v}\n").0, 0);
    assert_eq!(ok(&dev, &["get", "secret", "s", "-o", "jsonpath={.data.k} {.stringData}"]), "dg== ");
}

/// Issue 13, defect 9: a selective watch now sees objects enter (ADDED) and leave (DELETED) its
/// selector; list pages continue by key from one snapshot, so deleting between pages skips
/// nothing, and a malformed token is a 400; generated names are random.
#[test]
fn watch_and_list_semantics_match_the_api_server() {
    let t = TempDir::new("dev-watch");
    let dev = start(t.path());
    let mut watch = Command::new("kubectl")
        .args([
            "get",
            "configmaps",
            "-l",
            "app=web",
            "-w",
            "--output-watch-events",
            "--no-headers",
            "-o",
            "custom-columns=EVENT:.type,NAME:.object.metadata.name,APP:.object.metadata.labels.app",
        ])
        .env("KUBECONFIG", &dev.kubeconfig)
        .env("KUBECACHEDIR", dev.kubeconfig.with_file_name("kube-cache"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = watch.stdout.take().unwrap();
    let reader = std::thread::spawn(move || BufReader::new(stdout).lines().map_while(Result::ok).collect::<Vec<_>>());
    std::thread::sleep(Duration::from_millis(500));
    ok(&dev, &["create", "configmap", "m"]);
    ok(&dev, &["label", "configmap", "m", "app=web"]);
    ok(&dev, &["label", "configmap", "m", "app=db", "--overwrite"]);
    ok(&dev, &["label", "configmap", "m", "app=web", "--overwrite"]);
    ok(&dev, &["delete", "configmap", "m"]);
    // Give the events a moment to arrive, then stop the watch (by PID) and read what it printed.
    std::thread::sleep(Duration::from_millis(1500));
    let _ = watch.kill();
    let _ = watch.wait();
    let seen: Vec<String> = reader.join().unwrap().iter().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
    // Entering: ADDED; leaving: DELETED with the object as it was (still app=web); back: ADDED.
    assert_eq!(seen, ["ADDED m web", "DELETED m web", "ADDED m web", "DELETED m web"]);

    for i in 0..6 {
        ok(&dev, &["create", "configmap", &format!("p{i}")]);
    }
    let page = |query: &str| -> serde_json::Value {
        serde_json::from_str(&ok(&dev, &["get", "--raw", &format!("/api/v1/namespaces/default/configmaps?{query}")])).unwrap()
    };
    let names = |v: &serde_json::Value| v["items"].as_array().unwrap().iter().map(|o| o["metadata"]["name"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let first = page("limit=2");
    assert_eq!(names(&first), ["p0", "p1"]);
    assert_eq!(first["metadata"]["remainingItemCount"], 4);
    let token = first["metadata"]["continue"].as_str().unwrap().to_string();
    // Between pages: p0 and p2 deleted, p9 created; the pages still show the first snapshot.
    ok(&dev, &["delete", "configmap", "p0", "p2"]);
    ok(&dev, &["create", "configmap", "p9"]);
    let second = page(&format!("limit=2&continue={token}"));
    assert_eq!(names(&second), ["p2", "p3"], "nothing skipped, nothing new");
    let third = page(&format!("limit=10&continue={}", second["metadata"]["continue"].as_str().unwrap()));
    assert_eq!(names(&third), ["p4", "p5"]);
    assert!(third["metadata"].get("continue").is_none());
    assert_eq!(first["metadata"]["resourceVersion"], third["metadata"]["resourceVersion"], "one snapshot");
    let (code, out) = kubectl(&dev, &["get", "--raw", "/api/v1/namespaces/default/configmaps?limit=2&continue=2"]);
    assert_ne!(code, 0);
    assert!(out.contains("continue key is not valid"), "{out}");
    // kubectl's own paging sees every object once.
    assert_eq!(ok(&dev, &["get", "configmaps", "--chunk-size=2", "-o", "name"]), "configmap/p1\nconfigmap/p3\nconfigmap/p4\nconfigmap/p5\nconfigmap/p9\n");

    // generateName: five random characters of the API server's alphabet, no collisions with
    // names written by hand.
    let mut generated = std::collections::BTreeSet::new();
    for _ in 0..20 {
        let (code, out, _) =
            kubectl_stdin(&dev, &["create", "-o", "jsonpath={.metadata.name}", "-f", "-"], "apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: gen-}\n");
        assert_eq!(code, 0, "{out}");
        let suffix = out.strip_prefix("gen-").unwrap_or_else(|| panic!("{out}"));
        assert!(suffix.len() == 5 && suffix.bytes().all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b)), "{out}");
        generated.insert(out);
    }
    assert_eq!(generated.len(), 20);
}

/// Issue 13, defect 10: gaps kubectl users hit — CRD short names and the CRD scale
/// subresource, `kubectl describe` (event field selectors), health endpoints, a 413 with a
/// Status body, `kubectl auth whoami`.
#[test]
fn kubectl_gaps_short_names_scale_describe_health_and_413() {
    let t = TempDir::new("dev-gaps");
    let dev = start(t.path());
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.ork.dev}\nspec:\n  group: ork.dev\n  scope: Namespaced\n  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd], categories: [all]}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}\n    subresources:\n      status: {}\n      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}\n";
    assert_eq!(apply(&dev, crd).0, 0);
    assert_eq!(apply(&dev, "apiVersion: ork.dev/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {replicas: 1}\n").0, 0);
    assert_eq!(ok(&dev, &["get", "wd", "-o", "name"]), "widget.ork.dev/w1\n");
    assert!(ok(&dev, &["scale", "wd", "w1", "--replicas=4"]).contains("scaled"));
    assert_eq!(ok(&dev, &["get", "widget", "w1", "-o", "jsonpath={.spec.replicas}"]), "4");
    assert!(ok(&dev, &["get", "--raw", "/apis/ork.dev/v1/namespaces/default/widgets/w1/scale"]).contains("\"replicas\":4"));
    ok(&dev, &["create", "configmap", "described", "--from-literal=k=v"]);
    let described = ok(&dev, &["describe", "configmap", "described"]);
    assert!(described.contains("Name:         described") && described.contains("Events:"), "{described}");
    for path in ["/healthz", "/readyz", "/livez"] {
        assert_eq!(ok(&dev, &["get", "--raw", path]), "ok");
    }
    assert!(ok(&dev, &["auth", "whoami"]).contains("Username    ork-dev-admin"));
    let big = t.write("big.yaml", &format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: big}}\ndata: {{k: {}}}\n", "x".repeat(4 * 1024 * 1024)));
    let (code, out) = kubectl(&dev, &["create", "-f", &big.to_string_lossy()]);
    assert_ne!(code, 0);
    assert!(out.contains("Request entity too large: limit is 3145728"), "{out}");
}

/// Issue 13, defect 2: a 518 KB `application/yaml` body of one long string aliased 2,000 times
/// used to drive the dev cluster to 6 GB and store a 1 GB ConfigMap. A YAML body now expands to
/// at most the request limit: refused with a 400, and the server's peak RSS stays small.
#[test]
fn memory_exhaustion_a_yaml_alias_bomb_post_is_refused_in_bounded_memory() {
    let t = TempDir::new("dev-bomb");
    let dev = start(t.path());
    let kubeconfig = std::fs::read_to_string(&dev.kubeconfig).unwrap();
    let token = kubeconfig.lines().find_map(|l| l.trim().strip_prefix("token: ")).unwrap().to_string();
    let server = kubeconfig.lines().find_map(|l| l.trim().strip_prefix("server: ")).unwrap().to_string();
    let ca_b64 = kubeconfig.lines().find_map(|l| l.trim().strip_prefix("certificate-authority-data: ")).unwrap();
    let ca = t.write("ca.pem", &String::from_utf8(katalog::template::base64_decode(ca_b64).unwrap()).unwrap());
    let body = format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: bomb}}\ndata:\n  a: &s {}\n", "x".repeat(512 * 1024));
    let refs: String = (0..2000).map(|i| format!("  r{i}: *s\n")).collect();
    let bomb = t.write("bomb.yaml", &format!("{body}{refs}"));
    assert!(std::fs::metadata(&bomb).unwrap().len() < 600 * 1024);
    let out = Command::new("curl")
        .args(["-s", "--cacert", &ca.to_string_lossy(), "-H", &format!("Authorization: Bearer {token}"), "-H", "Content-Type: application/yaml"])
        .args(["--data-binary", &format!("@{}", bomb.display()), "-w", "\n%{http_code}", &format!("{server}/api/v1/namespaces/default/configmaps")])
        .output()
        .expect("curl is required");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (response, code) = text.rsplit_once('\n').unwrap();
    assert_eq!(code, "400", "{response}");
    assert!(response.contains("the YAML body is refused: document expands to more than 3145728 bytes of text"), "{response}");
    let status = std::fs::read_to_string(format!("/proc/{}/status", dev.child.id())).unwrap();
    let peak_kib: u64 = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.split_whitespace().next()).and_then(|v| v.parse().ok()).unwrap();
    assert!(peak_kib < 100 * 1024, "peak RSS of the dev cluster was {} MiB (limit 100 MiB)", peak_kib / 1024);
    let (code, out) = kubectl(&dev, &["get", "configmap", "bomb"]);
    assert_ne!(code, 0, "nothing stored: {out}");
}
