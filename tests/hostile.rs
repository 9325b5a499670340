//! The binary against hostile input (issue 9): alias amplification, unbounded reads, paths that
//! are relative or not UTF-8. Figures (memory, time) are measured outside the test suite.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Stdio};

fn kindling() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kindling"));
    cmd.env_remove("JOURNAL_STREAM");
    cmd
}

/// A fresh copy of testdata/root (passwd, group, shadow, login.defs).
fn fresh_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/root/etc");
    std::fs::create_dir_all(dir.path().join("etc/coreos")).unwrap();
    for entry in std::fs::read_dir(&from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), dir.path().join("etc").join(entry.file_name())).unwrap();
        }
    }
    dir
}

/// One unit of about 10 KB, then `refs` more list items that are aliases of it.
fn aliased_units(refs: usize) -> String {
    let mut text = String::from(
        "#cloud-config\ncoreos:\n  units:\n    - &x\n      name: amp.service\n      content: |\n        [Service]\n",
    );
    for i in 0..120 {
        text.push_str(&format!(
            "        Environment=LINE{i:05}={}\n",
            "x".repeat(60)
        ));
    }
    text.push_str(&"    - *x\n".repeat(refs));
    text
}

#[test]
fn a_unit_repeated_by_aliases_is_planned_and_written_once() {
    let dir = fresh_root();
    let file = dir.path().join("user-data");
    std::fs::write(&file, aliased_units(20_000)).unwrap();
    let out = kindling()
        .args(["plan", "--from-file"])
        .arg(&file)
        .arg("--root")
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stdout
            .matches("write unit /etc/systemd/system/amp.service")
            .count(),
        1,
        "{stdout}"
    );
    assert!(
        stderr.contains("20000 items of \"units\" repeat an earlier item through an alias; each entry is applied once"),
        "{stderr}"
    );

    let out = kindling().args(["validate"]).arg(&file).output().unwrap();
    assert!(out.status.success());
}

#[test]
fn an_alias_bomb_is_refused_whole_with_a_clear_error() {
    // 60 KB aliased 400 times: 24 MB to read, past the document's own text plus 16 MiB.
    let dir = fresh_root();
    let file = dir.path().join("user-data");
    let text = format!(
        "#cloud-config\nhostname: bombed\nwrite_files:\n  - path: /etc/a\n    content: &c '{}'\nssh_authorized_keys: [{}]\n",
        "z".repeat(60_000),
        "*c, ".repeat(400)
    );
    std::fs::write(&file, text).unwrap();
    let out = kindling().arg("validate").arg(&file).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.contains("error: aliases expand this document to too many bytes"),
        "{stdout}"
    );
    let out = kindling()
        .args(["apply", "--from-file"])
        .arg(&file)
        .arg("--root")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // Nothing of it was applied: not the hostname before the bomb, not the file.
    assert!(!dir.path().join("etc/a").exists());
    assert_ne!(
        std::fs::read_to_string(dir.path().join("etc/hostname")).unwrap_or_default(),
        "bombed\n"
    );
}

#[test]
fn validate_reads_at_most_the_fetch_cap() {
    let out = kindling().args(["validate", "/dev/zero"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "/dev/zero:0:0: error: cannot read /dev/zero: it is larger than 16 MiB, the most user-data a datasource accepts\n1 error, 0 warnings in 1 file\n"
    );
    let out = kindling()
        .args(["validate", "-"])
        .stdin(std::fs::File::open("/dev/zero").unwrap())
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout)
        .starts_with("-:0:0: error: cannot read standard input: it is larger than 16 MiB"));
    // At the cap exactly, the input is read (and validated as what it is).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.yml");
    let mut text = b"#cloud-config\nhostname: a\n".to_vec();
    text.resize(16 << 20, b'\n');
    std::fs::write(&file, text).unwrap();
    let out = kindling().arg("validate").arg(&file).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn file_names_that_are_not_utf8_are_read() {
    let dir = fresh_root();
    let name = OsStr::from_bytes(b"user-data-\xff\xfe.yml");
    let file = dir.path().join(name);
    std::fs::write(&file, "#cloud-config\nhostname: latin1\n").unwrap();
    let out = kindling().arg("validate").arg(&file).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = kindling()
        .args(["apply", "--from-file"])
        .arg(&file)
        .arg("--root")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("etc/hostname")).unwrap(),
        "latin1\n"
    );
    // The compat spelling too.
    let mut flag = std::ffi::OsString::from("-from-file=");
    flag.push(&file);
    let out = kindling().arg("-validate").arg(flag).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_relative_root_is_made_absolute_for_useradd() {
    let dir = fresh_root();
    let file = dir.path().join("user-data");
    std::fs::write(&file, "#cloud-config\nusers:\n  - name: reluser\n").unwrap();
    let parent = dir.path().parent().unwrap();
    let rel = dir.path().file_name().unwrap();
    let out = kindling()
        .current_dir(parent)
        .args(["apply", "--from-file"])
        .arg(&file)
        .arg("--root")
        .arg(rel)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let passwd = std::fs::read_to_string(dir.path().join("etc/passwd")).unwrap();
    assert!(
        passwd.lines().any(|l| l.starts_with("reluser:")),
        "{passwd}"
    );
    assert!(dir.path().join("home/reluser").is_dir());
}
