//! `ork simulate` and `ork simulate init`.

use crate::validate::paint;
use crate::{Output, default_file, use_color};
use katalog::diag::display_path;
use katalog::yaml::emit;
use serde_json::{Value, json};
use services::runtime::command::LoadArgs;
use services::simulate::{CrdRun, FileRun, Plan, SimError, is_suite, load_katalog, read_crs, run_file, simulate_crd, targets};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Arguments of `ork simulate`.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    /// A simulate.yaml, or `DIR/...` to run every `*simulate.yaml` below DIR (default: ./simulate.yaml).
    target: Option<String>,
    /// The simulate.yaml to run.
    #[arg(short = 'f', long = "file", conflicts_with = "target")]
    file: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
    #[command(flatten)]
    load: LoadArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Write a simulate.yaml from a real run: the first cycle's creates, steady state, no errors.
    #[command(mut_arg("output", |a| a.help("Where to write (default: simulate.yaml next to the Katalog)")))]
    Init(InitArgs),
}

/// Arguments of `ork simulate init`.
/// Arguments of `ork simulate init` and `ork e2e init`.
#[derive(clap::Args)]
pub(crate) struct InitArgs {
    /// Katalog or Komposer file (default: ./katalog.yaml, then ./komposer.yaml).
    #[arg(short = 'f', long = "file")]
    file: Option<PathBuf>,
    /// CR file (default: cr.yaml next to the Katalog).
    #[arg(long)]
    cr: Option<PathBuf>,
    /// Where to write (default: next to the Katalog).
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
    /// Overwrite an existing file.
    #[arg(long)]
    force: bool,
    /// Print instead of writing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    #[command(flatten)]
    load: LoadArgs,
}

/// Runs the command; returns the exit code.
pub fn run(args: Args) -> u8 {
    if let Some(Command::Init(init)) = args.command {
        return run_init(init);
    }
    let target = args.file.map(|f| f.to_string_lossy().into_owned()).or(args.target).unwrap_or_else(|| "simulate.yaml".into());
    if let Some(dir) = target.strip_suffix("/...").or_else(|| (target == "...").then_some(".")) {
        return discover(Path::new(if dir.is_empty() { "." } else { dir }), args.output, &args.load.options());
    }
    let path = PathBuf::from(&target);
    if path.is_dir() {
        return discover(&path, args.output, &args.load.options());
    }
    match run_file(&path, &args.load.options()) {
        Ok(files) => {
            match args.output {
                Output::Json => print_json(&files),
                Output::Text => {
                    let color = use_color(std::io::stdout().is_terminal());
                    let mut out = std::io::stdout().lock();
                    for f in &files {
                        print_file(&mut out, f, color);
                    }
                }
            }
            if files.iter().all(FileRun::passed) { 0 } else { 1 }
        }
        Err(e) => report_error(&e),
    }
}

pub(crate) fn report_error(e: &SimError) -> u8 {
    let mut err = std::io::stderr().lock();
    for d in e.diagnostics().iter() {
        let _ = writeln!(err, "{d}");
    }
    match e {
        SimError::Io(_) => 2,
        SimError::Invalid(_) => 1,
    }
}

fn print_json(files: &[FileRun]) {
    let doc = json!({"schemaVersion": 1, "passed": files.iter().all(FileRun::passed), "files": files});
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut out, &doc);
    let _ = writeln!(out);
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

