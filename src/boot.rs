//! The boot job as a library function: fetch from the first available datasource, read the
//! user-data, plan, then apply it (or print the plan). `kindling apply`, `kindling plan` and
//! the coreos-cloudinit flags all end here, with a [`BootOptions`]; the integration tests call
//! [`run`] directly.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{ArgAction, Args};

use crate::apply::run::{self as runner, Target};
use crate::apply::state::TargetState;
use crate::apply::systemd::{dbus::DbusSystemd, offline::OfflineSystemd, Systemd};
use crate::datasource::{self, Datasource, Sources};
use crate::load;
use crate::metadata::{Addresses, Metadata};
use crate::plan::{self, show};
use crate::report::Format;
use crate::rules::Severity;

/// Where the user-data and metadata come from: the `--from-*` flags ([`Sources`]), and the two
/// flags that shape them. One struct for clap and for [`SourceArgs::resolve`].
#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = "Sources (coreos-cloudinit's flags)")]
pub struct SourceArgs {
    #[command(flatten)]
    pub sources: Sources,
    /// Deprecated: EC2 metadata service at http://169.254.169.254/
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, default_value_t = false)]
    pub from_metadata_service: bool,
    /// Apply an OEM preset of the flags above (digitalocean, ec2-compat, gce, azure, cloudsigma, vmware)
    #[arg(long, value_name = "NAME")]
    pub oem: Option<String>,
    /// Turn the datasource's network config into networkd units (debian, vmware)
    #[arg(long, value_name = "FORMAT")]
    pub convert_netconf: Option<String>,
}

/// The `--oem` presets, as the reference names them.
const OEMS: &[&str] = &[
    "digitalocean",
    "ec2-compat",
    "gce",
    "azure",
    "cloudsigma",
    "vmware",
];

/// The reference's answer to no source at all, byte for byte (reference.md; the compat entry
/// prints it). It is the reference's own list, so kindling's later sources are not in it.
pub const NO_SOURCE: &str = "Provide at least one of --from-file, --from-configdrive, --from-ec2-metadata, --from-gce-metadata, --from-cloudsigma-metadata, --from-digitalocean-metadata, --from-vmware-guestinfo, --from-waagent, --from-url or --from-proc-cmdline";

/// Why the source flags cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceError {
    /// A bad `--oem` or `--convert-netconf`, in the reference's words.
    Invalid(String),
    /// No source flag at all. Shown with every `--from-*` flag kindling has; the compat entry
    /// prints the reference's [`NO_SOURCE`] instead.
    NoSource,
}

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceError::Invalid(message) => f.write_str(message),
            SourceError::NoSource => {
                let mut flags = Sources::flag_names();
                let last = flags.pop().unwrap_or_default();
                write!(f, "Provide at least one of {} or {last}", flags.join(", "))
            }
        }
    }
}

impl SourceArgs {
    /// Checks `--oem` and `--convert-netconf` as the reference does (in its order) and
    /// expands the preset; an error is a usage error (exit 2).
    pub fn resolve(mut self) -> Result<SourceArgs, SourceError> {
        if let Some(oem) = self.oem.clone().filter(|o| !o.is_empty()) {
            if !OEMS.contains(&oem.as_str()) {
                return Err(SourceError::Invalid(format!(
                    "Invalid option to -oem: {oem:?}. Supported options: {OEMS:?}"
                )));
            }
            self.apply_oem(&oem);
        }
        if let Some(n) = self.convert_netconf.as_deref() {
            if !matches!(n, "" | "debian" | "vmware") {
                return Err(SourceError::Invalid(format!(
                    "Invalid option to -convert-netconf: '{n}'. Supported options: 'debian, vmware'"
                )));
            }
        }
        if self.from_metadata_service && self.sources.ec2.is_none() {
            self.sources.ec2 = Some("http://169.254.169.254/".into());
        }
        if self.sources.is_empty() {
            return Err(SourceError::NoSource);
        }
        Ok(self)
    }

    /// Applies an `--oem` preset; as in the reference, it overrides explicit flags.
    fn apply_oem(&mut self, oem: &str) {
        let s = &mut self.sources;
        match oem {
            "digitalocean" => s.digitalocean = Some("http://169.254.169.254/".into()),
            "ec2-compat" => {
                s.ec2 = Some("http://169.254.169.254/".into());
                s.configdrive = Some("/media/configdrive".into());
            }
            "gce" => s.gce = Some("http://metadata.google.internal/".into()),
            "azure" => s.waagent = Some("/var/lib/waagent".into()),
            "cloudsigma" => s.cloudsigma = true,
            "vmware" => {
                s.vmware_guestinfo = true;
                self.convert_netconf = Some("vmware".into());
            }
            _ => {}
        }
    }
}

/// Everything one boot run needs. `kindling apply` fills it from its flags; the compat entry
/// from coreos-cloudinit's, with the reference's fixed timeouts.
#[derive(Debug, Clone)]
pub struct BootOptions {
    /// The sources, already through [`SourceArgs::resolve`].
    pub sources: SourceArgs,
    /// Apply to this directory (absolute) instead of the running system.
    pub root: Option<PathBuf>,
    /// Print the plan in this format instead of carrying it out.
    pub plan_only: Option<Format>,
    /// How long to wait for each systemd job.
    pub job_timeout: Duration,
    /// How long to wait for a datasource, its retries included.
    pub timeout: Duration,
    /// The planner's options (SSH key set name, script workspace).
    pub plan: plan::Options,
    /// Count a failed user-data as success (never a failed hostname or core's keys).
    pub ignore_failure: bool,
}

/// How a run ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything applied (or would), or the failures are ignored.
    Clean,
    /// Something failed; the log and the summary say what.
    Failed,
}

