//! `kindling validate`: one user-data payload in, every finding out. Offline and side-effect free.
//! Handles the payload level (gzip, header, script, Ignition, multipart) and hands YAML to config.

use crate::config::directives::FileKind;
use crate::config::{self, unitcheck, unitfile, values, yaml};
use crate::report::{self, Finding, Pos, Report};
use crate::rules::Code;
use crate::userdata::{self, Kind, PartKind};

/// Validates one user-data payload as a datasource would hand it over.
pub fn validate(data: &[u8]) -> Report {
    validate_with(data, None, config::Options::default())
}

/// `validate`, for a file of this name (a unit file is known by its name too), read as
/// `options` say.
pub fn validate_with(data: &[u8], name: Option<&str>, options: config::Options) -> Report {
    let data = match userdata::gunzip_payload(data) {
        Ok(None) => data.to_vec(),
        Ok(Some(bytes)) => bytes,
        Err(e) => {
            return Report {
                findings: vec![Finding::new(
                    Code::Gzip,
                    Pos::new(1, 1),
                    format!("the gzip payload does not decompress completely ({e}); nothing in it was validated"),
                )],
                source: String::new(),
            }
        }
    };
    // YAML ends a line at a lone CR too; make every other line count (MIME part lines, the
    // UTF-8 check, the human format's source excerpt) agree with it.
    // (Not in MIME, where only LF and CRLF end a line: a part with a lone CR is placed like an
    // encoded one instead.)
    let kind = userdata::detect_for_validation(&data);
    let (data, kind) = if kind == Kind::Multipart || !has_lone_cr(&data) {
        (data, kind)
    } else {
        // Only a payload that has lone CRs changes, and may read differently after.
        let data = lone_cr_to_lf(data);
        let kind = userdata::detect_for_validation(&data);
        (data, kind)
    };
    let mut findings = match unit_file_kind(&data, kind, name) {
        Some(unit) => unit_file(&data, unit, options),
        None => body(&data, kind, options),
    };
    report::normalize(&mut findings);
    let source = String::from_utf8(data)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Report { findings, source }
}

fn lone_cr_to_lf(mut data: Vec<u8>) -> Vec<u8> {
    for i in 0..data.len() {
        if data[i] == b'\r' && data.get(i + 1) != Some(&b'\n') {
            data[i] = b'\n';
        }
    }
    data
}

fn has_lone_cr(data: &[u8]) -> bool {
    data.iter()
        .enumerate()
        .any(|(i, &b)| b == b'\r' && data.get(i + 1) != Some(&b'\n'))
}

/// A standalone unit file (the fleet workflow keeps folders of them): not user-data of any kind,
/// and either named like a unit file or starting with a `[Section]` line.
fn unit_file_kind(data: &[u8], kind: Kind, name: Option<&str>) -> Option<FileKind> {
    if kind != Kind::Unknown {
        return None;
    }
    if let Some(kind) = name.and_then(FileKind::from_path) {
        return Some(kind);
    }
    let text = String::from_utf8_lossy(data);
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with(['#', ';']))?;
    let section = first.strip_prefix('[')?.strip_suffix(']')?;
    (!section.is_empty() && !section.contains(['[', ']'])).then_some(FileKind::Unit(None))
}

fn unit_file(data: &[u8], kind: FileKind, options: config::Options) -> Vec<Finding> {
    let text = String::from_utf8_lossy(data);
    let lines = crate::lines::Lines::text(&text);
    let mut out: Vec<Finding> = unitfile::check_unit_syntax(&text)
        .into_iter()
        .map(|(line, why)| {
            let col = lines.get(line).map_or(1, |l| {
                l.chars().take_while(|c| c.is_whitespace()).count() + 1
            });
            Finding::new(
                Code::UnitSyntax,
                Pos::new(line + 1, col),
                format!("unit file syntax: {why}"),
            )
        })
        .collect();
    out.extend(
        unitcheck::check(kind, &text, options)
            .into_iter()
            .map(|f| Finding::new(f.code, Pos::new(f.line + 1, f.col), f.message)),
    );
    out
}

fn body(data: &[u8], kind: Kind, options: config::Options) -> Vec<Finding> {
    match kind {
        Kind::Empty | Kind::Ignition => Vec::new(),
        Kind::Script => script(data),
        Kind::CloudConfig => cloud_config(data, options),
        Kind::Multipart => multipart(data, options),
        Kind::Unknown => vec![Finding::new(
            Code::Header,
            Pos::new(1, 1),
            header_mistake(data),
        )],
    }
}

