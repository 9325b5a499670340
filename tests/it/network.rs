//! `--convert-netconf` output checked byte for byte against `testdata/network/*/` (the
//! reference's §6.2 and §6.3 examples plus kindling's fixes), and its error cases.

// Each case directory holds the input, the expected units, and ORDER (the expected sequence).

use std::collections::BTreeMap;
use std::path::PathBuf;

use kindling::metadata::NetworkConfig;
use kindling::network::{convert, from_debian, from_vmware, NetworkError, NetworkUnit};
use proptest::prelude::*;

use crate::common;

fn case_dir(name: &str) -> PathBuf {
    common::repo("testdata/network").join(name)
}

fn assert_matches_case(units: &[NetworkUnit], case: &str) {
    let dir = case_dir(case);
    let order = std::fs::read_to_string(dir.join("ORDER")).unwrap();
    let names: Vec<&str> = units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(
        names,
        order.lines().collect::<Vec<_>>(),
        "unit order for {case}"
    );
    for unit in units {
        let expected = std::fs::read_to_string(dir.join(&unit.name)).unwrap();
        assert_eq!(unit.content, expected, "{case}/{}", unit.name);
    }
}

fn guestinfo(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn debian_reference_example_with_systemd_bond_keys() {
    let input = std::fs::read(case_dir("debian-reference").join("interfaces")).unwrap();
    assert_matches_case(&from_debian(&input).unwrap(), "debian-reference");
}

#[test]
fn debian_vlan_parent_from_name_and_all_bond_options() {
    let input = std::fs::read(case_dir("debian-fixes").join("interfaces")).unwrap();
    assert_matches_case(&from_debian(&input).unwrap(), "debian-fixes");
}

#[test]
fn vmware_reference_example_with_mac_file_name() {
    let input = std::fs::read_to_string(case_dir("vmware-reference").join("guestinfo")).unwrap();
    assert_matches_case(
        &from_vmware(&guestinfo(&input)).unwrap(),
        "vmware-reference",
    );
}

#[test]
fn convert_dispatches_on_kind_and_refuses_missing_config() {
    let input = std::fs::read(case_dir("debian-reference").join("interfaces")).unwrap();
    let units = convert("debian", Some(&NetworkConfig::Debian(input))).unwrap();
    assert_matches_case(&units, "debian-reference");
    let vmware = NetworkConfig::Vmware(map(&[
        ("interface.0.name", "eth0"),
        ("interface.0.dhcp", "yes"),
    ]));
    assert_eq!(convert("vmware", Some(&vmware)).unwrap().len(), 1);
    for (kind, config) in [
        ("debian", None),
        ("vmware", None),
        ("debian", Some(&vmware)),
        ("vmware", Some(&NetworkConfig::Debian(Vec::new()))),
        ("debian", Some(&NetworkConfig::Other("{}".into()))),
    ] {
        assert_eq!(
            convert(kind, config).unwrap_err().to_string(),
            format!("the datasource has no network config for --convert-netconf={kind}")
        );
    }
}

#[test]
fn debian_empty_and_comment_only_configs_give_no_units() {
    assert_eq!(from_debian(b"").unwrap(), vec![]);
    assert_eq!(from_debian(b"# nothing\n\n").unwrap(), vec![]);
    assert_eq!(
        from_debian(b"auto lo\niface lo inet loopback\n").unwrap(),
        vec![]
    );
}

#[test]
fn debian_dhcp_manual_and_undeclared_slaves() {
    let units = from_debian(b"iface bond0 inet manual\n  bond-slaves eth1\n").unwrap();
    let names: Vec<_> = units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(
        names,
        ["00-bond0.netdev", "00-bond0.network", "01-eth1.network"]
    );
    assert_eq!(
        units[0].content,
        "[NetDev]\nKind=bond\nName=bond0\n\n[Bond]\n"
    );
    assert_eq!(units[1].content, "[Match]\nName=bond0\n\n[Network]\n");
    assert_eq!(
        units[2].content,
        "[Match]\nName=eth1\n\n[Network]\nBond=bond0\n"
    );
}

#[test]
fn debian_later_stanza_replaces_earlier_and_cidr_addresses_work() {
    let units = from_debian(
        b"iface eth0 inet dhcp\niface eth0 inet static\n address 10.1.2.3/16\n gateway 10.1.0.1\n",
    )
    .unwrap();
    assert_eq!(units.len(), 1);
    assert_eq!(
        units[0].content,
        "[Match]\nName=eth0\n\n[Network]\n\n[Address]\nAddress=10.1.2.3/16\n\n[Route]\nDestination=0.0.0.0/0\nGateway=10.1.0.1\n"
    );
    let v6 = from_debian(
        b"iface eth0 inet6 static\n address 2001:db8::5\n netmask 64\n gateway 2001:db8::1\n",
    )
    .unwrap();
    assert!(v6[0].content.contains("Address=2001:db8::5/64\n"));
    assert!(v6[0]
        .content
        .contains("Destination=::/0\nGateway=2001:db8::1\n"));
}

#[test]
fn debian_stacked_depths() {
    // eth0 <- bond0 <- bond0.10: three layers, deepest parent sorts last.
    let units =
        from_debian(b"iface bond0 inet manual\n bond-slaves eth0\niface bond0.10 inet dhcp\n")
            .unwrap();
    let names: Vec<_> = units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "01-bond0.netdev",
            "01-bond0.network",
            "00-bond0.10.netdev",
            "00-bond0.10.network",
            "02-eth0.network"
        ]
    );
}

