//! SSH keys the way update-ssh-keys laid them out, done natively: one file per key set in
//! `~USER/.ssh/authorized_keys.d/`, and `~USER/.ssh/authorized_keys` regenerated from them.
//!
//! Sets are concatenated in file-name order (update-ssh-keys used hash order, so its output was
//! not reproducible); an empty set file is a set disabled with `update-ssh-keys -D` and is
//! neither included nor replaced. Directories are 0700, files 0600, all owned by the user, and
//! the first time `authorized_keys.d` is made, the keys already in `authorized_keys` are kept as
//! the set `orig_authorized_keys`, as update-ssh-keys does.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::accounts::Account;
use super::fs::{self, FileKind, FsError};

/// The set that keeps the keys of an `authorized_keys` that predates `authorized_keys.d`.
pub const ORIG_SET: &str = "orig_authorized_keys";
/// update-ssh-keys' lock, so that the two tools (and two kindling runs) never interleave.
const LOCK_FILE: &str = ".authorized_keys.d.lock";
/// Where `authorized_keys.d` is assembled when it is first made, so that a crash cannot leave
/// it existing without the preserved keys (a rerun would then regenerate them away).
const STAGE_DIR: &str = ".authorized_keys.d.kindling-stage";
const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;

#[derive(Debug, thiserror::Error)]
pub enum SshKeysError {
    #[error("invalid SSH key set name {set:?}: {reason}")]
    InvalidSetName { set: String, reason: &'static str },
    #[error("cannot write SSH keys of user {user:?}: home directory {} {reason}", .home.display())]
    Home {
        user: String,
        home: PathBuf,
        reason: &'static str,
    },
    #[error("failed to lock {} for SSH keys of user {user:?}: {}", .path.display(), fs::cause(.error))]
    Lock {
        user: String,
        path: PathBuf,
        error: io::Error,
    },
    #[error("failed to update SSH keys of user {user:?}: {error}")]
    Fs { user: String, error: FsError },
}

/// A key set file: each key trimmed (an entry holding several lines counts as several keys),
/// empty ones dropped, duplicates dropped keeping the first, one per line.
pub fn render_set(keys: &[String]) -> Vec<u8> {
    let mut seen: Vec<&str> = Vec::new();
    for key in keys.iter().flat_map(|k| k.lines()).map(str::trim) {
        if !key.is_empty() && !seen.contains(&key) {
            seen.push(key);
        }
    }
    let mut out = Vec::new();
    for key in seen {
        out.extend_from_slice(key.as_bytes());
        out.push(b'\n');
    }
    out
}

fn check_set_name(set: &str) -> Result<(), SshKeysError> {
    let reason = if set.is_empty() {
        "it is empty"
    } else if set.contains('/') {
        "it contains '/'"
    } else if set.starts_with('.') {
        "it starts with '.'"
    } else if set.contains('\0') {
        "it contains NUL"
    } else {
        return Ok(());
    };
    Err(SshKeysError::InvalidSetName {
        set: set.to_string(),
        reason,
    })
}

/// Replaces the key set `set` of `account` with `keys` (no keys: removes the set) and
/// regenerates `authorized_keys`. `Ok(false)` when everything already was so; nothing is then
/// rewritten.
pub fn write_set(
    root: &Path,
    account: &Account,
    set: &str,
    keys: &[String],
) -> Result<bool, SshKeysError> {
    Session::open(root, account, set, false)?.sync(set, keys)
}

/// Whether [`write_set`] with these arguments would change anything (touches nothing).
pub fn needs_update(
    root: &Path,
    account: &Account,
    set: &str,
    keys: &[String],
) -> Result<bool, SshKeysError> {
    Session::open(root, account, set, true)?.sync(set, keys)
}

struct Session<'a> {
    root: &'a Path,
    account: &'a Account,
    ssh_dir: PathBuf,
    dry_run: bool,
    _lock: Option<File>,
}

