//! Users and groups as the target root's own `/etc/passwd`, `/etc/group` and `/etc/shadow` say,
//! and `owner` specs (`user`, `user:group`, `:group`, ids) resolved against them.
//!
//! Never NSS: a static glibc binary must not dlopen the host's NSS modules (built for another
//! glibc), and with `--root` the answer must come from the target, not the host.

use std::path::{Path, PathBuf};

use super::fs;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub gecos: String,
    pub home: PathBuf,
    pub shell: String,
}

/// The lines of a database file, without comments, blank lines and NIS `+`/`-` entries.
/// A missing or unreadable file has none.
fn records(root: &Path, file: &str) -> Vec<String> {
    let Some(bytes) = fs::read(root, Path::new(file)) else {
        return Vec::new();
    };
    String::from_utf8_lossy(&bytes)
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .filter(|line| {
            !line.trim().is_empty()
                && !line.starts_with('#')
                && !line.starts_with('+')
                && !line.starts_with('-')
        })
        .map(str::to_string)
        .collect()
}

/// A numeric id; `u32::MAX` is chown(2)'s "leave unchanged", never a real id.
fn parse_id(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|&id| id != u32::MAX)
}

fn parse_passwd(line: &str) -> Option<Account> {
    let fields: Vec<&str> = line.split(':').collect();
    let [name, _, uid, gid, gecos, home, shell] = fields[..] else {
        return None;
    };
    if name.is_empty() {
        return None;
    }
    Some(Account {
        name: name.to_string(),
        uid: parse_id(uid)?,
        gid: parse_id(gid)?,
        gecos: gecos.to_string(),
        home: PathBuf::from(home),
        shell: shell.to_string(),
    })
}

struct Group {
    name: String,
    gid: u32,
    members: Vec<String>,
}

