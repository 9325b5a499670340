# shellcheck shell=bash
# Check helpers for tests/vm/scenarios/*/check.sh, sourced by check.sh. They read what the guest's
# collector wrote ($R: stat.txt, units.txt, journals, getent output; $FS: the guest's files) and
# the host's own records ($W: http.log of the metadata server). Each records one ok/FAIL line.
# Paths are guest paths (/etc/passwd, not $FS/etc/passwd).

CHECKS=0 FAILS=0
pass() { CHECKS=$((CHECKS + 1)); echo "  ok    $1"; }
fail() {
    CHECKS=$((CHECKS + 1)) FAILS=$((FAILS + 1))
    echo "  FAIL  $1"
    [ -n "${2:-}" ] && printf '%s\n' "$2" | head -n 15 | sed 's/^/          | /'
    return 0
}

# check DESC CMD...: passes when CMD succeeds.
check() { local d=$1; shift; if "$@" >/dev/null 2>&1; then pass "$d"; else fail "$d"; fi; }

# The stat row of a guest path: type mode uid gid user group size link.
stat_row() { awk -F'\t' -v p="$1" '$1 == p {print $2, $3, $4, $5, $6, $7, $8, $9; exit}' "$R/stat.txt"; }

# stat_is PATH "TYPE MODE USER GROUP" (type as find's %y: f, d, l).
stat_is() {
    local got; got=$(stat_row "$1" | awk '{print $1, $2, $5, $6}')
    [ "$got" = "$2" ] && pass "stat $1 = $2" || fail "stat $1 = $2" "got: ${got:-<missing>}"
}
# link_is PATH TARGET: a symlink and where it points.
link_is() {
    local got; got=$(stat_row "$1" | awk '{print $1, $8}')
    [ "$got" = "l $2" ] && pass "$1 -> $2" || fail "$1 -> $2" "got: ${got:-<missing>}"
}
exists() { [ -n "$(stat_row "$1")" ] && pass "$1 exists" || fail "$1 exists"; }
absent() { local r; r=$(stat_row "$1"); [ -z "$r" ] && pass "$1 absent" || fail "$1 absent" "got: $r"; }

# file_is PATH CONTENT: byte-exact (CONTENT as a shell string; use $'...' for newlines).
file_is() {
    if [ -f "$FS$1" ] && cmp -s <(printf '%s' "$2") "$FS$1"; then
        pass "$1 content"
    else
        local d='<missing>'
        [ -f "$FS$1" ] && d=$(diff <(printf '%s' "$2") "$FS$1" | head -n 12)
        fail "$1 content" "$d"
    fi
}
# file_has PATH ERE / file_lacks PATH ERE
file_has() { grep -Eq -- "$2" "$FS$1" 2>/dev/null && pass "$1 has /$2/" || fail "$1 has /$2/" "$(head -n 10 "$FS$1" 2>/dev/null || echo '<missing>')"; }
file_lacks() { [ -f "$FS$1" ] && ! grep -Eq -- "$2" "$FS$1" && pass "$1 lacks /$2/" || fail "$1 lacks /$2/" "$(grep -E -- "$2" "$FS$1" 2>/dev/null | head -n 5)"; }

# passwd_is USER "UID:GID:GECOS:HOME:SHELL" (from the guest's getent passwd).
passwd_is() {
    local got; got=$(awk -F: -v u="$1" '$1 == u {print $3":"$4":"$5":"$6":"$7}' "$R/getent-passwd.txt")
    [ "$got" = "$2" ] && pass "passwd $1 = $2" || fail "passwd $1 = $2" "got: ${got:-<no such user>}"
}
# shadow_is USER HASH: the password field of /etc/shadow.
shadow_is() {
    local got; got=$(awk -F: -v u="$1" '$1 == u {print $2}' "$FS/etc/shadow")
    [ "$got" = "$2" ] && pass "shadow $1 has the given hash" || fail "shadow $1 has the given hash" "got: ${got:-<no entry>}"
}
# in_groups USER GROUP...: each GROUP lists USER as a member (the guest's `id USER` agrees).
in_groups() {
    local u=$1 g; shift
    for g in "$@"; do
        if awk -F: -v g="$g" -v u="$u" '$1 == g {n = split($4, m, ","); for (i = 1; i <= n; i++) if (m[i] == u) f = 1} END {exit !f}' "$R/getent-group.txt" \
            && grep -E "^uid=[0-9]+\($u\)" "$R/id.txt" | grep -q "($g)"; then
            pass "$u in group $g"
        else
            fail "$u in group $g" "$(grep -E "^$g:" "$R/getent-group.txt"; grep -E "\($u\)" "$R/id.txt")"
        fi
    done
}

