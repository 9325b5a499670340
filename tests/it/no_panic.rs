//! Property tests: no input makes the validator panic, overflow its stack or lose track of where
//! its findings are. Each property also checks an invariant of the output, not only survival.
//!
//! 1. random bytes into `validate`;
//! 2. random bytes behind a `#cloud-config` line, the gzip magic, or a multipart header;
//! 3. structured, cloud-config-like YAML built from the real schema's keys, with mistakes;
//! 4. alias bombs and 50,000-deep nesting, on a thread with a 2 MiB stack;
//! 5. random and structured multipart documents into `split_multipart` (and `validate`).
//!
//! A counting global allocator measures what one thread allocates at its peak, so that the bomb
//! tests can bound memory without measuring time.
//!
//! The tests at the end reproduce invariants these properties once found broken (memory bombs,
//! positions, messages); they guard the fixes.

use std::io::Write as _;

use kindling::config::schema::{self, Section, Ty};
use kindling::config::{self, yaml};
use kindling::report::{Finding, Report};
use kindling::rules::Severity;
use kindling::userdata::{self, Kind};
use kindling::validate::validate;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::{FileFailurePersistence, TestCaseError};

// ---------------------------------------------------------------------------------------------
// Allocation meter

mod meter {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    /// A thread that holds more than this is stopped (allocation failure aborts the process)
    /// rather than letting a runaway case take the machine's memory.
    const HARD_CAP: isize = 3 << 30;

    thread_local! {
        static LIVE: Cell<isize> = const { Cell::new(0) };
        static PEAK: Cell<isize> = const { Cell::new(0) };
    }

    pub struct Counting;

    fn note(delta: isize) -> bool {
        LIVE.try_with(|live| {
            let now = live.get().saturating_add(delta);
            if delta > 0 && now > HARD_CAP {
                return false;
            }
            live.set(now);
            let _ = PEAK.try_with(|peak| {
                if now > peak.get() {
                    peak.set(now);
                }
            });
            true
        })
        .unwrap_or(true)
    }

    fn size(n: usize) -> isize {
        isize::try_from(n).unwrap_or(isize::MAX)
    }

    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            if !note(size(layout.size())) {
                return std::ptr::null_mut();
            }
            let p = unsafe { System.alloc(layout) };
            if p.is_null() {
                note(-size(layout.size()));
            }
            p
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            if !note(size(layout.size())) {
                return std::ptr::null_mut();
            }
            let p = unsafe { System.alloc_zeroed(layout) };
            if p.is_null() {
                note(-size(layout.size()));
            }
            p
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { System.dealloc(ptr, layout) };
            note(-size(layout.size()));
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let delta = size(new_size) - size(layout.size());
            if !note(delta) {
                return std::ptr::null_mut();
            }
            let p = unsafe { System.realloc(ptr, layout, new_size) };
            if p.is_null() {
                note(-delta);
            }
            p
        }
    }

    /// Runs `f` and returns how many bytes this thread held at most beyond what it held before.
    pub fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
        let base = LIVE.with(Cell::get);
        PEAK.with(|p| p.set(base));
        let out = f();
        let peak = PEAK.with(Cell::get);
        (out, usize::try_from(peak - base).unwrap_or(0))
    }
}

#[global_allocator]
static ALLOC: meter::Counting = meter::Counting;

const MIB: usize = 1 << 20;

// ---------------------------------------------------------------------------------------------
// Shared invariants

/// The lines of `text` as a YAML reader counts them: LF, CRLF and a lone CR each end a line.
fn yaml_lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            b'\r' => {
                out.push(&text[start..i]);
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < bytes.len() {
        out.push(&text[start..]);
    }
    out
}

/// What every report must satisfy: positions from 1, sorted by (line, col), within the text it
/// points into (`lines` of it; one more line for "at the end"), non-empty messages, no exact
/// repeats, and output formats that carry every finding.
fn check_report(report: &Report, lines: &[&str]) -> Result<(), TestCaseError> {
    let f = &report.findings;
    for x in f {
        prop_assert!(x.pos.line >= 1, "line 0: {:?}", x);
        prop_assert!(x.pos.col >= 1, "column 0: {:?}", x);
        prop_assert!(!x.message.trim().is_empty(), "empty message: {:?}", x);
        prop_assert!(
            x.pos.line <= lines.len() + 1,
            "line {} is past the text's {} lines: {:?}",
            x.pos.line,
            lines.len(),
            x
        );
    }
    for w in f.windows(2) {
        prop_assert!(
            (w[0].pos.line, w[0].pos.col) <= (w[1].pos.line, w[1].pos.col),
            "not sorted: {:?} before {:?}",
            w[0],
            w[1]
        );
        prop_assert!(w[0] != w[1], "repeated finding {:?}", w[0]);
    }
    let json: serde_json::Value = serde_json::from_str(&report.to_json("in")).expect("json");
    prop_assert_eq!(json["entries"].as_array().map(Vec::len), Some(f.len()));
    prop_assert_eq!(report.to_compat().len(), f.len());
    // One `FILE:LINE:COL: KIND: MESSAGE` line per finding. (Messages can hold line breaks, so
    // this counts heads, not lines: see `messages_have_no_control_characters`.)
    let human = report.to_human("FILE");
    let heads = human.lines().filter(|l| l.starts_with("FILE:")).count();
    prop_assert_eq!(heads, f.len(), "human output:\n{}", human);
    Ok(())
}

/// Validates twice: the report must be the same both times, and satisfy [`check_report`] with
/// lines counted as YAML counts them in the text the report points into.
fn validate_checked(data: &[u8]) -> Result<Report, TestCaseError> {
    let report = validate(data);
    let again = validate(data);
    prop_assert_eq!(&report.findings, &again.findings, "not deterministic");
    prop_assert_eq!(&report.source, &again.source);
    check_report(&report, &yaml_lines(&report.source))?;
    Ok(report)
}

fn errors(f: &[Finding]) -> usize {
    f.iter().filter(|x| x.severity == Severity::Error).count()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// Bytes that are mostly text with YAML, MIME and unit-file punctuation, some of it invalid.
fn texty_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    const TOKENS: &[&str] = &[
        "\n",
        "\n",
        "\n",
        "  ",
        "    ",
        "\t",
        "\r\n",
        "\r",
        ": ",
        "- ",
        "#",
        "'",
        "\"",
        "|",
        ">",
        "&a ",
        "*a",
        "<<: ",
        "[",
        "]",
        "{",
        "}",
        ",",
        "---\n",
        "...\n",
        "!!binary ",
        "!!str ",
        "%YAML 1.2\n",
        "? ",
        "\\",
        "\u{feff}",
        "\u{85}",
        "\u{2028}",
        "é",
        "hostname",
        "coreos",
        "units",
        "users",
        "write_files",
        "name",
        "content",
        "path",
        "encoding",
        "yes",
        "null",
        "~",
        "0644",
        "1e3",
        "x",
        "[Unit]",
        "=",
        "--b\n",
    ];
    prop::collection::vec(
        prop_oneof![
            4 => select(TOKENS).prop_map(|t| t.as_bytes().to_vec()),
            2 => "[a-z0-9 ._/:-]{1,8}".prop_map(String::into_bytes),
            1 => any::<u8>().prop_map(|b| vec![b]),
        ],
        0..max,
    )
    .prop_map(|chunks| chunks.concat())
}

