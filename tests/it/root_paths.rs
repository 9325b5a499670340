//! The one guarantee about `--root`: nothing kindling writes, links, creates, removes or reads
//! lands outside the root. Every effect that takes a path inside the root (files, directories,
//! symlinks, removal, reads, and the offline systemd's [Install] links) goes through
//! `kindling::apply::root`; each hostile layout below is tried against all of them, with a real
//! directory outside the root that must stay empty.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use kindling::apply::fs::{self as kfs, FsError};
use kindling::apply::systemd::offline::OfflineSystemd;
use kindling::apply::systemd::Systemd;

/// A root, and a directory beside it (on the host) that links in the root point at.
struct Layout {
    root: tempfile::TempDir,
    outside: tempfile::TempDir,
}

impl Layout {
    fn new() -> Layout {
        let layout = Layout {
            root: tempfile::tempdir().unwrap(),
            outside: tempfile::tempdir().unwrap(),
        };
        layout.put(
            "/usr/lib/systemd/system/app.service",
            "[Unit]\nDescription=app\n\n[Install]\nWantedBy=multi-user.target\n",
        );
        layout
    }

    fn r(&self) -> &Path {
        self.root.path()
    }

    /// The outside directory's absolute path on the host.
    fn out(&self) -> &Path {
        self.outside.path()
    }

    fn host(&self, inner: &str) -> PathBuf {
        self.r().join(inner.trim_start_matches('/'))
    }

    fn put(&self, inner: &str, content: &str) {
        let host = self.host(inner);
        fs::create_dir_all(host.parent().unwrap()).unwrap();
        fs::write(host, content).unwrap();
    }

    fn link(&self, inner: &str, target: impl AsRef<Path>) {
        let host = self.host(inner);
        fs::create_dir_all(host.parent().unwrap()).unwrap();
        symlink(target, host).unwrap();
    }

    /// A relative link target from `inner`'s directory that climbs out of the root (one `..`
    /// per level of the root's own host path, and more) and then down into `outside`.
    fn climbing_out(&self, inner: &str) -> PathBuf {
        let depth = self.host(inner).components().count() + 3;
        let mut target = PathBuf::new();
        for _ in 0..depth {
            target.push("..");
        }
        target.join(self.out().strip_prefix("/").unwrap())
    }

    /// The outside directory must be as it was made: empty.
    fn assert_outside_untouched(&self, case: &str) {
        let left: Vec<_> = fs::read_dir(self.out())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert!(
            left.is_empty(),
            "{case}: written outside the root: {left:?}"
        );
    }

    /// Where a path under `outside` lands when resolved inside the root.
    fn rerooted(&self, rest: &str) -> PathBuf {
        self.r()
            .join(self.out().strip_prefix("/").unwrap())
            .join(rest)
    }

    fn systemd(&self) -> OfflineSystemd {
        OfflineSystemd::new(self.r())
    }
}

fn enable(layout: &Layout) -> Result<(), String> {
    layout
        .systemd()
        .enable(&["app.service".to_string()], false)
        .map_err(|e| e.to_string())
}

const WANTS: &str = "/etc/systemd/system/multi-user.target.wants";

#[test]
fn an_absolute_symlink_out_of_the_root_is_followed_inside_it() {
    let l = Layout::new();
    l.link("/etc/conf", l.out());
    l.link(WANTS, l.out());

    kfs::write_atomic(l.r(), Path::new("/etc/conf/a"), b"a", 0o644, None).unwrap();
    kfs::symlink_atomic(l.r(), Path::new("/etc/conf/b"), Path::new("/a")).unwrap();
    kfs::ensure_dir(l.r(), Path::new("/etc/conf/c"), 0o700, None).unwrap();
    enable(&l).unwrap();
    l.assert_outside_untouched("absolute link");

    assert_eq!(fs::read(l.rerooted("a")).unwrap(), b"a");
    assert_eq!(fs::read_link(l.rerooted("b")).unwrap(), Path::new("/a"));
    assert!(l.rerooted("c").is_dir());
    assert_eq!(
        fs::read_link(l.rerooted("app.service")).unwrap(),
        Path::new("/usr/lib/systemd/system/app.service")
    );
    assert_eq!(kfs::read(l.r(), Path::new("/etc/conf/a")).unwrap(), b"a");
    assert_eq!(
        l.systemd()
            .unit_file_state("app.service")
            .unwrap()
            .as_deref(),
        Some("enabled")
    );

    // A file that exists outside is not read through the link either.
    fs::write(l.out().join("secret"), "host").unwrap();
    assert_eq!(kfs::read(l.r(), Path::new("/etc/conf/secret")), None);
    assert!(kfs::lstat(l.r(), Path::new("/etc/conf/secret")).is_none());
    assert!(!kfs::remove(l.r(), Path::new("/etc/conf/secret")).unwrap());
    assert_eq!(fs::read(l.out().join("secret")).unwrap(), b"host");
}

