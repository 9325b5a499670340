//! The lines of a text, found through a sparse index. A list of every line costs 16 bytes a
//! line: 64 MiB of line breaks (which 64 KB of gzip decompress to) would take 1 GiB. This keeps a
//! mark every [`MARK_LINES`] lines, and at the first line after each [`MARK_BYTES`], so it takes
//! at most 16 bytes per 64 lines or per 4 KiB, and finds a line by scanning at most that much.

use std::cell::Cell;

/// Lines between two marks, at most.
const MARK_LINES: usize = 64;
/// Bytes after which the next line start is marked.
const MARK_BYTES: usize = 4096;

/// What ends a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Breaks {
    /// LF, CRLF and a lone CR, as YAML reads them; a text ending in a break has an empty last
    /// line.
    Yaml,
    /// LF and CRLF, as `str::lines` reads them: a final break starts no line.
    Text,
}

#[derive(Debug)]
pub struct Lines<'t> {
    text: &'t str,
    breaks: Breaks,
    /// (0-based line, byte where it starts), ascending; the first is (0, 0).
    marks: Vec<(usize, usize)>,
    /// The last line found, (0-based line, byte where it starts): readers mostly go forward
    /// (the parser's block scalars, the report's findings in order), and start from there.
    cursor: Cell<(usize, usize)>,
    count: usize,
    /// Whether the text holds a CR: without one, YAML's breaks are found by memchr too.
    cr: bool,
}

