//! `--convert-netconf`: a datasource's network config (Debian `interfaces` text from a config
//! drive, or VMware's guestinfo map) turned into systemd-networkd `.netdev`/`.network` units.

// Rendering follows the reference byte for byte (reference.md §6), except where it produced
// units networkd would misread: bond options use systemd's `[Bond]` keys, a VLAN named
// `eth0.10` is attached to `eth0`, and no unit name contains `:` or matches every link.

mod debian;
mod interface;
mod vmware;

use crate::metadata::NetworkConfig;

pub use debian::from_debian;
pub use interface::parse_cidr;
pub use vmware::from_vmware;

/// One unit file for `/run/systemd/network/`: its file name and exact content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkUnit {
    pub name: String,
    pub content: String,
}

/// Debian `interfaces` input larger than this is refused; real ones are a few hundred bytes.
pub const MAX_INPUT: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    #[error("the datasource has no network config for --convert-netconf={kind}")]
    NoConfig { kind: String },
    #[error("unknown network config kind {kind:?} (expected debian or vmware)")]
    UnknownKind { kind: String },
    #[error("network config is larger than the limit of {MAX_INPUT} bytes")]
    TooLarge,
    #[error("network config is not UTF-8 text")]
    NotText,
    #[error("missing stanza start {line:?}")]
    MissingStanzaStart { line: String },
    #[error("malformed stanza start {line:?}")]
    MalformedStanza { line: String },
    #[error("unknown stanza {kind:?} (only auto and iface are supported)")]
    UnknownStanza { kind: String },
    #[error("incorrect number of attributes in {line:?} (expected iface NAME FAMILY METHOD)")]
    IncorrectAttributes { line: String },
    #[error("malformed static network config for {iface:?}: {reason}")]
    MalformedStatic { iface: String, reason: String },
    #[error("malformed hwaddress option for {iface:?}")]
    MalformedHwaddress { iface: String },
    #[error("invalid config method {method:?} for {iface:?} (expected static, dhcp, manual or loopback)")]
    InvalidMethod { iface: String, method: String },
    #[error("malformed vlan name {name:?} (expected NAME.ID or vlanID, ID from 0 to 4094)")]
    MalformedVlanName { name: String },
    #[error("invalid {option} {value:?} for bond {iface:?} (expected {expected})")]
    InvalidBondOption {
        iface: String,
        option: String,
        value: String,
        expected: &'static str,
    },
    #[error("invalid interface name {name:?} (1 to 15 bytes, no '/', ':' or blanks, not . or ..)")]
    InvalidInterfaceName { name: String },
    #[error("interface {name:?} is its own parent through bond-slaves or a VLAN")]
    Cycle { name: String },
    #[error("invalid nameserver: {value:?}")]
    InvalidNameserver { value: String },
    #[error("invalid search domain: {value:?}")]
    InvalidDomain { value: String },
    #[error("invalid address: {value:?} (expected ADDRESS/PREFIX)")]
    InvalidAddress { value: String },
    #[error("invalid gateway: {value:?}")]
    InvalidGateway { value: String },
    #[error("invalid route destination: {value:?} (expected NETWORK/PREFIX)")]
    InvalidDestination { value: String },
    #[error("missing destination key {key}")]
    MissingDestination { key: String },
    #[error("missing gateway key {key}")]
    MissingGateway { key: String },
    #[error("invalid DHCP option: {value:?} (expected yes or no)")]
    InvalidDhcp { value: String },
    #[error("error while parsing MAC address: invalid MAC address {value:?}")]
    InvalidMac { value: String },
    #[error("interface.{index} would be written to {unit}, as interface.{first} is (expected a name or MAC of its own for each interface)")]
    DuplicateInterface {
        index: usize,
        first: usize,
        unit: String,
    },
}

/// `--convert-netconf=KIND` on what the datasource returned: `debian` needs config-drive bytes,
/// `vmware` the guestinfo map. Anything else is an error, never a crash.
pub fn convert(
    kind: &str,
    config: Option<&NetworkConfig>,
) -> Result<Vec<NetworkUnit>, NetworkError> {
    match (kind, config) {
        ("debian", Some(NetworkConfig::Debian(bytes))) => from_debian(bytes),
        ("vmware", Some(NetworkConfig::Vmware(map))) => from_vmware(map),
        ("debian" | "vmware", _) => Err(NetworkError::NoConfig {
            kind: kind.to_string(),
        }),
        _ => Err(NetworkError::UnknownKind {
            kind: kind.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn convert_needs_the_matching_config() {
        let debian = NetworkConfig::Debian(b"iface eth0 inet dhcp\n".to_vec());
        assert_eq!(convert("debian", Some(&debian)).map(|u| u.len()), Ok(1));
        for (kind, config) in [
            ("debian", None),
            ("vmware", Some(&debian)),
            ("debian", Some(&NetworkConfig::Other("{}".into()))),
        ] {
            let e = convert(kind, config).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("the datasource has no network config for --convert-netconf={kind}")
            );
        }
        assert!(matches!(
            convert("packet", Some(&debian)),
            Err(NetworkError::UnknownKind { .. })
        ));
    }
}
