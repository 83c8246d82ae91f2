//! The workbench's frame budgets (ARCHITECTURE.md §7), measured on the real `App` drawing on
//! ratatui's `TestBackend` (everything but the terminal's own I/O):
//!
//! - `first-frame`: open each demo (pattern discovery, the first validation) and draw the first
//!   frame, in process — budget < 150 ms (tests/perf/tui.sh measures it with process start, in a
//!   pseudo-terminal).
//! - `revalidate`: a save of a generated 50-CRD Katalog: validate again, hand the analysis to
//!   every view, draw — budget < 50 ms.
//! - `frames`: every view of every demo drawn 50 times at 120×40 — budget < 16 ms per frame.
//! - `scroll`: a 10,000-line YAML preview paged through, a frame per step — budget < 16 ms.
//! - `live`: the Live view with 1,000 CRs (each with a Deployment child) streaming in as watch
//!   events, a frame after every 10 events, then scrolled and filtered — budget < 16 ms.
//!
//! Run: `cargo bench -j2 -p ork-tui --bench workbench`. Prints p50 / p99 / max per benchmark;
//! exits 1 when a budget is missed.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use ork_tui::report::{Doc, Line, Tone};
use ork_tui::workbench::analysis::Analysis;
use ork_tui::workbench::app::{App, Options};
use ork_tui::workbench::harness::Harness;
use ork_tui::workbench::jobs::Jobs;
use ork_tui::workbench::msg::Msg;
use ork_tui::workbench::pattern::Pattern;
use ork_tui::workbench::theme::Theme;
use ork_tui::workbench::view::{ViewId, result_for};
use ork_tui::workbench::views::live::model::{ChildState, CrState, Started, Update};
use ork_tui::workbench::widgets::{DocPane, Move};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn demos() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for pack in ["beginner", "intermediate", "security"] {
        let mut dirs: Vec<PathBuf> =
            std::fs::read_dir(root().join("demos").join(pack)).unwrap().filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()).collect();
        dirs.sort();
        out.extend(dirs);
    }
    out
}

struct Stats {
    name: String,
    samples: Vec<Duration>,
    budget: Duration,
}

impl Stats {
    fn pct(&self, p: f64) -> Duration {
        let mut s = self.samples.clone();
        s.sort();
        s[((s.len() as f64 - 1.0) * p).round() as usize]
    }

