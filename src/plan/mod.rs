//! Planning, the pure half of apply: (parts, metadata, current state) -> ordered actions, each
//! knowing whether it changes anything. Dry-run, idempotency and most tests fall out of this.

mod action;
pub mod diff;
mod files;
pub mod json;
pub mod keys;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod memory;
pub mod render;
pub mod show;
mod state;
mod units;
mod users;

use std::path::PathBuf;

use crate::config::model::{CloudConfig, Rejected};
use crate::config::values;
use crate::metadata::{Addresses, Metadata};
use crate::network::NetworkUnit;

pub use action::{
    Action, FileRole, Part, Plan, Repair, Step, CREATING_USERS, SHADOW_DATABASES, STAMPS,
};
pub use state::{Account, FileKind, FileStat, State};
pub use units::unit_dir;
use users::dedupe;
pub use users::{defs_value, home_mode, skel_dir};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The key set written for `core` and for users' keys (`--ssh-key-name`).
    pub ssh_key_name: String,
    /// Where scripts are kept (`--workspace`).
    pub workspace: PathBuf,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            ssh_key_name: "coreos-cloudinit".into(),
            workspace: PathBuf::from("/var/lib/coreos-cloudinit"),
        }
    }
}

/// A short stable fingerprint (FNV-1a, 64 bits) for stamps and script names; not security.
pub fn fingerprint(data: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The hostname to set: a FQDN gives its first label; an IP address or an invalid label is an
/// error instead of being cut (the reference turned `10.0.0.5` into `10`).
pub fn hostname_label(name: &str) -> Result<String, String> {
    if name.parse::<std::net::IpAddr>().is_ok() {
        return Err(format!(
            "hostname {name:?} is an IP address, not a name; not set"
        ));
    }
    let label = name.split('.').next().unwrap_or("");
    values::check_hostname(label)
        .map_err(|why| format!("hostname {name:?} is not valid: {why}; not set"))?;
    Ok(label.to_string())
}
struct Planner<'a> {
    state: &'a dyn State,
    options: &'a Options,
    steps: Vec<Step>,
    part: Option<String>,
    /// Users and groups that steps before the current one create: an owner or a group naming
    /// them resolves at apply, though the target lacks them now.
    new_users: Vec<String>,
    new_groups: Vec<String>,
    /// core's keys, when `core` does not exist yet and a part creates it: written right after.
    core_keys: Option<Vec<String>>,
}

impl Planner<'_> {
    fn push(&mut self, action: Action, change: bool) {
        self.steps.push(Step {
            part: self.part.clone(),
            action,
            change,
        });
    }

    fn invalid(&mut self, what: impl Into<String>, message: impl Into<String>) {
        self.push(
            Action::Invalid {
                what: what.into(),
                message: message.into(),
            },
            true,
        );
    }

    /// An entry the validator rejected: skipped whole, and a failure of the run.
    fn rejected(&mut self, r: &Rejected) {
        self.invalid(r.what.clone(), r.message());
    }

    fn user_known(&self, name: &str) -> bool {
        self.state.user(name).is_some() || self.new_users.iter().any(|u| u == name)
    }

    fn group_known(&self, group: &str) -> bool {
        self.state.group_exists(group) || self.new_groups.iter().any(|g| g == group)
    }

    fn script(&mut self, content: &[u8]) {
        let print = fingerprint(content);
        let path = self
            .options
            .workspace
            .join("scripts")
            .join(format!("script-{print}"));
        let stamp = format!("script {print}");
        let change = !self.state.done_this_boot(&stamp);
        self.push(
            Action::Script {
                path,
                content: content.to_vec(),
                service: format!("coreos-cloudinit-script-{print}.service"),
                stamp,
            },
            change,
        );
    }
}

