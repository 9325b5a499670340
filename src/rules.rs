//! The validator's rules, declared once: each finding's stable code, its kind and what it means.
//! Findings carry a `Code`; `--allow`, both report formats and the README's table read this list.

use serde::Serialize;

/// How much a finding weighs: errors fail validation, warnings fail it under `--strict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One rule: the code printed with its findings, their kind, and a line for `--help`/README.
#[derive(Debug)]
pub struct Rule {
    pub code: Code,
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
}

macro_rules! rules {
    ($($variant:ident $name:literal $severity:ident $summary:literal;)*) => {
        /// A finding's rule. Its stable name is `RULES[code as usize].name`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($variant,)*
        }

        /// Every rule, in the order of `Code`'s variants.
        pub static RULES: &[Rule] = &[
            $(Rule {
                code: Code::$variant,
                name: $name,
                severity: Severity::$severity,
                summary: $summary,
            },)*
        ];

        // `Allowed` holds a rule per bit.
        const _: () = assert!([$(Code::$variant),*].len() <= 64);
    };
}

rules! {
    // The payload and its header.
    Header "header" Error "the first line is not `#cloud-config` or `#!…` (with a hint for the likely mistake)";
    ScriptInterpreter "script-interpreter" Error "a `#!` line that names no interpreter";
    Gzip "gzip" Error "a gzip payload that does not decompress completely";
    NotUtf8 "not-utf8" Error "a cloud-config that is not UTF-8 text";
    Mime "mime" Error "a broken multipart MIME envelope (no boundary, a part without Content-Type)";
    Unreadable "unreadable" Error "a file that cannot be read";
    ButaneConfig "butane-config" Error "a Container Linux Config or Butane config under a `#cloud-config` header";
    TooManyFindings "too-many-findings" Info "more findings than kindling reports in one document (10,000) or unit file (1,000): they are counted, not shown; an error among them still fails validation";
    // YAML.
    YamlSyntax "yaml-syntax" Error "YAML that does not parse";
    RootNotMapping "root-not-mapping" Error "a cloud-config whose root is not a mapping";
    DuplicateKey "duplicate-key" Error "a key given twice in one mapping (`-` and `_` spellings are one key)";
    AliasLimit "alias-limit" Error "aliases that expand the document past what kindling reads (nodes, or 16 MiB of text beyond its own); nothing of it is applied";
    AliasRepeat "alias-repeat" Info "list items that are aliases of an earlier item of the list: the same entry, applied once";
    ExtraDocument "extra-document" Warning "a further YAML document (`---`): only the first is used";
    QuotedScalarIndent "quoted-scalar-indent" Warning "a quoted scalar's continuation line indented by a tab or less than its key: YAML 1.2 forbids it, coreos-cloudinit (and kindling) accept it";
    TabBlankLine "tab-blank-line" Warning "a blank line holding a tab, which coreos-cloudinit's parser rejects";
    CommentValue "comment-value" Warning "`key: #text`: YAML reads a comment, so the value is empty";
    // Keys and values of the cloud-config.
    UnknownKey "unknown-key" Warning "a key the cloud-config does not have (with `did you mean`)";
    DeprecatedKey "deprecated-key" Warning "a key coreos-cloudinit deprecated";
    WriteFilesUnderCoreos "write-files-under-coreos" Info "`write_files` under `coreos:` instead of the top level";
    WrongType "wrong-type" Error "a value of the wrong type (a string for a list, a quoted boolean, …)";
    RequiredKey "required-key" Error "a unit, drop-in, user or file entry without a key it needs";
    InvalidValue "invalid-value" Error "a value outside its allowed set (encoding, permissions, command, reboot_strategy, …)";
    ContentDecode "content-decode" Error "`write_files` content or a `!!binary` value that does not decode";
    GoBase64 "go-base64" Warning "base64 that kindling decodes but coreos-cloudinit's Go decoder refuses, rejecting the whole document";
    WriteFilesPath "write-files-path" Error "a `write_files` path that is relative, missing or under the read-only /usr";
    InvalidHostname "invalid-hostname" Error "a hostname that is not a DNS name, or is an IP address";
    InvalidUnitName "invalid-unit-name" Error "a unit name systemd would refuse";
    InvalidDropinName "invalid-dropin-name" Error "a drop-in name that does not end in `.conf` or holds a `/`";
    InvalidSshKey "invalid-ssh-key" Warning "an SSH public key that `ssh-keygen -l` would refuse";
    DiscoveryUrl "discovery-url" Warning "an etcd discovery URL that is not http(s)";
    // Unit files (coreos.units, their drop-ins, unit files in write_files, standalone unit files).
    UnitSyntax "unit-syntax" Warning "a unit file line systemd would not parse";
    UnitUnknownSection "unit-unknown-section" Warning "a section this kind of unit file does not have";
    UnitUnknownKey "unit-unknown-key" Warning "a directive systemd does not know in its section (with `did you mean`)";
    UnitInvalidValue "unit-invalid-value" Warning "a boolean, time span or enumerated directive with a value systemd refuses";
    UnitSpecifier "unit-specifier" Warning "a `%` that starts no systemd specifier (write `%%` for a literal `%`)";
    UnitTemplateCommand "unit-template-command" Error "a command on a template unit (`name@.service`), which systemd cannot start";
    UnitTemplateEnable "unit-template-enable" Warning "an enabled template unit without `DefaultInstance=`";
    // fleet's [X-Fleet] section.
    FleetUnknownKey "fleet-unknown-key" Warning "a key fleet does not know in [X-Fleet]";
    FleetDeprecatedKey "fleet-deprecated-key" Warning "an old [X-Fleet] key (`X-ConditionMachineID`, …) with its new name";
    FleetInvalidValue "fleet-invalid-value" Warning "a `Global=` that is not a boolean, a `MachineID=` that is not 32 hex digits";
    FleetGlobalConflict "fleet-global-conflict" Warning "`Global=true` beside a key other than `MachineMetadata`";
    FleetSpecifier "fleet-specifier" Warning "a specifier fleet does not expand in [X-Fleet] (only %n %N %p %i)";
}

