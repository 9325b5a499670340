//! kindling: a drop-in replacement for coreos-cloudinit.
//! The library holds everything; `main.rs` only parses flags and maps errors to exit codes.

pub mod cli;
pub mod config;
pub mod report;
pub mod userdata;
pub mod validate;
