//! Effects on a real filesystem under a temporary root: atomic writes (with a crash test that
//! kills a child process mid-sequence), accounts and owners, real `useradd --prefix`, SSH keys.
//!
//! Ownership and useradd need root: those tests are ignored unless run with `--include-ignored`
//! (as `make test` and CI do, as root).

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use kindling::apply::accounts::{self, Account, Owner, OwnerError};
use kindling::apply::fs::{self as kfs, FileKind, FsError};
use kindling::apply::sshkeys::{self, SshKeysError};
use kindling::apply::users::{self, NewUser, UserError};

use crate::common;

use common::{host, is_root, put};

fn temp_root() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().mode() & 0o7777
}

fn owner(path: &Path) -> (u32, u32) {
    let meta = fs::symlink_metadata(path).unwrap();
    (meta.uid(), meta.gid())
}

/// Every `.kindling-*` temporary file anywhere under `dir`.
fn temps(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(".kindling-")
        {
            found.push(path.clone());
        }
        if entry.file_type().unwrap().is_dir() {
            found.extend(temps(&path));
        }
    }
    found
}

// ---------------------------------------------------------------- fs

#[test]
#[ignore = "needs root"]
fn write_atomic_creates_parents_and_sets_content_mode_and_owner() {
    let root = temp_root();
    let r = root.path();
    kfs::write_atomic(
        r,
        Path::new("/etc/deep/er/app.conf"),
        b"one\n",
        0o4755,
        Some((1234, 5678)),
    )
    .unwrap();
    let file = host(r, "/etc/deep/er/app.conf");
    assert_eq!(fs::read(&file).unwrap(), b"one\n");
    assert_eq!(mode(&file), 0o4755, "setuid survives the chown");
    assert_eq!(owner(&file), (1234, 5678));
    for dir in ["/etc", "/etc/deep", "/etc/deep/er"] {
        assert_eq!(mode(&host(r, dir)), 0o755, "{dir}");
        assert_eq!(owner(&host(r, dir)), (0, 0), "{dir}");
    }

    kfs::write_atomic(r, Path::new("/etc/deep/er/app.conf"), b"", 0o3640, None).unwrap();
    assert_eq!(fs::read(&file).unwrap(), b"");
    assert_eq!(mode(&file), 0o3640);
    assert_eq!(owner(&file), (0, 0), "no owner: the writer's");
    assert!(temps(r).is_empty());
}

#[test]
fn write_replaces_a_symlink_instead_of_following_it() {
    let root = temp_root();
    let r = root.path();
    put(r, "/etc/real", "real\n");
    std::os::unix::fs::symlink("/etc/real", r.join("etc/link")).unwrap();
    kfs::write_atomic(r, Path::new("/etc/link"), b"new\n", 0o644, None).unwrap();
    assert!(fs::symlink_metadata(r.join("etc/link"))
        .unwrap()
        .file_type()
        .is_file());
    assert_eq!(fs::read(r.join("etc/real")).unwrap(), b"real\n");
}

#[test]
fn write_errors_name_the_path_and_leave_no_temporary_file() {
    let root = temp_root();
    let r = root.path();
    put(r, "/etc/motd", "hello\n");
    let error = kfs::write_atomic(r, Path::new("/etc/motd/x"), b"", 0o644, None).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "failed to write /etc/motd/x under {}: /etc/motd is not a directory",
            r.display()
        )
    );
    assert!(matches!(error, FsError::NotADirectory { .. }));

    fs::create_dir_all(r.join("etc/adir/sub")).unwrap();
    let error = kfs::write_atomic(r, Path::new("/etc/adir"), b"x", 0o644, None).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "failed to write /etc/adir under {}: Is a directory",
            r.display()
        )
    );
    assert!(error.io_error().is_some());
    assert!(temps(r).is_empty(), "{:?}", temps(r));

    let error = kfs::write_atomic(r, Path::new("/"), b"x", 0o644, None).unwrap_err();
    assert!(matches!(error, FsError::InvalidPath { .. }), "{error}");
}

#[test]
fn symlink_atomic_replaces_files_links_and_empty_directories() {
    let root = temp_root();
    let r = root.path();
    let unit = "/etc/systemd/system/a.service";
    let link = host(r, unit);
    let dev_null = Path::new("/dev/null");

    kfs::symlink_atomic(r, Path::new(unit), dev_null).unwrap();
    assert_eq!(fs::read_link(&link).unwrap(), dev_null);

    fs::remove_file(&link).unwrap();
    put(r, unit, "[Unit]\n");
    kfs::symlink_atomic(r, Path::new(unit), dev_null).unwrap();
    assert_eq!(fs::read_link(&link).unwrap(), dev_null);

    fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("/elsewhere", &link).unwrap();
    kfs::symlink_atomic(r, Path::new(unit), dev_null).unwrap();
    assert_eq!(fs::read_link(&link).unwrap(), dev_null);

    fs::remove_file(&link).unwrap();
    fs::create_dir(&link).unwrap();
    kfs::symlink_atomic(r, Path::new(unit), dev_null).unwrap();
    assert_eq!(fs::read_link(&link).unwrap(), dev_null);

    fs::remove_file(&link).unwrap();
    put(r, &format!("{unit}/keep"), "");
    let error = kfs::symlink_atomic(r, Path::new(unit), dev_null).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "failed to create symlink {unit} under {}: it is a directory and not empty",
            r.display()
        )
    );
    assert!(link.join("keep").exists());
    assert!(temps(r).is_empty());
}