impl Code {
    pub fn rule(self) -> &'static Rule {
        &RULES[self as usize]
    }
    pub fn name(self) -> &'static str {
        self.rule().name
    }
    pub fn severity(self) -> Severity {
        self.rule().severity
    }
    /// The rule with this stable name, as `--allow` takes it.
    pub fn from_name(name: &str) -> Option<Code> {
        RULES.iter().find(|r| r.name == name).map(|r| r.code)
    }
}

/// The rules `--allow` silences. The validator drops their findings before it counts findings
/// against a cap, so that silenced ones cannot crowd out the rest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Allowed(u64);

impl Allowed {
    pub fn insert(&mut self, code: Code) {
        self.0 |= 1 << code as u32;
    }
    pub fn contains(self, code: Code) -> bool {
        self.0 & (1 << code as u32) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_variant_order_and_names_are_unique() {
        for (i, rule) in RULES.iter().enumerate() {
            assert_eq!(rule.code as usize, i, "{}", rule.name);
            assert_eq!(Code::from_name(rule.name), Some(rule.code));
            assert!(
                rule.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-' || b.is_ascii_digit()),
                "{}",
                rule.name
            );
        }
        assert_eq!(Code::from_name("no-such-rule"), None);
    }

    /// The README's table of codes is the documentation of this list; keep them in step.
    #[test]
    fn readme_lists_every_code() {
        let readme = include_str!("../README.md");
        for rule in RULES {
            assert!(
                readme.contains(&format!("| `{}` |", rule.name)),
                "README.md does not list the code {}",
                rule.name
            );
        }
    }
}
