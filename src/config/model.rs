//! The typed cloud-config that apply works from, built from the checked values. An entry that
//! holds an invalid value is kept as [`Rejected`], never filled in with defaults: apply skips
//! that whole entry and reports it; the rest of the document stands.

use crate::config::check::{Entries, Value};
use crate::config::schema::{self, Section};
pub use crate::config::schema::{ManageEtcHosts, RebootStrategy};
use crate::config::values::{self, excerpt};
use crate::unit::UnitCommand;

/// An entry apply must skip whole, because the validator found errors inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// How a message names the entry: `write_files /etc/app.conf`, `user "ann"`, `coreos.etcd`.
    pub what: String,
    /// The validator's errors, `line N: …` each. They quote values only in short excerpts
    /// of names and modes, never a file's content or a password.
    pub reasons: Vec<String>,
}

impl Rejected {
    pub fn message(&self) -> String {
        format!("{}; skipped", self.reasons.join("; "))
    }
}

/// A whole effect of the config, or why it cannot be applied.
pub type Checked<T> = Result<T, Rejected>;

#[derive(Debug, Clone, PartialEq)]
pub struct CloudConfig {
    pub hostname: Option<Checked<String>>,
    pub ssh_authorized_keys: Checked<Vec<String>>,
    pub manage_etc_hosts: Option<Checked<ManageEtcHosts>>,
    pub users: Vec<Checked<User>>,
    pub write_files: Vec<Checked<WriteFile>>,
    pub coreos: Coreos,
    /// Errors outside any single entry (`write_files: a string`, a root that is not a mapping):
    /// nothing of them can be applied, and each is a failure.
    pub rejected: Vec<Rejected>,
    /// What the validator calls an error but apply accepts as the reference does (a relative
    /// `write_files` path, a unit name without a known suffix): logged as warnings.
    pub warnings: Vec<String>,
}