#[test]
fn remove_reports_whether_something_was_there() {
    let root = temp_root();
    let r = root.path();
    assert!(!kfs::remove(r, Path::new("/etc/missing")).unwrap());
    put(r, "/etc/file", "x");
    assert!(kfs::remove(r, Path::new("/etc/file")).unwrap());
    assert!(!r.join("etc/file").exists());
    std::os::unix::fs::symlink("/nowhere", r.join("etc/dangling")).unwrap();
    assert!(kfs::remove(r, Path::new("/etc/dangling")).unwrap());
    fs::create_dir(r.join("etc/empty")).unwrap();
    assert!(kfs::remove(r, Path::new("/etc/empty")).unwrap());
    put(r, "/etc/full/x", "");
    assert!(kfs::remove(r, Path::new("/etc/full")).is_err());
}

#[test]
#[ignore = "needs root"]
fn ensure_dir_creates_and_corrects() {
    let root = temp_root();
    let r = root.path();
    kfs::ensure_dir(r, Path::new("/srv/a/b"), 0o2750, Some((42, 43))).unwrap();
    let dir = host(r, "/srv/a/b");
    assert_eq!((mode(&dir), owner(&dir)), (0o2750, (42, 43)));
    assert_eq!(
        (mode(&host(r, "/srv/a")), owner(&host(r, "/srv/a"))),
        (0o755, (0, 0))
    );

    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
    kfs::ensure_dir(r, Path::new("/srv/a/b"), 0o700, Some((44, 45))).unwrap();
    assert_eq!((mode(&dir), owner(&dir)), (0o700, (44, 45)));

    fs::create_dir(r.join("target")).unwrap();
    std::os::unix::fs::symlink(r.join("target"), r.join("srv/link")).unwrap();
    let error = kfs::ensure_dir(r, Path::new("/srv/link"), 0o700, None).unwrap_err();
    assert!(matches!(error, FsError::NotADirectory { .. }), "{error}");
    put(r, "/srv/file", "");
    assert!(kfs::ensure_dir(r, Path::new("/srv/file"), 0o700, None).is_err());
}

