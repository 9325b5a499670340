//! Entry points for the fuzz targets in `fuzz/` and for the test that replays their regression
//! inputs (`tests/it/fuzz_regressions.rs`). Each takes arbitrary bytes, drives one parser the way
//! the program does, and asserts what must hold for every input; a panic is a finding.
//! Not part of the API: nothing here changes what the parsers do.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::net::Ipv4Addr;
use std::path::{Component, Path, PathBuf};

use crate::datasource::{self, Datasource, HttpOptions};
use crate::metadata::{Addresses, Metadata};
use crate::plan::memory::Memory;
use crate::plan::{self, Action};
use crate::{config, network, userdata};

/// One target: arbitrary bytes in; a panic is a finding.
pub type Target = fn(&[u8]);

/// Every target by name, as `fuzz/fuzz_targets/NAME.rs` and `fuzz/regressions/NAME/` know it.
pub const TARGETS: &[(&str, Target)] = &[
    ("validate", validate),
    ("yaml", yaml),
    ("mime", mime),
    ("gzip", gzip),
    ("debian", debian),
    ("vmware_network", vmware_network),
    ("ovf", ovf),
    ("waagent", waagent),
    ("configdrive", configdrive),
    ("ec2", ec2),
    ("gce", gce),
    ("digitalocean", digitalocean),
    ("cloudsigma", cloudsigma),
    ("plan", plan),
    ("fields", fields),
];

/// The target called `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// Lines as the reports count them: split at LF, a CR before it dropped.
fn line_lengths(text: &str) -> Vec<usize> {
    text.lines().map(|l| l.chars().count()).collect()
}

/// Lines as YAML counts them: a lone CR ends a line too. (`validate` turns lone CRs into LFs
/// first; the apply path hands the text to the YAML parser as it is.)
fn yaml_line_lengths(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        match rest.find(['\r', '\n']) {
            Some(i) => {
                out.push(rest[..i].chars().count());
                let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = &rest[i + skip..];
            }
            None => {
                if !rest.is_empty() {
                    out.push(rest.chars().count());
                }
                return out;
            }
        }
    }
}

/// A position must point into the text it was found in: line 1..=lines+1 (the end of the
/// input), column 1..=length+1 (just after the last character, where "expected X" points).
fn assert_within(what: &str, line: usize, col: Option<usize>, lines: &[usize]) {
    assert!(line >= 1, "{what}: line 0");
    assert!(
        line <= lines.len() + 1,
        "{what}: line {line} past the end ({} lines)",
        lines.len()
    );
    if let Some(col) = col {
        assert!(col >= 1, "{what}: column 0");
        let len = lines.get(line - 1).copied().unwrap_or(0);
        assert!(
            col <= len + 1,
            "{what}: column {col} past the end of line {line} ({len} characters)"
        );
    }
}

/// Payload detection, then `kindling validate` on the bytes, then every output format.
pub fn validate(data: &[u8]) {
    let _ = userdata::detect(data);
    let _ = userdata::detect_for_validation(data);
    let report = crate::validate::validate(data);
    let lines = line_lengths(&report.source);
    for f in &report.findings {
        assert_within(&f.message, f.pos.line, Some(f.pos.col), &lines);
        assert!(
            !f.message.chars().any(char::is_control),
            "a control character in {:?}",
            f.message
        );
    }
    let human = report.to_human("fuzz");
    assert!(human.lines().count() >= report.findings.len());
    let json = report.to_json("fuzz");
    for line in json.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("--format json writes JSON lines");
    }
    let _ = report.to_compat();
}

/// The YAML tree, then the cloud-config checks and typed model on top of it.
pub fn yaml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = yaml_line_lengths(text);
    match config::yaml::parse(text) {
        Ok(doc) => {
            for node in &doc.nodes {
                assert_within("node", node.pos.line, None, &lines);
            }
            for pos in &doc.extra_documents {
                assert_within("document", pos.line, Some(pos.col), &lines);
            }
        }
        Err(e) => assert_within(&e.message, e.pos.line, Some(e.pos.col), &lines),
    }
    let parsed = config::parse(text);
    for f in &parsed.findings {
        assert_within(&f.message, f.pos.line, Some(f.pos.col), &lines);
    }
    if !parsed.syntax_ok {
        assert_eq!(parsed.config, config::CloudConfig::default());
    }
}

