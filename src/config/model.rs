//! The typed cloud-config that apply works from, built from the checked values. Lenient: a field
//! that failed its check is absent here (and was reported), the rest of the document stands.

use crate::config::check::{Entries, Value};
use crate::config::schema::{self, Section};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CloudConfig {
    pub hostname: Option<String>,
    pub ssh_authorized_keys: Vec<String>,
    pub manage_etc_hosts: Option<String>,
    pub users: Vec<User>,
    pub write_files: Vec<WriteFile>,
    pub coreos: Coreos,
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
    /// The literal text (`"0644"`, `"755"`); validated as octal.
    pub permissions: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Coreos {
    pub etcd: EnvSection,
    pub etcd2: EnvSection,
    pub fleet: EnvSection,
    pub flannel: EnvSection,
    pub locksmith: EnvSection,
    pub update: Update,
    pub oem: Option<Oem>,
    pub units: Vec<Unit>,
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
    pub reboot_strategy: Option<String>,
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
    pub command: Option<String>,
    pub mask: bool,
    pub drop_ins: Vec<DropIn>,
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

/// Zero values are "unset" in the reference (an empty string, 0, false, 0.0 are not emitted).
fn env_section(e: Option<&Entries>, section: &Section) -> EnvSection {
    let mut out = Vec::new();
    let Some(e) = e else {
        return EnvSection(out);
    };
    for field in section.fields {
        let Some(name) = field.env_name(section) else {
            continue;
        };
        let value = match e.get(field.key) {
            Some(Value::Str(s)) if !s.is_empty() => EnvValue::Str(s.clone()),
            Some(Value::Int(i)) if *i != 0 => EnvValue::Int(*i),
            Some(Value::Float(f)) if *f != 0.0 => EnvValue::Float(*f),
            Some(Value::Bool(true)) => EnvValue::Bool(true),
            _ => continue,
        };
        out.push((name, value));
    }
    EnvSection(out)
}

impl CloudConfig {
    pub fn from_entries(root: &Entries) -> CloudConfig {
        let coreos = map(root, "coreos");
        let get = |key: &str| coreos.and_then(|c| map(c, key));
        let update = get("update").map_or_else(Update::default, |u| Update {
            reboot_strategy: string(u, "reboot_strategy").filter(|s| !s.is_empty()),
            group: string(u, "group").filter(|s| !s.is_empty()),
            server: string(u, "server").filter(|s| !s.is_empty()),
        });
        let oem = get("oem").and_then(|o| {
            Some(Oem {
                id: string(o, "id").filter(|s| !s.is_empty())?,
                name: string(o, "name"),
                version_id: string(o, "version_id"),
                home_url: string(o, "home_url"),
                bug_report_url: string(o, "bug_report_url"),
            })
        });
        let units = coreos
            .map(|c| {
                maps(c, "units")
                    .filter_map(|u| {
                        Some(Unit {
                            name: string(u, "name")?,
                            runtime: boolean(u, "runtime"),
                            enable: boolean(u, "enable"),
                            content: string(u, "content"),
                            command: string(u, "command").filter(|s| !s.is_empty()),
                            mask: boolean(u, "mask"),
                            drop_ins: maps(u, "drop_ins")
                                .filter_map(|d| {
                                    Some(DropIn {
                                        name: string(d, "name")?,
                                        content: string(d, "content")?,
                                    })
                                })
                                .collect(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        CloudConfig {
            hostname: string(root, "hostname").filter(|s| !s.is_empty()),
            ssh_authorized_keys: strings(root, "ssh_authorized_keys"),
            manage_etc_hosts: string(root, "manage_etc_hosts").filter(|s| !s.is_empty()),
            users: maps(root, "users")
                .filter_map(|u| {
                    Some(User {
                        name: string(u, "name")?,
                        passwd: string(u, "passwd"),
                        ssh_authorized_keys: strings(u, "ssh_authorized_keys"),
                        coreos_ssh_import_github: string(u, "coreos_ssh_import_github"),
                        coreos_ssh_import_github_users: strings(
                            u,
                            "coreos_ssh_import_github_users",
                        ),
                        coreos_ssh_import_url: string(u, "coreos_ssh_import_url"),
                        gecos: string(u, "gecos"),
                        homedir: string(u, "homedir"),
                        no_create_home: boolean(u, "no_create_home"),
                        primary_group: string(u, "primary_group"),
                        groups: strings(u, "groups"),
                        no_user_group: boolean(u, "no_user_group"),
                        system: boolean(u, "system"),
                        no_log_init: boolean(u, "no_log_init"),
                        shell: string(u, "shell"),
                    })
                })
                .collect(),
            write_files: maps(root, "write_files")
                .filter_map(|w| {
                    Some(WriteFile {
                        path: string(w, "path")?,
                        content: match w.get("content") {
                            Some(Value::Bytes(b)) => b.clone(),
                            Some(Value::Str(s)) => s.as_bytes().to_vec(),
                            _ => Vec::new(),
                        },
                        owner: string(w, "owner").filter(|s| !s.is_empty()),
                        permissions: string(w, "permissions").filter(|s| !s.is_empty()),
                    })
                })
                .collect(),
            coreos: Coreos {
                etcd: env_section(get("etcd"), &schema::ETCD),
                etcd2: env_section(get("etcd2"), &schema::ETCD2),
                fleet: env_section(get("fleet"), &schema::FLEET),
                flannel: env_section(get("flannel"), &schema::FLANNEL),
                locksmith: env_section(get("locksmith"), &schema::LOCKSMITH),
                update,
                oem,
                units,
            },
        }
    }
}
