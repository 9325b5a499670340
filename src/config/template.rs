//! Unrendered template placeholders (Jinja/mustache `{{ … }}`, `${var}`, `$var`, `<token>`,
//! `%VAR%`): what a config filled in by Terraform, Heat or Jinja looks like before it is rendered.

/// What a finding caused by a placeholder adds to its message.
pub const HINT: &str =
    "this looks like an unrendered template placeholder; validate the rendered file, or use --template";

/// kindling's own `$` substitutions, which are not placeholders of another tool.
const OWN_VARIABLES: [&str; 4] = ["public_ipv4", "private_ipv4", "public_ipv6", "private_ipv6"];

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}
fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Whether `text` holds an unrendered placeholder.
pub fn has_placeholder(text: &str) -> bool {
    let b = text.as_bytes();
    if let Some(open) = text.find("{{") {
        if text[open + 2..].contains("}}") {
            return true;
        }
    }
    if let Some(open) = text.find("{%") {
        if text[open + 2..].contains("%}") {
            return true;
        }
    }
    for i in 0..b.len() {
        match b[i] {
            b'$' => {
                if b.get(i + 1) == Some(&b'{') && text[i + 2..].contains('}') {
                    return true;
                }
                let rest = &text[i + 1..];
                let name_len = rest.bytes().take_while(|c| is_ident(*c)).count();
                if name_len > 0
                    && is_ident_start(rest.as_bytes()[0])
                    && !OWN_VARIABLES.iter().any(|v| rest.starts_with(v))
                {
                    return true;
                }
            }
            b'<' => {
                let rest = &b[i + 1..];
                let n = rest
                    .iter()
                    .take_while(|c| is_ident(**c) || matches!(c, b'-' | b'.' | b' '))
                    .count();
                if n > 0 && is_ident_start(rest[0]) && rest.get(n) == Some(&b'>') {
                    return true;
                }
            }
            b'%' => {
                let rest = &b[i + 1..];
                let n = rest.iter().take_while(|c| is_ident(**c)).count();
                if n > 1 && is_ident_start(rest[0]) && rest.get(n) == Some(&b'%') {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// The message of a finding about `value`: unchanged when the value holds no placeholder, with
/// the hint when it does, and None (not reported) when it does and templates are validated.
pub fn annotate(message: String, value: &str, template: bool) -> Option<String> {
    if !has_placeholder(value) {
        return Some(message);
    }
    if template {
        return None;
    }
    Some(format!("{message}; {HINT}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        for t in [
            "{{ hostname }}",
            "{{#if ssh}}",
            "{% if x %}",
            "${var.region}",
            "$node_name",
            "<YOUR_DISCOVERY_URL>",
            "https://discovery.etcd.io/<token>",
            "%HOSTNAME%",
            "prefix-{{ name }}-suffix",
        ] {
            assert!(has_placeholder(t), "{t}");
        }
        for t in [
            "web-1",
            "$private_ipv4",
            "$public_ipv4:2379",
            "100%",
            "50% of %i",
            "a < b > c",
            "{ not: a template }",
            "$",
            "$1",
        ] {
            assert!(!has_placeholder(t), "{t}");
        }
    }

    #[test]
    fn annotations() {
        assert_eq!(annotate("bad".into(), "x", false), Some("bad".into()));
        assert_eq!(annotate("bad".into(), "{{ x }}", true), None);
        assert!(annotate("bad".into(), "{{ x }}", false)
            .unwrap()
            .ends_with(HINT));
    }
}
