//! systemd's vocabulary of unit, .network, .netdev and .link files: which directives each section
//! has and the type of the common typed ones. The table itself is generated (directives/table.rs).

mod table;

pub use table::SOURCE_VERSION;

/// How a directive's value is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// Any value: only the name is checked.
    Other,
    /// systemd's parse_boolean.
    Bool,
    /// systemd's parse_sec: a time span such as `5min 20s`, or `infinity`.
    Span,
    /// One of these words.
    Enum(&'static [&'static str]),
}

#[derive(Debug, PartialEq, Eq)]
pub struct Directive {
    pub section: &'static str,
    pub key: &'static str,
    pub ty: Ty,
    /// The value goes through systemd's %-specifier expansion.
    pub specifiers: bool,
}

const fn d(section: &'static str, key: &'static str, ty: Ty, specifiers: bool) -> Directive {
    Directive {
        section,
        key,
        ty,
        specifiers,
    }
}

/// The kind of file, which decides the table and the sections it may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A unit of this type (`service`, `timer`, …); `None` when the name does not say (a
    /// standalone drop-in), and any unit section is taken.
    Unit(Option<&'static str>),
    Network,
    Netdev,
    Link,
}

impl FileKind {
    /// The kind a file of this name is, by its suffix; None for a name that is no unit file.
    pub fn from_name(name: &str) -> Option<FileKind> {
        let (_, suffix) = name.rsplit_once('.')?;
        match suffix {
            "network" => Some(FileKind::Network),
            "netdev" => Some(FileKind::Netdev),
            "link" => Some(FileKind::Link),
            _ => table::UNIT_SECTIONS
                .iter()
                .find(|(t, _)| *t == suffix)
                .map(|(t, _)| FileKind::Unit(Some(t))),
        }
    }

    /// The kind of the file at `path`: by its name, or a drop-in (`*.conf`) by the unit its
    /// `NAME.d` directory belongs to.
    pub fn from_path(path: &str) -> Option<FileKind> {
        let mut parts = path.rsplit('/');
        let file = parts.next()?;
        if let Some(kind) = FileKind::from_name(file) {
            return Some(kind);
        }
        if !file.ends_with(".conf") {
            return None;
        }
        FileKind::from_name(parts.next()?.strip_suffix(".d")?)
    }

    fn table(self) -> &'static [Directive] {
        match self {
            FileKind::Unit(_) => table::UNIT,
            FileKind::Network => table::NETWORK,
            FileKind::Netdev => table::NETDEV,
            FileKind::Link => table::LINK,
        }
    }

    /// How messages name the file: `a .service unit`, `a .network file`.
    pub fn describe(self) -> String {
        match self {
            FileKind::Unit(Some(t)) => format!("a .{t} unit"),
            FileKind::Unit(None) => "a unit file".to_string(),
            FileKind::Network => "a .network file".to_string(),
            FileKind::Netdev => "a .netdev file".to_string(),
            FileKind::Link => "a .link file".to_string(),
        }
    }

    /// Whether a file of this kind has `[section]`.
    pub fn has_section(self, section: &str) -> bool {
        match self {
            FileKind::Unit(Some(t)) => table::UNIT_SECTIONS
                .iter()
                .any(|(u, sections)| *u == t && sections.contains(&section)),
            FileKind::Unit(None) => table::UNIT_SECTIONS
                .iter()
                .any(|(_, sections)| sections.contains(&section)),
            _ => self.keys(section).next().is_some(),
        }
    }

    /// The sections a file of this kind has, for suggestions.
    pub fn sections(self) -> Vec<&'static str> {
        match self {
            FileKind::Unit(Some(t)) => table::UNIT_SECTIONS
                .iter()
                .filter(|(u, _)| *u == t)
                .flat_map(|(_, s)| s.iter().copied())
                .collect(),
            FileKind::Unit(None) => {
                let mut all: Vec<&str> = table::UNIT_SECTIONS
                    .iter()
                    .flat_map(|(_, s)| s.iter().copied())
                    .collect();
                all.sort_unstable();
                all.dedup();
                all
            }
            _ => {
                let mut all: Vec<&str> = self.table().iter().map(|d| d.section).collect();
                all.dedup();
                all
            }
        }
    }

    /// The directive `[section] key`, found by binary search in the sorted table.
    pub fn lookup(self, section: &str, key: &str) -> Option<&'static Directive> {
        let table = self.table();
        table
            .binary_search_by(|d| (d.section, d.key).cmp(&(section, key)))
            .ok()
            .map(|i| &table[i])
    }

    /// The directives of one section.
    pub fn keys(self, section: &str) -> impl Iterator<Item = &'static Directive> {
        let table = self.table();
        let start = table.partition_point(|d| d.section < section);
        let end = start + table[start..].partition_point(|d| d.section == section);
        table[start..end].iter()
    }
}

/// The word within edit distance 2 (or equal but for case) that `word` most likely meant.
pub fn nearest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = if c.eq_ignore_ascii_case(word) {
            0
        } else if c.len().abs_diff(word.len()) > 2 {
            continue;
        } else {
            super::values::edit_distance(&lower, &c.to_ascii_lowercase())
        };
        if d <= 2 && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// systemd's parse_boolean.
