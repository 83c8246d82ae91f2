//! The production runtime binary is what `cargo build --release -p ork-runtime` builds on its
//! own (statically linked, as its image holds it) (ARCHITECTURE.md §1): it offers `run` and `version` only, and none of ork's authoring code
//! (bundle generation, CRD generation, scaffolds), dev cluster, simulate runner or workbench is
//! linked into it. The same symbol patterns are found in `ork`, so the check can fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ork_tests::production::{assert_only_its_own_code, subcommands};
use std::process::Command;

/// Symbol patterns of code that must not ship in the runtime, with what each stands for.
const FORBIDDEN: &[(&str, &str)] = &[
    ("katalog::authoring::", "authoring: RBAC derivation, bundle and CRD generation, diff/plan"),
    ("services::devcluster::", "the embedded dev cluster"),
    ("services::simulate::", "the simulate runner"),
    (" ork::", "the ork workbench (the `ork` binary crate: CLI and TUI)"),
    ("oci::pattern::", "registry push, pull and signing (the `oci` crate)"),
    ("rcgen::", "certificate generation (dev cluster TLS)"),
];

#[test]
fn the_release_runtime_has_run_and_version_and_no_authoring_devcluster_or_tui_code() {
    let bin = ork_tests::release_runtime_bin();
    assert_eq!(subcommands(&bin), ["run", "version", "help"]);
    let version = Command::new(&bin).arg("version").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&version.stdout).trim(), format!("ork-runtime {}", env!("CARGO_PKG_VERSION")));
    let run_help = String::from_utf8_lossy(&Command::new(&bin).args(["run", "--help"]).output().unwrap().stdout).into_owned();
    for flag in ["--file", "--namespace", "--context", "--port", "--leader-elect", "--log-format"] {
        assert!(run_help.contains(flag), "{flag} missing from run --help:\n{run_help}");
    }
    for dev_only in ["--dev", "--kubeconfig"] {
        assert!(!run_help.contains(dev_only), "{dev_only} is an `ork run` (workbench) flag:\n{run_help}");
    }

    let runtime = assert_only_its_own_code(&bin, FORBIDDEN);
    assert!(runtime.contains("services::runtime::operator::"), "positive control: runtime symbols are visible to nm");
    assert!(runtime.contains("services::reconcile::"), "positive control");
    let size = std::fs::metadata(&bin).unwrap().len();
    eprintln!("ork-runtime release binary: {size} bytes");
}
