//! Splits multipart/mixed user-data into typed parts that know their lines in the whole document.
//! Dispatch follows the reference (FC); envelope faults are reported per part, not for the whole.

use std::borrow::Cow;

use super::codec::{self, LastSymbol};
use super::gzip;
use super::headers::{self, HeaderBlock};
use super::{detect, Kind};

/// How deep multipart documents may nest inside each other: a part's `index` has at most this
/// many entries. The cap bounds recursion on hostile input; real user-data nests once at most.
pub const MAX_NESTING: usize = 8;

/// How many parts and envelope errors, together, one document may yield. Real user-data has a
/// handful of parts; the cap keeps a hostile document (millions of empty parts, perhaps behind
/// gzip) from costing many times its size in memory.
pub const MAX_ITEMS: usize = 1000;

/// The media types the reference gunzips before detecting what the part is.
const GZIP_TYPES: [&str; 8] = [
    "application/gzip",
    "application/gzip-compressed",
    "application/gzipped",
    "application/x-compress",
    "application/x-compressed",
    "application/x-gunzip",
    "application/x-gzip",
    "application/x-gzip-compressed",
];

/// One usable part of a multipart document, after transfer decoding, gunzip and detection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// 1-based position in the document, one entry per nesting level: `[3]` is the third part,
    /// `[2, 1]` the first part of a multipart document that is itself the second part.
    pub index: Vec<usize>,
    /// The media type as declared, lower-cased, without parameters (`text/cloud-config`).
    pub content_type: String,
    /// What the part is to be treated as.
    pub kind: PartKind,
    /// The content after transfer decoding and gunzip, without the line break that precedes the
    /// next delimiter.
    pub body: Vec<u8>,
    /// 1-based line in the *whole* document where the body starts. For a decoded body (see
    /// `verbatim`), the line where its encoded form starts.
    pub first_line: usize,
    /// True when the body is the document's own text (no base64 or quoted-printable, no gzip,
    /// at any nesting level), so line k of the body is line `first_line + k - 1` of the document.
    /// False when it was decoded: findings inside it belong at `first_line`, with "part N, line M"
    /// in the message.
    pub verbatim: bool,
}

impl Part {
    /// The part's number for messages: `3`, or `2.1` for a nested part.
    pub fn label(&self) -> String {
        label(&self.index)
    }
}

/// What a part is to be treated as, from its media type or, for untyped media, its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartKind {
    /// `text/cloud-config`, or content whose first line is `#cloud-config`. A typed part needs no
    /// header line of its own.
    CloudConfig,
    /// `text/x-shellscript` (which must start with `#!`), or content that starts with `#!`.
    Script,
    /// Ignition JSON: ignored by apply, not validated.
    Ignition,
    /// Anything else (prose, empty parts): ignored by apply, not validated.
    Unknown,
}

/// A fault in the MIME envelope. The part it concerns, if any, is left out of [`Split::parts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MimeError {
    /// 1-based line in the whole document.
    pub line: usize,
    /// What is wrong, naming the part (`part 2 has no Content-Type header`).
    pub message: String,
}

impl std::fmt::Display for MimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The result of [`split_multipart`]: the usable parts in document order, and every envelope
/// fault found. Both can be non-empty: one broken part does not hide the others.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    /// Usable parts, in document order; nested documents are flattened in place.
    pub parts: Vec<Part>,
    /// Envelope faults, in document order.
    pub errors: Vec<MimeError>,
}

/// Splits a multipart/mixed document (reference §1.7, "Multipart (FC) details").
///
/// The top-level media type must be exactly `multipart/mixed` with a `boundary`. The body is cut
/// on delimiter lines as RFC 2046 defines them (the preamble and epilogue are ignored; the line
/// break before a delimiter belongs to it); a missing close delimiter is tolerated. Each part
/// needs a `Content-Type`; base64 and quoted-printable bodies are decoded. `text/cloud-config`
/// and `text/x-shellscript` are taken at their word, the gzip types are gunzipped, and every
/// other type is detected from its content, recursing into nested multipart documents up to
/// [`MAX_NESTING`] levels. A broken part is reported and left out; the rest are still returned.
pub fn split_multipart(data: &[u8]) -> Split {
    let mut out = Out::default();
    split_document(data, Place::Verbatim { offset: 0 }, &[], &mut out);
    out.split
}

