//! Effects: carries out a plan on a machine (the live host, or an offline root directory),
//! one module per kind of effect. Every write is atomic and durable.

pub mod accounts;
pub mod fs;
pub mod root;
pub mod run;
pub mod sshkeys;
pub mod state;
pub mod systemd;
pub mod users;
