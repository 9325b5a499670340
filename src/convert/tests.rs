use super::*;

fn convert_text(text: &str) -> Converted {
    convert(text.as_bytes(), &Options::default()).unwrap_or_else(|e| panic!("{e:?}"))
}

fn codes(c: &Converted) -> Vec<(&'static str, usize, usize)> {
    c.findings
        .iter()
        .map(|f| (f.code, f.pos.line, f.pos.col))
        .collect()
}

fn file<'c>(c: &'c Converted, path: &str) -> &'c File {
    c.config
        .files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{path} not in {:?}", c.config.files))
}

#[test]
fn a_document_with_errors_is_refused_with_the_validators_report() {
    let Err(Refused::Invalid(report)) = convert(
        b"#cloud-config\nwrite_files:\n  - path: relative\n",
        &Options::default(),
    ) else {
        panic!("converted")
    };
    assert_eq!(report.findings[0].pos, Pos::new(3, 11));
}

#[test]
fn owners_modes_and_paths() {
    let c = convert_text("#cloud-config\nwrite_files:\n  - path: /a\n    owner: app:docker\n  - path: /b\n    owner: \"500:233\"\n    permissions: \"0600\"\n  - path: /c\n    owner: \":docker\"\n  - path: /d\n    owner: deploy\n  - path: /e/./f/../g\n    owner: deploy.wheel\n");
    let owners = |p: &str| {
        let f = file(&c, p);
        (f.user.clone(), f.group.clone(), f.mode)
    };
    let name = |s: &str| Some(Owner::Name(s.into()));
    assert_eq!(owners("/a"), (name("app"), name("docker"), 0o644));
    assert_eq!(
        owners("/b"),
        (Some(Owner::Id(500)), Some(Owner::Id(233)), 0o600)
    );
    assert_eq!(owners("/c"), (None, name("docker"), 0o644));
    assert_eq!(owners("/d"), (name("deploy"), None, 0o644));
    assert_eq!(owners("/e/g"), (name("deploy"), name("wheel"), 0o644));
    assert!(c.findings.is_empty(), "{:?}", c.findings);
}

#[test]
fn login_group_owner_is_reported() {
    let c = convert_text("#cloud-config\nwrite_files:\n  - path: /a\n    owner: \"deploy:\"\n");
    assert_eq!(codes(&c), vec![("convert-owner", 4, 5)]);
    assert_eq!(file(&c, "/a").group, None);
}

#[test]
fn special_mode_bits_need_spec_3_4() {
    let text = "#cloud-config\nwrite_files:\n  - path: /t\n    permissions: \"4755\"\n";
    let c = convert_text(text);
    assert_eq!(file(&c, "/t").mode, 0o755);
    assert_eq!(codes(&c), vec![("convert-mode", 4, 5)]);
    let c = convert(
        text.as_bytes(),
        &Options {
            spec: Some(Spec::V3_4),
            platform: None,
        },
    )
    .unwrap();
    assert_eq!(file(&c, "/t").mode, 0o4755);
    assert!(c.findings.is_empty());
    assert!(ignition::to_json(&c).contains("\"version\": \"3.4.0\""));
}

#[test]
fn a_path_written_twice_is_one_entry_with_the_last_content() {
    let c = convert_text("#cloud-config\nwrite_files:\n  - path: /a\n    content: one\n  - path: /a\n    content: two\n");
    assert_eq!(c.config.files.len(), 1);
    assert_eq!(c.config.files[0].contents, b"two");
}

