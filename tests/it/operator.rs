//! What operators get around the binary: `--version`, shell completions, the man page, the
//! editor schema, colour.

use std::process::{Command as Process, Stdio};

use assert_cmd::Command;
use clap::CommandFactory;

use crate::common;

use common::{assert_kindling as kindling, config as data};

fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn version_names_the_commit_when_built_in_git() {
    let out = stdout_of(kindling().arg("--version"));
    let version = env!("CARGO_PKG_VERSION");
    // This test runs in a checkout, so the build script found a commit: `(abc1234 2026-11-29)`.
    let rest = out
        .strip_prefix(&format!("kindling {version} ("))
        .and_then(|r| r.strip_suffix(")\n"))
        .unwrap_or_else(|| panic!("{out:?}"));
    let (hash, date) = rest.split_once(' ').unwrap();
    assert!(
        hash.len() >= 7 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        "{hash}"
    );
    let head = Process::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(common::repo(""))
        .output()
        .unwrap();
    // A commit made since the last build reruns the build script (rerun-if-changed on the ref).
    assert!(String::from_utf8_lossy(&head.stdout).starts_with(hash));
    let d: Vec<&str> = date.split('-').collect();
    assert_eq!(
        d.iter().map(|p| p.len()).collect::<Vec<_>>(),
        [4, 2, 2],
        "{date}"
    );
    // The compat spelling prints the same line.
    assert_eq!(stdout_of(kindling().arg("-version")), out);
}

fn check_syntax(shell: &str, flag: &str, script: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("completion");
    std::fs::write(&path, script).unwrap();
    let out = Process::new(shell)
        .arg(flag)
        .arg(&path)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{shell} {flag}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn have(program: &str) -> bool {
    Process::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success()
}

#[test]
fn completions_parse_in_their_shells() {
    let bash = stdout_of(kindling().args(["completions", "bash"]));
    check_syntax("bash", "-n", bash.as_bytes());
    // Subcommands and their flags are completed.
    for word in ["validate", "schema", "--from-file", "--strict", "--root"] {
        assert!(bash.contains(word), "{word} not in the bash completion");
    }
    // A sourced script registers the function for `kindling`.
    let out = Process::new("bash")
        .args(["-c", "source /dev/stdin; complete -p kindling"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(bash.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("kindling"),
        "{out:?}"
    );
    let zsh = stdout_of(kindling().args(["completions", "zsh"]));
    assert!(zsh.starts_with("#compdef kindling"), "{zsh}");
    let fish = stdout_of(kindling().args(["completions", "fish"]));
    assert!(fish.contains("complete -c kindling"), "{fish}");
    // zsh and fish are checked when present (CI installs neither; bash is the Debian default).
    if have("zsh") {
        check_syntax("zsh", "-n", zsh.as_bytes());
    }
    if have("fish") {
        check_syntax("fish", "--no-execute", fish.as_bytes());
    }
    let out = kindling().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("possible values: bash, zsh, fish"), "{err}");
}

/// Runs kindling under a pseudo-terminal (util-linux `script`), so that `auto` sees a terminal.
fn on_a_terminal(args: &str, env: &[(&str, &str)]) -> String {
    let mut cmd = Process::new("script");
    cmd.args(["-qec", &format!("{} {args}", common::BIN), "/dev/null"])
        .env_remove("NO_COLOR")
        .env("TERM", "xterm")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    String::from_utf8(cmd.output().unwrap().stdout).unwrap()
}

const ESC: char = '\x1b';

#[test]
fn colour_only_on_a_terminal_without_no_color() {
    let broken = data("demo-broken.yml");
    // A pipe: never coloured, whatever the choice is but always.
    let out = kindling()
        .args(["validate", &broken])
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains(ESC));
    let always = kindling()
        .args(["validate", "--color", "always", &broken])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let always = String::from_utf8_lossy(&always.stdout);
    // The kind is painted with its rule code, as rustc paints `error[E0308]`.
    assert!(
        always.contains("\x1b[1;31merror[invalid-hostname]\x1b[0m: "),
        "{always}"
    );
    assert!(always.contains("\x1b[1;33mwarning["), "{always}");

    let tty = on_a_terminal(&format!("validate {broken}"), &[]);
    assert!(
        tty.contains("\x1b[1;31merror[invalid-hostname]\x1b[0m"),
        "{tty:?}"
    );
    let tty = on_a_terminal(&format!("validate {broken}"), &[("NO_COLOR", "1")]);
    assert!(!tty.contains(ESC), "{tty:?}");
    assert!(
        tty.contains("error[invalid-hostname]: invalid hostname"),
        "{tty:?}"
    );
    let tty = on_a_terminal(&format!("validate --color never {broken}"), &[]);
    assert!(!tty.contains(ESC), "{tty:?}");
    let tty = on_a_terminal(
        &format!("validate --color auto {broken}"),
        &[("TERM", "dumb")],
    );
    assert!(!tty.contains(ESC), "{tty:?}");
    // JSON is for programs: never coloured.
    let tty = on_a_terminal(
        &format!("validate --format json --color always {broken}"),
        &[],
    );
    assert!(!tty.contains(ESC), "{tty:?}");
}

#[test]
fn the_plan_marks_changes_in_colour() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    let config = root.path().join("user-data");
    std::fs::write(
        &config,
        "#cloud-config\nwrite_files:\n  - path: /etc/motd\n    content: hello\n",
    )
    .unwrap();
    let args = |color: &str| {
        vec![
            "plan".to_string(),
            "--color".into(),
            color.into(),
            "--root".into(),
            root.path().display().to_string(),
            "--from-file".into(),
            config.display().to_string(),
        ]
    };
    let out = kindling().args(args("always")).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("\x1b[1;33m~ user-data: write file /etc/motd"),
        "{text}"
    );
    assert!(text.contains("\x1b[32m    +hello\x1b[0m"), "{text}");
    let out = kindling().args(args("auto")).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("~ user-data: write file /etc/motd") && !text.contains(ESC),
        "{text}"
    );
}

