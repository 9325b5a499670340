//! Detects what kind of user-data a payload is, gunzips it, and splits multipart MIME into parts.
//! Shared by `validate` and `apply`, which order the detection rules differently (reference §1.7).

mod codec;
mod gzip;
mod headers;
mod mime;
mod substitute;

#[cfg(test)]
mod tests;

pub use codec::{base64, LastSymbol};
pub use gzip::{gunzip, gunzip_limited, gunzip_payload, is_gzip, GzipError, MAX_DECOMPRESSED};
pub use mime::{split_multipart, MimeError, Part, PartKind, Split, MAX_ITEMS, MAX_NESTING};
pub use substitute::{substitute, substitute_noting};

/// What a whole payload (or the body of a MIME part) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Zero bytes. Whitespace-only data is not empty (it is `Unknown`).
    Empty,
    /// The first line starts with `#!`.
    Script,
    /// The first line, with trailing whitespace trimmed, is exactly `#cloud-config`.
    CloudConfig,
    /// A JSON object with an integer `ignitionVersion` or a string `ignition.version`.
    Ignition,
    /// A leading RFC 822 header block whose `Content-Type` contains `multipart/mixed`.
    Multipart,
    /// None of the above.
    Unknown,
}

/// Detection as the validator orders it (reference §3.6): empty, script, Ignition, cloud-config,
/// multipart, unknown.
pub fn detect_for_validation(data: &[u8]) -> Kind {
    if data.is_empty() {
        Kind::Empty
    } else if is_script(data) {
        Kind::Script
    } else if is_ignition(data) {
        Kind::Ignition
    } else if is_cloud_config(data) {
        Kind::CloudConfig
    } else if mime::is_multipart(data) {
        Kind::Multipart
    } else {
        Kind::Unknown
    }
}

/// Detection as apply orders it (reference §1.7): empty, script, cloud-config, Ignition,
/// multipart, unknown. It is also what a MIME part of an untyped media type goes through.
pub fn detect(data: &[u8]) -> Kind {
    if data.is_empty() {
        Kind::Empty
    } else if is_script(data) {
        Kind::Script
    } else if is_cloud_config(data) {
        Kind::CloudConfig
    } else if is_ignition(data) {
        Kind::Ignition
    } else if mime::is_multipart(data) {
        Kind::Multipart
    } else {
        Kind::Unknown
    }
}

/// Whether the data is a script: its first line starts with `#!`, interpreter or not.
pub fn is_script(data: &[u8]) -> bool {
    data.starts_with(b"#!")
}

/// Whether the first line is `#cloud-config`, ignoring trailing whitespace (so CRLF is fine).
/// Leading whitespace, a BOM or `#cloudconfig` do not count: the validator hints at those.
pub fn is_cloud_config(data: &[u8]) -> bool {
    let first = first_line(data);
    first.strip_prefix(b"#cloud-config").is_some_and(|rest| {
        // Go's TrimRightFunc(unicode.IsSpace) also trims Unicode spaces; match it.
        std::str::from_utf8(rest).is_ok_and(|s| s.chars().all(char::is_whitespace))
    })
}

/// Whether the data is an Ignition config, as the reference decides it: it decodes as a JSON
/// object in which `ignitionVersion` is an integer or `ignition.version` a string, and neither
/// member (if present and not null) has the wrong type, because Go's decoder rejects the whole
/// object then.
pub fn is_ignition(data: &[u8]) -> bool {
    let Ok(serde_json::Value::Object(root)) = serde_json::from_slice::<serde_json::Value>(data)
    else {
        return false;
    };
    let version = match json_member(&root, "ignitionVersion") {
        None | Some(serde_json::Value::Null) => false,
        Some(v) if v.is_i64() => true,
        Some(_) => return false,
    };
    let nested = match json_member(&root, "ignition") {
        None | Some(serde_json::Value::Null) => false,
        Some(serde_json::Value::Object(ign)) => match json_member(ign, "version") {
            None | Some(serde_json::Value::Null) => false,
            Some(serde_json::Value::String(_)) => true,
            Some(_) => return false,
        },
        Some(_) => return false,
    };
    version || nested
}

/// A member by name, exact spelling first, then case-insensitively as Go's `encoding/json`
/// matches struct fields.
fn json_member<'a>(
    map: &'a serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Option<&'a serde_json::Value> {
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// The interpreter named by a `#!` line: `Some("/bin/bash")` for `#!/bin/bash -e` (a space after
/// `#!` is allowed, as the kernel allows it), `None` when the line names none (`#!` or `#!   `)
/// or the data is not a script.
pub fn script_interpreter(data: &[u8]) -> Option<String> {
    let rest = first_line(data).strip_prefix(b"#!")?;
    let is_blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\r');
    let start = rest.iter().position(|b| !is_blank(b))?;
    let word = rest.get(start..)?;
    let end = word.iter().position(is_blank).unwrap_or(word.len());
    let interpreter = word.get(..end)?;
    Some(String::from_utf8_lossy(interpreter).into_owned())
}

/// The first line without its LF (a CR, if any, is kept).
fn first_line(data: &[u8]) -> &[u8] {
    match data.iter().position(|&b| b == b'\n') {
        Some(end) => data.get(..end).unwrap_or(data),
        None => data,
    }
}

/// Runs the header-block reader and the header-value parsers on arbitrary bytes, for the fuzz
/// targets (they cannot name the private `headers` module); only under the `fuzzing` feature.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub fn fuzz_headers(data: &[u8]) {
    let block = headers::HeaderBlock::parse(data);
    assert!(block.body_start <= data.len(), "body starts past the end");
    for name in ["content-type", "content-transfer-encoding", "mime-version"] {
        if let Some((value, line)) = block.get(name) {
            assert!(line >= 1, "header {name} at line 0");
            let ct = headers::parse_content_type(&value);
            let _ = ct.params.get("boundary");
            let _ = ct.params.get("charset");
        }
    }
    // The value parsers also see whatever text the bytes are.
    let text = String::from_utf8_lossy(data);
    let ct = headers::parse_content_type(&text);
    assert_eq!(ct.mimetype, ct.mimetype.to_lowercase());
    let _ = ct.params.get("boundary");
}
