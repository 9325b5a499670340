//! Issue 8: apply never makes a host worse. `kindling apply --root` and `kindling plan --root`
//! of the built binary over a real temporary root, with configs whose entries hold invalid or
//! wrong-typed values: those entries are skipped whole, the files they name stay exactly as they
//! were, and both commands say so and exit 1.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Output;

use crate::common;

use common::{is_root, kindling, testdata_root as fresh_root};

/// Runs `kindling SUBCOMMAND --from-file CONFIG --root ROOT`.
fn run(sub: &str, root: &Path, config: &str) -> Output {
    let file = root.join("user-data.yml");
    std::fs::write(&file, config).unwrap();
    kindling()
        .arg(sub)
        .arg("--from-file")
        .arg(&file)
        .arg("--root")
        .arg(root)
        .output()
        .unwrap()
}

fn text(out: &Output) -> (String, String) {
    (common::text(&out.stdout), common::text(&out.stderr))
}

/// A secret as an operator left it: 0600, owned by core:docker.
fn seed_secret(root: &Path, path: &str, content: &str) {
    let host = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(host.parent().unwrap()).unwrap();
    std::fs::write(&host, content).unwrap();
    std::fs::set_permissions(&host, std::fs::Permissions::from_mode(0o600)).unwrap();
    if is_root() {
        std::os::unix::fs::chown(&host, Some(500), Some(233)).unwrap();
    }
}

/// Content, mode and owner: everything that must not change.
fn identity(root: &Path, path: &str) -> (Vec<u8>, u32, u32, u32) {
    let host = root.join(path.trim_start_matches('/'));
    let md = std::fs::symlink_metadata(&host).unwrap();
    (
        std::fs::read(&host).unwrap(),
        md.mode() & 0o7777,
        md.uid(),
        md.gid(),
    )
}

/// Every `write_files` entry below is invalid in one way; each names an existing secret.
const INVALID_ENTRIES: &[(&str, &str)] = &[
    (
        "/etc/secret/octal-prefix",
        "    permissions: \"0o600\"\n    content: NEW-0o600\n",
    ),
    (
        "/etc/secret/trailing-x",
        "    permissions: 600x\n    content: NEW-600x\n",
    ),
    (
        "/etc/secret/word",
        "    permissions: pants\n    content: NEW-pants\n",
    ),
    (
        "/etc/secret/letter-o",
        "    permissions: \"06OO\"\n    content: NEW-06OO\n",
    ),
    (
        "/etc/secret/too-long",
        "    permissions: \"77777\"\n    content: NEW-77777\n",
    ),
    (
        "/etc/secret/mode-list",
        "    permissions: [600]\n    content: NEW-list\n",
    ),
    (
        "/etc/secret/content-map",
        "    permissions: \"0600\"\n    content: {a: b}\n",
    ),
    (
        "/etc/secret/content-list",
        "    permissions: \"0600\"\n    content: [x, y]\n",
    ),
    (
        "/etc/secret/bad-base64",
        "    encoding: b64\n    content: '%%%'\n",
    ),
    ("/etc/secret/bad-binary", "    content: !!binary '%%%'\n"),
    (
        "/etc/secret/bad-encoding",
        "    encoding: rot13\n    content: NEW\n",
    ),
    (
        "/etc/secret/owner-list",
        "    owner: [core]\n    content: NEW-owner\n",
    ),
];

fn invalid_config() -> String {
    let mut config = String::from("#cloud-config\nwrite_files:\n");
    for (path, rest) in INVALID_ENTRIES {
        config.push_str(&format!("  - path: {path}\n{rest}"));
    }
    config
}

