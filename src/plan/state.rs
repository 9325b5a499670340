//! What the planner reads of the machine: the `State` trait and the facts it returns. The
//! apply side implements it over a real root; tests and the fuzzer over memory.

use std::path::{Path, PathBuf};

/// What planning reads of the machine. Paths are absolute paths inside the target.
pub trait State {
    /// A regular file's content; None when missing.
    fn read(&self, path: &Path) -> Option<Vec<u8>>;
    /// `lstat` of a path; None when missing.
    fn stat(&self, path: &Path) -> Option<FileStat>;
    /// The user's passwd entry in the target.
    fn user(&self, name: &str) -> Option<Account>;
    /// The names of the user's supplementary groups.
    fn user_groups(&self, name: &str) -> Vec<String>;
    /// The user's password hash in the target's shadow file.
    fn password_hash(&self, name: &str) -> Option<String>;
    /// `owner` (`user`, `user:group`, `:group`, numeric) as the uid and gid it sets (a half it
    /// leaves alone is None); why not when it does not resolve (yet: a user this plan creates
    /// resolves at apply).
    fn owner(&self, spec: &str) -> Result<(Option<u32>, Option<u32>), String>;
    /// Whether the group (a name or a numeric id) exists in the target's /etc/group.
    fn group_exists(&self, group: &str) -> bool;
    /// The current static hostname.
    fn hostname(&self) -> Option<String>;
    /// Whether the unit is enabled (`enabled`, `enabled-runtime`); None when unknown.
    fn unit_enabled(&self, unit: &str) -> Option<bool>;
    /// Whether the unit is active (or activating, reloading); None when unknown (offline).
    fn unit_active(&self, unit: &str) -> Option<bool>;
    /// Whether an action with this stamp already ran since boot.
    fn done_this_boot(&self, stamp: &str) -> bool;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStat {
    pub kind: FileKind,
    /// Permission bits including setuid, setgid and sticky.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub len: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    File,
    Dir,
    Symlink(PathBuf),
    CharDevice,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
}