#[test]
fn lstat_and_read() {
    let root = temp_root();
    let r = root.path();
    put(r, "/etc/hosts", "127.0.0.1 x\n");
    fs::set_permissions(r.join("etc/hosts"), fs::Permissions::from_mode(0o1640)).unwrap();
    std::os::unix::fs::symlink("hosts", r.join("etc/hosts.link")).unwrap();
    nix::unistd::mkfifo(
        &r.join("etc/fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();

    let stat = kfs::lstat(r, Path::new("/etc/hosts")).unwrap();
    assert_eq!(
        (stat.kind, stat.mode, stat.len),
        (FileKind::File, 0o1640, 12)
    );
    assert_eq!(
        kfs::lstat(r, Path::new("/etc/hosts.link")).unwrap().kind,
        FileKind::Symlink("hosts".into())
    );
    assert_eq!(
        kfs::lstat(r, Path::new("/etc")).unwrap().kind,
        FileKind::Dir
    );
    assert_eq!(
        kfs::lstat(r, Path::new("/etc/fifo")).unwrap().kind,
        FileKind::Other
    );
    assert_eq!(
        kfs::lstat(r, Path::new("/dev/null")),
        None,
        "the host's /dev is not in the root"
    );
    assert_eq!(
        kfs::lstat(Path::new("/"), Path::new("/dev/null"))
            .unwrap()
            .kind,
        FileKind::CharDevice
    );

    assert_eq!(
        kfs::read(r, Path::new("/etc/hosts.link")).unwrap(),
        b"127.0.0.1 x\n"
    );
    assert_eq!(kfs::read(r, Path::new("/etc")), None);
    assert_eq!(kfs::read(r, Path::new("/etc/fifo")), None, "and no hang");
    assert_eq!(kfs::read(r, Path::new("/etc/missing")), None);
}

#[test]
fn stale_temporary_files_of_dead_runs_are_cleaned() {
    let root = temp_root();
    let dir = root.path();
    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let stale = format!(".kindling-motd.{dead}-0123456789abcdef");
    let mine = format!(".kindling-motd.{}-0123456789abcdef", std::process::id());
    for name in [&stale, &mine, &".kindling-notours".to_string()] {
        fs::write(dir.join(name), "partial").unwrap();
    }
    assert_eq!(kfs::clean_stale_temps(dir).unwrap(), 1);
    assert!(!dir.join(&stale).exists());
    assert!(dir.join(&mine).exists(), "a live writer's file stays");
    assert!(dir.join(".kindling-notours").exists());
    assert_eq!(kfs::clean_stale_temps(&dir.join("missing")).unwrap(), 0);

    // A write cleans its own directory.
    fs::write(dir.join(&stale), "partial").unwrap();
    kfs::write_atomic(dir, Path::new("/motd"), b"m", 0o644, None).unwrap();
    assert!(!dir.join(&stale).exists());
}

// ---------------------------------------------------------------- crash test

const OLD_MOTD: &str = "old motd\n";
const NEW_MOTD: &str = "new motd\n";
const NEWER_MOTD: &str = "newer motd\n";
const OLD_ENV: &str = "PATH=/usr/bin\n";
const OLD_UNIT: &str = "[Service]\nExecStart=/bin/true\n";
const OLD_KEYS: &str = "ssh-ed25519 AAAAold1 a@old\nssh-ed25519 AAAAold2 b@old\n";

fn new_env() -> String {
    // Big enough that a torn write would show.
    (0..4096)
        .map(|i| format!("KINDLING_VARIABLE_{i:05}=value-{i:05}-xxxxxxxxxxxxxxxx\n"))
        .collect()
}

fn core(root: &Path) -> Account {
    let _ = root;
    Account {
        name: "core".into(),
        uid: 500,
        gid: 500,
        gecos: String::new(),
        home: "/home/core".into(),
        shell: "/bin/bash".into(),
    }
}

fn new_keys() -> Vec<String> {
    vec![
        "ssh-ed25519 AAAAnew1 c@new".into(),
        "ssh-rsa AAAAnew2 d@new".into(),
    ]
}

fn crash_tree(root: &Path) {
    put(root, "/etc/motd", OLD_MOTD);
    put(root, "/etc/environment", OLD_ENV);
    put(root, "/etc/systemd/system/foo.service", OLD_UNIT);
    put(root, "/home/core/.ssh/authorized_keys", OLD_KEYS);
    for (path, mode) in [
        ("/home/core", 0o755),
        ("/home/core/.ssh", 0o700),
        ("/home/core/.ssh/authorized_keys", 0o600),
    ] {
        let path = host(root, path);
        nix::unistd::chown(&path, Some(500.into()), Some(500.into())).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    }
}

/// The writes the crash test interrupts, in order; every step is idempotent.
fn crash_sequence(root: &Path) {
    kfs::write_atomic(
        root,
        Path::new("/etc/motd"),
        NEW_MOTD.as_bytes(),
        0o644,
        None,
    )
    .unwrap();
    kfs::write_atomic(
        root,
        Path::new("/etc/app/config.toml"),
        b"k = 2\n",
        0o640,
        Some((1000, 1000)),
    )
    .unwrap();
    kfs::symlink_atomic(
        root,
        Path::new("/etc/systemd/system/foo.service"),
        Path::new("/dev/null"),
    )
    .unwrap();
    kfs::write_atomic(
        root,
        Path::new("/etc/environment"),
        new_env().as_bytes(),
        0o644,
        None,
    )
    .unwrap();
    sshkeys::write_set(root, &core(root), "coreos-cloudinit", &new_keys()).unwrap();
    kfs::write_atomic(
        root,
        Path::new("/etc/motd"),
        NEWER_MOTD.as_bytes(),
        0o644,
        None,
    )
    .unwrap();
}

/// Run by the crash test in a child process, which `KINDLING_FAULT_WRITE` kills mid-sequence.
#[test]
fn crash_child() {
    if let Ok(root) = std::env::var("KINDLING_CRASH_ROOT") {
        crash_sequence(Path::new(&root));
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Node {
    Dir,
    File(Vec<u8>),
    Link(PathBuf),
}

/// Everything under `dir` but timestamps and inode numbers.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Node, u32, u32, u32)> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, (Node, u32, u32, u32)>) {
        for entry in fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            let meta = fs::symlink_metadata(&path).unwrap();
            let node = if meta.is_dir() {
                walk(base, &path, out);
                Node::Dir
            } else if meta.file_type().is_symlink() {
                Node::Link(fs::read_link(&path).unwrap())
            } else {
                Node::File(fs::read(&path).unwrap())
            };
            let key = path.strip_prefix(base).unwrap().to_path_buf();
            out.insert(key, (node, meta.mode() & 0o7777, meta.uid(), meta.gid()));
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// What a killed run may leave: every file old or new, whole; `authorized_keys.d` never
/// without the preserved keys; the one temporary file complete.
fn check_interrupted(root: &Path, n: usize) {
    let read = |path: &str| fs::read(host(root, path)).ok();
    let motd = read("/etc/motd").unwrap();
    assert!(
        [OLD_MOTD, NEW_MOTD, NEWER_MOTD].contains(&String::from_utf8_lossy(&motd).as_ref()),
        "fault {n}: motd {motd:?}"
    );
    let config = read("/etc/app/config.toml");
    assert!(
        config.is_none() || config.as_deref() == Some(b"k = 2\n"),
        "fault {n}: config {config:?}"
    );
    let env = read("/etc/environment").unwrap();
    assert!(
        env == OLD_ENV.as_bytes() || env == new_env().as_bytes(),
        "fault {n}: torn /etc/environment ({} bytes)",
        env.len()
    );
    let unit = host(root, "/etc/systemd/system/foo.service");
    match fs::read_link(&unit) {
        Ok(target) => assert_eq!(target, Path::new("/dev/null"), "fault {n}"),
        Err(_) => assert_eq!(fs::read(&unit).unwrap(), OLD_UNIT.as_bytes(), "fault {n}"),
    }

    let keys_dir = host(root, "/home/core/.ssh/authorized_keys.d");
    if keys_dir.exists() {
        assert_eq!(
            fs::read(keys_dir.join("orig_authorized_keys")).unwrap(),
            OLD_KEYS.as_bytes(),
            "fault {n}: authorized_keys.d exists without the preserved keys"
        );
    }
    let all_keys = String::from_utf8(read("/home/core/.ssh/authorized_keys").unwrap()).unwrap();
    // "coreos-cloudinit" sorts before "orig_authorized_keys".
    let regenerated = format!("{}\n{OLD_KEYS}", new_keys().join("\n"));
    assert!(
        all_keys == OLD_KEYS || all_keys == regenerated,
        "fault {n}: authorized_keys {all_keys:?}"
    );

    let left = temps(root);
    assert_eq!(left.len(), 1, "fault {n}: {left:?}");
    let temp = &left[0];
    if let Ok(target) = fs::read_link(temp) {
        assert_eq!(target, Path::new("/dev/null"));
    } else {
        let content = fs::read(temp).unwrap();
        let complete = [
            NEW_MOTD.as_bytes().to_vec(),
            NEWER_MOTD.as_bytes().to_vec(),
            b"k = 2\n".to_vec(),
            new_env().into_bytes(),
            OLD_KEYS.as_bytes().to_vec(),
            render(&new_keys()),
            regenerated.into_bytes(),
        ];
        assert!(
            complete.contains(&content),
            "fault {n}: incomplete temporary file {temp:?} ({} bytes)",
            content.len()
        );
    }
}

fn render(keys: &[String]) -> Vec<u8> {
    sshkeys::render_set(keys)
}

#[test]
#[ignore = "needs root"]
fn a_killed_run_leaves_old_or_new_files_and_a_rerun_converges() {
    let reference = temp_root();
    crash_tree(reference.path());
    crash_sequence(reference.path());
    let want = snapshot(reference.path());

    let exe = std::env::current_exe().unwrap();
    // The test's name in this binary: its module path without the crate.
    let child = format!(
        "{}::crash_child",
        module_path!().split_once("::").unwrap().1
    );
    let mut crashes = 0;
    for n in 1..=64 {
        let root = temp_root();
        crash_tree(root.path());
        let status = Command::new(&exe)
            .args(["--exact", &child, "--test-threads=1", "--quiet"])
            .env("KINDLING_CRASH_ROOT", root.path())
            .env("KINDLING_FAULT_WRITE", n.to_string())
            .output()
            .unwrap()
            .status;
        if status.success() {
            // The sequence has fewer than n writes: it ran to the end.
            assert_eq!(snapshot(root.path()), want);
            break;
        }
        assert_eq!(status.signal(), Some(9), "fault {n}: {status}");
        crashes += 1;
        check_interrupted(root.path(), n);

        crash_sequence(root.path());
        assert_eq!(snapshot(root.path()), want, "fault {n}: rerun differs");
        assert!(temps(root.path()).is_empty(), "fault {n}");
    }
    // motd, config, unit, environment, stage + set + authorized_keys, motd again.
    assert_eq!(crashes, 8);
}

// ---------------------------------------------------------------- accounts

fn account_root() -> tempfile::TempDir {
    let root = temp_root();
    let r = root.path();
    put(
        r,
        "/etc/passwd",
        "# comment\n\
         root:x:0:0:root:/root:/bin/bash\n\
         \n\
         broken line\n\
         +nisuser::::::\n\
         core:x:500:500:CoreOS Admin:/home/core:/bin/bash\r\n\
         john.doe:x:1001:1001::/home/john.doe:/bin/sh\n\
         baduid:x:x:1::/:/bin/sh\n\
         core:x:999:999:shadowed duplicate:/:/bin/sh\n",
    );
    put(
        r,
        "/etc/group",
        "root:x:0:\nwheel:x:10:root,core\ncore:x:500:\ndocker:x:233:core\n\
         staff:x:50:\n42:x:4242:\nbroken\n",
    );
    put(
        r,
        "/etc/shadow",
        "root:*:19000:0:99999:7:::\ncore:$6$salt$hash:19000:0:99999:7:::\nshort\n",
    );
    root
}

#[test]
fn accounts_come_from_the_roots_files() {
    let root = account_root();
    let r = root.path();
    let core = accounts::user(r, "core").unwrap();
    assert_eq!(
        core,
        Account {
            name: "core".into(),
            uid: 500,
            gid: 500,
            gecos: "CoreOS Admin".into(),
            home: "/home/core".into(),
            shell: "/bin/bash".into(),
        }
    );
    assert_eq!(accounts::user(r, "baduid"), None);
    assert_eq!(accounts::user(r, "nisuser"), None);
    assert_eq!(accounts::user(r, "+nisuser"), None);
    assert_eq!(accounts::user(r, "nobody"), None);
    assert_eq!(accounts::users(r).len(), 4);
    assert_eq!(accounts::group_gid(r, "docker"), Some(233));
    assert_eq!(accounts::group_gid(r, "nogroup"), None);
    assert_eq!(
        accounts::supplementary_groups(r, "core"),
        ["wheel", "docker"]
    );
    assert!(accounts::supplementary_groups(r, "john.doe").is_empty());
    assert_eq!(
        accounts::shadow_hash(r, "core").as_deref(),
        Some("$6$salt$hash")
    );
    assert_eq!(accounts::shadow_hash(r, "short"), None);

    let empty = temp_root();
    assert_eq!(accounts::user(empty.path(), "root"), None);
    assert!(accounts::supplementary_groups(empty.path(), "root").is_empty());
}

#[test]
fn owner_specs_resolve_like_chown() {
    let root = account_root();
    let r = root.path();
    let owner = |spec| accounts::resolve_owner(r, spec);
    let both = |uid, gid| {
        Ok(Owner {
            uid: Some(uid),
            gid: Some(gid),
        })
    };
    assert_eq!(
        owner("core"),
        Ok(Owner {
            uid: Some(500),
            gid: None,
        }),
        "a lone user leaves the group alone, as chown(1) does"
    );
    assert_eq!(owner("core:"), both(500, 500));
    assert_eq!(owner("core:wheel"), both(500, 10));
    assert_eq!(owner("core.wheel"), both(500, 10), "old syntax");
    assert_eq!(
        owner("john.doe"),
        Ok(Owner {
            uid: Some(1001),
            gid: None,
        }),
        "a user name with a dot"
    );
    assert_eq!(owner("john.doe:staff"), both(1001, 50));
    assert_eq!(
        owner(":wheel"),
        Ok(Owner {
            uid: None,
            gid: Some(10)
        })
    );
    assert_eq!(owner(":"), Ok(Owner::default()));
    assert_eq!(owner("1000:1000"), both(1000, 1000));
    assert_eq!(
        owner("500"),
        Ok(Owner {
            uid: Some(500),
            gid: None,
        }),
        "a lone uid leaves the group alone"
    );
    assert_eq!(
        owner("2000"),
        Ok(Owner {
            uid: Some(2000),
            gid: None
        })
    );
    assert_eq!(owner("core:42"), both(500, 4242), "a group named 42 wins");
    assert_eq!(owner("core:+42"), both(500, 42), "+ forces a number");
    assert_eq!(owner("+0:+0"), both(0, 0));
    assert_eq!(owner(""), Err(OwnerError::Empty));

    let error = owner("nobody2:wheel").unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "unknown user \"nobody2\" in owner \"nobody2:wheel\": not in {}",
            r.join("etc/passwd").display()
        )
    );
    let error = owner("core:nogroup").unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "unknown group \"nogroup\" in owner \"core:nogroup\": not in {}",
            r.join("etc/group").display()
        )
    );
    assert!(owner("4294967295").is_err(), "chown's -1 is not an id");

    assert_eq!(
        Owner {
            uid: None,
            gid: Some(10)
        }
        .complete(Some((500, 500))),
        (500, 10)
    );
}

