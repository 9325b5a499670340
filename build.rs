//! Names the commit in `--version`: `0.1.0 (abc1234 2026-11-29)` when built from a git checkout,
//! plain `0.1.0` from a tarball or when git is missing.
//!
//! Cargo reruns this script only when one of the paths it names changes: `build.rs`, the release
//! link's linker script (a change relinks), the checkout's `HEAD` and the ref `HEAD` points at
//! (or `packed-refs` when the ref is packed). A commit or a checkout moves one of them; editing
//! sources does not, so ordinary rebuilds stay as fast as without the script.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // The release link reads this linker script (Makefile, STATIC), which cargo does not track.
    println!("cargo:rerun-if-changed=build/no-eh-frame.ld");
    println!("cargo:rerun-if-env-changed=KINDLING_BUILD_INFO");
    let version = env!("CARGO_PKG_VERSION");
    let full = match commit_info() {
        Some(info) => format!("{version} ({info})"),
        None => version.to_string(),
    };
    println!("cargo:rustc-env=KINDLING_VERSION={full}");
}

/// `abc1234 2026-11-29`, or None outside a git checkout. `KINDLING_BUILD_INFO` overrides it for
/// packagers who build from an export but know the commit ("" means none).
fn commit_info() -> Option<String> {
    if let Ok(info) = std::env::var("KINDLING_BUILD_INFO") {
        return Some(info).filter(|i| !i.is_empty());
    }
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
    // Only this checkout's own repository: a tarball unpacked inside some other git tree must
    // not borrow that tree's commit.
    let toplevel = git(&dir, &["rev-parse", "--show-toplevel"])?;
    if Path::new(&toplevel).canonicalize().ok()? != dir.canonicalize().ok()? {
        return None;
    }
    watch(&dir, "HEAD");
    if let Some(reference) = git(&dir, &["symbolic-ref", "-q", "HEAD"]) {
        if !watch(&dir, &reference) {
            watch(&dir, "packed-refs");
        }
    }
    let out = git(
        &dir,
        &[
            "log",
            "-1",
            "--no-show-signature",
            "--format=%h %cs",
            "--abbrev=7",
        ],
    )?;
    Some(out).filter(|o| !o.is_empty())
}

/// Asks cargo to rerun when the repository file `name` (resolved as git does for worktrees)
/// changes. A path that does not exist is not named: cargo would rerun on every build.
fn watch(dir: &Path, name: &str) -> bool {
    let Some(path) = git(
        dir,
        &["rev-parse", "--path-format=absolute", "--git-path", name],
    ) else {
        return false;
    };
    if Path::new(&path).exists() {
        println!("cargo:rerun-if-changed={path}");
        true
    } else {
        false
    }
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8(out.stdout).ok()?.trim().to_string())
}
