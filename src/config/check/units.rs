//! The checks of unit files in a cloud-config: `coreos.units` entries (content, drop-ins,
//! template units) and `write_files` entries that write a unit, against systemd's vocabulary.

use crate::config::directives::FileKind;
use crate::config::yaml::{NodeId, NodeKind, Style};
use crate::config::{unitcheck, unitfile};
use crate::report::Pos;
use crate::rules::Code;
use crate::unit::file::bad_specifiers;
use crate::unit::name::UnitName;

use super::{Entries, Entry, Shown, Value, Walker};

impl Walker<'_> {
    /// A drop-in value keeps `%` as it is (as the reference), so systemd reads specifiers in
    /// it: `%H` is the hostname, but `%Z` makes systemd drop the whole assignment.
    pub(super) fn specifiers(&mut self, key: Shown, text: &str, pos: Pos) {
        if let Some(&(_, c)) = bad_specifiers(text).first() {
            self.find(
                Code::UnitSpecifier,
                pos,
                format!(
                    "{key}: \"%{}\" is not a systemd specifier, so systemd ignores this setting; write \"%%\" for a literal \"%\"",
                    c.escape_debug()
                ),
            );
        }
    }

    /// The checks of one `coreos.units` entry that need several of its keys: its content and
    /// drop-ins against systemd's vocabulary (by the unit's type), and template units.
    pub(super) fn unit(&mut self, entries: &[Entry], checked: &Entries) {
        let Some(Value::Str(name)) = checked.get("name") else {
            return;
        };
        let kind = FileKind::from_name(name);
        let content = self.entry_value(entries, "content");
        if let (Some(kind), Some(id)) = (kind, content) {
            self.unit_content(kind, id);
        }
        let mut dropin_texts = Vec::new();
        if let (Some(drop_ins), Some(kind)) = (self.entry_value(entries, "drop_ins"), kind) {
            let drop_ins = self.doc.resolve(drop_ins);
            if let NodeKind::Seq(items) = &self.doc.node(drop_ins).kind {
                for &item in items {
                    let item = self.doc.resolve(item);
                    let mut inner = Vec::new();
                    self.entries(item, &mut inner, false, 0);
                    if let Some(id) = self.entry_value(&inner, "content") {
                        self.unit_content(kind, id);
                        if let Some((text, _)) = self.scalar(self.doc.resolve(id)) {
                            dropin_texts.push(text);
                        }
                    }
                }
            }
        }
        let template = match UnitName::parse(name) {
            Ok(unit) if unit.is_template() => unit,
            _ => return,
        };
        if let (Some(Value::Str(command)), Some(at)) =
            (checked.get("command"), self.entry_value(entries, "command"))
        {
            let UnitName { prefix, suffix, .. } = &template;
            self.find(
                Code::UnitTemplateCommand,
                self.doc.node(at).pos,
                format!(
                    "command \"{command}\" on the template unit \"{name}\": systemd cannot {command} a template; name an instance, e.g. \"{prefix}@8080.{suffix}\""
                ),
            );
        }
        if let (Some(Value::Bool(true)), Some(at)) =
            (checked.get("enable"), self.entry_value(entries, "enable"))
        {
            let texts: Vec<&str> = content
                .and_then(|id| self.scalar(self.doc.resolve(id)).map(|(t, _)| t))
                .into_iter()
                .chain(dropin_texts)
                .collect();
            if !texts.is_empty() && !texts.iter().any(|t| unitcheck::has_default_instance(t)) {
                self.find(
                    Code::UnitTemplateEnable,
                    self.doc.node(at).pos,
                    format!("enabling the template unit \"{name}\" needs DefaultInstance= in its [Install] section; without it systemd enables no instance"),
                );
            }
        }
    }

    /// A `write_files` entry that writes a unit file (by its path's suffix, or a drop-in by its
    /// `NAME.d` directory) is checked as that unit, when its content is plain text.
    pub(super) fn write_file_unit(&mut self, entries: &[Entry], checked: &Entries) {
        let Some(Value::Str(path)) = checked.get("path") else {
            return;
        };
        if checked.get("encoding").is_some() || self.entry_value(entries, "encoding").is_some() {
            return;
        }
        let kind = FileKind::from_path(path);
        let (Some(kind), Some(id)) = (kind, self.entry_value(entries, "content")) else {
            return;
        };
        let id = self.doc.resolve(id);
        if self.doc.node(id).is_binary() {
            return;
        }
        let style = self.scalar(id).map(|(_, s)| s);
        if let Some((text, _)) = self.scalar(id) {
            for (idx, why) in unitfile::check_unit_syntax(text) {
                let at = self.content_line(id, style, idx);
                self.find(Code::UnitSyntax, at, format!("unit file syntax: {why}"));
            }
        }
        self.unit_content(kind, id);
    }

    /// The directives of a unit's or drop-in's content, each finding at its line.
    fn unit_content(&mut self, kind: FileKind, id: NodeId) {
        let id = self.doc.resolve(id);
        let Some((text, style)) = self.scalar(id) else {
            return;
        };
        // Found through a sparse index: scanning from the start for each finding is quadratic.
        // Built at the first finding: most units have none.
        let mut unit_lines = None;
        for f in unitcheck::check(kind, text, self.options) {
            let mut at = self.content_line(id, Some(style), f.line);
            if style == Style::Literal {
                let unit_lines = unit_lines.get_or_insert_with(|| crate::lines::Lines::text(text));
                let unit_line = unit_lines.get(f.line).unwrap_or("");
                let lead = unit_line.chars().take_while(|c| *c == ' ').count();
                at.col = at.col.saturating_sub(lead) + f.col - 1;
            }
            self.find(f.code, at, f.message);
        }
    }

    /// Where line `idx` of a scalar's value stands in the document: exact for `|` blocks, whose
    /// lines are the document's lines; the value's start for the other styles.
    pub(super) fn content_line(&self, id: NodeId, style: Option<Style>, idx: usize) -> Pos {
        let node = self.doc.node(id);
        if style != Some(Style::Literal) {
            return node.pos;
        }
        let line = node.pos.line + 1 + idx;
        let col = self
            .lines
            .get_or_init(|| crate::lines::Lines::text(self.text))
            .get(line - 1)
            .map(|l| l.chars().take_while(|c| *c == ' ').count() + 1)
            .unwrap_or(1);
        Pos::new(line, col)
    }
}