#[test]
fn the_plan_as_json_lines() {
    let root = tempfile::tempdir().unwrap();
    for dir in ["etc", "home"] {
        std::fs::create_dir_all(root.path().join(dir)).unwrap();
    }
    std::fs::write(
        root.path().join("etc/passwd"),
        "root:x:0:0::/root:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(root.path().join("etc/group"), "root:x:0:\n").unwrap();
    std::fs::write(root.path().join("etc/motd"), "old\n").unwrap();
    let hash = "$6$saltsalt$0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ";
    let config = root.path().join("user-data");
    std::fs::write(
        &config,
        format!(
            "#cloud-config\n\
             users:\n  - name: ann\n    passwd: {hash}\n\
             write_files:\n\
             \x20 - path: /etc/motd\n    content: new\n\
             \x20 - path: /etc/secret.conf\n    permissions: \"0600\"\n    content: top-secret-value\n\
             \x20 - path: /etc/odd\n    permissions: \"0999\"\n    content: x\n\
             coreos:\n  units:\n    - name: a.service\n      command: start\n      content: |\n        [Service]\n        ExecStart=/bin/true\n"
        ),
    )
    .unwrap();
    let out = kindling()
        .args(["plan", "--format", "json", "--root"])
        .arg(root.path())
        .arg("--from-file")
        .arg(&config)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    // The invalid mode is a problem: the plan fails, as the human one does.
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        !text.contains(hash) && !text.contains("top-secret-value"),
        "{text}"
    );
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let find = |kind: &str, target: &str| {
        lines
            .iter()
            .find(|l| l["kind"] == kind && l["target"] == target)
            .unwrap_or_else(|| panic!("no {kind} {target} in {text}"))
    };
    let user = find("create_user", "ann");
    assert_eq!(user["password"], true);
    assert_eq!(user["status"], "change");
    let motd = find("write_file", "/etc/motd");
    assert_eq!(motd["change"], true);
    assert_eq!(motd["mode"], "0644");
    assert_eq!(motd["problem"], serde_json::Value::Null);
    let diff = motd["diff"].as_str().unwrap();
    assert!(diff.contains("-old\n") && diff.contains("+new"), "{diff}");
    let secret = find("write_file", "/etc/secret.conf");
    assert_eq!(secret["diff"], serde_json::Value::Null);
    assert_eq!(secret["content_hidden"], true);
    let start = find("unit_command", "a.service");
    assert_eq!(start["command"], "start");
    // An offline root has no systemd to start it.
    assert_eq!(start["status"], "skipped");
    let problem = lines
        .iter()
        .find(|l| l["status"] == "problem")
        .unwrap_or_else(|| panic!("no problem in {text}"));
    assert!(
        problem["problem"].as_str().unwrap().contains("\"0999\""),
        "{problem}"
    );
    let summary = lines.last().unwrap();
    assert_eq!(summary["kind"], "summary");
    assert_eq!(summary["problem"], 1);
    assert_eq!(summary["skipped"], 1);
    let steps = lines.len() - 1;
    let counted: u64 = ["change", "unchanged", "skipped", "problem"]
        .iter()
        .map(|k| summary[k].as_u64().unwrap())
        .sum();
    assert_eq!(counted as usize, steps);
    // apply only prints a plan with --dry-run.
    let out = kindling()
        .args(["apply", "--format", "json", "--root"])
        .arg(root.path())
        .arg("--from-file")
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// man-db renders the page with groff's warnings on: none may appear, and every subcommand
/// has its section.
#[test]
fn man_renders_the_page_without_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kindling.1");
    std::fs::write(
        &path,
        kindling::cmd::manpage::render(kindling::cli::Cli::command()).unwrap(),
    )
    .unwrap();
    let out = Process::new("man")
        .args(["--warnings", "-l"])
        .arg(&path)
        .env("MANWIDTH", "100")
        .env("MAN_KEEP_FORMATTING", "")
        .env("PAGER", "cat")
        .output()
        .expect("man (man-db) is installed");
    let text = String::from_utf8_lossy(&out.stdout);
    let errors = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{errors}");
    assert_eq!(errors, "", "groff warnings");
    for heading in [
        "NAME",
        "SYNOPSIS",
        "KINDLING VALIDATE",
        "KINDLING APPLY",
        "KINDLING PLAN",
        "KINDLING FETCH",
        "KINDLING SCHEMA",
        "KINDLING COMPLETIONS",
        "EXIT STATUS",
        "FILES",
    ] {
        assert!(
            text.lines().any(|l| l == heading),
            "no {heading:?} section in:\n{text}"
        );
    }
    assert!(text.contains("--from-file <PATH>"), "{text}");
    assert!(text.contains(env!("KINDLING_VERSION")), "{text}");
}

