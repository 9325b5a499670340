//! `--from-cloudsigma-metadata`: CloudSigma's server context, asked for over a serial port
//! (`<\n{key}\n>`, answered up to an EOT byte), with a deadline on every exchange.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::termios;
use serde_json::Value;

use crate::datasource::later;
use crate::datasource::{Datasource, DatasourceError};
use crate::http::USER_DATA_CAP;
use crate::metadata::Metadata;

const EOT: u8 = 0x04;

/// Where CloudSigma's pieces live; tests point them at temporary files and a pseudo-terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudSigmaOptions {
    pub device: PathBuf,
    /// Its first 10 bytes must read `CloudSigma`.
    pub dmi_product_name: PathBuf,
    /// Must hold at least one lease: the network is up.
    pub leases_dir: PathBuf,
    /// Interfaces by name with their `address` (MAC), to find the private address.
    pub sys_class_net: PathBuf,
    /// For one request and its whole answer.
    pub timeout: Duration,
}

impl Default for CloudSigmaOptions {
    fn default() -> CloudSigmaOptions {
        CloudSigmaOptions {
            device: "/dev/ttyS1".into(),
            dmi_product_name: "/sys/class/dmi/id/product_name".into(),
            leases_dir: "/run/systemd/netif/leases".into(),
            sys_class_net: "/sys/class/net".into(),
            timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug)]
pub struct CloudSigma {
    options: CloudSigmaOptions,
}

impl CloudSigma {
    pub fn new(options: &CloudSigmaOptions) -> CloudSigma {
        CloudSigma {
            options: options.clone(),
        }
    }

    /// The first IPv4 address of the local interface with this MAC.
    fn local_ipv4(&self, mac: &str) -> Option<Ipv4Addr> {
        first_ipv4_of(&interface_with_mac(&self.options.sys_class_net, mac)?)
    }

    fn fetch(&self, key: &str) -> Result<Vec<u8>, DatasourceError> {
        let device = &self.options.device;
        let err = |message: String| DatasourceError::Serial {
            device: device.clone(),
            message,
        };
        if key.bytes().any(|b| b == b'\n' || b == b'>') {
            return Err(err(format!("key {key:?} cannot be sent")));
        }
        let deadline = later(Instant::now(), self.options.timeout);
        let mut port = open_serial(device).map_err(|e| err(format!("cannot open: {e}")))?;
        // Bytes left from an earlier, abandoned answer would be taken for this one.
        let _ = termios::tcflush(&port, termios::FlushArg::TCIFLUSH);
        port.write_all(format!("<\n{key}\n>").as_bytes())
            .map_err(|e| err(format!("cannot send the request for {key:?}: {e}")))?;
        let mut answer = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            if Instant::now() >= deadline {
                return Err(err(format!(
                    "no complete answer for {key:?} within {:?} (expected text ending in an EOT byte)",
                    self.options.timeout
                )));
            }
            // VTIME makes each read return after at most 0.1 s of silence, so the deadline is
            // checked even when the other end says nothing at all.
            let n = match port.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
                Err(e) => return Err(err(format!("read failed: {e}"))),
            };
            let data = chunk.get(..n).unwrap_or(&[]);
            if let Some(end) = data.iter().position(|b| *b == EOT) {
                answer.extend_from_slice(data.get(..end).unwrap_or(&[]));
                break;
            }
            answer.extend_from_slice(data);
            if answer.len() > USER_DATA_CAP {
                return Err(err(format!(
                    "the answer for {key:?} is larger than the limit of {USER_DATA_CAP} bytes"
                )));
            }
        }
        Ok(answer)
    }

    fn fetch_json(&self, key: &str) -> Result<Value, DatasourceError> {
        parse_answer(&self.fetch(key)?, &self.options.device, key)
    }
}

