//! Quoted scalars indented less than their key: libyaml and yaml.v3 (the reference's parser)
//! read them, saphyr does not. The document is read again from a copy where the continuation
//! lines are indented enough, and positions are mapped back to the text.

use super::{yaml_lines, Pos, RawError, SyntaxError};

/// One line of the working copy whose leading blanks were replaced: `old` characters became
/// `new` spaces.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shift {
    line: usize,
    old: usize,
    new: usize,
}

/// A position in the working copy, in the original text.
pub(super) fn unshift(shifts: &[Shift], mut pos: Pos) -> Pos {
    for s in shifts.iter().rev() {
        if s.line == pos.line {
            pos.col = if pos.col > s.new {
                pos.col - s.new + s.old
            } else {
                pos.col.min(s.old + 1)
            };
        }
    }
    pos
}

/// The working copy with one more quoted scalar indented enough, and the warning saying so.
pub(super) struct Relaxed {
    pub(super) text: String,
    pub(super) shifts: Vec<Shift>,
    pub(super) warning: SyntaxError,
}

/// Where a quoted scalar opened at `raw` ends, by libyaml's rules.
pub(super) struct Extent {
    single: bool,
    /// The quote's column (0-based, characters).
    col: usize,
    /// The 1-based line of the closing quote.
    last_line: usize,
    /// A continuation line at column 0 that is a document marker (`---`, `...`): libyaml
    /// rejects the scalar there.
    pub(super) indicator: Option<usize>,
}

pub(super) fn quoted_scalar_extent(text: &str, raw: &RawError) -> Option<Extent> {
    let lines = yaml_lines(text);
    let open = lines.get(raw.line.checked_sub(1)?)?;
    let quote = open.chars().nth(raw.col)?;
    let single = match quote {
        '\'' => true,
        '"' => false,
        _ => return None,
    };
    let mut line = raw.line;
    let mut rest: Vec<char> = open.chars().skip(raw.col + 1).collect();
    loop {
        let mut chars = rest.iter().copied().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\'' if single => {
                    if chars.peek() == Some(&'\'') {
                        chars.next();
                    } else {
                        return Some(Extent {
                            single,
                            col: raw.col,
                            last_line: line,
                            indicator: None,
                        });
                    }
                }
                '"' if !single => {
                    return Some(Extent {
                        single,
                        col: raw.col,
                        last_line: line,
                        indicator: None,
                    })
                }
                '\\' if !single => {
                    // An escape; at the end of a line it escapes the line break.
                    chars.next();
                }
                _ => {}
            }
        }
        line += 1;
        let next = lines.get(line - 1)?;
        let is_marker = (next.starts_with("---") || next.starts_with("..."))
            && next[3..]
                .chars()
                .next()
                .is_none_or(|c| c == ' ' || c == '\t');
        if is_marker {
            return Some(Extent {
                single,
                col: raw.col,
                last_line: line,
                indicator: Some(line),
            });
        }
        rest = next.chars().collect();
    }
}

/// On saphyr's "invalid indentation in quoted scalar" (at the opening quote) or "tab cannot be
/// used as indentation" (inside one), a copy of `text` where the continuation lines' leading
/// blanks are spaces reaching at least the quote's column, which changes no value.
pub(super) fn relax_quoted(text: &str, raw: &RawError) -> Option<Relaxed> {
    if raw.info == "tab cannot be used as indentation" {
        // The tab is in the leading blanks of a continuation line: spaces of the same count
        // keep every column; a line then still too shallow is the case below.
        let lines = yaml_lines(text);
        let line = lines.get(raw.line.checked_sub(1)?)?;
        let blanks = line.chars().take_while(|c| *c == ' ' || *c == '\t').count();
        if !line.chars().take(blanks).any(|c| c == '\t') {
            return None;
        }
        let replaced = format!("{}{}", " ".repeat(blanks), &line[blanks..]);
        return Some(Relaxed {
            text: replace_lines(text, &[(raw.line, replaced)]),
            shifts: Vec::new(),
            warning: SyntaxError {
                pos: Pos::new(raw.line, raw.col + 1),
                message: "a tab in the indentation of a quoted scalar's continuation line: \
                          YAML 1.2 forbids it, coreos-cloudinit's parser (yaml.v3) accepts it \
                          and so does kindling; indent with spaces"
                    .into(),
            },
        });
    }
    if raw.info != "invalid indentation in quoted scalar" {
        return None;
    }
    let extent = quoted_scalar_extent(text, raw)?;
    if extent.indicator.is_some() {
        return None;
    }
    let lines = yaml_lines(text);
    let open = lines.get(raw.line - 1)?;
    let owner = owner_column(open, extent.col);
    let mut replaced = Vec::new();
    let mut shifts = Vec::new();
    let mut first_shallow: Option<Pos> = None;
    for line in raw.line + 1..=extent.last_line {
        let l = lines.get(line - 1)?;
        let blanks = l.chars().take_while(|c| *c == ' ' || *c == '\t').count();
        let only_blanks = blanks == l.chars().count();
        if !only_blanks && blanks <= owner && first_shallow.is_none() {
            first_shallow = Some(Pos::new(line, blanks + 1));
        }
        let has_tab = l.chars().take(blanks).any(|c| c == '\t');
        if blanks < extent.col || has_tab {
            let new = blanks.max(extent.col);
            replaced.push((line, format!("{}{}", " ".repeat(new), &l[blanks..])));
            shifts.push(Shift {
                line,
                old: blanks,
                new,
            });
        }
    }
    if replaced.is_empty() {
        return None;
    }
    let at = first_shallow.unwrap_or(Pos::new(shifts[0].line, shifts[0].old + 1));
    let kind = if extent.single { "single" } else { "double" };
    Some(Relaxed {
        text: replace_lines(text, &replaced),
        shifts,
        warning: SyntaxError {
            pos: at,
            message: format!(
                "this line continues the {kind}-quoted scalar opened on line {} but is not \
                 indented more than its key: YAML 1.2 forbids it, coreos-cloudinit's parser \
                 (yaml.v3) accepts it and so does kindling, with the same value; indent the \
                 line under its key",
                raw.line
            ),
        },
    })
}

/// The column (0-based) of the key or `-` that owns a scalar opened at `quote_col` of `line`:
/// continuation lines not indented more are what YAML 1.2 forbids.
fn owner_column(line: &str, quote_col: usize) -> usize {
    let prefix: Vec<char> = line.chars().take(quote_col).collect();
    let mut i = prefix.iter().take_while(|c| **c == ' ').count();
    let mut owner = quote_col;
    while i < prefix.len() {
        if prefix[i] == '-' && prefix.get(i + 1).is_some_and(|c| *c == ' ') {
            owner = i;
            i += 1;
            while prefix.get(i) == Some(&' ') {
                i += 1;
            }
        } else {
            // A key: the rest of the prefix is `key: `.
            return i;
        }
    }
    owner
}

/// `text` with whole lines (1-based) replaced; line ends are kept as they were.
fn replace_lines(text: &str, with: &[(usize, String)]) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut line = 1;
    let mut rest = text;
    let mut next = with.iter().peekable();
    while !rest.is_empty() || line == 1 {
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let mut brk = end;
        if rest[end..].starts_with("\r\n") {
            brk += 2;
        } else if end < rest.len() {
            brk += 1;
        }
        match next.peek() {
            Some((l, new)) if *l == line => {
                out.push_str(new);
                next.next();
            }
            _ => out.push_str(&rest[..end]),
        }
        out.push_str(&rest[end..brk]);
        rest = &rest[brk..];
        line += 1;
        if rest.is_empty() {
            break;
        }
    }
    out
}
