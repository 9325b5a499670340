//! Command-line parsing: the native subcommands and the coreos-cloudinit compatible flags
//! (`-from-file`, `-validate`, … in Go's single-dash style), dispatched to `cmd/`, whose runs
//! return the exit code. Nothing here does the work.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::cmd::apply::ApplyArgs;
use crate::cmd::compat::CompatArgs;
use crate::cmd::completions::CompletionsArgs;
use crate::cmd::convert::ConvertArgs;
use crate::cmd::fetch::FetchArgs;
use crate::cmd::validate::ValidateArgs;
pub use crate::cmd::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE};

#[derive(Debug, Parser)]
#[command(
    name = "kindling",
    version = env!("KINDLING_VERSION"),
    about = "Validate and apply CoreOS/Flatcar cloud-configs (a drop-in coreos-cloudinit)",
    long_about = "Validate and apply CoreOS/Flatcar cloud-configs.\n\nRun a subcommand, or pass \
                  coreos-cloudinit's flags (-from-file, -validate, ...) to behave as it does.\n\n\
                  Without -validate, coreos-cloudinit's flags APPLY the config to this running \
                  system (users, files, units, hostname), as `kindling apply` does. To check a \
                  config, use `kindling validate FILE` or add -validate; to see the changes \
                  first, use `kindling plan`.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub compat: CompatArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check cloud-configs offline and report every problem with its line and column
    Validate(ValidateArgs),
    /// Apply the user-data from a source to this machine, or to an offline tree with --root
    Apply(ApplyArgs),
    /// Show what `apply` would change, as a readable diff; changes nothing
    Plan(ApplyArgs),
    /// Print the user-data and metadata a datasource yields, for debugging a boot
    Fetch(FetchArgs),
    /// Convert a cloud-config to the Ignition (or Butane) config that writes the same files
    Convert(ConvertArgs),
    /// Print a JSON Schema of the cloud-config, for editors (yaml-language-server)
    Schema,
    /// Print a shell completion script (bash, zsh or fish)
    Completions(CompletionsArgs),
}

/// Parses argv (argv[0] first) as clap would with the whole command tree.
///
/// Building that tree (every subcommand with every flag) costs more than validating a small
/// config, so a subcommand's arguments are first parsed by a command holding that subcommand
/// alone. Whatever it does not accept cleanly (`--help`, a typo, a missing value) is parsed
/// again with the whole tree, so help and error texts are exactly the full tree's.
pub fn parse(args: Vec<OsString>) -> Result<Cli, clap::Error> {
    if let Some(command) = args.get(1).and_then(|a| a.to_str()) {
        if let Some(command) = parse_alone(command, &args[1..]) {
            let compat = CompatArgs::default();
            return Ok(Cli {
                command: Some(command),
                compat,
            });
        }
    }
    Cli::try_parse_from(translate_legacy_flags(args))
}

/// `name`'s arguments (`args[0]` is `name`) parsed by a command of that subcommand alone; None
/// when `name` is no subcommand or the arguments need the full tree's answer.
fn parse_alone(name: &str, args: &[OsString]) -> Option<Command> {
    fn alone<T: Args + FromArgMatches>(name: &'static str, args: &[OsString]) -> Option<T> {
        let matches = T::augment_args(clap::Command::new(name))
            .try_get_matches_from(args)
            .ok()?;
        T::from_arg_matches(&matches).ok()
    }
    Some(match name {
        "validate" => Command::Validate(alone("validate", args)?),
        "apply" => Command::Apply(alone("apply", args)?),
        "plan" => Command::Plan(alone("plan", args)?),
        "fetch" => Command::Fetch(alone("fetch", args)?),
        "convert" => Command::Convert(alone("convert", args)?),
        "schema" => {
            clap::Command::new("schema")
                .try_get_matches_from(args)
                .ok()?;
            Command::Schema
        }
        "completions" => Command::Completions(alone("completions", args)?),
        _ => return None,
    })
}

