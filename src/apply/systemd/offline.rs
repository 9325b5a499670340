//! systemd for a root directory that is not running (`--root`): enabling creates the [Install]
//! symlinks as `systemctl --root=DIR enable` does; commands that need a running systemd are skipped.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use crate::apply::fs::{self as fs_effects, FileKind};
use crate::apply::root;

use super::{JobResult, Systemd, SystemdError, TransientService};
use crate::unit::file::logical_lines;
use crate::unit::name::UnitName;
use crate::unit::UnitCommand;

/// Where unit files are looked up, highest priority first, as seen inside the root.
const SEARCH_PATH: [&str; 5] = [
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];
const CONFIG_DIR: &str = "/etc/systemd/system";
const RUNTIME_DIR: &str = "/run/systemd/system";

/// systemd acting on the unit files of a root directory.
#[derive(Debug, Clone)]
pub struct OfflineSystemd {
    root: PathBuf,
}

impl OfflineSystemd {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        OfflineSystemd { root: root.into() }
    }

    /// Where `inner` (a path inside the root) is on this machine, every symlink resolved inside
    /// the root.
    fn real(&self, inner: &Path) -> io::Result<PathBuf> {
        root::host_path(&self.root, inner, true).map_err(io::Error::other)
    }

    /// Enables one unit and, through `Also=`, the units it names.
    fn enable_one(
        &self,
        unit: &str,
        runtime: bool,
        visited: &mut HashSet<String>,
    ) -> Result<(), SystemdError> {
        if !visited.insert(unit.to_string()) {
            return Ok(());
        }
        let name = parse_name(unit).map_err(SystemdError::Io)?;
        if name.is_network() {
            log::info!("{unit}: network units are not enabled (systemd-networkd reads them)");
            return Ok(());
        }
        let file = match self.find(&name).map_err(|e| self.io_error(unit, e))? {
            Lookup::Found(file) => file,
            Lookup::Masked(path) => {
                return Err(SystemdError::Io(format!(
                    "cannot enable {unit}: it is masked ({path} points to /dev/null or is empty)"
                )))
            }
            Lookup::Missing => return Err(self.missing(unit)),
        };
        let install = self
            .install_info(&file)
            .map_err(|e| self.io_error(unit, e))?;
        if !install.has_rules() && install.also.is_empty() {
            log::info!("{unit} has no [Install] rules (static): nothing to enable");
            return Ok(());
        }
        let links = install
            .links(&name, &file.in_root)
            .map_err(|e| SystemdError::Io(format!("cannot enable {unit}: {e}")))?;
        let dir = if runtime { RUNTIME_DIR } else { CONFIG_DIR };
        for link in &links {
            self.ensure_symlink(dir, &link.path, &file.in_root)
                .map_err(|e| SystemdError::Io(format!("cannot enable {unit}: {e}")))?;
        }
        for also in &install.also {
            let also = name
                .instantiate(install.instance(&name))
                .expand_specifiers(also)
                .map_err(|e| SystemdError::Io(format!("cannot enable {unit}: Also={also}: {e}")))?;
            self.enable_one(&also, runtime, visited)?;
        }
        Ok(())
    }

    /// The unit file that defines `name`: the first one on the search path, and for an
    /// instance without a file of its own, its template's.
    fn find(&self, name: &UnitName) -> io::Result<Lookup> {
        match self.find_exact(&name.full)? {
            Lookup::Missing => {}
            found => return Ok(found),
        }
        match name.template() {
            Some(template) if template != name.full => self.find_exact(&template),
            _ => Ok(Lookup::Missing),
        }
    }

    fn find_exact(&self, file_name: &str) -> io::Result<Lookup> {
        for dir in SEARCH_PATH {
            let in_root = format!("{dir}/{file_name}");
            let real_dir = self.real(Path::new(dir))?;
            let entry = real_dir.join(file_name);
            let metadata = match fs::symlink_metadata(&entry) {
                Ok(metadata) => metadata,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(with_path(e, &entry)),
            };
            if metadata.file_type().is_symlink()
                && fs::read_link(&entry).map_err(|e| with_path(e, &entry))?
                    == Path::new("/dev/null")
            {
                return Ok(Lookup::Masked(in_root));
            }
            let real = self.real(Path::new(&in_root))?;
            if real == self.root.join("dev/null") {
                return Ok(Lookup::Masked(in_root));
            }
            let metadata = match fs::metadata(&real) {
                Ok(metadata) => metadata,
                // A dangling link defines nothing; systemd goes on down the search path too.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(with_path(e, &real)),
            };
            // systemd's null_or_empty(): an empty file or the null device masks a unit.
            let masked = (metadata.is_file() && metadata.len() == 0)
                || metadata.file_type().is_char_device();
            if masked {
                return Ok(Lookup::Masked(in_root));
            }
            if metadata.is_dir() {
                continue;
            }
            return Ok(Lookup::Found(UnitFile { in_root, real }));
        }
        Ok(Lookup::Missing)
    }

    fn install_info(&self, file: &UnitFile) -> io::Result<InstallInfo> {
        let bytes = fs::read(&file.real).map_err(|e| with_path(e, &file.real))?;
        Ok(InstallInfo::parse(&String::from_utf8_lossy(&bytes)))
    }

    /// Makes `<dir>/<link>` a symlink to `target`; a correct one is left alone, a wrong one
    /// replaced atomically.
    fn ensure_symlink(&self, dir: &str, link: &str, target: &str) -> io::Result<()> {
        let link_in_root = format!("{dir}/{link}");
        // Anything unreachable is left to the write, which says why in its own error.
        match fs_effects::lstat(&self.root, Path::new(&link_in_root)).map(|stat| stat.kind) {
            Some(FileKind::Symlink(current)) if current == Path::new(target) => {
                log::debug!("{link_in_root} already points to {target}");
                return Ok(());
            }
            Some(FileKind::Symlink(_)) | None => {}
            Some(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{link_in_root} exists and is not a symlink; refusing to replace it"),
                ))
            }
        }
        fs_effects::symlink_atomic(&self.root, Path::new(&link_in_root), Path::new(target))
            .map_err(io::Error::other)?;
        log::info!("Created symlink {link_in_root} → {target}");
        Ok(())
    }

    /// Whether any of the unit's [Install] links exists in `dir`, pointing at its file.
    fn any_link_in(&self, dir: &str, links: &[Link], file: &UnitFile) -> io::Result<bool> {
        let file_name = Path::new(&file.in_root).file_name();
        for link in links {
            let link_in_root = format!("{dir}/{}", link.path);
            let path = root::host_path(&self.root, Path::new(&link_in_root), false)
                .map_err(io::Error::other)?;
            let Ok(target) = fs::read_link(&path) else {
                continue;
            };
            // systemd counts a link to the same unit name wherever it points (a copy of the unit
            // under another directory is still that unit).
            if target == Path::new(&file.in_root) || target.file_name() == file_name {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn missing(&self, unit: &str) -> SystemdError {
        SystemdError::Io(format!(
            "cannot enable {unit}: no unit file in {} under {}",
            SEARCH_PATH.join(", "),
            self.root.display()
        ))
    }

    fn io_error(&self, unit: &str, error: io::Error) -> SystemdError {
        SystemdError::Io(format!("{unit}: {error}"))
    }
}

impl Systemd for OfflineSystemd {
    fn is_live(&self) -> bool {
        false
    }

    fn reload(&self) -> Result<(), SystemdError> {
        Ok(())
    }

    fn enable(&self, units: &[String], runtime: bool) -> Result<(), SystemdError> {
        let mut visited = HashSet::new();
        for unit in units {
            self.enable_one(unit, runtime, &mut visited)?;
        }
        Ok(())
    }

    fn unit_file_state(&self, unit: &str) -> Result<Option<String>, SystemdError> {
        let Ok(name) = parse_name(unit) else {
            return Ok(None);
        };
        let file = match self.find(&name).map_err(|e| self.io_error(unit, e))? {
            Lookup::Found(file) => file,
            Lookup::Masked(_) => return Ok(Some("masked".to_string())),
            Lookup::Missing => return Ok(None),
        };
        let install = self
            .install_info(&file)
            .map_err(|e| self.io_error(unit, e))?;
        if !install.has_rules() {
            let state = if install.also.is_empty() {
                "static"
            } else {
                "indirect"
            };
            return Ok(Some(state.to_string()));
        }
        // A link we cannot even name (bad specifier) cannot exist either.
        let links = install.links(&name, &file.in_root).unwrap_or_default();
        let state = if self
            .any_link_in(CONFIG_DIR, &links, &file)
            .map_err(|e| self.io_error(unit, e))?
        {
            "enabled"
        } else if self
            .any_link_in(RUNTIME_DIR, &links, &file)
            .map_err(|e| self.io_error(unit, e))?
        {
            "enabled-runtime"
        } else if links.is_empty() {
            // A template with no instance to enable: only its instances can be.
            "indirect"
        } else {
            "disabled"
        };
        Ok(Some(state.to_string()))
    }

    fn active_state(&self, _unit: &str) -> Result<Option<String>, SystemdError> {
        Ok(None)
    }

    fn run(&self, _unit: &str, _command: UnitCommand) -> Result<JobResult, SystemdError> {
        Ok(JobResult::Skipped)
    }

    fn run_transient(&self, _service: &TransientService) -> Result<JobResult, SystemdError> {
        Ok(JobResult::Skipped)
    }

    fn set_hostname(&self, _name: &str) -> Result<bool, SystemdError> {
        Ok(false)
    }

    fn static_hostname(&self) -> Result<Option<String>, SystemdError> {
        Ok(None)
    }
}

enum Lookup {
    Found(UnitFile),
    /// The path, inside the root, of the entry that masks the unit.
    Masked(String),
    Missing,
}

struct UnitFile {
    /// The path inside the root (`/usr/lib/systemd/system/foo.service`): what links point to.
    in_root: String,
    /// The file on this machine, symlinks resolved within the root.
    real: PathBuf,
}

/// A symlink to create, relative to the unit directory.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Link {
    path: String,
}

/// The [Install] section of a unit file.
#[derive(Debug, Default)]
struct InstallInfo {
    wanted_by: Vec<String>,
    required_by: Vec<String>,
    upheld_by: Vec<String>,
    alias: Vec<String>,
    also: Vec<String>,
    default_instance: Option<String>,
}

impl InstallInfo {
    /// Parses unit-file syntax as systemd does for [Install]: `#`/`;` comments, `\` line
    /// continuations, space-separated lists accumulating over lines, an empty value clearing
    /// the list.
    fn parse(text: &str) -> InstallInfo {
        let mut info = InstallInfo::default();
        let mut in_install = false;
        for (_, logical) in logical_lines(text) {
            let logical = logical.trim();
            if logical.starts_with('[') {
                in_install = logical == "[Install]";
                continue;
            }
            if !in_install {
                continue;
            }
            let Some((key, value)) = logical.split_once('=') else {
                continue;
            };
            let value = value.trim();
            let list = match key.trim() {
                "WantedBy" => &mut info.wanted_by,
                "RequiredBy" => &mut info.required_by,
                "UpheldBy" => &mut info.upheld_by,
                "Alias" => &mut info.alias,
                "Also" => &mut info.also,
                "DefaultInstance" => {
                    info.default_instance = (!value.is_empty()).then(|| unquote(value));
                    continue;
                }
                _ => continue,
            };
            if value.is_empty() {
                list.clear();
            } else {
                list.extend(value.split_whitespace().map(unquote));
            }
        }
        info
    }

    /// Whether enabling creates any link of this unit's own.
    fn has_rules(&self) -> bool {
        !(self.wanted_by.is_empty()
            && self.required_by.is_empty()
            && self.upheld_by.is_empty()
            && self.alias.is_empty())
    }

    /// The instance enabling `name` creates links for: its own, else DefaultInstance.
    fn instance<'a>(&'a self, name: &'a UnitName) -> Option<&'a str> {
        match name.instance.as_deref() {
            Some("") => self.default_instance.as_deref(),
            other => other,
        }
    }

    /// The links enabling `name` creates, relative to the unit directory.
    fn links(&self, name: &UnitName, file_in_root: &str) -> Result<Vec<Link>, String> {
        let unit = name.instantiate(self.instance(name));
        let mut links = Vec::new();
        if unit.is_template() {
            if !(self.wanted_by.is_empty()
                && self.required_by.is_empty()
                && self.upheld_by.is_empty())
            {
                log::warn!(
                    "{} is a template with no DefaultInstance=: only its instances can be wanted",
                    name.full
                );
            }
        } else {
            for (targets, dir_suffix) in [
                (&self.wanted_by, "wants"),
                (&self.required_by, "requires"),
                (&self.upheld_by, "upholds"),
            ] {
                for target in targets {
                    let target = unit.expand_specifiers(target)?;
                    parse_name(&target)?;
                    links.push(Link {
                        path: format!("{target}.{dir_suffix}/{}", unit.full),
                    });
                }
            }
        }
        for alias in &self.alias {
            let alias = unit.expand_specifiers(alias)?;
            let alias_name = parse_name(&alias)?;
            if alias_name.suffix != unit.suffix {
                return Err(format!("Alias={alias} has another type than {}", unit.full));
            }
            // An alias of a template is a template: an instance gets the same instance.
            let alias = match unit.instance.as_deref() {
                Some(instance) if alias_name.is_template() => {
                    alias_name.instantiate(Some(instance)).full
                }
                _ => alias,
            };
            if alias == unit.full
                || Some(alias.as_str())
                    == Path::new(file_in_root).file_name().and_then(|n| n.to_str())
            {
                continue;
            }
            links.push(Link { path: alias });
        }
        Ok(links)
    }
}

/// A unit name by systemd's rules (any type: the reference enables unknown ones as they are).
fn parse_name(name: &str) -> Result<UnitName, String> {
    UnitName::parse(name).map_err(|why| format!("invalid unit name {name:?}: {why}"))
}

fn unquote(word: &str) -> String {
    let quoted = word.len() >= 2
        && ((word.starts_with('"') && word.ends_with('"'))
            || (word.starts_with('\'') && word.ends_with('\'')));
    if quoted {
        word[1..word.len() - 1].to_string()
    } else {
        word.to_string()
    }
}

fn with_path(error: io::Error, path: &Path) -> io::Error {
    io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}
