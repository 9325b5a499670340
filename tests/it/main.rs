//! The integration tests, as one crate: one binary to compile and link instead of one per file.
//! Each module was a test binary of its own; `cargo test --test it MODULE::` runs one of them.
//!
//! The tests of all the modules share one process, so none of them changes what the process
//! holds for the others: a test that needs another environment, working directory or umask gives
//! it to the child it starts (`Command::env`), or re-runs itself in a child (as
//! `systemd_dbus::connect_uses_the_system_bus_address_from_the_environment` does). Two things are
//! process-wide on purpose: `no_panic`'s counting allocator (it counts per thread, so the other
//! tests' allocations do not reach its figures) and `datasources`'s captured logger (its test
//! looks only for the lines it caused).

mod common;

mod apply_effects;
mod apply_invalid;
mod apply_root;
mod boot;
mod cli;
mod cli_sources;
mod convert_cli;
mod convert_equivalence;
mod crash_users;
mod datasources;
mod fuzz_regressions;
mod hostile;
mod network;
mod no_panic;
mod operator;
mod root_paths;
mod schema;
mod ssh_import_tls;
mod systemd_dbus;
mod systemd_offline;
mod validate_cases;
