//! Command-line interface: the native subcommands and the coreos-cloudinit compatible flags
//! (`-from-file`, `-validate`, … in Go's single-dash style), mapped to exit codes.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{ArgAction, Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::apply::run::{self as runner, Target};
use crate::apply::state::TargetState;
use crate::apply::systemd::{dbus::DbusSystemd, offline::OfflineSystemd, Systemd};
use crate::cmd::color::ColorChoice;
use crate::cmd::{read_input, EXIT_FAILURE, EXIT_OK, EXIT_USAGE};
use crate::datasource;
use crate::load;
use crate::metadata::{Addresses, Metadata};
use crate::plan::{self, show};
use crate::report::{Format, Report};
use crate::rules::Severity;
use crate::validate;

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
    Convert(crate::convert::cli::ConvertArgs),
    /// Print a JSON Schema of the cloud-config, for editors (yaml-language-server)
    Schema,
    /// Print a shell completion script (bash, zsh or fish)
    Completions(crate::cmd::completions::CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Output format (JSON is the only one)
    #[arg(long, value_enum, default_value_t = FetchFormat::Json)]
    pub format: FetchFormat,
    /// How long to wait for a datasource to become available
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub timeout: u64,
    #[command(flatten)]
    pub sources: SourceArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FetchFormat {
    Json,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Apply to this directory (a mounted disk image) instead of the running system: paths are
    /// resolved under it, units are enabled and masked by symlinks, commands are skipped
    #[arg(long, value_name = "DIR", value_parser = existing_dir)]
    pub root: Option<PathBuf>,
    /// Print the plan instead of carrying it out (the same as `kindling plan`)
    #[arg(long)]
    pub dry_run: bool,
    /// How long to wait for each systemd job
    #[arg(long, value_name = "SECONDS", default_value_t = 90)]
    pub job_timeout: u64,
    /// How long to wait for a datasource to become available
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub timeout: u64,
    /// Name of the SSH key set written for the core user and other users
    #[arg(long, value_name = "NAME", default_value = "coreos-cloudinit")]
    pub ssh_key_name: String,
    /// Working directory for scripts
    #[arg(long, value_name = "PATH", default_value = "/var/lib/coreos-cloudinit")]
    pub workspace: PathBuf,
    /// Exit 0 even when handling the user-data failed (not for hostname or core's keys)
    #[arg(long)]
    pub ignore_failure: bool,
    /// Also log the steps that change nothing
    #[arg(short, long)]
    pub verbose: bool,
    /// When to colour the plan: auto (a terminal, and NO_COLOR unset), always, never
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// The plan's format: readable text with diffs, or JSON lines (one per step, then a
    /// summary) for automation; with `apply`, only together with --dry-run
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    // Last, so that the options above keep their own heading in --help.
    #[command(flatten)]
    pub sources: SourceArgs,
}

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

/// `--root` must name a directory that is there now: a typo would otherwise make every path of
/// the plan "new" (or fail only after the datasource wait).
fn existing_dir(s: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(s);
    match std::fs::metadata(&path) {
        Ok(m) if m.is_dir() => Ok(path),
        Ok(_) => Err("not a directory (expected the root of an offline tree)".into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err("no such directory (expected the root of an offline tree)".into())
        }
        Err(e) => Err(format!("cannot use it: {e}")),
    }
}

/// Where the user-data and metadata come from: coreos-cloudinit's source flags. Bool flags
/// take an optional `=true`/`=false`, as Go's do.
#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = "Sources (coreos-cloudinit's flags)")]
pub struct SourceArgs {
    /// Read user-data from a local file
    #[arg(long, value_name = "PATH")]
    pub from_file: Option<PathBuf>,
    /// Read user-data and metadata from a config drive mounted at PATH
    #[arg(long, value_name = "PATH")]
    pub from_configdrive: Option<String>,
    /// Read user-data and metadata from an Azure waagent directory
    #[arg(long, value_name = "PATH")]
    pub from_waagent: Option<String>,
    /// Deprecated: EC2 metadata service at http://169.254.169.254/
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, default_value_t = false)]
    pub from_metadata_service: bool,
    /// Read user-data and metadata from an EC2 metadata service at URL
    #[arg(long, value_name = "URL")]
    pub from_ec2_metadata: Option<String>,
    /// Read user-data and metadata from a GCE metadata service at URL
    #[arg(long, value_name = "URL")]
    pub from_gce_metadata: Option<String>,
    /// Read user-data and metadata from CloudSigma's server context
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, default_value_t = false)]
    pub from_cloudsigma_metadata: bool,
    /// Read user-data and metadata from a DigitalOcean metadata service at URL
    #[arg(long, value_name = "URL")]
    pub from_digitalocean_metadata: Option<String>,
    /// Read user-data from URL
    #[arg(long, value_name = "URL")]
    pub from_url: Option<String>,
    /// Read the user-data URL from cloud-config-url= on the kernel command line
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, default_value_t = false)]
    pub from_proc_cmdline: bool,
    /// Read user-data and metadata from VMware guestinfo
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, default_value_t = false)]
    pub from_vmware_guestinfo: bool,
    /// Read user-data and metadata from a VMware OVF environment file
    #[arg(long, value_name = "PATH")]
    pub from_vmware_ovf_env: Option<String>,
    /// Apply an OEM preset of the flags above (digitalocean, ec2-compat, gce, azure, cloudsigma, vmware)
    #[arg(long, value_name = "NAME")]
    pub oem: Option<String>,
    /// Turn the datasource's network config into networkd units (debian, vmware)
    #[arg(long, value_name = "FORMAT")]
    pub convert_netconf: Option<String>,
}

