#!/usr/bin/env bash
# Boots one scenario's VM (called by run.sh inside `unshare --net`, so this namespace holds only
# lo). Starts the metadata server on 127.0.0.1, runs QEMU under a timeout, records the outcome
# in WORKDIR/boot.result. Never judges: check.sh does, from the results disk.
#
#   unshare --net -- boot.sh WORKDIR
set -uo pipefail
wd=$1
# shellcheck disable=SC1091
. "$wd/boot.env"
run=$RUN
port=18080
cd "$wd" || exit 1

ip link set lo up
# Belt and braces: this namespace must have no route anywhere but loopback.
if ip route show | grep -q .; then
    echo "boot.sh: refusing to run, this network namespace has routes" > boot.result
    exit 1
fi

"$PYTHON" "$HERE/md-server.py" $port "$wd/md" "$wd/http.log" --imds "$IMDS" 2> md-server.err &
md_pid=$!
for _ in $(seq 50); do
    (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
    sleep 0.1
done

quiet=quiet
[ "$E2E_VERBOSE" = 1 ] && quiet=
append="console=ttyS0 root=/dev/nvme0n1 rootfstype=ext4 rw panic=-1 mitigations=off $quiet $KERNEL_ARGS"
accel=(-accel tcg)
[ "$E2E_ACCEL" = kvm ] && accel=(-accel kvm -cpu host)
# shellcheck disable=SC2054 # (commas inside QEMU option values)
args=(
    qemu-system-x86_64 "${accel[@]}" -m "$E2E_MEM" -smp "$E2E_SMP"
    -nodefaults -no-user-config -display none -no-reboot
    -kernel "$run/vmlinuz" -append "$append"
    # Root on NVMe (built into the cloud kernel: no initrd); never written (snapshot=on).
    -drive "file=$run/root.img,if=none,id=root,format=raw,snapshot=on" -device nvme,drive=root,serial=root
    -drive "file=$wd/results.img,if=none,id=res,format=raw" -device virtio-blk-pci,drive=res,serial=results
    -drive "file=$wd/ctl.img,if=none,id=ctl,format=raw,readonly=on" -device virtio-blk-pci,drive=ctl,serial=e2e-ctl
    # restrict=on: the guest reaches nothing but the guestfwd rule, which spawns the relay to
    # this namespace's 127.0.0.1 once per connection.
    -netdev "user,id=n0,restrict=on,net=169.254.0.0/16,guestfwd=tcp:169.254.169.254:80-cmd:$PYTHON $HERE/md-relay.py $port"
    -device virtio-net-pci,netdev=n0
    -serial file:console.log -serial file:ttyS1.log -monitor none
)
[ -f config-2.iso ] && args+=(-drive "file=$wd/config-2.iso,media=cdrom,readonly=on,if=ide")
# shellcheck disable=SC2054
[ -f config-2.vfat ] && args+=(-drive "file=$wd/config-2.vfat,if=none,id=cfg,format=raw,readonly=on" -device virtio-blk-pci,drive=cfg,serial=config2)

printf '%q ' "${args[@]}" > qemu.cmd
start=$(date +%s%N)
timeout "$E2E_TIMEOUT" "${args[@]}" > qemu.out 2>&1
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
kill "$md_pid" 2>/dev/null
wait "$md_pid" 2>/dev/null
wall=$(printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)))
echo "qemu_rc=$rc wall=${wall}s" > boot.result
echo "e2e: $NAME: qemu rc=$rc in $wall s" >&2
