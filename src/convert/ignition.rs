//! The Ignition config as JSON (spec 3.3.0 or 3.4.0): contents as data URLs, percent-encoded
//! for text and base64 otherwise.

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::{Converted, File, Owner, PasswdUser, Unit};

/// Text that reads back unchanged from a `data:,` URL and is worth reading there.
pub(crate) fn is_text(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(s) => !s
            .chars()
            .any(|c| (c.is_control() && c != '\n' && c != '\t') || c == '\u{feff}'),
        Err(_) => false,
    }
}

/// RFC 2397 data URL: `data:,` with every byte outside RFC 3986's unreserved set
/// percent-encoded for text, `data:;base64,` otherwise.
pub fn data_url(bytes: &[u8]) -> String {
    if !is_text(bytes) {
        return format!(
            "data:;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        );
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(6 + bytes.len() * 2);
    out.push_str("data:,");
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
    out
}

fn owner(o: &Owner) -> Value {
    match o {
        Owner::Id(id) => json!({ "id": id }),
        Owner::Name(name) => json!({ "name": name }),
    }
}

fn file(f: &File) -> Value {
    let mut m = Map::new();
    m.insert("path".into(), json!(f.path));
    m.insert("overwrite".into(), json!(true));
    m.insert("mode".into(), json!(f.mode));
    m.insert(
        "contents".into(),
        json!({ "source": data_url(&f.contents) }),
    );
    if let Some(u) = &f.user {
        m.insert("user".into(), owner(u));
    }
    if let Some(g) = &f.group {
        m.insert("group".into(), owner(g));
    }
    Value::Object(m)
}

fn user(u: &PasswdUser) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(u.name));
    let mut opt = |key: &str, v: &Option<String>| {
        if let Some(v) = v {
            m.insert(key.into(), json!(v));
        }
    };
    opt("passwordHash", &u.password_hash);
    opt("gecos", &u.gecos);
    opt("homeDir", &u.home_dir);
    opt("primaryGroup", &u.primary_group);
    opt("shell", &u.shell);
    if !u.ssh_authorized_keys.is_empty() {
        m.insert("sshAuthorizedKeys".into(), json!(u.ssh_authorized_keys));
    }
    if !u.groups.is_empty() {
        m.insert("groups".into(), json!(u.groups));
    }
    for (key, set) in [
        ("noCreateHome", u.no_create_home),
        ("noUserGroup", u.no_user_group),
        ("system", u.system),
        ("noLogInit", u.no_log_init),
    ] {
        if set {
            m.insert(key.into(), json!(true));
        }
    }
    Value::Object(m)
}

fn unit(u: &Unit) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(u.name));
    if let Some(c) = &u.contents {
        m.insert("contents".into(), json!(c));
    }
    if u.enabled {
        m.insert("enabled".into(), json!(true));
    }
    if u.mask {
        m.insert("mask".into(), json!(true));
    }
    if !u.dropins.is_empty() {
        let d: Vec<Value> = u
            .dropins
            .iter()
            .map(|(name, contents)| json!({ "name": name, "contents": contents }))
            .collect();
        m.insert("dropins".into(), Value::Array(d));
    }
    Value::Object(m)
}

/// The config as one JSON document, pretty-printed, with a final newline.
pub fn to_json(c: &Converted) -> String {
    let mut root = Map::new();
    root.insert("ignition".into(), json!({ "version": c.spec.as_str() }));
    let cfg = &c.config;
    if !cfg.users.is_empty() {
        root.insert(
            "passwd".into(),
            json!({ "users": cfg.users.iter().map(user).collect::<Vec<_>>() }),
        );
    }
    let mut storage = Map::new();
    if !cfg.files.is_empty() {
        storage.insert(
            "files".into(),
            Value::Array(cfg.files.iter().map(file).collect()),
        );
    }
    if !cfg.links.is_empty() {
        let links: Vec<Value> = cfg
            .links
            .iter()
            .map(|l| json!({ "path": l.path, "target": l.target, "overwrite": true }))
            .collect();
        storage.insert("links".into(), Value::Array(links));
    }
    if !storage.is_empty() {
        root.insert("storage".into(), Value::Object(storage));
    }
    if !cfg.units.is_empty() {
        root.insert(
            "systemd".into(),
            json!({ "units": cfg.units.iter().map(unit).collect::<Vec<_>>() }),
        );
    }
    let mut out = serde_json::to_string_pretty(&Value::Object(root)).unwrap_or_default();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_urls() {
        assert_eq!(data_url(b"a b\n"), "data:,a%20b%0A");
        assert_eq!(data_url(b"x=1;y~z"), "data:,x%3D1%3By~z");
        assert_eq!(data_url(b""), "data:,");
        assert_eq!(data_url(&[0, 1, 0xff]), "data:;base64,AAH/");
        assert_eq!(data_url("é".as_bytes()), "data:,%C3%A9");
    }
}