impl<'a> Session<'a> {
    fn open(
        root: &'a Path,
        account: &'a Account,
        set: &str,
        dry_run: bool,
    ) -> Result<Self, SshKeysError> {
        check_set_name(set)?;
        let home_error = |reason| SshKeysError::Home {
            user: account.name.clone(),
            home: account.home.clone(),
            reason,
        };
        if !account.home.is_absolute() {
            return Err(home_error("is not an absolute path"));
        }
        let host_home =
            fs::host_path(root, &account.home, true).map_err(|error| SshKeysError::Fs {
                user: account.name.clone(),
                error,
            })?;
        match std::fs::metadata(&host_home) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(home_error("is not a directory")),
            Err(_) => return Err(home_error("does not exist")),
        }
        let lock = if dry_run {
            None
        } else {
            Some(lock(&host_home.join(LOCK_FILE), account)?)
        };
        Ok(Session {
            root,
            account,
            ssh_dir: account.home.join(".ssh"),
            dry_run,
            _lock: lock,
        })
    }

    fn owner(&self) -> (u32, u32) {
        (self.account.uid, self.account.gid)
    }

    fn fs_error(&self, error: FsError) -> SshKeysError {
        SshKeysError::Fs {
            user: self.account.name.clone(),
            error,
        }
    }

    /// Whether `path` is a regular file with exactly this content, mode and owner.
    fn file_is(&self, path: &Path, content: &[u8]) -> bool {
        let Some(stat) = fs::lstat(self.root, path) else {
            return false;
        };
        stat.kind == FileKind::File
            && stat.mode == FILE_MODE
            && (stat.uid, stat.gid) == self.owner()
            && stat.len == content.len() as u64
            && fs::read(self.root, path).as_deref() == Some(content)
    }

    fn write(&self, path: &Path, content: &[u8]) -> Result<bool, SshKeysError> {
        if self.file_is(path, content) {
            return Ok(false);
        }
        if !self.dry_run {
            fs::write_atomic(self.root, path, content, FILE_MODE, Some(self.owner()))
                .map_err(|e| self.fs_error(e))?;
        }
        Ok(true)
    }

    /// Makes `dir` a 0700 directory of the user. With `keep_existing`, a directory already
    /// there is left as it is: `~/.ssh` is the user's, only `authorized_keys.d` is ours.
    fn dir(&self, dir: &Path, keep_existing: bool) -> Result<bool, SshKeysError> {
        let ok = match fs::lstat(self.root, dir) {
            Some(stat) if stat.kind == FileKind::Dir => {
                keep_existing || (stat.mode == DIR_MODE && (stat.uid, stat.gid) == self.owner())
            }
            _ => false,
        };
        if ok {
            return Ok(false);
        }
        if !self.dry_run {
            fs::ensure_dir(self.root, dir, DIR_MODE, Some(self.owner()))
                .map_err(|e| self.fs_error(e))?;
        }
        Ok(true)
    }

    /// The sets in `dir` by file name; names starting with `.` (temporary files) are not sets,
    /// nor is anything that is not a regular file.
    fn read_sets(&self, dir: &Path) -> BTreeMap<OsString, Vec<u8>> {
        let mut sets = BTreeMap::new();
        let Ok(host) = fs::host_path(self.root, dir, false) else {
            return sets;
        };
        let Ok(entries) = std::fs::read_dir(host) else {
            return sets;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name.as_bytes().starts_with(b".") {
                continue;
            }
            if let Some(content) = fs::read(self.root, &dir.join(&name)) {
                sets.insert(name, content);
            }
        }
        sets
    }

    fn sync(&self, set: &str, keys: &[String]) -> Result<bool, SshKeysError> {
        let keys_dir = self.ssh_dir.join("authorized_keys.d");
        let authorized_keys = self.ssh_dir.join("authorized_keys");
        let content = render_set(keys);
        if content.is_empty() && fs::lstat(self.root, &keys_dir).is_none() {
            // No set to remove, and nothing to create for an empty one.
            return Ok(false);
        }
        let mut changed = self.dir(&self.ssh_dir, true)?;

        let mut sets = match fs::lstat(self.root, &keys_dir) {
            None => {
                changed |= self.create_keys_dir(&keys_dir, &authorized_keys)?;
                let mut sets = BTreeMap::new();
                if let Some(orig) = self.preserved_keys(&authorized_keys) {
                    sets.insert(OsString::from(ORIG_SET), orig);
                }
                sets
            }
            Some(_) => {
                changed |= self.dir(&keys_dir, false)?;
                self.read_sets(&keys_dir)
            }
        };

        let name = OsString::from(set);
        let set_path = keys_dir.join(set);
        match sets.get(&name) {
            Some(old) if old.is_empty() => {
                if !content.is_empty() {
                    log::warn!(
                        "SSH key set {set:?} of user {:?} is disabled (an empty {}); not replacing it",
                        self.account.name,
                        set_path.display()
                    );
                }
            }
            Some(_) if content.is_empty() => {
                if !self.dry_run {
                    fs::remove(self.root, &set_path).map_err(|e| self.fs_error(e))?;
                }
                sets.remove(&name);
                changed = true;
            }
            None if content.is_empty() => {}
            _ => {
                changed |= self.write(&set_path, &content)?;
                sets.insert(name, content);
            }
        }

        let mut all = Vec::new();
        for content in sets.values() {
            if content.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            all.extend_from_slice(content);
            if !all.ends_with(b"\n") {
                all.push(b'\n');
            }
        }
        changed |= self.write(&authorized_keys, &all)?;
        Ok(changed)
    }

    /// The keys of an `authorized_keys` that predates `authorized_keys.d`, as a set.
    fn preserved_keys(&self, authorized_keys: &Path) -> Option<Vec<u8>> {
        let existing = fs::read(self.root, authorized_keys)?;
        let lines: Vec<String> = String::from_utf8_lossy(&existing)
            .lines()
            .map(str::to_string)
            .collect();
        Some(render_set(&lines)).filter(|set| !set.is_empty())
    }

    /// Makes `authorized_keys.d`, with `orig_authorized_keys` in it when there are keys to keep,
    /// assembled aside and renamed into place so that it never exists without them.
    fn create_keys_dir(
        &self,
        keys_dir: &Path,
        authorized_keys: &Path,
    ) -> Result<bool, SshKeysError> {
        if self.dry_run {
            return Ok(true);
        }
        let Some(orig) = self.preserved_keys(authorized_keys) else {
            self.dir(keys_dir, false)?;
            return Ok(true);
        };
        let stage = self.ssh_dir.join(STAGE_DIR);
        let host =
            |path: &Path| fs::host_path(self.root, path, false).map_err(|e| self.fs_error(e));
        let io_error = |op, path: &Path, error| {
            self.fs_error(FsError::Io {
                op,
                path: path.to_path_buf(),
                root: self.root.to_path_buf(),
                error,
            })
        };
        let stage_host = host(&stage)?;
        // A crashed run's stage; the lock says no one else is using it.
        match std::fs::remove_dir_all(&stage_host) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(io_error("remove", &stage, error)),
        }
        self.dir(&stage, false)?;
        self.write(&stage.join(ORIG_SET), &orig)?;
        std::fs::rename(&stage_host, host(keys_dir)?)
            .map_err(|error| io_error("create directory", keys_dir, error))?;
        let ssh_host = host(&self.ssh_dir)?;
        File::open(&ssh_host)
            .and_then(|dir| dir.sync_all())
            .map_err(|error| io_error("create directory", keys_dir, error))?;
        Ok(true)
    }
}

