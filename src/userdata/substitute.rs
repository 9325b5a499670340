//! `$public_ipv4` and friends in user-data, replaced with the machine's addresses before a part
//! is parsed (reference.md §3.5), escapes included.

use crate::metadata::Addresses;

const TOKENS: [&str; 4] = ["public_ipv4", "private_ipv4", "public_ipv6", "private_ipv6"];

/// Replaces each `$token` with its address (or nothing when unknown). `\$token` is the literal
/// `$token`: the backslash is always eaten, as in the reference, so `\\$token` gives `\$token`.
pub fn substitute(text: &str, addrs: &Addresses) -> String {
    substitute_noting(text, addrs, &mut Vec::new())
}

/// [`substitute`], adding to `unset` each token (`"public_ipv4"`) that became an empty string
/// because its address is unknown, so the run can say so once.
pub fn substitute_noting(text: &str, addrs: &Addresses, unset: &mut Vec<&'static str>) -> String {
    let value = |token: &str| -> &str {
        match token {
            "public_ipv4" => addrs.public_ipv4.as_deref(),
            "private_ipv4" => addrs.private_ipv4.as_deref(),
            "public_ipv6" => addrs.public_ipv6.as_deref(),
            _ => addrs.private_ipv6.as_deref(),
        }
        .unwrap_or("")
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        let after = &rest[at + 1..];
        let Some(token) = TOKENS.iter().find(|t| after.starts_with(**t)) else {
            out.push_str(&rest[..=at]);
            rest = after;
            continue;
        };
        let before = &rest[..at];
        if let Some(kept) = before.strip_suffix('\\') {
            out.push_str(kept);
            out.push('$');
            out.push_str(token);
        } else {
            out.push_str(before);
            let v = value(token);
            if v.is_empty() && !unset.contains(token) {
                unset.push(token);
            }
            out.push_str(v);
        }
        rest = &after[token.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs() -> Addresses {
        Addresses {
            public_ipv4: Some("192.0.2.3".into()),
            private_ipv4: Some("192.0.2.203".into()),
            public_ipv6: Some("fe00:1234::".into()),
            private_ipv6: Some("fe00:5678::".into()),
        }
    }

    #[test]
    fn reference_vector_3() {
        assert_eq!(
            substitute("echo \"$public_ipv4 $public_ipv6\"", &addrs()),
            "echo \"192.0.2.3 fe00:1234::\""
        );
        assert_eq!(
            substitute("$unknown $private_ipv6", &addrs()),
            "$unknown fe00:5678::"
        );
    }

    #[test]
    fn unknown_addresses_become_empty() {
        // reference.md §7.1 vector 4, second half.
        assert_eq!(substitute("a=$private_ipv4;", &Addresses::default()), "a=;");
    }

    #[test]
    fn empty_substitutions_are_noted_once() {
        let mut unset = Vec::new();
        let a = Addresses {
            private_ipv4: Some("10.0.0.1".into()),
            ..Default::default()
        };
        let out = substitute_noting(
            "$public_ipv4 $private_ipv4 \\$public_ipv6 $public_ipv4 $private_ipv6",
            &a,
            &mut unset,
        );
        assert_eq!(out, " 10.0.0.1 $public_ipv6  ");
        assert_eq!(unset, vec!["public_ipv4", "private_ipv6"]);
    }

    #[test]
    fn reference_vector_5_escapes() {
        let a = addrs();
        assert_eq!(substitute("\\$private_ipv4", &a), "$private_ipv4");
        assert_eq!(
            substitute("addr: \\$private_ipv4", &a),
            "addr: $private_ipv4"
        );
        assert_eq!(substitute("\\\\$private_ipv4", &a), "\\$private_ipv4");
        assert_eq!(substitute("\\$test", &a), "\\$test");
    }

    #[test]
    fn plain_text_match_and_double_dollar() {
        let a = addrs();
        assert_eq!(substitute("$public_ipv4x", &a), "192.0.2.3x");
        assert_eq!(substitute("$$public_ipv4", &a), "$192.0.2.3");
        assert_eq!(substitute("cost: 5$", &a), "cost: 5$");
        assert_eq!(
            substitute("héllo $private_ipv4 ü", &a),
            "héllo 192.0.2.203 ü"
        );
    }
}
