//! Checks one authorized_keys line the way `ssh-keygen -l` would accept it.
//! Owns the key type table and the RFC 4251 wire layout of each public key and certificate.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;

use super::values::excerpt;

/// OpenSSH writes padded base64, but a key pasted without its `=` is still unambiguous.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What follows the key type string inside the blob.
#[derive(Clone, Copy)]
enum Body {
    Rsa,
    Dss,
    Ecdsa { curve: &'static str, point: usize },
    Ed25519,
    SkEcdsa,
    SkEd25519,
}

impl Body {
    fn expects(self) -> String {
        match self {
            Body::Rsa => "an exponent and a modulus".to_string(),
            Body::Dss => "the four values p, q, g and y".to_string(),
            Body::Ecdsa { point, .. } => format!("a curve name and a {point}-byte point"),
            Body::Ed25519 => "a 32-byte key".to_string(),
            Body::SkEcdsa => "a curve name, a 65-byte point and an application".to_string(),
            Body::SkEd25519 => "a 32-byte key and an application".to_string(),
        }
    }
}

struct KeyType {
    name: &'static str,
    body: Body,
    cert: bool,
}

const P256: Body = Body::Ecdsa {
    curve: "nistp256",
    point: 65,
};
const P384: Body = Body::Ecdsa {
    curve: "nistp384",
    point: 97,
};
const P521: Body = Body::Ecdsa {
    curve: "nistp521",
    point: 133,
};

const fn plain(name: &'static str, body: Body) -> KeyType {
    KeyType {
        name,
        body,
        cert: false,
    }
}

const fn cert(name: &'static str, body: Body) -> KeyType {
    KeyType {
        name,
        body,
        cert: true,
    }
}

const KEY_TYPES: &[KeyType] = &[
    plain("ssh-rsa", Body::Rsa),
    plain("ssh-dss", Body::Dss),
    plain("ecdsa-sha2-nistp256", P256),
    plain("ecdsa-sha2-nistp384", P384),
    plain("ecdsa-sha2-nistp521", P521),
    plain("ssh-ed25519", Body::Ed25519),
    plain("sk-ecdsa-sha2-nistp256@openssh.com", Body::SkEcdsa),
    plain("sk-ssh-ed25519@openssh.com", Body::SkEd25519),
    cert("ssh-rsa-cert-v01@openssh.com", Body::Rsa),
    cert("ssh-dss-cert-v01@openssh.com", Body::Dss),
    cert("ecdsa-sha2-nistp256-cert-v01@openssh.com", P256),
    cert("ecdsa-sha2-nistp384-cert-v01@openssh.com", P384),
    cert("ecdsa-sha2-nistp521-cert-v01@openssh.com", P521),
    cert("ssh-ed25519-cert-v01@openssh.com", Body::Ed25519),
    cert("sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", Body::SkEcdsa),
    cert("sk-ssh-ed25519-cert-v01@openssh.com", Body::SkEd25519),
];

/// Flag options sshd knows; a lone one of these before the key is options, not a key type.
const FLAG_OPTIONS: &[&str] = &[
    "agent-forwarding",
    "cert-authority",
    "no-agent-forwarding",
    "no-port-forwarding",
    "no-pty",
    "no-touch-required",
    "no-user-rc",
    "no-x11-forwarding",
    "port-forwarding",
    "pty",
    "restrict",
    "touch-required",
    "user-rc",
    "verify-required",
    "x11-forwarding",
];

/// OpenSSH refuses RSA moduli outside these bounds when it loads a key.
const RSA_MIN_BITS: usize = 1024;
const RSA_MAX_BITS: usize = 16384;
/// SSHBUF_MAX_BIGNUM plus one byte for the sign.
const MPINT_MAX_BYTES: usize = RSA_MAX_BITS / 8 + 1;

const SSH2_CERT_TYPE_USER: u32 = 1;
const SSH2_CERT_TYPE_HOST: u32 = 2;

fn key_type(name: &str) -> Option<&'static KeyType> {
    KEY_TYPES.iter().find(|k| k.name == name)
}

/// Words people put where a key type goes that OpenSSH will not load as one.
fn refused_type(name: &str) -> Option<String> {
    match name {
        "rsa-sha2-256" | "rsa-sha2-512" => Some(format!(
            "\"{name}\" is a signature algorithm, not a key type; RSA keys are written \"ssh-rsa\""
        )),
        "ssh-ed448" => Some("OpenSSH does not support ssh-ed448 keys".to_string()),
        _ => None,
    }
}

/// A reader over RFC 4251 encoded data; every read fails rather than running past the end.
struct Wire<'a>(&'a [u8]);

impl<'a> Wire<'a> {
    fn u32(&mut self) -> Option<u32> {
        let (head, rest) = self.0.split_first_chunk::<4>()?;
        self.0 = rest;
        Some(u32::from_be_bytes(*head))
    }

    fn u64(&mut self) -> Option<u64> {
        let (head, rest) = self.0.split_first_chunk::<8>()?;
        self.0 = rest;
        Some(u64::from_be_bytes(*head))
    }

    fn string(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.u32()?).ok()?;
        let (s, rest) = self.0.split_at_checked(len)?;
        self.0 = rest;
        Some(s)
    }
}

