//! Planning users and their SSH keys: create or update each account, finish one a killed
//! `useradd` left half-made, and write or import key sets.

use std::path::Path;

use super::{Account, Action, Planner, Repair, SHADOW_DATABASES};
use crate::config::model::{Checked, User};
use crate::config::values;

impl Planner<'_> {
    pub(super) fn ssh_keys(&mut self, user: &str, keys: Vec<String>) {
        if !self.user_known(user) {
            self.invalid(
                format!("SSH keys of {}", values::excerpt(user, 60)),
                format!(
                    "user {} does not exist in the target's /etc/passwd, and no part creates it; not written",
                    values::excerpt(user, 60)
                ),
            );
            return;
        }
        let set = self.options.ssh_key_name.clone();
        let mut want = String::new();
        for k in &keys {
            want.push_str(k);
            want.push('\n');
        }
        let change = match self.state.user(user) {
            Some(acct) => {
                let dir = acct.home.join(".ssh");
                self.state
                    .read(&dir.join("authorized_keys.d").join(&set))
                    .as_deref()
                    != Some(want.as_bytes())
                    || self.state.stat(&dir.join("authorized_keys")).is_none()
            }
            None => true,
        };
        self.push(
            Action::SshKeys {
                user: user.to_string(),
                set,
                keys,
            },
            change,
        );
    }

    pub(super) fn users(&mut self, users: &[Checked<User>]) {
        for u in users {
            let u = match u {
                Ok(u) => u,
                Err(r) => {
                    self.rejected(r);
                    continue;
                }
            };
            let who = format!("user {}", values::excerpt(&u.name, 60));
            match self.state.user(&u.name) {
                None => {
                    let missing = self.missing_groups(u.groups.iter().chain(&u.primary_group));
                    if !missing.is_empty() {
                        self.invalid(
                            who,
                            format!("{missing}, so useradd would fail; not created"),
                        );
                        continue;
                    }
                    self.push(Action::CreateUser { user: u.clone() }, true);
                    self.new_users.push(u.name.clone());
                    if !u.no_user_group && u.primary_group.as_deref().is_none_or(str::is_empty) {
                        self.new_groups.push(u.name.clone());
                    }
                    if u.name == "core" {
                        if let Some(keys) = self.core_keys.take() {
                            self.ssh_keys("core", keys);
                        }
                    }
                }
                Some(acct) => {
                    let repair = self.user_repairs(u, &acct);
                    let passwd = u.passwd.clone().filter(|p| {
                        self.state.password_hash(&u.name).as_deref() != Some(p.as_str())
                    });
                    let have = self.state.user_groups(&u.name);
                    let add_groups: Vec<String> = u
                        .groups
                        .iter()
                        .filter(|g| !have.contains(g))
                        .cloned()
                        .collect();
                    let missing = self.missing_groups(add_groups.iter());
                    if !missing.is_empty() {
                        self.invalid(
                            who,
                            format!("{missing}, so usermod would fail; not changed"),
                        );
                        continue;
                    }
                    let change = passwd.is_some() || !add_groups.is_empty() || !repair.is_empty();
                    self.push(
                        Action::UpdateUser {
                            name: u.name.clone(),
                            passwd,
                            add_groups,
                            repair,
                        },
                        change,
                    );
                }
            }
            // core's keys are part of the global key set (as in the reference, FC).
            if u.name != "core" && !u.ssh_authorized_keys.is_empty() {
                self.ssh_keys(&u.name, dedupe(u.ssh_authorized_keys.iter()));
            }
            let mut imports: Vec<(String, String)> = Vec::new();
            let github = u
                .coreos_ssh_import_github
                .iter()
                .chain(&u.coreos_ssh_import_github_users);
            for gh in github.filter(|g| !g.is_empty()) {
                imports.push((
                    format!("github-{gh}"),
                    format!("https://api.github.com/users/{gh}/keys"),
                ));
            }
            if let Some(url) = u.coreos_ssh_import_url.as_ref().filter(|s| !s.is_empty()) {
                imports.push((format!("coreos-cloudinit-{}", u.name), url.clone()));
            }
            for (set, url) in imports {
                self.push(
                    Action::ImportSshKeys {
                        user: u.name.clone(),
                        set,
                        url,
                    },
                    true,
                );
            }
        }
    }

    /// What a `useradd` killed part-way left of an existing user: it wrote passwd, then shadow,
    /// group and gshadow, and made the home last, so any prefix of that can be on disk.
    pub(super) fn user_repairs(&self, u: &User, acct: &Account) -> Vec<Repair> {
        let mut repair = Vec::new();
        let leftover = SHADOW_DATABASES.iter().any(|db| {
            [".lock", "+"].iter().any(|suffix| {
                self.state
                    .stat(Path::new(&format!("{db}{suffix}")))
                    .is_some()
            })
        });
        if leftover {
            repair.push(Repair::StaleLocks);
        }
        let user_group = !u.no_user_group && u.primary_group.as_deref().is_none_or(str::is_empty);
        let gid = acct.gid.to_string();
        let has = |db: &str| self.state.read(Path::new(db)).is_some();
        if user_group
            && has("/etc/group")
            && !self.state.group_exists(&gid)
            && !self.state.group_exists(&u.name)
        {
            repair.push(Repair::Group {
                name: u.name.clone(),
                gid: acct.gid,
            });
        }
        if has("/etc/shadow") && self.state.password_hash(&u.name).is_none() {
            repair.push(Repair::Shadow);
        }
        if let Some(gshadow) = self.state.read(Path::new("/etc/gshadow")) {
            let gshadow = String::from_utf8_lossy(&gshadow);
            // group name -> members, as gshadow lists them.
            let members = |group: &str| {
                gshadow.lines().find_map(|line| {
                    let fields: Vec<&str> = line.split(':').collect();
                    (fields.len() == 4 && fields[0] == group)
                        .then(|| fields[3].split(',').map(str::trim).any(|m| m == u.name))
                })
            };
            if user_group && self.state.group_exists(&u.name) && members(&u.name).is_none() {
                repair.push(Repair::Gshadow {
                    group: u.name.clone(),
                });
            }
            let in_group_file = self.state.user_groups(&u.name);
            let groups: Vec<String> = u
                .groups
                .iter()
                .filter(|g| in_group_file.contains(g) && members(g) == Some(false))
                .cloned()
                .collect();
            if !groups.is_empty() {
                repair.push(Repair::GshadowMembers { groups });
            }
        }
        // Only the home useradd made (the config's, or HOME/NAME by default): an image's
        // account whose home is absent on purpose (/nonexistent) is left so.
        let useradd_home = match u.homedir.as_deref().filter(|h| !h.is_empty()) {
            Some(home) => Path::new(home) == acct.home,
            None => acct.home == Path::new("/home").join(&u.name),
        };
        if !u.no_create_home && useradd_home && self.state.stat(&acct.home).is_none() {
            repair.push(Repair::Home {
                path: acct.home.clone(),
                uid: acct.uid,
                gid: acct.gid,
            });
        }
        repair
    }

    /// `group "x" is not in the target's /etc/group` for the groups no step provides, or "".
    pub(super) fn missing_groups<'g>(&self, groups: impl Iterator<Item = &'g String>) -> String {
        let missing: Vec<String> = groups
            .filter(|g| !g.is_empty() && !self.group_known(g))
            .map(|g| values::excerpt(g, 60))
            .collect();
        match missing.len() {
            0 => String::new(),
            1 => format!("group {} is not in the target's /etc/group", missing[0]),
            _ => format!(
                "groups {} are not in the target's /etc/group",
                missing.join(", ")
            ),
        }
    }
}

pub(super) fn dedupe<'k>(keys: impl Iterator<Item = &'k String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for k in keys {
        let k = k.trim();
        if !k.is_empty() && !out.iter().any(|o| o == k) {
            out.push(k.to_string());
        }
    }
    out
}
