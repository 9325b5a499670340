//! Unit names as systemd reads them (`unit_name_is_valid` and friends): `PREFIX[@INSTANCE].SUFFIX`,
//! the unit types it knows, which units belong to networkd, and the specifiers an [Install]
//! value may use. The validator words its own messages from [`NameError`]; apply uses the same
//! parse, so a name one accepts the other can enable.

/// Unit type suffixes systemd (and networkd, for the last three) accepts, with the dot.
pub const UNIT_SUFFIXES: &[&str] = &[
    ".service",
    ".socket",
    ".device",
    ".mount",
    ".automount",
    ".swap",
    ".target",
    ".path",
    ".timer",
    ".slice",
    ".scope",
    ".network",
    ".netdev",
    ".link",
];

/// systemd refuses names of 256 bytes or more (UNIT_NAME_MAX includes the NUL).
pub const UNIT_NAME_MAX: usize = 255;

/// systemd's VALID_CHARS for a unit name, plus `@`, which only the instance may hold (the
/// prefix ends at the first `@`).
pub fn is_unit_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_' | '.' | '\\' | '@')
}

/// `.network`, `.netdev` and `.link` units belong to networkd, not to systemd's manager.
pub fn is_network_unit(name: &str) -> bool {
    name.ends_with(".network") || name.ends_with(".netdev") || name.ends_with(".link")
}

/// A unit name whose only fault is its suffix (none, or one systemd does not know): the
/// reference writes, masks and enables such a unit as it is, so apply does too, with a warning.
pub fn lacks_known_unit_suffix(name: &str) -> bool {
    let known = name
        .rfind('.')
        .is_some_and(|dot| UNIT_SUFFIXES.contains(&&name[dot..]));
    !known && UnitName::parse(&format!("{name}.service")).is_ok()
}

/// Why a string is no unit name, in the order the checks run (the first fault found).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    Empty,
    /// A `/`: a unit name is a file name, not a path.
    Slash,
    /// Longer than [`UNIT_NAME_MAX`] bytes (the length).
    TooLong(usize),
    /// No `.SUFFIX`: no dot, or nothing after the last one.
    NoSuffix,
    /// Nothing before `.SUFFIX`.
    NoStem,
    /// A character systemd does not allow in a unit name.
    BadChar(char),
    /// Nothing before the `@`.
    NoPrefix,
}

impl std::fmt::Display for NameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NameError::Empty => write!(f, "it is empty"),
            NameError::Slash => write!(f, "it contains \"/\""),
            NameError::TooLong(len) => {
                write!(
                    f,
                    "it is {len} bytes long; systemd allows at most {UNIT_NAME_MAX}"
                )
            }
            NameError::NoSuffix => write!(f, "it has no type suffix"),
            NameError::NoStem => write!(f, "it has no name before its suffix"),
            NameError::BadChar(c) => write!(f, "it contains {c:?}, which systemd does not allow"),
            NameError::NoPrefix => write!(f, "it has no name before \"@\""),
        }
    }
}

/// `PREFIX[@INSTANCE].SUFFIX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitName {
    pub full: String,
    pub prefix: String,
    /// None for a plain unit, Some("") for a template.
    pub instance: Option<String>,
    /// The type, without the dot; not necessarily one systemd knows ([`UnitName::known_type`]).
    pub suffix: String,
}

impl UnitName {
    /// systemd's rules for a unit name, except that any suffix is taken: the reference enables
    /// units of unknown types as they are, and the validator reports them by its own rule.
    pub fn parse(name: &str) -> Result<UnitName, NameError> {
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.contains('/') {
            return Err(NameError::Slash);
        }
        if name.len() > UNIT_NAME_MAX {
            return Err(NameError::TooLong(name.len()));
        }
        let Some((stem, suffix)) = name.rsplit_once('.') else {
            return Err(NameError::NoSuffix);
        };
        if suffix.is_empty() {
            return Err(NameError::NoSuffix);
        }
        if stem.is_empty() {
            return Err(NameError::NoStem);
        }
        if let Some(bad) = stem
            .chars()
            .chain(suffix.chars())
            .find(|c| !is_unit_name_char(*c))
        {
            return Err(NameError::BadChar(bad));
        }
        if suffix.contains('@') {
            return Err(NameError::BadChar('@'));
        }
        let (prefix, instance) = match stem.split_once('@') {
            Some((prefix, instance)) => (prefix, Some(instance.to_string())),
            None => (stem, None),
        };
        if prefix.is_empty() {
            return Err(NameError::NoPrefix);
        }
        Ok(UnitName {
            full: name.to_string(),
            prefix: prefix.to_string(),
            instance,
            suffix: suffix.to_string(),
        })
    }

    /// Whether systemd (or networkd) knows the type.
    pub fn known_type(&self) -> bool {
        UNIT_SUFFIXES
            .iter()
            .any(|s| s.strip_prefix('.') == Some(self.suffix.as_str()))
    }

    pub fn is_network(&self) -> bool {
        is_network_unit(&self.full)
    }

    pub fn is_template(&self) -> bool {
        self.instance.as_deref() == Some("")
    }

    /// `PREFIX@.SUFFIX` of a template or an instance; None for a plain unit.
    pub fn template(&self) -> Option<String> {
        self.instance
            .as_ref()
            .map(|_| format!("{}@.{}", self.prefix, self.suffix))
    }

    /// The template instantiated with `instance`; a plain unit or instance stays as it is.
    pub fn instantiate(&self, instance: Option<&str>) -> UnitName {
        match instance {
            Some(instance) if self.is_template() && !instance.is_empty() => UnitName {
                full: format!("{}@{instance}.{}", self.prefix, self.suffix),
                instance: Some(instance.to_string()),
                ..self.clone()
            },
            _ => self.clone(),
        }
    }

