//! Unit files as systemd's config parser reads them: logical lines (comments dropped,
//! backslash continuations joined) and the `%` specifiers a value may hold. The validator checks
//! these lines and apply reads their [Install] section, both through this one reader.

use std::borrow::Cow;

/// systemd's WHITESPACE set, used when it strips a line.
pub fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// An odd run of trailing backslashes escapes the line end; an even run is literal.
fn continues(line: &str) -> bool {
    let run = line.bytes().rev().take_while(|b| *b == b'\\').count();
    run % 2 == 1
}

/// The logical lines of a unit file that are not comments or blank: `(0-based index of its first
/// physical line, text)`. A line continued with a trailing backslash is joined with the lines it
/// continues (comment lines inside it are skipped, as systemd does).
pub fn logical_lines(text: &str) -> Vec<(usize, Cow<'_, str>)> {
    logical_lines_iter(text).collect()
}

/// [`logical_lines`] one at a time: a checker reads a 16 MiB unit without a list of its lines.
pub fn logical_lines_iter(text: &str) -> impl Iterator<Item = (usize, Cow<'_, str>)> {
    // The logical line being continued: its first physical line and the text joined so far.
    let mut pending: Option<(usize, String)> = None;
    let mut physical = text.split('\n').enumerate();
    let mut done = false;
    std::iter::from_fn(move || loop {
        if done {
            return None;
        }
        let Some((index, raw)) = physical.next() else {
            done = true;
            return pending
                .take()
                .map(|(start, logical)| (start, logical.into()));
        };
        let mut line = raw.strip_suffix('\r').unwrap_or(raw);
        if index == 0 {
            line = line.strip_prefix('\u{feff}').unwrap_or(line);
        }
        if line.trim_start_matches(is_space).starts_with(['#', ';']) {
            continue;
        }
        // A blank line says nothing unless it ends a continuation.
        if pending.is_none() && line.trim().is_empty() {
            continue;
        }
        // Only continued lines are joined into a new string; the rest are kept in place.
        let (start, logical): (usize, Cow<str>) = match pending.take() {
            Some((start, mut joined)) => {
                joined.push_str(line);
                (start, joined.into())
            }
            None => (index, line.into()),
        };
        if continues(&logical) {
            // systemd turns the escaping backslash into a space and keeps reading.
            let mut joined = logical.into_owned();
            joined.pop();
            joined.push(' ');
            pending = Some((start, joined));
            continue;
        }
        return Some((start, logical));
    })
}

/// The letters systemd resolves after `%` in unit files (`unit_full_printf` of systemd 257, a
/// superset of older versions'), and `%` itself. systemd refuses a line where `%` is followed by
/// any other ASCII letter or digit; other characters after `%` are kept literally.
pub const SPECIFIERS: &str = "aAbBcCdDEfgGhHiIjJlLmMnNopPqrRsStTuUvVwWyY%";

/// Where each `%` in `value` starts no specifier systemd knows: (byte offset, the letter).
pub fn bad_specifiers(value: &str) -> Vec<(usize, char)> {
    let mut out = Vec::new();
    let mut chars = value.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '%' {
            continue;
        }
        match chars.next() {
            Some((_, n)) if n.is_ascii_alphanumeric() && !SPECIFIERS.contains(n) => {
                out.push((i, n))
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<(usize, String)> {
        logical_lines(text)
            .into_iter()
            .map(|(i, l)| (i, l.into_owned()))
            .collect()
    }

    #[test]
    fn comments_and_continuations() {
        let text = "\u{feff}[Install]\r\n# c \\\nWantedBy=a \\\n ; inside\n  b.target\nAlias=x\\\\\nAlso=y";
        assert_eq!(
            lines(text),
            [
                (0, "[Install]".to_string()),
                (2, "WantedBy=a    b.target".to_string()),
                (5, "Alias=x\\\\".to_string()),
                (6, "Also=y".to_string()),
            ]
        );
        // A continuation at the end of the file ends the line there.
        assert_eq!(lines("A=b\\"), [(0, "A=b ".to_string())]);
    }

    #[test]
    fn specifiers() {
        assert_eq!(bad_specifiers("%n %i %% %- 100%"), []);
        assert_eq!(bad_specifiers("a%Zb%1"), [(1, 'Z'), (4, '1')]);
    }
}