/// Takes update-ssh-keys' exclusive lock in the user's home, creating the lock file (the
/// user's, as update-ssh-keys creates it as the user) when missing. Never follows a symlink
/// there: the home belongs to the user.
fn lock(path: &Path, account: &Account) -> Result<File, SshKeysError> {
    let lock_error = |error| SshKeysError::Lock {
        user: account.name.clone(),
        path: path.to_path_buf(),
        error,
    };
    let open = |create_new: bool| {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(create_new)
            .mode(FILE_MODE)
            .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
            .open(path)
    };
    let file = match open(true) {
        Ok(file) => {
            std::os::unix::fs::fchown(&file, Some(account.uid), Some(account.gid))
                .map_err(lock_error)?;
            file
        }
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
            open(false).map_err(lock_error)?
        }
        Err(error) => return Err(lock_error(error)),
    };
    file.lock().map_err(lock_error)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_trims_dedupes_and_keeps_order() {
        let keys: Vec<String> = [
            "  ssh-ed25519 AAAA b@host ",
            "",
            "ssh-rsa AAAB a@host\nssh-ed25519 AAAA b@host",
            "   ",
            "ssh-ed25519 AAAC c@host\r",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            String::from_utf8(render_set(&keys)).unwrap(),
            "ssh-ed25519 AAAA b@host\nssh-rsa AAAB a@host\nssh-ed25519 AAAC c@host\n"
        );
        assert!(render_set(&[]).is_empty());
        assert!(render_set(&[" \n ".to_string()]).is_empty());
    }

    #[test]
    fn set_names() {
        for bad in ["", "a/b", ".hidden", "..", "a\0"] {
            assert!(check_set_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_set_name("coreos-cloudinit").is_ok());
    }
}
