//! The workbench, black box: the real `ork` binary in a real terminal (tmux), driven with keys
//! and read back from the screen — views switched by number and by `:name`, a save on disk
//! seen without a key press, simulate run, quit with the terminal restored.

use ork_tests::{TempDir, Tmux, ork_bin, root};
use std::time::Duration;

/// Copies a demo directory into a temporary one (so the test can edit it).
fn copy_demo(rel: &str, tmp: &TempDir) {
    let src = root().join("demos").join(rel);
    let status = std::process::Command::new("cp").arg("-R").arg(format!("{}/.", src.display())).arg(tmp.path()).status();
    assert!(matches!(status, Ok(s) if s.success()), "cp {rel}: {status:?}");
}

fn start(tmp: &TempDir) -> Tmux {
    let cmd = format!(
        "{} tui .; echo \"ORK-EXITED:$?\"; stty -a | tr ' ' '\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '; sleep 600",
        ork_bin().display()
    );
    // An "editor" that records how it was called.
    let editor = tmp.write("editor.sh", "#!/bin/sh\necho \"$@\" > editor-args\n");
    let _ = std::process::Command::new("chmod").arg("+x").arg(&editor).status();
    let editor = editor.display().to_string();
    Tmux::start(tmp.path(), &cmd, 100, 30, &[("NO_COLOR", "1"), ("ORK_NAMESPACE", "orkestra-system"), ("EDITOR", &editor), ("VISUAL", "")])
}

#[test]
fn the_workbench_follows_saves_switches_views_simulates_and_restores_the_terminal() {
    let tmp = TempDir::new("tui");
    copy_demo("security/admission-rules", &tmp);
    let t = start(&tmp);
    let long = Duration::from_secs(20);
    t.wait_for("the first frame", long, |s| s.contains("katalog.yaml") && s.contains("✓ valid") && s.contains("1 katalog"));
    assert!(t.alternate_screen(), "the workbench draws on the alternate screen");

    // Views by number and by `:name`.
    t.send(&["2"]);
    t.wait_for("the problems view", long, |s| s.contains("problems — 0 error(s)") && s.contains("no problems"));
    t.type_text(":katalog");
    t.send(&["Enter"]);
    t.wait_for("the katalog view by name", long, |s| s.contains("▾ operatorBox"));
    t.type_text(":problems");
    t.send(&["Enter"]);
    t.wait_for("the problems view by name", long, |s| s.contains("problems — 0 error(s)"));

    // A save that breaks a key shows up, with the key and its line, within 2 s and without a
    // key press; fixing it clears it.
    let path = tmp.path().join("katalog.yaml");
    let good = std::fs::read_to_string(&path).unwrap_or_default();
    let line = good.lines().position(|l| l.trim_start().starts_with("onReconcile:")).map(|i| i + 1).unwrap_or_else(|| panic!("the demo has an onReconcile"));
    std::fs::write(&path, good.replacen("onReconcile:", "onReconcil:", 1)).unwrap_or_else(|e| panic!("{e}"));
    let (screen, took) =
        t.wait_for("the diagnostic of the broken key", Duration::from_secs(5), |s| s.contains("onReconcil`") && s.contains(&format!("katalog.yaml:{line}:")));
    assert!(took < Duration::from_secs(2), "the diagnostic took {took:?}:\n{screen}");
    assert!(screen.contains("✗ 1 error(s)"), "the header shows the error count:\n{screen}");
    std::fs::write(&path, &good).unwrap_or_else(|e| panic!("{e}"));
    let (_, took) = t.wait_for("the diagnostic to clear", Duration::from_secs(5), |s| s.contains("no problems") && s.contains("✓ valid"));
    assert!(took < Duration::from_secs(2), "clearing took {took:?}");

    // `e` hands the terminal to $EDITOR at the selected node's line and takes it back.
    t.type_text(":goto 35");
    t.send(&["Enter"]);
    t.wait_for("the node at line 35", long, |s| s.contains("katalog.yaml:35"));
    t.send(&["e"]);
    let args_file = tmp.path().join("editor-args");
    let started = std::time::Instant::now();
    while !args_file.exists() && started.elapsed() < long {
        std::thread::sleep(Duration::from_millis(25));
    }
    // Back in the workbench: the status says the file was edited (then validated).
    let (screen, _) = t.wait_for("the workbench after the editor", long, |s| {
        s.contains("1 katalog") && (s.contains("edited katalog.yaml") || s.contains("validated after the change"))
    });
    let args = std::fs::read_to_string(&args_file).unwrap_or_default();
    assert_eq!(args.trim(), "+35 katalog.yaml", "the editor opens the Katalog at the node's line:\n{screen}");
    assert!(t.alternate_screen() && screen.contains("1 katalog"), "the workbench is back:\n{screen}");

    // Simulate: every file passes.
    t.send(&["4"]);
    t.wait_for("simulate to pass", Duration::from_secs(30), |s| s.contains("PASS") && s.contains("✓ 2/2"));

    // Quit: the terminal is restored (main screen, canonical mode and echo back on).
    t.send(&["q"]);
    let (screen, _) = t.wait_for("ork to exit", long, |s| s.contains("ORK-EXITED:") && s.contains("icanon"));
    assert!(screen.contains("ORK-EXITED:0"), "exit code 0:\n{screen}");
    assert!(screen.contains("icanon") && !screen.contains("-icanon") && !screen.contains("-echo"), "terminal modes restored:\n{screen}");
    assert!(!t.alternate_screen(), "the alternate screen is left");
}

