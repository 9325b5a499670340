//! Pure value checks behind the validator's "allowed values" and naming rules.
//! Each check explains what was expected; the caller adds the location and `invalid value`.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::unit::name::{NameError, UnitName, UNIT_NAME_MAX, UNIT_SUFFIXES};

const HOSTNAME_MAX: usize = 253;
const LABEL_MAX: usize = 63;

/// Quotes `s` for a message: at most `max_chars` characters (then `...`), control characters
/// escaped so a stray newline or escape sequence cannot garble the report.
pub fn excerpt(s: &str, max_chars: usize) -> String {
    // Most values are short printable ASCII, shown as they are: one allocation, no walk by char.
    if s.len() <= max_chars && s.bytes().all(|b| b.is_ascii() && !b.is_ascii_control()) {
        let mut out = String::with_capacity(s.len() + 2);
        out.push('"');
        out.push_str(s);
        out.push('"');
        return out;
    }
    let mut out = String::with_capacity(s.len().min(max_chars.saturating_mul(4)) + 5);
    out.push('"');
    for (taken, c) in s.chars().enumerate() {
        if taken == max_chars {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// Renders one character for a message, escaping the invisible ones.
fn quote_char(c: char) -> String {
    if c.is_control() || c.is_whitespace() {
        format!("\"{}\"", c.escape_debug())
    } else {
        format!("\"{c}\"")
    }
}

/// Levenshtein distance in characters, kept to a single row.
///
/// When the lengths differ by more than 2 the table is skipped and the length difference is
/// returned: it is a lower bound of the true distance, always above the did-you-mean threshold
/// of 2, and it keeps a huge user-supplied string from costing len_a * len_b.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let diff = a.len().abs_diff(b.len());
    if diff > 2 {
        return diff;
    }
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        // `diag` holds the previous row's value at j-1 before it is overwritten.
        let mut diag = i;
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let above = row.get(j + 1).copied().unwrap_or(usize::MAX);
            let left = row.get(j).copied().unwrap_or(usize::MAX);
            let substitute = diag + usize::from(ca != cb);
            let best = substitute
                .min(above.saturating_add(1))
                .min(left.saturating_add(1));
            diag = above;
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = best;
            }
        }
    }
    row.last().copied().unwrap_or(0)
}

/// The closest candidate within edit distance 2, first one wins on a tie.
fn closest<'a>(value: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(value, c), *c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Exact membership; the message lists every allowed value.
pub fn one_of(value: &str, allowed: &[&str]) -> Result<(), String> {
    if allowed.contains(&value) {
        return Ok(());
    }
    let list: Vec<String> = allowed.iter().map(|a| format!("\"{a}\"")).collect();
    Err(format!("expected one of {}", list.join(", ")))
}

/// systemd's unit name rules (`PREFIX[@INSTANCE].SUFFIX`, [`UnitName::parse`]) with a suffix
/// systemd knows, in the validator's words.
///
/// Like systemd's `unit_name_is_valid`, only the first `@` splits prefix from instance; a
/// further `@` is part of the instance and accepted.
pub fn check_unit_name(name: &str) -> Result<(), String> {
    // Built only for a message: most names are valid.
    let shown = || excerpt(name, 60);
    let why = |e: NameError| match e {
        NameError::Empty => "a unit name cannot be empty".to_string(),
        NameError::Slash => {
            format!(
                "{} contains \"/\"; a unit name is a file name, not a path",
                shown()
            )
        }
        NameError::TooLong(len) => {
            format!(
                "{} is {len} bytes long; systemd allows at most {UNIT_NAME_MAX}",
                shown()
            )
        }
        NameError::NoSuffix => format!("{} has no unit type suffix such as .service", shown()),
        NameError::NoStem => {
            let suffix = name.rfind('.').map_or("", |dot| &name[dot..]);
            format!("{} has no name before {suffix}", shown())
        }
        NameError::BadChar(bad) => format!(
            "{} contains {}, which systemd does not allow in a unit name \
             (only ASCII letters, digits and \":-_.\\@\")",
            shown(),
            quote_char(bad)
        ),
        NameError::NoPrefix => format!("{} has no name before \"@\"", shown()),
    };
    let parsed = UnitName::parse(name);
    if let Err(
        e @ (NameError::Empty | NameError::Slash | NameError::TooLong(_) | NameError::NoSuffix),
    ) = parsed
    {
        return Err(why(e));
    }
    // An unknown type is the first thing to say about a name with one.
    let suffix = name.rfind('.').map_or("", |dot| &name[dot..]);
    if !UNIT_SUFFIXES.contains(&suffix) {
        return Err(match closest(suffix, UNIT_SUFFIXES) {
            Some(guess) => format!(
                "{} has an unknown unit type {}; did you mean \"{guess}\"?",
                shown(),
                excerpt(suffix, 20)
            ),
            None => format!(
                "{} has an unknown unit type {} (expected one of {})",
                shown(),
                excerpt(suffix, 20),
                UNIT_SUFFIXES.join(" ")
            ),
        });
    }
    parsed.map(|_| ()).map_err(why)
}