#[test]
fn invalid_write_files_entries_leave_existing_secrets_untouched() {
    let dir = fresh_root();
    let root = dir.path();
    for (path, _) in INVALID_ENTRIES {
        seed_secret(root, path, &format!("old secret of {path}\n"));
    }
    let before: Vec<_> = INVALID_ENTRIES
        .iter()
        .map(|(p, _)| identity(root, p))
        .collect();
    let config = invalid_config();

    let plan = run("plan", root, &config);
    let (stdout, stderr) = text(&plan);
    assert_eq!(plan.status.code(), Some(1), "{stdout}\n{stderr}");
    for (path, _) in INVALID_ENTRIES {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(&format!("! user-data: write_files \"{path}\": line "))),
            "{path} is not marked failed:\n{stdout}"
        );
    }
    assert!(
        stdout.ends_with(&format!(
            "0 to change, 0 unchanged, {} problems (marked !)\n",
            INVALID_ENTRIES.len()
        )),
        "{stdout}"
    );
    // Neither the new content nor the old is shown: no diff of a skipped entry.
    assert!(
        !stdout.contains("NEW") && !stdout.contains("old secret"),
        "{stdout}"
    );

    let apply = run("apply", root, &config);
    let (stdout, stderr) = text(&apply);
    assert_eq!(apply.status.code(), Some(1), "{stdout}\n{stderr}");
    assert_eq!(
        stdout.lines().last(),
        Some(format!("0 changed, 0 unchanged, {} failed", INVALID_ENTRIES.len()).as_str()),
        "{stderr}"
    );
    for ((path, _), before) in INVALID_ENTRIES.iter().zip(&before) {
        assert_eq!(&identity(root, path), before, "{path} changed");
        assert!(
            stderr.contains(&format!("failed: user-data: write_files \"{path}\": line ")),
            "{path}: {stderr}"
        );
    }
    assert!(
        !stderr.contains("NEW") && !stderr.contains("old secret"),
        "{stderr}"
    );
}

#[test]
fn invalid_entries_of_every_kind_are_skipped_whole_and_the_rest_applies() {
    let dir = fresh_root();
    let root = dir.path();
    seed_secret(
        root,
        "/etc/systemd/system/app.service.d/10-env.conf",
        "[Service]\nEnvironment=A=1\n",
    );
    let before = identity(root, "/etc/systemd/system/app.service.d/10-env.conf");
    let config = r#"#cloud-config
hostname: [node]
users:
  - name: ann
    groups: docker,wheel
write_files:
  - path: /etc/fine
    content: fine
coreos:
  units:
    - name: app.service
      command: launch
      content: "[Service]\nExecStart=/bin/true\n"
      drop_ins:
        - name: 10-env.conf
          content: "[Service]\nEnvironment=A=2\n"
    - name: web.service
      content: "[Service]\nExecStart=/bin/true\n"
      drop_ins:
        - name: 10-a.conf
          content: [x]
        - name: 20-b.conf
          content: "[Service]\n"
  etcd2:
    name: node
    proxy: maybe
  update:
    reboot_strategy: sometimes
    group: beta
"#;
    let out = run("apply", root, config);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    // Hostname, user, unit (with its drop-in), drop-in, etcd2, update: six failures.
    assert!(stdout.ends_with(", 6 failed\n"), "{stdout}\n{stderr}");
    for what in [
        "failed: user-data: hostname: line 2",
        "failed: user-data: user \"ann\": line 5",
        "failed: user-data: unit \"app.service\": line 12",
        "failed: user-data: drop-in \"10-a.conf\" of unit \"web.service\": line 21",
        "failed: user-data: coreos.etcd2: line 26",
        "failed: user-data: coreos.update: line 28",
    ] {
        assert!(stderr.contains(what), "{what}\n{stderr}");
    }
    let exists = |p: &str| root.join(p).exists();
    assert_eq!(
        std::fs::read_to_string(root.join("etc/hostname")).unwrap(),
        "node-0\n"
    );
    assert!(!std::fs::read_to_string(root.join("etc/passwd"))
        .unwrap()
        .contains("ann:"));
    assert!(!exists("etc/systemd/system/app.service"));
    assert_eq!(
        identity(root, "/etc/systemd/system/app.service.d/10-env.conf"),
        before
    );
    assert!(!exists(
        "run/systemd/system/etcd2.service.d/20-cloudinit.conf"
    ));
    assert!(
        !exists("etc/coreos/update.conf")
            || !std::fs::read_to_string(root.join("etc/coreos/update.conf"))
                .unwrap()
                .contains("beta")
    );
    // The valid rest is applied.
    assert_eq!(
        std::fs::read_to_string(root.join("etc/fine")).unwrap(),
        "fine"
    );
    assert!(exists("etc/systemd/system/web.service"));
    assert!(exists("etc/systemd/system/web.service.d/20-b.conf"));
    assert!(!exists("etc/systemd/system/web.service.d/10-a.conf"));
}

/// The lines of `plan` marked `!`, and the steps `apply` logs as failed, without their marks.
fn problems(plan_stdout: &str) -> Vec<String> {
    plan_stdout
        .lines()
        .filter_map(|l| l.strip_prefix("! "))
        .map(str::to_string)
        .collect()
}