fn print_file(out: &mut impl Write, f: &FileRun, color: bool) {
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

fn discover(dir: &Path, output: Output, load: &katalog::load::LoadOptions) -> u8 {
    if !dir.is_dir() {
        let why = if dir.exists() { "is not a directory" } else { "not found" };
        let _ = writeln!(std::io::stderr(), "error: {}: {why}", display_path(dir));
        return 2;
    }
    let mut found = katalog::load::find_documents(dir, "simulate.yaml");
    found.retain(|p| !is_suite(p));
    let color = use_color(std::io::stdout().is_terminal());
    let mut out = std::io::stdout().lock();
    if found.is_empty() {
        // A CI job that tests nothing must not pass.
        let _ = writeln!(
            std::io::stderr(),
            "error: no *simulate.yaml files found under {}, so nothing was tested; check the directory, or name a file with -f",
            display_path(dir)
        );
        return 1;
    }
    let mut all = Vec::new();
    let mut failed = Vec::new();
    for p in &found {
        let started = std::time::Instant::now();
        let shown = display_path(p);
        match run_file(p, load) {
            Ok(files) => {
                let ok = files.iter().all(FileRun::passed);
                if output == Output::Text {
                    let ms = started.elapsed().as_secs_f64() * 1000.0;
                    let verdict = if ok { paint(color, "32", "✓ passed") } else { paint(color, "31", "✗ failed") };
                    let _ = writeln!(out, "{shown:<60} {verdict} ({ms:.1} ms)");
                    if !ok {
                        for f in &files {
                            print_file(&mut out, f, color);
                        }
                    }
                }
                if !ok {
                    failed.push(shown.clone());
                }
                all.extend(files);
            }
            Err(e) => {
                if output == Output::Text {
                    let _ = writeln!(out, "{shown:<60} {}", paint(color, "31", "✗ cannot run"));
                }
                report_error(&e);
                failed.push(shown);
            }
        }
    }
    match output {
        Output::Json => print_json(&all),
        Output::Text => {
            let _ = writeln!(out, "{} file(s): {} passed, {} failed", found.len(), found.len() - failed.len(), failed.len());
            for f in &failed {
                let _ = writeln!(out, "  rerun: ork simulate -f {f}");
            }
        }
    }
    if failed.is_empty() { 0 } else { 1 }
}

/// `to` relative to directory `from` (both made absolute), `./`-prefixed.
pub(crate) fn relative(from: &Path, to: &Path) -> String {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (from, to) = (abs(from), abs(to));
    let a: Vec<_> = from.components().collect();
    let b: Vec<_> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = std::iter::repeat_n("..".to_string(), a.len() - common).collect();
    parts.extend(b[common..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned()));
    let joined = parts.join("/");
    if joined.starts_with("..") { joined } else { format!("./{joined}") }
}

/// What `ork simulate init` and `ork e2e init` start from: the Katalog, its CRs (default
/// `cr.yaml` beside it) and the output path (default `out_name` beside it), refused when the
/// output exists without `--force` / `--dry-run`.
pub(crate) struct ScaffoldInputs {
    /// The Katalog file.
    pub katalog_path: PathBuf,
    /// The Katalog.
    pub katalog: katalog::model::Katalog,
    /// Its templates.
    pub templates: katalog::template::TemplateSet,
    /// The CR file.
    pub cr_path: PathBuf,
    /// Its documents.
    pub crs: Vec<Value>,
    /// Where the scaffold goes.
    pub out_path: PathBuf,
}

/// Reads [`ScaffoldInputs`]; `Err` is the exit code, the reason already printed.
pub(crate) fn scaffold_inputs(args: &InitArgs, out_name: &str) -> Result<ScaffoldInputs, u8> {
    let (cr, output, force, dry_run) = (args.cr.clone(), args.output.clone(), args.force, args.dry_run);
    let mut err = std::io::stderr().lock();
    let katalog_path = default_file(args.file.clone());
    let dir = katalog_path.parent().map(Path::to_path_buf).filter(|p| !p.as_os_str().is_empty()).unwrap_or_else(|| PathBuf::from("."));
    let cr_path = cr.unwrap_or_else(|| dir.join("cr.yaml"));
    let out_path = output.unwrap_or_else(|| dir.join(out_name));
    if !cr_path.is_file() {
        let _ = writeln!(err, "error: {} not found; pass the CRs with --cr FILE", display_path(&cr_path));
        return Err(2);
    }
    if out_path.exists() && !force && !dry_run {
        let _ = writeln!(err, "error: {} exists; use --force to overwrite it, or --dry-run to print", display_path(&out_path));
        return Err(2);
    }
    drop(err);
    let (katalog, templates) = load_katalog(&katalog_path, &args.load.options()).map_err(|e| report_error(&e))?;
    let crs = read_crs(std::slice::from_ref(&cr_path)).map_err(|e| report_error(&e))?;
    Ok(ScaffoldInputs { katalog_path, katalog, templates, cr_path, crs, out_path })
}

fn run_init(args: InitArgs) -> u8 {
    let mut err = std::io::stderr().lock();
    let ScaffoldInputs { katalog_path, katalog, templates, cr_path, crs, out_path } = match scaffold_inputs(&args, "simulate.yaml") {
        Ok(i) => i,
        Err(code) => return code,
    };
    let plan = Plan { katalog: &katalog, templates: &templates, crs: &crs, crd: None, cycles: services::simulate::DEFAULT_CYCLES, delete_at: None };
    let targets = match targets(&plan) {
        Ok(t) => t.runs,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return 1;
        }
    };
    let mut per_crd = serde_json::Map::new();
    let mut rules = 0;
    let mut cycles = 5;
    for (crd, i) in &targets {
        let run = match simulate_crd(&plan, crd, *i) {
            Ok(r) => r,
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                return 1;
            }
        };
        if let Some(c) = run.cycles.iter().find_map(|c| c.error.as_ref().map(|e| (c.cycle, e))) {
            let _ = writeln!(err, "error: crd `{crd}`: cycle {} failed: {}; fix it before generating expectations", c.0, c.1);
            return 1;
        }
        let ops: Vec<Value> = run.cycles[0]
            .ops
            .iter()
            .filter(|o| o.verb == "create" && o.resource != "namespaces" && o.resource != "events")
            .map(|o| json!({"cycle": 1, "verb": "create", "resource": o.resource, "name": o.name}))
            .collect();
        rules += ops.len();
        let mut e = json!({"noErrors": true, "ops": ops});
        if let Some(s) = run.steady_at {
            e["steady"] = json!(true);
            cycles = cycles.max(s + 2);
        }
        per_crd.insert(crd.clone(), e);
    }
    let expect = if per_crd.len() == 1 { per_crd.into_iter().next().map(|(_, e)| e).unwrap_or_default() } else { json!({"noErrors": true, "crds": per_crd}) };
    let out_dir = out_path.parent().map(Path::to_path_buf).filter(|p| !p.as_os_str().is_empty()).unwrap_or_else(|| PathBuf::from("."));
    let doc = json!({
        "apiVersion": katalog::model::API_VERSION,
        "kind": "Simulate",
        "metadata": {"name": format!("{}-sim", katalog.name()), "description": "Generated by `ork simulate init` from a real run; edit the expectations to taste."},
        "spec": {"katalog": relative(&out_dir, &katalog_path), "cr": relative(&out_dir, &cr_path), "cycles": cycles, "expect": expect},
    });
    let text = format!("# Expectations recorded by `ork simulate init`; run `ork simulate` to check them.\n{}", emit(&doc));
    let code = crate::init::write_out((!args.dry_run).then_some(out_path.as_path()), &text);
    if code != 0 || args.dry_run {
        return code;
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "✓ wrote {}: {} CRD(s), {rules} op rule(s). Run `ork simulate -f {}` to check it.",
        display_path(&out_path),
        targets.len(),
        display_path(&out_path)
    );
    0
}
