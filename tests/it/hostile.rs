//! The binary against hostile input (issue 9): alias amplification, unbounded reads, paths that
//! are relative or not UTF-8. Figures (memory, time) are measured outside the test suite.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::process::Stdio;
use std::time::Duration;

use crate::common;

use common::http::{ok, Reply, Server};
use common::kindling;

/// A fresh copy of testdata/root (passwd, group, shadow, login.defs).
fn fresh_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = common::testdata("root/etc");
    std::fs::create_dir_all(dir.path().join("etc/coreos")).unwrap();
    for entry in std::fs::read_dir(&from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), dir.path().join("etc").join(entry.file_name())).unwrap();
        }
    }
    dir
}

/// One unit of about 10 KB, then `refs` more list items that are aliases of it.
fn aliased_units(refs: usize) -> String {
    let mut text = String::from(
        "#cloud-config\ncoreos:\n  units:\n    - &x\n      name: amp.service\n      content: |\n        [Service]\n",
    );
    for i in 0..120 {
        text.push_str(&format!(
            "        Environment=LINE{i:05}={}\n",
            "x".repeat(60)
        ));
    }
    text.push_str(&"    - *x\n".repeat(refs));
    text
}

#[test]
fn a_unit_repeated_by_aliases_is_planned_and_written_once() {
    let dir = fresh_root();
    let file = dir.path().join("user-data");
    std::fs::write(&file, aliased_units(20_000)).unwrap();
    let out = kindling()
        .args(["plan", "--from-file"])
        .arg(&file)
        .arg("--root")
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stdout
            .matches("write unit /etc/systemd/system/amp.service")
            .count(),
        1,
        "{stdout}"
    );
    assert!(
        stderr.contains("20000 items of \"units\" repeat an earlier item through an alias; each entry is applied once"),
        "{stderr}"
    );

    let out = kindling().args(["validate"]).arg(&file).output().unwrap();
    assert!(out.status.success());
}

#[test]
fn an_alias_bomb_is_refused_whole_with_a_clear_error() {
    // 60 KB aliased 400 times: 24 MB to read, past the document's own text plus 16 MiB.
    let dir = fresh_root();
    let file = dir.path().join("user-data");
    let text = format!(
        "#cloud-config\nhostname: bombed\nwrite_files:\n  - path: /etc/a\n    content: &c '{}'\nssh_authorized_keys: [{}]\n",
        "z".repeat(60_000),
        "*c, ".repeat(400)
    );
    std::fs::write(&file, text).unwrap();
    let out = kindling().arg("validate").arg(&file).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.contains("error[alias-limit]: aliases expand this document to too many bytes"),
        "{stdout}"
    );
    let out = kindling()
        .args(["apply", "--from-file"])
        .arg(&file)
        .arg("--root")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // Nothing of it was applied: not the hostname before the bomb, not the file.
    assert!(!dir.path().join("etc/a").exists());
    assert_ne!(
        std::fs::read_to_string(dir.path().join("etc/hostname")).unwrap_or_default(),
        "bombed\n"
    );
}

#[test]
fn validate_reads_at_most_the_fetch_cap() {
    let out = kindling().args(["validate", "/dev/zero"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "/dev/zero:0:0: error[unreadable]: cannot read /dev/zero: it is larger than 16 MiB, the most user-data a datasource accepts\n1 error, 0 warnings in 1 file\n"
    );
    let out = kindling()
        .args(["validate", "-"])
        .stdin(std::fs::File::open("/dev/zero").unwrap())
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(
        "-:0:0: error[unreadable]: cannot read standard input: it is larger than 16 MiB"
    ));
    // At the cap exactly, the input is read (and validated as what it is).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.yml");
    let mut text = b"#cloud-config\nhostname: a\n".to_vec();
    text.resize(16 << 20, b'\n');
    std::fs::write(&file, text).unwrap();
    let out = kindling().arg("validate").arg(&file).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn file_names_that_are_not_utf8_are_read() {
    let dir = fresh_root();
    let name = OsStr::from_bytes(b"user-data-\xff\xfe.yml");
    let file = dir.path().join(name);
    std::fs::write(&file, "#cloud-config\nhostname: latin1\n").unwrap();
    let out = kindling().arg("validate").arg(&file).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = kindling()
        .args(["apply", "--from-file"])
        .arg(&file)
        .arg("--root")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("etc/hostname")).unwrap(),
        "latin1\n"
    );
    // The compat spelling too.
    let mut flag = std::ffi::OsString::from("-from-file=");
    flag.push(&file);
    let out = kindling().arg("-validate").arg(flag).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_relative_root_is_made_absolute_for_useradd() {
    let dir = fresh_root();
    let file = dir.path().join("user-data");
    std::fs::write(&file, "#cloud-config\nusers:\n  - name: reluser\n").unwrap();
    let parent = dir.path().parent().unwrap();
    let rel = dir.path().file_name().unwrap();
    let out = kindling()
        .current_dir(parent)
        .args(["apply", "--from-file"])
        .arg(&file)
        .arg("--root")
        .arg(rel)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let passwd = std::fs::read_to_string(dir.path().join("etc/passwd")).unwrap();
    assert!(
        passwd.lines().any(|l| l.starts_with("reluser:")),
        "{passwd}"
    );
    assert!(dir.path().join("home/reluser").is_dir());
}

