//! The substitution variables (`$public_ipv4` and friends): marked while planning, found again
//! in what was converted, and either taken from the platform's metadata (units' `Exec*=` lines)
//! or left as written and reported.

use std::path::Path;

use crate::metadata::Addresses;
use crate::report::Pos;

use super::locate::Locator;
use super::Converter;

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

pub(super) fn marker_addresses() -> Addresses {
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

impl Converter<'_> {
    /// Finds the substitution variables in everything converted: with a platform, the
    /// `Exec*=` lines of units take the metadata agent's variables; elsewhere they are reported.
    pub(super) fn substitutions(&mut self) {
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
