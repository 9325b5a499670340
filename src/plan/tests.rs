//! Planning against an in-memory machine: order, change detection, and the reference's
//! processUnits and update-unit vectors (reference.md §7.1 vectors 12 and 17).

use std::path::Path;

use super::memory::Memory;
use super::*;
use crate::config;

fn parts(text: &str) -> Vec<Part> {
    let parsed = config::parse(text);
    assert!(parsed.syntax_ok);
    vec![Part::Config {
        label: "part 1".into(),
        config: Box::new(parsed.config),
    }]
}

fn plan_of(text: &str, state: &Memory) -> Plan {
    plan_with(
        &parts(text),
        &Metadata::default(),
        &Addresses::default(),
        state,
    )
}

/// The plan of these parts with this metadata and these addresses, no network units.
fn plan_with(parts: &[Part], metadata: &Metadata, addrs: &Addresses, state: &Memory) -> Plan {
    plan(
        &Inputs {
            parts,
            metadata,
            addrs,
            network: &[],
        },
        state,
        &Options::default(),
    )
}

/// A compact rendering of the steps for assertions.
fn summary(plan: &Plan) -> Vec<String> {
    plan.steps
        .iter()
        .map(|s| {
            let mark = if s.change { "+" } else { "=" };
            let what = match &s.action {
                Action::SetHostname { name } => format!("hostname {name}"),
                Action::CreateUser { user } => format!("useradd {}", user.name),
                Action::UpdateUser { name, .. } => format!("usermod {name}"),
                Action::SshKeys { user, set, keys } => format!("keys {user}/{set} {}", keys.len()),
                Action::ImportSshKeys { user, set, .. } => format!("import {user}/{set}"),
                Action::WriteFile { path, mode, .. } => {
                    format!("write {} {mode:o}", path.display())
                }
                Action::Mask { path, .. } => format!("mask {}", path.display()),
                Action::Unmask { path, .. } => format!("unmask {}", path.display()),
                Action::Enable { unit, runtime } => format!("enable {unit} runtime={runtime}"),
                Action::DaemonReload => "daemon-reload".into(),
                Action::RestartNetworkd => "restart systemd-networkd.service".into(),
                Action::Command { unit, command, .. } => format!("{} {unit}", command.as_str()),
                Action::Script { service, .. } => format!("script {service}"),
                Action::Invalid { what, .. } => format!("invalid {what}"),
            };
            format!("{mark} {what}")
        })
        .collect()
}

#[test]
fn vector_17_process_units() {
    let text = "#cloud-config\ncoreos:\n  units:\n    - name: baz.service\n      content: '[Service]\\nExecStart=/bin/true\\n'\n      command: start\n    - name: foo.network\n      content: '[Match]\\nName=eth0\\n'\n    - name: bar.network\n      content: '[Match]\\nName=eth1\\n'\n    - name: locksmithd.service\n      runtime: true\n    - name: woof.service\n      enable: true\n    - name: x.service\n      drop_ins:\n        - name: 10-a.conf\n";
    let got = summary(&plan_of(text, &Memory::default()));
    assert_eq!(
        got,
        vec![
            "+ write /etc/systemd/system/baz.service 644",
            "+ write /etc/systemd/network/foo.network 644",
            "+ write /etc/systemd/network/bar.network 644",
            "+ enable woof.service runtime=false",
            // A drop-in without content: skipped and a failure (decisions.md), where the
            // reference skipped it silently.
            "+ invalid drop-in \"10-a.conf\" of unit \"x.service\"",
            "+ daemon-reload",
            "+ restart systemd-networkd.service",
            "+ start baz.service",
        ]
    );
}

#[test]
fn vector_12_update_units() {
    let off = summary(&plan_of(
        "#cloud-config\ncoreos:\n  update:\n    reboot_strategy: \"off\"\n",
        &Memory::default(),
    ));
    assert!(
        off.contains(&"+ mask /run/systemd/system/locksmithd.service".to_string()),
        "{off:?}"
    );
    assert!(
        off.contains(&"+ stop locksmithd.service".to_string())
            || off.contains(&"= stop locksmithd.service".to_string())
    );
    let reboot = summary(&plan_of(
        "#cloud-config\ncoreos:\n  update:\n    reboot_strategy: reboot\n",
        &Memory::default(),
    ));
    assert!(
        reboot.contains(&"+ restart locksmithd.service".to_string()),
        "{reboot:?}"
    );
    assert!(reboot.contains(&"+ write /etc/coreos/update.conf 644".to_string()));
    let group = summary(&plan_of(
        "#cloud-config\ncoreos:\n  update:\n    group: beta\n",
        &Memory::default(),
    ));
    assert!(
        group.contains(&"+ restart update-engine.service".to_string()),
        "{group:?}"
    );
}