/// Collects parts and errors, up to [`MAX_ITEMS`] of them together.
#[derive(Default)]
struct Out {
    split: Split,
    /// Set once the cap is reached; everything after that is dropped.
    full: bool,
    /// Bytes gunzipped so far from gzip parts, all of which share one cap.
    decompressed: usize,
}

impl Out {
    fn error(&mut self, error: MimeError) {
        if self.room(error.line) {
            self.split.errors.push(error);
        }
    }

    fn part(&mut self, part: Part) {
        if self.room(part.first_line) {
            self.split.parts.push(part);
        }
    }

    /// Whether one more item fits; the first time it does not, says so at `line`.
    fn room(&mut self, line: usize) -> bool {
        if self.full {
            return false;
        }
        if self.split.parts.len() + self.split.errors.len() < MAX_ITEMS {
            return true;
        }
        self.full = true;
        self.split.errors.push(MimeError {
            line,
            message: format!(
                "more than {MAX_ITEMS} parts and envelope errors: the rest of the document is \
                 ignored"
            ),
        });
        false
    }
}

/// Whether `data` starts with a header block whose `Content-Type` contains `multipart/mixed`
/// (case-insensitively, as the reference tests a substring). Only the well-formed leading
/// header lines count, so a later malformed header line still lets the splitter report it.
pub(crate) fn is_multipart(data: &[u8]) -> bool {
    HeaderBlock::parse(data)
        .get("content-type")
        .is_some_and(|(value, _)| value.to_ascii_lowercase().contains("multipart/mixed"))
}

/// How lines of a (sub-)document map to lines of the whole document.
#[derive(Debug, Clone, Copy)]
enum Place {
    /// The sub-document is the whole document's own text, starting after `offset` lines.
    Verbatim { offset: usize },
    /// The sub-document was decoded; everything in it is placed at this one line.
    Fixed { line: usize },
}

impl Place {
    fn line(self, local: usize) -> usize {
        match self {
            Place::Verbatim { offset } => offset.saturating_add(local),
            Place::Fixed { line } => line,
        }
    }

    fn is_verbatim(self) -> bool {
        matches!(self, Place::Verbatim { .. })
    }
}

fn label(index: &[usize]) -> String {
    let parts: Vec<String> = index.iter().map(usize::to_string).collect();
    parts.join(".")
}

/// The prefix of messages about a nested document: `part 2: `, nothing at the top level.
fn context(prefix: &[usize]) -> String {
    if prefix.is_empty() {
        String::new()
    } else {
        format!("part {}: ", label(prefix))
    }
}

/// Splits one multipart document that begins with its own header block (the whole payload, or
/// a part body that is a complete MIME message, as the reference nests them); `prefix` is its
/// own part index, empty at the top level.
fn split_document(data: &[u8], place: Place, prefix: &[usize], out: &mut Out) {
    let context = context(prefix);
    let mut fail = |local_line: usize, message: &str| {
        out.error(MimeError {
            line: place.line(local_line),
            message: format!("{context}{message}"),
        });
    };

    let block = HeaderBlock::parse(data);
    if let Some(line) = block.malformed {
        fail(
            line,
            "malformed MIME header line (want \"Name: value\"; a blank line must separate the \
             headers from the body)",
        );
        return;
    }
    let Some((value, ct_line)) = block.get("content-type") else {
        fail(1, "expected multipart/mixed, got no Content-Type header");
        return;
    };
    let ct = headers::parse_content_type(&value);
    if ct.mimetype != "multipart/mixed" {
        fail(1, &format!("expected multipart/mixed, got {}", ct.mimetype));
        return;
    }
    let Some(boundary) = ct.params.get("boundary").filter(|b| !b.is_empty()) else {
        fail(ct_line, "no boundary found in Content-Type header");
        return;
    };
    let body = data.get(block.body_start..).unwrap_or_default();
    let body_place = match place {
        Place::Verbatim { offset } => Place::Verbatim {
            offset: offset + count_lines_before(data, block.body_start),
        },
        fixed => fixed,
    };
    let nested = Nested {
        boundary: boundary.as_bytes(),
        boundary_line: place.line(ct_line),
        place: body_place,
        prefix,
    };
    split_body(body, &nested, out);
}

