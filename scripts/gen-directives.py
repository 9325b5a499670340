#!/usr/bin/env python3
"""Regenerates src/config/directives.rs, the systemd directive table of `kindling validate`.

Usage: scripts/gen-directives.py SYSTEMD_SOURCE_DIR [DUMP_FILE...] > src/config/directives.rs

SYSTEMD_SOURCE_DIR is an unpacked systemd release. The table in the repo comes from 257.13,
Debian 13's source package (`apt-get source --download-only systemd` with a trixie deb-src line,
then `tar xzf systemd_257.13.orig.tar.gz`), plus `/lib/systemd/systemd
--dump-configuration-items` of Debian 12's systemd 252 as a DUMP_FILE. It is read for:
  src/core/load-fragment-gperf.gperf.in        unit-file directives and their parsers
  src/core/load-fragment.c                     which parsers resolve %-specifiers
  src/core/{service,kill}.c, src/basic/unit-def.c  the values of Type=, Restart=, KillMode=,
                                               NotifyAccess=
  src/core/*.c                                 the sections of each unit type (".sections =")
  src/network/networkd-network-gperf.gperf     .network
  src/network/netdev/netdev-gperf.gperf        .netdev (networkd-netdev-gperf.gperf before 256)
  src/udev/net/link-config-gperf.gperf         .link
Each DUMP_FILE is the output of `systemd --dump-configuration-items` of another version (the
repo's table adds systemd 252's, Debian 12's): directives it lists that the source does not are
added with no value type, so that an older unit never gets an unknown-directive warning.
"""
import glob
import os
import re
import sys

src = sys.argv[1]
dumps = sys.argv[2:]


def read(path):
    with open(os.path.join(src, path), encoding="utf-8") as f:
        return f.read()


def version():
    try:
        return read("meson.version").strip()
    except FileNotFoundError:
        return "unknown"


# Parser function -> value type. Only parsers whose whole syntax is a plain boolean or a plain
# time span are typed; everything else is "Other" (name checked, value not).
BOOL_PARSERS = {"config_parse_bool"}
SPAN_PARSERS = {
    "config_parse_sec",
    "config_parse_sec_fix_0",
    "config_parse_sec_def_infinity",
    "config_parse_sec_def_unset",
    "config_parse_service_timeout",
    "config_parse_service_timeout_abort",
    "config_parse_timeout_abort",
    "config_parse_job_timeout_sec",
    "config_parse_job_running_timeout_sec",
}
# Enumerations whose values come from a systemd string table: (parser, table, file).
ENUMS = {
    "config_parse_service_type": ("service_type_table", "src/core/service.c"),
    "config_parse_service_restart": ("service_restart_table", "src/core/service.c"),
    "config_parse_kill_mode": ("kill_mode_table", "src/core/kill.c"),
    "config_parse_notify_access": ("notify_access_table", "src/basic/unit-def.c"),
}


def string_table(name, path):
    text = read(path)
    m = re.search(r"\b%s\[[^\]]*\]\s*=\s*\{(.*?)\};" % re.escape(name), text, re.S)
    if not m:
        sys.exit(f"{name} not found in {path}")
    return re.findall(r'=\s*"([^"]+)"', m.group(1))


def printf_parsers():
    """Parsers of load-fragment.c that pass the value through unit_*printf (specifiers)."""
    text = read("src/core/load-fragment.c")
    out = set()
    for m in re.finditer(r"^int (config_parse_\w+)\(", text, re.M):
        body = text[m.start() : text.find("\n}\n", m.start())]
        if re.search(r"\bunit_\w*printf\w*\(", body):
            out.add(m.group(1))
    return out


def gperf_items(text, macros=None):
    """(section, key, parser, ltype) of a gperf file; unit-file macros are expanded."""
    items = []
    for line in text.splitlines():
        m = re.match(r"^\{\{\s*(\w+)\('(\w+)'\)\s*\}\}", line)
        if m and macros is not None:
            for key, parser, ltype in macros[m.group(1)]:
                items.append((m.group(2), key, parser, ltype))
            continue
        m = re.match(r"^([A-Za-z0-9-]+)\.([A-Za-z0-9]+),\s*([A-Za-z0-9_]+|NULL),\s*([^,]+),", line)
        if m:
            items.append((m.group(1), m.group(2), m.group(3), m.group(4).strip()))
    return items


def unit_items():
    text = read("src/core/load-fragment-gperf.gperf.in")
    macros = {}
    for m in re.finditer(r"\{%-? macro (\w+)\(type\) -?%\}(.*?)\{%-? endmacro -?%\}", text, re.S):
        body = []
        for line in m.group(2).splitlines():
            mm = re.match(r"^\{\{type\}\}\.([A-Za-z0-9]+),\s*(\w+),\s*([^,]+),", line)
            if mm:
                body.append((mm.group(1), mm.group(2), mm.group(3).strip()))
        macros[m.group(1)] = body
    body = text[text.index("%%") :]
    return gperf_items(body, macros)