#[test]
fn order_is_hostname_keys_then_users_files_units() {
    let text = "#cloud-config\nhostname: node-1.example.com\nssh_authorized_keys: [k1]\nmanage_etc_hosts: localhost\nusers:\n  - name: ann\n    ssh_authorized_keys: [k2]\n  - name: core\n    ssh_authorized_keys: [k3, k1]\nwrite_files:\n  - path: /etc/a\n    permissions: '4755'\ncoreos:\n  etcd2:\n    name: n1\n  units:\n    - name: a.service\n      content: x\n      enable: true\n";
    let got = summary(&plan_of(text, &with_core()));
    assert_eq!(
        got,
        vec![
            "+ hostname node-1",
            "+ keys core/coreos-cloudinit 2",
            "+ useradd ann",
            "+ keys ann/coreos-cloudinit 1",
            "= usermod core",
            "+ write /etc/a 4755",
            "+ write /etc/hosts 644",
            "+ write /etc/systemd/system/a.service 644",
            "+ enable a.service runtime=false",
            "+ write /run/systemd/system/etcd2.service.d/20-cloudinit.conf 644",
            "+ daemon-reload",
        ]
    );
}

#[test]
fn nothing_changes_on_a_machine_that_already_matches() {
    let text = "#cloud-config\nhostname: node-1\nwrite_files:\n  - path: /etc/a\n    content: hi\n    owner: root\ncoreos:\n  units:\n    - name: a.service\n      content: x\n      enable: true\n      command: restart\n    - name: b.service\n      command: start\n    - name: m.service\n      mask: true\n";
    let mut m = Memory {
        hostname: Some("node-1".into()),
        ..Default::default()
    };
    m.files.insert("/etc/a".into(), (b"hi".to_vec(), 0o644));
    m.files.insert(
        "/etc/systemd/system/a.service".into(),
        (b"x".to_vec(), 0o644),
    );
    m.links
        .insert("/etc/systemd/system/m.service".into(), "/dev/null".into());
    m.enabled.insert("a.service".into());
    m.active.insert("b.service".into());
    m.done.insert("restart a.service".into());
    let p = plan_of(text, &m);
    assert_eq!(p.changes(), 0, "{:?}", summary(&p));
    // A changed unit file restarts its unit again, even if it already ran this boot.
    m.files.insert(
        "/etc/systemd/system/a.service".into(),
        (b"old".to_vec(), 0o644),
    );
    let got = summary(&plan_of(text, &m));
    assert!(got.contains(&"+ restart a.service".to_string()), "{got:?}");
    assert!(got.contains(&"+ daemon-reload".to_string()));
}

#[test]
fn a_mode_change_alone_is_a_change() {
    let mut m = Memory::default();
    m.files.insert("/etc/a".into(), (b"hi".to_vec(), 0o600));
    let got = summary(&plan_of(
        "#cloud-config\nwrite_files:\n  - path: /etc/a\n    content: hi\n",
        &m,
    ));
    assert_eq!(got, vec!["+ write /etc/a 644"]);
}

#[test]
fn hostnames_take_the_first_label_and_refuse_ip_addresses() {
    assert_eq!(
        hostname_label("regular-name.domain").unwrap(),
        "regular-name"
    );
    assert!(hostname_label("10.0.0.5")
        .unwrap_err()
        .contains("IP address"));
    assert!(hostname_label(&"a".repeat(84)).is_err());
    // The config's invalid hostname is rejected by the parser and skipped as a failure of its
    // part (the metadata's hostname does not stand in); one from metadata is checked here.
    let p = plan_of(
        "#cloud-config\nhostname: \"10.0.0.5\"\n",
        &Memory::default(),
    );
    assert_eq!(summary(&p), vec!["+ invalid hostname"]);
    assert_eq!(p.steps[0].part.as_deref(), Some("part 1"));
    let md = Metadata {
        hostname: Some("10.0.0.5".into()),
        ..Default::default()
    };
    let p = plan_with(&[], &md, &Addresses::default(), &Memory::default());
    assert_eq!(summary(&p), vec!["+ invalid hostname"]);
}

