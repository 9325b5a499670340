#!/usr/bin/env bash
# Builds target/kindling_VERSION_amd64.deb from what `make build` made: `make install` into a
# staging root, then the Debian control files, with dpkg-deb. Usage: mkdeb.sh BIN OUTDIR.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?usage: mkdeb.sh BIN OUTDIR}
outdir=${2:?usage: mkdeb.sh BIN OUTDIR}
command -v dpkg-deb >/dev/null || { echo "mkdeb: dpkg-deb is required (package dpkg)" >&2; exit 1; }
[ -x "$bin" ] || { echo "mkdeb: $bin is missing; run make build first" >&2; exit 1; }

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
arch=amd64
stage=$(mktemp -d "${TMPDIR:-/tmp}/kindling-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/root

make --no-print-directory install DESTDIR="$root" PREFIX=/usr BIN="$bin" >/dev/null

doc=$root/usr/share/doc/kindling
install -d -m 0755 "$doc"
# Machine-readable copyright (DEP-5); Debian ships the licence text itself.
cat > "$doc/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: kindling
Source: https://github.com/kindling/kindling

Files: *
Copyright: the kindling authors
License: Apache-2.0

License: Apache-2.0
 Licensed under the Apache License, Version 2.0 (the "License"); you may not use this file
 except in compliance with the License. You may obtain a copy of the License at
 .
 http://www.apache.org/licenses/LICENSE-2.0
 .
 Unless required by applicable law or agreed to in writing, software distributed under the
 License is distributed on an "AS IS" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND,
 either express or implied. See the License for the specific language governing permissions
 and limitations under the License.
 .
 On Debian systems, the full text of the Apache License, Version 2.0 can be found in
 /usr/share/common-licenses/Apache-2.0.
COPYRIGHT
chmod 0644 "$doc/copyright"

install -d -m 0755 "$root/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: kindling
Version: $version
Architecture: $arch
Maintainer: kindling developers <kindling@localhost>
Installed-Size: $size
Depends: passwd, systemd
Provides: coreos-cloudinit
Section: admin
Priority: optional
Homepage: https://github.com/kindling/kindling
Description: validate and apply CoreOS/Flatcar cloud-configs
 kindling is one static binary that replaces coreos-cloudinit, the boot-time agent of CoreOS
 and Flatcar Container Linux: it reads the same cloud-configs, accepts the same flags, and
 validates them strictly. The package installs the boot units and udev rules that run it
 from a config drive, an OVF environment, the kernel command line or a local file.
CONTROL

# The units and rules are new to systemd and udev; enabling is done by the shipped wants
# symlinks, as on Flatcar, so nothing is enabled or started here.
for script in postinst postrm; do
    cat > "$root/DEBIAN/$script" <<'SCRIPT'
#!/bin/sh
set -e
# Only on a running system: not in a chroot or an image being built (dpkg --root).
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || true
    udevadm control --reload-rules >/dev/null 2>&1 || true
fi
SCRIPT
    chmod 0755 "$root/DEBIAN/$script"
done

mkdir -p "$outdir"
deb=$outdir/kindling_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
scripts/check-deb.sh "$deb"
echo "$deb"
