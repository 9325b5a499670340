#!/usr/bin/env bash
# Judges one booted scenario: reads the raw tar the guest wrote on its results disk and runs the
# scenario's check.sh against it. PASS needs the collector's DONE file and every check passing.
# Prints one PASS/FAIL line (and, on failure, the failing checks, kindling's journal and the
# console's tail); writes WORKDIR/verdict and WORKDIR/checks.txt.
#
#   check.sh WORKDIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
W=$1
name=$(basename "$W")
R=$W/out
FS=$R/fs
rm -rf "$R"
mkdir -p "$FS"
tar -xf "$W/results.img" -C "$R" 2>/dev/null
boot=$(cat "$W/boot.result" 2>/dev/null || echo "no boot result")

tail_console() {
    echo "    --- last 30 lines of $W/console.log ---"
    tail -n 30 "$W/console.log" 2>/dev/null | tr -d '\r' | sed 's/\x1b\[[0-9;]*m//g; s/^/    /'
    echo "    --- ttyS1: $(cat "$W/ttyS1.log" 2>/dev/null | tr -d '\r')"
}

if [ ! -f "$R/DONE" ]; then
    echo FAIL > "$W/verdict"
    echo "FAIL $name: the guest left no results ($boot; qemu rc 124 is the ${E2E_TIMEOUT:-300} s timeout)"
    tail_console
    exit 1
fi
tar -xf "$R/files.tar" -C "$FS" --no-same-owner --no-same-permissions 2>/dev/null
"${PYTHON:-python3}" "$here/lib/journal-split.py" "$R"

# shellcheck source=lib/checks.sh
. "$here/lib/checks.sh"
{
    if [ -s "$R/wait-timeouts" ]; then
        fail "the collector's waits finished" "$(cat "$R/wait-timeouts")"
    fi
    # shellcheck disable=SC1090
    . "$here/scenarios/$name/check.sh"
    echo "$CHECKS $FAILS" > "$W/counts"
} > "$W/checks.txt" 2>&1
read -r checks fails < "$W/counts" 2>/dev/null || { checks=0; fails=1; }

if [ "$fails" = 0 ] && [ "$checks" -gt 0 ]; then
    echo PASS > "$W/verdict"
    echo "PASS $name ($checks checks; $boot)"
    exit 0
fi
echo FAIL > "$W/verdict"
echo "FAIL $name: $fails of $checks checks failed ($boot)"
grep -A15 '^  FAIL' "$W/checks.txt" | grep -E '^  FAIL|^ +\|' | sed 's/^/  /'
# The journals of the units in which kindling ran.
for j in "$R"/journal-unit-*.txt; do
    grep -q 'coreos-cloudinit\[' "$j" || continue
    echo "    --- $(basename "$j" .txt | sed 's/^journal-unit-//') ---"
    tail -n 25 "$j" | sed 's/^/    /'
done
tail_console
exit 1