// ---------------------------------------------------------------- users

fn full_user() -> NewUser {
    NewUser {
        name: "alice".into(),
        passwd: Some("$6$salt$hash".into()),
        gecos: Some("Alice Example".into()),
        homedir: Some("/home/alice".into()),
        no_create_home: false,
        primary_group: Some("users".into()),
        groups: vec!["wheel".into(), "docker".into()],
        no_user_group: true,
        system: true,
        no_log_init: true,
        shell: Some("/bin/bash".into()),
        ..NewUser::default()
    }
}

#[test]
fn useradd_arguments_follow_the_reference_order() {
    assert_eq!(
        users::useradd_args(&full_user(), Path::new("/")),
        [
            "--password",
            "*",
            "--comment",
            "Alice Example",
            "--home-dir",
            "/home/alice",
            "--create-home",
            "--gid",
            "users",
            "--groups",
            "wheel,docker",
            "--no-user-group",
            "--system",
            "--no-log-init",
            "--shell",
            "/bin/bash",
            "alice",
        ]
    );
    let minimal = NewUser {
        name: "bob".into(),
        passwd: Some(String::new()),
        gecos: Some(String::new()),
        no_create_home: true,
        ..NewUser::default()
    };
    assert_eq!(
        users::useradd_args(&minimal, Path::new("/tmp/root")),
        [
            "--password",
            "*",
            "--no-create-home",
            "--prefix",
            "/tmp/root",
            "bob"
        ]
    );
}

