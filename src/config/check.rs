//! Reads the YAML tree through the schema: every finding of the validator and the normalized
//! values the typed model is built from come out of this one walk. The walk over mappings is
//! here; `value` checks one value against its field, `scalar` reads plain scalars by YAML 1.1,
//! `units` and `write_files` hold the checks that need several keys of an entry.

mod scalar;
mod units;
mod value;
mod write_files;

use std::borrow::Cow;
use std::collections::HashMap;

use crate::config::schema::{self, Field, Section, SectionKind};
use crate::config::yaml::{Document, NodeId, NodeKind, Style};
use crate::config::{template, values, Options};
use crate::report::Finding;
use crate::report::Pos;
use crate::rules::Code;

use scalar::{classify_plain, Plain};
pub use write_files::check_file_path;

/// A value that passed its type check, keyed by the schema's canonical names.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    /// A `!!binary` scalar, or decoded `write_files` content.
    Bytes(Vec<u8>),
    Int(i64),
    Float(f64),
    Bool(bool),
    List(Vec<Value>),
    Map(Entries),
}

/// The keys of one mapping that passed their checks, in document order, with the errors found
/// in the mapping itself (not inside a nested mapping, which has its own), so that apply can skip
/// the whole entry that holds an invalid value instead of filling the gap with a default.
#[derive(Debug, Clone, Default)]
pub struct Entries {
    pub values: Vec<(&'static Field, Value)>,
    /// Where the mapping starts.
    pub pos: Pos,
    /// The errors inside this mapping: the key whose value failed (None for the mapping as a
    /// whole, e.g. a missing required key) and the validator's message, as `line N: …`.
    pub invalid: Vec<(Option<&'static str>, String)>,
    /// What the validator reports as an error but apply accepts as the reference does, with a
    /// warning (a relative `write_files` path, a unit name without a known suffix).
    pub lenient: Vec<String>,
}

impl PartialEq for Entries {
    fn eq(&self, other: &Entries) -> bool {
        self.values.len() == other.values.len()
            && self
                .values
                .iter()
                .zip(&other.values)
                .all(|((fa, va), (fb, vb))| fa.key == fb.key && va == vb)
            && self.invalid == other.invalid
            && self.lenient == other.lenient
    }
}

impl Entries {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values
            .iter()
            .find(|(f, _)| f.key == key)
            .map(|(_, v)| v)
    }

    /// Whether the value of `key` (or, for None, the mapping as a whole) failed a check.
    pub fn failed(&self, key: Option<&str>) -> bool {
        self.invalid.iter().any(|(k, _)| *k == key)
    }
}

/// The outcome of the walk over one document.
#[derive(Debug, Default)]
pub struct Checked {
    pub root: Entries,
    pub findings: Vec<Finding>,
    /// Aliases expand the document beyond what kindling reads; none of it may be applied.
    pub exhausted: bool,
    /// The document's findings past [`crate::report::MAX_FINDINGS`], counted; whoever adds
    /// more findings of the document passes them through it too.
    pub cap: crate::report::Cap,
}

impl Default for crate::report::Cap {
    fn default() -> Self {
        crate::report::Cap::new(crate::report::MAX_FINDINGS, Default::default())
    }
}

/// Scalar bytes that aliases may add to a document's own text: each alias of a string is read
/// (checked, copied into the model) again, so this bounds memory and time whatever the aliases.
pub const MAX_ALIASED_BYTES: usize = 16 << 20;

/// Entries that merge keys (`<<`) copy into mappings, in all the document: each is held while
/// its mapping is read, so a large mapping merged many times is refused whole, like aliases.
pub const MAX_MERGED_ENTRIES: usize = 200_000;

/// Node reads per node of the tree: each is read about three times (entry, value, item) when
/// nothing is aliased.
const VISITS_PER_NODE: usize = 8;

/// Checks `doc` (parsed from `text`) against the cloud-config schema.
pub fn check(doc: &Document, text: &str, options: Options) -> Checked {
    let mut w = Walker {
        doc,
        text,
        options,
        lines: std::cell::OnceCell::new(),
        findings: Vec::new(),
        cap: crate::report::Cap::new(crate::report::MAX_FINDINGS, options.allow),
        budget: doc.nodes.len().saturating_mul(VISITS_PER_NODE).max(10_000),
        bytes_left: text.len().saturating_add(MAX_ALIASED_BYTES),
        merged_left: MAX_MERGED_ENTRIES,
        budget_reported: false,
        scopes: vec![Scope::default()],
    };
    let mut root = match doc.root {
        None => Entries::default(),
        Some(id) => {
            let id = doc.resolve(id);
            match &doc.node(id).kind {
                NodeKind::Map(_) => w.map(id, &schema::ROOT),
                NodeKind::Scalar { value, style }
                    if *style == Style::Plain && classify_plain(value) == Plain::Null =>
                {
                    Entries::default()
                }
                _ => {
                    let found = w.describe(id);
                    w.error(
                        Code::RootNotMapping,
                        doc.node(id).pos,
                        format!(
                            "the cloud-config must be a mapping of keys to values, found {found}"
                        ),
                    );
                    Entries::default()
                }
            }
        }
    };
    // What no mapping holds (a root that is not a mapping) concerns the document as a whole.
    let outer = w.scopes.pop().unwrap_or_default();
    root.invalid.extend(outer.invalid);
    Checked {
        root,
        exhausted: w.budget_reported,
        findings: w.findings,
        cap: w.cap,
    }
}

/// The mapping being read: the errors found in it, for [`Entries::invalid`].
#[derive(Debug, Default)]
struct Scope {
    /// The key whose value is being checked.
    key: Option<&'static str>,
    invalid: Vec<(Option<&'static str>, String)>,
    lenient: Vec<String>,
}

struct Walker<'d> {
    doc: &'d Document,
    text: &'d str,
    /// --template (unrendered placeholders are valid values) and --allow.
    options: Options,
    /// The document's lines, split only when a finding inside a block scalar needs its column.
    lines: std::cell::OnceCell<crate::lines::Lines<'d>>,
    findings: Vec<Finding>,
    /// Memory stays bounded while checking: findings past the cap are only counted.
    cap: crate::report::Cap,
    /// Node visits left: aliases can make a small text stand for a huge tree ("billion laughs").
    budget: usize,
    /// Scalar bytes left to read: a 10 KB string aliased a million times is 10 GB of reading.
    bytes_left: usize,
    /// Merged entries left to copy ([`MAX_MERGED_ENTRIES`]).
    merged_left: usize,
    budget_reported: bool,
    /// One per mapping being read, innermost last; an error belongs to the innermost one.
    scopes: Vec<Scope>,
}

/// One key of a mapping, after merge keys (`<<`) are flattened.
struct Entry {
    key: NodeId,
    value: NodeId,
    merged: bool,
}

impl<'d> Walker<'d> {
    fn keep(&mut self, finding: Finding) {
        if self.cap.admit(finding.code, finding.pos) {
            self.findings.push(finding);
        }
    }

