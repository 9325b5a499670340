//! Debian `interfaces(5)` text, as a config drive's `network_config` carries it, read the way
//! the reference reads it (reference.md §6.2) and built into the interface model.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::network::interface::{
    check_interface_name, netmask_len, parse_cidr, parse_mac, render, ChildKind, Interface, Kind,
    Method, Prefix, Route, Static,
};
use crate::network::{NetworkError, NetworkUnit, MAX_INPUT};

#[derive(Debug)]
enum StanzaKind {
    Physical { loopback: bool },
    Bond { slaves: Vec<String> },
    Vlan { id: u16, raw_device: Option<String> },
}

#[derive(Debug)]
struct Stanza {
    name: String,
    kind: StanzaKind,
    method: Method,
    options: BTreeMap<String, Vec<String>>,
}

/// Converts `interfaces` text to units: sorted by interface name, each bond or VLAN with its
/// `.netdev`, every interface with its `.network`.
pub fn from_debian(bytes: &[u8]) -> Result<Vec<NetworkUnit>, NetworkError> {
    if bytes.len() > MAX_INPUT {
        return Err(NetworkError::TooLarge);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| NetworkError::NotText)?;
    let lines = logical_lines(text);
    let mut stanzas = Vec::new();
    for raw in split_stanzas(&lines)? {
        if let Some(s) = parse_stanza(&raw)? {
            stanzas.push(s);
        }
    }
    log::info!("Parsed {} network interfaces", stanzas.len());
    let interfaces = build(stanzas)?;
    Ok(render(&interfaces))
}

/// Continuations (`\` at the end of a line) joined, lines trimmed, blanks and comments dropped.
fn logical_lines(text: &str) -> Vec<String> {
    text.replace("\\\r\n", "")
        .replace("\\\n", "")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

fn is_stanza_start(line: &str) -> bool {
    matches!(
        line.split_whitespace().next(),
        Some("auto" | "iface" | "mapping")
    ) || line.starts_with("allow-")
}

fn split_stanzas(lines: &[String]) -> Result<Vec<Vec<&str>>, NetworkError> {
    let mut out: Vec<Vec<&str>> = Vec::new();
    for line in lines {
        if is_stanza_start(line) {
            out.push(vec![line.as_str()]);
        } else if let Some(current) = out.last_mut() {
            current.push(line.as_str());
        } else {
            return Err(NetworkError::MissingStanzaStart { line: line.clone() });
        }
    }
    Ok(out)
}

/// `None` for `auto` stanzas, which change nothing in the output.
fn parse_stanza(raw: &[&str]) -> Result<Option<Stanza>, NetworkError> {
    let Some((first, options)) = raw.split_first() else {
        return Ok(None);
    };
    let tokens: Vec<&str> = first.split_whitespace().collect();
    let Some((kind, attributes)) = tokens.split_first().filter(|(_, a)| !a.is_empty()) else {
        return Err(NetworkError::MalformedStanza {
            line: first.to_string(),
        });
    };
    match *kind {
        "auto" => Ok(None),
        "iface" => parse_iface(first, attributes, options).map(Some),
        other => Err(NetworkError::UnknownStanza {
            kind: other.to_string(),
        }),
    }
}

fn parse_iface(line: &str, attributes: &[&str], lines: &[&str]) -> Result<Stanza, NetworkError> {
    let [name, _family, method] = attributes else {
        return Err(NetworkError::IncorrectAttributes {
            line: line.to_string(),
        });
    };
    check_interface_name(name)?;
    let loopback = *method == "loopback";
    let mut options: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for option in lines {
        // `post-up` and `pre-down` keep their whole command; there may be several.
        if let Some(key) = ["post-up", "pre-down"]
            .into_iter()
            .find(|k| option.starts_with(k))
        {
            if let Some((_, rest)) = option.split_once(' ') {
                options
                    .entry(key.to_string())
                    .or_default()
                    .push(rest.to_string());
            }
            continue;
        }
        let mut fields = option.split_whitespace().map(str::to_string);
        if let Some(key) = fields.next() {
            options.insert(key, fields.collect());
        }
    }
    let method = match *method {
        "static" => Method::Static(parse_static(name, &options)?),
        "dhcp" => Method::Dhcp {
            hwaddress: parse_hwaddress(name, &options)?,
        },
        "manual" | "loopback" => Method::Manual,
        other => {
            return Err(NetworkError::InvalidMethod {
                iface: name.to_string(),
                method: other.to_string(),
            })
        }
    };
    let raw_device = ["vlan_raw_device", "vlan-raw-device"]
        .iter()
        .find_map(|k| options.get(*k));
    let kind = if raw_device.is_some() || name.contains('.') {
        let id = name
            .rsplit_once('.')
            .map(|(_, id)| id)
            .or_else(|| name.strip_prefix("vlan"))
            .filter(|id| !id.is_empty() && id.len() <= 4 && id.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|id| id.parse::<u16>().ok())
            .filter(|id| *id <= 4094)
            .ok_or_else(|| NetworkError::MalformedVlanName {
                name: name.to_string(),
            })?;
        // The reference attaches a VLAN only through vlan_raw_device; `eth0.10` names its
        // parent too, and networkd needs the `VLAN=` line on that parent to create it.
        let raw_device = match raw_device.map(Vec::as_slice) {
            Some([device]) => Some(device.clone()),
            _ => name.rsplit_once('.').map(|(parent, _)| parent.to_string()),
        };
        if let Some(parent) = &raw_device {
            check_interface_name(parent)?;
        }
        StanzaKind::Vlan { id, raw_device }
    } else if let Some(slaves) = options.get("bond-slaves") {
        let slaves: Vec<String> = slaves.iter().filter(|s| *s != "none").cloned().collect();
        for s in &slaves {
            check_interface_name(s)?;
        }
        StanzaKind::Bond { slaves }
    } else {
        StanzaKind::Physical { loopback }
    };
    Ok(Stanza {
        name: name.to_string(),
        kind,
        method,
        options,
    })
}

fn parse_hwaddress(
    iface: &str,
    options: &BTreeMap<String, Vec<String>>,
) -> Result<Option<crate::network::interface::Mac>, NetworkError> {
    match options.get("hwaddress").map(Vec::as_slice) {
        Some([class, mac]) if class == "ether" => {
            parse_mac(mac)
                .map(Some)
                .ok_or_else(|| NetworkError::MalformedHwaddress {
                    iface: iface.to_string(),
                })
        }
        _ => Ok(None),
    }
}

fn one<'a>(options: &'a BTreeMap<String, Vec<String>>, key: &str) -> Option<&'a str> {
    match options.get(key).map(Vec::as_slice) {
        Some([v]) => Some(v.as_str()),
        _ => None,
    }
}

