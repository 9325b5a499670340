//! The coreos-cloudinit entry: no subcommand, the reference's own flags (`-from-file`,
//! `-validate`, … in Go's single-dash style, which `cli.rs` rewrites), its messages and exit
//! codes (coreos-cloudinit.go's main).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args};

use super::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE};
use crate::boot::{self, BootOptions, Input, Outcome, SourceArgs, SourceError, NO_SOURCE};
use crate::logging::log_time;

/// coreos-cloudinit's other flags, for the compat entry (no subcommand).
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "coreos-cloudinit compatible flags")]
pub struct CompatArgs {
    #[command(flatten)]
    pub sources: SourceArgs,
    /// Working directory for scripts
    #[arg(long, value_name = "PATH", default_value = "/var/lib/coreos-cloudinit")]
    pub workspace: String,
    /// Name of the SSH key set written for the core user
    #[arg(long, value_name = "NAME", default_value = "coreos-cloudinit")]
    pub ssh_key_name: String,
    /// Validate the user-data, print the findings and exit (1 when there is any)
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, default_value_t = false)]
    pub validate: bool,
    /// Exit 0 even when handling the user-data failed
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, default_value_t = false)]
    pub ignore_failure: bool,
}

impl CompatArgs {
    /// The reference's behaviour for its own flags; its usage messages go to standard output.
    pub fn run(self, identifier: &str) -> i32 {
        crate::logging::init(identifier, false);
        let sources = match self.sources.resolve() {
            Ok(sources) => sources,
            Err(SourceError::NoSource) => {
                let _ = crate::report::print(format!("{NO_SOURCE}\n"));
                return EXIT_USAGE;
            }
            Err(usage) => {
                let _ = crate::report::print(format!("{usage}\n"));
                return EXIT_USAGE;
            }
        };
        if !self.validate {
            let options = BootOptions {
                sources,
                root: None,
                plan_only: None,
                job_timeout: Duration::from_secs(90),
                timeout: Duration::from_secs(300),
                plan: crate::plan::Options {
                    ssh_key_name: self.ssh_key_name,
                    workspace: PathBuf::from(self.workspace),
                },
                ignore_failure: self.ignore_failure,
            };
            return match boot::run(&options) {
                Outcome::Clean => EXIT_OK,
                Outcome::Failed => EXIT_FAILURE,
            };
        }
        // The reference polls here for five minutes; a check before an install (flatcar-install
        // -c) must answer at once, so each source is checked once and a read error is final.
        let data = match boot::acquire(&sources.sources, Duration::from_secs(300), true) {
            Ok(Input {
                user_data_error: Some(e),
                ..
            }) => {
                eprintln!("{} {e}", log_time());
                return EXIT_FAILURE;
            }
            Ok(input) => input.user_data,
            Err(e) => {
                eprintln!("{} {e}", log_time());
                return EXIT_FAILURE;
            }
        };
        let report = crate::validate::validate(&data);
        let stderr = std::io::stderr();
        let mut err = stderr.lock();
        let stamp = log_time();
        for line in report.to_compat() {
            let _ = writeln!(err, "{stamp} {line}");
        }
        if report.findings.is_empty() {
            EXIT_OK
        } else {
            EXIT_FAILURE
        }
    }
}
