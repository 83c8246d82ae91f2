//! Server-side apply with field ownership, end to end: the real kubectl against the embedded dev
//! cluster (two field managers, a conflict, `--force-conflicts`, field removal on re-apply,
//! managedFields as kubectl shows them), and the runtime sharing its children with another field
//! manager (a label it leaves alone without writing, a field it takes back once when forced, a
//! conflict it reports on the CR when not).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::rt::*;
use serde_json::{Value, json};
use services::cluster::{Cluster, KubeCluster};
use services::devcluster::{DevCluster, Options};
use services::runtime::{Options as RuntimeOptions, Runtime};
use std::path::Path;
use std::time::Duration;

async fn ok(kubeconfig: &Path, args: &[&str]) -> String {
    let (code, out) = kubectl(kubeconfig, args).await;
    assert_eq!(code, 0, "kubectl {args:?} failed:\n{out}");
    out
}

/// The managedFields entry of `manager` (and `operation`) of an object as JSON.
fn entry<'v>(obj: &'v Value, manager: &str, operation: &str) -> Option<&'v Value> {
    obj.pointer("/metadata/managedFields")?.as_array()?.iter().find(|e| e["manager"] == manager && e["operation"] == operation)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_server_side_apply_tracks_two_managers_conflicts_force_and_removal() {
    let dir = ork_tests::TempDir::new("ssa-kubectl");
    let (dev, kc) = dev_with_crds(dir.path(), Options::default(), &[]).await;
    let file = |name: &str, text: &str| dir.write(name, text).to_string_lossy().into_owned();

    // Manager `one` applies a Deployment; kubectl hides managedFields unless asked.
    let deploy = |replicas: u32, image: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: default\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n      - name: web\n        image: {image}\n"
        )
    };
    let one = file("one.yaml", &deploy(2, "nginx:1"));
    assert_eq!(ok(&kc, &["apply", "--server-side", "--field-manager=one", "-f", &one]).await, "deployment.apps/web serverside-applied\n");
    let shown = ok(&kc, &["get", "deployment", "web", "-o", "yaml"]).await;
    assert!(!shown.contains("managedFields"), "kubectl get hides managedFields by default:\n{shown}");
    let shown = ok(&kc, &["get", "deployment", "web", "-o", "yaml", "--show-managed-fields"]).await;
    for want in ["managedFields:", "manager: one", "operation: Apply", "fieldsType: FieldsV1", "f:replicas: {}", "k:{\"name\":\"web\"}:", "f:image: {}"] {
        assert!(shown.contains(want), "{want} in\n{shown}");
    }

    // Manager `two` changes a field `one` owns: kubectl's conflict error, exit 1, naming `one`.
    let two = file("two.yaml", &deploy(3, "nginx:1"));
    let (code, out) = kubectl(&kc, &["apply", "--server-side", "--field-manager=two", "-f", &two]).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Apply failed with 1 conflict: conflict with \"one\" using apps/v1: .spec.replicas"), "{out}");
    assert!(out.contains("--force-conflicts"), "kubectl explains how to resolve it: {out}");
    // The same values are shared without a conflict; --force-conflicts takes the field.
    assert!(ok(&kc, &["apply", "--server-side", "--field-manager=two", "-f", &one]).await.contains("serverside-applied"));
    assert!(ok(&kc, &["apply", "--server-side", "--field-manager=two", "--force-conflicts", "-f", &two]).await.contains("serverside-applied"));
    let live: Value = serde_json::from_str(&ok(&kc, &["get", "deployment", "web", "-o", "json", "--show-managed-fields"]).await).unwrap();
    assert_eq!(live["spec"]["replicas"], 3);
    assert!(entry(&live, "one", "Apply").unwrap()["fieldsV1"]["f:spec"].get("f:replicas").is_none(), "forced: `one` lost .spec.replicas: {live}");
    assert!(entry(&live, "two", "Apply").unwrap()["fieldsV1"]["f:spec"].get("f:replicas").is_some());
    // Now `one` is the one refused.
    let (code, out) = kubectl(&kc, &["apply", "--server-side", "--field-manager=one", "-f", &one]).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("conflict with \"two\" using apps/v1: .spec.replicas"), "{out}");

    // Field removal: a re-apply without a field removes it when no other manager owns it.
    let cm = |extra: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: default\n{extra}");
    let full = file("cm-full.yaml", &cm("  labels: {team: a}\ndata:\n  a: '1'\n  b: '2'\n"));
    assert!(ok(&kc, &["apply", "--server-side", "--field-manager=one", "-f", &full]).await.contains("configmap/c serverside-applied"));
    let shared = file("cm-shared.yaml", &cm("data:\n  b: '2'\n"));
    ok(&kc, &["apply", "--server-side", "--field-manager=two", "-f", &shared]).await;
    let less = file("cm-less.yaml", &cm("data:\n  c: '3'\n"));
    ok(&kc, &["apply", "--server-side", "--field-manager=one", "-f", &less]).await;
    let live: Value = serde_json::from_str(&ok(&kc, &["get", "configmap", "c", "-o", "json"]).await).unwrap();
    assert_eq!(live["data"], json!({"b": "2", "c": "3"}), "a went (only `one` had it), b stays (`two` owns it too)");
    assert!(live["metadata"].get("labels").is_none_or(|l| l.get("team").is_none()), "the label `one` no longer applies is gone: {live}");

    // An Update (kubectl label) owns what it changed; an apply changing it conflicts with it.
    assert_eq!(ok(&kc, &["label", "configmap", "c", "env=dev"]).await, "configmap/c labeled\n");
    let env = file("cm-env.yaml", &cm("  labels: {env: prod}\ndata:\n  c: '3'\n"));
    let (code, out) = kubectl(&kc, &["apply", "--server-side", "--field-manager=one", "-f", &env]).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("conflict with \"kubectl-label\" using v1: .metadata.labels.env"), "{out}");
    let live: Value = serde_json::from_str(&ok(&kc, &["get", "configmap", "c", "-o", "json", "--show-managed-fields"]).await).unwrap();
    assert!(entry(&live, "kubectl-label", "Update").is_some(), "{live}");
    dev.stop().await;
}