fn parse_group(line: &str) -> Option<Group> {
    let fields: Vec<&str> = line.split(':').collect();
    let [name, _, gid, members] = fields[..] else {
        return None;
    };
    if name.is_empty() {
        return None;
    }
    Some(Group {
        name: name.to_string(),
        gid: parse_id(gid)?,
        members: members
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

/// Every well-formed entry of the root's passwd file, in file order.
pub fn users(root: &Path) -> Vec<Account> {
    records(root, "/etc/passwd")
        .iter()
        .filter_map(|line| parse_passwd(line))
        .collect()
}

/// The first entry named `name`, as getpwnam(3) would find it.
pub fn user(root: &Path, name: &str) -> Option<Account> {
    users(root).into_iter().find(|a| a.name == name)
}

/// The first entry with `uid`, as getpwuid(3) would find it.
pub fn user_by_uid(root: &Path, uid: u32) -> Option<Account> {
    users(root).into_iter().find(|a| a.uid == uid)
}

fn groups(root: &Path) -> Vec<Group> {
    records(root, "/etc/group")
        .iter()
        .filter_map(|line| parse_group(line))
        .collect()
}

/// Whether a group exists in the root's group file, by name or, as shadow-utils also reads
/// a group argument, by numeric id.
pub fn group_exists(root: &Path, group: &str) -> bool {
    let gid = parse_id(group);
    groups(root)
        .iter()
        .any(|g| g.name == group || Some(g.gid) == gid)
}

pub fn group_gid(root: &Path, name: &str) -> Option<u32> {
    groups(root)
        .into_iter()
        .find(|g| g.name == name)
        .map(|g| g.gid)
}

/// The groups that list `user` as a member, in file order.
pub fn supplementary_groups(root: &Path, user: &str) -> Vec<String> {
    groups(root)
        .into_iter()
        .filter(|g| g.members.iter().any(|m| m == user))
        .map(|g| g.name)
        .collect()
}

/// The password field of `user` in the root's shadow file (a hash, `!`, `*`, or empty).
pub fn shadow_hash(root: &Path, user: &str) -> Option<String> {
    records(root, "/etc/shadow").iter().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let hash = fields.next()?;
        (name == user).then(|| hash.to_string())
    })
}

/// An `owner` spec resolved to ids; a half the spec leaves out is None and keeps its current
/// value (`:staff` changes only the group).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Owner {
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

impl Owner {
    /// Both ids, taking an unset half from `current` (the existing file's uid and gid), or,
    /// for a new file, from this process, which is what the file would get without a chown.
    pub fn complete(self, current: Option<(u32, u32)>) -> (u32, u32) {
        let (uid, gid) = current.unwrap_or_else(|| {
            (
                nix::unistd::geteuid().as_raw(),
                nix::unistd::getegid().as_raw(),
            )
        });
        (self.uid.unwrap_or(uid), self.gid.unwrap_or(gid))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OwnerError {
    #[error("empty owner")]
    Empty,
    #[error("unknown user {user:?} in owner {spec:?}: not in {}", .passwd.display())]
    UnknownUser {
        spec: String,
        user: String,
        passwd: PathBuf,
    },
    #[error("unknown group {group:?} in owner {spec:?}: not in {}", .group_file.display())]
    UnknownGroup {
        spec: String,
        group: String,
        group_file: PathBuf,
    },
}

/// Resolves `spec` as chown(1) reads it, against the root's passwd and group files: `user`,
/// `user:group`, `user:` (the user's group), `:group`, `user.group` (old syntax, only without
/// `:` and when `user.group` is not itself a user name), and numeric ids. A name is looked up
/// before it is read as a number; `+1000` is only a number.
///
/// As chown(1), which the reference ran: a lone `user` leaves the group as it is (a new file's
/// is root), so the on-disk result matches coreos-cloudinit's; `user:` takes the user's group.
pub fn resolve_owner(root: &Path, spec: &str) -> Result<Owner, OwnerError> {
    if spec.is_empty() {
        return Err(OwnerError::Empty);
    }
    let (user_part, group_part) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => match spec.split_once('.') {
            Some((u, g)) if user(root, spec).is_none() => (u, Some(g)),
            _ => (spec, None),
        },
    };
    let mut owner = Owner::default();
    if !user_part.is_empty() {
        let account = match user_part.strip_prefix('+') {
            Some(number) => parse_id(number).map(|uid| (uid, None)),
            None => user(root, user_part)
                .map(|a| (a.uid, Some(a.gid)))
                .or_else(|| {
                    parse_id(user_part).map(|uid| (uid, user_by_uid(root, uid).map(|a| a.gid)))
                }),
        };
        let Some((uid, primary_gid)) = account else {
            return Err(OwnerError::UnknownUser {
                spec: spec.to_string(),
                user: user_part.to_string(),
                passwd: fs::resolve(root, Path::new("/etc/passwd"))
                    .unwrap_or_else(|_| root.join("etc/passwd")),
            });
        };
        owner.uid = Some(uid);
        if group_part == Some("") {
            owner.gid = primary_gid;
        }
    }
    if let Some(group) = group_part.filter(|g| !g.is_empty()) {
        let gid = match group.strip_prefix('+') {
            Some(number) => parse_id(number),
            None => group_gid(root, group).or_else(|| parse_id(group)),
        };
        let Some(gid) = gid else {
            return Err(OwnerError::UnknownGroup {
                spec: spec.to_string(),
                group: group.to_string(),
                group_file: fs::resolve(root, Path::new("/etc/group"))
                    .unwrap_or_else(|_| root.join("etc/group")),
            });
        };
        owner.gid = Some(gid);
    }
    Ok(owner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_lines() {
        assert_eq!(
            parse_passwd("core:x:500:500:CoreOS Admin:/home/core:/bin/bash"),
            Some(Account {
                name: "core".into(),
                uid: 500,
                gid: 500,
                gecos: "CoreOS Admin".into(),
                home: "/home/core".into(),
                shell: "/bin/bash".into(),
            })
        );
        for bad in [
            "core:x:500:500:/home/core:/bin/bash",
            "core:x:-1:500::/home/core:/bin/sh",
            "core:x:500:abc::/:/bin/sh",
            ":x:1:1::/:/bin/sh",
            "core:x:4294967295:1::/:/bin/sh",
            "core:x:1:1::/:/bin/sh:extra",
        ] {
            assert_eq!(parse_passwd(bad), None, "{bad}");
        }
    }

    #[test]
    fn group_members() {
        let group = parse_group("wheel:x:10:core, alice,,").unwrap();
        assert_eq!((group.name.as_str(), group.gid), ("wheel", 10));
        assert_eq!(group.members, ["core", "alice"]);
        assert!(parse_group("wheel:x:10").is_none());
    }

    #[test]
    fn complete_takes_unset_half_from_current() {
        let owner = Owner {
            uid: None,
            gid: Some(7),
        };
        assert_eq!(owner.complete(Some((1000, 1000))), (1000, 7));
        assert_eq!(Owner::default().complete(Some((3, 4))), (3, 4));
    }
}
