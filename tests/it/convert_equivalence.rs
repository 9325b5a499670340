//! `kindling convert` proven by the real Ignition: for every config under testdata/convert/ (and
//! the demo config), `kindling apply --root A` and Ignition's fetch-offline and files stages
//! with the converted config into B, both from copies of testdata/root; then A and B compared
//! file by file, account by account, key by key, unit by unit. Every difference must be one the
//! test expects, and convert must have reported it with the finding listed next to it.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common;

use common::copy_tree;
use common::http::{ok, Server};
use common::kindling;

const IGNITION: &str = "/usr/lib/dracut/modules.d/30ignition/ignition";
const VALIDATE: &str = "/usr/bin/ignition-validate";

/// A config, the flags convert gets, and the differences between A and B that are expected,
/// each as the start of the difference's line and the finding code that explains it.
struct Case {
    file: &'static str,
    args: &'static [&'static str],
    expected: &'static [(&'static str, &'static str)],
}

const CASES: &[Case] = &[
    Case {
        file: "testdata/cloud-configs/demo.yml",
        args: &[],
        expected: &[
            // update.conf: the base root's SERVER line, which kindling keeps and Ignition replaces.
            (
                "differs: /etc/coreos/update.conf (content)",
                "convert-update-conf",
            ),
            ("only in apply: /run/flannel/options.env", "convert-flannel"),
            (
                "unit only in ignition: system/flanneld.service.d/20-cloudinit.conf",
                "convert-flannel",
            ),
            (
                "unit only in apply: runtime network/10-eth0.network",
                "convert-runtime",
            ),
            (
                "unit only in ignition: network/10-eth0.network",
                "convert-runtime",
            ),
        ],
    },
    Case {
        file: "testdata/convert/write-files.yml",
        args: &[],
        expected: &[],
    },
    Case {
        file: "testdata/convert/commands.yml",
        args: &[],
        expected: &[(
            "enabled only in ignition: started.service",
            "convert-command",
        )],
    },
    Case {
        file: "testdata/convert/core-user.yml",
        args: &[],
        expected: &[
            ("account only in apply: group ", "convert-groups"),
            ("account only in apply: gshadow ", "convert-groups"),
            ("account only in ignition: group ", "convert-groups"),
            ("account only in ignition: gshadow ", "convert-groups"),
        ],
    },
    Case {
        file: "testdata/convert/etcd-fleet-locksmith.yml",
        args: &[],
        expected: &[],
    },
    Case {
        file: "testdata/convert/flannel.yml",
        args: &[],
        expected: &[
            ("only in apply: /run/flannel/options.env", "convert-flannel"),
            (
                "unit only in ignition: system/flanneld.service.d/20-cloudinit.conf",
                "convert-flannel",
            ),
        ],
    },
    Case {
        file: "testdata/convert/gzip-payload.gz",
        args: &[],
        expected: &[],
    },
    Case {
        file: "testdata/convert/hostname-hosts.yml",
        args: &[],
        expected: &[],
    },
    Case {
        file: "testdata/convert/multipart.mime",
        args: &[],
        expected: &[
            ("differs: /etc/from-mime (mode 4700 vs 700)", "convert-mode"),
            (
                "only in ignition: /var/lib/coreos-cloudinit/scripts/script-",
                "convert-script",
            ),
            (
                "unit only in ignition: system/coreos-cloudinit-script-",
                "convert-script",
            ),
            (
                "enabled only in ignition: coreos-cloudinit-script-",
                "convert-script",
            ),
        ],
    },
    Case {
        file: "testdata/convert/oem.yml",
        args: &[],
        expected: &[],
    },
    Case {
        file: "testdata/convert/reboot-off.yml",
        args: &[],
        expected: &[(
            "differs: /etc/coreos/update.conf (content)",
            "convert-update-conf",
        )],
    },
    Case {
        file: "testdata/convert/runtime-units.yml",
        args: &[],
        expected: &[
            (
                "unit only in apply: runtime network/50-dhcp.network",
                "convert-runtime",
            ),
            (
                "unit only in apply: runtime system/ephemeral.service",
                "convert-runtime",
            ),
            (
                "unit only in ignition: network/50-dhcp.network",
                "convert-runtime",
            ),
            (
                "unit only in ignition: system/ephemeral.service",
                "convert-runtime",
            ),
        ],
    },
    Case {
        file: "testdata/convert/script.sh",
        args: &[],
        expected: &[
            (
                "only in ignition: /var/lib/coreos-cloudinit/scripts/script-",
                "convert-script",
            ),
            (
                "unit only in ignition: system/coreos-cloudinit-script-",
                "convert-script",
            ),
            (
                "enabled only in ignition: coreos-cloudinit-script-",
                "convert-script",
            ),
        ],
    },
    Case {
        file: "testdata/convert/setuid-modes.yml",
        args: &[],
        expected: &[
            (
                "differs: /opt/bin/sgid-tool (mode 2750 vs 750)",
                "convert-mode",
            ),
            (
                "differs: /opt/bin/suid-tool (mode 4755 vs 755)",
                "convert-mode",
            ),
            (
                "differs: /srv/shared/README (mode 1777 vs 777)",
                "convert-mode",
            ),
        ],
    },
    Case {
        file: "testdata/convert/ssh-import.yml",
        args: &[],
        expected: &[("ssh keys differ: /home/importer", "convert-ssh-import")],
    },
    Case {
        file: "testdata/convert/substitution-ec2.yml",
        args: &["--platform", "ec2"],
        expected: &[
            ("differs: /etc/motd (content)", "convert-substitution"),
            ("unit differs: system/announce.service", "convert-metadata"),
            (
                "unit only in ignition: system/announce.service.d/00-kindling-metadata.conf",
                "convert-metadata",
            ),
        ],
    },
    Case {
        file: "testdata/convert/substitution.yml",
        args: &[],
        expected: &[
            ("differs: /etc/motd (content)", "convert-substitution"),
            (
                "unit differs: system/announce.service",
                "convert-substitution",
            ),
        ],
    },
    Case {
        file: "testdata/convert/units.yml",
        args: &[],
        expected: &[],
    },
    Case {
        file: "testdata/convert/update.yml",
        args: &[],
        expected: &[(
            "differs: /etc/coreos/update.conf (content)",
            "convert-update-conf",
        )],
    },
    Case {
        file: "testdata/convert/users.yml",
        args: &[],
        expected: &[],
    },
];

