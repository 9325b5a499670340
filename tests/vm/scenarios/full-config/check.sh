# --- the run: one unit failed to start; it is reported, the run fails, everything else is done.
unit_is user-configdrive.service "" failed
unit_prop user-configdrive.service Result=exit-code
unit_prop user-configdrive.service ExecMainStatus=1
journal_has user-configdrive.service 'e2e-fails\.service'
kindling_logged 3 'e2e-fails\.service'
journal_has user-configdrive.service '[1-9][0-9]* changed, [0-9]+ unchanged, 1 failed'
unit_is e2e-fails.service "" failed
unit_is e2e-after-fail.service "" active
journal_has e2e-after-fail.service 'started after a failed unit'

# --- hostname and /etc/hosts
hostname_is full-e2e
out_has resolve.txt '^127\.0\.0\.1\s.*full-e2e'
out_has resolve.txt '^127\.0\.0\.1 +STREAM localhost'
file_has /etc/hosts '^::1\s+(.*\s)?localhost(\s|$)'
out_has resolve.txt '^::1\s+localhost'

# --- users
# core exists: its password is set and adm added; its other groups stay.
shadow_is core '$6$e2esalt$i7EwEx1V6Y04mzoQlp0k0UrbSgdyhwSsCaAXoU0lCKYbczxp0OsK7FrVVPsiTPgQ72xQpEn3zPUU/uhcx0xDE0'
in_groups core adm sudo docker systemd-journal
passwd_is core "500:500:CoreOS Admin:/home/core:/bin/bash"
# core's keys: the top-level key and users[core]'s, in one set.
stat_is /home/core/.ssh/authorized_keys "f 600 core core"
file_has /home/core/.ssh/authorized_keys 'k1@e2e$'
file_has /home/core/.ssh/authorized_keys 'k2@e2e$'
# alice is new: everything useradd can be given.
passwd_is alice "1000:1000:Alice Example:/home/alice:/bin/bash"
shadow_is alice '$6$e2esalt$i7EwEx1V6Y04mzoQlp0k0UrbSgdyhwSsCaAXoU0lCKYbczxp0OsK7FrVVPsiTPgQ72xQpEn3zPUU/uhcx0xDE0'
in_groups alice sudo docker
stat_is /home/alice "d 755 alice alice"
stat_is /home/alice/.ssh "d 700 alice alice"
stat_is /home/alice/.ssh/authorized_keys "f 600 alice alice"
stat_is /home/alice/.ssh/authorized_keys.d/coreos-cloudinit "f 600 alice alice"
file_has /home/alice/.ssh/authorized_keys 'k3@e2e$'
file_lacks /home/alice/.ssh/authorized_keys 'k1@e2e|k2@e2e'
# bob: a system user, primary group docker, no home created, no group of his own.
docker_gid=$(awk -F: '$1 == "docker" {print $3}' "$R/getent-group.txt")
bob=$(awk -F: '$1 == "bob"' "$R/getent-passwd.txt")
check "bob is a system user (uid < 1000) in group docker with home /var/lib/bob and nologin: $bob" \
    awk -F: -v g="$docker_gid" '$3 < 1000 && $4 == g && $6 == "/var/lib/bob" && $7 == "/usr/sbin/nologin" {f = 1} END {exit !f}' <<<"$bob"
check "no group bob" bash -c "! grep -q '^bob:' '$R/getent-group.txt'"
absent /var/lib/bob

# --- write_files, every encoding, owner and mode (owner "user" sets the user only, as
# chown(1) does; "user:group" both)
stat_is /etc/e2e/plain.txt "f 640 alice docker"
file_is /etc/e2e/plain.txt $'plain text\nsecond line\n'
stat_is /etc/e2e/b64.txt "f 644 root root"
file_is /etc/e2e/b64.txt $'hello b64\n'
stat_is /etc/e2e/base64.txt "f 600 root root"
file_is /etc/e2e/base64.txt $'hello base64\n'
check "/etc/e2e/binary.bin is the bytes 00 ff 10 80 0a" bash -c "[ \"\$(od -An -tx1 '$FS/etc/e2e/binary.bin' | tr -d ' \n')\" = 00ff10800a ]"
for enc in gzip gz gz+base64 gzip+base64 gz+b64 gzip+b64; do
    file_is "/etc/e2e/$enc.txt" "hello $enc"$'\n'
done
stat_is /home/alice/.config/e2e/app.conf "f 600 alice root"
# Directories made for it inside alice's home are alice's (the reference made them root's).
stat_is /home/alice/.config "d 755 alice alice"
stat_is /home/alice/.config/e2e "d 755 alice alice"
file_is /home/alice/.config/e2e/app.conf $'key = value\n'
stat_is /opt/e2e/bin/setuid-tool "f 4755 root root"

# --- generated files: update.conf, locksmith drop-in, flannel options
stat_is /etc/coreos/update.conf "f 644 root root"
file_is /etc/coreos/update.conf $'SERVER=https://update.example.com/v1/update/\nGROUP=beta\nREBOOT_STRATEGY=etcd-lock\n'
file_is /run/systemd/system/locksmithd.service.d/20-cloudinit.conf $'[Service]\nEnvironment="LOCKSMITHD_GROUP=e2e-fleet"\nEnvironment="REBOOT_WINDOW_START=Sun 03:00"\nEnvironment="REBOOT_WINDOW_LENGTH=1h"\n'
unit_is locksmithd.service "" active
journal_has locksmithd.service 'locksmithd started: LOCKSMITHD_GROUP=e2e-fleet REBOOT_WINDOW_LENGTH=1h REBOOT_WINDOW_START=Sun 03:00'
unit_is update-engine.service "" active
stat_is /run/flannel/options.env "f 644 root root"
file_is /run/flannel/options.env $'FLANNELD_ETCD_PREFIX=/coreos.com/network/e2e\nFLANNELD_IFACE=eth0'

# --- units: written, drop-in added, enabled, started, runtime, masked
stat_is /etc/systemd/system/e2e-hello.service "f 644 root root"
unit_is e2e-hello.service enabled active
link_is /etc/systemd/system/multi-user.target.wants/e2e-hello.service /etc/systemd/system/e2e-hello.service
file_is /var/lib/e2e/hello $'hello\n'
file_is /etc/systemd/system/flanneld.service.d/50-e2e.conf $'[Service]\nEnvironment=FLANNELD_E2E_DROPIN=yes\n'
unit_is flanneld.service "" active
journal_has flanneld.service 'flanneld started: FLANNELD_E2E_DROPIN=yes'
exists /run/systemd/system/e2e-runtime.service
absent /etc/systemd/system/e2e-runtime.service
unit_is e2e-runtime.service "" active
link_is /etc/systemd/system/e2e-masked.service /dev/null
unit_is e2e-masked.service masked ""
link_is /etc/systemd/system/e2e-vendor.service /dev/null
unit_is e2e-vendor.service masked ""

# --- the journal, proven from the guest's own (lib/journal-proof.py)
journal_proven user-configdrive.service coreos-cloudinit
# --- installed from the Debian package (run.sh: dpkg --root), as dpkg records it
out_has dpkg-kindling.txt '^kindling [0-9.]+ install ok installed$'
out_has dpkg-kindling.txt '^/usr/share/man/man1/kindling\.1\.gz$'
out_has dpkg-kindling.txt '^/usr/share/doc/kindling/copyright$'
out_has dpkg-kindling.txt '^/usr/share/bash-completion/completions/kindling$'
