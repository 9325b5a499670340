//! The interface model both converters build, and its rendering to unit files in the
//! reference's exact text; plus the MAC, CIDR and name checks the converters share.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::network::{NetworkError, NetworkUnit};

/// A hardware address of 6, 8 or 20 bytes, printed as Go's `net.HardwareAddr` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mac(Vec<u8>);

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|b| format!("{b:02x}")).collect();
        f.write_str(&parts.join(":"))
    }
}

/// The forms Go's `net.ParseMAC` accepts: `aa:bb:..`, `aa-bb-..` and `aabb.ccdd.eeff`.
pub(crate) fn parse_mac(s: &str) -> Option<Mac> {
    let hex_byte = |p: &str| {
        (p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| u8::from_str_radix(p, 16).ok())
            .flatten()
    };
    let bytes: Option<Vec<u8>> = if s.contains(':') || s.contains('-') {
        let sep = if s.contains(':') { ':' } else { '-' };
        s.split(sep).map(hex_byte).collect()
    } else if s.contains('.') {
        let mut out = Vec::new();
        for group in s.split('.') {
            if group.len() != 4 {
                return None;
            }
            out.push(hex_byte(group.get(..2)?)?);
            out.push(hex_byte(group.get(2..)?)?);
        }
        Some(out)
    } else {
        None
    };
    let bytes = bytes?;
    matches!(bytes.len(), 6 | 8 | 20).then_some(Mac(bytes))
}

/// `ADDRESS/PREFIX` as Go's `net.ParseCIDR` reads it: the address as written, and the prefix
/// length (decimal digits only, at most 32 or 128).
pub fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (ip, len) = s.split_once('/')?;
    if len.is_empty() || len.len() > 3 || !len.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ip: IpAddr = ip.parse().ok()?;
    let len: u8 = len.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (len <= max).then_some((ip, len))
}

/// The network `ip/len` belongs to (host bits cleared), as `ParseCIDR`'s second result.
pub(crate) fn network_of(ip: IpAddr, len: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask))
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
    }
}

/// The prefix length of a contiguous dotted IPv4 netmask (`255.255.255.0` is 24).
pub(crate) fn netmask_len(mask: &str) -> Option<u8> {
    let m = u32::from(mask.parse::<Ipv4Addr>().ok()?);
    let len = m.leading_ones();
    (m.checked_shl(len).unwrap_or(0) == 0).then_some(len as u8)
}

