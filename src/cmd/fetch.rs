//! `kindling fetch`: what the selected datasource yields, as one JSON object, for debugging a
//! boot.

use std::time::Duration;

use clap::{Args, ValueEnum};

use super::{EXIT_FAILURE, EXIT_USAGE};
use crate::boot::{select_source, SourceArgs};

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Output format (JSON is the only one)
    #[arg(long, value_enum, default_value_t = FetchFormat::Json)]
    pub format: FetchFormat,
    /// How long to wait for a datasource to become available
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub timeout: u64,
    #[command(flatten)]
    pub sources: SourceArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FetchFormat {
    Json,
}

impl FetchArgs {
    pub fn run(&self, identifier: &str) -> i32 {
        crate::logging::init(identifier, false);
        let sources = match self.sources.clone().resolve() {
            Ok(s) => s,
            Err(usage) => {
                eprintln!("kindling: {usage}");
                return EXIT_USAGE;
            }
        };
        let timeout = Duration::from_secs(self.timeout);
        let source = match select_source(&sources.sources, timeout, false) {
            Ok(s) => s,
            Err(e) => {
                log::error!("{e}");
                return EXIT_FAILURE;
            }
        };
        match crate::datasource::fetch_json(source.as_ref()) {
            Ok(json) => super::print_result("fetch", json + "\n"),
            Err(e) => {
                log::error!("{e}");
                EXIT_FAILURE
            }
        }
    }
}