/// An EC2-like metadata service on 127.0.0.1 (IMDSv1: the token PUT is refused) whose
/// user-data answers as `user_data` says; every other path answers at once.
fn metadata_server(user_data: fn() -> Reply) -> Server {
    Server::start(move |req| {
        if req.method == "PUT" {
            Reply::Status(404, Vec::new())
        } else if req.path.ends_with("/user-data") {
            user_data()
        } else if req.path.ends_with("/2009-04-04/") {
            ok("user-data\nmeta-data\n")
        } else {
            Reply::Status(404, Vec::new())
        }
    })
}

fn hang() -> Reply {
    Reply::Hang(Duration::from_secs(120))
}

fn one_byte_a_second() -> Reply {
    Reply::Trickle {
        len: 1000,
        every: Duration::from_secs(1),
    }
}

fn unavailable() -> Reply {
    Reply::Status(503, Vec::new())
}

#[test]
fn fetch_timeout_bounds_the_whole_fetch() {
    // Each would hold the fetch for minutes with per-request timeouts and 15 attempts alone.
    for (what, user_data) in [
        ("hanging", hang as fn() -> Reply),
        ("1 byte/s", one_byte_a_second),
        ("503", unavailable),
    ] {
        let server = metadata_server(user_data);
        let base = &server.base;
        let started = std::time::Instant::now();
        let out = kindling()
            .args(["fetch", "--from-ec2-metadata", base, "--timeout", "5"])
            .output()
            .unwrap();
        let took = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
        assert!(
            took < std::time::Duration::from_secs(5 + 3),
            "{what}: fetch --timeout 5 took {took:?}\n{stderr}"
        );
        assert!(server.count("GET", "/2009-04-04/user-data") >= 1, "{what}");
        assert!(stderr.contains("user-data"), "{what}: {stderr}");
    }
}

#[test]
fn a_fleet_honours_retry_after_and_spreads_its_retries() {
    use kindling::http::{HttpClient, HttpOptions};
    use std::time::Instant;
    // One server for 24 clients: 429 with Retry-After: 2 on every request, each request
    // logged with its client (the path) and time.
    let server = Server::start(|_| {
        Reply::Raw(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec())
    });
    let base = &server.base;
    const CLIENTS: usize = 24;
    let window = Duration::from_secs(5);
    let deadline = Instant::now() + window;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let url = format!("{base}c{i}");
            std::thread::spawn(move || {
                // The real client with the real defaults (15 attempts, 100 ms doubling).
                let http = HttpClient::new(&HttpOptions {
                    deadline: Some(deadline),
                    ..HttpOptions::default()
                });
                http.get(&url, &[], 1024).unwrap_err().to_string()
            })
        })
        .collect();
    for c in clients {
        let e = c.join().unwrap();
        assert!(
            e.contains("HTTP status 429") || e.contains("--timeout"),
            "{e}"
        );
    }
    let log = server.requests();
    // Without Retry-After, the reference's backoff makes 6 requests per client in 5 s.
    let per_client = log.len() as f64 / CLIENTS as f64;
    assert!(
        per_client <= 4.0,
        "{} requests from {CLIENTS} clients",
        log.len()
    );
    for i in 0..CLIENTS {
        let times: Vec<Instant> = log
            .iter()
            .filter(|r| r.path == format!("/c{i}"))
            .map(|r| r.at)
            .collect();
        for pair in times.windows(2) {
            let gap = pair[1] - pair[0];
            // Never sooner than asked, unless the deadline came first.
            assert!(
                gap >= Duration::from_millis(1950)
                    || pair[1] + Duration::from_millis(100) >= deadline,
                "client {i} retried after {gap:?}"
            );
        }
    }
    eprintln!(
        "{} requests from {CLIENTS} clients in {window:?}",
        log.len()
    );
}

