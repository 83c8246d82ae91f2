//! kubectl's imperative commands against the dev cluster: `create deployment|service|job|cronjob|
//! role|rolebinding|ingress|poddisruptionbudget|priorityclass`, `run`, `expose`, `scale`, `set`,
//! `label`, `annotate` and `rollout`. kubectl sends the objects of these commands as protobuf
//! (`application/vnd.kubernetes.protobuf`); each test asserts kubectl's output and the stored
//! object, whose fields are what the API server stores for the same command (Go's JSON of the
//! decoded object: zero `omitempty` fields left out, an explicit `replicas: 0` kept,
//! `template.metadata.creationTimestamp: null`).
use super::{Dev, kubectl, ok, start};
use ork_tests::TempDir;
use serde_json::{Value, json};

/// The stored object, as `kubectl get -o json` returns it.
fn get(dev: &Dev, args: &[&str]) -> Value {
    let out = ok(dev, &[args, &["-o", "json"]].concat());
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("kubectl get {args:?} did not print JSON ({e}):\n{out}"))
}

/// Every string value `""` in a stored object, by path: Go's JSON leaves out the empty strings of
/// `omitempty` fields, which protobuf carries all the same.
fn empty_strings(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.is_empty() => out.push(path.to_string()),
        Value::Object(m) => m.iter().for_each(|(k, v)| empty_strings(v, &format!("{path}.{k}"), out)),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| empty_strings(v, &format!("{path}[{i}]"), out)),
        _ => {}
    }
}

fn no_empty_strings(v: &Value) {
    let mut found = Vec::new();
    empty_strings(v, "", &mut found);
    assert!(found.is_empty(), "empty strings stored at {found:?}: {v:#}");
}