#[test]
fn a_directory_without_a_katalog_is_refused_with_help_and_exit_2() {
    let tmp = TempDir::new("tui-empty");
    let cmd = format!("{} tui .; echo \"ORK-EXITED:$?\"; sleep 600", ork_bin().display());
    let t = Tmux::start(tmp.path(), &cmd, 100, 30, &[("NO_COLOR", "1")]);
    let (screen, _) = t.wait_for("ork to exit", Duration::from_secs(20), |s| s.contains("ORK-EXITED:"));
    assert!(screen.contains("ORK-EXITED:2") && screen.contains("no katalog.yaml or komposer.yaml") && screen.contains("ork init"), "{screen}");
}

#[test]
fn without_a_terminal_ork_tui_says_so_and_ork_alone_prints_help() {
    let tmp = TempDir::new("tui-pipe");
    let out = ork_tests::ork(tmp.path(), &["tui"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("needs a terminal"), "{out:?}");
    let out = ork_tests::ork(tmp.path(), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("Usage: ork") && out.stdout.contains("tui"), "{out:?}");
}

#[test]
fn ork_alone_opens_the_workbench_and_a_panic_still_restores_the_terminal() {
    let tmp = TempDir::new("tui-alone");
    copy_demo("beginner/hello-website", &tmp);
    let cmd = format!(
        "{} 2>panic.txt; echo \"ORK-EXITED:$?\"; stty -a | tr ' ' '\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '; sleep 600",
        ork_bin().display()
    );
    let t = Tmux::start(tmp.path(), &cmd, 80, 24, &[("NO_COLOR", "1")]);
    t.wait_for("the workbench", Duration::from_secs(20), |s| s.contains("katalog.yaml") && s.contains("✓ valid"));
    // The tests' (debug) binary has a command that panics.
    t.type_text(":__panic");
    t.send(&["Enter"]);
    let (screen, _) = t.wait_for("ork to exit", Duration::from_secs(20), |s| s.contains("ORK-EXITED:") && s.contains("icanon"));
    assert!(!screen.contains("ORK-EXITED:0"), "a panic is a failure:\n{screen}");
    assert!(!screen.contains("-icanon") && !screen.contains("-echo"), "terminal modes restored after the panic:\n{screen}");
    assert!(!t.alternate_screen(), "the alternate screen is left after the panic");
    let report = std::fs::read_to_string(tmp.path().join("panic.txt")).unwrap_or_default();
    assert!(report.contains("panic requested"), "the panic is reported on stderr: {report}");
}

#[test]
fn the_live_view_runs_the_operator_on_the_dev_cluster_and_shows_the_cr_ready_with_its_children() {
    let tmp = TempDir::new("tui-live");
    copy_demo("beginner/hello-website", &tmp);
    let t = start(&tmp);
    let long = Duration::from_secs(30);
    t.wait_for("the first frame", long, |s| s.contains("✓ valid"));
    t.type_text(":live");
    t.send(&["Enter"]);
    t.wait_for("the live start screen", long, |s| s.contains("dev cluster") || s.contains("d "));
    // Start the dev cluster with the runtime (as `ork run --dev`): cr.yaml is applied as a crFile.
    t.send(&["d"]);
    t.wait_for("the Website Ready with its Deployment and Service", Duration::from_secs(60), |s| {
        s.contains("✓ Website") && s.contains("Ready") && s.contains("Deployment hello-web") && s.contains("Service hello")
    });
    // Apply the demo CR from the view.
    t.send(&["a"]);
    t.wait_for("the apply to be reported", long, |s| s.contains("applied") && s.contains("cr.yaml"));
    t.wait_for("still Ready", long, |s| s.contains("✓ Website") && s.contains("Available"));
    t.send(&["q"]);
    let (screen, _) = t.wait_for("ork to exit", long, |s| s.contains("ORK-EXITED:") && s.contains("icanon"));
    assert!(screen.contains("ORK-EXITED:0") && !screen.contains("-icanon"), "quits cleanly with the dev cluster running:\n{screen}");
    assert!(!t.alternate_screen());
}
