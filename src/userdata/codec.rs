//! Base64 and quoted-printable, decoded once for every reader: MIME part bodies and RFC 2047
//! header words here, `write_files` content and `!!binary` scalars in `config::decode`. The
//! readers differ on purpose in what they accept (MIME follows RFC 4648 in the last symbol,
//! config follows Go's decoder as the reference does); each names its rule, and the mechanism
//! lives here. It sits in userdata because config already reads user-data's gzip and the
//! pipeline runs userdata first: nothing here may depend on config.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

pub use base64::DecodeError;

/// How a base64 reader treats the last symbol's unused bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastSymbol {
    /// RFC 4648 §3.5: unused bits must be zero (MIME bodies and header words).
    Canonical,
    /// Go's `base64.StdEncoding` (the reference's decoder) ignores them.
    AnyTrailingBits,
}

const CANONICAL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

const TRAILING_BITS: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Standard-alphabet base64 as user-data carries it: line breaks and other ASCII whitespace
/// are not data (MIME breaks lines at 76, YAML folds scalars), padding optional.
pub fn base64(text: &[u8], last: LastSymbol) -> Result<Vec<u8>, DecodeError> {
    let compact: Vec<u8> = text
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    match last {
        LastSymbol::Canonical => CANONICAL.decode(compact),
        LastSymbol::AnyTrailingBits => TRAILING_BITS.decode(compact),
    }
}

/// Quoted-printable (RFC 2045 §6.7): `=XX` escapes and `=` soft line breaks are decoded,
/// trailing blanks that transport may have added are dropped, and a malformed `=` is kept as
/// is, as the RFC recommends for robustness. Hard line breaks stay as written (LF or CRLF).
pub fn quoted_printable(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while !rest.is_empty() {
        let (line, eol, next): (&[u8], &[u8], &[u8]) = match rest.iter().position(|&b| b == b'\n') {
            Some(n) => {
                let line = rest.get(..n).unwrap_or_default();
                let next = rest.get(n + 1..).unwrap_or_default();
                match line.strip_suffix(b"\r") {
                    Some(l) => (l, b"\r\n", next),
                    None => (line, b"\n", next),
                }
            }
            None => (rest, b"", &[]),
        };
        let end = line
            .iter()
            .rposition(|b| !matches!(b, b' ' | b'\t'))
            .map_or(0, |i| i + 1);
        let line = line.get(..end).unwrap_or_default();
        match line.strip_suffix(b"=") {
            Some(soft) => unescape_hex(soft, b'=', &mut out),
            None => {
                unescape_hex(line, b'=', &mut out);
                out.extend_from_slice(eol);
            }
        }
        rest = next;
    }
    out
}

/// Copies `text` to `out` with each `escape` followed by two hex digits decoded to the byte
/// they stand for (`=3D` in quoted-printable and RFC 2047's "Q", `%3D` in RFC 2231 values);
/// an `escape` that does not start one is kept as written.
pub fn unescape_hex(text: &[u8], escape: u8, out: &mut Vec<u8>) {
    out.reserve(text.len());
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        if b == escape {
            if let Some(byte) = hex_pair(text.get(i + 1..i + 3)) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
}

/// The byte two hex digits stand for.
fn hex_pair(pair: Option<&[u8]>) -> Option<u8> {
    let hex = |b: &u8| char::from(*b).to_digit(16);
    match pair? {
        [high, low] => u8::try_from(hex(high)? * 16 + hex(low)?).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_skips_whitespace_and_wants_no_padding() {
        for last in [LastSymbol::Canonical, LastSymbol::AnyTrailingBits] {
            assert_eq!(base64(b"aGVs\n  bG8K\r\n", last).unwrap(), b"hello\n");
            assert_eq!(base64(b"NDI", last).unwrap(), b"42");
            assert_eq!(base64(b"NDI=", last).unwrap(), b"42");
            assert!(base64(b"ND%I", last).is_err());
        }
    }

    #[test]
    fn only_gos_rule_ignores_stray_bits_in_the_last_symbol() {
        // "NDJ=": the last symbol's unused bits are not zero ("NDI=" is canonical).
        assert!(base64(b"NDJ=", LastSymbol::Canonical).is_err());
        assert_eq!(base64(b"NDJ=", LastSymbol::AnyTrailingBits).unwrap(), b"42");
    }

    #[test]
    fn quoted_printable_soft_breaks_escapes_and_transport_blanks() {
        assert_eq!(
            quoted_printable(b"a=3Db=\r\nc  \r\nd=\ne=ZZ f="),
            b"a=bc\r\nde=ZZ f"
        );
        assert_eq!(quoted_printable(b"x=\n"), b"x");
        assert_eq!(quoted_printable(b""), b"");
    }

    #[test]
    fn malformed_escapes_are_kept() {
        let mut out = Vec::new();
        unescape_hex(b"100%%41%4g%", b'%', &mut out);
        assert_eq!(out, b"100%A%4g%");
        out.clear();
        unescape_hex(b"=C3=A9=", b'=', &mut out);
        assert_eq!(out, "é=".as_bytes());
    }
}
