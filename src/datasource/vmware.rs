//! `--from-vmware-ovf-env` and `--from-vmware-guestinfo`: VMware's `guestinfo.*` values, from
//! an OVF environment file, and the user-data, metadata and network map they describe.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use crate::datasource::http::{HttpClient, HttpOptions, METADATA_CAP};
use crate::datasource::{
    path_exists, read_file_capped, url, xml, Datasource, DatasourceError, Metadata, NetworkConfig,
};

/// Interface, address and route indexes stop here even if a map keeps counting: the reference
/// loops until a gap, and a bound costs nothing real.
const MAX_INDEX: usize = 1024;

#[derive(Debug, Clone)]
enum Store {
    OvfFile(PathBuf),
    Backdoor,
    Map(BTreeMap<String, String>),
}

#[derive(Debug)]
pub struct Vmware {
    store: Store,
    http: HttpClient,
}

impl Vmware {
    /// The OVF environment document at `path` (typically `/media/ovfenv/ovf-env.xml`).
    pub fn ovf_env(path: impl Into<PathBuf>, http: &HttpOptions) -> Vmware {
        Vmware {
            store: Store::OvfFile(path.into()),
            http: HttpClient::new(http),
        }
    }

    /// The hypervisor's guestinfo store. The backdoor (an I/O-port RPC to the hypervisor) is not
    /// implemented: without a VMware machine to test it on, inline port I/O is not something to
    /// ship blind. The hypervisor is still detected (CPUID only, never a port access), so the
    /// "unavailable" message says which case applies.
    pub fn guestinfo(http: &HttpOptions) -> Vmware {
        Vmware {
            store: Store::Backdoor,
            http: HttpClient::new(http),
        }
    }

    /// Values already read, keyed without the `guestinfo.` prefix (`hostname`,
    /// `interface.0.name`, ...).
    pub fn from_values(values: BTreeMap<String, String>, http: &HttpOptions) -> Vmware {
        Vmware {
            store: Store::Map(values),
            http: HttpClient::new(http),
        }
    }

    fn location(&self) -> String {
        match &self.store {
            Store::OvfFile(p) => p.display().to_string(),
            Store::Backdoor | Store::Map(_) => "VMware guestinfo".to_string(),
        }
    }

    fn values(&self) -> Result<BTreeMap<String, String>, DatasourceError> {
        match &self.store {
            Store::Map(m) => Ok(m.clone()),
            Store::Backdoor => Err(DatasourceError::Unsupported(backdoor_unavailable())),
            Store::OvfFile(path) => {
                let bytes = read_file_capped(path, METADATA_CAP)?.ok_or_else(|| {
                    DatasourceError::io(path, std::io::Error::from(std::io::ErrorKind::NotFound))
                })?;
                let xml_error = |message: String| DatasourceError::Xml {
                    location: path.display().to_string(),
                    message,
                };
                let text = std::str::from_utf8(&bytes)
                    .map_err(|e| xml_error(format!("{e} (expected UTF-8 text)")))?;
                parse_ovf_env(text).map_err(xml_error)
            }
        }
    }
}

/// The `guestinfo.*` properties of an OVF environment's `PropertySection`, prefix removed.
/// Later duplicates win, as in the reference's map.
pub fn parse_ovf_env(text: &str) -> Result<BTreeMap<String, String>, String> {
    let root = xml::parse(text)?;
    let mut out = BTreeMap::new();
    for property in root
        .children_named("PropertySection")
        .flat_map(|s| s.children_named("Property"))
    {
        let (Some(key), Some(value)) = (property.attr("key"), property.attr("value")) else {
            continue;
        };
        if let Some(key) = key.strip_prefix("guestinfo.") {
            out.insert(key.to_string(), value.to_string());
        }
    }
    Ok(out)
}

