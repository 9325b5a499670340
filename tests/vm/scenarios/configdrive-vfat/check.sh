out_has scenario/findmnt.txt '^/dev/vd[a-z] +vfat +ro'
unit_is media-configdrive.mount "" active
unit_is user-configdrive.service "" active
unit_prop user-configdrive.service Result=success
journal_has user-configdrive.service '[1-9][0-9]* changed, [0-9]+ unchanged, 0 failed'
hostname_is cd-vfat
stat_is /etc/e2e/from-vfat.txt "f 644 root root"
file_is /etc/e2e/from-vfat.txt $'written from a FAT config drive\n'
stat_is /home/core/.ssh/authorized_keys "f 600 core core"
file_has /home/core/.ssh/authorized_keys 'k2@e2e$'
file_lacks /home/core/.ssh/authorized_keys 'k1@e2e'
