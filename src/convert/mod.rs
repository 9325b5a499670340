//! `kindling convert`: the Ignition (or Butane) config that writes what `kindling apply` would.
//! It is built from the plan (planned against a neutral machine), never from the YAML again;
//! whatever Ignition cannot say exactly is a finding at the line of the key that asked for it.
//!
//! `input` reads the parts as apply does, `steps` turns the plan's steps into the Ignition
//! `model`, `substitution` handles `$public_ipv4` and friends, `ignition` and `butane` write
//! the result out.

pub mod butane;
pub mod ignition;
mod input;
mod locate;
mod model;
mod steps;
mod substitution;

use std::collections::HashMap;
use std::path::{Component, Path};

use crate::config::CloudConfig;
use crate::metadata::{Addresses, Metadata};
use crate::plan::{self, Part};
use crate::report::{self, Pos, Report};
use crate::rules::Severity;

use input::{read_parts, Neutral, Source, BROKEN};
use locate::Locator;
pub use model::{File, IgnitionConfig, Link, Owner, PasswdUser, Unit};
pub use substitution::{Platform, METADATA_DROPIN, PLATFORMS};

/// The Ignition spec version written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spec {
    V3_3,
    V3_4,
}

impl Spec {
    pub fn as_str(self) -> &'static str {
        match self {
            Spec::V3_3 => "3.3.0",
            Spec::V3_4 => "3.4.0",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub spec: Option<Spec>,
    /// The platform whose `/run/metadata/flatcar` names stand in for `$public_ipv4` and friends.
    pub platform: Option<Platform>,
}

impl Options {
    fn spec(&self) -> Spec {
        self.spec.unwrap_or(Spec::V3_3)
    }
}

/// Something the Ignition config does differently from `kindling apply`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: &'static str,
    pub pos: Pos,
    pub message: String,
}

impl Finding {
    /// The finding as a line of the report: convert's findings are all warnings (the config
    /// is written; `--strict` makes them fatal).
    pub fn entry(&self) -> report::Entry<'_> {
        report::Entry {
            kind: Severity::Warning,
            code: self.code,
            line: self.pos.line,
            column: self.pos.col,
            message: &self.message,
        }
    }
}

#[derive(Debug)]
pub struct Converted {
    /// The input as the validator read it (decompressed), for excerpts in messages.
    pub source: String,
    pub config: IgnitionConfig,
    pub spec: Spec,
    pub findings: Vec<Finding>,
}

/// Why nothing was converted.
#[derive(Debug)]
pub enum Refused {
    /// The document has validation errors: the validator's report.
    Invalid(Report),
}

/// `/a/./b/../c` as `/a/c`: Ignition wants a clean absolute path; `..` stops at the root, as it
/// does when kindling resolves a path inside the target.
fn clean(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    format!("/{}", parts.join("/"))
}

/// A conversion under way: the Ignition model built so far and its findings.
struct Converter<'a> {
    sources: &'a [Source],
    options: &'a Options,
    config: IgnitionConfig,
    findings: Vec<Finding>,
    /// Unit name -> index in config.units.
    units: HashMap<String, usize>,
    /// Path -> index in config.files.
    files: HashMap<String, usize>,
}

