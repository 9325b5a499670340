//! The cloud-config schema, declared once: keys, types, deprecations, allowed values and the
//! environment names of the drop-in sections. The validator and the typed model both read it.

use crate::unit::UnitCommand;

/// The type a key's value must have.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    Str,
    Int,
    Float,
    Bool,
    StrList,
    Map(&'static Section),
    List(&'static Section),
}

impl Ty {
    /// The type as a message names it: `"K" must be <name>`.
    pub fn name(self) -> &'static str {
        match self {
            Ty::Str => "a string",
            Ty::Int => "an integer",
            Ty::Float => "a number",
            Ty::Bool => "a boolean",
            Ty::StrList => "a list of strings",
            Ty::Map(_) => "a mapping",
            Ty::List(_) => "a list of mappings",
        }
    }
}

/// A check on a value beyond its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    None,
    OneOf(&'static [&'static str]),
    Permissions,
    WindowStart,
    WindowLength,
    Hostname,
    SshKey,
    UnitName,
    DropInName,
    UnitContent,
    FilePath,
    Discovery,
}

/// Checks that need several keys of one mapping at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionKind {
    Plain,
    Coreos,
    WriteFile,
    /// etcd, etcd2, fleet, locksmith: values become `Environment=` lines of a drop-in, where
    /// systemd expands `%` specifiers.
    UnitEnvironment,
    /// A `coreos.units` entry: its content is checked by its name's unit type.
    Unit,
}

#[derive(Debug)]
pub struct Section {
    /// How messages name one such mapping ("unit", "write_files entry").
    pub what: &'static str,
    pub fields: &'static [Field],
    pub kind: SectionKind,
    /// For drop-in sections: the prefix of each key's environment variable.
    pub env_prefix: Option<&'static str>,
}

impl Section {
    /// The field for a key, with `-` and `_` being the same character.
    pub fn field(&self, key: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| same_key(f.key, key))
    }
}

/// Keys are compared with `-` and `_` as one character (CoreOS accepted both spellings).
pub fn same_key(canonical: &str, key: &str) -> bool {
    canonical.len() == key.len()
        && canonical
            .bytes()
            .zip(key.bytes())
            .all(|(a, b)| a == b || (a == b'_' && b == b'-'))
}

#[derive(Debug)]
pub struct Field {
    pub key: &'static str,
    pub ty: Ty,
    pub deprecated: Option<&'static str>,
    pub required: bool,
    pub rule: Rule,
    /// Overrides `env_prefix + KEY` for the few irregular names.
    pub env: Option<&'static str>,
    /// What the key does, for `kindling schema` (editors show it on hover). Empty for the
    /// options of drop-in sections, whose description is their environment variable.
    pub doc: &'static str,
}

impl Field {
    /// The environment variable this key becomes in its section's drop-in or env file.
    pub fn env_name(&self, section: &Section) -> Option<String> {
        if let Some(e) = self.env {
            return Some(e.to_string());
        }
        section
            .env_prefix
            .map(|p| format!("{p}{}", self.key.to_ascii_uppercase()))
    }
}

const fn f(key: &'static str, ty: Ty) -> Field {
    Field {
        key,
        ty,
        deprecated: None,
        required: false,
        rule: Rule::None,
        env: None,
        doc: "",
    }
}
const fn s(key: &'static str) -> Field {
    f(key, Ty::Str)
}
const fn int(key: &'static str) -> Field {
    f(key, Ty::Int)
}
const fn float(key: &'static str) -> Field {
    f(key, Ty::Float)
}
const fn bool_(key: &'static str) -> Field {
    f(key, Ty::Bool)
}
const fn list(key: &'static str) -> Field {
    f(key, Ty::StrList)
}

impl Field {
    const fn dep(mut self, reason: &'static str) -> Field {
        self.deprecated = Some(reason);
        self
    }
    const fn required(mut self) -> Field {
        self.required = true;
        self
    }
    const fn rule(mut self, rule: Rule) -> Field {
        self.rule = rule;
        self
    }
    const fn env(mut self, name: &'static str) -> Field {
        self.env = Some(name);
        self
    }
    const fn doc(mut self, doc: &'static str) -> Field {
        self.doc = doc;
        self
    }
}

const ETCD2_OPTION: &str = "etcd2 options no longer work for etcd";
const REMOTE_IMPORT: &str =
    "trying to fetch from a remote endpoint introduces too many intermittent errors";