#[test]
fn a_relative_symlink_climbing_out_of_the_root_stops_at_it() {
    let l = Layout::new();
    l.link("/etc/conf", l.climbing_out("/etc/conf"));
    l.link(WANTS, l.climbing_out(WANTS));

    kfs::write_atomic(l.r(), Path::new("/etc/conf/a"), b"a", 0o644, None).unwrap();
    kfs::symlink_atomic(l.r(), Path::new("/etc/conf/b"), Path::new("/a")).unwrap();
    kfs::ensure_dir(l.r(), Path::new("/etc/conf/c"), 0o700, None).unwrap();
    enable(&l).unwrap();
    l.assert_outside_untouched("relative link");

    // `..` stopped at the root, so the rest of the target is taken from the root down.
    assert_eq!(fs::read(l.rerooted("a")).unwrap(), b"a");
    assert!(fs::symlink_metadata(l.rerooted("b")).unwrap().is_symlink());
    assert!(l.rerooted("c").is_dir());
    assert!(fs::symlink_metadata(l.rerooted("app.service"))
        .unwrap()
        .is_symlink());
    assert_eq!(kfs::read(l.r(), Path::new("/etc/conf/a")).unwrap(), b"a");
}

#[test]
fn dot_dot_past_the_root_stops_at_it() {
    let l = Layout::new();
    let climbing = format!("/../../..{}/x", l.out().display());
    assert_eq!(
        kfs::resolve(l.r(), Path::new(&climbing)).unwrap(),
        l.rerooted("x")
    );
    kfs::write_atomic(l.r(), Path::new(&climbing), b"x", 0o644, None).unwrap();
    kfs::symlink_atomic(
        l.r(),
        Path::new(&format!("{climbing}-link")),
        Path::new("x"),
    )
    .unwrap();
    kfs::ensure_dir(l.r(), Path::new(&format!("{climbing}-dir")), 0o755, None).unwrap();
    assert_eq!(kfs::read(l.r(), Path::new(&climbing)).unwrap(), b"x");
    assert!(kfs::remove(l.r(), Path::new(&format!("{climbing}-dir"))).unwrap());
    l.assert_outside_untouched("..");
    assert_eq!(fs::read(l.rerooted("x")).unwrap(), b"x");
    assert!(fs::symlink_metadata(l.rerooted("x-link"))
        .unwrap()
        .is_symlink());

    // A relative path counts from the root's `/`, as the reference joins every path on it.
    kfs::write_atomic(l.r(), Path::new("../../escape"), b"e", 0o644, None).unwrap();
    assert_eq!(fs::read(l.host("/escape")).unwrap(), b"e");

    // A unit name cannot climb out of the unit directory at all.
    let error = l
        .systemd()
        .enable(&["../../../../app.service".to_string()], false)
        .unwrap_err()
        .to_string();
    assert!(error.contains("invalid unit name"), "{error}");
    l.assert_outside_untouched("unit name with ..");
}

