//! Every datasource against what it reads in real life: HTTP sources against a scripted HTTP/1.1
//! server on 127.0.0.1, CloudSigma over a pseudo-terminal, the rest from `testdata/datasource/`.

// Timeouts are ~300 ms and retries few, so failures are quick.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::common;

use common::http::{dead_base, ok, Reply, Server};
use kindling::datasource::cloudsigma::{CloudSigma, CloudSigmaOptions};
use kindling::datasource::configdrive::ConfigDrive;
use kindling::datasource::digitalocean::DigitalOcean;
use kindling::datasource::ec2::Ec2;
use kindling::datasource::file::LocalFile;
use kindling::datasource::gce::Gce;
use kindling::datasource::proc_cmdline::ProcCmdline;
use kindling::datasource::url::Url;
use kindling::datasource::vmware::{parse_ovf_env, Vmware};
use kindling::datasource::waagent::Waagent;
use kindling::datasource::{
    fetch_json, select, select_from, Datasource, DatasourceError, SelectOptions, Sources,
};
use kindling::http::{HttpClient, HttpError, HttpOptions, Method};
use kindling::metadata::{Metadata, NetworkConfig};

fn fast() -> HttpOptions {
    HttpOptions {
        timeout: Duration::from_millis(300),
        attempts: 3,
        backoff_start: Duration::from_millis(10),
        backoff_max: Duration::from_millis(20),
        deadline: None,
    }
}

fn once() -> HttpOptions {
    HttpOptions {
        attempts: 1,
        ..fast()
    }
}

fn testdata(rel: &str) -> PathBuf {
    common::testdata("datasource").join(rel)
}

fn ip(s: &str) -> Option<std::net::IpAddr> {
    Some(s.parse().unwrap())
}

// ---------------------------------------------------------------------------------------------
// The HTTP client.

#[test]
fn http_200_returns_the_body() {
    let s = Server::start(|_| ok("hello"));
    let c = HttpClient::new(&fast());
    assert_eq!(
        c.get(&format!("{}x", s.base), &[], 100).unwrap(),
        Some(b"hello".to_vec())
    );
}

#[test]
fn http_404_and_410_mean_absent() {
    let s = Server::start(|r| Reply::Status(if r.path == "/gone" { 410 } else { 404 }, Vec::new()));
    let c = HttpClient::new(&fast());
    assert_eq!(
        c.get(&format!("{}missing", s.base), &[], 100).unwrap(),
        None
    );
    assert_eq!(c.get(&format!("{}gone", s.base), &[], 100).unwrap(), None);
    assert_eq!(s.requests().len(), 2, "absence is not retried");
}

#[test]
fn http_other_4xx_is_an_error_and_not_retried() {
    for status in [400, 401, 403, 405] {
        let s = Server::start(move |_| Reply::Status(status, b"nope".to_vec()));
        let c = HttpClient::new(&fast());
        let url = format!("{}user-data", s.base);
        let e = c.get(&url, &[], 100).unwrap_err();
        assert_eq!(e.status(), Some(status));
        assert_eq!(
            e.to_string(),
            format!("GET {url}: HTTP status {status}, expected 200 (or 404 when absent)")
        );
        assert_eq!(s.requests().len(), 1);
    }
    // 429 is "too many requests": the same request is tried again later.
    let s = Server::start(|_| Reply::Status(429, Vec::new()));
    let e = HttpClient::new(&fast())
        .get(&format!("{}user-data", s.base), &[], 100)
        .unwrap_err();
    assert!(e.to_string().ends_with("(gave up after 3 attempts)"), "{e}");
    assert_eq!(s.requests().len(), 3);
}

#[test]
fn http_5xx_is_retried_then_succeeds() {
    let n = Arc::new(Mutex::new(0));
    let seen = Arc::clone(&n);
    let s = Server::start(move |_| {
        let mut n = seen.lock().unwrap();
        *n += 1;
        if *n < 3 {
            Reply::Status(503, Vec::new())
        } else {
            ok("finally")
        }
    });
    let c = HttpClient::new(&fast());
    assert_eq!(c.get(&s.base, &[], 100).unwrap(), Some(b"finally".to_vec()));
    assert_eq!(*n.lock().unwrap(), 3);
}

#[test]
fn http_5xx_forever_gives_up_after_the_configured_attempts() {
    let s = Server::start(|_| Reply::Status(500, Vec::new()));
    let c = HttpClient::new(&fast());
    let e = c.get(&s.base, &[], 100).unwrap_err();
    assert_eq!(s.requests().len(), 3);
    assert_eq!(e.status(), Some(500));
    assert!(e.to_string().ends_with("(gave up after 3 attempts)"), "{e}");
}

#[test]
fn http_hang_is_cut_by_the_timeout() {
    let s = Server::start(|_| Reply::Hang(Duration::from_secs(5)));
    let t = Instant::now();
    let e = HttpClient::new(&once()).get(&s.base, &[], 100).unwrap_err();
    assert!(matches!(e, HttpError::Timeout { .. }), "{e:?}");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    let t = Instant::now();
    let e = HttpClient::new(&fast()).get(&s.base, &[], 100).unwrap_err();
    assert!(
        e.to_string().contains("no complete answer within 300ms"),
        "{e}"
    );
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
}

#[test]
fn http_trickling_body_is_cut_by_the_timeout() {
    let s = Server::start(|_| Reply::Trickle {
        len: 1000,
        every: Duration::from_millis(20),
    });
    let t = Instant::now();
    let e = HttpClient::new(&once())
        .get(&s.base, &[], 10_000)
        .unwrap_err();
    assert!(matches!(e, HttpError::Timeout { .. }), "{e:?}");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}

#[test]
fn http_body_over_the_cap_is_an_error() {
    let s = Server::start(|r| match r.path.as_str() {
        "/declared" => Reply::Status(200, vec![b'z'; 2000]),
        _ => Reply::Endless,
    });
    let c = HttpClient::new(&fast());
    for path in ["declared", "endless"] {
        let t = Instant::now();
        let e = c.get(&format!("{}{path}", s.base), &[], 1000).unwrap_err();
        assert!(
            matches!(e, HttpError::TooLarge { cap: 1000, .. }),
            "{path}: {e:?}"
        );
        assert!(e
            .to_string()
            .contains("larger than the limit of 1000 bytes"));
        assert!(t.elapsed() < Duration::from_secs(2));
    }
    assert_eq!(s.requests().len(), 2, "an oversized body is not retried");
    // Exactly at the cap is fine.
    assert_eq!(
        c.get(&format!("{}declared", s.base), &[], 2000)
            .unwrap()
            .map(|b| b.len()),
        Some(2000)
    );
}

