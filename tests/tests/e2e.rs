//! `ork e2e` through the real binary and the real kubectl, on fresh embedded dev clusters that
//! enforce RBAC: every demo passes and says so in a JUnit report; a broken expectation fails
//! with its reason; a bundle missing one rule fails with the API server's 403 named; an invalid
//! document is refused with its position.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ork_tests::{Run, TempDir, ork, root};
use std::path::Path;
use std::process::Command;

/// One testsuite of a JUnit report: (name, tests, failures, errors, [(case name, failure
/// message and text, or "")]).
type Suite = (String, usize, usize, usize, Vec<(String, String)>);

/// Reads a JUnit report with Python's XML parser (an independent reader).
fn junit(path: &Path) -> Vec<Suite> {
    let script = r#"
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
out = []
for s in root.findall("testsuite"):
    cases = []
    for c in s.findall("testcase"):
        f = c.find("failure")
        cases.append([c.get("name"), "" if f is None else f.get("message") + "\n" + (f.text or "")])
    out.append([s.get("name"), int(s.get("tests")), int(s.get("failures")), int(s.get("errors")), cases])
print(json.dumps(out))
"#;
    let out = Command::new("python3").args(["-c", script]).arg(path).output().expect("python3 is required to read the JUnit report");
    assert!(out.status.success(), "not a valid JUnit report: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// An E2E document for the hello-website demo (its files by absolute path) with `expect`.
fn hello_e2e(dir: &TempDir, expect: &str) -> std::path::PathBuf {
    let demo = root().join("demos/beginner/hello-website");
    let p = |f: &str| demo.join(f).to_string_lossy().into_owned();
    dir.write(
        "e2e.yaml",
        &format!(
            "apiVersion: orkestra.orkspace.io/v1\nkind: E2E\nmetadata: {{name: hello-check}}\nspec:\n  katalog: {}\n  crd: {}\n  cr: {}\n  expect:\n{expect}",
            p("katalog.yaml"),
            p("crd.yaml"),
            p("cr.yaml")
        ),
    )
}

fn show(r: &Run) -> String {
    format!("exit {}\n--- stdout\n{}\n--- stderr\n{}", r.code, r.stdout, r.stderr)
}

#[test]
fn every_demo_passes_and_the_junit_report_says_so() {
    let dir = TempDir::new("e2e-demos");
    let report = dir.path().join("junit.xml");
    let r = ork(&root(), &["e2e", "demos/...", "--report", &report.to_string_lossy()]);
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(r.stdout.contains("11 document(s): 11 passed, 0 failed"), "{}", show(&r));
    // One testsuite per demo, one testcase per expectation (as `ork validate` counts them).
    let mut expected = std::collections::BTreeMap::new();
    for f in std::fs::read_dir(root().join("demos"))
        .unwrap()
        .filter_map(Result::ok)
        .flat_map(|p| std::fs::read_dir(p.path()).into_iter().flatten())
        .filter_map(Result::ok)
    {
        let e2e = f.path().join("e2e.yaml");
        if e2e.is_file() {
            let v = ork(&root(), &["validate", "-f", &e2e.to_string_lossy(), "--output", "json"]);
            let j: serde_json::Value = serde_json::from_str(&v.stdout).unwrap();
            expected.insert(j["name"].as_str().unwrap().to_string(), j["expectations"].as_u64().unwrap() as usize);
        }
    }
    assert_eq!(expected.len(), 11);
    let suites = junit(&report);
    assert_eq!(suites.len(), 11);
    for (name, tests, failures, errors, cases) in &suites {
        assert_eq!(Some(tests), expected.get(name), "{name}");
        assert_eq!((failures, errors), (&0, &0), "{name}");
        assert_eq!(cases.len(), *tests);
        assert!(cases.iter().all(|(_, f)| f.is_empty()), "{name}: {cases:?}");
    }
    assert!(
        suites
            .iter()
            .any(|(n, _, _, _, cases)| n == "hello-website-e2e" && cases.iter().any(|(c, _)| c == "the Website runs as a Deployment behind a Service"))
    );
}

#[test]
fn a_failing_expectation_exits_1_with_its_reason_in_the_output_and_the_report() {
    let dir = TempDir::new("e2e-fail");
    let e2e = hello_e2e(
        &dir,
        "    - name: the Website is ready\n      after: cr-applied\n      kubectl:\n        get: [{kind: Website, name: hello, field: .status.phase, equals: Available}]\n    - name: the phase is bogus\n      after: cr-applied\n      timeout: 3s\n      kubectl:\n        get: [{kind: Website, name: hello, field: .status.phase, equals: Sleeping}]\n",
    );
    let report = dir.path().join("out/report.xml");
    std::fs::create_dir_all(report.parent().unwrap()).unwrap();
    // Its own TMPDIR, to see that the run leaves no scratch directory (it holds a kubeconfig).
    let tmp = dir.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let out = Command::new(ork_tests::ork_bin())
        .args(["e2e", "-f", &e2e.to_string_lossy(), "--report", &report.to_string_lossy()])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_eq!(r.code, 1, "{}", show(&r));
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0, "the scratch directory was not removed");
    assert!(r.stdout.contains("✓ the Website is ready"), "{}", show(&r));
    assert!(r.stdout.contains("✗ the phase is bogus"), "{}", show(&r));
    assert!(r.stdout.contains("timeout after 3s: kubectl.get[0]: kubectl get Website/hello in namespace default {.status.phase}: expected output equal to \"Sleeping\": got \"Available\""), "{}", show(&r));
    assert!(r.stdout.contains("1 passed, 1 failed (2 expectation(s)"), "{}", show(&r));
    assert!(r.stderr.contains("error: 1 of 2 expectations failed"), "{}", show(&r));
    let suites = junit(&report);
    assert_eq!(suites.len(), 1);
    let (name, tests, failures, errors, cases) = &suites[0];
    assert_eq!((name.as_str(), *tests, *failures, *errors), ("hello-check", 2, 1, 0));
    assert_eq!(cases[0], ("the Website is ready".to_string(), String::new()));
    assert_eq!(cases[1].0, "the phase is bogus");
    assert!(cases[1].1.contains("expected output equal to \"Sleeping\": got \"Available\""), "{:?}", cases[1]);
    // The report was written whole: no temporary file next to it.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("out")).unwrap().filter_map(Result::ok).map(|e| e.file_name()).collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("report.xml")]);
}

#[test]
fn a_bundle_missing_one_rule_fails_with_the_403_named() {
    let dir = TempDir::new("e2e-rbac");
    let katalog = root().join("demos/beginner/hello-website/katalog.yaml");
    let bundle = dir.path().join("bundle.yaml");
    let g = ork(dir.path(), &["generate", "bundle", "-f", &katalog.to_string_lossy(), "-o", &bundle.to_string_lossy()]);
    assert_eq!(g.code, 0, "{}", show(&g));
    // Take `create` away from the runtime's rule for Services, and only that.
    let text = std::fs::read_to_string(&bundle).unwrap();
    let rule = "  resources:\n  - services\n  verbs:\n  - get\n  - list\n  - watch\n  - create\n";
    assert_eq!(text.matches(rule).count(), 1, "the bundle's Services rule changed shape:\n{text}");
    let edited = dir.write("no-create-services.yaml", &text.replace(rule, &rule.replace("  - create\n", "")));
    let e2e = hello_e2e(
        &dir,
        "    - name: the Website runs as a Deployment behind a Service\n      after: cr-applied\n      timeout: 5s\n      resources: [{kind: Deployment, name: hello-web}, {kind: Service, name: hello}]\n",
    );
    // The generated bundle suffices ...
    let ok = ork(dir.path(), &["e2e", "-f", &e2e.to_string_lossy()]);
    assert_eq!(ok.code, 0, "{}", show(&ok));
    // ... the edited one does not, and the output says which permission is missing.
    let r = ork(dir.path(), &["e2e", "-f", &e2e.to_string_lossy(), "--bundle", &edited.to_string_lossy()]);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stdout.contains("✗ the Website runs as a Deployment behind a Service"), "{}", show(&r));
    assert!(r.stdout.contains("resources[1]: Service/hello in namespace default: not found"), "{}", show(&r));
    let forbidden = "services is forbidden: User \"system:serviceaccount:orkestra-system:orkestra\" cannot create resource \"services\" in API group \"\" in the namespace \"default\"";
    assert!(r.stdout.contains(&format!("runtime: crd `website` (degraded) last error: onCreate.services[0]: create: {forbidden}")), "{}", show(&r));
    // Named from the dev cluster's request log: what was refused, how often, the API server's message.
    assert!(r.stdout.contains("the runtime was refused: create services in namespace default (403)"), "{}", show(&r));
    assert!(r.stdout.contains(&format!("  {forbidden}")), "{}", show(&r));
    assert!(r.stdout.contains("Applying the install bundle (") && r.stdout.contains("no-create-services.yaml"), "{}", show(&r));

    // A refusal no expectation notices still fails the run: without `watch` on Services the
    // Website converges (the reconciler only lists), but the runtime's children watch is refused.
    let edited = dir.write("no-watch-services.yaml", &text.replace(rule, &rule.replace("  - watch\n", "")));
    let r = ork(dir.path(), &["e2e", "-f", &e2e.to_string_lossy(), "--bundle", &edited.to_string_lossy()]);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stdout.contains("✓ the Website runs as a Deployment behind a Service"), "{}", show(&r));
    assert!(r.stdout.contains("✗ the runtime needed no permission beyond the bundle"), "{}", show(&r));
    assert!(
        r.stdout.contains("the runtime was refused: watch services at the cluster scope (403)")
            && r.stdout.contains("services is forbidden: User \"system:serviceaccount:orkestra-system:orkestra\" cannot watch resource \"services\" in API group \"\" at the cluster scope"),
        "{}",
        show(&r)
    );
}

