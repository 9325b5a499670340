//! kindling: a drop-in replacement for coreos-cloudinit.
//! The library holds everything; `main.rs` only parses flags and maps errors to exit codes.
//!
//! # Module map
//!
//! The pipeline is userdata -> config -> plan -> apply, with the datasources and systemd behind
//! traits. The modules from the top down: each uses only modules listed below it, and the
//! submodules of one module never use each other in a circle. `tests/module_graph.rs` (also run
//! by `make lint`) checks both, and that this list names every module of `src/`.
//!
//! - [`fuzzing`]: the fuzz targets' entry points, behind the `fuzzing` feature (the tests and
//!   `fuzz/` turn it on); it may use anything, and nothing uses it.
//! - [`cli`]: the command line: clap's definitions, the coreos-cloudinit flag spellings and
//!   dispatch to the subcommands; nothing else.
//! - [`cmd`]: the subcommands, one file each with its arguments and its `run`, and what they
//!   share: exit statuses, reading an input.
//! - [`convert`]: `kindling convert`: the Ignition (or Butane) config that writes what apply would.
//! - [`boot`]: the boot job behind `apply`, `plan` and the compat flags: fetch, read, plan,
//!   apply, from one `BootOptions`.
//! - [`color`]: colour for the human output of `validate` and `plan`.
//! - [`apply`]: carries a plan out on the live host or an offline root: atomic files, accounts,
//!   SSH keys, systemd over D-Bus or offline.
//! - [`load`]: user-data bytes -> the parts apply plans (gunzip, detection in apply's order,
//!   multipart split, address substitution, parse and check); the sibling of [`validate`].
//! - [`plan`]: the pure half of apply: (parts, metadata, current state) -> ordered steps, and the
//!   files they write, byte for byte; one entry point, `plan::plan`.
//! - [`datasource`]: where user-data and metadata come from: one module per source behind one
//!   trait, the race between enabled sources.
//! - [`network`]: a datasource's network config as systemd-networkd units.
//! - [`validate`]: `kindling validate`: one payload in, every finding out, part by part.
//! - [`config`]: the cloud-config, parsed once: the YAML tree with positions, the schema, the
//!   checks and the typed model.
//! - [`userdata`]: what a payload is: detection, gzip, multipart MIME, address substitution, and
//!   the base64 and quoted-printable decoders that config shares.
//! - [`metadata`]: what a datasource says about the machine besides its user-data.
//! - [`report`]: findings at a line and column, and the formats they are printed in.
//! - [`rules`]: the validator's rules, declared once: each finding's code, severity and meaning.
//! - [`unit`]: systemd's vocabulary, pure: unit names, unit commands, unit-file lines.
//! - [`http`]: the one HTTP client (datasources and SSH key imports): timeouts, caps, retries,
//!   the platform's trust store.
//! - [`logging`]: where the log goes: the journal, or plain stderr lines.
//! - [`lines`]: a text's lines through a sparse index, in bounded memory whatever the text.

pub mod apply;
pub mod boot;
pub mod cli;
pub mod cmd;
pub mod color;
pub mod config;
pub mod convert;
pub mod datasource;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod lines;
pub mod load;
pub mod logging;
pub mod metadata;
pub mod network;
pub mod plan;
pub mod report;
pub mod rules;
pub mod unit;
pub mod userdata;
pub mod validate;