/// A drop-in is only read by systemd when its file name ends in `.conf`.
pub fn check_dropin_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a drop-in name cannot be empty".to_string());
    }
    let shown = || excerpt(name, 60);
    if name.contains('/') {
        return Err(format!(
            "{} contains \"/\"; a drop-in name is a file name, not a path",
            shown()
        ));
    }
    if name.contains('\0') {
        return Err(format!("{} contains a NUL character", shown()));
    }
    match name.strip_suffix(".conf") {
        None => Err(format!(
            "{} does not end in .conf; systemd only reads drop-ins named *.conf",
            shown()
        )),
        Some("") => Err(format!("{} has no name before .conf", shown())),
        Some(_) => Ok(()),
    }
}

/// A dotted quad that std refuses (leading zeros, octets above 255) still reads as an
/// address to a person and to inet_aton, so it is refused as a hostname too.
fn looks_like_dotted_quad(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    labels.len() == 4
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()))
}

fn is_ip_address(name: &str) -> bool {
    if name.parse::<Ipv4Addr>().is_ok() || looks_like_dotted_quad(name) {
        return true;
    }
    // A zone index (`fe80::1%eth0`) or brackets do not make it any less an address.
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    let bare = bare.split('%').next().unwrap_or(bare);
    name.contains(':') && bare.parse::<Ipv6Addr>().is_ok()
}

/// RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens.
pub fn check_hostname(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a hostname cannot be empty".to_string());
    }
    if is_ip_address(name) {
        return Err("an IP address is not a hostname".to_string());
    }
    if name.len() > HOSTNAME_MAX {
        return Err(format!(
            "the hostname is {} bytes long; at most {HOSTNAME_MAX} are allowed",
            name.len()
        ));
    }
    if name.ends_with('.') {
        return Err(format!("{} ends with a dot", excerpt(name, 60)));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(format!("{} has an empty label", excerpt(name, 60)));
        }
        let shown = || excerpt(label, 40);
        if let Some(bad) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Err(format!("label {} contains {}", shown(), quote_char(bad)));
        }
        if label.len() > LABEL_MAX {
            return Err(format!(
                "label {} is {} bytes long; a label can be at most {LABEL_MAX}",
                shown(),
                label.len()
            ));
        }
        if label.starts_with('-') {
            return Err(format!("label {} starts with a hyphen", shown()));
        }
        if label.ends_with('-') {
            return Err(format!("label {} ends with a hyphen", shown()));
        }
    }
    Ok(())
}

