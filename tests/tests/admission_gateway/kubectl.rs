//! Admission at `kubectl` time, with the gateway beside the dev cluster: the exact messages users
//! search for, deny and warn rules, deletion protection and how to lift it, a deleted webhook
//! configuration healing within 5 s, and what `failurePolicy` means when the gateway is down.

use super::*;

fn bucket(name: &str, ns: &str) -> String {
    format!("apiVersion: storage.ork.dev/v1\nkind: Bucket\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec: {{tier: standard}}\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_apply_into_a_restricted_or_not_allowed_namespace_fails_with_the_message_and_an_allowed_one_succeeds() {
    let s = Stack::start(&demo("namespace-protection").join("katalog.yaml"), &["team-a", "staging"]).await;

    let (code, out) = s.apply("kube-system.yaml", &bucket("sneaky", "kube-system")).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(r#"admission webhook "namespace-protection.orkestra.orkspace.io" denied the request"#), "{out}");
    assert!(out.contains(r#"[Bucket "sneaky"] namespace "kube-system" is restricted"#), "{out}");

    let (code, out) = s.apply("staging.yaml", &bucket("my-bucket", "staging")).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(r#"[Bucket "my-bucket"] namespace "staging" is not in the allowed list: [team-* apps]"#), "{out}");

    let (code, out) = s.apply("team-a.yaml", &bucket("ok", "team-a")).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("bucket.storage.ork.dev/ok created"), "{out}");

    // Neither refused Bucket was stored.
    for (name, ns) in [("sneaky", "kube-system"), ("my-bucket", "staging")] {
        let (code, out) = s.kubectl(&["get", "bucket", name, "-n", ns, "--ignore-not-found", "-o", "name"]).await;
        assert_eq!((code, out.trim()), (0, ""), "{name} in {ns} must not be stored");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cr_breaking_two_deny_rules_is_refused_with_both_messages_and_a_warn_rule_prints_kubectls_warning() {
    let d = demo("admission-rules");
    let s = Stack::start(&d.join("katalog.yaml"), &[]).await;

    let (code, out) = s.kubectl(&["apply", "-f", &d.join("cr-denied.yaml").to_string_lossy()]).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(r#"admission webhook "validate.orkestra.orkspace.io" denied the request"#), "{out}");
    assert!(out.contains("spec.engine must be postgres or mysql"), "{out}");
    assert!(out.contains("spec.replicas must be between 1 and 5"), "{out}");
    let (_, out) = s.kubectl(&["get", "databases", "-A", "-o", "name"]).await;
    assert!(!out.contains("legacy"), "the denied Database was stored: {out}");

    let (code, out) = s.kubectl(&["apply", "-f", &d.join("invalid/cr-no-owner.yaml").to_string_lossy()]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(r#"Warning: [Database "orphan"] databases should carry an owner label"#), "{out}");
    assert!(out.contains("database.data.ork.dev/orphan created"), "{out}");
    // The mutation webhook defaulted what the CR left out.
    let (code, out) = s.kubectl(&["get", "database", "orphan", "-o", "jsonpath={.spec.replicas}"]).await;
    assert_eq!((code, out.trim()), (0, "1"), "{out}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_delete_of_a_deletion_protected_object_is_refused_and_succeeds_after_the_label_is_removed() {
    let d = demo("deletion-protection");
    let s = Stack::start(&d.join("katalog.yaml"), &[]).await;
    let ledger = "apiVersion: finance.ork.dev/v1\nkind: Ledger\nmetadata:\n  name: main\n  namespace: default\n  labels: {orkestra.io/deletion-protection: \"true\"}\nspec: {currency: EUR}\n";
    let (code, out) = s.apply("ledger.yaml", ledger).await;
    assert_eq!(code, 0, "{out}");
    let (code, out) = s.kubectl(&["apply", "-f", &d.join("setup.yaml").to_string_lossy()]).await;
    assert_eq!(code, 0, "{out}");

    for (what, args, lift) in [
        ("ledger", ["ledger", "main"], "`kubectl label ledgers.finance.ork.dev main -n default orkestra.io/deletion-protection-`"),
        ("configmap", ["configmap", "ledger-audit"], "`kubectl label configmaps ledger-audit -n default orkestra.io/deletion-protection-`"),
    ] {
        let (code, out) = s.kubectl(&["delete", args[0], args[1], "--wait=false"]).await;
        assert_eq!(code, 1, "{what}: {out}");
        assert!(out.contains("is protected from deletion (label orkestra.io/deletion-protection=true)"), "{what}: {out}");
        assert!(out.contains(&format!("to delete it, first remove the label with {lift}")), "{what}: {out}");
        let (code, out) = s.kubectl(&["get", args[0], args[1], "-o", "name"]).await;
        assert_eq!(code, 0, "{what} is still there: {out}");

        let (code, out) = s.kubectl(&["label", args[0], args[1], "orkestra.io/deletion-protection-"]).await;
        assert_eq!(code, 0, "{what}: {out}");
        let (code, out) = s.kubectl(&["delete", args[0], args[1], "--wait=false"]).await;
        assert_eq!(code, 0, "{what}, unlabelled, is deleted: {out}");
    }
    // The CRD itself is protected too (protectCRD), and no label lifts that.
    let (code, out) = s.kubectl(&["delete", "crd", "ledgers.finance.ork.dev"]).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(r#"[CustomResourceDefinition "ledgers.finance.ork.dev"] is protected from deletion by Katalog "deletion-protection""#), "{out}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_validatingwebhookconfiguration_is_back_within_5s_and_protection_holds_again() {
    let s = Stack::start(&demo("namespace-protection").join("katalog.yaml"), &[]).await;
    let name = katalog::install::WebhookConfig::NamespaceProtection.name(NS);
    let (code, out) = s.kubectl(&["delete", "validatingwebhookconfiguration", &name]).await;
    assert_eq!(code, 0, "{out}");
    let (code, _) = s.kubectl(&["get", "validatingwebhookconfiguration", &name]).await;
    assert_ne!(code, 0, "deleted");
    within("the configuration back", Duration::from_secs(5), || async { s.kubectl(&["get", "validatingwebhookconfiguration", &name]).await.0 == 0 }).await;
    let (code, out) = s.apply("kube-system.yaml", &bucket("sneaky", "kube-system")).await;
    assert_eq!(code, 1, "protection holds again: {out}");
    assert!(out.contains(r#"[Bucket "sneaky"] namespace "kube-system" is restricted"#), "{out}");
    s.stop().await;
}

/// The namespace-protection demo's Katalog with `failurePolicy: POLICY`.
fn with_policy(dir: &TempDir, policy: &str) -> PathBuf {
    let text = std::fs::read_to_string(demo("namespace-protection").join("katalog.yaml")).unwrap();
    assert!(text.contains("failurePolicy: Fail"));
    dir.write(&format!("{policy}/katalog.yaml"), &text.replace("failurePolicy: Fail", &format!("failurePolicy: {policy}")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_gateway_stopped_failure_policy_fail_refuses_the_create_and_ignore_stores_it() {
    let dir = TempDir::new("admission-policy");
    for (policy, refused) in [("Fail", true), ("Ignore", false)] {
        let mut s = Stack::start(&with_policy(&dir, policy), &["team-a"]).await;
        // Running: refused either way.
        let (code, out) = s.apply("a.yaml", &bucket("sneaky", "kube-system")).await;
        assert_eq!(code, 1, "{policy}, gateway running: {out}");
        s.stop_gateway().await;
        let name = katalog::install::WebhookConfig::NamespaceProtection.name(NS);
        let (code, out) = s.kubectl(&["get", "validatingwebhookconfiguration", &name, "-o", "jsonpath={.webhooks[0].failurePolicy}"]).await;
        assert_eq!((code, out.trim()), (0, policy), "the configuration outlives the gateway (no cleanupOnShutdown)");
        let (code, out) = s.apply("b.yaml", &bucket("while-down", "team-a")).await;
        if refused {
            assert_eq!(code, 1, "Fail: the API server refuses what it cannot check: {out}");
            assert!(out.contains(r#"failed calling webhook "namespace-protection.orkestra.orkspace.io""#), "{out}");
            let (_, out) = s.kubectl(&["get", "bucket", "while-down", "-n", "team-a", "--ignore-not-found", "-o", "name"]).await;
            assert_eq!(out.trim(), "", "not stored");
        } else {
            assert_eq!(code, 0, "Ignore: stored unchecked: {out}");
            let (code, out) = s.kubectl(&["get", "bucket", "while-down", "-n", "team-a", "-o", "name"]).await;
            assert_eq!((code, out.trim()), (0, "bucket.storage.ork.dev/while-down"), "{out}");
        }
        s.stop().await;
    }
}