const SHARED: &str = r#"apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: shared-children}
spec:
  crds:
    shared:
      apiTypes: {group: demo.ork.dev, version: v1, kind: Shared, plural: shareds}
      operatorBox:
        reconcile:
          resync: 1h
          forceConflict: false
          onReconcile:
            configMaps:
              - name: "{{ .metadata.name }}-forced"
                forceConflict: true
                data: {mode: ork}
              - name: "{{ .metadata.name }}-kept"
                data: {mode: ork}
"#;

/// Writes (create, update, patch, delete) to the ConfigMap `name` so far, by anyone.
fn writes(dev: &DevCluster, name: &str) -> usize {
    dev.audit()
        .iter()
        .filter(|e| e.request.resource == "configmaps" && e.request.name.as_deref() == Some(name))
        .filter(|e| matches!(e.request.verb.as_str(), "create" | "update" | "patch" | "delete"))
        .count()
}

async fn reconciles(addr: std::net::SocketAddr) -> u64 {
    let (_, body) = http_get(addr, "/katalog").await.unwrap();
    let v: Value = serde_json::from_str(&body).unwrap();
    v["crds"][0]["reconciles"].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ork_shares_its_children_with_another_field_manager() {
    let dir = ork_tests::TempDir::new("ssa-runtime");
    let katalog = dir.write("katalog.yaml", SHARED);
    let (dev, kc) = dev_with_crds(dir.path(), Options::default(), &[]).await;
    let client = client(&dev).await;
    let cluster = KubeCluster::new(client.clone());
    let shareds = install_crds(&cluster, &katalog).await.remove(0);
    let valid = katalog::valid::load_valid(&katalog, &Default::default()).unwrap_or_else(|e| panic!("{e}"));
    let opts = RuntimeOptions { http: Some("127.0.0.1:0".parse().unwrap()), ..RuntimeOptions::default() };
    let runtime = Runtime::start(client, valid, opts).await.unwrap();
    runtime.wait_started(Duration::from_secs(10)).await.unwrap();
    let addr = runtime.http_addr().unwrap();
    let cr = json!({"apiVersion": "demo.ork.dev/v1", "kind": "Shared", "metadata": {"name": "s", "namespace": "default"}, "spec": {}});
    cluster.create(&shareds, Some("default"), &cr).await.unwrap();
    wait_for(Duration::from_secs(20), "s Ready", || async {
        let s = cluster.get(&shareds, Some("default"), "s").await.map_err(|e| e.to_string())?;
        if is_ready(&s) { Ok(()) } else { Err(s["status"].to_string()) }
    })
    .await;
    let cms = katalog::kinds::known("", "ConfigMap").unwrap();
    let get = |name: &'static str| {
        let cluster = cluster.clone();
        let cms = cms.clone();
        async move { cluster.get(&cms, Some("default"), name).await.unwrap() }
    };
    let created = get("s-forced").await;
    assert!(entry(&created, "orkestra", "Update").is_some(), "ork creates its children with POST as `orkestra`: {created}");

    // A second field manager labels both children: ork's next reconciles keep the label and
    // write nothing.
    let other = |name: &str, data: &str| {
        dir.write(
            &format!("{name}{}.yaml", if data.is_empty() { "" } else { "-data" }),
            &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: default\n  labels: {{other.example/owner: me}}\n{data}"),
        )
        .to_string_lossy()
        .into_owned()
    };
    let (forced_before, kept_before, seen) = (writes(&dev, "s-forced"), writes(&dev, "s-kept"), reconciles(addr).await);
    for name in ["s-forced", "s-kept"] {
        ok(&kc, &["apply", "--server-side", "--field-manager=other-controller", "-f", &other(name, "")]).await;
    }
    wait_for(Duration::from_secs(10), "reconciles after the label", || async {
        let n = reconciles(addr).await;
        if n > seen { Ok(()) } else { Err(format!("{n} reconciles")) }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!((writes(&dev, "s-forced"), writes(&dev, "s-kept")), (forced_before + 1, kept_before + 1), "only the other manager's two applies");
    for name in ["s-forced", "s-kept"] {
        let cm = get(name).await;
        assert_eq!(cm["metadata"]["labels"]["other.example/owner"], "me", "{cm}");
        assert_eq!(cm["data"]["mode"], "ork");
    }

    // The other manager takes `.data.mode` of both by force. The entry with forceConflict:
    // true takes it back, once; the other (forceConflict: false from the CRD) reports the
    // conflict on the CR, naming the entry, the field and the other manager.
    let forced_before = writes(&dev, "s-forced");
    for name in ["s-forced", "s-kept"] {
        ok(&kc, &["apply", "--server-side", "--field-manager=other-controller", "--force-conflicts", "-f", &other(name, "data: {mode: other}\n")]).await;
    }
    let ready = wait_for(Duration::from_secs(20), "the conflict on the CR and s-forced taken back", || async {
        let s = cluster.get(&shareds, Some("default"), "s").await.map_err(|e| e.to_string())?;
        let forced = cluster.get(&cms, Some("default"), "s-forced").await.map_err(|e| e.to_string())?;
        let ready = s.pointer("/status/conditions").and_then(Value::as_array).and_then(|c| c.iter().find(|c| c["type"] == "Ready")).cloned();
        match ready {
            Some(r) if r["reason"] == "ApplyConflict" && forced["data"]["mode"] == "ork" => Ok(r),
            other => Err(format!("{other:?}, s-forced mode {}", forced["data"]["mode"])),
        }
    })
    .await;
    assert_eq!(ready["status"], "False");
    let message = ready["message"].as_str().unwrap();
    for want in ["onReconcile.configMaps[1]", "s-kept", ".data.mode", "\"other-controller\"", "forceConflict"] {
        assert!(message.contains(want), "{want} in {message}");
    }
    assert!(!message.contains("configMaps[0]"), "the forced entry has no error: {message}");
    let kept = get("s-kept").await;
    assert_eq!(kept["data"]["mode"], "other", "not forced: the other manager's value stays");
    let forced = get("s-forced").await;
    assert_eq!(forced["metadata"]["labels"]["other.example/owner"], "me", "the label survives the forced apply");
    assert!(entry(&forced, "orkestra", "Apply").unwrap()["fieldsV1"]["f:data"].get("f:mode").is_some(), "{forced}");
    assert!(entry(&forced, "other-controller", "Apply").unwrap()["fieldsV1"].get("f:data").is_none(), "forced back: {forced}");
    // Taken back once (the other manager's apply, then ork's), then quiet.
    let after = writes(&dev, "s-forced");
    assert_eq!(after, forced_before + 2, "one apply by the other manager, one by ork");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(writes(&dev, "s-forced"), after, "no write war");
    runtime.shutdown().await;
    dev.stop().await;
}
