#!/usr/bin/env python3
"""Proves kindling's journal contract from the guest's real journal (journal.json, the whole
boot as `journalctl -b -o json` wrote it), against the scenario's own config:

  - every entry kindling logged through its journal logger carries SYSLOG_IDENTIFIER (the
    name it was run as) and a PRIORITY that is its level's, as systemd-journal-logger maps
    them (error 3, warn 4, info 5 notice, debug 6, trace 7); a failure is at 3; every entry
    with a documented MESSAGE_ID is at info (5);
  - the documented MESSAGE_IDs are there, one per user created, per SSH key set written, per
    file written, each naming its object;
  - no password hash and no file content from the config appears in any field of any entry
    of the journal (any process's, not only kindling's).

    journal-proof.py RESULTS_DIR USER_DATA UNIT IDENTIFIER

Prints `ok ...` / `FAIL ...` lines; exits 1 on any failure.
"""
import base64
import gzip
import json
import os
import sys

import yaml

USER_CREATED = "b0a49e4492a940c4b0b1c50cc7dfaf7e"
KEYS_WRITTEN = "38974a08673f4d4fb51e04894d0fdd7d"
FILE_WRITTEN = "def76ae6bbb8430eb065d8d9f02a5c5f"
PRIORITIES = {"3", "4", "5", "6", "7"}

results, user_data, unit, identifier = sys.argv[1:5]
failures = 0


def report(ok, what, detail=""):
    global failures
    print(f"{'ok  ' if ok else 'FAIL'} {what}" + ("" if ok else f": {detail}"))
    failures += 0 if ok else 1


def text(value):
    if isinstance(value, list):  # journald gives non-UTF-8 fields as byte arrays
        return bytes(value).decode("utf-8", "replace")
    return value if isinstance(value, str) else str(value)


entries = []
with open(os.path.join(results, "journal.json"), errors="replace") as f:
    for raw in f:
        try:
            entries.append(json.loads(raw))
        except ValueError:
            pass
report(len(entries) > 100, f"the journal has {len(entries)} entries")

# kindling's structured entries: logged in its unit by the journal logger (which adds
# CODE_FILE); its standard output (the summary line) comes through the unit's stream.
mine = [e for e in entries if e.get("_SYSTEMD_UNIT") == unit and "CODE_FILE" in e]
report(len(mine) >= 5, f"kindling logged {len(mine)} structured entries in {unit}")
wrong_ident = [e for e in mine if text(e.get("SYSLOG_IDENTIFIER")) != identifier]
report(not wrong_ident, f"each carries SYSLOG_IDENTIFIER={identifier}",
       [text(e.get("SYSLOG_IDENTIFIER")) for e in wrong_ident[:3]])
wrong_prio = [e for e in mine if text(e.get("PRIORITY")) not in PRIORITIES]
report(not wrong_prio, "each has a level's PRIORITY (3 to 7)",
       [(text(e.get("PRIORITY")), text(e.get("MESSAGE"))) for e in wrong_prio[:3]])
errors = [e for e in mine if "failed" in text(e.get("MESSAGE")).lower()]
report(any(text(e.get("PRIORITY")) == "3" for e in errors),
       "a failure is logged at PRIORITY 3 (err)",
       [(text(e.get("PRIORITY")), text(e.get("MESSAGE"))) for e in errors[:3]])

config = yaml.safe_load(open(user_data).read())


def with_id(message_id):
    return [e for e in mine if text(e.get("MESSAGE_ID")) == message_id]


tagged = [e for e in mine if "MESSAGE_ID" in e]
report(bool(tagged) and all(text(e.get("PRIORITY")) == "5" for e in tagged),
       "every MESSAGE_ID entry is at PRIORITY 5 (info's)",
       [(text(e.get("PRIORITY")), text(e.get("MESSAGE"))) for e in tagged[:3]])

existing = {"core"}  # in the guest base already: updated, not created
for user in config.get("users") or []:
    name = user["name"]
    hits = [e for e in with_id(USER_CREATED) if f'"{name}"' in text(e.get("MESSAGE"))]
    if name in existing:
        report(not hits, f"no user-created MESSAGE_ID for the existing {name}")
    else:
        report(len(hits) == 1, f"user-created MESSAGE_ID for {name}", len(hits))
key_owners = {"core"} if config.get("ssh_authorized_keys") else set()
key_owners |= {u["name"] for u in config.get("users") or [] if u.get("ssh_authorized_keys")}
for name in sorted(key_owners):
    hits = [e for e in with_id(KEYS_WRITTEN) if f'"{name}"' in text(e.get("MESSAGE"))]
    report(len(hits) >= 1, f"keys-written MESSAGE_ID for {name}", len(hits))
for wf in config.get("write_files") or []:
    hits = [e for e in with_id(FILE_WRITTEN) if f" {wf['path']} (" in text(e.get("MESSAGE"))]
    report(len(hits) == 1, f"file-written MESSAGE_ID for {wf['path']}", len(hits))


def decode(wf):
    content = wf.get("content") or ""
    raw = content if isinstance(content, bytes) else content.encode()
    enc = wf.get("encoding") or ""
    data = raw
    if "64" in enc:
        data = base64.b64decode(data)
    if enc.startswith("gz"):
        data = gzip.decompress(data)
    return raw, data


# Secrets: whole values and each of their lines, long enough not to occur by chance.
secrets = set()
for user in config.get("users") or []:
    if user.get("passwd"):
        secrets.add(user["passwd"])
for wf in config.get("write_files") or []:
    for blob in decode(wf):
        try:
            s = blob.decode("utf-8")
        except UnicodeDecodeError:
            continue
        for piece in [s.strip()] + s.splitlines():
            if len(piece.strip()) >= 8:
                secrets.add(piece.strip())
units = (config.get("coreos") or {}).get("units") or []
for u in units:
    for body in [u.get("content")] + [d.get("content") for d in u.get("drop_ins") or []]:
        # A unit file's own lines (`ExecStart=...`) are content; systemd logs what they do,
        # never the lines themselves.
        for line in (body or "").splitlines():
            if "=" in line and len(line) >= 12:
                secrets.add(line.strip())
report(len(secrets) >= 10, f"{len(secrets)} secrets taken from {user_data}")
leaks = []
for e in entries:
    for field, value in e.items():
        if field.startswith("__"):
            continue
        v = text(value)
        for secret in secrets:
            if secret in v:
                leaks.append((text(e.get("SYSLOG_IDENTIFIER")), field, secret[:40]))
report(not leaks, "no password hash or file content anywhere in the journal", leaks[:5])
sys.exit(1 if failures else 0)