/// A multipart body to cut, and where it sits.
struct Nested<'a> {
    boundary: &'a [u8],
    /// Whole-document line of the Content-Type that declares the boundary.
    boundary_line: usize,
    /// Where the body's own line 1 is.
    place: Place,
    /// The index of the part this body belongs to; empty for the payload itself.
    prefix: &'a [usize],
}

/// Cuts a multipart body (everything after its header block) into parts and handles each.
fn split_body(body: &[u8], nested: &Nested<'_>, out: &mut Out) {
    // Delimiters are found lazily and lines counted as the parts go by, so that a document of
    // millions of empty parts costs no memory beyond the capped output.
    let mut delimiters = Delimiters {
        data: body,
        boundary: nested.boundary,
        pos: 0,
    };
    let Some(mut current) = delimiters.next() else {
        out.error(MimeError {
            line: nested.boundary_line,
            message: format!(
                "{}no delimiter line \"--{}\" found: does the boundary match the one declared \
                 here?",
                context(nested.prefix),
                String::from_utf8_lossy(nested.boundary)
            ),
        });
        return;
    };
    let mut counted = 0;
    let mut line = 1;
    let mut number = 0;
    while !current.close && !out.full {
        number += 1;
        let next = delimiters.next();
        let start = current.next_line;
        let end = match next {
            Some(next) => content_end(body, start, next.start),
            None => body.len(),
        };
        let bytes = body.get(start..end).unwrap_or_default();
        // Without a close delimiter, a last "part" of nothing but line breaks is the usual
        // trailing newline after a forgotten `--`, not a part without headers.
        if next.is_some() || !bytes.iter().all(u8::is_ascii_whitespace) {
            line += count_lines_before(
                body.get(counted..).unwrap_or_default(),
                start.saturating_sub(counted),
            );
            counted = start;
            let mut index = nested.prefix.to_vec();
            index.push(number);
            let span = Span {
                bytes,
                line,
                place: nested.place,
            };
            split_part(&span, index, out);
        }
        match next {
            Some(next) => current = next,
            None => break,
        }
    }
}

/// One part's bytes within its multipart body.
struct Span<'a> {
    bytes: &'a [u8],
    /// The body-local line of the part's first byte.
    line: usize,
    place: Place,
}

impl Span<'_> {
    /// The whole-document line of the part's own line `k` (1-based, from its first header).
    fn part_line(&self, k: usize) -> usize {
        self.place.line(self.line + k.saturating_sub(1))
    }

    /// The whole-document line of the part's byte `offset`.
    fn line_at(&self, offset: usize) -> usize {
        self.part_line(count_lines_before(self.bytes, offset) + 1)
    }
}

fn fail(out: &mut Out, line: usize, message: String) {
    out.error(MimeError { line, message });
}

