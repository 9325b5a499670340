//! Line syntax of systemd unit and drop-in files, checked the way systemd's config parser reads
//! them (the reader is `crate::unit::file`'s). Owns only the shape of lines (sections,
//! assignments), not key names.

use super::values::excerpt;
use crate::unit::file::{is_space, logical_lines_iter};

/// How much of an offending line a message quotes.
const EXCERPT_CHARS: usize = 40;

/// systemd's `string_is_safe`, plus brackets, which would leave the header's end ambiguous.
fn is_safe_section_name(name: &str) -> bool {
    !name
        .chars()
        .any(|c| c.is_control() || matches!(c, '\\' | '"' | '\'' | '[' | ']'))
}

/// Classifies one logical line; `in_section` records that a section header has been seen.
fn check_line(logical: &str, in_section: &mut bool) -> Option<String> {
    let line = logical.trim_matches(is_space);
    if line.is_empty() {
        return None;
    }
    let shown = excerpt(line, EXCERPT_CHARS);
    if let Some(inner) = line.strip_prefix('[') {
        // A broken header still opens a section for us, so the lines under it are not all
        // reported again as assignments outside a section.
        *in_section = true;
        let Some((name, after)) = inner.split_once(']') else {
            return Some(format!("{shown} is missing the closing \"]\""));
        };
        if !is_safe_section_name(name) {
            return Some(format!(
                "{shown} has characters systemd does not allow in a section name"
            ));
        }
        if !after.is_empty() {
            return Some(format!("{shown} has text after the section header"));
        }
        if name.is_empty() {
            return Some(format!("{shown} has an empty section name"));
        }
        return None;
    }
    if line.starts_with(".include ") {
        return Some(format!(
            "{shown} uses .include, which systemd no longer supports"
        ));
    }
    if !line.contains('=') {
        return Some(format!(
            "{shown} is neither a [Section], a Key=Value assignment nor a comment"
        ));
    }
    if line.starts_with('=') {
        return Some(format!("{shown} has no key before \"=\""));
    }
    if !*in_section {
        return Some(format!(
            "{shown} is an assignment before any [Section] header"
        ));
    }
    None
}

