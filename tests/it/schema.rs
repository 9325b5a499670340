//! `kindling schema` checked with a real JSON Schema validator (Python's `jsonschema`, which CI
//! installs): every clean `#cloud-config` under testdata/ and in the shared corpus validates
//! after YAML -> JSON, and every one the validator rejects for a wrong type does not.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};

use crate::common;

use common::assert_kindling as kindling;

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yml" | "yaml")
        ) {
            out.push(path);
        }
    }
}

/// What the validator says of a file: Some("valid") with no error, Some("invalid") when an
/// error is a wrong type the schema can see, None otherwise (not asserted).
fn verdict(path: &Path) -> Option<&'static str> {
    let bytes = std::fs::read(path).ok()?;
    // Only YAML cloud-configs; scripts, MIME and Ignition are not the schema's.
    if !bytes.starts_with(b"#cloud-config") {
        return None;
    }
    let errors = validator_errors(path);
    if errors.is_empty() {
        return Some("valid");
    }
    let wrong_type = |m: &String| {
        // A quoted "yes" is a string to the validator but, after a YAML 1.2 parser, the same
        // string a plain `yes` is: no schema can tell them apart.
        !m.contains("a quoted value is a string")
            && (m.contains(" must be a") && m.contains(", found ")
                || m.starts_with("items of ") && m.contains(" must be "))
    };
    errors.iter().any(wrong_type).then_some("invalid")
}

fn validator_errors(path: &Path) -> Vec<String> {
    let out = kindling()
        .args(["validate", "--format", "json"])
        .arg(path)
        .output()
        .unwrap();
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let errors: Vec<String> = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "error")
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect();
    errors
}

fn check(schema: &Path, list: &[(&str, PathBuf)]) -> (bool, String) {
    let script = common::repo("tests/schema/check.py");
    let mut child = Process::new("python3")
        .arg(script)
        .arg(schema)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut input = String::new();
    for (expect, path) in list {
        input += &format!("{expect}\t{}\n", path.display());
    }
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn schema_file(dir: &Path) -> PathBuf {
    let out = kindling().arg("schema").output().unwrap();
    assert!(out.status.success());
    let path = dir.join("cloud-config.schema.json");
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

#[test]
fn the_corpus_agrees_with_the_validator() {
    let root = common::repo("");
    let mut files = Vec::new();
    yaml_files(&root.join("testdata"), &mut files);
    // The shared acceptance corpus, when the checkout sits beside shared/ (as in CI).
    yaml_files(&root.join("../shared/corpus/validate"), &mut files);
    files.sort();
    let list: Vec<(&str, PathBuf)> = files
        .into_iter()
        .filter_map(|p| verdict(&p).map(|v| (v, p)))
        .collect();
    let valid = list.iter().filter(|(v, _)| *v == "valid").count();
    let invalid = list.len() - valid;
    assert!(
        valid >= 20 && invalid >= 5,
        "{valid} clean, {invalid} wrong-typed"
    );
    let dir = tempfile::tempdir().unwrap();
    let (ok, report) = check(&schema_file(dir.path()), &list);
    assert!(ok, "{report}");
    eprintln!("{valid} clean, {invalid} wrong-typed: {report}");
}

/// One mistake per file, each of a kind the schema states: a type, an enumeration, a pattern,
/// a required key; and the YAML 1.1 forms that must pass.
#[test]
fn each_kind_of_constraint_is_stated() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str)] = &[
        ("invalid", "hostname: [a, b]"),
        ("invalid", "hostname: \"-bad-\""),
        ("invalid", "hostname: 10.0.0.7"),
        ("invalid", "users: {name: core}"),
        ("invalid", "users: [{gecos: no name}]"),
        ("invalid", "ssh_authorized_keys: ssh-ed25519 AAAA"),
        (
            "invalid",
            "coreos: {units: [{name: a.service, enable: maybe}]}",
        ),
        ("invalid", "coreos: {units: [{name: a.servce}]}"),
        (
            "invalid",
            "coreos: {units: [{name: a.service, command: begin}]}",
        ),
        (
            "invalid",
            "coreos: {units: [{name: a.service, drop_ins: [{name: x.txt, content: c}]}]}",
        ),
        ("invalid", "coreos: {update: {reboot-strategy: sometimes}}"),
        ("invalid", "coreos: {locksmith: {window_start: \"25:00\"}}"),
        (
            "invalid",
            "write_files: [{path: /etc/x, permissions: \"0999\"}]",
        ),
        ("invalid", "write_files: [{path: etc/x}]"),
        ("invalid", "write_files: [{path: /etc/x, encoding: rot13}]"),
        ("invalid", "coreos: {fleet: {verbosity: \"3\"}}"),
        ("valid", "write_files: [{path: /etc/x, permissions: 0644}]"),
        (
            "valid",
            "write_files: [{path: /etc/x, permissions: \"0644\", owner: core}]",
        ),
        (
            "valid",
            "coreos: {units: [{name: a.service, enable: yes, mask: off, runtime: y}]}",
        ),
        (
            "valid",
            "coreos: {update: {reboot_strategy: off}, etcd2: {proxy: on}}",
        ),
        (
            "valid",
            "coreos: {locksmith: {window_start: Sun 23:00, window_length: 1h30m}}",
        ),
        ("valid", "coreos: {locksmith: {window-start: 23:00}}"),
        ("valid", "hostname: 1234\nmanage_etc_hosts: localhost"),
        (
            "valid",
            "users:\n  - name: core\n    groups: [docker]\n    no-create-home: true",
        ),
        (
            "valid",
            "unknown_key: 1\ncoreos: {oem: {id: x}, fleet: {verbosity: 3}}",
        ),
        ("valid", "coreos:\n  units:\n"),
    ];
    let mut list = Vec::new();
    for (i, (expect, body)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("case{i}.yml"));
        std::fs::write(&path, format!("#cloud-config\n{body}\n")).unwrap();
        // The cases mean what the validator says they mean.
        let errors = validator_errors(&path);
        assert_eq!(errors.is_empty(), *expect == "valid", "{body}: {errors:?}");
        list.push((*expect, path));
    }
    let (ok, report) = check(&schema_file(dir.path()), &list);
    assert!(ok, "{report}");
}

#[test]
fn every_key_has_a_description_and_both_spellings() {
    let out = kindling().arg("schema").output().unwrap();
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    let mut sections = vec![&schema];
    sections.extend(schema["definitions"].as_object().unwrap().values());
    let mut keys = 0;
    for section in sections {
        let props = section["properties"].as_object().unwrap();
        for (key, prop) in props {
            keys += 1;
            let d = prop["description"].as_str().unwrap_or("");
            assert!(!d.is_empty(), "{key} has no description");
            if key.contains('_') {
                assert!(props.contains_key(&key.replace('_', "-")), "{key}");
            }
        }
    }
    assert!(keys > 150, "{keys}");
    let etcd = &schema["properties"]["coreos"]["allOf"][0]["$ref"];
    assert_eq!(etcd, "#/definitions/coreos");
    let dep = &schema["definitions"]["coreos"]["properties"]["fleet"];
    assert_eq!(dep["deprecated"], true);
    assert!(dep["description"]
        .as_str()
        .unwrap()
        .contains("no longer shipped"));
}
