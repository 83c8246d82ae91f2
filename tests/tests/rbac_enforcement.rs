//! The dev cluster in RBAC mode: tokens authenticate, stored Roles and bindings authorize,
//! kubectl prints Kubernetes' 403 and 401 messages, `kubectl auth can-i` answers per RBAC, and
//! every decision is audited.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use services::devcluster::authz::User;
use services::devcluster::{DevCluster, Options};
use std::path::PathBuf;
use std::time::Duration;

async fn kubectl(kubeconfig: PathBuf, args: &[&str]) -> (i32, String) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new("kubectl").args(&args).env("KUBECONFIG", &kubeconfig).output().expect("kubectl is required");
        (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_roles_and_bindings_decide_and_kubectl_prints_the_answers() {
    let dir = ork_tests::TempDir::new("rbac-mode");
    let opts = Options {
        ready_after: Duration::from_secs(1),
        rbac: true,
        tokens: vec![("t-reader".into(), User::service_account("team", "reader"))],
        ..Options::default()
    };
    let dev = DevCluster::start(opts).await.unwrap();
    let admin = dir.write("admin.kubeconfig", &dev.kubeconfig());
    let reader = dir.write("reader.kubeconfig", &dev.kubeconfig_with_token("t-reader"));
    let stranger = dir.write("stranger.kubeconfig", &dev.kubeconfig_with_token("nobody-knows-me"));
    let setup = dir.write(
        "setup.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: cm-reader, namespace: team}\nrules:\n- {apiGroups: [\"\"], resources: [configmaps], verbs: [get, list, watch]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: reader, namespace: team}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: cm-reader}\nsubjects:\n- {kind: ServiceAccount, name: reader, namespace: team}\n",
    );
    let (code, out) = kubectl(admin.clone(), &["apply", "-f", &setup.to_string_lossy()]).await;
    assert_eq!(code, 0, "{out}");

    let (code, out) = kubectl(reader.clone(), &["-n", "team", "get", "configmaps"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("No resources found in team namespace."), "{out}");

    let cm = dir.write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: team}\n");
    let (code, out) = kubectl(reader.clone(), &["create", "-f", &cm.to_string_lossy()]).await;
    assert_ne!(code, 0);
    assert!(
        out.contains("Error from server (Forbidden)")
            && out.contains("configmaps is forbidden: User \"system:serviceaccount:team:reader\" cannot create resource \"configmaps\" in API group \"\" in the namespace \"team\""),
        "{out}"
    );
    let (code, out) = kubectl(reader.clone(), &["-n", "default", "get", "configmaps"]).await;
    assert_ne!(code, 0);
    assert!(out.contains("cannot list resource \"configmaps\" in API group \"\" in the namespace \"default\""), "{out}");
    let (code, out) = kubectl(reader.clone(), &["get", "namespaces"]).await;
    assert_ne!(code, 0);
    assert!(out.contains("cannot list resource \"namespaces\" in API group \"\" at the cluster scope"), "{out}");

    // `kubectl auth can-i` asks the same authorizer (kubectl sends the review as protobuf).
    let (code, out) = kubectl(reader.clone(), &["-n", "team", "auth", "can-i", "list", "configmaps"]).await;
    assert_eq!((code, out.trim()), (0, "yes"));
    let (code, out) = kubectl(reader.clone(), &["-n", "team", "auth", "can-i", "delete", "configmaps"]).await;
    assert_eq!((code, out.trim()), (1, "no"));
    let (code, out) = kubectl(admin.clone(), &["-n", "team", "auth", "can-i", "delete", "configmaps"]).await;
    assert_eq!((code, out.trim()), (0, "yes"));

    // An unknown token is not a user.
    let (code, out) = kubectl(stranger, &["get", "configmaps"]).await;
    assert_ne!(code, 0);
    assert!(out.contains("Unauthorized"), "{out}");

    // Every decision is in the audit log.
    let audit = dev.audit();
    let denied: Vec<_> = audit.iter().filter(|e| !e.allowed).collect();
    assert!(
        denied.iter().any(|e| e.user == "system:serviceaccount:team:reader"
            && e.request.verb == "create"
            && e.request.resource == "configmaps"
            && e.request.namespace.as_deref() == Some("team")),
        "{audit:?}"
    );
    assert!(audit.iter().any(|e| e.allowed && e.user == "system:serviceaccount:team:reader" && e.request.verb == "list"));
    dev.stop().await;
}