#[test]
fn create_deployment_then_scale_set_label_annotate_and_roll_it_out() {
    let t = TempDir::new("dev-imperative-deploy");
    let dev = start(t.path());
    assert_eq!(ok(&dev, &["create", "deployment", "web", "--image=nginx", "--replicas=2", "--port=80"]), "deployment.apps/web created\n");
    let d = get(&dev, &["get", "deployment", "web"]);
    assert_eq!(d["metadata"]["labels"], json!({"app": "web"}));
    assert_eq!(d["spec"]["replicas"], json!(2));
    assert_eq!(d["spec"]["selector"], json!({"matchLabels": {"app": "web"}}));
    assert_eq!(
        d["spec"]["template"],
        json!({"metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
               "spec": {"containers": [{"name": "nginx", "image": "nginx", "ports": [{"containerPort": 80}], "resources": {}}]}})
    );
    // Zero omitempty scalars (minReadySeconds, paused, generateName, ...) are not stored.
    assert!(d["spec"].get("minReadySeconds").is_none() && d["spec"].get("paused").is_none(), "{d:#}");
    no_empty_strings(&d);

    // An explicit zero survives: `replicas` is a pointer in Go.
    ok(&dev, &["create", "deployment", "zero", "--image=nginx", "--replicas=0"]);
    assert_eq!(ok(&dev, &["get", "deployment", "zero", "-o", "jsonpath={.spec.replicas}"]), "0");

    // The status faker completes the rollout.
    let status = ok(&dev, &["rollout", "status", "deployment/web", "--timeout=30s"]);
    assert!(status.ends_with("deployment \"web\" successfully rolled out\n"), "{status}");

    assert_eq!(ok(&dev, &["scale", "deployment", "web", "--replicas=3"]), "deployment.apps/web scaled\n");
    assert_eq!(ok(&dev, &["get", "deployment", "web", "-o", "jsonpath={.spec.replicas}"]), "3");
    assert_eq!(ok(&dev, &["set", "image", "deployment/web", "nginx=nginx:1.27"]), "deployment.apps/web image updated\n");
    assert_eq!(ok(&dev, &["get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"]), "nginx:1.27");
    assert_eq!(ok(&dev, &["set", "env", "deployment/web", "GREETING=hi"]), "deployment.apps/web env updated\n");
    assert_eq!(get(&dev, &["get", "deployment", "web"])["spec"]["template"]["spec"]["containers"][0]["env"], json!([{"name": "GREETING", "value": "hi"}]));
    assert_eq!(ok(&dev, &["label", "deployment", "web", "tier=front"]), "deployment.apps/web labeled\n");
    assert_eq!(ok(&dev, &["annotate", "deployment", "web", "owner=team-a"]), "deployment.apps/web annotated\n");
    let meta = get(&dev, &["get", "deployment", "web"])["metadata"].clone();
    assert_eq!(meta["labels"], json!({"app": "web", "tier": "front"}));
    assert_eq!(meta["annotations"]["owner"], json!("team-a"));

    assert_eq!(ok(&dev, &["rollout", "restart", "deployment/web"]), "deployment.apps/web restarted\n");
    let restarted = get(&dev, &["get", "deployment", "web"]);
    assert!(restarted["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"].is_string(), "{restarted:#}");
    let status = ok(&dev, &["rollout", "status", "deployment/web", "--timeout=30s"]);
    assert!(status.ends_with("deployment \"web\" successfully rolled out\n"), "{status}");
    let d = get(&dev, &["get", "deployment", "web"]);
    assert_eq!(d["status"]["observedGeneration"], d["metadata"]["generation"], "{d:#}");
    assert_eq!(d["status"]["updatedReplicas"], json!(3));

    // The dev cluster keeps no ReplicaSets, so there is no revision to show or go back to
    // (docs/devcluster.md, deviations): kubectl says so.
    assert_eq!(ok(&dev, &["rollout", "history", "deployment/web"]), "deployment.apps/web \nNo rollout history found.\n");
    let (code, out) = kubectl(&dev, &["rollout", "undo", "deployment/web"]);
    assert_ne!(code, 0);
    assert_eq!(out, "error: no rollout history found for deployment \"web\"\n");

    // `expose` reads the Deployment's selector and ports and creates a Service.
    assert_eq!(ok(&dev, &["expose", "deployment", "web", "--port=80"]), "service/web exposed\n");
    let svc = get(&dev, &["get", "service", "web"]);
    assert_eq!(svc["spec"]["ports"], json!([{"port": 80, "protocol": "TCP", "targetPort": 80}]));
    assert_eq!(svc["spec"]["selector"], json!({"app": "web"}));
    assert!(svc["spec"]["clusterIP"].is_string(), "{svc:#}");

    // `kubectl get all` reads the category `all` from discovery. (A real cluster also lists
    // `service/kubernetes`, which the dev cluster does not create.)
    assert_eq!(ok(&dev, &["get", "all", "-o", "name"]), "service/web\ndeployment.apps/web\ndeployment.apps/zero\n");
}

