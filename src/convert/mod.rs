//! `kindling convert`: the Ignition (or Butane) config that writes what `kindling apply` would.
//! It is built from the plan (planned against a neutral machine), never from the YAML again;
//! whatever Ignition cannot say exactly is a finding at the line of the key that asked for it.

pub mod butane;
pub mod ignition;
mod locate;

use std::collections::HashMap;
use std::path::{Component, Path};

use serde::Serialize;

use crate::config::{self, yaml::Pos, CloudConfig};
use crate::datasource::{substitute, Addresses, Metadata};
use crate::plan::{self, is_network_unit, Account, Action, FileRole, FileStat, Part, State};
use crate::report::Report;
use crate::userdata::{self, Kind, PartKind};

use locate::Locator;

/// The Ignition spec version written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spec {
    V3_3,
    V3_4,
}

impl Spec {
    pub fn as_str(self) -> &'static str {
        match self {
            Spec::V3_3 => "3.3.0",
            Spec::V3_4 => "3.4.0",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub spec: Option<Spec>,
    /// The platform whose `/run/metadata/flatcar` names stand in for `$public_ipv4` and friends.
    pub platform: Option<Platform>,
}

impl Options {
    fn spec(&self) -> Spec {
        self.spec.unwrap_or(Spec::V3_3)
    }
}

/// A platform's metadata attribute names (afterburn's, with coreos-metadata's `COREOS_` prefix
/// and legacy platform names as Flatcar writes them to `/run/metadata/flatcar`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Platform {
    pub name: &'static str,
    /// public_ipv4, private_ipv4, public_ipv6, private_ipv6
    vars: [Option<&'static str>; 4],
}

pub const PLATFORMS: &[Platform] = &[
    Platform {
        name: "ec2",
        vars: [
            Some("COREOS_EC2_IPV4_PUBLIC"),
            Some("COREOS_EC2_IPV4_LOCAL"),
            Some("COREOS_EC2_IPV6"),
            None,
        ],
    },
    Platform {
        name: "gce",
        vars: [
            Some("COREOS_GCE_IP_EXTERNAL_0"),
            Some("COREOS_GCE_IP_LOCAL_0"),
            None,
            None,
        ],
    },
    Platform {
        name: "digitalocean",
        vars: [
            Some("COREOS_DIGITALOCEAN_IPV4_PUBLIC_0"),
            Some("COREOS_DIGITALOCEAN_IPV4_PRIVATE_0"),
            Some("COREOS_DIGITALOCEAN_IPV6_PUBLIC_0"),
            Some("COREOS_DIGITALOCEAN_IPV6_PRIVATE_0"),
        ],
    },
    Platform {
        name: "azure",
        vars: [
            Some("COREOS_AZURE_IPV4_VIRTUAL"),
            Some("COREOS_AZURE_IPV4_DYNAMIC"),
            None,
            None,
        ],
    },
    Platform {
        name: "openstack",
        vars: [
            Some("COREOS_OPENSTACK_IPV4_PUBLIC"),
            Some("COREOS_OPENSTACK_IPV4_LOCAL"),
            None,
            None,
        ],
    },
    Platform {
        name: "cloudstack",
        vars: [
            Some("COREOS_CLOUDSTACK_IPV4_PUBLIC"),
            Some("COREOS_CLOUDSTACK_IPV4_LOCAL"),
            None,
            None,
        ],
    },
    Platform {
        name: "packet",
        vars: [
            Some("COREOS_PACKET_IPV4_PUBLIC_0"),
            Some("COREOS_PACKET_IPV4_PRIVATE_0"),
            Some("COREOS_PACKET_IPV6_PUBLIC_0"),
            None,
        ],
    },
    Platform {
        name: "hetzner",
        vars: [
            Some("COREOS_HETZNER_PUBLIC_IPV4"),
            Some("COREOS_HETZNER_PRIVATE_IPV4_0"),
            Some("COREOS_HETZNER_PUBLIC_IPV6"),
            None,
        ],
    },
    Platform {
        name: "custom",
        vars: [
            Some("COREOS_CUSTOM_PUBLIC_IPV4"),
            Some("COREOS_CUSTOM_PRIVATE_IPV4"),
            Some("COREOS_CUSTOM_PUBLIC_IPV6"),
            Some("COREOS_CUSTOM_PRIVATE_IPV6"),
        ],
    },
];

impl Platform {
    /// A platform by name; `aws` and `gcp` are afterburn's names for `ec2` and `gce`.
    pub fn by_name(name: &str) -> Option<Platform> {
        let name = match name {
            "aws" => "ec2",
            "gcp" => "gce",
            n => n,
        };
        PLATFORMS.iter().find(|p| p.name == name).copied()
    }

