//! Steps as people read them: one line per step for logs and the summary (never a password or
//! a file's content), and the unified diffs `kindling plan` prints for files.

use std::fmt::Write as _;
use std::path::Path;

use crate::plan::{Action, FileRole, Plan, State, Step};

/// One line, no secrets: passwords and contents are never part of it.
pub fn describe(step: &Step) -> String {
    let what = match &step.action {
        Action::SetHostname { name } => format!("set hostname to {name:?}"),
        Action::CreateUser { user } => {
            let mut s = format!("create user {:?}", user.name);
            if !user.groups.is_empty() {
                let _ = write!(s, " in groups {}", user.groups.join(","));
            }
            if user.passwd.is_some() {
                s.push_str(" with a password");
            }
            s
        }
        Action::UpdateUser {
            name,
            passwd,
            add_groups,
            repair,
        } => {
            let mut parts: Vec<String> = repair.iter().map(|r| r.describe()).collect();
            if passwd.is_some() {
                parts.push("set its password".to_string());
            }
            if !add_groups.is_empty() {
                parts.push(format!("add it to {}", add_groups.join(",")));
            }
            if parts.is_empty() {
                format!("user {name:?} exists")
            } else {
                format!("user {name:?}: {}", parts.join(", "))
            }
        }
        Action::SshKeys { user, set, keys } => {
            format!("write {} SSH key(s) for {user:?} (set {set:?})", keys.len())
        }
        Action::ImportSshKeys { user, set, url } => {
            format!("import SSH keys for {user:?} from {url} (set {set:?})")
        }
        Action::WriteFile {
            path,
            content,
            mode,
            owner,
            role,
        } => {
            let role = match role {
                FileRole::WriteFiles => "file",
                FileRole::Generated => "generated file",
                FileRole::Unit => "unit",
                FileRole::DropIn => "drop-in",
            };
            let owner = owner
                .as_deref()
                .map(|o| format!(", owner {o}"))
                .unwrap_or_default();
            format!(
                "write {role} {} ({} bytes, mode {mode:04o}{owner})",
                path.display(),
                content.len()
            )
        }
        Action::Mask { unit, path } => format!("mask {unit} ({} -> /dev/null)", path.display()),
        Action::Unmask { unit, path } => format!("unmask {unit} (remove {})", path.display()),
        Action::Enable { unit, runtime } => {
            format!("enable {unit}{}", if *runtime { " (runtime)" } else { "" })
        }
        Action::DaemonReload => "reload systemd (daemon-reload)".into(),
        Action::RestartNetworkd => "restart systemd-networkd.service".into(),
        Action::Command { unit, command, .. } => format!("{} {unit}", command.as_str()),
        Action::Script { path, service, .. } => {
            format!("run script {} as {service}", path.display())
        }
        Action::Invalid { what, message } => format!("{what}: {message}"),
    };
    match &step.part {
        Some(part) => format!("{part}: {what}"),
        None => what,
    }
}

/// A unified diff of a file's current and planned content, or a size note for binary data.
fn file_diff(path: &Path, old: Option<&[u8]>, new: &[u8]) -> String {
    let (Ok(old_text), Ok(new_text)) = (
        std::str::from_utf8(old.unwrap_or(b"")),
        std::str::from_utf8(new),
    ) else {
        return format!("    (binary content: {} bytes)\n", new.len());
    };
    if old == Some(new) {
        return String::new();
    }
    let from = if old.is_some() {
        format!("a{}", path.display())
    } else {
        "/dev/null".to_string()
    };
    let text = super::diff::unified(
        old_text,
        new_text,
        &from,
        &format!("b{}", path.display()),
        3,
    );
    let mut out = String::new();
    for line in text.lines() {
        let _ = writeln!(out, "    {line}");
    }
    out
}

/// Steps that need a running systemd, which an offline root does not have.
pub(crate) fn needs_systemd(action: &Action) -> bool {
    matches!(
        action,
        Action::Command { .. } | Action::RestartNetworkd | Action::Script { .. }
    )
}

/// What `kindling plan` and `apply --dry-run` print: each change with its diff, then a count.
/// `live` is false for an offline root, where commands will be skipped.
pub fn render_plan(plan: &Plan, state: &dyn State, live: bool) -> String {
    let mut out = String::new();
    let (mut changes, mut unchanged, mut skipped, mut problems) = (0, 0, 0, 0);
    // As apply: once a global step (hostname, core's keys) fails, no part is applied.
    let mut global_failed = false;
    for step in &plan.steps {
        if global_failed && step.part.is_some() {
            skipped += 1;
            let _ = writeln!(
                out,
                "- {} (skipped: the hostname or core's SSH keys fail)",
                describe(step)
            );
            continue;
        }
        let offline = !live && step.change && needs_systemd(&step.action);
        let mark = match (&step.action, step.change) {
            (Action::Invalid { .. }, _) => {
                problems += 1;
                global_failed |= step.part.is_none();
                '!'
            }
            _ if offline => '-',
            (_, true) => {
                changes += 1;
                '~'
            }
            (_, false) => {
                unchanged += 1;
                '='
            }
        };
        if offline {
            skipped += 1;
            let _ = writeln!(
                out,
                "{mark} {} (skipped: no running systemd)",
                describe(step)
            );
            continue;
        }
        let _ = writeln!(out, "{mark} {}", describe(step));
        if let (Action::WriteFile { path, content, .. }, true) = (&step.action, step.change) {
            // Secrets in files: a diff shows content, so the file's mode decides. Files only
            // their owner may read are summarised, not shown.
            let private =
                matches!(step.action, Action::WriteFile { mode, .. } if mode & 0o077 == 0);
            if private {
                let _ = writeln!(
                    out,
                    "    (content not shown: the file is private to its owner)"
                );
            } else {
                out.push_str(&file_diff(path, state.read(path).as_deref(), content));
            }
        }
    }
    let _ = write!(out, "{changes} to change, {unchanged} unchanged");
    if skipped > 0 {
        let _ = write!(out, ", {skipped} skipped");
    }
    if problems > 0 {
        let _ = write!(
            out,
            ", {problems} problem{} (marked !)",
            if problems == 1 { "" } else { "s" }
        );
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::User;

    #[test]
    fn passwords_never_appear() {
        let step = Step {
            part: Some("part 1".into()),
            action: Action::CreateUser {
                user: User {
                    name: "ann".into(),
                    passwd: Some("$6$secret".into()),
                    groups: vec!["docker".into()],
                    ..Default::default()
                },
            },
            change: true,
        };
        let d = describe(&step);
        assert_eq!(
            d,
            "part 1: create user \"ann\" in groups docker with a password"
        );
        assert!(!d.contains("secret"));
    }

    #[test]
    fn diffs_are_unified() {
        let d = file_diff(Path::new("/etc/motd"), Some(b"a\nb\n"), b"a\nc\n");
        assert_eq!(
            d,
            "    --- a/etc/motd\n    +++ b/etc/motd\n    @@ -1,2 +1,2 @@\n     a\n    -b\n    +c\n"
        );
        let d = file_diff(Path::new("/etc/new"), None, b"x\n");
        assert!(
            d.starts_with("    --- /dev/null\n    +++ b/etc/new\n"),
            "{d}"
        );
        assert_eq!(
            file_diff(Path::new("/x"), None, &[0xff, 0]),
            "    (binary content: 2 bytes)\n"
        );
    }
}
