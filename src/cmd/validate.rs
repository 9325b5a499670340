//! `kindling validate FILE...`: check cloud-configs offline, every finding with its line and
//! column.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;

use super::{read_input, EXIT_FAILURE, EXIT_OK, EXIT_USAGE};
use crate::color::ColorChoice;
use crate::report::{Finding, Format, Report};
use crate::rules::Severity;
use crate::rules::{Allowed, Code, RULES};
use crate::validate::validate_with;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// User-data files to check (`-` is standard input, the default). Gzip, multipart MIME,
    /// scripts and Ignition are recognised as a datasource would hand them over.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format: compiler-style text, or one JSON object per file per line
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Fail (exit 1) on warnings too, not only on errors
    #[arg(long)]
    pub strict: bool,
    /// Silence the findings of one rule, by its code (as printed: `warning[CODE]`); repeatable
    #[arg(long, value_name = "CODE")]
    pub allow: Vec<String>,
    /// The files are templates not yet rendered: unrendered placeholders ({{ x }}, ${x}, $x,
    /// <x>, %X%) are valid values of any type
    #[arg(long)]
    pub template: bool,
    /// When to colour the human format: auto (a terminal, and NO_COLOR unset), always, never
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

impl ValidateArgs {
    pub fn run(&self) -> i32 {
        crate::color::init(self.color);
        let files = if self.files.is_empty() {
            if std::io::stdin().is_terminal() {
                eprintln!("kindling validate: no FILE given and standard input is a terminal; pass a file or pipe one in (see --help)");
                return EXIT_USAGE;
            }
            vec![PathBuf::from("-")]
        } else {
            self.files.clone()
        };
        let mut allowed = Allowed::default();
        for code in &self.allow {
            match Code::from_name(code) {
                Some(c) => allowed.insert(c),
                None => {
                    let names = RULES.iter().map(|r| r.name);
                    let hint = match crate::config::directives::nearest(code, names) {
                        Some(n) => format!("did you mean \"{n}\"? "),
                        None => String::new(),
                    };
                    eprintln!("kindling validate: --allow {code:?} names no rule; {hint}the codes are listed in README.md and printed with each finding");
                    return EXIT_USAGE;
                }
            }
        }
        let options = crate::config::Options {
            template: self.template,
            allow: allowed,
        };
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let (mut errors, mut warnings, mut failed) = (0usize, 0usize, false);
        for path in &files {
            // A name that is not UTF-8 is shown with U+FFFD where its bytes are not text.
            let name = path.to_string_lossy();
            let mut report = match read_input(path) {
                Ok(data) => validate_with(&data, (name != "-").then_some(&*name), options),
                Err(e) => {
                    let what = if name == "-" {
                        "standard input"
                    } else {
                        name.as_ref()
                    };
                    let mut r = Report::default();
                    r.findings.push(Finding::new(
                        Code::Unreadable,
                        Default::default(),
                        format!("cannot read {what}: {e}"),
                    ));
                    r
                }
            };
            // The checks drop allowed findings before they count them against a cap; this drops
            // those of the payload level (MIME, header) and of reading the file.
            report.findings.retain(|f| !allowed.contains(f.code));
            let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
            errors += count(Severity::Error);
            warnings += count(Severity::Warning);
            failed |= report.has_errors() || (self.strict && report.has_warnings());
            let text = match self.format {
                Format::Human => crate::color::validate_report(&report.to_human(&name), &name),
                Format::Json => report.to_json(&name) + "\n",
            };
            let _ = out.write_all(text.as_bytes());
        }
        if self.format == Format::Human && (errors > 0 || warnings > 0) {
            let _ = writeln!(
                out,
                "{} error{}, {} warning{} in {} file{}",
                errors,
                if errors == 1 { "" } else { "s" },
                warnings,
                if warnings == 1 { "" } else { "s" },
                files.len(),
                if files.len() == 1 { "" } else { "s" }
            );
        }
        let _ = out.flush();
        if failed {
            EXIT_FAILURE
        } else {
            EXIT_OK
        }
    }
}
