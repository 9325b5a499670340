#!/usr/bin/env bash
# kindling's end-to-end suite: boots a Debian guest with systemd under QEMU for each scenario,
# with the freshly built static kindling, the units of dist/systemd/, the man page and completions
# installed from the Debian package `make deb` builds, and checks the guest's real state afterwards. See tests/vm/README.md.
#
#   tests/vm/run.sh [SCENARIO...]      (root; all scenarios by default)
#
# Ends with "N passed, N failed" and exits 1 if any scenario failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

E2E_CACHE=${E2E_CACHE:-/var/cache/kindling-e2e}   # the cached base, outside the repo
E2E_WORK=${E2E_WORK:-/var/tmp/kindling-e2e}       # per-run artefacts (kept for inspection)
E2E_JOBS=${E2E_JOBS:-2}                           # VMs at once (2 cores: never more than 2)
E2E_TIMEOUT=${E2E_TIMEOUT:-300}                   # seconds per VM, QEMU killed after
E2E_SMP=${E2E_SMP:-1}
E2E_MEM=${E2E_MEM:-1024}
E2E_ACCEL=${E2E_ACCEL:-tcg}                       # kvm where /dev/kvm is real VMX/SVM
E2E_VERBOSE=${E2E_VERBOSE:-0}                     # 1: no "quiet" on the guest's kernel line
E2E_BUILD=${E2E_BUILD:-1}                         # 0: use target/release/kindling as it is
export E2E_CACHE E2E_TIMEOUT E2E_SMP E2E_MEM E2E_ACCEL E2E_VERBOSE

say() { printf 'e2e: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (it builds a rootfs, uses network namespaces and QEMU)"
suite_start=$(date +%s)

# --- scenarios ---------------------------------------------------------------------------------
if [ $# -gt 0 ]; then
    scenarios=("$@")
else
    mapfile -t scenarios < <(cd "$here/scenarios" && ls -1 | LC_ALL=C sort)
fi
for s in "${scenarios[@]}"; do
    [ -f "$here/scenarios/$s/scenario.conf" ] || die "no such scenario: $s"
done

# --- host dependencies -------------------------------------------------------------------------
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v xorriso >/dev/null || need+=(xorriso)
command -v mkfs.vfat >/dev/null || need+=(dosfstools)
command -v mcopy >/dev/null || need+=(mtools)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
command -v unshare >/dev/null || need+=(util-linux)
command -v ip >/dev/null || need+=(iproute2)
[ -x /usr/bin/python3 ] || need+=(python3)
/usr/bin/python3 -c 'import yaml' 2>/dev/null || need+=(python3-yaml)   # lib/journal-proof.py
command -v dpkg-deb >/dev/null || need+=(dpkg)
if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]}"
    t=$(date +%s)
    apt-get update -qq
    # No Recommends: qemu-system-x86's would pull ~180 packages (and replace a backports qemu-utils).
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    say "installed in $(( $(date +%s) - t )) s"
fi
# QEMU spawns the metadata relay itself: use the system python, not a shim on root's PATH.
PYTHON=/usr/bin/python3
export PYTHON

# --- kindling ----------------------------------------------------------------------------------
if [ "$E2E_BUILD" = 1 ]; then
    say "make build"
    make -C "$repo" --no-print-directory build >&2
fi
bin=$repo/target/release/kindling
[ -x "$bin" ] || die "$bin is missing: run make build"
if ! ldd "$bin" 2>&1 | grep -Eq 'statically linked|not a dynamic executable'; then
    say "warning: $bin is dynamically linked; the suite is meant for the static build"
fi

# --- base and image ----------------------------------------------------------------------------
t=$(date +%s)
base=$("$here/build-base.sh" "$E2E_CACHE")
base_secs=$(( $(date +%s) - t ))
say "base $base ($base_secs s)"

mkdir -p "$E2E_WORK"
run=$E2E_WORK/run-$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$run"
ln -sfn "$run" "$E2E_WORK/latest"
# Keep the last few runs' artefacts, not all of them.
ls -1d "$E2E_WORK"/run-* 2>/dev/null | LC_ALL=C sort | head -n -3 | xargs -r rm -rf

