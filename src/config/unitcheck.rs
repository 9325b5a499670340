//! What a unit, .network, .netdev or .link file says, checked against systemd's and fleet's
//! vocabulary: sections, directives, typed values, %-specifiers and fleet's [X-Fleet].

use super::directives::{self, FileKind, Ty};
use super::template;
use super::values::excerpt;
use crate::report::{Cap, Pos, MAX_UNIT_FINDINGS};
use crate::rules::Code;
use crate::unit::file::{bad_specifiers, logical_lines_iter};

/// One finding inside a unit file's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitFinding {
    /// 0-based line index within the text.
    pub line: usize,
    /// 1-based character column within that line.
    pub col: usize,
    pub code: Code,
    pub message: String,
}

/// fleet's [X-Fleet] keys.
const FLEET_KEYS: &[&str] = &[
    "MachineID",
    "MachineOf",
    "MachineMetadata",
    "Conflicts",
    "Global",
    "Replaces",
];
/// fleet's old [X-Fleet] keys and the keys that replaced them.
const FLEET_DEPRECATED: &[(&str, &str)] = &[
    ("X-ConditionMachineID", "MachineID"),
    ("X-ConditionMachineOf", "MachineOf"),
    ("X-ConditionMachineMetadata", "MachineMetadata"),
    ("X-Conflicts", "Conflicts"),
];
/// The specifiers fleet itself expands in [X-Fleet] (fleet's unit name expansion).
const FLEET_SPECIFIERS: &str = "nNpi";

/// Checks the directives of a unit file's text; `kind` is what the file's name makes it.
/// With `options.template`, values holding an unrendered placeholder are taken as valid; the
/// findings of `options.allow`'s rules are left out.
pub fn check(kind: FileKind, text: &str, options: super::Options) -> Vec<UnitFinding> {
    // Only for the indentation of a logical line's first physical line.
    let lines = crate::lines::Lines::text(text);
    let mut c = Checker {
        kind,
        template: options.template,
        out: Vec::new(),
        cap: Cap::new(MAX_UNIT_FINDINGS, options.allow),
        section: None,
        fleet_global: false,
        fleet_others: Vec::new(),
    };
    for (index, logical) in logical_lines_iter(text) {
        let first = lines.get(index).unwrap_or("");
        c.line(index, first, &logical);
    }
    c.finish_fleet();
    if let Some(f) = c.cap.closing("unit file") {
        c.out.push(UnitFinding {
            line: f.pos.line,
            col: f.pos.col,
            code: f.code,
            message: f.message,
        });
    }
    c.out
}

/// Whether a unit file's text sets `DefaultInstance=` in its [Install] section.
pub fn has_default_instance(text: &str) -> bool {
    let mut section = "";
    logical_lines_iter(text).any(|(_, line)| {
        let line = line.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = if name == "Install" { "Install" } else { "" };
            return false;
        }
        section == "Install"
            && line
                .split_once('=')
                .is_some_and(|(k, v)| k.trim() == "DefaultInstance" && !v.trim().is_empty())
    })
}

/// How a section is treated.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Section {
    /// Checked against the table.
    Known(String),
    /// fleet's.
    Fleet,
    /// Another program's (`X-…`), an unknown one (already reported) or a broken header.
    Skipped,
}

struct Checker {
    kind: FileKind,
    template: bool,
    out: Vec<UnitFinding>,
    /// Past it, findings are counted (a 16 MiB unit can hold millions of bad lines).
    cap: Cap,
    section: Option<Section>,
    /// Whether [X-Fleet] says `Global=true`, and the keys beside it that Global excludes.
    fleet_global: bool,
    fleet_others: Vec<(usize, usize, String)>,
}

impl Checker {
    fn push(&mut self, line: usize, col: usize, code: Code, message: String) {
        if !self.cap.admit(code, Pos::new(line, col)) {
            return;
        }
        self.out.push(UnitFinding {
            line,
            col,
            code,
            message,
        });
    }

    /// A finding about `value`, which may be an unrendered placeholder: with --template it is
    /// taken as valid (nothing is reported); without, the message says what it looks like.
    fn about_value(&mut self, line: usize, col: usize, code: Code, value: &str, message: String) {
        if let Some(message) = template::annotate(message, value, self.template) {
            self.push(line, col, code, message);
        }
    }

