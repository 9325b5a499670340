//! SSH keys the way update-ssh-keys laid them out, done natively: one file per key set in
//! `~USER/.ssh/authorized_keys.d/`, and `~USER/.ssh/authorized_keys` regenerated from them.
//!
//! What a write changes is decided by [`crate::plan::keys`], the planner's own decision, read
//! here again under update-ssh-keys' lock; this module carries it out durably.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::accounts::Account;
use super::fs::{self, FsError};
use crate::plan::keys::{self, KeyFiles, KeysDir, SetFile, DIR_MODE, FILE_MODE};
pub use crate::plan::keys::{render_set, ORIG_SET};
use crate::plan::FileStat;
/// update-ssh-keys' lock, so that the two tools (and two kindling runs) never interleave.
const LOCK_FILE: &str = ".authorized_keys.d.lock";
/// Where `authorized_keys.d` is assembled when it is first made, so that a crash cannot leave
/// it existing without the preserved keys (a rerun would then regenerate them away).
const STAGE_DIR: &str = ".authorized_keys.d.kindling-stage";

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
    Session::open(root, account, set)?.sync(set, keys)
}

struct Session<'a> {
    root: &'a Path,
    account: &'a Account,
    _lock: File,
}

impl<'a> Session<'a> {
    fn open(root: &'a Path, account: &'a Account, set: &str) -> Result<Self, SshKeysError> {
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
        let lock = lock(&host_home.join(LOCK_FILE), account)?;
        Ok(Session {
            root,
            account,
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

    fn write(&self, path: &Path, content: &[u8]) -> Result<(), SshKeysError> {
        fs::write_atomic(self.root, path, content, FILE_MODE, Some(self.owner()))
            .map_err(|e| self.fs_error(e))
    }

    /// Makes `dir` a 0700 directory of the user.
    fn ensure_dir(&self, dir: &Path) -> Result<(), SshKeysError> {
        fs::ensure_dir(self.root, dir, DIR_MODE, Some(self.owner())).map_err(|e| self.fs_error(e))
    }

    /// Carries out what [`keys::update`] decides, read under the lock.
    fn sync(&self, set: &str, keys: &[String]) -> Result<bool, SshKeysError> {
        let account = crate::plan::Account {
            name: self.account.name.clone(),
            uid: self.account.uid,
            gid: self.account.gid,
            home: self.account.home.clone(),
        };
        let update = keys::update(&RootFiles(self.root), &account, set, keys);
        if update.make_ssh_dir {
            self.ensure_dir(&update.ssh_dir)?;
        }
        match &update.dir {
            None | Some(KeysDir::Keep) => {}
            Some(KeysDir::Fix) | Some(KeysDir::Create { preserved: None }) => {
                self.ensure_dir(&update.keys_dir)?
            }
            Some(KeysDir::Create {
                preserved: Some(orig),
            }) => self.create_keys_dir(&update.ssh_dir, &update.keys_dir, orig)?,
        }
        match &update.set {
            SetFile::Unchanged => {}
            SetFile::Write(content) => self.write(&update.set_path, content)?,
            SetFile::Remove => {
                fs::remove(self.root, &update.set_path).map_err(|e| self.fs_error(e))?;
            }
            SetFile::Disabled => log::warn!(
                "SSH key set {set:?} of user {:?} is disabled (an empty {}); not replacing it",
                self.account.name,
                update.set_path.display()
            ),
        }
        if let Some(all) = &update.regenerated {
            self.write(&update.authorized_keys, all)?;
        }
        Ok(update.changes())
    }

    /// Makes `authorized_keys.d`, with `orig_authorized_keys` in it when there are keys to keep,
    /// assembled aside and renamed into place so that it never exists without them.
    fn create_keys_dir(
        &self,
        ssh_dir: &Path,
        keys_dir: &Path,
        orig: &[u8],
    ) -> Result<(), SshKeysError> {
        let stage = ssh_dir.join(STAGE_DIR);
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
        self.ensure_dir(&stage)?;
        self.write(&stage.join(ORIG_SET), orig)?;
        std::fs::rename(&stage_host, host(keys_dir)?)
            .map_err(|error| io_error("create directory", keys_dir, error))?;
        let ssh_host = host(ssh_dir)?;
        super::root::sync_dir(&ssh_host)
            .map_err(|error| io_error("create directory", keys_dir, error))?;
        Ok(())
    }
}

/// The target root as [`keys::update`] reads it.
struct RootFiles<'a>(&'a Path);

impl KeyFiles for RootFiles<'_> {
    fn read(&self, path: &Path) -> Option<Vec<u8>> {
        fs::read(self.0, path)
    }
    fn stat(&self, path: &Path) -> Option<FileStat> {
        fs::lstat(self.0, path)
    }
    fn list(&self, dir: &Path) -> Vec<OsString> {
        fs::list(self.0, dir).unwrap_or_default()
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
    fn set_names() {
        for bad in ["", "a/b", ".hidden", "..", "a\0"] {
            assert!(check_set_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_set_name("coreos-cloudinit").is_ok());
    }
}