#[test]
fn an_invalid_document_is_refused_with_its_position() {
    let dir = TempDir::new("e2e-invalid");
    let e2e = hello_e2e(&dir, "    - name: typo\n      after: cr-applied\n      resorces: [{kind: Deployment, name: hello-web}]\n");
    for args in [vec!["e2e", "-f", "e2e.yaml"], vec!["validate", "-f", "e2e.yaml"]] {
        let r = ork(dir.path(), &args);
        assert_eq!(r.code, 1, "{args:?}: {}", show(&r));
        assert!(r.stderr.contains("e2e.yaml:11:7: error[unknown-field]: unknown field `resorces`"), "{args:?}: {}", show(&r));
        assert!(r.stderr.contains("did you mean `resources`?"), "{}", show(&r));
        assert!(!r.stdout.contains("Starting a dev cluster"), "nothing runs for an invalid document: {}", show(&r));
    }
    // Unsupported upstream features are refused the same way, not skipped.
    std::fs::write(&e2e, std::fs::read_to_string(&e2e).unwrap().replace("  expect:\n", "  cluster: {provider: kind}\n  expect:\n")).unwrap();
    let r = ork(dir.path(), &["e2e"]);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stderr.contains("e2e.yaml:8:12: error[unsupported]: `spec.cluster` is not supported by ork"), "{}", show(&r));
    // A missing file is exit 2.
    let r = ork(dir.path(), &["e2e", "-f", "nope.yaml"]);
    assert_eq!(r.code, 2, "{}", show(&r));
}