    /// An error that makes apply skip the entry holding it.
    fn error(&mut self, code: Code, pos: Pos, message: String) {
        if let Some(scope) = self.scopes.last_mut() {
            scope
                .invalid
                .push((scope.key, format!("line {}: {message}", pos.line)));
        }
        self.keep(Finding::new(code, pos, message));
    }

    /// An error for the validator that apply accepts, as the reference does, with a warning.
    fn lenient(&mut self, code: Code, pos: Pos, message: String, note: String) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.lenient.push(format!("line {}: {note}", pos.line));
        }
        self.keep(Finding::new(code, pos, message));
    }

    /// A finding that does not change what apply does (warnings, infos, and errors about what
    /// systemd or fleet will make of a unit, which apply still writes as the reference does).
    fn find(&mut self, code: Code, pos: Pos, message: String) {
        self.keep(Finding::new(code, pos, message));
    }

    /// A finding about the value `id`, at its position. When the value is an unrendered
    /// placeholder it is not reported with --template, and says so without.
    fn value_finding(&mut self, code: Code, id: NodeId, message: String) {
        let pos = self.doc.node(id).pos;
        let raw: Cow<str> = match self.scalar(self.doc.resolve(id)) {
            Some((text, _)) => text.into(),
            // `{{ x }}` reads as a flow mapping: look at the source text instead.
            None => self
                .lines
                .get_or_init(|| crate::lines::Lines::text(self.text))
                .get(pos.line.saturating_sub(1))
                .map_or(String::new(), |l| {
                    l.chars().skip(pos.col.saturating_sub(1)).collect()
                })
                .into(),
        };
        let Some(message) = template::annotate(message, &raw, self.options.template) else {
            return;
        };
        if code.severity() == crate::rules::Severity::Error {
            self.error(code, pos, message);
        } else {
            self.find(code, pos, message);
        }
    }

    fn set_key(&mut self, key: Option<&'static str>) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.key = key;
        }
    }

    /// Spends one node visit; false once aliases have expanded the tree too far.
    fn visit(&mut self, at: Pos) -> bool {
        if self.budget == 0 {
            self.exhausted(at, "nodes");
            return false;
        }
        self.budget -= 1;
        true
    }

    /// Spends the bytes of one scalar read; false once aliases have expanded the text too far.
    fn read_bytes(&mut self, at: Pos, n: usize) -> bool {
        if self.budget == 0 || n > self.bytes_left {
            self.budget = 0;
            self.exhausted(at, "bytes");
            return false;
        }
        self.bytes_left -= n;
        true
    }

    fn exhausted(&mut self, at: Pos, what: &str) {
        if !self.budget_reported {
            self.budget_reported = true;
            // Kept past the findings cap: it says why nothing of the document is applied.
            let finding = Finding::new(
                Code::AliasLimit,
                at,
                format!(
                    "aliases expand this document to too many {what} (kindling reads its text plus at most {} MiB, {VISITS_PER_NODE} reads per node and {MAX_MERGED_ENTRIES} entries merged by `<<`); nothing in it is applied",
                    MAX_ALIASED_BYTES >> 20,
                ),
            );
            if let Some(scope) = self.scopes.last_mut() {
                scope
                    .invalid
                    .push((scope.key, format!("line {}: {}", at.line, finding.message)));
            }
            self.findings.push(finding);
        }
    }

    fn scalar(&self, id: NodeId) -> Option<(&'d str, Style)> {
        match &self.doc.node(id).kind {
            NodeKind::Scalar { value, style } => Some((value.as_str(), *style)),
            _ => None,
        }
    }

    fn is_null(&self, id: NodeId) -> bool {
        let id = self.doc.resolve(id);
        matches!(self.scalar(id), Some((v, Style::Plain)) if classify_plain(v) == Plain::Null)
            && self.doc.node(id).tag.is_none()
    }

    /// "a list", "a mapping", "a string", "an integer", … for wrong-type messages.
    fn describe(&self, id: NodeId) -> &'static str {
        let id = self.doc.resolve(id);
        match &self.doc.node(id).kind {
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
            NodeKind::Alias(_) => "an alias",
            NodeKind::Scalar { value, style } => {
                if *style != Style::Plain {
                    return "a string";
                }
                match classify_plain(value) {
                    Plain::Null => "null",
                    Plain::Bool(_) => "a boolean",
                    Plain::Int => "an integer",
                    Plain::Float => "a floating-point number",
                    Plain::Text => "a string",
                }
            }
        }
    }

    /// The entries of a mapping with `<<` merges flattened: explicit keys first, then merged keys
    /// that no explicit key overrides.
    fn entries(&mut self, map: NodeId, out: &mut Vec<Entry>, merged: bool, depth: usize) {
        let NodeKind::Map(pairs) = &self.doc.node(map).kind else {
            return;
        };
        let mut sources = Vec::new();
        for &(k, v) in pairs {
            let k_res = self.doc.resolve(k);
            if matches!(self.scalar(k_res), Some(("<<", Style::Plain))) {
                sources.push(v);
            } else {
                // Merged entries are copies: they spend the alias budget like any expansion.
                if merged && !self.visit(self.doc.node(k).pos) {
                    return;
                }
                if merged {
                    if self.merged_left == 0 {
                        self.budget = 0;
                        self.exhausted(self.doc.node(k).pos, "merged entries");
                        return;
                    }
                    self.merged_left -= 1;
                }
                out.push(Entry {
                    key: k,
                    value: v,
                    merged,
                });
            }
        }
        for src in sources {
            let pos = self.doc.node(src).pos;
            if depth > 32 || !self.visit(pos) {
                continue;
            }
            let src = self.doc.resolve(src);
            let maps: Vec<NodeId> = match &self.doc.node(src).kind {
                NodeKind::Map(_) => vec![src],
                NodeKind::Seq(items) => items.iter().map(|&i| self.doc.resolve(i)).collect(),
                _ => Vec::new(),
            };
            for m in maps {
                if matches!(self.doc.node(m).kind, NodeKind::Map(_)) {
                    self.entries(m, out, true, depth + 1);
                } else {
                    let found = self.describe(m);
                    self.error(
                        Code::WrongType,
                        self.doc.node(m).pos,
                        format!(
                            "a merge key (<<) takes a mapping or a list of mappings, found {found}"
                        ),
                    );
                }
            }
        }
    }

    fn map(&mut self, id: NodeId, section: &'static Section) -> Entries {
        let map_pos = self.doc.node(id).pos;
        self.scopes.push(Scope::default());
        let mut entries = Vec::new();
        self.entries(id, &mut entries, false, 0);
        let foreign = if std::ptr::eq(section, &schema::ROOT) {
            self.foreign_config(&entries)
        } else {
            &[]
        };

        // Canonical key -> where it was first written; merged keys never count as duplicates.
        let mut seen = Seen::with_capacity(entries.len());
        // Each field of the section is kept at most once: sized once, not grown push by push.
        let known = entries.len().min(section.fields.len());
        let mut out = Entries {
            pos: map_pos,
            values: Vec::with_capacity(known),
            ..Entries::default()
        };
        let mut present: Vec<&'static str> = Vec::with_capacity(known);
        let mut value_pos: Vec<(&'static str, Pos)> = Vec::with_capacity(known);

        for e in &entries {
            self.set_key(None);
            let key_id = self.doc.resolve(e.key);
            let key_pos = self.doc.node(e.key).pos;
            // Every entry read spends budget: an aliased mapping is read again at each alias.
            if !self.visit(key_pos) {
                break;
            }
            let Some((key, _)) = self.scalar(key_id) else {
                if !e.merged {
                    let found = self.describe(key_id);
                    self.error(
                        Code::WrongType,
                        key_pos,
                        format!("a key must be a string, found {found}"),
                    );
                }
                continue;
            };
            let canonical: Cow<'d, str> = if key.contains('-') {
                Cow::Owned(key.replace('-', "_"))
            } else {
                Cow::Borrowed(key)
            };
            if let Some((first, first_text)) = seen.get(&canonical) {
                self.set_key(section.field(key).map(|f| f.key));
                if !e.merged {
                    let shown = excerpt(key);
                    let msg = if first_text == key {
                        format!("duplicate key {shown} (first set on line {})", first.line)
                    } else {
                        format!(
                            "duplicate key {shown}: the same key as {} on line {}",
                            excerpt(first_text),
                            first.line
                        )
                    };
                    self.error(Code::DuplicateKey, key_pos, msg);
                }
                continue;
            }
            seen.insert(canonical, (key_pos, key));

            let Some(field) = section.field(key) else {
                if !foreign.contains(&key) {
                    self.unknown_key(section, key, key_pos);
                }
                continue;
            };
            self.set_key(Some(field.key));
            // Known keys are plain words, but quote them the same way as everything else.
            let key = Shown(key);
            if let Some(reason) = field.deprecated {
                self.find(
                    Code::DeprecatedKey,
                    key_pos,
                    format!("deprecated key {key} ({reason})"),
                );
            }
            present.push(field.key);
            let vpos = self.doc.node(e.value).pos;
            value_pos.push((field.key, vpos));
            if self.is_null(e.value) {
                let comment = self.comment_as_value(key_id, key_pos, e.value);
                if field.required {
                    let why = if comment {
                        format!("; {COMMENT_HINT}")
                    } else {
                        String::new()
                    };
                    self.error(
                        Code::RequiredKey,
                        vpos,
                        format!("{} {key} must not be empty{why}", section.what),
                    );
                } else if comment {
                    self.find(
                        Code::CommentValue,
                        key_pos,
                        format!("{key} is empty: {COMMENT_HINT}"),
                    );
                }
                continue;
            }
            if let Some(v) = self.value(e.value, field, key) {
                if let (SectionKind::UnitEnvironment, Value::Str(text)) = (section.kind, &v) {
                    self.specifiers(key, text, vpos);
                }
                out.values.push((field, v));
            }
        }

        self.set_key(None);
        for field in section.fields.iter().filter(|f| f.required) {
            if !present.contains(&field.key) {
                self.error(
                    Code::RequiredKey,
                    map_pos,
                    format!("{} is missing \"{}\"", section.what, field.key),
                );
            }
        }

        match section.kind {
            SectionKind::WriteFile => {
                self.write_file_unit(&entries, &out);
                self.decode_write_file(&mut out, &value_pos);
            }
            SectionKind::Unit => self.unit(&entries, &out),
            _ => {}
        }
        let scope = self.scopes.pop().unwrap_or_default();
        out.invalid = scope.invalid;
        out.lenient = scope.lenient;
        out
    }

    /// The value node of `key` among a mapping's entries.
    fn entry_value(&self, entries: &[Entry], key: &str) -> Option<NodeId> {
        entries.iter().find_map(|e| {
            let k = self.doc.resolve(e.key);
            match self.scalar(k) {
                Some((text, _)) if schema::same_key(key, text) => Some(e.value),
                _ => None,
            }
        })
    }

    /// A Container Linux Config or Butane config under a `#cloud-config` header: one error, and
    /// its keys (returned) are not also reported as unknown one by one.
    fn foreign_config(&mut self, entries: &[Entry]) -> &'static [&'static str] {
        const KEYS: &[&str] = &[
            "passwd", "storage", "systemd", "networkd", "variant", "ignition", "etcd",
        ];
        let keys: Vec<(&str, Pos)> = entries
            .iter()
            .filter_map(|e| {
                let k = self.doc.resolve(e.key);
                let (text, _) = self.scalar(k)?;
                KEYS.contains(&text)
                    .then(|| (text, self.doc.node(e.key).pos))
            })
            .collect();
        // etcd alone is a misplaced coreos key, not a Container Linux Config.
        let Some(&(_, at)) = keys.iter().find(|(k, _)| *k != "etcd") else {
            return &[];
        };
        let what = if keys.iter().any(|(k, _)| *k == "variant") {
            "a Butane config (it has \"variant\"); transpile it with `butane` to Ignition JSON"
        } else {
            "a Container Linux Config; transpile it with `ct` (or convert it to Butane and use `butane`) to Ignition JSON"
        };
        self.find(
            Code::ButaneConfig,
            at,
            format!("this is {what} and pass that as user-data: coreos-cloudinit applies none of it under a #cloud-config header"),
        );
        KEYS
    }

    /// `key: #text`: the value is null because YAML reads `#` after a space as a comment.
    fn comment_as_value(&self, key_id: NodeId, key_pos: Pos, value: NodeId) -> bool {
        let value = self.doc.resolve(value);
        if self.doc.node(value).tag.is_some() {
            return false;
        }
        let Some((key, Style::Plain)) = self.scalar(key_id) else {
            return false;
        };
        let Some(line) = self
            .lines
            .get_or_init(|| crate::lines::Lines::text(self.text))
            .get(key_pos.line.saturating_sub(1))
        else {
            return false;
        };
        let rest: String = line
            .chars()
            .skip(key_pos.col.saturating_sub(1) + key.chars().count())
            .collect();
        let Some(after) = rest.trim_start_matches([' ', '\t']).strip_prefix(':') else {
            return false;
        };
        after.starts_with([' ', '\t']) && after.trim_start_matches([' ', '\t']).starts_with('#')
    }

    fn unknown_key(&mut self, section: &Section, key: &str, pos: Pos) {
        let canonical = key.replace('-', "_");
        if section.kind == SectionKind::Coreos && canonical == "write_files" {
            self.keep(Finding::new(
                Code::WriteFilesUnderCoreos,
                pos,
                "write_files doesn't belong under coreos; move it to the top level",
            ));
        }
        let suggestion = section
            .fields
            .iter()
            .map(|f| (values::edit_distance(&canonical, f.key), f.key))
            .filter(|(d, _)| *d <= 2)
            .min_by_key(|(d, _)| *d);
        let shown = excerpt(key);
        // A key of coreos: written at the top level is a common slip; name where it belongs.
        let under_coreos = std::ptr::eq(section, &schema::ROOT)
            .then(|| schema::COREOS.field(&canonical))
            .flatten();
        let msg = match (under_coreos, suggestion) {
            (Some(f), _) => format!(
                "unrecognized key {shown}; did you mean \"coreos.{}\"? (it belongs under coreos:)",
                f.key
            ),
            (None, Some((_, s))) => format!("unrecognized key {shown}; did you mean \"{s}\"?"),
            (None, None) => format!("unrecognized key {shown}"),
        };
        let msg = match template::annotate(msg, key, self.options.template) {
            Some(msg) => msg,
            None => return,
        };
        self.find(Code::UnknownKey, pos, msg);
    }
}

