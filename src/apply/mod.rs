//! Effects: carries out a plan on a machine (the live host, or an offline root directory),
//! one module per kind of effect. Every write is atomic and durable.

pub mod systemd;
