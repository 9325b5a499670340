//! The files kindling generates, rendered byte for byte as reference.md §4.6 pins them (and
//! better where decisions.md says so). Pure functions of their inputs; tested by exact string.

use crate::config::model::{EnvSection, EnvValue, Oem, RebootStrategy, Update};

/// Go's `%v` for a float64 (strconv's shortest `g`): the shortest text that reads back to the
/// same value, in exponent form when the decimal exponent is below -4 or at least 6
/// (`1e-06`, `0.12345`, `123456`, `1e+06`).
pub fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return "0".into();
    }
    // `{:e}` is the shortest round-trip mantissa with its exact decimal exponent (`1.5e-6`).
    let sci = format!("{f:e}");
    let Some((mantissa, e)) = sci.split_once('e') else {
        return sci;
    };
    let exp: i32 = e.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        // Rust's Display is the same shortest decimal, written out in full.
        return format!("{f}");
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
}

fn env_value(v: &EnvValue) -> String {
    match v {
        EnvValue::Str(s) => s.clone(),
        EnvValue::Int(i) => i.to_string(),
        EnvValue::Float(f) => go_float(*f),
        EnvValue::Bool(b) => b.to_string(),
    }
}

/// An `Environment=` assignment as systemd parses it. Plain values give the reference's bytes
/// (`Environment="KEY=value"`); `%` is kept, so systemd expands specifiers (`name: %H`), as
/// with the reference; `"` and `\` are escaped and line breaks become `\n`, where the reference
/// wrote them raw and broke the unit.
pub fn environment_line(key: &str, value: &str) -> String {
    let mut out = String::with_capacity(key.len() + value.len() + 16);
    out.push_str("Environment=\"");
    out.push_str(key);
    out.push('=');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The `20-cloudinit.conf` drop-in of etcd, etcd2, fleet or locksmithd; None when no field
/// is set (the reference then writes nothing).
pub fn env_dropin(section: &EnvSection) -> Option<String> {
    if section.0.is_empty() {
        return None;
    }
    let mut out = String::from("[Service]\n");
    for (key, value) in &section.0 {
        out.push_str(&environment_line(key, &env_value(value)));
        out.push('\n');
    }
    Some(out)
}

/// `/run/flannel/options.env`: `KEY=value` lines joined by `\n`, with no final newline (as the
/// reference writes it).
pub fn flannel_env(section: &EnvSection) -> Option<String> {
    if section.0.is_empty() {
        return None;
    }
    Some(
        section
            .0
            .iter()
            .map(|(k, v)| format!("{k}={}", env_value(v)))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// Go's `%q`: a double-quoted string with Go escapes.
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\x0b' => out.push_str("\\v"),
            c if c.is_control() => {
                let n = c as u32;
                if n < 0x100 {
                    out.push_str(&format!("\\x{n:02x}"));
                } else {
                    out.push_str(&format!("\\u{n:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `/etc/oem-release`.
pub fn oem_release(oem: &Oem) -> String {
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    format!(
        "ID={}\nVERSION_ID={}\nNAME={}\nHOME_URL={}\nBUG_REPORT_URL={}\n",
        oem.id,
        s(&oem.version_id),
        go_quote(&s(&oem.name)),
        go_quote(&s(&oem.home_url)),
        go_quote(&s(&oem.bug_report_url))
    )
}

/// `/etc/coreos/update.conf` from its base text. A base line whose key is exactly
/// `REBOOT_STRATEGY`, `GROUP` or `SERVER` (the part before `=`; the reference matched a mere
/// prefix, so `GROUPX=` was clobbered) is replaced by the new value, first match only; the
/// keys not found are appended sorted. Every line ends in a newline.
pub fn update_conf(base: &str, update: &Update) -> Option<String> {
    let mut pending: Vec<(&str, &str)> = [
        ("GROUP", update.group.as_deref()),
        (
            "REBOOT_STRATEGY",
            update.reboot_strategy.map(RebootStrategy::as_str),
        ),
        ("SERVER", update.server.as_deref()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    if pending.is_empty() {
        return None;
    }
    let mut out = String::new();
    for line in base.lines() {
        let key = line.split('=').next().unwrap_or("");
        if line.contains('=') {
            if let Some(i) = pending.iter().position(|(k, _)| *k == key) {
                let (k, v) = pending.remove(i);
                out.push_str(&format!("{k}={v}\n"));
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    for (k, v) in pending {
        out.push_str(&format!("{k}={v}\n"));
    }
    Some(out)
}

/// `/etc/hosts` for `manage_etc_hosts: localhost`. The reference's single line comes first,
/// byte for byte; then the loopback names, which its version dropped (decisions.md).
pub fn etc_hosts(hostname: &str) -> String {
    format!("127.0.0.1 {hostname}\n127.0.0.1 localhost\n::1 localhost\n")
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid name {key:?} for {path}: a variable name is letters, digits and _")]
pub struct EnvNameError {
    pub key: String,
    pub path: String,
}

/// `/etc/environment` merged with `vars` (reference §4.6): CRLF read as LF; a line `KEY=...`
/// whose key is pending is replaced in place; other lines kept; the rest appended sorted.
/// None when the merged text equals the current one (the file is then not rewritten).
pub fn merge_environment(
    current: Option<&str>,
    vars: &[(&str, &str)],
    path: &str,
) -> Result<Option<String>, EnvNameError> {
    for (k, _) in vars {
        if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(EnvNameError {
                key: k.to_string(),
                path: path.to_string(),
            });
        }
    }
    let text = current.unwrap_or("").replace("\r\n", "\n");
    let mut pending: Vec<(&str, &str)> = vars.to_vec();
    pending.sort();
    let mut out = String::new();
    for line in text.lines() {
        let key_len = line
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        let replaced = (key_len > 0 && line.as_bytes().get(key_len) == Some(&b'='))
            .then(|| pending.iter().position(|(k, _)| *k == &line[..key_len]))
            .flatten();
        match replaced {
            Some(i) => {
                let (k, v) = pending.remove(i);
                out.push_str(&format!("{k}={v}\n"));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    for (k, v) in pending {
        out.push_str(&format!("{k}={v}\n"));
    }
    Ok(if current == Some(out.as_str()) {
        None
    } else {
        Some(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(items: &[(&str, EnvValue)]) -> EnvSection {
        EnvSection(
            items
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn vector_6_environment_from_metadata() {
        let vars = [
            ("COREOS_PRIVATE_IPV4", "5.6.7.8"),
            ("COREOS_PRIVATE_IPV6", "5678::"),
            ("COREOS_PUBLIC_IPV4", "1.2.3.4"),
            ("COREOS_PUBLIC_IPV6", "1234::"),
        ];
        assert_eq!(
            merge_environment(None, &vars, "/etc/environment").unwrap().unwrap(),
            "COREOS_PRIVATE_IPV4=5.6.7.8\nCOREOS_PRIVATE_IPV6=5678::\nCOREOS_PUBLIC_IPV4=1.2.3.4\nCOREOS_PUBLIC_IPV6=1234::\n"
        );
    }

    #[test]
    fn vector_7_environment_merge() {
        let base = "# a file\nFOO=base\n\nBAR= hi there\n";
        let vars = [("FOO", "test"), ("NEW", "a value")];
        let want = "# a file\nFOO=test\n\nBAR= hi there\nNEW=a value\n";
        assert_eq!(
            merge_environment(Some(base), &vars, "p").unwrap().unwrap(),
            want
        );
        let crlf = base.replace('\n', "\r\n");
        assert_eq!(
            merge_environment(Some(&crlf), &vars, "p").unwrap().unwrap(),
            want
        );
        // Nothing to change: no rewrite (the reference keeps the inode).
        assert_eq!(
            merge_environment(Some(base), &[("FOO", "base")], "p").unwrap(),
            None
        );
        let err = merge_environment(Some(base), &[("FOO-X", "x")], "/etc/environment").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid name \"FOO-X\" for /etc/environment: a variable name is letters, digits and _"
        );
    }

    #[test]
    fn vector_8_etcd_dropin() {
        let s = section(&[
            (
                "ETCD_DISCOVERY",
                EnvValue::Str("http://disco.example.com/foobar".into()),
            ),
            ("ETCD_NAME", EnvValue::Str("node001".into())),
            (
                "ETCD_PEER_BIND_ADDR",
                EnvValue::Str("127.0.0.1:7002".into()),
            ),
        ]);
        assert_eq!(
            env_dropin(&s).unwrap(),
            "[Service]\nEnvironment=\"ETCD_DISCOVERY=http://disco.example.com/foobar\"\nEnvironment=\"ETCD_NAME=node001\"\nEnvironment=\"ETCD_PEER_BIND_ADDR=127.0.0.1:7002\"\n"
        );
        assert_eq!(env_dropin(&EnvSection::default()), None);
    }

    #[test]
    fn vector_9_value_formatting() {
        let s = section(&[
            ("A", EnvValue::Str("hi".into())),
            ("B", EnvValue::Int(1)),
            ("C", EnvValue::Bool(true)),
            ("D", EnvValue::Float(0.12345)),
            ("E", EnvValue::Float(0.000001)),
        ]);
        assert_eq!(
            env_dropin(&s).unwrap(),
            "[Service]\nEnvironment=\"A=hi\"\nEnvironment=\"B=1\"\nEnvironment=\"C=true\"\nEnvironment=\"D=0.12345\"\nEnvironment=\"E=1e-06\"\n"
        );
        assert_eq!(go_float(0.9999999), "0.9999999");
        assert_eq!(go_float(1.0), "1");
        assert_eq!(go_float(2.5e21), "2.5e+21");
        assert_eq!(go_float(123456.0), "123456");
        assert_eq!(go_float(1e6), "1e+06");
        assert_eq!(go_float(1234567.0), "1.234567e+06");
        assert_eq!(go_float(0.0001), "0.0001");
        assert_eq!(go_float(0.00001), "1e-05");
        assert_eq!(go_float(-2.5), "-2.5");
        assert_eq!(go_float(1e-123), "1e-123");
    }

    #[test]
    fn dropin_values_are_escaped_as_systemd_reads_them() {
        assert_eq!(
            environment_line("K", "a \"b\" \\ c"),
            r#"Environment="K=a \"b\" \\ c""#
        );
        assert_eq!(environment_line("K", "x\ny"), r#"Environment="K=x\ny""#);
    }

    /// Issue 8: `%` was written as `%%`, so `name: "%H"` reached etcd as a literal `%H`.
    #[test]
    fn dropin_values_keep_percent_for_systemd_specifiers() {
        let s = section(&[
            ("ETCD_NAME", EnvValue::Str("%H".into())),
            (
                "ETCD_INITIAL_ADVERTISE_PEER_URLS",
                EnvValue::Str("http://%H:2380".into()),
            ),
            ("FLEET_METADATA", EnvValue::Str("host=%H,load=50%".into())),
        ]);
        // The reference's bytes: `Environment="KEY=value"`, value unescaped.
        assert_eq!(
            env_dropin(&s).unwrap(),
            "[Service]\nEnvironment=\"ETCD_NAME=%H\"\nEnvironment=\"ETCD_INITIAL_ADVERTISE_PEER_URLS=http://%H:2380\"\nEnvironment=\"FLEET_METADATA=host=%H,load=50%\"\n"
        );
    }

    #[test]
    fn vector_10_flannel() {
        let s = section(&[
            (
                "FLANNELD_ETCD_ENDPOINTS",
                EnvValue::Str("http://12.34.56.78:4001".into()),
            ),
            (
                "FLANNELD_ETCD_PREFIX",
                EnvValue::Str("/coreos.com/network/tenant1".into()),
            ),
        ]);
        assert_eq!(
            flannel_env(&s).unwrap(),
            "FLANNELD_ETCD_ENDPOINTS=http://12.34.56.78:4001\nFLANNELD_ETCD_PREFIX=/coreos.com/network/tenant1"
        );
    }

    #[test]
    fn vector_11_update_conf() {
        let u = Update {
            group: Some("master".into()),
            server: Some("http://foo.com".into()),
            reboot_strategy: None,
        };
        assert_eq!(
            update_conf("", &u).unwrap(),
            "GROUP=master\nSERVER=http://foo.com\n"
        );
        let u = Update {
            reboot_strategy: Some(RebootStrategy::EtcdLock),
            ..Default::default()
        };
        assert_eq!(
            update_conf(
                "SERVER=https://example.com\nGROUP=thegroupc\nREBOOT_STRATEGY=awesome",
                &u
            )
            .unwrap(),
            "SERVER=https://example.com\nGROUP=thegroupc\nREBOOT_STRATEGY=etcd-lock\n"
        );
        assert_eq!(update_conf("X=1\n", &Update::default()), None);
    }

    #[test]
    fn update_conf_matches_whole_keys() {
        let u = Update {
            group: Some("beta".into()),
            ..Default::default()
        };
        assert_eq!(
            update_conf("GROUPX=keep\nGROUP=alpha\n", &u).unwrap(),
            "GROUPX=keep\nGROUP=beta\n"
        );
    }

    #[test]
    fn vector_13_oem_release() {
        let oem = Oem {
            id: "cloudstack".into(),
            name: Some("CloudStack".into()),
            version_id: Some("168.0.0".into()),
            home_url: Some("http://cloudstack.apache.org".into()),
            bug_report_url: Some("https://coreos.com/os/docs/latest/reporting-bugs.html".into()),
        };
        assert_eq!(
            oem_release(&oem),
            "ID=cloudstack\nVERSION_ID=168.0.0\nNAME=\"CloudStack\"\nHOME_URL=\"http://cloudstack.apache.org\"\nBUG_REPORT_URL=\"https://coreos.com/os/docs/latest/reporting-bugs.html\"\n"
        );
        let odd = Oem {
            id: "x".into(),
            name: Some("say \"hi\"\n".into()),
            ..Default::default()
        };
        assert!(oem_release(&odd).contains("NAME=\"say \\\"hi\\\"\\n\"\n"));
    }

    #[test]
    fn vector_14_etc_hosts() {
        // The reference's line first, byte for byte; then localhost on IPv4 and IPv6.
        assert_eq!(
            etc_hosts("node-1"),
            "127.0.0.1 node-1\n127.0.0.1 localhost\n::1 localhost\n"
        );
    }
}