#[test]
fn create_services_jobs_cronjobs_and_run_a_pod() {
    let t = TempDir::new("dev-imperative-workloads");
    let dev = start(t.path());
    assert_eq!(ok(&dev, &["create", "service", "clusterip", "web", "--tcp=80:8080"]), "service/web created\n");
    let svc = get(&dev, &["get", "service", "web"]);
    assert_eq!(svc["spec"]["type"], json!("ClusterIP"));
    assert_eq!(svc["spec"]["ports"], json!([{"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080}]));
    assert_eq!(svc["spec"]["selector"], json!({"app": "web"}));
    no_empty_strings(&svc);
    assert_eq!(ok(&dev, &["create", "service", "nodeport", "np", "--tcp=80:8080"]), "service/np created\n");
    let np = get(&dev, &["get", "service", "np"]);
    assert_eq!(np["spec"]["type"], json!("NodePort"));
    assert_eq!(np["spec"]["ports"][0]["targetPort"], json!(8080));

    assert_eq!(ok(&dev, &["create", "job", "once", "--image=busybox", "--", "echo", "hi"]), "job.batch/once created\n");
    let job = get(&dev, &["get", "job", "once"]);
    assert_eq!(
        job["spec"]["template"],
        json!({"metadata": {"creationTimestamp": null},
               "spec": {"containers": [{"name": "once", "image": "busybox", "command": ["echo", "hi"], "resources": {}}], "restartPolicy": "Never"}})
    );
    assert!(ok(&dev, &["wait", "--for=condition=complete", "--timeout=30s", "job/once"]).contains("job.batch/once condition met"));

    assert_eq!(ok(&dev, &["create", "cronjob", "tick", "--image=busybox", "--schedule=*/5 * * * *", "--", "date"]), "cronjob.batch/tick created\n");
    let cj = get(&dev, &["get", "cronjob", "tick"]);
    assert_eq!(cj["spec"]["schedule"], json!("*/5 * * * *"));
    assert_eq!(cj["spec"]["jobTemplate"]["metadata"], json!({"name": "tick", "creationTimestamp": null}));
    assert_eq!(
        cj["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        json!({"containers": [{"name": "tick", "image": "busybox", "command": ["date"], "resources": {}}], "restartPolicy": "OnFailure"})
    );

    assert_eq!(ok(&dev, &["run", "pod", "--image=nginx"]), "pod/pod created\n");
    let pod = get(&dev, &["get", "pod", "pod"]);
    assert_eq!(pod["metadata"]["labels"], json!({"run": "pod"}));
    assert_eq!(pod["spec"]["containers"], json!([{"name": "pod", "image": "nginx", "resources": {}}]));
    assert_eq!(pod["spec"]["restartPolicy"], json!("Always"));
    assert_eq!(pod["spec"]["dnsPolicy"], json!("ClusterFirst"));
    no_empty_strings(&pod);
}

#[test]
fn create_rbac_ingress_pdb_and_priorityclass() {
    let t = TempDir::new("dev-imperative-policy");
    let dev = start(t.path());
    assert_eq!(ok(&dev, &["create", "role", "pod-reader", "--verb=get", "--resource=pods"]), "role.rbac.authorization.k8s.io/pod-reader created\n");
    // The core group is the empty string: an element of a list, kept.
    assert_eq!(get(&dev, &["get", "role", "pod-reader"])["rules"], json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]));
    assert_eq!(
        ok(&dev, &["create", "rolebinding", "read-pods", "--role=pod-reader", "--user=alice", "--serviceaccount=default:robot"]),
        "rolebinding.rbac.authorization.k8s.io/read-pods created\n"
    );
    let rb = get(&dev, &["get", "rolebinding", "read-pods"]);
    assert_eq!(rb["roleRef"], json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"}));
    assert_eq!(
        rb["subjects"],
        json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}, {"kind": "ServiceAccount", "name": "robot", "namespace": "default"}])
    );

    assert_eq!(ok(&dev, &["create", "ingress", "web", "--rule=example.com/=web:80"]), "ingress.networking.k8s.io/web created\n");
    assert_eq!(
        get(&dev, &["get", "ingress", "web"])["spec"],
        json!({"rules": [{"host": "example.com", "http": {"paths": [{"path": "/", "pathType": "Exact", "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]})
    );

    // minAvailable is an IntOrString: the number stays a number, a percentage a string.
    assert_eq!(ok(&dev, &["create", "poddisruptionbudget", "web", "--selector=app=web", "--min-available=1"]), "poddisruptionbudget.policy/web created\n");
    assert_eq!(get(&dev, &["get", "pdb", "web"])["spec"], json!({"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}));
    ok(&dev, &["create", "poddisruptionbudget", "half", "--selector=app=web", "--max-unavailable=50%"]);
    assert_eq!(ok(&dev, &["get", "pdb", "half", "-o", "jsonpath={.spec.maxUnavailable}"]), "50%");

    assert_eq!(ok(&dev, &["create", "priorityclass", "high", "--value=1000", "--description=urgent"]), "priorityclass.scheduling.k8s.io/high created\n");
    let pc = get(&dev, &["get", "priorityclass", "high"]);
    assert_eq!((&pc["value"], &pc["description"], &pc["preemptionPolicy"]), (&json!(1000), &json!("urgent"), &json!("PreemptLowerPriority")));
    // globalDefault=false is Go's zero of an omitempty bool: not stored.
    assert!(pc.get("globalDefault").is_none(), "{pc:#}");

    // ServiceAccount tokens are not issued (docs/devcluster.md, deviations).
    ok(&dev, &["create", "serviceaccount", "robot"]);
    let (code, out) = kubectl(&dev, &["create", "token", "robot"]);
    assert_ne!(code, 0);
    assert!(out.contains("serviceaccounts/robot/token"), "{out}");
}
