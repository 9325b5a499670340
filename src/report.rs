//! Findings (error, warning, info at a line and column) and the ways they are printed: the human
//! compiler-style format, the JSON lines of `--format json`, and the reference's `--validate` log.

use std::fmt::Write as _;

use serde::Serialize;

use crate::rules::{Allowed, Code, Severity};

/// Writes `text` to standard output and flushes it. A reader that went away (`kindling schema |
/// head`) is not an error: it had what it wanted, as with any Unix filter. `print!` would panic
/// there instead, because Rust ignores SIGPIPE, and at boot that would fail the unit after the
/// work was done. Any other write error (a full disk behind a redirect) is returned.
pub fn print(text: impl AsRef<[u8]>) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_ref()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        done => done,
    }
}

/// A place in the source: 1-based line, 1-based column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

impl Pos {
    pub fn new(line: usize, col: usize) -> Pos {
        Pos { line, col }
    }
}

/// Findings kept per document: no real config meets it, and past it a hostile one (a finding
/// per line of 16 MiB) would need gigabytes to hold and print what it found.
pub const MAX_FINDINGS: usize = 10_000;
/// Findings kept per unit file, for the same reason; a document holds many units.
pub const MAX_UNIT_FINDINGS: usize = 1_000;

/// Counts the findings of one list past its limit instead of keeping them. A finding more
/// severe than every kept one is kept all the same (two at most), so that what the list says
/// about the exit status (an error, a warning under `--strict`) is what the whole list says.
/// A finding of an allowed rule is dropped first, neither kept nor counted: silenced findings
/// must not use up the room of the others.
#[derive(Debug, Clone)]
pub struct Cap {
    limit: usize,
    allowed: Allowed,
    kept: usize,
    worst: Option<Severity>,
    more: usize,
    first_more: Option<Pos>,
}

impl Cap {
    pub fn new(limit: usize, allowed: Allowed) -> Cap {
        Cap {
            limit,
            allowed,
            kept: 0,
            worst: None,
            more: 0,
            first_more: None,
        }
    }

    /// Whether to keep a finding of rule `code` at `pos`; counts it when not, unless the rule is
    /// allowed.
    pub fn admit(&mut self, code: Code, pos: Pos) -> bool {
        if self.allowed.contains(code) {
            return false;
        }
        let severity = code.severity();
        // `Severity` orders Error first.
        let worse = self.worst.is_none_or(|w| severity < w);
        if self.kept < self.limit || worse {
            self.kept += 1;
            self.worst = Some(self.worst.map_or(severity, |w| w.min(severity)));
            return true;
        }
        self.more += 1;
        self.first_more.get_or_insert(pos);
        false
    }

    /// How many findings were counted and not kept.
    pub fn more(&self) -> usize {
        self.more
    }

    /// The closing finding, once some were not kept: how many, where the first was, and `what`
    /// the limit is per ("document", "unit file").
    pub fn closing(&self, what: &str) -> Option<Finding> {
        let pos = self.first_more?;
        Some(Finding::new(
            Code::TooManyFindings,
            pos,
            format!(
                "{} more finding{} in this {what} from here on are not shown: kindling reports at most {} per {what}; fix these and run it again",
                self.more,
                if self.more == 1 { "" } else { "s" },
                self.limit
            ),
        ))
    }
}

/// How a report is printed (`--format`): the compiler-style text or JSON lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Finding {
    pub severity: Severity,
    /// The rule that found it; its kind is the rule's.
    pub code: Code,
    pub pos: Pos,
    pub message: String,
}

impl Finding {
    pub fn new(code: Code, pos: Pos, message: impl Into<String>) -> Finding {
        Finding {
            severity: code.severity(),
            code,
            pos,
            message: message.into(),
        }
    }
}

/// Sorts by position (then severity and text) and drops exact repeats, which arise when an
/// aliased node is read in several places.
pub fn normalize(findings: &mut Vec<Finding>) {
    // Messages quote the user's text; a stray newline or escape sequence must not reach a
    // terminal or split a report line, whichever check wrote the message.
    for f in findings.iter_mut() {
        if f.message.chars().any(char::is_control) {
            f.message = f
                .message
                .chars()
                .flat_map(|c| {
                    let escaped: Vec<char> = if c.is_control() {
                        c.escape_debug().collect()
                    } else {
                        vec![c]
                    };
                    escaped
                })
                .collect();
        }
    }
    findings.sort_by(|a, b| (a.pos, a.severity, &a.message).cmp(&(b.pos, b.severity, &b.message)));
    findings.dedup();
}

/// Characters of a source line shown around the column; a longer line is cut to this window.
const EXCERPT_WIDTH: usize = 120;