/// Returns `(0-based line index within text, message)` for each line systemd would not parse.
///
/// A line continued with a trailing backslash is checked together with the lines it joins
/// and reported at its first line. Comment lines are skipped even inside a continuation, as
/// systemd does.
///
/// Past [`crate::report::MAX_UNIT_FINDINGS`] lines, the rest are counted and one last entry
/// says how many (at the first of them).
pub fn check_unit_syntax(text: &str) -> Vec<(usize, String)> {
    let mut in_section = false;
    let mut out = Vec::new();
    let mut more = 0usize;
    let mut first_more = None;
    for (start, logical) in logical_lines_iter(text) {
        let Some(msg) = check_line(&logical, &mut in_section) else {
            continue;
        };
        if out.len() < crate::report::MAX_UNIT_FINDINGS {
            out.push((start, msg));
        } else {
            more += 1;
            first_more.get_or_insert(start);
        }
    }
    if let Some(start) = first_more {
        out.push((
            start,
            format!(
                "{more} more line{} from here on that systemd would not parse are not shown: kindling reports at most {} per unit file",
                if more == 1 { "" } else { "s" },
                crate::report::MAX_UNIT_FINDINGS
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<usize> {
        check_unit_syntax(text)
            .into_iter()
            .map(|(i, _)| i)
            .collect()
    }

    fn only(text: &str) -> (usize, String) {
        let mut f = check_unit_syntax(text);
        assert_eq!(f.len(), 1, "{text:?}: {f:?}");
        f.remove(0)
    }

    #[test]
    fn valid_unit() {
        let unit = "# nightly backup\n; runs from backup.timer\n[Unit]\nDescription=Nightly backup\n\n[Service]\nType=oneshot\nExecStart=/opt/bin/backup.sh\n";
        assert!(check_unit_syntax(unit).is_empty());
    }

    #[test]
    fn empty_and_blank() {
        assert!(check_unit_syntax("").is_empty());
        assert!(check_unit_syntax("\n\n   \n\t\n").is_empty());
        assert!(check_unit_syntax("# only a comment").is_empty());
    }

    #[test]
    fn corpus_unit_contents() {
        let (i, msg) = only("ExecStart=/opt/bin/node_exporter --web.listen-address=:9100\n");
        assert_eq!(i, 0);
        assert_eq!(
            msg,
            "\"ExecStart=/opt/bin/node_exporter --web.l...\" is an assignment before any [Section] header"
        );
        let (i, msg) = only("Environment=HTTP_PROXY=http://proxy.corp:3128\n");
        assert_eq!(i, 0);
        assert!(msg.ends_with("is an assignment before any [Section] header"));
        assert!(check_unit_syntax("[Service]\nEnvironment=NO_PROXY=localhost,.corp\n").is_empty());
        assert_eq!(
            only("[Timer] OnCalendar=daily"),
            (
                0,
                "\"[Timer] OnCalendar=daily\" has text after the section header".to_string()
            )
        );
    }

    #[test]
    fn neither_line() {
        assert_eq!(
            only("[Service]\nfoo\n"),
            (
                1,
                "\"foo\" is neither a [Section], a Key=Value assignment nor a comment".to_string()
            )
        );
        // Before any section a line without "=" is still described by what it is.
        assert!(only("foo").1.contains("is neither"));
    }

    #[test]
    fn assignment_spacing() {
        let unit = "[Service]\n  ExecStart = /bin/true\n\tUser=core\nEnvironment= A=b\nX=\n";
        assert!(check_unit_syntax(unit).is_empty());
        assert_eq!(
            only("[Service]\n = value\n"),
            (1, "\"= value\" has no key before \"=\"".to_string())
        );
    }

    #[test]
    fn section_headers() {
        assert!(check_unit_syntax("  [Unit]  \nA=b").is_empty());
        assert!(check_unit_syntax("[X-My Section]\nA=b").is_empty());
        assert_eq!(
            only("[Unit\nA=b"),
            (0, "\"[Unit\" is missing the closing \"]\"".to_string())
        );
        assert_eq!(
            only("[]\nA=b"),
            (0, "\"[]\" has an empty section name".to_string())
        );
        assert!(only("[A\"B]").1.contains("not allow"));
        assert!(only("[A\\B]").1.contains("not allow"));
        assert!(only("[[A]]").1.contains("not allow"));
        assert!(only("[A]x").1.contains("text after"));
        assert!(only("[A] x]").1.contains("text after"));
    }

    #[test]
    fn assignment_after_later_section_is_fine() {
        assert_eq!(lines("A=b\n[Unit]\nC=d\nE=f\n"), vec![0]);
        assert_eq!(lines("A=b\nC=d\n"), vec![0, 1]);
    }

    #[test]
    fn broken_header_does_not_cascade() {
        assert_eq!(
            lines("[Timer] OnCalendar=daily\nPersistent=true\n"),
            vec![0]
        );
    }

    #[test]
    fn crlf_line_ends() {
        assert!(
            check_unit_syntax("[Unit]\r\nDescription=x\r\n\r\n[Service]\r\nType=simple\r\n")
                .is_empty()
        );
        assert_eq!(lines("[Unit]\r\nfoo\r\n"), vec![1]);
        // A backslash before CRLF still continues the line.
        assert!(check_unit_syntax("[Service]\r\nExecStart=/bin/a \\\r\n  --flag\r\n").is_empty());
    }

    #[test]
    fn continuations() {
        let unit = "[Service]\nExecStart=/bin/a \\\n  --one \\\n  --two\nUser=core\n";
        assert!(check_unit_syntax(unit).is_empty());
        // A comment inside a continuation is skipped and does not end it.
        let unit = "[Service]\nExecStart=/bin/a \\\n# explained here\n  --one\n";
        assert!(check_unit_syntax(unit).is_empty());
        let unit = "[Service]\nExecStart=/bin/a \\\n; explained here\n  --one\n";
        assert!(check_unit_syntax(unit).is_empty());
        // Continued at the end of the text.
        assert!(check_unit_syntax("[Service]\nExecStart=/bin/a \\").is_empty());
        assert!(check_unit_syntax("[Service]\nExecStart=/bin/a \\\n").is_empty());
        // The key may arrive on the continued line, since systemd parses the joined text.
        assert!(check_unit_syntax("[Service]\nExecStart \\\n=/bin/true\n").is_empty());
    }

    #[test]
    fn continued_bad_line_is_reported_at_its_first_line() {
        let (i, msg) = only("[Service]\nfoo \\\nbar\nA=b\n");
        assert_eq!(i, 1);
        assert!(msg.starts_with("\"foo  bar\""), "{msg}");
        assert_eq!(lines("ExecStart=/bin/a \\\n  --one\n[Service]\n"), vec![0]);
    }

    #[test]
    fn escaped_backslash_does_not_continue() {
        assert_eq!(lines("[Service]\nExecStart=/bin/echo \\\\\nfoo\n"), vec![2]);
        assert!(check_unit_syntax("[Service]\nExecStart=/bin/echo \\\\\\\nfoo\n").is_empty());
        // Trailing blanks after the backslash end the escape, as in systemd.
        assert_eq!(lines("[Service]\nExecStart=/bin/a \\ \nfoo\n"), vec![2]);
    }

    #[test]
    fn comment_ending_in_backslash_does_not_continue() {
        assert_eq!(lines("[Service]\n# note \\\nfoo\n"), vec![2]);
        assert!(check_unit_syntax("   # indented comment\n\t; another\n").is_empty());
    }

    #[test]
    fn byte_order_mark_on_first_line() {
        assert!(check_unit_syntax("\u{feff}[Unit]\nA=b\n").is_empty());
        assert!(check_unit_syntax("\u{feff}# c\n[Unit]\n").is_empty());
        assert_eq!(lines("[Unit]\n\u{feff}A=b\n"), Vec::<usize>::new());
    }

    #[test]
    fn include_is_reported() {
        assert!(only("[Unit]\n.include /etc/x.service\n")
            .1
            .contains(".include"));
    }

    #[test]
    fn excerpts_are_short_and_char_safe() {
        let long = format!("[Service]\n{}", "é".repeat(100));
        let (_, msg) = only(&long);
        assert!(
            msg.starts_with(&format!("\"{}...\"", "é".repeat(40))),
            "{msg}"
        );
        let (_, msg) = only("[Service]\nbad\u{1b}[31m");
        assert!(!msg.contains('\u{1b}'), "{msg}");
    }

    #[test]
    fn multiple_findings_in_order() {
        let text = "A=b\n[Service]\nfoo\nbar\n[X] y\n=z\n";
        assert_eq!(lines(text), vec![0, 2, 3, 4, 5]);
    }

    #[test]
    fn never_panics() {
        for text in [
            "\\",
            "\\\\",
            "[",
            "]",
            "[\\",
            "=",
            "\r",
            "\r\n\\\r\n",
            "\u{feff}",
            "[é",
            "é]",
        ] {
            let _ = check_unit_syntax(text);
        }
    }
}
