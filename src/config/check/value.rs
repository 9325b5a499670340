//! One value against its field: the type check, then the field's rule.

use std::collections::HashSet;

use crate::config::schema::{self, Field, Rule, Ty};
use crate::config::yaml::{NodeId, NodeKind, Style};
use crate::config::{decode, sshkey, unitfile, values};
use crate::report::Pos;
use crate::rules::Code;
use crate::unit::name::lacks_known_unit_suffix;

use super::scalar::{classify_plain, parse_float, parse_int, Plain};
use super::write_files::check_file_path;
use super::{excerpt, Shown, Value, Walker};

impl Walker<'_> {
    /// Type-checks one value against its field; None when it is left out (wrong or invalid).
    pub(super) fn value(&mut self, id: NodeId, field: &'static Field, key: Shown) -> Option<Value> {
        let at = self.doc.node(id).pos;
        if !self.visit(at) {
            return None;
        }
        let rid = self.doc.resolve(id);
        let node = self.doc.node(rid);
        let pos = node.pos;
        let wrong = |w: &mut Self, hint: &str| {
            let found = w.describe(rid);
            w.value_finding(
                Code::WrongType,
                rid,
                format!("{key} must be {}, found {found}{hint}", field.ty.name()),
            );
            None
        };
        match field.ty {
            Ty::Str => {
                let Some((text, _)) = self.scalar(rid) else {
                    return wrong(self, "");
                };
                if !self.read_bytes(at, text.len()) {
                    return None;
                }
                if node.is_binary() {
                    return match decode::base64(text.as_bytes()) {
                        Ok(bytes) => {
                            if let Some(why) = decode::go_base64_refuses(text.as_bytes()) {
                                self.find(
                                    Code::GoBase64,
                                    pos,
                                    format!(
                                        "{key} is tagged !!binary and kindling decodes it, but \
                                         coreos-cloudinit's YAML parser refuses it, so the \
                                         reference rejects the whole document: {why}"
                                    ),
                                );
                            }
                            if matches!(field.rule, Rule::OneOf(_) | Rule::Permissions) {
                                // A value with an allowed set is checked as its decoded text,
                                // as the reference checks it and as apply reads it: a tag
                                // does not carry a mode or a command past the rule.
                                let text = String::from_utf8_lossy(&bytes).into_owned();
                                return self
                                    .rule(field, key, &text, rid)
                                    .then_some(Value::Str(text));
                            }
                            Some(Value::Bytes(bytes))
                        }
                        Err(e) => {
                            self.error(
                                Code::ContentDecode,
                                pos,
                                format!("{key} is tagged !!binary but cannot be decoded: {e}"),
                            );
                            None
                        }
                    };
                }
                if field.required && text.is_empty() {
                    self.error(Code::RequiredKey, pos, format!("{key} must not be empty"));
                    return None;
                }
                if self.rule(field, key, text, rid) {
                    Some(Value::Str(text.to_string()))
                } else {
                    None
                }
            }
            Ty::Bool => match self.scalar(rid) {
                Some((v, Style::Plain)) => match classify_plain(v) {
                    Plain::Bool(b) => Some(Value::Bool(b)),
                    _ => wrong(self, " (write true or false)"),
                },
                Some((v, _)) if matches!(classify_plain(v), Plain::Bool(_)) => {
                    wrong(self, " (a quoted value is a string; remove the quotes)")
                }
                _ => wrong(self, ""),
            },
            Ty::Int => match self.scalar(rid) {
                Some((v, Style::Plain)) => match parse_int(v) {
                    Some(i) => Some(Value::Int(i)),
                    None => wrong(self, ""),
                },
                _ => wrong(self, ""),
            },
            Ty::Float => match self.scalar(rid) {
                Some((v, Style::Plain))
                    if matches!(classify_plain(v), Plain::Int | Plain::Float) =>
                {
                    parse_float(v).map(Value::Float).or_else(|| wrong(self, ""))
                }
                _ => wrong(self, ""),
            },
            Ty::StrList => {
                let NodeKind::Seq(items) = &node.kind else {
                    let hint = match self.scalar(rid) {
                        Some((v, _)) if v.contains(',') => {
                            format!(
                                " (write a YAML list: [{}])",
                                v.split(',').map(str::trim).collect::<Vec<_>>().join(", ")
                            )
                        }
                        Some(_) => " (write it as a YAML list item: \"- …\")".to_string(),
                        None => String::new(),
                    };
                    return wrong(self, &hint);
                };
                let mut out = Vec::new();
                for &item in items {
                    let ipos = self.doc.node(item).pos;
                    if !self.visit(ipos) {
                        break;
                    }
                    let ir = self.doc.resolve(item);
                    match self.scalar(ir) {
                        Some((text, style))
                            if !(style == Style::Plain && classify_plain(text) == Plain::Null) =>
                        {
                            if !self.read_bytes(ipos, text.len()) {
                                break;
                            }
                            if self.rule(field, key, text, ir) {
                                out.push(Value::Str(text.to_string()));
                            }
                        }
                        _ => {
                            let found = self.describe(ir);
                            self.value_finding(
                                Code::WrongType,
                                ir,
                                format!("items of {key} must be strings, found {found}"),
                            );
                        }
                    }
                }
                Some(Value::List(out))
            }
            Ty::Map(section) => match node.kind {
                NodeKind::Map(_) => Some(Value::Map(self.map(rid, section))),
                _ => wrong(self, ""),
            },
            Ty::List(section) => {
                let NodeKind::Seq(items) = &node.kind else {
                    let hint = if matches!(node.kind, NodeKind::Map(_)) {
                        " (start each entry with \"- \")"
                    } else {
                        ""
                    };
                    return wrong(self, hint);
                };
                let mut out = Vec::new();
                // Items that are aliases of an earlier item of this list: the same entry, which
                // applying again changes nothing, so it is read and applied once.
                let mut read: HashSet<NodeId> = HashSet::new();
                let mut repeats = (0usize, Pos::default());
                for &item in items {
                    let ipos = self.doc.node(item).pos;
                    if !self.visit(ipos) {
                        break;
                    }
                    let ir = self.doc.resolve(item);
                    if !read.insert(ir) {
                        if repeats.0 == 0 {
                            repeats.1 = ipos;
                        }
                        repeats.0 += 1;
                        continue;
                    }
                    if matches!(self.doc.node(ir).kind, NodeKind::Map(_)) {
                        // Kept even when invalid (a required key missing, a value wrong): apply
                        // reports the entry as failed and skips it whole.
                        out.push(Value::Map(self.map(ir, section)));
                    } else {
                        let found = self.describe(ir);
                        self.error(
                            Code::WrongType,
                            ipos,
                            format!(
                                "items of {key} must be mappings ({}), found {found}",
                                section.what
                            ),
                        );
                    }
                }
                if repeats.0 > 0 {
                    let (n, at) = repeats;
                    let items = if n == 1 { "item" } else { "items" };
                    self.find(
                        Code::AliasRepeat,
                        at,
                        format!("{n} {items} of {key} repeat an earlier item through an alias; each entry is applied once"),
                    );
                }
                Some(Value::List(out))
            }
        }
    }

    /// Applies a field's rule to a non-null string; false when the value is invalid (an error)
    /// and must be left out. Warnings keep the value.
    pub(super) fn rule(&mut self, field: &Field, key: Shown, text: &str, id: NodeId) -> bool {
        let pos = self.doc.node(id).pos;
        if text.is_empty()
            && field.rule != Rule::FilePath
            && field.rule != Rule::UnitName
            && field.rule != Rule::DropInName
        {
            // The reference treats an empty string as unset.
            return true;
        }
        let invalid = |w: &mut Self, why: String| {
            let hint = schema::REMOVED_VALUES
                .iter()
                .find(|(k, v, _)| schema::same_key(k, key.0) && *v == text)
                .map_or(String::new(), |(_, _, h)| format!("; {h}"));
            w.value_finding(
                Code::InvalidValue,
                id,
                format!("invalid value {} for {key}: {why}{hint}", excerpt(text)),
            );
            false
        };
        match field.rule {
            Rule::None => true,
            Rule::OneOf(allowed) => match values::one_of(text, allowed) {
                Ok(()) => true,
                Err(why) => invalid(self, why),
            },
            Rule::Permissions => {
                values::parse_permissions(text).map_or_else(|why| invalid(self, why), |_| true)
            }
            Rule::WindowStart => {
                values::check_window_start(text).map_or_else(|why| invalid(self, why), |()| true)
            }
            Rule::WindowLength => {
                values::check_window_length(text).map_or_else(|why| invalid(self, why), |()| true)
            }
            Rule::Hostname => match values::check_hostname(text) {
                Ok(()) => true,
                Err(why) => {
                    self.value_finding(
                        Code::InvalidHostname,
                        id,
                        format!("invalid hostname {}: {why}", excerpt(text)),
                    );
                    false
                }
            },
            Rule::UnitName => match values::check_unit_name(text) {
                Ok(()) => true,
                Err(why) if lacks_known_unit_suffix(text) => {
                    let message = format!("invalid unit name {}: {why}", excerpt(text));
                    let note = format!(
                        "unit name {} has no known unit type suffix, so systemd will not load it; written or masked under that name, as coreos-cloudinit does",
                        excerpt(text)
                    );
                    self.lenient(Code::InvalidUnitName, pos, message, note);
                    true
                }
                Err(why) => {
                    self.value_finding(
                        Code::InvalidUnitName,
                        id,
                        format!("invalid unit name {}: {why}", excerpt(text)),
                    );
                    false
                }
            },
            Rule::DropInName => match values::check_dropin_name(text) {
                Ok(()) => true,
                Err(why) => {
                    self.value_finding(
                        Code::InvalidDropinName,
                        id,
                        format!("invalid drop-in name {}: {why}", excerpt(text)),
                    );
                    false
                }
            },
            Rule::FilePath => match check_file_path(text) {
                Ok(()) => true,
                Err(why)
                    if !text.starts_with('/') && check_file_path(&format!("/{text}")).is_ok() =>
                {
                    let note = format!(
                        "write_files path {} is not absolute; written as {}, as coreos-cloudinit does",
                        excerpt(text),
                        excerpt(&format!("/{text}"))
                    );
                    self.lenient(Code::WriteFilesPath, pos, why, note);
                    true
                }
                Err(why) => {
                    self.value_finding(Code::WriteFilesPath, id, why);
                    false
                }
            },
            Rule::SshKey => {
                if let Err(why) = sshkey::check_public_key(text) {
                    self.value_finding(
                        Code::InvalidSshKey,
                        id,
                        format!("invalid SSH public key: {why}"),
                    );
                }
                true
            }
            Rule::Discovery => {
                if let Err(why) = values::check_discovery_url(text) {
                    self.value_finding(
                        Code::DiscoveryUrl,
                        id,
                        format!("discovery URL is not valid: {why}"),
                    );
                }
                true
            }
            Rule::UnitContent => {
                let style = self.scalar(id).map(|(_, s)| s);
                for (idx, why) in unitfile::check_unit_syntax(text) {
                    let at = self.content_line(id, style, idx);
                    self.find(Code::UnitSyntax, at, format!("unit file syntax: {why}"));
                }
                true
            }
        }
    }
}