/// An etcd discovery URL: http or https with a host.
pub fn check_discovery_url(url: &str) -> Result<(), String> {
    const EXPECTED: &str = "expected an http:// or https:// URL";
    let lower_scheme = |p: &str| {
        url.get(..p.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(p))
    };
    let rest = if lower_scheme("http://") {
        url.get("http://".len()..)
    } else if lower_scheme("https://") {
        url.get("https://".len()..)
    } else {
        None
    };
    let Some(rest) = rest else {
        return Err(EXPECTED.to_string());
    };
    if let Some(bad) = url.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{EXPECTED}; it contains {}", quote_char(bad)));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // Userinfo may itself contain ':'; only what follows the last '@' names the host.
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        match v6.split_once(']') {
            Some((inner, after)) => {
                check_port(after)?;
                inner
            }
            None => return Err(format!("{EXPECTED}; the IPv6 host has no closing \"]\"")),
        }
    } else {
        match host_port.find(':') {
            Some(colon) => {
                let (h, after) = host_port.split_at(colon);
                check_port(after)?;
                h
            }
            None => host_port,
        }
    };
    if host.is_empty() {
        return Err(format!("{EXPECTED} with a host; this one has none"));
    }
    Ok(())
}

/// `after` is what follows the host: nothing, or `:` and a decimal port.
fn check_port(after: &str) -> Result<(), String> {
    if after.is_empty() {
        return Ok(());
    }
    let port = after.strip_prefix(':').unwrap_or(after);
    if after.starts_with(':') && port.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!(
            "expected an http:// or https:// URL; the port {} is not a number",
            excerpt(port, 20)
        ))
    }
}

/// `permissions` as the mode it sets, all bits kept (setuid, setgid, sticky included). The text
/// is the reference's pattern `^0?[0-7]{3,4}$`: three or four octal digits, optionally after one
/// more leading zero. The checker and the model both read it here, so what validates is what
/// apply writes.
pub fn parse_permissions(p: &str) -> Result<u32, String> {
    let octal = p.bytes().all(|b| (b'0'..=b'7').contains(&b));
    let ok = octal
        && match p.len() {
            3 | 4 => true,
            5 => p.starts_with('0'),
            _ => false,
        };
    match u32::from_str_radix(p, 8) {
        Ok(mode) if ok => Ok(mode),
        _ => {
            Err("expected an octal mode of 3 or 4 digits, such as \"0644\" or \"644\"".to_string())
        }
    }
}

/// Go's `(?i)` folds with Unicode simple case folding, under which the long s (U+017F)
/// matches `s`; the day names contain no `k`, so that is the only non-ASCII fold needed.
fn fold(c: char) -> char {
    if c == '\u{17F}' {
        's'
    } else {
        c.to_ascii_lowercase()
    }
}

fn is_day(word: &str) -> bool {
    const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let folded: String = word.chars().map(fold).collect();
    DAYS.contains(&folded.as_str())
}

/// `0*` followed by a number up to `max` written without leading zeros (or `0` itself).
fn is_clock_field(field: &str, max: u32) -> bool {
    if field.is_empty() || !field.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let significant = field.trim_start_matches('0');
    // Two digits cover every allowed value; more would only overflow the parse.
    significant.len() <= 2 && significant.parse::<u32>().map_or(true, |v| v <= max)
}

/// `^((?i:sun|mon|tue|wed|thu|fri|sat|sun) )?0*([0-9]|1[0-9]|2[0-3]):0*([0-9]|[1-5][0-9])$`
pub fn check_window_start(s: &str) -> Result<(), String> {
    let time = match s.split_once(' ') {
        Some((day, time)) if is_day(day) => time,
        Some(_) => "",
        None => s,
    };
    let ok = match time.split_once(':') {
        Some((hour, minute)) => is_clock_field(hour, 23) && is_clock_field(minute, 59),
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(
            "expected an optional weekday and a 24-hour time, such as \"Sun 04:00\" or \"23:00\""
                .to_string(),
        )
    }
}

