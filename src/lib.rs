//! kindling: a drop-in replacement for coreos-cloudinit.
//! The library holds everything; `main.rs` only parses flags and maps errors to exit codes.

pub mod apply;
pub mod boot;
pub mod cli;
pub mod cmd;
pub mod color;
pub mod config;
pub mod convert;
pub mod datasource;
#[doc(hidden)]
pub mod fuzzing;
pub mod logging;
pub mod network;
pub mod plan;
pub mod report;
pub mod rules;
pub mod userdata;
pub mod validate;
