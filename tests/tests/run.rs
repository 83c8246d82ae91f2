//! `ork run`: with `--dev` (and by default without any kubeconfig) it starts an embedded dev
//! cluster with the Katalog's CRDs and crFiles, writes its kubeconfig, reconciles, and stops
//! cleanly on SIGTERM; bad input fails with the documented exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn kubectl(kubeconfig: &Path, args: &[&str]) -> (bool, String) {
    let (code, out) = ork_tests::kubectl(kubeconfig, args);
    (code == 0, out)
}

#[test]
fn ork_run_without_a_kubeconfig_runs_on_an_embedded_dev_cluster_until_sigterm() {
    let dir = ork_tests::TempDir::new("ork-run-dev");
    assert_eq!(ork_tests::ork(dir.path(), &["init", "--pack", "beginner"]).code, 0);
    let demo = dir.path().join("hello-website");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let log = dir.path().join("run.log");
    let mut child = Command::new(ork_tests::ork_bin())
        .args(["run", "--port", "0", "--log-format", "json"])
        .current_dir(&demo)
        .env("HOME", &home)
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let kubeconfig = demo.join("ork-dev.kubeconfig");
    let start = Instant::now();
    let status = loop {
        if kubeconfig.exists() {
            let (ok, out) =
                kubectl(&kubeconfig, &["get", "website", "hello", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status} {.status.phase}"]);
            if ok && out.trim() == "True Available" {
                break out;
            }
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the crFiles CR never became Ready:\n{}", std::fs::read_to_string(&log).unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.trim(), "True Available");
    let (ok, out) = kubectl(&kubeconfig, &["get", "deployments,services", "-o", "name"]);
    assert!(ok, "{out}");
    assert!(out.contains("deployment.apps/hello-web") && out.contains("service/hello"), "{out}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()), "--log-format json writes JSON lines only:\n{text}");
    assert!(text.contains("dev cluster ready: 1 CRD(s) installed, 1 CR(s) applied"), "{text}");

    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let start = Instant::now();
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code();
        }
        if start.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ork run did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code, Some(0));
    let (ok, _) = kubectl(&kubeconfig, &["get", "websites", "--request-timeout=2s"]);
    assert!(!ok, "the dev cluster stops with ork run");
}

#[test]
fn ork_run_refuses_bad_input_with_the_documented_exit_codes() {
    let dir = ork_tests::TempDir::new("ork-run-bad");
    let bad =
        dir.write("katalog.yaml", "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\nmetadata: {name: x}\nspec:\n  crds:\n    a:\n      apiTypez: {}\n");
    let r = ork_tests::ork(dir.path(), &["run", "--dev", "-f", &bad.to_string_lossy()]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("katalog.yaml:7:7") && r.stderr.contains("apiTypez"), "{}", r.stderr);
    let r = ork_tests::ork(dir.path(), &["run", "--dev", "-f", "missing.yaml"]);
    assert_eq!(r.code, 2, "{r:?}");
    let demo = ork_tests::root().join("demos/beginner/hello-website/katalog.yaml");
    let r = ork_tests::ork(dir.path(), &["run", "-f", &demo.to_string_lossy(), "--context", "no-such-context"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("no-such-context"), "{}", r.stderr);
    let r = ork_tests::ork(dir.path(), &["run", "--dev", "-f", &demo.to_string_lossy(), "-n", "Not_A_Namespace"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("not a valid Kubernetes name"), "{}", r.stderr);
}