/// coreos-cloudinit's other flags, for the compat entry (no subcommand).
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "coreos-cloudinit compatible flags")]
pub struct CompatArgs {
    #[command(flatten)]
    pub sources: SourceArgs,
    /// Working directory for scripts
    #[arg(long, value_name = "PATH", default_value = "/var/lib/coreos-cloudinit")]
    pub workspace: String,
    /// Name of the SSH key set written for the core user
    #[arg(long, value_name = "NAME", default_value = "coreos-cloudinit")]
    pub ssh_key_name: String,
    /// Validate the user-data, print the findings and exit (1 when there is any)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, default_value_t = false)]
    pub validate: bool,
    /// Exit 0 even when handling the user-data failed
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, default_value_t = false)]
    pub ignore_failure: bool,
}

const OEMS: &[&str] = &[
    "digitalocean",
    "ec2-compat",
    "gce",
    "azure",
    "cloudsigma",
    "vmware",
];

impl SourceArgs {
    /// Every datasource flag that is set, by its flag name.
    fn sources(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut add = |set: bool, name| {
            if set {
                out.push(name)
            }
        };
        add(self.from_file.is_some(), "--from-file");
        add(self.from_url.is_some(), "--from-url");
        add(self.from_configdrive.is_some(), "--from-configdrive");
        add(self.from_metadata_service, "--from-metadata-service");
        add(self.from_ec2_metadata.is_some(), "--from-ec2-metadata");
        add(self.from_gce_metadata.is_some(), "--from-gce-metadata");
        add(self.from_cloudsigma_metadata, "--from-cloudsigma-metadata");
        add(
            self.from_digitalocean_metadata.is_some(),
            "--from-digitalocean-metadata",
        );
        add(self.from_waagent.is_some(), "--from-waagent");
        add(self.from_proc_cmdline, "--from-proc-cmdline");
        add(self.from_vmware_guestinfo, "--from-vmware-guestinfo");
        add(self.from_vmware_ovf_env.is_some(), "--from-vmware-ovf-env");
        out
    }