/// A type name from inside a blob, when it is short printable ASCII and so safe to quote.
fn printable_name(bytes: &[u8]) -> Option<&str> {
    if bytes.is_empty() || bytes.len() > 64 || !bytes.iter().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

/// The key type a base64 token claims to hold, used to make "unknown type" messages useful.
fn blob_type(token: &str) -> Option<String> {
    let blob = BASE64.decode(token).ok()?;
    let name = Wire(&blob).string()?;
    printable_name(name).map(str::to_string)
}

/// Checks an mpint the way OpenSSH's `sshbuf_get_bignum2` does and returns its bit length.
fn mpint_bits(value: &[u8], what: &str) -> Result<usize, String> {
    if value.first().is_some_and(|b| b & 0x80 != 0) {
        return Err(format!("the key's {what} is negative"));
    }
    if value.len() > MPINT_MAX_BYTES
        || (value.len() == MPINT_MAX_BYTES && value.first() != Some(&0))
    {
        return Err(format!(
            "the key's {what} is larger than {RSA_MAX_BITS} bits"
        ));
    }
    let significant = value
        .iter()
        .position(|b| *b != 0)
        .and_then(|i| value.get(i..))
        .unwrap_or(&[]);
    Ok(match significant.first() {
        None => 0,
        Some(top) => (significant.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
    })
}

fn check_point(type_name: &str, q: &[u8], expected: usize) -> Result<(), String> {
    match q.first() {
        Some(0x02 | 0x03) => Err(format!(
            "the {type_name} point is compressed, which OpenSSH does not accept"
        )),
        Some(0x04) if q.len() == expected => Ok(()),
        Some(0x04) => Err(format!(
            "{type_name} expects a {expected}-byte point, but this one is {} bytes",
            q.len()
        )),
        _ => Err(format!(
            "the {type_name} point is not an uncompressed point (it does not start with 0x04)"
        )),
    }
}

fn check_curve(type_name: &str, found: &[u8], curve: &str) -> Result<(), String> {
    if found == curve.as_bytes() {
        return Ok(());
    }
    Err(match printable_name(found) {
        Some(name) => {
            format!("the key data names curve \"{name}\", but {type_name} keys use \"{curve}\"")
        }
        None => format!("the key data does not name the curve \"{curve}\" of {type_name}"),
    })
}

/// The security-key application is read by OpenSSH as a C string.
fn check_application(app: &[u8]) -> Result<(), String> {
    if app.contains(&0) {
        return Err("the security key's application contains a NUL byte".to_string());
    }
    Ok(())
}

/// Everything after the type string of a plain key (and after the nonce of a certificate).
fn check_body(type_name: &str, body: Body, w: &mut Wire) -> Result<(), String> {
    let short = || {
        format!(
            "key data is truncated ({type_name} expects {})",
            body.expects()
        )
    };
    match body {
        Body::Rsa => {
            let e = w.string().ok_or_else(short)?;
            let n = w.string().ok_or_else(short)?;
            mpint_bits(e, "exponent")?;
            let bits = mpint_bits(n, "modulus")?;
            if bits < RSA_MIN_BITS {
                return Err(format!(
                    "the RSA modulus is {bits} bits; OpenSSH requires at least {RSA_MIN_BITS}"
                ));
            }
        }
        Body::Dss => {
            for what in ["p", "q", "g", "y"] {
                let v = w.string().ok_or_else(short)?;
                mpint_bits(v, &format!("DSA {what} value"))?;
            }
        }
        Body::Ecdsa { curve, point } => {
            let found = w.string().ok_or_else(short)?;
            check_curve(type_name, found, curve)?;
            let q = w.string().ok_or_else(short)?;
            check_point(type_name, q, point)?;
        }
        Body::Ed25519 => {
            let pk = w.string().ok_or_else(short)?;
            check_ed25519(type_name, pk)?;
        }
        Body::SkEcdsa => {
            let found = w.string().ok_or_else(short)?;
            check_curve(type_name, found, "nistp256")?;
            let q = w.string().ok_or_else(short)?;
            check_point(type_name, q, 65)?;
            check_application(w.string().ok_or_else(short)?)?;
        }
        Body::SkEd25519 => {
            let pk = w.string().ok_or_else(short)?;
            check_ed25519(type_name, pk)?;
            check_application(w.string().ok_or_else(short)?)?;
        }
    }
    Ok(())
}

fn check_ed25519(type_name: &str, pk: &[u8]) -> Result<(), String> {
    if pk.len() == 32 {
        Ok(())
    } else {
        Err(format!(
            "{type_name} expects a 32-byte key, but this one is {} bytes",
            pk.len()
        ))
    }
}

/// The fields of an OpenSSH certificate (PROTOCOL.certkeys) after the type string. The CA's
/// signature is not verified: that needs the CA's algorithm, and a bad one is not a typo.
fn check_cert(kt: &KeyType, w: &mut Wire) -> Result<(), String> {
    let short = || "certificate data is truncated".to_string();
    let _nonce = w.string().ok_or_else(short)?;
    check_body(kt.name, kt.body, w)?;
    let _serial = w.u64().ok_or_else(short)?;
    let cert_type = w.u32().ok_or_else(short)?;
    if cert_type != SSH2_CERT_TYPE_USER && cert_type != SSH2_CERT_TYPE_HOST {
        return Err(format!(
            "certificate type {cert_type} is neither user (1) nor host (2)"
        ));
    }
    let _key_id = w.string().ok_or_else(short)?;
    let mut principals = Wire(w.string().ok_or_else(short)?);
    while !principals.0.is_empty() {
        let p = principals
            .string()
            .ok_or_else(|| "the certificate's principal list is malformed".to_string())?;
        if p.contains(&0) {
            return Err("a certificate principal contains a NUL byte".to_string());
        }
    }
    let _valid_after = w.u64().ok_or_else(short)?;
    let _valid_before = w.u64().ok_or_else(short)?;
    let _critical_options = w.string().ok_or_else(short)?;
    let _extensions = w.string().ok_or_else(short)?;
    let _reserved = w.string().ok_or_else(short)?;
    let signer = w.string().ok_or_else(short)?;
    check_signing_key(signer)
        .map_err(|e| format!("the certificate's signing key is not valid: {e}"))?;
    let signature = w.string().ok_or_else(short)?;
    if signature.is_empty() {
        return Err("the certificate has no signature".to_string());
    }
    Ok(())
}

/// A CA key is a whole plain key blob of its own; OpenSSH refuses a certificate as a CA.
fn check_signing_key(blob: &[u8]) -> Result<(), String> {
    let mut w = Wire(blob);
    let name = w
        .string()
        .ok_or_else(|| "it does not start with a key type".to_string())?;
    let shown = printable_name(name).unwrap_or("?");
    match KEY_TYPES.iter().find(|k| k.name.as_bytes() == name) {
        Some(kt) if !kt.cert => {
            check_body(kt.name, kt.body, &mut w)?;
            check_trailing(kt.name, &w)
        }
        Some(_) => Err(format!("\"{shown}\" is a certificate, not a CA key")),
        None => Err(format!("unknown key type \"{shown}\"")),
    }
}

fn check_trailing(type_name: &str, w: &Wire) -> Result<(), String> {
    match w.0.len() {
        0 => Ok(()),
        1 => Err(format!(
            "key data has 1 unexpected byte after the {type_name} key"
        )),
        n => Err(format!(
            "key data has {n} unexpected bytes after the {type_name} key"
        )),
    }
}

/// The decoded blob must be exactly the structure of the key type named on the line.
fn check_blob(kt: &KeyType, blob: &[u8]) -> Result<(), String> {
    let mut w = Wire(blob);
    let Some(name) = w.string() else {
        return Err(format!(
            "key data is not an OpenSSH public key (it does not start with the key type \"{}\")",
            kt.name
        ));
    };
    if name != kt.name.as_bytes() {
        return Err(match printable_name(name) {
            Some(found) => format!(
                "key type \"{}\" does not match the key data, which is \"{found}\"",
                kt.name
            ),
            None => format!(
                "key data is not an OpenSSH public key (it does not start with the key type \"{}\")",
                kt.name
            ),
        });
    }
    if kt.cert {
        check_cert(kt, &mut w)?;
    } else {
        check_body(kt.name, kt.body, &mut w)?;
    }
    check_trailing(kt.name, &w)
}

fn is_field_space(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Splits off the first space- or tab-separated field; the rest has its leading blanks removed.
fn split_field(s: &str) -> (&str, &str) {
    match s.find(is_field_space) {
        Some(i) => {
            let (field, rest) = s.split_at(i);
            (field, rest.trim_start_matches(is_field_space))
        }
        None => (s, ""),
    }
}

/// The options field ends at the first blank outside double quotes; `\"` never toggles the
/// quoting, inside or outside quotes, exactly as OpenSSH's `sshkey_advance_past_options`.
fn split_options(line: &str) -> Result<(&str, &str), String> {
    let bytes = line.as_bytes();
    let mut quoted = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if !quoted && (b == b' ' || b == b'\t') {
            break;
        }
        if b == b'\\' && bytes.get(i + 1) == Some(&b'"') {
            i += 1;
        } else if b == b'"' {
            quoted = !quoted;
        }
        i += 1;
    }
    if quoted {
        return Err("the options before the key have an unterminated quote".to_string());
    }
    // `i` stops on an ASCII blank or at the end, both char boundaries.
    let (opts, rest) = line.split_at(i.min(line.len()));
    Ok((opts, rest.trim_start_matches(is_field_space)))
}

fn looks_like_options(opts: &str) -> bool {
    opts.contains(['=', ',', '"']) || FLAG_OPTIONS.contains(&opts.to_ascii_lowercase().as_str())
}

/// Base64 of a u32 length below 2^24 starts with `AAAA`, as every key blob does.
fn looks_like_blob(token: &str) -> bool {
    token.starts_with("AAAA")
}

fn missing_type(blob: &str) -> String {
    match blob_type(blob) {
        Some(name) => {
            format!("the key type is missing before the key data (it is a \"{name}\" key)")
        }
        None => "the key type is missing before the key data".to_string(),
    }
}

fn unknown_type(name: &str, blob: Option<&str>) -> String {
    let mut msg = format!("unknown key type {}", excerpt(name, 40));
    let lower = name.to_ascii_lowercase();
    if lower != name && key_type(&lower).is_some() {
        msg.push_str(&format!(" (key types are lower case: \"{lower}\")"));
    } else if let Some(found) = blob.and_then(blob_type) {
        msg.push_str(&format!(" (the key data is \"{found}\")"));
    }
    msg
}

/// Other formats people paste instead of an OpenSSH public key line.
fn foreign_format(line: &str) -> Option<&'static str> {
    let is_pem = line.starts_with("-----BEGIN") || line.starts_with("-----END");
    if (is_pem && line.contains("PRIVATE KEY"))
        || line.starts_with("PuTTY-User-Key-File")
        || split_field(line).0.starts_with("b3BlbnNzaC1rZXktdjE")
    {
        // The last one is the body of an OpenSSH private key file ("openssh-key-v1").
        return Some("this looks like a private key, not a public key");
    }
    if line.starts_with("---- BEGIN SSH2 PUBLIC KEY") {
        return Some(
            "this is an RFC 4716 (SSH2) public key; convert it with ssh-keygen -i to an OpenSSH line",
        );
    }
    if is_pem {
        return Some(
            "this is a PEM-encoded key, not an OpenSSH public key line; convert it with ssh-keygen -i -m PKCS8",
        );
    }
    None
}

/// Validates one authorized_keys line: optional options, key type, base64 blob, optional
/// comment. The error is a short sentence for a validator warning.
pub fn check_public_key(line: &str) -> Result<(), String> {
    let line = line.trim_matches(|c: char| c.is_ascii_whitespace());
    if line.is_empty() {
        return Err("the key is empty".to_string());
    }
    if line.starts_with('#') {
        return Err("this is a comment, not a key".to_string());
    }
    if let Some(msg) = foreign_format(line) {
        return Err(msg.to_string());
    }
    let (first, after_first) = split_field(line);
    if let Some(kt) = key_type(first) {
        return check_key(kt, after_first);
    }
    if let Some(msg) = refused_type(first) {
        return Err(msg);
    }
    // The first field is not a key type, so it must be options.
    let (opts, rest) = split_options(line)?;
    let (second, after_second) = split_field(rest);
    if let Some(kt) = key_type(second) {
        return check_key(kt, after_second);
    }
    if let Some(msg) = refused_type(second) {
        return Err(msg);
    }
    if looks_like_blob(first) {
        return Err(missing_type(first));
    }
    if looks_like_options(opts) {
        return Err(if second.is_empty() {
            "the options are not followed by a key".to_string()
        } else if looks_like_blob(second) {
            missing_type(second)
        } else {
            unknown_type(second, Some(split_field(after_second).0))
        });
    }
    Err(unknown_type(first, Some(second)))
}

fn check_key(kt: &KeyType, rest: &str) -> Result<(), String> {
    let (blob, _comment) = split_field(rest);
    if blob.is_empty() {
        return Err(format!("\"{}\" has no key data", kt.name));
    }
    let decoded = BASE64
        .decode(blob)
        .map_err(|_| "key data is not valid base64".to_string())?;
    check_blob(kt, &decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED25519_OPS: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBeDVRlfwTCxjtbNPzSD3BN2iK7132OSIJdGuLe1iSVd ops@laptop";
    const ECDSA_ALICE: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBGgzIq6e60FxxtRKtLiHvEb3372/KYlM6LMiWhv+ptmbGAIQaWpXpH3uYIQ7Siktx9MOFgpUOJoc8SpEdOIhk0w= alice@workstation";
    /// Line 8 of corpus/validate/01-worker-node.yml.
    const RSA_JENKINS: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQDQtVlbtGnFG4pvUrAokwNYULSAgDuD5MVphQDP7pvvtHXqgOS/gDS594tyGS1YkCYZcZqa9ATxbx4gWmrCu5FvHhcfVqADSpcs4yIoFgQ+lHj42GZg0GeZ3SeggL5uTZOaveT0mEMnsopY6Zroi7jZIEPmjsrQPWEDHe44/hx0j3eNIgh3ewn38UANwVNOh3F4dNKWq9HHxrb1DwLudqv30i4VdwkhYHKF9wfhODdrx0fcbS3qzDCTpTZL7QPOQoSH/0UJHM3E/LtBa12UQdlTLYx0/JMP2phsGkVb95M6vqI8Vne3KojUFwmzjRbI7sQ9xvJmSz3AzWRFT5azsdTKfFdGgGWF4iJyUBJ21s+2BzuyKvedaG6EtOqoc0aAF1pX5xG8KfWThMgP4fCfFW/hWxxI++fI7KNQk4okZeh9olvZx6sfK4wYjcdJJ47XcvFvYm3+bh+OZ+kIhAHpicT0sk3f3+fEZ3/2icK1k7taiOyq5G78RxzQhHDzg5gRhGU= jenkins@build-01";

    // Public halves of throwaway keys made with OpenSSH 9.2 `ssh-keygen` for these tests; the
    // certificates were signed by a throwaway ed25519 CA, and the security-key lines were
    // assembled from the ed25519/ecdsa points above and checked with `ssh-keygen -l`.
    const GENERATED: &[&str] = &[
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC+HJ/niXxZ3H6E0en/h16H+TUVRaGjXDV+0/jXjA16X+oq4+L6VYe+qL0Ji1am6i98LOxeJgAcGre/mgbA5m970WUh7kJg2HMDPI47/aSfjB8QFkcHTZt+C/vzOg5PDCKgHsEA3qYtYdx9aWnuTRKSW3ZoGGJ8DyvpPJdQ3+nE+YPSM4kXAL9yzRg4kIvkSwkJxgtyETI20pj+7o+7OK6ut7g773uq+CcPt27/GQG2caxqFOHoFysZSJKISu+iSm96b7dX5Tmo6iEWJd97PMUPN09Xqi/vZxJNNU1YtNioKgX1tDtBjXAIuiKDLO8yx4BIjgNSGa1aka3R3M4jqKIN test-rsa-2048@kindling",
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCY2ISyUXbShhbsHEtkI/BC8EqD6R/BdkDZCoZwDbr5mV2NheXN7ihEr+vNd7T0614LFhUijcuplVXgcq9bxALkIEQh447vAQaDrxgEDCrnCzJI2UP9/5mXUR3PiKcuxV3KnosdYr8qAGauCoMJl0TeNUClNcyjrCfNY+TejbwVOw== test-rsa-1024@kindling",
        "ssh-dss AAAAB3NzaC1kc3MAAACBAPtlPRVxGjMDiR5nRxYzSoQqs+dEpaFusbAJvQ4EmzJCET1GlpyVUGeAhj56uXBK3YeZiHT5GjXwHU5WfUKFfreYiLpwYV3FmLd5qWdR1kUzE8IFgFdJpeKZ9sOAvgU0mQAXtHSK3J+1K7318BHaHtOI3QR56s01yYTMT9jxAOzZAAAAFQCoyNsV48CG+CoY3raeMROQ4y88mwAAAIBi9hVLkGdOCcNmkLwCfI8Zwg4gFwuxAAAxRbO0H0t2iDICorGwe1+1oSm+JJSo5WsXMr+BbveQ+xJVxxaysPDmfYD9x2QxQgBE73KHwsKkROdgOlE6r6WG2Uszo5IYJfw5wVTk8u6DHIocewbCLDA89rDrHlHBWeZ0In/ImOKyvwAAAIEApcAhLJLIuqOK7uONoBN8wzopqTUzMAN9/y2WUflFBi9WzJxYaasvRzmH70gd09QdqB6wveOdj+7jFk1kcyujY9JXPzNa3x7oZvFrA/55RA2nzr103BEiYE4pH6Tm7e6n10O4ROg9mad580uq1lzVGV+nnZMgM4wpGGu0PXESyYo= test-dsa@kindling",
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBAaAf0GOD9arKbph2DAWBXvl17egtJq9p728RHWAOuw6PTDN/v4Nc6ToABmoy+UX76Z9AzU3bJPWDqOKDamq0W8= test-ecdsa-256@kindling",
        "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBKa3yMzI5iCML/1+sbXB1HGFsvh853395Y9H77aVo6fWM8oEsP2jJfd24mLC2LLVcmQmzzrjbbJ6CPs4W7LH0Dy7tGkAYw4rPhpH9VX1QjBMn/Vw9toqF7eydk4zsHb1jg== test-ecdsa-384@kindling",
        "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAGi9TGyR+TbfpY+lWr0tfFaWXhE55NnBap9zGT0j4sZyM0xPQ7U7cWaCJA+PWk6svZ4E06cQFHU8mMf0SB8zJs7qABe0Rs169pzf1vyrW2UTV07iVYkdPn1I9+obm8RVs3N2elzwO2MlEMNfORgDieFBWuZ9iCNmZ0vj6cADjJK5I58tg== test-ecdsa-521@kindling",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIiwnlkb6EOOj4gO2H2QJB4PoPw344mCxcI4GLdTtExV test-ed25519@kindling",
        "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIIiwnlkb6EOOj4gO2H2QJB4PoPw344mCxcI4GLdTtExVAAAABHNzaDo= sk-ed@kindling",
        "sk-ecdsa-sha2-nistp256@openssh.com AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5jb20AAAAIbmlzdHAyNTYAAABBBAaAf0GOD9arKbph2DAWBXvl17egtJq9p728RHWAOuw6PTDN/v4Nc6ToABmoy+UX76Z9AzU3bJPWDqOKDamq0W8AAAAEc3NoOg== sk-ec@kindling",
        "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIFXjBsFIkhWS57PVmuCrzvLNqGMlItgQoUpVbPsNwTsIAAAAIIiwnlkb6EOOj4gO2H2QJB4PoPw344mCxcI4GLdTtExVAAAAAAAAAAAAAAABAAAABnRlc3RpZAAAAAgAAAAEY29yZQAAAAAAAAAA//////////8AAAAAAAAAggAAABVwZXJtaXQtWDExLWZvcndhcmRpbmcAAAAAAAAAF3Blcm1pdC1hZ2VudC1mb3J3YXJkaW5nAAAAAAAAABZwZXJtaXQtcG9ydC1mb3J3YXJkaW5nAAAAAAAAAApwZXJtaXQtcHR5AAAAAAAAAA5wZXJtaXQtdXNlci1yYwAAAAAAAAAAAAAAMwAAAAtzc2gtZWQyNTUxOQAAACABEqmVZJP42pvc89wfh4vdzVB6qUgGIR6vXiTIi6i/DgAAAFMAAAALc3NoLWVkMjU1MTkAAABA/V6sXm8SXWLMxyMkvAeoMZwmKlMQvZM+Iwn3sv03cmRnCrQqJ8AiNlLCpZLMjyE+7ItUZK9c6K9EVFNYET74Cw== test-ed25519@kindling",
        "ecdsa-sha2-nistp256-cert-v01@openssh.com AAAAKGVjZHNhLXNoYTItbmlzdHAyNTYtY2VydC12MDFAb3BlbnNzaC5jb20AAAAg1oSyHulYqp8F1iWpsQxvT1ug4bIGkCtw5JiSdMc/mdIAAAAIbmlzdHAyNTYAAABBBAaAf0GOD9arKbph2DAWBXvl17egtJq9p728RHWAOuw6PTDN/v4Nc6ToABmoy+UX76Z9AzU3bJPWDqOKDamq0W8AAAAAAAAAAAAAAAEAAAAGdGVzdGlkAAAACAAAAARjb3JlAAAAAAAAAAD//////////wAAAAAAAACCAAAAFXBlcm1pdC1YMTEtZm9yd2FyZGluZwAAAAAAAAAXcGVybWl0LWFnZW50LWZvcndhcmRpbmcAAAAAAAAAFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAAACnBlcm1pdC1wdHkAAAAAAAAADnBlcm1pdC11c2VyLXJjAAAAAAAAAAAAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIAESqZVkk/jam9zz3B+Hi93NUHqpSAYhHq9eJMiLqL8OAAAAUwAAAAtzc2gtZWQyNTUxOQAAAEAh3ollIJnEub19zPUkXP9Na8JmSVoyAe8nk67ZJCis5Cj6Ltl8qofI4D1dBGahtDXOShsru7o0dlxAIhQ9otsA test-ecdsa-256@kindling",
        "ssh-rsa-cert-v01@openssh.com AAAAHHNzaC1yc2EtY2VydC12MDFAb3BlbnNzaC5jb20AAAAgxg+Ria0RunnVajleiZmDonzFdeylpI4Kxn0wk+N3vqMAAAADAQABAAAAgQCY2ISyUXbShhbsHEtkI/BC8EqD6R/BdkDZCoZwDbr5mV2NheXN7ihEr+vNd7T0614LFhUijcuplVXgcq9bxALkIEQh447vAQaDrxgEDCrnCzJI2UP9/5mXUR3PiKcuxV3KnosdYr8qAGauCoMJl0TeNUClNcyjrCfNY+TejbwVOwAAAAAAAAAAAAAAAgAAAAdyc2FjZXJ0AAAAEAAAAAxob3N0LmV4YW1wbGUAAAAAAAAAAP//////////AAAAAAAAAAAAAAAAAAAAMwAAAAtzc2gtZWQyNTUxOQAAACABEqmVZJP42pvc89wfh4vdzVB6qUgGIR6vXiTIi6i/DgAAAFMAAAALc3NoLWVkMjU1MTkAAABArlOStMcS0yBnULWDQkdPzyb0Ro7C2PSjhgsB4+B2Y+V74Dr/yHH6Y/q9Km76sv+zOGjopzHP3HlLFr1DgLM+Dw== test-rsa-1024@kindling",
        "ssh-dss-cert-v01@openssh.com AAAAHHNzaC1kc3MtY2VydC12MDFAb3BlbnNzaC5jb20AAAAgYn/m5yAhR/lP5kbnt1iNVB4pZWFLjl1VoqXXv6Pb8ZkAAACBAPtlPRVxGjMDiR5nRxYzSoQqs+dEpaFusbAJvQ4EmzJCET1GlpyVUGeAhj56uXBK3YeZiHT5GjXwHU5WfUKFfreYiLpwYV3FmLd5qWdR1kUzE8IFgFdJpeKZ9sOAvgU0mQAXtHSK3J+1K7318BHaHtOI3QR56s01yYTMT9jxAOzZAAAAFQCoyNsV48CG+CoY3raeMROQ4y88mwAAAIBi9hVLkGdOCcNmkLwCfI8Zwg4gFwuxAAAxRbO0H0t2iDICorGwe1+1oSm+JJSo5WsXMr+BbveQ+xJVxxaysPDmfYD9x2QxQgBE73KHwsKkROdgOlE6r6WG2Uszo5IYJfw5wVTk8u6DHIocewbCLDA89rDrHlHBWeZ0In/ImOKyvwAAAIEApcAhLJLIuqOK7uONoBN8wzopqTUzMAN9/y2WUflFBi9WzJxYaasvRzmH70gd09QdqB6wveOdj+7jFk1kcyujY9JXPzNa3x7oZvFrA/55RA2nzr103BEiYE4pH6Tm7e6n10O4ROg9mad580uq1lzVGV+nnZMgM4wpGGu0PXESyYoAAAAAAAAAAAAAAAEAAAAHZHNhY2VydAAAAAgAAAAEY29yZQAAAAAAAAAA//////////8AAAAAAAAAggAAABVwZXJtaXQtWDExLWZvcndhcmRpbmcAAAAAAAAAF3Blcm1pdC1hZ2VudC1mb3J3YXJkaW5nAAAAAAAAABZwZXJtaXQtcG9ydC1mb3J3YXJkaW5nAAAAAAAAAApwZXJtaXQtcHR5AAAAAAAAAA5wZXJtaXQtdXNlci1yYwAAAAAAAAAAAAAAMwAAAAtzc2gtZWQyNTUxOQAAACABEqmVZJP42pvc89wfh4vdzVB6qUgGIR6vXiTIi6i/DgAAAFMAAAALc3NoLWVkMjU1MTkAAABAE+yg4hozEPnMp0yewxBnn56shpyf0xhlOgDHCh6C1kA3WLZ7LlXeQEiyus1vmFAY+UXHlUTXUJc+KOsHe4GDCA== test-dsa@kindling",
    ];

    fn string(bytes: &[u8]) -> Vec<u8> {
        let mut out = u32::try_from(bytes.len()).unwrap().to_be_bytes().to_vec();
        out.extend_from_slice(bytes);
        out
    }

    fn blob(parts: &[&[u8]]) -> Vec<u8> {
        parts.iter().flat_map(|p| string(p)).collect()
    }

    fn line(key_type: &str, blob: &[u8]) -> String {
        format!("{key_type} {} test", BASE64_PADDED.encode(blob))
    }

    const BASE64_PADDED: GeneralPurpose =
        GeneralPurpose::new(&alphabet::STANDARD, GeneralPurposeConfig::new());

    fn err(line: &str) -> String {
        check_public_key(line).expect_err(line)
    }

    fn ed25519_blob() -> Vec<u8> {
        blob(&[b"ssh-ed25519", &[7u8; 32]])
    }

    fn rsa_blob(modulus_bytes: usize) -> Vec<u8> {
        let mut n = vec![0u8];
        n.extend(std::iter::repeat_n(0xc1, modulus_bytes));
        blob(&[b"ssh-rsa", &[1, 0, 1], &n])
    }

    #[test]
    fn brief_vectors() {
        assert_eq!(check_public_key(ED25519_OPS), Ok(()));
        assert_eq!(check_public_key(ECDSA_ALICE), Ok(()));
        assert_eq!(check_public_key(RSA_JENKINS), Ok(()));
        assert_eq!(
            err("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBeDVRlfwTCxjtbN ops@laptop"),
            "key data is truncated (ssh-ed25519 expects a 32-byte key)"
        );
        assert_eq!(err("ssh-ed25519"), "\"ssh-ed25519\" has no key data");
        assert_eq!(
            err("-----BEGIN OPENSSH PRIVATE KEY-----"),
            "this looks like a private key, not a public key"
        );
        assert_eq!(
            err("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIBeDVRlfwTCxjtbNPzSD3BN2iK7132OSIJdGuLe1iSVd jenkins@build-01"),
            "key type \"ssh-rsa\" does not match the key data, which is \"ssh-ed25519\""
        );
    }

    #[test]
    fn generated_keys_are_valid() {
        for key in GENERATED {
            assert_eq!(check_public_key(key), Ok(()), "{key}");
        }
    }

    #[test]
    fn corpus_key_from_hostname_file_is_valid() {
        let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJnuYYQg6l06+JnhKx0FinPIFUjZDmPce/pAzHd6wfWX deploy@ci";
        assert_eq!(check_public_key(key), Ok(()));
    }

    #[test]
    fn every_generated_key_fails_when_cut_short() {
        for key in GENERATED
            .iter()
            .chain([ED25519_OPS, ECDSA_ALICE, RSA_JENKINS].iter())
        {
            let (kt, rest) = key.split_once(' ').unwrap();
            let b64 = rest.split(' ').next().unwrap();
            let bytes = BASE64.decode(b64).unwrap();
            for cut in [1, 2, 5, bytes.len() / 2, bytes.len() - 4] {
                let short = &bytes[..bytes.len() - cut];
                assert!(
                    check_public_key(&line(kt, short)).is_err(),
                    "{kt} cut {cut}"
                );
            }
            let mut long = bytes.clone();
            long.push(0);
            let e = err(&line(kt, &long));
            assert!(e.contains("1 unexpected byte after"), "{kt}: {e}");
        }
    }

    #[test]
    fn whitespace_and_comments() {
        assert_eq!(check_public_key(&format!("  {ED25519_OPS}  \r\n")), Ok(()));
        let tabbed = ED25519_OPS.replace(' ', "\t");
        assert_eq!(check_public_key(&tabbed), Ok(()));
        let spaced = ED25519_OPS.replace(' ', "   ");
        assert_eq!(check_public_key(&spaced), Ok(()));
        let no_comment = ED25519_OPS.rsplit_once(' ').unwrap().0;
        assert_eq!(check_public_key(no_comment), Ok(()));
        let long_comment = format!("{ED25519_OPS} with spaces, and \"quotes\" é");
        assert_eq!(check_public_key(&long_comment), Ok(()));
        assert_eq!(err(""), "the key is empty");
        assert_eq!(err("   "), "the key is empty");
        assert_eq!(err("# ops key"), "this is a comment, not a key");
    }

    #[test]
    fn padding_is_optional() {
        let unpadded = ECDSA_ALICE.replace("= alice", " alice");
        assert_ne!(unpadded, ECDSA_ALICE);
        assert_eq!(check_public_key(&unpadded), Ok(()));
        let b384 = GENERATED[4].replace("== test", " test");
        assert_eq!(check_public_key(&b384), Ok(()));
    }

    #[test]
    fn options_prefix() {
        let with = |opts: &str| format!("{opts} {ED25519_OPS}");
        for opts in [
            "no-pty",
            "restrict",
            "no-pty,no-port-forwarding",
            "command=\"echo hi\",no-pty",
            "command=\"echo \\\"hi, there\\\"\",no-pty",
            "from=\"10.0.0.0/8,192.168.1.1\"",
            "environment=\"A=b c\",command=\"/bin/sh -c 'x y'\"",
            "cert-authority,principals=\"ops,admin\"",
            "foo",
        ] {
            assert_eq!(check_public_key(&with(opts)), Ok(()), "{opts}");
        }
        let tabbed = format!("no-pty\t{ED25519_OPS}");
        assert_eq!(check_public_key(&tabbed), Ok(()));
        assert_eq!(
            err("command=\"echo hi ssh-ed25519 AAAA"),
            "the options before the key have an unterminated quote"
        );
        assert_eq!(
            err("command=\"echo hi\",no-pty"),
            "the options are not followed by a key"
        );
        let truncated = with("no-pty").replace("iSVd", "");
        assert!(err(&truncated).contains("truncated"));
        assert_eq!(err("no-pty ssh-ed25519"), "\"ssh-ed25519\" has no key data");
    }

    #[test]
    fn options_then_missing_or_unknown_type() {
        let blob = ED25519_OPS.split(' ').nth(1).unwrap();
        assert_eq!(
            err(&format!("no-pty {blob} c")),
            "the key type is missing before the key data (it is a \"ssh-ed25519\" key)"
        );
        assert_eq!(
            err(&format!("{blob} c")),
            "the key type is missing before the key data (it is a \"ssh-ed25519\" key)"
        );
        assert_eq!(
            err(&format!("no-pty ssh-foo {blob}")),
            "unknown key type \"ssh-foo\" (the key data is \"ssh-ed25519\")"
        );
    }

    #[test]
    fn unknown_types() {
        assert_eq!(err("foo"), "unknown key type \"foo\"");
        assert_eq!(err("foo bar baz"), "unknown key type \"foo\"");
        let blob = ED25519_OPS.split(' ').nth(1).unwrap();
        assert_eq!(
            err(&format!("ssh-ed25518 {blob} x")),
            "unknown key type \"ssh-ed25518\" (the key data is \"ssh-ed25519\")"
        );
        assert_eq!(
            err(&format!("SSH-ED25519 {blob} x")),
            "unknown key type \"SSH-ED25519\" (key types are lower case: \"ssh-ed25519\")"
        );
        assert!(err(&format!("rsa-sha2-512 {blob}")).contains("signature algorithm"));
        assert!(err("ssh-ed448 AAAA").contains("ssh-ed448"));
        let long = "x".repeat(500);
        assert!(err(&long).len() < 100);
    }

    #[test]
    fn foreign_formats() {
        for l in [
            "-----BEGIN RSA PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----",
            "-----BEGIN EC PRIVATE KEY-----",
            "-----END OPENSSH PRIVATE KEY-----",
            "PuTTY-User-Key-File-3: ssh-ed25519",
            "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
        ] {
            assert_eq!(
                err(l),
                "this looks like a private key, not a public key",
                "{l}"
            );
        }
        assert!(err("---- BEGIN SSH2 PUBLIC KEY ----").contains("RFC 4716"));
        assert!(err("-----BEGIN PUBLIC KEY-----").contains("PEM"));
    }

    #[test]
    fn bad_base64() {
        assert_eq!(
            err("ssh-ed25519 AAAA!!!! x"),
            "key data is not valid base64"
        );
        assert_eq!(err("ssh-ed25519 A x"), "key data is not valid base64");
        assert_eq!(
            err("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBeDVRlfwTCxjtbNPzSD3BN2iK71-2OSIJdGuLe1iSVd"),
            "key data is not valid base64"
        );
    }

    #[test]
    fn blob_not_starting_with_type() {
        let e = err("ssh-rsa MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA x");
        assert!(e.contains("not an OpenSSH public key"), "{e}");
        let e = err(&line("ssh-rsa", &blob(&[&[0xff, 0x00, 0x01]])));
        assert!(e.contains("not an OpenSSH public key"), "{e}");
        let e = err(&line("ssh-ed25519", &[]));
        assert!(e.contains("not an OpenSSH public key"), "{e}");
    }

    #[test]
    fn ed25519_structure() {
        assert_eq!(
            check_public_key(&line("ssh-ed25519", &ed25519_blob())),
            Ok(())
        );
        let short = blob(&[b"ssh-ed25519", &[7u8; 31]]);
        assert_eq!(
            err(&line("ssh-ed25519", &short)),
            "ssh-ed25519 expects a 32-byte key, but this one is 31 bytes"
        );
        let long = blob(&[b"ssh-ed25519", &[7u8; 33]]);
        assert!(err(&line("ssh-ed25519", &long)).contains("33 bytes"));
        let mut trailing = ed25519_blob();
        trailing.extend_from_slice(&[1, 2]);
        assert_eq!(
            err(&line("ssh-ed25519", &trailing)),
            "key data has 2 unexpected bytes after the ssh-ed25519 key"
        );
    }

    #[test]
    fn rsa_structure() {
        assert_eq!(check_public_key(&line("ssh-rsa", &rsa_blob(128))), Ok(()));
        assert_eq!(check_public_key(&line("ssh-rsa", &rsa_blob(2048))), Ok(()));
        assert_eq!(
            err(&line("ssh-rsa", &rsa_blob(96))),
            "the RSA modulus is 768 bits; OpenSSH requires at least 1024"
        );
        assert!(err(&line("ssh-rsa", &rsa_blob(2049))).contains("larger than 16384"));
        let negative = blob(&[b"ssh-rsa", &[1, 0, 1], &[0xc1; 128]]);
        assert_eq!(
            err(&line("ssh-rsa", &negative)),
            "the key's modulus is negative"
        );
        let neg_e = blob(&[b"ssh-rsa", &[0x81], &[0x41; 129]]);
        assert_eq!(
            err(&line("ssh-rsa", &neg_e)),
            "the key's exponent is negative"
        );
        // OpenSSH strips redundant leading zeros and accepts an empty exponent.
        let n = [&[0u8][..], &[0xc1; 128]].concat();
        let padded = blob(&[b"ssh-rsa", &[0, 0, 1, 0, 1], &n]);
        assert_eq!(check_public_key(&line("ssh-rsa", &padded)), Ok(()));
        let empty_e = blob(&[b"ssh-rsa", &[], &n]);
        assert_eq!(check_public_key(&line("ssh-rsa", &empty_e)), Ok(()));
        let no_n = blob(&[b"ssh-rsa", &[1, 0, 1]]);
        assert_eq!(
            err(&line("ssh-rsa", &no_n)),
            "key data is truncated (ssh-rsa expects an exponent and a modulus)"
        );
        let zero_n = blob(&[b"ssh-rsa", &[1, 0, 1], &[]]);
        assert!(err(&line("ssh-rsa", &zero_n)).contains("0 bits"));
    }

    #[test]
    fn mpint_bit_lengths() {
        assert_eq!(mpint_bits(&[], "x"), Ok(0));
        assert_eq!(mpint_bits(&[0, 0], "x"), Ok(0));
        assert_eq!(mpint_bits(&[1], "x"), Ok(1));
        assert_eq!(mpint_bits(&[0, 0x80], "x"), Ok(8));
        assert_eq!(mpint_bits(&[0x01, 0, 0], "x"), Ok(17));
        assert!(mpint_bits(&[0x80], "x").is_err());
    }

    #[test]
    fn dss_structure() {
        let ok = blob(&[b"ssh-dss", &[5], &[3], &[2], &[1]]);
        assert_eq!(check_public_key(&line("ssh-dss", &ok)), Ok(()));
        let three = blob(&[b"ssh-dss", &[5], &[3], &[2]]);
        assert!(err(&line("ssh-dss", &three)).contains("p, q, g and y"));
        let negative = blob(&[b"ssh-dss", &[5], &[3], &[2], &[0x90]]);
        assert!(err(&line("ssh-dss", &negative)).contains("negative"));
    }

    #[test]
    fn ecdsa_structure() {
        let mut q = vec![4u8];
        q.extend([9u8; 64]);
        let ok = blob(&[b"ecdsa-sha2-nistp256", b"nistp256", &q]);
        assert_eq!(check_public_key(&line("ecdsa-sha2-nistp256", &ok)), Ok(()));
        let wrong_curve = blob(&[b"ecdsa-sha2-nistp256", b"nistp384", &q]);
        assert_eq!(
            err(&line("ecdsa-sha2-nistp256", &wrong_curve)),
            "the key data names curve \"nistp384\", but ecdsa-sha2-nistp256 keys use \"nistp256\""
        );
        let p384 = blob(&[b"ecdsa-sha2-nistp384", b"nistp384", &q]);
        assert_eq!(
            err(&line("ecdsa-sha2-nistp384", &p384)),
            "ecdsa-sha2-nistp384 expects a 97-byte point, but this one is 65 bytes"
        );
        let mut compressed = vec![2u8];
        compressed.extend([9u8; 32]);
        let c = blob(&[b"ecdsa-sha2-nistp256", b"nistp256", &compressed]);
        assert!(err(&line("ecdsa-sha2-nistp256", &c)).contains("compressed"));
        let mut odd = q.clone();
        odd[0] = 7;
        let o = blob(&[b"ecdsa-sha2-nistp256", b"nistp256", &odd]);
        assert!(err(&line("ecdsa-sha2-nistp256", &o)).contains("0x04"));
        let empty = blob(&[b"ecdsa-sha2-nistp256", b"nistp256", &[]]);
        assert!(err(&line("ecdsa-sha2-nistp256", &empty)).contains("0x04"));
        let no_point = blob(&[b"ecdsa-sha2-nistp521", b"nistp521"]);
        assert_eq!(
            err(&line("ecdsa-sha2-nistp521", &no_point)),
            "key data is truncated (ecdsa-sha2-nistp521 expects a curve name and a 133-byte point)"
        );
    }

    #[test]
    fn security_key_structure() {
        let mut q = vec![4u8];
        q.extend([9u8; 64]);
        let t = "sk-ecdsa-sha2-nistp256@openssh.com";
        let ok = blob(&[t.as_bytes(), b"nistp256", &q, b"ssh:"]);
        assert_eq!(check_public_key(&line(t, &ok)), Ok(()));
        let no_app = blob(&[t.as_bytes(), b"nistp256", &q]);
        assert!(err(&line(t, &no_app)).contains("an application"));
        let nul_app = blob(&[t.as_bytes(), b"nistp256", &q, b"ssh\0:"]);
        assert!(err(&line(t, &nul_app)).contains("NUL"));
        let t = "sk-ssh-ed25519@openssh.com";
        let ok = blob(&[t.as_bytes(), &[1u8; 32], b"ssh:"]);
        assert_eq!(check_public_key(&line(t, &ok)), Ok(()));
        let empty_app = blob(&[t.as_bytes(), &[1u8; 32], b""]);
        assert_eq!(check_public_key(&line(t, &empty_app)), Ok(()));
        let no_app = blob(&[t.as_bytes(), &[1u8; 32]]);
        assert_eq!(
            err(&line(t, &no_app)),
            "key data is truncated (sk-ssh-ed25519@openssh.com expects a 32-byte key and an application)"
        );
    }

    /// A structurally complete certificate for an ed25519 key, signed by an ed25519 "CA".
    fn cert_blob(cert_type: u32, signer: &[u8], signature: &[u8]) -> Vec<u8> {
        let mut b = blob(&[b"ssh-ed25519-cert-v01@openssh.com", &[0u8; 32], &[5u8; 32]]);
        b.extend(0u64.to_be_bytes());
        b.extend(cert_type.to_be_bytes());
        b.extend(string(b"key-id"));
        b.extend(string(&[string(b"core"), string(b"admin")].concat()));
        b.extend(0u64.to_be_bytes());
        b.extend(u64::MAX.to_be_bytes());
        b.extend(string(b""));
        b.extend(string(b""));
        b.extend(string(b""));
        b.extend(string(signer));
        b.extend(string(signature));
        b
    }

    #[test]
    fn certificate_structure() {
        let t = "ssh-ed25519-cert-v01@openssh.com";
        let ca = ed25519_blob();
        assert_eq!(
            check_public_key(&line(t, &cert_blob(1, &ca, b"sig"))),
            Ok(())
        );
        assert_eq!(
            check_public_key(&line(t, &cert_blob(2, &ca, b"sig"))),
            Ok(())
        );
        assert_eq!(
            err(&line(t, &cert_blob(3, &ca, b"sig"))),
            "certificate type 3 is neither user (1) nor host (2)"
        );
        assert_eq!(
            err(&line(t, &cert_blob(1, &ca, b""))),
            "the certificate has no signature"
        );
        let bad_ca = blob(&[b"ssh-ed25519", &[1u8; 31]]);
        assert!(err(&line(t, &cert_blob(1, &bad_ca, b"sig"))).contains("signing key is not valid"));
        let cert_ca = cert_blob(1, &ca, b"sig");
        assert!(err(&line(t, &cert_blob(1, &cert_ca, b"sig"))).contains("is a certificate"));
        let unknown_ca = blob(&[b"ssh-foo", &[1u8; 32]]);
        assert!(err(&line(t, &cert_blob(1, &unknown_ca, b"sig"))).contains("unknown key type"));
        let full = cert_blob(1, &ca, b"sig");
        for cut in [1, 4, 20, full.len() - 40] {
            let e = err(&line(t, &full[..full.len() - cut]));
            assert!(
                e.contains("truncated") || e.contains("not valid"),
                "{cut}: {e}"
            );
        }
        let mut bad_principals = blob(&[t.as_bytes(), &[0u8; 32], &[5u8; 32]]);
        bad_principals.extend(0u64.to_be_bytes());
        bad_principals.extend(1u32.to_be_bytes());
        bad_principals.extend(string(b"id"));
        bad_principals.extend(string(&[0, 0, 0, 9, b'x']));
        assert!(err(&line(t, &bad_principals)).contains("principal list"));
    }

    #[test]
    fn type_mismatch_between_line_and_cert() {
        let t = "ssh-ed25519-cert-v01@openssh.com";
        let ca = ed25519_blob();
        let e = err(&line("ssh-ed25519", &cert_blob(1, &ca, b"sig")));
        assert_eq!(
            e,
            format!("key type \"ssh-ed25519\" does not match the key data, which is \"{t}\"")
        );
    }

    #[test]
    fn split_options_follows_openssh() {
        assert_eq!(split_options("a b"), Ok(("a", "b")));
        assert_eq!(split_options("a=\"x y\" b"), Ok(("a=\"x y\"", "b")));
        assert_eq!(split_options("a=\"x\\\" y\" b"), Ok(("a=\"x\\\" y\"", "b")));
        assert_eq!(split_options("\\\"a b"), Ok(("\\\"a", "b")));
        assert_eq!(split_options("abc"), Ok(("abc", "")));
        assert!(split_options("a=\"x").is_err());
        assert!(split_options("a=\"x\\\"").is_err());
        assert_eq!(split_options("é\"x y\"é b"), Ok(("é\"x y\"é", "b")));
    }

    #[test]
    fn never_panics_on_odd_input() {
        let inputs = [
            "\0",
            "ssh-ed25519 \0",
            "ssh-ed25519 ====",
            "ssh-ed25519 AAAA",
            "ssh-ed25519 AAAAAAAA",
            "ssh-ed25519 /////////////w==",
            "ssh-rsa-cert-v01@openssh.com AAAAHHNzaC1yc2EtY2VydC12MDFAb3BlbnNzaC5jb20=",
            "\"",
            "\\",
            "\\\"",
            "é ü",
            "ssh-ed25519\u{a0}AAAA",
            "\u{feff}ssh-ed25519 AAAA",
        ];
        for i in inputs {
            let _ = check_public_key(i);
        }
        let ok = GENERATED[9];
        for end in 0..=ok.len() {
            if let Some(prefix) = ok.get(..end) {
                let _ = check_public_key(prefix);
            }
        }
    }
}
