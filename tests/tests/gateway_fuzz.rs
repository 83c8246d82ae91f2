//! Bad input at the gateway: 10,000 random and mutated AdmissionReview and ConversionReview
//! bodies, sent over loopback TLS to every webhook route, get only 200 (a verdict) or 400 (the
//! reason) — never a panic, a dropped connection or a 5xx — and the server still answers a good
//! review afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::wire::{Conn, serve_webhooks};
use katalog::admission::Webhook;
use ork_tests::root;
use serde_json::{Value, json};

use ork_tests::XorShift as Rng;

fn seeds() -> Vec<Value> {
    let object = json!({"apiVersion": "bench.ork.dev/v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "team-a", "labels": {"team": "a", "orkestra.io/deletion-protection": "true"}},
        "spec": {"image": "nginx:1.27", "replicas": 3, "tier": "gold", "owner": "alice", "port": 8080}});
    let req = |op: &str, obj: Option<&Value>, old: Option<&Value>| {
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
            "uid": "0f0e", "kind": {"group": "bench.ork.dev", "version": "v1", "kind": "Service"},
            "resource": {"group": "bench.ork.dev", "version": "v1", "resource": "services"},
            "name": "web", "namespace": "team-a", "operation": op,
            "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
            "object": obj, "oldObject": old, "dryRun": false}})
    };
    vec![
        req("CREATE", Some(&object), None),
        req("UPDATE", Some(&object), Some(&object)),
        req("DELETE", None, Some(&object)),
        json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
               "request": {"uid": "c1", "desiredAPIVersion": "bench.ork.dev/v2", "objects": [object]}}),
    ]
}

fn random_value(rng: &mut Rng, depth: u32) -> Value {
    match rng.below(if depth > 3 { 5 } else { 8 }) {
        0 => Value::Null,
        1 => json!(rng.below(2) == 0),
        2 => json!(rng.next() as i64),
        3 => json!(f64::from(rng.below(1000) as u32) / 7.0),
        4 => {
            let long = "x".repeat(rng.below(300));
            json!(["", "CREATE", "DELETE", long.as_str(), "{{ .spec.image }}", "v2", "bench.ork.dev/v3", "\u{0}"][rng.below(8)])
        }
        5 => Value::Array((0..rng.below(4)).map(|_| random_value(rng, depth + 1)).collect()),
        _ => {
            let keys = ["uid", "operation", "object", "oldObject", "spec", "metadata", "kind", "apiVersion", "objects", "resource", "name", "labels"];
            Value::Object((0..rng.below(5)).map(|_| (keys[rng.below(keys.len())].to_string(), random_value(rng, depth + 1))).collect())
        }
    }
}

