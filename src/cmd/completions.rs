//! `kindling completions SHELL`: the completion script clap_complete derives from the clap
//! definition, so it never lags behind a new flag.

use clap::{Args, ValueEnum};
use clap_complete::Shell as Generator;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to print the script for
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The shells Debian ships completion directories for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// The script for `shell`, as bytes, from the binary's command tree (which `cli` passes: it
/// names this subcommand, so this module cannot reach up to it).
pub fn script(shell: Shell, mut cmd: clap::Command) -> Vec<u8> {
    let generator = match shell {
        Shell::Bash => Generator::Bash,
        Shell::Zsh => Generator::Zsh,
        Shell::Fish => Generator::Fish,
    };
    let mut out = Vec::new();
    clap_complete::generate(generator, &mut cmd, "kindling", &mut out);
    out
}

pub fn run(args: &CompletionsArgs, cmd: clap::Command) -> i32 {
    super::print_result("completions", script(args.shell, cmd))
}
