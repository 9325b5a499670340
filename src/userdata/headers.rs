//! MIME header blocks and the parameters of `Content-Type`: as much of RFC 5322, 2045 and 2231 as
//! user-data needs, with no charset tables.
//!
//! Values are read as the `mailparse` crate, which this replaces, read them, so the splitter
//! behaves as before: a field value is UTF-8, or Latin-1 when it is not valid UTF-8; folded
//! lines are joined with one space; parameters are split on semicolons outside quoted strings,
//! their names are case-insensitive and a later duplicate wins. RFC 2231 values are decoded
//! without tables: UTF-8 as such, any other charset as Latin-1 (none: UTF-8 if valid).

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::codec;

/// A leading RFC 5322 header block: its fields, where the body starts, and where the block was
/// cut short by a line that is not a header field.
pub(super) struct HeaderBlock<'a> {
    data: &'a [u8],
    fields: Vec<Field<'a>>,
    /// Offset of the body: after the blank line, or the end of the data when there is none.
    pub(super) body_start: usize,
    /// Line of the first line that is neither a header field, a continuation nor the blank
    /// line; the block is cut short before it.
    pub(super) malformed: Option<usize>,
}

/// One header field: its name, and its value as the bytes `start..end` of the block's data
/// (from after the colon to the end of its last line, folds included).
struct Field<'a> {
    name: &'a [u8],
    start: usize,
    end: usize,
    /// 1-based line of the field's first line, relative to the block's own data.
    line: usize,
}

impl<'a> HeaderBlock<'a> {
    /// Reads the header block at the start of `data`. A field line needs a colon after a
    /// printable name, as RFC 5322 and Go's reader demand; a line that starts with a space or
    /// tab continues the field before it (RFC 5322 folding). The blank line (LF or CRLF) ends
    /// the block; any other line ends it as malformed.
    pub(super) fn parse(data: &'a [u8]) -> Self {
        let mut fields: Vec<Field<'a>> = Vec::new();
        let mut malformed = None;
        let mut body_start = data.len();
        let mut pos = 0;
        let mut line = 1;
        while pos < data.len() {
            let rest = data.get(pos..).unwrap_or_default();
            let (text, next) = match rest.iter().position(|&b| b == b'\n') {
                Some(n) => (rest.get(..n).unwrap_or_default(), Some(pos + n + 1)),
                None => (rest, None),
            };
            if let Some(next) = next.filter(|_| text.is_empty() || text == b"\r") {
                body_start = next;
                break;
            }
            let line_end = pos + text.len();
            let is_continuation = matches!(text.first(), Some(b' ' | b'\t'));
            let colon = text
                .iter()
                .position(|&b| b == b':')
                .filter(|&colon| colon > 0)
                .filter(|&colon| text.iter().take(colon).all(u8::is_ascii_graphic));
            match (fields.last_mut(), colon) {
                (Some(field), _) if is_continuation => field.end = line_end,
                (_, Some(colon)) => fields.push(Field {
                    name: text.get(..colon).unwrap_or_default(),
                    start: pos + colon + 1,
                    end: line_end,
                    line,
                }),
                _ => {
                    malformed = Some(line);
                    body_start = pos;
                    break;
                }
            }
            match next {
                Some(next) => pos = next,
                None => break,
            }
            line += 1;
        }
        HeaderBlock {
            data,
            fields,
            body_start,
            malformed,
        }
    }

    /// The first field with this name (case-insensitive): its unfolded value and its line.
    pub(super) fn get(&self, name: &str) -> Option<(String, usize)> {
        let field = self
            .fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name.as_bytes()))?;
        let raw = self.data.get(field.start..field.end).unwrap_or_default();
        Some((unfold(raw), field.line))
    }
}

