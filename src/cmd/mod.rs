//! The subcommands, one file each: its clap arguments and its `run`, which returns the exit
//! code. `cli.rs` only parses and dispatches; the boot job itself is the library's
//! [`crate::boot`]. What the subcommands share (exit statuses, reading an input) is here, below
//! `cli`.

use std::path::Path;

use crate::http::{read_capped, ReadError, USER_DATA_CAP};

pub mod apply;
pub mod compat;
pub mod completions;
pub mod convert;
pub mod fetch;
pub mod manpage;
pub mod schema;
pub mod validate;

/// Exit statuses every subcommand shares, as the README documents them.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILURE: i32 = 1;
pub const EXIT_USAGE: i32 = 2;

/// Prints a subcommand's result (see [`crate::report::print`]): `EXIT_OK`, or `EXIT_FAILURE`
/// with the write error named.
pub fn print_result(subcommand: &str, text: impl AsRef<[u8]>) -> i32 {
    match crate::report::print(text) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("kindling {subcommand}: cannot write to standard output: {e}");
            EXIT_FAILURE
        }
    }
}

/// Reads one input of `validate` or `convert` with the cap a datasource puts on user-data: what
/// the fetch path would refuse is refused here too, and `/dev/zero` cannot exhaust memory.
pub fn read_input(name: impl AsRef<Path>) -> Result<Vec<u8>, String> {
    let name = name.as_ref();
    let read = if name == Path::new("-") {
        read_capped(std::io::stdin().lock(), USER_DATA_CAP, 0)
    } else {
        let file = std::fs::File::open(name).map_err(|e| e.to_string())?;
        let size = file.metadata().map_or(0, |m| m.len());
        read_capped(
            file,
            USER_DATA_CAP,
            size.min(USER_DATA_CAP as u64 + 1) as usize,
        )
    };
    read.map_err(|e| match e {
        ReadError::TooLarge => format!(
            "it is larger than {} MiB, the most user-data a datasource accepts",
            USER_DATA_CAP >> 20
        ),
        ReadError::Io(e) => e.to_string(),
    })
}