/// MIME splitting (with detection, transfer decoding and gunzip of parts) and the header
/// parsers on their own.
pub fn mime(data: &[u8]) {
    userdata::fuzz_headers(data);
    let split = userdata::split_multipart(data);
    let starts: Vec<usize> = std::iter::once(0)
        .chain(
            data.iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .collect();
    assert!(split.parts.len() + split.errors.len() <= 2 * userdata::MAX_ITEMS + 2);
    for part in &split.parts {
        assert!(!part.index.is_empty() && part.index.len() <= userdata::MAX_NESTING + 1);
        assert!(
            part.first_line >= 1 && part.first_line <= starts.len() + 1,
            "part {} starts at line {} of {}",
            part.label(),
            part.first_line,
            starts.len()
        );
        if part.verbatim && !part.body.is_empty() {
            let at = starts
                .get(part.first_line - 1)
                .copied()
                .unwrap_or(data.len());
            assert!(
                data.get(at..)
                    .is_some_and(|rest| rest.starts_with(&part.body)),
                "part {}: a verbatim body is not the document's text at line {}",
                part.label(),
                part.first_line
            );
        }
        assert!(part.body.len() <= userdata::MAX_DECOMPRESSED);
    }
    for e in &split.errors {
        assert!(e.line >= 1 && e.line <= starts.len() + 1, "{e}");
    }
}

/// Strict gunzip: never more than the cap, and what it returns is what was compressed.
pub fn gzip(data: &[u8]) {
    match userdata::gunzip_payload(data) {
        Ok(None) => assert!(!userdata::is_gzip(data)),
        Ok(Some(out)) => {
            assert!(out.len() <= userdata::MAX_DECOMPRESSED);
            assert_eq!(userdata::gunzip(data).ok(), Some(out));
        }
        Err(_) => assert!(userdata::is_gzip(data)),
    }
    let small = data.len() / 2;
    if let Ok(out) = userdata::gunzip_limited(data, small) {
        assert!(out.len() <= small);
    }
    // Round trip: anything compressed comes back the same.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).expect("writing to a Vec");
    let packed = enc.finish().expect("writing to a Vec");
    assert_eq!(userdata::gunzip(&packed).as_deref(), Ok(data));
}

/// The networkd units must be safe to write: a plain file name and no line a unit could misread.
fn check_units(units: &[network::NetworkUnit]) {
    let mut names = BTreeSet::new();
    for u in units {
        assert!(
            !u.name.is_empty()
                && !u.name.contains('/')
                && u.name != "."
                && u.name != ".."
                && !u.name.chars().any(char::is_control),
            "unit name {:?}",
            u.name
        );
        assert!(names.insert(&u.name), "two units named {:?}", u.name);
        assert!(
            !u.content.chars().any(|c| c.is_control() && c != '\n'),
            "control character in {}: {:?}",
            u.name,
            u.content
        );
    }
}

/// Debian `interfaces` (a config drive's network config) to networkd units.
pub fn debian(data: &[u8]) {
    let first = network::from_debian(data);
    if let Ok(units) = &first {
        check_units(units);
    }
    assert_eq!(first, network::from_debian(data), "not deterministic");
}

/// `key=value` lines as a guestinfo map.
fn guestinfo_map(data: &[u8]) -> BTreeMap<String, String> {
    String::from_utf8_lossy(data)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn no_http() -> HttpOptions {
    HttpOptions {
        timeout: std::time::Duration::from_millis(1),
        attempts: 1,
        ..HttpOptions::default()
    }
}

/// A guestinfo map through the VMware datasource (metadata, user-data) and the VMware network
/// conversion of what it kept.
fn vmware_values(mut values: BTreeMap<String, String>) {
    // A URL would be fetched: not from a fuzz target.
    values.remove("ignition.config.url");
    values.remove("coreos.config.url");
    let direct = network::from_vmware(&values);
    if let Ok(units) = &direct {
        check_units(units);
    }
    let source = datasource::vmware::Vmware::from_values(values, &no_http());
    let _ = source.fetch_user_data();
    if let Ok(md) = source.fetch_metadata() {
        if let Ok(units) = network::convert("vmware", md.network_config.as_ref()) {
            check_units(&units);
        }
    }
}

/// VMware's guestinfo map (`key=value` lines) to metadata and networkd units.
pub fn vmware_network(data: &[u8]) {
    vmware_values(guestinfo_map(data));
}

/// The OVF environment XML, then what the VMware datasource reads from its properties.
pub fn ovf(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(values) = datasource::vmware::parse_ovf_env(text) {
        vmware_values(values);
    }
}

/// A scratch directory per target and process, reused for every input.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kindling-fuzz-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("creating the scratch directory");
    dir
}

fn put(path: &Path, data: &[u8]) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("creating a scratch directory");
    }
    std::fs::write(path, data).expect("writing a scratch file");
}

