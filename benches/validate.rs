//! `make bench`: instruction counts under callgrind and whole-process timings of `kindling
//! validate` (the static release binary) beside `/bin/true`, the stripped binary's size, growth
//! with document size, peak memory, and `kindling convert` on the large config.
//! Measures and prints; never fails on a figure.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn binary() -> PathBuf {
    // The static binary `make build` makes (and copies here), which is what ships.
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/kindling");
    assert!(
        bin.exists(),
        "{} is missing: run `make build` first (make bench does)",
        bin.display()
    );
    bin
}

/// Median wall time of `runs` runs of `kindling validate FILE`, after one warm-up run.
fn median_wall(bin: &Path, file: &Path, runs: usize) -> Duration {
    median_wall_of(bin, "validate", file, runs)
}

/// Median wall time of `runs` runs of `kindling SUBCOMMAND FILE`, after one warm-up run.
fn median_wall_of(bin: &Path, subcommand: &str, file: &Path, runs: usize) -> Duration {
    let run = || {
        let start = Instant::now();
        let status = Command::new(bin)
            .arg(subcommand)
            .arg(file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run kindling");
        let took = start.elapsed();
        assert!(status.code().is_some(), "kindling was killed by a signal");
        took
    };
    run();
    let mut times: Vec<Duration> = (0..runs).map(|_| run()).collect();
    times.sort();
    times[times.len() / 2]
}

/// Median wall time of spawning `cmd` (no validation): the floor every whole-process figure
/// stands on, on this machine.
fn median_spawn(cmd: &Path, args: &[&str], runs: usize) -> Duration {
    let mut times: Vec<Duration> = (0..=runs)
        .map(|_| {
            let start = Instant::now();
            let _ = Command::new(cmd)
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            start.elapsed()
        })
        .collect();
    times.remove(0);
    times.sort();
    times[times.len() / 2]
}

/// Instructions executed by `cmd args` under callgrind, whole process (dynamic loader and libc
/// start-up included), from valgrind's `Collected :` line. Unlike wall time it barely moves on a
/// loaded machine, so it is the figure to compare across changes.
fn callgrind_instructions(cmd: &Path, args: &[&std::ffi::OsStr]) -> Result<u64, String> {
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(cmd)
        .args(args)
        .stdout(Stdio::null())
        .output()
        .map_err(|e| format!("valgrind: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    stderr
        .lines()
        .find_map(|l| {
            l.split_once("Collected :")
                .map(|(_, n)| n.trim().to_string())
        })
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("no `Collected :` line from valgrind: {}", stderr.trim()))
}

/// Peak resident set size in KiB, from GNU time's `%M`.
fn peak_rss_kib(bin: &Path, file: &Path) -> Option<u64> {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(bin)
        .arg("validate")
        .arg(file)
        .stdout(Stdio::null())
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()?
        .trim()
        .parse()
        .ok()
}

/// A valid config with `files` write_files (12 lines each: half base64, half literal blocks) and
/// `units` units with a drop-in (20 lines each): 500 and 200 make the issue's ~10,000 lines.
fn generated(files: usize, units: usize) -> String {
    let mut s = String::from("#cloud-config\nhostname: bench-node\nwrite_files:\n");
    for i in 0..files {
        if i % 2 == 0 {
            let _ = write!(
                s,
                "  - path: /etc/bench/file-{i}.conf\n    permissions: \"0644\"\n    owner: root:root\n    encoding: base64\n    content: |\n      a2V5ID0gdmFsdWUKb3RoZXIgPSB2YWx1ZQprZXkgPSB2YWx1ZQpvdGhlciA9IHZhbHVlCmtleSA9\n      IHZhbHVlCm90aGVyID0gdmFsdWUKa2V5ID0gdmFsdWUKb3RoZXIgPSB2YWx1ZQprZXkgPSB2YWx1\n      ZQpvdGhlciA9IHZhbHVlCmtleSA9IHZhbHVlCm90aGVyID0gdmFsdWUKa2V5ID0gdmFsdWUKb3Ro\n      ZXIgPSB2YWx1ZQprZXkgPSB2YWx1ZQpvdGhlciA9IHZhbHVlCmtleSA9IHZhbHVlCm90aGVyID0g\n      dmFsdWUKa2V5ID0gdmFsdWUKb3RoZXIgPSB2YWx1ZQo=\n    # generated entry {i}\n    # end\n"
            );
        } else {
            let _ = write!(
                s,
                "  - path: /etc/bench/plain-{i}.conf\n    permissions: \"0600\"\n    owner: root\n    content: |\n      # generated file {i}\n      key = value {i}\n      other = {i}\n      [section]\n      a = 1\n      b = 2\n      c = 3\n      d = 4\n"
            );
        }
    }
    s.push_str("coreos:\n  units:\n");
    for i in 0..units {
        let _ = write!(
            s,
            "    - name: bench-{i}.service\n      enable: true\n      command: start\n      content: |\n        [Unit]\n        Description=Bench unit {i}\n        After=network-online.target\n        Wants=network-online.target\n\n        [Service]\n        ExecStart=/opt/bin/bench {i}\n        Restart=always\n\n        [Install]\n        WantedBy=multi-user.target\n      drop_ins:\n        - name: 10-env.conf\n          content: |\n            [Service]\n            Environment=N={i}\n"
        );
    }
    s
}

/// 1234567 as "1,234,567".
fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn main() {
    let bin = binary();
    let dir = tempfile::tempdir().expect("temp dir");
    let small = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/bench/small.yml");
    let small_lines = std::fs::read_to_string(&small).unwrap().lines().count();
    let mut report = String::new();

    let size = std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0);
    let _ = writeln!(
        report,
        "binary: {} bytes ({:.2} MB), stripped static (target < 4,000,000)",
        group_digits(size),
        size as f64 / 1e6
    );
    let true_bin = Path::new("/bin/true");
    match (
        callgrind_instructions(true_bin, &[]),
        callgrind_instructions(&bin, &["validate".as_ref(), small.as_os_str()]),
    ) {
        (Ok(floor), Ok(validate)) => {
            let _ = writeln!(
                report,
                "instructions (callgrind): /bin/true {}, kindling validate small config {} (target <= 700,000)",
                group_digits(floor),
                group_digits(validate)
            );
        }
        (Err(e), _) | (_, Err(e)) => {
            let _ = writeln!(report, "instructions not measured: {e}");
        }
    }

    let floor = median_spawn(true_bin, &[], 301);
    let version = median_spawn(&bin, &["--version"], 301);
    let _ = writeln!(
        report,
        "spawn floor: /bin/true {:.3} ms, kindling --version {:.3} ms (median of 301)",
        floor.as_secs_f64() * 1e3,
        version.as_secs_f64() * 1e3
    );
    let rss = peak_rss_kib(&bin, &small);
    let t_small = median_wall(&bin, &small, 301);
    let _ = writeln!(
        report,
        "small config ({small_lines} lines): median wall {:.3} ms over 301 runs, {:.3} ms above /bin/true (target < 1 ms)",
        t_small.as_secs_f64() * 1e3,
        (t_small.as_secs_f64() - floor.as_secs_f64()) * 1e3
    );
    match rss {
        Some(kib) => {
            let _ = writeln!(
                report,
                "small config: peak RSS {kib} KiB (target < 4096 KiB)"
            );
        }
        None => {
            let _ = writeln!(
                report,
                "small config: peak RSS not measured (/usr/bin/time missing)"
            );
        }
    }

    let large = dir.path().join("large.yml");
    let text = generated(500, 200);
    std::fs::write(&large, &text).unwrap();
    let t_large = median_wall(&bin, &large, 51);
    let _ = writeln!(
        report,
        "large config ({} lines, 500 write_files, 200 units with drop-ins): median wall {:.3} ms over 51 runs (target < 20 ms)",
        text.lines().count(),
        t_large.as_secs_f64() * 1e3
    );

    // convert plans the same config and writes it as Ignition JSON (every file a data URL).
    let t_convert = median_wall_of(&bin, "convert", &large, 51);
    let _ = writeln!(
        report,
        "convert, the same large config to Ignition JSON: median wall {:.3} ms over 51 runs (target < 50 ms)",
        t_convert.as_secs_f64() * 1e3
    );

    let _ = writeln!(
        report,
        "growth (entries = write_files; units with a drop-in = 2/5 of that):"
    );
    let _ = writeln!(
        report,
        "  {:>7} {:>9} {:>11} {:>17}",
        "entries", "lines", "median ms", "us per new entry"
    );
    // Marginal cost: (t(2n) - t(n)) / n. Constant when growth is linear; it doubles with every
    // row for a quadratic validator (the reference's 16 s at 1,600 entries).
    let mut previous: Option<(usize, Duration)> = None;
    let mut marginals = Vec::new();
    let mut n = 50;
    while n <= 12_800 {
        let path = dir.path().join(format!("grow-{n}.yml"));
        let text = generated(n, n * 2 / 5);
        std::fs::write(&path, &text).unwrap();
        let runs = if n >= 6400 { 11 } else { 31 };
        let t = median_wall(&bin, &path, runs);
        let marginal =
            previous.map(|(pn, pt)| t.saturating_sub(pt).as_secs_f64() * 1e6 / (n - pn) as f64);
        let shown = marginal.map_or_else(|| "-".to_string(), |m| format!("{m:.2}"));
        let _ = writeln!(
            report,
            "  {n:>7} {:>9} {:>11.3} {shown:>17}",
            text.lines().count(),
            t.as_secs_f64() * 1e3
        );
        if let Some(m) = marginal {
            marginals.push((n, m));
        }
        previous = Some((n, t));
        n *= 2;
    }
    // Small sizes are dominated by process start-up noise: compare from 800 entries on.
    let settled: Vec<f64> = marginals
        .iter()
        .filter(|(n, _)| *n >= 800)
        .map(|(_, m)| *m)
        .collect();
    if let (Some(first), Some(last)) = (settled.first(), settled.last()) {
        let _ = writeln!(
            report,
            "marginal cost per entry at 12,800 / at 800 entries: {:.2} (1.0 is linear; quadratic would be 16)",
            last / first.max(1e-9)
        );
    }
    print!("{report}");
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-validate.txt");
    let _ = std::fs::write(&out, &report);
    println!("(written to {})", out.display());
}
