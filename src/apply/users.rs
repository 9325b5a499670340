//! Users through shadow-utils (`useradd`, `chpasswd`, `usermod`), run directly, never through a
//! shell; with an offline root, through their `--prefix`, which edits `<root>/etc/*` in place.
//!
//! Password hashes are secrets to the extent that they can be attacked offline: they never
//! appear in a log line, an error message or a command line (`/proc/PID/cmdline` is readable by
//! every local user): a new account is created locked and gets its hash after.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use super::{accounts, fs};
use crate::plan::{self, Repair};

/// Where shadow-utils live; PATH may be nearly empty this early in boot.
const TOOL_DIRS: [&str; 4] = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];
const REDACTED: &str = "<redacted>";

/// A user to create: `users[]` as the cloud-config model reads it (keys and imports are
/// applied by other steps).
pub type NewUser = crate::config::model::User;

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("invalid user name {name:?}: {reason}")]
    InvalidName { name: String, reason: &'static str },
    #[error("invalid password hash for user {name:?}: it contains ':' or a line break")]
    InvalidHash { name: String },
    #[error("{tool} not found in /usr/sbin, /sbin, /usr/bin or /bin")]
    ToolNotFound { tool: &'static str },
    #[error("failed to run {command}: {}", fs::cause(.error))]
    Spawn {
        command: String,
        error: std::io::Error,
    },
    #[error("failed to set the password of {name:?} in {}: {message}", .path.display())]
    Shadow {
        name: String,
        path: PathBuf,
        message: String,
    },
    #[error("cannot repair {}: {message}", .path.display())]
    Lock { path: PathBuf, message: String },
    #[error("cannot create the home {}: {message}", .path.display())]
    Home { path: PathBuf, message: String },
    #[error("{command} failed with {}: {stderr}", describe(.status))]
    Failed {
        command: String,
        status: ExitStatus,
        stderr: String,
    },
}

fn describe(status: &ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("signal {signal}"),
        (None, None) => status.to_string(),
    }
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

fn prefix_args(root: &Path) -> Vec<String> {
    if fs::is_host(root) {
        Vec::new()
    } else {
        vec!["--prefix".to_string(), root.to_string_lossy().into_owned()]
    }
}

/// `useradd`'s arguments in the reference's order, except that the GECOS is passed as-is (the
/// reference wrapped it in literal double quotes) and an offline root adds `--prefix <root>`
/// before the name, which is always last.
pub fn useradd_args(u: &NewUser, root: &Path) -> Vec<String> {
    let mut args = Vec::new();
    let mut push = |flag: &str, value: Option<&str>| {
        args.push(flag.to_string());
        if let Some(value) = value {
            args.push(value.to_string());
        }
    };
    // Locked ("*", as the reference for no password); a hash is set after, off the command line.
    push("--password", Some("*"));
    if let Some(gecos) = non_empty(&u.gecos) {
        push("--comment", Some(gecos));
    }
    if let Some(home) = non_empty(&u.homedir) {
        push("--home-dir", Some(home));
    }
    if u.no_create_home {
        push("--no-create-home", None);
    } else {
        push("--create-home", None);
    }
    if let Some(group) = non_empty(&u.primary_group) {
        push("--gid", Some(group));
    }
    if !u.groups.is_empty() {
        push("--groups", Some(&u.groups.join(",")));
    }
    if u.no_user_group {
        push("--no-user-group", None);
    }
    if u.system {
        push("--system", None);
    }
    if u.no_log_init {
        push("--no-log-init", None);
    }
    if let Some(shell) = non_empty(&u.shell) {
        push("--shell", Some(shell));
    }
    args.extend(prefix_args(root));
    args.push(u.name.clone());
    args
}

/// A name that shadow-utils would read as an option, or that breaks the `name:hash` line of
/// `chpasswd`, is refused before any tool sees it.
fn check_name(name: &str) -> Result<(), UserError> {
    let reason = if name.is_empty() {
        "it is empty"
    } else if name.starts_with('-') {
        "it starts with '-'"
    } else if name.contains([':', ',', '\n', '\r', '\0']) {
        "it contains ':', ',', a line break or NUL"
    } else {
        return Ok(());
    };
    Err(UserError::InvalidName {
        name: name.to_string(),
        reason,
    })
}

fn check_hash(name: &str, hash: &str) -> Result<(), UserError> {
    if hash.contains([':', '\n', '\r', '\0']) {
        return Err(UserError::InvalidHash {
            name: name.to_string(),
        });
    }
    Ok(())
}

fn find_tool(tool: &'static str) -> Result<PathBuf, UserError> {
    TOOL_DIRS
        .iter()
        .map(|dir| Path::new(dir).join(tool))
        .find(|path| path.is_file())
        .ok_or(UserError::ToolNotFound { tool })
}

/// The command line as an operator would type it, with the value of `--password` hidden.
fn command_line(tool: &str, args: &[String]) -> String {
    let mut out = tool.to_string();
    let mut hide_next = false;
    for arg in args {
        out.push(' ');
        if hide_next {
            out.push_str(REDACTED);
        } else {
            out.push_str(arg);
        }
        hide_next = arg == "--password";
    }
    out
}

/// Runs `tool` with `args` and optional standard input; the error carries the status and
/// standard error with every `secret` replaced.
fn run(
    tool: &'static str,
    args: &[String],
    stdin: Option<&[u8]>,
    secret: Option<&str>,
) -> Result<(), UserError> {
    let path = find_tool(tool)?;
    let command = command_line(tool, args);
    log::debug!("running {command}");
    let spawn_error = |error| UserError::Spawn {
        command: command.clone(),
        error,
    };
    let mut child = Command::new(&path)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn_error)?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A tool that exits early closes the pipe; its status then says why.
        let _ = pipe.write_all(input);
    }
    let output = child.wait_with_output().map_err(spawn_error)?;
    if output.status.success() {
        return Ok(());
    }
    let mut stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
    if stderr.is_empty() {
        stderr = String::from_utf8_lossy(&output.stdout).trim().to_string();
    }
    if let Some(secret) = secret.filter(|s| !s.is_empty() && *s != "*") {
        stderr = stderr.replace(secret, REDACTED);
    }
    Err(UserError::Failed {
        command,
        status: output.status,
        stderr,
    })
}