impl Default for CloudConfig {
    fn default() -> CloudConfig {
        CloudConfig {
            hostname: None,
            ssh_authorized_keys: Ok(Vec::new()),
            manage_etc_hosts: None,
            users: Vec::new(),
            write_files: Vec::new(),
            coreos: Coreos::default(),
            rejected: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct User {
    pub name: String,
    pub passwd: Option<String>,
    pub ssh_authorized_keys: Vec<String>,
    pub coreos_ssh_import_github: Option<String>,
    pub coreos_ssh_import_github_users: Vec<String>,
    pub coreos_ssh_import_url: Option<String>,
    pub gecos: Option<String>,
    pub homedir: Option<String>,
    pub no_create_home: bool,
    pub primary_group: Option<String>,
    pub groups: Vec<String>,
    pub no_user_group: bool,
    pub system: bool,
    pub no_log_init: bool,
    pub shell: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteFile {
    pub path: String,
    /// Already decoded by its `encoding`.
    pub content: Vec<u8>,
    pub owner: Option<String>,
    /// The mode to write, all bits kept: `permissions` read as octal, or 0644 when it is unset
    /// (the reference's default; an invalid value rejects the entry instead).
    pub mode: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Coreos {
    pub etcd: Checked<EnvSection>,
    pub etcd2: Checked<EnvSection>,
    pub fleet: Checked<EnvSection>,
    pub flannel: Checked<EnvSection>,
    pub locksmith: Checked<EnvSection>,
    pub update: Checked<Update>,
    pub oem: Option<Checked<Oem>>,
    pub units: Vec<Checked<Unit>>,
}

impl Default for Coreos {
    fn default() -> Coreos {
        Coreos {
            etcd: Ok(EnvSection::default()),
            etcd2: Ok(EnvSection::default()),
            fleet: Ok(EnvSection::default()),
            flannel: Ok(EnvSection::default()),
            locksmith: Ok(EnvSection::default()),
            update: Ok(Update::default()),
            oem: None,
            units: Vec::new(),
        }
    }
}

/// A section that becomes environment assignments: `(VARIABLE, value)` in schema order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnvSection(pub Vec<(String, EnvValue)>);

#[derive(Debug, Clone, PartialEq)]
pub enum EnvValue {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Update {
    pub reboot_strategy: Option<RebootStrategy>,
    pub group: Option<String>,
    pub server: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Oem {
    pub id: String,
    pub name: Option<String>,
    pub version_id: Option<String>,
    pub home_url: Option<String>,
    pub bug_report_url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unit {
    pub name: String,
    pub runtime: bool,
    pub enable: bool,
    pub content: Option<String>,
    pub command: Option<UnitCommand>,
    pub mask: bool,
    pub drop_ins: Vec<Checked<DropIn>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DropIn {
    pub name: String,
    pub content: String,
}

fn string(e: &Entries, key: &str) -> Option<String> {
    match e.get(key)? {
        Value::Str(s) => Some(s.clone()),
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

fn boolean(e: &Entries, key: &str) -> bool {
    matches!(e.get(key), Some(Value::Bool(true)))
}

fn strings(e: &Entries, key: &str) -> Vec<String> {
    match e.get(key) {
        Some(Value::List(items)) => items
            .iter()
            .filter_map(|v| match v {
                Value::Str(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn maps<'e>(e: &'e Entries, key: &str) -> impl Iterator<Item = &'e Entries> {
    let items: &[Value] = match e.get(key) {
        Some(Value::List(items)) => items,
        _ => &[],
    };
    items.iter().filter_map(|v| match v {
        Value::Map(m) => Some(m),
        _ => None,
    })
}

fn map<'e>(e: &'e Entries, key: &str) -> Option<&'e Entries> {
    match e.get(key)? {
        Value::Map(m) => Some(m),
        _ => None,
    }
}

/// Builds the typed config, collecting warnings and the rejects that belong to no entry.
struct Builder {
    rejected: Vec<Rejected>,
    warnings: Vec<String>,
}

impl Builder {
    /// `build` on a mapping that has no error, else the whole mapping as rejected. Only the
    /// mapping's own errors count: nested entries (a unit's drop-ins) are judged on their own.
    fn entry<T>(
        &mut self,
        e: &Entries,
        what: impl FnOnce() -> String,
        build: impl FnOnce(&mut Self) -> T,
    ) -> Checked<T> {
        self.typed_entry(e, what, |b| Ok(build(b)))
    }

    /// [`Builder::entry`] for an entry whose checked text the model reads into a type (a
    /// mode, an enum): the checker validated that text by the same rule, so a value that does
    /// not read would be a disagreement between the two, and rejects the entry rather than
    /// stand in for a default.
    fn typed_entry<T>(
        &mut self,
        e: &Entries,
        what: impl FnOnce() -> String,
        build: impl FnOnce(&mut Self) -> Result<T, String>,
    ) -> Checked<T> {
        if !e.invalid.is_empty() {
            return Err(Rejected {
                what: what(),
                reasons: e.invalid.iter().map(|(_, r)| r.clone()).collect(),
            });
        }
        let lenient = e.lenient.clone();
        match build(self) {
            Ok(t) => {
                // An entry skipped for an error is not applied in any form, so its notes are
                // moot.
                self.warnings.extend(lenient);
                Ok(t)
            }
            Err(why) => Err(Rejected {
                what: what(),
                reasons: vec![format!("line {}: {why}", e.pos.line)],
            }),
        }
    }

    /// The errors of `key` in a mapping that is not itself an entry (the root, `coreos`).
    fn key_errors(e: &Entries, key: Option<&str>, what: &str) -> Option<Rejected> {
        let reasons: Vec<String> = e
            .invalid
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, r)| r.clone())
            .collect();
        (!reasons.is_empty()).then(|| Rejected {
            what: what.to_string(),
            reasons,
        })
    }

    /// Errors of keys that are containers, not effects (`write_files: a string`).
    fn container_errors(&mut self, e: &Entries, keys: &[&str], prefix: &str) {
        self.warnings.extend(e.lenient.iter().cloned());
        if let Some(r) = Self::key_errors(e, None, prefix.trim_end_matches('.')) {
            self.rejected.push(r);
        }
        for key in keys {
            if let Some(r) = Self::key_errors(e, Some(key), &format!("{prefix}{key}")) {
                self.rejected.push(r);
            }
        }
    }

    /// An environment section, whole or rejected (a wrong type for the section itself too).
    fn env_section(
        &mut self,
        coreos: Option<&Entries>,
        key: &str,
        section: &Section,
    ) -> Checked<EnvSection> {
        let what = format!("coreos.{key}");
        if let Some(r) = coreos.and_then(|c| Self::key_errors(c, Some(key), &what)) {
            return Err(r);
        }
        let Some(e) = coreos.and_then(|c| map(c, key)) else {
            return Ok(EnvSection::default());
        };
        self.entry(e, || what, |_| env_values(e, section))
    }
}

/// Zero values are "unset" in the reference (an empty string, 0, false, 0.0 are not emitted).
fn env_values(e: &Entries, section: &Section) -> EnvSection {
    let mut out = Vec::new();
    for field in section.fields {
        // The value first: most of a section's keys are absent, and their names are never built.
        let value = match e.get(field.key) {
            Some(Value::Str(s)) if !s.is_empty() => EnvValue::Str(s.clone()),
            Some(Value::Int(i)) if *i != 0 => EnvValue::Int(*i),
            Some(Value::Float(f)) if *f != 0.0 => EnvValue::Float(*f),
            Some(Value::Bool(true)) => EnvValue::Bool(true),
            _ => continue,
        };
        let Some(name) = field.env_name(section) else {
            continue;
        };
        out.push((name, value));
    }
    EnvSection(out)
}

/// `KIND "name"` when the entry's name is known, else where it starts.
fn named(kind: &str, e: &Entries, key: &str) -> String {
    match string(e, key).filter(|n| !n.is_empty()) {
        Some(n) => format!("{kind} {}", excerpt(&n, 60)),
        None => format!("{kind} on line {}", e.pos.line),
    }
}

fn user(e: &Entries) -> User {
    User {
        name: string(e, "name").unwrap_or_default(),
        passwd: string(e, "passwd"),
        ssh_authorized_keys: strings(e, "ssh_authorized_keys"),
        coreos_ssh_import_github: string(e, "coreos_ssh_import_github"),
        coreos_ssh_import_github_users: strings(e, "coreos_ssh_import_github_users"),
        coreos_ssh_import_url: string(e, "coreos_ssh_import_url"),
        gecos: string(e, "gecos"),
        homedir: string(e, "homedir"),
        no_create_home: boolean(e, "no_create_home"),
        primary_group: string(e, "primary_group"),
        groups: strings(e, "groups"),
        no_user_group: boolean(e, "no_user_group"),
        system: boolean(e, "system"),
        no_log_init: boolean(e, "no_log_init"),
        shell: string(e, "shell"),
    }
}

/// A checked string field read into its type; None when unset or empty (the reference's unset).
fn typed<T>(
    e: &Entries,
    key: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, String> {
    match string(e, key).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(text) => parse(&text)
            .map(Some)
            .map_err(|why| format!("invalid value {} for {key}: {why}", excerpt(&text, 20))),
    }
}

/// The allowed-set rule's reading of an enum: its one spelling of each value.
fn one_of<T>(
    parse: impl Fn(&str) -> Option<T>,
    allowed: &'static [&'static str],
) -> impl FnOnce(&str) -> Result<T, String> {
    move |text| {
        values::one_of(text, allowed)?;
        parse(text).ok_or_else(|| format!("{text:?} has no meaning here"))
    }
}

fn write_file(e: &Entries) -> Result<WriteFile, String> {
    Ok(WriteFile {
        path: string(e, "path").unwrap_or_default(),
        content: match e.get("content") {
            Some(Value::Bytes(b)) => b.clone(),
            Some(Value::Str(s)) => s.as_bytes().to_vec(),
            _ => Vec::new(),
        },
        owner: string(e, "owner").filter(|s| !s.is_empty()),
        mode: typed(e, "permissions", values::parse_permissions)?.unwrap_or(0o644),
    })
}

impl CloudConfig {
    pub fn from_entries(root: &Entries) -> CloudConfig {
        let mut b = Builder {
            rejected: Vec::new(),
            warnings: Vec::new(),
        };
        b.container_errors(root, &["users", "write_files", "coreos"], "");
        let coreos = map(root, "coreos");
        if let Some(c) = coreos {
            b.container_errors(c, &["units"], "coreos.");
        }
        let get = |key: &str| coreos.and_then(|c| map(c, key));

        let update =
            match coreos.and_then(|c| Builder::key_errors(c, Some("update"), "coreos.update")) {
                Some(r) => Err(r),
                None => match get("update") {
                    None => Ok(Update::default()),
                    Some(u) => b.typed_entry(
                        u,
                        || "coreos.update".into(),
                        |_| {
                            Ok(Update {
                                reboot_strategy: typed(
                                    u,
                                    "reboot_strategy",
                                    one_of(RebootStrategy::parse, &RebootStrategy::NAMES),
                                )?,
                                group: string(u, "group").filter(|s| !s.is_empty()),
                                server: string(u, "server").filter(|s| !s.is_empty()),
                            })
                        },
                    ),
                },
            };
        let oem = match coreos.and_then(|c| Builder::key_errors(c, Some("oem"), "coreos.oem")) {
            Some(r) => Some(Err(r)),
            None => get("oem").and_then(|o| {
                // Without an id the reference ignores the section, as long as it is valid.
                if o.invalid.is_empty() && string(o, "id").is_none_or(|s| s.is_empty()) {
                    return None;
                }
                Some(b.entry(
                    o,
                    || "coreos.oem".into(),
                    |_| Oem {
                        id: string(o, "id").unwrap_or_default(),
                        name: string(o, "name"),
                        version_id: string(o, "version_id"),
                        home_url: string(o, "home_url"),
                        bug_report_url: string(o, "bug_report_url"),
                    },
                ))
            }),
        };
        let units = coreos
            .map(|c| {
                maps(c, "units")
                    .map(|u| {
                        b.typed_entry(
                            u,
                            || named("unit", u, "name"),
                            |b| {
                                let name = string(u, "name").unwrap_or_default();
                                let command = typed(
                                    u,
                                    "command",
                                    one_of(UnitCommand::parse, &UnitCommand::NAMES),
                                )?;
                                Ok(Unit {
                                    runtime: boolean(u, "runtime"),
                                    enable: boolean(u, "enable"),
                                    content: string(u, "content"),
                                    command,
                                    mask: boolean(u, "mask"),
                                    drop_ins: maps(u, "drop_ins")
                                        .map(|d| {
                                            b.entry(
                                                d,
                                                || {
                                                    format!(
                                                        "{} of unit {}",
                                                        named("drop-in", d, "name"),
                                                        excerpt(&name, 60)
                                                    )
                                                },
                                                |_| DropIn {
                                                    name: string(d, "name").unwrap_or_default(),
                                                    content: string(d, "content")
                                                        .unwrap_or_default(),
                                                },
                                            )
                                        })
                                        .collect(),
                                    name,
                                })
                            },
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let coreos = Coreos {
            etcd: b.env_section(coreos, "etcd", &schema::ETCD),
            etcd2: b.env_section(coreos, "etcd2", &schema::ETCD2),
            fleet: b.env_section(coreos, "fleet", &schema::FLEET),
            flannel: b.env_section(coreos, "flannel", &schema::FLANNEL),
            locksmith: b.env_section(coreos, "locksmith", &schema::LOCKSMITH),
            update,
            oem,
            units,
        };
        let scalar = |key: &str| match Builder::key_errors(root, Some(key), key) {
            Some(r) => Some(Err(r)),
            None => string(root, key).filter(|s| !s.is_empty()).map(Ok),
        };
        let hostname = scalar("hostname");
        let manage_etc_hosts = scalar("manage_etc_hosts").map(|checked| {
            checked.and_then(|text| {
                one_of(ManageEtcHosts::parse, &ManageEtcHosts::NAMES)(&text).map_err(|why| {
                    Rejected {
                        what: "manage_etc_hosts".into(),
                        reasons: vec![format!(
                            "line {}: invalid value {} for manage_etc_hosts: {why}",
                            root.pos.line,
                            excerpt(&text, 20)
                        )],
                    }
                })
            })
        });
        let ssh_authorized_keys =
            match Builder::key_errors(root, Some("ssh_authorized_keys"), "ssh_authorized_keys") {
                Some(r) => Err(r),
                None => Ok(strings(root, "ssh_authorized_keys")),
            };
        let users = maps(root, "users")
            .map(|u| b.entry(u, || named("user", u, "name"), |_| user(u)))
            .collect();
        let write_files = maps(root, "write_files")
            .map(|w| b.typed_entry(w, || named("write_files", w, "path"), |_| write_file(w)))
            .collect();
        // In document order, as the validator lists them.
        let line = |w: &String| -> usize {
            w.strip_prefix("line ")
                .and_then(|r| r.split(':').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        b.warnings.sort_by_key(line);
        CloudConfig {
            hostname,
            ssh_authorized_keys,
            manage_etc_hosts,
            users,
            write_files,
            coreos,
            rejected: b.rejected,
            warnings: b.warnings,
        }
    }

    /// Every entry skipped as invalid, in the order apply reports them.
    pub fn rejects(&self) -> impl Iterator<Item = &Rejected> {
        let c = &self.coreos;
        let sections = [&c.etcd, &c.etcd2, &c.fleet, &c.flannel, &c.locksmith];
        self.rejected
            .iter()
            .chain(self.hostname.iter().filter_map(|h| h.as_ref().err()))
            .chain(self.ssh_authorized_keys.as_ref().err())
            .chain(
                self.manage_etc_hosts
                    .iter()
                    .filter_map(|h| h.as_ref().err()),
            )
            .chain(self.users.iter().filter_map(|u| u.as_ref().err()))
            .chain(self.write_files.iter().filter_map(|w| w.as_ref().err()))
            .chain(sections.into_iter().filter_map(|s| s.as_ref().err()))
            .chain(c.update.as_ref().err())
            .chain(c.oem.iter().filter_map(|o| o.as_ref().err()))
            .chain(c.units.iter().flat_map(|u| match u {
                Err(r) => vec![r],
                Ok(u) => u.drop_ins.iter().filter_map(|d| d.as_ref().err()).collect(),
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    fn config(text: &str) -> CloudConfig {
        parse(text).config
    }

    /// The entries, all of which must be valid.
    fn ok<T: std::fmt::Debug>(items: &[Checked<T>]) -> Vec<&T> {
        items.iter().map(|i| i.as_ref().unwrap()).collect()
    }

    #[test]
    fn reads_every_section() {
        let c = config(include_str!("../../testdata/cloud-configs/demo.yml"));
        assert_eq!(c.hostname, Some(Ok("worker-07.eu-west.example.net".into())));
        assert_eq!(c.manage_etc_hosts, Some(Ok(ManageEtcHosts::Localhost)));
        assert_eq!(c.ssh_authorized_keys.as_ref().unwrap().len(), 1);
        let users = ok(&c.users);
        let files = ok(&c.write_files);
        let units = ok(&c.coreos.units);
        assert_eq!(c.users.len(), 2);
        assert_eq!(users[0].groups, vec!["docker", "systemd-journal"]);
        assert_eq!(users[0].gecos.as_deref(), Some("Deploy Bot"));
        assert!(users[1].system && users[1].no_create_home);
        assert_eq!(c.write_files.len(), 3);
        assert!(String::from_utf8_lossy(&files[0].content).contains("journald"));
        assert!(String::from_utf8_lossy(&files[1].content).starts_with("KUBELET"));
        assert_eq!(files[1].owner.as_deref(), Some("deploy"));
        assert_eq!(files[2].mode, 0o755);
        let oem = c.coreos.oem.as_ref().unwrap().as_ref().unwrap();
        assert_eq!(
            (oem.id.as_str(), oem.name.as_deref()),
            ("kindling-demo", Some("Kindling Demo Cloud"))
        );
        assert_eq!(
            c.coreos.update.as_ref().unwrap().reboot_strategy,
            Some(RebootStrategy::EtcdLock)
        );
        assert_eq!(
            c.coreos.update.as_ref().unwrap().group.as_deref(),
            Some("stable")
        );
        assert_eq!(ok(&c.coreos.units).len(), 4);
        assert_eq!(
            units[0].drop_ins[0].as_ref().unwrap().name,
            "40-flannel.conf"
        );
        assert!(units[1].enable);
        assert_eq!(units[1].command, Some(UnitCommand::Start));
        assert!(units[2].runtime);
        assert!(units[3].mask);
        assert_eq!(
            c.coreos.flannel.as_ref().unwrap().0,
            vec![
                (
                    "FLANNELD_ETCD_ENDPOINTS".to_string(),
                    EnvValue::Str("https://10.20.0.10:2379".into())
                ),
                (
                    "FLANNELD_ETCD_PREFIX".to_string(),
                    EnvValue::Str("/coreos.com/network".into())
                ),
                (
                    "FLANNELD_IFACE".to_string(),
                    EnvValue::Str("$private_ipv4".into())
                ),
            ]
        );
        assert_eq!(
            c.coreos.locksmith.as_ref().unwrap().0[1].0,
            "REBOOT_WINDOW_START"
        );
    }

    #[test]
    fn hyphenated_keys_are_the_same_keys() {
        let c = config("#cloud-config\nssh-authorized-keys: [k]\ncoreos:\n  update:\n    reboot-strategy: reboot\n  units:\n    - name: a.service\n      drop-ins:\n        - name: 1.conf\n          content: x\n");
        assert_eq!(c.ssh_authorized_keys, Ok(vec!["k".to_string()]));
        assert_eq!(
            c.coreos.update.as_ref().unwrap().reboot_strategy,
            Some(RebootStrategy::Reboot)
        );
        assert_eq!(ok(&c.coreos.units)[0].drop_ins.len(), 1);
    }

    #[test]
    fn string_fields_keep_literal_text_and_bools_take_yaml_1_1() {
        let c = config("#cloud-config\nwrite_files:\n  - path: /a\n    permissions: 0644\n    content: off\nusers:\n  - name: u\n    system: yes\n    no_create_home: off\ncoreos:\n  update:\n    reboot_strategy: off\n");
        let (files, users) = (ok(&c.write_files), ok(&c.users));
        assert_eq!(files[0].mode, 0o644);
        assert_eq!(files[0].content, b"off");
        assert!(users[0].system && !users[0].no_create_home);
        assert_eq!(
            c.coreos.update.as_ref().unwrap().reboot_strategy,
            Some(RebootStrategy::Off)
        );
    }

    #[test]
    fn a_binary_tag_carries_no_value_past_its_rule() {
        // "7", "launch", "bogus", "foo" and "bogus": each outside its allowed set once decoded,
        // so each entry is rejected whole, as the same text would be without the tag.
        let p = parse("#cloud-config\nwrite_files:\n  - path: /a\n    permissions: !!binary Nw==\n  - path: /b\n    encoding: !!binary Ym9ndXM=\n    content: x\nmanage_etc_hosts: !!binary Zm9v\ncoreos:\n  update:\n    reboot_strategy: !!binary Ym9ndXM=\n  units:\n    - name: a.service\n      command: !!binary bGF1bmNo\n");
        let c = &p.config;
        let reason = |r: &Checked<WriteFile>| r.as_ref().unwrap_err().reasons.join("; ");
        assert!(reason(&c.write_files[0]).contains("invalid value \"7\" for \"permissions\""));
        assert!(reason(&c.write_files[1]).contains("invalid value \"bogus\" for \"encoding\""));
        assert!(c.manage_etc_hosts.as_ref().unwrap().is_err());
        assert!(c.coreos.update.is_err());
        assert!(c.coreos.units[0].is_err());
        // Decoded values inside their sets are read as the plain text would be.
        let c = config("#cloud-config\nwrite_files:\n  - path: /a\n    permissions: !!binary MDYwMA==\n  - path: /b\n    encoding: !!binary YjY0\n    content: aGk=\nmanage_etc_hosts: !!binary bG9jYWxob3N0\ncoreos:\n  update:\n    reboot_strategy: !!binary b2Zm\n");
        let files = ok(&c.write_files);
        assert_eq!(files[0].mode, 0o600);
        assert_eq!(files[1].content, b"hi");
        assert_eq!(c.manage_etc_hosts, Some(Ok(ManageEtcHosts::Localhost)));
        assert_eq!(
            c.coreos.update.as_ref().unwrap().reboot_strategy,
            Some(RebootStrategy::Off)
        );
    }

    #[test]
    fn the_enums_read_exactly_their_names() {
        assert_eq!(RebootStrategy::NAMES, ["etcd-lock", "reboot", "off"]);
        assert_eq!(ManageEtcHosts::NAMES, ["localhost"]);
        for v in RebootStrategy::ALL {
            assert_eq!(RebootStrategy::parse(v.as_str()), Some(v));
        }
        assert_eq!(RebootStrategy::parse("best-effort"), None);
        assert_eq!(RebootStrategy::parse("Off"), None);
        assert_eq!(ManageEtcHosts::parse("LOCALHOST"), None);
    }

    #[test]
    fn binary_content_is_decoded_then_gunzipped() {
        // reference.md §7.1 vector 15: "42" through gzip and !!binary.
        let c = config("#cloud-config\nwrite_files:\n  - path: /a\n    encoding: gzip\n    content: !!binary H4sIAGUfoFQC/zMxAgCIsCQyAgAAAA==\n  - path: /b\n    content: !!binary NDI=\n");
        let files = ok(&c.write_files);
        assert_eq!(files[0].content, b"42");
        assert_eq!(files[1].content, b"42");
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let c = config("#cloud-config\nssh_authorized_keys: &k [a, b]\nusers:\n  - name: u\n    ssh_authorized_keys: *k\ncoreos:\n  units:\n    - &base\n      name: one.service\n      command: start\n    - <<: *base\n      name: two.service\n");
        let (users, units) = (ok(&c.users), ok(&c.coreos.units));
        assert_eq!(users[0].ssh_authorized_keys, vec!["a", "b"]);
        assert_eq!(units[1].name, "two.service");
        assert_eq!(units[1].command, Some(UnitCommand::Start));
    }

    #[test]
    fn an_entry_holding_an_invalid_value_is_rejected_whole() {
        let p = parse("#cloud-config\nhostname: [a]\nusers:\n  - name: u\n    groups: a,b\n    shell: /bin/sh\n  - groups: [x]\n  - name: fine\nwrite_files:\n  - path: /a\n    encoding: base64\n    content: '%%%'\n  - path: /b\n    content: ok\n  - path: /c\n    permissions: '0o600'\n    content: secret\n  - path: /d\n    content: {a: b}\ncoreos:\n  units:\n    - name: bad.service\n      command: launch\n      drop_ins: [{name: a.conf, content: x}]\n    - name: good.service\n      drop_ins:\n        - name: a.conf\n          content: [x]\n        - name: b.conf\n          content: y\n  etcd2:\n    name: n\n    proxy: maybe\n");
        assert!(p
            .findings
            .iter()
            .any(|f| f.message.contains("\"hostname\" must be")));
        let c = p.config;
        let rejected = |item: &Checked<_>| match item {
            Err(r) => r.clone(),
            Ok(()) => panic!("accepted"),
        };
        let hostname = c.hostname.clone().map(|h| h.map(|_| ()));
        assert_eq!(rejected(&hostname.unwrap()).what, "hostname");
        // The user with a wrong `groups` is skipped whole, not created without its groups.
        let users: Vec<_> = c
            .users
            .iter()
            .map(|u| u.as_ref().map(|u| u.name.clone()))
            .collect();
        assert_eq!(users.len(), 3);
        assert_eq!(users[0].as_ref().unwrap_err().what, "user \"u\"");
        assert!(users[0].as_ref().unwrap_err().reasons[0].starts_with("line 5: \"groups\" must be"));
        assert_eq!(users[1].as_ref().unwrap_err().what, "user on line 7");
        assert_eq!(users[2], Ok("fine".to_string()));
        // Undecodable content, an invalid mode, a wrong-typed content: never written with a
        // default in their place.
        let files: Vec<_> = c
            .write_files
            .iter()
            .map(|f| f.as_ref().map(|f| f.path.clone()))
            .collect();
        assert_eq!(files[0].as_ref().unwrap_err().what, "write_files \"/a\"");
        assert_eq!(files[1], Ok("/b".to_string()));
        assert_eq!(files[2].as_ref().unwrap_err().what, "write_files \"/c\"");
        assert!(files[2].as_ref().unwrap_err().reasons[0].contains("\"0o600\""));
        assert!(!files[2].as_ref().unwrap_err().message().contains("secret"));
        assert_eq!(files[3].as_ref().unwrap_err().what, "write_files \"/d\"");
        // A unit with an invalid command goes with its drop-ins; an invalid drop-in alone.
        assert_eq!(
            c.coreos.units[0].as_ref().unwrap_err().what,
            "unit \"bad.service\""
        );
        let good = c.coreos.units[1].as_ref().unwrap();
        assert_eq!(
            good.drop_ins[0].as_ref().unwrap_err().what,
            "drop-in \"a.conf\" of unit \"good.service\""
        );
        assert_eq!(good.drop_ins[1].as_ref().unwrap().content, "y");
        assert_eq!(c.coreos.etcd2.as_ref().unwrap_err().what, "coreos.etcd2");
        // Every error of the document is held by exactly one rejected entry.
        let errors = p
            .findings
            .iter()
            .filter(|f| f.severity == crate::rules::Severity::Error)
            .count();
        assert_eq!(c.rejects().map(|r| r.reasons.len()).sum::<usize>(), errors);
    }

    #[test]
    fn containers_of_the_wrong_type_are_rejected_on_their_own() {
        let c = config("#cloud-config\nwrite_files: /etc/motd\nusers: [ann]\nssh_authorized_keys: key\ncoreos:\n  units: {name: a.service}\n  update: [x]\n");
        let what: Vec<&str> = c.rejects().map(|r| r.what.as_str()).collect();
        assert_eq!(
            what,
            vec![
                "users",
                "write_files",
                "coreos.units",
                "ssh_authorized_keys",
                "coreos.update"
            ]
        );
        let c = config("- a\n- b\n");
        assert_eq!(c.rejects().count(), 1);
    }

    #[test]
    fn relative_paths_and_unknown_unit_suffixes_are_kept_with_a_warning() {
        let p = parse("#cloud-config\nwrite_files:\n  - path: etc/motd\n    content: hi\ncoreos:\n  units:\n    - name: foo\n      command: start\n    - name: a/b.service\n");
        // The validator still calls them errors (decisions.md, "Deliberate differences").
        assert_eq!(
            p.findings
                .iter()
                .filter(|f| f.severity == crate::rules::Severity::Error)
                .count(),
            3
        );
        let c = p.config;
        assert_eq!(c.write_files[0].as_ref().unwrap().path, "etc/motd");
        assert_eq!(c.coreos.units[0].as_ref().unwrap().name, "foo");
        assert!(
            c.coreos.units[1].is_err(),
            "a \"/\" in a unit name is not a suffix matter"
        );
        assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
        assert!(
            c.warnings[0].contains("written as \"/etc/motd\""),
            "{:?}",
            c.warnings
        );
        assert!(c.warnings[1].contains("\"foo\""), "{:?}", c.warnings);
    }

    #[test]
    fn env_sections_keep_schema_order_and_skip_zero_values() {
        // reference.md §7.1 vectors 8 and 9.
        let c = config("#cloud-config\ncoreos:\n  etcd:\n    peer_bind_addr: 127.0.0.1:7002\n    name: node001\n    discovery: http://disco.example.com/foobar\n    snapshot_count: 0\n    verbose: false\n  fleet:\n    etcd_request_timeout: 0.000001\n    verbosity: 1\n    verify_units: true\n");
        let names: Vec<&str> = c
            .coreos
            .etcd
            .as_ref()
            .unwrap()
            .0
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(
            names,
            vec!["ETCD_DISCOVERY", "ETCD_NAME", "ETCD_PEER_BIND_ADDR"]
        );
        assert_eq!(
            c.coreos.fleet.as_ref().unwrap().0,
            vec![
                (
                    "FLEET_ETCD_REQUEST_TIMEOUT".to_string(),
                    EnvValue::Float(0.000001)
                ),
                ("FLEET_VERBOSITY".to_string(), EnvValue::Int(1)),
                ("FLEET_VERIFY_UNITS".to_string(), EnvValue::Bool(true)),
            ]
        );
    }
}
