//! The Butane config (`variant: flatcar`) that Butane transpiles to the same Ignition config:
//! text as inline literal blocks a person can read, binary content as data URLs.

use std::fmt::Write as _;

use super::ignition::{data_url, is_text};
use super::{Converted, Owner, Spec};

/// A scalar as a YAML double-quoted string (JSON's escapes are YAML's).
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// Whether a literal block scalar gives back exactly `text`: no CR (YAML normalises line
/// breaks), no line of only blanks (a block may read it as empty), text otherwise.
fn blockable(text: &str) -> bool {
    !text.is_empty()
        && !text.contains('\r')
        && is_text(text.as_bytes())
        && !text
            .split('\n')
            .any(|l| !l.is_empty() && l.chars().all(|c| c == ' ' || c == '\t'))
        && !text.starts_with('\t')
}

/// `key: |` and the text indented under it, or a quoted scalar when a block cannot carry it.
fn text_value(out: &mut String, indent: usize, key: &str, text: &str) {
    let pad = " ".repeat(indent);
    if !blockable(text) {
        let _ = writeln!(out, "{pad}{key}: {}", quoted(text));
        return;
    }
    let trailing = text.len() - text.trim_end_matches('\n').len();
    let chomp = match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let first = text.split('\n').find(|l| !l.is_empty()).unwrap_or("");
    let indicator = if first.starts_with(' ') || text.starts_with('\n') {
        "2"
    } else {
        ""
    };
    let _ = writeln!(out, "{pad}{key}: |{indicator}{chomp}");
    let body = &text[..text.len() - trailing];
    for line in body.split('\n') {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "{pad}  {line}");
        }
    }
    for _ in 1..trailing {
        out.push('\n');
    }
}

fn owner(out: &mut String, indent: usize, key: &str, o: &Option<Owner>) {
    let pad = " ".repeat(indent);
    match o {
        None => {}
        Some(Owner::Id(id)) => {
            let _ = writeln!(out, "{pad}{key}:\n{pad}  id: {id}");
        }
        Some(Owner::Name(n)) => {
            let _ = writeln!(out, "{pad}{key}:\n{pad}  name: {}", quoted(n));
        }
    }
}

pub fn to_yaml(c: &Converted) -> String {
    let mut out = String::new();
    let version = match c.spec {
        Spec::V3_3 => "1.0.0",
        Spec::V3_4 => "1.1.0",
    };
    let _ = writeln!(out, "variant: flatcar\nversion: {version}");
    let cfg = &c.config;
    if !cfg.users.is_empty() {
        out.push_str("passwd:\n  users:\n");
        for u in &cfg.users {
            let _ = writeln!(out, "    - name: {}", quoted(&u.name));
            let mut opt = |key: &str, v: &Option<String>| {
                if let Some(v) = v {
                    let _ = writeln!(out, "      {key}: {}", quoted(v));
                }
            };
            opt("password_hash", &u.password_hash);
            opt("gecos", &u.gecos);
            opt("home_dir", &u.home_dir);
            opt("primary_group", &u.primary_group);
            opt("shell", &u.shell);
            for (key, list) in [
                ("ssh_authorized_keys", &u.ssh_authorized_keys),
                ("groups", &u.groups),
            ] {
                if !list.is_empty() {
                    let _ = writeln!(out, "      {key}:");
                    for item in list {
                        let _ = writeln!(out, "        - {}", quoted(item));
                    }
                }
            }
            for (key, set) in [
                ("no_create_home", u.no_create_home),
                ("no_user_group", u.no_user_group),
                ("system", u.system),
                ("no_log_init", u.no_log_init),
            ] {
                if set {
                    let _ = writeln!(out, "      {key}: true");
                }
            }
        }
    }
    if !cfg.files.is_empty() || !cfg.links.is_empty() {
        out.push_str("storage:\n");
    }
    if !cfg.files.is_empty() {
        out.push_str("  files:\n");
        for f in &cfg.files {
            let _ = writeln!(
                out,
                "    - path: {}\n      overwrite: true\n      mode: {}  # {:04o}",
                quoted(&f.path),
                f.mode,
                f.mode
            );
            owner(&mut out, 6, "user", &f.user);
            owner(&mut out, 6, "group", &f.group);
            out.push_str("      contents:\n");
            match std::str::from_utf8(&f.contents) {
                Ok(text) if is_text(&f.contents) => text_value(&mut out, 8, "inline", text),
                _ => {
                    let _ = writeln!(out, "        source: {}", quoted(&data_url(&f.contents)));
                }
            }
        }
    }
    if !cfg.links.is_empty() {
        out.push_str("  links:\n");
        for l in &cfg.links {
            let _ = writeln!(
                out,
                "    - path: {}\n      target: {}\n      overwrite: true",
                quoted(&l.path),
                quoted(&l.target)
            );
        }
    }
    if !cfg.units.is_empty() {
        out.push_str("systemd:\n  units:\n");
        for u in &cfg.units {
            let _ = writeln!(out, "    - name: {}", quoted(&u.name));
            if u.enabled {
                out.push_str("      enabled: true\n");
            }
            if u.mask {
                out.push_str("      mask: true\n");
            }
            if let Some(c) = &u.contents {
                text_value(&mut out, 6, "contents", c);
            }
            if !u.dropins.is_empty() {
                out.push_str("      dropins:\n");
                for (name, contents) in &u.dropins {
                    let _ = writeln!(out, "        - name: {}", quoted(name));
                    text_value(&mut out, 10, "contents", contents);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::yaml::{self, NodeKind};

    /// The text a block reads back as, through kindling's own YAML reader.
    fn roundtrip(text: &str) -> String {
        let mut out = String::new();
        text_value(&mut out, 0, "k", text);
        let doc = yaml::parse(&out).unwrap();
        let root = doc.root.unwrap();
        let NodeKind::Map(entries) = &doc.node(root).kind else {
            panic!("{out}")
        };
        match &doc.node(entries[0].1).kind {
            NodeKind::Scalar { value, .. } => value.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn text_blocks_read_back_exactly() {
        for text in [
            "a\nb\n",
            "no newline",
            "two\n\n",
            "  indented first\nx\n",
            "\nleading blank\n",
            "tab\tinside\n",
            "line\n   \nblank-ish\n",
            "cr\r\n",
            "",
            "\"quoted\" and 'single' # not a comment\n",
        ] {
            assert_eq!(roundtrip(text), text, "{text:?}");
        }
    }
}