fn debian_err(text: &str) -> NetworkError {
    from_debian(text.as_bytes()).unwrap_err()
}

#[test]
fn debian_reference_error_cases() {
    let cases: &[(&str, &str)] = &[
        ("address 10.0.0.1\n", "missing stanza start \"address 10.0.0.1\""),
        ("mapping eth0\n script x\n", "unknown stanza \"mapping\""),
        ("allow-hotplug eth0\n", "unknown stanza \"allow-hotplug\""),
        ("iface eth0 inet\n", "incorrect number of attributes"),
        ("iface eth0 inet static extra\n", "incorrect number of attributes"),
        ("iface eth0 inet static\n address 10.0.0.1\n", "malformed static network config for \"eth0\""),
        ("iface eth0 inet static\n netmask 255.0.0.0\n", "malformed static network config for \"eth0\""),
        ("iface eth0 inet static\n address x\n netmask 255.0.0.0\n", "malformed static network config for \"eth0\""),
        ("iface eth0 inet static\n address 10.0.0.1\n netmask 255.0.255.0\n", "malformed static network config"),
        ("iface eth0 inet static\n address 10.0.0.1\n netmask 255.0.0.0\n gateway nope\n", "invalid gateway"),
        ("iface eth0 inet static\n address 10.0.0.1\n netmask 255.0.0.0\n dns-nameservers 8.8.8.8 x\n", "invalid nameserver: \"x\""),
        ("iface eth0 inet dhcp\n hwaddress ether 00:11\n", "malformed hwaddress option for \"eth0\""),
        ("iface eth0 inet ppp\n", "invalid config method \"ppp\""),
        ("iface eth0.x inet dhcp\n", "malformed vlan name \"eth0.x\""),
        ("iface eth0.4095 inet dhcp\n", "malformed vlan name"),
        ("iface foo inet dhcp\n vlan_raw_device eth0\n", "malformed vlan name \"foo\""),
        ("iface auto\n", "incorrect number of attributes"),
        ("iface\n", "malformed stanza start"),
    ];
    for (input, want) in cases {
        let got = debian_err(input).to_string();
        assert!(got.contains(want), "{input:?}: got {got:?}, want {want:?}");
    }
}

#[test]
fn debian_errors_the_reference_did_not_catch() {
    // A bond that is its own slave recursed forever in the reference.
    assert!(matches!(
        debian_err("iface bond0 inet manual\n bond-slaves bond0\n"),
        NetworkError::Cycle { .. }
    ));
    assert!(matches!(
        debian_err("iface bond0 inet manual\n bond-slaves bond1\niface bond1 inet manual\n bond-slaves bond0\n"),
        NetworkError::Cycle { .. }
    ));
    // Names become file names.
    for input in [
        "iface ../../etc/x inet dhcp\n",
        "iface bond0 inet manual\n bond-slaves ../x\n",
        "iface a:b inet dhcp\n",
        "iface averyveryverylongname inet dhcp\n",
    ] {
        assert!(
            matches!(debian_err(input), NetworkError::InvalidInterfaceName { .. }),
            "{input:?}"
        );
    }
    for (input, want) in [
        (
            "iface bond0 inet manual\n bond-slaves eth0\n bond-mode 9\n",
            "invalid bond-mode \"9\" for bond \"bond0\"",
        ),
        (
            "iface bond0 inet manual\n bond-slaves eth0\n bond-miimon 1s\n",
            "invalid bond-miimon",
        ),
        (
            "iface bond0 inet manual\n bond-slaves eth0\n bond-lacp-rate 3\n",
            "invalid bond-lacp-rate",
        ),
    ] {
        assert!(debian_err(input).to_string().contains(want), "{input:?}");
    }
    assert_eq!(from_debian(&[0xff, 0xfe]), Err(NetworkError::NotText));
    assert_eq!(
        from_debian(&vec![b'#'; kindling::network::MAX_INPUT + 1]),
        Err(NetworkError::TooLarge)
    );
}

