//! OfflineSystemd on temporary roots: the [Install] symlinks `systemctl --root enable` makes,
//! and the unit-file states it reports.

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::{Path, PathBuf};

use kindling::apply::systemd::offline::OfflineSystemd;
use kindling::apply::systemd::{JobResult, Systemd, SystemdError, TransientService};
use kindling::unit::UnitCommand;

struct Root {
    dir: tempfile::TempDir,
}

impl Root {
    fn new() -> Root {
        Root {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, inner: &str) -> PathBuf {
        self.dir.path().join(inner.trim_start_matches('/'))
    }

    fn write(&self, inner: &str, content: &str) {
        let path = self.path(inner);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }

    fn symlink(&self, inner: &str, target: &str) {
        let path = self.path(inner);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        symlink(target, path).unwrap();
    }

    /// The target of the symlink at `inner`, None when there is none.
    fn link(&self, inner: &str) -> Option<String> {
        fs::read_link(self.path(inner))
            .ok()
            .map(|t| t.to_string_lossy().into_owned())
    }

    /// Every path under `inner`, relative to it, sorted.
    fn tree(&self, inner: &str) -> Vec<String> {
        fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
            let Ok(entries) = fs::read_dir(dir) else {
                return;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                out.push(path.strip_prefix(base).unwrap().display().to_string());
                if fs::symlink_metadata(&path).unwrap().is_dir() {
                    walk(base, &path, out);
                }
            }
        }
        let base = self.path(inner);
        let mut out = Vec::new();
        walk(&base, &base, &mut out);
        out.sort();
        out
    }

    fn systemd(&self) -> OfflineSystemd {
        OfflineSystemd::new(self.dir.path())
    }
}

fn names(units: &[&str]) -> Vec<String> {
    units.iter().map(|u| u.to_string()).collect()
}

fn state(systemd: &OfflineSystemd, unit: &str) -> Option<String> {
    systemd.unit_file_state(unit).unwrap()
}

const WANTED: &str = "[Unit]\nDescription=app\n\n[Service]\nExecStart=/bin/true\n\n\
                      [Install]\nWantedBy=multi-user.target\n";

#[test]
fn wanted_by_links_the_unit_file_into_the_target_wants_directory() {
    let root = Root::new();
    root.write("/usr/lib/systemd/system/app.service", WANTED);
    let systemd = root.systemd();
    assert_eq!(state(&systemd, "app.service").as_deref(), Some("disabled"));
    systemd.enable(&names(&["app.service"]), false).unwrap();
    assert_eq!(
        root.link("/etc/systemd/system/multi-user.target.wants/app.service")
            .as_deref(),
        Some("/usr/lib/systemd/system/app.service")
    );
    assert_eq!(
        root.tree("/etc/systemd/system"),
        [
            "multi-user.target.wants",
            "multi-user.target.wants/app.service"
        ]
    );
    assert_eq!(state(&systemd, "app.service").as_deref(), Some("enabled"));
}

#[test]
fn a_unit_in_etc_is_linked_at_its_path_in_etc() {
    let root = Root::new();
    root.write("/etc/systemd/system/app.service", WANTED);
    // A vendor copy further down the search path is shadowed.
    root.write("/lib/systemd/system/app.service", WANTED);
    root.systemd()
        .enable(&names(&["app.service"]), false)
        .unwrap();
    assert_eq!(
        root.link("/etc/systemd/system/multi-user.target.wants/app.service")
            .as_deref(),
        Some("/etc/systemd/system/app.service")
    );
}

#[test]
fn runtime_links_go_under_run() {
    let root = Root::new();
    root.write("/usr/lib/systemd/system/app.service", WANTED);
    let systemd = root.systemd();
    systemd.enable(&names(&["app.service"]), true).unwrap();
    assert_eq!(
        root.link("/run/systemd/system/multi-user.target.wants/app.service")
            .as_deref(),
        Some("/usr/lib/systemd/system/app.service")
    );
    assert!(!root.path("/etc/systemd/system").exists());
    assert_eq!(
        state(&systemd, "app.service").as_deref(),
        Some("enabled-runtime")
    );
    // Persistent enablement wins over runtime.
    systemd.enable(&names(&["app.service"]), false).unwrap();
    assert_eq!(state(&systemd, "app.service").as_deref(), Some("enabled"));
}