def unit_sections():
    out = {}
    for path in sorted(glob.glob(os.path.join(src, "src/core/*.c"))):
        text = open(path, encoding="utf-8").read()
        m = re.search(r"const UnitVTable (\w+)_vtable = \{(.*?)\n\};", text, re.S)
        if not m:
            continue
        s = re.search(r"\.sections\s*=\s*((?:\s*\"[^\"]*\")+)", m.group(2))
        if s:
            names = "".join(re.findall(r'"([^"]*)"', s.group(1))).split("\\0")
            out[m.group(1)] = [n for n in names if n]
    return out


def dump_items(path):
    items, section = [], None
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        m = re.match(r"^\[(.+)\]$", line)
        if m:
            section = m.group(1)
        elif "=" in line and section:
            items.append((section, line.split("=", 1)[0]))
    return items


def ty(parser, ltype, printf):
    if parser in BOOL_PARSERS:
        return "Ty::Bool"
    if parser in SPAN_PARSERS:
        return "Ty::Span"
    if parser == "config_parse_timer" and ltype != "TIMER_CALENDAR":
        return "Ty::Span"
    if parser in ENUMS:
        return "Ty::Enum(%s)" % enum_const(parser)
    return "Ty::Other"


def enum_const(parser):
    return parser.removeprefix("config_parse_").upper()


def table(name, doc, rows):
    # Sorted by (section, key) as Rust compares &str (bytes), for binary search. A directive
    # listed twice ({% if HAVE_SECCOMP %} … {% else %} warn_compat) keeps its first, real entry.
    rows = sorted(rows, key=lambda r: (r[0].encode(), r[1].encode()))
    seen = set()
    print(f"/// {doc}")
    print(f"pub static {name}: &[Directive] = &[")
    for section, key, t, spec in rows:
        if (section, key) in seen:
            continue
        seen.add((section, key))
        print(f'    d("{section}", "{key}", {t}, {"true" if spec else "false"}),')
    print("];")


def main():
    printf = printf_parsers()
    units = unit_items()
    rows = [(s, k, ty(p, l, printf), p in printf) for s, k, p, l in units]
    known = {(s, k) for s, k, _, _ in rows}
    extra = []
    for path in dumps:
        for s, k in dump_items(path):
            if (s, k) not in known:
                extra.append((s, k))
                rows.append((s, k, "Ty::Other", False))
                known.add((s, k))
    net = []
    for what, path in [
        ("NETWORK", "src/network/networkd-network-gperf.gperf"),
        ("NETDEV", "src/network/netdev/netdev-gperf.gperf"),
        ("LINK", "src/udev/net/link-config-gperf.gperf"),
    ]:
        if what == "NETDEV" and not os.path.exists(os.path.join(src, path)):
            path = "src/network/networkd-netdev-gperf.gperf"
        body = read(path)
        body = body[body.index("%%") :]
        net.append((what, path, [(s, k, ty(p, l, set()), False) for s, k, p, l in gperf_items(body)]))

    print(f"// Generated by scripts/gen-directives.py from systemd {version()}'s sources", end="")
    print(f" and {len(dumps)} dump(s) of --dump-configuration-items; do not edit.")
    if extra:
        print("// Added from the dump(s), gone from the sources: " + ", ".join(f"{s}.{k}" for s, k in sorted(extra)) + ".")
    print("// rustfmt::skip keeps one directive per line, so a regeneration diffs line by line.")
    print()
    print("use super::{d, Directive, Ty};")
    print()
    print(f'pub const SOURCE_VERSION: &str = "{version()}";')
    print()
    for parser, (tbl, path) in ENUMS.items():
        values = string_table(tbl, path)
        print(f"/// `{tbl}` of systemd's {path}.")
        print("#[rustfmt::skip]")
        print(f"pub const {enum_const(parser)}: &[&str] = &[")
        for v in values:
            print(f'    "{v}",')
        print("];")
    print()
    print("/// The sections of each unit type, by suffix (the `.sections` of its vtable).")
    print("#[rustfmt::skip]")
    print("pub static UNIT_SECTIONS: &[(&str, &[&str])] = &[")
    for name, sections in sorted(unit_sections().items()):
        print(f'    ("{name}", &[{", ".join(chr(34) + s + chr(34) for s in sections)}]),')
    print("];")
    print()
    print("#[rustfmt::skip]")
    table("UNIT", "Unit-file directives: `[Section] Key`, value type, specifiers resolved.", rows)
    for what, path, items in net:
        print()
        print("#[rustfmt::skip]")
        table(what, f"networkd/udev directives of {path}.", items)


main()
