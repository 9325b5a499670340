//! `kindling convert [FILE|-]`: the config on standard output, the findings on standard error.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};

use clap::{Args, ValueEnum};

use super::{read_input, EXIT_FAILURE, EXIT_USAGE};
use crate::convert::{self as convert, butane, ignition, Options, Platform, Refused, Spec};
use crate::report::{self, Format};
use crate::rules::Severity;

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The user-data to convert (`-` is standard input, the default): cloud-config, scripts,
    /// multipart MIME, gzip
    #[arg(value_name = "FILE")]
    pub file: Option<String>,
    /// What to write: an Ignition config (JSON) or a Butane config (YAML, variant flatcar)
    #[arg(long, value_enum, default_value_t = To::Ignition)]
    pub to: To,
    /// The Ignition spec version (3.4.0 carries setuid, setgid and sticky bits)
    #[arg(long, value_name = "VERSION", value_parser = ["3.3.0", "3.4.0"], default_value = "3.3.0")]
    pub ignition_version: String,
    /// Take $public_ipv4 and friends in units from this platform's coreos-metadata attributes
    /// (ec2, gce, digitalocean, azure, openstack, cloudstack, packet, hetzner, custom)
    #[arg(long, value_name = "NAME")]
    pub platform: Option<String>,
    /// Fail (exit 1, nothing written) when anything cannot be converted exactly
    #[arg(long)]
    pub strict: bool,
    /// Format of the report on standard error
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum To {
    Ignition,
    Butane,
}

pub fn run(args: &ConvertArgs) -> i32 {
    let platform = match args.platform.as_deref() {
        None => None,
        Some(name) => match Platform::by_name(name) {
            Some(p) => Some(p),
            None => {
                let names: Vec<&str> = convert::PLATFORMS.iter().map(|p| p.name).collect();
                eprintln!(
                    "kindling convert: unknown platform {name:?}; expected one of {}",
                    names.join(", ")
                );
                return EXIT_USAGE;
            }
        },
    };
    let name = args.file.clone().unwrap_or_else(|| "-".into());
    if name == "-" && std::io::stdin().is_terminal() {
        eprintln!("kindling convert: no FILE given and standard input is a terminal; pass a file or pipe one in (see --help)");
        return EXIT_USAGE;
    }
    let shown = if name == "-" {
        "<stdin>"
    } else {
        name.as_str()
    };
    let data = match read_input(&name) {
        Ok(d) => d,
        Err(e) => {
            let what = if name == "-" {
                "standard input"
            } else {
                name.as_str()
            };
            eprintln!("kindling convert: cannot read {what}: {e}");
            return EXIT_FAILURE;
        }
    };
    let options = Options {
        spec: Some(if args.ignition_version == "3.4.0" {
            Spec::V3_4
        } else {
            Spec::V3_3
        }),
        platform,
    };
    let converted = match convert::convert(&data, &options) {
        Ok(c) => c,
        Err(Refused::Invalid(invalid)) => {
            let mut err = match args.format {
                Format::Human => invalid.to_human(shown),
                Format::Json => invalid.to_json(shown) + "\n",
            };
            if args.format == Format::Human {
                let errors = invalid
                    .findings
                    .iter()
                    .filter(|f| f.severity == Severity::Error)
                    .count();
                let _ = writeln!(
                    err,
                    "kindling convert: {shown} has {errors} error{}; nothing converted (kindling validate {shown} shows the same)",
                    if errors == 1 { "" } else { "s" }
                );
            }
            let _ = std::io::stderr().write_all(err.as_bytes());
            return EXIT_FAILURE;
        }
    };
    let entries = converted.findings.iter().map(convert::Finding::entry);
    let findings = match args.format {
        Format::Human => {
            let mut text = report::human(shown, &converted.source, entries);
            let n = converted.findings.len();
            if n > 0 {
                let _ = writeln!(
                    text,
                    "{n} finding{}: the config does not do exactly what `kindling apply` does there{}",
                    if n == 1 { "" } else { "s" },
                    if args.strict { "; nothing written (--strict)" } else { "" }
                );
            }
            text
        }
        Format::Json => report::json(shown, entries) + "\n",
    };
    let _ = std::io::stderr().write_all(findings.as_bytes());
    if args.strict && !converted.findings.is_empty() {
        return EXIT_FAILURE;
    }
    let text = match args.to {
        To::Ignition => ignition::to_json(&converted),
        To::Butane => butane::to_yaml(&converted),
    };
    super::print_result("convert", text)
}