#[test]
fn lists_accumulate_over_lines_and_every_kind_of_dependency_is_linked() {
    let root = Root::new();
    root.write(
        "/usr/lib/systemd/system/app.service",
        "[Service]\nExecStart=/bin/true\n# WantedBy=commented.target\n\
         [Install]\n\
         WantedBy=dropped.target\n\
         WantedBy=\n\
         WantedBy=a.target  b.target\n\
         ; a comment\n\
         WantedBy = c.target \\\n  d.target\n\
         RequiredBy=e.target\n\
         UpheldBy=f.target\n\
         [X-Other]\nWantedBy=other.target\n",
    );
    root.systemd()
        .enable(&names(&["app.service"]), false)
        .unwrap();
    let target = Some("/usr/lib/systemd/system/app.service");
    for link in [
        "a.target.wants",
        "b.target.wants",
        "c.target.wants",
        "d.target.wants",
        "e.target.requires",
        "f.target.upholds",
    ] {
        assert_eq!(
            root.link(&format!("/etc/systemd/system/{link}/app.service"))
                .as_deref(),
            target,
            "{link}"
        );
    }
    assert_eq!(root.tree("/etc/systemd/system").len(), 12);
}

#[test]
fn alias_links_the_other_name_to_the_unit_file() {
    let root = Root::new();
    root.write(
        "/usr/lib/systemd/system/app.service",
        "[Install]\nAlias=app-alias.service dbus-org.example.App.service\n",
    );
    let systemd = root.systemd();
    systemd.enable(&names(&["app.service"]), false).unwrap();
    for alias in ["app-alias.service", "dbus-org.example.App.service"] {
        assert_eq!(
            root.link(&format!("/etc/systemd/system/{alias}"))
                .as_deref(),
            Some("/usr/lib/systemd/system/app.service")
        );
    }
    assert_eq!(state(&systemd, "app.service").as_deref(), Some("enabled"));
}

#[test]
fn also_enables_the_named_units_once_even_in_a_cycle() {
    let root = Root::new();
    root.write(
        "/usr/lib/systemd/system/app.service",
        "[Install]\nWantedBy=multi-user.target\nAlso=app.socket\n",
    );
    root.write(
        "/usr/lib/systemd/system/app.socket",
        "[Install]\nWantedBy=sockets.target\nAlso=app.service\n",
    );
    root.write(
        "/usr/lib/systemd/system/only-also.service",
        "[Install]\nAlso=app.socket\n",
    );
    let systemd = root.systemd();
    assert_eq!(
        state(&systemd, "only-also.service").as_deref(),
        Some("indirect")
    );
    systemd
        .enable(&names(&["only-also.service"]), false)
        .unwrap();
    assert_eq!(
        root.tree("/etc/systemd/system"),
        [
            "multi-user.target.wants",
            "multi-user.target.wants/app.service",
            "sockets.target.wants",
            "sockets.target.wants/app.socket",
        ]
    );
    assert_eq!(
        root.link("/etc/systemd/system/sockets.target.wants/app.socket")
            .as_deref(),
        Some("/usr/lib/systemd/system/app.socket")
    );
}

#[test]
fn templates_are_enabled_with_their_default_or_given_instance() {
    let root = Root::new();
    root.write(
        "/usr/lib/systemd/system/getty@.service",
        "[Install]\nWantedBy=getty.target\nRequiredBy=serial-%i.target\n\
         DefaultInstance=tty1\n",
    );
    let systemd = root.systemd();
    systemd
        .enable(&names(&["getty@.service", "getty@ttyS0.service"]), false)
        .unwrap();
    assert_eq!(
        root.tree("/etc/systemd/system"),
        [
            "getty.target.wants",
            "getty.target.wants/getty@tty1.service",
            "getty.target.wants/getty@ttyS0.service",
            "serial-tty1.target.requires",
            "serial-tty1.target.requires/getty@tty1.service",
            "serial-ttyS0.target.requires",
            "serial-ttyS0.target.requires/getty@ttyS0.service",
        ]
    );
    assert_eq!(
        root.link("/etc/systemd/system/getty.target.wants/getty@ttyS0.service")
            .as_deref(),
        Some("/usr/lib/systemd/system/getty@.service")
    );
    assert_eq!(
        state(&systemd, "getty@ttyS0.service").as_deref(),
        Some("enabled")
    );
    assert_eq!(
        state(&systemd, "getty@tty9.service").as_deref(),
        Some("disabled")
    );
}

