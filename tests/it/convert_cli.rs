//! `kindling convert` from the outside: what goes to standard output and error, exit codes.

use std::io::Write;
use std::process::{Output, Stdio};

use crate::common;

use common::text;

fn convert(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = common::kindling()
        .arg("convert")
        .args(args)
        .current_dir(common::repo(""))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(data) = stdin {
        child.stdin.take().unwrap().write_all(data).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

#[test]
fn clean_config_to_ignition_json_exit_0() {
    let out = convert(&["testdata/convert/users.yml"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["ignition"]["version"], "3.3.0");
    assert_eq!(json["passwd"]["users"][0]["name"], "alice");
    assert_eq!(json["passwd"]["users"][1]["primaryGroup"], "users");
}

#[test]
fn findings_go_to_stderr_as_warnings_with_line_and_column() {
    let out = convert(&["testdata/convert/setuid-modes.yml"], None);
    assert_eq!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    assert!(
        err.contains("testdata/convert/setuid-modes.yml:5:5: warning[convert-mode]: /opt/bin/suid-tool has mode 4755"),
        "{err}"
    );
    assert!(
        err.contains("5 |     permissions: \"4755\"\n  |     ^"),
        "{err}"
    );
    assert!(
        err.ends_with(
            "3 findings: the config does not do exactly what `kindling apply` does there\n"
        ),
        "{err}"
    );
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap();
}

#[test]
fn strict_fails_and_writes_nothing() {
    let out = convert(&["--strict", "testdata/convert/setuid-modes.yml"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("nothing written (--strict)"));
    let clean = convert(&["--strict", "testdata/convert/users.yml"], None);
    assert_eq!(clean.status.code(), Some(0));
}

#[test]
fn json_report() {
    let out = convert(
        &["--format", "json", "--ignition-version", "3.4.0", "-"],
        Some(b"#cloud-config\nwrite_files:\n  - path: /x\n    owner: \"u:\"\n    permissions: \"4700\"\n"),
    );
    assert_eq!(out.status.code(), Some(0));
    // The validator's writer, byte for byte: one object, keys in this order, one line.
    let raw = text(&out.stderr);
    assert!(
        raw.starts_with(
            r#"{"file":"<stdin>","entries":[{"kind":"warning","code":"convert-owner","line":4,"column":"#
        ) && raw.ends_with("\"}]}\n")
            && raw.lines().count() == 1,
        "{raw}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(report["file"], "<stdin>");
    assert_eq!(report["entries"].as_array().unwrap().len(), 1);
    assert_eq!(report["entries"][0]["code"], "convert-owner");
    assert_eq!(report["entries"][0]["line"], 4);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["ignition"]["version"], "3.4.0");
    assert_eq!(json["storage"]["files"][0]["mode"], 0o4700);
}

#[test]
fn invalid_documents_are_not_converted() {
    let out = convert(&["-"], Some(b"#cloud-config\nhostname: 10.0.0.7\n"));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert!(err.contains("<stdin>:2:11: error"), "{err}");
    assert!(err.contains("invalid hostname \"10.0.0.7\""), "{err}");
    assert!(err.contains("has 1 error; nothing converted"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(
        convert(&["--platform", "mars", "-"], Some(b""))
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        convert(&["--ignition-version", "3.1.0", "-"], Some(b""))
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        convert(&["--to", "yaml", "-"], Some(b"")).status.code(),
        Some(2)
    );
    let missing = convert(&["testdata/convert/nope.yml"], None);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("cannot read testdata/convert/nope.yml"));
}

#[test]
fn butane_is_readable_flatcar_yaml() {
    let out = convert(&["--to", "butane", "testdata/convert/units.yml"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let y = text(&out.stdout);
    assert!(y.starts_with("variant: flatcar\nversion: 1.0.0\n"), "{y}");
    assert!(
        y.contains("    - name: \"app.service\"\n      enabled: true\n      contents: |\n        [Unit]\n        Description=App\n\n        [Service]\n"),
        "{y}"
    );
    assert!(y.contains("      dropins:\n        - name: \"10-limits.conf\"\n          contents: |\n            [Service]\n            LimitNOFILE=65536\n"), "{y}");
}