t=$(date +%s)
stage=$run/stage
cp -a "$base/rootfs" "$stage"
# The binary, units, man page and completions exactly as a user installs them: the Debian
# package `make deb` builds, installed by the guest's own dpkg (its database, its maintainer
# scripts in a chroot of the image).
deb=$(make -C "$repo" --no-print-directory -s deb)
dpkg --root="$stage" --install "$deb" >&2
cp -a "$here/overlay/." "$stage/"
size_mb=$(( $(du -sm "$stage" | cut -f1) + 256 ))
mkfs.ext4 -q -F -L e2e-root -d "$stage" "$run/root.img" "${size_mb}M" >/dev/null
rm -rf "$stage"
cp "$base/vmlinuz" "$run/vmlinuz"
image_secs=$(( $(date +%s) - t ))
say "image $run/root.img (${size_mb} MiB, $image_secs s)"

# --- per-scenario inputs -----------------------------------------------------------------------
prepare() {
    local name=$1 sd=$here/scenarios/$1 wd=$run/$1
    local DATASOURCE=none KERNEL_ARGS="" IMDS=v2
    mkdir -p "$wd/md" "$wd/ctl"
    # shellcheck disable=SC1091
    . "$sd/scenario.conf"
    local ud=$sd/user_data
    [ -f "$ud" ] || ud=/dev/null
    case $DATASOURCE in
        configdrive-iso|configdrive-vfat)
            mkdir -p "$wd/cd/openstack/latest"
            cp "$ud" "$wd/cd/openstack/latest/user_data"
            [ -f "$sd/meta_data.json" ] && cp "$sd/meta_data.json" "$wd/cd/openstack/latest/"
            if [ "$DATASOURCE" = configdrive-iso ]; then
                xorriso -as mkisofs -quiet -V config-2 -J -R -o "$wd/config-2.iso" "$wd/cd" 2>/dev/null
            else
                mkfs.vfat -n config-2 -C "$wd/config-2.vfat" 2048 >/dev/null 2>&1
                mcopy -s -i "$wd/config-2.vfat" "$wd/cd/openstack" ::/
            fi
            ;;
        ec2)
            mkdir -p "$wd/md/2009-04-04"
            cp "$ud" "$wd/md/2009-04-04/user-data"
            ;;
        proc-cmdline)
            mkdir -p "$wd/md/e2e"
            cp "$ud" "$wd/md/e2e/user_data"
            ;;
        none) ;;
        *) die "$name: unknown DATASOURCE=$DATASOURCE" ;;
    esac
    [ -d "$sd/md" ] && cp -a "$sd/md/." "$wd/md/"
    [ -f "$sd/guest.env" ] && cp "$sd/guest.env" "$wd/ctl/scenario.env"
    [ -d "$sd/files" ] && cp -a "$sd/files" "$wd/ctl/files"
    tar -cf "$wd/ctl.img" -C "$wd/ctl" .
    truncate -s 64M "$wd/results.img"
    {
        printf 'NAME=%q\nRUN=%q\nKERNEL_ARGS=%q\nIMDS=%q\n' "$name" "$run" "$KERNEL_ARGS" "$IMDS"
        printf 'HERE=%q\n' "$here"
    } > "$wd/boot.env"
}
for s in "${scenarios[@]}"; do prepare "$s"; done

# --- boot --------------------------------------------------------------------------------------
say "booting ${#scenarios[@]} scenario(s), $E2E_JOBS at a time, ${E2E_TIMEOUT} s limit each"
t=$(date +%s)
# Each VM in its own network namespace holding only lo: nothing the guest does can leave.
printf '%s\n' "${scenarios[@]}" |
    xargs -P "$E2E_JOBS" -I{} unshare --net -- "$here/boot.sh" "$run/{}" || true
boot_secs=$(( $(date +%s) - t ))

# --- checks ------------------------------------------------------------------------------------
passed=0 failed=0
for s in "${scenarios[@]}"; do
    if "$here/check.sh" "$run/$s"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
done
{
    echo "base ${base_secs} s, image ${image_secs} s, boots ${boot_secs} s, suite $(( $(date +%s) - suite_start )) s"
    for s in "${scenarios[@]}"; do echo "$s: $(cat "$run/$s/verdict" 2>/dev/null || echo '?') $(cat "$run/$s/boot.result" 2>/dev/null)"; done
} | tee "$run/summary" >&2
# The image is only worth keeping to boot a failed scenario again by hand.
[ "$failed" = 0 ] && rm -f "$run/root.img"
say "artefacts in $run"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