#[test]
fn http_redirects_are_followed_up_to_five() {
    let s = Server::start(|r| {
        let path = r.path.trim_start_matches('/');
        if path == "loop" {
            return Reply::Redirect("/loop".into());
        }
        match path.strip_prefix("hop").and_then(|n| n.parse::<u32>().ok()) {
            Some(0) | None => ok("arrived"),
            Some(n) => Reply::Redirect(format!("/hop{}", n - 1)),
        }
    });
    let c = HttpClient::new(&fast());
    assert_eq!(
        c.get(&format!("{}hop5", s.base), &[], 100).unwrap(),
        Some(b"arrived".to_vec())
    );
    let e = c.get(&format!("{}hop6", s.base), &[], 100).unwrap_err();
    assert!(matches!(e, HttpError::TooManyRedirects { .. }), "{e:?}");
    let t = Instant::now();
    let e = c.get(&format!("{}loop", s.base), &[], 100).unwrap_err();
    assert!(e.to_string().contains("more than 5 redirects"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[test]
fn http_only_http_and_https_urls_are_fetched() {
    let c = HttpClient::new(&fast());
    for url in [
        "",
        "file:///etc/passwd",
        "ftp://127.0.0.1/x",
        "127.0.0.1/x",
        "gopher://x",
    ] {
        let e = c.get(url, &[], 100).unwrap_err();
        assert_eq!(
            e,
            HttpError::InvalidUrl {
                url: url.to_string()
            },
            "{url}"
        );
    }
    let s = Server::start(|_| Reply::Redirect("file:///etc/passwd".into()));
    assert!(c.get(&s.base, &[], 100).is_err());
}

#[test]
fn http_dead_server_and_garbage_answers_are_errors() {
    let c = HttpClient::new(&fast());
    let t = Instant::now();
    let e = c.get(&dead_base(), &[], 100).unwrap_err();
    assert!(e.to_string().contains("gave up after 3 attempts"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(2));
    let s = Server::start(|_| Reply::Raw(b"SSH-2.0-OpenSSH_9.6\r\n\r\n".to_vec()));
    let e = c.get(&s.base, &[], 100).unwrap_err();
    assert!(e.to_string().contains("gave up after 3 attempts"), "{e}");
}

#[test]
fn http_fixed_and_per_request_headers_are_sent() {
    let s = Server::start(|_| ok(""));
    let c = HttpClient::new(&fast()).with_header("X-Fixed", "1");
    c.get(&s.base, &[("X-Extra", "2")], 100).unwrap();
    c.request(Method::Put, &s.base, &[], 100).unwrap();
    let reqs = s.requests();
    assert_eq!(reqs[0].header("x-fixed"), Some("1"));
    assert_eq!(reqs[0].header("x-extra"), Some("2"));
    assert_eq!(reqs[1].method, "PUT");
    assert_eq!(reqs[1].header("x-fixed"), Some("1"));
}

// ---------------------------------------------------------------------------------------------
// EC2.

/// An IMDSv2-only service under `/ec2/` (reference vector 26 plus user-data); tokens are
/// `tok1`, `tok2`, ... and only the latest is accepted.
fn imds(
    resources: &'static [(&'static str, &'static str)],
    expire_first_token: bool,
) -> (Server, Arc<Mutex<u32>>) {
    let issued = Arc::new(Mutex::new(0u32));
    let n = Arc::clone(&issued);
    let s = Server::start(move |r| {
        if r.method == "PUT" && r.path == "/ec2/latest/api/token" {
            if r.header("X-aws-ec2-metadata-token-ttl-seconds") != Some("21600") {
                return Reply::Status(400, Vec::new());
            }
            let mut n = n.lock().unwrap();
            *n += 1;
            return ok(&format!("tok{n}"));
        }
        let current = *n.lock().unwrap();
        let valid_from = if expire_first_token { 2 } else { 1 };
        let token_ok = current >= valid_from
            && r.header("X-aws-ec2-metadata-token") == Some(format!("tok{current}").as_str());
        if !token_ok {
            return Reply::Status(401, Vec::new());
        }
        let path = r.path.trim_start_matches("/ec2/2009-04-04/");
        match resources.iter().find(|(p, _)| *p == path) {
            Some((_, body)) => ok(body),
            None => Reply::Status(404, Vec::new()),
        }
    });
    (s, issued)
}

const VECTOR_26: &[(&str, &str)] = &[
    ("", "meta-data\nuser-data\n"),
    ("meta-data/hostname", "host\n"),
    ("meta-data/local-ipv4", "1.2.3.4"),
    ("meta-data/public-ipv4", "5.6.7.8"),
    ("meta-data/public-keys", "0=test1\n"),
    (
        "meta-data/public-keys/0/openssh-key",
        "key\nsecond line ignored\n",
    ),
    ("user-data", "#cloud-config\n"),
];

#[test]
fn ec2_reference_vector_26_over_imdsv2_at_the_configured_base() {
    let (s, issued) = imds(VECTOR_26, false);
    let ec2 = Ec2::new(&format!("{}ec2", s.base), &fast());
    assert_eq!(ec2.kind(), "ec2-metadata-service");
    assert!(ec2.is_available());
    let md = ec2.fetch_metadata().unwrap();
    assert_eq!(
        md,
        Metadata {
            hostname: Some("host".into()),
            private_ipv4: ip("1.2.3.4"),
            public_ipv4: ip("5.6.7.8"),
            ssh_public_keys: BTreeMap::from([("test1".into(), "key".into())]),
            ..Metadata::default()
        }
    );
    assert_eq!(
        ec2.fetch_user_data().unwrap(),
        Some(b"#cloud-config\n".to_vec())
    );
    assert_eq!(*issued.lock().unwrap(), 1, "one token serves every request");
    assert!(s
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .all(|r| r.header("X-aws-ec2-metadata-token") == Some("tok1")));
}

#[test]
fn ec2_malformed_public_key_is_an_error() {
    static BAD: &[(&str, &str)] = &[("", "ok"), ("meta-data/public-keys", "bad\n")];
    let (s, _) = imds(BAD, false);
    let e = Ec2::new(&format!("{}ec2/", s.base), &fast())
        .fetch_metadata()
        .unwrap_err();
    assert!(
        e.to_string().ends_with("malformed public key: \"bad\""),
        "{e}"
    );
    static ODD_INDEX: &[(&str, &str)] = &[("meta-data/public-keys", "../../x=name\n")];
    let (s, _) = imds(ODD_INDEX, false);
    assert!(Ec2::new(&format!("{}ec2/", s.base), &fast())
        .fetch_metadata()
        .is_err());
}

#[test]
fn ec2_expired_token_is_refreshed_once_on_401() {
    let (s, issued) = imds(VECTOR_26, true);
    let ec2 = Ec2::new(&format!("{}ec2/", s.base), &fast());
    assert_eq!(
        ec2.fetch_user_data().unwrap(),
        Some(b"#cloud-config\n".to_vec())
    );
    assert_eq!(*issued.lock().unwrap(), 2);
    assert_eq!(
        ec2.fetch_metadata().unwrap().hostname.as_deref(),
        Some("host")
    );
    assert_eq!(*issued.lock().unwrap(), 2);
}

#[test]
fn ec2_lasting_401_is_an_error_never_empty_user_data() {
    let s = Server::start(|r| {
        if r.method == "PUT" {
            ok("tok")
        } else {
            Reply::Status(401, Vec::new())
        }
    });
    let ec2 = Ec2::new(&s.base, &fast());
    let e = ec2.fetch_user_data().unwrap_err();
    assert!(e.to_string().contains("HTTP status 401"), "{e}");
    assert_eq!(
        s.count("PUT", "/latest/api/token"),
        2,
        "one refresh, then give up"
    );
}

#[test]
fn ec2_falls_back_to_imdsv1_only_when_v2_is_refused() {
    for refusal in [403u16, 404, 405] {
        let s = Server::start(move |r| match (r.method.as_str(), r.path.as_str()) {
            ("PUT", _) => Reply::Status(refusal, Vec::new()),
            (_, "/2009-04-04/user-data") if r.header("X-aws-ec2-metadata-token").is_none() => {
                ok("v1 data")
            }
            _ => Reply::Status(404, Vec::new()),
        });
        let ec2 = Ec2::new(&s.base, &fast());
        assert_eq!(
            ec2.fetch_user_data().unwrap(),
            Some(b"v1 data".to_vec()),
            "{refusal}"
        );
        assert_eq!(s.count("PUT", "/latest/api/token"), 1);
    }
    // A token endpoint that does not speak HTTP at all is also "no IMDSv2".
    let s = Server::start(|r| match r.method.as_str() {
        "PUT" => Reply::Raw(b"garbage\r\n\r\n".to_vec()),
        _ => ok("v1 data"),
    });
    assert_eq!(
        Ec2::new(&s.base, &fast()).fetch_user_data().unwrap(),
        Some(b"v1 data".to_vec())
    );
}

#[test]
fn ec2_server_errors_on_the_token_are_retried_not_downgraded() {
    let s = Server::start(|r| match r.method.as_str() {
        "PUT" => Reply::Status(503, Vec::new()),
        _ => ok("must not be read without a token"),
    });
    let ec2 = Ec2::new(&s.base, &fast());
    let e = ec2.check_availability().unwrap_err();
    assert!(e.contains("PUT") && e.contains("503"), "{e}");
    let e = ec2.fetch_user_data().unwrap_err();
    assert!(e.to_string().contains("gave up after 3 attempts"), "{e}");
    assert_eq!(s.count("GET", "/2009-04-04/user-data"), 0);
    assert_eq!(
        s.count("PUT", "/latest/api/token"),
        4,
        "one for the check, three retried"
    );
}

#[test]
fn ec2_absent_user_data_and_odd_addresses() {
    static SPARSE: &[(&str, &str)] = &[
        ("", "ok"),
        ("meta-data/local-ipv4", "not-an-ip"),
        ("meta-data/public-ipv4", ""),
    ];
    let (s, _) = imds(SPARSE, false);
    let ec2 = Ec2::new(&format!("{}ec2/", s.base), &fast());
    assert_eq!(ec2.fetch_user_data().unwrap(), None);
    assert_eq!(ec2.fetch_metadata().unwrap(), Metadata::default());
    let s = Server::start(|r| match r.method.as_str() {
        "PUT" => ok("t"),
        _ => Reply::Status(403, Vec::new()),
    });
    assert!(Ec2::new(&s.base, &fast()).fetch_user_data().is_err());
}

// ---------------------------------------------------------------------------------------------
// GCE, DigitalOcean, url, proc-cmdline.

#[test]
fn gce_sends_metadata_flavor_on_every_request() {
    let s = Server::start(|r| {
        if r.header("Metadata-Flavor") != Some("Google") {
            return Reply::Status(403, Vec::new());
        }
        match r.path.as_str() {
            "/computeMetadata/v1/" => ok("instance/\n"),
            "/computeMetadata/v1/instance/hostname" => ok("vm-1.c.project.internal"),
            "/computeMetadata/v1/instance/network-interfaces/0/ip" => ok("10.240.0.2"),
            "/computeMetadata/v1/instance/network-interfaces/0/access-configs/0/external-ip" => {
                ok("")
            }
            "/computeMetadata/v1/instance/attributes/user-data" => ok("#!/bin/sh\n"),
            _ => Reply::Status(404, Vec::new()),
        }
    });
    let gce = Gce::new(&s.base, &fast());
    assert_eq!(gce.kind(), "gce-metadata-service");
    gce.check_availability().unwrap();
    let md = gce.fetch_metadata().unwrap();
    assert_eq!(md.hostname.as_deref(), Some("vm-1.c.project.internal"));
    assert_eq!(md.private_ipv4, ip("10.240.0.2"));
    assert_eq!(md.public_ipv4, None);
    assert_eq!(
        gce.fetch_user_data().unwrap(),
        Some(b"#!/bin/sh\n".to_vec())
    );
    assert!(s
        .requests()
        .iter()
        .all(|r| r.header("Metadata-Flavor") == Some("Google")));
}

#[test]
fn gce_unparsable_address_is_an_error() {
    let s = Server::start(|r| match r.path.as_str() {
        "/computeMetadata/v1/instance/network-interfaces/0/ip" => ok("10.240.0"),
        _ => Reply::Status(404, Vec::new()),
    });
    let e = Gce::new(&s.base, &fast()).fetch_metadata().unwrap_err();
    assert!(
        e.to_string()
            .ends_with("couldn't parse \"10.240.0\" as IP address"),
        "{e}"
    );
}

const DO_JSON: &str = r#"{
  "droplet_id": 1, "hostname": "droplet-1",
  "public_keys": ["ssh-ed25519 AAAA one", "ssh-ed25519 BBBB two"],
  "interfaces": {
    "public": [{"ipv4": {"ip_address": "203.0.113.5", "netmask": "255.255.255.0", "gateway": "203.0.113.1"},
                "ipv6": {"ip_address": "2001:db8::5", "cidr": 64, "gateway": "2001:db8::1"},
                "mac": "aa:bb:cc:dd:ee:ff", "type": "public"}],
    "private": [{"ipv4": {"ip_address": "10.132.0.5"}, "type": "private"}]
  },
  "dns": {"nameservers": ["1.1.1.1"]}
}"#;

#[test]
fn digitalocean_metadata_from_v1_json() {
    let s = Server::start(|r| match r.path.as_str() {
        "/metadata/v1" => ok("id\nhostname\n"),
        "/metadata/v1.json" => ok(DO_JSON),
        "/metadata/v1/user-data" => ok("#cloud-config\n"),
        _ => Reply::Status(404, Vec::new()),
    });
    let d = DigitalOcean::new(&s.base, &fast());
    d.check_availability().unwrap();
    let md = d.fetch_metadata().unwrap();
    assert_eq!(md.hostname.as_deref(), Some("droplet-1"));
    assert_eq!(md.public_ipv4, ip("203.0.113.5"));
    assert_eq!(md.public_ipv6, ip("2001:db8::5"));
    assert_eq!(md.private_ipv4, ip("10.132.0.5"));
    assert_eq!(md.private_ipv6, None);
    assert_eq!(
        md.ssh_public_keys.get("1").map(String::as_str),
        Some("ssh-ed25519 BBBB two")
    );
    assert_eq!(
        md.network_config,
        Some(NetworkConfig::Other(DO_JSON.to_string()))
    );
    assert_eq!(
        d.fetch_user_data().unwrap(),
        Some(b"#cloud-config\n".to_vec())
    );
}

#[test]
fn digitalocean_malformed_or_missing_json() {
    let s = Server::start(|r| match r.path.as_str() {
        "/bad/metadata/v1.json" => ok("{\"hostname\": "),
        "/typed/metadata/v1.json" => ok("{\"hostname\": 7}"),
        _ => Reply::Status(404, Vec::new()),
    });
    for base in ["bad", "typed"] {
        let e = DigitalOcean::new(&format!("{}{base}", s.base), &fast())
            .fetch_metadata()
            .unwrap_err();
        assert!(matches!(e, DatasourceError::Json { .. }), "{e:?}");
        assert!(
            e.to_string().contains("/metadata/v1.json: invalid JSON"),
            "{e}"
        );
    }
    let md = DigitalOcean::new(&format!("{}none", s.base), &fast())
        .fetch_metadata()
        .unwrap();
    assert_eq!(md, Metadata::default());
}

#[test]
fn url_source_fetches_once_and_404_is_an_error() {
    let s = Server::start(|r| match r.path.as_str() {
        "/config" => ok("#cloud-config\n"),
        _ => Reply::Status(404, Vec::new()),
    });
    let u = Url::new(&format!("{}config", s.base), &fast());
    assert_eq!(u.kind(), "url");
    u.check_availability().unwrap();
    assert_eq!(
        u.fetch_user_data().unwrap(),
        Some(b"#cloud-config\n".to_vec())
    );
    assert_eq!(
        s.requests().len(),
        1,
        "the availability check's body is reused"
    );
    let missing = Url::new(&format!("{}missing", s.base), &fast());
    assert!(missing.check_availability().is_err());
    let e = missing.fetch_user_data().unwrap_err();
    assert!(e.to_string().contains("HTTP status 404"), "{e}");
}

#[test]
fn proc_cmdline_reference_vector_25_and_fetch() {
    let s = Server::start(|r| match r.path.as_str() {
        "/second" => ok("#cloud-config\nhostname: cmdline\n"),
        _ => Reply::Status(404, Vec::new()),
    });
    let dir = tempfile::tempdir().unwrap();
    let cmdline = dir.path().join("cmdline");
    let template = std::fs::read_to_string(testdata("cmdline-template")).unwrap();
    std::fs::write(
        &cmdline,
        template.replace("URL", &format!("{}second", s.base)),
    )
    .unwrap();
    let p = ProcCmdline::new(&cmdline, &fast());
    assert_eq!(p.kind(), "proc-cmdline");
    assert!(!p.availability_changes());
    p.check_availability().unwrap();
    assert_eq!(
        p.fetch_user_data().unwrap(),
        Some(b"#cloud-config\nhostname: cmdline\n".to_vec())
    );
    std::fs::write(&cmdline, format!("ro cloud-config-url={}missing\n", s.base)).unwrap();
    assert!(p.fetch_user_data().unwrap_err().to_string().contains("404"));
    std::fs::write(&cmdline, "ro cloud-config-url quiet\n").unwrap();
    let why = p.check_availability().unwrap_err();
    assert!(why.contains("no cloud-config-url=<url> parameter"), "{why}");
}

// ---------------------------------------------------------------------------------------------
// Config drive, waagent, file, VMware.

#[test]
fn configdrive_reads_the_openstack_layout() {
    let root = testdata("configdrive");
    let cd = ConfigDrive::new(&root);
    assert_eq!(cd.kind(), "cloud-drive");
    cd.check_availability().unwrap();
    assert_eq!(
        cd.fetch_user_data().unwrap(),
        Some(b"#cloud-config\nhostname: from-user-data\n".to_vec())
    );
    let md = cd.fetch_metadata().unwrap();
    assert_eq!(md.hostname.as_deref(), Some("node1.novalocal"));
    assert_eq!(md.ssh_public_keys.len(), 1);
    assert!(md.ssh_public_keys["mykey"].starts_with("ssh-ed25519 "));
    let interfaces = std::fs::read(root.join("openstack/content/0000")).unwrap();
    assert_eq!(md.network_config, Some(NetworkConfig::Debian(interfaces)));
    let units = kindling::network::convert("debian", md.network_config.as_ref()).unwrap();
    assert_eq!(units[0].name, "00-eth0.network");
}

#[test]
fn configdrive_missing_files_are_empty_and_bad_json_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let cd = ConfigDrive::new(dir.path());
    cd.check_availability().unwrap();
    assert_eq!(cd.fetch_user_data().unwrap(), None);
    assert_eq!(cd.fetch_metadata().unwrap(), Metadata::default());
    let latest = dir.path().join("openstack/latest");
    std::fs::create_dir_all(&latest).unwrap();
    std::fs::write(latest.join("meta_data.json"), "{\"hostname\": \"x\",").unwrap();
    let e = cd.fetch_metadata().unwrap_err();
    assert!(
        e.to_string().contains("meta_data.json: invalid JSON"),
        "{e}"
    );
    std::fs::write(
        latest.join("meta_data.json"),
        r#"{"network_config": {"content_path": "/../../../etc/passwd"}}"#,
    )
    .unwrap();
    let e = cd.fetch_metadata().unwrap_err();
    assert!(
        e.to_string().contains("must stay inside the config drive"),
        "{e}"
    );
    let gone = ConfigDrive::new(dir.path().join("absent"));
    assert!(gone
        .check_availability()
        .unwrap_err()
        .contains("does not exist"));
}

#[test]
fn waagent_reads_the_shared_config() {
    let w = Waagent::new(testdata("waagent"));
    assert_eq!(w.kind(), "waagent");
    w.check_availability().unwrap();
    assert_eq!(
        w.fetch_user_data().unwrap(),
        Some(b"#cloud-config\nhostname: azure-vm\n".to_vec())
    );
    let md = w.fetch_metadata().unwrap();
    assert_eq!(md.private_ipv4, ip("100.73.202.64"));
    assert_eq!(md.public_ipv4, ip("191.239.39.77"));
    assert_eq!(md.hostname, None);
}

#[test]
fn issue8_waagent_empty_shared_config_is_empty_metadata() {
    // The reference returns no metadata for a 0-byte SharedConfig.xml (waagent writes it
    // before it knows the instance); only non-empty text must be XML.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("provisioned"), "").unwrap();
    std::fs::write(dir.path().join("SharedConfig.xml"), "").unwrap();
    let w = Waagent::new(dir.path());
    assert_eq!(w.fetch_metadata().unwrap(), Metadata::default());
    std::fs::write(dir.path().join("SharedConfig.xml"), " \n").unwrap();
    assert!(matches!(
        w.fetch_metadata(),
        Err(DatasourceError::Xml { .. })
    ));
}

#[test]
fn waagent_unprovisioned_empty_and_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let w = Waagent::new(dir.path());
    assert!(w
        .check_availability()
        .unwrap_err()
        .contains("provisioned does not exist"));
    assert_eq!(w.fetch_user_data().unwrap(), None);
    assert_eq!(w.fetch_metadata().unwrap(), Metadata::default());
    std::fs::write(
        dir.path().join("SharedConfig.xml"),
        "<SharedConfig><Instances>",
    )
    .unwrap();
    let e = w.fetch_metadata().unwrap_err();
    assert!(
        e.to_string()
            .contains("SharedConfig.xml: invalid XML: line 1"),
        "{e}"
    );
    std::fs::write(dir.path().join("SharedConfig.xml"), [0xffu8, 0xfe]).unwrap();
    assert!(matches!(
        w.fetch_metadata(),
        Err(DatasourceError::Xml { .. })
    ));
}

#[test]
fn file_source_reads_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("user_data");
    let f = LocalFile::new(&path);
    assert!(f
        .check_availability()
        .unwrap_err()
        .contains("does not exist"));
    std::fs::write(&path, "#cloud-config\n").unwrap();
    f.check_availability().unwrap();
    assert_eq!(f.kind(), "local-file");
    assert_eq!(
        f.fetch_user_data().unwrap(),
        Some(b"#cloud-config\n".to_vec())
    );
    assert_eq!(f.fetch_metadata().unwrap(), Metadata::default());
}