#[test]
fn backoff_pauses_have_full_jitter() {
    use kindling::http::{HttpClient, HttpOptions};
    use std::time::Instant;
    // 503 without Retry-After: the first pause is random in [0, 100 ms) for each client.
    let url = format!("{}2009-04-04/user-data", metadata_server(unavailable).base);
    let pauses: Vec<Duration> = (0..24)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let http = HttpClient::new(&HttpOptions {
                    attempts: 2,
                    ..HttpOptions::default()
                });
                let started = Instant::now();
                let _ = http.get(&url, &[], 1024);
                started.elapsed()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    let (min, max) = (pauses.iter().min().unwrap(), pauses.iter().max().unwrap());
    assert!(
        *max < Duration::from_millis(100) + Duration::from_secs(2),
        "{max:?}"
    );
    assert!(*max - *min > Duration::from_millis(20), "{pauses:?}");
}

#[test]
fn password_hashes_never_reach_a_command_line() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let dir = fresh_root();
    let unique = format!(
        "{:x}{:x}",
        std::process::id(),
        std::time::UNIX_EPOCH.elapsed().unwrap().as_nanos()
    );
    let hash = |i: usize| format!("$6$hostile${unique}x{i}");
    let mut config = String::from("#cloud-config\nusers:\n");
    for i in 0..4 {
        config.push_str(&format!("  - name: pw{i}\n    passwd: {}\n", hash(i)));
    }
    // An existing user whose hash changes takes the other path (set, not create).
    config.push_str(&format!("  - name: root\n    passwd: {}\n", hash(9)));
    let file = dir.path().join("user-data");
    std::fs::write(&file, config).unwrap();
    // A crashed shadow-utils left its lock: the PID in it is gone.
    std::fs::write(dir.path().join("etc/shadow.lock"), "999999999").unwrap();

    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let done = done.clone();
        let needle = format!("$6$hostile${unique}");
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            let mut scans = 0u64;
            while !done.load(Ordering::SeqCst) {
                for entry in std::fs::read_dir("/proc").unwrap().flatten() {
                    if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
                        let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
                        if text.contains(&needle) {
                            seen.push(text);
                        }
                    }
                }
                scans += 1;
            }
            (seen, scans)
        })
    };
    let out = kindling()
        .args(["apply", "--from-file"])
        .arg(&file)
        .arg("--root")
        .arg(dir.path())
        .output()
        .unwrap();
    done.store(true, Ordering::SeqCst);
    let (seen, scans) = watcher.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(scans > 0);
    assert!(seen.is_empty(), "a hash was on a command line: {seen:?}");
    let shadow = std::fs::read_to_string(dir.path().join("etc/shadow")).unwrap();
    for (name, i) in [("pw0", 0), ("pw3", 3), ("root", 9)] {
        assert!(
            shadow
                .lines()
                .any(|l| l.starts_with(&format!("{name}:{}:", hash(i)))),
            "{name}: {shadow}"
        );
    }
    assert!(!dir.path().join("etc/shadow.lock").exists());
    assert!(!std::fs::read_dir(dir.path().join("etc"))
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("shadow.")));
    // The second run changes nothing.
    let again = kindling()
        .args(["apply", "--from-file"])
        .arg(&file)
        .arg("--root")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("0 changed"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("etc/shadow")).unwrap(),
        shadow
    );
}

/// 16 KB of gzip that decompress to 16 MiB of line breaks and one wrong value at the end.
/// Every list of lines kindling kept took 16 bytes a line (the YAML parser's, the report's:
/// 1.1 GB for 60 MiB); the sparse line index keeps a few MB. Run under a 192 MiB address-space
/// limit, so that a regression fails here (the allocation is refused) instead of swapping.
#[test]
fn a_payload_of_line_breaks_is_read_in_bounded_memory() {
    use std::io::Write as _;
    let dir = fresh_root();
    let mut text = b"#cloud-config\n".to_vec();
    text.resize(text.len() + (16 << 20), b'\n');
    text.extend_from_slice(b"hostname: [a]\n");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&text).unwrap();
    let file = dir.path().join("user-data.gz");
    std::fs::write(&file, gz.finish().unwrap()).unwrap();
    let limited = |args: &[&OsStr]| {
        std::process::Command::new("prlimit")
            .arg(format!("--as={}", 192u64 << 20))
            .arg("--")
            .arg(common::BIN)
            .args(args)
            .env_remove("JOURNAL_STREAM")
            .output()
            .unwrap()
    };
    let out = limited(&["validate".as_ref(), file.as_os_str()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!(
            ":{}:11: error[wrong-type]: \"hostname\"",
            (16 << 20) + 2
        )),
        "{stdout}"
    );
    let out = limited(&[
        "plan".as_ref(),
        "--from-file".as_ref(),
        file.as_os_str(),
        "--root".as_ref(),
        dir.path().as_os_str(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "! user-data: hostname: line {}: \"hostname\" must be a string",
            (16 << 20) + 2
        )),
        "{stdout}"
    );
}