    /// Resolves the unit specifiers that need nothing but the name (`%n %N %p %P %i %I %j %J
    /// %%`), which are all an [Install] value needs offline.
    pub fn expand_specifiers(&self, value: &str) -> Result<String, String> {
        let stem = self
            .full
            .strip_suffix(&format!(".{}", self.suffix))
            .unwrap_or(&self.full);
        let instance = self.instance.as_deref().unwrap_or("");
        let last_dash = |s: &str| s.rsplit_once('-').map_or(s, |(_, last)| last).to_string();
        let mut out = String::with_capacity(value.len());
        let mut chars = value.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            let replacement = match chars.next() {
                Some('%') => "%".to_string(),
                Some('n') => self.full.clone(),
                Some('N') => stem.to_string(),
                Some('p') => self.prefix.clone(),
                Some('P') => unescape(&self.prefix),
                Some('i') => instance.to_string(),
                Some('I') => unescape(instance),
                Some('j') => last_dash(&self.prefix),
                Some('J') => unescape(&last_dash(&self.prefix)),
                Some(other) => {
                    return Err(format!(
                        "specifier %{other} in {value:?} is not supported offline"
                    ))
                }
                None => return Err(format!("{value:?} ends in a lone %")),
            };
            out.push_str(&replacement);
        }
        Ok(out)
    }
}

/// systemd's unit-name unescaping: `-` is `/`, `\xNN` a byte.
pub fn unescape(escaped: &str) -> String {
    let bytes = escaped.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'-' => out.push(b'/'),
            b'\\' if bytes.get(i + 1) == Some(&b'x') => {
                let hex = bytes
                    .get(i + 2..i + 4)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(byte) => {
                        out.push(byte);
                        i += 4;
                        continue;
                    }
                    None => out.push(b'\\'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_of_a_name() {
        let n = UnitName::parse("getty@ttyS0.service").unwrap();
        assert_eq!(
            (n.prefix.as_str(), n.instance.as_deref(), n.suffix.as_str()),
            ("getty", Some("ttyS0"), "service")
        );
        assert_eq!(n.template().as_deref(), Some("getty@.service"));
        let t = UnitName::parse("getty@.service").unwrap();
        assert!(t.is_template());
        assert_eq!(t.instantiate(Some("tty1")).full, "getty@tty1.service");
        assert_eq!(t.instantiate(Some("")).full, "getty@.service");
        let plain = UnitName::parse("docker.service").unwrap();
        assert_eq!(plain.instance, None);
        assert_eq!(plain.template(), None);
        assert!(plain.known_type());
        assert!(!UnitName::parse("docker.io").unwrap().known_type());
        // Only the first `@` splits; the rest is the instance's.
        assert_eq!(
            UnitName::parse("a@b@c.service")
                .unwrap()
                .instance
                .as_deref(),
            Some("b@c")
        );
    }

    #[test]
    fn systemd_refuses_these() {
        assert_eq!(UnitName::parse(""), Err(NameError::Empty));
        assert_eq!(UnitName::parse("../x.service"), Err(NameError::Slash));
        assert_eq!(UnitName::parse("docker"), Err(NameError::NoSuffix));
        assert_eq!(UnitName::parse("docker."), Err(NameError::NoSuffix));
        assert_eq!(UnitName::parse(".service"), Err(NameError::NoStem));
        assert_eq!(UnitName::parse("@.service"), Err(NameError::NoPrefix));
        assert_eq!(UnitName::parse("a b.service"), Err(NameError::BadChar(' ')));
        assert_eq!(
            UnitName::parse("a\0.service"),
            Err(NameError::BadChar('\0'))
        );
        assert_eq!(UnitName::parse("a.ser vice"), Err(NameError::BadChar(' ')));
        assert_eq!(UnitName::parse("a.b@c"), Err(NameError::BadChar('@')));
        // 255 bytes is the most: UNIT_NAME_MAX counts the NUL.
        let max = format!("{}.service", "a".repeat(UNIT_NAME_MAX - ".service".len()));
        assert!(UnitName::parse(&max).is_ok());
        let long = format!("{max}x");
        assert_eq!(UnitName::parse(&long), Err(NameError::TooLong(256)));
    }

    #[test]
    fn network_units() {
        for n in ["10-eth.network", "bond0.netdev", "40-mgmt.link"] {
            assert!(is_network_unit(n), "{n}");
            assert!(UnitName::parse(n).unwrap().is_network(), "{n}");
        }
        for n in ["docker.service", "network.target", "link.mount"] {
            assert!(!is_network_unit(n), "{n}");
        }
    }

    #[test]
    fn unknown_suffix_only() {
        assert!(lacks_known_unit_suffix("foo"));
        assert!(lacks_known_unit_suffix("bar.servce"));
        assert!(!lacks_known_unit_suffix("bar.service"));
        assert!(!lacks_known_unit_suffix("a b"));
        assert!(!lacks_known_unit_suffix(""));
    }

    #[test]
    fn specifiers_from_the_name() {
        let n = UnitName::parse("foo-bar@a\\x2db.service").unwrap();
        assert_eq!(
            n.expand_specifiers("%n %N %p %P %i %I %j %J %%").unwrap(),
            "foo-bar@a\\x2db.service foo-bar@a\\x2db foo-bar foo/bar a\\x2db a-b bar bar %"
        );
        assert!(n.expand_specifiers("%H").is_err());
        assert!(n.expand_specifiers("x%").is_err());
        assert_eq!(unescape("a-b\\x2dc\\xzz"), "a/b-c\\xzz");
    }
}
