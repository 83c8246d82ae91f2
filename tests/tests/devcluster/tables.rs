//! Server-side Tables: kubectl 1.32's text output against the dev cluster, command by command,
//! compared with the tables kube-apiserver prints — the built-in kinds' columns (`get deploy`
//! shows READY/UP-TO-DATE/AVAILABLE once the status faker has run), a CRD's
//! `additionalPrinterColumns` with values, the default table (`get crd`), `--chunk-size` pages,
//! `get -w` rows; Events written through events.k8s.io listed by `kubectl get events`; and
//! `kubectl explain` from a CRD's schema.
//!
//! Ages, durations and timestamps change from run to run: each output is read by the column
//! offsets of its header (so empty cells stay in place) and those cells are replaced by `<age>`
//! and `<time>`.

use super::{Dev, kubectl, kubectl_stdin, ok, start};
use ork_tests::TempDir;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Whether `cell` is an age as the API server prints it (`5s`, `2m5s`, `3h`, `10d`).
fn is_age(cell: &str) -> bool {
    let mut digits = false;
    let mut units = 0;
    for c in cell.chars() {
        if c.is_ascii_digit() {
            digits = true;
        } else if "smhdy".contains(c) && digits {
            digits = false;
            units += 1;
        } else {
            return false;
        }
    }
    units > 0 && !digits
}

/// Whether `cell` is an RFC 3339 timestamp (`2026-01-01T00:00:00Z`).
fn is_time(cell: &str) -> bool {
    cell.len() == 20 && cell.as_bytes()[4] == b'-' && cell.as_bytes()[10] == b'T' && cell.ends_with('Z')
}

fn scrub(cell: &str) -> String {
    if is_age(cell) {
        "<age>".into()
    } else if is_time(cell) {
        "<time>".into()
    } else {
        cell.to_string()
    }
}

/// kubectl's table output, one line per row, cells (split at the header's column offsets)
/// joined by ` | `, ages and timestamps scrubbed.
fn normalized(out: &str) -> String {
    let mut lines = out.lines();
    let Some(header) = lines.next() else { return String::new() };
    let mut starts = Vec::new();
    let bytes = header.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b != b' ' && (i == 0 || (i >= 2 && bytes[i - 1] == b' ' && bytes[i - 2] == b' ')) {
            starts.push(i);
        }
    }
    let split = |line: &str| -> String {
        let cells: Vec<String> = starts
            .iter()
            .enumerate()
            .map(|(n, &s)| {
                let end = starts.get(n + 1).copied().unwrap_or(line.len()).min(line.len());
                scrub(line.get(s.min(line.len())..end).unwrap_or_default().trim())
            })
            .collect();
        cells.join(" | ")
    };
    std::iter::once(header).chain(lines).map(|l| split(l) + "\n").collect()
}

/// Runs kubectl and returns its table, normalized.
fn table(dev: &Dev, args: &[&str]) -> String {
    normalized(&ok(dev, args))
}

fn create(dev: &Dev, yaml: &str) {
    let (code, out, err) = kubectl_stdin(dev, &["apply", "-f", "-"], yaml);
    assert_eq!(code, 0, "{out}{err}");
}