/// A unit whose 5M lines each hold a syntax error: a finding per line took 2.6 GB and 52 s to
/// hold and print. Findings past the cap are counted, so both commands stay in a 192 MiB
/// address space, and one closing finding says how many were not shown.
#[test]
fn a_unit_with_a_finding_per_line_is_checked_in_bounded_memory() {
    use std::io::Write as _;
    let dir = fresh_root();
    const LINES: usize = 5_000_000;
    let limited = |args: &[&OsStr]| {
        std::process::Command::new("prlimit")
            .arg(format!("--as={}", 192u64 << 20))
            .arg("--")
            .arg(common::BIN)
            .args(args)
            .env_remove("JOURNAL_STREAM")
            .output()
            .unwrap()
    };
    let gzip = |text: &[u8], name: &str| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(text).unwrap();
        let file = dir.path().join(name);
        std::fs::write(&file, gz.finish().unwrap()).unwrap();
        file
    };
    let more = format!("{} more lines from here on", LINES - 1000);
    // Exit 0 (the findings are warnings), and the closing line counts what was not kept.
    let assert_counted = |out: &std::process::Output, more: &str| {
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            &stdout[..stdout.len().min(2000)]
        );
        assert!(
            stdout.contains(more),
            "{}",
            &stdout[stdout.len().saturating_sub(2000)..]
        );
    };

    // A standalone unit file.
    let unit = gzip(&b"x\n".repeat(LINES), "a.service");
    let out = limited(&["validate".as_ref(), unit.as_os_str()]);
    assert_counted(&out, &more);
    assert!(String::from_utf8_lossy(&out.stdout).lines().count() < 10_000);

    // The same lines as a unit's content in a cloud-config, written with `\n` escapes.
    let mut text =
        b"#cloud-config\ncoreos:\n  units:\n  - name: a.service\n    content: \"".to_vec();
    text.extend_from_slice(&b"x\\n".repeat(LINES));
    text.extend_from_slice(b"\"\n");
    let file = gzip(&text, "user-data.gz");
    let out = limited(&["validate".as_ref(), file.as_os_str()]);
    assert_counted(&out, &more);
    let out = limited(&[
        "plan".as_ref(),
        "--from-file".as_ref(),
        file.as_os_str(),
        "--root".as_ref(),
        dir.path().as_os_str(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains("a.service"),
        "{}",
        &stdout[..stdout.len().min(2000)]
    );
}

/// Past the document's cap findings are only counted, but an error among them still fails
/// validation, and it is shown.
#[test]
fn an_error_past_the_findings_cap_still_fails_validation() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("#cloud-config\n");
    for i in 0..10_500 {
        text.push_str(&format!("unknown{i}: 1\n"));
    }
    text.push_str("hostname: [a]\n");
    let file = dir.path().join("user-data");
    std::fs::write(&file, &text).unwrap();
    let out = kindling().arg("validate").arg(&file).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        &stdout[stdout.len().saturating_sub(2000)..]
    );
    assert!(stdout.contains("error[wrong-type]: \"hostname\""));
    assert!(
        stdout.contains("info[too-many-findings]: 500 more findings in this document"),
        "{}",
        &stdout[stdout.len().saturating_sub(2000)..]
    );
    assert_eq!(stdout.matches("warning[unknown-key]").count(), 10_000);
}

/// `--allow` drops a rule's findings before the cap counts them: 10,500 allowed unknown keys take
/// no room, so the warnings after them are shown and nothing is reported as not shown.
#[test]
fn allowed_findings_take_no_room_under_the_findings_cap() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("#cloud-config\n");
    for i in 0..10_500 {
        text.push_str(&format!("unknown{i}: 1\n"));
    }
    text.push_str("ssh_authorized_keys:\n  - not a key\n");
    let file = dir.path().join("user-data");
    std::fs::write(&file, &text).unwrap();
    let run = |allow: &[&str]| {
        let mut cmd = kindling();
        cmd.arg("validate").arg("--strict");
        for code in allow {
            cmd.args(["--allow", code]);
        }
        let out = cmd.arg(&file).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.code(), stdout)
    };

    let (status, stdout) = run(&[]);
    assert_eq!(status, Some(1));
    assert!(!stdout.contains("warning[invalid-ssh-key]"));
    assert!(stdout.contains("info[too-many-findings]: 501 more findings in this document"));

    let (status, stdout) = run(&["unknown-key"]);
    let tail = &stdout[stdout.len().saturating_sub(2000)..];
    assert_eq!(status, Some(1), "{tail}");
    assert!(!stdout.contains("warning[unknown-key]"), "{tail}");
    assert!(!stdout.contains("too-many-findings"), "{tail}");
    assert_eq!(
        stdout.matches("warning[invalid-ssh-key]").count(),
        1,
        "{tail}"
    );
    assert!(
        stdout.ends_with("0 errors, 1 warning in 1 file\n"),
        "{tail}"
    );
}
