//! The dev cluster in RBAC mode: tokens authenticate, stored Roles and bindings authorize,
//! kubectl prints Kubernetes' 403 and 401 messages, `kubectl auth can-i` answers per RBAC, and
//! every decision is audited.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use services::devcluster::authz::User;
use services::devcluster::{DevCluster, Options};
use std::path::PathBuf;
use std::time::Duration;

async fn kubectl(kubeconfig: PathBuf, args: &[&str]) -> (i32, String) {
    crate::rt::kubectl(&kubeconfig, args).await
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

/// A dev cluster in RBAC mode with a namespace `team` where `alice` may only manage Roles and
/// RoleBindings (and `bob` nothing at all); returns it with the admin's, alice's and bob's
/// kubeconfigs.
async fn team_cluster(dir: &ork_tests::TempDir) -> (DevCluster, PathBuf, PathBuf, PathBuf) {
    let opts = Options { rbac: true, tokens: vec![("t-alice".into(), User::named("alice")), ("t-bob".into(), User::named("bob"))], ..Options::default() };
    let dev = DevCluster::start(opts).await.unwrap();
    let admin = dir.path().join("admin.kubeconfig");
    dev.write_kubeconfig(&admin).unwrap();
    let alice = dir.write("alice.kubeconfig", &dev.kubeconfig_with_token("t-alice"));
    let bob = dir.write("bob.kubeconfig", &dev.kubeconfig_with_token("t-bob"));
    let setup = dir.write(
        "setup.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: rbac-editor, namespace: team}\nrules:\n- {apiGroups: [rbac.authorization.k8s.io], resources: [roles, rolebindings], verbs: [create, get, list, update, patch]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: alice-rbac, namespace: team}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: rbac-editor}\nsubjects: [{kind: User, name: alice}]\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: team}\nstringData: {password: s3cr3t}\n",
    );
    let (code, out) = kubectl(admin.clone(), &["apply", "-f", &setup.to_string_lossy()]).await;
    assert_eq!(code, 0, "{out}");
    (dev, admin, alice, bob)
}

/// Issue 13, defect 3: a user allowed only to create Roles and RoleBindings used to create a
/// Role `*/*/*`, bind it to herself and read Secrets. Now a Role may grant only what its author
/// holds (or with `escalate`), a binding only a role whose permissions its author holds (or with
/// `bind` on it), with the API server's messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rbac_escalation_roles_and_bindings_grant_only_what_their_author_holds() {
    let dir = ork_tests::TempDir::new("rbac-escalation");
    let (dev, admin, alice, _) = team_cluster(&dir).await;
    let everything = dir.write(
        "everything.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: everything, namespace: team}\nrules:\n- {apiGroups: [\"*\"], resources: [\"*\"], verbs: [\"*\"]}\n",
    );
    let (code, out) = kubectl(alice.clone(), &["create", "-f", &everything.to_string_lossy()]).await;
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("roles.rbac.authorization.k8s.io \"everything\" is forbidden: user \"alice\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"*\"], Resources:[\"*\"], Verbs:[\"*\"]}"),
        "{out}"
    );
    // Binding an existing powerful role (cluster-admin, edit) is refused the same way …
    let (code, out) = kubectl(alice.clone(), &["-n", "team", "create", "rolebinding", "me-admin", "--clusterrole=cluster-admin", "--user=alice"]).await;
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("rolebindings.rbac.authorization.k8s.io \"me-admin\" is forbidden: user \"alice\""), "{out}");
    assert!(out.contains("{APIGroups:[\"*\"], Resources:[\"*\"], Verbs:[\"*\"]}"), "{out}");
    let (code, out) = kubectl(alice.clone(), &["-n", "team", "create", "rolebinding", "me-edit", "--clusterrole=edit", "--user=alice"]).await;
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains(
            "{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\" \"list\" \"watch\" \"create\" \"delete\" \"deletecollection\" \"patch\" \"update\"]}"
        ),
        "the missing rules, verbs compacted per resource: {out}"
    );
    // … and Secrets stay out of reach.
    let (code, out) = kubectl(alice.clone(), &["-n", "team", "get", "secrets"]).await;
    assert_ne!(code, 0);
    assert!(out.contains("secrets is forbidden: User \"alice\" cannot list resource \"secrets\""), "{out}");
    // A binding to a role that does not exist is a 404, as the API server answers.
    let (code, out) = kubectl(alice.clone(), &["-n", "team", "create", "rolebinding", "ghost", "--role=nope", "--user=alice"]).await;
    assert_ne!(code, 0);
    assert!(out.contains("roles.rbac.authorization.k8s.io \"nope\" not found"), "{out}");
    // What alice holds she may grant: a Role with a subset of her rules, and a binding to it.
    let (code, out) =
        kubectl(alice.clone(), &["-n", "team", "create", "role", "reader", "--verb=get,list", "--resource=roles.rbac.authorization.k8s.io"]).await;
    assert_eq!(code, 0, "{out}");
    let (code, out) = kubectl(alice.clone(), &["-n", "team", "create", "rolebinding", "reader", "--role=reader", "--user=carol"]).await;
    assert_eq!(code, 0, "{out}");
    // Updates are checked as creates: widening her own Role to Secrets is refused.
    let (code, out) = kubectl(
        alice.clone(),
        &[
            "-n",
            "team",
            "patch",
            "role",
            "reader",
            "--type=json",
            "-p",
            r#"[{"op":"add","path":"/rules/-","value":{"apiGroups":[""],"resources":["secrets"],"verbs":["get"]}}]"#,
        ],
    )
    .await;
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("roles.rbac.authorization.k8s.io \"reader\" is forbidden") && out.contains("{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\"]}"),
        "{out}"
    );
    // With `escalate` she may write any Role; with `bind` on `view`, bind it.
    let grant = dir.write(
        "grant.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: escalator, namespace: team}\nrules:\n- {apiGroups: [rbac.authorization.k8s.io], resources: [roles], verbs: [escalate]}\n- {apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [bind], resourceNames: [view]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: alice-escalator, namespace: team}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: escalator}\nsubjects: [{kind: User, name: alice}]\n",
    );
    let (code, out) = kubectl(admin.clone(), &["apply", "-f", &grant.to_string_lossy()]).await;
    assert_eq!(code, 0, "{out}");
    let (code, out) = kubectl(alice.clone(), &["create", "-f", &everything.to_string_lossy()]).await;
    assert_eq!(code, 0, "escalate allows it: {out}");
    let (code, out) = kubectl(alice.clone(), &["-n", "team", "create", "rolebinding", "me-view", "--clusterrole=view", "--user=alice"]).await;
    assert_eq!(code, 0, "bind on view allows it: {out}");
    let (code, out) = kubectl(alice.clone(), &["-n", "team", "create", "rolebinding", "me-edit", "--clusterrole=edit", "--user=alice"]).await;
    assert_ne!(code, 0, "bind is restricted to view: {out}");
    // The refused attempts are in the audit log, with the API server's message.
    assert!(
        dev.audit().iter().any(|e| !e.allowed && e.user == "alice" && e.refused.as_deref().is_some_and(|m| m.contains("\"me-admin\""))),
        "escalation refusals are audited"
    );
    dev.stop().await;
}