fn script(data: &[u8]) -> Vec<Finding> {
    match userdata::script_interpreter(data) {
        Some(_) => Vec::new(),
        None => vec![Finding::new(
            Code::ScriptInterpreter,
            Pos::new(1, 1),
            "the \"#!\" line names no interpreter; write the interpreter's path after it, e.g. \"#!/bin/bash\"",
        )],
    }
}

fn cloud_config(data: &[u8], options: config::Options) -> Vec<Finding> {
    match std::str::from_utf8(data) {
        Ok(text) => config::parse_with(text, options).findings,
        Err(e) => {
            let valid = &data[..e.valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            // Columns count characters, and the prefix up to the bad byte is valid UTF-8.
            let col =
                std::str::from_utf8(&valid[line_start..]).map_or(1, |s| s.chars().count() + 1);
            vec![Finding::new(
                Code::NotUtf8,
                Pos::new(line, col),
                "a cloud-config must be UTF-8 text; this byte is not valid UTF-8",
            )]
        }
    }
}

fn multipart(data: &[u8], options: config::Options) -> Vec<Finding> {
    let split = userdata::split_multipart(data);
    let mut out: Vec<Finding> = split
        .errors
        .into_iter()
        .map(|e| Finding::new(Code::Mime, Pos::new(e.line.max(1), 1), e.message))
        .collect();
    for part in split.parts {
        let label = format!(
            "part {}",
            part.index
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(".")
        );
        let findings = match part.kind {
            PartKind::CloudConfig => cloud_config(&part.body, options),
            PartKind::Script => script(&part.body),
            PartKind::Ignition | PartKind::Unknown => Vec::new(),
        };
        // YAML ends lines at a lone CR, MIME does not: such a part's lines are not the document's.
        let verbatim = part.verbatim && !has_lone_cr(&part.body);
        for f in findings {
            out.push(if verbatim {
                Finding {
                    pos: Pos::new(part.first_line + f.pos.line - 1, f.pos.col),
                    message: format!("{label}: {}", f.message),
                    ..f
                }
            } else {
                // A decoded part's lines are not the document's: point at its first body line.
                Finding {
                    pos: Pos::new(part.first_line, 1),
                    message: format!("{label}, line {}: {}", f.pos.line, f.message),
                    ..f
                }
            });
        }
    }
    out
}

/// The line-1 error for a payload that is none of the known kinds, naming the likely mistake.
pub(crate) fn header_mistake(data: &[u8]) -> String {
    let text = String::from_utf8_lossy(data);
    let first = text.lines().next().unwrap_or("");
    let first = first.trim_end_matches(|c: char| c.is_whitespace());
    const EXPECTED: &str =
        "user-data must start with \"#cloud-config\" or \"#!\", or be multipart MIME or Ignition JSON";
    if let Some(rest) = first.strip_prefix('\u{feff}') {
        if rest.trim() == "#cloud-config" {
            return "the document starts with a UTF-8 byte order mark (BOM) before \"#cloud-config\"; save the file without a BOM".into();
        }
    }
    if let Some(rest) = first.strip_prefix("#cloud-config") {
        if rest.starts_with([' ', '\t']) {
            return format!(
                "line 1 must be exactly \"#cloud-config\", but it has {} after the header, so coreos-cloudinit does not take this as a cloud-config; put the comment on line 2",
                values::excerpt(rest.trim(), 40)
            );
        }
    }
    if first.trim_start() == "#cloud-config" {
        return "\"#cloud-config\" must begin at the first column of line 1; remove the whitespace before it".into();
    }
    if first.starts_with("#include") {
        return format!("\"#include\" user-data is not supported; {EXPECTED} (use #cloud-config)");
    }
    if text.trim().is_empty() {
        return format!("user-data of only whitespace is not empty; {EXPECTED} (empty user-data has no bytes at all)");
    }
    let lowered = first.trim().to_ascii_lowercase();
    if lowered.starts_with('#') && values::edit_distance(&lowered, "#cloud-config") <= 3 {
        return format!(
            "the first line is \"{}\"; did you mean \"#cloud-config\"?",
            first.chars().take(40).collect::<String>()
        );
    }
    if first.starts_with('{') && serde_json::from_slice::<serde_json::Value>(data).is_ok() {
        return format!("this JSON is not an Ignition config (it has no \"ignition\": {{\"version\": …}}); {EXPECTED}");
    }
    let looks_like_config = yaml::parse(&text)
        .ok()
        .and_then(|doc| {
            doc.root
                .map(|r| matches!(doc.node(r).kind, yaml::NodeKind::Map(_)))
        })
        .unwrap_or(false);
    if looks_like_config {
        return "missing the \"#cloud-config\" header: a cloud-config must start with the line \"#cloud-config\"".into();
    }
    format!(
        "{EXPECTED}; the first line is \"{}\" (is a #cloud-config header missing?)",
        first.chars().take(40).collect::<String>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<(usize, &'static str)> {
        validate(text.as_bytes())
            .findings
            .iter()
            .map(|f| (f.pos.line, f.severity.as_str()))
            .collect()
    }

    #[test]
    fn dispatch_reference_vector_24() {
        assert_eq!(lines("{}"), vec![(1, "error")]);
        assert!(lines("{\"ignitionVersion\":1}").is_empty());
        assert!(lines("#!/bin/bash\necho hi\n").is_empty());
        assert!(lines("").is_empty());
    }

    #[test]
    fn whitespace_only_is_not_empty() {
        assert_eq!(lines("  \n"), vec![(1, "error")]);
    }

    #[test]
    fn header_hints() {
        let msg = |t: &str| validate(t.as_bytes()).findings[0].message.clone();
        assert!(msg("\u{feff}#cloud-config\nhostname: a\n").contains("byte order mark"));
        assert!(msg(" #cloud-config\nhostname: a\n").contains("first column"));
        assert!(msg("#cloudconfig\nhostname: a\n").contains("did you mean \"#cloud-config\""));
        assert!(msg("hostname: a\n").contains("missing the \"#cloud-config\" header"));
        assert!(msg("#include\nhttp://x\n").contains("#include"));
    }

    #[test]
    fn script_without_interpreter() {
        assert_eq!(lines("#!\nset -e\n"), vec![(1, "error")]);
        assert_eq!(lines("#!   \n"), vec![(1, "error")]);
    }

    #[test]
    fn invalid_utf8_in_cloud_config_is_located() {
        let f = validate(b"#cloud-config\nhostname: a\xff\n").findings;
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].pos.line, f[0].pos.col), (2, 12));
    }

    /// `--allow`ed findings are dropped before the caps count them: silenced findings do not use
    /// up a document's 10,000 (or a unit file's 1,000) and hide the rest behind
    /// too-many-findings.
    #[test]
    fn allowed_findings_do_not_use_up_the_findings_caps() {
        // The codes found, in order, a run of one code as (code, how many).
        let runs = |data: &str, name: Option<&str>, allow: &[Code]| -> Vec<(Code, usize)> {
            let mut options = config::Options::default();
            for &code in allow {
                options.allow.insert(code);
            }
            let mut runs: Vec<(Code, usize)> = Vec::new();
            for f in validate_with(data.as_bytes(), name, options).findings {
                match runs.last_mut() {
                    Some((code, n)) if *code == f.code => *n += 1,
                    _ => runs.push((f.code, 1)),
                }
            }
            runs
        };

        let mut doc = String::from("#cloud-config\n");
        for i in 0..10_500 {
            doc.push_str(&format!("unknown{i}: 1\n"));
        }
        doc.push_str("ssh_authorized_keys:\n  - not a key\n  - nor this\n");
        assert_eq!(
            runs(&doc, None, &[]),
            vec![(Code::UnknownKey, 10_000), (Code::TooManyFindings, 1)]
        );
        assert_eq!(
            runs(&doc, None, &[Code::UnknownKey]),
            vec![(Code::InvalidSshKey, 2)]
        );

        // A unit file has a cap of its own, and so has a unit's content in a document.
        let mut unit = String::from("[Service]\n");
        for i in 0..1_500 {
            unit.push_str(&format!("Unknown{i}=1\n"));
        }
        unit.push_str("Restart=sometimes\n");
        assert_eq!(
            runs(&unit, Some("a.service"), &[]),
            vec![(Code::UnitUnknownKey, 1_000), (Code::TooManyFindings, 1)]
        );
        let allow = [Code::UnitUnknownKey];
        let want = vec![(Code::UnitInvalidValue, 1)];
        assert_eq!(runs(&unit, Some("a.service"), &allow), want);
        let content = unit.replace('\n', "\n        ");
        let doc = format!(
            "#cloud-config\ncoreos:\n  units:\n    - name: a.service\n      content: |\n        {content}\n"
        );
        assert_eq!(runs(&doc, None, &allow), want);
    }
}
