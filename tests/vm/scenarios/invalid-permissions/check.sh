# 1. The OEM config wrote the secrets: 0600, core's.
unit_is 'system-cloudinit@usr-share-oem-cloud\x2dconfig.yml.service' "" active
journal_has 'system-cloudinit@usr-share-oem-cloud\x2dconfig.yml.service' '[1-9][0-9]* changed, [0-9]+ unchanged, 0 failed'
# 2. The user-data run failed, visibly, naming each skipped entry and its line; its plan never
#    showed the secret (no diff of a skipped entry reaches the journal).
unit_is user-configdrive.service "" failed
unit_prop user-configdrive.service Result=exit-code
unit_prop user-configdrive.service ExecMainStatus=1
journal_has user-configdrive.service 'write_files "/etc/e2e/secret/token": line 5: invalid value "0o600" for "permissions"'
journal_has user-configdrive.service 'write_files "/etc/e2e/secret/db.conf": line 11: "content" must be a string, found a mapping'
kindling_logged 3 'write_files "/etc/e2e/secret/token"'
kindling_logged 3 'write_files "/etc/e2e/secret/db.conf"'
journal_has user-configdrive.service '[1-9][0-9]* changed, [0-9]+ unchanged, 2 failed'
journal_lacks user-configdrive.service 'from-user-data|from-the-oem'
# 3. The guest's real state: both secrets byte-identical, same mode and owner.
stat_is /etc/e2e/secret/token "f 600 core core"
file_is /etc/e2e/secret/token $'token-from-the-oem\n'
stat_is /etc/e2e/secret/db.conf "f 600 core core"
file_is /etc/e2e/secret/db.conf $'password=from-the-oem\n'
# 4. The valid entry after them was written.
file_is /etc/e2e/after-invalid.txt $'applied\n'
stat_is /etc/e2e/after-invalid.txt "f 644 root root"
