# The drive was found by its label, mounted read-only from the CD-ROM, and applied.
out_has scenario/findmnt.txt '^/dev/sr0 +iso9660 +ro'
unit_is media-configdrive.mount "" active
unit_is user-configdrive.service "" active
unit_prop user-configdrive.service Result=success
unit_prop user-configdrive.service ExecMainStatus=0
journal_has user-configdrive.service 'config ?drive'
journal_has user-configdrive.service '[1-9][0-9]* changed, [0-9]+ unchanged, 0 failed'
# User-data's hostname wins over meta_data.json's, cut at the first dot.
hostname_is cd-iso
stat_is /etc/e2e/from-iso.txt "f 640 root root"
file_is /etc/e2e/from-iso.txt $'written from an ISO config drive\n'
# core: the user-data key, then the metadata key, in update-ssh-keys' layout.
stat_is /home/core/.ssh "d 700 core core"
stat_is /home/core/.ssh/authorized_keys "f 600 core core"
stat_is /home/core/.ssh/authorized_keys.d/coreos-cloudinit "f 600 core core"
file_has /home/core/.ssh/authorized_keys 'k1@e2e$'
file_has /home/core/.ssh/authorized_keys 'k3@e2e$'
