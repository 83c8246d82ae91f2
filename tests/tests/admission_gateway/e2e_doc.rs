//! The e2e.yaml fields that assert admission outcomes: `kubectl.apply` and `kubectl.delete` with
//! `exitCode` and output assertions validate, and bad values are reported at their position.

use ork_tests::{TempDir, ork, root};

fn doc(dir: &TempDir, kubectl: &str) -> std::path::PathBuf {
    let demo = root().join("demos/security/namespace-protection");
    let p = |f: &str| demo.join(f).to_string_lossy().into_owned();
    dir.write(
        "e2e.yaml",
        &format!(
            "apiVersion: orkestra.orkspace.io/v1\nkind: E2E\nmetadata: {{name: t}}\nspec:\n  katalog: {}\n  cr: {}\n  expect:\n    - name: refused\n      kubectl:\n{kubectl}",
            p("katalog.yaml"),
            p("cr.yaml"),
        ),
    )
}

#[test]
fn apply_and_delete_with_exit_code_and_output_assertions_validate() {
    let dir = TempDir::new("e2e-doc-ok");
    let f = doc(
        &dir,
        "        apply: [{inline: {kind: X}, exitCode: 1, outputContains: 'is restricted'}]\n        delete: [{kind: Ledger, name: main, exitCode: 1, outputContains: protected, regex: 'kubectl label'}]\n        patch: [{kind: Ledger, name: main, patch: {a: 1}, exitCode: 1, outputNotContains: patched}]\n",
    );
    let r = ork(dir.path(), &["validate", "-f", &f.to_string_lossy()]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
}

#[test]
fn a_bad_exit_code_or_assertion_is_reported_at_its_position() {
    let dir = TempDir::new("e2e-doc-bad");
    let f = doc(
        &dir,
        "        delete:\n          - {kind: Ledger, name: main, exitCode: 256, regex: '('}\n        apply:\n          - {inline: {kind: X}, exitCode: -1}\n",
    );
    let r = ork(dir.path(), &["validate", "-f", &f.to_string_lossy()]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("e2e.yaml:11:50: error[invalid-value]: `exitCode: 256` is not an exit code"), "at the value itself: {}", r.stderr);
    assert!(r.stderr.contains("e2e.yaml:13:43: error[invalid-value]: `exitCode: -1` is not an exit code"), "{}", r.stderr);
    assert!(r.stderr.contains("`exitCode: 256` is not an exit code"), "{}", r.stderr);
    assert!(r.stderr.contains("`exitCode: -1` is not an exit code"), "{}", r.stderr);
    assert!(r.stderr.contains("exit codes are 0–255"), "{}", r.stderr);
    assert!(r.stderr.contains("invalid regular expression"), "delete steps' assertions are checked too: {}", r.stderr);
}
