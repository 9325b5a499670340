//! What a datasource says about the machine besides its user-data: hostname, addresses, SSH
//! keys and raw network config, merged as the reference does (reference.md §2.3). Plain data
//! beside `datasource` (which fills it), `network` (which converts its network config) and
//! `plan` (which reads it), so none of them imports another for it.

use std::collections::BTreeMap;
use std::net::IpAddr;

/// The network configuration a datasource carries, in the form its converter reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkConfig {
    /// Debian `interfaces` text (config drive `network_config`).
    Debian(Vec<u8>),
    /// VMware guestinfo's flat `key -> value` map.
    Vmware(BTreeMap<String, String>),
    /// Any other form (e.g. DigitalOcean's JSON): no converter reads it.
    Other(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    pub hostname: Option<String>,
    pub public_ipv4: Option<IpAddr>,
    pub private_ipv4: Option<IpAddr>,
    pub public_ipv6: Option<IpAddr>,
    pub private_ipv6: Option<IpAddr>,
    /// Key name -> public key line, ordered by name for a deterministic result.
    pub ssh_public_keys: BTreeMap<String, String>,
    pub network_config: Option<NetworkConfig>,
}

/// The four addresses substitution and `/etc/environment` use, after falling back to the
/// process environment's `COREOS_*` variables (reference.md §3.5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Addresses {
    pub public_ipv4: Option<String>,
    pub private_ipv4: Option<String>,
    pub public_ipv6: Option<String>,
    pub private_ipv6: Option<String>,
}

impl Addresses {
    /// Metadata first, then `env(COREOS_PUBLIC_IPV4)` and friends; empty values are unset.
    pub fn resolve(metadata: &Metadata, env: impl Fn(&str) -> Option<String>) -> Addresses {
        let pick = |ip: Option<IpAddr>, var: &str| {
            ip.map(|ip| ip.to_string())
                .or_else(|| env(var))
                .filter(|v| !v.is_empty())
        };
        Addresses {
            public_ipv4: pick(metadata.public_ipv4, "COREOS_PUBLIC_IPV4"),
            private_ipv4: pick(metadata.private_ipv4, "COREOS_PRIVATE_IPV4"),
            public_ipv6: pick(metadata.public_ipv6, "COREOS_PUBLIC_IPV6"),
            private_ipv6: pick(metadata.private_ipv6, "COREOS_PRIVATE_IPV6"),
        }
    }

    /// From the process environment alone.
    pub fn from_process_env(metadata: &Metadata) -> Addresses {
        Addresses::resolve(metadata, |k| std::env::var(k).ok())
    }

    /// `(COREOS_* variable, value)` for the set ones, sorted by variable name.
    pub fn environment(&self) -> Vec<(&'static str, &str)> {
        let mut out: Vec<(&'static str, &str)> = [
            ("COREOS_PRIVATE_IPV4", &self.private_ipv4),
            ("COREOS_PRIVATE_IPV6", &self.private_ipv6),
            ("COREOS_PUBLIC_IPV4", &self.public_ipv4),
            ("COREOS_PUBLIC_IPV6", &self.public_ipv6),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect();
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_wins_over_the_environment() {
        // reference.md §7.1 vector 4.
        let md = Metadata {
            private_ipv4: Some("127.0.0.1".parse().unwrap()),
            ..Default::default()
        };
        let a = Addresses::resolve(&md, |k| {
            (k == "COREOS_PUBLIC_IPV4").then(|| "1.2.3.4".to_string())
        });
        assert_eq!(a.private_ipv4.as_deref(), Some("127.0.0.1"));
        assert_eq!(a.public_ipv4.as_deref(), Some("1.2.3.4"));
        assert_eq!(a.public_ipv6, None);
    }

    #[test]
    fn environment_is_sorted_by_name() {
        // reference.md §7.1 vector 6.
        let md = Metadata {
            public_ipv4: Some("1.2.3.4".parse().unwrap()),
            private_ipv4: Some("5.6.7.8".parse().unwrap()),
            public_ipv6: Some("1234::".parse().unwrap()),
            private_ipv6: Some("5678::".parse().unwrap()),
            ..Default::default()
        };
        let a = Addresses::resolve(&md, |_| None);
        assert_eq!(
            a.environment(),
            vec![
                ("COREOS_PRIVATE_IPV4", "5.6.7.8"),
                ("COREOS_PRIVATE_IPV6", "5678::"),
                ("COREOS_PUBLIC_IPV4", "1.2.3.4"),
                ("COREOS_PUBLIC_IPV6", "1234::"),
            ]
        );
    }
}