    fn line(&mut self, index: usize, first: &str, logical: &str) {
        let trimmed = logical.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\r'));
        if trimmed.is_empty() {
            return;
        }
        let indent = first.chars().take_while(|c| c.is_whitespace()).count();
        if let Some(inner) = trimmed.strip_prefix('[') {
            self.section(index, indent + 1, inner);
            return;
        }
        let Some((key, value)) = trimmed.split_once('=') else {
            return; // the syntax check reports it
        };
        let key = key.trim_end();
        let value = value.trim_start();
        if key.is_empty() {
            return;
        }
        // The value's column, while it is on the first physical line.
        let value_col = {
            let offset = trimmed.len() - value.len();
            let col = indent + trimmed[..offset].chars().count() + 1;
            if first.chars().count() >= col {
                col
            } else {
                indent + 1
            }
        };
        match self.section.clone() {
            Some(Section::Known(section)) => {
                self.directive(index, indent + 1, &section, key, value, value_col)
            }
            Some(Section::Fleet) => self.fleet(index, indent + 1, key, value, value_col),
            Some(Section::Skipped) | None => {}
        }
    }

    fn section(&mut self, index: usize, col: usize, inner: &str) {
        let Some((name, after)) = inner.split_once(']') else {
            self.section = Some(Section::Skipped);
            return;
        };
        if !after.trim().is_empty() || name.is_empty() {
            self.section = Some(Section::Skipped);
            return;
        }
        if name == "X-Fleet" {
            self.section = Some(Section::Fleet);
            return;
        }
        if name.starts_with("X-") {
            self.section = Some(Section::Skipped);
            return;
        }
        if self.kind.has_section(name) {
            self.section = Some(Section::Known(name.to_string()));
            return;
        }
        self.section = Some(Section::Skipped);
        if template::has_placeholder(name) && self.template {
            return;
        }
        let sections = self.kind.sections();
        let hint = match directives::nearest(name, sections.iter().copied()) {
            Some(s) => format!("; did you mean [{s}]?"),
            None => format!(
                "; {} has {}",
                self.kind.describe(),
                sections
                    .iter()
                    .map(|s| format!("[{s}]"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        };
        let msg = format!(
            "unknown section {} in {}: systemd ignores it and every line in it{hint}",
            excerpt(&format!("[{name}]"), 42),
            self.kind.describe()
        );
        self.about_value(index, col, Code::UnitUnknownSection, name, msg);
    }

    fn directive(
        &mut self,
        index: usize,
        col: usize,
        section: &str,
        key: &str,
        value: &str,
        value_col: usize,
    ) {
        // systemd ignores keys starting with "X-" silently: they are extensions.
        if key.starts_with("X-") {
            return;
        }
        let Some(d) = self.kind.lookup(section, key) else {
            let hint = match directives::nearest(key, self.kind.keys(section).map(|d| d.key)) {
                Some(s) => format!("; did you mean \"{s}\"?"),
                None => String::new(),
            };
            let msg = format!(
                "unknown directive {} in [{section}]: systemd ignores it{hint}",
                excerpt(key, 40)
            );
            self.about_value(index, col, Code::UnitUnknownKey, key, msg);
            return;
        };
        if d.specifiers {
            self.specifiers(index, value, value_col, bad_specifiers(value), key);
        }
        // An empty value resets a setting to its default.
        if value.is_empty() {
            return;
        }
        let why = match d.ty {
            Ty::Other => return,
            Ty::Bool if directives::is_bool(value) => return,
            Ty::Bool => "a boolean (yes/no, true/false, on/off, 1/0)".to_string(),
            Ty::Span if directives::is_span(value) => return,
            Ty::Span => {
                "a time span such as \"90\", \"5min 20s\" or \"infinity\" (a number without a unit is seconds)".to_string()
            }
            Ty::Enum(allowed) if allowed.contains(&value) => return,
            Ty::Enum(allowed) => format!("one of {}", allowed.join(", ")),
        };
        let msg = format!(
            "invalid value {} for {key}=: systemd expects {why}",
            excerpt(value, 40)
        );
        self.about_value(index, value_col, Code::UnitInvalidValue, value, msg);
    }

    fn specifiers(
        &mut self,
        index: usize,
        value: &str,
        value_col: usize,
        bad: Vec<(usize, char)>,
        key: &str,
    ) {
        for (offset, letter) in bad {
            let col = value_col + value[..offset].chars().count();
            let msg = format!(
                "\"%{letter}\" in {key}= is not a systemd specifier, so systemd refuses the line; write \"%%\" for a literal \"%\""
            );
            self.about_value(index, col, Code::UnitSpecifier, value, msg);
        }
    }

    fn fleet(&mut self, index: usize, col: usize, key: &str, value: &str, value_col: usize) {
        if let Some((_, new)) = FLEET_DEPRECATED.iter().find(|(old, _)| *old == key) {
            self.push(
                index,
                col,
                Code::FleetDeprecatedKey,
                format!("deprecated [X-Fleet] key \"{key}\"; fleet calls it \"{new}\" now"),
            );
        } else if !FLEET_KEYS.contains(&key) {
            let hint = match directives::nearest(key, FLEET_KEYS.iter().copied()).or_else(|| {
                key.strip_prefix("X-")
                    .and_then(|k| directives::nearest(k, FLEET_KEYS.iter().copied()))
            }) {
                Some(s) => format!("; did you mean \"{s}\"?"),
                None => format!("; fleet knows {}", FLEET_KEYS.join(", ")),
            };
            let msg = format!(
                "unknown [X-Fleet] key {}: fleet ignores it{hint}",
                excerpt(key, 40)
            );
            self.about_value(index, col, Code::FleetUnknownKey, key, msg);
            return;
        }
        let written = key;
        let key = FLEET_DEPRECATED
            .iter()
            .find(|(old, _)| *old == key)
            .map_or(key, |(_, new)| new);
        for (offset, letter) in
            value
                .char_indices()
                .filter(|(_, c)| *c == '%')
                .filter_map(|(i, _)| {
                    value[i + 1..]
                        .chars()
                        .next()
                        .filter(|n| n.is_ascii_alphanumeric() && !FLEET_SPECIFIERS.contains(*n))
                        .map(|n| (i, n))
                })
        {
            let at = value_col + value[..offset].chars().count();
            let msg = format!(
                "fleet expands only %n, %N, %p and %i in [X-Fleet]; \"%{letter}\" stays as it is"
            );
            self.about_value(index, at, Code::FleetSpecifier, value, msg);
        }
        match key {
            "Global" => {
                if directives::is_bool(value) {
                    if matches!(
                        value.to_ascii_lowercase().as_str(),
                        "1" | "yes" | "y" | "true" | "t" | "on"
                    ) {
                        self.fleet_global = true;
                    }
                } else {
                    let msg = format!(
                        "invalid value {} for Global=: fleet expects a boolean (true or false)",
                        excerpt(value, 40)
                    );
                    self.about_value(index, value_col, Code::FleetInvalidValue, value, msg);
                }
            }
            "MachineID" => {
                let machine_id = value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit());
                // A specifier (%m in a template) is filled in by fleet.
                if !machine_id && !value.contains('%') {
                    let msg = format!(
                        "invalid value {} for MachineID=: a machine ID is 32 hex digits (as in /etc/machine-id)",
                        excerpt(value, 40)
                    );
                    self.about_value(index, value_col, Code::FleetInvalidValue, value, msg);
                }
                self.fleet_others.push((index, col, written.to_string()));
            }
            "MachineMetadata" => {}
            _ => self.fleet_others.push((index, col, written.to_string())),
        }
    }

    fn finish_fleet(&mut self) {
        if !self.fleet_global {
            return;
        }
        for (index, col, key) in std::mem::take(&mut self.fleet_others) {
            self.push(
                index,
                col,
                Code::FleetGlobalConflict,
                format!("{key}= cannot be combined with Global=true: a global unit runs on every machine (only MachineMetadata= may narrow it)"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(name: &str, text: &str) -> Vec<(usize, Code)> {
        check(FileKind::from_name(name).unwrap(), text, Default::default())
            .into_iter()
            .map(|f| (f.line, f.code))
            .collect()
    }

    fn messages(name: &str, text: &str) -> Vec<String> {
        check(FileKind::from_name(name).unwrap(), text, Default::default())
            .into_iter()
            .map(|f| f.message)
            .collect()
    }

    #[test]
    fn clean_units_have_no_findings() {
        let unit = "[Unit]\nDescription=%n on %H\nRequires=docker.service\nAfter=docker.service\n\n[Service]\nType=oneshot\nRemainAfterExit=yes\nTimeoutStartSec=0\nRestartSec=5min 20s\nExecStartPre=-/usr/bin/docker rm %p-%i\nExecStart=/usr/bin/docker run --name %p-%i -p %i:80 nginx\nEnvironment=\"A=100%%\"\nX-Custom=anything\n\n[Install]\nWantedBy=multi-user.target\n\n[X-Other]\nAnything=goes\n";
        assert_eq!(codes("web@.service", unit), vec![]);
        let timer = "[Timer]\nOnCalendar=*-*-* 04:00:00\nOnUnitActiveSec=1h\nPersistent=true\n";
        assert_eq!(codes("a.timer", timer), vec![]);
        let network =
            "[Match]\nName=eth0\n\n[Network]\nDHCP=yes\nDNS=8.8.8.8\n\n[DHCPv4]\nUseDNS=false\n";
        assert_eq!(codes("10-eth0.network", network), vec![]);
    }

    #[test]
    fn unknown_directives_with_suggestions() {
        let text = "[Unit]\nRequies=a.service\n[Service]\nRestrt=always\nExecStartpre=/bin/true\n";
        assert_eq!(
            codes("a.service", text),
            vec![
                (1, Code::UnitUnknownKey),
                (3, Code::UnitUnknownKey),
                (4, Code::UnitUnknownKey)
            ]
        );
        let m = messages("a.service", text);
        assert!(m[0].contains("did you mean \"Requires\""), "{m:?}");
        assert!(m[1].contains("did you mean \"Restart\""), "{m:?}");
        assert!(m[2].contains("did you mean \"ExecStartPre\""), "{m:?}");
    }

    #[test]
    fn unknown_and_misplaced_sections() {
        let text = "[Servce]\nExecStart=/bin/true\n[Timer]\nOnCalendar=daily\n";
        assert_eq!(
            codes("a.service", text),
            vec![(0, Code::UnitUnknownSection), (2, Code::UnitUnknownSection)]
        );
        assert!(messages("a.service", text)[0].contains("did you mean [Service]"));
    }

    #[test]
    fn typed_values() {
        let text = "[Service]\nType=simpel\nRestart=sometimes\nKillMode=all\nNotifyAccess=any\nRemainAfterExit=maybe\nTimeoutStartSec=5 minutes later\nRestartSec=\n";
        assert_eq!(
            codes("a.service", text)
                .iter()
                .map(|c| c.0)
                .collect::<Vec<_>>(),
            vec![1, 2, 3, 4, 5, 6]
        );
        let m = messages("a.service", text);
        assert!(m[0].contains("simple, forking, oneshot"), "{}", m[0]);
        assert!(m[4].contains("boolean"), "{}", m[4]);
    }

    #[test]
    fn specifiers() {
        let text =
            "[Service]\nExecStart=/bin/sh -c 'date +%F'\nExecStop=/bin/echo 100% done %-x %\n";
        let f = check(
            FileKind::from_name("a.service").unwrap(),
            text,
            Default::default(),
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(
            (f[0].line, f[0].col, f[0].code),
            (1, 29, Code::UnitSpecifier)
        );
    }

    #[test]
    fn fleet_section() {
        let text = "[X-Fleet]\nX-MachineOf=db.service\nX-Conflicts=web@*.service\nGlobal=maybe\nMachineID=abc\nMachineMetadata=role=web\nConflicts=%m.service\n";
        assert_eq!(
            codes("web@.service", text),
            vec![
                (1, Code::FleetUnknownKey),
                (2, Code::FleetDeprecatedKey),
                (3, Code::FleetInvalidValue),
                (4, Code::FleetInvalidValue),
                (6, Code::FleetSpecifier),
            ]
        );
        let m = messages("web@.service", text);
        assert!(m[0].contains("did you mean \"MachineOf\""), "{}", m[0]);
        assert!(m[1].contains("\"Conflicts\""), "{}", m[1]);
        let global = "[X-Fleet]\nGlobal=true\nMachineMetadata=region=us\nConflicts=a.service\n";
        assert_eq!(
            codes("a.service", global),
            vec![(3, Code::FleetGlobalConflict)]
        );
    }

    #[test]
    fn placeholders() {
        let text = "[Service]\nRestart={{ restart }}\nRestartSec=${delay}\n";
        let kind = FileKind::from_name("a.service").unwrap();
        let template = super::super::Options {
            template: true,
            ..Default::default()
        };
        assert!(check(kind, text, template).is_empty());
        let f = check(kind, text, Default::default());
        assert_eq!(f.len(), 2);
        assert!(f
            .iter()
            .all(|f| f.message.contains("unrendered template placeholder")));
    }

    #[test]
    fn default_instance() {
        assert!(has_default_instance(
            "[Install]\nWantedBy=a.target\nDefaultInstance=80\n"
        ));
        assert!(!has_default_instance("[Service]\nDefaultInstance=80\n"));
        assert!(!has_default_instance("[Install]\nDefaultInstance=\n"));
    }
}
