//! The boot job as a library call: `kindling::boot::run` with a `BootOptions`, a file source and
//! a temporary root — what `kindling apply --root` and the compat flags do, without the CLI.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kindling::boot::{self, BootOptions, Outcome, SourceArgs, SourceError};
use kindling::datasource::Sources;
use kindling::report::Format;

const CONFIG: &str = "#cloud-config
hostname: booted
write_files:
  - path: /etc/motd
    content: |
      hello from boot::run
  - path: /etc/kindling/secret.conf
    permissions: '0600'
    content: key=value
coreos:
  units:
    - name: hello.service
      enable: true
      content: |
        [Service]
        ExecStart=/bin/true
        [Install]
        WantedBy=multi-user.target
";

fn options(user_data: &Path, root: &Path, plan_only: Option<Format>) -> BootOptions {
    let sources = SourceArgs {
        sources: Sources {
            file: Some(user_data.to_path_buf()),
            ..Sources::default()
        },
        ..SourceArgs::default()
    };
    BootOptions {
        sources: sources.resolve().unwrap(),
        root: Some(root.to_path_buf()),
        plan_only,
        job_timeout: Duration::from_secs(5),
        timeout: Duration::from_secs(5),
        plan: kindling::plan::Options::default(),
        ignore_failure: false,
    }
}

/// A temporary root and the user-data file beside (not inside) it.
fn setup(config: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    let user_data = dir.path().join("user-data");
    std::fs::write(&user_data, config).unwrap();
    (dir, root, user_data)
}

/// Every file and symlink under `root`, with its content or target, for "changed nothing".
fn snapshot(root: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let what = if meta.is_symlink() {
                format!("-> {}", std::fs::read_link(&path).unwrap().display())
            } else if meta.is_dir() {
                stack.push(path.clone());
                "dir".into()
            } else {
                std::fs::read_to_string(&path).unwrap_or_default()
            };
            out.push((path.strip_prefix(root).unwrap().to_path_buf(), what));
        }
    }
    out.sort();
    out
}

#[test]
fn run_applies_a_file_source_to_a_root_and_a_second_run_changes_nothing() {
    let (_dir, root, user_data) = setup(CONFIG);
    let opts = options(&user_data, &root, None);
    assert_eq!(boot::run(&opts), Outcome::Clean);

    assert_eq!(
        std::fs::read_to_string(root.join("etc/motd")).unwrap(),
        "hello from boot::run\n"
    );
    let secret = root.join("etc/kindling/secret.conf");
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "key=value");
    let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
    assert_eq!(mode & 0o7777, 0o600);
    assert_eq!(
        std::fs::read_to_string(root.join("etc/hostname")).unwrap(),
        "booted\n"
    );
    let unit = root.join("etc/systemd/system/hello.service");
    assert!(std::fs::read_to_string(&unit)
        .unwrap()
        .contains("ExecStart=/bin/true"));
    let wants = root.join("etc/systemd/system/multi-user.target.wants/hello.service");
    assert!(std::fs::symlink_metadata(&wants).unwrap().is_symlink());

    let before = snapshot(&root);
    assert_eq!(boot::run(&opts), Outcome::Clean);
    assert_eq!(snapshot(&root), before);
}

#[test]
fn run_with_plan_only_changes_nothing() {
    let (_dir, root, user_data) = setup(CONFIG);
    let before = snapshot(&root);
    for format in [Format::Human, Format::Json] {
        assert_eq!(
            boot::run(&options(&user_data, &root, Some(format))),
            Outcome::Clean
        );
        assert_eq!(snapshot(&root), before);
    }
}

#[test]
fn run_skips_an_invalid_entry_and_fails() {
    let config = "#cloud-config
write_files:
  - path: /etc/good
    content: good
  - path: /etc/bad
    permissions: 'rw-r--r--'
    content: bad
";
    let (_dir, root, user_data) = setup(config);
    assert_eq!(
        boot::run(&options(&user_data, &root, None)),
        Outcome::Failed
    );
    assert_eq!(
        std::fs::read_to_string(root.join("etc/good")).unwrap(),
        "good"
    );
    assert!(!root.join("etc/bad").exists());
}

#[test]
fn run_fails_when_the_source_is_missing() {
    let (_dir, root, user_data) = setup(CONFIG);
    std::fs::remove_file(&user_data).unwrap();
    let mut opts = options(&user_data, &root, None);
    opts.timeout = Duration::from_secs(1);
    assert_eq!(boot::run(&opts), Outcome::Failed);
    assert!(!root.join("etc/motd").exists());
}

#[test]
fn resolve_expands_the_oem_preset_and_refuses_no_source() {
    let gce = SourceArgs {
        oem: Some("gce".into()),
        ..SourceArgs::default()
    };
    let gce = gce.resolve().unwrap();
    assert_eq!(
        gce.sources.gce.as_deref(),
        Some("http://metadata.google.internal/")
    );
    assert_eq!(
        SourceArgs::default().resolve().unwrap_err(),
        SourceError::NoSource
    );
    let bad = SourceArgs {
        oem: Some("nope".into()),
        ..SourceArgs::default()
    };
    assert!(matches!(bad.resolve(), Err(SourceError::Invalid(m)) if m.contains("-oem")));
}
