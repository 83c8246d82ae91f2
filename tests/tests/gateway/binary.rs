//! The production gateway binary is what `cargo build --release -p ork-gateway` builds on its
//! own (statically linked, as its image holds it): `gate` and `version` only, and neither the runtime, the reconciler, the dev cluster,
//! authoring nor the workbench is linked into it. The patterns that `ork` carries are found in
//! `ork`, so the check can fail.

use ork_tests::production::{assert_only_its_own_code, subcommands};
use std::process::Command;

/// Symbol patterns of code that must not ship in the gateway, with what each stands for.
const FORBIDDEN: &[(&str, &str)] = &[
    ("services::runtime::", "the runtime (OperatorBoxes, queues)"),
    ("services::reconcile::", "the reconciler"),
    ("services::devcluster::", "the embedded dev cluster"),
    ("services::simulate::", "the simulate runner"),
    ("katalog::authoring::", "authoring: RBAC derivation, bundle and CRD generation, diff/plan"),
    (" ork::", "the ork workbench (the `ork` binary crate: CLI and TUI)"),
    ("oci::pattern::", "registry push, pull and signing (the `oci` crate)"),
];

#[test]
fn the_release_gateway_has_gate_and_version_and_no_runtime_reconciler_devcluster_authoring_or_tui_code() {
    let bin = ork_tests::release_static_bin("ork-gateway");
    assert_eq!(subcommands(&bin), ["gate", "version", "help"]);
    let version = Command::new(&bin).arg("version").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&version.stdout).trim(), format!("ork-gateway {}", env!("CARGO_PKG_VERSION")));
    let gate_help = String::from_utf8_lossy(&Command::new(&bin).args(["gate", "--help"]).output().unwrap().stdout).into_owned();
    for flag in ["--file", "--namespace", "--webhook-port", "--port", "--tls-cert", "--tls-key", "--service-name", "--sync-interval", "--leader-elect"] {
        assert!(gate_help.contains(flag), "{flag} missing from gate --help:\n{gate_help}");
    }
    assert!(!gate_help.contains("--dev"), "--dev is an `ork gate serve` (workbench) flag:\n{gate_help}");

    let gateway = assert_only_its_own_code(&bin, FORBIDDEN);
    assert!(gateway.contains("services::gateway::housekeeper::"), "positive control: gateway symbols are visible to nm");
    assert!(gateway.contains("rcgen::"), "positive control: certificate generation is linked");
    let tui: Vec<&str> = gateway.lines().filter(|l| l.contains("ratatui")).take(3).collect();
    assert!(tui.is_empty(), "the terminal UI library (ratatui) is linked into ork-gateway: {tui:?}");
    eprintln!("ork-gateway release binary: {} bytes", std::fs::metadata(&bin).unwrap().len());
}