    fn report(&self) -> bool {
        let max = self.samples.iter().max().copied().unwrap_or_default();
        let ok = max < self.budget;
        println!(
            "{:<44} n={:<5} p50 {:>8.3} ms  p99 {:>8.3} ms  max {:>8.3} ms  budget {:>4} ms  {}",
            self.name,
            self.samples.len(),
            ms(self.pct(0.5)),
            ms(self.pct(0.99)),
            ms(max),
            self.budget.as_millis(),
            if ok { "ok" } else { "MISSED" }
        );
        ok
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn timed(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

fn main() {
    let mut ok = true;
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();

    // First frame: open + first validation + draw, per demo.
    for d in demos() {
        let mut samples = Vec::new();
        for _ in 0..10 {
            // What `ork tui` does before its first frame, synchronously (the harness's settle
            // would add its quiet period): open the pattern, validate, draw.
            samples.push(timed(|| {
                let pattern = Pattern::open(Some(&d), None).unwrap();
                let (tx, _rx) = std::sync::mpsc::channel();
                let mut app = App::new(pattern.clone(), Options::default(), Jobs::new(tx), Theme { color: true });
                let _ = app.update(Msg::Analyzed(Arc::new(Analysis::run(1, pattern, &Default::default()))));
                term.draw(|f| app.render(f)).unwrap();
            }));
        }
        let name = format!("first-frame {}", d.file_name().unwrap().to_string_lossy());
        ok &= Stats { name, samples, budget: Duration::from_millis(150) }.report();
    }

    // Re-validate and redraw after a save of a 50-CRD Katalog.
    let tmp = std::env::temp_dir().join(format!("ork-bench-tui-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let generated = std::process::Command::new("python3").arg(root().join("tests/perf/gen_katalog.py")).arg("50").output().unwrap();
    assert!(generated.status.success(), "gen_katalog.py failed");
    std::fs::write(tmp.join("katalog.yaml"), &generated.stdout).unwrap();
    let mut h = Harness::open(&tmp);
    assert!(h.app.analysis().is_some_and(|a| a.is_valid() && a.report.crds.len() == 50), "the 50-CRD Katalog is valid");
    let mut samples = Vec::new();
    for (i, view) in ViewId::ALL.iter().cycle().take(70).enumerate() {
        h.app.switch_to(*view);
        h.settle();
        let pattern = h.app.pattern().clone();
        let opts = h.app.options.load.clone();
        samples.push(timed(|| {
            let a = Analysis::run(1000 + i as u64, pattern, &opts);
            h.send(Msg::Analyzed(Arc::new(a)));
            h.draw(&mut term);
        }));
    }
    h.settle();
    ok &= Stats { name: "revalidate+redraw 50-CRD katalog".into(), samples, budget: Duration::from_millis(50) }.report();
    let _ = std::fs::remove_dir_all(&tmp);

    // Every view of every demo, drawn repeatedly.
    let mut samples = Vec::new();
    for d in demos() {
        let mut h = Harness::open(&d);
        for view in ViewId::ALL {
            h.app.switch_to(view);
            h.settle();
            for _ in 0..50 {
                samples.push(timed(|| h.draw(&mut term)));
            }
        }
    }
    ok &= Stats { name: "frames (every view of every demo)".into(), samples, budget: Duration::from_millis(16) }.report();

    // A 10,000-line preview, paged through.
    let mut doc = Doc::new();
    for i in 0..10_000 {
        let mut l = Line::new();
        l.push(Tone::Plain, format!("  item-{i}:"));
        l.push(Tone::Accent, format!(" value-{i} # note"));
        doc.push(l);
    }
    let mut pane = DocPane::new(doc);
    let theme = Theme { color: true };
    let mut samples = Vec::new();
    for step in 0..400 {
        pane.apply(if step < 200 { Move::Pages(1) } else { Move::By(-7) });
        samples.push(timed(|| {
            term.draw(|f| pane.render(f, f.area(), &theme, "preview")).unwrap();
        }));
    }
    ok &= Stats { name: "scroll a 10,000-line preview".into(), samples, budget: Duration::from_millis(16) }.report();

    // The Live view on 1,000 CRs.
    let mut h = Harness::open(&root().join("demos/beginner/hello-website"));
    h.keys("7");
    let started =
        Started { dev: true, cluster: "https://127.0.0.1:6443".into(), kubeconfig: None, runtime: None, gateway: None, plurals: vec!["websites".into()] };
    h.send(result_for(ViewId::Live, Update::Started(started)));
    let mut samples = Vec::new();
    for i in 0..1000 {
        let (ns, name) = (format!("team-{}", i % 7), format!("site-{i:04}"));
        let cr = json!({"kind": "Website", "metadata": {"namespace": ns, "name": name, "uid": format!("uid-{i}"), "creationTimestamp": "2026-01-01T00:00:00Z"},
            "status": {"phase": "Available", "conditions": [{"type": "Ready", "status": if i % 5 == 0 {"False"} else {"True"}, "reason": "ReconcileSucceeded", "message": ""}]}});
        let child = json!({"kind": "Deployment", "metadata": {"namespace": ns, "name": format!("{name}-web"), "ownerReferences": [{"uid": format!("uid-{i}")}]},
            "spec": {"replicas": 2}, "status": {"readyReplicas": 2}});
        h.send(result_for(ViewId::Live, Update::Cr(CrState::from_object(&cr).unwrap())));
        h.send(result_for(ViewId::Live, Update::Child(ChildState::from_object(&child).unwrap())));
        if i % 10 == 9 {
            samples.push(timed(|| h.draw(&mut term)));
        }
    }
    for keys in ["<PgDn>", "<PgDn>", "G", "k", "g", "/site-09<Enter>", "<Esc>"] {
        h.keys(keys);
        samples.push(timed(|| h.draw(&mut term)));
    }
    ok &= Stats { name: "live view, 1,000 CRs streaming in".into(), samples, budget: Duration::from_millis(16) }.report();

    if !ok {
        std::process::exit(1);
    }
}