#[test]
fn units_network_units_masks_and_commands() {
    let c = convert_text("#cloud-config\ncoreos:\n  units:\n    - name: a.service\n      enable: true\n      content: \"[Service]\\nExecStart=/bin/true\\n\"\n      drop_ins:\n        - name: 1.conf\n          content: \"[Unit]\\n\"\n    - name: b.service\n      command: start\n      content: \"[Service]\\nExecStart=/bin/true\\n[Install]\\nWantedBy=multi-user.target\\n\"\n    - name: c.service\n      command: start\n      content: \"[Service]\\nExecStart=/bin/true\\n\"\n    - name: d.service\n      mask: true\n    - name: e.network\n      content: \"[Match]\\nName=e*\\n\"\n    - name: f.network\n      mask: true\n");
    let unit = |n: &str| c.config.units.iter().find(|u| u.name == n).cloned();
    let a = unit("a.service").unwrap();
    assert!(a.enabled);
    assert_eq!(
        a.dropins,
        vec![("1.conf".to_string(), "[Unit]\n".to_string())]
    );
    assert!(unit("b.service").unwrap().enabled);
    assert!(!unit("c.service").unwrap().enabled);
    assert!(unit("d.service").unwrap().mask);
    assert!(unit("e.network").is_none());
    assert_eq!(
        file(&c, "/etc/systemd/network/e.network").contents,
        b"[Match]\nName=e*\n"
    );
    assert_eq!(
        c.config.links,
        vec![Link {
            path: "/etc/systemd/network/f.network".into(),
            target: "/dev/null".into()
        }]
    );
    assert_eq!(
        codes(&c),
        vec![("convert-command", 11, 7), ("convert-command", 14, 7)]
    );
    assert!(c.findings[0].message.contains("every boot"));
    assert!(c.findings[1].message.contains("no [Install]"));
}

#[test]
fn generated_restarts_are_not_findings_but_update_conf_is() {
    let c = convert_text(
        "#cloud-config\ncoreos:\n  update:\n    group: beta\n    reboot_strategy: \"off\"\n",
    );
    assert_eq!(
        file(&c, "/etc/coreos/update.conf").contents,
        b"GROUP=beta\nREBOOT_STRATEGY=off\n"
    );
    assert!(c
        .config
        .units
        .iter()
        .any(|u| u.name == "locksmithd.service" && u.mask));
    assert_eq!(codes(&c), vec![("convert-update-conf", 3, 3)]);
}

#[test]
fn substitution_takes_the_platforms_metadata_in_exec_lines_only() {
    let text = "#cloud-config\nwrite_files:\n  - path: /etc/motd\n    content: 'at $public_ipv4, not \\$private_ipv4'\ncoreos:\n  units:\n    - name: a.service\n      content: |\n        [Service]\n        Environment=A=$private_ipv4\n        ExecStart=/bin/echo $private_ipv4 $private_ipv6\n";
    let c = convert_text(text);
    assert_eq!(
        file(&c, "/etc/motd").contents,
        b"at $public_ipv4, not $private_ipv4"
    );
    let subs: Vec<_> = codes(&c);
    assert_eq!(
        subs,
        vec![
            ("convert-substitution", 4, 18),
            ("convert-substitution", 10, 23)
        ]
    );
    let c = convert(
        text.as_bytes(),
        &Options {
            spec: None,
            platform: Platform::by_name("aws"),
        },
    )
    .unwrap();
    let unit = &c.config.units[0];
    assert_eq!(
        unit.contents.as_deref(),
        Some("[Service]\nEnvironment=A=$private_ipv4\nExecStart=/bin/echo ${COREOS_EC2_IPV4_LOCAL} $private_ipv6\n")
    );
    assert_eq!(unit.dropins[0].0, METADATA_DROPIN);
    assert!(unit.dropins[0]
        .1
        .contains("EnvironmentFile=/run/metadata/flatcar"));
    let found: Vec<&str> = c.findings.iter().map(|f| f.code).collect();
    assert_eq!(
        found,
        vec![
            "convert-substitution",
            "convert-metadata",
            "convert-substitution"
        ]
    );
    assert!(c.findings[2]
        .message
        .contains("$private_ipv4, $private_ipv6"));
}

#[test]
fn users_core_keys_and_imports() {
    let c = convert_text("#cloud-config\nssh_authorized_keys: [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBeDVRlfwTCxjtbNPzSD3BN2iK7132OSIJdGuLe1iSVd a\"]\nusers:\n  - name: core\n    groups: [docker]\n  - name: bob\n    gecos: Bob\n    no_create_home: true\n    coreos-ssh-import-github: bob\n");
    let core = &c.config.users[0];
    assert_eq!(core.name, "core");
    assert_eq!(core.ssh_authorized_keys.len(), 1);
    assert_eq!(core.groups, vec!["docker"]);
    let bob = &c.config.users[1];
    assert_eq!(
        (bob.gecos.as_deref(), bob.no_create_home),
        (Some("Bob"), true)
    );
    assert_eq!(
        codes(&c),
        vec![("convert-groups", 5, 5), ("convert-ssh-import", 9, 5)]
    );
}

