http_has '"method": "GET", "path": "/e2e/user_data", "status": 200'
unit_is user-cloudinit-proc-cmdline.service "" active
unit_prop user-cloudinit-proc-cmdline.service Result=success
journal_has user-cloudinit-proc-cmdline.service '[1-9][0-9]* changed, [0-9]+ unchanged, 0 failed'
# No config drive here: its unit never ran.
unit_is user-configdrive.service "" inactive
hostname_is from-cmdline
passwd_is carol "1000:1000:Carol from the command line:/home/carol:/bin/sh"
in_groups carol users
stat_is /home/carol "d 755 carol carol"
stat_is /srv/e2e/cmdline.txt "f 600 carol root"
file_is /srv/e2e/cmdline.txt $'fetched from cloud-config-url\n'
