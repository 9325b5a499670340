# First run: changes, no failure.
journal_count user-configdrive.service '[0-9]+ changed, [0-9]+ unchanged, [0-9]+ failed' 2
journal_has user-configdrive.service '[1-9][0-9]* changed, [0-9]+ unchanged, 0 failed'
# Second run, same machine, same config: nothing to do, and it says so.
out_has rerun-rc '^rc=0$'
out_has rerun-journal.txt ' 0 changed, [1-9][0-9]* unchanged, 0 failed'
unit_is user-configdrive.service "" active
unit_prop user-configdrive.service Result=success
# And the state is what the config asks for.
hostname_is rerun-e2e
passwd_is erin "1000:1000::/home/erin:/bin/sh"
in_groups erin users docker
stat_is /home/erin/.ssh/authorized_keys "f 600 erin erin"
stat_is /home/core/.ssh/authorized_keys "f 600 core core"
file_has /home/core/.ssh/authorized_keys 'k1@e2e$'
file_has /home/core/.ssh/authorized_keys 'k3@e2e$'
stat_is /etc/e2e/rerun.txt "f 640 erin root"
file_is /etc/e2e/rerun.gz.txt $'hello gz+b64\n'
file_has /etc/coreos/update.conf '^GROUP=beta$'
unit_is e2e-rerun.service enabled active
file_is /etc/systemd/system/e2e-rerun.service.d/10-e2e.conf $'[Service]\nEnvironment=E2E=1\n'
unit_is e2e-rerun-masked.service masked ""
# One user, not two: the second run did not add erin again.
check "erin is in passwd once" bash -c "[ \$(grep -c '^erin:' '$R/getent-passwd.txt') = 1 ]"