/// The Azure agent's `SharedConfig.xml` (and `CustomData`) as the waagent datasource reads them.
pub fn waagent(data: &[u8]) {
    thread_local!(static DIR: PathBuf = scratch("waagent"));
    DIR.with(|dir| {
        put(&dir.join("SharedConfig.xml"), data);
        put(&dir.join("CustomData"), data);
        let source = datasource::waagent::Waagent::new(dir);
        let _ = source.fetch_metadata();
        assert_eq!(
            source.fetch_user_data().ok().flatten().as_deref(),
            Some(data)
        );
    });
}

/// A config drive: `meta_data.json` is the input up to the first NUL, the rest is the file its
/// `network_config.content_path` may name (written at `openstack/content/0000`).
pub fn configdrive(data: &[u8]) {
    thread_local!(static DIR: PathBuf = scratch("configdrive"));
    let (meta, content) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    DIR.with(|dir| {
        let openstack = dir.join("openstack");
        put(&openstack.join("latest/meta_data.json"), meta);
        put(&openstack.join("content/0000"), content);
        let source = datasource::configdrive::ConfigDrive::new(dir);
        let Ok(md) = source.fetch_metadata() else {
            return;
        };
        if md.network_config.is_some() {
            // serde_json skips unknown fields without checking their UTF-8 (Go's decoder
            // replaces bad bytes), so read the document again the same lenient way.
            let v: serde_json::Value =
                serde_json::from_str(&String::from_utf8_lossy(meta)).expect("it was read as JSON");
            let path = v["network_config"]["content_path"].as_str().unwrap_or("");
            assert!(
                !Path::new(path)
                    .components()
                    .any(|c| matches!(c, Component::ParentDir | Component::Prefix(_))),
                "content_path {path:?} climbs out of the drive and was read"
            );
        }
        if let Ok(units) = network::convert("debian", md.network_config.as_ref()) {
            check_units(&units);
        }
    });
}

/// Answers of a metadata service: the input cut at NUL bytes, one section per attribute in the
/// order of `names` (`None` for a missing section: a 404); the last names take what is left.
fn sections<'a>(data: &'a [u8], names: &[&str], attribute: &str) -> Option<&'a [u8]> {
    let i = names.iter().position(|n| *n == attribute)?;
    let section = data.split(|b| *b == 0).nth(i)?;
    // A lone 0xFF stands for "absent" so the fuzzer can reach the 404 path of any attribute.
    (section != [0xff]).then_some(section)
}

/// EC2's metadata attributes (public keys, hostname, addresses) as the EC2 datasource reads them.
pub fn ec2(data: &[u8]) {
    const NAMES: &[&str] = &[
        "public-keys",
        "hostname",
        "local-ipv4",
        "public-ipv4",
        "public-keys/0/openssh-key",
        "public-keys/1/openssh-key",
        "public-keys/2/openssh-key",
    ];
    let attrs = datasource::ec2::Attributes {
        get: |a: &str| Ok(sections(data, NAMES, a).map(<[u8]>::to_vec)),
        meta_url: |a: &str| format!("http://169.254.169.254/2009-04-04/meta-data/{a}"),
    };
    if let Ok(md) = attrs.metadata() {
        // Several names may share an index; each key is one trimmed line.
        for key in md.ssh_public_keys.values() {
            assert!(!key.is_empty() && !key.contains('\n') && key.trim() == key);
        }
        if let Some(h) = &md.hostname {
            assert!(!h.is_empty() && !h.contains('\n'));
        }
    }
}

/// GCE's instance attributes as the GCE datasource reads them.
pub fn gce(data: &[u8]) {
    const NAMES: &[&str] = &[
        "hostname",
        "network-interfaces/0/ip",
        "network-interfaces/0/access-configs/0/external-ip",
    ];
    let attrs = datasource::gce::Attributes {
        get: |a: &str| Ok(sections(data, NAMES, a).map(<[u8]>::to_vec)),
        url: |a: &str| format!("http://metadata.google.internal/computeMetadata/v1/instance/{a}"),
    };
    if let Ok(md) = attrs.metadata() {
        assert!(md.hostname.as_deref() != Some(""));
    }
}

/// DigitalOcean's `metadata/v1.json`.
pub fn digitalocean(data: &[u8]) {
    let url = "http://169.254.169.254/metadata/v1.json";
    if let Ok(md) = datasource::digitalocean::metadata_from_json(data, url) {
        assert!(md.network_config.is_some());
    }
}

/// CloudSigma's server context and `/meta/` answers (cut at the EOT byte that ends an answer).
pub fn cloudsigma(data: &[u8]) {
    let device = Path::new("/dev/ttyS1");
    let mut answers = data.split(|b| *b == 0x04);
    let context = answers.next().unwrap_or_default();
    let meta = answers.next().unwrap_or(context);
    let lookup = |mac: &str| (mac.len() == 17).then_some(Ipv4Addr::new(10, 0, 0, 1));
    if let Ok(ctx) = datasource::cloudsigma::parse_answer(context, device, "") {
        let _ = datasource::cloudsigma::metadata_from_context(&ctx, &lookup);
    }
    if let Ok(meta) = datasource::cloudsigma::parse_answer(meta, device, "/meta/") {
        let _ = datasource::cloudsigma::user_data_from_meta(&meta, device);
    }
}