    /// Applies an `--oem` preset; as in the reference, it overrides explicit flags.
    fn apply_oem(&mut self, oem: &str) {
        match oem {
            "digitalocean" => {
                self.from_digitalocean_metadata = Some("http://169.254.169.254/".into())
            }
            "ec2-compat" => {
                self.from_ec2_metadata = Some("http://169.254.169.254/".into());
                self.from_configdrive = Some("/media/configdrive".into());
            }
            "gce" => self.from_gce_metadata = Some("http://metadata.google.internal/".into()),
            "azure" => self.from_waagent = Some("/var/lib/waagent".into()),
            "cloudsigma" => self.from_cloudsigma_metadata = true,
            "vmware" => {
                self.from_vmware_guestinfo = true;
                self.convert_netconf = Some("vmware".into());
            }
            _ => {}
        }
    }
}

/// The legacy flags that take a value (`-from-file PATH`): the next argument is that value,
/// whatever it looks like, as in Go's flag package.
const LEGACY_VALUE_FLAGS: &[&str] = &[
    "from-file",
    "from-configdrive",
    "from-waagent",
    "from-ec2-metadata",
    "from-gce-metadata",
    "from-digitalocean-metadata",
    "from-url",
    "from-vmware-ovf-env",
    "oem",
    "convert-netconf",
    "workspace",
    "ssh-key-name",
];

/// Long flags that coreos-cloudinit users write with one dash (Go's flag package).
const LEGACY_FLAGS: &[&str] = &[
    "from-file",
    "from-configdrive",
    "from-waagent",
    "from-metadata-service",
    "from-ec2-metadata",
    "from-gce-metadata",
    "from-cloudsigma-metadata",
    "from-digitalocean-metadata",
    "from-url",
    "from-proc-cmdline",
    "from-vmware-guestinfo",
    "from-vmware-ovf-env",
    "oem",
    "convert-netconf",
    "workspace",
    "ssh-key-name",
    "validate",
    "ignore-failure",
    "version",
    "help",
];

/// Rewrites `-from-file=x` to `--from-file=x` before clap sees it. Subcommand invocations are
/// left alone: the legacy spelling belongs to the compat entry only.
///
/// Go's flag package has no clusters of short flags, so any other single-dash word (`-valdate`)
/// is a long flag too: rewritten, it gets clap's "a similar argument exists" tip instead of
/// being read as `-v -a -l ...`. Values of value-taking flags are never rewritten.
pub fn translate_legacy_flags(args: Vec<OsString>) -> Vec<OsString> {
    let is_subcommand = args
        .get(1)
        .and_then(|a| a.to_str())
        .is_some_and(|a| Cli::command().get_subcommands().any(|s| s.get_name() == a));
    if is_subcommand {
        return args;
    }
    let mut value_next = false;
    let mut out: Vec<OsString> = Vec::with_capacity(args.len());
    for (i, arg) in args.into_iter().enumerate() {
        if std::mem::take(&mut value_next) {
            // clap would take `-x` after `--from-file` for a flag; `--from-file=-x` it cannot.
            match out.last_mut() {
                Some(flag) if arg.to_str().is_some_and(|a| a.starts_with('-')) => {
                    flag.push("=");
                    flag.push(&arg);
                }
                _ => out.push(arg),
            }
            continue;
        }
        out.push(translate_one(i, arg, &mut value_next));
    }
    out
}

