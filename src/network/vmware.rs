//! VMware guestinfo's flat map (`dns.server.N`, `interface.N.*`) as the reference reads it
//! (reference.md §6.3): one physical interface per index, until the first unconfigured one.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::network::interface::{
    check_interface_name, network_of, parse_cidr, parse_mac, render, Interface, Kind, Method,
    Prefix, Route, Static,
};
use crate::network::{NetworkError, NetworkUnit};

/// Indexes stop here whatever the map holds; the reference stops at the first gap anyway.
const MAX_INDEX: usize = 1024;

pub fn from_vmware(config: &BTreeMap<String, String>) -> Result<Vec<NetworkUnit>, NetworkError> {
    // An empty value counts as absent: the datasource never stores one.
    let get = |key: String| {
        config
            .get(&key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let mut nameservers: Vec<IpAddr> = Vec::new();
    for i in 0..MAX_INDEX {
        let Some(s) = get(format!("dns.server.{i}")) else {
            break;
        };
        nameservers.push(s.parse().map_err(|_| NetworkError::InvalidNameserver {
            value: s.to_string(),
        })?);
    }
    let mut domains: Vec<String> = Vec::new();
    for i in 0..MAX_INDEX {
        let Some(d) = get(format!("dns.domain.{i}")) else {
            break;
        };
        // One line per setting in the unit: a blank or control character would split it.
        if d.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(NetworkError::InvalidDomain {
                value: d.to_string(),
            });
        }
        domains.push(d.to_string());
    }
    let mut interfaces = Vec::new();
    for i in 0..MAX_INDEX {
        let prefix = format!("interface.{i}.");
        let dhcp = match get(format!("{prefix}dhcp")) {
            None | Some("no") => false,
            Some("yes") => true,
            Some(other) => {
                return Err(NetworkError::InvalidDhcp {
                    value: other.to_string(),
                })
            }
        };
        let mut addresses = Vec::new();
        for a in 0..MAX_INDEX {
            let Some(s) = get(format!("{prefix}ip.{a}.address")) else {
                break;
            };
            let (ip, len) = parse_cidr(s).ok_or_else(|| NetworkError::InvalidAddress {
                value: s.to_string(),
            })?;
            addresses.push(Prefix { ip, len });
        }
        let mut routes = Vec::new();
        for r in 0..MAX_INDEX {
            let gw_key = format!("{prefix}route.{r}.gateway");
            let dst_key = format!("{prefix}route.{r}.destination");
            let (gateway, destination) = match (get(gw_key.clone()), get(dst_key.clone())) {
                (None, None) => break,
                (Some(_), None) => return Err(NetworkError::MissingDestination { key: dst_key }),
                (None, Some(_)) => return Err(NetworkError::MissingGateway { key: gw_key }),
                (Some(g), Some(d)) => (g, d),
            };
            let gateway: IpAddr = gateway.parse().map_err(|_| NetworkError::InvalidGateway {
                value: gateway.to_string(),
            })?;
            let (ip, len) =
                parse_cidr(destination).ok_or_else(|| NetworkError::InvalidDestination {
                    value: destination.to_string(),
                })?;
            routes.push(Route {
                destination: Prefix {
                    ip: network_of(ip, len),
                    len,
                },
                gateway,
            });
        }
        let hwaddr = match get(format!("{prefix}mac")) {
            Some(m) => Some(parse_mac(m).ok_or_else(|| NetworkError::InvalidMac {
                value: m.to_string(),
            })?),
            None => None,
        };
        let name = get(format!("{prefix}name")).unwrap_or("");
        if !name.is_empty() {
            check_interface_name(name)?;
        }
        let method = if !addresses.is_empty() || !routes.is_empty() {
            Method::Static(Static {
                hwaddress: hwaddr.clone(),
                addresses,
                nameservers: nameservers.clone(),
                domains: domains.clone(),
                routes,
            })
        } else if dhcp {
            Method::Dhcp {
                hwaddress: hwaddr.clone(),
            }
        } else {
            // As in the reference, an unconfigured index ends the list.
            break;
        };
        if name.is_empty() && hwaddr.is_none() {
            // The reference writes it as `00-.network` with an empty [Match]; networkd then
            // applies it to every link not matched by an earlier file. Kept (decisions.md:
            // follow the reference), but said out loud.
            log::warn!(
                "interface.{i} has neither interface.{i}.name nor interface.{i}.mac: its unit \
                 matches every link, as coreos-cloudinit writes it"
            );
        }
        let mut iface = Interface::new(name, Kind::Physical, method);
        iface.hwaddr = hwaddr;
        // Units are named after the interface (or its MAC): a second interface with the same
        // one would silently replace the first's unit, so that interface would lose its config.
        let stem = iface.file_stem();
        if let Some(first) = interfaces
            .iter()
            .position(|o: &Interface| o.file_stem() == stem)
        {
            return Err(NetworkError::DuplicateInterface {
                index: i,
                first,
                unit: format!("{stem}.network"),
            });
        }
        interfaces.push(iface);
    }
    log::info!("Parsed {} network interfaces", interfaces.len());
    Ok(render(&interfaces))
}