/// A root in which shadow-utils' `--prefix` works: the databases, login.defs with known id
/// ranges, and useradd defaults whose skeleton is the root's own.
fn shadow_root() -> tempfile::TempDir {
    let root = temp_root();
    let r = root.path();
    put(r, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
    put(
        r,
        "/etc/group",
        "root:x:0:\nwheel:x:10:\nusers:x:100:\naudio:x:29:\ndocker:x:233:\n",
    );
    put(r, "/etc/shadow", "root:*:19000:0:99999:7:::\n");
    put(
        r,
        "/etc/gshadow",
        "root:*::\nwheel:*::\nusers:*::\naudio:*::\ndocker:*::\n",
    );
    for file in ["/etc/shadow", "/etc/gshadow"] {
        fs::set_permissions(host(r, file), fs::Permissions::from_mode(0o640)).unwrap();
    }
    put(
        r,
        "/etc/login.defs",
        "UID_MIN 1000\nUID_MAX 60000\nSYS_UID_MIN 201\nSYS_UID_MAX 999\n\
         GID_MIN 1000\nGID_MAX 60000\nSYS_GID_MIN 201\nSYS_GID_MAX 999\n\
         USERGROUPS_ENAB yes\nUMASK 022\nHOME_MODE 0700\nENCRYPT_METHOD SHA512\n",
    );
    put(
        r,
        "/etc/default/useradd",
        "SHELL=/bin/sh\nSKEL=/etc/skel\nHOME=/home\n",
    );
    put(r, "/etc/skel/.profile", "# skel\n");
    fs::create_dir_all(r.join("home")).unwrap();
    root
}

fn line_of(root: &Path, file: &str, name: &str) -> String {
    fs::read_to_string(host(root, file))
        .unwrap()
        .lines()
        .find(|l| l.starts_with(&format!("{name}:")))
        .unwrap_or_else(|| panic!("{name} not in {file}"))
        .to_string()
}

#[test]
#[ignore = "needs root"]
fn real_useradd_chpasswd_and_usermod_under_a_prefix() {
    if !Path::new("/usr/sbin/useradd").exists() && !Path::new("/sbin/useradd").exists() {
        eprintln!("skipped: no useradd");
        return;
    }
    let root = shadow_root();
    let r = root.path();

    let alice = NewUser {
        name: "alice".into(),
        passwd: Some("$6$salt$first".into()),
        gecos: Some("Alice \"A\" Example".into()),
        groups: vec!["wheel".into(), "docker".into()],
        shell: Some("/bin/bash".into()),
        ..NewUser::default()
    };
    users::create_user(&alice, r).unwrap();
    assert_eq!(
        line_of(r, "/etc/passwd", "alice"),
        "alice:x:1000:1000:Alice \"A\" Example:/home/alice:/bin/bash"
    );
    assert!(line_of(r, "/etc/shadow", "alice").starts_with("alice:$6$salt$first:"));
    assert_eq!(line_of(r, "/etc/group", "wheel"), "wheel:x:10:alice");
    assert_eq!(line_of(r, "/etc/group", "docker"), "docker:x:233:alice");
    assert_eq!(line_of(r, "/etc/group", "alice"), "alice:x:1000:");
    let home = r.join("home/alice");
    assert_eq!((mode(&home), owner(&home)), (0o700, (1000, 1000)));
    assert_eq!(fs::read(home.join(".profile")).unwrap(), b"# skel\n");
    assert_eq!(
        accounts::user(r, "alice").unwrap().home,
        Path::new("/home/alice")
    );

    let service = NewUser {
        name: "svc".into(),
        no_create_home: true,
        primary_group: Some("users".into()),
        no_user_group: true,
        system: true,
        no_log_init: true,
        shell: Some("/sbin/nologin".into()),
        ..NewUser::default()
    };
    users::create_user(&service, r).unwrap();
    let svc = accounts::user(r, "svc").unwrap();
    assert!((201..=999).contains(&svc.uid), "system uid {}", svc.uid);
    assert_eq!(svc.gid, 100);
    assert_eq!(accounts::group_gid(r, "svc"), None);
    assert!(!r.join("home/svc").exists());
    assert!(line_of(r, "/etc/shadow", "svc").starts_with("svc:*:"));

    // Again: useradd's own error, with its status, and never the hash.
    let error = users::create_user(&alice, r).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, UserError::Failed { .. }), "{message}");
    assert!(
        message.starts_with("useradd --password <redacted> --comment"),
        "{message}"
    );
    assert!(message.contains("failed with exit status 9: "), "{message}");
    assert!(message.contains("already exists"), "{message}");
    assert!(!message.contains("$6$salt$first"), "{message}");

    assert!(users::set_password("alice", "$6$salt$second", r).unwrap());
    assert!(line_of(r, "/etc/shadow", "alice").starts_with("alice:$6$salt$second:"));
    assert!(!users::set_password("alice", "$6$salt$second", r).unwrap());
    let error = users::set_password("nobody", "$6$salt$x", r).unwrap_err();
    assert!(!error.to_string().contains("$6$salt$x"), "{error}");
    assert!(matches!(
        users::set_password("alice", "x\nroot:y", r),
        Err(UserError::InvalidHash { .. })
    ));

    let groups = ["wheel".to_string(), "audio".to_string()];
    assert!(users::add_groups("alice", &groups, r).unwrap());
    assert_eq!(line_of(r, "/etc/group", "audio"), "audio:x:29:alice");
    assert_eq!(line_of(r, "/etc/group", "wheel"), "wheel:x:10:alice");
    assert_eq!(line_of(r, "/etc/gshadow", "audio"), "audio:*::alice");
    assert_eq!(
        accounts::supplementary_groups(r, "alice"),
        ["wheel", "audio", "docker"]
    );
    assert!(!users::add_groups("alice", &groups, r).unwrap());
    assert!(matches!(
        users::add_groups("-G", &groups, r),
        Err(UserError::InvalidName { .. })
    ));
}

