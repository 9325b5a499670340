//! kindling(1), rendered from the clap definition by clap_mangen.
//!
//! Only `examples/manpage.rs` (run by `make build`) and `tests/it/operator.rs` call this: the
//! shipped binary never references it, so the linker leaves the roff generator out of it. One page holds every
//! subcommand (kindling's few subcommands would be thin pages of their own); each gets a section
//! with its synopsis and options.

use std::io::Write;

use clap_mangen::Man;

/// The roff source of `kindling(1)`, from the binary's command tree (`Cli::command()`, which
/// the caller passes: `cli` names the subcommands, so this module cannot reach up to it).
pub fn render(cmd: clap::Command) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let man = Man::new(cmd.clone());
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    for sub in cmd.get_subcommands() {
        if sub.is_hide_set() {
            continue;
        }
        let name = format!("kindling {}", sub.get_name());
        let title = name.to_uppercase();
        writeln!(out, ".SH \"{title}\"")?;
        if let Some(about) = sub.get_long_about().or(sub.get_about()) {
            writeln!(out, "{}", escape(&about.to_string()))?;
        }
        let page = Man::new(sub.clone().bin_name(name));
        let mut part = Vec::new();
        page.render_synopsis_section(&mut part)?;
        page.render_options_section(&mut part)?;
        // Inside the subcommand's own section, its headings are subsections.
        let part = String::from_utf8_lossy(&part).replace(".SH ", ".SS ");
        out.extend_from_slice(part.as_bytes());
    }
    out.extend_from_slice(EXTRA.as_bytes());
    man.render_version_section(&mut out)?;
    Ok(out)
}

/// Roff treats a leading `.` or `'` as a request and `\` as an escape.
fn escape(text: &str) -> String {
    text.lines()
        .map(|l| {
            let l = l.replace('\\', "\\e");
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else if l.is_empty() {
                ".PP".to_string()
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

const EXTRA: &str = r#".SH "EXIT STATUS"
.TP
.B 0
Nothing failed; for
.BR validate ,
no error in any file.
.TP
.B 1
Something failed: a finding of kind error (with
.BR \-\-strict ,
a warning too), a step of the apply, no datasource available in time.
.TP
.B 2
Usage error: an unknown flag, a bad
.B \-\-oem
or
.BR \-\-convert\-netconf ,
no datasource flag.
.SH ENVIRONMENT
.TP
.B NO_COLOR
When set and not empty, human output has no colour unless
.B \-\-color=always
is given.
.TP
.B JOURNAL_STREAM
Set by systemd: the log goes to the journal, with structured fields.
.SH FILES
.TP
.I /usr/lib/systemd/system/system-cloudinit@.service, user-cloudinit@.service, ...
The boot units that run
.B coreos\-cloudinit
(a symlink to kindling) from each datasource.
.TP
.I /var/lib/coreos-cloudinit
The working directory for scripts.
.TP
.I /run/kindling/done
Stamps of unit commands run in this boot.
.SH "SEE ALSO"
.BR systemd (1),
.BR journalctl (1),
.BR useradd (8)
"#;