/// CPUID's hypervisor bit and vendor leaf; no I/O port is touched.
#[cfg(target_arch = "x86_64")]
pub fn vmware_hypervisor() -> bool {
    use std::arch::x86_64::__cpuid;
    // SAFETY: CPUID exists on every x86_64 processor and only reads identification values.
    #[allow(unused_unsafe)]
    let features = unsafe { __cpuid(1) };
    if features.ecx & (1 << 31) == 0 {
        return false;
    }
    // SAFETY: as above; leaf 0x40000000 is the hypervisor vendor leaf once the bit is set.
    #[allow(unused_unsafe)]
    let vendor = unsafe { __cpuid(0x4000_0000) };
    let mut id = [0u8; 12];
    for (slot, reg) in id.chunks_mut(4).zip([vendor.ebx, vendor.ecx, vendor.edx]) {
        slot.copy_from_slice(&reg.to_le_bytes());
    }
    &id == b"VMwareVMware"
}

#[cfg(not(target_arch = "x86_64"))]
pub fn vmware_hypervisor() -> bool {
    false
}

fn backdoor_unavailable() -> String {
    if vmware_hypervisor() {
        "VMware guestinfo backdoor not supported on this machine (kindling does not implement \
         the backdoor RPC; use --from-vmware-ovf-env)"
            .to_string()
    } else {
        "VMware guestinfo backdoor not supported on this machine (no VMware hypervisor detected)"
            .to_string()
    }
}

impl Datasource for Vmware {
    fn kind(&self) -> &'static str {
        "vmware"
    }

    fn describe(&self) -> String {
        match &self.store {
            Store::OvfFile(p) => format!("vmware ovf-env {}", p.display()),
            Store::Backdoor => "vmware guestinfo".to_string(),
            Store::Map(_) => "vmware values".to_string(),
        }
    }

    fn check_availability(&self) -> Result<(), String> {
        match &self.store {
            Store::OvfFile(p) => path_exists(p),
            Store::Backdoor => Err(backdoor_unavailable()),
            Store::Map(_) => Ok(()),
        }
    }

    fn availability_changes(&self) -> bool {
        false
    }

    /// `ignition.config.data`, then `coreos.config.data` (each with its `.encoding`), then
    /// `ignition.config.url`, then `coreos.config.url`, as FC orders them.
    fn fetch_user_data(&self) -> Result<Option<Vec<u8>>, DatasourceError> {
        let values = self.values()?;
        let get = |k: &str| values.get(k).map(String::as_str).filter(|v| !v.is_empty());
        for prefix in ["ignition.config", "coreos.config"] {
            let Some(data) = get(&format!("{prefix}.data")) else {
                continue;
            };
            let key = format!("{prefix}.data.encoding");
            let encoding = get(&key).unwrap_or("");
            // The write_files encodings, declared once in the schema; "" is plain text.
            if !encoding.is_empty() && !crate::config::schema::ENCODINGS.contains(&encoding) {
                return Err(DatasourceError::malformed(
                    format!("{} {key}", self.location()),
                    format!("Unsupported encoding {encoding:?}"),
                ));
            }
            return crate::config::decode::content(encoding, data.as_bytes())
                .map(Some)
                .map_err(|e| {
                    DatasourceError::malformed(
                        format!("{} {prefix}.data", self.location()),
                        format!("cannot be decoded as {encoding:?}: {e}"),
                    )
                });
        }
        for key in ["ignition.config.url", "coreos.config.url"] {
            if let Some(u) = get(key) {
                return url::fetch_required(&self.http, u).map(Some);
            }
        }
        Ok(None)
    }

    fn fetch_metadata(&self) -> Result<Metadata, DatasourceError> {
        let values = self.values()?;
        metadata_from_values(&values, &self.location())
    }
}

