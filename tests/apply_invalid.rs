//! Issue 8: apply never makes a host worse. `kindling apply --root` and `kindling plan --root`
//! of the built binary over a real temporary root, with configs whose entries hold invalid or
//! wrong-typed values: those entries are skipped whole, the files they name stay exactly as they
//! were, and both commands say so and exit 1.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output};

fn kindling() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kindling"))
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// testdata/root (users root, core 500, groups docker 233, …) in a temporary directory.
fn fresh_root() -> tempfile::TempDir {
    fn copy_tree(from: &Path, to: &Path) {
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let dest = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                std::fs::create_dir_all(&dest).unwrap();
                copy_tree(&entry.path(), &dest);
            } else {
                std::fs::copy(entry.path(), &dest).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/root"),
        dir.path(),
    );
    dir
}

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
        .env_remove("JOURNAL_STREAM")
        .env_remove("COREOS_PUBLIC_IPV4")
        .env_remove("COREOS_PRIVATE_IPV4")
        .output()
        .unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
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