/// What one plan is made from, besides the machine it reads and the [`Options`].
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The user-data's parts, in order.
    pub parts: &'a [Part],
    /// The datasource's metadata: its hostname and SSH keys stand in when no part sets them.
    pub metadata: &'a Metadata,
    /// The addresses `$public_ipv4` and friends and /etc/environment take.
    pub addrs: &'a Addresses,
    /// The networkd units `--convert-netconf` made from the datasource's network config
    /// (empty without it): written to /run/systemd/network before anything else, as the
    /// reference does.
    pub network: &'a [NetworkUnit],
}

/// Plans everything the inputs ask for, in the reference's order (FC): the network units,
/// hostname, core's keys, then per part users, files, generated files, units, commands.
pub fn plan(inputs: &Inputs<'_>, state: &dyn State, options: &Options) -> Plan {
    let Inputs {
        parts,
        metadata,
        addrs,
        network,
    } = *inputs;
    let mut p = Planner {
        state,
        options,
        steps: Vec::new(),
        part: None,
        new_users: Vec::new(),
        new_groups: Vec::new(),
        core_keys: None,
    };
    p.network_units(network);
    let configs: Vec<(&str, &CloudConfig)> = parts
        .iter()
        .filter_map(|part| match part {
            Part::Config { label, config } => Some((label.as_str(), config.as_ref())),
            _ => None,
        })
        .collect();

    // The first part that sets a hostname decides it; an invalid one is skipped, not replaced
    // by the metadata's (which would be a name the operator did not ask for).
    let wanted = match configs
        .iter()
        .find_map(|(label, c)| c.hostname.as_ref().map(|h| (*label, h)))
    {
        Some((label, Err(r))) => {
            p.part = Some(label.to_string());
            p.rejected(r);
            p.part = None;
            None
        }
        Some((_, Ok(h))) => Some(h.clone()),
        None => metadata.hostname.clone().filter(|h| !h.is_empty()),
    };
    let mut hostname = state.hostname().unwrap_or_else(|| "localhost".into());
    if let Some(wanted) = wanted {
        match hostname_label(&wanted) {
            Ok(name) => {
                let change = state.hostname().as_deref() != Some(name.as_str());
                hostname = name.clone();
                p.push(Action::SetHostname { name }, change);
            }
            Err(e) => p.invalid("hostname", e),
        }
    }

    // An invalid key list leaves core's key set as it is: writing the set without those keys
    // would remove the ones the operator meant to keep.
    let mut keys_rejected = false;
    for (label, c) in &configs {
        if let Err(r) = &c.ssh_authorized_keys {
            p.part = Some(label.to_string());
            p.rejected(r);
            p.part = None;
            keys_rejected = true;
        }
    }
    let core_keys = dedupe(
        configs
            .iter()
            .flat_map(|(_, c)| {
                c.ssh_authorized_keys.iter().flatten().chain(
                    c.users
                        .iter()
                        .flatten()
                        .filter(|u| u.name == "core")
                        .flat_map(|u| u.ssh_authorized_keys.iter()),
                )
            })
            .chain(metadata.ssh_public_keys.values()),
    );
    let creates_core = configs
        .iter()
        .any(|(_, c)| c.users.iter().flatten().any(|u| u.name == "core"));
    if !core_keys.is_empty() && !keys_rejected {
        if state.user("core").is_none() && creates_core {
            p.core_keys = Some(core_keys);
        } else {
            p.ssh_keys("core", core_keys);
        }
    }

    for part in parts {
        p.part = Some(part.label().to_string());
        match part {
            Part::Config { config, .. } => {
                for r in &config.rejected {
                    p.rejected(r);
                }
                p.users(&config.users);
                p.files(config, &hostname, addrs);
                p.units(config);
            }
            Part::Script { content, .. } => p.script(content),
            Part::Ignored { .. } => {}
        }
    }
    if let Some(keys) = p.core_keys.take() {
        // The part meant to create `core` could not (its entry failed): say so for the keys.
        p.part = None;
        p.ssh_keys("core", keys);
    }
    Plan { steps: p.steps }
}

#[cfg(test)]
mod tests;
