//! Which datasource to read: every enabled source is polled on its own thread with the
//! reference's backoff, and the first available one wins, under an overall deadline.

use std::path::PathBuf;

use clap::ArgAction;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::datasource::cloudsigma::{CloudSigma, CloudSigmaOptions};
use crate::datasource::configdrive::ConfigDrive;
use crate::datasource::digitalocean::DigitalOcean;
use crate::datasource::ec2::Ec2;
use crate::datasource::file::LocalFile;
use crate::datasource::gce::Gce;
use crate::datasource::proc_cmdline::{ProcCmdline, CMDLINE_PATH};
use crate::datasource::url::Url;
use crate::datasource::vmware::Vmware;
use crate::datasource::waagent::Waagent;
use crate::datasource::{later, Datasource, DatasourceError};
use crate::http::{check_url, HttpOptions};

/// The enabled sources: one field per `--from-*` flag, and these fields ARE the flags (clap
/// derives them here, so the CLI, its help and the library share one list).
///
/// Adding a source: a field here (its doc comment is its `--help` line), a module beside this
/// one, and a line in [`Sources::build`]. Nothing else lists the sources.
///
/// Bool flags take an optional `=true`/`=false`, as Go's do. The field order is the `--help`
/// order; the tie-break order is [`Sources::build`]'s.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct Sources {
    /// Read user-data from a local file
    #[arg(long = "from-file", value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Read user-data and metadata from a config drive mounted at PATH
    #[arg(long = "from-configdrive", value_name = "PATH", value_parser = path)]
    pub configdrive: Option<PathBuf>,
    /// Read user-data and metadata from an Azure waagent directory
    #[arg(long = "from-waagent", value_name = "PATH", value_parser = path)]
    pub waagent: Option<PathBuf>,
    /// Read user-data and metadata from an EC2 metadata service at URL
    #[arg(long = "from-ec2-metadata", value_name = "URL")]
    pub ec2: Option<String>,
    /// Read user-data and metadata from a GCE metadata service at URL
    #[arg(long = "from-gce-metadata", value_name = "URL")]
    pub gce: Option<String>,
    /// Read user-data and metadata from CloudSigma's server context
    #[arg(long = "from-cloudsigma-metadata", value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, default_value_t = false)]
    pub cloudsigma: bool,
    /// Read user-data and metadata from a DigitalOcean metadata service at URL
    #[arg(long = "from-digitalocean-metadata", value_name = "URL")]
    pub digitalocean: Option<String>,
    /// Read user-data from URL
    #[arg(long = "from-url", value_name = "URL")]
    pub url: Option<String>,
    /// Read the user-data URL from cloud-config-url= on the kernel command line
    #[arg(long = "from-proc-cmdline", value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, default_value_t = false)]
    pub proc_cmdline: bool,
    /// Read user-data and metadata from VMware guestinfo
    #[arg(long = "from-vmware-guestinfo", value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, default_value_t = false)]
    pub vmware_guestinfo: bool,
    /// Read user-data and metadata from a VMware OVF environment file
    #[arg(long = "from-vmware-ovf-env", value_name = "PATH", value_parser = path)]
    pub vmware_ovf_env: Option<PathBuf>,
}

/// A path flag as Go reads it: any text, the empty one included (clap's own path parser would
/// refuse `--from-configdrive=`, which the reference accepts).
fn path(s: &str) -> Result<PathBuf, std::convert::Infallible> {
    Ok(PathBuf::from(s))
}

impl Sources {
    pub fn is_empty(&self) -> bool {
        self == &Sources::default()
    }

    /// The `--from-*` flags, in `--help` order, as clap spells them.
    pub fn flag_names() -> Vec<String> {
        let cmd = <Sources as clap::Args>::augment_args(clap::Command::new("sources"));
        cmd.get_arguments()
            .filter_map(|a| a.get_long())
            .map(|l| format!("--{l}"))
            .collect()
    }