/// `^[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+$`.
///
/// Every repetition ends in a run of lowercase letters, so the body is a sequence of
/// (digits with at most one dot, letters) pairs ending in letters; that is checked in one scan
/// instead of backtracking.
pub fn check_window_length(s: &str) -> Result<(), String> {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let mut ok = !body.is_empty();
    let mut dots_in_number = 0;
    let mut last_was_letter = false;
    for b in body.bytes() {
        match b {
            b'a'..=b'z' => {
                last_was_letter = true;
                dots_in_number = 0;
            }
            b'0'..=b'9' => last_was_letter = false,
            b'.' => {
                last_was_letter = false;
                dots_in_number += 1;
                if dots_in_number > 1 {
                    ok = false;
                }
            }
            _ => ok = false,
        }
    }
    if ok && last_was_letter {
        Ok(())
    } else {
        Err("expected a duration such as \"1h30m\", \"45m\" or \"2h\"".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_truncates_on_char_boundary_and_escapes() {
        assert_eq!(excerpt("abc", 40), "\"abc\"");
        assert_eq!(excerpt("abcdef", 3), "\"abc...\"");
        assert_eq!(excerpt("ééééé", 2), "\"éé...\"");
        assert_eq!(excerpt("a\nb", 40), "\"a\\nb\"");
        assert_eq!(excerpt("", 5), "\"\"");
        assert_eq!(excerpt("abc", 0), "\"...\"");
    }

    #[test]
    fn edit_distance_basics() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", "abc"), 0);
        assert_eq!(edit_distance("", "ab"), 2);
        assert_eq!(edit_distance("ab", ""), 2);
        assert_eq!(edit_distance(".servce", ".service"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("flaw", "lawn"), 2);
        assert_eq!(edit_distance("hostname", "hostnmae"), 2);
        assert_eq!(edit_distance("abc", "cba"), 2);
        assert_eq!(edit_distance("é", "e"), 1);
        assert_eq!(edit_distance("ab", "ba"), 2);
    }

    #[test]
    fn edit_distance_is_symmetric() {
        let words = [
            "", "a", "ab", "abc", "users", "usres", "user", "uesrs", "sers",
        ];
        for a in words {
            for b in words {
                assert_eq!(edit_distance(a, b), edit_distance(b, a), "{a} {b}");
            }
        }
    }

    #[test]
    fn edit_distance_bails_out_with_lower_bound() {
        assert_eq!(edit_distance("a", "abcd"), 3);
        assert_eq!(edit_distance("xyz", "abcdefg"), 4);
        let long = "x".repeat(1_000_000);
        assert!(edit_distance(&long, "hostname") > 2);
    }

    #[test]
    fn one_of_lists_allowed_values() {
        let allowed = ["etcd-lock", "reboot", "off"];
        assert!(one_of("reboot", &allowed).is_ok());
        assert_eq!(
            one_of("false", &allowed).unwrap_err(),
            "expected one of \"etcd-lock\", \"reboot\", \"off\""
        );
        assert!(one_of("Reboot", &allowed).is_err());
        assert!(one_of("", &allowed).is_err());
        assert!(one_of("x", &[]).is_err());
    }

    #[test]
    fn unit_names_valid() {
        for n in [
            "docker.service",
            "getty@ttyS0.service",
            "foo@.service",
            "10-bond0.netdev",
            "40-mgmt.link",
            "20-eth.network",
            "var-lib-docker.mount",
            "var-lib-docker.automount",
            "dev-sda1.swap",
            "dev-sda.device",
            "docker.socket",
            "multi-user.target",
            "backup.timer",
            "backup.path",
            "user.slice",
            "session-1.scope",
            "sys-devices-a\\x2db.device",
            "a:b_c.service",
            "node.exporter.service",
            "a@b@c.service",
        ] {
            assert_eq!(check_unit_name(n), Ok(()), "{n}");
        }
        let max = format!("{}.service", "a".repeat(255 - ".service".len()));
        assert_eq!(check_unit_name(&max), Ok(()));
    }

    #[test]
    fn unit_names_invalid() {
        assert_eq!(
            check_unit_name("docker").unwrap_err(),
            "\"docker\" has no unit type suffix such as .service"
        );
        let typo = check_unit_name("kubelet.servce").unwrap_err();
        assert!(typo.contains("did you mean \".service\"?"), "{typo}");
        let path = check_unit_name("../../etc/cron.service").unwrap_err();
        assert!(path.contains("\"/\""), "{path}");
        let unknown = check_unit_name("docker.io").unwrap_err();
        assert!(unknown.contains("expected one of .service"), "{unknown}");
        assert!(!unknown.contains("did you mean"), "{unknown}");
        assert!(check_unit_name("").is_err());
        assert!(check_unit_name(".service").unwrap_err().contains("no name"));
        assert!(check_unit_name("@.service").unwrap_err().contains("\"@\""));
        assert!(check_unit_name("@foo.service").is_err());
        assert!(check_unit_name("foo.")
            .unwrap_err()
            .contains("no unit type"));
        let space = check_unit_name("my unit.service").unwrap_err();
        assert!(space.contains("\" \""), "{space}");
        assert!(check_unit_name("naïve.service")
            .unwrap_err()
            .contains("\"ï\""));
        assert!(check_unit_name("a*b.service").is_err());
        assert!(check_unit_name("docker.Service")
            .unwrap_err()
            .contains("did you mean"));
        assert!(check_unit_name("docker.service ").is_err());
        let long = format!("{}.service", "a".repeat(256 - ".service".len()));
        assert!(check_unit_name(&long).unwrap_err().contains("256 bytes"));
    }

    #[test]
    fn dropin_names() {
        assert_eq!(check_dropin_name("20-env.conf"), Ok(()));
        assert_eq!(check_dropin_name("a.conf"), Ok(()));
        let missing = check_dropin_name("10-limits").unwrap_err();
        assert!(missing.contains("does not end in .conf"), "{missing}");
        assert!(check_dropin_name(".conf").unwrap_err().contains("no name"));
        assert!(check_dropin_name("").is_err());
        assert!(check_dropin_name("../x.conf")
            .unwrap_err()
            .contains("\"/\""));
        assert!(check_dropin_name("x.conf.bak").is_err());
        assert!(check_dropin_name("x\0.conf").unwrap_err().contains("NUL"));
    }

    #[test]
    fn hostnames_valid() {
        for h in [
            "worker-17.eu-west-1b.k8s.example.net",
            "win-edited-01",
            "1234",
            "a",
            "A-b.C",
            "xn--bcher-kva.example",
            "10.0.0.5a",
        ] {
            assert_eq!(check_hostname(h), Ok(()), "{h}");
        }
        let label = "a".repeat(63);
        assert_eq!(check_hostname(&label), Ok(()));
        let name = [label.as_str(); 4].join(".");
        assert_eq!(name.len(), 255);
        let name253 = format!("{}.{}.{}.{}", label, label, label, "a".repeat(61));
        assert_eq!(name253.len(), 253);
        assert_eq!(check_hostname(&name253), Ok(()));
    }

    #[test]
    fn hostnames_invalid() {
        assert_eq!(
            check_hostname("10.0.0.5").unwrap_err(),
            "an IP address is not a hostname"
        );
        for ip in [
            "::1",
            "fe80::1",
            "2001:db8::5",
            "fe80::1%eth0",
            "[::1]",
            "010.0.0.5",
            "300.1.1.1",
        ] {
            assert_eq!(
                check_hostname(ip).unwrap_err(),
                "an IP address is not a hostname",
                "{ip}"
            );
        }
        assert_eq!(
            check_hostname("db_01.internal").unwrap_err(),
            "label \"db_01\" contains \"_\""
        );
        assert!(check_hostname("-a")
            .unwrap_err()
            .contains("starts with a hyphen"));
        assert!(check_hostname("a-")
            .unwrap_err()
            .contains("ends with a hyphen"));
        assert!(check_hostname("a..b").unwrap_err().contains("empty label"));
        assert!(check_hostname(".a").unwrap_err().contains("empty label"));
        assert!(check_hostname("a.b.")
            .unwrap_err()
            .contains("ends with a dot"));
        assert!(check_hostname("").is_err());
        let long_label = "a".repeat(64);
        assert!(check_hostname(&long_label)
            .unwrap_err()
            .contains("64 bytes"));
        let long_name = vec!["a".repeat(63); 4].join(".");
        assert!(check_hostname(&long_name)
            .unwrap_err()
            .contains("255 bytes"));
        assert!(check_hostname("my host").unwrap_err().contains("\" \""));
        assert!(check_hostname("tab\there").unwrap_err().contains("\"\\t\""));
        assert!(check_hostname("héllo").unwrap_err().contains("\"é\""));
    }

    #[test]
    fn discovery_urls() {
        for u in [
            "https://discovery.etcd.io/3e86b59982e49066c5d813af1c2e2579cbf573de",
            "http://10.0.0.1:4001/v2/keys/_etcd/registry/abc",
            "HTTPS://example.com",
            "http://user:pw@host:80/path",
            "http://[::1]:2379/x",
            "http://host?x=1",
        ] {
            assert_eq!(check_discovery_url(u), Ok(()), "{u}");
        }
        for u in [
            "",
            "discovery.etcd.io/abc",
            "ftp://host/x",
            "https://",
            "https:///path",
            "http://:80/",
            "http://user@/",
            "http://host:port/",
            "http://[::1/",
            "http://host name/",
            "https//host",
        ] {
            assert!(check_discovery_url(u).is_err(), "{u}");
        }
    }

    #[test]
    fn permissions() {
        for p in [
            "0644", "644", "0744", "00600", "4755", "0000", "777", "07777",
        ] {
            assert!(parse_permissions(p).is_ok(), "{p}");
        }
        for p in [
            "rw-------",
            "pants",
            "0o644",
            "",
            "64",
            "0",
            "10644",
            "0888",
            "06444 ",
            "+644",
            "000000",
            "٠٦٤٤",
            "0999",
            "7",
        ] {
            assert!(parse_permissions(p).is_err(), "{p}");
        }
        // Every bit is kept, setuid, setgid and sticky included.
        assert_eq!(parse_permissions("4755"), Ok(0o4755));
        assert_eq!(parse_permissions("744"), Ok(0o744));
        assert_eq!(parse_permissions("0644"), Ok(0o644));
        assert_eq!(parse_permissions("07777"), Ok(0o7777));
        assert_eq!(parse_permissions("0000"), Ok(0));
    }

    #[test]
    fn window_start() {
        for s in [
            "Tue 02:30",
            "23:00",
            "Sun 04:00",
            "0:0",
            "00:00",
            "007:059",
            "sun 1:5",
            "SAT 23:59",
            "wEd 10:10",
            "\u{17F}un 01:00",
            "19:09",
        ] {
            assert_eq!(check_window_start(s), Ok(()), "{s}");
        }
        for s in [
            "Sat 3am",
            "24:00",
            "23:60",
            "Sun  04:00",
            "Sunday 04:00",
            "Sun04:00",
            "",
            "04:00 ",
            " 04:00",
            "4",
            ":30",
            "04:",
            "Xyz 04:00",
            "100:00",
            "01:100",
            "1:2:3",
            "+1:00",
            "Sun ",
            "９:00",
            "00000000000000000000000000000000000000000024:00",
        ] {
            assert!(check_window_start(s).is_err(), "{s}");
        }
        assert_eq!(
            check_window_start("0000000000000000000000000000000000000000001:00"),
            Ok(())
        );
    }

    #[test]
    fn window_length() {
        for s in [
            "1h30m", "45m", "2h", ".5h", "+1h", "-1h", "1.5h", "h", "1.h", "5.s1m", "1h.m", "abc",
            "1.5h2.5m", "0s",
        ] {
            assert_eq!(check_window_length(s), Ok(()), "{s}");
        }
        for s in [
            "2 hours", "", "10", "1H", "+", "-", "1..5h", "1.5.5h", "1h30", "+-1h", "1h ", "1h-1m",
            "1µs", "h.", "1h\n",
        ] {
            assert!(check_window_length(s).is_err(), "{s:?}");
        }
    }
}