/// A copy of testdata/root with core's home, as the apply tests make it.
fn base_root(dir: &Path) {
    copy_tree(&common::repo("testdata/root"), dir);
    std::fs::remove_file(dir.join("README")).unwrap();
    for f in ["etc/shadow", "etc/gshadow"] {
        std::fs::set_permissions(dir.join(f), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    // The image's skeleton. useradd --prefix (apply) copies the host's /etc/skel and useradd
    // --root (Ignition) the root's: the same files, as on a real image.
    let skel = dir.join("etc/skel");
    std::fs::create_dir_all(&skel).unwrap();
    if Path::new("/etc/skel").is_dir() {
        copy_tree(Path::new("/etc/skel"), &skel);
    }
    let home = dir.join("home/core");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::chown(&home, Some(500), Some(500)).unwrap();
}

fn run_ignition(root: &Path, config: &Path, work: &Path) {
    // Ignition relabels what it wrote with setfiles when the root has an SELinux config; an
    // empty file_contexts makes that a no-op, as it is on Flatcar with SELinux disabled.
    let selinux = root.join("etc/selinux");
    std::fs::create_dir_all(selinux.join("targeted/contexts/files")).unwrap();
    std::fs::write(
        selinux.join("config"),
        "SELINUX=disabled\nSELINUXTYPE=targeted\n",
    )
    .unwrap();
    std::fs::write(selinux.join("targeted/contexts/files/file_contexts"), "").unwrap();
    for stage in ["fetch-offline", "files"] {
        let out = Command::new(IGNITION)
            .env("IGNITION_CONFIG_FILE", config)
            .args([
                "-platform",
                "file",
                "-stage",
                stage,
                "-log-to-stdout",
                "-root",
            ])
            .arg(root)
            .arg("-config-cache")
            .arg(work.join("config.json"))
            .arg("-state-file")
            .arg(work.join("state"))
            .arg("-neednet")
            .arg(work.join("neednet"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ignition -stage {stage} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Everything compared, in comparable form.
#[derive(Default, Debug)]
struct Tree {
    files: BTreeMap<String, (u32, u32, u32, Vec<u8>)>,
    links: BTreeMap<String, String>,
    accounts: BTreeSet<String>,
    keys: BTreeMap<String, BTreeSet<String>>,
    /// "system/NAME" or "network/NAME.d/X" -> content; "runtime " in front for /run.
    units: BTreeMap<String, String>,
    masks: BTreeSet<String>,
    enabled: BTreeSet<String>,
    preset: BTreeSet<String>,
}

fn sorted_members(field: &str) -> String {
    let mut m: Vec<&str> = field.split(',').filter(|s| !s.is_empty()).collect();
    m.sort();
    m.join(",")
}

fn accounts(tree: &mut Tree, name: &str, text: &str) {
    for line in text.lines().filter(|l| !l.is_empty()) {
        let f: Vec<&str> = line.split(':').collect();
        let entry = match name {
            // The last-change date is the day each tool ran; the rest must agree.
            "shadow" => format!("shadow {}:{}", f[0], f.get(1).unwrap_or(&"")),
            "group" => format!(
                "group {}:{}:{}",
                f[0],
                f.get(2).unwrap_or(&""),
                sorted_members(f.get(3).unwrap_or(&""))
            ),
            "gshadow" => format!(
                "gshadow {}:{}",
                f[0],
                sorted_members(f.get(3).unwrap_or(&""))
            ),
            _ => format!("{name} {line}"),
        };
        tree.accounts.insert(entry);
    }
}

fn snapshot(root: &Path) -> Tree {
    let mut tree = Tree::default();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let md = std::fs::symlink_metadata(&path).unwrap();
            if md.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let target = md.file_type().is_symlink().then(|| {
                std::fs::read_link(&path)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            });
            // What the tools leave besides their work: backups, locks, Ignition's own records.
            if rel.starts_with("etc/selinux/")
                || rel == "etc/.ignition-result.json"
                || rel == "etc/.pwd.lock"
                || name == ".authorized_keys.d.lock"
                || rel.starts_with("run/kindling/")
                || (rel.starts_with("etc/") && name.ends_with('-') && !rel[4..].contains('/'))
            {
                continue;
            }
            if rel == "etc/systemd/system-preset/20-ignition.preset" {
                let text = std::fs::read_to_string(&path).unwrap();
                for l in text.lines() {
                    if let Some(u) = l.strip_prefix("enable ") {
                        tree.preset.insert(u.trim().to_string());
                    }
                }
                continue;
            }
            if let Some(file) = rel
                .strip_prefix("etc/")
                .filter(|f| ["passwd", "group", "shadow", "gshadow"].contains(f))
            {
                accounts(&mut tree, file, &std::fs::read_to_string(&path).unwrap());
                continue;
            }
            if let Some(at) = rel.find("/.ssh/") {
                if target.is_none() {
                    let set = tree.keys.entry(rel[..at].to_string()).or_default();
                    for l in std::fs::read_to_string(&path).unwrap().lines() {
                        if !l.trim().is_empty() && !l.starts_with('#') {
                            set.insert(l.trim().to_string());
                        }
                    }
                }
                continue;
            }
            let unit_path = ["etc/systemd/", "run/systemd/"]
                .iter()
                .find_map(|p| rel.strip_prefix(p).map(|r| (p.starts_with("run"), r)))
                .filter(|(_, r)| r.starts_with("system/") || r.starts_with("network/"));
            if let Some((runtime, r)) = unit_path {
                let key = format!("{}{r}", if runtime { "runtime " } else { "" });
                let parent = Path::new(r)
                    .parent()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                match target {
                    Some(t) if t == "/dev/null" => {
                        tree.masks.insert(key);
                    }
                    Some(_) if parent.ends_with(".wants") || parent.ends_with(".requires") => {
                        tree.enabled.insert(name);
                    }
                    Some(t) => {
                        tree.units.insert(key, format!("link -> {t}"));
                    }
                    None => {
                        let text =
                            String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                        tree.units
                            .insert(key, format!("{:o} {text}", md.mode() & 0o7777));
                    }
                }
                continue;
            }
            match target {
                Some(t) => {
                    tree.links.insert(format!("/{rel}"), t);
                }
                None => {
                    tree.files.insert(
                        format!("/{rel}"),
                        (
                            md.mode() & 0o7777,
                            md.uid(),
                            md.gid(),
                            std::fs::read(&path).unwrap(),
                        ),
                    );
                }
            }
        }
    }
    // A preset enables only units with [Install] rules, as `systemctl preset` does.
    let units = tree.units.clone();
    tree.preset.retain(|u| {
        units
            .get(&format!("system/{u}"))
            .is_none_or(|text| text.lines().any(|l| l.trim() == "[Install]"))
    });
    tree
}

fn differences(a: &Tree, b: &Tree) -> (Vec<String>, usize) {
    let mut out = Vec::new();
    let mut compared = 0;
    let set_diff =
        |what: &str, left: &BTreeSet<String>, right: &BTreeSet<String>, out: &mut Vec<String>| {
            for x in left.difference(right) {
                out.push(format!("{what} only in apply: {x}"));
            }
            for x in right.difference(left) {
                out.push(format!("{what} only in ignition: {x}"));
            }
        };
    for (path, (mode, uid, gid, content)) in &a.files {
        compared += 1;
        match b.files.get(path) {
            None => out.push(format!("only in apply: {path}")),
            Some((m, u, g, c)) => {
                if c != content {
                    out.push(format!("differs: {path} (content)"));
                }
                if m != mode {
                    out.push(format!("differs: {path} (mode {mode:o} vs {m:o})"));
                }
                if (u, g) != (uid, gid) {
                    out.push(format!("differs: {path} (owner {uid}:{gid} vs {u}:{g})"));
                }
            }
        }
    }
    for path in b.files.keys().filter(|p| !a.files.contains_key(*p)) {
        compared += 1;
        out.push(format!("only in ignition: {path}"));
    }
    for (k, v) in &a.links {
        compared += 1;
        if b.links.get(k) != Some(v) {
            out.push(format!("link differs: {k}"));
        }
    }
    for k in b.links.keys().filter(|k| !a.links.contains_key(*k)) {
        out.push(format!("link only in ignition: {k}"));
    }
    compared += a.accounts.len();
    set_diff("account", &a.accounts, &b.accounts, &mut out);
    for home in a.keys.keys().chain(b.keys.keys()).collect::<BTreeSet<_>>() {
        compared += 1;
        if a.keys.get(home) != b.keys.get(home) {
            out.push(format!("ssh keys differ: /{home}"));
        }
    }
    // What kindling generates in /run because it rewrites it at every boot (the
    // 20-cloudinit.conf drop-ins, locksmithd's mask for reboot_strategy: off) says the same in
    // /etc, where Ignition writes it once. A user's runtime unit is compared as it is.
    let strip = |k: &String| match k.strip_prefix("runtime ") {
        Some(rest)
            if rest.ends_with(".service.d/20-cloudinit.conf")
                || rest == "system/locksmithd.service" =>
        {
            rest.to_string()
        }
        _ => k.clone(),
    };
    let a_units: BTreeMap<String, (&String, &String)> =
        a.units.iter().map(|(k, v)| (strip(k), (k, v))).collect();
    let b_units: BTreeMap<String, (&String, &String)> =
        b.units.iter().map(|(k, v)| (strip(k), (k, v))).collect();
    for (k, (orig, text)) in &a_units {
        compared += 1;
        match b_units.get(k) {
            Some((_, t)) if t == text => {}
            Some(_) => out.push(format!("unit differs: {k}")),
            None => out.push(format!("unit only in apply: {orig}")),
        }
    }
    for (k, (orig, _)) in &b_units {
        if !a_units.contains_key(k) {
            compared += 1;
            out.push(format!("unit only in ignition: {orig}"));
        }
    }
    let a_masks: BTreeSet<String> = a.masks.iter().map(strip).collect();
    let b_masks: BTreeSet<String> = b.masks.iter().map(strip).collect();
    compared += a_masks.len();
    set_diff("mask", &a_masks, &b_masks, &mut out);
    let b_enabled: BTreeSet<String> = b.enabled.union(&b.preset).cloned().collect();
    compared += a.enabled.len();
    set_diff("enabled", &a.enabled, &b_enabled, &mut out);
    (out, compared)
}

fn findings(stderr: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(stderr);
    let line = text.lines().next().unwrap_or("{}");
    let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {text}"));
    v["entries"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["code"].as_str().unwrap_or("").to_string(),
                        format!(
                            "{}:{} {}",
                            e["line"],
                            e["column"],
                            e["message"].as_str().unwrap_or("")
                        ),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A key server on 127.0.0.1 for `coreos-ssh-import-url` (apply fetches; Ignition cannot).
fn key_server() -> Server {
    Server::start(|_| {
        ok(
            r#"[{"id":1,"key":"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBPgGH4p5+f/LjjmSJftK6WZhwph27MbylJbr4W3JqST imported@keyserver"}]"#,
        )
    })
}

fn missing_tools() -> Option<String> {
    for tool in [IGNITION, VALIDATE] {
        if !Path::new(tool).exists() {
            return Some(format!("{tool} is missing (apt-get install ignition)"));
        }
    }
    if !["/usr/sbin/setfiles", "/sbin/setfiles"]
        .iter()
        .any(|p| Path::new(p).exists())
    {
        return Some(
            "setfiles is missing (apt-get install policycoreutils): Ignition relabels with it"
                .into(),
        );
    }
    None
}

#[test]
#[ignore = "needs root"]
fn every_config_converts_to_what_apply_writes() {
    if let Some(why) = missing_tools() {
        eprintln!("SKIPPED convert equivalence test: {why}");
        return;
    }
    // Every config under testdata/convert/ must be in the table.
    let dir = common::repo("testdata/convert");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            format!(
                "testdata/convert/{}",
                e.unwrap().file_name().to_string_lossy()
            )
        })
        .collect();
    on_disk.sort();
    for f in &on_disk {
        assert!(
            CASES.iter().any(|c| c.file == f),
            "{f} has no case in CASES"
        );
    }

    let mut table =
        String::from("| config | compared | differences | finding |\n|---|---|---|---|\n");
    let mut failures = Vec::new();
    let server = key_server();
    let authority = server.base.trim_start_matches("http://");
    for case in CASES {
        let work = tempfile::tempdir().unwrap();
        // The configs name the key server as 127.0.0.1:9; it listens where it could.
        let original = std::fs::read(common::repo(case.file)).unwrap();
        let cfg = work.path().join(Path::new(case.file).file_name().unwrap());
        match String::from_utf8(original.clone()) {
            Ok(text) => std::fs::write(&cfg, text.replace("127.0.0.1:9/", authority)),
            Err(_) => std::fs::write(&cfg, &original),
        }
        .unwrap();
        let (a, b) = (work.path().join("a"), work.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        base_root(&a);
        base_root(&b);

        let applied = kindling()
            .args(["apply", "--from-file"])
            .arg(&cfg)
            .arg("--root")
            .arg(&a)
            .output()
            .unwrap();
        let convert = kindling()
            .arg("convert")
            .arg(&cfg)
            .args(["--format", "json"])
            .args(case.args)
            .output()
            .unwrap();
        assert!(
            convert.status.success(),
            "{}: convert failed: {}",
            case.file,
            String::from_utf8_lossy(&convert.stderr)
        );
        let reported = findings(&convert.stderr);
        let ign: PathBuf = work.path().join("config.ign");
        std::fs::write(&ign, &convert.stdout).unwrap();
        let valid = Command::new(VALIDATE).arg(&ign).output().unwrap();
        assert!(
            valid.status.success(),
            "{}: ignition-validate refused the config:\n{}",
            case.file,
            String::from_utf8_lossy(&valid.stdout)
        );
        run_ignition(&b, &ign, work.path());

        let (diffs, compared) = differences(&snapshot(&a), &snapshot(&b));
        let mut rows = Vec::new();
        for d in &diffs {
            match case
                .expected
                .iter()
                .find(|(prefix, _)| d.starts_with(prefix))
            {
                Some((_, code)) if reported.iter().any(|(c, _)| c == code) => {
                    rows.push((d.clone(), code.to_string()))
                }
                Some((_, code)) => failures.push(format!(
                    "{}: {d}: expected finding {code} was not reported (reported: {reported:?})",
                    case.file
                )),
                None => failures.push(format!("{}: unexpected difference: {d}", case.file)),
            }
        }
        for (prefix, _) in case.expected {
            if !diffs.iter().any(|d| d.starts_with(prefix)) {
                failures.push(format!(
                    "{}: expected difference {prefix:?} did not occur",
                    case.file
                ));
            }
        }
        if !applied.status.success()
            && !case
                .expected
                .iter()
                .any(|(_, c)| *c == "convert-ssh-import")
        {
            failures.push(format!(
                "{}: apply failed: {}",
                case.file,
                String::from_utf8_lossy(&applied.stderr)
            ));
        }
        let name = Path::new(case.file).file_name().unwrap().to_string_lossy();
        if rows.is_empty() {
            table.push_str(&format!("| {name} | {compared} | none | |\n"));
        }
        for (i, (d, code)) in rows.iter().enumerate() {
            let (n, c) = if i == 0 {
                (name.to_string(), compared.to_string())
            } else {
                (String::new(), String::new())
            };
            table.push_str(&format!("| {n} | {c} | {d} | {code} |\n"));
        }
    }
    let _ = std::fs::write(common::repo("target/convert-equivalence.md"), &table);
    println!("{table}");
    assert!(failures.is_empty(), "{}\n\n{table}", failures.join("\n"));
}