/// A field value as text: line breaks (and trailing CRs) at the end dropped, each line's leading
/// whitespace dropped, and the lines joined with one space.
fn unfold(raw: &[u8]) -> String {
    let end = raw
        .iter()
        .rposition(|&b| b != b'\r' && b != b'\n')
        .map_or(0, |i| i + 1);
    let text = utf8_or_latin1(raw.get(..end).unwrap_or_default());
    let mut out = String::with_capacity(text.len());
    for (i, piece) in text.split_inclusive('\n').enumerate() {
        let line = match piece.strip_suffix('\n') {
            Some(line) => line.strip_suffix('\r').unwrap_or(line),
            None => piece,
        };
        if i > 0 {
            out.push(' ');
        }
        out.push_str(line.trim_start());
    }
    out
}

/// UTF-8 (RFC 6532) when the bytes are valid UTF-8, Latin-1 otherwise.
fn utf8_or_latin1(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => Cow::Owned(latin1(bytes)),
    }
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// A `Content-Type` value: the media type, lower-cased, and its parameters.
pub(super) struct ContentType {
    /// `type/subtype` as written, trimmed and lower-cased; empty when the value is.
    pub(super) mimetype: String,
    pub(super) params: Params,
}

/// Reads a `Content-Type` value (`type/subtype; name=value; ...`, RFC 2045 §5.1).
pub(super) fn parse_content_type(value: &str) -> ContentType {
    let (mimetype, params) = parse_parameterized(value);
    ContentType {
        mimetype: mimetype.to_lowercase(),
        params,
    }
}

/// Splits `value; name=value; ...` into the trimmed leading value and the parameters.
fn parse_parameterized(value: &str) -> (&str, Params) {
    let mut pieces = split_unquoted_semicolons(value).into_iter();
    let first = pieces.next().unwrap_or_default().trim();
    let params = pieces
        .filter_map(|piece| {
            let (name, value) = piece.split_once('=')?;
            Some((name.trim().to_lowercase(), unquote(value.trim())))
        })
        .collect();
    (first, Params(params))
}

/// Splits on the semicolons that are outside quoted strings; inside one, a backslash escapes
/// the next character.
fn split_unquoted_semicolons(value: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut in_quote = false;
    let mut escaped = false;
    for (i, b) in value.bytes().enumerate() {
        if escaped {
            escaped = false;
        } else if in_quote && b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            in_quote = !in_quote;
        } else if b == b';' && !in_quote {
            // A semicolon is ASCII: both sides of it are on character boundaries.
            pieces.push(value.get(start..i).unwrap_or_default());
            start = i + 1;
        }
    }
    pieces.push(value.get(start..).unwrap_or_default());
    pieces
}

/// A quoted string without its quotes and with its backslash escapes resolved; anything else
/// (including a quote that is not closed at the end) as it is.
fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return value.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut escaped = false;
    for c in inner.chars() {
        if !escaped && c == '\\' {
            escaped = true;
            continue;
        }
        escaped = false;
        out.push(c);
    }
    out
}

/// Parameters in the order written: lower-cased names, unquoted values.
pub(super) struct Params(Vec<(String, String)>);

impl Params {
    /// The value of parameter `name` (lower-case), decoding RFC 2231: a plain `name` wins over
    /// an extended `name*`, which wins over continuations `name*0`, `name*1*`... A malformed
    /// extended value (no `charset'language'` prefix) is passed over.
    pub(super) fn get(&self, name: &str) -> Option<String> {
        if let Some(text) = self.last(name, "") {
            return Some(text.to_owned());
        }
        if let Some((charset, encoded)) = self.last(name, "*").and_then(split_extended) {
            return Some(decode_charset(charset, percent_decode(encoded)));
        }
        self.continued(name)
    }