#[test]
fn vmware_ovf_environment_from_an_xml_file() {
    let v = Vmware::ovf_env(testdata("ovf-env.xml"), &fast());
    assert_eq!(v.kind(), "vmware");
    assert!(!v.availability_changes());
    v.check_availability().unwrap();
    assert_eq!(
        v.fetch_user_data().unwrap(),
        Some(b"#cloud-config\nhostname: from-ovf\n".to_vec())
    );
    let md = v.fetch_metadata().unwrap();
    assert_eq!(md.hostname.as_deref(), Some("ovf-host"));
    assert_eq!(md.public_ipv4, ip("10.0.0.10"));
    let units = kindling::network::convert("vmware", md.network_config.as_ref()).unwrap();
    let names: Vec<_> = units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["00-eth0.network", "00-00:50:56:aa:bb:dd.network"]);
    let props = parse_ovf_env(&std::fs::read_to_string(testdata("ovf-env.xml")).unwrap()).unwrap();
    assert!(!props.contains_key("not.guestinfo") && !props.contains_key("guestinfo.hostname"));
}

#[test]
fn vmware_malformed_or_missing_ovf_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ovf-env.xml");
    let v = Vmware::ovf_env(&path, &fast());
    assert!(v.check_availability().is_err());
    std::fs::write(
        &path,
        "<Environment><PropertySection><Property oe:key=\"a\"",
    )
    .unwrap();
    let e = v.fetch_metadata().unwrap_err();
    assert!(e.to_string().contains("ovf-env.xml: invalid XML"), "{e}");
}

fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn vmware_user_data_precedence_and_encodings() {
    let s = Server::start(|r| match r.path.as_str() {
        "/ign" => ok("{\"ignition\":{\"version\":\"3.0.0\"}}"),
        "/coreos" => ok("#cloud-config\n"),
        _ => Reply::Status(404, Vec::new()),
    });
    let fetch =
        |pairs: &[(&str, &str)]| Vmware::from_values(values(pairs), &fast()).fetch_user_data();
    let ign_url = format!("{}ign", s.base);
    let coreos_url = format!("{}coreos", s.base);
    assert_eq!(
        fetch(&[("coreos.config.data", "b"), ("ignition.config.data", "a")]).unwrap(),
        Some(b"a".to_vec())
    );
    assert_eq!(
        fetch(&[
            ("coreos.config.data", "Yg=="),
            ("coreos.config.data.encoding", "b64"),
            ("ignition.config.url", &ign_url)
        ])
        .unwrap(),
        Some(b"b".to_vec())
    );
    assert_eq!(
        fetch(&[
            ("coreos.config.url", &coreos_url),
            ("ignition.config.url", &ign_url)
        ])
        .unwrap(),
        Some(b"{\"ignition\":{\"version\":\"3.0.0\"}}".to_vec())
    );
    assert_eq!(
        fetch(&[("coreos.config.url", &coreos_url)]).unwrap(),
        Some(b"#cloud-config\n".to_vec())
    );
    assert_eq!(
        fetch(&[
            ("coreos.config.data", "H4sIAGUfoFQC/zMxAgCIsCQyAgAAAA=="),
            ("coreos.config.data.encoding", "gzip+base64")
        ])
        .unwrap(),
        Some(b"42".to_vec())
    );
    assert_eq!(fetch(&[]).unwrap(), None);
    let e = fetch(&[
        ("coreos.config.data", "x"),
        ("coreos.config.data.encoding", "rot13"),
    ])
    .unwrap_err();
    assert!(
        e.to_string().ends_with("Unsupported encoding \"rot13\""),
        "{e}"
    );
    let e = fetch(&[
        ("coreos.config.data", "!!"),
        ("coreos.config.data.encoding", "base64"),
    ])
    .unwrap_err();
    assert!(
        e.to_string().contains("cannot be decoded as \"base64\""),
        "{e}"
    );
    assert!(fetch(&[("coreos.config.url", &format!("{}missing", s.base))]).is_err());
}