pub fn is_bool(v: &str) -> bool {
    [
        "1", "yes", "y", "true", "t", "on", "0", "no", "n", "false", "f", "off",
    ]
    .iter()
    .any(|b| b.eq_ignore_ascii_case(v))
}

/// systemd's parse_time: `infinity`, or numbers (a fraction allowed) each with an optional unit.
pub fn is_span(v: &str) -> bool {
    const UNITS: &[&str] = &[
        "seconds", "second", "sec", "s", "minutes", "minute", "min", "months", "month", "M",
        "msec", "ms", "m", "hours", "hour", "hr", "h", "days", "day", "d", "weeks", "week", "w",
        "years", "year", "y", "usec", "us", "μs", "µs",
    ];
    let ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    let v = v.trim_start_matches(ws);
    if let Some(rest) = v.strip_prefix("infinity") {
        return rest.trim_start_matches(ws).is_empty();
    }
    let mut p = v;
    let mut something = false;
    loop {
        p = p.trim_start_matches(ws);
        if p.is_empty() {
            return something;
        }
        let digits = p.strip_prefix('+').unwrap_or(p);
        let int_len = digits.bytes().take_while(u8::is_ascii_digit).count();
        let mut rest = &digits[int_len..];
        if let Some(frac) = rest.strip_prefix('.') {
            let n = frac.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return false;
            }
            rest = &frac[n..];
        } else if int_len == 0 {
            return false;
        }
        let after_ws = rest.trim_start_matches(ws);
        match UNITS.iter().find(|u| after_ws.starts_with(**u)) {
            Some(u) => p = &after_ws[u.len()..],
            None if after_ws.len() < rest.len() || rest.is_empty() => p = after_ws,
            None => return false,
        }
        something = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_for_binary_search() {
        for t in [table::UNIT, table::NETWORK, table::NETDEV, table::LINK] {
            for w in t.windows(2) {
                assert!(
                    (w[0].section, w[0].key) < (w[1].section, w[1].key),
                    "{}.{} before {}.{}",
                    w[0].section,
                    w[0].key,
                    w[1].section,
                    w[1].key
                );
            }
        }
    }

    #[test]
    fn lookups() {
        let service = FileKind::from_name("apache@.service").unwrap();
        assert_eq!(service, FileKind::Unit(Some("service")));
        assert!(service.lookup("Unit", "Requires").is_some());
        assert!(service.lookup("Service", "ExecStartPre").is_some());
        assert!(service.lookup("Service", "Requies").is_none());
        assert_eq!(
            service.lookup("Service", "RemainAfterExit").unwrap().ty,
            Ty::Bool
        );
        assert_eq!(
            service.lookup("Service", "RestartSec").unwrap().ty,
            Ty::Span
        );
        assert!(
            matches!(service.lookup("Service", "Type").unwrap().ty, Ty::Enum(v) if v.contains(&"oneshot"))
        );
        assert!(service.has_section("Install") && !service.has_section("Timer"));
        assert!(FileKind::from_name("a.timer").unwrap().has_section("Timer"));
        assert!(FileKind::Network.lookup("Network", "DHCP").is_some());
        assert!(FileKind::Network.has_section("Match"));
        assert!(FileKind::Netdev.lookup("NetDev", "Kind").is_some());
        assert!(FileKind::Link.lookup("Link", "MACAddressPolicy").is_some());
        assert_eq!(FileKind::from_name("x.conf"), None);
        assert_eq!(FileKind::from_name("service"), None);
        // Deprecated names systemd still takes.
        assert!(service.lookup("Unit", "BindTo").is_some());
        assert!(service.lookup("Unit", "StartLimitInterval").is_some());
        assert!(service.lookup("Service", "StartLimitInterval").is_some());
        assert!(service.lookup("Service", "MemoryLimit").is_some());
        assert!(service.lookup("Service", "PermissionsStartOnly").is_some());
    }

    #[test]
    fn suggestions() {
        let keys = |s: &str| {
            FileKind::Unit(Some("service"))
                .keys(s)
                .map(|d| d.key)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            nearest("Requies", keys("Unit").into_iter()),
            Some("Requires")
        );
        assert_eq!(
            nearest("Restrt", keys("Service").into_iter()),
            Some("Restart")
        );
        assert_eq!(
            nearest("ExecStartpre", keys("Service").into_iter()),
            Some("ExecStartPre")
        );
        assert_eq!(nearest("Frobnicate", keys("Service").into_iter()), None);
    }

    #[test]
    fn booleans_and_spans() {
        for v in ["yes", "TRUE", "1", "off", "N"] {
            assert!(is_bool(v), "{v}");
        }
        for v in ["maybe", "", "2", "enabled"] {
            assert!(!is_bool(v), "{v}");
        }
        for v in [
            "5", "5s", "1min 30s", "1min30s", "0", "infinity", " 2 h", "1.5s", "100ms", "3 weeks",
            "10us", "+5",
        ] {
            assert!(is_span(v), "{v}");
        }
        for v in [
            "",
            "5x",
            "-1",
            "1.",
            "3.sec",
            "ten",
            "infinity s",
            "12.34.56",
            "5 seconds later",
        ] {
            assert!(!is_span(v), "{v}");
        }
    }
}
