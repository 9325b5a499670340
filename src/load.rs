//! From user-data bytes to the parts apply plans: gunzip, detection in the reference's apply
//! order, multipart split, address substitution per part, then parse and check. The sibling of
//! `validate` (bytes to findings, in the validator's order); the planner only reads the parts.

use crate::config;
use crate::metadata::Addresses;
use crate::plan::Part;
use crate::rules::Severity;
use crate::userdata::substitute_noting;
use crate::userdata::{self, Kind, PartKind};

/// Something wrong with the user-data, found while reading it. Errors are failures of the run
/// (the setting they concern is left out); warnings are logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub part: String,
    pub severity: Severity,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Loaded {
    pub parts: Vec<Part>,
    pub problems: Vec<Problem>,
    /// Address tokens (`public_ipv4`) replaced by an empty string somewhere in the user-data.
    pub unset_addresses: Vec<&'static str>,
}

impl Loaded {
    pub fn errors(&self) -> usize {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .count()
    }
}

fn error(out: &mut Loaded, part: &str, message: String) {
    out.problems.push(Problem {
        part: part.to_string(),
        severity: Severity::Error,
        message,
    });
}

fn cloud_config(out: &mut Loaded, label: String, body: &[u8], addrs: &Addresses) {
    let Ok(text) = std::str::from_utf8(body) else {
        error(
            out,
            &label,
            "the cloud-config is not UTF-8 text; part not applied".into(),
        );
        return;
    };
    let text = substitute_noting(text, addrs, &mut out.unset_addresses);
    let parsed = config::parse(&text);
    for f in &parsed.findings {
        // In a document that parsed, every error belongs to an entry of the config, which
        // the plan reports as failed and skips whole: one failure, one line, said there.
        if f.severity == Severity::Error && parsed.syntax_ok {
            continue;
        }
        let consequence = match f.severity {
            Severity::Error => "; part not applied",
            _ => "",
        };
        out.problems.push(Problem {
            part: label.clone(),
            severity: f.severity,
            message: format!("line {}: {}{consequence}", f.pos.line, f.message),
        });
    }
    for w in &parsed.config.warnings {
        out.problems.push(Problem {
            part: label.clone(),
            severity: Severity::Warning,
            message: w.clone(),
        });
    }
    if parsed.syntax_ok {
        out.parts.push(Part::Config {
            label,
            config: Box::new(parsed.config),
        });
    }
}

fn script(out: &mut Loaded, label: String, body: &[u8], addrs: &Addresses) {
    if userdata::script_interpreter(body).is_none() {
        error(
            out,
            &label,
            "the \"#!\" line names no interpreter; script not run".into(),
        );
        return;
    }
    // Substitution works on text; a script that is not UTF-8 runs as it is.
    let content = match std::str::from_utf8(body) {
        Ok(text) => substitute_noting(text, addrs, &mut out.unset_addresses).into_bytes(),
        Err(_) => body.to_vec(),
    };
    out.parts.push(Part::Script { label, content });
}

const IGNITION: &str = "an Ignition config, which Ignition applies in the initramfs, not kindling";

