#!/usr/bin/env bash
# Builds (or reuses) the cached Debian guest base for the VM suite: a bookworm rootfs with systemd,
# udev, D-Bus and the cloud kernel, plus what makes it look like Flatcar to kindling (the core user,
# /usr/share/coreos/update.conf). Prints the cache directory on stdout.
#
#   build-base.sh [CACHE_DIR]        (default $E2E_CACHE or /var/cache/kindling-e2e)
#
# The cache key is a hash of this script and guest-base/, so editing either builds a new base.
# The base is built into NAME.tmp and renamed when complete: a killed build never looks valid.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${1:-${E2E_CACHE:-/var/cache/kindling-e2e}}
suite=bookworm
mirror=${E2E_MIRROR:-http://deb.debian.org/debian}
security=${E2E_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# Everything the guest needs: systemd as PID 1, udev (config-drive labels, udevadm wait), D-Bus
# (kindling talks to systemd1 and hostname1), kmod (the kernel loads isofs/vfat through
# modprobe), shadow's useradd (in minbase), networkd for DHCP from QEMU's user network.
packages=systemd,systemd-sysv,dbus,udev,kmod,iproute2,linux-image-cloud-amd64,zstd

key=$( { cat "$0"; echo "$suite $mirror $security $packages";
         (cd "$here/guest-base" && find . -type f | LC_ALL=C sort | xargs -r sha256sum); } \
       | sha256sum | cut -c1-16)
dest=$cache/base-$key
mkdir -p "$cache"
# One build at a time per cache; a second run waits, then finds the base ready.
exec 9> "$cache/.lock"
flock 9
if [ -f "$dest/OK" ]; then
    echo "$dest"
    exit 0
fi

tmp=$dest.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
start=$(date +%s)
echo "build-base: building $dest (cache miss)" >&2

# Hooks run on the host with the rootfs as $1.
# - essential hook: before the kernel's postinst, make initramfs-tools build a tiny initrd
#   (MODULES=list, zstd). The VM boots without it (root on NVMe, built into the cloud kernel),
#   but the kernel package insists on building one; this keeps that step at a few seconds.
#   /etc/initramfs-tools/modules is a conffile, so the list goes under /usr/share.
essential_hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/usr/share/initramfs-tools/modules.d"
printf "MODULES=list\nCOMPRESS=zstd\n" > "$1/etc/initramfs-tools/conf.d/e2e.conf"
printf "virtio_pci\nvirtio_blk\n" > "$1/usr/share/initramfs-tools/modules.d/e2e"'

# - customize hook: the guest's configuration (see the comments inside).
customize_hook='set -e
r="$1"
cp -a "'"$here"'/guest-base/." "$r/"
# DHCP on every wired link (QEMU user network); nothing waits longer than it must.
chroot "$r" systemctl enable systemd-networkd.service >/dev/null 2>&1
# No timers or gettys that compete for the one emulated CPU; no background apt.
for u in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer getty@tty1.service; do
    ln -sf /dev/null "$r/etc/systemd/system/$u"
done
# Root has no password: a shell on the serial console for debugging by hand.
chroot "$r" passwd -d root >/dev/null
echo e2e-base > "$r/etc/hostname"
printf "127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n" > "$r/etc/hosts"
# An empty machine-id: systemd makes one at boot, as on a first boot of a cloud image.
: > "$r/etc/machine-id"
# Like Flatcar: groups docker and core, user core (uid 500) with its home.
chroot "$r" groupadd -r docker
chroot "$r" groupadd -g 500 core
chroot "$r" useradd -u 500 -g core -G sudo,docker,systemd-journal -m -d /home/core -s /bin/bash -c "CoreOS Admin" core
cp "$r"/boot/vmlinuz-* "$r/../vmlinuz"
'

# merged-usr: no usrmerge/perl. eatmydata: no fsync inside dpkg (removed again at the end).
mmdebstrap --variant=minbase --mode=root --format=directory \
    --include="$packages" \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --hook-dir=/usr/share/mmdebstrap/hooks/eatmydata \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --essential-hook="$essential_hook" \
    --customize-hook="$customize_hook" \
    "$suite" "$tmp/rootfs" \
    "deb $mirror $suite main" \
    "deb $mirror $suite-updates main" \
    "deb $security $suite-security main" >&2

[ -s "$tmp/vmlinuz" ] || { echo "build-base: no kernel in the rootfs" >&2; exit 1; }
{
    echo "built $(date -u +%FT%TZ) in $(( $(date +%s) - start )) s"
    echo "kernel $(basename "$(ls "$tmp"/rootfs/boot/vmlinuz-*)")"
    chroot "$tmp/rootfs" dpkg-query -W -f '${Package} ${Version}\n' systemd linux-image-cloud-amd64
} > "$tmp/OK"
rm -rf "$dest"
mv "$tmp" "$dest"
echo "build-base: done in $(( $(date +%s) - start )) s" >&2
# Older bases (other keys) are dead weight: keep only this one.
find "$cache" -maxdepth 1 -name 'base-*' ! -name "base-$key" -exec rm -rf {} + 2>/dev/null || true
echo "$dest"