pub const ENCODINGS: &[&str] = &[
    "base64",
    "b64",
    "gz",
    "gzip",
    "gz+base64",
    "gzip+base64",
    "gz+b64",
    "gzip+b64",
];
/// Values an older release took and a later one removed: (key, value, what to use instead).
pub const REMOVED_VALUES: &[(&str, &str, &str)] = &[(
    "reboot_strategy",
    "best-effort",
    "locksmith removed \"best-effort\"; use \"reboot\" (reboot at once) or \"etcd-lock\" (reboot holding a cluster-wide lock)",
)];

/// `manage_etc_hosts`: the one value the reference acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManageEtcHosts {
    /// Write /etc/hosts mapping the hostname to 127.0.0.1 and ::1.
    Localhost,
}

impl ManageEtcHosts {
    pub const ALL: [ManageEtcHosts; 1] = [ManageEtcHosts::Localhost];

    pub const fn as_str(self) -> &'static str {
        match self {
            ManageEtcHosts::Localhost => "localhost",
        }
    }

    /// Their names, as a cloud-config spells them: the schema's allowed values.
    pub const NAMES: [&'static str; 1] = [ManageEtcHosts::Localhost.as_str()];

    pub fn parse(text: &str) -> Option<ManageEtcHosts> {
        Self::ALL.into_iter().find(|v| v.as_str() == text)
    }
}

/// `coreos.update.reboot_strategy`, locksmith's `REBOOT_STRATEGY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RebootStrategy {
    /// Reboot holding a cluster-wide lock in etcd.
    EtcdLock,
    /// Reboot at once after an update.
    Reboot,
    /// Never reboot: locksmithd is stopped and masked.
    Off,
}

impl RebootStrategy {
    pub const ALL: [RebootStrategy; 3] = [
        RebootStrategy::EtcdLock,
        RebootStrategy::Reboot,
        RebootStrategy::Off,
    ];

    /// The value as update.conf and the config spell it.
    pub const fn as_str(self) -> &'static str {
        match self {
            RebootStrategy::EtcdLock => "etcd-lock",
            RebootStrategy::Reboot => "reboot",
            RebootStrategy::Off => "off",
        }
    }

    /// Their names, as a cloud-config spells them: the schema's allowed values.
    pub const NAMES: [&'static str; 3] = [
        RebootStrategy::EtcdLock.as_str(),
        RebootStrategy::Reboot.as_str(),
        RebootStrategy::Off.as_str(),
    ];

    pub fn parse(text: &str) -> Option<RebootStrategy> {
        Self::ALL.into_iter().find(|v| v.as_str() == text)
    }
}

pub const ETCD2_PROXY: &[&str] = &["on", "off", "readonly"];

pub static ROOT: Section = Section {
    what: "cloud-config",
    kind: SectionKind::Plain,
    env_prefix: None,
    fields: &[
        list("ssh_authorized_keys").rule(Rule::SshKey)
            .doc("SSH public keys for the core user, written to ~core/.ssh/authorized_keys.d/coreos-cloudinit (the --ssh-key-name)"),
        s("hostname").rule(Rule::Hostname)
            .doc("The machine's hostname (a DNS name, not an IP address), set through systemd-hostnamed"),
        f("users", Ty::List(&USER))
            .doc("Users to create or update with useradd/usermod, with their passwords, groups and SSH keys"),
        f("write_files", Ty::List(&WRITE_FILE))
            .doc("Files to write atomically, with their content, encoding, owner and permissions"),
        s("manage_etc_hosts").rule(Rule::OneOf(&ManageEtcHosts::NAMES))
            .doc("\"localhost\" writes /etc/hosts mapping the hostname to 127.0.0.1 and ::1"),
        f("coreos", Ty::Map(&COREOS))
            .doc("CoreOS/Flatcar settings: units, update strategy, locksmith, flannel, OEM and the retired etcd, etcd2 and fleet"),
    ],
};

pub static USER: Section = Section {
    what: "user",
    kind: SectionKind::Plain,
    env_prefix: None,
    fields: &[
        s("name").required().doc("The user's login name (required)"),
        s("passwd")
            .doc("The password hash (crypt(3) format, as in /etc/shadow), set with chpasswd -e"),
        list("ssh_authorized_keys")
            .rule(Rule::SshKey)
            .doc("SSH public keys, written to ~USER/.ssh/authorized_keys.d/NAME"),
        s("coreos_ssh_import_github")
            .dep(REMOTE_IMPORT)
            .doc("A GitHub user whose public keys to import"),
        list("coreos_ssh_import_github_users")
            .dep(REMOTE_IMPORT)
            .doc("GitHub users whose public keys to import"),
        s("coreos_ssh_import_url")
            .dep(REMOTE_IMPORT)
            .doc("A URL to fetch public keys from"),
        s("gecos").doc("The GECOS (comment) field"),
        s("homedir").doc("The home directory (default /home/NAME)"),
        bool_("no_create_home").doc("Do not create the home directory"),
        s("primary_group").doc("The primary group (default a group named after the user)"),
        list("groups").doc("Supplementary groups the user is added to"),
        bool_("no_user_group").doc("Do not create a group named after the user"),
        bool_("system").doc("Create a system account (no home, a UID below 1000)"),
        bool_("no_log_init").doc("Do not add the user to the lastlog and faillog databases"),
        s("shell").doc("The login shell"),
    ],
};