    fn var(&self, token: Token) -> Option<&'static str> {
        self.vars[token as usize]
    }
}

/// The substitution variables of the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    PublicIpv4 = 0,
    PrivateIpv4 = 1,
    PublicIpv6 = 2,
    PrivateIpv6 = 3,
}

const TOKENS: [(Token, &str); 4] = [
    (Token::PublicIpv4, "public_ipv4"),
    (Token::PrivateIpv4, "private_ipv4"),
    (Token::PublicIpv6, "public_ipv6"),
    (Token::PrivateIpv6, "private_ipv6"),
];

/// Substitution marks each variable with private-use characters instead of an address, so
/// that where a variable ended up can be found in the plan's output (and told apart from an
/// escaped `\$private_ipv4`, which is literal text).
const MARK_OPEN: char = '\u{F0000}';
const MARK_CLOSE: char = '\u{F0001}';

fn marker_addresses() -> Addresses {
    let m = |name: &str| Some(format!("{MARK_OPEN}{name}{MARK_CLOSE}"));
    Addresses {
        public_ipv4: m("public_ipv4"),
        private_ipv4: m("private_ipv4"),
        public_ipv6: m("public_ipv6"),
        private_ipv6: m("private_ipv6"),
    }
}

/// Replaces each marked variable with `with(token)`; returns the text and the tokens found.
fn unmark(text: &str, with: impl Fn(Token, &str) -> String) -> (String, Vec<Token>) {
    if !text.contains(MARK_OPEN) {
        return (text.to_string(), Vec::new());
    }
    let mut out = String::with_capacity(text.len());
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(MARK_OPEN) {
        out.push_str(&rest[..at]);
        let after = &rest[at + MARK_OPEN.len_utf8()..];
        let Some(end) = after.find(MARK_CLOSE) else {
            out.push_str(after);
            rest = "";
            break;
        };
        let name = &after[..end];
        match TOKENS.iter().find(|(_, n)| *n == name) {
            Some((token, n)) => {
                out.push_str(&with(*token, n));
                if !found.contains(token) {
                    found.push(*token);
                }
            }
            None => out.push_str(name),
        }
        rest = &after[end + MARK_CLOSE.len_utf8()..];
    }
    out.push_str(rest);
    (out, found)
}

fn literal(_: Token, name: &str) -> String {
    format!("${name}")
}

