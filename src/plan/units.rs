//! Planning units: unit files and drop-ins, masks, enables, the carriers of the etcd, fleet,
//! locksmith and update sections, then one daemon-reload and the units' commands.

use std::path::{Path, PathBuf};

use super::{render, Action, FileKind, FileRole, FileStat, Planner};
use crate::config::model::{Checked, CloudConfig, RebootStrategy, Unit};
use crate::config::values;
use crate::network::NetworkUnit;
use crate::unit::name::{is_network_unit, lacks_known_unit_suffix};
use crate::unit::UnitCommand;

/// `/{etc|run}/systemd/{system|network}` for a unit.
pub fn unit_dir(name: &str, runtime: bool) -> PathBuf {
    let base = if runtime {
        "/run/systemd"
    } else {
        "/etc/systemd"
    };
    let group = if is_network_unit(name) {
        "network"
    } else {
        "system"
    };
    Path::new(base).join(group)
}

impl Planner<'_> {
    /// The networkd units `--convert-netconf` made; networkd restarts when one changes.
    pub(super) fn network_units(&mut self, network: &[NetworkUnit]) {
        let mut changed = false;
        for unit in network {
            let path = Path::new("/run/systemd/network").join(&unit.name);
            changed |= self.file(
                path,
                unit.content.clone().into_bytes(),
                0o644,
                None,
                FileRole::Unit,
            );
        }
        if changed {
            self.push(Action::DaemonReload, true);
            self.push(Action::RestartNetworkd, true);
        }
    }

    /// The units of a part: the config's, then the four drop-in carriers, then the update units.
    /// An invalid section stands for its carrier (reported there); an invalid update section
    /// was reported with update.conf.
    pub(super) fn unit_list(c: &CloudConfig) -> Vec<Checked<Unit>> {
        let mut units = c.coreos.units.clone();
        let carriers = [
            ("etcd.service", &c.coreos.etcd),
            ("etcd2.service", &c.coreos.etcd2),
            ("fleet.service", &c.coreos.fleet),
            ("locksmithd.service", &c.coreos.locksmith),
        ];
        for (name, section) in carriers {
            let section = match section {
                Ok(s) => s,
                Err(r) => {
                    units.push(Err(r.clone()));
                    continue;
                }
            };
            units.push(Ok(Unit {
                name: name.into(),
                runtime: true,
                drop_ins: render::env_dropin(section)
                    .map(|content| {
                        vec![Ok(crate::config::model::DropIn {
                            name: "20-cloudinit.conf".into(),
                            content,
                        })]
                    })
                    .unwrap_or_default(),
                ..Default::default()
            }));
        }
        let Ok(update) = &c.coreos.update else {
            return units;
        };
        match update.reboot_strategy {
            Some(RebootStrategy::Off) => units.push(Ok(Unit {
                name: "locksmithd.service".into(),
                runtime: true,
                mask: true,
                command: Some(UnitCommand::Stop),
                ..Default::default()
            })),
            Some(_) => units.push(Ok(Unit {
                name: "locksmithd.service".into(),
                runtime: true,
                command: Some(UnitCommand::Restart),
                ..Default::default()
            })),
            None => {}
        }
        if update.group.is_some() || update.server.is_some() {
            units.push(Ok(Unit {
                name: "update-engine.service".into(),
                command: Some(UnitCommand::Restart),
                ..Default::default()
            }));
        }
        units
    }

    pub(super) fn units(&mut self, c: &CloudConfig) {
        let mut reload = false;
        let mut networkd = false;
        let mut commands: Vec<(String, UnitCommand, bool)> = Vec::new();
        for unit in Self::unit_list(c) {
            let unit = match unit {
                Ok(u) => u,
                Err(r) => {
                    // The unit with its drop-ins, its enable, mask and command.
                    self.rejected(&r);
                    continue;
                }
            };
            let dir = unit_dir(&unit.name, unit.runtime);
            let path = dir.join(&unit.name);
            let network = is_network_unit(&unit.name);
            let mut touched = false;
            if let Some(content) = unit.content.as_ref().filter(|c| !c.is_empty()) {
                touched |= self.file(
                    path.clone(),
                    content.clone().into_bytes(),
                    0o644,
                    None,
                    FileRole::Unit,
                );
            }
            for d in &unit.drop_ins {
                let d = match d {
                    Ok(d) if !d.name.is_empty() && !d.content.is_empty() => d,
                    Ok(_) => continue,
                    Err(r) => {
                        self.rejected(r);
                        continue;
                    }
                };
                let dpath = dir.join(format!("{}.d", unit.name)).join(&d.name);
                touched |= self.file(
                    dpath,
                    d.content.clone().into_bytes(),
                    0o644,
                    None,
                    FileRole::DropIn,
                );
            }
            if unit.mask {
                let masked = matches!(self.state.stat(&path), Some(FileStat { kind: FileKind::Symlink(ref t), .. }) if t == Path::new("/dev/null"));
                self.push(
                    Action::Mask {
                        unit: unit.name.clone(),
                        path: path.clone(),
                    },
                    !masked,
                );
                touched |= !masked;
            } else if unit.runtime {
                let masked = match self.state.stat(&path) {
                    Some(FileStat {
                        kind: FileKind::File,
                        len: 0,
                        ..
                    }) => true,
                    Some(FileStat {
                        kind: FileKind::Symlink(t),
                        ..
                    }) => t == Path::new("/dev/null"),
                    Some(FileStat {
                        kind: FileKind::CharDevice,
                        ..
                    }) => true,
                    _ => false,
                };
                if masked {
                    self.push(
                        Action::Unmask {
                            unit: unit.name.clone(),
                            path: path.clone(),
                        },
                        true,
                    );
                    touched = true;
                }
            }
            reload |= touched;
            if network {
                networkd |= touched;
                continue;
            }
            // The reference writes and masks a unit without a known suffix, and asks systemd to
            // enable or start it, which systemd refuses: that is a failure, said in advance.
            let unloadable = lacks_known_unit_suffix(&unit.name);
            let refused = |what: &str| {
                format!(
                    "systemd cannot {what} a unit whose name has no known type suffix (such as .service)"
                )
            };
            if unit.enable && unloadable {
                self.invalid(
                    format!("enable {}", values::excerpt(&unit.name, 60)),
                    refused("enable"),
                );
            } else if unit.enable {
                let enabled = self.state.unit_enabled(&unit.name) == Some(true);
                self.push(
                    Action::Enable {
                        unit: unit.name.clone(),
                        runtime: unit.runtime,
                    },
                    !enabled,
                );
            }
            match unit.command {
                Some(command) if unloadable => self.invalid(
                    format!("{} {}", command.as_str(), values::excerpt(&unit.name, 60)),
                    refused(command.as_str()),
                ),
                Some(command) => commands.push((unit.name.clone(), command, touched)),
                None => {}
            }
        }
        if reload {
            self.push(Action::DaemonReload, true);
        }
        if networkd {
            self.push(Action::RestartNetworkd, true);
        }
        for (unit, command, touched) in commands {
            let stamp = format!("{} {unit}", command.as_str());
            let active = self.state.unit_active(&unit);
            let change = match command {
                UnitCommand::Start => active != Some(true),
                UnitCommand::Stop => active != Some(false),
                // Restarts happen once per boot, and again whenever the unit's files change.
                _ => touched || !self.state.done_this_boot(&stamp),
            };
            self.push(
                Action::Command {
                    unit,
                    command,
                    stamp,
                },
                change,
            );
        }
    }
}
