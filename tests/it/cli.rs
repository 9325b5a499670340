//! The binary as operators and CI call it: subcommands, formats, exit codes, the compat flags.

use assert_cmd::Command;

use crate::common;

use common::{assert_kindling as kindling, config as data};

fn stdout_of(cmd: &mut Command) -> String {
    String::from_utf8(cmd.output().unwrap().stdout).unwrap()
}

#[test]
fn clean_config_exits_0_and_prints_nothing() {
    kindling()
        .args(["validate", &data("demo.yml")])
        .assert()
        .code(0)
        .stdout("");
}

#[test]
fn human_format_shows_file_line_column_source_and_caret() {
    let out = stdout_of(kindling().args(["validate", &data("rules/r11-manage-etc-hosts.yml")]));
    let file = data("rules/r11-manage-etc-hosts.yml");
    assert_eq!(
        out,
        format!(
            "{file}:2:19: error[invalid-value]: invalid value \"true\" for \"manage_etc_hosts\": expected one of \"localhost\"\n  |\n2 | manage_etc_hosts: true\n  |                   ^\n1 error, 0 warnings in 1 file\n"
        )
    );
    kindling()
        .args(["validate", &data("rules/r11-manage-etc-hosts.yml")])
        .assert()
        .code(1);
}

#[test]
fn json_format_is_one_object_per_file_per_line() {
    let out = stdout_of(kindling().args([
        "validate",
        "--format",
        "json",
        &data("demo.yml"),
        &data("reference/v18-etcd-discovery.yml"),
    ]));
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["entries"].as_array().unwrap().len(), 0);
    let entries = lines[1]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["kind"], "warning");
    assert_eq!(entries[0]["line"], 3);
    assert_eq!(entries[0]["column"], 3);
    assert!(entries[1]["message"]
        .as_str()
        .unwrap()
        .contains("discovery URL is not valid"));
}

#[test]
fn standard_input_is_named_dash() {
    let out = stdout_of(
        kindling()
            .args(["validate", "--format", "json", "-"])
            .write_stdin("#cloud-config\nhostname: a_b\n"),
    );
    assert!(
        out.starts_with(
            r#"{"file":"-","entries":[{"kind":"error","code":"invalid-hostname","line":2,"column":11"#
        ),
        "{out}"
    );
    // No FILE at all reads standard input too.
    kindling()
        .arg("validate")
        .write_stdin("#cloud-config\nhostname: ok\n")
        .assert()
        .code(0);
}

#[test]
fn warnings_pass_unless_strict() {
    let f = data("reference/v22-unrecognized.yml");
    kindling().args(["validate", &f]).assert().code(0);
    kindling()
        .args(["validate", "--strict", &f])
        .assert()
        .code(1);
}

#[test]
fn usage_errors_exit_2() {
    kindling()
        .args(["validate", "--format", "xml", "x"])
        .assert()
        .code(2);
    kindling()
        .args(["validate", "--no-such-flag"])
        .assert()
        .code(2);
    kindling().args(["-no-such-flag"]).assert().code(2);
}

#[test]
fn unreadable_file_is_an_error_naming_it() {
    let out = kindling()
        .args(["validate", "/nonexistent/user-data"])
        .assert()
        .code(1);
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        text.contains("cannot read /nonexistent/user-data"),
        "{text}"
    );
}

#[test]
fn several_files_exit_1_when_any_has_an_error() {
    kindling()
        .args([
            "validate",
            &data("demo.yml"),
            &data("rules/r13-hostnames.yml"),
        ])
        .assert()
        .code(1);
}

#[test]
fn compat_validate_prints_the_references_log_lines() {
    let out = kindling()
        .args([
            "-validate",
            "-from-file",
            &data("reference/v20-invalid-values.yml"),
        ])
        .assert()
        .code(1);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    // Progress lines (which source is used) come first, as in the reference's log.
    let lines: Vec<&str> = err.lines().filter(|l| l.contains(" line ")).collect();
    assert_eq!(lines.len(), 2, "{err}");
    // `YYYY/MM/DD HH:MM:SS line N: KIND: MESSAGE`
    let (stamp, rest) = lines[0].split_at(19);
    assert!(
        stamp.as_bytes()[4] == b'/' && stamp.as_bytes()[13] == b':',
        "{stamp}"
    );
    assert!(
        rest.starts_with(" line 5: error: invalid value \"lol\""),
        "{rest}"
    );
    kindling()
        .args(["--validate=true", "--from-file", &data("demo.yml")])
        .assert()
        .code(0);
}