const OBJECTS: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: tables}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: tables}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: nginx, image: "nginx:1.27"}, {name: log, image: busybox}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: tables}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}, {name: https, port: 443}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: tables}
data: {a: "1", b: "2"}
---
apiVersion: v1
kind: Secret
metadata: {name: token, namespace: tables}
type: kubernetes.io/basic-auth
stringData: {username: u, password: p}
---
apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: tables}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox}]
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: leader, namespace: tables}
spec: {holderIdentity: replica-a, leaseDurationSeconds: 15}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: websites.demo.ork.dev}
spec:
  group: demo.ork.dev
  scope: Namespaced
  names: {plural: websites, singular: website, kind: Website, shortNames: [ws]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        description: A website the operator serves.
        properties:
          spec:
            type: object
            description: What the website should be.
            properties:
              replicas: {type: integer, description: How many pods serve the site.}
          status: {type: object, x-kubernetes-preserve-unknown-fields: true}
    additionalPrinterColumns:
    - {name: Ready, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].status'}
    - {name: Reason, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].reason'}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas, priority: 1}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
"#;

/// An Event as the runtime records it: through events.k8s.io/v1.
const EVENT: &str = r#"
apiVersion: events.k8s.io/v1
kind: Event
metadata: {name: site-a.1, namespace: tables}
eventTime: "2026-01-01T00:00:00.000000Z"
reportingController: orkestra.orkspace.io/runtime
reportingInstance: ork
action: Reconcile
reason: Reconciled
type: Normal
note: site-a is ready
regarding: {apiVersion: demo.ork.dev/v1, kind: Website, name: site-a, namespace: tables}
"#;

fn wait_for(dev: &Dev, args: &[&str], want: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let got = ok(dev, args);
        if got == want {
            return;
        }
        assert!(Instant::now() < deadline, "kubectl {args:?} never printed {want:?} (last: {got:?})");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn kubectl_get_prints_the_api_server_s_tables() {
    let t = TempDir::new("dev-tables");
    let dev = start(t.path());
    create(&dev, OBJECTS);
    assert!(ok(&dev, &["wait", "--for", "condition=established", "--timeout=10s", "crd/websites.demo.ork.dev"]).contains("condition met"));
    for site in ["site-a", "site-b", "site-c"] {
        create(&dev, &format!("apiVersion: demo.ork.dev/v1\nkind: Website\nmetadata: {{name: {site}, namespace: tables}}\nspec: {{replicas: 2}}\n"));
    }
    let status = r#"{"status":{"conditions":[{"type":"Progressing","status":"True","reason":"Rolling"},{"type":"Ready","status":"True","reason":"Serving"}]}}"#;
    ok(&dev, &["-n", "tables", "patch", "website", "site-a", "--subresource=status", "--type=merge", "-p", status]);
    let uid = ok(&dev, &["-n", "tables", "get", "website", "site-a", "-o", "jsonpath={.metadata.uid}"]);
    create(&dev, &EVENT.replace("name: site-a, namespace: tables}", &format!("name: site-a, namespace: tables, uid: {uid}}}")));
    wait_for(&dev, &["-n", "tables", "get", "deploy", "web", "-o", "jsonpath={.status.readyReplicas}"], "2");
    wait_for(&dev, &["-n", "tables", "get", "job", "once", "-o", "jsonpath={.status.succeeded}"], "1");

    let ns = ["-n", "tables"];
    let get = |what: &[&str]| table(&dev, &[&ns[..], &["get"][..], what].concat());
    assert_eq!(get(&["deploy"]), "NAME | READY | UP-TO-DATE | AVAILABLE | AGE\nweb | 2/2 | 2 | 2 | <age>\n");
    assert_eq!(
        get(&["deploy", "-o", "wide"]),
        "NAME | READY | UP-TO-DATE | AVAILABLE | AGE | CONTAINERS | IMAGES | SELECTOR\nweb | 2/2 | 2 | 2 | <age> | nginx,log | nginx:1.27,busybox | app=web\n"
    );
    assert_eq!(get(&["svc"]), "NAME | TYPE | CLUSTER-IP | EXTERNAL-IP | PORT(S) | AGE\nweb | ClusterIP | 10.96.0.10 | <none> | 80/TCP,443/TCP | <age>\n");
    assert_eq!(get(&["svc", "-o", "wide"]).lines().nth(1), Some("web | ClusterIP | 10.96.0.10 | <none> | 80/TCP,443/TCP | <age> | app=web"));
    assert_eq!(get(&["cm"]), "NAME | DATA | AGE\nsettings | 2 | <age>\n");
    assert_eq!(get(&["secret"]), "NAME | TYPE | DATA | AGE\ntoken | kubernetes.io/basic-auth | 2 | <age>\n");
    assert_eq!(get(&["jobs"]), "NAME | STATUS | COMPLETIONS | DURATION | AGE\nonce | Complete | 1/1 | <age> | <age>\n");
    assert_eq!(get(&["lease"]), "NAME | HOLDER | AGE\nleader | replica-a | <age>\n");
    assert_eq!(
        table(&dev, &["get", "ns"]),
        "NAME | STATUS | AGE\ndefault | Active | <age>\nkube-node-lease | Active | <age>\nkube-public | Active | <age>\nkube-system | Active | <age>\ntables | Active | <age>\n"
    );
    // The Event written through events.k8s.io/v1, listed by core/v1 with its columns.
    assert_eq!(get(&["events"]), "LAST SEEN | TYPE | REASON | OBJECT | MESSAGE\n<age> | Normal | Reconciled | website/site-a | site-a is ready\n");
    assert_eq!(
        get(&["events", "-o", "wide"]),
        "LAST SEEN | TYPE | REASON | OBJECT | SUBOBJECT | SOURCE | MESSAGE | FIRST SEEN | COUNT | NAME\n\
         <age> | Normal | Reconciled | website/site-a |  | orkestra.orkspace.io/runtime, ork | site-a is ready | <age> | 1 | site-a.1\n"
    );
    // A custom resource: its printer columns, with values where the JSONPath finds one.
    let websites = "NAME | READY | REASON | AGE\nsite-a | True | Serving | <age>\nsite-b |  |  | <age>\nsite-c |  |  | <age>\n";
    assert_eq!(get(&["websites"]), websites);
    assert_eq!(get(&["ws", "-o", "wide"]).lines().nth(1), Some("site-a | True | Serving | 2 | <age>"));
    assert_eq!(get(&["website", "site-b"]), "NAME | READY | REASON | AGE\nsite-b |  |  | <age>\n");
    // The default table.
    assert_eq!(table(&dev, &["get", "crd"]), "NAME | CREATED AT\nwebsites.demo.ork.dev | <time>\n");
    // Pages of one: the same table, from three requests that each carry `continue`.
    let (code, paged) = kubectl(&dev, &["-n", "tables", "get", "websites", "--chunk-size=1", "-v=6"]);
    assert_eq!(code, 0, "{paged}");
    let requests: Vec<&str> = paged.lines().filter(|l| l.contains("GET ") && l.contains("/websites?")).collect();
    assert_eq!(requests.len(), 3, "{paged}");
    assert!(requests.iter().all(|r| r.contains("limit=1")) && requests[1..].iter().all(|r| r.contains("continue=")), "{requests:?}");
    let rows: String = paged.lines().filter(|l| !l.starts_with('I')).map(|l| format!("{l}\n")).collect();
    assert_eq!(normalized(&rows), websites);

    // Both views of an Event are one object: a core/v1 write is read through events.k8s.io.
    create(
        &dev,
        "apiVersion: v1\nkind: Event\nmetadata: {name: core.1, namespace: tables}\ninvolvedObject: {kind: ConfigMap, name: settings, namespace: tables}\nreason: Seen\nmessage: from core\ntype: Warning\ncount: 3\nsource: {component: test}\nfirstTimestamp: \"2026-01-01T00:00:00Z\"\nlastTimestamp: \"2026-01-01T00:00:00Z\"\n",
    );
    assert_eq!(
        ok(
            &dev,
            &[
                "-n",
                "tables",
                "get",
                "events.events.k8s.io",
                "core.1",
                "-o",
                "jsonpath={.note} {.regarding.name} {.deprecatedCount} {.deprecatedSource.component}"
            ]
        ),
        "from core settings 3 test"
    );
    assert_eq!(
        ok(&dev, &["-n", "tables", "get", "events", "--field-selector", "involvedObject.name=site-a", "-o", "jsonpath={.items[*].message}"]),
        "site-a is ready"
    );
    // `kubectl describe` finds it by the involved object's fields, uid included.
    let described = ok(&dev, &["-n", "tables", "describe", "website", "site-a"]);
    let events = described.split("Events:").nth(1).unwrap_or_default();
    assert!(events.contains("Reconciled") && events.contains("site-a is ready"), "{described}");
    assert_eq!(
        get(&["events.events.k8s.io"]),
        "LAST SEEN | TYPE | REASON | OBJECT | MESSAGE\n<age> | Warning | Seen | configmap/settings | from core\n<age> | Normal | Reconciled | website/site-a | site-a is ready\n"
    );

    // kubectl explain: a CRD's schema; a built-in kind says why it has none.
    let explained = ok(&dev, &["explain", "websites.spec"]);
    assert!(
        explained.contains("What the website should be.") && explained.contains("replicas\t<integer>") && explained.contains("How many pods serve the site."),
        "{explained}"
    );
    let explained = ok(&dev, &["explain", "deployments"]);
    assert!(explained.contains("serves no OpenAPI schema for the built-in kind") && explained.contains("Deployment"), "{explained}");
}

#[test]
fn kubectl_get_watch_prints_rows_with_the_table_s_columns() {
    let t = TempDir::new("dev-tables-watch");
    let dev = start(t.path());
    create(&dev, OBJECTS);
    wait_for(&dev, &["-n", "tables", "get", "deploy", "web", "-o", "jsonpath={.status.readyReplicas}"], "2");
    let mut watcher = Command::new("kubectl")
        .args(["-n", "tables", "get", "deploy", "-w"])
        .env("KUBECONFIG", &dev.kubeconfig)
        .env("KUBECACHEDIR", dev.kubeconfig.with_file_name("kube-cache"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let out = watcher.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let next = || rx.recv_timeout(Duration::from_secs(15)).expect("a row from kubectl get -w");
    let mut seen = vec![next(), next()];
    ok(&dev, &["-n", "tables", "scale", "deploy", "web", "--replicas=3"]);
    while !seen.last().is_some_and(|l| l.contains("3/3")) {
        seen.push(next());
    }
    let _ = watcher.kill();
    let _ = watcher.wait();
    // Rows after the first are printed as they arrive: split at whitespace, not by the header.
    let rows: Vec<String> = seen.iter().map(|l| l.split_whitespace().map(scrub).collect::<Vec<_>>().join(" | ")).collect();
    assert_eq!(rows[..3], ["NAME | READY | UP-TO-DATE | AVAILABLE | AGE", "web | 2/2 | 2 | 2 | <age>", "web | 2/3 | 2 | 2 | <age>"], "{seen:?}");
    assert_eq!(rows.last().map(String::as_str), Some("web | 3/3 | 3 | 3 | <age>"), "{seen:?}");
}

#[test]
fn the_normalizer_keeps_empty_cells_and_scrubs_ages() {
    let out = "NAME     READY   AGE\nsite-a   True    5m2s\nsite-b           10d\n";
    assert_eq!(normalized(out), "NAME | READY | AGE\nsite-a | True | <age>\nsite-b |  | <age>\n");
    assert!(is_age("0s") && is_age("2m5s") && is_age("3y20d") && !is_age("2/2") && !is_age("s") && !is_age("5"));
    assert!(is_time("2026-01-01T00:00:00Z") && !is_time("Active"));
}