/// `cases` per property. Failures are kept beside this file, in `no_panic.proptest-regressions`,
/// and replayed first: proptest's default would put them in a `proptest-regressions/` directory
/// beside `tests/it/`, the crate's root, and leave the file here unread.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Properties 1 and 2: random bytes, bare and behind each kind of header

proptest! {
    #![proptest_config(config(768))]

    #[test]
    fn random_bytes_validate_cleanly(data in prop::collection::vec(any::<u8>(), 0..4096)) {
        let report = validate_checked(&data)?;
        // The two detection orders differ only for a payload that is both a cloud-config and
        // Ignition, which cannot be: an Ignition document starts with `{`.
        prop_assert_eq!(userdata::detect(&data), userdata::detect_for_validation(&data));
        prop_assert_eq!(userdata::gunzip_payload(&data).is_ok_and(|p| p.is_none()), !userdata::is_gzip(&data));
        if data.is_empty() {
            prop_assert!(report.findings.is_empty());
        }
    }
}

proptest! {
    #![proptest_config(config(384))]

    #[test]
    fn random_text_validates_cleanly(data in texty_bytes(400)) {
        validate_checked(&data)?;
        prop_assert_eq!(userdata::detect(&data), userdata::detect_for_validation(&data));
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn cloud_config_header_then_random_bytes(
        tail in prop_oneof![texty_bytes(400), prop::collection::vec(any::<u8>(), 0..2048)],
    ) {
        let mut data = b"#cloud-config\n".to_vec();
        data.extend_from_slice(&tail);
        let report = validate_checked(&data)?;
        prop_assert_eq!(userdata::detect_for_validation(&data), Kind::CloudConfig);
        match std::str::from_utf8(&data) {
            // Validating a cloud-config is parsing it: the same findings, nothing added.
            Ok(text) => prop_assert_eq!(&report.findings, &config::parse(text).findings),
            Err(_) => {
                prop_assert_eq!(report.findings.len(), 1);
                let f = &report.findings[0];
                prop_assert!(f.message.contains("UTF-8"));
                // It is on the line of the first bad byte (its column: `utf8_error_column_*`).
                let line = report.source.split('\n').nth(f.pos.line - 1).unwrap_or("");
                prop_assert!(line.contains('\u{fffd}'), "no bad byte on line {}: {:?}", f.pos.line, line);
                let before = report.source.split('\n').take(f.pos.line - 1);
                prop_assert!(before.clone().all(|l| !l.contains('\u{fffd}')), "a bad byte on an earlier line");
            }
        }
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn gzip_magic_then_random_bytes(tail in prop::collection::vec(any::<u8>(), 0..2048)) {
        let mut data = vec![0x1f, 0x8b];
        data.extend_from_slice(&tail);
        let report = validate_checked(&data)?;
        prop_assert_eq!(userdata::detect(&data), Kind::Unknown);
        match userdata::gunzip_payload(&data) {
            Ok(Some(plain)) => prop_assert_eq!(&report.findings, &validate(&plain).findings),
            Ok(None) => prop_assert!(false, "gzip magic not recognised"),
            Err(_) => {
                prop_assert_eq!(report.findings.len(), 1);
                let f = &report.findings[0];
                prop_assert_eq!((f.pos.line, f.pos.col, f.severity), (1, 1, Severity::Error));
                prop_assert!(f.message.contains("gzip"));
            }
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Real gzip of random text, sometimes truncated, corrupted or with bytes appended: it
    /// either validates exactly as its plain text does, or is one gzip error at 1:1.
    #[test]
    fn gzip_of_random_text(
        plain in prop_oneof![
            texty_bytes(300).prop_map(|t| [b"#cloud-config\n".as_slice(), &t].concat()),
            texty_bytes(300),
        ],
        damage in prop_oneof![
            3 => Just(None),
            1 => (any::<Index>(), 0..3u8, any::<u8>()).prop_map(Some),
        ],
    ) {
        let mut data = gzip(&plain);
        if let Some((at, how, byte)) = damage {
            let i = at.index(data.len());
            match how {
                0 => data.truncate(i),
                1 => data[i] ^= byte | 1,
                _ => data.push(byte),
            }
        }
        let report = validate_checked(&data)?;
        match userdata::gunzip_payload(&data) {
            Ok(Some(out)) => {
                prop_assert_eq!(&report.findings, &validate(&out).findings);
                // The report's text reads a lone CR as the line end YAML makes of it.
                let mut shown = out.clone();
                for i in 0..shown.len() {
                    if shown[i] == b'\r' && shown.get(i + 1) != Some(&b'\n') {
                        shown[i] = b'\n';
                    }
                }
                if userdata::detect_for_validation(&out) == userdata::Kind::Multipart {
                    shown = out.clone();
                }
                prop_assert_eq!(report.source, String::from_utf8_lossy(&shown).into_owned());
                if damage.is_none() {
                    prop_assert_eq!(out, plain);
                }
            }
            Ok(None) => prop_assert!(!userdata::is_gzip(&data)),
            Err(_) => {
                prop_assert!(damage.is_some(), "undamaged gzip did not decompress");
                prop_assert_eq!(report.findings.len(), 1);
                prop_assert!(report.findings[0].message.contains("gzip"));
            }
        }
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn multipart_header_then_random_bytes(
        tail in prop_oneof![prop::collection::vec(any::<u8>(), 0..2048), texty_bytes(300)],
    ) {
        let mut data = b"Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\n".to_vec();
        data.extend_from_slice(&tail);
        prop_assert_eq!(userdata::detect_for_validation(&data), Kind::Multipart);
        let report = validate_checked(&data)?;
        check_split(&data, &report)?;
    }
}

// ---------------------------------------------------------------------------------------------
// Property 3: structured cloud-config YAML from the real schema, with mistakes

/// A YAML value before rendering. Scalars and flow collections are already YAML text.
#[derive(Debug, Clone)]
enum Y {
    Scalar(String),
    /// A block scalar: its header (`|-`, `>`, `!!binary |`) and its content lines.
    Block(String, Vec<String>),
    Map(Vec<(String, Y)>),
    Seq(Vec<Y>),
    Anchored(String, Box<Y>),
    Alias(String),
}

const WORDS: &[&str] = &[
    "core-01",
    "example.com",
    "a..b",
    "-bad-",
    "10.0.0.7",
    "::1",
    "/etc/hosts",
    "/usr/bin/x",
    "/usr/share/oem/x",
    "/etc/../usr/lib/x",
    "relative/path",
    "etcd-lock",
    "best-effort",
    "reboot",
    "start",
    "reload-or-restart",
    "docker.service",
    "foo@bar.service",
    "x.timer",
    "a/b.service",
    "20-x.conf",
    "x.txt",
    "0644",
    "0o644",
    "644",
    "0999",
    "u+x",
    "base64",
    "b64",
    "gz+b64",
    "gzip",
    "localhost",
    "Sun 1:00",
    "Mon 25:99",
    "1h",
    "30m",
    "forever",
    "http://10.0.0.1:2379/v2/keys",
    "https://discovery.etcd.io/abc",
    "ftp://x",
    "readonly",
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ== user@host",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk=",
    "ecdsa-sha2-nistp256 AAAA",
    "aGVsbG8=",
    "H4sIAAAAAAAA",
    "a,b,c",
    "core",
    "$6$salt$hash",
    "ü",
    "日本",
];
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "42",
    "0x1F",
    "0o17",
    "017",
    "1_000",
    "3.14",
    "1e3",
    ".5",
    "-.inf",
    ".NaN",
    "99999999999999999999999",
    "+1",
    "1:20",
];
const BOOLS: &[&str] = &[
    "yes", "no", "on", "off", "y", "n", "true", "false", "True", "FALSE", "Yes", "NO",
];
const NULLS: &[&str] = &["~", "null", "Null", ""];
const ODD: &[&str] = &[
    "\"\\x00\"",
    "\"\\u2028\"",
    "\"a\\tb\"",
    "\"unterminated",
    "'a''b'",
    "!!binary aGVsbG8=",
    "!!binary ***",
    "!!str 1",
    "!!int x",
    "!!bool yes",
    "!!null ''",
    "!custom x",
    "a # comment",
    "a: b",
    "- x",
    "@reserved",
    "`tick",
    "%",
    "[a, b",
    "{a: 1",
    "&",
    "*",
    "* a",
    "!",
    "? x",
    "[a, {b: c}, [d]]",
    "{a: [1, 2], b: {c: d}}",
    "[]",
    "{}",
    "[*a, *b]",
    "{<<: *a}",
];
const BLOCK_HEADERS: &[&str] = &[
    "|",
    "|-",
    "|+",
    ">",
    ">-",
    "|2",
    ">2-",
    "!!binary |",
    "| # c",
];
const BAD_BLOCK_HEADERS: &[&str] = &["|0", "|-+", "|x", ">>"];
const BLOCK_LINES: &[&str] = &[
    "[Unit]",
    "Description=x",
    "[Service]",
    "ExecStart=/usr/bin/true",
    "Type=oneshot",
    "bad line",
    "[Broken",
    "=nokey",
    "# comment",
    "",
    "aGVsbG8=",
    "H4sIAAAAAAAA",
    "\tExecStart=x",
    "  extra indent",
    "[Install]",
    "WantedBy=multi-user.target",
    "Environment=A=1 \\",
    "key: value",
];
const UNKNOWN_KEYS: &[&str] = &[
    "foo",
    "hostnme",
    "user",
    "write-file",
    "write_files",
    "coreos",
    "units",
    "1",
    "true",
    "~",
    "\"\"",
    "''",
    "[a, b]",
    "{a: 1}",
    "key with spaces",
    "\"quoted key\"",
    "ke:y",
    "-",
    "a#b",
    "&k k",
    "*a",
    "!!str k",
];
const ANCHORS: &[&str] = &["a", "b", "c"];

/// Every key the schema knows, in any section: handy as a key in the wrong place.
fn all_keys() -> Vec<&'static str> {
    let sections: [&'static Section; 13] = [
        &schema::ROOT,
        &schema::USER,
        &schema::WRITE_FILE,
        &schema::COREOS,
        &schema::UNIT,
        &schema::DROP_IN,
        &schema::UPDATE,
        &schema::OEM,
        &schema::FLANNEL,
        &schema::LOCKSMITH,
        &schema::FLEET,
        &schema::ETCD2,
        &schema::ETCD,
    ];
    let mut keys: Vec<&'static str> = sections
        .iter()
        .flat_map(|s| s.fields.iter().map(|f| f.key))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Values that mean something to the rule of the field with this (canonical) key.
fn hints(key: &str) -> &'static [&'static str] {
    match key {
        "hostname" => &[
            "core-01",
            "example.com",
            "a..b",
            "-bad-",
            "10.0.0.7",
            "::1",
            "under_score",
            "localhost",
            "x.",
            "ü.example",
        ],
        "name" => &[
            "docker.service",
            "foo@bar.service",
            "foo@.service",
            "x.timer",
            "x.bogus",
            "a/b.service",
            "core",
            "20-x.conf",
            "x.txt",
            ".service",
        ],
        "path" | "homedir" => &[
            "/etc/hosts",
            "/usr/bin/x",
            "/usr/share/oem/x",
            "/etc/../usr/lib/x",
            "/usr/../etc/x",
            "relative/path",
            "/",
            "//usr/x",
        ],
        "permissions" => &[
            "0644", "0o644", "644", "0999", "u+x", "07777", "-1", "0x1ff",
        ],
        "encoding" => &[
            "base64",
            "b64",
            "gz",
            "gzip+base64",
            "gz+b64",
            "base32",
            "GZIP",
        ],
        "content" => &[
            "aGVsbG8=",
            "H4sIAAAAAAAA",
            "!!binary aGVsbG8=",
            "[Unit]",
            "x",
        ],
        "command" => &["start", "stop", "reload-or-restart", "enable", "START"],
        "reboot_strategy" => &["etcd-lock", "reboot", "off", "best-effort", "false"],
        "window_start" => &[
            "Sun 1:00",
            "Mon 25:99",
            "01:00",
            "thu 4:30",
            "Fri",
            "1:00am",
        ],
        "window_length" => &["1h", "30m", "1h30m", "forever", "-1h", "0"],
        "discovery" => &[
            "http://10.0.0.1:2379/v2/keys",
            "https://discovery.etcd.io/abc",
            "ftp://x",
            "discovery.etcd.io",
        ],
        "proxy" => &["on", "off", "readonly", "bogus"],
        "manage_etc_hosts" => &["localhost", "true", "foo"],
        "ssh_authorized_keys" => &[
            "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ== user@host",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk=",
            "ssh-ed25519 AAAA",
            "ecdsa-sha2-nistp256 AAAA",
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "AAAAB3NzaC1yc2E",
        ],
        _ => WORDS,
    }
}

/// The text of a scalar; the noisy kind includes text that is not valid YAML where it lands.
fn scalar_text(hint: &'static [&'static str], noisy: bool) -> BoxedStrategy<String> {
    let text = prop_oneof![
        4 => select(hint).prop_map(String::from),
        2 => select(WORDS).prop_map(String::from),
        2 => select(NUMBERS).prop_map(String::from),
        2 => select(BOOLS).prop_map(String::from),
        1 => select(NULLS).prop_map(String::from),
        1 => "[a-z0-9 ./_-]{0,12}",
    ];
    let styled = prop_oneof![
        12 => text.clone(),
        3 => text.clone().prop_map(|t| format!("'{}'", t.replace('\'', "''"))),
        3 => text.prop_map(|t| format!("{t:?}")),
    ];
    if noisy {
        prop_oneof![
            12 => styled,
            1 => select(ODD).prop_map(String::from),
            1 => "[ -~]{0,12}",
        ]
        .boxed()
    } else {
        styled.boxed()
    }
}

fn scalar(hint: &'static [&'static str], noisy: bool) -> BoxedStrategy<Y> {
    scalar_text(hint, noisy).prop_map(Y::Scalar).boxed()
}

fn block(noisy: bool) -> BoxedStrategy<Y> {
    let header = if noisy {
        prop_oneof![12 => select(BLOCK_HEADERS), 1 => select(BAD_BLOCK_HEADERS)].boxed()
    } else {
        select(BLOCK_HEADERS).boxed()
    };
    let line = if noisy {
        select(BLOCK_LINES).boxed()
    } else {
        select(BLOCK_LINES)
            .prop_filter("no tab", |l| !l.starts_with('\t'))
            .boxed()
    };
    (header, prop::collection::vec(line, 0..6))
        .prop_map(|(h, lines)| {
            Y::Block(h.to_string(), lines.iter().map(|l| l.to_string()).collect())
        })
        .boxed()
}

fn leaf(noisy: bool) -> BoxedStrategy<Y> {
    prop_oneof![
        24 => scalar(WORDS, noisy),
        4 => block(noisy),
        1 => select(ANCHORS).prop_map(|a| Y::Alias(a.to_string())),
    ]
    .boxed()
}

fn anchored(v: impl Strategy<Value = Y>) -> impl Strategy<Value = Y> {
    (select(ANCHORS), v).prop_map(|(a, v)| Y::Anchored(a.to_string(), Box::new(v)))
}

/// Keys that are not the section's own: other sections' keys, and unknown ones.
fn foreign_key(noisy: bool) -> BoxedStrategy<String> {
    let plain = prop_oneof![
        3 => select(all_keys()).prop_map(String::from),
        1 => "[a-z][a-z_-]{0,10}",
    ];
    if noisy {
        prop_oneof![3 => plain, 1 => select(UNKNOWN_KEYS).prop_map(String::from)].boxed()
    } else {
        plain.boxed()
    }
}

/// Anything at all, of random shape: lists and mappings in places that want something else.
fn any_value(noisy: bool) -> BoxedStrategy<Y> {
    leaf(noisy)
        .prop_recursive(3, 24, 4, move |inner| {
            prop_oneof![
                4 => prop::collection::vec(inner.clone(), 0..4).prop_map(Y::Seq),
                4 => prop::collection::vec((foreign_key(noisy), inner.clone()), 0..4)
                    .prop_map(Y::Map),
                1 => anchored(inner),
            ]
        })
        .boxed()
}

/// How a known key may be written: canonically, hyphenated, quoted, or one typo away.
fn spelling(key: &'static str) -> BoxedStrategy<String> {
    prop_oneof![
        8 => Just(key.to_string()),
        3 => Just(key.replace('_', "-")),
        1 => Just(format!("\"{key}\"")),
        1 => Just(key.to_ascii_uppercase()),
        1 => any::<Index>().prop_map(move |i| {
            let mut k: Vec<char> = key.chars().collect();
            k.remove(i.index(k.len()));
            k.into_iter().collect()
        }),
    ]
    .boxed()
}

/// A value for a field: mostly of its type (with values its rule cares about), sometimes of any
/// shape; sometimes anchored, sometimes an alias.
fn value_for(field: &'static schema::Field, depth: u32, noisy: bool) -> BoxedStrategy<Y> {
    let hint = hints(field.key);
    let v = match field.ty {
        Ty::Map(sec) if depth > 0 => prop_oneof![
            8 => map_for(sec, depth - 1, noisy),
            1 => any_value(noisy),
        ]
        .boxed(),
        Ty::List(sec) if depth > 0 => prop_oneof![
            8 => prop::collection::vec(map_for(sec, depth - 1, noisy), 0..4).prop_map(Y::Seq),
            1 => any_value(noisy),
        ]
        .boxed(),
        Ty::StrList => prop_oneof![
            6 => prop::collection::vec(scalar(hint, noisy), 0..4).prop_map(Y::Seq),
            1 => scalar(hint, noisy),
            1 => any_value(noisy),
        ]
        .boxed(),
        _ if field.key == "content" => prop_oneof![
            3 => scalar(hint, noisy),
            6 => block(noisy),
            1 => any_value(noisy),
        ]
        .boxed(),
        _ => prop_oneof![
            12 => scalar(hint, noisy),
            2 => block(noisy),
            1 => any_value(noisy),
        ]
        .boxed(),
    };
    prop_oneof![
        30 => v.clone(),
        1 => anchored(v),
        1 => select(ANCHORS).prop_map(|a| Y::Alias(a.to_string())),
    ]
    .boxed()
}

/// A mapping for one schema section: mostly its own keys (so duplicates happen), some unknown
/// keys, keys of other sections, and merge keys.
fn map_for(sec: &'static Section, depth: u32, noisy: bool) -> BoxedStrategy<Y> {
    // Keys that hold sections are drawn more often, so that the walk goes deep.
    let fields: Vec<&'static schema::Field> = sec
        .fields
        .iter()
        .flat_map(|f| {
            let n = if matches!(f.ty, Ty::Map(_) | Ty::List(_)) {
                4
            } else {
                1
            };
            std::iter::repeat_n(f, n)
        })
        .collect();
    let known =
        select(fields).prop_flat_map(move |f| (spelling(f.key), value_for(f, depth, noisy)));
    let foreign = (foreign_key(noisy), any_value(noisy));
    let alias = || select(ANCHORS).prop_map(|a| Y::Alias(a.to_string()));
    let merge = (
        Just("<<".to_string()),
        prop_oneof![
            2 => alias(),
            2 => prop::collection::vec(alias(), 0..3).prop_map(Y::Seq),
            1 => any_value(noisy),
        ],
    );
    prop::collection::vec(prop_oneof![12 => known, 2 => foreign, 1 => merge], 0..6)
        .prop_map(Y::Map)
        .boxed()
}

/// Writes `lead` (`key:` or `-`, perhaps with an anchor) and its value at indentation `ind`.
/// `defined` holds the anchors whose nodes are complete: an alias to any other is written as a
/// plain scalar, so that most documents get past the parser (undefined aliases still come from
/// the odd scalars).
fn render(out: &mut Vec<String>, ind: usize, lead: &str, v: &Y, defined: &mut Vec<String>) {
    let pad = " ".repeat(ind);
    match v {
        Y::Scalar(s) => out.push(format!("{pad}{lead} {s}").trim_end().to_string()),
        Y::Alias(a) if defined.contains(a) => out.push(format!("{pad}{lead} *{a}")),
        Y::Alias(a) => out.push(format!("{pad}{lead} {a}")),
        Y::Block(header, lines) => {
            out.push(format!("{pad}{lead} {header}"));
            for l in lines {
                out.push(if l.is_empty() {
                    String::new()
                } else {
                    format!("{pad}  {l}")
                });
            }
        }
        Y::Map(m) if m.is_empty() => out.push(format!("{pad}{lead} {{}}")),
        Y::Seq(s) if s.is_empty() => out.push(format!("{pad}{lead} []")),
        Y::Map(m) => {
            out.push(format!("{pad}{lead}"));
            for (k, v) in m {
                render(out, ind + 2, &format!("{k}:"), v, defined);
            }
        }
        Y::Seq(items) => {
            out.push(format!("{pad}{lead}"));
            for item in items {
                match item {
                    // The usual compact form: `- name: x` with the other keys under `name`.
                    Y::Map(m) if !m.is_empty() => {
                        let mut sub = Vec::new();
                        for (k, v) in m {
                            render(&mut sub, ind + 4, &format!("{k}:"), v, defined);
                        }
                        let first = sub[0].get(ind + 4..).unwrap_or("").to_string();
                        sub[0] = format!("{pad}  - {first}");
                        out.extend(sub);
                    }
                    _ => render(out, ind + 2, "-", item, defined),
                }
            }
        }
        Y::Anchored(a, inner) => {
            render(out, ind, &format!("{lead} &{a}"), inner, defined);
            defined.push(a.clone());
        }
    }
}

/// A mistake made to the rendered lines.
#[derive(Debug, Clone, Copy)]
enum Mistake {
    IndentMore,
    IndentLess,
    TabIndent,
    DocumentStart,
    DocumentEnd,
    Duplicate,
    Delete,
    TrailingTab,
    TabOnlyLine,
    Comment,
}

fn mistakes() -> impl Strategy<Value = Vec<(Index, Mistake)>> {
    let one = (
        any::<Index>(),
        select(vec![
            Mistake::IndentMore,
            Mistake::IndentLess,
            Mistake::TabIndent,
            Mistake::DocumentStart,
            Mistake::DocumentEnd,
            Mistake::Duplicate,
            Mistake::Delete,
            Mistake::TrailingTab,
            Mistake::TabOnlyLine,
            Mistake::Comment,
        ]),
    );
    prop_oneof![
        1 => Just(Vec::new()),
        1 => prop::collection::vec(one, 1..4),
    ]
}

fn apply(lines: &mut Vec<String>, at: Index, m: Mistake) {
    if lines.is_empty() {
        lines.push(String::new());
    }
    let i = at.index(lines.len());
    match m {
        Mistake::IndentMore => lines[i].insert(0, ' '),
        Mistake::IndentLess => {
            if lines[i].starts_with(' ') {
                lines[i].remove(0);
            }
        }
        Mistake::TabIndent => lines[i] = format!("\t{}", lines[i].trim_start_matches(' ')),
        Mistake::DocumentStart => lines.insert(i, "---".into()),
        Mistake::DocumentEnd => lines.insert(i, "...".into()),
        Mistake::Duplicate => lines.insert(i, lines[i].clone()),
        Mistake::Delete => {
            lines.remove(i);
        }
        Mistake::TrailingTab => lines[i].push_str(" \t"),
        Mistake::TabOnlyLine => lines.insert(i, " \t".into()),
        Mistake::Comment => lines.insert(i, "# a comment: with - punctuation".into()),
    }
}

/// A whole `#cloud-config` document. Never a lone CR (see `lone_cr_lines_*` below).
fn cloud_config_text() -> impl Strategy<Value = String> {
    any::<bool>().prop_flat_map(document)
}

/// A document that is mostly valid YAML, or (`noisy`) one with odd scalars, bad block headers,
/// odd keys and indentation mistakes.
fn document(noisy: bool) -> impl Strategy<Value = String> {
    let root = prop_oneof![
        20 => map_for(&schema::ROOT, 4, noisy),
        1 => any_value(noisy),
    ];
    let mistakes = if noisy {
        mistakes().boxed()
    } else {
        Just(Vec::new()).boxed()
    };
    (
        root,
        mistakes,
        any::<bool>(),
        any::<bool>(),
        prop::option::weighted(0.15, map_for(&schema::ROOT, 1, noisy)),
        // Anchors defined up front, so that most aliases have something to stand for.
        prop::option::weighted(
            0.85,
            (
                map_for(&schema::UNIT, 1, noisy),
                map_for(&schema::WRITE_FILE, 1, noisy),
                any_value(noisy),
            ),
        ),
    )
        .prop_map(|(root, mistakes, crlf, explicit_start, second, defs)| {
            let mut lines = Vec::new();
            let mut defined = Vec::new();
            if explicit_start {
                lines.push("---".to_string());
            }
            match &root {
                Y::Map(m) => {
                    if let Some((a, b, c)) = defs {
                        let anchored = |name: &str, v: Y| Y::Anchored(name.into(), Box::new(v));
                        let defs =
                            Y::Seq(vec![anchored("a", a), anchored("b", b), anchored("c", c)]);
                        render(&mut lines, 0, "x-defs:", &defs, &mut defined);
                    }
                    for (k, v) in m {
                        render(&mut lines, 0, &format!("{k}:"), v, &mut defined);
                    }
                }
                other => render(&mut lines, 0, "-", other, &mut defined),
            }
            if let Some(Y::Map(m)) = second {
                lines.push("---".to_string());
                for (k, v) in &m {
                    render(&mut lines, 0, &format!("{k}:"), v, &mut defined);
                }
            }
            for (at, m) in mistakes {
                apply(&mut lines, at, m);
            }
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut text = format!("#cloud-config{eol}");
            for l in lines {
                text.push_str(&l);
                text.push_str(eol);
            }
            text
        })
}

proptest! {
    #![proptest_config(config(768))]

    #[test]
    fn structured_cloud_configs_validate_cleanly(text in cloud_config_text()) {
        let report = validate(text.as_bytes());
        let lines: Vec<&str> = text.lines().collect();
        check_report(&report, &lines)?;
        prop_assert_eq!(&report.findings, &validate(text.as_bytes()).findings, "not deterministic");
        // Going through validate adds nothing to parsing the document directly.
        let parsed = config::parse(&text);
        prop_assert_eq!(errors(&report.findings), errors(&parsed.findings));
        prop_assert_eq!(&report.findings, &parsed.findings);
        // A syntax error is the one and only finding, and yaml::parse agrees there is one.
        prop_assert_eq!(yaml::parse(&text).is_ok(), parsed.syntax_ok);
        if !parsed.syntax_ok {
            prop_assert_eq!(parsed.findings.len(), 1);
            prop_assert_eq!(parsed.findings[0].severity, Severity::Error);
        }
        // Columns count characters of their line: at most one past its end.
        for f in &report.findings {
            if let Some(line) = lines.get(f.pos.line - 1) {
                let width = line.chars().count();
                prop_assert!(f.pos.col <= width + 1, "column {} past the end of line {:?}: {:?}", f.pos.col, line, f);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Property 4: alias bombs and deep nesting, on a small stack

/// Runs `f` on a thread with a 2 MiB stack. A stack overflow aborts the whole test binary, so
/// passing proves that the input did not recurse deeply.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 * MIB)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("the validator panicked")
}

/// `a0: &a0 [x, …]`, then 9 levels of `aN: &aN [*aN-1, …]` with `width` aliases each, then
/// `target: *a9`: 9^9 nodes if expanded.
fn billion_laughs(width: usize, target: &str) -> String {
    let mut s = String::from("#cloud-config\n");
    let xs = vec!["x"; width].join(", ");
    s.push_str(&format!("a0: &a0 [{xs}]\n"));
    for level in 1..=9 {
        let refs = vec![format!("*a{}", level - 1); width].join(", ");
        s.push_str(&format!("a{level}: &a{level} [{refs}]\n"));
    }
    s.push_str(&format!("{target}: *a9\n"));
    s
}

/// The same shape with mappings: `aN: &aN {k0: *aN-1, …}`.
fn billion_laughs_maps(width: usize, target: &str) -> String {
    let mut s = String::from("#cloud-config\na0: &a0 {name: x.service, content: y}\n");
    for level in 1..=9 {
        let refs: Vec<String> = (0..width)
            .map(|i| format!("k{i}: *a{}", level - 1))
            .collect();
        s.push_str(&format!("a{level}: &a{level} {{{}}}\n", refs.join(", ")));
    }
    s.push_str(&format!("{target}: *a9\n"));
    s
}

fn assert_bomb_defused(text: String) {
    let (report, peak) = on_small_stack(move || meter::peak_during(|| validate(text.as_bytes())));
    assert!(
        peak < 64 * MIB,
        "validating a small alias bomb held {} MiB at its peak",
        peak / MIB
    );
    let mentions_aliases = report.findings.iter().any(|f| f.message.contains("alias"));
    assert!(
        mentions_aliases || report.findings.len() <= 64,
        "{} findings and none about aliases",
        report.findings.len()
    );
}

#[test]
fn billion_laughs_lists_are_defused() {
    for target in [
        "hostname",
        "users",
        "ssh_authorized_keys",
        "write_files",
        "coreos",
        "unknown",
    ] {
        assert_bomb_defused(billion_laughs(9, target));
    }
    let mut nested = billion_laughs(9, "x");
    nested.push_str("coreos:\n  units: *a9\n  etcd2: *a9\nusers:\n  - name: a\n    groups: *a9\n");
    assert_bomb_defused(nested);
}

#[test]
fn billion_laughs_mappings_are_defused() {
    for target in ["coreos", "users", "write_files", "hostname"] {
        assert_bomb_defused(billion_laughs_maps(9, target));
    }
    let mut nested = billion_laughs_maps(9, "x");
    nested.push_str("coreos:\n  units: [*a9, *a9]\n  update: *a9\n  etcd2: *a9\n");
    assert_bomb_defused(nested);
}

/// A chain of anchors, each wrapping the last: a tree 5,000 deep from text 3 levels deep.
#[test]
fn alias_chains_do_not_recurse() {
    let mut s =
        String::from("#cloud-config\ndefs:\n  - &c0 {name: x.service}\n  - &m0 {name: x}\n");
    for i in 1..5000 {
        s.push_str(&format!("  - &c{i} [*c{}]\n", i - 1));
        s.push_str(&format!("  - &m{i} {{<<: *m{}, k{i}: v}}\n", i - 1));
    }
    s.push_str("users: *c4999\ncoreos: {units: *c4999, update: *m4999}\nwrite_files: [*m4999]\n");
    assert_bomb_defused(s);
}

fn deep_inputs() -> Vec<(&'static str, String)> {
    const N: usize = 50_000;
    let mut block_maps = String::new();
    for i in 0..2_000 {
        block_maps.push_str(&" ".repeat(i));
        block_maps.push_str("a:\n");
    }
    vec![
        ("flow sequences", "[".repeat(N)),
        (
            "closed flow sequences",
            format!("{}{}", "[".repeat(N), "]".repeat(N)),
        ),
        ("flow mappings", "{a: ".repeat(N)),
        ("block sequences", format!("{}x\n", "- ".repeat(N))),
        ("block mappings", block_maps),
        ("mixed", "[{a: - ".repeat(N / 3)),
    ]
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for (name, body) in deep_inputs() {
        for prefix in [
            "#cloud-config\n",
            "#cloud-config\nhostname: a\ncoreos:\n  units: ",
            "",
        ] {
            let text = format!("{prefix}{body}");
            let parse_text = text.clone();
            let syntax = on_small_stack(move || yaml::parse(&parse_text).is_err());
            assert!(syntax, "{name}: yaml::parse accepted it");
            let (report, _) =
                on_small_stack(move || meter::peak_during(|| validate(text.as_bytes())));
            assert!(report.has_errors(), "{name} after {prefix:?}: no error");
        }
    }
}

#[test]
fn deep_nesting_inside_gzip_and_multipart() {
    for (name, body) in deep_inputs() {
        let doc = format!("#cloud-config\n{body}");
        let gz = gzip(doc.as_bytes());
        let mime = format!(
            "Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/cloud-config\n\n{doc}\n--b--\n"
        );
        for data in [gz, mime.into_bytes()] {
            let report = on_small_stack(move || validate(&data));
            assert!(report.has_errors(), "{name}: no error");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Findings the property tests turned up, kept as regression tests (all fixed).

/// `a0` is a mapping of `keys` entries (one key, repeated: a0 itself is never checked); each `aN`
/// merges `width` aliases of `aN-1`. The walk's visit budget is charged per merge source, but
/// every merged map's entries are copied into one vector, so up to `budget * width * keys`
/// entries pile up.
fn merge_bomb(keys: usize, width: usize, levels: usize) -> String {
    let entries = vec!["x: 1"; keys].join(", ");
    let mut s = format!("#cloud-config\na0: &a0 {{{entries}}}\n");
    for level in 1..=levels {
        let refs = vec![format!("*a{}", level - 1); width].join(", ");
        s.push_str(&format!("a{level}: &a{level} {{<<: [{refs}]}}\n"));
    }
    s.push_str(&format!("coreos: *a{levels}\n"));
    s
}

#[test]
fn merge_key_bomb_is_defused() {
    let text = merge_bomb(64, 64, 3);
    assert!(text.len() < 2048);
    assert_bomb_defused(text);
}

#[test]
fn aliased_mapping_fan_out_is_defused() {
    let keys: Vec<String> = (0..1000).map(|i| format!("k{i}: 1")).collect();
    let text = format!(
        "#cloud-config\nm: &m {{{}}}\nwrite_files: [{}]\n",
        keys.join(", "),
        vec!["*m"; 1000].join(", ")
    );
    assert!(text.len() < 16 * 1024, "{} bytes", text.len());
    assert_bomb_defused(text);
}

/// README: "Lines count from 1 over the whole input (CRLF is one line end)". The YAML parser
/// also ends a line at a lone CR, so findings can point past the last line the report's text
/// has (and at the wrong line in the human format's excerpt).
#[test]
fn lone_cr_lines_stay_within_the_text() {
    let text = "#cloud-config\nfoo: 1\rhostname: 10.0.0.1\rbar: x\n";
    let report = validate(text.as_bytes());
    let lines = report.source.lines().count();
    for f in &report.findings {
        assert!(
            f.pos.line <= lines + 1,
            "{f:?} is past the {lines} lines of the text"
        );
    }
}

/// README: "columns count characters from 1". The column of a byte that is not UTF-8 is counted
/// in bytes of the valid text before it on its line, so any multi-byte character before it
/// shifts it right.
#[test]
fn utf8_error_column_counts_characters() {
    let report = validate(b"#cloud-config\nhostname: \xc3\xa9\xff\n");
    let f = &report.findings[0];
    assert!(f.message.contains("UTF-8"));
    // "hostname: é" is 11 characters (12 bytes): the bad byte is character 12.
    assert_eq!((f.pos.line, f.pos.col), (2, 12), "{f:?}");
}

/// `values::excerpt` escapes control characters "so a stray newline or escape sequence cannot
/// garble the report", but most messages quote the input without it: check.rs's own `excerpt`
/// (rule values, write_files paths), unrecognized and duplicate keys, the MIME envelope
/// messages and the first-line hints. A block scalar's final line break is enough, and a
/// quoted `\e` puts a terminal escape sequence into the human output.
#[test]
fn messages_have_no_control_characters() {
    let cases: &[&[u8]] = &[
        b"#cloud-config\nhostname: |\n  a\n",
        b"#cloud-config\nhostname: \"\\e]0;title\\a\"\n",
        b"#cloud-config\n\"a\\nb\": 1\n",
        b"#cloud-config\nwrite_files:\n  - path: \"rel\\npath\"\n",
        b"#cloud-config\ncoreos:\n  update:\n    reboot_strategy: |\n      off\n",
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: multipart/x\x1b\n\n",
        b"#cloudconfig\x1b\n",
    ];
    let mut bad = Vec::new();
    for data in cases {
        for f in validate(data).findings {
            if f.message.chars().any(char::is_control) {
                bad.push(format!(
                    "{:?}\n    -> {:?}",
                    String::from_utf8_lossy(data),
                    f.message
                ));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// Each gunzip is capped at MAX_DECOMPRESSED, but a multipart document may hold many gzip
/// parts, and split_multipart keeps every decompressed body at once: the cap does not bound a
/// payload. Scaled down here to 3 parts of 24 MiB.
#[test]
fn gzip_parts_are_capped_together() {
    let part = gzip(&vec![b'\n'; 24 * MIB]);
    let mut doc = b"Content-Type: multipart/mixed; boundary=\"b\"\n\n".to_vec();
    for _ in 0..3 {
        doc.extend_from_slice(b"--b\nContent-Type: application/gzip\n\n");
        doc.extend_from_slice(&part);
        doc.extend_from_slice(b"\n");
    }
    doc.extend_from_slice(b"--b--\n");
    let split = userdata::split_multipart(&doc);
    let total: usize = split.parts.iter().map(|p| p.body.len()).sum();
    assert!(
        total <= userdata::MAX_DECOMPRESSED,
        "{} KiB of input became {} MiB of part bodies",
        doc.len() >> 10,
        total / MIB
    );
}

// ---------------------------------------------------------------------------------------------
// Property 5: random multipart bodies into split_multipart

/// Pieces of multipart bodies, most of them meaningful to the splitter.
fn mime_body() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            6 => select(mime_tokens()),
            1 => prop::collection::vec(any::<u8>(), 1..8),
        ],
        0..60,
    )
    .prop_map(|chunks| chunks.concat())
}

fn base64_lines(data: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let text = base64::engine::general_purpose::STANDARD.encode(data);
    let mut out = Vec::new();
    for chunk in text.as_bytes().chunks(76) {
        out.extend_from_slice(chunk);
        out.push(b'\n');
    }
    out
}

fn mime_tokens() -> Vec<Vec<u8>> {
    let b64 = |s: &str| base64_lines(s.as_bytes());
    [
        "--b\n",
        "--b\n",
        "--b\r\n",
        "--b--\n",
        "--b \t\n",
        "--bb\n",
        "--c\n",
        "--c--\n",
        "\n",
        "\n",
        "\r\n",
        "Content-Type: text/cloud-config\n",
        "Content-Type: text/cloud-config\n",
        "Content-Type: text/x-shellscript\n",
        "Content-Type: text/plain; charset=us-ascii\n",
        "Content-Type: application/gzip\n",
        "Content-Type: application/x-gzip-compressed\n",
        "Content-Type: multipart/mixed; boundary=\"c\"\n",
        "Content-Type: multipart/mixed; boundary=b\n",
        "Content-Type: multipart/mixed\n",
        "Content-Type: multipart/alternative; boundary=c\n",
        "Content-Type: \n",
        "Content-Type: =?utf-8?q?text/plain?=\n",
        "Content-Transfer-Encoding: base64\n",
        "Content-Transfer-Encoding: quoted-printable\n",
        "Content-Transfer-Encoding: 7bit\n",
        "Content-Transfer-Encoding: x-uuencode\n",
        "Content-Disposition: attachment; filename=\"a.yml\"\n",
        "MIME-Version: 1.0\n",
        " folded\n",
        "\tfolded\n",
        "no colon here\n",
        ": empty name\n",
        "#cloud-config\n",
        "#!/bin/sh\n",
        "#!\n",
        "hostname: 10.0.0.1\n",
        "coreos:\n  units:\n    - name: x\n",
        "{\"ignition\":{\"version\":\"3.0.0\"}}\n",
        "=3D=\n",
        "a=\n",
        "=ZZ\n",
        "!!!\n",
    ]
    .iter()
    .map(|t| t.as_bytes().to_vec())
    .chain([
        b64("#cloud-config\nhostname: 10.0.0.1\n"),
        b64("#!/bin/sh\necho hi\n"),
        b64("Content-Type: multipart/mixed; boundary=c\n\n--c\nContent-Type: text/cloud-config\n\nhostname: -\n--c--\n"),
        gzip(b"#cloud-config\nhostname: 10.0.0.1\nfoo: bar\n"),
        gzip(b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/cloud-config\n\nx: [\n"),
        gzip(b"#cloud-config\n")[..10].to_vec(),
    ])
    .collect()
}

/// A part's content before transfer encoding.
fn part_content(depth: u32) -> BoxedStrategy<Vec<u8>> {
    const CONFIGS: &[&str] = &[
        "#cloud-config\nhostname: 10.0.0.1\n",
        "#cloud-config\nfoo: 1\ncoreos:\n  units:\n    - name: x.bogus\n      content: |\n        bad\n",
        "hostname: a..b\nusers:\n  - groups: x\n",
        "#cloud-config\nx: [\n",
        "#cloud-config\r\nhostname: -x\r\n",
        "#!/bin/bash\necho hi\n",
        "#!\n",
        "{\"ignition\":{\"version\":\"3.0.0\"}}",
        "just prose\n",
        "",
    ];
    let leaf = prop_oneof![
        4 => select(CONFIGS).prop_map(|c| c.as_bytes().to_vec()),
        2 => document(false).prop_map(String::into_bytes),
        1 => document(true).prop_map(String::into_bytes),
        1 => texty_bytes(40).prop_map(|t| [b"#cloud-config\n".as_slice(), &t].concat()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    // A complete nested message, as an untyped part carries it.
    let nested = structured_mime(depth - 1, "c");
    prop_oneof![6 => leaf, 1 => nested].boxed()
}

/// One part: headers, a blank line, and the content in its transfer encoding.
fn mime_part(depth: u32) -> BoxedStrategy<Vec<u8>> {
    const TYPES: &[&str] = &[
        "text/cloud-config",
        "text/cloud-config",
        "text/x-shellscript",
        "text/plain",
        "text/plain; charset=utf-8",
        "application/octet-stream",
        "application/gzip",
        "application/x-gzip",
        "TEXT/Cloud-Config",
        "text/cloud-boothook",
    ];
    const EXTRA: &[&str] = &[
        "MIME-Version: 1.0\n",
        "Content-Disposition: attachment; filename=\"a.yml\"\n",
        "Content-Disposition: attachment\n",
        "X-Long: a\n folded\n",
    ];
    let nested_parts = if depth > 0 {
        prop::collection::vec(mime_part(depth - 1), 0..3).boxed()
    } else {
        Just(Vec::new()).boxed()
    };
    (
        select(TYPES),
        select(vec![
            "",
            "",
            "base64",
            "quoted-printable",
            "7bit",
            "x-uuencode",
        ]),
        prop::collection::vec(select(EXTRA), 0..2),
        part_content(depth),
        any::<bool>(),
        prop_oneof![8 => Just(false), 1 => Just(true)],
        nested_parts,
    )
        .prop_map(
            |(ty, encoding, extra, content, gzipped, typed_nest, nested)| {
                let mut out = Vec::new();
                let (ty, content) = if typed_nest {
                    // RFC 2046 nesting: the part's own Content-Type declares the inner boundary.
                    let mut body = Vec::new();
                    for p in &nested {
                        body.extend_from_slice(b"--d\n");
                        body.extend_from_slice(p);
                        body.push(b'\n');
                    }
                    body.extend_from_slice(b"--d--\n");
                    ("multipart/mixed; boundary=d", body)
                } else if gzipped && ty.contains("gzip") {
                    (ty, gzip(&content))
                } else {
                    (ty, content)
                };
                out.extend_from_slice(format!("Content-Type: {ty}\n").as_bytes());
                if !encoding.is_empty() {
                    out.extend_from_slice(
                        format!("Content-Transfer-Encoding: {encoding}\n").as_bytes(),
                    );
                }
                for e in extra {
                    out.extend_from_slice(e.as_bytes());
                }
                out.push(b'\n');
                match encoding {
                    "base64" => out.extend_from_slice(&base64_lines(&content)),
                    "quoted-printable" => {
                        for &b in &content {
                            if b == b'=' || (b >= 0x80) {
                                out.extend_from_slice(format!("={b:02X}").as_bytes());
                            } else {
                                out.push(b);
                            }
                        }
                    }
                    _ => out.extend_from_slice(&content),
                }
                out
            },
        )
        .boxed()
}

/// A multipart document with this boundary: header, optional preamble, parts, optional close
/// delimiter and epilogue.
fn structured_mime(depth: u32, boundary: &'static str) -> BoxedStrategy<Vec<u8>> {
    (
        prop::collection::vec(mime_part(depth), 0..4),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(move |(parts, preamble, close, crlf)| {
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut out = format!(
                "Content-Type: multipart/mixed; boundary=\"{boundary}\"{eol}MIME-Version: 1.0{eol}{eol}"
            )
            .into_bytes();
            if preamble {
                out.extend_from_slice(format!("This is a preamble.{eol}").as_bytes());
            }
            for p in parts {
                out.extend_from_slice(format!("--{boundary}{eol}").as_bytes());
                out.extend_from_slice(&p);
                out.extend_from_slice(eol.as_bytes());
            }
            if close {
                out.extend_from_slice(format!("--{boundary}--{eol}epilogue{eol}").as_bytes());
            }
            out
        })
        .boxed()
}

/// A structured multipart document with a few tokens or random bytes dropped in.
fn damaged_mime() -> impl Strategy<Value = Vec<u8>> {
    let insert = prop_oneof![
        3 => select(mime_tokens()),
        1 => prop::collection::vec(any::<u8>(), 1..4),
    ];
    (
        structured_mime(2, "b"),
        prop_oneof![
            2 => Just(Vec::new()),
            1 => prop::collection::vec((any::<Index>(), insert), 1..4),
        ],
    )
        .prop_map(|(mut doc, inserts)| {
            for (at, bytes) in inserts {
                let i = at.index(doc.len() + 1);
                doc.splice(i..i, bytes);
            }
            doc
        })
}

/// Offsets where each line of `data` starts, as the splitter counts lines (LF only).
fn line_starts(data: &[u8]) -> Vec<usize> {
    std::iter::once(0)
        .chain(
            data.iter()
                .enumerate()
                .filter(|(_, &b)| b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .collect()
}

/// split_multipart's invariants, and that validate reports every envelope error it finds.
fn check_split(data: &[u8], report: &Report) -> Result<(), TestCaseError> {
    let split = userdata::split_multipart(data);
    prop_assert_eq!(
        &split,
        &userdata::split_multipart(data),
        "not deterministic"
    );
    let starts = line_starts(data);
    prop_assert!(split.parts.len() + split.errors.len() <= userdata::MAX_ITEMS + 1);
    for p in &split.parts {
        prop_assert!(p.first_line >= 1, "part at line 0: {:?}", p.index);
        prop_assert!(!p.index.is_empty(), "part without index");
        prop_assert!(
            p.index.len() <= userdata::MAX_NESTING,
            "too deep: {:?}",
            p.index
        );
        prop_assert!(
            p.index.iter().all(|&i| i >= 1),
            "index from 0: {:?}",
            p.index
        );
        prop_assert!(
            p.first_line <= starts.len(),
            "part {:?} starts at line {} of {}",
            p.index,
            p.first_line,
            starts.len()
        );
        if p.verbatim {
            // A verbatim body is the document's own text from its first line on.
            let at = starts[p.first_line - 1];
            prop_assert!(
                data[at..].starts_with(&p.body),
                "part {:?}: body is not the text at line {}",
                p.index,
                p.first_line
            );
        }
    }
    // Each cloud-config part's own findings reach the report, placed in the whole document.
    for p in &split.parts {
        let Ok(text) = std::str::from_utf8(&p.body) else {
            continue;
        };
        if p.kind != userdata::PartKind::CloudConfig {
            continue;
        }
        // A lone CR ends a YAML line but not a MIME one: such a part is placed like a decoded one.
        let lone_cr = p
            .body
            .iter()
            .enumerate()
            .any(|(i, &b)| b == b'\r' && p.body.get(i + 1) != Some(&b'\n'));
        for f in config::parse(text).findings {
            let message = escape_controls(&f.message);
            let (line, col, message) = if p.verbatim && !lone_cr {
                (
                    p.first_line + f.pos.line - 1,
                    f.pos.col,
                    format!("part {}: {}", p.label(), message),
                )
            } else {
                (
                    p.first_line,
                    1,
                    format!("part {}, line {}: {}", p.label(), f.pos.line, message),
                )
            };
            prop_assert!(
                report
                    .findings
                    .iter()
                    .any(|r| (r.pos.line, r.pos.col, &r.message) == (line, col, &message)),
                "{}:{}: {} is not in the report",
                line,
                col,
                message
            );
        }
    }
    for w in split.parts.windows(2) {
        prop_assert!(
            w[0].index < w[1].index,
            "parts out of order: {:?}, {:?}",
            w[0].index,
            w[1].index
        );
    }
    for e in &split.errors {
        prop_assert!(e.line >= 1, "error at line 0: {}", e);
        prop_assert!(e.line <= starts.len(), "error past the end: {}", e);
        prop_assert!(!e.message.is_empty());
        prop_assert!(
            report.findings.iter().any(|f| f.severity == Severity::Error
                && f.pos.line == e.line
                && f.message == escape_controls(&e.message)),
            "validate dropped the envelope error {}",
            e
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn split_multipart_places_parts_and_errors(
        header in select(vec![
            "Content-Type: multipart/mixed; boundary=\"b\"\n\n",
            "Content-Type: multipart/mixed; boundary=b\r\nMIME-Version: 1.0\r\n\r\n",
            "MIME-Version: 1.0\nContent-Type: Multipart/Mixed;\n boundary=\"b\"\n\npreamble\n",
        ]),
        body in mime_body(),
    ) {
        let mut data = header.as_bytes().to_vec();
        data.extend_from_slice(&body);
        prop_assert_eq!(userdata::detect_for_validation(&data), Kind::Multipart);
        let report = validate_checked(&data)?;
        check_split(&data, &report)?;
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn structured_multipart_places_parts_and_errors(data in damaged_mime()) {
        let report = validate_checked(&data)?;
        if userdata::detect_for_validation(&data) == Kind::Multipart {
            check_split(&data, &report)?;
        }
    }
}

/// What the report makes of a message: control characters escaped, the rest as it is.
fn escape_controls(message: &str) -> String {
    message
        .chars()
        .flat_map(|c| {
            let out: Vec<char> = if c.is_control() {
                c.escape_debug().collect()
            } else {
                vec![c]
            };
            out
        })
        .collect()
}

/// Found by `cloud_config_header_then_random_bytes`: a lone CR ends a line for the YAML parser
/// and for `validate`, so the blank-tab-line rule must count lines the same way, or a line
/// holding a tab then a CR was reported by one path and not the other.
#[test]
fn a_lone_cr_after_a_tab_ends_a_blank_line_on_both_paths() {
    let data = b"#cloud-config\n\t\r0".to_vec();
    let report = validate_checked(&data).expect("validate");
    let text = std::str::from_utf8(&data).expect("utf-8");
    assert_eq!(report.findings, config::parse(text).findings);
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.code.name() == "tab-blank-line" && f.pos.line == 2),
        "{:?}",
        report.findings
    );
}