#[test]
fn vmware_guestinfo_backdoor_is_cleanly_unavailable() {
    let v = Vmware::guestinfo(&fast());
    assert!(!v.availability_changes());
    let why = v.check_availability().unwrap_err();
    assert!(
        why.starts_with("VMware guestinfo backdoor not supported on this machine"),
        "{why}"
    );
    assert!(matches!(
        v.fetch_user_data(),
        Err(DatasourceError::Unsupported(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// CloudSigma over a pseudo-terminal.

/// Plays the CloudSigma host on the master side: one JSON answer per key, EOT-terminated.
/// `answers` maps a key to its reply; an unknown key gets no answer at all.
fn cloudsigma_host(answers: Vec<(&'static str, String)>) -> (PathBuf, std::os::fd::OwnedFd) {
    let pty = nix::pty::openpty(None, None).unwrap();
    let path = nix::unistd::ttyname(&pty.slave).unwrap();
    let mut master = std::fs::File::from(pty.master);
    std::thread::spawn(move || {
        let mut pending = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            let n = match master.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            pending.extend_from_slice(&buf[..n]);
            while let Some(end) = pending.iter().position(|b| *b == b'>') {
                let request: Vec<u8> = pending.drain(..=end).collect();
                let text = String::from_utf8_lossy(&request);
                let key = text
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .trim_matches('\n');
                if let Some((_, reply)) = answers.iter().find(|(k, _)| *k == key) {
                    let mut out = reply.clone().into_bytes();
                    out.push(0x04);
                    out.extend_from_slice(b"left over");
                    if master.write_all(&out).is_err() {
                        return;
                    }
                }
            }
        }
    });
    // The slave stays open in the test so the pty outlives each open/close by the source.
    (path, pty.slave)
}

fn cloudsigma_options(dir: &Path, device: PathBuf) -> CloudSigmaOptions {
    CloudSigmaOptions {
        device,
        dmi_product_name: dir.join("product_name"),
        leases_dir: dir.join("leases"),
        sys_class_net: dir.join("net"),
        timeout: Duration::from_millis(500),
    }
}

#[test]
fn cloudsigma_server_context_over_a_pty() {
    let context = r#"{"name": "", "uuid": "65b2fb23-8c03-4187-a3ba-8b7c919e8890",
        "meta": {"ssh_public_key": "ssh-rsa AAAAB3Nza user@host", "base64_fields": "other,cloudinit-user-data",
                 "cloudinit-user-data": "I2Nsb3VkLWNvbmZpZw=="},
        "nics": [{"ip_v4_conf": {"conf": "static", "ip": {"uuid": "31.171.251.74"}}, "mac": "22:a7:a0:0b:43:5b", "vlan": null},
                 {"ip_v4_conf": null, "mac": "22:aa:ed:12:7a:d2", "vlan": {"uuid": "5dec030e-25b8-4621-a5a4-a3302c9d9619"}}]}"#;
    let meta = r#"{"ssh_public_key": "ssh-rsa AAAAB3Nza user@host", "base64_fields": "other,cloudinit-user-data",
                 "cloudinit-user-data": "I2Nsb3VkLWNvbmZpZw=="}"#;
    let (device, _slave) = cloudsigma_host(vec![
        ("", context.to_string()),
        ("/meta/", meta.to_string()),
    ]);
    let dir = tempfile::tempdir().unwrap();
    // The private NIC's MAC is the loopback interface's here, so its real address is found.
    std::fs::create_dir_all(dir.path().join("net/lo")).unwrap();
    std::fs::write(dir.path().join("net/lo/address"), "22:AA:ED:12:7A:D2\n").unwrap();
    let cs = CloudSigma::new(&cloudsigma_options(dir.path(), device));
    assert_eq!(cs.kind(), "server-context");
    let md = cs.fetch_metadata().unwrap();
    assert_eq!(
        md.hostname.as_deref(),
        Some("65b2fb23-8c03-4187-a3ba-8b7c919e8890")
    );
    assert_eq!(md.public_ipv4, ip("31.171.251.74"));
    assert_eq!(md.private_ipv4, ip("127.0.0.1"));
    assert_eq!(
        md.ssh_public_keys,
        BTreeMap::from([(
            "user@host".to_string(),
            "ssh-rsa AAAAB3Nza user@host".to_string()
        )])
    );
    assert_eq!(
        cs.fetch_user_data().unwrap(),
        Some(b"#cloud-config".to_vec())
    );
}

#[test]
fn cloudsigma_plain_user_data_and_bad_base64() {
    let plain = r##"{"cloudinit-user-data": "#cloud-config\n"}"##;
    let (device, _slave) = cloudsigma_host(vec![("/meta/", plain.to_string())]);
    let dir = tempfile::tempdir().unwrap();
    let cs = CloudSigma::new(&cloudsigma_options(dir.path(), device));
    assert_eq!(
        cs.fetch_user_data().unwrap(),
        Some(b"#cloud-config\n".to_vec())
    );
    let bad = r#"{"cloudinit-user-data": "!!!", "base64_fields": "cloudinit-user-data"}"#;
    let (device, _slave2) = cloudsigma_host(vec![("/meta/", bad.to_string())]);
    let cs = CloudSigma::new(&cloudsigma_options(dir.path(), device));
    let e = cs.fetch_user_data().unwrap_err();
    assert!(e.to_string().contains("expected base64"), "{e}");
    let (device, _slave3) = cloudsigma_host(vec![("", "{not json".to_string())]);
    let cs = CloudSigma::new(&cloudsigma_options(dir.path(), device));
    assert!(matches!(
        cs.fetch_metadata(),
        Err(DatasourceError::Json { .. })
    ));
}

#[test]
fn cloudsigma_silent_host_times_out() {
    let (device, _slave) = cloudsigma_host(Vec::new());
    let dir = tempfile::tempdir().unwrap();
    let cs = CloudSigma::new(&cloudsigma_options(dir.path(), device));
    let t = Instant::now();
    let e = cs.fetch_metadata().unwrap_err();
    assert!(
        e.to_string()
            .contains("no complete answer for \"\" within 500ms"),
        "{e}"
    );
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    let cs = CloudSigma::new(&cloudsigma_options(dir.path(), dir.path().join("ttyS9")));
    assert!(matches!(
        cs.fetch_metadata(),
        Err(DatasourceError::Serial { .. })
    ));
}

#[test]
fn cloudsigma_availability_needs_dmi_and_a_lease() {
    let dir = tempfile::tempdir().unwrap();
    let cs = CloudSigma::new(&cloudsigma_options(dir.path(), dir.path().join("tty")));
    assert!(cs
        .check_availability()
        .unwrap_err()
        .contains("product_name"));
    std::fs::write(dir.path().join("product_name"), "KVM\n").unwrap();
    assert!(cs
        .check_availability()
        .unwrap_err()
        .contains("does not say CloudSigma"));
    std::fs::write(dir.path().join("product_name"), "CloudSigma\n").unwrap();
    assert!(cs
        .check_availability()
        .unwrap_err()
        .contains("no network lease"));
    std::fs::create_dir(dir.path().join("leases")).unwrap();
    assert!(cs.check_availability().is_err());
    std::fs::write(dir.path().join("leases/2"), "ADDRESS=10.0.0.2\n").unwrap();
    cs.check_availability().unwrap();
}

// ---------------------------------------------------------------------------------------------
// Selection and `kindling fetch`.

fn select_opts(timeout_ms: u64) -> SelectOptions {
    SelectOptions {
        timeout: Duration::from_millis(timeout_ms),
        progress_interval: Duration::from_millis(100),
        poll_start: Duration::from_millis(20),
        poll_max: Duration::from_millis(100),
        tie_break_wait: Duration::from_secs(2),
        http: once(),
        ..SelectOptions::default()
    }
}

/// Collects log lines so the progress line can be checked.
struct Capture;
static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        LINES.lock().unwrap().push(record.args().to_string());
    }
    fn flush(&self) {}
}

fn capture_logs() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        let _ = log::set_logger(&Capture);
        log::set_max_level(log::LevelFilter::Info);
    });
}