// ---------------------------------------------------------------- SSH keys

fn key_root() -> (tempfile::TempDir, Account) {
    let root = temp_root();
    let home = root.path().join("home/core");
    fs::create_dir_all(&home).unwrap();
    if is_root() {
        nix::unistd::chown(&home, Some(500.into()), Some(500.into())).unwrap();
    }
    (root, core(Path::new("/")))
}

fn keys(list: &[&str]) -> Vec<String> {
    list.iter().map(|k| k.to_string()).collect()
}

fn ssh(root: &Path, rest: &str) -> PathBuf {
    root.join("home/core/.ssh").join(rest)
}

#[test]
#[ignore = "needs root"]
fn ssh_keys_in_a_fresh_home() {
    let (root, core) = key_root();
    let r = root.path();
    let set = keys(&[
        " ssh-ed25519 AAAA1 a@x ",
        "ssh-rsa AAAA2 b@x",
        "ssh-ed25519 AAAA1 a@x",
    ]);
    assert!(sshkeys::write_set(r, &core, "coreos-cloudinit", &set).unwrap());
    let want = "ssh-ed25519 AAAA1 a@x\nssh-rsa AAAA2 b@x\n";
    assert_eq!(
        fs::read_to_string(ssh(r, "authorized_keys.d/coreos-cloudinit")).unwrap(),
        want
    );
    assert_eq!(fs::read_to_string(ssh(r, "authorized_keys")).unwrap(), want);
    for (path, want_mode) in [
        ("", 0o700),
        ("authorized_keys.d", 0o700),
        ("authorized_keys.d/coreos-cloudinit", 0o600),
        ("authorized_keys", 0o600),
    ] {
        let path = ssh(r, path);
        assert_eq!(
            (mode(&path), owner(&path)),
            (want_mode, (500, 500)),
            "{path:?}"
        );
    }
    assert!(!ssh(r, "authorized_keys.d/orig_authorized_keys").exists());
    assert!(temps(r).is_empty());
}