/// `address` plus a dotted `netmask` as the reference requires; also `address A/LEN` and a
/// numeric netmask, which it refused, and IPv6 addresses.
fn parse_static(
    iface: &str,
    options: &BTreeMap<String, Vec<String>>,
) -> Result<Static, NetworkError> {
    let malformed = |reason: String| NetworkError::MalformedStatic {
        iface: iface.to_string(),
        reason,
    };
    let address =
        one(options, "address").ok_or_else(|| malformed("expected one address".to_string()))?;
    let (ip, cidr_len) = match parse_cidr(address) {
        Some((ip, len)) => (ip, Some(len)),
        None => (
            address
                .parse::<IpAddr>()
                .map_err(|_| malformed(format!("invalid address {address:?}")))?,
            None,
        ),
    };
    let mask_len = match one(options, "netmask") {
        Some(mask) => {
            let numeric = mask
                .parse::<u8>()
                .ok()
                .filter(|_| mask.bytes().all(|b| b.is_ascii_digit()));
            let len = match (ip, numeric) {
                (_, Some(n)) => Some(n),
                (IpAddr::V4(_), None) => netmask_len(mask),
                (IpAddr::V6(_), None) => None,
            };
            let max = if ip.is_ipv4() { 32 } else { 128 };
            Some(
                len.filter(|l| *l <= max)
                    .ok_or_else(|| malformed(format!("invalid netmask {mask:?}")))?,
            )
        }
        None => None,
    };
    let len = mask_len
        .or(cidr_len)
        .ok_or_else(|| malformed("expected a netmask".to_string()))?;
    let mut config = Static {
        addresses: vec![Prefix { ip, len }],
        hwaddress: parse_hwaddress(iface, options)?,
        ..Static::default()
    };
    if let Some(gw) = one(options, "gateway") {
        let gateway: IpAddr = gw
            .parse()
            .map_err(|_| malformed(format!("invalid gateway {gw:?}")))?;
        let any = match gateway {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        config.routes.push(Route {
            destination: Prefix { ip: any, len: 0 },
            gateway,
        });
    }
    for ns in options.get("dns-nameservers").into_iter().flatten() {
        config.nameservers.push(
            ns.parse()
                .map_err(|_| NetworkError::InvalidNameserver { value: ns.clone() })?,
        );
    }
    for command in options.get("post-up").into_iter().flatten() {
        if command.starts_with("route add") {
            if let Some(route) = parse_route_add(command) {
                config.routes.push(route);
            }
        }
    }
    Ok(config)
}

/// `route add ... -net DST [netmask MASK] gw GW ...`; anything the reference would not turn into
/// a route is skipped, as there.
fn parse_route_add(command: &str) -> Option<Route> {
    let fields: Vec<&str> = command.split_whitespace().collect();
    let mut ip: Option<IpAddr> = None;
    let mut len: Option<u8> = None;
    let mut gateway: Option<IpAddr> = None;
    for pair in fields.windows(2) {
        let [field, value] = pair else { continue };
        match *field {
            "-net" => match parse_cidr(value) {
                Some((addr, l)) => {
                    ip = Some(crate::network::interface::network_of(addr, l));
                    len = Some(l);
                }
                None => ip = value.parse().ok(),
            },
            "netmask" => len = netmask_len(value),
            "gw" => gateway = value.parse().ok(),
            _ => {}
        }
    }
    Some(Route {
        destination: Prefix { ip: ip?, len: len? },
        gateway: gateway?,
    })
}

fn manual(name: &str) -> Interface {
    Interface::new(name, Kind::Physical, Method::Manual)
}

/// The reference's interface map: later stanzas replace earlier ones, undeclared slaves and
/// parents appear as manual physical interfaces, loopback is dropped.
fn build(stanzas: Vec<Stanza>) -> Result<Vec<Interface>, NetworkError> {
    let mut map: BTreeMap<String, Interface> = BTreeMap::new();
    let mut slaves_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut parent_of: BTreeMap<String, String> = BTreeMap::new();
    let mut primaries: Vec<(String, String)> = Vec::new();
    for s in stanzas {
        if map.contains_key(&s.name) {
            log::warn!(
                "interface {:?} is declared again; the later stanza replaces the earlier",
                s.name
            );
        }
        slaves_of.remove(&s.name);
        parent_of.remove(&s.name);
        primaries.retain(|(bond, _)| bond != &s.name);
        match s.kind {
            StanzaKind::Physical { loopback: true } => {}
            StanzaKind::Physical { loopback: false } => {
                map.insert(
                    s.name.clone(),
                    Interface::new(&s.name, Kind::Physical, s.method),
                );
            }
            StanzaKind::Bond { slaves } => {
                let BondSettings { options, primary } = bond_options(&s.name, &s.options)?;
                if let Some(p) = primary {
                    if slaves.contains(&p) {
                        primaries.push((s.name.clone(), p));
                    } else {
                        log::warn!(
                            "bond {:?}: bond-primary {p:?} is not one of its slaves; ignored",
                            s.name
                        );
                    }
                }
                for slave in &slaves {
                    map.entry(slave.clone()).or_insert_with(|| manual(slave));
                }
                map.insert(
                    s.name.clone(),
                    Interface::new(&s.name, Kind::Bond { options }, s.method),
                );
                slaves_of.insert(s.name, slaves);
            }
            StanzaKind::Vlan { id, raw_device } => {
                if let Some(parent) = &raw_device {
                    map.entry(parent.clone()).or_insert_with(|| manual(parent));
                    parent_of.insert(s.name.clone(), parent.clone());
                }
                map.insert(
                    s.name.clone(),
                    Interface::new(&s.name, Kind::Vlan { id }, s.method),
                );
            }
        }
    }
    // Links in child-name order, which is the order the parent lists them in.
    let mut links: Vec<(String, ChildKind, String)> = Vec::new();
    for (name, iface) in &map {
        match iface.kind {
            Kind::Vlan { .. } => {
                if let Some(parent) = parent_of.get(name).filter(|p| map.contains_key(*p)) {
                    links.push((parent.clone(), ChildKind::Vlan, name.clone()));
                }
            }
            Kind::Bond { .. } => {
                for slave in slaves_of.get(name).into_iter().flatten() {
                    if map.contains_key(slave) {
                        links.push((slave.clone(), ChildKind::Bond, name.clone()));
                    }
                }
            }
            Kind::Physical => {}
        }
    }
    for (parent, kind, child) in links {
        if let Some(p) = map.get_mut(&parent) {
            if !p.children.iter().any(|(_, c)| c == &child) {
                p.children.push((kind, child));
            }
        }
    }
    for (_, slave) in primaries {
        if let Some(s) = map.get_mut(&slave) {
            s.primary_slave = true;
        }
    }
    set_depths(&mut map)?;
    Ok(map.into_values().collect())
}

/// Leaves are 0 and a parent is one more than its deepest child, so units of lower layers
/// sort after the bonds and VLANs on top of them. Iterative, and a loop is an error (the
/// reference recursed forever).
fn set_depths(map: &mut BTreeMap<String, Interface>) -> Result<(), NetworkError> {
    let mut depth: BTreeMap<String, usize> = BTreeMap::new();
    let mut on_path: BTreeSet<String> = BTreeSet::new();
    let names: Vec<String> = map.keys().cloned().collect();
    for start in names {
        if depth.contains_key(&start) {
            continue;
        }
        // (name, index of the next child to visit)
        let mut stack: Vec<(String, usize)> = vec![(start.clone(), 0)];
        on_path.insert(start);
        while let Some((name, next)) = stack.last().cloned() {
            let children = map.get(&name).map(|i| i.children.as_slice()).unwrap_or(&[]);
            match children.get(next) {
                Some((_, child)) => {
                    if let Some(top) = stack.last_mut() {
                        top.1 += 1;
                    }
                    if depth.contains_key(child) {
                        continue;
                    }
                    if on_path.contains(child) {
                        return Err(NetworkError::Cycle {
                            name: child.clone(),
                        });
                    }
                    on_path.insert(child.clone());
                    stack.push((child.clone(), 0));
                }
                None => {
                    let d = children
                        .iter()
                        .filter_map(|(_, c)| depth.get(c).map(|d| d + 1))
                        .max()
                        .unwrap_or(0);
                    depth.insert(name.clone(), d);
                    on_path.remove(&name);
                    stack.pop();
                }
            }
        }
    }
    for (name, iface) in map.iter_mut() {
        iface.depth = depth.get(name).copied().unwrap_or(0);
    }
    Ok(())
}

const BOND_MODES: [&str; 7] = [
    "balance-rr",
    "active-backup",
    "balance-xor",
    "broadcast",
    "802.3ad",
    "balance-tlb",
    "balance-alb",
];
const HASH_POLICIES: [&str; 6] = [
    "layer2",
    "layer3+4",
    "layer2+3",
    "encap2+3",
    "encap3+4",
    "vlan+srcmac",
];
const AD_SELECT: [&str; 3] = ["stable", "bandwidth", "count"];
const RESELECT: [&str; 3] = ["always", "better", "failure"];
const FAIL_OVER_MAC: [&str; 3] = ["none", "active", "follow"];

/// A kernel bonding value as a name or as its number in the kernel's table.
fn named(value: &str, names: &[&'static str]) -> Option<String> {
    if let Some(n) = names.iter().find(|n| **n == value) {
        return Some(n.to_string());
    }
    value
        .parse::<usize>()
        .ok()
        .filter(|_| value.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|i| names.get(i))
        .map(|n| n.to_string())
}

fn number(value: &str) -> Option<u64> {
    if value.is_empty() || value.len() > 9 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// A bond's `bond-*` options once read: `[Bond]` settings and the primary slave.
struct BondSettings {
    /// systemd `[Bond]` keys and values, sorted by key.
    options: Vec<(String, String)>,
    /// `bond-primary`, which systemd sets on the slave's `.network` instead.
    primary: Option<String>,
}

/// `bond-*` options in systemd's `[Bond]` keys. Options systemd has no key for are dropped
/// with a warning; a value systemd would reject is an error.
fn bond_options(
    iface: &str,
    options: &BTreeMap<String, Vec<String>>,
) -> Result<BondSettings, NetworkError> {
    let mut out = Vec::new();
    let mut primary = None;
    for (key, values) in options {
        let Some(option) = key.strip_prefix("bond-") else {
            continue;
        };
        if option == "slaves" {
            continue;
        }
        let value = values.join(" ");
        if value.is_empty() {
            log::warn!("bond {iface:?}: {key} has no value; ignored");
            continue;
        }
        let invalid = |expected: &'static str| NetworkError::InvalidBondOption {
            iface: iface.to_string(),
            option: key.clone(),
            value: value.clone(),
            expected,
        };
        let ms = |expected| {
            number(&value)
                .map(|n| format!("{n}ms"))
                .ok_or_else(|| invalid(expected))
        };
        let (name, setting) = match option {
            "mode" => (
                "Mode",
                named(&value, &BOND_MODES)
                    .ok_or_else(|| invalid("0 to 6 or a bonding mode name"))?,
            ),
            "miimon" => ("MIIMonitorSec", ms("milliseconds")?),
            "updelay" => ("UpDelaySec", ms("milliseconds")?),
            "downdelay" => ("DownDelaySec", ms("milliseconds")?),
            "arp-interval" => ("ARPIntervalSec", ms("milliseconds")?),
            "lacp-rate" => (
                "LACPTransmitRate",
                match value.as_str() {
                    "0" | "slow" => "slow".to_string(),
                    "1" | "fast" => "fast".to_string(),
                    _ => return Err(invalid("0, 1, slow or fast")),
                },
            ),
            "xmit-hash-policy" | "xmit_hash_policy" => (
                "TransmitHashPolicy",
                named(&value, &HASH_POLICIES).ok_or_else(|| invalid("a transmit hash policy"))?,
            ),
            "ad-select" => (
                "AdSelect",
                named(&value, &AD_SELECT).ok_or_else(|| invalid("stable, bandwidth or count"))?,
            ),
            "primary-reselect" => (
                "PrimaryReselectPolicy",
                named(&value, &RESELECT).ok_or_else(|| invalid("always, better or failure"))?,
            ),
            "fail-over-mac" => (
                "FailOverMACPolicy",
                named(&value, &FAIL_OVER_MAC).ok_or_else(|| invalid("none, active or follow"))?,
            ),
            "min-links" => (
                "MinLinks",
                number(&value)
                    .map(|n| n.to_string())
                    .ok_or_else(|| invalid("a number"))?,
            ),
            "all-slaves-active" => (
                "AllSlavesActive",
                match value.as_str() {
                    "0" => "false".to_string(),
                    "1" => "true".to_string(),
                    _ => return Err(invalid("0 or 1")),
                },
            ),
            "arp-ip-target" => {
                for ip in values {
                    if ip.parse::<Ipv4Addr>().is_err() {
                        return Err(invalid("IPv4 addresses"));
                    }
                }
                ("ARPIPTargets", value.clone())
            }
            "primary" => {
                primary = Some(value.clone());
                continue;
            }
            _ => {
                log::warn!("bond {iface:?}: {key} has no systemd [Bond] equivalent; dropped");
                continue;
            }
        };
        out.push((name.to_string(), setting));
    }
    out.sort();
    Ok(BondSettings {
        options: out,
        primary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_comments_and_blanks() {
        let lines = logical_lines("# c\n\n  auto eth0  \niface eth0 inet \\\n dhcp\r\n");
        assert_eq!(lines, vec!["auto eth0", "iface eth0 inet  dhcp"]);
    }

    #[test]
    fn route_add_forms() {
        let r =
            parse_route_add("route add -net 10.176.0.0 netmask 255.240.0.0 gw 10.181.0.1 || true")
                .unwrap();
        assert_eq!(r.destination.to_string(), "10.176.0.0/12");
        assert_eq!(r.gateway.to_string(), "10.181.0.1");
        let r = parse_route_add("route add -net 10.176.1.0/12 gw 10.181.0.1").unwrap();
        assert_eq!(r.destination.to_string(), "10.176.0.0/12");
        assert!(parse_route_add("route add -net 10.176.0.0 gw 10.181.0.1").is_none());
        assert!(parse_route_add("route add -net 10.176.0.0 netmask 255.240.0.0").is_none());
        assert!(parse_route_add("route add -net x netmask 255.0.0.0 gw 1.2.3.4").is_none());
        assert!(parse_route_add("route add gw").is_none());
    }

    #[test]
    fn bond_values_map_to_systemd() {
        let opts: BTreeMap<String, Vec<String>> = [
            ("bond-mode", "4"),
            ("bond-miimon", "100"),
            ("bond-lacp-rate", "1"),
            ("bond-xmit-hash-policy", "layer3+4"),
            ("bond-updelay", "200"),
            ("bond-downdelay", "0"),
            ("bond-primary", "eth1"),
            ("bond-frobnicate", "yes"),
            ("bond-slaves", "eth1 eth2"),
            ("address", "x"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.split(' ').map(str::to_string).collect()))
        .collect();
        let BondSettings { options, primary } = bond_options("bond0", &opts).unwrap();
        let text: Vec<String> = options.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            text,
            vec![
                "DownDelaySec=0ms",
                "LACPTransmitRate=fast",
                "MIIMonitorSec=100ms",
                "Mode=802.3ad",
                "TransmitHashPolicy=layer3+4",
                "UpDelaySec=200ms",
            ]
        );
        assert_eq!(primary.as_deref(), Some("eth1"));
        for (k, v) in [
            ("bond-mode", "7"),
            ("bond-miimon", "fast"),
            ("bond-lacp-rate", "2"),
        ] {
            let opts = BTreeMap::from([(k.to_string(), vec![v.to_string()])]);
            assert!(bond_options("bond0", &opts).is_err(), "{k} {v}");
        }
    }
}
