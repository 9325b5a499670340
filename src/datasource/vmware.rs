//! `--from-vmware-ovf-env` and `--from-vmware-guestinfo`: VMware's `guestinfo.*` values, from
//! an OVF environment file or the hypervisor's backdoor RPC, and the user-data, metadata and
//! network map they describe.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::datasource::{path_exists, read_file_capped, url, xml, Datasource, DatasourceError};
use crate::http::{HttpClient, HttpOptions, METADATA_CAP};
use crate::metadata::{Metadata, NetworkConfig};

/// Interface, address and route indexes stop here even if a map keeps counting: the reference
/// loops until a gap, and a bound costs nothing real.
const MAX_INDEX: usize = 1024;

/// One backdoor read may take this long; the RPC is synchronous port I/O that a broken
/// hypervisor could stall.
const BACKDOOR_TIMEOUT: Duration = Duration::from_secs(10);

/// The hypervisor's key-value store, `guestinfo.KEY` read by KEY. A trait so that the lookup
/// order can be tested without VMware.
pub trait GuestInfo: std::fmt::Debug + Send + Sync {
    /// The value of `guestinfo.KEY`; None when the key is not set.
    fn get(&self, key: &str) -> Result<Option<String>, String>;
    /// Whether the store can be read at all, said at once; never a port access off VMware.
    fn check(&self) -> Result<(), String>;
}

/// The real store: VMware's backdoor, through the `vmw_backdoor` crate (as afterburn reads it).
#[derive(Debug, Default)]
pub struct Backdoor;

impl GuestInfo for Backdoor {
    fn get(&self, key: &str) -> Result<Option<String>, String> {
        self.check()?;
        let full = format!("guestinfo.{key}");
        let (tx, rx) = std::sync::mpsc::channel();
        let name = full.clone();
        // A thread, so that a stalled RPC is a timeout and not a hung boot.
        std::thread::Builder::new()
            .name("vmware-backdoor".into())
            .spawn(move || {
                let _ = tx.send(backdoor_read(&name));
            })
            .map_err(|e| format!("cannot start the backdoor reader: {e}"))?;
        match rx.recv_timeout(BACKDOOR_TIMEOUT) {
            Ok(result) => result.map_err(|e| format!("reading {full}: {e}")),
            Err(_) => Err(format!(
                "reading {full}: no answer from the VMware backdoor within {} s",
                BACKDOOR_TIMEOUT.as_secs()
            )),
        }
    }

    fn check(&self) -> Result<(), String> {
        if vmware_hypervisor() {
            Ok(())
        } else {
            Err(NOT_VMWARE.to_string())
        }
    }
}

const NOT_VMWARE: &str = "VMware guestinfo backdoor not supported on this machine (not a VMware \
                          virtual machine: CPUID names no VMware hypervisor)";

/// One `info-get` over a fresh enhanced-RPC channel. Privileged access (`iopl`) first, which
/// `kernel_lockdown(7)` may refuse; then unprivileged, which VMware also serves.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn backdoor_read(key: &str) -> Result<Option<String>, String> {
    let mut guard = vmw_backdoor::probe_backdoor_privileged()
        .or_else(|_| vmw_backdoor::probe_backdoor())
        .map_err(|e| format!("the VMware backdoor does not answer: {e}"))?;
    let mut channel = guard
        .open_enhanced_chan()
        .map_err(|e| format!("cannot open an RPC channel: {e}"))?;
    let value = channel
        .get_guestinfo(key.as_bytes())
        .map_err(|e| e.to_string())?;
    let _ = channel.close();
    value
        .map(|bytes| String::from_utf8(bytes).map_err(|_| "the value is not UTF-8 text".into()))
        .transpose()
}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn backdoor_read(_key: &str) -> Result<Option<String>, String> {
    Err("the VMware backdoor is only implemented on x86_64 Linux".into())
}

#[derive(Debug, Clone)]
enum Store {
    OvfFile(PathBuf),
    Guestinfo(Arc<dyn GuestInfo>),
    Map(BTreeMap<String, String>),
}

/// Where values are looked up once the store is open.
enum Values {
    Map(BTreeMap<String, String>),
    Live(Arc<dyn GuestInfo>),
}

impl Values {
    fn get(&self, key: &str) -> Result<Option<String>, DatasourceError> {
        let value = match self {
            Values::Map(m) => m.get(key).cloned(),
            Values::Live(info) => info
                .get(key)
                .map_err(|e| DatasourceError::Unsupported(e.to_string()))?,
        };
        Ok(value.filter(|v| !v.is_empty()))
    }
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

    /// The hypervisor's guestinfo store, over the backdoor.
    pub fn guestinfo(http: &HttpOptions) -> Vmware {
        Vmware::guestinfo_from(Arc::new(Backdoor), http)
    }

    /// A guestinfo store behind the trait (the backdoor, or a stand-in in tests).
    pub fn guestinfo_from(info: Arc<dyn GuestInfo>, http: &HttpOptions) -> Vmware {
        Vmware {
            store: Store::Guestinfo(info),
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
            Store::Guestinfo(_) | Store::Map(_) => "VMware guestinfo".to_string(),
        }
    }