/// Rewrites `-from-file=x` to `--from-file=x` before clap sees it. Subcommand invocations are
/// left alone: the legacy spelling belongs to the compat entry only.
///
/// Go's flag package has no clusters of short flags, so every single-dash word of more than one
/// character is a long flag (`-validate`, and a typo such as `-valdate`, which then gets clap's
/// "a similar argument exists" tip instead of being read as `-v -a -l ...`). The value of a
/// compat flag that takes one is never rewritten, whatever it looks like; which flags take one
/// is read from their clap definition.
pub fn translate_legacy_flags(args: Vec<OsString>) -> Vec<OsString> {
    let is_subcommand = args
        .get(1)
        .and_then(|a| a.to_str())
        .is_some_and(<Command as Subcommand>::has_subcommand);
    if is_subcommand {
        return args;
    }
    let compat = CompatArgs::augment_args(clap::Command::new("kindling"));
    // A Go bool (`-validate`, `-validate=false`) takes its value only after `=`.
    let value_flags: Vec<&str> = compat
        .get_arguments()
        .filter(|a| a.get_action().takes_values() && !a.is_require_equals_set())
        .filter_map(|a| a.get_long())
        .collect();
    let mut value_next = false;
    let mut out: Vec<OsString> = Vec::with_capacity(args.len());
    for (i, arg) in args.into_iter().enumerate() {
        if std::mem::take(&mut value_next) {
            // clap would take `-x` after `--from-file` for a flag; `--from-file=-x` it cannot.
            match out.last_mut() {
                Some(flag) if arg.as_bytes().starts_with(b"-") => {
                    flag.push("=");
                    flag.push(&arg);
                }
                _ => out.push(arg),
            }
            continue;
        }
        if i == 0 {
            out.push(arg);
            continue;
        }
        let Some(name) = flag_name(arg.as_bytes()) else {
            out.push(arg);
            continue;
        };
        let has_value = arg.as_bytes().contains(&b'=');
        value_next = !has_value && value_flags.iter().any(|f| f.as_bytes() == name);
        // Bytes, not text: a file name after `=` may be any bytes.
        let single = !arg.as_bytes().starts_with(b"--");
        if single && String::from_utf8_lossy(name).chars().count() > 1 {
            let mut dashed = b"-".to_vec();
            dashed.extend_from_slice(arg.as_bytes());
            out.push(OsString::from_vec(dashed));
        } else {
            out.push(arg);
        }
    }
    out
}

/// The name of a flag argument (`-name`, `--name`, either with `=value`); None for a value.
fn flag_name(arg: &[u8]) -> Option<&[u8]> {
    if arg == b"-" {
        return None;
    }
    let long = arg.strip_prefix(b"--").or_else(|| arg.strip_prefix(b"-"))?;
    Some(long.split(|&b| b == b'=').next().unwrap_or(long))
}

/// What a bare `kindling` prints: the ways in, briefly (the reference's own name keeps the
/// reference's message).
fn short_usage() -> String {
    let mut out = String::from(
        "kindling: nothing to do; name a subcommand or a source\n\n\
         Usage: kindling <COMMAND> [OPTIONS]\n\
         \x20      kindling -validate -from-file FILE   (coreos-cloudinit's flags)\n\nCommands:\n",
    );
    for sub in Cli::command().get_subcommands() {
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        out.push_str(&format!("  {:<10}{about}\n", sub.get_name()));
    }
    out.push_str(
        "\nSee 'kindling --help' for more, and 'kindling COMMAND --help' for a command.\n",
    );
    out
}

