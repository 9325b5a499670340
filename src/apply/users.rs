//! Users through shadow-utils (`useradd`, `chpasswd`, `usermod`), run directly, never through a
//! shell; with an offline root, through their `--prefix`, which edits `<root>/etc/*` in place.
//!
//! Password hashes are secrets to the extent that they can be attacked offline: they never
//! appear in a log line or an error message.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use super::{accounts, fs};

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
    push("--password", Some(non_empty(&u.passwd).unwrap_or("*")));
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
    run("useradd", &useradd_args(u, root), None, u.passwd.as_deref())
}

/// Sets the password hash of an existing user; `Ok(false)` if the shadow file already holds it.
///
/// On the host: `chpasswd -e` with `name:hash` on standard input, so the hash is never in a
/// command line. In an offline root: `usermod --password`, because `chpasswd` only gained
/// `--prefix` in later shadow-utils (Debian 12's 4.13 has only `--root`, a chroot that needs
/// the tools inside the root), and the hash in a build host's process list is what `useradd
/// --password` exposes anyway.
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
        let mut args = vec!["--password".to_string(), hash.to_string()];
        args.extend(prefix_args(root));
        args.push(name.to_string());
        run("usermod", &args, None, Some(hash))?;
    }
    Ok(true)
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