# unit_is UNIT ENABLED ACTIVE: `systemctl is-enabled` and `is-active` in the guest ("" = any).
unit_is() {
    # (names go to awk through the environment: -v would turn \x2d into "-")
    local line e a; line=$(U=$1 awk '$1 == ENVIRON["U"]' "$R/units.txt")
    e=$(sed -n 's/.* is-enabled=\([^ ]*\).*/\1/p' <<<"$line")
    a=$(sed -n 's/.* is-active=\([^ ]*\).*/\1/p' <<<"$line")
    if { [ -z "$2" ] || [ "$e" = "$2" ]; } && { [ -z "$3" ] || [ "$a" = "$3" ]; }; then
        pass "$1: ${2:+is-enabled=$2 }${3:+is-active=$3}"
    else
        fail "$1: ${2:+is-enabled=$2 }${3:+is-active=$3}" "got: ${line:-<not queried>}"
    fi
}
# unit_prop UNIT PROP=VALUE: a `systemctl show` property in the guest.
unit_prop() {
    local got; got=$(ID="Id=$1" P="${2%%=*}=" awk 'BEGIN {RS = ""; FS = "\n"; id = ENVIRON["ID"]; p = ENVIRON["P"]}
        {f = 0; for (i = 1; i <= NF; i++) if ($i == id) f = 1
         if (f) for (i = 1; i <= NF; i++) if (index($i, p) == 1) print $i}' "$R/units-show.txt")
    [ "$got" = "$2" ] && pass "$1 $2" || fail "$1 $2" "got: ${got:-<not queried>}"
}

# journal_has UNIT ERE / journal_lacks UNIT ERE: the unit's journal in the guest (kindling's
# lines and systemd's about it). UNIT "-" is the whole journal of the boot.
journal_file() {
    if [ "$1" = - ]; then echo "$R/journal.txt"
    elif [ -e "$R/journal-unit-$1.txt" ]; then echo "$R/journal-unit-$1.txt"
    else echo "$R/journal-query-$1.txt"; fi
}
journal_has() {
    grep -Eq -- "$2" "$(journal_file "$1")" 2>/dev/null && pass "journal $1 has /$2/" \
        || fail "journal $1 has /$2/" "$(tail -n 12 "$(journal_file "$1")" 2>/dev/null || echo '<no journal>')"
}
journal_lacks() {
    local hits; hits=$(grep -E -- "$2" "$(journal_file "$1")" 2>/dev/null | head -n 5)
    [ -z "$hits" ] && pass "journal $1 lacks /$2/" || fail "journal $1 lacks /$2/" "$hits"
}
# journal_count UNIT ERE N: exactly N lines match.
journal_count() {
    local n; n=$(grep -Ec -- "$2" "$(journal_file "$1")" 2>/dev/null)
    [ "${n:-0}" = "$3" ] && pass "journal $1 has $3 x /$2/" || fail "journal $1 has $3 x /$2/" "got ${n:-0}"
}

# http_has ERE: a line of the metadata server's JSON request log.
http_has() { grep -Eq -- "$1" "$W/http.log" 2>/dev/null && pass "metadata server saw /$1/" || fail "metadata server saw /$1/" "$(cat "$W/http.log" 2>/dev/null | tail -n 10)"; }
http_lacks() { local h; h=$(grep -E -- "$1" "$W/http.log" 2>/dev/null | head -n 3); [ -z "$h" ] && pass "metadata server never saw /$1/" || fail "metadata server never saw /$1/" "$h"; }

# hostname_is NAME: static (/etc/hostname and hostnamectl) and transient (kernel) hostname.
hostname_is() {
    local static transient hctl
    static=$(cat "$FS/etc/hostname" 2>/dev/null)
    transient=$(tail -n 1 "$R/hostname.transient")
    hctl=$(sed -n 's/^ *Static hostname: //p' "$R/hostnamectl.txt")
    [ "$static" = "$1" ] && [ "$transient" = "$1" ] && [ "$hctl" = "$1" ] && pass "hostname $1 (static, transient, hostnamectl)" \
        || fail "hostname $1 (static, transient, hostnamectl)" "static=$static transient=$transient hostnamectl=$hctl"
}

# out_has FILE ERE: a file the collector wrote itself (FILE relative to its output, e.g.
# scenario/findmnt.txt from the scenario's scenario_collect, or resolve.txt).
out_has() { grep -Eq -- "$2" "$R/$1" 2>/dev/null && pass "$1 has /$2/" || fail "$1 has /$2/" "$(head -n 10 "$R/$1" 2>/dev/null || echo '<missing>')"; }

# kindling_logged PRIORITY ERE: kindling logged a journal entry matching ERE at syslog priority
# PRIORITY or more severe (3 error, 4 warning, 6 info), read from its structured entries.
kindling_logged() {
    local hit
    hit=$("${PYTHON:-python3}" - "$R/kindling.json" "$1" "$2" <<'PY'
import json, re, sys
path, prio, pattern = sys.argv[1], int(sys.argv[2]), re.compile(sys.argv[3])
for line in open(path, errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    msg = e.get("MESSAGE")
    if isinstance(msg, str) and int(e.get("PRIORITY", 6)) <= prio and pattern.search(msg):
        print(e.get("PRIORITY"), e.get("_SYSTEMD_UNIT"), msg)
        break
PY
)
    [ -n "$hit" ] && pass "kindling logged at priority <= $1: /$2/" || fail "kindling logged at priority <= $1: /$2/" "$(grep -o '"MESSAGE":"[^"]*"' "$R/kindling.json" | tail -n 8)"
}

# journal_proven UNIT IDENTIFIER: kindling's journal contract, from the guest's whole journal and
# the scenario's user_data (lib/journal-proof.py): SYSLOG_IDENTIFIER and PRIORITY on its entries,
# the documented MESSAGE_IDs per user, key set and file, and no password hash or file content
# anywhere in the journal.
journal_proven() {
    local line
    while IFS= read -r line; do
        case $line in
            "ok   "*) pass "journal: ${line#ok   }" ;;
            "FAIL "*) fail "journal: ${line#FAIL }" ;;
            *) fail "journal proof: $line" ;;
        esac
    done < <("${PYTHON:-python3}" "$here/lib/journal-proof.py" "$R" "$here/scenarios/$name/user_data" "$1" "$2" 2>&1)
}
