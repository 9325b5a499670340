//! Colour for the human output of `validate` and `plan`, as cargo and ripgrep do it: on for a
//! terminal, off in a pipe or a file, off with `NO_COLOR` (any non-empty value) or `TERM=dumb`,
//! and `--color always|never` over all of that.
//!
//! The reports are rendered as plain text first (that text is what tests, pipes and logs see)
//! and painted line by line here, from the forms they are printed in: `FILE:L:C: error: …` and
//! its caret line, the plan's step marks (`~ = ! -`) and diff lines. Plain SGR sequences; a
//! crate (anstream) would add a writer layer for nothing a terminal here needs.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ColorChoice {
    /// Colour when standard output is a terminal and NO_COLOR is not set
    #[default]
    Auto,
    Always,
    Never,
}

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether `choice` means colour, given the environment and whether stdout is a terminal.
pub fn decide(choice: ColorChoice, no_color: Option<&str>, term: Option<&str>, tty: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            tty && no_color.is_none_or(str::is_empty) && term.is_none_or(|t| t != "dumb")
        }
    }
}

/// Decides once, for standard output, before anything is printed.
pub fn init(choice: ColorChoice) {
    let no_color = std::env::var("NO_COLOR").ok();
    let term = std::env::var("TERM").ok();
    let on = decide(
        choice,
        no_color.as_deref(),
        term.as_deref(),
        std::io::stdout().is_terminal(),
    );
    ENABLED.store(on, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

const RESET: &str = "\x1b[0m";
const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const CYAN: &str = "\x1b[1;36m";
const GREEN: &str = "\x1b[32m";
const PLAIN_RED: &str = "\x1b[31m";
const BLUE: &str = "\x1b[1;34m";
const DIM: &str = "\x1b[2m";
const BOLD: &str = "\x1b[1m";

fn paint(out: &mut String, style: &str, text: &str) {
    out.push_str(style);
    out.push_str(text);
    out.push_str(RESET);
}

/// The style of a finding's kind, written alone or with its rule code (`warning[unknown-key]`).
fn severity_style(word: &str) -> Option<&'static str> {
    let kind = word.split_once('[').map_or(word, |(kind, _)| kind);
    match kind {
        "error" => Some(RED),
        "warning" => Some(YELLOW),
        "info" => Some(CYAN),
        _ => None,
    }
}

/// `kindling validate`'s human report for `file`, painted when colour is on.
pub fn validate_report(text: &str, file: &str) -> String {
    if !enabled() {
        return text.to_string();
    }
    paint_validate(text, file)
}

fn paint_validate(text: &str, file: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut caret = None;
    let prefix = format!("{file}:");
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        if let Some((head, severity, message)) = finding(body, &prefix) {
            let style = severity_style(severity).unwrap_or(BOLD);
            caret = Some(style);
            paint(&mut out, BOLD, head);
            paint(&mut out, style, severity);
            out.push_str(": ");
            paint(&mut out, BOLD, message);
        } else if let Some(gutter_end) = gutter(body) {
            let (g, rest) = body.split_at(gutter_end);
            paint(&mut out, BLUE, g);
            match caret {
                Some(style)
                    if rest.trim_start().starts_with('^')
                        && !rest.contains(|c: char| !c.is_whitespace() && c != '^') =>
                {
                    let pad = rest.len() - rest.trim_start().len();
                    out.push_str(&rest[..pad]);
                    paint(&mut out, style, &rest[pad..]);
                }
                _ => out.push_str(rest),
            }
        } else {
            out.push_str(body);
        }
        out.push_str(nl);
    }
    out
}

