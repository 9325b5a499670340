//! Decoding of `write_files` content by its `encoding`, and of `!!binary` scalars.
//! Stricter than the reference: a truncated gzip stream is an error, not a silent short file.

use crate::userdata::{self, LastSymbol};

/// Base64 as cloud-configs carry it: line breaks and blanks inside are not data, padding
/// optional, and stray bits in the last symbol ignored as Go's decoder (the reference's) does.
pub fn base64(text: &[u8]) -> Result<Vec<u8>, String> {
    userdata::base64(text, LastSymbol::AnyTrailingBits).map_err(|e| match e {
        base64::DecodeError::InvalidByte(at, byte) => {
            format!("invalid base64 character {:?} at offset {at}", byte as char)
        }
        base64::DecodeError::InvalidLength(_) => "base64 data has an invalid length".to_string(),
        base64::DecodeError::InvalidPadding => "base64 padding is invalid".to_string(),
        other => format!("invalid base64: {other}"),
    })
}

/// Why Go's `base64.StdEncoding` (what the reference decodes `content` and `!!binary` with)
/// refuses base64 that [`base64`] accepts: Go skips only CR and LF, and requires the `=`
/// padding. `None` when Go accepts it too.
pub fn go_base64_refuses(text: &[u8]) -> Option<String> {
    if let Some(at) = text
        .iter()
        .position(|b| b.is_ascii_whitespace() && !matches!(b, b'\n' | b'\r'))
    {
        let what = match text[at] {
            b' ' => "a space",
            b'\t' => "a tab",
            _ => "a form feed",
        };
        return Some(format!(
            "{what} at offset {at}; only line breaks may separate base64"
        ));
    }
    let symbols = text.iter().filter(|b| !matches!(b, b'\n' | b'\r')).count();
    (symbols % 4 != 0).then(|| {
        format!("the `=` padding is missing ({symbols} symbols; base64 comes in groups of 4)")
    })
}

/// Decodes `content` as `encoding` says (one of [`crate::config::schema::ENCODINGS`]).
pub fn content(encoding: &str, content: &[u8]) -> Result<Vec<u8>, String> {
    let gunzip = |data: &[u8]| userdata::gunzip(data).map_err(|e| e.to_string());
    match encoding {
        "" => Ok(content.to_vec()),
        "base64" | "b64" => base64(content),
        "gz" | "gzip" => gunzip(content),
        "gz+base64" | "gzip+base64" | "gz+b64" | "gzip+b64" => gunzip(&base64(content)?),
        other => Err(format!("unsupported encoding {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // reference.md §7.1 vector 15: "42" through every encoding.
    const GZ_42: &str = "H4sIAGUfoFQC/zMxAgCIsCQyAgAAAA==";

    #[test]
    fn every_encoding_yields_42() {
        assert_eq!(content("b64", b"NDI=").unwrap(), b"42");
        assert_eq!(content("base64", b"NDI=").unwrap(), b"42");
        let gz = base64(GZ_42.as_bytes()).unwrap();
        assert_eq!(content("gzip", &gz).unwrap(), b"42");
        assert_eq!(content("gz", &gz).unwrap(), b"42");
        for enc in ["gz+base64", "gzip+base64", "gz+b64", "gzip+b64"] {
            assert_eq!(content(enc, GZ_42.as_bytes()).unwrap(), b"42", "{enc}");
        }
    }

    #[test]
    fn whitespace_inside_base64_is_not_data() {
        assert_eq!(base64(b"aGVs\n  bG8K\n").unwrap(), b"hello\n");
        assert_eq!(base64(b"NDI").unwrap(), b"42");
    }

    #[test]
    fn issue8_what_go_refuses_but_kindling_decodes() {
        // Go's StdEncoding skips CR and LF only, and wants the padding.
        for ok in [&b"NDI="[..], b"ND\nI=\r\n", b"", b"aGVs\nbG8K\n"] {
            assert_eq!(go_base64_refuses(ok), None, "{ok:?}");
        }
        let why = go_base64_refuses(b"NDI").unwrap();
        assert!(why.contains("padding is missing"), "{why}");
        let why = go_base64_refuses(b"aGVs bG8K").unwrap();
        assert!(why.starts_with("a space at offset 4"), "{why}");
        assert!(go_base64_refuses(b"aGVs\tbG8K")
            .unwrap()
            .starts_with("a tab"));
        // kindling itself decodes all of them.
        for lenient in [&b"NDI"[..], b"aGVs bG8K", b"aGVs\tbG8K"] {
            assert!(base64(lenient).is_ok());
        }
    }

    #[test]
    fn bad_data_is_an_error() {
        assert!(content("base64", b"S1VCRUxFVF9BUkdTPS0tdjI%").is_err());
        assert!(content("gzip+base64", b"V2VsY29tZSB0byB0aGUgZmxlZXQK").is_err());
        assert!(content("gz", b"not gzip at all").is_err());
        assert!(content("base-64", b"x").is_err());
        // A !!binary scalar already decoded "hello\n": not base64 (reference §7.1 vector 19).
        assert!(content("base64", b"hello\n").is_err());
    }
}