/// Creates the user with `useradd` (see [`useradd_args`]). An existing user is `useradd`'s
/// error; whether to call this is the plan's decision.
pub fn create_user(u: &NewUser, root: &Path) -> Result<(), UserError> {
    check_name(&u.name)?;
    if let Some(hash) = &u.passwd {
        check_hash(&u.name, hash)?;
    }
    // Listed while useradd runs: only a kill leaves the name there (see plan's CREATING_USERS).
    mark_creating(root, &u.name, true)?;
    run("useradd", &useradd_args(u, root), None, None)?;
    mark_creating(root, &u.name, false)?;
    if let Some(hash) = non_empty(&u.passwd) {
        set_password(&u.name, hash, root)?;
    }
    Ok(())
}

/// Sets the password hash of an existing user; `Ok(false)` if the shadow file already holds it.
///
/// On the host: `chpasswd -e` with `name:hash` on standard input, so the hash is never in a
/// command line. In an offline root, `chpasswd` cannot help (it gained `--prefix` only in later
/// shadow-utils; Debian 12's 4.13 has `--root`, a chroot that needs the tools inside the root)
/// and `usermod --password` would put the hash in argv: the root's shadow entry is written here,
/// as `usermod --password` writes it, under shadow-utils' lock.
pub fn set_password(name: &str, hash: &str, root: &Path) -> Result<bool, UserError> {
    check_name(name)?;
    check_hash(name, hash)?;
    if accounts::shadow_hash(root, name).as_deref() == Some(hash) {
        return Ok(false);
    }
    if fs::is_host(root) {
        let args = vec!["-e".to_string()];
        let line = format!("{name}:{hash}\n");
        run("chpasswd", &args, Some(line.as_bytes()), Some(hash))?;
    } else {
        write_shadow_hash(root, name, hash)?;
    }
    Ok(true)
}