#[test]
fn json_output_carries_every_case() {
    let dir = TempDir::new("e2e-json");
    let e2e = hello_e2e(
        &dir,
        "    - name: the CRD is served\n      commands: [{run: 'kubectl get crd websites.demo.ork.dev -o name', equals: customresourcedefinition.apiextensions.k8s.io/websites.demo.ork.dev}]\n",
    );
    let r = ork(dir.path(), &["e2e", "-f", &e2e.to_string_lossy(), "--output", "json"]);
    assert_eq!(r.code, 0, "{}", show(&r));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", show(&r)));
    assert_eq!(v["schemaVersion"], 1);
    assert_eq!(v["passed"], true);
    let doc = &v["documents"][0];
    assert_eq!(doc["name"], "hello-check");
    assert_eq!(doc["cases"][0]["name"], "the CRD is served");
    assert_eq!(doc["cases"][0]["passed"], true);
    assert!(r.stderr.contains("Running E2E: hello-check"), "progress goes to stderr with --output json: {}", show(&r));
}

#[test]
fn e2e_init_scaffolds_a_document_that_passes() {
    let dir = TempDir::new("e2e-init");
    let demo = root().join("demos/beginner/hello-website");
    for f in ["katalog.yaml", "crd.yaml", "cr.yaml"] {
        std::fs::copy(demo.join(f), dir.path().join(f)).unwrap();
    }
    let r = ork(dir.path(), &["e2e", "init"]);
    assert_eq!(r.code, 0, "{}", show(&r));
    let text = std::fs::read_to_string(dir.path().join("e2e.yaml")).unwrap();
    // The children's real names, from an in-memory reconcile of cr.yaml.
    for needle in
        ["kind: E2E", "name: hello-website-e2e", "kind: Deployment\n      name: hello-web", "kind: Service\n      name: hello", "after: cr-deleted", "count: 0"]
    {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    let run = ork(dir.path(), &["e2e"]);
    assert_eq!(run.code, 0, "{}\n{text}", show(&run));
    assert!(run.stdout.contains("2 passed, 0 failed"), "{}", show(&run));
    // It never overwrites without --force.
    let again = ork(dir.path(), &["e2e", "init"]);
    assert_eq!(again.code, 2, "{}", show(&again));
    assert!(again.stderr.contains("exists; use --force"), "{}", show(&again));
}

/// Kills the process it holds (by its PID) when dropped, also when a test fails.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_borrowed_cluster_is_left_as_it_was_found() {
    // `ork dev-cluster` in its own process stands in for "the current context".
    let dir = TempDir::new("e2e-current");
    let kubeconfig = dir.path().join("current.kubeconfig");
    let _cluster =
        Child(Command::new(ork_tests::ork_bin()).args(["dev-cluster", "--kubeconfig", &kubeconfig.to_string_lossy()]).current_dir(dir.path()).spawn().unwrap());
    let start = std::time::Instant::now();
    while !kubeconfig.exists() {
        assert!(start.elapsed().as_secs() < 30, "the dev cluster did not write its kubeconfig");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let e2e = hello_e2e(
        &dir,
        "    - name: the Website runs\n      after: cr-applied\n      resources: [{kind: Deployment, name: hello-web, ready: true}, {kind: Service, name: hello}]\n",
    );
    let run = |args: &[&str], program: &Path| {
        let out = Command::new(program).args(args).current_dir(dir.path()).env("KUBECONFIG", &kubeconfig).env("NO_COLOR", "1").output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    };
    let r = run(&["e2e", "-f", &e2e.to_string_lossy(), "--cluster", "current"], &ork_tests::ork_bin());
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(r.stdout.contains("using the current context `ork-dev`") && r.stdout.contains("Cluster: current context ork-dev"), "{}", show(&r));
    // The CR (not deleted by any expectation), the bundle and the CRD are gone again.
    let kubectl = Path::new("kubectl");
    let crds = run(&["get", "crd", "-o", "name"], kubectl);
    assert_eq!((crds.code, crds.stdout.trim()), (0, ""), "{}", show(&crds));
    for (kind, name) in [("namespace", "orkestra-system"), ("clusterrole", "orkestra-orkestra-system"), ("clusterrolebinding", "orkestra-orkestra-system")] {
        let g = run(&["get", kind, name, "-o", "name", "--ignore-not-found"], kubectl);
        assert_eq!((g.code, g.stdout.trim()), (0, ""), "{kind}/{name} left behind: {}", show(&g));
    }
    let left = run(&["get", "deployments,services", "-n", "default", "-o", "name"], kubectl);
    assert!(!left.stdout.contains("hello"), "children left behind: {}", show(&left));
}

/// Issue 13, defect 3: the dev cluster enforces RBAC escalation prevention, so a bundle whose
/// `bind` rules were removed fails where a real cluster would refuse it (it used to pass).
#[test]
fn rbac_escalation_team_spaces_without_bind_fails_with_the_runtimes_403() {
    let dir = TempDir::new("e2e-nobind");
    let demo = root().join("demos/intermediate/team-spaces");
    let katalog = demo.join("katalog.yaml");
    let bundle = dir.path().join("bundle.yaml");
    let g = ork(dir.path(), &["generate", "bundle", "-f", &katalog.to_string_lossy(), "-o", &bundle.to_string_lossy()]);
    assert_eq!(g.code, 0, "{}", show(&g));
    // Remove every `bind` rule (each is a reason comment and a rule ending in `- bind`).
    let text = std::fs::read_to_string(&bundle).unwrap();
    let mut kept = Vec::new();
    let mut lines = text.lines().peekable();
    let mut removed = 0;
    while let Some(line) = lines.next() {
        if line.starts_with("# ") && line.ends_with("(bind)") {
            let mut block = Vec::new();
            while let Some(l) = lines.peek().filter(|l| l.starts_with("- ") || l.starts_with("  ")) {
                block.push(*l);
                lines.next();
                if block.len() > 1 && lines.peek().is_some_and(|n| n.starts_with("- ")) {
                    break;
                }
            }
            assert_eq!(block.last(), Some(&"  - bind"), "a bind rule changed shape: {block:?}");
            removed += 1;
            continue;
        }
        kept.push(line);
    }
    assert_eq!(removed, 2, "team-spaces binds `view` and `edit`:\n{text}");
    let no_bind = dir.write("no-bind.yaml", &(kept.join("\n") + "\n"));
    // The demo's document, with short timeouts for the expectations that are meant to fail.
    let e2e = dir.write(
        "e2e.yaml",
        &format!(
            "apiVersion: orkestra.orkspace.io/v1\nkind: E2E\nmetadata: {{name: team-no-bind}}\nspec:\n  katalog: {}\n  crd: {}\n  cr: {}\n  expect:\n    - name: one RoleBinding per member\n      after: cr-applied\n      timeout: 8s\n      resources: [{{kind: RoleBinding, name: payments-alice-example-com}}]\n",
            katalog.display(),
            demo.join("crd.yaml").display(),
            demo.join("cr.yaml").display()
        ),
    );
    let ok = ork(dir.path(), &["e2e", "-f", &e2e.to_string_lossy()]);
    assert_eq!(ok.code, 0, "the derived bundle suffices: {}", show(&ok));
    let r = ork(dir.path(), &["e2e", "-f", &e2e.to_string_lossy(), "--bundle", &no_bind.to_string_lossy()]);
    assert_eq!(r.code, 1, "{}", show(&r));
    let refused = "rolebindings.rbac.authorization.k8s.io \"payments-alice-example-com\" is forbidden: user \"system:serviceaccount:orkestra-system:orkestra\" (groups=[\"system:serviceaccounts\" \"system:serviceaccounts:orkestra-system\" \"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:";
    assert!(r.stdout.contains(&format!("last error: onReconcile.roleBindings[0][0]: create: {refused}")), "{}", show(&r));
    assert!(r.stdout.contains("the runtime was refused: create rolebindings in namespace "), "{}", show(&r));
    assert!(r.stdout.contains(&format!("  {refused}")), "{}", show(&r));
    // The message lists what `view` grants and the runtime does not hold, verbs compacted per
    // resource as the API server prints them.
    assert!(r.stdout.contains("{APIGroups:[\"\"], Resources:[\"bindings\"], Verbs:[\"get\" \"list\" \"watch\"]}"), "{}", show(&r));
}

/// Issue 13, defect 7: discovering nothing is a failure, and a missing directory is "not found".
#[test]
fn tests_that_pass_with_nothing_tested_e2e_and_simulate_of_an_empty_directory_fail() {
    let dir = TempDir::new("e2e-empty");
    std::fs::create_dir_all(dir.path().join("empty")).unwrap();
    for cmd in ["e2e", "simulate"] {
        for target in ["empty/...", "empty"] {
            let r = ork(dir.path(), &[cmd, target]);
            assert_eq!(r.code, 1, "ork {cmd} {target}: {}", show(&r));
            assert!(r.stderr.contains("files found") && r.stderr.contains("nothing was tested"), "ork {cmd} {target}: {}", show(&r));
        }
        let r = ork(dir.path(), &[cmd, "/nonexistent/..."]);
        assert_eq!(r.code, 2, "ork {cmd} /nonexistent/...: {}", show(&r));
        assert!(r.stderr.contains("/nonexistent: not found"), "ork {cmd}: {}", show(&r));
    }
}

/// Issue 13, defect 12: SIGTERM (what CI timeouts send) stops `ork e2e` as Ctrl-C does: the
/// runtime and the cluster are stopped and the scratch directory (kubeconfigs, bundle) is
/// removed; kubectl's discovery cache stays inside it, never in `~/.kube/cache`.
#[test]
fn sigterm_leaks_nothing_e2e_cleans_up_its_scratch_directory() {
    let dir = TempDir::new("e2e-term");
    let e2e = hello_e2e(
        &dir,
        "    - name: the Website is ready\n      after: cr-applied\n      kubectl:\n        get: [{kind: Website, name: hello, field: .status.phase, equals: Available}]\n    - name: never\n      after: cr-applied\n      timeout: 120s\n      kubectl:\n        get: [{kind: Website, name: hello, field: .status.phase, equals: Sleeping}]\n",
    );
    let (tmp, home) = (dir.path().join("tmp"), dir.path().join("home"));
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    let mut child = Command::new(ork_tests::ork_bin())
        .args(["e2e", "-f", &e2e.to_string_lossy()])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("TMPDIR", &tmp)
        .env("HOME", &home)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the run is inside the never-holding expectation, then send SIGTERM.
    let started = std::time::Instant::now();
    let scratch = loop {
        let entries: Vec<_> = std::fs::read_dir(&tmp).unwrap().filter_map(Result::ok).map(|e| e.path()).collect();
        if let Some(s) = entries.iter().find(|p| p.join("runtime.kubeconfig").exists())
            && started.elapsed().as_secs() >= 4
        {
            break s.clone();
        }
        assert!(started.elapsed().as_secs() < 60, "the run never started");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(scratch.join("kube-cache").is_dir(), "kubectl's cache is inside the scratch directory");
    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let out = {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(std::time::Instant::now() < deadline, "ork e2e did not stop after SIGTERM");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(out.code(), Some(2), "interrupted, not killed (143): {stderr}");
    assert!(stderr.contains("interrupted: stopping the runtime and the cluster"), "{stderr}");
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0, "the scratch directory was left behind");
    assert!(!home.join(".kube").exists(), "kubectl wrote to ~/.kube");
}