#[test]
fn a_symlink_loop_is_an_error_naming_the_path_not_a_hang() {
    let l = Layout::new();
    l.link("/etc/a", "b");
    l.link("/etc/b", "/etc/a");
    l.link(WANTS, WANTS);

    let too_many = |error: FsError| {
        let text = error.to_string();
        assert!(text.contains("/etc/a/x"), "{text}");
        assert!(text.contains("Too many symbolic links"), "{text}");
        assert_eq!(
            error.io_error().and_then(|e| e.raw_os_error()),
            Some(nix::libc::ELOOP)
        );
    };
    too_many(kfs::write_atomic(l.r(), Path::new("/etc/a/x"), b"", 0o644, None).unwrap_err());
    too_many(kfs::symlink_atomic(l.r(), Path::new("/etc/a/x"), Path::new("y")).unwrap_err());
    too_many(kfs::ensure_dir(l.r(), Path::new("/etc/a/x"), 0o755, None).unwrap_err());
    too_many(kfs::remove(l.r(), Path::new("/etc/a/x")).unwrap_err());
    assert_eq!(kfs::read(l.r(), Path::new("/etc/a")), None);

    let error = enable(&l).unwrap_err();
    assert!(
        error.contains("multi-user.target.wants") && error.contains("Too many symbolic links"),
        "{error}"
    );
    l.assert_outside_untouched("loop");
}

#[test]
fn a_file_where_a_directory_is_expected_is_an_error_and_stays_a_file() {
    let l = Layout::new();
    l.put("/etc/motd", "hello\n");
    l.put(WANTS, "not a directory\n");

    let not_a_dir = |error: FsError, op: &str| {
        assert!(matches!(error, FsError::NotADirectory { .. }), "{error}");
        assert_eq!(
            error.to_string(),
            format!(
                "failed to {op} /etc/motd/x/y under {}: /etc/motd is not a directory",
                l.r().display()
            )
        );
    };
    not_a_dir(
        kfs::write_atomic(l.r(), Path::new("/etc/motd/x/y"), b"", 0o644, None).unwrap_err(),
        "write",
    );
    not_a_dir(
        kfs::symlink_atomic(l.r(), Path::new("/etc/motd/x/y"), Path::new("z")).unwrap_err(),
        "create symlink",
    );
    not_a_dir(
        kfs::ensure_dir(l.r(), Path::new("/etc/motd/x/y"), 0o755, None).unwrap_err(),
        "create directory",
    );
    let error = enable(&l).unwrap_err();
    assert!(
        error.contains("multi-user.target.wants is not a directory"),
        "{error}"
    );
    assert_eq!(fs::read(l.host("/etc/motd")).unwrap(), b"hello\n");
    assert_eq!(fs::read(l.host(WANTS)).unwrap(), b"not a directory\n");
}

#[test]
fn a_dangling_symlink_as_the_last_component_is_replaced_not_followed() {
    let l = Layout::new();
    let outside_file = l.out().join("motd");
    l.link("/etc/motd", &outside_file);
    l.link("/etc/link", &outside_file);
    l.link("/etc/dir", &outside_file);
    l.link("/etc/gone", &outside_file);
    let wanted = format!("{WANTS}/app.service");
    l.link(&wanted, &outside_file);

    assert_eq!(kfs::read(l.r(), Path::new("/etc/motd")), None);
    kfs::write_atomic(l.r(), Path::new("/etc/motd"), b"new\n", 0o644, None).unwrap();
    kfs::symlink_atomic(l.r(), Path::new("/etc/link"), Path::new("/etc/motd")).unwrap();
    // A directory is never made through a link, which whoever owns it could point anywhere.
    let error = kfs::ensure_dir(l.r(), Path::new("/etc/dir"), 0o755, None).unwrap_err();
    assert!(matches!(error, FsError::NotADirectory { .. }), "{error}");
    assert!(kfs::remove(l.r(), Path::new("/etc/gone")).unwrap());
    // The [Install] link with the wrong target is put right, in place.
    enable(&l).unwrap();
    l.assert_outside_untouched("dangling link");

    assert_eq!(fs::read(l.host("/etc/motd")).unwrap(), b"new\n");
    assert!(fs::symlink_metadata(l.host("/etc/motd")).unwrap().is_file());
    assert_eq!(
        fs::read_link(l.host("/etc/link")).unwrap(),
        Path::new("/etc/motd")
    );
    assert_eq!(fs::read_link(l.host("/etc/dir")).unwrap(), outside_file);
    assert!(fs::symlink_metadata(l.host("/etc/gone")).is_err());
    assert_eq!(
        fs::read_link(l.host(&wanted)).unwrap(),
        Path::new("/usr/lib/systemd/system/app.service")
    );
}
