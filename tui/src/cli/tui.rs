//! `ork tui [DIR|FILE]`: the workbench (also what `ork` alone opens on a terminal).

use super::{CliError, Outcome, install_namespace};
use crate::workbench::app::Options;
use crate::workbench::term::{Launch, TuiError, run as run_workbench};
use crate::workbench::view::ViewId;
use services::runtime::command::LoadArgs;
use std::io::IsTerminal;
use std::path::PathBuf;

/// Arguments of `ork tui`.
#[derive(clap::Args, Default)]
pub struct Args {
    /// A pattern directory (with katalog.yaml or komposer.yaml) or a Katalog / Komposer file (default: .).
    target: Option<PathBuf>,
    /// A deployed bundle (as written by `ork generate bundle`) for the RBAC view's plan (default: bundle.yaml beside the Katalog, if any).
    #[arg(short = 'b', long = "bundle")]
    bundle: Option<PathBuf>,
    /// Install namespace, for RBAC and admission (default: $ORK_NAMESPACE, else orkestra-system).
    #[arg(short = 'n', long = "namespace")]
    namespace: Option<String>,
    /// The view to open on: katalog, problems, preview, simulate, rbac, diff, live.
    #[arg(long, value_parser = parse_view)]
    view: Option<ViewId>,
    /// Draw the first frame and quit (for measuring start-up).
    #[arg(long, hide = true)]
    exit_after_first_frame: bool,
    #[command(flatten)]
    load: LoadArgs,
}

fn parse_view(s: &str) -> Result<ViewId, String> {
    ViewId::ALL.into_iter().find(|v| v.name() == s || v.aliases().contains(&s)).ok_or_else(|| {
        let names: Vec<&str> = ViewId::ALL.iter().map(|v| v.name()).collect();
        format!("unknown view {s:?}; one of: {}", names.join(", "))
    })
}

/// Whether the workbench can run here: stdin and stdout are terminals.
pub fn on_terminal() -> bool {
    std::io::stdout().is_terminal() && std::io::stdin().is_terminal()
}

/// Opens the workbench; exit 0 when the user quits, 2 when it cannot start.
pub fn run(args: Args) -> Outcome {
    if !on_terminal() {
        return Err(CliError::Usage("ork tui needs a terminal (stdin and stdout); for scripts use the subcommands (ork --help)".into()).into());
    }
    let namespace = install_namespace(args.namespace)?;
    let options = Options { load: super::registry::with_remote(args.load.options()), namespace, start: args.view };
    let launch = Launch { target: args.target, bundle: args.bundle, options, exit_after_first_frame: args.exit_after_first_frame };
    match run_workbench(launch) {
        Ok(()) => Ok(0),
        Err(TuiError::Pattern(e)) => Err(CliError::Usage(e.to_string()).into()),
        Err(e) => Err(e.into()),
    }
}
