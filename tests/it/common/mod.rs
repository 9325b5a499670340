//! What the integration tests share: the built binary, paths in the repository, fresh roots to
//! apply into, and (in `http`) a scripted HTTP server on 127.0.0.1.

pub mod http;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `kindling` binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_kindling");

/// The built `kindling`, without the variables of the calling environment that change its
/// output: `JOURNAL_STREAM` (logs would go to the journal instead of standard error) and the
/// `COREOS_*` address overrides (substitution would use them instead of the metadata's).
pub fn kindling() -> Command {
    let mut cmd = Command::new(BIN);
    for var in [
        "JOURNAL_STREAM",
        "COREOS_PUBLIC_IPV4",
        "COREOS_PRIVATE_IPV4",
        "COREOS_PUBLIC_IPV6",
        "COREOS_PRIVATE_IPV6",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// [`kindling`] with `assert_cmd`'s assertions.
pub fn assert_kindling() -> assert_cmd::Command {
    assert_cmd::Command::from_std(kindling())
}

/// A path in the repository, from its top directory.
pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A path under `testdata/`.
pub fn testdata(rel: &str) -> PathBuf {
    repo("testdata").join(rel)
}

/// A config under `testdata/cloud-configs/`, as a command-line argument.
pub fn config(rel: &str) -> String {
    testdata("cloud-configs").join(rel).display().to_string()
}

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Copies the tree `from` into the existing directory `to`: directories and regular files.
pub fn copy_tree(from: &Path, to: &Path) {
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

/// A temporary copy of `testdata/root`: users root and core (500), groups docker (233) and
/// others, shadow files and login.defs (its README says what is there).
pub fn testdata_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&testdata("root"), dir.path());
    dir
}

/// Where the absolute path `path` inside `root` is on the host.
pub fn host(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

/// Writes a file under `root` directly (not through the code under test), parents included.
pub fn put(root: &Path, path: &str, content: &str) {
    let host = host(root, path);
    std::fs::create_dir_all(host.parent().unwrap()).unwrap();
    std::fs::write(host, content).unwrap();
}

/// Bytes a command printed, as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
