//! Regression test for the defect "secrets in logs and status": a deny rule on `spec.password`
//! logged `denied: … (got "hunter2-…")` and wrote the value into the `ValidationFailed`
//! condition. One pattern plants random values in sensitive fields (a password and an API token
//! by their names, an unlock code by `format: password` in the CRD schema), rules that report
//! and interpolate them, a child Secret and a ConfigMap built from them, a status field that
//! echoes one and a child that fails to render because of one. Every real command that can
//! show them then runs — `ork validate`, `ork template` (with `--status`), `ork simulate` (text
//! and JSON), `ork run --dev` (JSON logs at debug, the CR status, the Events, `/katalog`) and
//! `ork e2e` (text, JSON, JUnit) — and each must report the violation while no planted value,
//! nor its base64 form, appears anywhere. `ork template --show-secrets` is the positive control.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ork_tests::{Run, TempDir, ork};
use serde_json::Value;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `n` random bytes from the operating system, as lowercase hex.
fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)).expect("/dev/urandom is readable");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `n` random decimal digits.
fn random_digits(n: usize) -> String {
    random_hex(n).bytes().map(|b| char::from(b'0' + b % 10)).collect()
}

/// Standard base64 with padding (what a Secret's `data` holds), written out here so the test
/// does not trust the encoder it checks.
fn base64(s: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in s.as_bytes().chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The planted values of the three CRs.
struct Planted {
    /// (CR name, password, apiToken, unlockCode).
    crs: Vec<(&'static str, String, String, String)>,
}

impl Planted {
    fn new() -> Planted {
        // `bad` breaks the password and unlock-code rules; `good` passes them (its token only
        // draws a warning); `broken` passes them but its mode makes a child fail to render.
        let bad = ("bad", format!("hunter2-{}", random_hex(8)), format!("tok{}", random_hex(10)), format!("ul-{}", random_hex(6)));
        let good = ("good", random_hex(16), format!("tok{}", random_hex(10)), random_digits(12));
        let broken = ("broken", random_hex(16), format!("tok{}", random_hex(10)), random_digits(12));
        Planted { crs: vec![good, bad, broken] }
    }

    /// Every planted value, and each one's base64 form.
    fn needles(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (_, p, t, u) in &self.crs {
            for v in [p, t, u] {
                out.push(v.clone());
                out.push(base64(v));
            }
        }
        out
    }

    fn cr(&self, name: &str) -> String {
        let (n, p, t, u) = self.crs.iter().find(|c| c.0 == name).expect("a planted CR");
        let mode = if *n == "broken" { "broken" } else { "normal" };
        format!(
            "apiVersion: sec.ork.dev/v1\nkind: Widget\nmetadata:\n  name: {n}\n  namespace: default\nspec:\n  mode: {mode}\n  password: \"{p}\"\n  apiToken: \"{t}\"\n  unlockCode: \"{u}\"\n"
        )
    }

    fn password(&self, name: &str) -> &str {
        &self.crs.iter().find(|c| c.0 == name).expect("a planted CR").1
    }
}

const KATALOG: &str = r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: vault, version: 0.1.0, description: Widgets that carry credentials.}
spec:
  crds:
    widget:
      crdFile: ./crd.yaml
      apiTypes: {group: sec.ork.dev, version: v1, kind: Widget, plural: widgets}
      crFiles: [cr.yaml]
      admission:
        validation:
          rules:
            - {field: spec.password, regex: '^[A-Za-z0-9]{24,}$', message: "the password must be 24 or more letters or digits"}
            - {field: spec.password, notContains: hunter2, message: "password {{ .spec.password }} is on the leaked list"}
            - {field: spec.unlockCode, regex: '^[0-9]{8,}$', message: "the unlock code must be 8 or more digits"}
            - {field: spec.apiToken, prefix: zz-, action: warn, message: "token {{ .spec.apiToken }} should start with zz-"}
      operatorBox:
        reconcile:
          onReconcile:
            secrets:
              - name: "{{ .metadata.name }}-creds"
                data: {password: "{{ .spec.password }}", token: "{{ .spec.apiToken }}", code: "{{ .spec.unlockCode }}"}
            configMaps:
              - name: "{{ .metadata.name }}-note"
                data: {hint: "starts with {{ .spec.password }}"}
            deployments:
              - name: "{{ .metadata.name }}-web"
                when: [{field: spec.mode, equals: broken}]
                image: nginxinc/nginx-unprivileged:1.27
                replicas: "{{ .spec.password }}"
        emit:
          status:
            fields:
              - {path: echo, value: "pw={{ .spec.password }}"}
"#;

const CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.sec.ork.dev
spec:
  group: sec.ork.dev
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
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
              properties:
                mode: {type: string}
                password: {type: string}
                apiToken: {type: string}
                unlockCode: {type: string, format: password}
            status:
              type: object
              x-kubernetes-preserve-unknown-fields: true
"#;

const E2E: &str = r#"apiVersion: orkestra.orkspace.io/v1
kind: E2E
metadata: {name: vault-e2e}
spec:
  katalog: ./katalog.yaml
  crd: ./crd.yaml
  cr: ./cr.yaml
  expect:
    - name: the good widget gets its credentials
      after: cr-applied
      timeout: 60s
      resources: [{kind: Secret, name: good-creds}]
      kubectl:
        get:
          - {kind: Widget, name: good, field: '{.status.conditions[?(@.type=="Ready")].status}', equals: "True"}
    - name: the bad widget is refused without its values
      after: cr-applied
      timeout: 60s
      kubectl:
        get:
          - {kind: Widget, name: bad, field: '{.status.conditions[?(@.type=="ValidationFailed")].status}', equals: "True"}
          - {kind: Widget, name: bad, field: '{.status.conditions[?(@.type=="ValidationFailed")].message}', outputContains: "(value redacted: sensitive field)"}
    - name: the broken widget fails to render
      after: cr-applied
      timeout: 60s
      kubectl:
        get:
          - {kind: Widget, name: broken, field: '{.status.conditions[?(@.type=="Ready")].reason}', equals: ReconcileError}
    - name: the bad widget is Ready
      after: cr-applied
      timeout: 2s
      resources: [{kind: Widget, name: bad, ready: true}]
      onFailure:
        commands: ["kubectl get secret good-creds -o jsonpath='{.data.password}' | base64 -d"]
        kubectl:
          get: [{kind: Widget, name: bad}, {kind: Secret, name: good-creds}]
    - name: the good password is nope
      after: cr-applied
      timeout: 2s
      kubectl:
        get: [{kind: Secret, name: good-creds, field: .data.password, equals: nope}]
    - name: the broken widget is Ready
      after: cr-applied
      timeout: 2s
      resources: [{kind: Widget, name: broken, ready: true}]
"#;

fn simulate_doc(name: &str, cr: &str) -> String {
    format!(
        "apiVersion: orkestra.orkspace.io/v1\nkind: Simulate\nmetadata: {{name: {name}}}\nspec:\n  katalog: ../katalog.yaml\n  cr: ../{cr}\n  cycles: 3\n  expect: {{noErrors: true}}\n"
    )
}

/// Writes the pattern: katalog.yaml, crd.yaml, cr.yaml (all three CRs), one file per CR,
/// checked.yaml (good and bad), sim/*.simulate.yaml (one per CR), e2e.yaml.
fn pattern(dir: &TempDir, planted: &Planted) {
    dir.write("katalog.yaml", KATALOG);
    dir.write("crd.yaml", CRD);
    let all: Vec<String> = ["good", "bad", "broken"].iter().map(|n| planted.cr(n)).collect();
    dir.write("cr.yaml", &all.join("---\n"));
    dir.write("checked.yaml", &format!("{}---\n{}", planted.cr("good"), planted.cr("bad")));
    for n in ["good", "bad", "broken"] {
        dir.write(&format!("{n}.yaml"), &planted.cr(n));
        dir.write(&format!("sim/{n}.simulate.yaml"), &simulate_doc(&format!("{n}-sim"), &format!("{n}.yaml")));
    }
    dir.write("e2e.yaml", E2E);
}

/// Checks everything a command showed as soon as it is collected (before what the command
/// reported is checked), failing the test with the surface where a planted value (or its
/// base64 form) appears.
struct Surfaces {
    needles: Vec<String>,
    seen: Vec<String>,
}

impl Surfaces {
    fn add(&mut self, what: impl Into<String>, text: impl Into<String>) {
        let (what, text) = (what.into(), text.into());
        let leaks: Vec<&String> = self.needles.iter().filter(|n| text.contains(n.as_str())).collect();
        assert!(leaks.is_empty(), "planted secrets leaked: {what} shows {leaks:?}:\n{text}");
        self.seen.push(what);
    }

    fn run(&mut self, what: &str, r: &Run) {
        self.add(format!("{what}: stdout"), r.stdout.clone());
        self.add(format!("{what}: stderr"), r.stderr.clone());
    }

    /// Every surface was looked at: validate 4×2, template 2×2, simulate 2×2, run 3 statuses +
    /// Events + /katalog + log, e2e 2 + report + JSON 2.
    fn assert_complete(&self) {
        assert_eq!(self.seen.len(), 27, "every surface is collected: {:?}", self.seen);
    }
}

fn show(r: &Run) -> String {
    format!("exit {}\n--- stdout\n{}\n--- stderr\n{}", r.code, r.stdout, r.stderr)
}

fn kubectl(kubeconfig: &Path, args: &[&str]) -> (bool, String) {
    let (code, out) = ork_tests::kubectl(kubeconfig, args);
    (code == 0, out)
}

fn condition(kubeconfig: &Path, name: &str, kind: &str, field: &str) -> String {
    let path = format!("jsonpath={{.status.conditions[?(@.type==\"{kind}\")].{field}}}");
    kubectl(kubeconfig, &["get", "widget", name, "-n", "default", "-o", &path]).1.trim().to_string()
}

/// `GET path` on 127.0.0.1:port, the body.
fn http_get(port: u16, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("the runtime's HTTP server answers");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or(out)
}

/// Kills the process it holds (by its PID) when dropped, also when the test fails.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `ork run --dev` with JSON logs at debug level: waits until the three CRs show their outcome,
/// collects status, Events and `/katalog`, then stops it with SIGTERM.
fn run_dev(dir: &TempDir, surfaces: &mut Surfaces) {
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let log = dir.path().join("run.log");
    let kubeconfig = dir.path().join("run.kubeconfig");
    let child = Command::new(ork_tests::ork_bin())
        .args(["run", "--dev", "--port", "0", "--log-format", "json", "--kubeconfig", &kubeconfig.to_string_lossy()])
        .current_dir(dir.path())
        .env("HOME", &home)
        .env("LOG_LEVEL", "debug")
        .env_remove("KUBECONFIG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut child = Child(child);
    let logs = || std::fs::read_to_string(&log).unwrap_or_default();
    let start = Instant::now();
    loop {
        if kubeconfig.exists()
            && condition(&kubeconfig, "good", "Ready", "status") == "True"
            && condition(&kubeconfig, "bad", "ValidationFailed", "status") == "True"
            && condition(&kubeconfig, "broken", "Ready", "reason") == "ReconcileError"
            && logs().contains("reconcile failed")
        {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "the CRs never reached their outcomes:\n{}", logs());
        std::thread::sleep(Duration::from_millis(200));
    }
    let (ok, widgets) = kubectl(&kubeconfig, &["get", "widgets", "-n", "default", "-o", "json"]);
    assert!(ok, "{widgets}");
    let widgets: Value = serde_json::from_str(&widgets).unwrap();
    for w in widgets["items"].as_array().unwrap() {
        surfaces.add(format!("ork run: status of {}", w["metadata"]["name"]), w["status"].to_string());
    }
    let (ok, events) = kubectl(&kubeconfig, &["get", "events.events.k8s.io", "-A", "-o", "json"]);
    assert!(ok, "{events}");
    let events: Value = serde_json::from_str(&events).unwrap();
    surfaces.add("ork run: Events", events.to_string());
    // The runtime did see and report each problem.
    let denied = condition(&kubeconfig, "bad", "ValidationFailed", "message");
    assert!(denied.contains("field \"spec.password\"") && denied.contains("(value redacted: sensitive field)"), "{denied}");
    assert!(denied.contains("field \"spec.unlockCode\""), "the schema's format: password field is reported: {denied}");
    let failed = condition(&kubeconfig, "broken", "Ready", "message");
    assert!(failed.contains("replicas") && failed.contains("not an integer"), "{failed}");
    let notes: Vec<String> = events["items"].as_array().unwrap().iter().map(|e| e["note"].as_str().unwrap_or_default().to_string()).collect();
    assert!(notes.iter().any(|n| n.contains("validation failed") && n.contains("value redacted")), "a Warning Event reports the denial: {notes:?}");
    assert!(notes.iter().any(|n| n.contains("not an integer")), "a Warning Event reports the render error: {notes:?}");
    // `/katalog`: the port is in the log line announcing the HTTP server.
    let text = logs();
    let port: u16 = text
        .split("HTTP on http://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP address in the log:\n{text}"));
    let summary = http_get(port, "/katalog");
    surfaces.add("ork run: /katalog", summary.clone());
    assert!(summary.contains("lastError") && summary.contains("not an integer"), "/katalog reports the render error: {summary}");

    assert!(Command::new("kill").args(["-TERM", &child.0.id().to_string()]).status().unwrap().success());
    let start = Instant::now();
    let code = loop {
        if let Some(s) = child.0.try_wait().unwrap() {
            break s.code();
        }
        assert!(start.elapsed() < Duration::from_secs(20), "ork run did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code, Some(0), "{}", logs());
    let text = logs();
    surfaces.add("ork run: JSON log", text.clone());
    assert!(text.lines().all(|l| serde_json::from_str::<Value>(l).is_ok()), "--log-format json writes JSON lines only:\n{text}");
    assert!(text.contains("denied: validation failed") && text.contains("(value redacted: sensitive field)"), "the denial is logged:\n{text}");
    assert!(text.contains("reconcile failed") && text.contains("not an integer"), "the render error is logged:\n{text}");
}

#[test]
fn planted_secret_value_appears_in_no_output_log_or_status() {
    let dir = TempDir::new("secrets");
    let planted = Planted::new();
    pattern(&dir, &planted);
    let mut surfaces = Surfaces { needles: planted.needles(), seen: Vec::new() };
    let at = |args: &[&str]| ork(dir.path(), args);

    // ork validate: the pattern is valid; nothing in it is echoed.
    for args in [
        vec!["validate", "-f", "katalog.yaml"],
        vec!["validate", "-f", "katalog.yaml", "--full", "--output", "json"],
        vec!["validate", "-f", "e2e.yaml"],
        vec!["validate", "-f", "sim/bad.simulate.yaml"],
    ] {
        let r = at(&args);
        surfaces.run(&args.join(" "), &r);
        assert_eq!(r.code, 0, "{args:?}: {}", show(&r));
    }

    // ork template: the violations of `bad` are reported by field, without values; `good`'s
    // Secret and ConfigMap are printed with their values redacted.
    let r = at(&["template", "--cr", "checked.yaml", "--status", "--now", "2026-01-01T00:00:00Z"]);
    surfaces.run("ork template --status", &r);
    assert_eq!(r.code, 1, "a deny violation exits 1: {}", show(&r));
    for needle in [
        "error: Widget default/bad: deny rule on spec.password: the password must be 24 or more letters or digits (value redacted: sensitive field)",
        "error: Widget default/bad: deny rule on spec.unlockCode: the unlock code must be 8 or more digits (value redacted: sensitive field)",
        "warning: Widget default/good: warn rule on spec.apiToken: token [redacted] should start with zz- (value redacted: sensitive field)",
    ] {
        assert!(r.stderr.contains(needle), "{needle:?} missing: {}", show(&r));
    }
    assert!(r.stdout.contains("kind: Secret") && r.stdout.contains("password: \"<redacted: 32 bytes>\""), "{}", show(&r));
    assert!(r.stdout.contains("# Status of Widget default/bad") && r.stdout.contains("DenyRuleViolation"), "{}", show(&r));
    let r = at(&["template", "--cr", "broken.yaml"]);
    surfaces.run("ork template (render error)", &r);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stderr.contains("`replicas` rendered to \"[redacted]\", which is not an integer"), "{}", show(&r));

    // ork simulate, text and JSON: `bad` and `broken` fail noErrors with their reasons.
    let r = at(&["simulate", "sim/..."]);
    surfaces.run("ork simulate", &r);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stdout.contains("3 file(s): 1 passed, 2 failed"), "{}", show(&r));
    assert!(r.stdout.contains("validation failed: field \"spec.password\"") && r.stdout.contains("(value redacted: sensitive field)"), "{}", show(&r));
    assert!(r.stdout.contains("which is not an integer"), "{}", show(&r));
    let r = at(&["simulate", "sim/...", "--output", "json"]);
    surfaces.run("ork simulate --output json", &r);
    assert_eq!(r.code, 1, "{}", show(&r));
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", show(&r)));
    let errors: Vec<String> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["runs"].as_array().cloned().unwrap_or_default())
        .flat_map(|run| run["cycles"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c["error"].as_str().map(str::to_string))
        .collect();
    assert!(errors.iter().any(|e| e.contains("validation failed") && e.contains("value redacted")), "{errors:?}");

    // ork run --dev: status, Events, /katalog and the JSON log.
    run_dev(&dir, &mut surfaces);

    // ork e2e: three expectations hold (the runtime refuses `bad` and says so), three fail on
    // purpose, and their failure output (assertions, onFailure, runtime diagnosis) is scrubbed.
    let report = dir.path().join("junit.xml");
    let r = at(&["e2e", "-f", "e2e.yaml", "--report", &report.to_string_lossy()]);
    surfaces.run("ork e2e", &r);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stdout.contains("3 passed, 3 failed (6 expectation(s)"), "{}", show(&r));
    assert!(r.stdout.contains("✓ the bad widget is refused without its values"), "{}", show(&r));
    assert!(r.stdout.contains("Widget/bad in namespace default is not ready: Ready is False (ReconcileError: validation failed"), "{}", show(&r));
    assert!(r.stdout.contains("expected output equal to \"nope\": got \"[redacted]\""), "{}", show(&r));
    assert!(r.stdout.contains("onFailure $ kubectl get secret good-creds"), "onFailure ran: {}", show(&r));
    let xml = std::fs::read_to_string(&report).unwrap();
    surfaces.add("ork e2e: JUnit report", xml.clone());
    assert!(xml.contains("failures=\"3\"") && xml.contains("value redacted"), "{xml}");
    let r = at(&["e2e", "-f", "e2e.yaml", "--output", "json"]);
    surfaces.run("ork e2e --output json", &r);
    assert_eq!(r.code, 1, "{}", show(&r));
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", show(&r)));
    assert_eq!(v["documents"][0]["cases"].as_array().map(Vec::len), Some(6), "{}", show(&r));

    surfaces.assert_complete();

    // Positive control: the values are there to be shown when asked for.
    let r = at(&["template", "--cr", "good.yaml", "--show-secrets"]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(r.stdout.contains(&format!("password: {}", base64(planted.password("good")))), "{}", show(&r));
    assert!(r.stdout.contains(&format!("hint: starts with {}", planted.password("good"))), "{}", show(&r));
}