/// The reference's walk over `dns.*` and `interface.N.*`: addresses by role, and every
/// non-empty value it looked at kept in the flat map `--convert-netconf=vmware` reads.
fn metadata_from_values(
    values: &BTreeMap<String, String>,
    location: &str,
) -> Result<Metadata, DatasourceError> {
    let mut md = Metadata {
        hostname: values.get("hostname").filter(|h| !h.is_empty()).cloned(),
        ..Metadata::default()
    };
    let mut netconf = BTreeMap::new();
    let mut save = |key: String| -> Option<String> {
        let v = values.get(&key).filter(|v| !v.is_empty())?.clone();
        netconf.insert(key, v.clone());
        Some(v)
    };
    for prefix in ["dns.server", "dns.domain"] {
        for i in 0..MAX_INDEX {
            if save(format!("{prefix}.{i}")).is_none() {
                break;
            }
        }
    }
    for i in 0..MAX_INDEX {
        let mut found = false;
        for field in ["name", "mac", "dhcp"] {
            found |= save(format!("interface.{i}.{field}")).is_some();
        }
        let role = values
            .get(&format!("interface.{i}.role"))
            .map(String::as_str)
            .unwrap_or("");
        for a in 0..MAX_INDEX {
            let key = format!("interface.{i}.ip.{a}.address");
            let Some(address) = save(key.clone()) else {
                break;
            };
            found = true;
            let (ip, _) = crate::network::parse_cidr(&address).ok_or_else(|| {
                DatasourceError::malformed(
                    format!("{location} {key}"),
                    format!("invalid CIDR address {address:?}"),
                )
            })?;
            let slot = match (role, ip) {
                ("public", IpAddr::V4(_)) => &mut md.public_ipv4,
                ("public", IpAddr::V6(_)) => &mut md.public_ipv6,
                ("private", IpAddr::V4(_)) => &mut md.private_ipv4,
                ("private", IpAddr::V6(_)) => &mut md.private_ipv6,
                ("", _) => continue,
                (other, _) => {
                    return Err(DatasourceError::malformed(
                        format!("{location} interface.{i}.role"),
                        format!("unrecognized role: {other:?}"),
                    ))
                }
            };
            *slot = Some(ip);
        }
        for r in 0..MAX_INDEX {
            let gateway = save(format!("interface.{i}.route.{r}.gateway"));
            let destination = save(format!("interface.{i}.route.{r}.destination"));
            if gateway.is_none() && destination.is_none() {
                break;
            }
            found = true;
        }
        if !found {
            break;
        }
    }
    md.network_config = Some(NetworkConfig::Vmware(netconf));
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn addresses_follow_roles_and_the_map_keeps_what_was_read() {
        let values = map(&[
            ("hostname", "vm1"),
            ("dns.server.0", "8.8.8.8"),
            ("dns.server.2", "skipped after the gap"),
            ("interface.0.name", "eth0"),
            ("interface.0.role", "public"),
            ("interface.0.ip.0.address", "10.0.0.10/24"),
            ("interface.0.ip.1.address", "2001:db8::10/64"),
            ("interface.1.mac", "00:50:56:aa:bb:dd"),
            ("interface.1.role", "private"),
            ("interface.1.ip.0.address", "192.168.0.2/16"),
            ("interface.1.route.0.gateway", "192.168.0.1"),
            ("interface.1.route.0.destination", "0.0.0.0/0"),
            ("unrelated", "x"),
        ]);
        let md = metadata_from_values(&values, "t").unwrap();
        assert_eq!(md.hostname.as_deref(), Some("vm1"));
        assert_eq!(md.public_ipv4, Some("10.0.0.10".parse().unwrap()));
        assert_eq!(md.public_ipv6, Some("2001:db8::10".parse().unwrap()));
        assert_eq!(md.private_ipv4, Some("192.168.0.2".parse().unwrap()));
        let Some(NetworkConfig::Vmware(net)) = md.network_config else {
            panic!("no vmware network config");
        };
        assert!(net.contains_key("dns.server.0"));
        assert!(!net.contains_key("dns.server.2"));
        assert!(!net.contains_key("interface.0.role"));
        assert!(!net.contains_key("unrelated"));
        assert_eq!(net.len(), 8);
    }

    #[test]
    fn bad_addresses_and_roles_are_errors() {
        let bad_ip = map(&[("interface.0.ip.0.address", "10.0.0.10")]);
        assert!(metadata_from_values(&bad_ip, "t").is_err());
        let bad_role = map(&[
            ("interface.0.role", "dmz"),
            ("interface.0.ip.0.address", "10.0.0.10/24"),
        ]);
        let e = metadata_from_values(&bad_role, "t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unrecognized role: \"dmz\""), "{e}");
    }
}