#[test]
fn multipart_findings_sit_at_the_documents_lines() {
    let doc = "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/cloud-config\n\n#cloud-config\nwrite_files:\n  - path: /x\n    permissions: \"1777\"\n--b\nContent-Type: text/x-shellscript\n\n#!/bin/sh\necho hi\n--b--\n";
    let c = convert_text(doc);
    assert_eq!(
        codes(&c),
        vec![("convert-mode", 9, 5), ("convert-script", 13, 1)]
    );
    let script = c
        .config
        .files
        .iter()
        .find(|f| {
            f.path
                .starts_with("/var/lib/coreos-cloudinit/scripts/script-")
        })
        .unwrap();
    assert_eq!(
        (script.mode, &script.contents[..]),
        (0o744, &b"#!/bin/sh\necho hi"[..])
    );
    let unit = c
        .config
        .units
        .iter()
        .find(|u| u.name.starts_with("coreos-cloudinit-script-"))
        .unwrap();
    assert!(unit.enabled);
    assert!(unit
        .contents
        .as_deref()
        .unwrap()
        .contains(&format!("ExecStart={}\n", script.path)));
}

/// The Butane output, read back, says what the Ignition config says, for every test config.
#[test]
fn butane_reads_back_as_the_ignition_config() {
    use crate::config::yaml::{self, Document, NodeId, NodeKind};
    fn get(doc: &Document, map: NodeId, key: &str) -> Option<NodeId> {
        let NodeKind::Map(entries) = &doc.node(map).kind else {
            return None;
        };
        entries.iter().find_map(|(k, v)| match &doc.node(*k).kind {
            NodeKind::Scalar { value, .. } if value == key => Some(*v),
            _ => None,
        })
    }
    fn scalar(doc: &Document, id: NodeId) -> String {
        match &doc.node(id).kind {
            NodeKind::Scalar { value, .. } => value.clone(),
            k => panic!("{k:?}"),
        }
    }
    fn items(doc: &Document, id: Option<NodeId>) -> Vec<NodeId> {
        match id.map(|i| &doc.node(i).kind) {
            Some(NodeKind::Seq(items)) => items.clone(),
            _ => Vec::new(),
        }
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/convert");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        let c = convert(&data, &Options::default()).unwrap();
        let text = butane::to_yaml(&c);
        let doc = yaml::parse(&text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
        let root = doc.root.unwrap();
        assert_eq!(scalar(&doc, get(&doc, root, "variant").unwrap()), "flatcar");
        let storage = get(&doc, root, "storage");
        let files = items(&doc, storage.and_then(|s| get(&doc, s, "files")));
        assert_eq!(files.len(), c.config.files.len());
        for (node, f) in files.iter().zip(&c.config.files) {
            assert_eq!(scalar(&doc, get(&doc, *node, "path").unwrap()), f.path);
            let mode: u32 = scalar(&doc, get(&doc, *node, "mode").unwrap())
                .parse()
                .unwrap();
            assert_eq!(mode, f.mode);
            let contents = get(&doc, *node, "contents").unwrap();
            let body = match get(&doc, contents, "inline") {
                Some(i) => scalar(&doc, i).into_bytes(),
                None => {
                    let url = scalar(&doc, get(&doc, contents, "source").unwrap());
                    let b64 = url.strip_prefix("data:;base64,").unwrap();
                    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).unwrap()
                }
            };
            assert_eq!(body, f.contents, "{}", f.path);
        }
        let systemd = get(&doc, root, "systemd");
        let units = items(&doc, systemd.and_then(|s| get(&doc, s, "units")));
        assert_eq!(units.len(), c.config.units.len());
        for (node, u) in units.iter().zip(&c.config.units) {
            assert_eq!(scalar(&doc, get(&doc, *node, "name").unwrap()), u.name);
            let contents = get(&doc, *node, "contents").map(|n| scalar(&doc, n));
            assert_eq!(contents, u.contents);
            let dropins = items(&doc, get(&doc, *node, "dropins"));
            for (d, (name, text)) in dropins.iter().zip(&u.dropins) {
                assert_eq!(&scalar(&doc, get(&doc, *d, "name").unwrap()), name);
                assert_eq!(&scalar(&doc, get(&doc, *d, "contents").unwrap()), text);
            }
        }
        let passwd = get(&doc, root, "passwd");
        let users = items(&doc, passwd.and_then(|p| get(&doc, p, "users")));
        assert_eq!(users.len(), c.config.users.len());
        checked += 1;
    }
    assert!(checked >= 15, "{checked}");
}