fn split_part(span: &Span<'_>, index: Vec<usize>, out: &mut Out) {
    let name = label(&index);
    let bytes = span.bytes;
    let headers_line = span.part_line(1);

    let block = HeaderBlock::parse(bytes);
    match block.malformed {
        // A part that opens with content rather than a header has no headers at all.
        Some(1) => {
            fail(
                out,
                headers_line,
                format!("part {name} has no Content-Type header"),
            );
            return;
        }
        Some(line) => {
            fail(
                out,
                span.part_line(line),
                format!(
                    "part {name}: malformed MIME header line (want \"Name: value\"; a blank \
                     line must separate the part's headers from its body)"
                ),
            );
            return;
        }
        None => {}
    }
    let content_type = block
        .get("content-type")
        .map(|(value, line)| (headers::parse_content_type(&value), line))
        .filter(|(ct, _)| !ct.mimetype.is_empty());
    let Some((content_type, ct_line)) = content_type else {
        fail(
            out,
            headers_line,
            format!("part {name} has no Content-Type header"),
        );
        return;
    };
    let ct_line = span.part_line(ct_line);
    let body_start = block.body_start.min(bytes.len());
    let raw = bytes.get(body_start..).unwrap_or_default();
    let first_line = span.line_at(body_start);

    let encoding = block
        .get("content-transfer-encoding")
        .map(|(value, line)| (value.trim().to_ascii_lowercase(), line));
    let (body, verbatim): (Cow<'_, [u8]>, bool) = match encoding {
        None => (Cow::Borrowed(raw), span.place.is_verbatim()),
        Some((enc, _)) if matches!(enc.as_str(), "" | "7bit" | "8bit" | "binary") => {
            (Cow::Borrowed(raw), span.place.is_verbatim())
        }
        Some((enc, _)) if enc == "base64" => match codec::base64(raw, LastSymbol::Canonical) {
            Ok(decoded) => (Cow::Owned(decoded), false),
            Err(e) => {
                fail(
                    out,
                    first_line,
                    format!("part {name}: base64 content cannot be decoded: {e}"),
                );
                return;
            }
        },
        Some((enc, _)) if enc == "quoted-printable" => {
            (Cow::Owned(codec::quoted_printable(raw)), false)
        }
        Some((enc, line)) => {
            fail(
                out,
                span.part_line(line),
                format!(
                    "part {name} has an unsupported Content-Transfer-Encoding \"{enc}\" (want \
                     7bit, 8bit, binary, base64 or quoted-printable)"
                ),
            );
            return;
        }
    };

    let mut part = Part {
        index,
        content_type: content_type.mimetype,
        kind: PartKind::Unknown,
        body: Vec::new(),
        first_line,
        verbatim,
    };
    match part.content_type.as_str() {
        "text/cloud-config" => {
            part.kind = PartKind::CloudConfig;
            part.body = body.into_owned();
            out.part(part);
        }
        "text/x-shellscript" => {
            if body.starts_with(b"#!") {
                part.kind = PartKind::Script;
                part.body = body.into_owned();
                out.part(part);
            } else {
                fail(
                    out,
                    first_line,
                    format!(
                        "part {name} (text/x-shellscript) is not a script: it does not start \
                         with \"#!\""
                    ),
                );
            }
        }
        // RFC 2046 nesting: the part's own headers declare the inner boundary. The reference
        // would see only a body of delimiters and ignore it as unknown; its parts are meant
        // to run, so they are split like any other.
        "multipart/mixed" => {
            let Some(boundary) = content_type
                .params
                .get("boundary")
                .filter(|b| !b.is_empty())
            else {
                fail(
                    out,
                    ct_line,
                    format!("part {name}: no boundary found in Content-Type header"),
                );
                return;
            };
            if too_deep(&part, out) {
                return;
            }
            let nested = Nested {
                boundary: boundary.as_bytes(),
                boundary_line: ct_line,
                place: body_place(&part),
                prefix: &part.index,
            };
            split_body(&body, &nested, out);
        }
        t if t.starts_with("multipart/") => fail(
            out,
            ct_line,
            format!("part {name}: expected multipart/mixed, got {t}"),
        ),
        t if GZIP_TYPES.contains(&t) => match gzip::gunzip_limited(
            &body,
            gzip::MAX_DECOMPRESSED.saturating_sub(out.decompressed),
        ) {
            Ok(plain) => {
                // One cap for all parts together, or many small bombs add up.
                out.decompressed += plain.len();
                part.verbatim = false;
                part.body = plain;
                classify(part, out);
            }
            Err(e) => fail(out, first_line, format!("part {name} ({t}): {e}")),
        },
        _ => {
            part.body = body.into_owned();
            classify(part, out);
        }
    }
}

