//! From the plan's steps to the Ignition model, with a finding wherever Ignition does
//! something other than what `kindling apply` would.

use std::path::Path;

use crate::plan::{Action, FileRole};
use crate::unit::name::is_network_unit;

use super::{clean, Converter, File, Link, Owner, Spec};

fn owner_half(s: &str) -> Option<Owner> {
    if s.is_empty() {
        None
    } else if let Ok(id) = s.parse::<u32>() {
        Some(Owner::Id(id))
    } else {
        Some(Owner::Name(s.to_string()))
    }
}

fn has_install_section(contents: &str) -> bool {
    contents.lines().any(|l| l.trim() == "[Install]")
}

impl Converter<'_> {
    pub(super) fn step(&mut self, part: Option<&str>, action: &Action) {
        match action {
            Action::SetHostname { name } => {
                self.file(File {
                    path: "/etc/hostname".into(),
                    contents: format!("{name}\n").into_bytes(),
                    mode: 0o644,
                    user: None,
                    group: None,
                });
            }
            Action::CreateUser { user } => {
                let u = self.user(&user.name);
                let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
                u.password_hash = nonempty(&user.passwd);
                u.gecos = nonempty(&user.gecos);
                u.home_dir = nonempty(&user.homedir);
                u.no_create_home = user.no_create_home;
                u.primary_group = nonempty(&user.primary_group);
                u.groups = user.groups.clone();
                u.no_user_group = user.no_user_group;
                u.system = user.system;
                u.no_log_init = user.no_log_init;
                u.shell = nonempty(&user.shell);
            }
            Action::UpdateUser {
                name,
                passwd,
                add_groups,
                ..
            } => {
                let u = self.user(name);
                if let Some(p) = passwd {
                    u.password_hash = Some(p.clone());
                }
                u.groups.extend(add_groups.iter().cloned());
                if !add_groups.is_empty() {
                    let user = name.clone();
                    self.report(
                        "convert-groups",
                        part,
                        |l| l.item(&["users"], "name", |n| n == user, Some("groups")),
                        format!(
                            "user {name:?} exists on Flatcar: kindling adds it to {} (usermod --append), but Ignition's usermod --groups replaces its supplementary groups with this list; list every group it should keep",
                            add_groups.join(", ")
                        ),
                    );
                }
            }
            Action::SshKeys { user, keys, .. } => {
                let u = self.user(user);
                for k in keys {
                    if !u.ssh_authorized_keys.contains(k) {
                        u.ssh_authorized_keys.push(k.clone());
                    }
                }
            }
            Action::ImportSshKeys { user, url, .. } => {
                let name = user.clone();
                self.report(
                    "convert-ssh-import",
                    part,
                    |l| {
                        let key = if url.starts_with("https://api.github.com/") {
                            "coreos_ssh_import_github"
                        } else {
                            "coreos_ssh_import_url"
                        };
                        l.item(&["users"], "name", |n| n == name, Some(key))
                    },
                    format!(
                        "the keys of user {user:?} are imported from {url} at boot; Ignition fetches no keys: list them in ssh_authorized_keys"
                    ),
                );
            }
            Action::WriteFile {
                path,
                content,
                mode,
                owner,
                role,
            } => self.write_file(part, path, content, *mode, owner.as_deref(), *role),
            Action::Mask { unit, path } => {
                if is_network_unit(unit) {
                    let target = clean(&Path::new("/etc/systemd/network").join(unit));
                    self.config.links.push(Link {
                        path: target,
                        target: "/dev/null".into(),
                    });
                } else {
                    self.unit(unit).mask = true;
                }
                if path.starts_with("/run") {
                    self.runtime_unit(part, unit);
                }
            }
            Action::Unmask { .. } | Action::DaemonReload | Action::RestartNetworkd => {}
            Action::Enable { unit, runtime } => {
                self.unit(unit).enabled = true;
                if *runtime {
                    self.runtime_unit(part, unit);
                }
            }
            Action::Command { unit, command, .. } => self.command(part, unit, command.as_str()),
            Action::Script {
                path,
                content,
                service,
                ..
            } => self.script(part, path, content, service),
            Action::Invalid { what, message } => {
                self.report(
                    "convert-invalid",
                    part,
                    |_| None,
                    format!("{what}: {message}; left out, as apply leaves it out"),
                );
            }
        }
    }

    fn write_file(
        &mut self,
        part: Option<&str>,
        path: &Path,
        content: &[u8],
        mode: u32,
        owner: Option<&str>,
        role: FileRole,
    ) {
        let at = clean(path);
        if matches!(role, FileRole::Unit | FileRole::DropIn) {
            let runtime = at.starts_with("/run/");
            let p = Path::new(&at);
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = String::from_utf8_lossy(content).into_owned();
            let (unit, dropin) = match role {
                FileRole::DropIn => {
                    let dir = p
                        .parent()
                        .and_then(|d| d.file_name())
                        .map(|d| d.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    (
                        dir.strip_suffix(".d").unwrap_or(&dir).to_string(),
                        Some(name),
                    )
                }
                _ => (name, None),
            };
            if runtime && !self.is_carrier_dropin(&unit, dropin.as_deref()) {
                self.runtime_unit(part, &unit);
            }
            if is_network_unit(&unit) {
                // Ignition's units are systemd's system units; networkd reads its own directory.
                let dir = Path::new("/etc/systemd/network");
                let path = match &dropin {
                    Some(d) => dir.join(format!("{unit}.d")).join(d),
                    None => dir.join(&unit),
                };
                self.file(File {
                    path: clean(&path),
                    contents: content.to_vec(),
                    mode: 0o644,
                    user: None,
                    group: None,
                });
                return;
            }
            let u = self.unit(&unit);
            match dropin {
                Some(d) => match u.dropins.iter_mut().find(|(n, _)| *n == d) {
                    Some(slot) => slot.1 = text,
                    None => u.dropins.push((d, text)),
                },
                None => u.contents = Some(text),
            }
            return;
        }
        if at == "/run/flannel/options.env" && role == FileRole::Generated {
            self.flannel(part);
            return;
        }
        if at == "/run" || at.starts_with("/run/") {
            let p = path.to_path_buf();
            self.report(
                "convert-run-path",
                part,
                Self::write_files_pos(&p, "path"),
                format!(
                    "{at} is under /run, which is empty at every boot after Ignition ran; not converted (write it from a unit, or use systemd-tmpfiles)"
                ),
            );
            return;
        }
        if at == "/etc/coreos/update.conf" && role == FileRole::Generated {
            self.report(
                "convert-update-conf",
                part,
                |l| l.key(&["coreos", "update"]),
                "/etc/coreos/update.conf holds only the keys this config sets (update_engine reads the image's /usr/share/coreos/update.conf first); kindling would merge them into an existing /etc/coreos/update.conf, whose other keys Ignition replaces".into(),
            );
        }
        let (user, group) = match owner {
            None => (None, None),
            Some(spec) => {
                let (u, g) = match spec.split_once(':').or_else(|| spec.split_once('.')) {
                    Some((u, g)) => (u, Some(g)),
                    None => (spec, None),
                };
                let user = owner_half(u);
                let group = match g {
                    // chown(1): `user:` is the user's login group, which only the machine knows.
                    Some("") if user.is_some() => {
                        let p = path.to_path_buf();
                        self.report(
                            "convert-owner",
                            part,
                            Self::write_files_pos(&p, "owner"),
                            format!("owner {spec:?} sets the group to the user's login group, which Ignition cannot name; the group is left root's (write \"{u}:GROUP\")"),
                        );
                        None
                    }
                    Some(g) => owner_half(g),
                    None => None,
                };
                (user, group)
            }
        };
        let mut mode = mode;
        if mode & 0o7000 != 0 && self.options.spec() == Spec::V3_3 {
            let p = path.to_path_buf();
            self.report(
                "convert-mode",
                part,
                |l| {
                    l.item(
                        &["write_files"],
                        "path",
                        |x| clean(&Path::new("/").join(x)) == clean(&p),
                        Some("permissions"),
                    )
                },
                format!(
                    "{at} has mode {mode:04o}: Ignition spec 3.3.0 has no setuid, setgid or sticky bits, so it gets {:04o} (use --ignition-version 3.4.0)",
                    mode & 0o777
                ),
            );
            mode &= 0o777;
        }
        self.file(File {
            path: at,
            contents: content.to_vec(),
            mode,
            user,
            group,
        });
    }

    /// The `20-cloudinit.conf` drop-ins of etcd, etcd2, fleet and locksmithd live in /run
    /// because cloudinit rewrites them at every boot; in /etc they say the same, for good.
    fn is_carrier_dropin(&self, unit: &str, dropin: Option<&str>) -> bool {
        dropin == Some("20-cloudinit.conf")
            && matches!(
                unit,
                "etcd.service" | "etcd2.service" | "fleet.service" | "locksmithd.service"
            )
    }

    fn runtime_unit(&mut self, part: Option<&str>, unit: &str) {
        let user_unit = self.cloud_config(part).is_some_and(|c| {
            c.coreos
                .units
                .iter()
                .flatten()
                .any(|u| u.name == unit && u.runtime)
        });
        if !user_unit {
            return;
        }
        let name = unit.to_string();
        self.report(
            "convert-runtime",
            part,
            Self::unit_pos(&name, Some("runtime")),
            format!("unit {unit:?} is a runtime unit (/run/systemd), gone at reboot; Ignition writes it to /etc/systemd, where it stays"),
        );
    }

    fn flannel(&mut self, part: Option<&str>) {
        let Some(section) = self.cloud_config(part).map(|c| c.coreos.flannel.clone()) else {
            return;
        };
        if let Some(text) = section
            .as_ref()
            .ok()
            .and_then(crate::plan::render::env_dropin)
        {
            let u = self.unit("flanneld.service");
            u.dropins.retain(|(n, _)| n != "20-cloudinit.conf");
            u.dropins.push(("20-cloudinit.conf".into(), text));
        }
        self.report(
            "convert-flannel",
            part,
            |l| l.key(&["coreos", "flannel"]),
            "the flannel options go to flanneld.service as Environment= lines of the drop-in 20-cloudinit.conf, since Ignition cannot write /run/flannel/options.env (/run is empty at boot)".into(),
        );
    }

    fn command(&mut self, part: Option<&str>, unit: &str, command: &str) {
        let asked = self.cloud_config(part).is_some_and(|c| {
            c.coreos
                .units
                .iter()
                .flatten()
                .any(|u| u.name == unit && u.command.is_some())
        });
        if !asked {
            // kindling's own restarts (locksmithd, update-engine) pick up the files it wrote;
            // after Ignition, those services start with them in place.
            return;
        }
        let name = unit.to_string();
        let install = self
            .units
            .get(unit)
            .and_then(|&i| self.config.units[i].contents.as_deref())
            .map(has_install_section);
        let message = match (command, install) {
            ("start", Some(true)) => {
                self.unit(unit).enabled = true;
                format!("\"command: start\" of unit {unit:?} becomes enabled: true: it is started at every boot, not once")
            }
            ("start", Some(false)) => format!("\"command: start\" of unit {unit:?} has no Ignition equivalent and the unit has no [Install] section to enable it by; it is not started"),
            ("start", None) => format!("\"command: start\" of unit {unit:?} has no Ignition equivalent (its unit file is not in the config, so it cannot be enabled by it); it is not started"),
            _ => format!("\"command: {command}\" of unit {unit:?} has no Ignition equivalent; it is not run"),
        };
        self.report(
            "convert-command",
            part,
            Self::unit_pos(&name, Some("command")),
            message,
        );
    }

    fn script(&mut self, part: Option<&str>, path: &Path, content: &[u8], service: &str) {
        let at = clean(path);
        self.file(File {
            path: at.clone(),
            contents: content.to_vec(),
            mode: 0o744,
            user: None,
            group: None,
        });
        let label = part.unwrap_or("user-data");
        let unit = self.unit(service);
        unit.contents = Some(format!(
            "[Unit]\nDescription=cloud-config script ({label})\nAfter=network.target\n\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart={at}\n\n[Install]\nWantedBy=multi-user.target\n"
        ));
        unit.enabled = true;
        self.report(
            "convert-script",
            part,
            |_| None,
            format!("the script ({label}) becomes {at} and the enabled oneshot unit {service}, which runs it once per boot in multi-user.target rather than at cloudinit's point of the boot"),
        );
    }
}
