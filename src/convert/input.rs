//! Reading the input: the parts as `apply` reads them, with each cloud-config's positions, and
//! the neutral machine they are planned against.

use std::borrow::Cow;
use std::path::Path;

use crate::config::{self, yaml};
use crate::plan::{Account, FileStat, Part, State};
use crate::userdata::{self, Kind, PartKind};
use crate::userdata::{substitute, substitute_noting};

use super::locate::Locator;
use super::substitution::marker_addresses;

pub(super) struct Source {
    pub(super) part: Part,
    pub(super) locator: Option<Locator>,
    /// Where the part starts in the whole input (for scripts and Ignition parts).
    pub(super) first_line: usize,
}

fn config_part(
    label: String,
    body: &[u8],
    first_line: usize,
    verbatim: bool,
    multi: bool,
) -> Option<Source> {
    let text = std::str::from_utf8(body).ok()?;
    let substituted = substitute_noting(text, &marker_addresses(), &mut Vec::new());
    let (parsed, tree) = config::parse_keeping_tree(&substituted, config::Options::default());
    if !parsed.syntax_ok {
        // Substitution eats the backslash of `\$private_ipv4`, which can break a quoted
        // scalar; apply then skips the part, and so does convert (with a finding).
        return Some(ignored(label, BROKEN, first_line));
    }
    // Positions are those of the text as written: the tree of the parse above when
    // substitution changed nothing (the common case), else a parse of its own.
    let tree = match substituted {
        Cow::Borrowed(_) => tree,
        Cow::Owned(_) => yaml::parse(text).ok(),
    };
    Some(Source {
        locator: Some(Locator::new(
            text,
            tree,
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
pub(super) const BROKEN: &str = "substituted-broken";

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
pub(super) fn read_parts(data: &[u8]) -> Vec<Source> {
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
pub(super) struct Neutral;

impl State for Neutral {
    fn read(&self, _: &Path) -> Option<Vec<u8>> {
        None
    }
    fn stat(&self, _: &Path) -> Option<FileStat> {
        None
    }
    fn list(&self, _: &Path) -> Option<Vec<std::ffi::OsString>> {
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