/// Runs and returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = kindling().args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn compat_flag_errors_match_the_reference() {
    let (code, out, _) = run(&["-oem", "nope", "-from-file", "x"]);
    assert_eq!(code, 2);
    assert!(out.contains("Invalid option to -oem: \"nope\""), "{out}");
    let (code, out, _) = run(&["-convert-netconf=yaml", "-from-file", "x"]);
    assert_eq!(code, 2);
    assert!(
        out.contains("Invalid option to -convert-netconf: 'yaml'"),
        "{out}"
    );
    let (code, out, _) = run(&["-validate"]);
    assert_eq!(code, 2);
    assert!(out.contains("Provide at least one of --from-file"), "{out}");
    assert_eq!(run(&["-h"]).0, 0);
    let (code, out, _) = run(&["-version"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("kindling "), "{out}");
}

#[test]
fn a_source_url_that_is_not_http_fails_at_once() {
    let (code, _, err) = run(&["-from-url", "ftp://example.com/user-data", "-validate"]);
    assert_eq!(code, 1);
    assert!(err.contains("ftp://example.com/user-data"), "{err}");
}

#[test]
fn allow_silences_a_rule_by_its_code() {
    let file = data("rules/r11-manage-etc-hosts.yml");
    kindling()
        .args(["validate", "--allow", "invalid-value", &file])
        .assert()
        .code(0)
        .stdout("");
    // Repeatable; other rules still count.
    let out = stdout_of(kindling().args([
        "validate",
        "--allow",
        "unknown-key",
        "--allow",
        "invalid-value",
        &data("rules/r03-unknown-keys.yml"),
        &file,
    ]));
    assert!(
        !out.contains("[unknown-key]") && !out.contains("[invalid-value]"),
        "{out}"
    );
    // A code that names no rule is a usage error, with the nearest code.
    let out = kindling()
        .args(["validate", "--allow", "unknown-keys", &file])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean \"unknown-key\""), "{err}");
}

#[test]
fn template_accepts_placeholders() {
    let config = "#cloud-config\nhostname: <hostname>\nwrite_files:\n  - path: /etc/x\n    permissions: ${perm}\n";
    let out = stdout_of(kindling().args(["validate", "-"]).write_stdin(config));
    assert_eq!(
        out.matches("unrendered template placeholder").count(),
        2,
        "{out}"
    );
    kindling()
        .args(["validate", "--template", "-"])
        .write_stdin(config)
        .assert()
        .code(0)
        .stdout("");
}

#[test]
fn a_unit_file_is_checked_by_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("apache@.service");
    std::fs::write(
        &path,
        "[Unit]\nRequies=docker.service\n[Service]\nExecStart=/usr/bin/docker run %i\n",
    )
    .unwrap();
    let out = stdout_of(kindling().args(["validate", path.to_str().unwrap()]));
    assert!(
        out.contains("apache@.service:2:1: warning[unit-unknown-key]: unknown directive \"Requies\" in [Unit]: systemd ignores it; did you mean \"Requires\"?"),
        "{out}"
    );
}

// ---------------------------------------------------------------------------------------------
// Issue 8, items 5, 6 and 9: a newcomer's typos answer at once.

use std::time::{Duration, Instant};

/// Loose bound for "at once": far below the 300 s datasource wait, far above any slow CI.
const AT_ONCE: Duration = Duration::from_secs(10);

/// Runs with a wall-clock measurement; returns (exit code, stdout + stderr, elapsed).
fn timed(args: &[&str]) -> (i32, String, Duration) {
    let t = Instant::now();
    let out = kindling()
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let elapsed = t.elapsed();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text, elapsed)
}

#[test]
fn issue8_missing_from_file_fails_at_once_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("user_dta");
    let missing = missing.to_str().unwrap();
    let root = dir.path().to_str().unwrap();
    for args in [
        vec!["apply", "--root", root, "--from-file", missing],
        vec!["plan", "--root", root, "--from-file", missing],
        vec!["fetch", "--from-file", missing],
        // The compat entry (no subcommand) too: the reference waits 5 minutes, then exits 1.
        vec!["-from-file", missing],
    ] {
        let (code, text, elapsed) = timed(&args);
        assert_eq!(code, 1, "{args:?}: {text}");
        assert!(elapsed < AT_ONCE, "{args:?} took {elapsed:?}");
        assert!(
            text.contains(&format!("{missing} does not exist")),
            "{args:?}: {text}"
        );
    }
}

