//! The production gateway binary is what `cargo build --release -p ork-gateway` builds on its
//! own: `gate` and `version` only, and neither the runtime, the reconciler, the dev cluster,
//! authoring nor the workbench is linked into it. The patterns that `ork` carries are found in
//! `ork`, so the check can fail.

use std::process::Command;

/// Demangled symbol names of a binary.
fn symbols(bin: &std::path::Path) -> String {
    let out = Command::new("nm").args(["-C", "--defined-only"]).arg(bin).output().expect("nm (binutils)");
    assert!(out.status.success(), "nm failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Symbol patterns of code that must not ship in the gateway, with what each stands for.
const FORBIDDEN: &[(&str, &str)] = &[
    ("services::runtime::", "the runtime (OperatorBoxes, queues)"),
    ("services::reconcile::", "the reconciler"),
    ("services::devcluster::", "the embedded dev cluster"),
    ("services::simulate::", "the simulate runner"),
    ("katalog::authoring::", "authoring: RBAC derivation, bundle and CRD generation, diff/plan"),
    (" ork::", "the ork workbench (the `ork` binary crate: CLI and TUI)"),
];

#[test]
fn the_release_gateway_has_gate_and_version_and_no_runtime_reconciler_devcluster_authoring_or_tui_code() {
    ork_tests::cargo_build(&["--release", "-p", "ork-gateway"]);
    let bin = ork_tests::target_dir().join("release").join("ork-gateway");
    let help = Command::new(&bin).arg("--help").output().unwrap();
    assert!(help.status.success());
    let help = String::from_utf8_lossy(&help.stdout);
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(commands, ["gate", "version", "help"], "{help}");
    let version = Command::new(&bin).arg("version").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&version.stdout).trim(), format!("ork-gateway {}", env!("CARGO_PKG_VERSION")));
    let gate_help = String::from_utf8_lossy(&Command::new(&bin).args(["gate", "--help"]).output().unwrap().stdout).into_owned();
    for flag in ["--file", "--namespace", "--webhook-port", "--port", "--tls-cert", "--tls-key", "--service-name", "--sync-interval", "--leader-elect"] {
        assert!(gate_help.contains(flag), "{flag} missing from gate --help:\n{gate_help}");
    }
    assert!(!gate_help.contains("--dev"), "--dev is an `ork gate serve` (workbench) flag:\n{gate_help}");

    let gateway = symbols(&bin);
    assert!(gateway.contains("services::gateway::housekeeper::"), "positive control: gateway symbols are visible to nm");
    assert!(gateway.contains("rcgen::"), "positive control: certificate generation is linked");
    for (pattern, what) in FORBIDDEN.iter().copied().chain([("ratatui", "the terminal UI library")]) {
        let hits: Vec<&str> = gateway.lines().filter(|l| l.contains(pattern)).take(3).collect();
        assert!(hits.is_empty(), "{what} ({pattern}) is linked into ork-gateway: {hits:?}");
    }
    let bytes = std::fs::read(&bin).unwrap();
    for needle in ["Serve a container image as a website", "kind: Simulate"] {
        assert!(!bytes.windows(needle.len()).any(|w| w == needle.as_bytes()), "scaffold text {needle:?} is in ork-gateway");
    }
    // The same patterns occur in `ork`, which carries everything: the check is meaningful.
    let ork = symbols(&ork_tests::ork_bin());
    for (pattern, what) in FORBIDDEN {
        assert!(ork.contains(pattern), "{what}: {pattern} not found in ork either; the pattern is stale");
    }
    eprintln!("ork-gateway release binary: {} bytes", std::fs::metadata(&bin).unwrap().len());
}
