//! Files under a target root (`/` for the live host, or an offline tree): atomic, durable writes
//! through a temporary file, fsync and rename, so a crash leaves either the old or the new file.
//!
//! Paths are absolute paths inside the target (`/etc/motd`), resolved by [`crate::apply::root`]
//! so that an effect never lands outside the root. The last component is never followed by a
//! write: renaming over a symlink replaces the link.
//!
//! Fault injection for crash tests, built only with the `fault-injection` feature (the tests turn
//! it on; the release binary has none): when `KINDLING_FAULT_WRITE=N` is set, the N-th call
//! (counted from 1, in this process) of [`write_atomic`] or [`symlink_atomic`] kills the process
//! with SIGKILL after the temporary file is complete and fsynced, just before the rename. The
//! variable is read once.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions, Permissions};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

pub(crate) use super::root::{cause, host_path};
pub use super::root::{is_host, resolve, FsError};
use super::root::{locate, make_parent, sync_dir, Located};

/// [`read`] refuses files larger than this: every file kindling reads is small, and a huge one
/// is a mistake better not held in memory.
pub const MAX_READ: u64 = 64 << 20;

const TEMP_PREFIX: &str = ".kindling-";
/// Keeps `.kindling-<name>.<pid>-<random>` within the 255 bytes a file name may have.
const MAX_TEMP_STEM: usize = 200;

/// Counts calls of the fault-injectable writers; see the module documentation.
#[cfg(feature = "fault-injection")]
fn fault_armed() -> bool {
    static LIMIT: OnceLock<Option<u64>> = OnceLock::new();
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let limit = *LIMIT.get_or_init(|| {
        std::env::var("KINDLING_FAULT_WRITE")
            .ok()
            .and_then(|v| v.trim().parse().ok())
    });
    let call = CALLS.fetch_add(1, Ordering::SeqCst) + 1;
    limit == Some(call)
}

#[cfg(not(feature = "fault-injection"))]
fn fault_armed() -> bool {
    false
}

fn crash_if(armed: bool) {
    if armed {
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    }
}

/// A fresh temporary name next to `name`; the pid lets [`clean_stale_temps`] tell a dead
/// run's leftovers from a live writer's file.
fn temp_name(name: &OsStr) -> OsString {
    static STATE: OnceLock<std::collections::hash_map::RandomState> = OnceLock::new();
    static SERIAL: AtomicU64 = AtomicU64::new(0);
    let mut hasher = STATE.get_or_init(Default::default).build_hasher();
    hasher.write_u64(SERIAL.fetch_add(1, Ordering::Relaxed));
    if let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        hasher.write_u128(now.as_nanos());
    }
    let stem = name.as_bytes();
    let stem = &stem[..stem.len().min(MAX_TEMP_STEM)];
    let mut out = TEMP_PREFIX.as_bytes().to_vec();
    out.extend_from_slice(stem);
    out.extend_from_slice(format!(".{}-{:016x}", std::process::id(), hasher.finish()).as_bytes());
    OsString::from_vec(out)
}

/// The pid in a name [`temp_name`] made, or None for anything else.
fn temp_owner(name: &OsStr) -> Option<u32> {
    let name = name.as_bytes().strip_prefix(TEMP_PREFIX.as_bytes())?;
    let dot = name.iter().rposition(|&b| b == b'.')?;
    let suffix = std::str::from_utf8(&name[dot + 1..]).ok()?;
    let (pid, random) = suffix.split_once('-')?;
    if random.len() != 16 || !random.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    pid.parse().ok()
}

fn process_alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // EPERM means it exists but belongs to someone else.
    !matches!(
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
        Err(nix::errno::Errno::ESRCH)
    )
}

/// Removes the temporary files a killed run left in `dir` (those of live processes, this one
/// included, are left alone). Returns how many were removed; a missing `dir` has none.
pub fn clean_stale_temps(dir: &Path) -> io::Result<usize> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(error) => return Err(error),
    };
    let me = std::process::id();
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let Some(pid) = temp_owner(&entry.file_name()) else {
            continue;
        };
        if pid == me || process_alive(pid) || entry.file_type()?.is_dir() {
            continue;
        }
        match fs::remove_file(entry.path()) {
            Ok(()) => removed += 1,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
    }
    Ok(removed)
}

/// The file name and the target's directory, which must exist (or be created) as a directory.
fn split_target<'a>(
    root: &Path,
    target: &'a Located,
    op: &'static str,
) -> Result<(&'a OsStr, PathBuf), FsError> {
    let Some(name) = target.inner.file_name() else {
        return Err(FsError::InvalidPath {
            path: target.inner.clone(),
            reason: "it names the root directory, not a file",
        });
    };
    let host_dir = make_parent(root, target, op)?;
    if let Err(error) = clean_stale_temps(&host_dir) {
        log::debug!(
            "cannot clean temporary files in {}: {error}",
            host_dir.display()
        );
    }
    Ok((name, host_dir))
}