/// Issue 13, defect 4: `--as` used to be ignored (answers and actions were the admin's). Now
/// impersonation is authorized with the `impersonate` verb and applied; `kubectl auth can-i
/// --list` and `kubectl auth whoami` are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn impersonation_is_authorized_and_applied_never_ignored() {
    let dir = ork_tests::TempDir::new("rbac-impersonate");
    let (dev, admin, alice, bob) = team_cluster(&dir).await;
    let (code, out) = kubectl(admin.clone(), &["auth", "can-i", "create", "pods", "--as", "alice"]).await;
    assert_eq!((code, out.trim()), (1, "no"), "answered for alice, not the admin");
    let (code, out) = kubectl(admin.clone(), &["-n", "team", "auth", "can-i", "create", "roles", "--as", "alice"]).await;
    assert_eq!((code, out.trim()), (0, "yes"));
    let (code, out) = kubectl(admin.clone(), &["-n", "team", "get", "configmaps", "--as", "alice"]).await;
    assert_ne!(code, 0, "runs as alice: {out}");
    assert!(out.contains("configmaps is forbidden: User \"alice\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"team\""), "{out}");
    let (code, out) = kubectl(admin.clone(), &["-n", "team", "get", "configmaps", "--as", "bob", "--as-group", "system:masters"]).await;
    assert_eq!(code, 0, "an admin may impersonate a group: {out}");
    let (code, out) = kubectl(admin.clone(), &["auth", "whoami", "--as", "alice", "--as-group", "devs"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Username    alice") && out.contains("Groups      [devs system:authenticated]"), "{out}");
    // Impersonating needs the impersonate verb: alice may not become the admin.
    let (code, out) = kubectl(alice.clone(), &["get", "namespaces", "--as", "ork-dev-admin"]).await;
    assert_ne!(code, 0);
    assert!(
        out.contains("users \"ork-dev-admin\" is forbidden: User \"alice\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope"),
        "{out}"
    );
    let (code, out) = kubectl(bob.clone(), &["get", "pods", "--as-group", "system:masters", "--as", "bob"]).await;
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("cannot impersonate resource"), "{out}");
    // The rules alice holds in `team`, as `kubectl auth can-i --list` shows them.
    let (code, out) = kubectl(alice.clone(), &["-n", "team", "auth", "can-i", "--list"]).await;
    assert_eq!(code, 0, "{out}");
    let row = out.lines().find(|l| l.starts_with("roles.rbac.authorization.k8s.io")).unwrap_or_else(|| panic!("{out}"));
    assert!(row.ends_with("[create get list update patch]"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("selfsubjectaccessreviews.authorization.k8s.io")), "{out}");
    assert!(!out.contains("secrets"), "{out}");
    let (code, out) = kubectl(bob.clone(), &["auth", "whoami"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Username    bob"), "{out}");
    dev.stop().await;
}

/// Issue 13, defect 6: every dev cluster used the fixed admin token `ork-dev-admin`,
/// kubeconfigs were written 0644, and without `--rbac` anonymous requests were served. Now the
/// token is random per start, kubeconfigs are private, anonymous requests are refused (but
/// `/version` and the health endpoints, public on every cluster), and tokens that could not mean
/// what they say are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_cluster_credentials_are_random_private_and_required() {
    use std::os::unix::fs::PermissionsExt;
    let dir = ork_tests::TempDir::new("dev-credentials");
    let token = |kc: &str| kc.lines().find_map(|l| l.trim().strip_prefix("token: ")).map(str::to_string).unwrap();
    let a = DevCluster::start(Options::default()).await.unwrap();
    let b = DevCluster::start(Options { rbac: true, ..Options::default() }).await.unwrap();
    let (ta, tb) = (token(&a.kubeconfig()), token(&b.kubeconfig()));
    assert_ne!(ta, tb, "a token per start");
    assert!(ta.len() >= 32 && ta != "ork-dev-admin", "{ta}");
    let kc = dir.path().join("sub/dev.kubeconfig");
    a.write_kubeconfig(&kc).unwrap();
    assert_eq!(std::fs::metadata(&kc).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::read_dir(dir.path().join("sub")).unwrap().count(), 1, "no temporary file left beside it");
    let (code, out) = kubectl(kc.clone(), &["get", "namespaces", "-o", "name"]).await;
    assert_eq!(code, 0, "{out}");
    // Anonymous (no credentials) on the non-RBAC cluster, asked with curl: public paths only.
    let ca = dir.write("ca.pem", a.ca_pem().unwrap());
    let curl = |path: &str| {
        let out = std::process::Command::new("curl")
            .args(["-s", "--cacert", &ca.to_string_lossy(), "-w", "\n%{http_code}", &format!("{}{path}", a.url())])
            .output()
            .expect("curl is required");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap();
        (code.to_string(), body.to_string())
    };
    let (code, body) = curl("/api/v1/namespaces/default/configmaps");
    assert_eq!(code, "403", "{body}");
    assert!(body.contains("configmaps is forbidden: User \\\"system:anonymous\\\" cannot list resource \\\"configmaps\\\" in API group \\\"\\\" in the namespace \\\"default\\\""), "{body}");
    for path in ["/version", "/healthz", "/readyz", "/livez"] {
        assert_eq!(curl(path).0, "200", "{path} is public");
    }
    let (code, body) = curl("/apis");
    assert_eq!(code, "403", "{body}");
    assert!(body.contains("cannot get path \\\"/apis\\\""), "{body}");
    let wrong = std::process::Command::new("curl")
        .args([
            "-s",
            "--cacert",
            &ca.to_string_lossy(),
            "-H",
            "Authorization: Bearer ork-dev-admin",
            "-w",
            "%{http_code}",
            "-o",
            "/dev/null",
            &format!("{}/api", a.url()),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&wrong.stdout), "401", "the old fixed token is no credential");
    // Tokens without RBAC, and a token given twice, are refused at start.
    let e = DevCluster::start(Options { tokens: vec![("t".into(), User::named("x"))], ..Options::default() }).await.err().unwrap();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{e}");
    let twice = Options { rbac: true, tokens: vec![("t".into(), User::named("x")), ("t".into(), User::named("y"))], ..Options::default() };
    let e = DevCluster::start(twice).await.err().unwrap();
    assert!(e.to_string().contains("the same token is given for x and y"), "{e}");
    // Debug output names users, never tokens.
    let shown = format!("{:?}", Options { rbac: true, tokens: vec![("s3cr3t-t0ken".into(), User::named("x"))], ..Options::default() });
    assert!(!shown.contains("s3cr3t-t0ken") && shown.contains("\"x\""), "{shown}");
    a.stop().await;
    b.stop().await;
}