#[test]
fn a_template_without_default_instance_links_nothing_for_itself() {
    let root = Root::new();
    root.write(
        "/usr/lib/systemd/system/worker@.service",
        "[Install]\nWantedBy=multi-user.target\n",
    );
    let systemd = root.systemd();
    systemd.enable(&names(&["worker@.service"]), false).unwrap();
    assert_eq!(root.tree("/etc/systemd/system"), Vec::<String>::new());
    assert_eq!(
        state(&systemd, "worker@.service").as_deref(),
        Some("indirect")
    );
    systemd
        .enable(&names(&["worker@a.service"]), false)
        .unwrap();
    assert_eq!(
        root.link("/etc/systemd/system/multi-user.target.wants/worker@a.service")
            .as_deref(),
        Some("/usr/lib/systemd/system/worker@.service")
    );
}

#[test]
fn enabling_twice_changes_nothing_and_a_wrong_link_is_replaced() {
    let root = Root::new();
    root.write("/usr/lib/systemd/system/app.service", WANTED);
    let link = "/etc/systemd/system/multi-user.target.wants/app.service";
    root.symlink(link, "/usr/lib/systemd/system/old-app.service");
    let systemd = root.systemd();
    systemd.enable(&names(&["app.service"]), false).unwrap();
    assert_eq!(
        root.link(link).as_deref(),
        Some("/usr/lib/systemd/system/app.service")
    );
    let first = fs::symlink_metadata(root.path(link)).unwrap().ino();
    systemd.enable(&names(&["app.service"]), false).unwrap();
    let second = fs::symlink_metadata(root.path(link)).unwrap().ino();
    assert_eq!(first, second, "a correct link is left alone");
    // No temporary link is left behind.
    assert_eq!(
        root.tree("/etc/systemd/system"),
        [
            "multi-user.target.wants",
            "multi-user.target.wants/app.service"
        ]
    );
}

#[test]
fn a_regular_file_where_a_link_belongs_is_not_replaced() {
    let root = Root::new();
    root.write(
        "/usr/lib/systemd/system/app.service",
        "[Install]\nAlias=other.service\n",
    );
    root.write("/etc/systemd/system/other.service", "[Service]\n");
    match root.systemd().enable(&names(&["app.service"]), false) {
        Err(SystemdError::Io(message)) => {
            assert!(message.contains("other.service"), "{message}");
            assert!(message.contains("not a symlink"), "{message}");
        }
        other => panic!("expected an I/O error, got {other:?}"),
    }
    assert_eq!(
        fs::read_to_string(root.path("/etc/systemd/system/other.service")).unwrap(),
        "[Service]\n"
    );
}

#[test]
fn unit_file_states() {
    let root = Root::new();
    root.write("/usr/lib/systemd/system/app.service", WANTED);
    root.write(
        "/usr/lib/systemd/system/static.service",
        "[Service]\nExecStart=/bin/true\n",
    );
    root.write(
        "/usr/lib/systemd/system/empty-install.service",
        "[Service]\n[Install]\n",
    );
    root.write("/usr/lib/systemd/system/masked.service", WANTED);
    root.symlink("/etc/systemd/system/masked.service", "/dev/null");
    root.write("/usr/lib/systemd/system/runtime-masked.service", WANTED);
    root.symlink("/run/systemd/system/runtime-masked.service", "/dev/null");
    root.write("/etc/systemd/system/empty.service", "");
    root.symlink("/etc/systemd/system/masked-only.service", "/dev/null");
    root.write("/usr/lib/systemd/system/enabled.service", WANTED);
    root.symlink(
        "/etc/systemd/system/multi-user.target.wants/enabled.service",
        "/usr/lib/systemd/system/enabled.service",
    );
    let systemd = root.systemd();
    for (unit, expected) in [
        ("app.service", Some("disabled")),
        ("static.service", Some("static")),
        ("empty-install.service", Some("static")),
        ("masked.service", Some("masked")),
        ("runtime-masked.service", Some("masked")),
        ("empty.service", Some("masked")),
        ("masked-only.service", Some("masked")),
        ("enabled.service", Some("enabled")),
        ("missing.service", None),
        ("../escape.service", None),
    ] {
        assert_eq!(state(&systemd, unit).as_deref(), expected, "{unit}");
    }
}

#[test]
fn a_unit_without_install_rules_is_static_and_enabling_it_does_nothing() {
    let root = Root::new();
    root.write(
        "/usr/lib/systemd/system/static.service",
        "[Service]\nExecStart=/bin/true\n",
    );
    root.systemd()
        .enable(&names(&["static.service"]), false)
        .unwrap();
    assert!(!root.path("/etc/systemd/system").exists());
}

