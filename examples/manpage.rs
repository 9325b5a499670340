//! Writes kindling's man page (roff) to standard output; `make build` saves it as
//! `target/man/kindling.1`. An example, so that the shipped binary does not carry the generator.

use std::io::Write;

use clap::CommandFactory;

fn main() -> std::io::Result<()> {
    let page = kindling::cmd::manpage::render(kindling::cli::Cli::command())?;
    std::io::stdout().lock().write_all(&page)
}
