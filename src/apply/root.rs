//! The one resolver of paths inside the target root (`/` for the live host, or an offline
//! tree given with `--root`): the guarantee that nothing kindling writes, links, removes or
//! reads lands outside the root. Every effect on a root goes through here: files and
//! directories ([`crate::apply::fs`]), key sets, account locks and the [Install] links of the
//! offline systemd.
//!
//! A path is taken as the target sees it (`/etc/motd`): `.` and `..` are removed lexically and
//! `..` stops at `/`. Inside an offline root every symbolic link on the way is then resolved as
//! if the root were `/`: an absolute target restarts at the root (`/var/run -> /run` stays
//! inside it), `..` stops there, and a loop ends after the kernel's own number of hops. For the
//! live host the kernel resolves links itself.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{self, File, Permissions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

/// The kernel's own limit (`MAXSYMLINKS`), so a loop fails here as it would in open(2).
const MAX_SYMLINK_HOPS: usize = 40;

#[derive(Debug, thiserror::Error)]
pub enum FsError {
    #[error("failed to {op} {}: {}", shown(.path, .root), cause(.error))]
    Io {
        op: &'static str,
        path: PathBuf,
        root: PathBuf,
        error: io::Error,
    },
    #[error("failed to {op} {}: {} is not a directory", shown(.path, .root), .dir.display())]
    NotADirectory {
        op: &'static str,
        path: PathBuf,
        root: PathBuf,
        dir: PathBuf,
    },
    #[error("failed to {op} {}: it is a directory and not empty", shown(.path, .root))]
    DirectoryNotEmpty {
        op: &'static str,
        path: PathBuf,
        root: PathBuf,
    },
    #[error("invalid path {path:?}: {reason}")]
    InvalidPath { path: PathBuf, reason: &'static str },
}

impl FsError {
    /// The operating system's error behind this one, if there is one.
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            FsError::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// `path` as an operator reads it: the path in the target, and which target unless it is the host.
fn shown(path: &Path, root: &Path) -> String {
    if is_host(root) {
        path.display().to_string()
    } else {
        format!("{} under {}", path.display(), root.display())
    }
}

/// The OS's description without Rust's ` (os error N)` suffix, so messages read as sentences.
pub(crate) fn cause(error: &io::Error) -> String {
    match error.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_string(),
        None => error.to_string(),
    }
}

/// Whether `root` is the live host's `/` (so no `--prefix`, no in-root symlink resolution).
pub fn is_host(root: &Path) -> bool {
    root.components().all(|c| c == Component::RootDir)
}

/// The path inside the target with `.` and `..` removed lexically; `..` stops at `/`, and a
/// relative path counts from `/` (as the reference joins every path onto the root).
pub(crate) fn normalize(path: &Path) -> Result<PathBuf, FsError> {
    if path.as_os_str().as_bytes().contains(&0) {
        return Err(FsError::InvalidPath {
            path: path.to_path_buf(),
            reason: "it contains a NUL byte",
        });
    }
    let mut out = PathBuf::from("/");
    for component in path.components() {
        match component {
            Component::Normal(name) => out.push(name),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Ok(out)
}

/// `path` (inside the target) joined onto `root`, normalised lexically so that it can never
/// escape `root`. Symbolic links are not resolved here; the effects in this module resolve them
/// inside the root.
pub fn resolve(root: &Path, path: &Path) -> Result<PathBuf, FsError> {
    Ok(join(root, &normalize(path)?))
}

fn join(root: &Path, inner: &Path) -> PathBuf {
    root.join(inner.strip_prefix("/").unwrap_or(inner))
}

/// A path both as the target sees it (for messages) and as this process reaches it.
pub(crate) struct Located {
    pub(crate) inner: PathBuf,
    pub(crate) host: PathBuf,
}

/// Resolves `path` inside `root`: lexically, then, for an offline root, every symbolic link on the
/// way as though `root` were `/` (and the last component too when `follow_last`). Components
/// that do not exist yet stay lexical: they will be created as directories.
pub(crate) fn locate(root: &Path, path: &Path, follow_last: bool) -> Result<Located, FsError> {
    let inner = normalize(path)?;
    if is_host(root) {
        return Ok(Located {
            host: inner.clone(),
            inner,
        });
    }
    let mut pending: VecDeque<OsString> = inner
        .components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_os_string()),
            _ => None,
        })
        .collect();
    let mut done = PathBuf::from("/");
    let mut hops = 0;
    let mut exists = true;
    while let Some(name) = pending.pop_front() {
        if name == ".." {
            done.pop();
            continue;
        }
        if name == "." {
            continue;
        }
        let candidate = done.join(&name);
        let last = pending.is_empty();
        if !exists || (last && !follow_last) {
            done = candidate;
            continue;
        }
        let host = join(root, &candidate);
        match fs::symlink_metadata(&host) {
            Ok(meta) if meta.file_type().is_symlink() => {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return Err(FsError::Io {
                        op: "resolve",
                        path: inner,
                        root: root.to_path_buf(),
                        error: io::Error::from_raw_os_error(nix::libc::ELOOP),
                    });
                }
                let link = fs::read_link(&host).map_err(|error| FsError::Io {
                    op: "resolve",
                    path: candidate.clone(),
                    root: root.to_path_buf(),
                    error,
                })?;
                if link.is_absolute() {
                    done = PathBuf::from("/");
                }
                for component in link.components().rev() {
                    match component {
                        Component::Normal(part) => pending.push_front(part.to_os_string()),
                        Component::ParentDir => pending.push_front(OsString::from("..")),
                        _ => {}
                    }
                }
            }
            Ok(_) => done = candidate,
            Err(_) => {
                // Missing (or unreachable): the rest is created or fails later with its own error.
                exists = false;
                done = candidate;
            }
        }
    }
    Ok(Located {
        host: join(root, &done),
        inner,
    })
}

