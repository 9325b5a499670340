//! Replays every input the fuzz campaign kept (`fuzz/regressions/TARGET/*`: crashes, timeouts,
//! out-of-memory inputs, all fixed since) through the same entry points the fuzz targets call,
//! so a fix stays proven without cargo-fuzz or a nightly toolchain. The seed inputs from
//! `testdata/` go through every target too: the targets' invariants hold for them.

use std::path::{Path, PathBuf};

use kindling::fuzzing::{target, TARGETS};

use crate::common;

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if path.is_file() {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn run(name: &str, path: &Path) {
    let run = target(name).unwrap_or_else(|| panic!("{}: no fuzz target {name}", path.display()));
    let data = std::fs::read(path).unwrap();
    // The panic message alone would not say which file.
    if let Err(e) = std::panic::catch_unwind(|| run(&data)) {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        panic!("fuzz target {name} on {}: {msg}", path.display());
    }
}

#[test]
fn every_regression_input_passes_its_target() {
    let root = common::repo("fuzz/regressions");
    let mut replayed = 0;
    for path in files_under(&root) {
        let rel = path.strip_prefix(&root).unwrap();
        // Files at the top (a README) belong to no target.
        let mut parts = rel.components();
        let (Some(dir), Some(_)) = (parts.next(), parts.next()) else {
            continue;
        };
        run(dir.as_os_str().to_str().unwrap(), &path);
        replayed += 1;
    }
    eprintln!("replayed {replayed} regression inputs");
}

#[test]
fn every_target_holds_its_invariants_on_the_seed_inputs() {
    let root = common::repo("testdata");
    let seeds = files_under(&root);
    assert!(seeds.len() > 50, "testdata/ went missing");
    for (name, _) in TARGETS {
        for path in &seeds {
            run(name, path);
        }
    }
}
