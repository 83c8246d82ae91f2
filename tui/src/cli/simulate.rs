//! `ork simulate` and `ork simulate init`.

use super::{Outcome, Output, default_file, discovery_dir, nothing_found, output};
use katalog::diag::display_path;
use services::runtime::command::LoadArgs;
use services::simulate::scaffold::{Request, simulate_yaml};
use services::simulate::{FileRun, discover, run_file};
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
    #[command(flatten)]
    imports: super::registry::ImportArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Write a simulate.yaml from a real run: the first cycle's creates, steady state, no errors.
    #[command(mut_arg("output", |a| a.help("Where to write (default: simulate.yaml next to the Katalog)")))]
    Init(InitArgs),
}

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
    #[command(flatten)]
    imports: super::registry::ImportArgs,
}

impl InitArgs {
    /// Runs the scaffold `make` (simulate.yaml or e2e.yaml) and writes it (or with --dry-run
    /// prints it); `Ok(true)` when it was written to its file.
    pub(crate) fn scaffold(
        self,
        make: fn(&Request<'_>) -> Result<services::simulate::scaffold::Scaffold, services::simulate::scaffold::ScaffoldError>,
    ) -> anyhow::Result<Option<services::simulate::scaffold::Scaffold>> {
        let load = self.imports.attach(self.load.options());
        let req = Request { katalog: default_file(self.file), cr: self.cr, output: self.output, force: self.force, dry_run: self.dry_run, load: &load };
        let s = make(&req)?;
        output::write_out((!self.dry_run).then_some(s.path.as_path()), &s.text)?;
        Ok((!self.dry_run).then_some(s))
    }
}

/// Runs the simulations; exit 1 when one failed.
pub fn run(args: Args) -> Outcome {
    if let Some(Command::Init(init)) = args.command {
        if let Some(s) = init.scaffold(simulate_yaml)? {
            output::simulate_scaffold_written(&s);
        }
        return Ok(0);
    }
    let target = args.file.map(|f| f.to_string_lossy().into_owned()).or(args.target).unwrap_or_else(|| "simulate.yaml".into());
    if let Some(dir) = discovery_dir(&target)? {
        return run_discovered(&dir, args.output, &args.imports.attach(args.load.options()));
    }
    let files = run_file(Path::new(&target), &args.imports.attach(args.load.options()))?;
    match args.output {
        Output::Json => output::simulate_json(&files),
        Output::Text => output::simulate_text(&files),
    }
    Ok(if files.iter().all(FileRun::passed) { 0 } else { 1 })
}

fn run_discovered(dir: &Path, out: Output, load: &katalog::load::LoadOptions) -> Outcome {
    let found = discover(dir);
    if found.is_empty() {
        return Err(nothing_found("*simulate.yaml", dir).into());
    }
    let mut all = Vec::new();
    let mut failed = Vec::new();
    for p in &found {
        let started = std::time::Instant::now();
        let shown = display_path(p);
        match run_file(p, load) {
            Ok(files) => {
                let ok = files.iter().all(FileRun::passed);
                if out == Output::Text {
                    output::simulate_discovered(&shown, started.elapsed().as_secs_f64() * 1000.0, &files);
                }
                if !ok {
                    failed.push(shown.clone());
                }
                all.extend(files);
            }
            Err(e) => {
                if out == Output::Text {
                    output::simulate_cannot_run(&shown);
                }
                output::print_error(&e.into());
                failed.push(shown);
            }
        }
    }
    match out {
        Output::Json => output::simulate_json(&all),
        Output::Text => output::simulate_summary(found.len(), &failed),
    }
    Ok(if failed.is_empty() { 0 } else { 1 })
}