/// The host path [`locate`] gives, for effects that need a raw file handle (locks, key sets).
pub(crate) fn host_path(root: &Path, path: &Path, follow_last: bool) -> Result<PathBuf, FsError> {
    Ok(locate(root, path, follow_last)?.host)
}

/// Makes sure the directory that will hold `located` exists, creating what is missing (see
/// [`create_parents`]), and returns it as this process reaches it.
pub(crate) fn make_parent(
    root: &Path,
    located: &Located,
    op: &'static str,
) -> Result<PathBuf, FsError> {
    let host_dir = located.host.parent().unwrap_or(root).to_path_buf();
    // `host` is `root` joined with a resolved path, so this cannot fail; the parent of the
    // root itself is the root.
    let inner_dir = match host_dir.strip_prefix(root) {
        Ok(inner) => Path::new("/").join(inner),
        Err(_) => PathBuf::from("/"),
    };
    create_parents(root, &inner_dir, op, &located.inner)?;
    Ok(host_dir)
}

/// Creates the missing directories of `inner_dir` (a normalised path inside `root`), each 0755
/// whatever the umask, and makes each creation durable by fsyncing its parent.
fn create_parents(
    root: &Path,
    inner_dir: &Path,
    op: &'static str,
    path: &Path,
) -> Result<(), FsError> {
    let mut host = root.to_path_buf();
    let mut inner = PathBuf::from("/");
    for component in inner_dir.components() {
        let Component::Normal(name) = component else {
            continue;
        };
        host.push(name);
        inner.push(name);
        let not_a_directory = || FsError::NotADirectory {
            op,
            path: path.to_path_buf(),
            root: root.to_path_buf(),
            dir: inner.clone(),
        };
        match fs::metadata(&host) {
            Ok(meta) if meta.is_dir() => continue,
            Ok(_) => return Err(not_a_directory()),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(FsError::Io {
                    op: "create directory",
                    path: inner.clone(),
                    root: root.to_path_buf(),
                    error,
                })
            }
        }
        let io_err = |error| FsError::Io {
            op: "create directory",
            path: inner.clone(),
            root: root.to_path_buf(),
            error,
        };
        match fs::create_dir(&host) {
            Ok(()) => {
                fs::set_permissions(&host, Permissions::from_mode(0o755)).map_err(io_err)?;
                sync_dir(host.parent().unwrap_or(root)).map_err(io_err)?;
            }
            // Lost a race with another writer: fine if what won is a directory.
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                if !fs::metadata(&host).is_ok_and(|m| m.is_dir()) {
                    return Err(not_a_directory());
                }
            }
            Err(error) => return Err(io_err(error)),
        }
    }
    Ok(())
}

pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_never_escapes() {
        for (input, want) in [
            ("/etc/motd", "/etc/motd"),
            ("etc/motd", "/etc/motd"),
            ("/../../etc/./x/../motd", "/etc/motd"),
            ("..", "/"),
            ("", "/"),
            ("/a//b/", "/a/b"),
        ] {
            assert_eq!(
                normalize(Path::new(input)).unwrap(),
                Path::new(want),
                "{input}"
            );
        }
        assert!(normalize(Path::new("/a\0b")).is_err());
    }

    #[test]
    fn messages_name_path_root_and_cause() {
        let error = FsError::Io {
            op: "write",
            path: "/etc/motd".into(),
            root: "/tmp/root".into(),
            error: io::Error::from_raw_os_error(nix::libc::EACCES),
        };
        assert_eq!(
            error.to_string(),
            "failed to write /etc/motd under /tmp/root: Permission denied"
        );
        let error = FsError::NotADirectory {
            op: "write",
            path: "/etc/motd/x".into(),
            root: "/".into(),
            dir: "/etc/motd".into(),
        };
        assert_eq!(
            error.to_string(),
            "failed to write /etc/motd/x: /etc/motd is not a directory"
        );
    }
}
