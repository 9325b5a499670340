//! `write_files` entries: the path rule and the decoding of the content by its encoding.

use crate::config::decode;
use crate::report::Pos;
use crate::rules::Code;

use super::{excerpt, Entries, Value, Walker};

impl Walker<'_> {
    /// Decodes a write_files entry's content by its encoding, so the model holds the bytes to write.
    pub(super) fn decode_write_file(
        &mut self,
        entries: &mut Entries,
        value_pos: &[(&'static str, Pos)],
    ) {
        let value_at = |key: &str| value_pos.iter().find(|(k, _)| *k == key).map(|(_, p)| *p);
        let encoding = match entries.get("encoding") {
            Some(Value::Str(e)) => e.clone(),
            _ => String::new(),
        };
        let Some(idx) = entries.values.iter().position(|(f, _)| f.key == "content") else {
            return;
        };
        if value_at("encoding").is_some() && entries.get("encoding").is_none() {
            // The encoding was invalid (already reported, so the entry is skipped): the content
            // is unknown, and nothing may read it as text.
            entries.values.remove(idx);
            return;
        }
        let raw = match &entries.values[idx].1 {
            Value::Str(s) => s.as_bytes().to_vec(),
            Value::Bytes(b) => b.clone(),
            _ => return,
        };
        match decode::content(&encoding, &raw) {
            Ok(bytes) => {
                let base64 = encoding.contains("b64") || encoding.contains("base64");
                if let Some(why) = base64.then(|| decode::go_base64_refuses(&raw)).flatten() {
                    self.find(
                        Code::GoBase64,
                        value_at("content").unwrap_or_default(),
                        format!(
                            "content decodes as \"{encoding}\" here, but coreos-cloudinit's \
                             decoder (Go's base64.StdEncoding) refuses it, so the reference \
                             rejects the whole document: {why}"
                        ),
                    );
                }
                entries.values[idx].1 = Value::Bytes(bytes)
            }
            Err(why) => {
                let pos = value_at("content").unwrap_or_default();
                self.set_key(Some("content"));
                self.error(
                    Code::ContentDecode,
                    pos,
                    format!("content cannot be decoded as \"{encoding}\": {why}"),
                );
                // Writing a file whose content is unknown would be worse than not writing it:
                // the error makes apply skip the entry, and the raw text is not kept.
                entries.values.remove(idx);
                return;
            }
        }
        entries.values.retain(|(f, _)| f.key != "encoding");
    }
}

/// A write_files path must be absolute and outside the read-only /usr (by component, after
/// resolving `..`), except CoreOS's writable OEM partition /usr/share/oem.
pub fn check_file_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("write_files path must not be empty".into());
    }
    if !path.starts_with('/') {
        let hint = if path.starts_with("..") {
            String::new()
        } else {
            format!(
                "; did you mean {}?",
                excerpt(&format!("/{}", path.trim_start_matches("./")))
            )
        };
        return Err(format!(
            "write_files path {} is not absolute{hint}",
            excerpt(path)
        ));
    }
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let under_usr = parts.first() == Some(&"usr");
    let oem = parts.len() >= 3 && parts[1] == "share" && parts[2] == "oem";
    if under_usr && !oem {
        return Err(format!(
            "file {} cannot be written to a read-only filesystem: /usr is read-only",
            excerpt(path)
        ));
    }
    Ok(())
}