/// Replaces a random node of `v` (at most `depth` levels down) with a random value.
fn mutate_tree(v: &mut Value, rng: &mut Rng, depth: u32) {
    if depth == 0 || rng.below(3) == 0 {
        *v = random_value(rng, 0);
        return;
    }
    match v {
        Value::Object(m) if !m.is_empty() => {
            let k = m.keys().nth(rng.below(m.len())).cloned().unwrap_or_default();
            if let Some(child) = m.get_mut(&k) {
                mutate_tree(child, rng, depth - 1);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let i = rng.below(a.len());
            mutate_tree(&mut a[i], rng, depth - 1);
        }
        other => *other = random_value(rng, 0),
    }
}

/// A body and the route it goes to: mostly the route of its seed's kind of review (so mutations
/// reach the verdict code), sometimes any route.
fn body(rng: &mut Rng, seeds: &[Value]) -> (&'static str, Vec<u8>) {
    let seed = &seeds[rng.below(seeds.len())];
    let path = if rng.below(10) == 0 {
        Webhook::ALL[rng.below(Webhook::ALL.len())].path()
    } else if seed["kind"] == "ConversionReview" {
        Webhook::Convert.path()
    } else {
        Webhook::ALL[rng.below(Webhook::ALL.len() - 1)].path()
    };
    let bytes = match rng.below(6) {
        // Structural mutations: still JSON, wrong shapes and types — mostly inside the objects
        // (what the rules read), sometimes anywhere.
        0..=2 => {
            let mut v = seed.clone();
            for _ in 0..1 + rng.below(3) {
                let inner = ["/request/object", "/request/oldObject", "/request/objects/0"].iter().find_map(|p| v.pointer(p).map(|_| *p));
                match inner.filter(|_| rng.below(4) != 0) {
                    Some(p) => mutate_tree(v.pointer_mut(p).expect("present"), rng, 4),
                    None => mutate_tree(&mut v, rng, 5),
                }
            }
            v.to_string().into_bytes()
        }
        // Byte mutations of the text.
        3 => {
            let mut b = seed.to_string().into_bytes();
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(b.len());
                match rng.below(3) {
                    0 => b[i] = (rng.next() & 0xff) as u8,
                    1 => {
                        b.remove(i);
                    }
                    _ => b.truncate(i),
                }
                if b.is_empty() {
                    break;
                }
            }
            b
        }
        // Deep nesting (past serde_json's recursion limit) and random bytes.
        4 => {
            let n = 1 + rng.below(5000);
            format!("{}{}", "[".repeat(n), "]".repeat(rng.below(n + 1))).into_bytes()
        }
        _ => (0..rng.below(2000)).map(|_| (rng.next() & 0xff) as u8).collect(),
    };
    (path, bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_random_and_mutated_reviews_get_only_200_or_400() {
    let server = serve_webhooks(&root().join("tests/fixtures/gateway/rules20/katalog.yaml")).await;
    let seeds = seeds();
    let mut tasks = Vec::new();
    for worker in 0..4_u64 {
        let (addr, ca, seeds) = (server.addr, server.ca_pem.clone(), seeds.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (worker + 1));
            let mut conn = Conn::connect(addr, &ca).await.expect("connect");
            let (mut ok, mut bad) = (0_u32, 0_u32);
            for i in 0..2500 {
                let (path, b) = body(&mut rng, &seeds);
                let (status, text) = tokio::time::timeout(std::time::Duration::from_secs(10), conn.post(path, &b))
                    .await
                    .unwrap_or_else(|_| panic!("request {i} to {path} got no answer within 10 s"))
                    .unwrap_or_else(|e| panic!("request {i} to {path}: the connection broke: {e}; body: {}", String::from_utf8_lossy(&b)));
                match status {
                    200 => {
                        let v: Value = serde_json::from_slice(&text).expect("a 200 answer is a review");
                        assert!(v.get("response").is_some(), "{v}");
                        ok += 1;
                    }
                    400 => bad += 1,
                    other => panic!("request {i} to {path}: HTTP {other}: {}; body: {}", String::from_utf8_lossy(&text), String::from_utf8_lossy(&b)),
                }
            }
            (ok, bad)
        }));
    }
    let (mut ok, mut bad) = (0, 0);
    for t in tasks {
        let (o, b) = t.await.expect("worker");
        ok += o;
        bad += b;
    }
    assert_eq!(ok + bad, 10_000);
    assert!(ok > 1000 && bad > 1000, "the mix should exercise both answers: {ok} verdicts, {bad} refusals");
    // Still serving, and still right.
    let mut conn = Conn::connect(server.addr, &server.ca_pem).await.unwrap();
    let (status, text) = conn.post("/validate", seeds[0].to_string().as_bytes()).await.unwrap();
    assert_eq!(status, 200);
    let v: Value = serde_json::from_slice(&text).unwrap();
    assert_eq!(v["response"]["allowed"], true, "{v}");
    assert!(server.metrics.render().contains("outcome=\"invalid\""));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_wrong_method_requests_are_refused_cleanly() {
    let server = serve_webhooks(&root().join("tests/fixtures/gateway/rules20/katalog.yaml")).await;
    let mut conn = Conn::connect(server.addr, &server.ca_pem).await.unwrap();
    let huge = vec![b' '; services::gateway::webhooks::MAX_BODY + 1];
    let (status, _) = conn.post("/validate", &huge).await.unwrap();
    assert_eq!(status, 413);
    let mut conn = Conn::connect(server.addr, &server.ca_pem).await.unwrap();
    let (status, text) = conn.post("/validate", b"{\"request\": 5}").await.unwrap();
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&text).contains("invalid AdmissionReview: /request is missing or not an object"), "{}", String::from_utf8_lossy(&text));
    let (status, _) = conn.post("/nope", b"{}").await.unwrap();
    assert_eq!(status, 404);
    // A new connection: the server need not keep one whose request body it did not read.
    let mut conn = Conn::connect(server.addr, &server.ca_pem).await.unwrap();
    let (status, _) = conn.send("GET", "/validate", b"").await.unwrap();
    assert_eq!(status, 405);
    server.stop().await;
}
