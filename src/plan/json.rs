//! `kindling plan --format json`: the plan as JSON lines, for automation that gates a rollout
//! on it. One object per step, then one summary object:
//!
//! ```text
//! {"kind":"write_file","target":"/etc/motd","part":"user-data","change":true,"status":"change",
//!  "problem":null,"description":"...","mode":"0644","owner":null,"diff":"--- /dev/null\n..."}
//! {"kind":"summary","change":1,"unchanged":3,"skipped":0,"problem":0}
//! ```
//!
//! The same rules as the human plan: no password hash (only whether one is set), no SSH key
//! material (only a count), no script body, and no diff of a file only its owner may read
//! (`"diff": null, "content_hidden": true`).

use std::path::Path;

use serde_json::{json, Map, Value};

use crate::plan::show::{describe, needs_systemd};
use crate::plan::{Action, FileRole, Plan, State, Step};

/// The plan as JSON lines, each ending in a newline.
pub fn render(plan: &Plan, state: &dyn State, live: bool) -> String {
    let mut out = String::new();
    let (mut change, mut unchanged, mut skipped, mut problems) = (0, 0, 0, 0);
    for step in &plan.steps {
        let problem = match &step.action {
            Action::Invalid { message, .. } => Some(message.clone()),
            _ => None,
        };
        let status = if problem.is_some() {
            problems += 1;
            "problem"
        } else if !live && step.change && needs_systemd(&step.action) {
            skipped += 1;
            "skipped"
        } else if step.change {
            change += 1;
            "change"
        } else {
            unchanged += 1;
            "unchanged"
        };
        let mut obj = step_fields(step, state, status);
        obj.insert("problem".into(), json!(problem));
        out.push_str(&Value::Object(obj).to_string());
        out.push('\n');
    }
    let summary = json!({
        "kind": "summary",
        "change": change,
        "unchanged": unchanged,
        "skipped": skipped,
        "problem": problems,
    });
    out.push_str(&summary.to_string());
    out.push('\n');
    out
}

fn step_fields(step: &Step, state: &dyn State, status: &str) -> Map<String, Value> {
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    let (kind, target): (&str, String) = match &step.action {
        Action::SetHostname { name } => ("set_hostname", name.clone()),
        Action::CreateUser { user } => {
            put("groups", json!(user.groups));
            put("password", json!(user.passwd.is_some()));
            ("create_user", user.name.clone())
        }
        Action::UpdateUser {
            name,
            passwd,
            add_groups,
            repair,
        } => {
            let repair: Vec<String> = repair.iter().map(|r| r.describe()).collect();
            put("repair", json!(repair));
            put("add_groups", json!(add_groups));
            put("password", json!(passwd.is_some()));
            ("update_user", name.clone())
        }
        Action::SshKeys { user, set, keys } => {
            put("set", json!(set));
            put("keys", json!(keys.len()));
            ("ssh_keys", user.clone())
        }
        Action::ImportSshKeys { user, set, url } => {
            put("set", json!(set));
            put("url", json!(url));
            ("import_ssh_keys", user.clone())
        }
        Action::WriteFile {
            path,
            content,
            mode,
            owner,
            role,
        } => {
            put("role", json!(role_name(*role)));
            put("mode", json!(format!("{mode:04o}")));
            put("owner", json!(owner));
            put("size", json!(content.len()));
            // Only a change has a diff; a file only its owner may read never shows content.
            if *mode & 0o077 == 0 {
                put("diff", Value::Null);
                put("content_hidden", json!(true));
            } else if step.change {
                put("diff", diff(path, state.read(path).as_deref(), content));
            } else {
                put("diff", Value::Null);
            }
            ("write_file", path.display().to_string())
        }
        Action::Mask { unit, path } => {
            put("path", json!(path.display().to_string()));
            ("mask", unit.clone())
        }
        Action::Unmask { unit, path } => {
            put("path", json!(path.display().to_string()));
            ("unmask", unit.clone())
        }
        Action::Enable { unit, runtime } => {
            put("runtime", json!(runtime));
            ("enable", unit.clone())
        }
        Action::DaemonReload => ("daemon_reload", "systemd".into()),
        Action::RestartNetworkd => ("restart_networkd", "systemd-networkd.service".into()),
        Action::Command { unit, command, .. } => {
            put("command", json!(command.as_str()));
            ("unit_command", unit.clone())
        }
        Action::Script {
            path,
            content,
            service,
            ..
        } => {
            put("service", json!(service));
            put("size", json!(content.len()));
            ("script", path.display().to_string())
        }
        Action::Invalid { what, .. } => ("invalid", what.clone()),
    };
    let mut out = Map::new();
    out.insert("kind".into(), json!(kind));
    out.insert("target".into(), json!(target));
    out.insert("part".into(), json!(step.part));
    out.insert("change".into(), json!(step.change));
    out.insert("status".into(), json!(status));
    out.insert("description".into(), json!(describe(step)));
    out.extend(m);
    out
}

fn role_name(role: FileRole) -> &'static str {
    match role {
        FileRole::WriteFiles => "write_files",
        FileRole::Generated => "generated",
        FileRole::Unit => "unit",
        FileRole::DropIn => "drop-in",
    }
}

/// A unified diff of the file's current and planned text; a note for binary content.
fn diff(path: &Path, old: Option<&[u8]>, new: &[u8]) -> Value {
    let (Ok(old_text), Ok(new_text)) = (
        std::str::from_utf8(old.unwrap_or(b"")),
        std::str::from_utf8(new),
    ) else {
        return json!(format!("(binary content: {} bytes)", new.len()));
    };
    if old == Some(new) {
        return Value::Null;
    }
    let from = if old.is_some() {
        format!("a{}", path.display())
    } else {
        "/dev/null".to_string()
    };
    json!(crate::plan::diff::unified(
        old_text,
        new_text,
        &from,
        &format!("b{}", path.display()),
        3
    ))
}
