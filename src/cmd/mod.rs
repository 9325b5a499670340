//! Subcommands around the binary rather than the boot job: the editor schema and shell
//! completions. Each lives in its own file so that `cli.rs` only names and dispatches them; what
//! they share with the other subcommands (exit statuses, reading an input) is here, below `cli`.

pub mod color;
pub mod completions;
pub mod manpage;
pub mod plan_json;
pub mod schema;

use std::path::Path;

use crate::http::{read_capped, ReadError, USER_DATA_CAP};

/// Exit statuses every subcommand shares, as the README documents them.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILURE: i32 = 1;
pub const EXIT_USAGE: i32 = 2;

/// Reads one input of `validate` with the cap a datasource puts on user-data: what the fetch
/// path would refuse is refused here too, and `/dev/zero` cannot exhaust memory.
pub fn read_input(name: impl AsRef<Path>) -> Result<Vec<u8>, String> {
    let name = name.as_ref();
    let cap = USER_DATA_CAP;
    let read = if name == Path::new("-") {
        read_capped(std::io::stdin().lock(), cap, 0)
    } else {
        let file = std::fs::File::open(name).map_err(|e| e.to_string())?;
        let size = file.metadata().map_or(0, |m| m.len());
        read_capped(file, cap, size.min(cap as u64 + 1) as usize)
    };
    read.map_err(|e| match e {
        ReadError::TooLarge => format!(
            "it is larger than {} MiB, the most user-data a datasource accepts",
            cap >> 20
        ),
        ReadError::Io(e) => e.to_string(),
    })
}
