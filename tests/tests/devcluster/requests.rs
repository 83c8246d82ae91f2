//! The request log (`ork dev-cluster --audit-log FILE`): one `audit.k8s.io/v1` Event per
//! request kubectl makes, with the verb, object and code the API server would log, and never a
//! token; a refused request appears with 403; the in-process log counts exactly.

use super::{Dev, kubectl, ok, start_with};
use ork_tests::TempDir;
use serde_json::Value;

const ALICE_TOKEN: &str = "alice-token-that-must-never-be-logged";

fn start_logged(dir: &std::path::Path, log: &std::path::Path) -> Dev {
    let token = format!("{ALICE_TOKEN}=alice");
    start_with(dir, &["--rbac", "--token", &token, "--audit-log", &log.to_string_lossy()])
}

fn events(log: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(log).unwrap().lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect()
}

/// The events of `verb` on `resource` named `name` (any name with `None`).
fn of<'e>(events: &'e [Value], verb: &str, resource: &str, name: Option<&str>) -> Vec<&'e Value> {
    events.iter().filter(|e| e["verb"] == verb && e["objectRef"]["resource"] == resource && name.is_none_or(|n| e["objectRef"]["name"] == n)).collect()
}

#[test]
fn every_kubectl_request_is_one_audit_line() {
    let t = TempDir::new("dev-requests");
    let log = t.path().join("audit.log");
    let dev = start_logged(t.path(), &log);
    ok(&dev, &["create", "namespace", "shop"]);
    ok(&dev, &["-n", "shop", "create", "configmap", "c1", "--from-literal=password=hunter2"]);
    ok(&dev, &["-n", "shop", "get", "configmap", "c1", "-o", "name"]);
    ok(&dev, &["-n", "shop", "label", "configmap", "c1", "tier=web"]);
    let (code, _) = kubectl(&dev, &["-n", "shop", "get", "configmap", "missing"]);
    assert_ne!(code, 0);
    ok(&dev, &["-n", "shop", "delete", "configmap", "c1"]);
    let (code, out) = kubectl(&dev, &["--token", ALICE_TOKEN, "-n", "shop", "get", "secrets"]);
    assert!(code != 0 && out.contains("forbidden"), "{out}");

    let text = std::fs::read_to_string(&log).unwrap();
    let admin_token = std::fs::read_to_string(&dev.kubeconfig).unwrap().lines().find_map(|l| l.trim().strip_prefix("token: ").map(str::to_string)).unwrap();
    assert!(!text.contains(&admin_token) && !text.contains(ALICE_TOKEN), "no token is logged");
    assert!(!text.contains("hunter2"), "no body is logged");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&log).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let all = events(&log);
    for e in &all {
        assert_eq!((e["kind"].as_str(), e["apiVersion"].as_str(), e["level"].as_str()), (Some("Event"), Some("audit.k8s.io/v1"), Some("Metadata")), "{e}");
        assert!(e["auditID"].as_str().is_some_and(|id| id.len() == 36) && e["requestReceivedTimestamp"].is_string() && e["stageTimestamp"].is_string(), "{e}");
        assert!(e["userAgent"].as_str().is_some_and(|a| a.starts_with("kubectl")), "{e}");
    }
    let ids: std::collections::BTreeSet<_> = all.iter().map(|e| e["auditID"].as_str().unwrap_or_default()).collect();
    assert_eq!(ids.len(), all.len(), "one ID per request");
    let one = |verb: &str, resource: &str, name: Option<&str>, code: u64| {
        let found = of(&all, verb, resource, name);
        assert_eq!(found.len(), 1, "one {verb} {resource} {name:?}: {found:#?}");
        assert_eq!(found[0]["responseStatus"]["code"], code, "{}", found[0]);
        found[0].clone()
    };
    let created = one("create", "namespaces", None, 201);
    assert_eq!(created["user"]["username"], "ork-dev-admin");
    assert_eq!(created["objectRef"]["apiVersion"], "v1");
    let cm = one("create", "configmaps", None, 201);
    assert_eq!(cm["objectRef"]["namespace"], "shop");
    assert_eq!(cm["requestURI"].as_str().map(|u| u.starts_with("/api/v1/namespaces/shop/configmaps")), Some(true), "{cm}");
    let gets = of(&all, "get", "configmaps", Some("c1"));
    // Read while it exists (200), and by `kubectl delete` waiting until it is gone (404).
    let codes: Vec<u64> = gets.iter().filter_map(|e| e["responseStatus"]["code"].as_u64()).collect();
    assert_eq!(codes.first(), Some(&200), "{gets:#?}");
    assert_eq!(codes.last(), Some(&404), "{gets:#?}");
    one("patch", "configmaps", Some("c1"), 200);
    let missing = one("get", "configmaps", Some("missing"), 404);
    assert_eq!(missing["responseStatus"]["reason"], "NotFound");
    one("delete", "configmaps", Some("c1"), 200);
    let refused = one("list", "secrets", None, 403);
    assert_eq!(refused["user"]["username"], "alice");
    assert_eq!(refused["responseStatus"]["reason"], "Forbidden");
    assert!(refused["responseStatus"]["message"].as_str().is_some_and(|m| m.contains("User \"alice\" cannot list resource \"secrets\"")), "{refused}");
    // Discovery is logged too, without an objectRef.
    assert!(all.iter().any(|e| e["verb"] == "get" && e["requestURI"] == "/api" && e["objectRef"].is_null()), "{all:#?}");
}

#[test]
fn impersonated_requests_name_both_users() {
    let t = TempDir::new("dev-requests-as");
    let log = t.path().join("audit.log");
    let dev = start_logged(t.path(), &log);
    let (code, out) = kubectl(&dev, &["--as", "bob", "get", "pods", "-n", "default"]);
    assert!(code != 0 && out.contains("forbidden"), "bob holds nothing: {out}");
    let all = events(&log);
    let list = of(&all, "list", "pods", None);
    assert_eq!(list.len(), 1, "{all:#?}");
    assert_eq!((list[0]["user"]["username"].as_str(), list[0]["impersonatedUser"]["username"].as_str()), (Some("ork-dev-admin"), Some("bob")));
    assert_eq!(list[0]["responseStatus"]["code"], 403);
}
