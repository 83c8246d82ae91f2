//! The production runtime binary is what `cargo build --release -p ork-runtime` builds on its
//! own (ARCHITECTURE.md §1): it offers `run` and `version` only, and none of ork's authoring code
//! (bundle generation, CRD generation, scaffolds), dev cluster, simulate runner or workbench is
//! linked into it. The same symbol patterns are found in `ork`, so the check can fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

/// Demangled symbol names of a binary.
fn symbols(bin: &std::path::Path) -> String {
    let out = Command::new("nm").args(["-C", "--defined-only"]).arg(bin).output().expect("nm (binutils)");
    assert!(out.status.success(), "nm failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Symbol patterns of code that must not ship in the runtime, with what each stands for.
const FORBIDDEN: &[(&str, &str)] = &[
    ("katalog::authoring::", "authoring: RBAC derivation, bundle and CRD generation, diff/plan"),
    ("services::devcluster::", "the embedded dev cluster"),
    ("services::simulate::", "the simulate runner"),
    (" ork::", "the ork workbench (the `ork` binary crate: CLI and TUI)"),
    ("rcgen::", "certificate generation (dev cluster TLS)"),
];

#[test]
fn the_release_runtime_has_run_and_version_and_no_authoring_devcluster_or_tui_code() {
    let bin = ork_tests::release_runtime_bin();
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
    assert_eq!(commands, ["run", "version", "help"], "{help}");
    let version = Command::new(&bin).arg("version").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&version.stdout).trim(), format!("ork-runtime {}", env!("CARGO_PKG_VERSION")));
    let run_help = String::from_utf8_lossy(&Command::new(&bin).args(["run", "--help"]).output().unwrap().stdout).into_owned();
    for flag in ["--file", "--namespace", "--context", "--port", "--leader-elect", "--log-format"] {
        assert!(run_help.contains(flag), "{flag} missing from run --help:\n{run_help}");
    }
    for dev_only in ["--dev", "--kubeconfig"] {
        assert!(!run_help.contains(dev_only), "{dev_only} is an `ork run` (workbench) flag:\n{run_help}");
    }

    let runtime = symbols(&bin);
    assert!(runtime.contains("services::runtime::operator::"), "positive control: runtime symbols are visible to nm");
    assert!(runtime.contains("services::reconcile::"), "positive control");
    for (pattern, what) in FORBIDDEN {
        let hits: Vec<&str> = runtime.lines().filter(|l| l.contains(pattern)).take(3).collect();
        assert!(hits.is_empty(), "{what} ({pattern}) is linked into ork-runtime: {hits:?}");
    }
    // Scaffolds are embedded text: the packs of `ork init` must not be in the binary either.
    let bytes = std::fs::read(&bin).unwrap();
    for needle in ["Serve a container image as a website", "kind: Simulate"] {
        assert!(!bytes.windows(needle.len()).any(|w| w == needle.as_bytes()), "scaffold text {needle:?} is in ork-runtime");
    }

    // The same patterns do occur in `ork`, which carries everything: the check is meaningful.
    let ork = symbols(&ork_tests::ork_bin());
    for (pattern, what) in FORBIDDEN {
        assert!(ork.contains(pattern), "{what}: {pattern} not found in ork either; the pattern is stale");
    }
    let ork_bytes = std::fs::read(ork_tests::ork_bin()).unwrap();
    let needle = b"Serve a container image as a website";
    assert!(ork_bytes.windows(needle.len()).any(|w| w == needle), "positive control: ork embeds the packs");
    let size = std::fs::metadata(&bin).unwrap().len();
    eprintln!("ork-runtime release binary: {size} bytes");
}
