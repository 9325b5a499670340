//! Planning, the pure half of apply: (parts, metadata, current state) -> ordered actions, each
//! knowing whether it changes anything. Dry-run, idempotency and most tests fall out of this.

pub mod diff;
pub mod json;
pub mod load;
pub mod render;
pub mod show;

use std::path::{Path, PathBuf};

use crate::apply::systemd::UnitCommand;
use crate::config::model::{Checked, CloudConfig, Rejected, Unit, User};
use crate::config::values;
use crate::datasource::{Addresses, Metadata};

/// What planning reads of the machine. Paths are absolute paths inside the target.
pub trait State {
    /// A regular file's content; None when missing.
    fn read(&self, path: &Path) -> Option<Vec<u8>>;
    /// `lstat` of a path; None when missing.
    fn stat(&self, path: &Path) -> Option<FileStat>;
    /// The user's passwd entry in the target.
    fn user(&self, name: &str) -> Option<Account>;
    /// The names of the user's supplementary groups.
    fn user_groups(&self, name: &str) -> Vec<String>;
    /// The user's password hash in the target's shadow file.
    fn password_hash(&self, name: &str) -> Option<String>;
    /// `owner` (`user`, `user:group`, `:group`, numeric) as the uid and gid it sets (a half it
    /// leaves alone is None); why not when it does not resolve (yet: a user this plan creates
    /// resolves at apply).
    fn owner(&self, spec: &str) -> Result<(Option<u32>, Option<u32>), String>;
    /// Whether the group (a name or a numeric id) exists in the target's /etc/group.
    fn group_exists(&self, group: &str) -> bool;
    /// The current static hostname.
    fn hostname(&self) -> Option<String>;
    /// Whether the unit is enabled (`enabled`, `enabled-runtime`); None when unknown.
    fn unit_enabled(&self, unit: &str) -> Option<bool>;
    /// Whether the unit is active (or activating, reloading); None when unknown (offline).
    fn unit_active(&self, unit: &str) -> Option<bool>;
    /// Whether an action with this stamp already ran since boot.
    fn done_this_boot(&self, stamp: &str) -> bool;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStat {
    pub kind: FileKind,
    /// Permission bits including setuid, setgid and sticky.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub len: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    File,
    Dir,
    Symlink(PathBuf),
    CharDevice,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The key set written for `core` and for users' keys (`--ssh-key-name`).
    pub ssh_key_name: String,
    /// Where scripts are kept (`--workspace`).
    pub workspace: PathBuf,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            ssh_key_name: "coreos-cloudinit".into(),
            workspace: PathBuf::from("/var/lib/coreos-cloudinit"),
        }
    }
}

/// One part of the user-data, as the apply pipeline read it.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Config {
        label: String,
        config: Box<CloudConfig>,
    },
    Script {
        label: String,
        content: Vec<u8>,
    },
    /// Ignition or unknown parts: logged, not applied.
    Ignored {
        label: String,
        kind: String,
        /// Why, as the validator would say it (the header rule's message for unknown text).
        reason: String,
    },
}

impl Part {
    pub fn label(&self) -> &str {
        match self {
            Part::Config { label, .. }
            | Part::Script { label, .. }
            | Part::Ignored { label, .. } => label,
        }
    }
}

/// What kind of file a write is, for messages and journal entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    WriteFiles,
    Generated,
    Unit,
    DropIn,
}

/// A part of a half-created user (shadow-utils killed mid-run) that a rerun finishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repair {
    /// shadow-utils' `.lock`/`+` files (and lock temp files) whose process is gone.
    StaleLocks,
    /// The user group `useradd` makes, with the user's gid.
    Group { name: String, gid: u32 },
    /// The user's `/etc/shadow` entry, locked as `useradd --password '*'` writes it.
    Shadow,
    /// The group's `/etc/gshadow` entry, as `groupadd` writes it.
    Gshadow { group: String },
    /// Memberships the group file has and gshadow lacks (`usermod -a -G` writes both).
    GshadowMembers { groups: Vec<String> },
    /// The home directory with the skeleton, owned by the user.
    Home { path: PathBuf, uid: u32, gid: u32 },
}