pub static WRITE_FILE: Section = Section {
    what: "write_files entry",
    kind: SectionKind::WriteFile,
    env_prefix: None,
    fields: &[
        s("encoding").rule(Rule::OneOf(ENCODINGS))
            .doc("How content is encoded: base64 (b64), gzip (gz), or gzip then base64; plain text when absent"),
        s("content")
            .doc("The file's content, decoded with encoding"),
        s("owner")
            .doc("USER or USER:GROUP, resolved against the target's /etc/passwd and /etc/group (default root)"),
        s("path").required().rule(Rule::FilePath)
            .doc("The absolute path to write (required; not under /usr, except /usr/share/oem)"),
        s("permissions").rule(Rule::Permissions)
            .doc("The octal mode, such as \"0644\" (default 0644); quote it, or YAML 1.1 reads 0644 as a number"),
    ],
};

pub static COREOS: Section = Section {
    what: "coreos",
    kind: SectionKind::Coreos,
    env_prefix: None,
    fields: &[
        f("etcd", Ty::Map(&ETCD)).dep("etcd is no longer shipped in Container Linux")
            .doc("etcd (v0.4) options, written as ETCD_* to etcd.service's 20-cloudinit.conf drop-in"),
        f("etcd2", Ty::Map(&ETCD2)).dep("etcd2 is no longer shipped in Container Linux")
            .doc("etcd2 options, written as ETCD_* to etcd2.service's 20-cloudinit.conf drop-in"),
        f("flannel", Ty::Map(&FLANNEL))
            .doc("flannel options, written as FLANNELD_* to /run/flannel/options.env"),
        f("fleet", Ty::Map(&FLEET)).dep("fleet is no longer shipped in Container Linux")
            .doc("fleet options, written as FLEET_* to fleet.service's 20-cloudinit.conf drop-in"),
        f("locksmith", Ty::Map(&LOCKSMITH))
            .doc("locksmithd options, written as LOCKSMITHD_* to locksmithd.service's 20-cloudinit.conf drop-in"),
        f("oem", Ty::Map(&OEM))
            .doc("OEM identification, written to /etc/oem-release"),
        f("update", Ty::Map(&UPDATE))
            .doc("Update settings, written to /etc/coreos/update.conf"),
        f("units", Ty::List(&UNIT))
            .doc("systemd units to write, enable, mask or start, with their drop-ins"),
    ],
};

pub static UNIT: Section = Section {
    what: "unit",
    kind: SectionKind::Unit,
    env_prefix: None,
    fields: &[
        s("name").required().rule(Rule::UnitName)
            .doc("The unit's file name, PREFIX[@INSTANCE].SUFFIX, such as docker.service (required)"),
        bool_("runtime")
            .doc("Write the unit and its enablement under /run (until reboot) instead of /etc"),
        bool_("enable")
            .doc("Enable the unit through its [Install] section"),
        s("content").rule(Rule::UnitContent)
            .doc("The unit file's content; written to /etc/systemd/system/NAME"),
        s("command").rule(Rule::OneOf(&UnitCommand::NAMES))
            .doc("A systemctl command to run on the unit: start, stop, restart, reload, try-restart, reload-or-restart or reload-or-try-restart"),
        bool_("mask")
            .doc("Mask the unit (a symlink to /dev/null)"),
        f("drop_ins", Ty::List(&DROP_IN))
            .doc("Drop-ins written to NAME.d/"),
    ],
};

pub static DROP_IN: Section = Section {
    what: "drop-in",
    kind: SectionKind::Plain,
    env_prefix: None,
    fields: &[
        s("name")
            .required()
            .rule(Rule::DropInName)
            .doc("The drop-in's file name, ending in .conf (required)"),
        s("content")
            .required()
            .rule(Rule::UnitContent)
            .doc("The drop-in's content (required)"),
    ],
};

