//! Tests for detection and multipart splitting, from the reference's vectors and the corpus.
//! Inputs shared with the corpus are copies under `testdata/userdata/`.

use super::*;
use base64::Engine as _;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;

const CLEAN_09: &[u8] = include_bytes!("../../testdata/userdata/09-multipart-clean.mime");
const BROKEN_38: &[u8] = include_bytes!("../../testdata/userdata/38-multipart-broken-part.mime");
const EIGHT_PARTS: &[u8] = include_bytes!("../../testdata/userdata/27-multipart-8-parts.mime");

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn kinds(split: &Split) -> Vec<PartKind> {
    split.parts.iter().map(|p| p.kind).collect()
}

fn lines_of(split: &Split) -> Vec<usize> {
    split.parts.iter().map(|p| p.first_line).collect()
}

fn crlf(data: &[u8]) -> Vec<u8> {
    String::from_utf8(data.to_vec())
        .unwrap()
        .replace('\n', "\r\n")
        .into_bytes()
}

// --- detection -------------------------------------------------------------------------------

#[test]
fn reference_vector_24_dispatch() {
    for detect_fn in [detect, detect_for_validation] {
        assert_eq!(detect_fn(b"{}"), Kind::Unknown);
        assert_eq!(detect_fn(br#"{"ignitionVersion":1}"#), Kind::Ignition);
        assert_eq!(detect_fn(b"#!/bin/bash\necho hi\n"), Kind::Script);
        assert_eq!(detect_fn(b""), Kind::Empty);
    }
}

#[test]
fn cloud_config_header() {
    assert_eq!(detect(b"#cloud-config"), Kind::CloudConfig);
    assert_eq!(detect(b"#cloud-config\nhostname: a\n"), Kind::CloudConfig);
    assert_eq!(
        detect(b"#cloud-config\r\nhostname: a\r\n"),
        Kind::CloudConfig
    );
    assert_eq!(
        detect(b"#cloud-config  \t\nhostname: a\n"),
        Kind::CloudConfig
    );
    assert_eq!(detect(b"#cloud-config x\n"), Kind::Unknown);
    assert_eq!(detect(b" #cloud-config\n"), Kind::Unknown);
    assert_eq!(detect(b"\xef\xbb\xbf#cloud-config\n"), Kind::Unknown);
    assert_eq!(detect(b"#cloudconfig\n"), Kind::Unknown);
    assert_eq!(detect(b"hostname: a\n"), Kind::Unknown);
    // Whitespace is content, not emptiness.
    assert_eq!(detect(b" \n"), Kind::Unknown);
    assert_eq!(detect_for_validation(b"\n"), Kind::Unknown);
}

#[test]
fn ignition_detection() {
    assert!(is_ignition(br#"{"ignition": {"version": "3.4.0"}}"#));
    assert!(is_ignition(br#"{"ignitionVersion": 1, "systemd": {}}"#));
    // Go's decoder matches member names case-insensitively.
    assert!(is_ignition(br#"{"IgnitionVersion": 2}"#));
    assert!(!is_ignition(br#"{"ignitionVersion": "1"}"#));
    assert!(!is_ignition(br#"{"ignitionVersion": 1.5}"#));
    assert!(!is_ignition(br#"{"ignition": {"version": 3}}"#));
    assert!(!is_ignition(br#"{"ignition": {}}"#));
    assert!(!is_ignition(br#"{"ignitionVersion": null}"#));
    // A wrong-typed sibling makes Go reject the whole object.
    assert!(!is_ignition(br#"{"ignitionVersion": 1, "ignition": 5}"#));
    assert!(!is_ignition(br#"[{"ignitionVersion": 1}]"#));
    assert!(!is_ignition(b"{\"ignitionVersion\": 1"));
}

#[test]
fn multipart_detection() {
    assert_eq!(detect(CLEAN_09), Kind::Multipart);
    assert_eq!(detect_for_validation(CLEAN_09), Kind::Multipart);
    assert_eq!(
        detect(b"MIME-Version: 1.0\nCONTENT-TYPE: Multipart/Mixed; boundary=x\n\n--x--\n"),
        Kind::Multipart
    );
    // A substring match, as the reference does; the splitter then rejects the type.
    assert_eq!(
        detect(b"Content-Type: text/plain; note=multipart/mixed\n\nhi\n"),
        Kind::Multipart
    );
    assert_eq!(
        detect(b"Content-Type: text/plain\n\nmultipart/mixed\n"),
        Kind::Unknown
    );
    // Prose before the header is not a header block.
    assert_eq!(
        detect(b"hello\nContent-Type: multipart/mixed; boundary=x\n\n--x--\n"),
        Kind::Unknown
    );
    assert_eq!(
        detect(b" Content-Type: multipart/mixed; boundary=x\n"),
        Kind::Unknown
    );
}

#[test]
fn interpreters() {
    assert_eq!(
        script_interpreter(b"#!/bin/bash -e\nx"),
        Some("/bin/bash".into())
    );
    assert_eq!(script_interpreter(b"#!/bin/sh"), Some("/bin/sh".into()));
    assert_eq!(
        script_interpreter(b"#! /usr/bin/env python3\n"),
        Some("/usr/bin/env".into())
    );
    assert_eq!(script_interpreter(b"#!/bin/sh\r\n"), Some("/bin/sh".into()));
    assert_eq!(script_interpreter(b"#!"), None);
    assert_eq!(script_interpreter(b"#!   \nls\n"), None);
    assert_eq!(script_interpreter(b"#!\r\n"), None);
    assert_eq!(script_interpreter(b"echo hi"), None);
    assert_eq!(script_interpreter(b""), None);
}

#[test]
fn corpus_gzip_payloads() {
    let clean = include_bytes!("../../testdata/userdata/13-gzip-payload-clean.gz");
    let text = gunzip_payload(clean).unwrap().unwrap();
    assert_eq!(detect_for_validation(&text), Kind::CloudConfig);
    let corrupt = include_bytes!("../../testdata/userdata/39-gzip-corrupt.gz");
    assert!(gunzip_payload(corrupt)
        .unwrap_err()
        .to_string()
        .contains("gzip"));
}

// --- multipart: reference and corpus documents -----------------------------------------------

#[test]
fn reference_four_part_example() {
    let doc = "Content-Type: multipart/mixed; boundary=\"b\"\n\
               MIME-Version: 1.0\n\
               \n\
               --b\n\
               Content-Type: text/cloud-config\n\
               \n\
               hostname: first\n\
               --b\n\
               Content-Type: text/cloud-config\n\
               \n\
               hostname: second\n\
               ssh_authorized_keys:\n  - k2\n\
               --b\n\
               Content-Type: application/json\n\
               \n\
               {\"ignition\": {\"version\": \"3.0.0\"}}\n\
               --b\n\
               Content-Type: text/plain\n\
               \n\
               Just some prose.\n\
               --b--\n";
    let split = split_multipart(doc.as_bytes());
    assert_eq!(split.errors, []);
    assert_eq!(
        kinds(&split),
        [
            PartKind::CloudConfig,
            PartKind::CloudConfig,
            PartKind::Ignition,
            PartKind::Unknown
        ]
    );
    assert_eq!(split.parts[0].body, b"hostname: first");
    assert_eq!(lines_of(&split), [7, 11, 17, 21]);
    assert!(split.parts.iter().all(|p| p.verbatim));
}

#[test]
fn corpus_09_clean() {
    let split = split_multipart(CLEAN_09);
    assert_eq!(split.errors, []);
    assert_eq!(
        kinds(&split),
        [
            PartKind::CloudConfig,
            PartKind::Script,
            PartKind::CloudConfig
        ]
    );
    assert_eq!(lines_of(&split), [10, 25, 35]);
    assert_eq!(
        split.parts.iter().map(|p| p.verbatim).collect::<Vec<_>>(),
        [true, true, false]
    );
    assert_eq!(split.parts[0].content_type, "text/cloud-config");
    assert_eq!(split.parts[0].index, [1]);
    // The line break before a delimiter belongs to the delimiter; the blank line 18 does not.
    assert!(split.parts[0]
        .body
        .starts_with(b"#cloud-config\nhostname: ingress-2\n"));
    assert!(split.parts[0].body.ends_with(b"command: start\n"));
    assert_eq!(
        split.parts[1].body,
        b"#!/bin/bash\nmkdir -p /var/lib/ingress\necho ready > /var/lib/ingress/state\n"
    );
    assert!(split.parts[2].body.starts_with(b"#cloud-config\nusers:\n"));
}

#[test]
fn corpus_38_broken_part_still_splits() {
    let split = split_multipart(BROKEN_38);
    assert_eq!(split.errors, []);
    assert_eq!(
        kinds(&split),
        [
            PartKind::CloudConfig,
            PartKind::Script,
            PartKind::CloudConfig,
            PartKind::CloudConfig
        ]
    );
    assert_eq!(lines_of(&split), [8, 20, 27, 36]);
    // Line 29 of the document is line 3 of part 3.
    let part3 = &split.parts[2];
    let third_line = part3.body.split(|&b| b == b'\n').nth(2).unwrap();
    assert_eq!(third_line, b"\tupdate:");
    assert_eq!(part3.first_line + 2, 29);
}

#[test]
fn crlf_documents_split_the_same() {
    let split = split_multipart(&crlf(CLEAN_09));
    assert_eq!(split.errors, []);
    assert_eq!(lines_of(&split), [10, 25, 35]);
    assert_eq!(
        split.parts[1].body,
        b"#!/bin/bash\r\nmkdir -p /var/lib/ingress\r\necho ready > /var/lib/ingress/state\r\n"
    );
    assert!(split.parts[0].body.ends_with(b"command: start\r\n"));
    // base64 ignores the CRs, so the decoded body is identical to the LF document's.
    assert_eq!(split.parts[2].body, split_multipart(CLEAN_09).parts[2].body);

    let split = split_multipart(&crlf(BROKEN_38));
    assert_eq!(lines_of(&split), [8, 20, 27, 36]);
}

#[test]
fn eight_part_document() {
    let split = split_multipart(EIGHT_PARTS);
    assert_eq!(split.errors, []);
    assert_eq!(
        kinds(&split),
        [
            PartKind::CloudConfig,
            PartKind::CloudConfig,
            PartKind::CloudConfig,
            PartKind::Script,
            // The reference's parts 4 to 7 (0-based): a comment-only cloud-config, prose,
            // Ignition JSON, and a cloud-config behind an untyped media type.
            PartKind::CloudConfig,
            PartKind::Unknown,
            PartKind::Ignition,
            PartKind::CloudConfig,
        ]
    );
    assert_eq!(lines_of(&split), [12, 21, 29, 48, 57, 65, 73, 86]);
    assert_eq!(split.parts[1].body, b"hostname: \"example\"\n");
    assert_eq!(
        split.parts[4].body,
        b"# a cloud-config part may hold nothing but a comment\n"
    );
    assert_eq!(split.parts[5].content_type, "text/plain");
    assert_eq!(split.parts[6].content_type, "application/json");
    let last = &split.parts[7];
    assert_eq!(last.content_type, "text/plain");
    assert_eq!(last.body, b"#cloud-config\n\nhostname: \"undercover\"\n");
}

// --- multipart: envelope faults ---------------------------------------------------------------

#[test]
fn part_without_content_type_is_reported_and_skipped() {
    let doc = b"Content-Type: multipart/mixed; boundary=b\n\
                \n\
                --b\n\
                Content-Type: text/cloud-config\n\
                \n\
                hostname: a\n\
                --b\n\
                Content-Disposition: attachment; filename=\"x.yaml\"\n\
                \n\
                hostname: b\n\
                --b\n\
                #!/bin/sh\n\
                echo no headers at all\n\
                --b\n\
                Content-Type: text/x-shellscript\n\
                \n\
                #!/bin/sh\n\
                --b--\n";
    let split = split_multipart(doc);
    assert_eq!(
        split.errors,
        [
            MimeError {
                line: 8,
                message: "part 2 has no Content-Type header".into()
            },
            MimeError {
                line: 12,
                message: "part 3 has no Content-Type header".into()
            },
        ]
    );
    assert_eq!(kinds(&split), [PartKind::CloudConfig, PartKind::Script]);
    assert_eq!(split.parts[1].index, [4]);
    assert_eq!(split.parts[1].first_line, 17);
}

#[test]
fn missing_boundary() {
    let split = split_multipart(b"MIME-Version: 1.0\nContent-Type: multipart/mixed\n\n--b\n");
    assert_eq!(
        split.errors,
        [MimeError {
            line: 2,
            message: "no boundary found in Content-Type header".into()
        }]
    );
    assert_eq!(split.parts, []);
    let split = split_multipart(b"Content-Type: multipart/mixed; boundary=\"\"\n\n");
    assert_eq!(split.errors[0].line, 1);
}

#[test]
fn wrong_top_level_type() {
    let split = split_multipart(b"Content-Type: multipart/alternative; boundary=b\n\n--b--\n");
    assert_eq!(
        split.errors,
        [MimeError {
            line: 1,
            message: "expected multipart/mixed, got multipart/alternative".into()
        }]
    );
    let split = split_multipart(b"#cloud-config\n");
    assert_eq!(split.errors.len(), 1);
    assert_eq!(split.errors[0].line, 1);
    let split = split_multipart(b"MIME-Version: 1.0\n\n");
    assert!(split.errors[0].message.contains("no Content-Type"));
}

#[test]
fn boundary_mismatch_is_reported_at_the_content_type() {
    let split = split_multipart(
        b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=abc\n\n--abd\nx\n",
    );
    assert_eq!(split.errors.len(), 1);
    assert_eq!(split.errors[0].line, 2);
    assert!(split.errors[0].message.contains("--abc"));
}

#[test]
fn shellscript_part_must_start_with_shebang() {
    let doc = b"Content-Type: multipart/mixed; boundary=b\n\
                \n\
                --b\n\
                Content-Type: text/x-shellscript\n\
                \n\
                echo no shebang\n\
                --b--\n";
    let split = split_multipart(doc);
    assert_eq!(
        split.errors,
        [MimeError {
            line: 6,
            message: "part 1 (text/x-shellscript) is not a script: it does not start with \"#!\""
                .into()
        }]
    );
    assert_eq!(split.parts, []);
}

#[test]
fn missing_blank_line_after_part_headers() {
    let doc = b"Content-Type: multipart/mixed; boundary=b\n\
                \n\
                --b\n\
                Content-Type: text/cloud-config\n\
                #cloud-config\n\
                hostname: a\n\
                --b--\n";
    let split = split_multipart(doc);
    assert_eq!(split.errors.len(), 1);
    assert_eq!(split.errors[0].line, 5);
    assert!(split.errors[0]
        .message
        .starts_with("part 1: malformed MIME header line"));
}

#[test]
fn unsupported_transfer_encoding() {
    let doc = b"Content-Type: multipart/mixed; boundary=b\n\
                \n\
                --b\n\
                Content-Type: text/cloud-config\n\
                Content-Transfer-Encoding: x-uuencode\n\
                \n\
                begin 644 x\n\
                --b--\n";
    let split = split_multipart(doc);
    assert_eq!(split.errors.len(), 1);
    assert_eq!(split.errors[0].line, 5);
    assert!(split.errors[0].message.contains("x-uuencode"));
}

#[test]
fn bad_base64_is_reported_at_the_body() {
    let doc = b"Content-Type: multipart/mixed; boundary=b\n\
                \n\
                --b\n\
                Content-Type: text/cloud-config\n\
                Content-Transfer-Encoding: base64\n\
                \n\
                not*base64!\n\
                --b--\n";
    let split = split_multipart(doc);
    assert_eq!(split.errors.len(), 1);
    assert_eq!(split.errors[0].line, 7);
    assert!(split.errors[0].message.contains("base64"));
}

// --- multipart: structure --------------------------------------------------------------------

#[test]
fn missing_close_delimiter_is_tolerated() {
    let doc = b"Content-Type: multipart/mixed; boundary=b\n\
                \n\
                --b\n\
                Content-Type: text/cloud-config\n\
                \n\
                hostname: a\n\
                --b\n\
                Content-Type: text/plain\n\
                \n\
                last words\n";
    let split = split_multipart(doc);
    assert_eq!(split.errors, []);
    assert_eq!(kinds(&split), [PartKind::CloudConfig, PartKind::Unknown]);
    assert_eq!(split.parts[1].body, b"last words\n");

    // A forgotten `--` on the last delimiter leaves no phantom part.
    let doc = b"Content-Type: multipart/mixed; boundary=b\n\
                \n\
                --b\n\
                Content-Type: text/cloud-config\n\
                \n\
                hostname: a\n\
                --b\n";
    let split = split_multipart(doc);
    assert_eq!(split.errors, []);
    assert_eq!(split.parts.len(), 1);
}

#[test]
fn delimiter_lines_follow_rfc_2046() {
    let doc = b"Content-Type: multipart/mixed; boundary=b\n\
                \n\
                preamble --b\n\
                --b \t\n\
                Content-Type: text/plain\n\
                \n\
                --bb is content, and so is\n\
                ---b\n\
                --b--  \n\
                --b\n\
                Content-Type: text/plain\n\
                \n\
                epilogue, never a part\n";
    let split = split_multipart(doc);
    assert_eq!(split.errors, []);
    assert_eq!(split.parts.len(), 1);
    assert_eq!(split.parts[0].body, b"--bb is content, and so is\n---b");
    assert_eq!(split.parts[0].first_line, 7);
}

#[test]
fn empty_parts() {
    let doc = b"Content-Type: multipart/mixed; boundary=b\n\
                \n\
                --b\n\
                --b\n\
                Content-Type: text/plain\n\
                \n\
                --b--\n";
    let split = split_multipart(doc);
    assert_eq!(
        split.errors,
        [MimeError {
            line: 4,
            message: "part 1 has no Content-Type header".into()
        }]
    );
    assert_eq!(split.parts.len(), 1);
    assert_eq!(split.parts[0].kind, PartKind::Unknown);
    assert_eq!(split.parts[0].body, b"");
    assert_eq!(split.parts[0].index, [2]);
}

#[test]
fn nested_multipart_keeps_document_lines() {
    // Part 2 nests the RFC 2046 way (the part's headers declare the inner boundary); part 4 the
    // reference's way (an untyped body that is itself a complete MIME message).
    let doc = "Content-Type: multipart/mixed; boundary=outer\n\
               \n\
               --outer\n\
               Content-Type: text/cloud-config\n\
               \n\
               hostname: a\n\
               --outer\n\
               Content-Type: multipart/mixed; boundary=inner\n\
               \n\
               --inner\n\
               Content-Type: text/x-shellscript\n\
               \n\
               #!/bin/sh\n\
               --inner\n\
               Content-Type: text/plain\n\
               \n\
               #cloud-config\n\
               hostname: nested\n\
               --inner--\n\
               --outer\n\
               Content-Type: text/plain\n\
               \n\
               tail\n\
               --outer\n\
               Content-Type: text/plain\n\
               \n\
               Content-Type: multipart/mixed; boundary=fc\n\
               \n\
               --fc\n\
               Content-Type: text/cloud-config\n\
               \n\
               hostname: fc-style\n\
               --fc--\n\
               --outer\n\
               Content-Type: multipart/alternative; boundary=alt\n\
               \n\
               --alt\n\
               --outer--\n";
    let split = split_multipart(doc.as_bytes());
    assert_eq!(
        split.errors,
        [MimeError {
            line: 35,
            message: "part 5: expected multipart/mixed, got multipart/alternative".into()
        }]
    );
    let index: Vec<_> = split.parts.iter().map(|p| p.index.clone()).collect();
    assert_eq!(
        index,
        [vec![1], vec![2, 1], vec![2, 2], vec![3], vec![4, 1]]
    );
    assert_eq!(split.parts[1].label(), "2.1");
    assert_eq!(
        kinds(&split),
        [
            PartKind::CloudConfig,
            PartKind::Script,
            PartKind::CloudConfig,
            PartKind::Unknown,
            PartKind::CloudConfig,
        ]
    );
    assert_eq!(lines_of(&split), [6, 13, 17, 23, 32]);
    assert!(split.parts.iter().all(|p| p.verbatim));
    assert_eq!(split.parts[2].body, b"#cloud-config\nhostname: nested");
    assert_eq!(split.parts[4].body, b"hostname: fc-style");
}

#[test]
fn nested_multipart_inside_base64_is_placed_at_the_outer_body() {
    let inner = "Content-Type: multipart/mixed; boundary=inner\n\
                 \n\
                 --inner\n\
                 Content-Type: text/cloud-config\n\
                 \n\
                 hostname: deep\n\
                 --inner\n\
                 \n\
                 no headers\n\
                 --inner--\n";
    let doc = format!(
        "Content-Type: multipart/mixed; boundary=outer\n\
         \n\
         --outer\n\
         Content-Type: application/octet-stream\n\
         Content-Transfer-Encoding: base64\n\
         \n\
         {}\n\
         --outer--\n",
        b64(inner.as_bytes())
    );
    let split = split_multipart(doc.as_bytes());
    assert_eq!(split.parts.len(), 1);
    let part = &split.parts[0];
    assert_eq!(part.index, [1, 1]);
    assert_eq!(part.kind, PartKind::CloudConfig);
    assert_eq!((part.first_line, part.verbatim), (7, false));
    assert_eq!(
        split.errors,
        [MimeError {
            line: 7,
            message: "part 1.2 has no Content-Type header".into()
        }]
    );
}

#[test]
fn nested_document_errors_name_the_outer_part() {
    let doc = b"Content-Type: multipart/mixed; boundary=outer\n\
                \n\
                --outer\n\
                Content-Type: text/plain\n\
                \n\
                Content-Type: multipart/mixed\n\
                \n\
                --outer--\n";
    let split = split_multipart(doc);
    assert_eq!(
        split.errors,
        [MimeError {
            line: 6,
            message: "part 1: no boundary found in Content-Type header".into()
        }]
    );
}

#[test]
fn nesting_is_capped() {
    let mut doc = b"Content-Type: text/cloud-config\n\nhostname: bottom\n".to_vec();
    for level in 0..MAX_NESTING + 2 {
        let mut outer = format!("Content-Type: multipart/mixed; boundary=b{level}\n\n--b{level}\n")
            .into_bytes();
        outer.extend_from_slice(&doc);
        outer.extend_from_slice(format!("\n--b{level}--\n").as_bytes());
        doc = outer;
    }
    let split = split_multipart(&doc);
    assert_eq!(split.parts, []);
    assert_eq!(split.errors.len(), 1);
    assert!(split.errors[0]
        .message
        .contains("nested more than 8 levels"));
    assert!(split.errors[0].message.starts_with("part 1.1.1.1.1.1.1.1:"));

    // Exactly MAX_NESTING levels of parts still work.
    let mut doc = b"Content-Type: text/cloud-config\n\nhostname: bottom\n".to_vec();
    for level in 0..MAX_NESTING {
        let mut outer = format!("Content-Type: multipart/mixed; boundary=b{level}\n\n--b{level}\n")
            .into_bytes();
        outer.extend_from_slice(&doc);
        outer.extend_from_slice(format!("\n--b{level}--\n").as_bytes());
        doc = outer;
    }
    let split = split_multipart(&doc);
    assert_eq!(split.errors, []);
    assert_eq!(split.parts[0].index, vec![1; MAX_NESTING]);
    assert_eq!(split.parts[0].body, b"hostname: bottom\n");
}

#[test]
fn parts_and_errors_are_capped() {
    let mut doc = b"Content-Type: multipart/mixed; boundary=b\n\n".to_vec();
    doc.extend(b"--b\nContent-Type: text/plain\n\nx\n".repeat(MAX_ITEMS + 200));
    let split = split_multipart(&doc);
    assert_eq!(split.parts.len(), MAX_ITEMS);
    assert_eq!(split.errors.len(), 1);
    assert!(split.errors[0].message.starts_with("more than 1000 parts"));
    assert_eq!(split.errors[0].line, 3 + 4 * MAX_ITEMS + 3);

    let mut doc = b"Content-Type: multipart/mixed; boundary=b\n\n".to_vec();
    doc.extend(b"--b\n".repeat(3 * MAX_ITEMS));
    let split = split_multipart(&doc);
    assert_eq!(split.parts.len(), 0);
    assert_eq!(split.errors.len(), MAX_ITEMS + 1);
}

// --- multipart: encodings --------------------------------------------------------------------

#[test]
fn gzip_part() {
    let doc = format!(
        "Content-Type: multipart/mixed; boundary=b\n\
         \n\
         --b\n\
         Content-Type: application/x-gzip\n\
         Content-Transfer-Encoding: base64\n\
         Content-Disposition: attachment; filename=\"cc.gz\"\n\
         \n\
         {}\n\
         --b\n\
         Content-Type: application/gzip\n\
         Content-Transfer-Encoding: base64\n\
         \n\
         {}\n\
         --b--\n",
        b64(&gz(b"#cloud-config\nhostname: zipped\n")),
        b64(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xff\xff"),
    );
    let split = split_multipart(doc.as_bytes());
    assert_eq!(split.parts.len(), 1);
    let part = &split.parts[0];
    assert_eq!(part.kind, PartKind::CloudConfig);
    assert_eq!(part.body, b"#cloud-config\nhostname: zipped\n");
    assert_eq!(part.content_type, "application/x-gzip");
    assert_eq!((part.first_line, part.verbatim), (8, false));
    assert_eq!(split.errors.len(), 1);
    assert_eq!(split.errors[0].line, 13);
    let message = &split.errors[0].message;
    assert!(
        message.starts_with("part 2 (application/gzip): gzip"),
        "{message}"
    );
}

#[test]
fn raw_gzip_part_without_transfer_encoding_is_not_verbatim() {
    let mut doc = b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\
                    Content-Type: application/gzip\n\n"
        .to_vec();
    doc.extend(gz(b"#!/bin/sh\necho zipped\n"));
    doc.extend_from_slice(b"\n--b--\n");
    let split = split_multipart(&doc);
    assert_eq!(split.errors, []);
    assert_eq!(split.parts[0].kind, PartKind::Script);
    assert!(!split.parts[0].verbatim);
}

#[test]
fn quoted_printable_part() {
    let doc = b"Content-Type: multipart/mixed; boundary=b\n\
                \n\
                --b\n\
                Content-Type: text/cloud-config\n\
                Content-Transfer-Encoding: quoted-printable\n\
                \n\
                hostname: caf=C3=A9  \n\
                write_files: [{path: /tmp/a, content: \"a long =\n\
                 line\"}] =3D\n\
                --b--\n";
    let split = split_multipart(doc);
    assert_eq!(split.errors, []);
    let part = &split.parts[0];
    assert!(!part.verbatim);
    assert_eq!(part.first_line, 7);
    assert_eq!(
        String::from_utf8(part.body.clone()).unwrap(),
        "hostname: caf\u{e9}\nwrite_files: [{path: /tmp/a, content: \"a long line\"}] ="
    );
}

#[test]
fn header_details() {
    // Folded headers, quoted parameters, case-insensitive names and types.
    let doc = b"content-type: MULTIPART/MIXED;\n\tboundary=\"with space\"\n\
                \n\
                --with space\n\
                CONTENT-TYPE: Text/Cloud-Config;\n charset=utf-8\n\
                Content-Disposition: attachment;\n  filename=\"a b.yaml\"\n\
                \n\
                hostname: folded\n\
                --with space--\n";
    let split = split_multipart(doc);
    assert_eq!(split.errors, []);
    let part = &split.parts[0];
    assert_eq!(part.content_type, "text/cloud-config");
    assert_eq!(part.first_line, 10);
}

#[test]
fn escaped_boundary_and_encoded_dispositions() {
    // A quoted boundary with a backslash escape, folded; `Content-Disposition` values with RFC
    // 2231 continuations and RFC 2047 encoded words, which nothing reads, are no error.
    let doc = "Content-Type: multipart/mixed;\n boundary=\"a\\\"b\"; charset=us-ascii\n\
               \n\
               --a\"b\n\
               Content-Type: text/cloud-config\n\
               Content-Disposition: attachment;\n \
               filename*0*=utf-8''caf%C3; filename*1*=%A9; filename*2=\".yaml\"\n\
               \n\
               hostname: a\n\
               --a\"b\n\
               Content-Type: text/x-shellscript\n\
               Content-Disposition: attachment; filename=\"=?UTF-8?B?w6k=?= =?utf-8?q?_x.sh?=\"\n\
               \n\
               #!/bin/sh\n\
               --a\"b--\n";
    let split = split_multipart(doc.as_bytes());
    assert_eq!(split.errors, []);
    assert_eq!(kinds(&split), [PartKind::CloudConfig, PartKind::Script]);
    assert_eq!(lines_of(&split), [9, 14]);
}

// --- robustness ------------------------------------------------------------------------------

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn mime_like() -> impl Strategy<Value = Vec<u8>> {
        let pieces = prop::sample::select(vec![
            &b"Content-Type: multipart/mixed; boundary=b\n"[..],
            b"Content-Type: text/cloud-config\n",
            b"Content-Type: application/gzip\n",
            b"Content-Type: text/x-shellscript\n",
            b"Content-Transfer-Encoding: base64\n",
            b"Content-Transfer-Encoding: quoted-printable\n",
            b"Content-Disposition: attachment; filename*=utf-8''%E2%82\n",
            b"\n",
            b"\r\n",
            b"\r",
            b" folded\n",
            b"--b\n",
            b"--b--\n",
            b"--b",
            b"#!",
            b"#cloud-config\n",
            b"=\n",
            b"=4",
            b"\x1f\x8b",
            b"{\"ignitionVersion\": 1}",
            b"SDRzSQ==\n",
            b":",
            b"\xff\xfe",
        ]);
        prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn on_mime_like_input(data in mime_like()) {
            let _ = detect(&data);
            let _ = detect_for_validation(&data);
            let _ = script_interpreter(&data);
            let split = split_multipart(&data);
            let lines = data.iter().filter(|&&b| b == b'\n').count() + 1;
            for part in &split.parts {
                prop_assert!(part.first_line >= 1 && part.first_line <= lines);
            }
            for error in &split.errors {
                prop_assert!(error.line >= 1 && error.line <= lines);
            }
        }

        #[test]
        fn on_arbitrary_bytes(data in prop::collection::vec(any::<u8>(), 0..300)) {
            let _ = detect(&data);
            let _ = script_interpreter(&data);
            let _ = split_multipart(&data);
            let _ = gunzip_payload(&data);
        }
    }
}