#[test]
fn issue8_root_missing_or_not_a_directory_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("user_data");
    std::fs::write(&file, "#cloud-config\n").unwrap();
    let file = file.to_str().unwrap();
    let missing = dir.path().join("no-such-root");
    for (root, why) in [
        (missing.to_str().unwrap(), "no such directory"),
        (file, "not a directory"),
    ] {
        for cmd in ["apply", "plan"] {
            let (code, text, elapsed) = timed(&[cmd, "--root", root, "--from-file", file]);
            assert_eq!(code, 2, "{cmd} --root {root}: {text}");
            assert!(elapsed < AT_ONCE, "{elapsed:?}");
            assert!(
                text.contains(&format!("'{root}' for '--root <DIR>': {why}")),
                "{text}"
            );
        }
    }
}

#[test]
fn issue8_compat_validate_never_polls_a_missing_or_unreadable_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let missing = missing.to_str().unwrap();
    let a_dir = dir.path().to_str().unwrap();
    for (args, what) in [
        (
            vec!["-validate", "-from-file", missing],
            format!("{missing} does not exist"),
        ),
        (
            vec!["--validate", &format!("--from-file={missing}")],
            format!("{missing} does not exist"),
        ),
        (
            vec!["-validate", "-from-file", a_dir],
            format!("failed to read {a_dir}: Is a directory"),
        ),
    ] {
        let (code, text, elapsed) = timed(&args);
        assert_eq!(code, 1, "{args:?}: {text}");
        assert!(elapsed < AT_ONCE, "{args:?} took {elapsed:?}");
        assert!(text.contains(&what), "{args:?}: {text}");
    }
    // A source that could appear later is checked once, not awaited.
    let (code, text, elapsed) = timed(&["-validate", "-from-configdrive", missing]);
    assert_eq!(code, 1, "{text}");
    assert!(elapsed < AT_ONCE, "{elapsed:?}");
}

#[test]
#[ignore = "needs root"]
fn issue8_compat_validate_reports_permission_denied_at_once() {
    // Tests run as root, who can read anything: run the binary as nobody. (Not a copy of it: a
    // binary written while other tests fork can fail to exec with ETXTBSY.)
    let dir = tempfile::tempdir().unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = common::BIN;
    let secret = dir.path().join("user_data");
    std::fs::write(&secret, "#cloud-config\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let t = Instant::now();
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(bin)
        .args(["-validate", "-from-file"])
        .arg(&secret)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(t.elapsed() < AT_ONCE);
    assert!(err.contains("Permission denied"), "{err}");
}

#[test]
fn issue8_bare_kindling_prints_a_short_usage_and_exits_2() {
    let out = kindling().output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    for name in ["validate", "apply", "plan", "fetch", "-validate -from-file"] {
        assert!(err.contains(name), "{name}: {err}");
    }
    assert!(err.lines().count() < 20, "{err}");
    // Under the reference's name, the reference's own message, as Flatcar's tools expect.
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("coreos-cloudinit");
    std::os::unix::fs::symlink(common::BIN, &link).unwrap();
    let out = std::process::Command::new(&link).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Provide at least one of --from-file"));
}

#[test]
fn issue8_single_dash_typo_gets_the_did_you_mean_tip() {
    for typo in ["-valdate", "--valdate"] {
        let (code, text, _) = timed(&[typo, "-from-file", "x"]);
        assert_eq!(code, 2, "{typo}: {text}");
        assert!(
            text.contains("tip: a similar argument exists: '--validate'"),
            "{typo}: {text}"
        );
    }
    let (code, text, _) = timed(&["-from-fle", "x", "-validate"]);
    assert_eq!(code, 2);
    assert!(text.contains("'--from-file'"), "{text}");
    // A value that looks like a flag stays a value, as in Go's flag package.
    let (code, text, _) = timed(&["-validate", "-from-file", "-not-a-flag"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("-not-a-flag does not exist"), "{text}");
}

#[test]
fn issue8_help_says_compat_flags_change_the_live_system() {
    let (code, text, _) = timed(&["--help"]);
    assert_eq!(code, 0);
    assert!(
        text.contains(
            "Without -validate, coreos-cloudinit's flags APPLY the config to this running system"
        ),
        "{text}"
    );
}