#[test]
fn select_picks_the_available_source() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("user_data");
    std::fs::write(&file, "#cloud-config\n").unwrap();
    let sources = Sources {
        file: Some(file),
        ec2: Some(dead_base()),
        ..Sources::default()
    };
    let t = Instant::now();
    let chosen = select(&sources, &select_opts(5000)).unwrap();
    assert_eq!(chosen.kind(), "local-file");
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[test]
fn select_prefers_the_fixed_order_on_a_tie() {
    // The url source is slower to answer than the config drive, but comes first in the order.
    let s = Server::start(|_| {
        std::thread::sleep(Duration::from_millis(100));
        ok("#cloud-config\n")
    });
    let dir = tempfile::tempdir().unwrap();
    let sources = Sources {
        url: Some(format!("{}u", s.base)),
        configdrive: Some(dir.path().to_path_buf()),
        waagent: Some(testdata("waagent")),
        ..Sources::default()
    };
    for _ in 0..3 {
        assert_eq!(select(&sources, &select_opts(5000)).unwrap().kind(), "url");
    }
}

#[test]
fn select_waits_for_a_source_that_appears() {
    // A config drive is mounted some time into the boot.
    let dir = tempfile::tempdir().unwrap();
    let drive = dir.path().join("late");
    let writer = {
        let drive = drive.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            std::fs::create_dir(drive).unwrap();
        })
    };
    let sources = Sources {
        configdrive: Some(drive),
        ..Sources::default()
    };
    assert_eq!(
        select(&sources, &select_opts(5000)).unwrap().kind(),
        "cloud-drive"
    );
    writer.join().unwrap();
}

