//! The binary with real sources: `kindling fetch` and `kindling apply --root` against the
//! project's own EC2-style metadata server on 127.0.0.1 (IMDSv2 token included).

use crate::common;

use common::http::{Reply, Server};
use common::kindling;

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBeDVRlfwTCxjtbNPzSD3BN2iK7132OSIJdGuLe1iSVd ops@laptop";
const USER_DATA: &str = "#cloud-config\nwrite_files:\n  - path: /etc/where\n    content: \"private $private_ipv4 public $public_ipv4\\n\"\n";

/// An EC2 metadata service that insists on an IMDSv2 token.
fn ec2_server() -> Server {
    Server::start(|req| {
        let (status, body) = match (req.method.as_str(), req.path.as_str()) {
            ("PUT", "/latest/api/token") => (200, "t0ken".to_string()),
            _ if req.header("x-aws-ec2-metadata-token") != Some("t0ken") => (401, String::new()),
            ("GET", "/2009-04-04/") => (200, "meta-data\nuser-data\n".into()),
            ("GET", "/2009-04-04/user-data") => (200, USER_DATA.into()),
            ("GET", "/2009-04-04/meta-data/hostname") => (200, "ip-10-0-0-9.ec2.internal".into()),
            ("GET", "/2009-04-04/meta-data/local-ipv4") => (200, "10.0.0.9".into()),
            ("GET", "/2009-04-04/meta-data/public-ipv4") => (200, "198.51.100.9".into()),
            ("GET", "/2009-04-04/meta-data/public-keys") => (200, "0=ops\n".into()),
            ("GET", "/2009-04-04/meta-data/public-keys/0/openssh-key") => (200, format!("{KEY}\n")),
            _ => (404, String::new()),
        };
        Reply::Status(status, body.into_bytes())
    })
}

#[test]
fn fetch_prints_what_the_ec2_source_yields() {
    let base = ec2_server().base;
    let out = kindling()
        .args([
            "fetch",
            "--from-ec2-metadata",
            &base,
            "--format",
            "json",
            "--timeout",
            "20",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["source"], "ec2-metadata-service");
    assert_eq!(json["user_data"], USER_DATA);
    let md = &json["metadata"];
    assert_eq!(md["hostname"], "ip-10-0-0-9.ec2.internal");
    assert_eq!(md["private_ipv4"], "10.0.0.9");
    assert_eq!(md["public_ipv4"], "198.51.100.9");
    assert_eq!(md["public_ipv6"], serde_json::Value::Null);
    assert_eq!(md["private_ipv6"], serde_json::Value::Null);
    assert_eq!(md["ssh_public_keys"]["ops"], KEY);
}

#[test]
#[ignore = "needs root"]
fn apply_uses_the_metadata_for_hostname_keys_and_substitution() {
    let base = ec2_server().base;
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    std::fs::create_dir_all(r.join("etc")).unwrap();
    std::fs::write(
        r.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/bash\ncore:x:500:500::/home/core:/bin/bash\n",
    )
    .unwrap();
    std::fs::write(r.join("etc/group"), "root:x:0:\ncore:x:500:\n").unwrap();
    std::fs::create_dir_all(r.join("home/core")).unwrap();
    let out = kindling()
        .args([
            "apply",
            "--from-ec2-metadata",
            &base,
            "--timeout",
            "20",
            "--root",
        ])
        .arg(r)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(r.join("etc/where")).unwrap(),
        "private 10.0.0.9 public 198.51.100.9\n"
    );
    // The metadata hostname, cut at its first dot; the metadata key for core.
    assert_eq!(
        std::fs::read_to_string(r.join("etc/hostname")).unwrap(),
        "ip-10-0-0-9\n"
    );
    assert_eq!(
        std::fs::read_to_string(r.join("home/core/.ssh/authorized_keys")).unwrap(),
        format!("{KEY}\n")
    );
    // /etc/environment gets the addresses.
    assert_eq!(
        std::fs::read_to_string(r.join("etc/environment")).unwrap(),
        "COREOS_PRIVATE_IPV4=10.0.0.9\nCOREOS_PUBLIC_IPV4=198.51.100.9\n"
    );
}

#[test]
fn convert_netconf_without_network_config_is_a_clear_error() {
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("user-data");
    std::fs::write(&file, "#cloud-config\n").unwrap();
    let out = kindling()
        .args(["apply", "--convert-netconf", "debian", "--from-file"])
        .arg(&file)
        .arg("--root")
        .arg(root.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("has no network config for --convert-netconf=debian"),
        "{stderr}"
    );
}