    /// Opens the store as the reference does: an OVF file's properties; for guestinfo, the OVF
    /// environment in `guestinfo.ovfenv` when it is set, else each key read on its own.
    fn values(&self) -> Result<Values, DatasourceError> {
        match &self.store {
            Store::Map(m) => Ok(Values::Map(m.clone())),
            Store::Guestinfo(info) => {
                let live = Values::Live(info.clone());
                match live.get("ovfenv")? {
                    Some(ovf) => parse_ovf_env(&ovf).map(Values::Map).map_err(|message| {
                        DatasourceError::Xml {
                            location: "VMware guestinfo.ovfenv".into(),
                            message,
                        }
                    }),
                    None => Ok(live),
                }
            }
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
                parse_ovf_env(text).map(Values::Map).map_err(xml_error)
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

impl Datasource for Vmware {
    fn kind(&self) -> &'static str {
        "vmware"
    }

    fn describe(&self) -> String {
        match &self.store {
            Store::OvfFile(p) => format!("vmware ovf-env {}", p.display()),
            Store::Guestinfo(_) => "vmware guestinfo".to_string(),
            Store::Map(_) => "vmware values".to_string(),
        }
    }

    fn check_availability(&self) -> Result<(), String> {
        match &self.store {
            Store::OvfFile(p) => path_exists(p),
            Store::Guestinfo(info) => info.check(),
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
        for prefix in ["ignition.config", "coreos.config"] {
            let Some(data) = values.get(&format!("{prefix}.data"))? else {
                continue;
            };
            let key = format!("{prefix}.data.encoding");
            let encoding = values.get(&key)?.unwrap_or_default();
            let encoding = encoding.as_str();
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
            if let Some(u) = values.get(key)? {
                return url::fetch_required(&self.http, &u).map(Some);
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
fn metadata_from_values(values: &Values, location: &str) -> Result<Metadata, DatasourceError> {
    let mut md = Metadata {
        hostname: values.get("hostname")?,
        ..Metadata::default()
    };
    let mut netconf = BTreeMap::new();
    let mut save = |key: String| -> Result<Option<String>, DatasourceError> {
        let Some(v) = values.get(&key)? else {
            return Ok(None);
        };
        netconf.insert(key, v.clone());
        Ok(Some(v))
    };
    for prefix in ["dns.server", "dns.domain"] {
        for i in 0..MAX_INDEX {
            if save(format!("{prefix}.{i}"))?.is_none() {
                break;
            }
        }
    }
    for i in 0..MAX_INDEX {
        let mut found = false;
        for field in ["name", "mac", "dhcp"] {
            found |= save(format!("interface.{i}.{field}"))?.is_some();
        }
        let role = values
            .get(&format!("interface.{i}.role"))?
            .unwrap_or_default();
        for a in 0..MAX_INDEX {
            let key = format!("interface.{i}.ip.{a}.address");
            let Some(address) = save(key.clone())? else {
                break;
            };
            found = true;
            let (ip, _) = crate::network::parse_cidr(&address).ok_or_else(|| {
                DatasourceError::malformed(
                    format!("{location} {key}"),
                    format!("invalid CIDR address {address:?}"),
                )
            })?;
            let slot = match (role.as_str(), ip) {
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
            let gateway = save(format!("interface.{i}.route.{r}.gateway"))?;
            let destination = save(format!("interface.{i}.route.{r}.destination"))?;
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
        let md = metadata_from_values(&Values::Map(values), "t").unwrap();
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
        assert!(metadata_from_values(&Values::Map(bad_ip), "t").is_err());
        let bad_role = map(&[
            ("interface.0.role", "dmz"),
            ("interface.0.ip.0.address", "10.0.0.10/24"),
        ]);
        let e = metadata_from_values(&Values::Map(bad_role), "t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unrecognized role: \"dmz\""), "{e}");
    }

    /// A stand-in for the backdoor that records which keys were asked for, in order.
    #[derive(Debug, Default)]
    struct Recorder {
        values: BTreeMap<String, String>,
        asked: std::sync::Mutex<Vec<String>>,
    }

    impl GuestInfo for Recorder {
        fn get(&self, key: &str) -> Result<Option<String>, String> {
            self.asked.lock().unwrap().push(key.to_string());
            Ok(self.values.get(key).cloned())
        }
        fn check(&self) -> Result<(), String> {
            Ok(())
        }
    }

    fn guestinfo(pairs: &[(&str, &str)]) -> (Vmware, Arc<Recorder>) {
        let rec = Arc::new(Recorder {
            values: map(pairs),
            ..Default::default()
        });
        let source = Vmware::guestinfo_from(rec.clone(), &HttpOptions::default());
        (source, rec)
    }

    fn asked(rec: &Recorder) -> Vec<String> {
        std::mem::take(&mut *rec.asked.lock().unwrap())
    }

    #[test]
    fn coreos_config_data_is_decoded_with_its_encoding() {
        // base64 of "#cloud-config\nhostname: vm1\n"
        let (source, rec) = guestinfo(&[
            (
                "coreos.config.data",
                "I2Nsb3VkLWNvbmZpZwpob3N0bmFtZTogdm0xCg==",
            ),
            ("coreos.config.data.encoding", "base64"),
            ("coreos.config.url", "http://127.0.0.1:9/never-fetched"),
        ]);
        let data = source.fetch_user_data().unwrap().unwrap();
        assert_eq!(data, b"#cloud-config\nhostname: vm1\n");
        // The keys, in the reference's order: the OVF environment first, then Ignition's data
        // (absent), then CoreOS's with its encoding; the URLs are not read.
        assert_eq!(
            asked(&rec),
            [
                "ovfenv",
                "ignition.config.data",
                "coreos.config.data",
                "coreos.config.data.encoding"
            ]
        );
    }

    #[test]
    fn ignition_data_comes_before_coreos_data() {
        let (source, _) = guestinfo(&[
            ("ignition.config.data", "{\"ignition\":{}}"),
            ("coreos.config.data", "#cloud-config\n"),
        ]);
        assert_eq!(
            source.fetch_user_data().unwrap().unwrap(),
            b"{\"ignition\":{}}"
        );
    }

    #[test]
    fn an_unknown_encoding_is_an_error_naming_the_key() {
        let (source, _) = guestinfo(&[
            ("coreos.config.data", "x"),
            ("coreos.config.data.encoding", "rot13"),
        ]);
        let e = source.fetch_user_data().unwrap_err().to_string();
        assert!(e.contains("coreos.config.data.encoding"), "{e}");
        assert!(e.contains("Unsupported encoding \"rot13\""), "{e}");
    }

    #[test]
    fn without_data_the_urls_are_tried_in_order() {
        // A real HTTP server on 127.0.0.1 that serves the user-data once.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            use std::io::{Read, Write};
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let n = conn.read(&mut buf).unwrap();
            let request = String::from_utf8_lossy(&buf[..n]).to_string();
            let body = "#cloud-config\n";
            write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
            request
        });
        let url = format!("http://127.0.0.1:{port}/user-data");
        let (source, rec) = guestinfo(&[("coreos.config.url", &url)]);
        assert_eq!(
            source.fetch_user_data().unwrap().unwrap(),
            b"#cloud-config\n"
        );
        assert!(server.join().unwrap().starts_with("GET /user-data "));
        assert_eq!(
            asked(&rec),
            [
                "ovfenv",
                "ignition.config.data",
                "coreos.config.data",
                "ignition.config.url",
                "coreos.config.url"
            ]
        );
    }

    #[test]
    fn an_ovf_environment_in_guestinfo_replaces_the_key_reads() {
        let ovf = r##"<?xml version="1.0"?><Environment xmlns="http://schemas.dmtf.org/ovf/environment/1" xmlns:oe="http://schemas.dmtf.org/ovf/environment/1"><PropertySection><Property oe:key="guestinfo.hostname" oe:value="from-ovf"/><Property oe:key="guestinfo.coreos.config.data" oe:value="#cloud-config"/></PropertySection></Environment>"##;
        let (source, rec) = guestinfo(&[("ovfenv", ovf), ("hostname", "from-backdoor")]);
        let md = source.fetch_metadata().unwrap();
        assert_eq!(md.hostname.as_deref(), Some("from-ovf"));
        assert_eq!(source.fetch_user_data().unwrap().unwrap(), b"#cloud-config");
        // Only guestinfo.ovfenv went over the backdoor.
        assert!(asked(&rec).iter().all(|k| k == "ovfenv"));
    }

    #[test]
    fn metadata_is_read_key_by_key_from_the_backdoor() {
        let (source, rec) = guestinfo(&[
            ("hostname", "vm1"),
            ("interface.0.name", "eth0"),
            ("interface.0.role", "private"),
            ("interface.0.ip.0.address", "10.0.0.10/24"),
        ]);
        let md = source.fetch_metadata().unwrap();
        assert_eq!(md.hostname.as_deref(), Some("vm1"));
        assert_eq!(md.private_ipv4, Some("10.0.0.10".parse().unwrap()));
        let keys = asked(&rec);
        assert_eq!(keys[..2], ["ovfenv", "hostname"]);
        // The walk stops at the first interface with nothing set.
        assert!(keys.contains(&"interface.1.name".to_string()));
        assert!(!keys.iter().any(|k| k.starts_with("interface.2.")));
    }

    /// Off VMware (this test machine), the backdoor says so at once, from CPUID alone: no port
    /// is touched (an `in` instruction outside VMware would kill the process).
    #[test]
    fn off_vmware_the_backdoor_is_refused_without_port_io() {
        if vmware_hypervisor() {
            return;
        }
        let e = Backdoor.get("coreos.config.data").unwrap_err();
        assert!(e.contains("not a VMware virtual machine"), "{e}");
        let source = Vmware::guestinfo(&HttpOptions::default());
        let e = source.check_availability().unwrap_err();
        assert!(e.contains("not a VMware virtual machine"), "{e}");
        assert!(source.fetch_user_data().is_err());
    }
}