/// Writes `content` to `path` inside `root` atomically and durably, with `mode` (all of 0o7777,
/// setuid, setgid and sticky included) and, when given, `owner` as (uid, gid).
///
/// `owner` is complete: a spec that leaves a half unset (`:group`) is completed by the caller,
/// usually with [`crate::apply::accounts::Owner::complete`] from the current file's ids, because
/// the temporary file starts out owned by this process. `None` leaves it owned by this process.
///
/// Missing parent directories are created 0755. Whatever fails, no temporary file is left.
pub fn write_atomic(
    root: &Path,
    path: &Path,
    content: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<(), FsError> {
    let armed = fault_armed();
    let target = locate(root, path, false)?;
    let (name, dir) = split_target(root, &target, "write")?;
    let io_err = |error| FsError::Io {
        op: "write",
        path: target.inner.clone(),
        root: root.to_path_buf(),
        error,
    };
    let (temp, mut file) = create_temp_file(&dir, name).map_err(io_err)?;
    let result = (|| {
        file.write_all(content)?;
        if let Some((uid, gid)) = owner {
            // Before the chmod: chown(2) clears setuid and setgid.
            std::os::unix::fs::fchown(&file, Some(uid), Some(gid))?;
        }
        file.set_permissions(Permissions::from_mode(mode & 0o7777))?;
        file.sync_all()?;
        drop(file);
        crash_if(armed);
        fs::rename(&temp, &target.host)?;
        sync_dir(&dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result.map_err(io_err)
}

fn create_temp_file(dir: &Path, name: &OsStr) -> io::Result<(PathBuf, File)> {
    let mut attempts = 0;
    loop {
        let temp = dir.join(temp_name(name));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(nix::libc::O_CLOEXEC)
            .open(&temp)
        {
            Ok(file) => return Ok((temp, file)),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists && attempts < 16 => {
                attempts += 1
            }
            Err(error) => return Err(error),
        }
    }
}

/// Makes `path` inside `root` a symbolic link to `target` (taken verbatim), atomically: it
/// replaces a file, another symlink or an empty directory. A directory with entries is an error.
pub fn symlink_atomic(root: &Path, path: &Path, target: &Path) -> Result<(), FsError> {
    let armed = fault_armed();
    let located = locate(root, path, false)?;
    let (name, dir) = split_target(root, &located, "create symlink")?;
    let io_err = |error| FsError::Io {
        op: "create symlink",
        path: located.inner.clone(),
        root: root.to_path_buf(),
        error,
    };
    if fs::symlink_metadata(&located.host).is_ok_and(|m| m.is_dir()) {
        // rename(2) cannot put a non-directory over a directory.
        match fs::remove_dir(&located.host) {
            Ok(()) => {}
            Err(error) if error.raw_os_error() == Some(nix::libc::ENOTEMPTY) => {
                return Err(FsError::DirectoryNotEmpty {
                    op: "create symlink",
                    path: located.inner.clone(),
                    root: root.to_path_buf(),
                })
            }
            Err(error) => return Err(io_err(error)),
        }
    }
    let mut attempts = 0;
    let temp = loop {
        let temp = dir.join(temp_name(name));
        match std::os::unix::fs::symlink(target, &temp) {
            Ok(()) => break temp,
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists && attempts < 16 => {
                attempts += 1
            }
            Err(error) => return Err(io_err(error)),
        }
    };
    crash_if(armed);
    let result = fs::rename(&temp, &located.host).and_then(|()| sync_dir(&dir));
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result.map_err(io_err)
}

/// Removes the file, symlink or empty directory at `path`; `Ok(false)` if there was none.
pub fn remove(root: &Path, path: &Path) -> Result<bool, FsError> {
    let target = locate(root, path, false)?;
    let io_err = |error| FsError::Io {
        op: "remove",
        path: target.inner.clone(),
        root: root.to_path_buf(),
        error,
    };
    let meta = match fs::symlink_metadata(&target.host) {
        Ok(meta) => meta,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(error) => return Err(io_err(error)),
    };
    let removed = if meta.is_dir() {
        fs::remove_dir(&target.host)
    } else {
        fs::remove_file(&target.host)
    };
    match removed {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(error) if error.raw_os_error() == Some(nix::libc::ENOTEMPTY) => {
            return Err(FsError::DirectoryNotEmpty {
                op: "remove",
                path: target.inner.clone(),
                root: root.to_path_buf(),
            })
        }
        Err(error) => return Err(io_err(error)),
    }
    sync_dir(target.host.parent().unwrap_or(root)).map_err(io_err)?;
    Ok(true)
}

/// Makes `path` a directory with exactly `mode` and, when given, `owner`: creates it (and
/// missing parents, 0755) or corrects an existing one. A symlink in its place is an error, not
/// followed: the directory may belong to a user who could point it anywhere.
pub fn ensure_dir(
    root: &Path,
    path: &Path,
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<(), FsError> {
    let target = locate(root, path, false)?;
    let io_err = |error| FsError::Io {
        op: "create directory",
        path: target.inner.clone(),
        root: root.to_path_buf(),
        error,
    };
    let host_parent = make_parent(root, &target, "create directory")?;
    let created = match fs::create_dir(&target.host) {
        Ok(()) => true,
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => false,
        Err(error) => return Err(io_err(error)),
    };
    let dir = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_DIRECTORY | nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
        .open(&target.host)
        .map_err(|error| match error.raw_os_error() {
            Some(nix::libc::ENOTDIR) | Some(nix::libc::ELOOP) => FsError::NotADirectory {
                op: "create directory",
                path: target.inner.clone(),
                root: root.to_path_buf(),
                dir: target.inner.clone(),
            },
            _ => io_err(error),
        })?;
    let meta = dir.metadata().map_err(io_err)?;
    let mut touched = created;
    if let Some((uid, gid)) = owner {
        if meta.uid() != uid || meta.gid() != gid {
            std::os::unix::fs::fchown(&dir, Some(uid), Some(gid)).map_err(io_err)?;
            touched = true;
        }
    }
    // Re-read after a chown, which may have cleared setgid.
    let current = if touched {
        dir.metadata().map_err(io_err)?.mode()
    } else {
        meta.mode()
    };
    if current & 0o7777 != mode & 0o7777 {
        dir.set_permissions(Permissions::from_mode(mode & 0o7777))
            .map_err(io_err)?;
        touched = true;
    }
    if touched {
        dir.sync_all().map_err(io_err)?;
    }
    if created {
        sync_dir(&host_parent).map_err(io_err)?;
    }
    Ok(())
}

// The planner reads the same facts through its State trait: one type for both.
pub use crate::plan::{FileKind, FileStat};

/// What is at `path` itself (a symlink is reported, not followed); None if nothing is, or the
/// path cannot be reached.
pub fn lstat(root: &Path, path: &Path) -> Option<FileStat> {
    let target = locate(root, path, false).ok()?;
    let meta = fs::symlink_metadata(&target.host).ok()?;
    let file_type = meta.file_type();
    use std::os::unix::fs::FileTypeExt;
    let kind = if file_type.is_file() {
        FileKind::File
    } else if file_type.is_dir() {
        FileKind::Dir
    } else if file_type.is_symlink() {
        FileKind::Symlink(fs::read_link(&target.host).ok()?)
    } else if file_type.is_char_device() {
        FileKind::CharDevice
    } else {
        FileKind::Other
    };
    Some(FileStat {
        kind,
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
        len: meta.len(),
    })
}

/// The names of the entries of the directory at `path` (not following a symlink there),
/// sorted; None if it is not a directory or cannot be read.
pub fn list(root: &Path, path: &Path) -> Option<Vec<std::ffi::OsString>> {
    let target = locate(root, path, false).ok()?;
    if !fs::symlink_metadata(&target.host).ok()?.is_dir() {
        return None;
    }
    let mut names = fs::read_dir(&target.host)
        .ok()?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<io::Result<Vec<_>>>()
        .ok()?;
    names.sort();
    Some(names)
}

/// The content of the regular file at `path`, following symlinks inside the root. None if it
/// is missing, not a regular file, unreadable or larger than [`MAX_READ`].
pub fn read(root: &Path, path: &Path) -> Option<Vec<u8>> {
    let target = locate(root, path, true).ok()?;
    let mut options = OpenOptions::new();
    options.read(true);
    // O_NONBLOCK: opening a FIFO must not hang. O_NOFOLLOW in an offline root: the link was
    // resolved inside it already, and anything still a link would point outside.
    let mut flags = nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY | nix::libc::O_CLOEXEC;
    if !is_host(root) {
        flags |= nix::libc::O_NOFOLLOW;
    }
    let file = options.custom_flags(flags).open(&target.host).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > MAX_READ {
        return None;
    }
    let mut content = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_READ + 1).read_to_end(&mut content).ok()?;
    if content.len() as u64 > MAX_READ {
        return None;
    }
    Some(content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_round_trip() {
        let name = temp_name(OsStr::new("motd.conf"));
        let text = name.to_str().unwrap();
        assert!(text.starts_with(".kindling-motd.conf."), "{text}");
        assert_eq!(temp_owner(&name), Some(std::process::id()));
        assert_eq!(temp_owner(OsStr::new(".kindling-x")), None);
        assert_eq!(temp_owner(OsStr::new("motd")), None);
        assert_ne!(temp_name(OsStr::new("a")), temp_name(OsStr::new("a")));
        let long = temp_name(OsStr::new(&"x".repeat(255)));
        assert!(long.len() <= 255);
    }
}