#[test]
fn select_missing_file_fails_at_once_while_a_drive_is_awaited() {
    // Nothing at boot creates the file an operator names: a missing one is not awaited.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("user_data");
    let sources = Sources {
        file: Some(missing.clone()),
        ..Sources::default()
    };
    let t = Instant::now();
    let e = select(&sources, &select_opts(300_000))
        .unwrap_err()
        .to_string();
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert!(
        e.contains(&format!("{} does not exist", missing.display())),
        "{e}"
    );
    // Next to a source that can still appear, the race goes on without the file.
    let drive = dir.path().join("drive");
    let maker = {
        let drive = drive.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            std::fs::create_dir(drive).unwrap();
        })
    };
    let sources = Sources {
        file: Some(missing),
        configdrive: Some(drive),
        ..Sources::default()
    };
    assert_eq!(
        select(&sources, &select_opts(5000)).unwrap().kind(),
        "cloud-drive"
    );
    maker.join().unwrap();
}

#[test]
fn select_check_once_never_polls() {
    let dir = tempfile::tempdir().unwrap();
    let sources = Sources {
        configdrive: Some(dir.path().join("not-mounted")),
        ..Sources::default()
    };
    let opts = SelectOptions {
        check_once: true,
        ..select_opts(300_000)
    };
    let t = Instant::now();
    let e = select(&sources, &opts).unwrap_err().to_string();
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert!(e.contains("(not checked again)"), "{e}");
}

