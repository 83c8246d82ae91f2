//! `ork init`: example packs embedded from `demos/` at build time.

use super::{CliError, Outcome, output};
use crate::packs::{packs, write};
use std::path::PathBuf;

/// Arguments of `ork init`.
#[derive(clap::Args)]
pub struct Args {
    /// Pack to write (see --list).
    #[arg(long, required_unless_present = "list")]
    pack: Option<String>,
    /// List the packs.
    #[arg(long, conflicts_with = "pack")]
    list: bool,
    /// Overwrite existing files.
    #[arg(long)]
    force: bool,
    /// Directory to write into (default: the current directory); one folder per example.
    dir: Option<PathBuf>,
}

/// Lists the packs, or writes one.
pub fn run(args: Args) -> Outcome {
    let all = packs();
    if args.list {
        output::pack_list(&all);
        return Ok(0);
    }
    let Some(name) = args.pack else { return Ok(2) };
    let Some(pack) = all.iter().find(|p| p.name == name) else {
        let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
        return Err(CliError::Usage(format!("unknown pack `{name}`\n    help: available packs: {}", names.join(", "))).into());
    };
    let target = args.dir.unwrap_or_else(|| PathBuf::from("."));
    let files = write(pack, &target, args.force).map_err(|e| CliError::Usage(e.to_string()))?;
    output::pack_written(pack, files, &target);
    Ok(0)
}