/// Days since the epoch, as shadow-utils dates a password change (`SOURCE_DATE_EPOCH` wins,
/// for reproducible images).
fn today() -> u64 {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
    secs / 86_400
}

/// Sets `name`'s hash and the day of the last change in `<root>/etc/shadow`, holding
/// shadow-utils' lock so that no `useradd --prefix` edits the file meanwhile, and replacing the
/// file by an atomic, fsynced rename with its mode and owner.
fn write_shadow_hash(root: &Path, name: &str, hash: &str) -> Result<(), UserError> {
    use std::os::unix::fs::MetadataExt;
    let path = root.join("etc/shadow");
    let fail = |message: String| UserError::Shadow {
        name: name.to_string(),
        path: path.clone(),
        message,
    };
    let _lock = ShadowLock::acquire(&path).map_err(fail)?;
    let text = std::fs::read_to_string(&path).map_err(|e| fail(fs::cause(&e)))?;
    let meta = std::fs::metadata(&path).map_err(|e| fail(fs::cause(&e)))?;
    let day = today().to_string();
    let mut found = false;
    let mut out = String::with_capacity(text.len() + hash.len());
    for line in text.split_inclusive('\n') {
        let body = line.strip_suffix('\n').unwrap_or(line);
        let mut fields: Vec<&str> = body.split(':').collect();
        if !found && fields.len() >= 2 && fields[0] == name {
            found = true;
            fields[1] = hash;
            if fields.len() >= 3 {
                fields[2] = &day;
            }
            out.push_str(&fields.join(":"));
            out.push_str(&line[body.len()..]);
        } else {
            out.push_str(line);
        }
    }
    if !found {
        return Err(fail("the user has no entry there".into()));
    }
    fs::write_atomic(
        root,
        Path::new("/etc/shadow"),
        out.as_bytes(),
        meta.mode() & 0o7777,
        Some((meta.uid(), meta.gid())),
    )
    .map_err(|e| fail(e.to_string()))
}

/// shadow-utils' lock on one of its databases (commonio's): `FILE.lock`, made by hard-linking a
/// file that holds our PID, so that taking it is atomic. A lock whose process is gone is stale
/// (a crash) and is removed; a live one is waited for, a few seconds, as shadow-utils does.
pub struct ShadowLock {
    lock: PathBuf,
}

impl ShadowLock {
    pub fn acquire(db: &Path) -> Result<ShadowLock, String> {
        let file_name = db.file_name().map(|n| n.to_string_lossy().into_owned());
        let file_name = file_name.unwrap_or_default();
        let pid = std::process::id();
        let lock = db.with_file_name(format!("{file_name}.lock"));
        let temp = db.with_file_name(format!("{file_name}.{pid}"));
        std::fs::write(&temp, pid.to_string())
            .map_err(|e| format!("cannot create {}: {}", temp.display(), fs::cause(&e)))?;
        let result = (|| {
            for _ in 0..15 {
                match std::fs::hard_link(&temp, &lock) {
                    Ok(()) => return Ok(()),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        if lock_holder_alive(&lock) {
                            std::thread::sleep(std::time::Duration::from_secs(1));
                        } else {
                            let _ = std::fs::remove_file(&lock);
                        }
                    }
                    Err(e) => {
                        return Err(format!("cannot lock {}: {}", lock.display(), fs::cause(&e)))
                    }
                }
            }
            Err(format!(
                "{} is held by a running process (shadow-utils); try again when it is done",
                lock.display()
            ))
        })();
        let _ = std::fs::remove_file(&temp);
        result.map(|()| ShadowLock { lock })
    }
}

impl Drop for ShadowLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.lock);
    }
}