/// `FILE:L:C: SEVERITY: MESSAGE` split as (`FILE:L:C: `, severity, message).
fn finding<'a>(line: &'a str, prefix: &str) -> Option<(&'a str, &'a str, &'a str)> {
    let rest = line.strip_prefix(prefix)?;
    let mut fields = rest.splitn(3, ':');
    let l = fields.next()?;
    let c = fields.next()?;
    if l.is_empty() || c.is_empty() || !(l.bytes().chain(c.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let head_len = prefix.len() + l.len() + 1 + c.len() + 2;
    let after = line.get(head_len..)?;
    let (severity, message) = after.split_once(": ")?;
    severity_style(severity)?;
    Some((&line[..head_len], severity, message))
}

/// The end of a source excerpt's gutter (`  |` or `12 |`), when the line has one.
fn gutter(line: &str) -> Option<usize> {
    let bar = line.find('|')?;
    let (numbers, _) = line.split_at(bar);
    if numbers.is_empty() || !numbers.trim().bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(bar + 1)
}

/// `kindling plan`'s report, painted when colour is on: `~` changes yellow, `!` problems red,
/// `=` and `-` dim, diff lines green and red.
pub fn plan_report(text: &str) -> String {
    if !enabled() {
        return text.to_string();
    }
    paint_plan(text)
}

fn paint_plan(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let style = if let Some(diff) = body.strip_prefix("    ") {
            // Diff and notes are indented by four spaces under their step.
            if diff.starts_with("+++") || diff.starts_with("---") {
                Some(BOLD)
            } else if diff.starts_with('+') {
                Some(GREEN)
            } else if diff.starts_with('-') {
                Some(PLAIN_RED)
            } else if diff.starts_with("@@") {
                Some(CYAN)
            } else {
                None
            }
        } else {
            match body.as_bytes() {
                [b'~', b' ', ..] => Some(YELLOW),
                [b'!', b' ', ..] => Some(RED),
                [b'=' | b'-', b' ', ..] => Some(DIM),
                _ => None,
            }
        };
        match style {
            Some(s) if !body.is_empty() => paint(&mut out, s, body),
            _ => out.push_str(body),
        }
        out.push_str(nl);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_follows_the_terminal_and_no_color() {
        assert!(decide(ColorChoice::Auto, None, Some("xterm"), true));
        assert!(!decide(ColorChoice::Auto, None, Some("xterm"), false));
        assert!(!decide(ColorChoice::Auto, Some("1"), Some("xterm"), true));
        // An empty NO_COLOR is unset, as no-color.org says.
        assert!(decide(ColorChoice::Auto, Some(""), None, true));
        assert!(!decide(ColorChoice::Auto, None, Some("dumb"), true));
        assert!(decide(ColorChoice::Always, Some("1"), Some("dumb"), false));
        assert!(!decide(ColorChoice::Never, None, None, true));
    }

    #[test]
    fn findings_and_carets_take_their_severity_colour() {
        let text = "a.yml:3:11: error: invalid hostname\n  |\n3 | hostname: x\n  |           ^\n\
                    a.yml:4:1: warning: unrecognized key \"k\"\n";
        let out = paint_validate(text, "a.yml");
        assert!(out.contains(&format!("{RED}error{RESET}: ")), "{out:?}");
        assert!(
            out.contains(&format!("{YELLOW}warning{RESET}: ")),
            "{out:?}"
        );
        assert!(
            out.contains(&format!("           {RED}^{RESET}")),
            "{out:?}"
        );
        // The source line is left as written; only its gutter is painted.
        assert!(
            out.contains(&format!("{BLUE}3 |{RESET} hostname: x\n")),
            "{out:?}"
        );
        // Stripping the escapes gives the plain text back.
        assert_eq!(strip(&out), text);
    }

    #[test]
    fn a_message_that_looks_like_a_finding_is_not_mistaken() {
        let text = "3 | a.yml:1:1: error: not a finding\n";
        assert!(!paint_validate(text, "a.yml").contains(RED));
    }

    #[test]
    fn plan_marks_and_diffs() {
        let text = "~ write file /etc/x (3 bytes, mode 0644)\n    --- /dev/null\n    +++ b/etc/x\n    @@ -0,0 +1 @@\n    +hi\n= enable a.service\n! part 1: users: bad\n1 to change, 1 unchanged\n";
        let out = paint_plan(text);
        assert!(out.starts_with(&format!("{YELLOW}~ write")), "{out:?}");
        assert!(out.contains(&format!("{GREEN}    +hi{RESET}")), "{out:?}");
        assert!(out.contains(&format!("{RED}! part 1")), "{out:?}");
        assert!(out.contains(&format!("{DIM}= enable")), "{out:?}");
        assert!(out.ends_with("1 to change, 1 unchanged\n"));
        assert_eq!(strip(&out), text);
    }

    fn strip(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }
}