#[test]
fn vmware_reference_error_cases() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("dns.server.0", "dns.example")],
            "invalid nameserver: \"dns.example\"",
        ),
        (
            &[("interface.0.name", "eth0"), ("interface.0.dhcp", "maybe")],
            "invalid DHCP option: \"maybe\"",
        ),
        (
            &[
                ("interface.0.name", "eth0"),
                ("interface.0.ip.0.address", "10.0.0.1"),
            ],
            "invalid address: \"10.0.0.1\"",
        ),
        (
            &[
                ("interface.0.name", "eth0"),
                ("interface.0.route.0.gateway", "10.0.0.1"),
            ],
            "missing destination key",
        ),
        (
            &[
                ("interface.0.name", "eth0"),
                ("interface.0.route.0.destination", "0.0.0.0/0"),
            ],
            "missing gateway key",
        ),
        (
            &[
                ("interface.0.name", "eth0"),
                ("interface.0.route.0.gateway", "x"),
                ("interface.0.route.0.destination", "0.0.0.0/0"),
            ],
            "invalid gateway: \"x\"",
        ),
        (
            &[
                ("interface.0.name", "eth0"),
                ("interface.0.route.0.gateway", "10.0.0.1"),
                ("interface.0.route.0.destination", "0.0.0.0"),
            ],
            "invalid route destination",
        ),
        (
            &[("interface.0.mac", "00:50:56"), ("interface.0.dhcp", "yes")],
            "error while parsing MAC address",
        ),
    ];
    for (pairs, want) in cases {
        let got = from_vmware(&map(pairs)).unwrap_err().to_string();
        assert!(got.contains(want), "{pairs:?}: got {got:?}, want {want:?}");
    }
}

#[test]
fn vmware_interfaces_that_would_share_a_unit_are_an_error() {
    // Found by the vmware_network fuzz target: the second eth0 replaced the first's unit.
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[
                ("interface.0.name", "eth0"),
                ("interface.0.dhcp", "yes"),
                ("interface.1.name", "eth0"),
                ("interface.1.ip.0.address", "10.0.0.2/24"),
            ],
            "interface.1 would be written to 00-eth0.network, as interface.0 is",
        ),
        (
            &[
                ("interface.0.mac", "00:50:56:aa:bb:cc"),
                ("interface.0.dhcp", "yes"),
                ("interface.1.name", "eth1"),
                ("interface.1.dhcp", "yes"),
                ("interface.2.mac", "00:50:56:AA:BB:CC"),
                ("interface.2.dhcp", "yes"),
            ],
            "interface.2 would be written to 00-00:50:56:aa:bb:cc.network, as interface.0 is",
        ),
        (
            &[("interface.0.dhcp", "yes"), ("interface.1.dhcp", "yes")],
            "interface.1 would be written to 00-.network, as interface.0 is",
        ),
    ];
    for (pairs, want) in cases {
        let got = from_vmware(&map(pairs)).unwrap_err().to_string();
        assert!(got.contains(want), "{pairs:?}: got {got:?}, want {want:?}");
    }
    let kept = std::fs::read(common::repo(
        "fuzz/regressions/vmware_network/crash-31f5b755837b4f8443a5ba097322bf7a670a86a2",
    ))
    .unwrap();
    assert!(matches!(
        from_vmware(&guestinfo(&String::from_utf8_lossy(&kept))),
        Err(NetworkError::DuplicateInterface { .. })
    ));
}

