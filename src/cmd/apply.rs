//! `kindling apply` and `kindling plan`: the boot job ([`crate::boot::run`]) from the native
//! flags; `plan` is `apply --dry-run`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use super::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE};
use crate::boot::{self, BootOptions, Outcome, SourceArgs};
use crate::color::ColorChoice;
use crate::report::Format;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Apply to this directory (a mounted disk image) instead of the running system: paths are
    /// resolved under it, units are enabled and masked by symlinks, commands are skipped
    #[arg(long, value_name = "DIR", value_parser = existing_dir)]
    pub root: Option<PathBuf>,
    /// Print the plan instead of carrying it out (the same as `kindling plan`)
    #[arg(long)]
    pub dry_run: bool,
    /// How long to wait for each systemd job
    #[arg(long, value_name = "SECONDS", default_value_t = 90)]
    pub job_timeout: u64,
    /// How long to wait for a datasource to become available
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub timeout: u64,
    /// Name of the SSH key set written for the core user and other users
    #[arg(long, value_name = "NAME", default_value = "coreos-cloudinit")]
    pub ssh_key_name: String,
    /// Working directory for scripts
    #[arg(long, value_name = "PATH", default_value = "/var/lib/coreos-cloudinit")]
    pub workspace: PathBuf,
    /// Exit 0 even when handling the user-data failed (not for hostname or core's keys)
    #[arg(long)]
    pub ignore_failure: bool,
    /// Also log the steps that change nothing
    #[arg(short, long)]
    pub verbose: bool,
    /// When to colour the plan: auto (a terminal, and NO_COLOR unset), always, never
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// The plan's format: readable text with diffs, or JSON lines (one per step, then a
    /// summary) for automation; with `apply`, only together with --dry-run
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    // Last, so that the options above keep their own heading in --help.
    #[command(flatten)]
    pub sources: SourceArgs,
}

/// `--root` must name a directory that is there now: a typo would otherwise make every path of
/// the plan "new" (or fail only after the datasource wait).
fn existing_dir(s: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(s);
    match std::fs::metadata(&path) {
        Ok(m) if m.is_dir() => Ok(path),
        Ok(_) => Err("not a directory (expected the root of an offline tree)".into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err("no such directory (expected the root of an offline tree)".into())
        }
        Err(e) => Err(format!("cannot use it: {e}")),
    }
}

impl ApplyArgs {
    /// `plan_only`: print the plan instead of carrying it out (`kindling plan`, `--dry-run`).
    pub fn run(&self, plan_only: bool, identifier: &str) -> i32 {
        crate::color::init(self.color);
        crate::logging::init(identifier, self.verbose);
        if !plan_only && self.format == Format::Json {
            eprintln!(
                "kindling apply: --format json prints a plan; add --dry-run (or run kindling plan)"
            );
            return EXIT_USAGE;
        }
        let sources = match self.sources.clone().resolve() {
            Ok(s) => s,
            Err(usage) => {
                eprintln!("kindling: {usage}");
                return EXIT_USAGE;
            }
        };
        // `useradd --prefix` and the commands run under the root need an absolute path,
        // whatever the working directory they run in.
        let root = match self.root.as_deref().map(std::path::absolute).transpose() {
            Ok(root) => root,
            Err(e) => {
                let given = self.root.as_deref().unwrap_or(Path::new(""));
                eprintln!("kindling: --root {}: {e}", given.display());
                return EXIT_USAGE;
            }
        };
        let options = BootOptions {
            sources,
            root,
            plan_only: plan_only.then_some(self.format),
            job_timeout: Duration::from_secs(self.job_timeout),
            timeout: Duration::from_secs(self.timeout),
            plan: crate::plan::Options {
                ssh_key_name: self.ssh_key_name.clone(),
                workspace: self.workspace.clone(),
            },
            ignore_failure: self.ignore_failure,
        };
        match boot::run(&options) {
            Outcome::Clean => EXIT_OK,
            Outcome::Failed => EXIT_FAILURE,
        }
    }
}