impl Repair {
    pub fn describe(&self) -> String {
        match self {
            Repair::StaleLocks => "clear stale shadow-utils locks".into(),
            Repair::Group { name, gid } => format!("create its group {name:?} ({gid})"),
            Repair::Shadow => "add its shadow entry".into(),
            Repair::Gshadow { group } => format!("add the gshadow entry of {group:?}"),
            Repair::GshadowMembers { groups } => {
                format!("list it in gshadow for {}", groups.join(","))
            }
            Repair::Home { path, .. } => format!("create its home {}", path.display()),
        }
    }
}

/// The shadow-utils databases, whose `FILE.lock` and `FILE+` a killed tool leaves behind.
pub const SHADOW_DATABASES: [&str; 4] =
    ["/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow"];

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    SetHostname {
        name: String,
    },
    CreateUser {
        user: User,
    },
    UpdateUser {
        name: String,
        passwd: Option<String>,
        add_groups: Vec<String>,
        /// What a crash during an earlier `useradd` left undone, in the order it is finished.
        repair: Vec<Repair>,
    },
    /// `~user/.ssh/authorized_keys.d/SET` and the regenerated `authorized_keys`.
    SshKeys {
        user: String,
        set: String,
        keys: Vec<String>,
    },
    /// Deprecated remote key imports (`coreos_ssh_import_*`): fetched at apply time.
    ImportSshKeys {
        user: String,
        set: String,
        url: String,
    },
    WriteFile {
        path: PathBuf,
        content: Vec<u8>,
        mode: u32,
        owner: Option<String>,
        role: FileRole,
    },
    /// Replace the unit's path with a symlink to /dev/null.
    Mask {
        unit: String,
        path: PathBuf,
    },
    /// Runtime unmask: remove an empty file or /dev/null link at the unit's path.
    Unmask {
        unit: String,
        path: PathBuf,
    },
    Enable {
        unit: String,
        runtime: bool,
    },
    DaemonReload,
    RestartNetworkd,
    Command {
        unit: String,
        command: UnitCommand,
        stamp: String,
    },
    Script {
        path: PathBuf,
        content: Vec<u8>,
        service: String,
        stamp: String,
    },
    /// Something the config asks for that cannot be done; fails at apply, with this message.
    Invalid {
        what: String,
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The part this step comes from (`part 2`), None for the global steps.
    pub part: Option<String>,
    pub action: Action,
    /// Whether carrying it out changes the machine.
    pub change: bool,
}

/// The ordered steps. Global steps (hostname, core keys) come first; if one of them fails,
/// apply runs no part (as the reference does).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    pub fn changes(&self) -> usize {
        self.steps.iter().filter(|s| s.change).count()
    }

    /// Steps that will fail (`!` in the plan): invalid entries, owners and groups that do not
    /// exist.
    pub fn problems(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s.action, Action::Invalid { .. }))
            .count()
    }
}

/// Stamps of what ran since boot live here (under the target root).
pub const STAMPS: &str = "/run/kindling/done";

