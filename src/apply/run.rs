//! Carries out a plan step by step on a target and counts what changed. A failed step is logged
//! and counted; the steps after it still run, except that a failed global step (hostname,
//! core's keys) stops the parts, as in the reference.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::apply::systemd::{JobResult, Systemd, TransientService};
use crate::apply::{accounts, fs, sshkeys, users};
use crate::http::{HttpClient, HttpOptions};
use crate::plan::{self, show, Action, Plan, Step};
use crate::unit::UnitCommand;

/// Journal MESSAGE_IDs of the security-relevant actions, for `journalctl MESSAGE_ID=…`.
pub const MESSAGE_USER_CREATED: &str = "b0a49e4492a940c4b0b1c50cc7dfaf7e";
pub const MESSAGE_KEYS_WRITTEN: &str = "38974a08673f4d4fb51e04894d0fdd7d";
pub const MESSAGE_FILE_WRITTEN: &str = "def76ae6bbb8430eb065d8d9f02a5c5f";
pub const MESSAGE_USER_UPDATED: &str = "ea630f2a0e294c3c905251e432905cf8";

pub struct Target<'a> {
    /// `/` for the live host.
    pub root: PathBuf,
    pub systemd: &'a dyn Systemd,
    /// Bounds remote key imports.
    pub http_timeout: Duration,
}

/// The counts every run ends with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    pub changed: usize,
    pub unchanged: usize,
    pub failed: usize,
    /// Commands that need a running systemd, on an offline root; and steps not run because a
    /// global step failed.
    pub skipped: usize,
    /// The hostname or core's keys failed: `--ignore-failure` does not cover that.
    pub global_failed: bool,
}

impl Outcome {
    /// `N changed, M unchanged, K failed`: the last line of every apply.
    pub fn summary(&self) -> String {
        format!(
            "{} changed, {} unchanged, {} failed",
            self.changed, self.unchanged, self.failed
        )
    }
}

/// How one executed step ended.
enum Done {
    /// Changed; with the journal MESSAGE_ID that marks the kind of change, if it has one.
    Changed(Option<&'static str>),
    Skipped(String),
}

impl Target<'_> {
    fn account(&self, user: &str) -> Result<accounts::Account, String> {
        accounts::user(&self.root, user).ok_or_else(|| {
            format!(
                "user {user:?} does not exist in {}",
                self.root.join("etc/passwd").display()
            )
        })
    }

    fn owner(&self, path: &Path, spec: Option<&str>) -> Result<Option<(u32, u32)>, String> {
        let Some(spec) = spec else {
            return Ok(None);
        };
        let o = accounts::resolve_owner(&self.root, spec).map_err(|e| e.to_string())?;
        // A half left out (`:group`, a lone `user`) keeps what the file has, else root, as
        // chown(1) on the reference's fresh temp file did.
        let current = fs::lstat(&self.root, path);
        let uid = o.uid.or(current.as_ref().map(|c| c.uid)).unwrap_or(0);
        let gid = o.gid.or(current.as_ref().map(|c| c.gid)).unwrap_or(0);
        Ok(Some((uid, gid)))
    }

