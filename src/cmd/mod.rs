//! Subcommands around the binary rather than the boot job: the editor schema and shell
//! completions. Each lives in its own file so that `cli.rs` only names and dispatches them.

pub mod color;
pub mod completions;
pub mod manpage;
pub mod plan_json;
pub mod schema;
