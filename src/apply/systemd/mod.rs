//! systemd behind one small trait: the live implementation talks to systemd1 and hostname1 over
//! D-Bus; the offline one does to a root directory what `systemctl --root` does.

use std::time::Duration;

pub mod dbus;
pub mod offline;

use crate::unit::UnitCommand;

/// How a job ended (the `result` of systemd's `JobRemoved` signal), or that none was run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobResult {
    Done,
    /// Offline: the command needs a running systemd and was not carried out.
    Skipped,
    /// `failed`, `dependency`, `timeout`, `canceled`, `collected`, `invalid`, …
    Failed(String),
}

impl JobResult {
    pub fn from_signal(result: &str) -> JobResult {
        match result {
            "done" => JobResult::Done,
            "skipped" => JobResult::Skipped,
            other => JobResult::Failed(other.to_string()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SystemdError {
    #[error("cannot connect to the system bus: {0}")]
    Connect(String),
    #[error("{method} failed: {message}")]
    Call { method: String, message: String },
    #[error("{what} did not finish within {timeout:?}")]
    Timeout { what: String, timeout: Duration },
    #[error("{0}")]
    Io(String),
}

/// A transient service that runs one program to completion (scripts from user-data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransientService {
    /// `NAME.service`.
    pub name: String,
    pub description: String,
    /// The program and its arguments; the program is executed directly (its own `#!`).
    pub argv: Vec<String>,
}

/// What apply needs from systemd. Every call that waits for a job waits at most the
/// implementation's job timeout and reports how the job ended.
pub trait Systemd {
    /// False for the offline implementation: commands are then reported as skipped.
    fn is_live(&self) -> bool;
    /// `Reload()` (daemon-reload).
    fn reload(&self) -> Result<(), SystemdError>;
    /// `EnableUnitFiles(names, runtime, force=true)`; offline: the [Install] symlinks.
    fn enable(&self, units: &[String], runtime: bool) -> Result<(), SystemdError>;
    /// The unit file state (`enabled`, `enabled-runtime`, `disabled`, `static`, `masked`, …),
    /// None when systemd does not know the unit.
    fn unit_file_state(&self, unit: &str) -> Result<Option<String>, SystemdError>;
    /// The unit's ActiveState (`active`, `inactive`, `failed`, …); None when it is not loaded.
    fn active_state(&self, unit: &str) -> Result<Option<String>, SystemdError>;
    /// Runs a unit command with mode "replace" and waits for its job.
    fn run(&self, unit: &str, command: UnitCommand) -> Result<JobResult, SystemdError>;
    /// Starts a transient oneshot service and waits until it has run.
    fn run_transient(&self, service: &TransientService) -> Result<JobResult, SystemdError>;
    /// Sets the static and transient hostname through hostname1; Ok(false) when hostname1 does
    /// not answer (the caller then writes /etc/hostname and calls sethostname(2)).
    fn set_hostname(&self, name: &str) -> Result<bool, SystemdError>;
    /// The static hostname as hostname1 reports it; None when hostname1 does not answer.
    fn static_hostname(&self) -> Result<Option<String>, SystemdError>;
}