#[test]
fn metadata_hostname_and_keys_are_used() {
    let md = Metadata {
        hostname: Some("meta-host.internal".into()),
        ssh_public_keys: [("k".to_string(), "ssh-ed25519 AAAA meta".to_string())].into(),
        ..Default::default()
    };
    let p = plan_with(&[], &md, &Addresses::default(), &with_core());
    assert_eq!(
        summary(&p),
        vec!["+ hostname meta-host", "+ keys core/coreos-cloudinit 1"]
    );
}

/// Issue 8: core's keys are planned where `core` exists, right after the step creating it
/// when a part does, and a failure (`!`) when neither, which also skips the parts as apply does.
#[test]
fn core_keys_need_core() {
    let text = "#cloud-config\nssh_authorized_keys: [k1]\nusers:\n  - name: ann\n  - name: core\n    ssh_authorized_keys: [k3]\n";
    assert_eq!(
        summary(&plan_of(text, &Memory::default())),
        vec![
            "+ useradd ann",
            "+ useradd core",
            "+ keys core/coreos-cloudinit 2"
        ]
    );
    let p = plan_of(
        "#cloud-config\nssh_authorized_keys: [k1]\nwrite_files:\n  - path: /etc/a\n",
        &Memory::default(),
    );
    assert_eq!(
        summary(&p),
        vec!["+ invalid SSH keys of \"core\"", "+ write /etc/a 644"]
    );
    assert_eq!(p.problems(), 1);
    let shown = show::render_plan(&p, &Memory::default(), true);
    assert_eq!(
        shown,
        "! SSH keys of \"core\": user \"core\" does not exist in the target's /etc/passwd, and no part creates it; not written\n\
         - part 1: write file /etc/a (0 bytes, mode 0644) (skipped: the hostname or core's SSH keys fail)\n\
         0 to change, 0 unchanged, 1 skipped, 1 problem (marked !)\n"
    );
}