/// A short stable fingerprint (FNV-1a, 64 bits) for stamps and script names; not security.
pub fn fingerprint(data: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The hostname to set: a FQDN gives its first label; an IP address or an invalid label is an
/// error instead of being cut (the reference turned `10.0.0.5` into `10`).
pub fn hostname_label(name: &str) -> Result<String, String> {
    if name.parse::<std::net::IpAddr>().is_ok() {
        return Err(format!(
            "hostname {name:?} is an IP address, not a name; not set"
        ));
    }
    let label = name.split('.').next().unwrap_or("");
    values::check_hostname(label)
        .map_err(|why| format!("hostname {name:?} is not valid: {why}; not set"))?;
    Ok(label.to_string())
}

/// `.network`, `.netdev` and `.link` units belong to networkd, not to systemd's manager.
pub(crate) fn is_network_unit(name: &str) -> bool {
    name.ends_with(".network") || name.ends_with(".netdev") || name.ends_with(".link")
}

/// `/{etc|run}/systemd/{system|network}` for a unit.
pub fn unit_dir(name: &str, runtime: bool) -> PathBuf {
    let base = if runtime {
        "/run/systemd"
    } else {
        "/etc/systemd"
    };
    let group = if is_network_unit(name) {
        "network"
    } else {
        "system"
    };
    Path::new(base).join(group)
}

/// `permissions` as a mode: octal text, all bits kept (setuid, setgid, sticky included).
pub fn parse_mode(permissions: Option<&str>) -> Result<u32, String> {
    let Some(p) = permissions else {
        return Ok(0o644);
    };
    match u32::from_str_radix(p, 8) {
        Ok(m) if m <= 0o7777 => Ok(m),
        _ => Err(format!(
            "unable to parse file permissions {p:?} as an octal mode"
        )),
    }
}

/// The path a `write_files` entry names, inside the target (relative ones are joined onto `/`,
/// as the reference does).
fn target_path(path: &str) -> PathBuf {
    Path::new("/").join(path)
}

fn lexically_equal(a: &Path, b: &str) -> bool {
    let norm = |p: &Path| {
        let mut out: Vec<String> = Vec::new();
        for c in p.components() {
            match c {
                std::path::Component::ParentDir => {
                    out.pop();
                }
                std::path::Component::Normal(s) => out.push(s.to_string_lossy().into_owned()),
                _ => {}
            }
        }
        out
    };
    norm(a) == norm(Path::new(b))
}

struct Planner<'a> {
    state: &'a dyn State,
    options: &'a Options,
    steps: Vec<Step>,
    part: Option<String>,
    /// Users and groups that steps before the current one create: an owner or a group naming
    /// them resolves at apply, though the target lacks them now.
    new_users: Vec<String>,
    new_groups: Vec<String>,
    /// core's keys, when `core` does not exist yet and a part creates it: written right after.
    core_keys: Option<Vec<String>>,
}

