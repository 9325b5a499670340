//! SSH key sets as update-ssh-keys laid them out: one file per set in
//! `~USER/.ssh/authorized_keys.d/`, and `~USER/.ssh/authorized_keys` regenerated from them.
//!
//! What writing a set changes is decided here, once, from what the target holds: the planner
//! asks whether the step changes anything, and apply (`crate::apply::sshkeys`, under
//! update-ssh-keys' lock) carries out exactly what was decided, so the two cannot disagree.
//!
//! Sets are concatenated in file-name order (update-ssh-keys used hash order, so its output was
//! not reproducible); an empty set file is a set disabled with `update-ssh-keys -D` and is
//! neither included nor replaced. Directories are 0700, files 0600, all owned by the user, and
//! the first time `authorized_keys.d` is made, the keys already in `authorized_keys` are kept as
//! the set `orig_authorized_keys`, as update-ssh-keys does.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::{Account, FileKind, FileStat, State};

/// The set that keeps the keys of an `authorized_keys` that predates `authorized_keys.d`.
pub const ORIG_SET: &str = "orig_authorized_keys";
pub const DIR_MODE: u32 = 0o700;
pub const FILE_MODE: u32 = 0o600;

/// A key set file: each key trimmed (an entry holding several lines counts as several keys),
/// empty ones dropped, duplicates dropped keeping the first, one per line.
pub fn render_set(keys: &[String]) -> Vec<u8> {
    let mut seen: Vec<&str> = Vec::new();
    for key in keys.iter().flat_map(|k| k.lines()).map(str::trim) {
        if !key.is_empty() && !seen.contains(&key) {
            seen.push(key);
        }
    }
    let mut out = Vec::new();
    for key in seen {
        out.extend_from_slice(key.as_bytes());
        out.push(b'\n');
    }
    out
}

/// What the decision reads of the target: the planner's [`State`] gives it, and so does
/// apply's root, under the lock.
pub trait KeyFiles {
    fn read(&self, path: &Path) -> Option<Vec<u8>>;
    fn stat(&self, path: &Path) -> Option<FileStat>;
    /// The names in a directory; none when it cannot be listed.
    fn list(&self, dir: &Path) -> Vec<OsString>;
}

impl<S: State + ?Sized> KeyFiles for S {
    fn read(&self, path: &Path) -> Option<Vec<u8>> {
        State::read(self, path)
    }
    fn stat(&self, path: &Path) -> Option<FileStat> {
        State::stat(self, path)
    }
    fn list(&self, dir: &Path) -> Vec<OsString> {
        State::list(self, dir).unwrap_or_default()
    }
}

/// What to do with `authorized_keys.d`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeysDir {
    /// It is a directory with the right mode and owner.
    Keep,
    /// It exists but its mode or owner (or kind) is wrong.
    Fix,
    /// It does not exist; make it, with these keys of `authorized_keys` as [`ORIG_SET`].
    Create { preserved: Option<Vec<u8>> },
}

/// What to do with the set's own file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetFile {
    Unchanged,
    Write(Vec<u8>),
    Remove,
    /// Disabled with `update-ssh-keys -D` (an empty file): left alone, though keys were given.
    Disabled,
}

/// Everything writing one key set changes; [`KeysUpdate::changes`] is the planner's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysUpdate {
    pub ssh_dir: PathBuf,
    pub keys_dir: PathBuf,
    pub set_path: PathBuf,
    pub authorized_keys: PathBuf,
    /// `~/.ssh` is not a directory yet (an existing one is the user's and kept as it is).
    pub make_ssh_dir: bool,
    /// None when there is nothing to do at all (no keys, and no `authorized_keys.d`).
    pub dir: Option<KeysDir>,
    pub set: SetFile,
    /// The new content of `authorized_keys`, when it differs from what is there.
    pub regenerated: Option<Vec<u8>>,
}

impl KeysUpdate {
    pub fn changes(&self) -> bool {
        self.make_ssh_dir
            || matches!(self.dir, Some(KeysDir::Fix | KeysDir::Create { .. }))
            || matches!(self.set, SetFile::Write(_) | SetFile::Remove)
            || self.regenerated.is_some()
    }
}

