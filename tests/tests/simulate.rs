//! `ork simulate` and `ork simulate init` through the real binary: every demo passes, converged
//! cycles only read, broken expectations fail precisely, bad input is a clear error, suites
//! aggregate, and every request a demo's reconcile makes is allowed by its derived RBAC.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use katalog::authoring::rbac::{Access, derive};
use katalog::load::{LoadOptions, load_file};
use ork_tests::{TempDir, ork, root};
use serde_json::Value;
use std::path::Path;

/// `ork simulate ARGS --output json` in `dir`: the exit code and the report.
pub(crate) fn json(dir: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["simulate"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--output", "json"]);
    let run = ork(dir, &all);
    let v: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {} / {}", run.stdout, run.stderr));
    (run.code, v)
}

#[test]
fn every_demo_simulation_passes() {
    let run = ork(&root(), &["simulate", "demos/..."]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let passed = run.stdout.lines().filter(|l| l.contains("✓ passed")).count();
    assert!(passed >= 12, "{}", run.stdout);
    assert!(run.stdout.contains(&format!("{passed} file(s): {passed} passed, 0 failed")), "{}", run.stdout);
    assert!(run.stdout.contains("demos/intermediate/depends-on/deletion.simulate.yaml"));
    assert!(run.stdout.contains("demos/security/admission-rules/denied.simulate.yaml"));
}

/// Every `*simulate.yaml` under demos/.
fn demo_simulations() -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for k in ork_tests::demo_katalogs() {
        let dir = k.parent().unwrap().to_path_buf();
        for e in std::fs::read_dir(&dir).unwrap().filter_map(Result::ok) {
            if e.file_name().to_string_lossy().ends_with("simulate.yaml") {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn after_steady_state_a_cycle_only_reads() {
    for sim in demo_simulations() {
        let (code, v) = json(&root(), &["-f", &sim.to_string_lossy()]);
        assert_eq!(code, 0, "{}: {v}", sim.display());
        for run in v["files"][0]["runs"].as_array().unwrap() {
            let steady = run["steady_at"].as_u64().unwrap_or_else(|| panic!("{}: no steady state", sim.display()));
            for c in run["cycles"].as_array().unwrap().iter().filter(|c| c["cycle"].as_u64().unwrap() >= steady) {
                if sim.to_string_lossy().contains("deletion") && c["cycle"].as_u64().unwrap() < 5 {
                    continue; // the deletion requested at cycle 3 is work, not drift
                }
                for op in c["ops"].as_array().unwrap() {
                    let verb = op["verb"].as_str().unwrap();
                    assert!(matches!(verb, "get" | "list"), "{}: cycle {} wrote: {op}", sim.display(), c["cycle"]);
                }
            }
        }
    }
}

#[test]
fn every_request_of_a_demo_reconcile_is_allowed_by_its_derived_rbac() {
    let ns = "ork-system";
    let mut checked = 0;
    for sim in demo_simulations() {
        let doc = std::fs::read_to_string(&sim).unwrap();
        let katalog_file = doc.lines().find_map(|l| l.trim().strip_prefix("katalog: ")).unwrap().trim_matches('"');
        let loaded = load_file(&sim.parent().unwrap().join(katalog_file), &LoadOptions::default());
        let d = derive(loaded.katalog.as_ref().unwrap(), ns).unwrap();
        let (_, v) = json(&root(), &["-f", &sim.to_string_lossy()]);
        for run in v["files"][0]["runs"].as_array().unwrap() {
            for c in run["cycles"].as_array().unwrap() {
                for op in c["ops"].as_array().unwrap() {
                    let s = |k: &str| op.get(k).and_then(Value::as_str);
                    let a = Access {
                        verb: s("verb").unwrap(),
                        api_group: s("group").unwrap(),
                        resource: s("resource").unwrap(),
                        namespace: s("namespace"),
                        name: s("name"),
                    };
                    assert!(d.runtime.allows(ns, &a).is_some(), "{}: the runtime made a request its ClusterRole does not allow: {op}", sim.display());
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 60, "only {checked} requests checked");
}

/// A copy of the hello-website demo with its own simulate.yaml.
fn hello(sim: &str) -> TempDir {
    let t = TempDir::new("sim");
    for f in ["katalog.yaml", "cr.yaml"] {
        t.write(f, &std::fs::read_to_string(root().join("demos/beginner/hello-website").join(f)).unwrap());
    }
    t.write("simulate.yaml", sim);
    t
}

const HEAD: &str = "apiVersion: orkestra.orkspace.io/v1\nkind: Simulate\nmetadata: {name: t}\nspec:\n  katalog: ./katalog.yaml\n  cr: ./cr.yaml\n  cycles: 4\n";

#[test]
fn broken_expectations_fail_with_a_precise_message() {
    let t = hello(&format!(
        "{HEAD}  expect:\n    steadyAt: 1\n    noErrors: true\n    ops:\n      - {{cycle: 1, verb: create, resource: deployments, name: nope}}\n      - {{cycle: 1, verb: create, resource: services, count: 3}}\n      - {{cycle: 1, verb: create, resource: deploymnets}}\n    absent:\n      - {{cycle: 1, verb: create, resource: services}}\n"
    ));
    let run = ork(t.path(), &["simulate"]);
    assert_eq!(run.code, 1, "{run:?}");
    for needle in [
        "✗ steadyAt ≤ 1: expected steady at cycle ≤1, reached at cycle 3",
        "✓ noErrors",
        "✗ create deployments nope (cycle 1): no op matching it",
        "✗ create services (cycle 1): wanted 3 op(s) matching it, got 1",
        "✗ create deploymnets (cycle 1): `deploymnets` is not a resource of this cluster; did you mean `deployments`?",
        "✗ absent: create services (cycle 1): expected no op matching it, found 1",
        "    FAIL",
    ] {
        assert!(run.stdout.contains(needle), "missing {needle:?} in\n{}", run.stdout);
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    // Unknown field: strict, with position and suggestion.
    let t = hello(&format!("{HEAD}  expect:\n    stedy: true\n"));
    let run = ork(t.path(), &["simulate"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("simulate.yaml:9:5: error[unknown-field]: unknown field `stedy`") && run.stderr.contains("did you mean `steady`?"),
        "{}",
        run.stderr
    );
    // A CR of a kind the Katalog does not define.
    let t = hello(HEAD);
    t.write("cr.yaml", "apiVersion: other.dev/v1\nkind: Gadget\nmetadata: {name: g}\n");
    let run = ork(t.path(), &["simulate"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("no CR matches a CRD of the Katalog (the CR files hold: Gadget)"), "{}", run.stderr);
    // A verb that does not exist; a missing referenced file; a missing simulate file.
    let t = hello(&format!("{HEAD}  expect:\n    ops: [{{cycle: 1, verb: crate, resource: deployments}}]\n"));
    let run = ork(t.path(), &["simulate"]);
    assert!(run.code == 1 && run.stderr.contains("unknown verb `crate`") && run.stderr.contains("did you mean `create`?"), "{run:?}");
    let t = hello(&HEAD.replace("./cr.yaml", "./missing.yaml"));
    let run = ork(t.path(), &["simulate"]);
    assert!(run.code == 1 && run.stderr.contains("CR file missing.yaml not found"), "{run:?}");
    let run = ork(t.path(), &["simulate", "-f", "nope.yaml"]);
    assert_eq!(run.code, 2, "{run:?}");
    let t = hello(&format!("{HEAD}  deleteAt: 9\n"));
    let run = ork(t.path(), &["simulate"]);
    assert!(run.code == 1 && run.stderr.contains("`deleteAt: 9` is outside the 4 cycles run"), "{run:?}");
    let t = hello(&HEAD.replace("cycles: 4", "cycles: 99999"));
    let run = ork(t.path(), &["simulate"]);
    assert!(run.code == 1 && run.stderr.contains("`cycles` must be between 1 and 10000"), "{run:?}");
}

#[test]
fn a_template_error_inside_a_cycle_is_reported_and_fails_no_errors() {
    let t = hello(&format!("{HEAD}  expect:\n    noErrors: true\n"));
    let katalog = std::fs::read_to_string(t.path().join("katalog.yaml")).unwrap();
    t.write("katalog.yaml", &katalog.replace("{{ .spec.replicas | default \"1\" }}", "{{ add .spec.image 1 }}"));
    assert_ne!(std::fs::read_to_string(t.path().join("katalog.yaml")).unwrap(), katalog, "the demo's replicas template changed; update this test");
    let run = ork(t.path(), &["simulate"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("! crd `website`: onCreate.deployments[0].replicas: add:"), "{}", run.stdout);
    assert!(run.stdout.contains("✗ noErrors: cycle 1: crd `website`: onCreate.deployments[0].replicas"), "{}", run.stdout);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}

#[test]
fn suites_run_their_imports_in_order_and_discovery_skips_them() {
    let t = hello(&format!("{HEAD}  expect: {{steady: true}}\n"));
    t.write("b/simulate.yaml", &HEAD.replace("./katalog.yaml", "../katalog.yaml").replace("./cr.yaml", "../cr.yaml").replace("name: t", "name: second"));
    t.write(
        "suite-simulate.yaml",
        "apiVersion: orkestra.orkspace.io/v1\nkind: Simulate\nmetadata: {name: all}\nimports: [./simulate.yaml, ./b/simulate.yaml]\n",
    );
    let (code, v) = json(t.path(), &["-f", "suite-simulate.yaml"]);
    assert_eq!(code, 0, "{v}");
    let names: Vec<&str> = v["files"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["t", "second"]);
    let run = ork(t.path(), &["simulate", "./..."]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("2 file(s): 2 passed, 0 failed"), "{}", run.stdout);
    // Without expectations a run only prints, and passes unless a cycle fails.
    let (code, v) = json(t.path(), &["-f", "b/simulate.yaml"]);
    assert_eq!(code, 0);
    assert_eq!(v["files"][0]["runs"][0]["asserted"], false);
}

#[test]
fn init_writes_expectations_that_pass_and_never_overwrites_silently() {
    let t = hello("");
    std::fs::remove_file(t.path().join("simulate.yaml")).unwrap();
    let dry = ork(t.path(), &["simulate", "init", "--dry-run"]);
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(dry.stdout.contains("kind: Simulate") && dry.stdout.contains("resource: deployments"), "{}", dry.stdout);
    assert!(!t.path().join("simulate.yaml").exists());
    let run = ork(t.path(), &["simulate", "init"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("1 CRD(s), 2 op rule(s)"), "{}", run.stdout);
    assert_eq!(std::fs::read_to_string(t.path().join("simulate.yaml")).unwrap(), dry.stdout);
    let again = ork(t.path(), &["simulate", "init"]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("exists; use --force"), "{}", again.stderr);
    let check = ork(t.path(), &["simulate"]);
    assert_eq!(check.code, 0, "{check:?}");
    assert!(check.stdout.contains("PASS"));
    let valid = ork(t.path(), &["validate", "-f", "simulate.yaml"]);
    assert_eq!(valid.code, 0, "{valid:?}");
    assert!(valid.stdout.contains("✓ valid: 2 op rule(s)"), "{}", valid.stdout);
}

/// Reads come from the reconciler's caches (docs/runtime.md "Caches"): a new hello-website CR
/// costs exactly its children's creates and one status write — no read of the CR or of its
/// children, no metadata patch (owner references make a finalizer needless), no re-list after
/// the writes, no Event for a success — and a converged cycle makes no request at all.
#[test]
fn a_new_hello_website_costs_its_creates_and_one_status_write() {
    let sim = root().join("demos/beginner/hello-website/simulate.yaml");
    let (_, v) = json(&root(), &["-f", &sim.to_string_lossy()]);
    let cycles = v["files"][0]["runs"][0]["cycles"].as_array().unwrap();
    let ops = |c: &Value| -> Vec<String> {
        c["ops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| format!("{} {} {}", o["verb"].as_str().unwrap(), o["resource"].as_str().unwrap(), o["name"].as_str().unwrap_or("")))
            .collect()
    };
    assert_eq!(ops(&cycles[0]), ["create deployments hello-web", "create services hello", "patch websites/status hello"]);
    // The Deployment became ready meanwhile: the status says so, once.
    assert_eq!(ops(&cycles[1]), ["patch websites/status hello"]);
    for c in &cycles[2..] {
        assert_eq!(ops(c), Vec::<String>::new(), "a converged cycle reads from the caches: {c}");
    }
}