impl Planner<'_> {
    fn push(&mut self, action: Action, change: bool) {
        self.steps.push(Step {
            part: self.part.clone(),
            action,
            change,
        });
    }

    fn invalid(&mut self, what: impl Into<String>, message: impl Into<String>) {
        self.push(
            Action::Invalid {
                what: what.into(),
                message: message.into(),
            },
            true,
        );
    }

    /// An entry the validator rejected: skipped whole, and a failure of the run.
    fn rejected(&mut self, r: &Rejected) {
        self.invalid(r.what.clone(), r.message());
    }

    fn user_known(&self, name: &str) -> bool {
        self.state.user(name).is_some() || self.new_users.iter().any(|u| u == name)
    }

    fn group_known(&self, group: &str) -> bool {
        self.state.group_exists(group) || self.new_groups.iter().any(|g| g == group)
    }

    /// Why `owner` will not resolve when apply gets to it, if it will not: a name the target
    /// lacks and no earlier step creates.
    fn owner_problem(&self, spec: &str) -> Option<String> {
        let why = self.state.owner(spec).err()?;
        let (user, group) = match spec.split_once(':') {
            Some((u, g)) => (u, g),
            None => match spec.split_once('.') {
                Some((u, g)) if !self.user_known(spec) => (u, g),
                _ => (spec, ""),
            },
        };
        let numeric = |s: &str| s.trim_start_matches('+').parse::<u32>().is_ok();
        let user_ok = user.is_empty() || numeric(user) || self.user_known(user);
        let group_ok = group.is_empty() || numeric(group) || self.group_known(group);
        (!(user_ok && group_ok)).then_some(why)
    }

    /// Plans a file write; returns whether it changes anything.
    fn file(
        &mut self,
        path: PathBuf,
        content: Vec<u8>,
        mode: u32,
        owner: Option<String>,
        role: FileRole,
    ) -> bool {
        let change = match self.state.stat(&path) {
            Some(st) if st.kind == FileKind::File => {
                let owner_ok = match owner.as_deref() {
                    None => true,
                    Some(spec) => self.state.owner(spec).is_ok_and(|(uid, gid)| {
                        uid.is_none_or(|u| u == st.uid) && gid.is_none_or(|g| g == st.gid)
                    }),
                };
                st.mode != mode
                    || !owner_ok
                    || self.state.read(&path).as_deref() != Some(&content[..])
            }
            _ => true,
        };
        self.push(
            Action::WriteFile {
                path,
                content,
                mode,
                owner,
                role,
            },
            change,
        );
        change
    }

    fn ssh_keys(&mut self, user: &str, keys: Vec<String>) {
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

    fn users(&mut self, users: &[Checked<User>]) {
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
    fn user_repairs(&self, u: &User, acct: &Account) -> Vec<Repair> {
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
    fn missing_groups<'g>(&self, groups: impl Iterator<Item = &'g String>) -> String {
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

    fn files(&mut self, c: &CloudConfig, hostname: &str, addrs: &Addresses) {
        for f in &c.write_files {
            let f = match f {
                Ok(f) => f,
                Err(r) => {
                    self.rejected(r);
                    continue;
                }
            };
            let path = target_path(&f.path);
            let what = format!("write_files {}", values::excerpt(&f.path, 60));
            if let Some(why) = f.owner.as_deref().and_then(|o| self.owner_problem(o)) {
                self.invalid(what, format!("{why}; not written"));
                continue;
            }
            match parse_mode(f.permissions.as_deref()) {
                Ok(mode) => {
                    self.file(
                        path,
                        f.content.clone(),
                        mode,
                        f.owner.clone(),
                        FileRole::WriteFiles,
                    );
                }
                Err(e) => self.invalid(what, e),
            }
        }
        if let Some(Err(r)) = &c.coreos.oem {
            self.rejected(r);
        }
        if let Some(Ok(oem)) = &c.coreos.oem {
            self.file(
                "/etc/oem-release".into(),
                render::oem_release(oem).into_bytes(),
                0o644,
                None,
                FileRole::Generated,
            );
        }
        let base = self
            .state
            .read(Path::new("/etc/coreos/update.conf"))
            .or_else(|| self.state.read(Path::new("/usr/share/coreos/update.conf")))
            .unwrap_or_default();
        let update = match &c.coreos.update {
            Ok(u) => Some(u),
            Err(r) => {
                self.rejected(r);
                None
            }
        };
        if let Some(text) =
            update.and_then(|u| render::update_conf(&String::from_utf8_lossy(&base), u))
        {
            self.file(
                "/etc/coreos/update.conf".into(),
                text.into_bytes(),
                0o644,
                None,
                FileRole::Generated,
            );
        }
        if let Some(Err(r)) = &c.manage_etc_hosts {
            self.rejected(r);
        }
        if matches!(&c.manage_etc_hosts, Some(Ok(m)) if m == "localhost") {
            self.file(
                "/etc/hosts".into(),
                render::etc_hosts(hostname).into_bytes(),
                0o644,
                None,
                FileRole::Generated,
            );
        }
        let flannel = match &c.coreos.flannel {
            Ok(f) => render::flannel_env(f),
            Err(r) => {
                self.rejected(r);
                None
            }
        };
        if let Some(text) = flannel {
            self.file(
                "/run/flannel/options.env".into(),
                text.into_bytes(),
                0o644,
                None,
                FileRole::Generated,
            );
        }
        let writes_environment = c
            .write_files
            .iter()
            .flatten()
            .any(|f| lexically_equal(&target_path(&f.path), "/etc/environment"));
        let vars = addrs.environment();
        if !writes_environment && !vars.is_empty() {
            let path = Path::new("/etc/environment");
            let current = self
                .state
                .read(path)
                .map(|b| String::from_utf8_lossy(&b).into_owned());
            match render::merge_environment(current.as_deref(), &vars, "/etc/environment") {
                Ok(Some(text)) => {
                    self.file(
                        path.into(),
                        text.into_bytes(),
                        0o644,
                        None,
                        FileRole::Generated,
                    );
                }
                Ok(None) => self.push(
                    Action::WriteFile {
                        path: path.into(),
                        content: current.unwrap_or_default().into_bytes(),
                        mode: 0o644,
                        owner: None,
                        role: FileRole::Generated,
                    },
                    false,
                ),
                Err(e) => self.invalid("/etc/environment", e.to_string()),
            }
        }
    }

    /// The units of a part: the config's, then the four drop-in carriers, then the update units.
    /// An invalid section stands for its carrier (reported there); an invalid update section
    /// was reported with update.conf.
    fn unit_list(c: &CloudConfig) -> Vec<Checked<Unit>> {
        let mut units = c.coreos.units.clone();
        let carriers = [
            ("etcd.service", &c.coreos.etcd),
            ("etcd2.service", &c.coreos.etcd2),
            ("fleet.service", &c.coreos.fleet),
            ("locksmithd.service", &c.coreos.locksmith),
        ];
        for (name, section) in carriers {
            let section = match section {
                Ok(s) => s,
                Err(r) => {
                    units.push(Err(r.clone()));
                    continue;
                }
            };
            units.push(Ok(Unit {
                name: name.into(),
                runtime: true,
                drop_ins: render::env_dropin(section)
                    .map(|content| {
                        vec![Ok(crate::config::model::DropIn {
                            name: "20-cloudinit.conf".into(),
                            content,
                        })]
                    })
                    .unwrap_or_default(),
                ..Default::default()
            }));
        }
        let Ok(update) = &c.coreos.update else {
            return units;
        };
        match update.reboot_strategy.as_deref() {
            Some("off") => units.push(Ok(Unit {
                name: "locksmithd.service".into(),
                runtime: true,
                mask: true,
                command: Some("stop".into()),
                ..Default::default()
            })),
            Some(_) => units.push(Ok(Unit {
                name: "locksmithd.service".into(),
                runtime: true,
                command: Some("restart".into()),
                ..Default::default()
            })),
            None => {}
        }
        if update.group.is_some() || update.server.is_some() {
            units.push(Ok(Unit {
                name: "update-engine.service".into(),
                command: Some("restart".into()),
                ..Default::default()
            }));
        }
        units
    }

    fn units(&mut self, c: &CloudConfig) {
        let mut reload = false;
        let mut networkd = false;
        let mut commands: Vec<(String, UnitCommand, bool)> = Vec::new();
        for unit in Self::unit_list(c) {
            let unit = match unit {
                Ok(u) => u,
                Err(r) => {
                    // The unit with its drop-ins, its enable, mask and command.
                    self.rejected(&r);
                    continue;
                }
            };
            let dir = unit_dir(&unit.name, unit.runtime);
            let path = dir.join(&unit.name);
            let network = is_network_unit(&unit.name);
            let mut touched = false;
            if let Some(content) = unit.content.as_ref().filter(|c| !c.is_empty()) {
                touched |= self.file(
                    path.clone(),
                    content.clone().into_bytes(),
                    0o644,
                    None,
                    FileRole::Unit,
                );
            }
            for d in &unit.drop_ins {
                let d = match d {
                    Ok(d) if !d.name.is_empty() && !d.content.is_empty() => d,
                    Ok(_) => continue,
                    Err(r) => {
                        self.rejected(r);
                        continue;
                    }
                };
                let dpath = dir.join(format!("{}.d", unit.name)).join(&d.name);
                touched |= self.file(
                    dpath,
                    d.content.clone().into_bytes(),
                    0o644,
                    None,
                    FileRole::DropIn,
                );
            }
            if unit.mask {
                let masked = matches!(self.state.stat(&path), Some(FileStat { kind: FileKind::Symlink(ref t), .. }) if t == Path::new("/dev/null"));
                self.push(
                    Action::Mask {
                        unit: unit.name.clone(),
                        path: path.clone(),
                    },
                    !masked,
                );
                touched |= !masked;
            } else if unit.runtime {
                let masked = match self.state.stat(&path) {
                    Some(FileStat {
                        kind: FileKind::File,
                        len: 0,
                        ..
                    }) => true,
                    Some(FileStat {
                        kind: FileKind::Symlink(t),
                        ..
                    }) => t == Path::new("/dev/null"),
                    Some(FileStat {
                        kind: FileKind::CharDevice,
                        ..
                    }) => true,
                    _ => false,
                };
                if masked {
                    self.push(
                        Action::Unmask {
                            unit: unit.name.clone(),
                            path: path.clone(),
                        },
                        true,
                    );
                    touched = true;
                }
            }
            reload |= touched;
            if network {
                networkd |= touched;
                continue;
            }
            // The reference writes and masks a unit without a known suffix, and asks systemd to
            // enable or start it, which systemd refuses: that is a failure, said in advance.
            let unloadable = values::lacks_known_unit_suffix(&unit.name);
            let refused = |what: &str| {
                format!(
                    "systemd cannot {what} a unit whose name has no known type suffix (such as .service)"
                )
            };
            if unit.enable && unloadable {
                self.invalid(
                    format!("enable {}", values::excerpt(&unit.name, 60)),
                    refused("enable"),
                );
            } else if unit.enable {
                let enabled = self.state.unit_enabled(&unit.name) == Some(true);
                self.push(
                    Action::Enable {
                        unit: unit.name.clone(),
                        runtime: unit.runtime,
                    },
                    !enabled,
                );
            }
            if let Some(cmd) = unit.command.as_deref() {
                match UnitCommand::parse(cmd) {
                    Some(_) if unloadable => self.invalid(
                        format!("{cmd} {}", values::excerpt(&unit.name, 60)),
                        refused(cmd),
                    ),
                    Some(command) => commands.push((unit.name.clone(), command, touched)),
                    None => self.invalid(
                        format!("unit {}", unit.name),
                        format!("unsupported systemd command {cmd:?}"),
                    ),
                }
            }
        }
        if reload {
            self.push(Action::DaemonReload, true);
        }
        if networkd {
            self.push(Action::RestartNetworkd, true);
        }
        for (unit, command, touched) in commands {
            let stamp = format!("{} {unit}", command.as_str());
            let active = self.state.unit_active(&unit);
            let change = match command {
                UnitCommand::Start => active != Some(true),
                UnitCommand::Stop => active != Some(false),
                // Restarts happen once per boot, and again whenever the unit's files change.
                _ => touched || !self.state.done_this_boot(&stamp),
            };
            self.push(
                Action::Command {
                    unit,
                    command,
                    stamp,
                },
                change,
            );
        }
    }

    fn script(&mut self, content: &[u8]) {
        let print = fingerprint(content);
        let path = self
            .options
            .workspace
            .join("scripts")
            .join(format!("script-{print}"));
        let stamp = format!("script {print}");
        let change = !self.state.done_this_boot(&stamp);
        self.push(
            Action::Script {
                path,
                content: content.to_vec(),
                service: format!("coreos-cloudinit-script-{print}.service"),
                stamp,
            },
            change,
        );
    }
}

fn dedupe<'k>(keys: impl Iterator<Item = &'k String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for k in keys {
        let k = k.trim();
        if !k.is_empty() && !out.iter().any(|o| o == k) {
            out.push(k.to_string());
        }
    }
    out
}

/// Plans everything the parts ask for, in the reference's order (FC): hostname, core's keys,
/// then per part users, files, generated files, units, commands.
pub fn plan(
    parts: &[Part],
    metadata: &Metadata,
    addrs: &Addresses,
    state: &dyn State,
    options: &Options,
) -> Plan {
    plan_with_network(parts, metadata, addrs, &[], state, options)
}

/// [`plan`], with the networkd units `--convert-netconf` made from the datasource's network
/// config: written to /run/systemd/network first, as the reference does before anything else.
pub fn plan_with_network(
    parts: &[Part],
    metadata: &Metadata,
    addrs: &Addresses,
    network: &[crate::network::NetworkUnit],
    state: &dyn State,
    options: &Options,
) -> Plan {
    let mut p = Planner {
        state,
        options,
        steps: Vec::new(),
        part: None,
        new_users: Vec::new(),
        new_groups: Vec::new(),
        core_keys: None,
    };
    let mut network_changed = false;
    for unit in network {
        let path = Path::new("/run/systemd/network").join(&unit.name);
        network_changed |= p.file(
            path,
            unit.content.clone().into_bytes(),
            0o644,
            None,
            FileRole::Unit,
        );
    }
    if network_changed {
        p.push(Action::DaemonReload, true);
        p.push(Action::RestartNetworkd, true);
    }
    let configs: Vec<(&str, &CloudConfig)> = parts
        .iter()
        .filter_map(|part| match part {
            Part::Config { label, config } => Some((label.as_str(), config.as_ref())),
            _ => None,
        })
        .collect();

    // The first part that sets a hostname decides it; an invalid one is skipped, not replaced
    // by the metadata's (which would be a name the operator did not ask for).
    let wanted = match configs
        .iter()
        .find_map(|(label, c)| c.hostname.as_ref().map(|h| (*label, h)))
    {
        Some((label, Err(r))) => {
            p.part = Some(label.to_string());
            p.rejected(r);
            p.part = None;
            None
        }
        Some((_, Ok(h))) => Some(h.clone()),
        None => metadata.hostname.clone().filter(|h| !h.is_empty()),
    };
    let mut hostname = state.hostname().unwrap_or_else(|| "localhost".into());
    if let Some(wanted) = wanted {
        match hostname_label(&wanted) {
            Ok(name) => {
                let change = state.hostname().as_deref() != Some(name.as_str());
                hostname = name.clone();
                p.push(Action::SetHostname { name }, change);
            }
            Err(e) => p.invalid("hostname", e),
        }
    }

    // An invalid key list leaves core's key set as it is: writing the set without those keys
    // would remove the ones the operator meant to keep.
    let mut keys_rejected = false;
    for (label, c) in &configs {
        if let Err(r) = &c.ssh_authorized_keys {
            p.part = Some(label.to_string());
            p.rejected(r);
            p.part = None;
            keys_rejected = true;
        }
    }
    let core_keys = dedupe(
        configs
            .iter()
            .flat_map(|(_, c)| {
                c.ssh_authorized_keys.iter().flatten().chain(
                    c.users
                        .iter()
                        .flatten()
                        .filter(|u| u.name == "core")
                        .flat_map(|u| u.ssh_authorized_keys.iter()),
                )
            })
            .chain(metadata.ssh_public_keys.values()),
    );
    let creates_core = configs
        .iter()
        .any(|(_, c)| c.users.iter().flatten().any(|u| u.name == "core"));
    if !core_keys.is_empty() && !keys_rejected {
        if state.user("core").is_none() && creates_core {
            p.core_keys = Some(core_keys);
        } else {
            p.ssh_keys("core", core_keys);
        }
    }

    for part in parts {
        p.part = Some(part.label().to_string());
        match part {
            Part::Config { config, .. } => {
                for r in &config.rejected {
                    p.rejected(r);
                }
                p.users(&config.users);
                p.files(config, &hostname, addrs);
                p.units(config);
            }
            Part::Script { content, .. } => p.script(content),
            Part::Ignored { .. } => {}
        }
    }
    if let Some(keys) = p.core_keys.take() {
        // The part meant to create `core` could not (its entry failed): say so for the keys.
        p.part = None;
        p.ssh_keys("core", keys);
    }
    Plan { steps: p.steps }
}

#[cfg(test)]
mod tests;
