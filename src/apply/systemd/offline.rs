//! systemd for a root directory that is not running (`--root`): enabling creates the [Install]
//! symlinks as `systemctl --root=DIR enable` does; commands that need a running systemd are skipped.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::{JobResult, Systemd, SystemdError, TransientService};
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
/// As Linux: a loop of symlinks ends the lookup instead of the program.
const MAX_SYMLINKS: usize = 40;

/// systemd acting on the unit files of a root directory.
#[derive(Debug, Clone)]
pub struct OfflineSystemd {
    root: PathBuf,
}

impl OfflineSystemd {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        OfflineSystemd { root: root.into() }
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
        let name = UnitName::parse(unit).map_err(SystemdError::Io)?;
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
            let also = expand_specifiers(also, &name.instantiate(install.instance(&name)))
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
            let real_dir = resolve_in_root(&self.root, Path::new(dir))?;
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
            let real = resolve_in_root(&self.root, Path::new(&in_root))?;
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
        let (parent_in_root, file_name) = match link_in_root.rsplit_once('/') {
            Some((parent, file_name)) => (parent, file_name),
            None => (dir, link),
        };
        let parent = resolve_in_root(&self.root, Path::new(parent_in_root))?;
        let path = parent.join(file_name);
        match fs::symlink_metadata(&path) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                if fs::read_link(&path).map_err(|e| with_path(e, &path))? == Path::new(target) {
                    log::debug!("{link_in_root} already points to {target}");
                    return Ok(());
                }
            }
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{link_in_root} exists and is not a symlink; refusing to replace it"),
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(with_path(e, &path)),
        }
        create_dirs(&parent)?;
        replace_symlink(&parent, file_name, target)?;
        log::info!("Created symlink {link_in_root} → {target}");
        Ok(())
    }

    /// Whether any of the unit's [Install] links exists in `dir`, pointing at its file.
    fn any_link_in(&self, dir: &str, links: &[Link], file: &UnitFile) -> io::Result<bool> {
        let file_name = Path::new(&file.in_root).file_name();
        for link in links {
            let link_in_root = format!("{dir}/{}", link.path);
            let Some((parent, name)) = link_in_root.rsplit_once('/') else {
                continue;
            };
            let path = resolve_in_root(&self.root, Path::new(parent))?.join(name);
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
        let Ok(name) = UnitName::parse(unit) else {
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

/// `PREFIX[@INSTANCE].SUFFIX`.
#[derive(Debug, Clone)]
struct UnitName {
    full: String,
    prefix: String,
    /// None for a plain unit, Some("") for a template.
    instance: Option<String>,
    suffix: String,
}

impl UnitName {
    fn parse(name: &str) -> Result<UnitName, String> {
        let invalid = |why: &str| format!("invalid unit name {name:?}: {why}");
        if name.is_empty() || name.len() > 255 {
            return Err(invalid("must be 1 to 255 bytes long"));
        }
        // Names become path components: nothing may climb out of the unit directory.
        if name.contains('/') || name.contains('\0') || name.starts_with('.') {
            return Err(invalid("must not contain '/' or start with '.'"));
        }
        let Some((stem, suffix)) = name.rsplit_once('.') else {
            return Err(invalid("has no type suffix"));
        };
        if stem.is_empty() || suffix.is_empty() {
            return Err(invalid("has no type suffix"));
        }
        let (prefix, instance) = match stem.split_once('@') {
            Some((prefix, instance)) => (prefix, Some(instance.to_string())),
            None => (stem, None),
        };
        if prefix.is_empty() {
            return Err(invalid("has an empty prefix"));
        }
        Ok(UnitName {
            full: name.to_string(),
            prefix: prefix.to_string(),
            instance,
            suffix: suffix.to_string(),
        })
    }

    fn is_network(&self) -> bool {
        matches!(self.suffix.as_str(), "network" | "netdev" | "link")
    }

    fn is_template(&self) -> bool {
        self.instance.as_deref() == Some("")
    }

    fn template(&self) -> Option<String> {
        self.instance
            .as_ref()
            .map(|_| format!("{}@.{}", self.prefix, self.suffix))
    }

    /// The template instantiated with `instance`; a plain unit or instance stays as it is.
    fn instantiate(&self, instance: Option<&str>) -> UnitName {
        match instance {
            Some(instance) if self.is_template() && !instance.is_empty() => UnitName {
                full: format!("{}@{instance}.{}", self.prefix, self.suffix),
                instance: Some(instance.to_string()),
                ..self.clone()
            },
            _ => self.clone(),
        }
    }
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
        let mut pending = String::new();
        for raw in text.lines() {
            let line = raw.trim();
            if line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(continued) = line.strip_suffix('\\') {
                pending.push_str(continued);
                pending.push(' ');
                continue;
            }
            pending.push_str(line);
            let logical = std::mem::take(&mut pending);
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
                    let target = expand_specifiers(target, &unit)?;
                    UnitName::parse(&target)?;
                    links.push(Link {
                        path: format!("{target}.{dir_suffix}/{}", unit.full),
                    });
                }
            }
        }
        for alias in &self.alias {
            let alias = expand_specifiers(alias, &unit)?;
            let alias_name = UnitName::parse(&alias)?;
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

/// Resolves the unit specifiers [Install] values may use (`%n %N %p %P %i %I %j %J %%`).
fn expand_specifiers(value: &str, unit: &UnitName) -> Result<String, String> {
    let stem = unit
        .full
        .strip_suffix(&format!(".{}", unit.suffix))
        .unwrap_or(&unit.full);
    let instance = unit.instance.as_deref().unwrap_or("");
    let last_dash = |s: &str| s.rsplit_once('-').map_or(s, |(_, last)| last).to_string();
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let replacement = match chars.next() {
            Some('%') => "%".to_string(),
            Some('n') => unit.full.clone(),
            Some('N') => stem.to_string(),
            Some('p') => unit.prefix.clone(),
            Some('P') => unescape(&unit.prefix),
            Some('i') => instance.to_string(),
            Some('I') => unescape(instance),
            Some('j') => last_dash(&unit.prefix),
            Some('J') => unescape(&last_dash(&unit.prefix)),
            Some(other) => {
                return Err(format!(
                    "specifier %{other} in {value:?} is not supported offline"
                ))
            }
            None => return Err(format!("{value:?} ends in a lone %")),
        };
        out.push_str(&replacement);
    }
    Ok(out)
}

/// systemd's unit-name unescaping: `-` is `/`, `\xNN` a byte.
fn unescape(escaped: &str) -> String {
    let bytes = escaped.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'-' => out.push(b'/'),
            b'\\' if bytes.get(i + 1) == Some(&b'x') => {
                let hex = bytes
                    .get(i + 2..i + 4)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(byte) => {
                        out.push(byte);
                        i += 4;
                        continue;
                    }
                    None => out.push(b'\\'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The real path of `inner` (an absolute path as seen inside `root`), every symlink resolved
/// as if `root` were `/`: an absolute link target restarts at `root` and `..` stops there, so
/// nothing outside the root is ever read or written. Components that do not exist are kept
/// as they are.
fn resolve_in_root(root: &Path, inner: &Path) -> io::Result<PathBuf> {
    let mut pending: Vec<OsString> = Vec::new();
    push_components(&mut pending, inner);
    let mut resolved: Vec<OsString> = Vec::new();
    let mut links = 0;
    let mut missing = false;
    while let Some(component) = pending.pop() {
        if component == ".." {
            resolved.pop();
            continue;
        }
        if missing {
            resolved.push(component);
            continue;
        }
        let mut candidate = root.to_path_buf();
        candidate.extend(&resolved);
        candidate.push(&component);
        match fs::symlink_metadata(&candidate) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(io::Error::other(format!(
                        "{}: too many levels of symbolic links",
                        inner.display()
                    )));
                }
                let target = fs::read_link(&candidate).map_err(|e| with_path(e, &candidate))?;
                if target.is_absolute() {
                    resolved.clear();
                }
                push_components(&mut pending, &target);
            }
            Ok(_) => resolved.push(component),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                missing = true;
                resolved.push(component);
            }
            Err(e) => return Err(with_path(e, &candidate)),
        }
    }
    let mut path = root.to_path_buf();
    path.extend(&resolved);
    Ok(path)
}

/// Pushes the components of `path` so that its first one is popped first.
fn push_components(stack: &mut Vec<OsString>, path: &Path) {
    let components: Vec<OsString> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect();
    stack.extend(components.into_iter().rev());
}

/// Creates `dir` and its missing parents, each made durable in its own parent.
fn create_dirs(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dirs(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => return Ok(()),
        Err(e) => return Err(with_path(e, dir)),
    }
    if let Some(parent) = dir.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

/// Puts a symlink `dir/name -> target` in place in one rename, so that a crash leaves either
/// the old entry or the new one, never none, then makes the directory entry durable.
fn replace_symlink(dir: &Path, name: &str, target: &str) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let temp = dir.join(format!(
        ".#{name}.{}.{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    // A leftover of a run that died at this very point.
    let _ = fs::remove_file(&temp);
    std::os::unix::fs::symlink(target, &temp).map_err(|e| with_path(e, &temp))?;
    let path = dir.join(name);
    if let Err(e) = fs::rename(&temp, &path) {
        let _ = fs::remove_file(&temp);
        return Err(with_path(e, &path));
    }
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| with_path(e, dir))
}

fn with_path(error: io::Error, path: &Path) -> io::Error {
    io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}