/// Whether the PID written in a lock file is a running process; an unreadable or empty lock is
/// a crash's leftover.
fn lock_holder_alive(lock: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(lock) else {
        return false;
    };
    match text.trim().parse::<i32>() {
        Ok(pid) if pid > 0 => pid_alive(pid),
        _ => false,
    }
}

/// Clears what a killed shadow-utils tool (or kindling) left next to the root's databases:
/// a `FILE.lock` whose process is gone (taking and releasing the lock does that, and fails
/// clearly on a live one), then, under that lock, the half-written `FILE+` and the lock temp
/// files `FILE.PID` of dead processes.
pub fn clear_stale_locks(root: &Path) -> Result<(), UserError> {
    for db in crate::plan::SHADOW_DATABASES {
        let path = in_root(root, Path::new(db))?;
        if !path.exists() {
            continue;
        }
        let fail = |message: String| UserError::Lock {
            path: path.clone(),
            message,
        };
        let _lock = ShadowLock::acquire(&path).map_err(fail)?;
        let plus = path.with_file_name(format!("{}+", file_name(&path)));
        remove_if_present(&plus).map_err(fail)?;
        let Some(dir) = path.parent() else { continue };
        let stem = format!("{}.", file_name(&path));
        let entries = std::fs::read_dir(dir).map_err(|e| fail(fs::cause(&e)))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = name.strip_prefix(&stem).and_then(|p| p.parse::<i32>().ok()) else {
                continue;
            };
            if pid > 0 && !pid_alive(pid) {
                remove_if_present(&entry.path()).map_err(fail)?;
            }
        }
    }
    Ok(())
}

