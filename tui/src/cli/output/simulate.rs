//! `ork simulate` and the `simulate init` / `e2e init` scaffolds: cycle-by-cycle reports (text and JSON).

use super::*;

/// The JSON report of simulated files.
pub fn simulate_json(files: &[FileRun]) {
    let doc = json!({"schemaVersion": 1, "passed": files.iter().all(FileRun::passed), "files": files});
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut out, &doc);
    let _ = writeln!(out);
}

/// The text report of simulated files.
pub fn simulate_text(files: &[FileRun]) {
    let color = stdout_color();
    let mut out = std::io::stdout().lock();
    for f in files {
        simulate_file(&mut out, f, color);
    }
}

/// The writes of a cycle, merged per resource/object: `+` created, `-` deleted, `~` changed.
fn writes(run: &CrdRun, cycle: usize) -> Vec<String> {
    let mut merged: BTreeMap<(String, String), char> = BTreeMap::new();
    let mut order = Vec::new();
    for op in run.cycles[cycle].ops.iter().filter(|o| o.is_write()) {
        let target = match (&op.namespace, &op.name) {
            (Some(ns), Some(n)) => format!("{ns}/{n}"),
            (None, Some(n)) => n.clone(),
            _ => String::new(),
        };
        let k = (op.resource.clone(), target);
        let icon = match op.verb {
            "create" => '+',
            "delete" => '-',
            _ => '~',
        };
        match merged.get_mut(&k) {
            Some(c) if *c == '+' => {}
            Some(c) if icon == '+' || (icon == '-' && *c == '~') => *c = icon,
            Some(_) => {}
            None => {
                order.push(k.clone());
                merged.insert(k, icon);
            }
        }
    }
    order.into_iter().map(|k| format!("{} {} {}", merged[&k], k.0, k.1).trim_end().to_string()).collect()
}

fn simulate_file(out: &mut impl Write, f: &FileRun, color: bool) {
    let _ = writeln!(out, "Simulating {} ({})", f.name, f.file);
    for n in &f.notes {
        let _ = writeln!(out, "  note: {n}");
    }
    for run in &f.runs {
        let _ = writeln!(out, "  crd {}, CR {}", run.crd, run.cr);
        let mut i = 0;
        while i < run.cycles.len() {
            let c = &run.cycles[i];
            if c.quiet() {
                let mut j = i;
                while j + 1 < run.cycles.len() && run.cycles[j + 1].quiet() && run.cycles[j + 1].outcome == c.outcome && run.cycles[j + 1].error == c.error {
                    j += 1;
                }
                let reads = c.ops.len();
                let span = if j > i {
                    format!("cycles {}–{}: only reads ({reads} request(s) each)", c.cycle, run.cycles[j].cycle)
                } else {
                    format!("cycle {}: only reads ({reads} request(s))", c.cycle)
                };
                let _ = writeln!(out, "    {span}, {}", c.outcome);
                if let Some(e) = &c.error {
                    let _ = writeln!(out, "      {}", paint(color, "31", &format!("! {e}")));
                }
                i = j + 1;
                continue;
            }
            let _ = writeln!(out, "    cycle {}: {}", c.cycle, c.outcome);
            for w in writes(run, i) {
                let _ = writeln!(out, "      {w}");
            }
            if let Some(e) = &c.error {
                let _ = writeln!(out, "      {}", paint(color, "31", &format!("! {e}")));
            }
            i += 1;
        }
        let timing = format!("{:.1} ms", run.millis);
        match run.steady_at {
            Some(c) => {
                let _ = writeln!(out, "    {}", paint(color, "32", &format!("✓ steady at cycle {c} ({timing})")));
            }
            None => {
                let _ = writeln!(out, "    ~ no steady state in {} cycles ({timing})", run.cycles.len());
            }
        }
        if run.deleted {
            let _ = writeln!(out, "    the CR is gone");
        }
        for c in &run.checks {
            let line = if c.passed { paint(color, "32", &format!("✓ {}", c.name)) } else { paint(color, "31", &format!("✗ {}: {}", c.name, c.detail)) };
            let _ = writeln!(out, "    {line}");
        }
        let verdict = if run.passed() { paint(color, "32", "PASS") } else { paint(color, "31", "FAIL") };
        let _ = writeln!(out, "    {verdict}");
    }
}

/// One discovered simulate file's verdict line (and, when it failed, its report).
pub fn simulate_discovered(shown: &str, millis: f64, files: &[FileRun]) {
    let color = stdout_color();
    let mut out = std::io::stdout().lock();
    let ok = files.iter().all(FileRun::passed);
    let verdict = if ok { paint(color, "32", "✓ passed") } else { paint(color, "31", "✗ failed") };
    let _ = writeln!(out, "{shown:<60} {verdict} ({millis:.1} ms)");
    if !ok {
        for f in files {
            simulate_file(&mut out, f, color);
        }
    }
}

/// A discovered simulate file that could not run.
pub fn simulate_cannot_run(shown: &str) {
    let color = stdout_color();
    print_line(&format!("{shown:<60} {}", paint(color, "31", "✗ cannot run")));
}

/// The summary of a discovery run.
pub fn simulate_summary(found: usize, failed: &[String]) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{} file(s): {} passed, {} failed", found, found - failed.len(), failed.len());
    for f in failed {
        let _ = writeln!(out, "  rerun: ork simulate -f {f}");
    }
}

/// The confirmation of a written simulate.yaml.
pub fn simulate_scaffold_written(s: &Scaffold) {
    let shown = display_path(&s.path);
    print_line(&format!("✓ wrote {shown}: {} CRD(s), {} op rule(s). Run `ork simulate -f {shown}` to check it.", s.targets, s.rules));
}

/// The confirmation of a written e2e.yaml, with the namespaces a fresh cluster lacks.
pub fn e2e_scaffold_written(s: &Scaffold) {
    let shown = display_path(&s.path);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "✓ wrote {shown}: {} CR(s), {} expectation(s). Run `ork e2e -f {shown}` to check it.", s.targets, s.rules);
    for ns in &s.missing_namespaces {
        let _ = writeln!(out, "  note: the CRs use namespace {ns}, which a fresh cluster lacks: add a Namespace manifest under spec.setup");
    }
}
