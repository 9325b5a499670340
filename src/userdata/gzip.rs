//! Bounded, strict gunzip for whole payloads, MIME parts and `write_files` content.
//! Unlike the reference, a truncated or trailing-garbage stream is an error, never partial output.

use std::io::{ErrorKind, Read};

use flate2::bufread::GzDecoder;

/// The most bytes any single gunzip may produce. User-data is capped at 16 MiB on fetch, so a
/// larger output can only come from a decompression bomb.
pub const MAX_DECOMPRESSED: usize = 64 << 20;

/// Why a gzip stream could not be decompressed completely. The messages all contain "gzip" so
/// that a caller can prefix them with its own context and still be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GzipError {
    /// The data does not begin with the gzip magic bytes `1f 8b`.
    #[error("not gzip data (it does not start with the bytes 1f 8b)")]
    NotGzip,
    /// The stream ends before its final block or before its 8-byte trailer.
    #[error("gzip data is truncated")]
    Truncated,
    /// The header, a deflate block, the checksum or bytes after the stream are invalid.
    #[error("gzip data is corrupt: {0}")]
    Corrupt(String),
    /// The output would exceed [`MAX_DECOMPRESSED`].
    #[error("gzip data decompresses to more than {} MiB", MAX_DECOMPRESSED >> 20)]
    TooLarge,
}

/// Whole-payload gzip (reference §1.3 step 7): `Ok(None)` when `data` does not start with
/// `1f 8b` (it is used as is), `Ok(Some(bytes))` when it decompresses completely (all members,
/// trailers checked), and an error otherwise. The reference silently accepts a truncated stream;
/// kindling does not, because half a config applied is worse than none.
pub fn gunzip_payload(data: &[u8]) -> Result<Option<Vec<u8>>, GzipError> {
    if is_gzip(data) {
        gunzip(data).map(Some)
    } else {
        Ok(None)
    }
}

/// Whether `data` starts with the gzip magic bytes.
pub fn is_gzip(data: &[u8]) -> bool {
    data.starts_with(&[0x1f, 0x8b])
}

/// Decompresses data that must be gzip: every member of a multi-member stream (as Go's reader,
/// which the reference uses, does), with each member's CRC and length checked. Bytes after the
/// last member that do not start another member are an error, as in Go.
pub fn gunzip(data: &[u8]) -> Result<Vec<u8>, GzipError> {
    gunzip_limited(data, MAX_DECOMPRESSED)
}

/// [`gunzip`] with a smaller cap, for callers that share [`MAX_DECOMPRESSED`] among several
/// streams (the gzip parts of one multipart document).
pub fn gunzip_limited(data: &[u8], limit: usize) -> Result<Vec<u8>, GzipError> {
    let limit = limit.min(MAX_DECOMPRESSED);
    if !is_gzip(data) {
        return Err(GzipError::NotGzip);
    }
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        if !is_gzip(rest) {
            return Err(GzipError::Corrupt(format!(
                "{} unexpected bytes after the end of the stream",
                rest.len()
            )));
        }
        // One byte past the cap tells "exactly at the cap" from "over it" without reading
        // further.
        let budget = limit.saturating_sub(out.len()).saturating_add(1);
        let mut member = GzDecoder::new(rest);
        let read = (&mut member)
            .take(u64::try_from(budget).unwrap_or(u64::MAX))
            .read_to_end(&mut out);
        match read {
            Ok(_) if out.len() > limit => return Err(GzipError::TooLarge),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Err(GzipError::Truncated),
            Err(e) => return Err(GzipError::Corrupt(e.to_string())),
        }
        // The bufread decoder consumes exactly one member, so what is left is the next one.
        rest = member.into_inner();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn reference_vector_1_decompresses() {
        let data = base64::engine::general_purpose::STANDARD
            .decode("H4sIAJWV/VUAA1NOzskvTdFNzs9Ly0wHABt6mQENAAAA")
            .unwrap();
        assert_eq!(
            gunzip_payload(&data).unwrap().as_deref(),
            Some(&b"#cloud-config"[..])
        );
    }

    #[test]
    fn plain_text_is_not_gzip() {
        assert_eq!(gunzip_payload(b"#cloud-config\nhostname: a\n"), Ok(None));
        assert_eq!(gunzip_payload(b""), Ok(None));
        assert_eq!(gunzip_payload(b"\x1f"), Ok(None));
        assert_eq!(gunzip(b"#cloud-config"), Err(GzipError::NotGzip));
    }

    #[test]
    fn corrupt_after_magic_is_an_error() {
        let err = gunzip_payload(b"\x1f\x8bthis is not gzip at all").unwrap_err();
        assert!(err.to_string().contains("gzip"), "{err}");
        // Magic bytes alone are a header cut short.
        assert!(gunzip_payload(b"\x1f\x8b").is_err());
    }

    #[test]
    fn truncated_stream_is_an_error() {
        let full = gz(b"#cloud-config\nhostname: truncated\n");
        // Cut inside the deflate data and inside the trailer: both must fail.
        for cut in [full.len() / 2, full.len() - 4, full.len() - 1] {
            assert_eq!(gunzip(&full[..cut]), Err(GzipError::Truncated), "cut {cut}");
        }
    }

    #[test]
    fn bad_checksum_is_an_error() {
        let mut data = gz(b"#cloud-config\n");
        let crc_at = data.len() - 8;
        data[crc_at] ^= 0xff;
        assert!(matches!(gunzip(&data), Err(GzipError::Corrupt(_))));
    }

    #[test]
    fn members_are_concatenated_and_garbage_after_them_is_an_error() {
        let mut data = gz(b"#cloud-config\n");
        data.extend(gz(b"hostname: two\n"));
        assert_eq!(gunzip(&data).unwrap(), b"#cloud-config\nhostname: two\n");
        data.extend_from_slice(b"junk");
        let err = gunzip(&data).unwrap_err();
        assert_eq!(
            err.to_string(),
            "gzip data is corrupt: 4 unexpected bytes after the end of the stream"
        );
    }

    #[test]
    fn output_is_capped() {
        // Concatenated members reach the cap without compressing 64 MiB in a debug build.
        let mib = gz(&vec![b'a'; 1 << 20]);
        let at_cap = mib.repeat(MAX_DECOMPRESSED >> 20);
        assert_eq!(gunzip(&at_cap).map(|v| v.len()), Ok(MAX_DECOMPRESSED));
        let mut over = at_cap;
        over.extend(gz(b"a"));
        assert_eq!(gunzip(&over), Err(GzipError::TooLarge));
    }

    #[test]
    fn corpus_files() {
        let clean = include_bytes!("../../testdata/userdata/13-gzip-payload-clean.gz");
        let text = gunzip_payload(clean).unwrap().unwrap();
        assert!(text.starts_with(b"#cloud-config\nhostname: edge-cache-04\n"));

        let corrupt = include_bytes!("../../testdata/userdata/39-gzip-corrupt.gz");
        let err = gunzip_payload(corrupt).unwrap_err();
        assert!(err.to_string().contains("gzip"), "{err}");
    }
}