/// The machine the `plan` target plans against: a host name, the `core` account and the files
/// the planner merges into.
fn machine() -> Memory {
    let mut m = Memory {
        hostname: Some("old-host".into()),
        ..Memory::default()
    };
    m.add_account("core", 500);
    m.files.insert(
        "/etc/environment".into(),
        (b"COREOS_PUBLIC_IPV4=\nOTHER=1\n".to_vec(), 0o644),
    );
    m.files.insert(
        "/etc/hosts".into(),
        (b"127.0.0.1 localhost\n".to_vec(), 0o644),
    );
    m
}

/// User-data bytes to parts to a plan against a machine in memory: the same plan twice, every
/// step printable, and a second plan after carrying out the first changes no file, hostname,
/// mask or enablement that the first set once.
pub fn plan(data: &[u8]) {
    let metadata = Metadata {
        hostname: Some("meta-host".into()),
        ssh_public_keys: [("0".to_string(), "ssh-ed25519 AAAA meta".to_string())].into(),
        ..Metadata::default()
    };
    let addrs = Addresses {
        public_ipv4: Some("203.0.113.7".into()),
        private_ipv4: Some("10.0.0.7".into()),
        public_ipv6: None,
        private_ipv6: Some("fd00::7".into()),
    };
    let loaded = crate::load::load(data, &addrs);
    let options = plan::Options::default();
    let inputs = plan::Inputs {
        parts: &loaded.parts,
        metadata: &metadata,
        addrs: &addrs,
        network: &[],
    };
    let mut mem = machine();
    let first = plan::plan(&inputs, &mem, &options);
    let again = plan::plan(&inputs, &mem, &options);
    assert_eq!(first, again, "planning the same input twice differs");
    let _ = plan::show::render_plan(&first, &mem, true);
    for step in &first.steps {
        let _ = plan::show::describe(step);
    }

    // Convergence, for steps whose target only this step sets (a later write to the same path
    // legitimately makes an earlier one a change again).
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for step in &first.steps {
        if let Some(key) = converges_key(&step.action) {
            *seen.entry(key).or_default() += 1;
        }
    }
    mem.carry_out(&first);
    let second = plan::plan(&inputs, &mem, &options);
    for step in &second.steps {
        let Some(key) = converges_key(&step.action) else {
            continue;
        };
        if seen.get(&key) == Some(&1) {
            assert!(
                !step.change,
                "still a change after carrying it out: {step:?}"
            );
        }
    }
}

/// What a step sets, for steps the in-memory machine carries out; None for the others (and
/// for writes with an owner, which this machine does not record).
fn converges_key(action: &Action) -> Option<String> {
    match action {
        Action::WriteFile {
            path, owner: None, ..
        }
        | Action::Mask { path, .. } => Some(path.display().to_string()),
        Action::SetHostname { .. } => Some("hostname".into()),
        Action::Enable { unit, .. } => Some(format!("enable {unit}")),
        _ => None,
    }
}

/// The small parsers every config value goes through, and the kernel command line: each line
/// of the input is one value.
pub fn fields(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = datasource::proc_cmdline::find_cloud_config_url(&text);
    let addrs = Addresses {
        public_ipv4: Some("203.0.113.7".into()),
        private_ipv4: None,
        public_ipv6: Some("2001:db8::7".into()),
        private_ipv6: None,
    };
    let _ = userdata::substitute(&text, &addrs);
    let lines = text.split('\n').count();
    for (index, _) in config::unitfile::check_unit_syntax(&text) {
        assert!(index < lines, "unit line index {index} of {lines} lines");
    }
    for line in text.lines() {
        let _ = config::sshkey::check_public_key(line);
        let _ = network::parse_cidr(line);
        let _ = plan::hostname_label(line);
        let _ = config::values::check_unit_name(line);
        let _ = config::values::check_dropin_name(line);
        let _ = config::values::check_hostname(line);
        let _ = config::values::check_discovery_url(line);
        let _ = config::values::parse_permissions(line);
        let _ = config::values::check_window_start(line);
        let _ = config::values::check_window_length(line);
        let _ = config::check::check_file_path(line);
        let _ = config::decode::base64(line.as_bytes());
        for encoding in config::schema::ENCODINGS {
            let _ = config::decode::content(encoding, line.as_bytes());
        }
    }
}
