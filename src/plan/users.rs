//! Planning users and their SSH keys: create or update each account, finish one a killed
//! `useradd` left half-made, and write or import key sets.

use std::path::{Path, PathBuf};

use super::{Account, Action, FileKind, Planner, Repair, CREATING_USERS, SHADOW_DATABASES};
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
        // A user this plan creates has no keys yet; an existing one's are compared as apply
        // will find them (the same decision, made again there under the lock).
        let change = match self.state.user(user) {
            Some(acct) => super::keys::update(self.state, &acct, &set, &keys).changes(),
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
        let creating = self
            .state
            .read(Path::new(CREATING_USERS))
            .is_some_and(|text| String::from_utf8_lossy(&text).lines().any(|l| l == u.name));
        if !u.no_create_home && useradd_home {
            if self.state.stat(&acct.home).is_none() {
                repair.push(Repair::Home {
                    path: acct.home.clone(),
                    uid: acct.uid,
                    gid: acct.gid,
                });
            } else if creating {
                self.home_repairs(acct, &mut repair);
            }
        }
        if creating {
            repair.push(Repair::Finished);
        }
        repair
    }

    /// What a kill during the skeleton's copy left of the home of a user in [`CREATING_USERS`]:
    /// entries missing, a file cut short, an entry made but not yet given its owner and mode.
    ///
    /// Why this never undoes the user's own work: the name is in that list only from before
    /// `useradd` starts until it returns, and it leaves before kindling sets a password or
    /// writes a key. So the account is still locked (`useradd --password '*'`), nobody has
    /// logged in to it, and every file in the home is one `useradd` (or a repair) copied. Even
    /// then, only an entry of the skeleton's name and kind is touched, and a file only when its
    /// bytes are a strict prefix of the skeleton's (what a copy cut short holds); a file that
    /// differs in any other way, or an entry the skeleton does not have, is left as it is. An
    /// image's user, or one whose creation ended, is never in the list, and its home is never
    /// compared with the skeleton.
    fn home_repairs(&self, acct: &Account, repair: &mut Vec<Repair>) {
        let Some(home) = self.state.stat(&acct.home) else {
            return;
        };
        if home.kind != FileKind::Dir {
            return;
        }
        let defs = self.state.read(Path::new("/etc/login.defs"));
        let mode = home_mode(&String::from_utf8_lossy(
            defs.as_deref().unwrap_or_default(),
        ));
        if (home.uid, home.gid, home.mode) != (acct.uid, acct.gid, mode) {
            repair.push(Repair::Attrs {
                path: acct.home.clone(),
                uid: acct.uid,
                gid: acct.gid,
                mode,
            });
        }
        let defaults = self.state.read(Path::new("/etc/default/useradd"));
        let skel = skel_dir(&String::from_utf8_lossy(
            defaults.as_deref().unwrap_or_default(),
        ));
        self.skeleton_repairs(&skel, &acct.home, acct, repair);
    }

    fn skeleton_repairs(&self, from: &Path, to: &Path, acct: &Account, repair: &mut Vec<Repair>) {
        let Some(names) = self.state.list(from) else {
            return;
        };
        for name in names {
            let (source, target) = (from.join(&name), to.join(&name));
            let Some(want) = self.state.stat(&source) else {
                continue;
            };
            let copy = |torn| Repair::SkelCopy {
                from: source.clone(),
                to: target.clone(),
                uid: acct.uid,
                gid: acct.gid,
                torn,
            };
            let Some(have) = self.state.stat(&target) else {
                repair.push(copy(false));
                if want.kind == FileKind::Dir {
                    self.skeleton_repairs(&source, &target, acct, repair);
                }
                continue;
            };
            let same_kind = match (&want.kind, &have.kind) {
                (FileKind::Symlink(a), FileKind::Symlink(b)) => a == b,
                (a, b) => a == b && matches!(a, FileKind::File | FileKind::Dir),
            };
            if !same_kind {
                continue;
            }
            if want.kind == FileKind::File && have.len < want.len {
                let prefix = match (self.state.read(&target), self.state.read(&source)) {
                    (Some(have), Some(want)) => want.starts_with(&have),
                    _ => false,
                };
                if prefix {
                    repair.push(copy(true));
                }
                continue;
            }
            // A symlink's own mode is always 0777; only its owner is set.
            let mode = match want.kind {
                FileKind::Symlink(_) => have.mode,
                _ => want.mode,
            };
            if (have.uid, have.gid, have.mode) != (acct.uid, acct.gid, mode) {
                repair.push(Repair::Attrs {
                    path: target.clone(),
                    uid: acct.uid,
                    gid: acct.gid,
                    mode,
                });
            }
            if want.kind == FileKind::Dir {
                self.skeleton_repairs(&source, &target, acct, repair);
            }
        }
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

/// A `KEY value` of login.defs, or a `KEY=value` of useradd's defaults; the last one wins.
pub fn defs_value(text: &str, key: &str) -> Option<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line.strip_prefix(key)?;
            let value = rest
                .strip_prefix('=')
                .or_else(|| rest.starts_with([' ', '\t']).then_some(rest))?;
            Some(value.trim().trim_matches('"').to_string())
        })
        .next_back()
}

/// The mode `useradd --create-home` gives a home, from login.defs: HOME_MODE, else 0777 less
/// UMASK (022 when unset).
pub fn home_mode(login_defs: &str) -> u32 {
    let octal = |key| defs_value(login_defs, key).and_then(|m| u32::from_str_radix(&m, 8).ok());
    octal("HOME_MODE").unwrap_or_else(|| 0o777 & !octal("UMASK").unwrap_or(0o022)) & 0o7777
}

/// The skeleton `useradd` copies into a new home: SKEL of useradd's defaults, else /etc/skel.
pub fn skel_dir(useradd_defaults: &str) -> PathBuf {
    defs_value(useradd_defaults, "SKEL")
        .filter(|s| !s.is_empty())
        .map_or_else(|| PathBuf::from("/etc/skel"), PathBuf::from)
}
