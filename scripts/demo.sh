#!/usr/bin/env bash
# `make demo`: validate the example configs, then apply the worker config to a fresh offline
# root (real useradd, real files, unit symlinks), twice, and show the resulting tree.
set -euo pipefail
bin=${1:-target/debug/kindling}
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step kindling validate testdata/cloud-configs/demo.yml
"$bin" validate testdata/cloud-configs/demo.yml && echo "(exit 0: no problems found)"

step kindling validate testdata/cloud-configs/demo-broken.yml
"$bin" validate testdata/cloud-configs/demo-broken.yml || echo "(exit $?)"

if [ "$(id -u)" != 0 ]; then
    echo
    echo "The apply half of the demo creates users with useradd and chowns files: run it as root."
    exit 0
fi

root=$(mktemp -d /tmp/kindling-demo.XXXXXX)
cp -a testdata/root/. "$root/"
rm -f "$root/README"
chmod 0600 "$root/etc/shadow" "$root/etc/gshadow"
install -d -m 0700 -o 500 -g 500 "$root/home/core"
export COREOS_PRIVATE_IPV4=10.20.1.7 COREOS_PUBLIC_IPV4=203.0.113.7

step kindling plan --from-file testdata/cloud-configs/demo.yml --root "$root"
"$bin" plan --from-file testdata/cloud-configs/demo.yml --root "$root"

step kindling apply --from-file testdata/cloud-configs/demo.yml --root "$root"
"$bin" apply --from-file testdata/cloud-configs/demo.yml --root "$root"

step kindling apply --from-file testdata/cloud-configs/demo.yml --root "$root" "  # again: nothing to do"
"$bin" apply --from-file testdata/cloud-configs/demo.yml --root "$root"

step "find $root (mode uid:gid path [-> target])"
(cd "$root" && find . -mindepth 1 \( -type f -o -type l \) -printf '%m %U:%G %P\t%l\n' | sort -k3 |
    awk -F'\t' '{ if ($2 != "") print $1 " -> " $2; else print $1 }')
echo
echo "The tree is left in $root for a closer look."
