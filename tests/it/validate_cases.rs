//! Runs every case under testdata/cloud-configs/ that has a `.expect` file through the validator.
//! The `.expect` format is the shared corpus's: `exit N`, then `LINE KIND TEXT` per finding; here
//! KIND may name the rule too (`warning[unit-unknown-key]`). Inputs are validated by their file
//! name (a unit file is checked as one), and those under a `template/` folder with --template.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common;

struct Expect {
    exit: i32,
    findings: Vec<(usize, String, String)>,
}

fn parse_expect(path: &Path) -> Expect {
    let text = std::fs::read_to_string(path).unwrap();
    let mut exit = 0;
    let mut findings = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(code) = line.strip_prefix("exit ") {
            exit = code.split_whitespace().next().unwrap().parse().unwrap();
            continue;
        }
        let mut parts = line.splitn(3, ' ');
        let ln = parts.next().unwrap().parse().unwrap();
        let kind = parts.next().unwrap().to_string();
        let msg = parts.next().unwrap_or("").to_lowercase();
        findings.push((ln, kind, msg));
    }
    Expect { exit, findings }
}

fn cases(dir: &Path, out: &mut Vec<(PathBuf, PathBuf)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            cases(&path, out);
        } else if path.extension().is_some_and(|e| e == "expect") {
            let stem = path.file_stem().unwrap().to_owned();
            let input = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| {
                    p.file_stem() == Some(&stem) && p.extension().is_some_and(|e| e != "expect")
                })
                .unwrap_or_else(|| panic!("no input for {}", path.display()));
            out.push((input, path));
        }
    }
}

#[test]
fn every_testdata_case_reports_exactly_what_it_expects() {
    let mut all = Vec::new();
    cases(common::repo("testdata/cloud-configs").as_path(), &mut all);
    all.sort();
    assert!(all.len() >= 20, "only {} cases found", all.len());
    let mut failures = Vec::new();
    for (input, expect_path) in &all {
        let expect = parse_expect(expect_path);
        let options = kindling::config::Options {
            template: input.components().any(|c| c.as_os_str() == "template"),
            ..Default::default()
        };
        let report = kindling::validate::validate_with(
            &std::fs::read(input).unwrap(),
            input.to_str(),
            options,
        );
        let exit = i32::from(report.has_errors());
        let mut problems = Vec::new();
        if exit != expect.exit {
            problems.push(format!("exit {exit}, want {}", expect.exit));
        }
        let mut got: BTreeMap<(usize, String), Vec<String>> = BTreeMap::new();
        // A finding is keyed by its kind, or by kind and code when the case names the code.
        let coded: Vec<(usize, String)> = expect
            .findings
            .iter()
            .filter(|(_, k, _)| k.contains('['))
            .map(|(l, k, _)| (*l, k.split('[').next().unwrap().to_string()))
            .collect();
        for f in &report.findings {
            let kind = f.severity.as_str().to_string();
            let key = if coded.contains(&(f.pos.line, kind.clone())) {
                format!("{kind}[{}]", f.code.name())
            } else {
                kind
            };
            got.entry((f.pos.line, key))
                .or_default()
                .push(f.message.to_lowercase());
        }
        let mut want: BTreeMap<(usize, String), Vec<String>> = BTreeMap::new();
        for (l, k, m) in &expect.findings {
            want.entry((*l, k.clone())).or_default().push(m.clone());
        }
        for (key, msgs) in &want {
            let have = got.get(key).map(Vec::as_slice).unwrap_or(&[]);
            if have.len() != msgs.len() {
                problems.push(format!(
                    "line {} {}: {} finding(s), want {}: {:?}",
                    key.0,
                    key.1,
                    have.len(),
                    msgs.len(),
                    have
                ));
            }
            for m in msgs {
                if !have.iter().any(|h| h.contains(m.as_str())) {
                    problems.push(format!(
                        "line {} {}: no message contains {m:?}; got {have:?}",
                        key.0, key.1
                    ));
                }
            }
        }
        for (key, msgs) in &got {
            if !want.contains_key(key) {
                problems.push(format!("unexpected line {} {}: {msgs:?}", key.0, key.1));
            }
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}", input.display(), problems.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