impl<'t> Lines<'t> {
    /// The lines as YAML counts them: LF, CRLF and a lone CR each end a line.
    pub fn yaml(text: &'t str) -> Lines<'t> {
        Lines::new(text, Breaks::Yaml)
    }

    /// The lines `str::lines` gives.
    pub fn text(text: &'t str) -> Lines<'t> {
        Lines::new(text, Breaks::Text)
    }

    fn new(text: &'t str, breaks: Breaks) -> Lines<'t> {
        let mut lines = Lines {
            text,
            breaks,
            marks: vec![(0, 0)],
            cursor: Cell::new((0, 0)),
            count: 0,
            cr: breaks == Breaks::Yaml && text.as_bytes().contains(&b'\r'),
        };
        let (mut line, mut start) = (0, 0);
        while let (_, Some(next)) = lines.end(start) {
            line += 1;
            start = next;
            let &(mark_line, mark_at) = lines.marks.last().unwrap_or(&(0, 0));
            if line - mark_line >= MARK_LINES || start - mark_at >= MARK_BYTES {
                lines.marks.push((line, start));
            }
        }
        lines.count = match breaks {
            Breaks::Yaml => line + 1,
            Breaks::Text => line + usize::from(start < text.len()),
        };
        lines
    }

    /// Where the line starting at byte `from` ends (exclusive, without its break) and where the
    /// next one starts, if one does.
    fn end(&self, from: usize) -> (usize, Option<usize>) {
        let bytes = self.text.as_bytes();
        let found = match self.breaks {
            Breaks::Yaml if self.cr => bytes[from..].iter().position(|&b| b == b'\n' || b == b'\r'),
            // A one-byte pattern: the standard library's memchr.
            Breaks::Yaml | Breaks::Text => self.text[from..].find('\n'),
        };
        let Some(at) = found.map(|at| from + at) else {
            return (bytes.len(), None);
        };
        match self.breaks {
            Breaks::Yaml if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') => {
                (at, Some(at + 2))
            }
            Breaks::Text if at > from && bytes[at - 1] == b'\r' => (at - 1, Some(at + 1)),
            _ => (at, Some(at + 1)),
        }
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Where the 0-based line `index` starts.
    fn start_of(&self, index: usize) -> Option<usize> {
        if index >= self.count {
            return None;
        }
        let mark = self.marks[self.marks.partition_point(|m| m.0 <= index) - 1];
        let cursor = self.cursor.get();
        let (mut line, mut start) = if cursor.0 <= index && cursor.0 >= mark.0 {
            cursor
        } else if cursor.0 > index && cursor.0 - index < index - mark.0 {
            // Nearer behind the cursor than ahead of the mark: [`Lines::last_before`] asks for
            // the line before the one just found.
            let (mut line, mut start) = cursor;
            while line > index {
                start = self.start_before(start)?;
                line -= 1;
            }
            (line, start)
        } else {
            mark
        };
        while line < index {
            start = self.end(start).1?;
            line += 1;
        }
        self.cursor.set((line, start));
        Some(start)
    }

    /// The line that starts at byte `start`, without its line break.
    fn at(&self, start: usize) -> &'t str {
        &self.text[start..self.end(start).0]
    }

    /// The 0-based line `index`, without its line break.
    pub fn get(&self, index: usize) -> Option<&'t str> {
        self.start_of(index).map(|start| self.at(start))
    }

    /// The lines from the 0-based `index` on.
    pub fn from(&self, index: usize) -> impl Iterator<Item = &'t str> + '_ {
        let mut next = self.start_of(index);
        let count = self.count;
        let mut line = index;
        std::iter::from_fn(move || {
            let start = next.filter(|_| line < count)?;
            next = self.end(start).1;
            line += 1;
            Some(self.at(start))
        })
    }

    /// Whether the lines from the 0-based `index` on are all blank.
    pub fn blank_from(&self, index: usize) -> bool {
        self.start_of(index)
            .is_none_or(|start| self.text[start..].trim().is_empty())
    }

    /// The last line before the 1-based `line` that `keep` accepts, with its 1-based number:
    /// walked back byte by byte, so that passing many lines costs their length only.
    pub fn last_before(
        &self,
        line: usize,
        keep: impl Fn(&str) -> bool,
    ) -> Option<(usize, &'t str)> {
        let mut number = line.min(self.count + 1).checked_sub(1)?;
        let mut start = self.start_of(number.checked_sub(1)?)?;
        loop {
            let text = self.at(start);
            if keep(text) {
                return Some((number, text));
            }
            start = self.start_before(start)?;
            number -= 1;
        }
    }

    /// Where the line before the one starting at byte `start` starts; None for the first line.
    fn start_before(&self, start: usize) -> Option<usize> {
        let bytes = self.text.as_bytes();
        // The line before ends at this one's start, less its break (LF, CR or CRLF).
        let mut end = start.checked_sub(1)?;
        if bytes[end] == b'\n' && end > 0 && bytes[end - 1] == b'\r' {
            end -= 1;
        }
        let is_break = |b: &u8| *b == b'\n' || (self.breaks == Breaks::Yaml && *b == b'\r');
        Some(
            bytes[..end]
                .iter()
                .rposition(is_break)
                .map_or(0, |at| at + 1),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines as YAML reads them, as a list.
    fn yaml_list(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(at) = rest.find(['\n', '\r']) {
            out.push(&rest[..at]);
            let skip = if rest[at..].starts_with("\r\n") { 2 } else { 1 };
            rest = &rest[at + skip..];
        }
        out.push(rest);
        out
    }

    fn texts() -> Vec<String> {
        let long = "y".repeat(5000);
        let mut texts = vec![
            String::new(),
            "a".into(),
            "\n".into(),
            "\r\n".into(),
            "a\r\nb\rc\n\r\n".into(),
            "a\n\rb\n".into(),
            "\n".repeat(1000),
            "\r".repeat(300) + "x",
        ];
        texts.push(
            (0..500)
                .map(|i| match i % 4 {
                    0 => format!("key{i}: v\n"),
                    1 => format!("{long}\r\n"),
                    2 => "  \r".to_string(),
                    _ => "# c\n".to_string(),
                })
                .collect(),
        );
        texts
    }

    fn agrees(lines: &Lines, want: &[&str]) {
        assert_eq!(lines.len(), want.len());
        for (i, line) in want.iter().enumerate() {
            assert_eq!(lines.get(i), Some(*line), "line {i}");
            if i % 37 == 0 || i + 3 > want.len() {
                assert_eq!(lines.from(i).collect::<Vec<_>>(), want[i..]);
                let blank = want[i..].iter().all(|l| l.trim().is_empty());
                assert_eq!(lines.blank_from(i), blank, "line {i}");
            }
            let keep = |l: &str| l.starts_with('k') || l.is_empty();
            let back = (1..=i).rev().find(|&n| keep(want[n - 1]));
            assert_eq!(
                lines.last_before(i + 1, keep),
                back.map(|n| (n, want[n - 1])),
                "before line {}",
                i + 1
            );
        }
        assert_eq!(lines.get(want.len()), None);
        // Backwards too: from the cursor or from a mark, whichever is nearer.
        for (i, line) in want.iter().enumerate().rev() {
            assert_eq!(lines.get(i), Some(*line), "line {i}, backwards");
        }
        // And in no order: a step back, a jump ahead, a jump back.
        let mut i = 0usize;
        for step in 0..want.len().min(300) {
            i = (i + step * 7919) % want.len();
            assert_eq!(lines.get(i), Some(want[i]), "line {i}, at random");
            if i > 0 {
                assert_eq!(lines.get(i - 1), Some(want[i - 1]), "line {}, back", i - 1);
            }
        }
    }

    #[test]
    fn every_line_is_found_as_yaml_reads_it() {
        for text in &texts() {
            agrees(&Lines::yaml(text), &yaml_list(text));
        }
    }

    #[test]
    fn every_line_is_found_as_str_lines_gives_it() {
        for text in &texts() {
            agrees(&Lines::text(text), &text.lines().collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_text_of_line_breaks_keeps_few_marks() {
        let text = "\n".repeat(1 << 20);
        let lines = Lines::yaml(&text);
        assert_eq!(lines.len(), (1 << 20) + 1);
        assert!(lines.marks.len() <= (1 << 20) / MARK_LINES + 1);
        let long = "z".repeat(1 << 20);
        assert_eq!(Lines::text(&long).marks.len(), 1);
    }
}