/// What a datasource handed over.
pub struct Input {
    pub user_data: Vec<u8>,
    pub metadata: Metadata,
    /// Why fetching the user-data failed: a failure of the run, but metadata still applies.
    pub user_data_error: Option<String>,
}

/// Races the enabled sources and picks the first available one.
pub fn select_source(
    sources: &Sources,
    timeout: Duration,
    check_once: bool,
) -> Result<Box<dyn Datasource>, String> {
    // One deadline for the whole fetch: the race, then metadata and user-data with their
    // retries, all end by `--timeout` (the source keeps these options for its later requests).
    let opts = datasource::SelectOptions {
        timeout,
        check_once,
        http: crate::http::HttpOptions {
            deadline: Instant::now().checked_add(timeout),
            ..Default::default()
        },
        ..Default::default()
    };
    datasource::select(sources, &opts).map_err(|e| e.to_string())
}

/// Fetches metadata, then user-data, from the selected source (the reference's order). A
/// metadata error is fatal; a user-data error is a failure, and the run goes on without it.
pub fn acquire(sources: &Sources, timeout: Duration, check_once: bool) -> Result<Input, String> {
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

/// The boot job: fetch, read, plan, then apply (or print the plan). Findings go to the log,
/// the plan or the apply summary to standard output.
pub fn run(opts: &BootOptions) -> Outcome {
    let input = match acquire(&opts.sources.sources, opts.timeout, false) {
        Ok(input) => input,
        Err(e) => {
            log::error!("{e}");
            return Outcome::Failed;
        }
    };
    let addrs = Addresses::from_process_env(&input.metadata);
    let loaded = load::load(&input.user_data, &addrs);
    log_load_findings(&loaded);

    let root = opts.root.as_deref().unwrap_or(Path::new("/"));
    let offline;
    let live;
    let systemd: &dyn Systemd = if root == Path::new("/") {
        match DbusSystemd::connect(opts.job_timeout) {
            Ok(s) => {
                live = s;
                &live
            }
            Err(e) => {
                log::error!("{e}; to apply to an offline tree, use --root DIR");
                return Outcome::Failed;
            }
        }
    } else {
        offline = OfflineSystemd::new(root);
        &offline
    };
    let netconf = opts.sources.convert_netconf.as_deref();
    let network = match netconf.filter(|k| !k.is_empty()) {
        None => Vec::new(),
        Some(kind) => match crate::network::convert(kind, input.metadata.network_config.as_ref()) {
            Ok(units) => units,
            Err(e) => {
                // As the reference: the network setup failing is fatal.
                log::error!("--convert-netconf={kind}: {e}");
                return Outcome::Failed;
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
    let mut plan = plan::plan(&inputs, &state, &opts.plan);
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

    if let Some(format) = opts.plan_only {
        let text = match format {
            Format::Human => {
                crate::color::plan_report(&show::render_plan(&plan, &state, systemd.is_live()))
            }
            Format::Json => plan::json::render(&plan, &state, systemd.is_live()),
        };
        // The plan is this run's whole result: one that cannot be written is a failure.
        if let Err(e) = crate::report::print(text) {
            eprintln!("kindling plan: cannot write to standard output: {e}");
            return Outcome::Failed;
        }
        return if loaded.errors() > 0 || plan.problems() > 0 {
            Outcome::Failed
        } else {
            Outcome::Clean
        };
    }
    let target = Target {
        root: root.to_path_buf(),
        systemd,
        http_timeout: Duration::from_secs(10),
    };
    let mut outcome = runner::execute(&plan, &target);
    outcome.failed += loaded.errors();
    // The work is done by now: a summary nobody can read does not undo it or fail the run.
    if let Err(e) = crate::report::print(format!("{}\n", outcome.summary())) {
        log::warn!("cannot write the summary to standard output: {e}");
    }
    if outcome.failed == 0 || (opts.ignore_failure && !outcome.global_failed) {
        Outcome::Clean
    } else {
        Outcome::Failed
    }
}

/// What reading the user-data found, to the log: the problems of its parts, the addresses that
/// had to be left empty, and the parts that are not applied.
fn log_load_findings(loaded: &load::Loaded) {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oem_presets_override_flags() {
        let mut a = SourceArgs::default();
        a.sources.ec2 = Some("http://other/".into());
        a.oem = Some("ec2-compat".into());
        let a = a.resolve().unwrap();
        assert_eq!(a.sources.ec2.as_deref(), Some("http://169.254.169.254/"));
        // The deprecated flag is only a default for --from-ec2-metadata.
        let old = SourceArgs {
            from_metadata_service: true,
            ..Default::default()
        };
        let old = old.resolve().unwrap();
        assert_eq!(old.sources.ec2.as_deref(), Some("http://169.254.169.254/"));
        assert_eq!(
            a.sources.configdrive.as_deref(),
            Some(Path::new("/media/configdrive"))
        );
    }

    #[test]
    fn no_source_names_every_flag() {
        let none = SourceArgs::default().resolve().unwrap_err();
        assert_eq!(none, SourceError::NoSource);
        // Derived from the flags themselves: a new source is named without being listed here.
        let text = none.to_string();
        assert!(text.starts_with("Provide at least one of --from-file, --from-configdrive, "));
        assert!(
            text.ends_with(", --from-vmware-guestinfo or --from-vmware-ovf-env"),
            "{text}"
        );
        let vmware = SourceArgs {
            oem: Some("vmware".into()),
            ..Default::default()
        };
        let vmware = vmware.resolve().unwrap();
        assert!(vmware.sources.vmware_guestinfo);
        assert_eq!(vmware.convert_netconf.as_deref(), Some("vmware"));
    }
}