/// Linux's own rule for interface names (`dev_valid_name`); a name is also a file name here,
/// so this is what keeps a hostile config from writing outside the network directory.
pub(crate) fn check_interface_name(name: &str) -> Result<(), NetworkError> {
    let ok = !name.is_empty()
        && name.len() < 16
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(NetworkError::InvalidInterfaceName {
            name: name.to_string(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Prefix {
    pub ip: IpAddr,
    pub len: u8,
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.ip, self.len)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub destination: Prefix,
    pub gateway: IpAddr,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Static {
    pub hwaddress: Option<Mac>,
    pub addresses: Vec<Prefix>,
    pub nameservers: Vec<IpAddr>,
    pub domains: Vec<String>,
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Method {
    Static(Static),
    Dhcp { hwaddress: Option<Mac> },
    Manual,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    Physical,
    /// `[Bond]` settings, already in systemd's keys.
    Bond {
        options: Vec<(String, String)>,
    },
    Vlan {
        id: u16,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChildKind {
    Bond,
    Vlan,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Interface {
    /// Empty for a VMware interface known only by its MAC.
    pub name: String,
    /// `[Match] MACAddress=` (VMware only, as in the reference).
    pub hwaddr: Option<Mac>,
    pub kind: Kind,
    pub method: Method,
    /// Bonds and VLANs stacked on this interface, by name.
    pub children: Vec<(ChildKind, String)>,
    pub depth: usize,
    /// `PrimarySlave=true` for the slave a bond's `bond-primary` names.
    pub primary_slave: bool,
}

impl Interface {
    pub(crate) fn new(name: &str, kind: Kind, method: Method) -> Interface {
        Interface {
            name: name.to_string(),
            hwaddr: None,
            kind,
            method,
            children: Vec::new(),
            depth: 0,
            primary_slave: false,
        }
    }

    /// The reference's name: the MAC as Go prints it (colons kept) when there is no name, and
    /// nothing (`00-`) when there is neither.
    pub(crate) fn file_stem(&self) -> String {
        let base = if self.name.is_empty() {
            self.hwaddr.as_ref().map(Mac::to_string).unwrap_or_default()
        } else {
            self.name.clone()
        };
        format!("{:02x}-{base}", self.depth)
    }

    fn netdev(&self) -> Option<String> {
        match &self.kind {
            Kind::Physical => None,
            Kind::Bond { options } => {
                let mut s = format!("[NetDev]\nKind=bond\nName={}\n", self.name);
                if let Some(mac) = &self.hwaddr {
                    s.push_str(&format!("MACAddress={mac}\n"));
                }
                s.push_str("\n[Bond]\n");
                for (k, v) in options {
                    s.push_str(&format!("{k}={v}\n"));
                }
                Some(s)
            }
            Kind::Vlan { id } => {
                let mut s = format!("[NetDev]\nKind=vlan\nName={}\n", self.name);
                let hw = match &self.method {
                    Method::Static(c) => c.hwaddress.as_ref(),
                    Method::Dhcp { hwaddress } => hwaddress.as_ref(),
                    Method::Manual => None,
                };
                if let Some(mac) = hw {
                    s.push_str(&format!("MACAddress={mac}\n"));
                }
                s.push_str(&format!("\n[VLAN]\nId={id}\n"));
                Some(s)
            }
        }
    }

    fn network(&self) -> String {
        let mut s = String::from("[Match]\n");
        if !self.name.is_empty() {
            s.push_str(&format!("Name={}\n", self.name));
        }
        if let Some(mac) = &self.hwaddr {
            s.push_str(&format!("MACAddress={mac}\n"));
        }
        s.push_str("\n[Network]\n");
        for (kind, child) in &self.children {
            match kind {
                ChildKind::Vlan => s.push_str(&format!("VLAN={child}\n")),
                ChildKind::Bond => s.push_str(&format!("Bond={child}\n")),
            }
        }
        if self.primary_slave {
            s.push_str("PrimarySlave=true\n");
        }
        match &self.method {
            Method::Static(c) => {
                if !c.domains.is_empty() {
                    s.push_str(&format!("Domains={}\n", c.domains.join(" ")));
                }
                for ns in &c.nameservers {
                    s.push_str(&format!("DNS={ns}\n"));
                }
                for a in &c.addresses {
                    s.push_str(&format!("\n[Address]\nAddress={a}\n"));
                }
                for r in &c.routes {
                    s.push_str(&format!(
                        "\n[Route]\nDestination={}\nGateway={}\n",
                        r.destination, r.gateway
                    ));
                }
            }
            Method::Dhcp { .. } => {
                s.push_str("DHCP=true\nKeepConfiguration=dhcp-on-stop\nIPv6AcceptRA=true\n");
            }
            Method::Manual => {}
        }
        s
    }
}

/// Each interface's `.netdev` (bonds and VLANs) then `.network`, in the given order.
pub(crate) fn render(interfaces: &[Interface]) -> Vec<NetworkUnit> {
    let mut out = Vec::new();
    for iface in interfaces {
        let stem = iface.file_stem();
        if let Some(content) = iface.netdev() {
            out.push(NetworkUnit {
                name: format!("{stem}.netdev"),
                content,
            });
        }
        out.push(NetworkUnit {
            name: format!("{stem}.network"),
            content: iface.network(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_parse_like_go_and_print_lowercase() {
        for s in ["00:50:56:AA:bb:dd", "00-50-56-aa-bb-dd", "0050.56aa.bbdd"] {
            assert_eq!(
                parse_mac(s).map(|m| m.to_string()).as_deref(),
                Some("00:50:56:aa:bb:dd")
            );
        }
        for bad in [
            "",
            "00:50:56:aa:bb",
            "00:50:56:aa:bb:zz",
            "0:50:56:aa:bb:dd",
            "005056aabbdd",
            "00:50-56:aa:bb:dd",
        ] {
            assert!(parse_mac(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn cidrs_and_netmasks() {
        assert_eq!(
            parse_cidr("10.0.0.5/24"),
            Some(("10.0.0.5".parse().unwrap(), 24))
        );
        assert_eq!(parse_cidr("2001:db8::1/64").map(|c| c.1), Some(64));
        for bad in [
            "10.0.0.5",
            "10.0.0.5/33",
            "10.0.0.5/+1",
            "x/24",
            "10.0.0.5/",
            "::/129",
        ] {
            assert!(parse_cidr(bad).is_none(), "{bad}");
        }
        assert_eq!(
            network_of("10.1.2.3".parse().unwrap(), 8).to_string(),
            "10.0.0.0"
        );
        assert_eq!(
            network_of("10.1.2.3".parse().unwrap(), 0).to_string(),
            "0.0.0.0"
        );
        assert_eq!(
            network_of("2001:db8::1".parse().unwrap(), 32).to_string(),
            "2001:db8::"
        );
        assert_eq!(netmask_len("255.240.0.0"), Some(12));
        assert_eq!(netmask_len("0.0.0.0"), Some(0));
        assert_eq!(netmask_len("255.255.255.255"), Some(32));
        assert_eq!(netmask_len("255.0.255.0"), None);
    }

    #[test]
    fn interface_names_follow_linux() {
        for ok in ["eth0", "bond0.10", "a", "enp0s31f6-x_y"] {
            assert!(check_interface_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "../etc",
            "a/b",
            "eth0:1",
            "a b",
            "a\nb",
            "sixteen-chars-xx",
        ] {
            assert!(check_interface_name(bad).is_err(), "{bad:?}");
        }
    }
}