/// Runs kindling with these arguments (argv[0] first) and returns the exit code.
pub fn run(args: Vec<OsString>) -> i32 {
    let invoked_as = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned());
    if args.len() <= 1 && invoked_as.as_deref() != Some("coreos-cloudinit") {
        eprint!("{}", short_usage());
        return EXIT_USAGE;
    }
    let cli = match parse(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    // The journal's identifier: the name the process was started as (`coreos-cloudinit` from
    // the boot units). Only the commands that log need it.
    let identifier = || {
        std::env::args_os()
            .next()
            .and_then(|a| {
                Path::new(&a)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| "kindling".into())
    };
    match cli.command {
        Some(Command::Validate(args)) => args.run(),
        Some(Command::Apply(args)) => args.run(args.dry_run, &identifier()),
        Some(Command::Plan(args)) => args.run(true, &identifier()),
        Some(Command::Fetch(args)) => args.run(&identifier()),
        Some(Command::Convert(args)) => crate::cmd::convert::run(&args),
        Some(Command::Schema) => crate::cmd::schema::run(),
        Some(Command::Completions(args)) => crate::cmd::completions::run(&args, Cli::command()),
        None => cli.compat.run(&identifier()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn legacy_single_dash_flags_are_translated() {
        let out = translate_legacy_flags(os(&[
            "k",
            "-from-file=/x",
            "-validate",
            "-oem",
            "gce",
            "-h",
        ]));
        assert_eq!(
            out,
            os(&["k", "--from-file=/x", "--validate", "--oem", "gce", "-h"])
        );
        // Go has no short-flag clusters: an unknown word is a long flag (clap then suggests);
        // a value is never a flag, even with a dash.
        let out = translate_legacy_flags(os(&["k", "-valdate", "-workspace", "-w", "-x"]));
        assert_eq!(out, os(&["k", "--valdate", "--workspace=-w", "-x"]));
        let out = translate_legacy_flags(os(&["k", "validate", "-", "--strict"]));
        assert_eq!(out, os(&["k", "validate", "-", "--strict"]));
        // A Go bool takes no separate value: the next word is an argument of its own.
        let out = translate_legacy_flags(os(&["k", "-validate", "-from-url", "-u"]));
        assert_eq!(out, os(&["k", "--validate", "--from-url=-u"]));
    }

    #[test]
    fn every_value_flag_of_the_compat_entry_takes_the_next_word() {
        // Derived from the clap definition: a source added to `Sources` is covered here too.
        let compat = CompatArgs::augment_args(clap::Command::new("kindling"));
        for arg in compat.get_arguments() {
            let long = arg.get_long().unwrap();
            let out = translate_legacy_flags(os(&["k", &format!("-{long}"), "-v"]));
            let expect = if arg.is_require_equals_set() {
                os(&["k", &format!("--{long}"), "-v"])
            } else {
                os(&["k", &format!("--{long}=-v")])
            };
            assert_eq!(out, expect, "{long}");
        }
    }

    #[test]
    fn non_utf8_values_pass_through() {
        use std::os::unix::ffi::OsStringExt;
        let file = OsString::from_vec(b"-from-file=/tmp/\xff".to_vec());
        let out = translate_legacy_flags(vec!["k".into(), file]);
        assert_eq!(out[1].as_bytes(), b"--from-file=/tmp/\xff");
        let value = OsString::from_vec(b"/tmp/\xff".to_vec());
        let out = translate_legacy_flags(vec!["k".into(), "-from-file".into(), value.clone()]);
        assert_eq!(out, vec!["k".into(), "--from-file".into(), value]);
    }

    #[test]
    fn go_style_bools_parse() {
        let cli = Cli::try_parse_from(translate_legacy_flags(os(&[
            "k",
            "-validate=false",
            "-from-file",
            "f",
        ])))
        .unwrap();
        assert!(!cli.compat.validate);
        assert_eq!(
            cli.compat.sources.sources.file.as_deref(),
            Some(Path::new("f"))
        );
        let cli = Cli::try_parse_from(os(&["k", "--validate", "--from-file=f"])).unwrap();
        assert!(cli.compat.validate);
    }

    #[test]
    fn a_subcommand_alone_parses_as_the_full_tree_does() {
        let cases: &[&[&str]] = &[
            &[
                "k",
                "validate",
                "a.yml",
                "--strict",
                "--allow",
                "x",
                "--format=json",
            ],
            &["k", "validate", "-", "--template", "--color", "never"],
            &["k", "validate"],
            &[
                "k",
                "apply",
                "--root",
                "/",
                "--from-file",
                "f",
                "--oem=gce",
                "-v",
            ],
            &[
                "k",
                "plan",
                "--from-metadata-service",
                "--from-proc-cmdline=false",
            ],
            &[
                "k",
                "plan",
                "--format",
                "json",
                "--from-url",
                "http://x/",
                "--dry-run",
            ],
            &["k", "fetch", "--timeout", "3", "--from-configdrive="],
            &["k", "convert", "--to", "butane", "-"],
            &["k", "schema"],
            &["k", "completions", "zsh"],
        ];
        for case in cases {
            let alone = parse_alone(case[1], &os(&case[1..])).expect("parses alone");
            let full = Cli::try_parse_from(os(case)).unwrap().command.unwrap();
            assert_eq!(format!("{alone:?}"), format!("{full:?}"), "{case:?}");
        }
        // What the subcommand alone cannot answer goes to the full tree, for its texts.
        let fallbacks: &[&[&str]] = &[
            &["k", "validate", "--help"],
            &["k", "validate", "--frmat"],
            &["k", "apply", "--from-file"],
            &["k", "schema", "x"],
            &["k", "completions"],
            &["k", "nonesuch"],
        ];
        for case in fallbacks {
            assert!(parse_alone(case[1], &os(&case[1..])).is_none(), "{case:?}");
        }
        // Every subcommand has its quick parse.
        for sub in Cli::command().get_subcommands() {
            let name = sub.get_name();
            let args = match name {
                "completions" => os(&[name, "bash"]),
                _ => os(&[name]),
            };
            assert!(parse_alone(name, &args).is_some(), "{name}");
        }
    }
}