#[test]
fn select_times_out_naming_every_source_and_logs_progress() {
    capture_logs();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("progress-probe-drive");
    let base = dead_base();
    let sources = Sources {
        configdrive: Some(missing.clone()),
        ec2: Some(base.clone()),
        ..Sources::default()
    };
    let t = Instant::now();
    let e = select(&sources, &select_opts(600)).unwrap_err();
    let elapsed = t.elapsed();
    assert!(
        elapsed >= Duration::from_millis(600) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    let text = e.to_string();
    assert!(
        text.starts_with("no datasource available in time (waited 600ms): "),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "cloud-drive {}: {} does not exist",
            missing.display(),
            missing.display()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "ec2-metadata-service at {base}: PUT {base}latest/api/token"
        )),
        "{text}"
    );
    let lines = LINES.lock().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Still waiting for a datasource")
                && l.contains("progress-probe-drive")),
        "{lines:?}"
    );
}

#[test]
fn select_returns_at_once_when_every_source_gave_up() {
    let dir = tempfile::tempdir().unwrap();
    let cmdline = dir.path().join("cmdline");
    std::fs::write(&cmdline, "ro quiet\n").unwrap();
    let sources = Sources {
        proc_cmdline: true,
        vmware_guestinfo: true,
        ..Sources::default()
    };
    let opts = SelectOptions {
        cmdline_path: cmdline,
        ..select_opts(300_000)
    };
    let t = Instant::now();
    let e = select(&sources, &opts).unwrap_err().to_string();
    assert!(t.elapsed() < Duration::from_secs(2));
    assert!(
        e.starts_with("no datasource available (every source gave up): "),
        "{e}"
    );
    assert!(e.contains("not supported on this machine"), "{e}");
    assert!(e.contains("(not checked again)"), "{e}");
}

#[test]
fn select_refuses_bad_flags_at_once() {
    let e = select(&Sources::default(), &select_opts(300_000)).unwrap_err();
    assert!(matches!(e, DatasourceError::NoSources));
    for sources in [
        Sources {
            url: Some("ftp://example.com/x".into()),
            ..Sources::default()
        },
        Sources {
            ec2: Some("169.254.169.254".into()),
            ..Sources::default()
        },
    ] {
        let e = select(&sources, &select_opts(300_000)).unwrap_err();
        assert!(
            matches!(e, DatasourceError::Http(HttpError::InvalidUrl { .. })),
            "{e:?}"
        );
    }
    assert!(matches!(
        select_from(Vec::new(), &select_opts(100)),
        Err(DatasourceError::NoSources)
    ));
}

#[test]
fn sources_build_in_tie_break_order() {
    let sources = Sources {
        file: Some("/f".into()),
        url: Some("http://u/".into()),
        configdrive: Some("/c".into()),
        ec2: Some("http://e".into()),
        gce: Some("http://g/".into()),
        digitalocean: Some("http://d/".into()),
        waagent: Some("/w".into()),
        cloudsigma: true,
        proc_cmdline: true,
        vmware_guestinfo: true,
        vmware_ovf_env: Some("/o".into()),
    };
    let kinds: Vec<_> = sources
        .build(&SelectOptions::default())
        .unwrap()
        .iter()
        .map(|s| s.kind())
        .collect();
    assert_eq!(
        kinds,
        [
            "local-file",
            "url",
            "cloud-drive",
            "ec2-metadata-service",
            "gce-metadata-service",
            "server-context",
            "digitalocean-metadata-service",
            "waagent",
            "proc-cmdline",
            "vmware",
            "vmware"
        ]
    );
}

#[test]
fn fetch_json_prints_the_documented_shape() {
    let cd = ConfigDrive::new(testdata("configdrive"));
    let json = fetch_json(&cd).unwrap();
    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGpgbLahkdVaXPZJTtrH0bumYkaURy/qmzOMJ5XvCuBv admin@example";
    assert_eq!(
        json,
        format!(
            r##"{{
  "source": "cloud-drive",
  "user_data": "#cloud-config\nhostname: from-user-data\n",
  "metadata": {{
    "hostname": "node1.novalocal",
    "public_ipv4": null,
    "private_ipv4": null,
    "public_ipv6": null,
    "private_ipv6": null,
    "ssh_public_keys": {{
      "mykey": "{key}"
    }}
  }}
}}"##
        )
    );
    let dir = tempfile::tempdir().unwrap();
    let empty = fetch_json(&ConfigDrive::new(dir.path())).unwrap();
    let v: serde_json::Value = serde_json::from_str(&empty).unwrap();
    assert_eq!(v["user_data"], serde_json::Value::Null);
    assert_eq!(v["metadata"]["ssh_public_keys"], serde_json::json!({}));
}

#[test]
fn ec2_token_with_a_line_break_is_reported_as_an_invalid_token() {
    let s = Server::start(|r| match r.method.as_str() {
        "PUT" => Reply::Status(200, b"tok\r\nX-Injected: 1".to_vec()),
        _ => ok("must not be read with a bad token"),
    });
    let e = Ec2::new(&s.base, &fast())
        .fetch_user_data()
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!("PUT {}latest/api/token: the IMDSv2 token in the answer is invalid: it contains a line break (CR or LF) at byte 3; a token goes back in a request header, where only visible ASCII is allowed", s.base)
    );
    assert_eq!(s.count("GET", "/2009-04-04/user-data"), 0);
    // The same for an empty token.
    let s = Server::start(|_| Reply::Status(200, b"  \n".to_vec()));
    let e = Ec2::new(&s.base, &fast()).fetch_user_data().unwrap_err();
    assert!(
        e.to_string()
            .contains("the IMDSv2 token in the answer is invalid: it is empty"),
        "{e}"
    );
}