/// Runs kindling with standard output a pipe whose reader has already gone (`kindling schema |
/// head -c0`, deterministic): each write fails with EPIPE, as Rust ignores SIGPIPE.
fn into_a_closed_pipe(args: &[&std::ffi::OsStr]) -> std::process::Output {
    let (read, write) = nix::unistd::pipe().unwrap();
    drop(read);
    common::kindling()
        .args(args)
        .stdout(Stdio::from(write))
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_reader_that_went_away_ends_the_output_quietly() {
    let root = common::testdata_root();
    let user_data = root.path().join("user-data");
    std::fs::write(
        &user_data,
        "#cloud-config\nwrite_files:\n  - path: /etc/motd\n    content: hello\n",
    )
    .unwrap();
    let os = |s: &'static str| std::ffi::OsStr::new(s);
    let (r, u) = (root.path().as_os_str(), user_data.as_os_str());
    let cases: Vec<(Vec<&std::ffi::OsStr>, i32)> = vec![
        (vec![os("schema")], 0),
        (vec![os("completions"), os("bash")], 0),
        (vec![os("fetch"), os("--from-file"), u], 0),
        (vec![os("convert"), u], 0),
        (vec![os("plan"), os("--root"), r, os("--from-file"), u], 0),
        (
            vec![
                os("plan"),
                os("--format"),
                os("json"),
                os("--root"),
                r,
                os("--from-file"),
                u,
            ],
            0,
        ),
        // The summary is lost, not the work: the file is written and the run succeeds.
        (vec![os("apply"), os("--root"), r, os("--from-file"), u], 0),
    ];
    for (args, code) in cases {
        let out = into_a_closed_pipe(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    assert_eq!(
        std::fs::read_to_string(root.path().join("etc/motd")).unwrap(),
        "hello"
    );
}