/// Opened without waiting for a carrier and without becoming our controlling terminal, then
/// switched to raw 115200 baud with reads that time out.
fn open_serial(path: &Path) -> std::io::Result<File> {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::libc::O_NOCTTY | nix::libc::O_NONBLOCK)
        .open(path)?;
    let mut t = termios::tcgetattr(&file).map_err(std::io::Error::from)?;
    termios::cfmakeraw(&mut t);
    // The speed is set in the struct itself: the libc crate binds cfsetspeed and friends to
    // versioned glibc symbols, which glibc's static archive (our +crt-static build) lacks.
    let mut raw: nix::libc::termios = t.into();
    raw.c_cflag = (raw.c_cflag & !nix::libc::CBAUD) | nix::libc::B115200;
    #[cfg(not(target_env = "musl"))]
    {
        raw.c_ispeed = nix::libc::B115200;
        raw.c_ospeed = nix::libc::B115200;
    }
    // musl names the two speed fields as reserved; its termios ioctls read the speed from
    // c_cflag's CBAUD bits, set above.
    #[cfg(target_env = "musl")]
    {
        raw.__c_ispeed = nix::libc::B115200;
        raw.__c_ospeed = nix::libc::B115200;
    }
    let mut t = termios::Termios::from(raw);
    t.control_flags |= termios::ControlFlags::CLOCAL | termios::ControlFlags::CREAD;
    t.control_flags &= !termios::ControlFlags::CRTSCTS;
    t.control_chars[termios::SpecialCharacterIndices::VMIN as usize] = 0;
    t.control_chars[termios::SpecialCharacterIndices::VTIME as usize] = 1;
    termios::tcsetattr(&file, termios::SetArg::TCSANOW, &t).map_err(std::io::Error::from)?;
    fcntl(&file, FcntlArg::F_SETFL(OFlag::empty())).map_err(std::io::Error::from)?;
    Ok(file)
}

/// The interface whose sysfs `address` is `mac` (compared without case).
fn interface_with_mac(sys_class_net: &Path, mac: &str) -> Option<String> {
    let want = mac.trim().to_ascii_lowercase();
    if want.is_empty() {
        return None;
    }
    for entry in std::fs::read_dir(sys_class_net).ok()?.flatten() {
        let Ok(addr) = std::fs::read_to_string(entry.path().join("address")) else {
            continue;
        };
        if addr.trim().to_ascii_lowercase() == want {
            return entry.file_name().to_str().map(str::to_string);
        }
    }
    None
}

/// The first IPv4 address getifaddrs(3) lists for the interface `name`.
fn first_ipv4_of(name: &str) -> Option<Ipv4Addr> {
    use nix::libc;
    use std::ffi::CStr;
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with a linked list we own until freeifaddrs; every
    // pointer in it is checked for null before use, and nothing escapes the loop but a copy.
    unsafe {
        if libc::getifaddrs(&mut list) != 0 {
            return None;
        }
        let mut found = None;
        let mut cur = list;
        while !cur.is_null() {
            let ifa = &*cur;
            cur = ifa.ifa_next;
            if ifa.ifa_addr.is_null() || ifa.ifa_name.is_null() {
                continue;
            }
            if i32::from((*ifa.ifa_addr).sa_family) != libc::AF_INET {
                continue;
            }
            if CStr::from_ptr(ifa.ifa_name).to_bytes() != name.as_bytes() {
                continue;
            }
            let sin = &*(ifa.ifa_addr as *const libc::sockaddr_in);
            found = Some(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)));
            break;
        }
        libc::freeifaddrs(list);
        found
    }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