fn token_list(tokens: &[Token]) -> String {
    tokens
        .iter()
        .map(|t| format!("${}", TOKENS[*t as usize].1))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------------------------
// What is converted: a small model of the Ignition config, written out by ignition.rs and
// butane.rs.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    Id(u32),
    Name(String),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PasswdUser {
    pub name: String,
    pub password_hash: Option<String>,
    pub ssh_authorized_keys: Vec<String>,
    pub gecos: Option<String>,
    pub home_dir: Option<String>,
    pub no_create_home: bool,
    pub primary_group: Option<String>,
    pub groups: Vec<String>,
    pub no_user_group: bool,
    pub system: bool,
    pub no_log_init: bool,
    pub shell: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub path: String,
    pub contents: Vec<u8>,
    pub mode: u32,
    pub user: Option<Owner>,
    pub group: Option<Owner>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub path: String,
    pub target: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unit {
    pub name: String,
    pub contents: Option<String>,
    pub enabled: bool,
    pub mask: bool,
    pub dropins: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct IgnitionConfig {
    pub users: Vec<PasswdUser>,
    pub files: Vec<File>,
    pub links: Vec<Link>,
    pub units: Vec<Unit>,
}

/// Something the Ignition config does differently from `kindling apply`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    #[serde(skip)]
    pub pos: Pos,
    pub message: String,
}

#[derive(Debug)]
pub struct Converted {
    /// The input as the validator read it (decompressed), for excerpts in messages.
    pub source: String,
    pub config: IgnitionConfig,
    pub spec: Spec,
    pub findings: Vec<Finding>,
}

/// Why nothing was converted.
#[derive(Debug)]
pub enum Refused {
    /// The document has validation errors: the validator's report.
    Invalid(Report),
}

// ---------------------------------------------------------------------------------------------
// Reading the input: the parts as `apply` reads them, with each cloud-config's positions.

struct Source {
    part: Part,
    locator: Option<Locator>,
    /// Where the part starts in the whole input (for scripts and Ignition parts).
    first_line: usize,
}

fn config_part(
    label: String,
    body: &[u8],
    first_line: usize,
    verbatim: bool,
    multi: bool,
) -> Option<Source> {
    let text = std::str::from_utf8(body).ok()?;
    let parsed = config::parse(&substitute(text, &marker_addresses()));
    if !parsed.syntax_ok {
        // Substitution eats the backslash of `\$private_ipv4`, which can break a quoted
        // scalar; apply then skips the part, and so does convert (with a finding).
        return Some(ignored(label, BROKEN, first_line));
    }
    Some(Source {
        locator: Some(Locator::new(
            text,
            first_line,
            verbatim,
            multi.then(|| label.clone()),
        )),
        part: Part::Config {
            label,
            config: Box::new(parsed.config),
        },
        first_line,
    })
}

fn script_part(label: String, body: &[u8], first_line: usize) -> Source {
    let content = match std::str::from_utf8(body) {
        Ok(text) => substitute(text, &marker_addresses()).into_bytes(),
        Err(_) => body.to_vec(),
    };
    Source {
        part: Part::Script { label, content },
        locator: None,
        first_line,
    }
}

/// The kind of an ignored part that no longer parses once substituted.
const BROKEN: &str = "substituted-broken";

fn ignored(label: String, kind: &str, first_line: usize) -> Source {
    Source {
        part: Part::Ignored {
            label,
            kind: kind.into(),
            reason: String::new(),
        },
        locator: None,
        first_line,
    }
}

/// The parts of a payload that validated without errors (so each part reads cleanly).
fn read_parts(data: &[u8]) -> Vec<Source> {
    let data = match userdata::gunzip_payload(data) {
        Ok(Some(d)) => d,
        _ => data.to_vec(),
    };
    let label = || "user-data".to_string();
    match userdata::detect(&data) {
        Kind::Empty => Vec::new(),
        Kind::Script => vec![script_part(label(), &data, 1)],
        Kind::CloudConfig => config_part(label(), &data, 1, true, false)
            .into_iter()
            .collect(),
        Kind::Ignition => vec![ignored(label(), "ignition", 1)],
        Kind::Unknown => vec![ignored(label(), "unknown", 1)],
        Kind::Multipart => userdata::split_multipart(&data)
            .parts
            .into_iter()
            .filter_map(|p| {
                let label = format!("part {}", p.label());
                match p.kind {
                    PartKind::CloudConfig => {
                        config_part(label, &p.body, p.first_line, p.verbatim, true)
                    }
                    PartKind::Script => Some(script_part(label, &p.body, p.first_line)),
                    PartKind::Ignition => Some(ignored(label, "ignition", p.first_line)),
                    PartKind::Unknown => Some(ignored(label, "unknown", p.first_line)),
                }
            })
            .collect(),
    }
}

/// The machine convert plans against: a Flatcar image before first boot. Nothing is written
/// yet; `root` and `core` exist (so `users: [{name: core}]` is an update, as it is on Flatcar).
struct Neutral;

impl State for Neutral {
    fn read(&self, _: &Path) -> Option<Vec<u8>> {
        None
    }
    fn stat(&self, _: &Path) -> Option<FileStat> {
        None
    }
    fn user(&self, name: &str) -> Option<Account> {
        match name {
            "root" => Some(Account {
                name: "root".into(),
                uid: 0,
                gid: 0,
                home: "/root".into(),
            }),
            "core" => Some(Account {
                name: "core".into(),
                uid: 500,
                gid: 500,
                home: "/home/core".into(),
            }),
            _ => None,
        }
    }
    fn user_groups(&self, _: &str) -> Vec<String> {
        Vec::new()
    }
    fn password_hash(&self, _: &str) -> Option<String> {
        None
    }
    fn owner(&self, _: &str) -> Result<(Option<u32>, Option<u32>), String> {
        // Ignition resolves owners on the machine; the neutral machine does not judge them.
        Ok((None, None))
    }
    fn group_exists(&self, _: &str) -> bool {
        true
    }
    fn hostname(&self) -> Option<String> {
        None
    }
    fn unit_enabled(&self, _: &str) -> Option<bool> {
        None
    }
    fn unit_active(&self, _: &str) -> Option<bool> {
        None
    }
    fn done_this_boot(&self, _: &str) -> bool {
        false
    }
}

// ---------------------------------------------------------------------------------------------
// From the plan's steps to the Ignition model.

/// `/a/./b/../c` as `/a/c`: Ignition wants a clean absolute path; `..` stops at the root, as it
/// does when kindling resolves a path inside the target.
fn clean(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    format!("/{}", parts.join("/"))
}

fn owner_half(s: &str) -> Option<Owner> {
    if s.is_empty() {
        None
    } else if let Ok(id) = s.parse::<u32>() {
        Some(Owner::Id(id))
    } else {
        Some(Owner::Name(s.to_string()))
    }
}

fn has_install_section(contents: &str) -> bool {
    contents.lines().any(|l| l.trim() == "[Install]")
}

const EXEC_KEYS: [&str; 7] = [
    "ExecStart",
    "ExecStartPre",
    "ExecStartPost",
    "ExecReload",
    "ExecStop",
    "ExecStopPost",
    "ExecCondition",
];

/// The drop-in that gives a unit the platform's metadata as environment variables.
pub const METADATA_DROPIN: &str = "00-kindling-metadata.conf";
const METADATA_DROPIN_TEXT: &str = "[Unit]\nRequires=coreos-metadata.service\nAfter=coreos-metadata.service\n\n[Service]\nEnvironmentFile=/run/metadata/flatcar\n";

struct Converter<'a> {
    sources: &'a [Source],
    options: &'a Options,
    config: IgnitionConfig,
    findings: Vec<Finding>,
    /// Unit name -> index in config.units.
    units: HashMap<String, usize>,
    /// Path -> index in config.files.
    files: HashMap<String, usize>,
}

impl Converter<'_> {
    fn source(&self, label: Option<&str>) -> Option<&Source> {
        let label = label?;
        self.sources.iter().find(|s| s.part.label() == label)
    }

    fn cloud_config(&self, label: Option<&str>) -> Option<&CloudConfig> {
        match &self.source(label)?.part {
            Part::Config { config, .. } => Some(config),
            _ => None,
        }
    }

    /// Reports at a position found by `find` in the step's part (or, for the global steps, in
    /// the first part where it finds one).
    fn report(
        &mut self,
        code: &'static str,
        label: Option<&str>,
        find: impl Fn(&Locator) -> Option<Pos>,
        message: String,
    ) {
        let candidates: Vec<&Source> = match self.source(label) {
            Some(s) => vec![s],
            None => self.sources.iter().collect(),
        };
        let mut place = None;
        for s in &candidates {
            if let Some(loc) = &s.locator {
                if let Some(pos) = find(loc) {
                    place = Some(loc.place(Some(pos)));
                    break;
                }
            }
        }
        let place = place.or_else(|| {
            candidates.first().map(|s| match &s.locator {
                Some(loc) => loc.place(None),
                None => locate::Place {
                    pos: Pos::new(s.first_line, 1),
                    note: None,
                },
            })
        });
        let (pos, message) = match place {
            Some(p) => (
                p.pos,
                match p.note {
                    Some(note) => format!("{note}: {message}"),
                    None => message,
                },
            ),
            None => (Pos::new(1, 1), message),
        };
        let finding = Finding { code, pos, message };
        if !self.findings.contains(&finding) {
            self.findings.push(finding);
        }
    }

    fn unit(&mut self, name: &str) -> &mut Unit {
        let i = match self.units.get(name) {
            Some(&i) => i,
            None => {
                self.config.units.push(Unit {
                    name: name.to_string(),
                    ..Default::default()
                });
                self.units
                    .insert(name.to_string(), self.config.units.len() - 1);
                self.config.units.len() - 1
            }
        };
        &mut self.config.units[i]
    }

    fn user(&mut self, name: &str) -> &mut PasswdUser {
        let i = match self.config.users.iter().position(|u| u.name == name) {
            Some(i) => i,
            None => {
                self.config.users.push(PasswdUser {
                    name: name.to_string(),
                    ..Default::default()
                });
                self.config.users.len() - 1
            }
        };
        &mut self.config.users[i]
    }

    /// A file; a later write of the same path replaces the earlier (Ignition refuses duplicates,
    /// and apply's last write is what stays).
    fn file(&mut self, file: File) {
        match self.files.get(&file.path) {
            Some(&i) => self.config.files[i] = file,
            None => {
                self.files
                    .insert(file.path.clone(), self.config.files.len());
                self.config.files.push(file);
            }
        }
    }

    /// The `write_files` entry for `path`, at its `sub` key (or its `path`).
    fn write_files_pos<'p>(path: &'p Path, sub: &'p str) -> impl Fn(&Locator) -> Option<Pos> + 'p {
        move |l: &Locator| {
            l.item(
                &["write_files"],
                "path",
                |p| clean(&Path::new("/").join(p)) == clean(path),
                Some(sub),
            )
        }
    }

    fn unit_pos<'n>(name: &'n str, sub: Option<&'n str>) -> impl Fn(&Locator) -> Option<Pos> + 'n {
        move |l: &Locator| l.item(&["coreos", "units"], "name", |n| n == name, sub)
    }

    fn step(&mut self, part: Option<&str>, action: &Action) {
        match action {
            Action::SetHostname { name } => {
                self.file(File {
                    path: "/etc/hostname".into(),
                    contents: format!("{name}\n").into_bytes(),
                    mode: 0o644,
                    user: None,
                    group: None,
                });
            }
            Action::CreateUser { user } => {
                let u = self.user(&user.name);
                let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
                u.password_hash = nonempty(&user.passwd);
                u.gecos = nonempty(&user.gecos);
                u.home_dir = nonempty(&user.homedir);
                u.no_create_home = user.no_create_home;
                u.primary_group = nonempty(&user.primary_group);
                u.groups = user.groups.clone();
                u.no_user_group = user.no_user_group;
                u.system = user.system;
                u.no_log_init = user.no_log_init;
                u.shell = nonempty(&user.shell);
            }
            Action::UpdateUser {
                name,
                passwd,
                add_groups,
                ..
            } => {
                let u = self.user(name);
                if let Some(p) = passwd {
                    u.password_hash = Some(p.clone());
                }
                u.groups.extend(add_groups.iter().cloned());
                if !add_groups.is_empty() {
                    let user = name.clone();
                    self.report(
                        "convert-groups",
                        part,
                        |l| l.item(&["users"], "name", |n| n == user, Some("groups")),
                        format!(
                            "user {name:?} exists on Flatcar: kindling adds it to {} (usermod --append), but Ignition's usermod --groups replaces its supplementary groups with this list; list every group it should keep",
                            add_groups.join(", ")
                        ),
                    );
                }
            }
            Action::SshKeys { user, keys, .. } => {
                let u = self.user(user);
                for k in keys {
                    if !u.ssh_authorized_keys.contains(k) {
                        u.ssh_authorized_keys.push(k.clone());
                    }
                }
            }
            Action::ImportSshKeys { user, url, .. } => {
                let name = user.clone();
                self.report(
                    "convert-ssh-import",
                    part,
                    |l| {
                        let key = if url.starts_with("https://api.github.com/") {
                            "coreos_ssh_import_github"
                        } else {
                            "coreos_ssh_import_url"
                        };
                        l.item(&["users"], "name", |n| n == name, Some(key))
                    },
                    format!(
                        "the keys of user {user:?} are imported from {url} at boot; Ignition fetches no keys: list them in ssh_authorized_keys"
                    ),
                );
            }
            Action::WriteFile {
                path,
                content,
                mode,
                owner,
                role,
            } => self.write_file(part, path, content, *mode, owner.as_deref(), *role),
            Action::Mask { unit, path } => {
                if is_network_unit(unit) {
                    let target = clean(&Path::new("/etc/systemd/network").join(unit));
                    self.config.links.push(Link {
                        path: target,
                        target: "/dev/null".into(),
                    });
                } else {
                    self.unit(unit).mask = true;
                }
                if path.starts_with("/run") {
                    self.runtime_unit(part, unit);
                }
            }
            Action::Unmask { .. } | Action::DaemonReload | Action::RestartNetworkd => {}
            Action::Enable { unit, runtime } => {
                self.unit(unit).enabled = true;
                if *runtime {
                    self.runtime_unit(part, unit);
                }
            }
            Action::Command { unit, command, .. } => self.command(part, unit, command.as_str()),
            Action::Script {
                path,
                content,
                service,
                ..
            } => self.script(part, path, content, service),
            Action::Invalid { what, message } => {
                self.report(
                    "convert-invalid",
                    part,
                    |_| None,
                    format!("{what}: {message}; left out, as apply leaves it out"),
                );
            }
        }
    }

    fn write_file(
        &mut self,
        part: Option<&str>,
        path: &Path,
        content: &[u8],
        mode: u32,
        owner: Option<&str>,
        role: FileRole,
    ) {
        let at = clean(path);
        if matches!(role, FileRole::Unit | FileRole::DropIn) {
            let runtime = at.starts_with("/run/");
            let p = Path::new(&at);
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = String::from_utf8_lossy(content).into_owned();
            let (unit, dropin) = match role {
                FileRole::DropIn => {
                    let dir = p
                        .parent()
                        .and_then(|d| d.file_name())
                        .map(|d| d.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    (
                        dir.strip_suffix(".d").unwrap_or(&dir).to_string(),
                        Some(name),
                    )
                }
                _ => (name, None),
            };
            if runtime && !self.is_carrier_dropin(&unit, dropin.as_deref()) {
                self.runtime_unit(part, &unit);
            }
            if is_network_unit(&unit) {
                // Ignition's units are systemd's system units; networkd reads its own directory.
                let dir = Path::new("/etc/systemd/network");
                let path = match &dropin {
                    Some(d) => dir.join(format!("{unit}.d")).join(d),
                    None => dir.join(&unit),
                };
                self.file(File {
                    path: clean(&path),
                    contents: content.to_vec(),
                    mode: 0o644,
                    user: None,
                    group: None,
                });
                return;
            }
            let u = self.unit(&unit);
            match dropin {
                Some(d) => match u.dropins.iter_mut().find(|(n, _)| *n == d) {
                    Some(slot) => slot.1 = text,
                    None => u.dropins.push((d, text)),
                },
                None => u.contents = Some(text),
            }
            return;
        }
        if at == "/run/flannel/options.env" && role == FileRole::Generated {
            self.flannel(part);
            return;
        }
        if at == "/run" || at.starts_with("/run/") {
            let p = path.to_path_buf();
            self.report(
                "convert-run-path",
                part,
                Self::write_files_pos(&p, "path"),
                format!(
                    "{at} is under /run, which is empty at every boot after Ignition ran; not converted (write it from a unit, or use systemd-tmpfiles)"
                ),
            );
            return;
        }
        if at == "/etc/coreos/update.conf" && role == FileRole::Generated {
            self.report(
                "convert-update-conf",
                part,
                |l| l.key(&["coreos", "update"]),
                "/etc/coreos/update.conf holds only the keys this config sets (update_engine reads the image's /usr/share/coreos/update.conf first); kindling would merge them into an existing /etc/coreos/update.conf, whose other keys Ignition replaces".into(),
            );
        }
        let (user, group) = match owner {
            None => (None, None),
            Some(spec) => {
                let (u, g) = match spec.split_once(':').or_else(|| spec.split_once('.')) {
                    Some((u, g)) => (u, Some(g)),
                    None => (spec, None),
                };
                let user = owner_half(u);
                let group = match g {
                    // chown(1): `user:` is the user's login group, which only the machine knows.
                    Some("") if user.is_some() => {
                        let p = path.to_path_buf();
                        self.report(
                            "convert-owner",
                            part,
                            Self::write_files_pos(&p, "owner"),
                            format!("owner {spec:?} sets the group to the user's login group, which Ignition cannot name; the group is left root's (write \"{u}:GROUP\")"),
                        );
                        None
                    }
                    Some(g) => owner_half(g),
                    None => None,
                };
                (user, group)
            }
        };
        let mut mode = mode;
        if mode & 0o7000 != 0 && self.options.spec() == Spec::V3_3 {
            let p = path.to_path_buf();
            self.report(
                "convert-mode",
                part,
                |l| {
                    l.item(
                        &["write_files"],
                        "path",
                        |x| clean(&Path::new("/").join(x)) == clean(&p),
                        Some("permissions"),
                    )
                },
                format!(
                    "{at} has mode {mode:04o}: Ignition spec 3.3.0 has no setuid, setgid or sticky bits, so it gets {:04o} (use --ignition-version 3.4.0)",
                    mode & 0o777
                ),
            );
            mode &= 0o777;
        }
        self.file(File {
            path: at,
            contents: content.to_vec(),
            mode,
            user,
            group,
        });
    }

    /// The `20-cloudinit.conf` drop-ins of etcd, etcd2, fleet and locksmithd live in /run
    /// because cloudinit rewrites them at every boot; in /etc they say the same, for good.
    fn is_carrier_dropin(&self, unit: &str, dropin: Option<&str>) -> bool {
        dropin == Some("20-cloudinit.conf")
            && matches!(
                unit,
                "etcd.service" | "etcd2.service" | "fleet.service" | "locksmithd.service"
            )
    }

    fn runtime_unit(&mut self, part: Option<&str>, unit: &str) {
        let user_unit = self.cloud_config(part).is_some_and(|c| {
            c.coreos
                .units
                .iter()
                .flatten()
                .any(|u| u.name == unit && u.runtime)
        });
        if !user_unit {
            return;
        }
        let name = unit.to_string();
        self.report(
            "convert-runtime",
            part,
            Self::unit_pos(&name, Some("runtime")),
            format!("unit {unit:?} is a runtime unit (/run/systemd), gone at reboot; Ignition writes it to /etc/systemd, where it stays"),
        );
    }

    fn flannel(&mut self, part: Option<&str>) {
        let Some(section) = self.cloud_config(part).map(|c| c.coreos.flannel.clone()) else {
            return;
        };
        if let Some(text) = section
            .as_ref()
            .ok()
            .and_then(crate::plan::render::env_dropin)
        {
            let u = self.unit("flanneld.service");
            u.dropins.retain(|(n, _)| n != "20-cloudinit.conf");
            u.dropins.push(("20-cloudinit.conf".into(), text));
        }
        self.report(
            "convert-flannel",
            part,
            |l| l.key(&["coreos", "flannel"]),
            "the flannel options go to flanneld.service as Environment= lines of the drop-in 20-cloudinit.conf, since Ignition cannot write /run/flannel/options.env (/run is empty at boot)".into(),
        );
    }

    fn command(&mut self, part: Option<&str>, unit: &str, command: &str) {
        let asked = self.cloud_config(part).is_some_and(|c| {
            c.coreos
                .units
                .iter()
                .flatten()
                .any(|u| u.name == unit && u.command.is_some())
        });
        if !asked {
            // kindling's own restarts (locksmithd, update-engine) pick up the files it wrote;
            // after Ignition, those services start with them in place.
            return;
        }
        let name = unit.to_string();
        let install = self
            .units
            .get(unit)
            .and_then(|&i| self.config.units[i].contents.as_deref())
            .map(has_install_section);
        let message = match (command, install) {
            ("start", Some(true)) => {
                self.unit(unit).enabled = true;
                format!("\"command: start\" of unit {unit:?} becomes enabled: true: it is started at every boot, not once")
            }
            ("start", Some(false)) => format!("\"command: start\" of unit {unit:?} has no Ignition equivalent and the unit has no [Install] section to enable it by; it is not started"),
            ("start", None) => format!("\"command: start\" of unit {unit:?} has no Ignition equivalent (its unit file is not in the config, so it cannot be enabled by it); it is not started"),
            _ => format!("\"command: {command}\" of unit {unit:?} has no Ignition equivalent; it is not run"),
        };
        self.report(
            "convert-command",
            part,
            Self::unit_pos(&name, Some("command")),
            message,
        );
    }

    fn script(&mut self, part: Option<&str>, path: &Path, content: &[u8], service: &str) {
        let at = clean(path);
        self.file(File {
            path: at.clone(),
            contents: content.to_vec(),
            mode: 0o744,
            user: None,
            group: None,
        });
        let label = part.unwrap_or("user-data");
        let unit = self.unit(service);
        unit.contents = Some(format!(
            "[Unit]\nDescription=cloud-config script ({label})\nAfter=network.target\n\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart={at}\n\n[Install]\nWantedBy=multi-user.target\n"
        ));
        unit.enabled = true;
        self.report(
            "convert-script",
            part,
            |_| None,
            format!("the script ({label}) becomes {at} and the enabled oneshot unit {service}, which runs it once per boot in multi-user.target rather than at cloudinit's point of the boot"),
        );
    }

    /// Finds the substitution variables in everything converted: with a platform, the
    /// `Exec*=` lines of units take the metadata agent's variables; elsewhere they are reported.
    fn substitutions(&mut self) {
        let mut reports: Vec<(Anchor, String, Vec<Token>)> = Vec::new();
        for f in &mut self.config.files {
            if let Ok(text) = std::str::from_utf8(&f.contents) {
                let (text, found) = unmark(text, literal);
                if !found.is_empty() {
                    f.contents = text.into_bytes();
                    reports.push((
                        Anchor::File(f.path.clone()),
                        format!("file {}", f.path),
                        found,
                    ));
                }
            }
        }
        let platform = self.options.platform;
        for u in &mut self.config.units {
            let mut needs_metadata = false;
            let anchor = Anchor::Unit(u.name.clone());
            let mut fix = |text: &str,
                           what: String,
                           reports: &mut Vec<(Anchor, String, Vec<Token>)>|
             -> String {
                if !text.contains(MARK_OPEN) {
                    return text.to_string();
                }
                let mut out = String::with_capacity(text.len());
                let mut left: Vec<Token> = Vec::new();
                for line in text.split_inclusive('\n') {
                    let key = line.split('=').next().unwrap_or("").trim();
                    let exec = EXEC_KEYS.contains(&key);
                    let (fixed, found) =
                        unmark(line, |t, n| match platform.and_then(|p| p.var(t)) {
                            Some(var) if exec => format!("${{{var}}}"),
                            _ => format!("${n}"),
                        });
                    for t in found {
                        if exec && platform.and_then(|p| p.var(t)).is_some() {
                            needs_metadata = true;
                        } else if !left.contains(&t) {
                            left.push(t);
                        }
                    }
                    out.push_str(&fixed);
                }
                if !left.is_empty() {
                    reports.push((anchor.clone(), what, left));
                }
                out
            };
            if let Some(c) = u.contents.take() {
                u.contents = Some(fix(&c, format!("unit {}", u.name), &mut reports));
            }
            for (name, text) in &mut u.dropins {
                *text = fix(
                    text,
                    format!("drop-in {name} of unit {}", u.name),
                    &mut reports,
                );
            }
            if needs_metadata && !u.dropins.iter().any(|(n, _)| n == METADATA_DROPIN) {
                u.dropins
                    .push((METADATA_DROPIN.into(), METADATA_DROPIN_TEXT.into()));
                let p = platform.map(|p| p.name).unwrap_or_default();
                reports.push((Anchor::Unit(u.name.clone()), format!("@unit {} takes its addresses from coreos-metadata ({p}): /run/metadata/flatcar through the drop-in {METADATA_DROPIN}, substituted when it starts", u.name), Vec::new()));
            }
        }
        for user in &mut self.config.users {
            let mut found_any: Vec<Token> = Vec::new();
            let mut fix = |s: &mut String| {
                let (t, found) = unmark(s, literal);
                *s = t;
                found_any.extend(found);
            };
            fix(&mut user.name);
            for v in [
                &mut user.password_hash,
                &mut user.gecos,
                &mut user.home_dir,
                &mut user.primary_group,
                &mut user.shell,
            ]
            .into_iter()
            .flatten()
            {
                fix(v);
            }
            for v in user
                .groups
                .iter_mut()
                .chain(user.ssh_authorized_keys.iter_mut())
            {
                fix(v);
            }
            if !found_any.is_empty() {
                found_any.dedup();
                reports.push((
                    Anchor::User(user.name.clone()),
                    format!("user {}", user.name),
                    found_any,
                ));
            }
        }
        for l in &mut self.config.links {
            l.path = unmark(&l.path, literal).0;
        }
        for (anchor, what, tokens) in reports {
            let at = move |l: &Locator| match &anchor {
                Anchor::File(path) => Self::write_files_pos(Path::new(path), "content")(l),
                Anchor::Unit(name) => Self::unit_pos(name, None)(l),
                Anchor::User(name) => l.item(&["users"], "name", |n| n == name, None),
            };
            if let Some(note) = what.strip_prefix('@') {
                self.report("convert-metadata", None, at, note.to_string());
                continue;
            }
            let list = token_list(&tokens);
            let first = format!("${}", TOKENS[tokens[0] as usize].1);
            let hint = match platform {
                Some(p) => format!(
                    "only the Exec*= lines of units can take {}'s metadata",
                    p.name
                ),
                None => "give --platform NAME to take units' addresses from coreos-metadata".into(),
            };
            self.report(
                "convert-substitution",
                None,
                |l| {
                    let from = at(l).unwrap_or(Pos::new(1, 1));
                    l.find_text_from(&first, from).or_else(|| l.find_text(&first))
                },
                format!("{what} uses {list}: Ignition substitutes nothing, so the text stays as written ({hint})"),
            );
        }
    }
}

/// What a substitution finding is about, to find its place in the input.
#[derive(Debug, Clone)]
enum Anchor {
    File(String),
    Unit(String),
    User(String),
}

/// Converts a user-data payload. Refused when it has validation errors.
pub fn convert(data: &[u8], options: &Options) -> Result<Converted, Refused> {
    let report = crate::validate::validate(data);
    if report.has_errors() {
        return Err(Refused::Invalid(report));
    }
    let sources = read_parts(data);
    let parts: Vec<Part> = sources.iter().map(|s| s.part.clone()).collect();
    let plan = plan::plan(
        &parts,
        &Metadata::default(),
        &Addresses::default(),
        &Neutral,
        &plan::Options::default(),
    );
    let mut c = Converter {
        sources: &sources,
        options,
        config: IgnitionConfig::default(),
        findings: Vec::new(),
        units: HashMap::new(),
        files: HashMap::new(),
    };
    for s in &sources {
        if let Part::Ignored { label, kind, .. } = &s.part {
            let message = if kind == BROKEN {
                format!("{label} no longer parses once $private_ipv4 and friends are substituted (a \\$ in a double-quoted string?); apply skips it, so it is not converted")
            } else {
                format!("{label} is {kind} user-data, which kindling ignores; it is not converted")
            };
            c.findings.push(Finding {
                code: "convert-ignored-part",
                pos: Pos::new(s.first_line, 1),
                message,
            });
        }
    }
    for step in &plan.steps {
        c.step(step.part.as_deref(), &step.action);
    }
    c.substitutions();
    let mut findings = c.findings;
    findings.sort_by(|a, b| a.pos.cmp(&b.pos).then(a.code.cmp(b.code)));
    Ok(Converted {
        source: report.source,
        config: c.config,
        spec: options.spec(),
        findings,
    })
}

#[cfg(test)]
mod tests;