pub static UPDATE: Section = Section {
    what: "update",
    kind: SectionKind::Plain,
    env_prefix: None,
    fields: &[
        s("reboot_strategy")
            .rule(Rule::OneOf(&RebootStrategy::NAMES))
            .env("REBOOT_STRATEGY")
            .doc("How the machine reboots after an update: etcd-lock, reboot or off (REBOOT_STRATEGY)"),
        s("group").env("GROUP")
            .doc("The update channel or group (GROUP)"),
        s("server").env("SERVER")
            .doc("The update server's URL (SERVER)"),
    ],
};

pub static OEM: Section = Section {
    what: "oem",
    kind: SectionKind::Plain,
    env_prefix: None,
    fields: &[
        s("id").doc("ID in /etc/oem-release"),
        s("name").doc("NAME in /etc/oem-release"),
        s("version_id").doc("VERSION_ID in /etc/oem-release"),
        s("home_url").doc("HOME_URL in /etc/oem-release"),
        s("bug_report_url").doc("BUG_REPORT_URL in /etc/oem-release"),
    ],
};

pub static FLANNEL: Section = Section {
    what: "flannel",
    kind: SectionKind::Plain,
    env_prefix: Some("FLANNELD_"),
    fields: &[
        s("etcd_endpoints"),
        s("etcd_cafile"),
        s("etcd_certfile"),
        s("etcd_keyfile"),
        s("etcd_prefix"),
        s("etcd_username"),
        s("etcd_password"),
        s("ip_masq"),
        s("subnet_file"),
        s("interface").env("FLANNELD_IFACE"),
        s("public_ip"),
    ],
};

pub static LOCKSMITH: Section = Section {
    what: "locksmith",
    kind: SectionKind::UnitEnvironment,
    env_prefix: Some("LOCKSMITHD_"),
    fields: &[
        s("endpoint"),
        s("etcd_cafile"),
        s("etcd_certfile"),
        s("etcd_keyfile"),
        s("etcd_username"),
        s("etcd_password"),
        s("group"),
        s("window_start")
            .rule(Rule::WindowStart)
            .env("REBOOT_WINDOW_START"),
        s("window_length")
            .rule(Rule::WindowLength)
            .env("REBOOT_WINDOW_LENGTH"),
    ],
};

pub static FLEET: Section = Section {
    what: "fleet",
    kind: SectionKind::UnitEnvironment,
    env_prefix: Some("FLEET_"),
    fields: &[
        s("agent_ttl"),
        s("authorized_keys_file"),
        bool_("disable_engine"),
        float("engine_reconcile_interval"),
        s("etcd_cafile"),
        s("etcd_certfile"),
        s("etcd_keyfile"),
        s("etcd_key_prefix"),
        float("etcd_request_timeout"),
        s("etcd_servers"),
        s("etcd_username"),
        s("etcd_password"),
        s("metadata"),
        s("public_ip"),
        int("token_limit"),
        int("verbosity"),
        bool_("verify_units"),
    ],
};

pub static ETCD2: Section = Section {
    what: "etcd2",
    kind: SectionKind::UnitEnvironment,
    env_prefix: Some("ETCD_"),
    fields: &[
        s("advertise_client_urls"),
        s("ca_file").dep("ca_file obsoleted by trusted_ca_file and client_cert_auth"),
        s("cert_file"),
        bool_("client_cert_auth"),
        s("cors"),
        s("data_dir"),
        bool_("debug"),
        s("discovery").rule(Rule::Discovery),
        s("discovery_fallback"),
        s("discovery_srv"),
        s("discovery_proxy"),
        int("election_timeout"),
        bool_("enable_pprof"),
        bool_("force_new_cluster"),
        int("heartbeat_interval"),
        s("initial_advertise_peer_urls"),
        s("initial_cluster"),
        s("initial_cluster_state"),
        s("initial_cluster_token"),
        s("key_file"),
        s("listen_client_urls"),
        s("listen_peer_urls"),
        s("log_package_levels"),
        int("max_snapshots"),
        int("max_wals"),
        s("name"),
        s("peer_ca_file")
            .dep("peer_ca_file obsoleted peer_trusted_ca_file and peer_client_cert_auth"),
        s("peer_cert_file"),
        s("peer_key_file"),
        bool_("peer_client_cert_auth"),
        s("peer_trusted_ca_file"),
        s("proxy").rule(Rule::OneOf(ETCD2_PROXY)),
        int("proxy_dial_timeout"),
        int("proxy_failure_wait"),
        int("proxy_read_timeout"),
        int("proxy_refresh_interval"),
        int("proxy_write_timeout"),
        int("snapshot_count"),
        bool_("strict_reconfig_check"),
        s("trusted_ca_file"),
        s("wal_dir"),
    ],
};

