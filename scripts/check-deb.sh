#!/usr/bin/env bash
# Checks a built kindling .deb with dpkg-deb: its control fields, and that it holds every file an
# operator expects, with root ownership and the right modes. `make deb` runs it; so can CI.
#
#   check-deb.sh PATH.deb
set -euo pipefail
deb=${1:?usage: check-deb.sh PATH.deb}
fails=0
bad() { echo "check-deb: $*" >&2; fails=$((fails + 1)); }

info=$(dpkg-deb --info "$deb")
for field in 'Package: kindling' 'Architecture: amd64' 'Depends: passwd, systemd' \
             'Provides: coreos-cloudinit' 'Section: admin'; do
    grep -q "^ $field\$" <<<"$info" || bad "control lacks '$field'"
done
version=$(dpkg-deb --field "$deb" Version)
case $(basename "$deb") in
    "kindling_${version}_amd64.deb") ;;
    *) bad "file name $(basename "$deb") does not match version $version" ;;
esac
for script in postinst postrm; do
    grep -Eq "^ +[0-9]+ bytes, +[0-9]+ lines +\* +$script " <<<"$info" || bad "no executable $script"
done

contents=$(dpkg-deb --contents "$deb")
# mode owner/group path, as dpkg-deb lists them (tar's format).
expect() {
    local mode=$1 path=$2
    grep -Eq "^$mode root/root +[0-9]+ [0-9-]+ [0-9:]+ \./${path#/}( -> .*)?\$" <<<"$contents" \
        || bad "missing or wrong: $mode $path"
}
expect '-rwxr-xr-x' /usr/bin/kindling
expect 'lrwxrwxrwx' /usr/bin/coreos-cloudinit
for unit in dist/systemd/*; do
    case $unit in
        *.rules) expect '-rw-r--r--' "/usr/lib/udev/rules.d/$(basename "$unit")" ;;
        *) expect '-rw-r--r--' "/usr/lib/systemd/system/$(basename "$unit")" ;;
    esac
done 2>/dev/null
expect 'lrwxrwxrwx' /usr/lib/systemd/system/multi-user.target.wants/system-config.target
expect 'lrwxrwxrwx' /usr/lib/systemd/system/multi-user.target.wants/user-config.target
expect '-rw-r--r--' /usr/share/man/man1/kindling.1.gz
expect '-rw-r--r--' /usr/share/bash-completion/completions/kindling
expect '-rw-r--r--' /usr/share/zsh/vendor-completions/_kindling
expect '-rw-r--r--' /usr/share/fish/vendor_completions.d/kindling.fish
expect '-rw-r--r--' /usr/share/kindling/cloud-config.schema.json
expect '-rw-r--r--' /usr/share/doc/kindling/copyright
grep -q ' -> kindling$' <<<"$(grep '/usr/bin/coreos-cloudinit' <<<"$contents")" || bad "coreos-cloudinit does not point at kindling"
# Nothing outside /usr (the package owns no configuration files).
outside=$(awk '{print $6}' <<<"$contents" | grep -Ev '^\./($|usr/)' || true)
[ -z "$outside" ] || bad "files outside /usr: $outside"

# The packaged files themselves: the binary runs, the man page renders, the completion parses.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp"
"$tmp/usr/bin/kindling" --version | grep -q "^kindling $version" || bad "the packaged binary's --version is not $version"
[ -s "$tmp/usr/share/kindling/cloud-config.schema.json" ] && "${PYTHON:-python3}" -m json.tool "$tmp/usr/share/kindling/cloud-config.schema.json" >/dev/null \
    || bad "the packaged schema is not JSON"
bash -n "$tmp/usr/share/bash-completion/completions/kindling" || bad "the bash completion does not parse"
if command -v man >/dev/null; then
    MANWIDTH=80 man -l "$tmp/usr/share/man/man1/kindling.1.gz" 2>/dev/null | grep -q 'KINDLING VALIDATE' \
        || bad "the man page does not render"
fi
if command -v lintian >/dev/null; then
    # Informational: a static binary and the units under /usr/lib draw tags a Debian upload
    # would have to answer; errors are printed, not fatal.
    lintian --no-tag-display-limit "$deb" >&2 || true
fi
[ "$fails" = 0 ] || { echo "check-deb: $fails problem(s) in $deb" >&2; exit 1; }
echo "check-deb: $deb ok" >&2