/// Where a path of the target is on this host, its parents resolved inside the root.
fn in_root(root: &Path, path: &Path) -> Result<PathBuf, UserError> {
    fs::host_path(root, path, false).map_err(|e| UserError::Lock {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn remove_if_present(path: &Path) -> Result<(), String> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(format!(
            "cannot remove {}: {}",
            path.display(),
            fs::cause(&e)
        )),
        _ => Ok(()),
    }
}

/// Finishes a user that a killed `useradd` left half-created, in the order `useradd` would
/// have written it, with what `useradd --prefix` reads from the root (login.defs, useradd's
/// defaults, the skeleton).
pub fn repair(name: &str, repairs: &[Repair], root: &Path) -> Result<(), UserError> {
    check_name(name)?;
    for step in repairs {
        match step {
            Repair::StaleLocks => clear_stale_locks(root)?,
            Repair::Group { name: group, gid } => {
                check_name(group)?;
                clear_stale_locks(root)?;
                let mut args = vec!["--gid".to_string(), gid.to_string()];
                args.extend(prefix_args(root));
                args.push(group.clone());
                run("groupadd", &args, None, None)?;
            }
            Repair::Shadow => {
                let defs = login_defs(root);
                let field = |key: &str| plan::defs_value(&defs, key).unwrap_or_default();
                let line = format!(
                    "{name}:*:{}:{}:{}:{}:::\n",
                    today(),
                    field("PASS_MIN_DAYS"),
                    field("PASS_MAX_DAYS"),
                    field("PASS_WARN_AGE")
                );
                append_entry(root, "/etc/shadow", name, &line)?;
            }
            Repair::Gshadow { group } => {
                check_name(group)?;
                append_entry(root, "/etc/gshadow", group, &format!("{group}:!::\n"))?;
            }
            Repair::GshadowMembers { groups } => {
                clear_stale_locks(root)?;
                let mut args = vec!["-a".to_string(), "-G".to_string(), groups.join(",")];
                args.extend(prefix_args(root));
                args.push(name.to_string());
                run("usermod", &args, None, None)?;
            }
            Repair::Home { path, uid, gid } => create_home(root, path, *uid, *gid)?,
            Repair::SkelCopy {
                from, to, uid, gid, ..
            } => copy_entry(root, from, to, *uid, *gid)?,
            Repair::Attrs {
                path,
                uid,
                gid,
                mode,
            } => set_attrs(root, path, *uid, *gid, *mode)?,
            Repair::Finished => mark_creating(root, name, false)?,
        }
    }
    Ok(())
}

fn login_defs(root: &Path) -> String {
    fs::read(root, Path::new("/etc/login.defs"))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// Adds `line` for `name` to a shadow-utils database unless it is there, under its lock, by
/// an atomic fsynced replace that keeps the file's mode and owner.
fn append_entry(root: &Path, db: &str, name: &str, line: &str) -> Result<(), UserError> {
    use std::os::unix::fs::MetadataExt;
    let path = in_root(root, Path::new(db))?;
    let fail = |message: String| UserError::Lock {
        path: path.clone(),
        message,
    };
    let _lock = ShadowLock::acquire(&path).map_err(fail)?;
    let text = std::fs::read_to_string(&path).map_err(|e| fail(fs::cause(&e)))?;
    let meta = std::fs::metadata(&path).map_err(|e| fail(fs::cause(&e)))?;
    let prefix = format!("{name}:");
    if text.lines().any(|l| l.starts_with(&prefix)) {
        return Ok(());
    }
    let mut out = text;
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(line);
    fs::write_atomic(
        root,
        Path::new(db),
        out.as_bytes(),
        meta.mode() & 0o7777,
        Some((meta.uid(), meta.gid())),
    )
    .map_err(|e| fail(e.to_string()))
}

/// The home as `useradd --create-home --prefix` makes it: mode HOME_MODE (else 0777 less
/// UMASK) and the user's owner, then the root's skeleton (useradd's SKEL) copied in with each
/// entry's mode and the user's owner. A file already there is the user's and is kept.
fn create_home(root: &Path, home: &Path, uid: u32, gid: u32) -> Result<(), UserError> {
    let mode = plan::home_mode(&login_defs(root));
    let defaults = fs::read(root, Path::new("/etc/default/useradd"))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let skel = plan::skel_dir(&defaults);
    fs::ensure_dir(root, home, mode, Some((uid, gid))).map_err(|e| UserError::Home {
        path: home.to_path_buf(),
        message: e.to_string(),
    })?;
    if fs::lstat(root, &skel).is_some_and(|s| s.kind == plan::FileKind::Dir) {
        copy_skeleton(root, &skel, home, uid, gid)?;
    }
    Ok(())
}

fn copy_skeleton(root: &Path, from: &Path, to: &Path, uid: u32, gid: u32) -> Result<(), UserError> {
    let host = in_root(root, from)?;
    let entries = std::fs::read_dir(&host).map_err(|e| UserError::Home {
        path: from.to_path_buf(),
        message: fs::cause(&e),
    })?;
    let mut names: Vec<std::ffi::OsString> = entries.flatten().map(|e| e.file_name()).collect();
    names.sort();
    for name in names {
        let (source, target) = (from.join(&name), to.join(&name));
        if fs::lstat(root, &target).is_some_and(|t| t.kind != plan::FileKind::Dir) {
            continue;
        }
        copy_entry(root, &source, &target, uid, gid)?;
        if fs::lstat(root, &source).is_some_and(|s| s.kind == plan::FileKind::Dir) {
            copy_skeleton(root, &source, &target, uid, gid)?;
        }
    }
    Ok(())
}

/// One entry of the skeleton (not what is under a directory) at `to`, with the skeleton's mode
/// and the user's owner; a file is written beside and renamed, so that a crash never leaves it
/// cut short, and the temporary file a crash leaves is cleared by the next write there.
fn copy_entry(root: &Path, from: &Path, to: &Path, uid: u32, gid: u32) -> Result<(), UserError> {
    let fail = |message: String| UserError::Home {
        path: to.to_path_buf(),
        message,
    };
    let Some(source) = fs::lstat(root, from) else {
        return Err(fail(format!(
            "{} is gone from the skeleton",
            from.display()
        )));
    };
    match &source.kind {
        plan::FileKind::Dir => {
            fs::ensure_dir(root, to, source.mode, Some((uid, gid))).map_err(|e| fail(e.to_string()))
        }
        plan::FileKind::File => {
            let host = in_root(root, from)?;
            let content = std::fs::read(&host).map_err(|e| fail(fs::cause(&e)))?;
            fs::write_atomic(root, to, &content, source.mode, Some((uid, gid)))
                .map_err(|e| fail(e.to_string()))
        }
        plan::FileKind::Symlink(link) => {
            fs::symlink_atomic(root, to, link).map_err(|e| fail(e.to_string()))?;
            let host = in_root(root, to)?;
            std::os::unix::fs::lchown(&host, Some(uid), Some(gid)).map_err(|e| fail(fs::cause(&e)))
        }
        // useradd copies devices and FIFOs only when run as root on the host; a skeleton has none.
        _ => Ok(()),
    }
}

/// Gives an entry of a half-created home its owner and mode (a symlink, its owner only).
fn set_attrs(root: &Path, path: &Path, uid: u32, gid: u32, mode: u32) -> Result<(), UserError> {
    use std::os::unix::fs::PermissionsExt;
    let fail = |message: String| UserError::Home {
        path: path.to_path_buf(),
        message,
    };
    let host = in_root(root, path)?;
    let meta = std::fs::symlink_metadata(&host).map_err(|e| fail(fs::cause(&e)))?;
    std::os::unix::fs::lchown(&host, Some(uid), Some(gid)).map_err(|e| fail(fs::cause(&e)))?;
    if !meta.file_type().is_symlink() {
        // After the chown, which clears setuid and setgid.
        std::fs::set_permissions(&host, std::fs::Permissions::from_mode(mode & 0o7777))
            .map_err(|e| fail(fs::cause(&e)))?;
    }
    Ok(())
}

/// Adds `name` to (or removes it from) the root's [`plan::CREATING_USERS`], durably: the list
/// is what tells a rerun that a home may hold a copy of the skeleton cut short.
fn mark_creating(root: &Path, name: &str, creating: bool) -> Result<(), UserError> {
    let path = Path::new(plan::CREATING_USERS);
    let fail = |e: fs::FsError| UserError::Lock {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let text = fs::read(root, path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let mut names: Vec<&str> = text
        .lines()
        .filter(|l| !l.is_empty() && *l != name)
        .collect();
    if creating {
        names.push(name);
    }
    if names.is_empty() {
        return fs::remove(root, path).map(|_| ()).map_err(fail);
    }
    let mut out = names.join("\n");
    out.push('\n');
    if out == text {
        return Ok(());
    }
    fs::write_atomic(root, path, out.as_bytes(), 0o600, Some((0, 0))).map_err(fail)
}

fn pid_alive(pid: i32) -> bool {
    !matches!(
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
        Err(nix::errno::Errno::ESRCH)
    )
}

/// Adds the user to `groups` (never removes one) with `usermod -a -G`; `Ok(false)` if the user
/// is already in all of them.
pub fn add_groups(name: &str, groups: &[String], root: &Path) -> Result<bool, UserError> {
    check_name(name)?;
    let current = accounts::supplementary_groups(root, name);
    let mut missing: Vec<&str> = Vec::new();
    for group in groups {
        if !current.contains(group) && !missing.contains(&group.as_str()) {
            missing.push(group);
        }
    }
    if missing.is_empty() {
        return Ok(false);
    }
    let mut args = vec!["-a".to_string(), "-G".to_string(), missing.join(",")];
    args.extend(prefix_args(root));
    args.push(name.to_string());
    run("usermod", &args, None, None)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_is_redacted_in_command_lines() {
        let args: Vec<String> = ["--password", "$6$salt$hash", "--comment", "x", "bob"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            command_line("useradd", &args),
            "useradd --password <redacted> --comment x bob"
        );
    }

    #[test]
    fn names_that_tools_would_misread_are_refused() {
        for bad in ["", "-r", "a:b", "a,b", "a\nb"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_name("core").is_ok());
        assert!(check_hash("core", "$6$a$b\nroot:x").is_err());
    }
}