/// Reads a user-data payload into parts. Failures that concern the whole payload (corrupt
/// gzip, a broken MIME envelope) leave no parts and an error.
pub fn load(data: &[u8], addrs: &Addresses) -> Loaded {
    let mut out = Loaded::default();
    let data = match userdata::gunzip_payload(data) {
        Ok(None) => data.to_vec(),
        Ok(Some(d)) => d,
        Err(e) => {
            error(&mut out, "user-data", format!("{e}; nothing applied"));
            return out;
        }
    };
    match userdata::detect(&data) {
        Kind::Empty => {}
        Kind::Script => script(&mut out, "user-data".into(), &data, addrs),
        Kind::CloudConfig => cloud_config(&mut out, "user-data".into(), &data, addrs),
        Kind::Ignition => out.parts.push(Part::Ignored {
            label: "user-data".into(),
            kind: "ignition".into(),
            reason: IGNITION.into(),
        }),
        Kind::Unknown => out.parts.push(Part::Ignored {
            label: "user-data".into(),
            kind: "unknown".into(),
            reason: crate::validate::header_mistake(&data),
        }),
        Kind::Multipart => {
            let split = userdata::split_multipart(&data);
            if !split.errors.is_empty() {
                // As the reference: a broken envelope fails the whole user-data.
                for e in split.errors {
                    error(
                        &mut out,
                        "user-data",
                        format!("line {}: {}", e.line, e.message),
                    );
                }
                error(
                    &mut out,
                    "user-data",
                    "the multipart document is broken; nothing applied".into(),
                );
                return out;
            }
            for part in split.parts {
                let label = format!("part {}", part.label());
                match part.kind {
                    PartKind::CloudConfig => cloud_config(&mut out, label, &part.body, addrs),
                    PartKind::Script => script(&mut out, label, &part.body, addrs),
                    PartKind::Ignition => out.parts.push(Part::Ignored {
                        label,
                        kind: "ignition".into(),
                        reason: IGNITION.into(),
                    }),
                    PartKind::Unknown => out.parts.push(Part::Ignored {
                        label,
                        kind: "unknown".into(),
                        reason: format!(
                            "neither a cloud-config nor a script by its content type or its first line ({})",
                            crate::validate::header_mistake(&part.body)
                        ),
                    }),
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs() -> Addresses {
        Addresses {
            private_ipv4: Some("10.1.2.3".into()),
            ..Default::default()
        }
    }

    #[test]
    fn cloud_config_is_substituted_then_parsed() {
        let l = load(
            b"#cloud-config\nhostname: node\ncoreos:\n  flannel:\n    interface: $private_ipv4\n",
            &addrs(),
        );
        assert!(l.problems.is_empty(), "{:?}", l.problems);
        let Part::Config { config, .. } = &l.parts[0] else {
            panic!()
        };
        assert_eq!(
            config.coreos.flannel.as_ref().unwrap().0[0].1,
            crate::config::model::EnvValue::Str("10.1.2.3".into())
        );
    }

    #[test]
    fn syntax_errors_fail_the_part_type_errors_only_the_field() {
        let l = load(b"#cloud-config\na: [\n", &addrs());
        assert!(l.parts.is_empty());
        assert_eq!(l.errors(), 1);
        assert!(
            l.problems[0].message.ends_with("; part not applied"),
            "{:?}",
            l.problems
        );
        // A wrong type is no failure of the load: the config carries it, and the plan skips
        // the hostname and reports it.
        let l = load(
            b"#cloud-config\nhostname: [a]\nmanage_etc_hosts: localhost\n",
            &addrs(),
        );
        assert_eq!(l.parts.len(), 1);
        assert_eq!(l.errors(), 0);
        let Part::Config { config, .. } = &l.parts[0] else {
            panic!()
        };
        assert!(
            matches!(&config.hostname, Some(Err(r)) if r.reasons[0].contains("must be a string"))
        );
    }

    #[test]
    fn scripts_ignition_unknown_and_empty() {
        let l = load(b"#!/bin/sh\necho $private_ipv4\n", &addrs());
        assert_eq!(
            l.parts,
            vec![Part::Script {
                label: "user-data".into(),
                content: b"#!/bin/sh\necho 10.1.2.3\n".to_vec()
            }]
        );
        assert!(
            matches!(&load(b"{\"ignition\":{\"version\":\"3.0.0\"}}", &addrs()).parts[0], Part::Ignored { kind, .. } if kind == "ignition")
        );
        assert!(
            matches!(&load(b"hello", &addrs()).parts[0], Part::Ignored { kind, .. } if kind == "unknown")
        );
        // Issue 8: the reason is the validator's header rule, not "unknown".
        let l = load(b"#cloud-config with text after it\nhostname: x\n", &addrs());
        assert!(
            matches!(&l.parts[0], Part::Ignored { reason, .. } if reason.starts_with("line 1 must be exactly \"#cloud-config\"")),
            "{:?}",
            l.parts
        );
        assert!(load(b"", &addrs()).parts.is_empty());
        assert_eq!(load(b"#!\n", &addrs()).errors(), 1);
    }

    #[test]
    fn corrupt_gzip_applies_nothing() {
        let l = load(&[0x1f, 0x8b, 1, 2, 3], &addrs());
        assert!(l.parts.is_empty());
        assert_eq!(l.errors(), 1);
    }

    #[test]
    fn multipart_parts_in_order() {
        let doc = b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/cloud-config\n\nhostname: first\n--b\nContent-Type: text/x-shellscript\n\n#!/bin/sh\necho hi\n--b\nContent-Type: text/plain\n\nnotes\n--b--\n";
        let l = load(doc, &addrs());
        let labels: Vec<&str> = l.parts.iter().map(|p| p.label()).collect();
        assert_eq!(labels, vec!["part 1", "part 2", "part 3"]);
        assert!(matches!(l.parts[0], Part::Config { .. }));
        assert!(matches!(l.parts[1], Part::Script { .. }));
        assert!(matches!(l.parts[2], Part::Ignored { .. }));
    }
}