/// Where the first line of a part's body sits, for splitting that body as a document.
fn body_place(part: &Part) -> Place {
    if part.verbatim {
        Place::Verbatim {
            offset: part.first_line.saturating_sub(1),
        }
    } else {
        Place::Fixed {
            line: part.first_line,
        }
    }
}

/// Reports, and says, whether splitting this part would nest deeper than [`MAX_NESTING`].
fn too_deep(part: &Part, out: &mut Out) -> bool {
    let deep = part.index.len() >= MAX_NESTING;
    if deep {
        out.error(MimeError {
            line: part.first_line,
            message: format!(
                "part {}: multipart documents nested more than {MAX_NESTING} levels deep are \
                 not supported",
                part.label()
            ),
        });
    }
    deep
}

/// The reference's default case: what the content says it is, recursing into a body that is
/// itself a complete multipart message.
fn classify(mut part: Part, out: &mut Out) {
    part.kind = match detect(&part.body) {
        Kind::Script => PartKind::Script,
        Kind::CloudConfig => PartKind::CloudConfig,
        Kind::Ignition => PartKind::Ignition,
        Kind::Empty | Kind::Unknown => PartKind::Unknown,
        Kind::Multipart => {
            if !too_deep(&part, out) {
                split_document(&part.body, body_place(&part), &part.index, out);
            }
            return;
        }
    };
    out.part(part);
}

/// A delimiter line: `start` is where the line begins, `next_line` where the line after it does.
#[derive(Debug, Clone, Copy)]
struct Delimiter {
    start: usize,
    next_line: usize,
    close: bool,
}

/// The delimiter lines of a multipart body, in order, up to and including the close delimiter
/// (the epilogue after it is never looked at).
struct Delimiters<'a> {
    data: &'a [u8],
    boundary: &'a [u8],
    /// Where the next line to look at begins; past the end once the close delimiter is found.
    pos: usize,
}

impl Iterator for Delimiters<'_> {
    type Item = Delimiter;

    fn next(&mut self) -> Option<Delimiter> {
        while self.pos < self.data.len() {
            let start = self.pos;
            let rest = self.data.get(start..).unwrap_or_default();
            let (line, next_line) = match rest.iter().position(|&b| b == b'\n') {
                Some(n) => (rest.get(..n).unwrap_or_default(), start + n + 1),
                None => (rest, self.data.len()),
            };
            self.pos = next_line;
            let Some(after) = line
                .strip_prefix(b"--")
                .and_then(|l| l.strip_prefix(self.boundary))
            else {
                continue;
            };
            // RFC 2046 allows transport padding after a delimiter; anything else means the line
            // merely starts like one (a longer boundary, or content).
            let padding = |s: &[u8]| s.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r'));
            let close = after.strip_prefix(b"--").is_some_and(padding);
            if close {
                self.pos = usize::MAX;
            }
            if close || padding(after) {
                return Some(Delimiter {
                    start,
                    next_line,
                    close,
                });
            }
        }
        None
    }
}

/// Where a part's content ends: before the CRLF or LF that precedes the next delimiter line,
/// which RFC 2046 makes part of the delimiter.
fn content_end(data: &[u8], start: usize, next_delimiter: usize) -> usize {
    let mut end = next_delimiter;
    if end > start && data.get(end - 1) == Some(&b'\n') {
        end -= 1;
        if end > start && data.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
    }
    end.max(start)
}

/// How many line ends precede byte `offset`.
fn count_lines_before(data: &[u8], offset: usize) -> usize {
    let head = data.get(..offset).unwrap_or(data);
    head.iter().filter(|&&b| b == b'\n').count()
}