/// Why a required value is empty when YAML read a comment in its place.
const COMMENT_HINT: &str = "\"#\" starts a comment here, so YAML reads no value; quote the value";

/// Quotes user text for a message: cut to a readable length, control characters escaped.
fn excerpt(s: &str) -> String {
    values::excerpt(s, 60)
}

/// A key as messages show it, quoted as [`excerpt`] does: quoted when a message is written,
/// not for every key read.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shown<'a>(pub &'a str);

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&excerpt(self.0))
    }
}

/// The keys of one mapping seen so far: canonical key -> where it was first written, and as
/// what. Most mappings have a handful of keys, found faster in a list than by hashing; a
/// mapping of many keys moves to a hash map, so that a huge one is not quadratic.
struct Seen<'d> {
    few: Vec<(Cow<'d, str>, (Pos, &'d str))>,
    many: HashMap<Cow<'d, str>, (Pos, &'d str)>,
}

impl<'d> Seen<'d> {
    const FEW: usize = 16;

    fn with_capacity(keys: usize) -> Seen<'d> {
        Seen {
            few: Vec::with_capacity(keys.min(Self::FEW)),
            many: HashMap::new(),
        }
    }

    fn get(&self, key: &str) -> Option<(Pos, &'d str)> {
        if self.many.is_empty() {
            self.few.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
        } else {
            self.many.get(key).copied()
        }
    }

    fn insert(&mut self, key: Cow<'d, str>, value: (Pos, &'d str)) {
        if self.many.is_empty() && self.few.len() < Self::FEW {
            self.few.push((key, value));
            return;
        }
        self.many.extend(self.few.drain(..));
        self.many.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_are_read_as_yaml_1_1() {
        assert_eq!(classify_plain("yes"), Plain::Bool(true));
        assert_eq!(classify_plain("Off"), Plain::Bool(false));
        assert_eq!(classify_plain("0644"), Plain::Int);
        assert_eq!(classify_plain("0x1ff"), Plain::Int);
        assert_eq!(classify_plain("1.5"), Plain::Float);
        assert_eq!(classify_plain("1e-06"), Plain::Float);
        assert_eq!(classify_plain("inf"), Plain::Text);
        assert_eq!(classify_plain("~"), Plain::Null);
        assert_eq!(classify_plain("0o644"), Plain::Int);
        assert_eq!(classify_plain("web-1"), Plain::Text);
    }

    #[test]
    fn file_paths_by_component() {
        assert!(check_file_path("/usr/invalid").is_err());
        assert!(check_file_path("/tmp/../usr/invalid").is_err());
        assert!(check_file_path("/opt/../usr/lib/x").is_err());
        assert!(check_file_path("/tmp/usr/valid").is_ok());
        assert!(check_file_path("/usrlocal/bin/x").is_ok());
        assert!(check_file_path("/usr/../etc/motd").is_ok());
        assert!(check_file_path("/usr/share/oem/cloud-config.yml").is_ok());
        assert!(check_file_path("etc/motd").is_err());
        assert!(check_file_path("").is_err());
    }

    fn parsed(text: &str) -> crate::config::Parsed {
        crate::config::parse(text)
    }

    #[test]
    fn an_entry_repeated_by_aliases_is_read_and_applied_once() {
        let text = format!(
            "#cloud-config\n\
             write_files:\n  - &f {{path: /etc/a, content: x}}\n  - *f\n\
             users:\n  - &p {{name: deploy}}\n  - *p\n\
             coreos:\n  units:\n    - &u {{name: a.service, content: \"[Service]\\nExecStart=/bin/true\\n\"}}\n{}",
            "    - *u\n".repeat(1000)
        );
        let p = parsed(&text);
        assert!(p.syntax_ok, "{:?}", p.findings);
        assert_eq!(p.config.coreos.units.len(), 1);
        assert_eq!(p.config.write_files.len(), 1);
        assert_eq!(p.config.users.len(), 1);
        let messages: Vec<&str> = p.findings.iter().map(|f| f.message.as_str()).collect();
        assert!(
            messages.contains(
                &"1000 items of \"units\" repeat an earlier item through an alias; each entry is applied once"
            ),
            "{messages:?}"
        );
        // A merge makes a new entry, which is read (and applied) as written.
        let p = parsed("#cloud-config\ncoreos:\n  units:\n    - &u {name: a.service, command: start}\n    - {<<: *u}\n");
        assert_eq!(p.config.coreos.units.len(), 2);
    }

    #[test]
    fn duplicate_keys_are_found_in_small_and_large_mappings() {
        // Line 3 is `- path: /a`; key kN is on line 4 + N.
        let mut text = String::from("#cloud-config\nwrite_files:\n- path: /a\n");
        let mut line = 3;
        let mut add = |text: &mut String, key: &str| {
            text.push_str(&format!("  {key}: 1\n"));
            line += 1;
            line
        };
        let mut want = Vec::new();
        for i in 0..40 {
            add(&mut text, &format!("k{i}"));
            if i == 4 {
                // While the mapping is small, and as another spelling of the same key.
                let at = add(&mut text, "k1");
                want.push(format!("{at}: duplicate key \"k1\" (first set on line 5)"));
                let first = add(&mut text, "a_b");
                let at = add(&mut text, "a-b");
                want.push(format!(
                    "{at}: duplicate key \"a-b\": the same key as \"a_b\" on line {first}"
                ));
            }
        }
        // Once it is large: a key from either part.
        let at = add(&mut text, "k2");
        want.push(format!("{at}: duplicate key \"k2\" (first set on line 6)"));
        let at = add(&mut text, "k39");
        want.push(format!(
            "{at}: duplicate key \"k39\" (first set on line {})",
            at - 2
        ));
        let at = add(&mut text, "path");
        want.push(format!(
            "{at}: duplicate key \"path\" (first set on line 3)"
        ));
        let p = crate::config::parse(&text);
        let found: Vec<String> = p
            .findings
            .iter()
            .filter(|f| f.code == Code::DuplicateKey)
            .map(|f| format!("{}: {}", f.pos.line, f.message))
            .collect();
        assert_eq!(found, want);
    }

    #[test]
    fn a_mapping_merged_past_the_entry_budget_is_refused_whole() {
        // Few merges of many keys: within the node budget (8 reads per node), past this one.
        let times = 3;
        let keys = MAX_MERGED_ENTRIES / 2;
        let mut text = String::from("#cloud-config\nwrite_files:\n- &a\n");
        for i in 0..keys {
            text.push_str(&format!("  k{i}: 1\n"));
        }
        text.push_str(&"- <<: *a\n".repeat(times));
        let p = crate::config::parse(&text);
        assert!(!p.syntax_ok);
        let error = p
            .findings
            .iter()
            .find(|f| f.code == Code::AliasLimit)
            .unwrap_or_else(|| panic!("{:?}", &p.findings[..3.min(p.findings.len())]));
        assert!(
            error
                .message
                .starts_with("aliases expand this document to too many merged entries"),
            "{}",
            error.message
        );
        // One merge fewer is read as written.
        let under = text.replacen("- <<: *a\n", "", 1);
        assert!(crate::config::parse(&under).syntax_ok);
    }

    #[test]
    fn aliases_that_expand_past_the_byte_budget_are_refused_whole() {
        // 64 KiB aliased 300 times is 19 MiB of text to read: past the text plus 16 MiB.
        let key = format!("ssh-ed25519 {}", "A".repeat(64 << 10));
        let text = format!(
            "#cloud-config\nhostname: web\nssh_authorized_keys: [&k '{key}'{}]\n",
            ", *k".repeat(300)
        );
        let p = parsed(&text);
        assert!(!p.syntax_ok);
        assert_eq!(p.config, Default::default());
        let e = p
            .findings
            .iter()
            .find(|f| f.severity == crate::rules::Severity::Error)
            .unwrap();
        assert!(
            e.message
                .starts_with("aliases expand this document to too many bytes"),
            "{}",
            e.message
        );
        assert!(e.message.ends_with("nothing in it is applied"));
        // Under the budget, the same aliases are read as written.
        let text = format!(
            "#cloud-config\nssh_authorized_keys: [&k '{key}'{}]\n",
            ", *k".repeat(100)
        );
        assert_eq!(parsed(&text).config.ssh_authorized_keys.unwrap().len(), 101);
    }
}