#[test]
fn a_missing_unit_names_itself_and_the_directories_searched() {
    let root = Root::new();
    match root.systemd().enable(&names(&["ghost.service"]), false) {
        Err(SystemdError::Io(message)) => {
            assert!(message.contains("ghost.service"), "{message}");
            for dir in [
                "/etc/systemd/system",
                "/run/systemd/system",
                "/usr/local/lib/systemd/system",
                "/usr/lib/systemd/system",
                "/lib/systemd/system",
            ] {
                assert!(message.contains(dir), "{message}");
            }
        }
        other => panic!("expected an I/O error, got {other:?}"),
    }
}

#[test]
fn a_masked_unit_cannot_be_enabled() {
    let root = Root::new();
    root.write("/usr/lib/systemd/system/app.service", WANTED);
    root.symlink("/etc/systemd/system/app.service", "/dev/null");
    let error = root
        .systemd()
        .enable(&names(&["app.service"]), false)
        .unwrap_err();
    assert!(error.to_string().contains("masked"), "{error}");
}

#[test]
fn network_units_are_never_enabled() {
    let root = Root::new();
    root.write(
        "/etc/systemd/network/10-eth0.network",
        "[Match]\nName=eth0\n[Install]\nWantedBy=multi-user.target\n",
    );
    root.systemd()
        .enable(&names(&["10-eth0.network", "x.netdev", "y.link"]), false)
        .unwrap();
    assert!(!root.path("/etc/systemd/system").exists());
}

#[test]
fn names_that_would_leave_the_unit_directory_are_refused() {
    let root = Root::new();
    root.write("/usr/lib/systemd/system/app.service", WANTED);
    let systemd = root.systemd();
    for bad in [
        "../app.service",
        "a/b.service",
        "",
        "noext",
        ".hidden.service",
    ] {
        assert!(
            matches!(
                systemd.enable(&names(&[bad]), false),
                Err(SystemdError::Io(_))
            ),
            "{bad:?}"
        );
    }
    // A target name from the unit file is checked too.
    root.write(
        "/usr/lib/systemd/system/evil.service",
        "[Install]\nWantedBy=../../../../tmp/x.target\n",
    );
    assert!(systemd.enable(&names(&["evil.service"]), false).is_err());
    assert!(!root.path("/etc/systemd/system").exists());
}

#[test]
fn symlinks_inside_the_root_are_resolved_inside_the_root() {
    let root = Root::new();
    // A linked unit file: an absolute link that means /opt inside the root.
    root.write(
        "/opt/app/linked.service",
        "[Install]\nWantedBy=multi-user.target\n",
    );
    root.symlink(
        "/etc/systemd/system/linked.service",
        "/opt/app/linked.service",
    );
    // A wants directory that is an absolute link elsewhere in the root.
    fs::create_dir_all(root.path("/srv/wants")).unwrap();
    root.symlink("/etc/systemd/system/multi-user.target.wants", "/srv/wants");
    let systemd = root.systemd();
    systemd.enable(&names(&["linked.service"]), false).unwrap();
    assert_eq!(
        root.link("/srv/wants/linked.service").as_deref(),
        Some("/etc/systemd/system/linked.service")
    );
    assert_eq!(
        state(&systemd, "linked.service").as_deref(),
        Some("enabled")
    );
}

#[test]
fn a_symlink_loop_is_an_error_not_a_hang() {
    let root = Root::new();
    root.symlink(
        "/etc/systemd/system/loop.service",
        "/etc/systemd/system/loop.service",
    );
    assert!(root
        .systemd()
        .enable(&names(&["loop.service"]), false)
        .is_err());
    assert!(root.systemd().unit_file_state("loop.service").is_err());
}

#[test]
fn commands_that_need_a_running_systemd_are_skipped() {
    let root = Root::new();
    let systemd = root.systemd();
    assert!(!systemd.is_live());
    systemd.reload().unwrap();
    assert_eq!(
        systemd.run("app.service", UnitCommand::Start).unwrap(),
        JobResult::Skipped
    );
    let service = TransientService {
        name: "coreos-cloudinit-1.service".to_string(),
        description: String::new(),
        argv: vec!["/bin/true".to_string()],
    };
    assert_eq!(systemd.run_transient(&service).unwrap(), JobResult::Skipped);
    assert_eq!(systemd.active_state("app.service").unwrap(), None);
    assert!(!systemd.set_hostname("node-1").unwrap());
    assert_eq!(systemd.static_hostname().unwrap(), None);
    assert_eq!(fs::read_dir(root.dir.path()).unwrap().count(), 0);
}
