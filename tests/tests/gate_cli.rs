//! `ork gate`: the webhooks' verdict offline, from the same `katalog::admission::Gate` the gateway
//! answers with — exit 0 allowed (warnings and the JSONPatch printed), 1 refused (every message),
//! 2 for usage and unreadable files.
#![allow(clippy::expect_used)]

use ork_tests::{TempDir, ork, root};

const SECURITY: &str = "demos/security";

fn gate(demo: &str, args: &[&str]) -> ork_tests::Run {
    let dir = root().join(SECURITY).join(demo);
    let mut all = vec!["gate"];
    all.extend_from_slice(args);
    ork(&dir, &all)
}

#[test]
fn a_cr_in_a_restricted_namespace_is_refused_with_the_namespace_protection_message() {
    let run = gate("namespace-protection", &["--cr", "invalid/cr-in-kube-system.yaml"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains(r#"[Bucket "sneaky"] namespace "kube-system" is restricted"#), "{}", run.stdout);
    let dir = TempDir::new("gate-ns");
    let cr = dir.write("cr.yaml", "apiVersion: storage.ork.dev/v1\nkind: Bucket\nmetadata: {name: b}\nspec: {}\n");
    let run = gate("namespace-protection", &["--cr", &cr.to_string_lossy(), "--namespace", "staging"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains(r#"[Bucket "b"] namespace "staging" is not in the allowed list: [team-* apps]"#), "{}", run.stdout);
    let run = gate("namespace-protection", &["--cr", &cr.to_string_lossy(), "--namespace", "team-billing"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn every_denial_is_printed_and_warnings_and_the_patch_are_shown() {
    let run = gate("admission-rules", &["--cr", "cr-denied.yaml"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("spec.engine must be postgres or mysql"), "{}", run.stdout);
    assert!(run.stdout.contains("spec.replicas must be between 1 and 5"), "{}", run.stdout);
    let dir = TempDir::new("gate-mutate");
    let cr = dir.write("db.yaml", "apiVersion: data.ork.dev/v1\nkind: Database\nmetadata: {name: x, namespace: prod-eu}\nspec: {engine: mysql}\n");
    let run = gate("admission-rules", &["--cr", &cr.to_string_lossy()]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("warning: [Database \"x\"] databases should carry an owner label"), "{}", run.stdout);
    assert!(run.stdout.contains("add /spec/replicas 1"), "{}", run.stdout);
    assert!(run.stdout.contains("add /spec/backupSchedule \"0 2 * * *\""), "{}", run.stdout);
    let json = gate("admission-rules", &["--cr", &cr.to_string_lossy(), "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(v["allowed"], true);
    assert_eq!(v["results"][0]["object"]["spec"]["replicas"], 1, "the stored object is the mutated one");
    assert_eq!(v["results"][0]["steps"][0]["webhook"], "mutate");
}

#[test]
fn deleting_a_labelled_object_is_refused_and_the_message_says_how_to_lift_it() {
    let dir = TempDir::new("gate-delete");
    let labelled = dir.write(
        "ledger.yaml",
        "apiVersion: finance.ork.dev/v1\nkind: Ledger\nmetadata: {name: main, namespace: default, labels: {orkestra.io/deletion-protection: \"true\"}}\n",
    );
    let run = gate("deletion-protection", &["--cr", &labelled.to_string_lossy(), "--op", "delete"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("kubectl label ledgers.finance.ork.dev main -n default orkestra.io/deletion-protection-"), "{}", run.stdout);
    let plain = dir.write("plain.yaml", "apiVersion: finance.ork.dev/v1\nkind: Ledger\nmetadata: {name: main, namespace: default}\n");
    assert_eq!(gate("deletion-protection", &["--cr", &plain.to_string_lossy(), "--op", "delete"]).code, 0);
}

#[test]
fn bad_input_is_a_clear_error_with_the_right_exit_code() {
    let missing = gate("admission-rules", &["--cr", "nope.yaml"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(missing.stderr.contains("nope.yaml"), "{}", missing.stderr);
    let dir = TempDir::new("gate-bad");
    let other = dir.write("cm.yaml", "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\n");
    let run = gate("admission-rules", &["--cr", &other.to_string_lossy()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("Gadget") && run.stderr.contains("Database"), "{}", run.stderr);
    let old_without_update = gate("admission-rules", &["--cr", "cr.yaml", "--old", "cr.yaml"]);
    assert_eq!(old_without_update.code, 2, "{}", old_without_update.stderr);
    let no_cr = ork(&root(), &["gate"]);
    assert_eq!(no_cr.code, 2);
}