#[test]
#[ignore = "needs root"]
fn existing_authorized_keys_are_kept_as_orig_authorized_keys() {
    let (root, core) = key_root();
    let r = root.path();
    put(
        r,
        "/home/core/.ssh/authorized_keys",
        "ssh-rsa OLD1 o@x\n\nssh-rsa OLD2 o@y",
    );
    fs::set_permissions(ssh(r, ""), fs::Permissions::from_mode(0o755)).unwrap();
    assert!(sshkeys::write_set(r, &core, "z-set", &keys(&["ssh-ed25519 NEW n@x"])).unwrap());
    assert_eq!(
        fs::read_to_string(ssh(r, "authorized_keys.d/orig_authorized_keys")).unwrap(),
        "ssh-rsa OLD1 o@x\nssh-rsa OLD2 o@y\n"
    );
    assert_eq!(
        fs::read_to_string(ssh(r, "authorized_keys")).unwrap(),
        "ssh-rsa OLD1 o@x\nssh-rsa OLD2 o@y\nssh-ed25519 NEW n@x\n"
    );
    assert_eq!(
        mode(&ssh(r, "")),
        0o755,
        "the user's own ~/.ssh is left as it was"
    );
    assert_eq!(owner(&ssh(r, "authorized_keys")), (500, 500));
    let entries: Vec<_> = fs::read_dir(ssh(r, ""))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(entries.len(), 2, "no stage directory left: {entries:?}");
}

#[test]
#[ignore = "needs root"]
fn sets_are_concatenated_in_name_order() {
    let (root, core) = key_root();
    let r = root.path();
    assert!(sshkeys::write_set(r, &core, "b", &keys(&["ssh-rsa B b@x"])).unwrap());
    assert!(sshkeys::write_set(r, &core, "a", &keys(&["ssh-rsa A a@x"])).unwrap());
    // Another tool's set without a final newline, and one disabled with update-ssh-keys -D.
    put(
        r,
        "/home/core/.ssh/authorized_keys.d/c-foreign",
        "ssh-rsa C c@x",
    );
    put(r, "/home/core/.ssh/authorized_keys.d/d-disabled", "");
    assert!(sshkeys::write_set(r, &core, "b", &keys(&["ssh-rsa B2 b@x"])).unwrap());
    assert_eq!(
        fs::read_to_string(ssh(r, "authorized_keys")).unwrap(),
        "ssh-rsa A a@x\nssh-rsa B2 b@x\nssh-rsa C c@x\n"
    );

    // A disabled set stays disabled.
    assert!(!sshkeys::write_set(r, &core, "d-disabled", &keys(&["ssh-rsa D d@x"])).unwrap());
    assert_eq!(
        fs::read(ssh(r, "authorized_keys.d/d-disabled")).unwrap(),
        b""
    );

    // No keys: the set goes away.
    assert!(sshkeys::write_set(r, &core, "a", &[]).unwrap());
    assert!(!ssh(r, "authorized_keys.d/a").exists());
    assert_eq!(
        fs::read_to_string(ssh(r, "authorized_keys")).unwrap(),
        "ssh-rsa B2 b@x\nssh-rsa C c@x\n"
    );
    assert!(!sshkeys::write_set(r, &core, "never-existed", &[]).unwrap());
}