/// One source line as the human format shows it, and the padding that puts a caret under
/// column `col`. Control characters are escaped (a hostile config must not drive the reader's
/// terminal), tabs kept so that the caret lines up under tab-indented text, and a long line is
/// cut to a window around the column, an ellipsis marking each cut.
fn excerpt_line(line: &str, col: usize) -> (String, String) {
    let at = col.saturating_sub(1);
    let start = at.saturating_sub(EXCERPT_WIDTH / 2);
    let mut chars = line.chars().skip(start);
    let (mut shown, mut caret_pad) = (String::new(), String::new());
    if start > 0 {
        shown.push('…');
        caret_pad.push(' ');
    }
    for i in start..start + EXCERPT_WIDTH {
        let Some(c) = chars.next() else { break };
        let before = shown.chars().count();
        if c == '\t' || !c.is_control() {
            shown.push(c);
        } else {
            shown.extend(c.escape_debug());
        }
        if i < at {
            let width = shown.chars().count() - before;
            caret_pad.extend(std::iter::repeat_n(
                if c == '\t' { '\t' } else { ' ' },
                width,
            ));
        }
    }
    if chars.next().is_some() {
        shown.push('…');
    }
    (shown, caret_pad)
}

/// One line of a report, whoever found it: the validator's findings and `kindling convert`'s
/// are written by the same two functions, so a reader (or a tool) reads both alike.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Entry<'a> {
    pub kind: Severity,
    pub code: &'a str,
    pub line: usize,
    pub column: usize,
    pub message: &'a str,
}

/// `FILE:LINE:COL: KIND[CODE]: MESSAGE` for each entry, then the line of `source` it points
/// at and a caret under the column.
pub fn human<'a>(file: &str, source: &str, entries: impl IntoIterator<Item = Entry<'a>>) -> String {
    let mut out = String::new();
    // Split once: a config with thousands of findings must not be rescanned for each. Not at
    // all for a clean one.
    let mut lines = None;
    for e in entries {
        let _ = writeln!(
            out,
            "{file}:{}:{}: {}[{}]: {}",
            e.line,
            e.column,
            e.kind.as_str(),
            e.code,
            e.message
        );
        let lines = lines.get_or_insert_with(|| crate::lines::Lines::text(source));
        let Some(line) = e.line.checked_sub(1).and_then(|i| lines.get(i)) else {
            continue;
        };
        let line = line.strip_suffix('\r').unwrap_or(line);
        let gutter = e.line.to_string();
        let pad = " ".repeat(gutter.len());
        let (shown, caret_pad) = excerpt_line(line, e.column);
        let _ = writeln!(out, "{pad} |\n{gutter} | {shown}\n{pad} | {caret_pad}^");
    }
    out
}

/// One JSON object: `{"file":…,"entries":[{"kind","code","line","column","message"}]}`.
pub fn json<'a>(file: &str, entries: impl IntoIterator<Item = Entry<'a>>) -> String {
    #[derive(Serialize)]
    struct Out<'a> {
        file: &'a str,
        entries: Vec<Entry<'a>>,
    }
    let out = Out {
        file,
        entries: entries.into_iter().collect(),
    };
    serde_json::to_string(&out).unwrap_or_default()
}

/// The findings for one input, with the text they point into (decompressed when the input was
/// gzip) so that the human format can show the offending line.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub source: String,
}