/// Issue 8: owners and groups the target lacks are problems (`!`) unless an earlier step
/// creates them; apply would fail those steps.
#[test]
fn unknown_owners_and_groups_are_problems_unless_the_plan_creates_them() {
    let text = "#cloud-config\nusers:\n  - name: deploy\n    groups: [docker]\n  - name: eve\n    groups: [docker, nosuch]\n  - name: core\n    groups: [wheel, alsonot]\nwrite_files:\n  - path: /etc/a\n    owner: deploy:deploy\n  - path: /etc/b\n    owner: ghost\n  - path: /etc/c\n    owner: root:ghosts\n  - path: /etc/d\n    owner: deploy:docker\n";
    let p = plan_of(text, &with_core());
    assert_eq!(
        summary(&p),
        vec![
            "+ useradd deploy",
            "+ invalid user \"eve\"",
            "+ invalid user \"core\"",
            "+ write /etc/a 644",
            "+ invalid write_files \"/etc/b\"",
            "+ invalid write_files \"/etc/c\"",
            "+ write /etc/d 644",
        ]
    );
    let messages: Vec<String> = p
        .steps
        .iter()
        .filter_map(|s| match &s.action {
            Action::Invalid { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        messages,
        vec![
            "group \"nosuch\" is not in the target's /etc/group, so useradd would fail; not created",
            "group \"alsonot\" is not in the target's /etc/group, so usermod would fail; not changed",
            "unknown owner \"ghost\"; not written",
            "unknown owner \"root:ghosts\"; not written",
        ]
    );
}

fn with_core() -> Memory {
    let mut m = Memory::default();
    m.add_account("core", 500);
    m.dirs.insert("/home/core".into());
    m
}

#[test]
fn environment_is_merged_unless_written_by_write_files() {
    let addrs = Addresses {
        private_ipv4: Some("10.0.0.2".into()),
        ..Default::default()
    };
    let p = plan_with(
        &parts("#cloud-config\n"),
        &Metadata::default(),
        &addrs,
        &Memory::default(),
    );
    let Action::WriteFile { path, content, .. } = &p.steps[0].action else {
        panic!("{:?}", p.steps)
    };
    assert_eq!(path, Path::new("/etc/environment"));
    assert_eq!(content, b"COREOS_PRIVATE_IPV4=10.0.0.2\n");
    let p = plan_with(
        &parts(
            "#cloud-config\nwrite_files:\n  - path: /etc/../etc/environment\n    content: X=1\n",
        ),
        &Metadata::default(),
        &addrs,
        &Memory::default(),
    );
    assert_eq!(p.steps.len(), 1);
}

#[test]
fn scripts_run_once_per_boot() {
    let script = Part::Script {
        label: "part 2".into(),
        content: b"#!/bin/sh\necho hi\n".to_vec(),
    };
    let mut m = Memory::default();
    let p = plan_with(
        std::slice::from_ref(&script),
        &Metadata::default(),
        &Addresses::default(),
        &m,
    );
    let Action::Script { stamp, path, .. } = &p.steps[0].action else {
        panic!()
    };
    assert!(p.steps[0].change);
    assert!(path.starts_with("/var/lib/coreos-cloudinit/scripts"));
    m.done.insert(stamp.clone());
    let p = plan_with(&[script], &Metadata::default(), &Addresses::default(), &m);
    assert!(!p.steps[0].change);
}

#[test]
fn invalid_permissions_and_commands_are_reported_steps() {
    let got = summary(&plan_of(
        "#cloud-config\nwrite_files:\n  - path: /etc/a\n    permissions: '0999'\n",
        &Memory::default(),
    ));
    // The validator rejects 0999: the entry is skipped whole, never written with a default
    // mode (issue 8: a secret became world-readable).
    assert_eq!(got, vec!["+ invalid write_files \"/etc/a\""]);
    // The model's mode is what the file gets, every bit of it.
    let got = plan_of(
        "#cloud-config\nwrite_files:\n  - path: /etc/a\n    permissions: '4755'\n  - path: /etc/b\n    permissions: '744'\n  - path: /etc/c\n",
        &Memory::default(),
    );
    let modes: Vec<u32> = got
        .steps
        .iter()
        .filter_map(|s| match &s.action {
            Action::WriteFile { mode, .. } => Some(*mode),
            _ => None,
        })
        .collect();
    assert_eq!(modes, vec![0o4755, 0o744, 0o644]);
}

#[test]
fn fingerprints_are_stable() {
    assert_eq!(fingerprint(b""), "cbf29ce484222325");
    assert_eq!(fingerprint(b"a"), "af63dc4c8601ec8c");
}

/// `with_core`, plus the account `deploy` (uid and gid 1000) that a killed useradd left.
fn with_deploy() -> Memory {
    let mut m = with_core();
    m.add_account("deploy", 1000);
    m
}

#[test]
fn a_user_whose_useradd_was_killed_is_repaired() {
    let mut m = with_deploy();
    m.files
        .insert("/etc/group".into(), (b"root:x:0:\n".to_vec(), 0o644));
    m.files
        .insert("/etc/passwd.lock".into(), (b"4242".to_vec(), 0o600));
    let p = plan_of("#cloud-config\nusers:\n  - name: deploy\n", &m);
    let repairs: Vec<&Vec<Repair>> = p
        .steps
        .iter()
        .filter_map(|s| match &s.action {
            Action::UpdateUser { repair, .. } => Some(repair),
            _ => None,
        })
        .collect();
    assert_eq!(
        repairs[0],
        &vec![
            Repair::StaleLocks,
            Repair::Group {
                name: "deploy".into(),
                gid: 1000
            },
            Repair::Home {
                path: "/home/deploy".into(),
                uid: 1000,
                gid: 1000
            },
        ]
    );
    assert_eq!(summary(&p)[0], "+ usermod deploy");
}

/// A home whose skeleton copy was killed (kindling's list still names the user): the plan
/// copies what is missing, completes the file cut short, gives entries their owner and mode,
/// and leaves what the skeleton does not explain; without the list it touches nothing there.
#[test]
fn a_home_whose_skeleton_copy_was_killed_is_finished() {
    let mut m = with_deploy();
    let mut file = |path: &str, content: &str, ids: (u32, u32, u32)| {
        m.files
            .insert(path.into(), (content.as_bytes().to_vec(), ids.2));
        m.ids.insert(path.into(), ids);
    };
    file("/etc/login.defs", "UMASK 077\n", (0, 0, 0o644));
    file("/etc/default/useradd", "SKEL=/etc/skel\n", (0, 0, 0o644));
    file("/etc/skel/.bashrc", "line one\nline two\n", (0, 0, 0o644));
    file("/etc/skel/.config/app.conf", "k = v\n", (0, 0, 0o600));
    file("/etc/skel/.empty", "", (0, 0, 0o644));
    file("/etc/skel/.profile", "# profile\n", (0, 0, 0o644));
    file("/etc/skel/.vimrc", "set a\n", (0, 0, 0o644));
    // Cut short, made but not yet chowned, complete, and edited (same length, not a prefix).
    file("/home/deploy/.bashrc", "line one\nli", (1000, 1000, 0o644));
    file("/home/deploy/.empty", "", (0, 0, 0));
    file("/home/deploy/.profile", "# profile\n", (1000, 1000, 0o644));
    file("/home/deploy/.vimrc", "set b\n", (1000, 1000, 0o644));
    file("/home/deploy/notes", "mine", (0, 0, 0o600));
    m.dirs
        .extend(["/etc/skel".into(), "/etc/skel/.config".into()]);
    m.ids.insert("/etc/skel/.config".into(), (0, 0, 0o750));
    m.dirs.insert("/home/deploy".into());
    m.ids.insert("/home/deploy".into(), (1000, 1000, 0o700));
    let config = "#cloud-config\nusers:\n  - name: deploy\n    no_user_group: true\n";

    let repairs = |m: &Memory| -> Vec<Repair> {
        plan_of(config, m)
            .steps
            .into_iter()
            .find_map(|s| match s.action {
                Action::UpdateUser { repair, .. } => Some(repair),
                _ => None,
            })
            .unwrap()
    };
    assert_eq!(
        repairs(&m),
        vec![],
        "not being created: the home is the user's"
    );

    m.files
        .insert(CREATING_USERS.into(), (b"other\ndeploy\n".to_vec(), 0o600));
    let copy = |name: &str, torn| Repair::SkelCopy {
        from: Path::new("/etc/skel").join(name),
        to: Path::new("/home/deploy").join(name),
        uid: 1000,
        gid: 1000,
        torn,
    };
    assert_eq!(
        repairs(&m),
        vec![
            copy(".bashrc", true),
            copy(".config", false),
            copy(".config/app.conf", false),
            Repair::Attrs {
                path: "/home/deploy/.empty".into(),
                uid: 1000,
                gid: 1000,
                mode: 0o644
            },
            Repair::Finished,
        ]
    );
    let p = plan_of(config, &m);
    let step = p
        .steps
        .iter()
        .find(|s| matches!(s.action, Action::UpdateUser { .. }))
        .unwrap();
    assert!(step.change);
    let shown = show::describe(step);
    assert!(
        shown.contains(
            "complete /home/deploy/.bashrc, cut short while copied from /etc/skel/.bashrc"
        ),
        "{shown}"
    );

    // A home made by mkdir and not yet given to the user (useradd's mode 0, then chown).
    m.ids.insert("/home/deploy".into(), (0, 0, 0));
    assert_eq!(
        repairs(&m)[0],
        Repair::Attrs {
            path: "/home/deploy".into(),
            uid: 1000,
            gid: 1000,
            mode: 0o700
        }
    );
}

#[test]
fn login_defs_give_the_home_mode_and_the_skeleton() {
    assert_eq!(home_mode(""), 0o755);
    assert_eq!(home_mode("UMASK 027\n"), 0o750);
    assert_eq!(home_mode("UMASK\t077\nHOME_MODE 0711\n"), 0o711);
    assert_eq!(home_mode("HOME_MODE nonsense\nUMASK 022"), 0o755);
    assert_eq!(skel_dir(""), Path::new("/etc/skel"));
    assert_eq!(skel_dir("SKEL=/etc/skel.d\n"), Path::new("/etc/skel.d"));
    assert_eq!(skel_dir("SKEL=\n"), Path::new("/etc/skel"));
}