fn failures(apply_stderr: &str) -> Vec<String> {
    apply_stderr
        .lines()
        .filter_map(|l| l.strip_prefix("error: failed: "))
        .map(str::to_string)
        .collect()
}

const UNTRUE_PLAN: &str = r#"#cloud-config
users:
  - name: eve
    groups: [nosuch]
  - name: deploy
    groups: [docker]
write_files:
  - path: /etc/owned-by-ghost
    owner: ghost
    content: x
  - path: /etc/owned-by-deploy
    owner: deploy:deploy
    content: y
coreos:
  units:
    - name: foo
      content: "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n"
      enable: true
"#;

/// Issue 8 item 4: an owner or group the target lacks, and enabling a unit systemd cannot
/// load, are `!` in the plan (which exits 1 and counts them), and exactly the steps apply fails.
#[test]
#[ignore = "needs root"]
fn plan_marks_the_steps_apply_fails() {
    let dir = fresh_root();
    let root = dir.path();
    let plan = run("plan", root, UNTRUE_PLAN);
    let (stdout, stderr) = text(&plan);
    assert_eq!(plan.status.code(), Some(1), "{stdout}\n{stderr}");
    let marked = problems(&stdout);
    assert_eq!(marked.len(), 3, "{stdout}");
    assert!(
        marked[0].starts_with("user-data: user \"eve\": group \"nosuch\" is not in"),
        "{marked:?}"
    );
    assert!(
        marked[1]
            .starts_with("user-data: write_files \"/etc/owned-by-ghost\": unknown user \"ghost\""),
        "{marked:?}"
    );
    assert!(
        marked[2].starts_with("user-data: enable \"foo\": systemd cannot enable"),
        "{marked:?}"
    );
    assert!(stdout.ends_with(", 3 problems (marked !)\n"), "{stdout}");
    // deploy:deploy resolves once the plan has created deploy: no problem.
    assert!(
        stdout.contains("~ user-data: write file /etc/owned-by-deploy"),
        "{stdout}"
    );

    let apply = run("apply", root, UNTRUE_PLAN);
    let (stdout, stderr) = text(&apply);
    assert_eq!(apply.status.code(), Some(1), "{stdout}\n{stderr}");
    assert_eq!(failures(&stderr), marked, "{stderr}");
    assert!(stdout.ends_with(", 3 failed\n"), "{stdout}");
    assert!(!root.join("etc/owned-by-ghost").exists());
    let deploy = std::fs::metadata(root.join("etc/owned-by-deploy")).unwrap();
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
    let uid: u32 = passwd
        .lines()
        .find(|l| l.starts_with("deploy:"))
        .and_then(|l| l.split(':').nth(2))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(deploy.uid(), uid);
    assert!(!passwd.contains("eve:"));
}

/// Issue 8 item 8: what the reference accepts though the validator flags it is applied as the
/// reference does, with a warning: a relative path under `/`, a unit without a known suffix.
#[test]
fn relative_paths_and_suffixless_units_are_applied_with_a_warning() {
    let dir = fresh_root();
    let root = dir.path();
    let config = "#cloud-config\nwrite_files:\n  - path: etc/relative.conf\n    content: rel\ncoreos:\n  units:\n    - name: foo\n      content: \"[Service]\\nExecStart=/bin/true\\n\"\n    - name: bar.servce\n      mask: true\n";
    let out = run("apply", root, config);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        std::fs::read_to_string(root.join("etc/relative.conf")).unwrap(),
        "rel"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("etc/systemd/system/foo")).unwrap(),
        "[Service]\nExecStart=/bin/true\n"
    );
    assert_eq!(
        std::fs::read_link(root.join("etc/systemd/system/bar.servce")).unwrap(),
        Path::new("/dev/null")
    );
    assert!(stderr.contains("warning: user-data: line 3: write_files path \"etc/relative.conf\" is not absolute; written as \"/etc/relative.conf\""), "{stderr}");
    assert!(
        stderr.contains(
            "warning: user-data: line 7: unit name \"foo\" has no known unit type suffix"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "warning: user-data: line 9: unit name \"bar.servce\" has no known unit type suffix"
        ),
        "{stderr}"
    );
    // `validate` still calls both errors (decisions.md, deliberate differences).
    let file = root.join("user-data.yml");
    let v = kindling().arg("validate").arg(&file).output().unwrap();
    assert_eq!(v.status.code(), Some(1));
}

