#!/usr/bin/env python3
"""Splits the guest's journal (journal.json, `journalctl -b -o json`) on the host, so the guest
runs journalctl once instead of once per unit (each call costs seconds under TCG).

    journal-split.py OUT_DIR

Writes, in the style of `journalctl -o short-monotonic`:
  journal.txt             the whole journal of the boot
  journal-unit-UNIT.txt   for each unit in kunits.list (kindling's units: what `-u UNIT` shows)
  journal-query-UNIT.txt  for each other unit in units.list
  kindling.json           kindling's own entries (SYSLOG_IDENTIFIER coreos-cloudinit or kindling)
"""
import json
import os
import sys

out = sys.argv[1]


def text(value):
    if isinstance(value, list):  # journald gives non-UTF-8 fields as byte arrays
        return bytes(value).decode("utf-8", "replace")
    return value if isinstance(value, str) else ""


def lines(name):
    path = os.path.join(out, name)
    return [l.strip() for l in open(path)] if os.path.exists(path) else []


entries = []
with open(os.path.join(out, "journal.json"), errors="replace") as f:
    for raw in f:
        try:
            entries.append(json.loads(raw))
        except ValueError:
            pass

kunits = set(lines("kunits.list"))
units = [u for u in lines("units.list") if u]


def belongs(e, unit):
    # journalctl -u: the unit's own processes, and PID 1's (and others') messages about it.
    return unit in (e.get("_SYSTEMD_UNIT"), e.get("UNIT"), e.get("OBJECT_SYSTEMD_UNIT"))


def fmt(e):
    # As journalctl: the source's own timestamp (kernel lines) over journald's receive time.
    mono = int(e.get("_SOURCE_MONOTONIC_TIMESTAMP") or e.get("__MONOTONIC_TIMESTAMP") or 0) / 1e6
    ident = text(e.get("SYSLOG_IDENTIFIER")) or text(e.get("_COMM")) or "?"
    pid = text(e.get("SYSLOG_PID")) or text(e.get("_PID"))
    who = f"{ident}[{pid}]" if pid else ident
    return f"[{mono:12.6f}] {text(e.get('_HOSTNAME'))} {who}: {text(e.get('MESSAGE'))}\n"


with open(os.path.join(out, "journal.txt"), "w") as f:
    f.writelines(fmt(e) for e in entries)

for unit in units:
    kind = "unit" if unit in kunits else "query"
    with open(os.path.join(out, f"journal-{kind}-{unit}.txt"), "w") as f:
        f.writelines(fmt(e) for e in entries if belongs(e, unit))

with open(os.path.join(out, "kindling.json"), "w") as f:
    for e in entries:
        if text(e.get("SYSLOG_IDENTIFIER")) in ("coreos-cloudinit", "kindling"):
            f.write(json.dumps(e) + "\n")
