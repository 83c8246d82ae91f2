use super::model::{ChildState, CrState, Started, Update};
use super::*;
use crate::workbench::harness::Harness;
use crate::workbench::view::result_for;
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

fn demo(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../demos").join(rel)
}

fn started() -> Started {
    Started {
        dev: true,
        cluster: "https://127.0.0.1:6443".into(),
        kubeconfig: Some("/tmp/ork-live/kubeconfig".into()),
        runtime: None,
        gateway: None,
        plurals: vec!["websites".into()],
    }
}

fn website(ns: &str, name: &str, ready: bool) -> CrState {
    let obj = json!({
        "kind": "Website",
        "metadata": {"namespace": ns, "name": name, "uid": format!("uid-{ns}-{name}"), "creationTimestamp": "2026-01-01T00:00:00Z"},
        "status": {"phase": if ready {"Available"} else {"Progressing"},
                   "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}, "reason": "ReconcileSucceeded", "message": ""}]},
    });
    CrState::from_object(&obj).unwrap_or_else(|| panic!("a CR"))
}

/// Replaces what changes from run to run: ports, the temporary directory, ages in minutes
/// or more (seconds are scrubbed by `Harness::render`).
fn scrub(text: &str) -> String {
    let tmp = std::env::temp_dir().display().to_string();
    let text = text.replace(&tmp, "$TMP");
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("127.0.0.1:").or_else(|| rest.find("ork-live-")) {
        let j = [rest.find("127.0.0.1:"), rest.find("ork-live-")].into_iter().flatten().min().unwrap_or(i);
        let (head, tail) = rest.split_at(j);
        out.push_str(head);
        let prefix = if tail.starts_with("127.0.0.1:") { "127.0.0.1:" } else { "ork-live-" };
        out.push_str(prefix);
        let after = &tail[prefix.len()..];
        let digits = after.find(|c: char| !(c.is_ascii_digit() || c == '-')).unwrap_or(after.len());
        out.push_str(if prefix == "127.0.0.1:" { "PORT" } else { "N" });
        rest = &after[digits..];
    }
    out.push_str(rest);
    // How often the runtime reconciled (and said so in an Event) depends on timing.
    let out = match (out.find(" (×"), out.find(" (×").and_then(|i| out[i..].find(')').map(|j| i + j))) {
        (Some(i), Some(j)) => format!("{}{}", &out[..i], &out[j + 1..]),
        _ => out,
    };
    out.lines()
        .map(|l| {
            l.split(' ')
                .map(|w| {
                    let n = w.trim_end_matches(['m', 'h', 'd']);
                    if n.len() < w.len() && w.len() - n.len() == 1 && !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) {
                        format!("N{}", &w[n.len()..])
                    } else {
                        w.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_start_screen_at_80_by_24() {
    let mut h = Harness::open(&demo("beginner/hello-website"));
    h.keys("7");
    insta::assert_snapshot!(h.render(80, 24));
}

#[test]
fn an_invalid_katalog_does_not_start() {
    let mut h = Harness::open(&demo("beginner/hello-website/invalid/katalog-typo.yaml"));
    h.keys("7d");
    assert_eq!(h.app.status(), FIX_FIRST);
    assert!(h.render(80, 24).contains(FIX_FIRST));
}

#[test]
fn a_thousand_crs_stream_in_and_draw() {
    let mut h = Harness::open(&demo("beginner/hello-website"));
    h.keys("7");
    h.send(result_for(ViewId::Live, Update::Started(started())));
    for i in 0..1000 {
        h.send(result_for(ViewId::Live, Update::Cr(website(&format!("ns-{}", i % 7), &format!("site-{i:04}"), i % 3 != 0))));
        let child = json!({"kind": "Deployment", "metadata": {"namespace": format!("ns-{}", i % 7), "name": format!("site-{i:04}-web"),
            "ownerReferences": [{"uid": format!("uid-ns-{}-site-{i:04}", i % 7)}]}, "spec": {"replicas": 1}, "status": {"readyReplicas": 1}});
        if let Some(c) = ChildState::from_object(&child) {
            h.send(result_for(ViewId::Live, Update::Child(c)));
        }
    }
    h.render(100, 30);
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).unwrap_or_else(|e| panic!("{e}"));
    let t = Instant::now();
    for _ in 0..20 {
        h.keys("j");
        h.draw(&mut terminal);
    }
    eprintln!("1,000 CRs: {:?} per key + frame (this build)", t.elapsed() / 20);
    h.keys("jjj<PgDn>G/site-09<Enter>");
    h.render(80, 24);
}

fn ctx_parts() -> (crate::workbench::jobs::Jobs, crate::workbench::app::Options) {
    let (tx, _rx) = std::sync::mpsc::channel();
    (crate::workbench::jobs::Jobs::new(tx), crate::workbench::app::Options::default())
}

#[test]
fn rows_are_sorted_and_the_selection_stays_on_its_cr() {
    let (jobs, options) = ctx_parts();
    let ctx = Ctx { analysis: None, jobs: &jobs, theme: crate::workbench::theme::Theme { color: false }, options: &options };
    let mut v = LiveView::default();
    v.on_update(Update::Started(started()));
    for (ns, n) in [("b", "x"), ("a", "z"), ("a", "y")] {
        v.on_update(Update::Cr(website(ns, n, true)));
    }
    let order: Vec<String> = v.model.rows().iter().map(|r| r.cr().path()).collect();
    assert_eq!(order, ["a/y", "a/z", "b/x"]);
    v.on_key(KeyEvent::from(KeyCode::Char('j')), &ctx);
    assert_eq!(v.selected().map(|k| k.path()).as_deref(), Some("a/z"));
    // A CR sorted before the selection arrives: the selection stays on a/z.
    v.on_update(Update::Cr(website("a", "a", false)));
    assert_eq!(v.selected().map(|k| k.path()).as_deref(), Some("a/z"));
    // It goes away again.
    v.on_update(Update::CrGone(website("a", "a", false).key));
    assert_eq!(v.selected().map(|k| k.path()).as_deref(), Some("a/z"));
    v.on_key(KeyEvent::from(KeyCode::Char('G')), &ctx);
    assert_eq!(v.selected().map(|k| k.path()).as_deref(), Some("b/x"));
    // D asks before deleting; anything but y cancels.
    v.session = None;
    assert!(matches!(v.on_key(KeyEvent::from(KeyCode::Char('D')), &ctx), Action::Status(s) if s == "nothing runs"));
}

/// The Live view fed by the dev cluster: `d` starts it with the runtime as `ork run --dev`
/// does, the demo's crFiles CR becomes Ready with its Deployment and Service; quitting stops
/// the dev cluster and the runtime.
#[test]
fn the_live_view_fed_by_the_dev_cluster() {
    let mut h = Harness::open(&demo("beginner/hello-website"));
    h.keys("7d");
    let began = Instant::now();
    let ready = |text: &str| {
        text.contains("Website      default/hello")
            && text.lines().any(|l| l.contains("default/hello") && l.contains("Ready") && l.contains("Available"))
            && text.lines().any(|l| l.contains("Deployment hello-web") && l.contains("✓ 2/2"))
            && text.lines().any(|l| l.contains("Service hello") && l.contains("✓"))
            && text.contains("website healthy")
    };
    let mut raw = String::new();
    while began.elapsed() < Duration::from_secs(60) {
        h.wait_until(Duration::from_millis(300), |_| false);
        raw = h.render_raw(100, 30);
        if ready(&raw) {
            break;
        }
    }
    assert!(ready(&raw), "the Website never became Ready with its children:\n{raw}\nstatus: {}", h.app.status());
    insta::assert_snapshot!(scrub(&h.render(100, 30)));
    // Where the cluster and the runtime listen, to check that they stop.
    let addr = |marker: &str| -> std::net::SocketAddr {
        let at = raw.find(marker).unwrap_or_else(|| panic!("{marker} in\n{raw}")) + marker.len();
        let port: String = raw[at..].chars().take_while(char::is_ascii_digit).collect();
        format!("127.0.0.1:{port}").parse().unwrap_or_else(|e| panic!("{e}"))
    };
    let (cluster, runtime) = (addr("dev cluster https://127.0.0.1:"), addr("runtime http://127.0.0.1:"));
    let kubeconfig = raw.lines().find_map(|l| l.split_whitespace().skip_while(|w| *w != "--kubeconfig").nth(1)).map(std::path::PathBuf::from);
    assert!(kubeconfig.as_ref().is_some_and(|k| k.exists()), "{kubeconfig:?}");
    h.keys("q");
    assert_eq!(h.control, crate::workbench::app::Control::Quit);
    let quitting = Instant::now();
    drop(h);
    assert!(quitting.elapsed() < Duration::from_secs(10), "quitting took {:?}", quitting.elapsed());
    for a in [cluster, runtime] {
        assert!(std::net::TcpStream::connect_timeout(&a, Duration::from_millis(500)).is_err(), "{a} still listens after quitting");
    }
    assert!(kubeconfig.is_some_and(|k| !k.exists()), "the kubeconfig is removed with the dev cluster");
}

/// Renders until `done` holds for the frame (at most 60 s); returns the last frame.
fn wait_for_frame(h: &mut Harness, done: impl Fn(&str) -> bool) -> String {
    let began = Instant::now();
    let mut raw = String::new();
    while began.elapsed() < Duration::from_secs(60) {
        h.wait_until(Duration::from_millis(200), |_| false);
        raw = h.render_raw(100, 30);
        if done(&raw) {
            return raw;
        }
    }
    panic!("not reached within 60 s:\n{raw}\nstatus: {}", h.app.status());
}

/// On the dev cluster with the admission gateway: a CR file the deny rules refuse shows as a
/// refused row that explains the 403; an accepted one becomes Ready with its children; `D`
/// then `y` deletes it.
#[test]
fn apply_refused_by_the_gateway_apply_and_delete_on_the_dev_cluster() {
    let mut h = Harness::open(&demo("security/admission-rules"));
    h.keys("7d");
    wait_for_frame(&mut h, |t| t.contains("● dev cluster") && t.contains("gateway ✓") && t.contains("a applies cr-denied.yaml"));
    h.keys("a");
    let raw = wait_for_frame(&mut h, |t| t.lines().any(|l| l.contains("default/legacy") && l.contains("Refused")));
    assert!(raw.contains("refused: 403 Forbidden") && raw.contains("spec.engine must be postgres or mysql"), "{raw}");
    h.keys("]a");
    wait_for_frame(&mut h, |t| {
        t.lines().any(|l| l.contains("default/orders") && l.contains("Ready") && !l.contains("NotReady"))
            && t.lines().any(|l| l.contains("StatefulSet orders") && l.contains("✓ 2/2"))
            && t.contains("boxes database healthy")
    });
    insta::assert_snapshot!(scrub(&h.render(100, 30)));
    h.keys("j");
    let raw = h.render_raw(100, 30);
    assert!(raw.contains("┌ Database default/orders"), "{raw}");
    h.keys("D");
    assert!(h.render(100, 30).lines().any(|l| l == "delete Database default/orders? y/n"));
    h.keys("n");
    assert_eq!(h.app.status(), "delete cancelled");
    h.keys("Dy");
    wait_for_frame(&mut h, |t| !t.lines().any(|l| l.starts_with('│') && l.contains("default/orders")) && t.contains("default/legacy"));
    assert!(h.app.status().starts_with("✓ deleted Database default/orders"), "{}", h.app.status());
    h.keys(":live stop<Enter>");
    wait_for_frame(&mut h, |t| t.contains("start the embedded dev cluster"));
}