/// What replacing the set `set` of `account` with `keys` (no keys: removing it) changes.
pub fn update<F: KeyFiles + ?Sized>(
    state: &F,
    account: &Account,
    set: &str,
    keys: &[String],
) -> KeysUpdate {
    let ssh_dir = account.home.join(".ssh");
    let keys_dir = ssh_dir.join("authorized_keys.d");
    let authorized_keys = ssh_dir.join("authorized_keys");
    let set_path = keys_dir.join(set);
    let owner = (account.uid, account.gid);
    let content = render_set(keys);
    let mut update = KeysUpdate {
        make_ssh_dir: false,
        dir: None,
        set: SetFile::Unchanged,
        regenerated: None,
        ssh_dir,
        keys_dir,
        set_path,
        authorized_keys,
    };
    let keys_dir_stat = state.stat(&update.keys_dir);
    if content.is_empty() && keys_dir_stat.is_none() {
        // No set to remove, and nothing to create for an empty one.
        return update;
    }
    update.make_ssh_dir =
        !matches!(state.stat(&update.ssh_dir), Some(s) if s.kind == FileKind::Dir);

    let mut sets = BTreeMap::new();
    match keys_dir_stat {
        None => {
            let preserved = preserved_keys(state, &update.authorized_keys);
            if let Some(orig) = &preserved {
                sets.insert(OsString::from(ORIG_SET), orig.clone());
            }
            update.dir = Some(KeysDir::Create { preserved });
        }
        Some(stat) => {
            let right = stat.kind == FileKind::Dir
                && stat.mode == DIR_MODE
                && (stat.uid, stat.gid) == owner;
            update.dir = Some(if right { KeysDir::Keep } else { KeysDir::Fix });
            // Names starting with `.` (temporary files) are not sets, nor is anything that is
            // not a readable regular file.
            for name in state.list(&update.keys_dir) {
                if name.as_bytes().starts_with(b".") {
                    continue;
                }
                if let Some(text) = state.read(&update.keys_dir.join(&name)) {
                    sets.insert(name, text);
                }
            }
        }
    }

    let name = OsString::from(set);
    match sets.get(&name) {
        Some(old) if old.is_empty() => {
            if !content.is_empty() {
                update.set = SetFile::Disabled;
            }
        }
        Some(_) if content.is_empty() => {
            sets.remove(&name);
            update.set = SetFile::Remove;
        }
        None if content.is_empty() => {}
        _ => {
            if !file_is(state, &update.set_path, &content, owner) {
                update.set = SetFile::Write(content.clone());
            }
            sets.insert(name, content);
        }
    }

    let mut all = Vec::new();
    for content in sets.values() {
        if content.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        all.extend_from_slice(content);
        if !all.ends_with(b"\n") {
            all.push(b'\n');
        }
    }
    if !file_is(state, &update.authorized_keys, &all, owner) {
        update.regenerated = Some(all);
    }
    update
}

/// The keys of an `authorized_keys` that predates `authorized_keys.d`, as a set.
pub fn preserved_keys<F: KeyFiles + ?Sized>(state: &F, authorized_keys: &Path) -> Option<Vec<u8>> {
    let existing = state.read(authorized_keys)?;
    let lines: Vec<String> = String::from_utf8_lossy(&existing)
        .lines()
        .map(str::to_string)
        .collect();
    Some(render_set(&lines)).filter(|set| !set.is_empty())
}

/// Whether `path` is a regular file with exactly this content, mode and owner.
fn file_is<F: KeyFiles + ?Sized>(
    state: &F,
    path: &Path,
    content: &[u8],
    owner: (u32, u32),
) -> bool {
    let Some(stat) = state.stat(path) else {
        return false;
    };
    stat.kind == FileKind::File
        && stat.mode == FILE_MODE
        && (stat.uid, stat.gid) == owner
        && stat.len == content.len() as u64
        && state.read(path).as_deref() == Some(content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_trims_dedupes_and_keeps_order() {
        let keys: Vec<String> = [
            "  ssh-ed25519 AAAA b@host ",
            "",
            "ssh-rsa AAAB a@host\nssh-ed25519 AAAA b@host",
            "   ",
            "ssh-ed25519 AAAC c@host\r",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            String::from_utf8(render_set(&keys)).unwrap(),
            "ssh-ed25519 AAAA b@host\nssh-rsa AAAB a@host\nssh-ed25519 AAAC c@host\n"
        );
        assert!(render_set(&[]).is_empty());
        assert!(render_set(&[" \n ".to_string()]).is_empty());
    }
}