/// One argument of [`translate_legacy_flags`]; sets `value_next` when it takes the next one.
fn translate_one(i: usize, arg: OsString, value_next: &mut bool) -> OsString {
    let Some(s) = arg.to_str() else {
        // A file name after `=` may be any bytes; the flag name before it is ASCII.
        let bytes = arg.as_bytes();
        let name = bytes.split(|&b| b == b'=').next().unwrap_or(b"");
        let legacy = name.strip_prefix(b"-").filter(|n| !n.starts_with(b"-"));
        if i > 0 && legacy.is_some_and(|n| LEGACY_FLAGS.iter().any(|f| f.as_bytes() == n)) {
            let mut dashed = OsString::from("-");
            dashed.push(&arg);
            return dashed;
        }
        return arg;
    };
    if i == 0 || !s.starts_with('-') || s == "-" {
        return arg;
    }
    let long = s.strip_prefix("--").unwrap_or(&s[1..]);
    let (name, has_value) = match long.split_once('=') {
        Some((name, _)) => (name, true),
        None => (long, false),
    };
    *value_next = !has_value && LEGACY_VALUE_FLAGS.contains(&name);
    if !s.starts_with("--") && (LEGACY_FLAGS.contains(&name) || name.chars().count() > 1) {
        OsString::from(format!("-{s}"))
    } else {
        arg
    }
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
    let cli = match Cli::try_parse_from(translate_legacy_flags(args)) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    let identifier = std::env::args_os()
        .next()
        .and_then(|a| {
            Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "kindling".into());
    match cli.command {
        Some(Command::Validate(args)) => {
            crate::cmd::color::init(args.color);
            run_validate(&args)
        }
        Some(Command::Apply(args)) => {
            crate::cmd::color::init(args.color);
            crate::logging::init(&identifier, args.verbose);
            run_apply(&args, args.dry_run)
        }
        Some(Command::Plan(args)) => {
            crate::cmd::color::init(args.color);
            crate::logging::init(&identifier, args.verbose);
            run_apply(&args, true)
        }
        Some(Command::Fetch(args)) => {
            crate::logging::init(&identifier, false);
            run_fetch(&args)
        }
        Some(Command::Convert(args)) => crate::convert::cli::run(&args),
        Some(Command::Schema) => crate::cmd::schema::run(),
        Some(Command::Completions(args)) => crate::cmd::completions::run(&args, Cli::command()),
        None => {
            crate::logging::init(&identifier, false);
            run_compat(cli.compat)
        }
    }
}

fn run_validate(args: &ValidateArgs) -> i32 {
    let files = if args.files.is_empty() {
        if std::io::stdin().is_terminal() {
            eprintln!("kindling validate: no FILE given and standard input is a terminal; pass a file or pipe one in (see --help)");
            return EXIT_USAGE;
        }
        vec![PathBuf::from("-")]
    } else {
        args.files.clone()
    };
    let mut allowed = Vec::new();
    for code in &args.allow {
        match crate::rules::Code::from_name(code) {
            Some(c) => allowed.push(c),
            None => {
                let names = crate::rules::RULES.iter().map(|r| r.name);
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
        template: args.template,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let (mut errors, mut warnings, mut failed) = (0usize, 0usize, false);
    for path in &files {
        // A name that is not UTF-8 is shown with U+FFFD where its bytes are not text.
        let name = path.to_string_lossy();
        let mut report = match read_input(path) {
            Ok(data) => validate::validate_with(&data, (name != "-").then_some(&*name), options),
            Err(e) => {
                let what = if name == "-" {
                    "standard input"
                } else {
                    name.as_ref()
                };
                let mut r = Report::default();
                r.findings.push(crate::report::Finding::new(
                    crate::rules::Code::Unreadable,
                    Default::default(),
                    format!("cannot read {what}: {e}"),
                ));
                r
            }
        };
        report.findings.retain(|f| !allowed.contains(&f.code));
        errors += report
            .findings
            .iter()
            .filter(|f| f.severity == crate::rules::Severity::Error)
            .count();
        warnings += report
            .findings
            .iter()
            .filter(|f| f.severity == crate::rules::Severity::Warning)
            .count();
        failed |= report.has_errors() || (args.strict && report.has_warnings());
        let text = match args.format {
            Format::Human => crate::cmd::color::validate_report(&report.to_human(&name), &name),
            Format::Json => report.to_json(&name) + "\n",
        };
        let _ = out.write_all(text.as_bytes());
    }
    if args.format == Format::Human && (errors > 0 || warnings > 0) {
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

/// Checks `--oem` and `--convert-netconf` as the reference does and expands the preset; Err is
/// the usage message (exit 2).
fn check_sources(sources: &mut SourceArgs) -> Result<(), String> {
    if let Some(oem) = sources.oem.clone().filter(|o| !o.is_empty()) {
        if !OEMS.contains(&oem.as_str()) {
            return Err(format!(
                "Invalid option to -oem: {oem:?}. Supported options: {OEMS:?}"
            ));
        }
        sources.apply_oem(&oem);
    }
    if let Some(n) = sources.convert_netconf.as_deref() {
        if !matches!(n, "" | "debian" | "vmware") {
            return Err(format!(
                "Invalid option to -convert-netconf: '{n}'. Supported options: 'debian, vmware'"
            ));
        }
    }
    if sources.sources().is_empty() {
        return Err("Provide at least one of --from-file, --from-configdrive, --from-ec2-metadata, --from-gce-metadata, --from-cloudsigma-metadata, --from-digitalocean-metadata, --from-vmware-guestinfo, --from-waagent, --from-url or --from-proc-cmdline".into());
    }
    Ok(())
}

/// What a datasource handed over.
struct Input {
    user_data: Vec<u8>,
    metadata: Metadata,
    /// Why fetching the user-data failed: a failure of the run, but metadata still applies.
    user_data_error: Option<String>,
}

impl SourceArgs {
    /// The datasource module's view of the flags.
    fn to_sources(&self) -> datasource::Sources {
        datasource::Sources {
            file: self.from_file.clone(),
            url: self.from_url.clone(),
            configdrive: self.from_configdrive.as_ref().map(PathBuf::from),
            ec2: self.from_ec2_metadata.clone().or_else(|| {
                self.from_metadata_service
                    .then(|| "http://169.254.169.254/".to_string())
            }),
            gce: self.from_gce_metadata.clone(),
            digitalocean: self.from_digitalocean_metadata.clone(),
            waagent: self.from_waagent.as_ref().map(PathBuf::from),
            cloudsigma: self.from_cloudsigma_metadata,
            proc_cmdline: self.from_proc_cmdline,
            vmware_guestinfo: self.from_vmware_guestinfo,
            vmware_ovf_env: self.from_vmware_ovf_env.as_ref().map(PathBuf::from),
        }
    }
}

/// Races the enabled sources and picks the first available one.
fn select_source(
    sources: &SourceArgs,
    timeout: Duration,
    check_once: bool,
) -> Result<Box<dyn datasource::Datasource>, String> {
    // One deadline for the whole fetch: the race, then metadata and user-data with their
    // retries, all end by `--timeout` (the source keeps these options for its later requests).
    let opts = datasource::SelectOptions {
        timeout,
        check_once,
        http: datasource::http::HttpOptions {
            deadline: std::time::Instant::now().checked_add(timeout),
            ..Default::default()
        },
        ..Default::default()
    };
    let source = datasource::select(&sources.to_sources(), &opts).map_err(|e| e.to_string())?;
    Ok(source)
}

/// Fetches metadata, then user-data, from the selected source (the reference's order). A
/// metadata error is fatal; a user-data error is a failure, and the run goes on without it.
fn acquire(sources: &SourceArgs, timeout: Duration, check_once: bool) -> Result<Input, String> {
    let source = select_source(sources, timeout, check_once)?;
    let metadata = source
        .fetch_metadata()
        .map_err(|e| format!("cannot fetch metadata from {}: {e}", source.describe()))?;
    let (user_data, user_data_error) = match source.fetch_user_data() {
        Ok(data) => (data.unwrap_or_default(), None),
        Err(e) => (
            Vec::new(),
            Some(format!(
                "cannot fetch user-data from {}: {e}",
                source.describe()
            )),
        ),
    };
    Ok(Input {
        user_data,
        metadata,
        user_data_error,
    })
}

/// `kindling fetch`: what the selected source yields, as one JSON object.
fn run_fetch(args: &FetchArgs) -> i32 {
    let mut sources = args.sources.clone();
    if let Err(usage) = check_sources(&mut sources) {
        eprintln!("kindling: {usage}");
        return EXIT_USAGE;
    }
    let source = match select_source(&sources, Duration::from_secs(args.timeout), false) {
        Ok(s) => s,
        Err(e) => {
            log::error!("{e}");
            return EXIT_FAILURE;
        }
    };
    match datasource::fetch_json(source.as_ref()) {
        Ok(json) => {
            println!("{json}");
            EXIT_OK
        }
        Err(e) => {
            log::error!("{e}");
            EXIT_FAILURE
        }
    }
}

/// The boot job: fetch, read, plan, then apply (or print the plan).
fn run_apply(args: &ApplyArgs, plan_only: bool) -> i32 {
    if !plan_only && args.format == Format::Json {
        eprintln!(
            "kindling apply: --format json prints a plan; add --dry-run (or run kindling plan)"
        );
        return EXIT_USAGE;
    }
    let mut sources = args.sources.clone();
    if let Err(usage) = check_sources(&mut sources) {
        eprintln!("kindling: {usage}");
        return EXIT_USAGE;
    }
    // `useradd --prefix` and the commands run under the root need an absolute path, whatever
    // the working directory they run in.
    let root = match args.root.as_deref().map(std::path::absolute).transpose() {
        Ok(root) => root,
        Err(e) => {
            eprintln!(
                "kindling: --root {}: {e}",
                args.root.as_deref().unwrap_or(Path::new("")).display()
            );
            return EXIT_USAGE;
        }
    };
    let options = plan::Options {
        ssh_key_name: args.ssh_key_name.clone(),
        workspace: args.workspace.clone(),
    };
    apply_flow(
        &sources,
        root.as_deref(),
        plan_only.then_some(args.format),
        Duration::from_secs(args.job_timeout),
        Duration::from_secs(args.timeout),
        &options,
        args.ignore_failure,
    )
}

fn apply_flow(
    sources: &SourceArgs,
    root: Option<&Path>,
    plan_format: Option<Format>,
    job_timeout: Duration,
    timeout: Duration,
    options: &plan::Options,
    ignore_failure: bool,
) -> i32 {
    let input = match acquire(sources, timeout, false) {
        Ok(input) => input,
        Err(e) => {
            log::error!("{e}");
            return EXIT_FAILURE;
        }
    };
    let addrs = Addresses::from_process_env(&input.metadata);
    let loaded = load::load(&input.user_data, &addrs);
    for p in &loaded.problems {
        match p.severity {
            Severity::Error => log::error!("{}: {}", p.part, p.message),
            Severity::Warning => log::warn!("{}: {}", p.part, p.message),
            Severity::Info => log::info!("{}: {}", p.part, p.message),
        }
    }
    if !loaded.unset_addresses.is_empty() {
        let names: Vec<String> = loaded
            .unset_addresses
            .iter()
            .map(|t| format!("${t}"))
            .collect();
        let vars: Vec<String> = loaded
            .unset_addresses
            .iter()
            .map(|t| format!("COREOS_{}", t.to_ascii_uppercase()))
            .collect();
        log::warn!(
            "{} replaced by an empty string: the metadata has no such address and {} {} not set",
            names.join(", "),
            vars.join(", "),
            if vars.len() == 1 { "is" } else { "are" }
        );
    }
    for part in &loaded.parts {
        if let plan::Part::Ignored { label, reason, .. } = part {
            log::warn!("{label}: not applied: {reason}");
        }
    }

    let root = root.unwrap_or(Path::new("/"));
    let offline;
    let live;
    let systemd: &dyn Systemd = if root == Path::new("/") {
        match DbusSystemd::connect(job_timeout) {
            Ok(s) => {
                live = s;
                &live
            }
            Err(e) => {
                log::error!("{e}; to apply to an offline tree, use --root DIR");
                return EXIT_FAILURE;
            }
        }
    } else {
        offline = OfflineSystemd::new(root);
        &offline
    };
    let network = match sources.convert_netconf.as_deref().filter(|k| !k.is_empty()) {
        None => Vec::new(),
        Some(kind) => match crate::network::convert(kind, input.metadata.network_config.as_ref()) {
            Ok(units) => units,
            Err(e) => {
                // As the reference: the network setup failing is fatal.
                log::error!("--convert-netconf={kind}: {e}");
                return EXIT_FAILURE;
            }
        },
    };
    let state = TargetState::new(root, systemd);
    let inputs = plan::Inputs {
        parts: &loaded.parts,
        metadata: &input.metadata,
        addrs: &addrs,
        network: &network,
    };
    let mut plan = plan::plan(&inputs, &state, options);
    if let Some(e) = &input.user_data_error {
        // The metadata still applies; the missing user-data is a failure that plan shows
        // and apply counts, in the same place.
        plan.steps.insert(
            0,
            plan::Step {
                part: Some("user-data".into()),
                action: plan::Action::Invalid {
                    what: "not applied".into(),
                    message: e.clone(),
                },
                change: true,
            },
        );
    }

    if let Some(format) = plan_format {
        match format {
            Format::Human => {
                let text = show::render_plan(&plan, &state, systemd.is_live());
                print!("{}", crate::cmd::color::plan_report(&text));
            }
            Format::Json => print!(
                "{}",
                crate::cmd::plan_json::render(&plan, &state, systemd.is_live())
            ),
        }
        return if loaded.errors() > 0 || plan.problems() > 0 {
            EXIT_FAILURE
        } else {
            EXIT_OK
        };
    }
    let target = Target {
        root: root.to_path_buf(),
        systemd,
        http_timeout: Duration::from_secs(10),
    };
    let mut outcome = runner::execute(&plan, &target);
    outcome.failed += loaded.errors();
    println!("{}", outcome.summary());
    if outcome.failed == 0 || (ignore_failure && !outcome.global_failed) {
        EXIT_OK
    } else {
        EXIT_FAILURE
    }
}

/// The reference's behaviour for its own flags (coreos-cloudinit.go's main).
fn run_compat(mut args: CompatArgs) -> i32 {
    if let Err(usage) = check_sources(&mut args.sources) {
        println!("{usage}");
        return EXIT_USAGE;
    }
    if !args.validate {
        let options = plan::Options {
            ssh_key_name: args.ssh_key_name.clone(),
            workspace: PathBuf::from(&args.workspace),
        };
        return apply_flow(
            &args.sources,
            None,
            None,
            Duration::from_secs(90),
            Duration::from_secs(300),
            &options,
            args.ignore_failure,
        );
    }
    // The reference polls here for five minutes; a check before an install (flatcar-install
    // -c) must answer at once, so each source is checked once and a read error is final.
    let data = match acquire(&args.sources, Duration::from_secs(300), true) {
        Ok(Input {
            user_data_error: Some(e),
            ..
        }) => {
            eprintln!("{} {e}", log_time());
            return EXIT_FAILURE;
        }
        Ok(input) => input.user_data,
        Err(e) => {
            eprintln!("{} {e}", log_time());
            return EXIT_FAILURE;
        }
    };
    let report = validate::validate(&data);
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    let stamp = log_time();
    for line in report.to_compat() {
        let _ = writeln!(err, "{stamp} {line}");
    }
    if report.findings.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILURE
    }
}

/// Go's `log` prefix, `YYYY/MM/DD HH:MM:SS`, in UTC.
fn log_time() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}/{m:02}/{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's civil calendar algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
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
            cli.compat.sources.from_file.as_deref(),
            Some(Path::new("f"))
        );
        let cli = Cli::try_parse_from(os(&["k", "--validate", "--from-file=f"])).unwrap();
        assert!(cli.compat.validate);
    }

    #[test]
    fn oem_presets_override_flags() {
        let mut a = SourceArgs {
            from_ec2_metadata: Some("http://other/".into()),
            ..Default::default()
        };
        a.apply_oem("ec2-compat");
        assert_eq!(
            a.from_ec2_metadata.as_deref(),
            Some("http://169.254.169.254/")
        );
        assert_eq!(a.from_configdrive.as_deref(), Some("/media/configdrive"));
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_413), (2025, 11, 21));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
