//! The current state of a target (the live host or an offline root), as planning reads it:
//! files under the root, its passwd/group/shadow files, and systemd's view of units.

use std::path::{Path, PathBuf};

use crate::apply::systemd::Systemd;
use crate::apply::{accounts, fs};
use crate::plan::{self, Account, FileStat, State};

pub struct TargetState<'a> {
    pub root: PathBuf,
    pub systemd: &'a dyn Systemd,
    /// Read once: the stamps of what ran since boot.
    stamps: Vec<String>,
}

impl<'a> TargetState<'a> {
    pub fn new(root: impl Into<PathBuf>, systemd: &'a dyn Systemd) -> TargetState<'a> {
        let root = root.into();
        let stamps = fs::read(&root, Path::new(plan::STAMPS))
            .map(|b| {
                String::from_utf8_lossy(&b)
                    .lines()
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        TargetState {
            root,
            systemd,
            stamps,
        }
    }
}

impl State for TargetState<'_> {
    fn read(&self, path: &Path) -> Option<Vec<u8>> {
        fs::read(&self.root, path)
    }

    fn stat(&self, path: &Path) -> Option<FileStat> {
        fs::lstat(&self.root, path)
    }

    fn list(&self, dir: &Path) -> Option<Vec<std::ffi::OsString>> {
        fs::list(&self.root, dir)
    }

    fn user(&self, name: &str) -> Option<Account> {
        accounts::user(&self.root, name).map(|a| Account {
            name: a.name,
            uid: a.uid,
            gid: a.gid,
            home: a.home,
        })
    }

    fn user_groups(&self, name: &str) -> Vec<String> {
        accounts::supplementary_groups(&self.root, name)
    }

    fn password_hash(&self, name: &str) -> Option<String> {
        accounts::shadow_hash(&self.root, name)
    }

    fn owner(&self, spec: &str) -> Result<(Option<u32>, Option<u32>), String> {
        let o = accounts::resolve_owner(&self.root, spec).map_err(|e| e.to_string())?;
        Ok((o.uid, o.gid))
    }

    fn group_exists(&self, group: &str) -> bool {
        accounts::group_exists(&self.root, group)
    }

    fn hostname(&self) -> Option<String> {
        if let Ok(Some(name)) = self.systemd.static_hostname() {
            return Some(name).filter(|n| !n.is_empty());
        }
        fs::read(&self.root, Path::new("/etc/hostname"))
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .filter(|n| !n.is_empty())
    }

    fn unit_enabled(&self, unit: &str) -> Option<bool> {
        let state = self.systemd.unit_file_state(unit).ok()??;
        Some(matches!(state.as_str(), "enabled" | "enabled-runtime"))
    }

    fn unit_active(&self, unit: &str) -> Option<bool> {
        if !self.systemd.is_live() {
            return None;
        }
        match self.systemd.active_state(unit) {
            Ok(Some(s)) => Some(matches!(s.as_str(), "active" | "activating" | "reloading")),
            Ok(None) => Some(false),
            Err(_) => None,
        }
    }

    fn done_this_boot(&self, stamp: &str) -> bool {
        self.stamps.iter().any(|s| s == stamp)
    }
}