/// The planner's answer to "do the keys change", read from the real root as a plan reads it.
fn planned_change(root: &Path, account: &Account, set: &str, keys: &[String]) -> bool {
    let systemd = kindling::apply::systemd::offline::OfflineSystemd::new(root);
    let state = kindling::apply::state::TargetState::new(root, &systemd);
    let account = kindling::plan::Account {
        name: account.name.clone(),
        uid: account.uid,
        gid: account.gid,
        home: account.home.clone(),
    };
    kindling::plan::keys::update(&state, &account, set, keys).changes()
}

#[test]
#[ignore = "needs root"]
fn writing_the_same_set_again_changes_nothing() {
    let (root, core) = key_root();
    let r = root.path();
    let set = keys(&["ssh-ed25519 AAAA1 a@x", "ssh-rsa AAAA2 b@x"]);
    assert!(sshkeys::write_set(r, &core, "coreos-cloudinit", &set).unwrap());
    let files = [
        ssh(r, "authorized_keys"),
        ssh(r, "authorized_keys.d/coreos-cloudinit"),
    ];
    let before: Vec<_> = files
        .iter()
        .map(|f| {
            let meta = fs::metadata(f).unwrap();
            (meta.ino(), meta.mtime(), meta.mtime_nsec())
        })
        .collect();
    assert!(!planned_change(r, &core, "coreos-cloudinit", &set));
    assert!(!sshkeys::write_set(r, &core, "coreos-cloudinit", &set).unwrap());
    let after: Vec<_> = files
        .iter()
        .map(|f| {
            let meta = fs::metadata(f).unwrap();
            (meta.ino(), meta.mtime(), meta.mtime_nsec())
        })
        .collect();
    assert_eq!(before, after);

    // A wrong mode is a difference, fixed by the next write.
    fs::set_permissions(&files[0], fs::Permissions::from_mode(0o644)).unwrap();
    assert!(planned_change(r, &core, "coreos-cloudinit", &set));
    assert_eq!(mode(&files[0]), 0o644, "deciding touches nothing");
    assert!(sshkeys::write_set(r, &core, "coreos-cloudinit", &set).unwrap());
    assert_eq!(mode(&files[0]), 0o600);

    // The same keys spelled with spaces and repeats render to the same set: no change for
    // either (the planner once compared the raw text and said there was one).
    let respelled = keys(&[
        "  ssh-ed25519 AAAA1 a@x ",
        "ssh-rsa AAAA2 b@x",
        "ssh-rsa AAAA2 b@x",
    ]);
    assert!(!planned_change(r, &core, "coreos-cloudinit", &respelled));
    assert!(!sshkeys::write_set(r, &core, "coreos-cloudinit", &respelled).unwrap());

    // authorized_keys edited by hand, its set intact: a change for both (the planner once
    // looked only at the set file and that authorized_keys existed).
    fs::write(&files[0], "ssh-rsa STRAY x@y\n").unwrap();
    assert!(planned_change(r, &core, "coreos-cloudinit", &set));
    assert!(sshkeys::write_set(r, &core, "coreos-cloudinit", &set).unwrap());
    assert!(!planned_change(r, &core, "coreos-cloudinit", &set));
}

#[test]
fn ssh_key_errors() {
    let (root, core) = key_root();
    let r = root.path();
    for bad in ["", "../x", "a/b", ".hidden"] {
        assert!(
            matches!(
                sshkeys::write_set(r, &core, bad, &keys(&["k"])),
                Err(SshKeysError::InvalidSetName { .. })
            ),
            "{bad:?}"
        );
    }
    let homeless = Account {
        home: "/home/nobody".into(),
        ..core.clone()
    };
    let error = sshkeys::write_set(r, &homeless, "x", &keys(&["k"])).unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot write SSH keys of user \"core\": home directory /home/nobody does not exist"
    );
}

#[test]
#[ignore = "needs root"]
fn ssh_key_errors_name_a_file_in_the_place_of_the_ssh_directory() {
    let (root, core) = key_root();
    let r = root.path();
    put(r, "/home/core/.ssh", "not a directory");
    let error = sshkeys::write_set(r, &core, "x", &keys(&["k"])).unwrap_err();
    assert!(error.to_string().contains("is not a directory"), "{error}");
}
