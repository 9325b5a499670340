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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    fn config(text: &str) -> CloudConfig {
        parse(text).config
    }

    #[test]
    fn reads_every_section() {
        let c = config(include_str!("../../testdata/cloud-configs/demo.yml"));
        assert_eq!(c.hostname.as_deref(), Some("worker-07.eu-west.example.net"));
        assert_eq!(c.manage_etc_hosts.as_deref(), Some("localhost"));
        assert_eq!(c.ssh_authorized_keys.len(), 1);
        assert_eq!(c.users.len(), 2);
        assert_eq!(c.users[0].groups, vec!["docker", "systemd-journal"]);
        assert_eq!(c.users[0].gecos.as_deref(), Some("Deploy Bot"));
        assert!(c.users[1].system && c.users[1].no_create_home);
        assert_eq!(c.write_files.len(), 3);
        assert!(String::from_utf8_lossy(&c.write_files[0].content).contains("journald"));
        assert!(String::from_utf8_lossy(&c.write_files[1].content).starts_with("KUBELET"));
        assert_eq!(c.write_files[1].owner.as_deref(), Some("deploy"));
        assert_eq!(c.write_files[2].permissions.as_deref(), Some("0755"));
        let oem = c.coreos.oem.as_ref().unwrap();
        assert_eq!(
            (oem.id.as_str(), oem.name.as_deref()),
            ("kindling-demo", Some("Kindling Demo Cloud"))
        );
        assert_eq!(
            c.coreos.update.reboot_strategy.as_deref(),
            Some("etcd-lock")
        );
        assert_eq!(c.coreos.update.group.as_deref(), Some("stable"));
        assert_eq!(c.coreos.units.len(), 4);
        assert_eq!(c.coreos.units[0].drop_ins[0].name, "40-flannel.conf");
        assert!(c.coreos.units[1].enable);
        assert_eq!(c.coreos.units[1].command.as_deref(), Some("start"));
        assert!(c.coreos.units[2].runtime);
        assert!(c.coreos.units[3].mask);
        assert_eq!(
            c.coreos.flannel.0,
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
        assert_eq!(c.coreos.locksmith.0[1].0, "REBOOT_WINDOW_START");
    }

    #[test]
    fn hyphenated_keys_are_the_same_keys() {
        let c = config("#cloud-config\nssh-authorized-keys: [k]\ncoreos:\n  update:\n    reboot-strategy: reboot\n  units:\n    - name: a.service\n      drop-ins:\n        - name: 1.conf\n          content: x\n");
        assert_eq!(c.ssh_authorized_keys, vec!["k"]);
        assert_eq!(c.coreos.update.reboot_strategy.as_deref(), Some("reboot"));
        assert_eq!(c.coreos.units[0].drop_ins.len(), 1);
    }

    #[test]
    fn string_fields_keep_literal_text_and_bools_take_yaml_1_1() {
        let c = config("#cloud-config\nwrite_files:\n  - path: /a\n    permissions: 0644\n    content: off\nusers:\n  - name: u\n    system: yes\n    no_create_home: off\ncoreos:\n  update:\n    reboot_strategy: off\n");
        assert_eq!(c.write_files[0].permissions.as_deref(), Some("0644"));
        assert_eq!(c.write_files[0].content, b"off");
        assert!(c.users[0].system && !c.users[0].no_create_home);
        assert_eq!(c.coreos.update.reboot_strategy.as_deref(), Some("off"));
    }

    #[test]
    fn binary_content_is_decoded_then_gunzipped() {
        // reference.md §7.1 vector 15: "42" through gzip and !!binary.
        let c = config("#cloud-config\nwrite_files:\n  - path: /a\n    encoding: gzip\n    content: !!binary H4sIAGUfoFQC/zMxAgCIsCQyAgAAAA==\n  - path: /b\n    content: !!binary NDI=\n");
        assert_eq!(c.write_files[0].content, b"42");
        assert_eq!(c.write_files[1].content, b"42");
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let c = config("#cloud-config\nssh_authorized_keys: &k [a, b]\nusers:\n  - name: u\n    ssh_authorized_keys: *k\ncoreos:\n  units:\n    - &base\n      name: one.service\n      command: start\n    - <<: *base\n      name: two.service\n");
        assert_eq!(c.users[0].ssh_authorized_keys, vec!["a", "b"]);
        assert_eq!(c.coreos.units[1].name, "two.service");
        assert_eq!(c.coreos.units[1].command.as_deref(), Some("start"));
    }

    #[test]
    fn a_wrong_field_is_left_out_and_the_rest_stands() {
        let p = parse("#cloud-config\nhostname: [a]\nusers:\n  - name: u\n    groups: a,b\n    shell: /bin/sh\n  - groups: [x]\nwrite_files:\n  - path: /a\n    encoding: base64\n    content: '%%%'\n  - path: /b\n    content: ok\ncoreos:\n  units:\n    - name: bad\n    - name: good.service\n      command: launch\n");
        assert!(p
            .findings
            .iter()
            .any(|f| f.message.contains("\"hostname\" must be")));
        let c = p.config;
        assert_eq!(c.hostname, None);
        assert_eq!(c.users.len(), 1);
        assert!(c.users[0].groups.is_empty());
        assert_eq!(c.users[0].shell.as_deref(), Some("/bin/sh"));
        // Undecodable content is never written as something else: the file is left out.
        assert_eq!(c.write_files.len(), 1);
        assert_eq!(c.write_files[0].path, "/b");
        assert_eq!(c.coreos.units.len(), 1);
        assert_eq!(c.coreos.units[0].command, None);
    }

    #[test]
    fn env_sections_keep_schema_order_and_skip_zero_values() {
        // reference.md §7.1 vectors 8 and 9.
        let c = config("#cloud-config\ncoreos:\n  etcd:\n    peer_bind_addr: 127.0.0.1:7002\n    name: node001\n    discovery: http://disco.example.com/foobar\n    snapshot_count: 0\n    verbose: false\n  fleet:\n    etcd_request_timeout: 0.000001\n    verbosity: 1\n    verify_units: true\n");
        let names: Vec<&str> = c.coreos.etcd.0.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            vec!["ETCD_DISCOVERY", "ETCD_NAME", "ETCD_PEER_BIND_ADDR"]
        );
        assert_eq!(
            c.coreos.fleet.0,
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