/// Issue 8 item 4: user-data that cannot be read fails `plan` as it fails `apply`, naming the
/// path, instead of "0 to change" and exit 0.
#[test]
fn plan_fails_when_the_user_data_cannot_be_read() {
    let dir = fresh_root();
    let root = dir.path();
    let big = root.join("big.yml");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(17 << 20).unwrap();
    for (source, why) in [
        (root.join("etc"), "Is a directory"),
        (big, "larger than the limit"),
    ] {
        for sub in ["plan", "apply"] {
            let out = kindling()
                .arg(sub)
                .arg("--from-file")
                .arg(&source)
                .arg("--root")
                .arg(root)
                .env_remove("JOURNAL_STREAM")
                .output()
                .unwrap();
            let (stdout, stderr) = text(&out);
            assert_eq!(out.status.code(), Some(1), "{sub}: {stdout}\n{stderr}");
            let said = format!("{stdout}{stderr}");
            assert!(
                said.contains(&format!(
                    "cannot fetch user-data from local-file {}",
                    source.display()
                )) && said.contains(why),
                "{sub}: {said}"
            );
            if sub == "plan" {
                assert!(
                    stdout.ends_with("0 to change, 0 unchanged, 1 problem (marked !)\n"),
                    "{stdout}"
                );
            } else {
                assert!(
                    stdout.ends_with("0 changed, 0 unchanged, 1 failed\n"),
                    "{stdout}"
                );
            }
        }
    }
}

/// Issue 8 item 4: a part that is not applied says why, in the validator's words.
#[test]
fn an_ignored_user_data_says_why() {
    let dir = fresh_root();
    let out = run(
        "plan",
        dir.path(),
        "#cloud-config with text after it\nhostname: x\n",
    );
    let (_, stderr) = text(&out);
    assert!(
        stderr.contains("user-data: not applied: line 1 must be exactly \"#cloud-config\""),
        "{stderr}"
    );
}

/// Issue 8 item 4: addresses the metadata lacks are substituted by empty strings, said once.
#[test]
fn empty_address_substitutions_are_said_once() {
    let dir = fresh_root();
    let config = "#cloud-config\nwrite_files:\n  - path: /etc/ip\n    content: \"$public_ipv4 $public_ipv4 $private_ipv6\"\n";
    for sub in ["plan", "apply"] {
        let out = run(sub, dir.path(), config);
        let (_, stderr) = text(&out);
        let said: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains("replaced by an empty string"))
            .collect();
        assert_eq!(
            said,
            vec!["warning: $public_ipv4, $private_ipv6 replaced by an empty string: the metadata has no such address and COREOS_PUBLIC_IPV4, COREOS_PRIVATE_IPV6 are not set"],
            "{sub}: {stderr}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("etc/ip")).unwrap(),
        "  "
    );
}

/// Issue 8 item 4: core's keys where `core` does not exist are a problem of the plan, which
/// then shows the parts as skipped, as apply skips them.
#[test]
fn core_keys_without_core_are_a_problem() {
    let dir = fresh_root();
    let root = dir.path();
    for file in ["etc/passwd", "etc/shadow"] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let kept: String = text
            .lines()
            .filter(|l| !l.starts_with("core:"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(root.join(file), kept).unwrap();
    }
    let config = "#cloud-config\nssh_authorized_keys:\n  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBeDVRlfwTCxjtbNPzSD3BN2iK7132OSIJdGuLe1iSVd ops@laptop\nwrite_files:\n  - path: /etc/motd\n    content: hi\n";
    let plan = run("plan", root, config);
    let (stdout, stderr) = text(&plan);
    assert_eq!(plan.status.code(), Some(1), "{stdout}\n{stderr}");
    assert_eq!(
        problems(&stdout),
        vec!["SSH keys of \"core\": user \"core\" does not exist in the target's /etc/passwd, and no part creates it; not written"]
    );
    assert!(stdout.contains("- user-data: write file /etc/motd (2 bytes, mode 0644) (skipped: the hostname or core's SSH keys fail)"), "{stdout}");
    let apply = run("apply", root, config);
    let (stdout, stderr) = text(&apply);
    assert_eq!(apply.status.code(), Some(1), "{stdout}\n{stderr}");
    assert_eq!(failures(&stderr), problems(&text(&plan).0));
    assert!(!root.join("etc/motd").exists());
}