#[test]
fn issue8_vmware_interface_without_name_or_mac_is_written_as_the_reference() {
    // reference.md §6.1: with neither name nor MAC the file is `00-`, with an empty [Match].
    let units = from_vmware(&map(&[("interface.0.dhcp", "yes")])).unwrap();
    assert_eq!(
        units,
        vec![NetworkUnit {
            name: "00-.network".into(),
            content: "[Match]\n\n[Network]\nDHCP=true\nKeepConfiguration=dhcp-on-stop\nIPv6AcceptRA=true\n"
                .into(),
        }]
    );
    let units = from_vmware(&map(&[
        ("interface.0.ip.0.address", "10.0.0.2/24"),
        ("dns.server.0", "10.0.0.1"),
    ]))
    .unwrap();
    assert_eq!(
        units,
        vec![NetworkUnit {
            name: "00-.network".into(),
            content: "[Match]\n\n[Network]\nDNS=10.0.0.1\n\n[Address]\nAddress=10.0.0.2/24\n"
                .into(),
        }]
    );
}

#[test]
fn issue8_vmware_units_named_after_a_mac_keep_the_colons() {
    let units = from_vmware(&map(&[
        ("interface.0.mac", "00:00:11:22:33:44"),
        ("interface.0.dhcp", "yes"),
        ("interface.1.mac", "00-50-56-AA-BB-DD"),
        ("interface.1.ip.0.address", "10.0.0.2/24"),
    ]))
    .unwrap();
    let names: Vec<&str> = units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "00-00:00:11:22:33:44.network",
            "00-00:50:56:aa:bb:dd.network"
        ]
    );
}

#[test]
fn vmware_unsafe_names_and_domains_are_errors() {
    let e = from_vmware(&map(&[
        ("interface.0.name", "../x"),
        ("interface.0.dhcp", "yes"),
    ]))
    .unwrap_err();
    assert!(matches!(e, NetworkError::InvalidInterfaceName { .. }));
    let e = from_vmware(&map(&[
        ("dns.domain.0", "a.example\n[Network]"),
        ("interface.0.name", "eth0"),
        ("interface.0.dhcp", "yes"),
    ]))
    .unwrap_err();
    assert!(matches!(e, NetworkError::InvalidDomain { .. }));
}

#[test]
fn vmware_route_destination_is_the_network_and_v6_works() {
    let units = from_vmware(&map(&[
        ("interface.0.name", "ens192"),
        ("interface.0.ip.0.address", "2001:db8::10/64"),
        ("interface.0.route.0.gateway", "2001:db8::1"),
        ("interface.0.route.0.destination", "10.1.2.3/8"),
    ]))
    .unwrap();
    assert_eq!(
        units[0].content,
        "[Match]\nName=ens192\n\n[Network]\n\n[Address]\nAddress=2001:db8::10/64\n\n[Route]\nDestination=10.0.0.0/8\nGateway=2001:db8::1\n"
    );
    assert_eq!(from_vmware(&BTreeMap::new()).unwrap(), vec![]);
}

proptest! {
    #[test]
    fn debian_never_panics(input in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = from_debian(&input);
    }

    #[test]
    fn debian_never_panics_on_plausible_text(
        lines in proptest::collection::vec(
            prop_oneof![
                Just("auto eth0".to_string()),
                "iface [a-z0-9.]{1,8} inet (static|dhcp|manual|loopback)",
                "(address|netmask|gateway) [0-9./:]{1,18}",
                "bond-(slaves|mode|miimon|lacp-rate|primary) [a-z0-9. ]{0,12}",
                "vlan[_-]raw[_-]device [a-z0-9.]{1,8}",
                "post-up route add -net [0-9./]{1,18} netmask [0-9.]{1,15} gw [0-9.]{1,15}",
                "hwaddress ether [0-9a-f:]{0,17}",
            ],
            0..12,
        )
    ) {
        let _ = from_debian(lines.join("\n").as_bytes());
    }

    #[test]
    fn vmware_never_panics(
        pairs in proptest::collection::btree_map(
            "(dns\\.(server|domain)|interface\\.[0-2]\\.(name|mac|dhcp|ip\\.[0-1]\\.address|route\\.[0-1]\\.(gateway|destination)))",
            "[a-z0-9.:/ ]{0,20}",
            0..12,
        )
    ) {
        let _ = from_vmware(&pairs);
    }
}