impl Converter<'_> {
    fn source(&self, label: Option<&str>) -> Option<&Source> {
        let label = label?;
        self.sources.iter().find(|s| s.part.label() == label)
    }

    fn cloud_config(&self, label: Option<&str>) -> Option<&CloudConfig> {
        match &self.source(label)?.part {
            Part::Config { config, .. } => Some(config),
            _ => None,
        }
    }

    /// Reports at a position found by `find` in the step's part (or, for the global steps, in
    /// the first part where it finds one).
    fn report(
        &mut self,
        code: &'static str,
        label: Option<&str>,
        find: impl Fn(&Locator) -> Option<Pos>,
        message: String,
    ) {
        let candidates: Vec<&Source> = match self.source(label) {
            Some(s) => vec![s],
            None => self.sources.iter().collect(),
        };
        let mut place = None;
        for s in &candidates {
            if let Some(loc) = &s.locator {
                if let Some(pos) = find(loc) {
                    place = Some(loc.place(Some(pos)));
                    break;
                }
            }
        }
        let place = place.or_else(|| {
            candidates.first().map(|s| match &s.locator {
                Some(loc) => loc.place(None),
                None => locate::Place {
                    pos: Pos::new(s.first_line, 1),
                    note: None,
                },
            })
        });
        let (pos, message) = match place {
            Some(p) => (
                p.pos,
                match p.note {
                    Some(note) => format!("{note}: {message}"),
                    None => message,
                },
            ),
            None => (Pos::new(1, 1), message),
        };
        let finding = Finding { code, pos, message };
        if !self.findings.contains(&finding) {
            self.findings.push(finding);
        }
    }

    fn unit(&mut self, name: &str) -> &mut Unit {
        let i = match self.units.get(name) {
            Some(&i) => i,
            None => {
                self.config.units.push(Unit {
                    name: name.to_string(),
                    ..Default::default()
                });
                self.units
                    .insert(name.to_string(), self.config.units.len() - 1);
                self.config.units.len() - 1
            }
        };
        &mut self.config.units[i]
    }

    fn user(&mut self, name: &str) -> &mut PasswdUser {
        let i = match self.config.users.iter().position(|u| u.name == name) {
            Some(i) => i,
            None => {
                self.config.users.push(PasswdUser {
                    name: name.to_string(),
                    ..Default::default()
                });
                self.config.users.len() - 1
            }
        };
        &mut self.config.users[i]
    }

    /// A file; a later write of the same path replaces the earlier (Ignition refuses duplicates,
    /// and apply's last write is what stays).
    fn file(&mut self, file: File) {
        match self.files.get(&file.path) {
            Some(&i) => self.config.files[i] = file,
            None => {
                self.files
                    .insert(file.path.clone(), self.config.files.len());
                self.config.files.push(file);
            }
        }
    }

    /// The `write_files` entry for `path`, at its `sub` key (or its `path`).
    fn write_files_pos<'p>(path: &'p Path, sub: &'p str) -> impl Fn(&Locator) -> Option<Pos> + 'p {
        move |l: &Locator| {
            l.item(
                &["write_files"],
                "path",
                |p| clean(&Path::new("/").join(p)) == clean(path),
                Some(sub),
            )
        }
    }

    fn unit_pos<'n>(name: &'n str, sub: Option<&'n str>) -> impl Fn(&Locator) -> Option<Pos> + 'n {
        move |l: &Locator| l.item(&["coreos", "units"], "name", |n| n == name, sub)
    }
}

/// Converts a user-data payload. Refused when it has validation errors.
pub fn convert(data: &[u8], options: &Options) -> Result<Converted, Refused> {
    let report = crate::validate::validate(data);
    if report.has_errors() {
        return Err(Refused::Invalid(report));
    }
    let sources = read_parts(data);
    let parts: Vec<Part> = sources.iter().map(|s| s.part.clone()).collect();
    let inputs = plan::Inputs {
        parts: &parts,
        metadata: &Metadata::default(),
        addrs: &Addresses::default(),
        network: &[],
    };
    let plan = plan::plan(&inputs, &Neutral, &plan::Options::default());
    let mut c = Converter {
        sources: &sources,
        options,
        config: IgnitionConfig::default(),
        findings: Vec::new(),
        units: HashMap::new(),
        files: HashMap::new(),
    };
    for s in &sources {
        if let Part::Ignored { label, kind, .. } = &s.part {
            let message = if kind == BROKEN {
                format!("{label} no longer parses once $private_ipv4 and friends are substituted (a \\$ in a double-quoted string?); apply skips it, so it is not converted")
            } else {
                format!("{label} is {kind} user-data, which kindling ignores; it is not converted")
            };
            c.findings.push(Finding {
                code: "convert-ignored-part",
                pos: Pos::new(s.first_line, 1),
                message,
            });
        }
    }
    for step in &plan.steps {
        c.step(step.part.as_deref(), &step.action);
    }
    c.substitutions();
    let mut findings = c.findings;
    findings.sort_by(|a, b| a.pos.cmp(&b.pos).then(a.code.cmp(b.code)));
    Ok(Converted {
        source: report.source,
        config: c.config,
        spec: options.spec(),
        findings,
    })
}

#[cfg(test)]
mod tests;