    /// One datasource per enabled flag, in tie-break order: file, url, configdrive, ec2, gce,
    /// cloudsigma, digitalocean, waagent, proc-cmdline, vmware (guestinfo, then OVF).
    /// A URL that is not http(s) fails here, at once, rather than after the whole timeout.
    pub fn build(&self, opts: &SelectOptions) -> Result<Vec<Box<dyn Datasource>>, DatasourceError> {
        let http = &opts.http;
        let url = |u: &String| -> Result<String, DatasourceError> {
            check_url(u)?;
            Ok(u.clone())
        };
        let mut out: Vec<Box<dyn Datasource>> = Vec::new();
        if let Some(p) = &self.file {
            out.push(Box::new(LocalFile::new(p)));
        }
        if let Some(u) = &self.url {
            out.push(Box::new(Url::new(&url(u)?, http)));
        }
        if let Some(p) = &self.configdrive {
            out.push(Box::new(ConfigDrive::new(p)));
        }
        if let Some(u) = &self.ec2 {
            out.push(Box::new(Ec2::new(&url(u)?, http)));
        }
        if let Some(u) = &self.gce {
            out.push(Box::new(Gce::new(&url(u)?, http)));
        }
        if self.cloudsigma {
            out.push(Box::new(CloudSigma::new(&opts.cloudsigma)));
        }
        if let Some(u) = &self.digitalocean {
            out.push(Box::new(DigitalOcean::new(&url(u)?, http)));
        }
        if let Some(p) = &self.waagent {
            out.push(Box::new(Waagent::new(p)));
        }
        if self.proc_cmdline {
            out.push(Box::new(ProcCmdline::new(&opts.cmdline_path, http)));
        }
        if self.vmware_guestinfo {
            out.push(Box::new(Vmware::guestinfo(http)));
        }
        if let Some(p) = &self.vmware_ovf_env {
            out.push(Box::new(Vmware::ovf_env(p, http)));
        }
        Ok(out)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectOptions {
    /// How long to wait for any source (the reference's 5 minutes by default).
    pub timeout: Duration,
    /// How often to log which sources are still awaited.
    pub progress_interval: Duration,
    /// First pause between two availability checks of one source; it doubles each time.
    pub poll_start: Duration,
    /// Longest pause between two checks.
    pub poll_max: Duration,
    /// How long an available source waits for earlier-ordered sources to finish their first
    /// check, so that the winner does not depend on which thread ran first.
    pub tie_break_wait: Duration,
    /// Check every source once instead of polling (compat `-validate`, which must not wait).
    pub check_once: bool,
    pub http: HttpOptions,
    pub cmdline_path: PathBuf,
    pub cloudsigma: CloudSigmaOptions,
}

impl Default for SelectOptions {
    fn default() -> SelectOptions {
        SelectOptions {
            timeout: Duration::from_secs(300),
            progress_interval: Duration::from_secs(5),
            poll_start: Duration::from_millis(100),
            poll_max: Duration::from_secs(30),
            tie_break_wait: Duration::from_secs(1),
            check_once: false,
            http: HttpOptions::default(),
            cmdline_path: PathBuf::from(CMDLINE_PATH),
            cloudsigma: CloudSigmaOptions::default(),
        }
    }
}

/// Builds the enabled sources and races them; see [`select_from`].
pub fn select(
    sources: &Sources,
    opts: &SelectOptions,
) -> Result<Box<dyn Datasource>, DatasourceError> {
    let list = sources.build(opts)?;
    select_from(list, opts)
}

enum Outcome {
    Available(Box<dyn Datasource>),
    Unavailable { why: String, last: bool },
}

struct Report {
    index: usize,
    outcome: Outcome,
}

struct Entry {
    name: String,
    last: String,
    first_done: bool,
    finished: bool,
}

/// Set once a winner is chosen (or the deadline passes); pollers stop at their next wakeup.
struct Stop {
    done: Mutex<bool>,
    wake: Condvar,
}

impl Stop {
    fn set(&self) {
        if let Ok(mut d) = self.done.lock() {
            *d = true;
        }
        self.wake.notify_all();
    }

    fn is_set(&self) -> bool {
        self.done.lock().map(|d| *d).unwrap_or(true)
    }

    /// Sleeps `d` unless stopped first; true when stopped.
    fn sleep(&self, d: Duration) -> bool {
        let Ok(guard) = self.done.lock() else {
            return true;
        };
        match self.wake.wait_timeout_while(guard, d, |done| !*done) {
            Ok((done, _)) => *done,
            Err(_) => true,
        }
    }
}

/// Races `list`. Returns the first source available, or an error naming every source and what
/// it last said once all have given up or the deadline passes.
///
/// Unlike the reference, a tie is settled by list order instead of by thread scheduling: once a
/// source is available, earlier sources that have not finished their first check get
/// `tie_break_wait` to do so, and the earliest available one wins.
pub fn select_from(
    list: Vec<Box<dyn Datasource>>,
    opts: &SelectOptions,
) -> Result<Box<dyn Datasource>, DatasourceError> {
    if list.is_empty() {
        return Err(DatasourceError::NoSources);
    }
    let start = Instant::now();
    let deadline = later(start, opts.timeout);
    let stop = Arc::new(Stop {
        done: Mutex::new(false),
        wake: Condvar::new(),
    });
    let (tx, rx) = mpsc::channel::<Report>();
    let mut entries = Vec::new();
    for (index, source) in list.into_iter().enumerate() {
        entries.push(Entry {
            name: source.describe(),
            last: "not checked yet".to_string(),
            first_done: false,
            finished: false,
        });
        let tx = tx.clone();
        let stop = Arc::clone(&stop);
        let (first, max, once) = (opts.poll_start, opts.poll_max, opts.check_once);
        let spawned = std::thread::Builder::new()
            .name(format!("datasource-{}", source.kind()))
            .spawn(move || poll(index, source, &tx, &stop, first, max, once));
        if let Err(e) = spawned {
            if let Some(entry) = entries.last_mut() {
                entry.last = format!("could not start a thread: {e}");
                entry.first_done = true;
                entry.finished = true;
            }
        }
    }
    drop(tx);

    let mut candidates: Vec<(usize, Box<dyn Datasource>)> = Vec::new();
    let mut grace_until: Option<Instant> = None;
    let mut next_progress = later(start, opts.progress_interval);
    let mut disconnected = false;
    loop {
        let now = Instant::now();
        if let Some(pos) = best(&candidates) {
            let index = candidates.get(pos).map(|c| c.0).unwrap_or(0);
            let earlier_pending = entries.iter().take(index).any(|e| !e.first_done);
            let grace_over = grace_until.is_some_and(|g| now >= g);
            if !earlier_pending || grace_over || disconnected {
                stop.set();
                let (index, source) = candidates.swap_remove(pos);
                log::info!(
                    "Using datasource {}",
                    entries.get(index).map(|e| e.name.as_str()).unwrap_or("")
                );
                return Ok(source);
            }
        }
        if disconnected || entries.iter().all(|e| e.finished) {
            stop.set();
            return Err(none_available(
                &entries,
                "(every source gave up)".to_string(),
            ));
        }
        if now >= deadline {
            stop.set();
            return Err(none_available(
                &entries,
                format!("in time (waited {:?})", opts.timeout),
            ));
        }
        let mut wake = deadline.min(next_progress);
        if let Some(g) = grace_until {
            wake = wake.min(g);
        }
        match rx.recv_timeout(wake.saturating_duration_since(now)) {
            Ok(Report { index, outcome }) => {
                let Some(entry) = entries.get_mut(index) else {
                    continue;
                };
                entry.first_done = true;
                match outcome {
                    Outcome::Available(source) => {
                        entry.last = "available".to_string();
                        entry.finished = true;
                        candidates.push((index, source));
                        grace_until.get_or_insert(later(Instant::now(), opts.tie_break_wait));
                    }
                    Outcome::Unavailable { why, last } => {
                        entry.last = why;
                        entry.finished = last;
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                if Instant::now() >= next_progress {
                    log_progress(&entries, deadline);
                    next_progress = later(
                        next_progress,
                        opts.progress_interval.max(Duration::from_millis(10)),
                    );
                }
            }
            Err(RecvTimeoutError::Disconnected) => disconnected = true,
        }
    }
}

/// The candidate earliest in the tie-break order.
fn best(candidates: &[(usize, Box<dyn Datasource>)]) -> Option<usize> {
    candidates
        .iter()
        .enumerate()
        .min_by_key(|(_, (index, _))| *index)
        .map(|(pos, _)| pos)
}

fn poll(
    index: usize,
    source: Box<dyn Datasource>,
    tx: &mpsc::Sender<Report>,
    stop: &Stop,
    first: Duration,
    max: Duration,
    once: bool,
) {
    let mut pause = first;
    loop {
        if stop.is_set() {
            return;
        }
        log::debug!("Checking availability of {:?}", source.kind());
        match source.check_availability() {
            Ok(()) => {
                let _ = tx.send(Report {
                    index,
                    outcome: Outcome::Available(source),
                });
                return;
            }
            Err(why) => {
                let last = once || !source.availability_changes();
                let why = if last {
                    format!("{why} (not checked again)")
                } else {
                    why
                };
                if tx
                    .send(Report {
                        index,
                        outcome: Outcome::Unavailable { why, last },
                    })
                    .is_err()
                    || last
                {
                    return;
                }
            }
        }
        if stop.sleep(pause) {
            return;
        }
        pause = pause.saturating_mul(2).min(max);
    }
}

fn log_progress(entries: &[Entry], deadline: Instant) {
    let waiting: Vec<String> = entries
        .iter()
        .filter(|e| !e.finished)
        .map(|e| format!("{} ({})", e.name, e.last))
        .collect();
    log::info!(
        "Still waiting for a datasource ({}s left): {}",
        deadline.saturating_duration_since(Instant::now()).as_secs(),
        waiting.join("; ")
    );
}

fn none_available(entries: &[Entry], when: String) -> DatasourceError {
    let details = entries
        .iter()
        .map(|e| format!("{}: {}", e.name, e.last))
        .collect::<Vec<_>>()
        .join("; ");
    DatasourceError::NoneAvailable { when, details }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_durations_do_not_overflow() {
        let now = Instant::now();
        assert!(later(now, Duration::MAX) > now);
        assert_eq!(
            later(now, Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );
    }

    #[test]
    fn sources_default_is_empty() {
        assert!(Sources::default().is_empty());
        assert!(!Sources {
            cloudsigma: true,
            ..Sources::default()
        }
        .is_empty());
    }
}