    /// The last value of the parameter called `name` followed by `suffix`.
    fn last(&self, name: &str, suffix: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(key, _)| key.strip_prefix(name) == Some(suffix))
            .map(|(_, value)| value.as_str())
    }

    /// RFC 2231 §3 and §4.1: `name*0`, `name*1`... joined in order up to the first missing
    /// index. A segment `name*N*` is percent-encoded, the first one behind `charset'language'`
    /// (without which it does not count); adjacent encoded segments are decoded together, so a
    /// character may span them.
    fn continued(&self, name: &str) -> Option<String> {
        // Index -> (plain value, encoded value); a later duplicate wins, and a plain one wins
        // over an encoded one.
        let mut segments: BTreeMap<usize, (Option<&str>, Option<&str>)> = BTreeMap::new();
        for (key, value) in &self.0 {
            let Some(rest) = key.strip_prefix(name).and_then(|r| r.strip_prefix('*')) else {
                continue;
            };
            let (digits, encoded) = match rest.strip_suffix('*') {
                Some(digits) => (digits, true),
                None => (rest, false),
            };
            let Some(index) = segment_index(digits) else {
                continue;
            };
            if encoded && index == 0 && split_extended(value).is_none() {
                continue;
            }
            let entry = segments.entry(index).or_default();
            if encoded {
                entry.1 = Some(value.as_str());
            } else {
                entry.0 = Some(value.as_str());
            }
        }
        if !segments.contains_key(&0) {
            return None;
        }
        let mut text = String::new();
        let mut octets = Vec::new();
        let mut charset = "";
        for (expected, (&index, segment)) in segments.iter().enumerate() {
            if index != expected {
                break;
            }
            match *segment {
                (Some(plain), _) => {
                    text.push_str(&decode_charset(charset, std::mem::take(&mut octets)));
                    text.push_str(plain);
                }
                (None, Some(value)) => {
                    let value = match split_extended(value).filter(|_| index == 0) {
                        Some((declared, value)) => {
                            charset = declared;
                            value
                        }
                        None => value,
                    };
                    octets.extend(percent_decode(value));
                }
                (None, None) => break,
            }
        }
        text.push_str(&decode_charset(charset, octets));
        Some(text)
    }
}

/// A continuation index as RFC 2231 writes it: decimal, without leading zeros.
fn segment_index(digits: &str) -> Option<usize> {
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    digits.parse().ok().filter(|_| canonical)
}

/// Splits an RFC 2231 extended value `charset'language'text` into the charset and the text;
/// `None` without both apostrophes.
fn split_extended(value: &str) -> Option<(&str, &str)> {
    let mut parts = value.splitn(3, '\'');
    let charset = parts.next()?;
    let _language = parts.next()?;
    Some((charset, parts.next()?))
}

/// `%XX` escapes decoded; a `%` that does not start one is kept.
fn percent_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    codec::unescape_hex(text.as_bytes(), b'%', &mut out);
    out
}

/// Text from octets in a declared charset, without tables: UTF-8 (invalid sequences replaced),
/// no charset (UTF-8 when valid, else Latin-1), or any other charset read as Latin-1.
fn decode_charset(charset: &str, octets: Vec<u8>) -> String {
    if octets.is_empty() {
        String::new()
    } else if is_utf8(charset) {
        match String::from_utf8(octets) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    } else if charset.trim().is_empty() {
        utf8_or_latin1(&octets).into_owned()
    } else {
        latin1(&octets)
    }
}