pub static ETCD: Section = Section {
    what: "etcd",
    kind: SectionKind::UnitEnvironment,
    env_prefix: Some("ETCD_"),
    fields: &[
        s("addr"),
        s("bind_addr"),
        s("ca_file"),
        s("cert_file"),
        float("cluster_active_size"),
        float("cluster_remove_delay"),
        float("cluster_sync_interval"),
        s("cors"),
        s("data_dir"),
        s("discovery").rule(Rule::Discovery),
        s("graphite_host"),
        float("http_read_timeout"),
        float("http_write_timeout"),
        s("key_file"),
        int("max_result_buffer"),
        int("max_retry_attempts"),
        s("name"),
        s("peer_addr"),
        s("peer_bind_addr"),
        s("peer_ca_file"),
        s("peer_cert_file"),
        int("peer_election_timeout"),
        int("peer_heartbeat_interval"),
        s("peer_key_file"),
        s("peers"),
        s("peers_file"),
        float("retry_interval"),
        bool_("snapshot"),
        int("snapshot_count").env("ETCD_SNAPSHOTCOUNT"),
        s("trace"),
        bool_("verbose"),
        bool_("very_verbose"),
        bool_("very_very_verbose"),
        s("advertise_client_urls").dep(ETCD2_OPTION),
        s("discovery_fallback").dep(ETCD2_OPTION),
        s("discovery_srv").dep(ETCD2_OPTION),
        s("discovery_proxy").dep(ETCD2_OPTION),
        int("election_timeout").dep(ETCD2_OPTION),
        bool_("force_new_cluster").dep(ETCD2_OPTION),
        int("heartbeat_interval").dep(ETCD2_OPTION),
        s("initial_advertise_peer_urls").dep(ETCD2_OPTION),
        s("initial_cluster").dep(ETCD2_OPTION),
        s("initial_cluster_state").dep(ETCD2_OPTION),
        s("initial_cluster_token").dep(ETCD2_OPTION),
        s("listen_client_urls").dep(ETCD2_OPTION),
        s("listen_peer_urls").dep(ETCD2_OPTION),
        int("max_snapshots").dep(ETCD2_OPTION),
        int("max_wals").dep(ETCD2_OPTION),
        s("proxy").dep(ETCD2_OPTION),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    fn all_sections() -> Vec<&'static Section> {
        vec![
            &ROOT,
            &USER,
            &WRITE_FILE,
            &COREOS,
            &UNIT,
            &DROP_IN,
            &UPDATE,
            &OEM,
            &FLANNEL,
            &LOCKSMITH,
            &FLEET,
            &ETCD2,
            &ETCD,
        ]
    }

    #[test]
    fn keys_are_unique_and_canonical() {
        for section in all_sections() {
            for (i, a) in section.fields.iter().enumerate() {
                assert!(!a.key.contains('-'), "{} uses a hyphen", a.key);
                for b in &section.fields[i + 1..] {
                    assert_ne!(a.key, b.key, "{} twice in {}", a.key, section.what);
                }
            }
        }
    }

    #[test]
    fn hyphen_and_underscore_are_one_key() {
        assert!(same_key("reboot_strategy", "reboot-strategy"));
        assert!(same_key("reboot_strategy", "reboot_strategy"));
        assert!(!same_key("reboot_strategy", "rebootstrategy"));
        assert_eq!(
            UPDATE.field("reboot-strategy").unwrap().key,
            "reboot_strategy"
        );
    }

    #[test]
    fn environment_names_follow_the_reference() {
        let env = |sec: &Section, key: &str| sec.field(key).unwrap().env_name(sec).unwrap();
        assert_eq!(env(&ETCD, "snapshot_count"), "ETCD_SNAPSHOTCOUNT");
        assert_eq!(env(&ETCD2, "snapshot_count"), "ETCD_SNAPSHOT_COUNT");
        assert_eq!(env(&ETCD, "peer_bind_addr"), "ETCD_PEER_BIND_ADDR");
        assert_eq!(env(&FLANNEL, "interface"), "FLANNELD_IFACE");
        assert_eq!(env(&FLANNEL, "etcd_prefix"), "FLANNELD_ETCD_PREFIX");
        assert_eq!(env(&LOCKSMITH, "window_start"), "REBOOT_WINDOW_START");
        assert_eq!(env(&LOCKSMITH, "etcd_cafile"), "LOCKSMITHD_ETCD_CAFILE");
        assert_eq!(env(&FLEET, "verbosity"), "FLEET_VERBOSITY");
        assert_eq!(env(&UPDATE, "reboot_strategy"), "REBOOT_STRATEGY");
    }
}