impl Report {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
    pub fn has_warnings(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity == Severity::Warning)
    }

    /// The findings as report entries.
    pub fn entries(&self) -> impl Iterator<Item = Entry<'_>> {
        self.findings.iter().map(|f| Entry {
            kind: f.severity,
            code: f.code.name(),
            line: f.pos.line,
            column: f.pos.col,
            message: &f.message,
        })
    }

    /// `FILE:LINE:COL: KIND[CODE]: MESSAGE`, then the source line and a caret under the column.
    pub fn to_human(&self, file: &str) -> String {
        human(file, &self.source, self.entries())
    }

    /// One JSON object: `{"file":…,"entries":[{"kind","code","line","column","message"}]}`.
    pub fn to_json(&self, file: &str) -> String {
        json(file, self.entries())
    }

    /// The reference's `-validate` log lines: `line N: KIND: MESSAGE`.
    pub fn to_compat(&self) -> Vec<String> {
        self.findings
            .iter()
            .map(|f| {
                format!(
                    "line {}: {}: {}",
                    f.pos.line,
                    f.severity.as_str(),
                    f.message
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        Report {
            findings: vec![Finding::new(
                Code::InvalidValue,
                Pos::new(2, 11),
                "invalid value \"x\"",
            )],
            source: "#cloud-config\nhostname:\tx\n".into(),
        }
    }

    #[test]
    fn human_format_shows_line_and_caret() {
        let text = report().to_human("a.yml");
        assert_eq!(
            text,
            "a.yml:2:11: error[invalid-value]: invalid value \"x\"\n  |\n2 | hostname:\tx\n  |          \t^\n"
        );
    }

    #[test]
    fn json_format_is_one_object() {
        assert_eq!(
            report().to_json("-"),
            r#"{"file":"-","entries":[{"kind":"error","code":"invalid-value","line":2,"column":11,"message":"invalid value \"x\""}]}"#
        );
    }

    #[test]
    fn compat_format_is_the_references() {
        assert_eq!(
            report().to_compat(),
            vec!["line 2: error: invalid value \"x\""]
        );
    }

    #[test]
    fn the_cap_counts_what_it_does_not_keep_and_keeps_a_worse_kind() {
        let (info, warning, error) = (Code::AliasRepeat, Code::UnknownKey, Code::WrongType);
        let mut cap = Cap::new(2, Allowed::default());
        let at = Pos::new(1, 1);
        assert!(cap.admit(info, at));
        assert!(cap.admit(info, at));
        assert!(!cap.admit(info, Pos::new(3, 1)));
        assert!(cap.closing("unit file").is_some());
        // A warning, then an error: each is kept once, so the kinds the list holds are the
        // kinds of everything it was given.
        assert!(cap.admit(warning, at));
        assert!(!cap.admit(warning, at));
        assert!(cap.admit(error, at));
        assert!(!cap.admit(error, at));
        assert!(!cap.admit(info, at));
        assert_eq!(cap.more(), 4);
        let closing = cap.closing("unit file").unwrap();
        assert_eq!(closing.code, Code::TooManyFindings);
        assert_eq!(closing.pos, Pos::new(3, 1));
        assert_eq!(
            closing.message,
            "4 more findings in this unit file from here on are not shown: kindling reports at most 2 per unit file; fix these and run it again"
        );
        assert!(Cap::new(2, Allowed::default())
            .closing("document")
            .is_none());
    }

    #[test]
    fn the_cap_drops_allowed_findings_without_counting_them() {
        let mut allowed = Allowed::default();
        allowed.insert(Code::UnknownKey);
        let mut cap = Cap::new(1, allowed);
        let at = Pos::new(1, 1);
        for _ in 0..3 {
            assert!(!cap.admit(Code::UnknownKey, at));
        }
        assert!(cap.admit(Code::DeprecatedKey, at));
        assert_eq!(cap.more(), 0);
        assert!(cap.closing("document").is_none());
    }

    #[test]
    fn normalize_sorts_and_dedups() {
        let mut v = vec![
            Finding::new(Code::UnknownKey, Pos::new(3, 1), "b"),
            Finding::new(Code::YamlSyntax, Pos::new(1, 1), "a"),
            Finding::new(Code::UnknownKey, Pos::new(3, 1), "b"),
        ];
        normalize(&mut v);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].pos.line, 1);
    }

    #[test]
    fn the_excerpt_escapes_control_characters_and_keeps_the_caret() {
        let r = Report {
            findings: vec![Finding::new(Code::InvalidValue, Pos::new(1, 14), "m")],
            source: "hostname: \x1b]0;x\x07bad\n".into(),
        };
        assert_eq!(
            r.to_human("a"),
            "a:1:14: error[invalid-value]: m\n  |\n1 | hostname: \\u{1b}]0;x\\u{7}bad\n  |                   ^\n"
        );
    }

    #[test]
    fn a_long_line_is_cut_to_a_window_around_the_column() {
        let line = format!("hostname: {}Z{}", "a".repeat(15 << 20), "b".repeat(1000));
        let col = 11 + (15 << 20);
        let r = Report {
            findings: vec![Finding::new(Code::InvalidValue, Pos::new(1, col), "m")],
            source: line,
        };
        let text = r.to_human("a");
        assert!(text.len() < 400, "{} bytes", text.len());
        let lines: Vec<&str> = text.lines().collect();
        let shown = lines[2].strip_prefix("1 | ").unwrap();
        let caret = lines[3].strip_prefix("  | ").unwrap();
        assert!(shown.starts_with('…') && shown.ends_with('…'));
        assert_eq!(caret.chars().count(), 62);
        assert_eq!(shown.chars().nth(caret.chars().count() - 1), Some('Z'));
        // Short lines are shown whole.
        let r = Report {
            findings: vec![Finding::new(Code::InvalidValue, Pos::new(1, 3), "m")],
            source: "a: b".into(),
        };
        assert_eq!(
            r.to_human("f"),
            "f:1:3: error[invalid-value]: m\n  |\n1 | a: b\n  |   ^\n"
        );
    }
}