impl Datasource for CloudSigma {
    fn kind(&self) -> &'static str {
        "server-context"
    }

    fn describe(&self) -> String {
        format!("server-context {}", self.options.device.display())
    }

    fn check_availability(&self) -> Result<(), String> {
        let dmi = &self.options.dmi_product_name;
        let mut head = [0u8; 10];
        let n = File::open(dmi)
            .and_then(|mut f| {
                let mut n = 0;
                while n < head.len() {
                    match f.read(head.get_mut(n..).unwrap_or(&mut []))? {
                        0 => break,
                        k => n += k,
                    }
                }
                Ok(n)
            })
            .map_err(|e| format!("cannot read {}: {e}", dmi.display()))?;
        if head.get(..n) != Some(b"CloudSigma".as_slice()) {
            return Err(format!("{} does not say CloudSigma", dmi.display()));
        }
        let leases = &self.options.leases_dir;
        let any_lease = std::fs::read_dir(leases)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false);
        if !any_lease {
            return Err(format!("no network lease in {} yet", leases.display()));
        }
        Ok(())
    }

    fn fetch_user_data(&self) -> Result<Option<Vec<u8>>, DatasourceError> {
        let meta = self.fetch_json("/meta/")?;
        user_data_from_meta(&meta, &self.options.device)
    }

    fn fetch_metadata(&self) -> Result<Metadata, DatasourceError> {
        let ctx = self.fetch_json("")?;
        Ok(metadata_from_context(&ctx, &|mac| self.local_ipv4(mac)))
    }
}

/// One answer of the serial protocol (the bytes before EOT) as JSON; pure, for fuzz targets.
pub(crate) fn parse_answer(
    answer: &[u8],
    device: &Path,
    key: &str,
) -> Result<Value, DatasourceError> {
    serde_json::from_slice(answer).map_err(|e| DatasourceError::Json {
        location: format!("{} key {key:?}", device.display()),
        message: format!("{e} (expected the server context JSON)"),
    })
}

/// The user-data in the `/meta/` answer, decoded when `base64_fields` lists it.
pub(crate) fn user_data_from_meta(
    meta: &Value,
    device: &Path,
) -> Result<Option<Vec<u8>>, DatasourceError> {
    let Some(data) = meta.get("cloudinit-user-data").and_then(Value::as_str) else {
        return Ok(None);
    };
    let base64 = meta
        .get("base64_fields")
        .and_then(Value::as_str)
        .is_some_and(|f| f.split(',').any(|f| f.trim() == "cloudinit-user-data"));
    if !base64 {
        return Ok(Some(data.as_bytes().to_vec()));
    }
    // The reference hands over empty user-data when this fails; an error says why instead.
    crate::config::decode::base64(data.as_bytes())
        .map(Some)
        .map_err(|e| {
            DatasourceError::malformed(
                format!("{} meta cloudinit-user-data", device.display()),
                format!("{e} (listed in base64_fields, so expected base64)"),
            )
        })
}

/// The metadata in the server context; `local_ipv4` finds the address of the interface with a
/// MAC (for the private network).
pub(crate) fn metadata_from_context(
    ctx: &Value,
    local_ipv4: &dyn Fn(&str) -> Option<Ipv4Addr>,
) -> Metadata {
    let mut md = Metadata::default();
    let name = str_at(ctx, &["name"]).filter(|s| !s.is_empty());
    md.hostname = name
        .or_else(|| str_at(ctx, &["uuid"]).filter(|s| !s.is_empty()))
        .map(str::to_string);
    if let Some(key) = str_at(ctx, &["meta", "ssh_public_key"]).map(str::trim) {
        if let Some(comment) = key.split(' ').next_back().filter(|_| !key.is_empty()) {
            md.ssh_public_keys
                .insert(comment.to_string(), key.to_string());
        }
    }
    let nics = ctx
        .get("nics")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    for nic in nics {
        if let Some(ip) = str_at(nic, &["ip_v4_conf", "ip", "uuid"]).filter(|s| !s.is_empty()) {
            match ip.parse::<IpAddr>() {
                Ok(ip) => md.public_ipv4 = Some(ip),
                Err(_) => {
                    log::warn!("server context: nic address {ip:?} is not an IP address; ignored")
                }
            }
        }
        if str_at(nic, &["vlan", "uuid"]).is_some_and(|v| !v.is_empty()) {
            if let Some(ip) = str_at(nic, &["mac"]).and_then(local_ipv4) {
                md.private_ipv4 = Some(IpAddr::V4(ip));
            }
        }
    }
    md
}