    /// A file written for a user inside that user's home gets the missing directories between
    /// the home and the file owned by the user, so the user can use them (the reference made
    /// them root's, coreos-cloudinit#355). Elsewhere new directories stay root's.
    fn home_parents(&self, path: &Path, uid: u32) -> Result<(), String> {
        let Some(account) = accounts::user_by_uid(&self.root, uid) else {
            return Ok(());
        };
        let Ok(below) = path.strip_prefix(&account.home) else {
            return Ok(());
        };
        if account.home == Path::new("/") {
            return Ok(());
        }
        let mut dir = account.home.clone();
        let parents: Vec<_> = below
            .parent()
            .map(|p| p.components().collect())
            .unwrap_or_default();
        for part in parents {
            dir.push(part);
            if fs::lstat(&self.root, &dir).is_none() {
                fs::ensure_dir(&self.root, &dir, 0o755, Some((account.uid, account.gid)))
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    fn job(&self, what: &str, result: JobResult) -> Result<Done, String> {
        match result {
            JobResult::Done => Ok(Done::Changed(None)),
            JobResult::Skipped => Ok(Done::Skipped(format!(
                "{what}: skipped (no running systemd)"
            ))),
            JobResult::Failed(r) => Err(format!("the job ended with result {r:?}")),
        }
    }

    fn stamp(&self, stamp: &str) -> Result<(), String> {
        let path = Path::new(plan::STAMPS);
        let mut text = fs::read(&self.root, path).unwrap_or_default();
        text.extend_from_slice(stamp.as_bytes());
        text.push(b'\n');
        fs::write_atomic(&self.root, path, &text, 0o644, None).map_err(|e| e.to_string())
    }

    fn set_hostname(&self, name: &str) -> Result<Done, String> {
        if self.systemd.set_hostname(name).map_err(|e| e.to_string())? {
            return Ok(Done::Changed(None));
        }
        fs::write_atomic(
            &self.root,
            Path::new("/etc/hostname"),
            format!("{name}\n").as_bytes(),
            0o644,
            None,
        )
        .map_err(|e| e.to_string())?;
        if self.root == Path::new("/") {
            nix::unistd::sethostname(name)
                .map_err(|e| format!("sethostname({name:?}) failed: {e}"))?;
        }
        Ok(Done::Changed(None))
    }

    fn import_keys(&self, user: &str, set: &str, url: &str) -> Result<Done, String> {
        let keys = fetch_keys(url, self.http_timeout)?;
        let account = self.account(user)?;
        sshkeys::write_set(&self.root, &account, set, &keys).map_err(|e| e.to_string())?;
        Ok(Done::Changed(Some(MESSAGE_KEYS_WRITTEN)))
    }

    fn script(
        &self,
        path: &Path,
        content: &[u8],
        service: &str,
        stamp: &str,
    ) -> Result<Done, String> {
        if !self.systemd.is_live() {
            return Ok(Done::Skipped(format!(
                "script {}: skipped (no running systemd)",
                path.display()
            )));
        }
        let dir = path.parent().unwrap_or(Path::new("/"));
        // Old copies of other scripts are removed; the reference let them pile up.
        if let Ok(entries) =
            std::fs::read_dir(fs::host_path(&self.root, dir, true).map_err(|e| e.to_string())?)
        {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name.starts_with("script-")
                    && Some(name.as_ref()) != path.file_name().and_then(|n| n.to_str())
                {
                    let _ = fs::remove(&self.root, &dir.join(name.as_ref()));
                }
            }
        }
        fs::write_atomic(&self.root, path, content, 0o744, None).map_err(|e| e.to_string())?;
        let result = self
            .systemd
            .run_transient(&TransientService {
                name: service.to_string(),
                description: "Unit generated and executed by coreos-cloudinit on behalf of user"
                    .into(),
                argv: vec![path.display().to_string()],
            })
            .map_err(|e| e.to_string())?;
        let done = self
            .job(&format!("script {}", path.display()), result)
            .map_err(|e| format!("{e}; journalctl -u {service} tells why"))?;
        self.stamp(stamp)?;
        Ok(done)
    }

    fn carry_out(&self, step: &Step) -> Result<Done, String> {
        match &step.action {
            Action::SetHostname { name } => self.set_hostname(name),
            Action::CreateUser { user } => {
                users::clear_stale_locks(&self.root).map_err(|e| e.to_string())?;
                users::create_user(user, &self.root).map_err(|e| e.to_string())?;
                Ok(Done::Changed(Some(MESSAGE_USER_CREATED)))
            }
            Action::UpdateUser {
                name,
                passwd,
                add_groups,
                repair,
            } => {
                // A run killed while it held a lock leaves its `FILE.PID` beside the lock; the
                // plan cannot list a directory, so every user change sweeps them first.
                users::clear_stale_locks(&self.root).map_err(|e| e.to_string())?;
                users::repair(name, repair, &self.root).map_err(|e| e.to_string())?;
                if let Some(hash) = passwd {
                    users::set_password(name, hash, &self.root).map_err(|e| e.to_string())?;
                }
                if !add_groups.is_empty() {
                    users::add_groups(name, add_groups, &self.root).map_err(|e| e.to_string())?;
                }
                Ok(Done::Changed(Some(MESSAGE_USER_UPDATED)))
            }
            Action::SshKeys { user, set, keys } => {
                let account = self.account(user)?;
                sshkeys::write_set(&self.root, &account, set, keys).map_err(|e| e.to_string())?;
                Ok(Done::Changed(Some(MESSAGE_KEYS_WRITTEN)))
            }
            Action::ImportSshKeys { user, set, url } => self.import_keys(user, set, url),
            Action::WriteFile {
                path,
                content,
                mode,
                owner,
                ..
            } => {
                let owner = self.owner(path, owner.as_deref())?;
                if let Some((uid, _)) = owner {
                    self.home_parents(path, uid)?;
                }
                fs::write_atomic(&self.root, path, content, *mode, owner)
                    .map_err(|e| e.to_string())?;
                Ok(Done::Changed(Some(MESSAGE_FILE_WRITTEN)))
            }
            Action::Mask { path, .. } => {
                fs::symlink_atomic(&self.root, path, Path::new("/dev/null"))
                    .map_err(|e| e.to_string())?;
                Ok(Done::Changed(None))
            }
            Action::Unmask { path, .. } => {
                fs::remove(&self.root, path).map_err(|e| e.to_string())?;
                Ok(Done::Changed(None))
            }
            Action::Enable { unit, runtime } => {
                self.systemd
                    .enable(std::slice::from_ref(unit), *runtime)
                    .map_err(|e| e.to_string())?;
                Ok(Done::Changed(None))
            }
            Action::DaemonReload => {
                self.systemd.reload().map_err(|e| e.to_string())?;
                Ok(Done::Changed(None))
            }
            Action::RestartNetworkd => {
                let r = self
                    .systemd
                    .run("systemd-networkd.service", UnitCommand::Restart)
                    .map_err(|e| e.to_string())?;
                self.job("restart systemd-networkd.service", r)
            }
            Action::Command {
                unit,
                command,
                stamp,
            } => {
                let r = self
                    .systemd
                    .run(unit, *command)
                    .map_err(|e| e.to_string())?;
                let done = self
                    .job(&format!("{} {unit}", command.as_str()), r)
                    .map_err(|e| format!("{e}; journalctl -u {unit} tells why"))?;
                if matches!(done, Done::Changed(_)) {
                    self.stamp(stamp)?;
                }
                Ok(done)
            }
            Action::Script {
                path,
                content,
                service,
                stamp,
            } => self.script(path, content, service, stamp),
            Action::Invalid { what, message } => Err(format!("{what}: {message}")),
        }
    }
}

/// The most a key list may be: GitHub's answer for a user with a hundred keys is far less.
const KEYS_CAP: usize = 1 << 20;

/// Fetches `[{"id": N, "key": "..."}]` (GitHub's keys API and the reference's import format)
/// with the one HTTP client, retried as the reference's GetRetry was.
fn fetch_keys(url: &str, timeout: Duration) -> Result<Vec<String>, String> {
    let options = HttpOptions {
        timeout,
        ..HttpOptions::default()
    };
    let body = HttpClient::for_internet(&options)
        .get(url, &[], KEYS_CAP)
        .map_err(|e| format!("cannot import SSH keys: {e}"))?
        .ok_or_else(|| format!("cannot import SSH keys: GET {url}: not found (HTTP 404 or 410)"))?;
    #[derive(serde::Deserialize)]
    struct Key {
        key: String,
    }
    let keys: Vec<Key> = serde_json::from_slice(&body)
        .map_err(|e| format!("keys from {url} are not a JSON list of {{\"id\", \"key\"}}: {e}"))?;
    Ok(keys.into_iter().map(|k| k.key).collect())
}

/// Runs every step that changes something, in order, and counts.
pub fn execute(plan: &Plan, target: &Target) -> Outcome {
    let mut out = Outcome::default();
    for step in &plan.steps {
        let what = show::describe(step);
        if step.part.is_some() && out.global_failed {
            out.skipped += 1;
            log::warn!("not done, as the hostname or core's keys failed: {what}");
            continue;
        }
        if !step.change {
            out.unchanged += 1;
            log::debug!("unchanged: {what}");
            continue;
        }
        if let Action::Invalid { .. } = step.action {
            // Planned as a failure (`!` in the plan): nothing to try, the step says why.
            out.failed += 1;
            out.global_failed |= step.part.is_none();
            log::error!("failed: {what}");
            continue;
        }
        match target.carry_out(step) {
            Ok(Done::Changed(id)) => {
                out.changed += 1;
                match id {
                    Some(id) => log::info!(message_id = id; "{what}"),
                    None => log::info!("{what}"),
                }
            }
            Ok(Done::Skipped(why)) => {
                out.skipped += 1;
                log::info!("{why}");
            }
            Err(e) => {
                out.failed += 1;
                out.global_failed |= step.part.is_none();
                // The step says what was asked (with its part), the error why it failed.
                log::error!("failed: {what}: {e}");
            }
        }
    }
    out
}
