//! Planning files: `write_files` entries, the files the config generates (update.conf,
//! /etc/hosts, /etc/oem-release, flannel's options, /etc/environment), and the change test every
//! file write shares.

use std::path::{Path, PathBuf};

use super::{render, Action, FileKind, FileRole, Planner};
use crate::config::model::{CloudConfig, ManageEtcHosts};
use crate::config::values;
use crate::metadata::Addresses;

/// The path a `write_files` entry names, inside the target (relative ones are joined onto `/`,
/// as the reference does).
fn target_path(path: &str) -> PathBuf {
    Path::new("/").join(path)
}

fn lexically_equal(a: &Path, b: &str) -> bool {
    let norm = |p: &Path| {
        let mut out: Vec<String> = Vec::new();
        for c in p.components() {
            match c {
                std::path::Component::ParentDir => {
                    out.pop();
                }
                std::path::Component::Normal(s) => out.push(s.to_string_lossy().into_owned()),
                _ => {}
            }
        }
        out
    };
    norm(a) == norm(Path::new(b))
}

impl Planner<'_> {
    /// Why `owner` will not resolve when apply gets to it, if it will not: a name the target
    /// lacks and no earlier step creates.
    pub(super) fn owner_problem(&self, spec: &str) -> Option<String> {
        let why = self.state.owner(spec).err()?;
        let (user, group) = match spec.split_once(':') {
            Some((u, g)) => (u, g),
            None => match spec.split_once('.') {
                Some((u, g)) if !self.user_known(spec) => (u, g),
                _ => (spec, ""),
            },
        };
        let numeric = |s: &str| s.trim_start_matches('+').parse::<u32>().is_ok();
        let user_ok = user.is_empty() || numeric(user) || self.user_known(user);
        let group_ok = group.is_empty() || numeric(group) || self.group_known(group);
        (!(user_ok && group_ok)).then_some(why)
    }

    /// Plans a file write; returns whether it changes anything.
    pub(super) fn file(
        &mut self,
        path: PathBuf,
        content: Vec<u8>,
        mode: u32,
        owner: Option<String>,
        role: FileRole,
    ) -> bool {
        let change = match self.state.stat(&path) {
            Some(st) if st.kind == FileKind::File => {
                let owner_ok = match owner.as_deref() {
                    None => true,
                    Some(spec) => self.state.owner(spec).is_ok_and(|(uid, gid)| {
                        uid.is_none_or(|u| u == st.uid) && gid.is_none_or(|g| g == st.gid)
                    }),
                };
                st.mode != mode
                    || !owner_ok
                    || self.state.read(&path).as_deref() != Some(&content[..])
            }
            _ => true,
        };
        self.push(
            Action::WriteFile {
                path,
                content,
                mode,
                owner,
                role,
            },
            change,
        );
        change
    }

    pub(super) fn files(&mut self, c: &CloudConfig, hostname: &str, addrs: &Addresses) {
        for f in &c.write_files {
            let f = match f {
                Ok(f) => f,
                Err(r) => {
                    self.rejected(r);
                    continue;
                }
            };
            let path = target_path(&f.path);
            let what = format!("write_files {}", values::excerpt(&f.path, 60));
            if let Some(why) = f.owner.as_deref().and_then(|o| self.owner_problem(o)) {
                self.invalid(what, format!("{why}; not written"));
                continue;
            }
            self.file(
                path,
                f.content.clone(),
                f.mode,
                f.owner.clone(),
                FileRole::WriteFiles,
            );
        }
        if let Some(Err(r)) = &c.coreos.oem {
            self.rejected(r);
        }
        if let Some(Ok(oem)) = &c.coreos.oem {
            self.file(
                "/etc/oem-release".into(),
                render::oem_release(oem).into_bytes(),
                0o644,
                None,
                FileRole::Generated,
            );
        }
        let base = self
            .state
            .read(Path::new("/etc/coreos/update.conf"))
            .or_else(|| self.state.read(Path::new("/usr/share/coreos/update.conf")))
            .unwrap_or_default();
        let update = match &c.coreos.update {
            Ok(u) => Some(u),
            Err(r) => {
                self.rejected(r);
                None
            }
        };
        if let Some(text) =
            update.and_then(|u| render::update_conf(&String::from_utf8_lossy(&base), u))
        {
            self.file(
                "/etc/coreos/update.conf".into(),
                text.into_bytes(),
                0o644,
                None,
                FileRole::Generated,
            );
        }
        if let Some(Err(r)) = &c.manage_etc_hosts {
            self.rejected(r);
        }
        if c.manage_etc_hosts == Some(Ok(ManageEtcHosts::Localhost)) {
            self.file(
                "/etc/hosts".into(),
                render::etc_hosts(hostname).into_bytes(),
                0o644,
                None,
                FileRole::Generated,
            );
        }
        let flannel = match &c.coreos.flannel {
            Ok(f) => render::flannel_env(f),
            Err(r) => {
                self.rejected(r);
                None
            }
        };
        if let Some(text) = flannel {
            self.file(
                "/run/flannel/options.env".into(),
                text.into_bytes(),
                0o644,
                None,
                FileRole::Generated,
            );
        }
        let writes_environment = c
            .write_files
            .iter()
            .flatten()
            .any(|f| lexically_equal(&target_path(&f.path), "/etc/environment"));
        let vars = addrs.environment();
        if !writes_environment && !vars.is_empty() {
            let path = Path::new("/etc/environment");
            let current = self
                .state
                .read(path)
                .map(|b| String::from_utf8_lossy(&b).into_owned());
            match render::merge_environment(current.as_deref(), &vars, "/etc/environment") {
                Ok(Some(text)) => {
                    self.file(
                        path.into(),
                        text.into_bytes(),
                        0o644,
                        None,
                        FileRole::Generated,
                    );
                }
                Ok(None) => self.push(
                    Action::WriteFile {
                        path: path.into(),
                        content: current.unwrap_or_default().into_bytes(),
                        mode: 0o644,
                        owner: None,
                        role: FileRole::Generated,
                    },
                    false,
                ),
                Err(e) => self.invalid("/etc/environment", e.to_string()),
            }
        }
    }
}