fn is_utf8(charset: &str) -> bool {
    let charset = charset.trim();
    charset.eq_ignore_ascii_case("utf-8") || charset.eq_ignore_ascii_case("utf8")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(data: &[u8], name: &str) -> Option<(String, usize)> {
        HeaderBlock::parse(data).get(name)
    }

    fn param(value: &str, name: &str) -> Option<String> {
        parse_content_type(value).params.get(name)
    }

    /// A `filename` parameter: the values below are `Content-Disposition` ones, read by the
    /// same parameter parser.
    fn filename(value: &str) -> Option<String> {
        param(value, "filename")
    }

    #[test]
    fn fields_unfold_and_names_are_case_insensitive() {
        let data = b"Content-Type: multipart/mixed;\n\tboundary=b\r\n\
                     X-Empty:\n\
                     Subject:  two \n   spaces\r\n \r\n  end\n\
                     content-type: text/plain\n\
                     \n\
                     Body: not a header\n";
        let block = HeaderBlock::parse(data);
        assert_eq!(block.malformed, None);
        assert_eq!(
            block.get("CONTENT-TYPE"),
            Some(("multipart/mixed; boundary=b".into(), 1))
        );
        assert_eq!(block.get("x-empty"), Some((String::new(), 3)));
        // Each line's leading whitespace gives way to one space; trailing whitespace stays.
        assert_eq!(block.get("subject"), Some(("two  spaces  end".into(), 4)));
        assert_eq!(block.get("body"), None);
        assert_eq!(
            data.get(block.body_start..),
            Some(&b"Body: not a header\n"[..])
        );
    }

    #[test]
    fn block_ends_at_blank_line_end_of_data_or_malformed_line() {
        let block = HeaderBlock::parse(b"A: 1\r\n\r\nbody");
        assert_eq!((block.body_start, block.malformed), (8, None));

        let block = HeaderBlock::parse(b"A: 1\n folded");
        assert_eq!((block.body_start, block.malformed), (12, None));
        assert_eq!(block.get("a"), Some(("1 folded".into(), 1)));

        for (data, line) in [
            (&b"A: 1\nno colon here\n\nbody"[..], 2),
            (b" A: starts folded\n", 1),
            (b"A B: space in name\n", 1),
            (b": empty name\n", 1),
            (b"A: 1\n\r", 2),
        ] {
            let block = HeaderBlock::parse(data);
            assert_eq!(block.malformed, Some(line), "{data:?}");
            assert_eq!(
                block.body_start,
                data.split_inclusive(|&b| b == b'\n')
                    .take(line - 1)
                    .map(<[u8]>::len)
                    .sum::<usize>(),
            );
        }
        assert_eq!(field(b"A: 1\nB C: 2\n", "a"), Some(("1".into(), 1)));
    }

    #[test]
    fn values_are_utf8_or_else_latin1() {
        assert_eq!(
            field("A: caf\u{e9}\n".as_bytes(), "a").unwrap().0,
            "caf\u{e9}"
        );
        assert_eq!(field(b"A: caf\xe9\n", "a").unwrap().0, "caf\u{e9}");
        assert_eq!(field(b"A: a\rb\r\r\n", "a").unwrap().0, "a\rb");
    }

    #[test]
    fn media_type_and_quoted_parameters() {
        let ct = parse_content_type(" Multipart/Mixed ; Boundary = \"a \\\"b\\\"; c\" ;x");
        assert_eq!(ct.mimetype, "multipart/mixed");
        assert_eq!(ct.params.get("boundary").as_deref(), Some("a \"b\"; c"));
        assert_eq!(ct.params.get("x"), None);
        assert_eq!(parse_content_type("").mimetype, "");
        assert_eq!(parse_content_type("; boundary=b").mimetype, "");
        // A later duplicate wins; an unclosed quote is kept as written.
        assert_eq!(
            param("a/b; boundary=1; BOUNDARY=2", "boundary").as_deref(),
            Some("2")
        );
        assert_eq!(
            param("a/b; boundary=\"x", "boundary").as_deref(),
            Some("\"x")
        );
        assert_eq!(param("a/b; boundary=\"\"", "boundary").as_deref(), Some(""));
        assert_eq!(
            param("a/b; boundary=x\"y\"", "boundary").as_deref(),
            Some("x\"y\"")
        );
    }

    #[test]
    fn rfc2231_extended_values() {
        assert_eq!(
            filename("attachment; filename*=utf-8''%e2%82%ac%20rates.txt").as_deref(),
            Some("\u{20ac} rates.txt")
        );
        assert_eq!(
            filename("attachment; FILENAME*=UTF-8'en'%E2%82").as_deref(),
            Some("\u{fffd}")
        );
        // No tables: any other charset is read as Latin-1; no charset as UTF-8 when valid.
        assert_eq!(
            filename("attachment; filename*=iso-8859-1'fr'caf%E9").as_deref(),
            Some("caf\u{e9}")
        );
        assert_eq!(
            filename("attachment; filename*=''caf%C3%A9").as_deref(),
            Some("caf\u{e9}")
        );
        // A stray % stays; a value without charset'language' is no extended value at all.
        assert_eq!(
            filename("a; filename*=utf-8''100%;%zz").as_deref(),
            Some("100%")
        );
        assert_eq!(filename("a; filename*=%41"), None);
        assert_eq!(
            filename("a; filename*=%41; filename*0=b").as_deref(),
            Some("b")
        );
    }

    #[test]
    fn rfc2231_continuations() {
        assert_eq!(
            param(
                "message/external-body; boundary*1=\" two\"; boundary*0=one",
                "boundary"
            )
            .as_deref(),
            Some("one two")
        );
        // Encoded segments are decoded together: the euro sign spans two of them.
        assert_eq!(
            filename(
                "attachment; filename*0*=utf-8'en'%e2%82; filename*1*=%ac%20; \
                 filename*2=\"and more\"; filename*3*=%41"
            )
            .as_deref(),
            Some("\u{20ac} and moreA")
        );
        // Up to the first gap; only canonical indices; a plain segment beats an encoded one.
        assert_eq!(
            filename("a; filename*0=x; filename*2=z").as_deref(),
            Some("x")
        );
        assert_eq!(
            filename("a; filename*0=x; filename*01=y").as_deref(),
            Some("x")
        );
        assert_eq!(filename("a; filename*00=x"), None);
        assert_eq!(filename("a; filename*1=y"), None);
        assert_eq!(
            filename("a; filename*0=x; filename*0*=utf-8''y").as_deref(),
            Some("x")
        );
        // A plain value beats an extended one, which beats continuations.
        assert_eq!(
            filename("a; filename*0=c; filename*=utf-8''e; filename=p").as_deref(),
            Some("p")
        );
        assert_eq!(
            filename("a; filename*0=c; filename*=utf-8''e").as_deref(),
            Some("e")
        );
        assert_eq!(
            filename("a; filename=; filename*=utf-8''e").as_deref(),
            Some("")
        );
    }

    #[test]
    fn garbage_does_not_panic() {
        let pieces = [
            "\"", "\\", ";", "=", "*", "*0", "*1*", "'", "''", "%", "%e2", "=?", "?=", "?",
            "utf-8", "q", "b", " ", "\t", "\u{e9}", "\u{2003}", "filename", "boundary",
        ];
        // Every string of up to three pieces, as a value and as a header block.
        let mut value = String::new();
        let mut stack = vec![0usize];
        while let Some(&top) = stack.last() {
            value.clear();
            for &i in &stack[..stack.len() - 1] {
                value.push_str(pieces[i]);
            }
            let _ = filename(&value);
            let _ = parse_content_type(&value).params.get("boundary");
            let block = format!("Content-Disposition: {value}\n {value}\n\n");
            let _ = HeaderBlock::parse(block.as_bytes()).get("content-disposition");
            if stack.len() <= 3 && top < pieces.len() {
                stack.push(0);
            } else {
                stack.pop();
                if let Some(last) = stack.last_mut() {
                    *last += 1;
                }
            }
        }
        for data in [
            &b"\xff\xfe:\n"[..],
            b":",
            b"\n",
            b"\r",
            b"A:\xc3",
            b"A: \n \n",
        ] {
            let _ = HeaderBlock::parse(data).get("a");
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_input_does_not_panic(text in ".*", bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = filename(&text);
            let _ = parse_content_type(&text).params.get("boundary");
            let block = HeaderBlock::parse(&bytes);
            for name in ["content-type", "content-disposition"] {
                if let Some((value, line)) = block.get(name) {
                    proptest::prop_assert!(line >= 1);
                    let _ = filename(&value);
                    let _ = parse_content_type(&value);
                }
            }
        }
    }
}
