//! A machine in memory behind [`State`], for the planner's unit tests and the `plan` fuzz target:
//! one model of what the planner reads, so the two cannot drift apart. Compiled only into tests
//! and the `fuzzing` feature, never into the release binary.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::{Account, Action, FileKind, FileStat, Plan, State};

/// Files, symlinks, directories, accounts and units, all owned by root unless `ids` says
/// otherwise. A directory exists where `dirs` names it or where it holds an entry.
#[derive(Debug, Default)]
pub struct Memory {
    /// Content and permission bits.
    pub files: BTreeMap<PathBuf, (Vec<u8>, u32)>,
    pub links: BTreeMap<PathBuf, PathBuf>,
    pub dirs: BTreeSet<PathBuf>,
    pub users: BTreeMap<String, Account>,
    pub hostname: Option<String>,
    pub enabled: BTreeSet<String>,
    pub active: BTreeSet<String>,
    /// Stamps of the actions that ran this boot.
    pub done: BTreeSet<String>,
    /// Owner and mode (uid, gid, mode) where they are not root's and the default.
    pub ids: BTreeMap<PathBuf, (u32, u32, u32)>,
}

impl Memory {
    /// Adds the account `name` with uid and gid `id` and the home `/home/NAME` (not made).
    pub fn add_account(&mut self, name: &str, id: u32) {
        let account = Account {
            name: name.into(),
            uid: id,
            gid: id,
            home: Path::new("/home").join(name),
        };
        self.users.insert(name.into(), account);
    }

    fn stat_default(&self, path: &Path) -> Option<FileStat> {
        let stat = |kind, mode, len| FileStat {
            kind,
            mode,
            uid: 0,
            gid: 0,
            len,
        };
        if let Some(target) = self.links.get(path) {
            return Some(stat(FileKind::Symlink(target.clone()), 0o777, 0));
        }
        if self.dirs.contains(path) {
            return Some(stat(FileKind::Dir, 0o700, 0));
        }
        let (content, mode) = self.files.get(path)?;
        Some(stat(FileKind::File, *mode, content.len() as u64))
    }

    /// What apply leaves behind for the steps whose change the planner reads back: written
    /// files, the hostname, masks, enablement and the stamps of commands and scripts.
    pub fn carry_out(&mut self, plan: &Plan) {
        for step in &plan.steps {
            match &step.action {
                Action::WriteFile {
                    path,
                    content,
                    mode,
                    ..
                } => {
                    self.links.remove(path);
                    self.files.insert(path.clone(), (content.clone(), *mode));
                }
                Action::SetHostname { name } => self.hostname = Some(name.clone()),
                Action::Mask { path, .. } => {
                    self.files.remove(path);
                    self.links.insert(path.clone(), "/dev/null".into());
                }
                Action::Enable { unit, .. } => {
                    self.enabled.insert(unit.clone());
                }
                Action::Command { stamp, .. } | Action::Script { stamp, .. } => {
                    self.done.insert(stamp.clone());
                }
                _ => {}
            }
        }
    }
}

impl State for Memory {
    fn read(&self, path: &Path) -> Option<Vec<u8>> {
        self.files.get(path).map(|(c, _)| c.clone())
    }
    fn stat(&self, path: &Path) -> Option<FileStat> {
        let mut stat = self.stat_default(path)?;
        if let Some(&(uid, gid, mode)) = self.ids.get(path) {
            (stat.uid, stat.gid, stat.mode) = (uid, gid, mode);
        }
        Some(stat)
    }
    fn list(&self, dir: &Path) -> Option<Vec<OsString>> {
        let paths = self
            .files
            .keys()
            .chain(self.links.keys())
            .chain(self.dirs.iter());
        let names: BTreeSet<OsString> = paths
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name().map(|n| n.to_os_string()))
            .collect();
        (self.dirs.contains(dir) || !names.is_empty()).then(|| names.into_iter().collect())
    }
    fn user(&self, name: &str) -> Option<Account> {
        self.users.get(name).cloned()
    }
    fn user_groups(&self, _: &str) -> Vec<String> {
        vec!["docker".into()]
    }
    fn password_hash(&self, _: &str) -> Option<String> {
        Some("$6$old".into())
    }
    fn owner(&self, spec: &str) -> Result<(Option<u32>, Option<u32>), String> {
        match spec {
            "root" | "0" => Ok((Some(0), None)),
            "root:root" | "0:0" => Ok((Some(0), Some(0))),
            _ => Err(format!("unknown owner {spec:?}")),
        }
    }
    fn group_exists(&self, group: &str) -> bool {
        ["root", "core", "docker", "wheel"].contains(&group)
    }
    fn hostname(&self) -> Option<String> {
        self.hostname.clone()
    }
    fn unit_enabled(&self, unit: &str) -> Option<bool> {
        Some(self.enabled.contains(unit))
    }
    fn unit_active(&self, unit: &str) -> Option<bool> {
        Some(self.active.contains(unit))
    }
    fn done_this_boot(&self, stamp: &str) -> bool {
        self.done.contains(stamp)
    }
}
