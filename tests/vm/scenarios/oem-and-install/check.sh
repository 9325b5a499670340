# 1. The OEM cloud-config ran from system-config.target and started oem-cloudinit.service.
unit_is 'system-cloudinit@usr-share-oem-cloud\x2dconfig.yml.service' "" active
unit_prop 'system-cloudinit@usr-share-oem-cloud\x2dconfig.yml.service' Result=success
journal_has 'system-cloudinit@usr-share-oem-cloud\x2dconfig.yml.service' 'restart oem-cloudinit\.service'
journal_has 'system-cloudinit@usr-share-oem-cloud\x2dconfig.yml.service' '[1-9][0-9]* changed, [0-9]+ unchanged, 0 failed'
unit_is 'system-cloudinit@usr-share-coreos-cloud\x2dconfig.yml.service' "" inactive
stat_is /run/systemd/system/oem-cloudinit.service "f 644 root root"
# 2. oem-cloudinit.service: coreos-cloudinit --oem=ec2-compat, over IMDSv2.
unit_is oem-cloudinit.service "" active
unit_prop oem-cloudinit.service Result=success
journal_has oem-cloudinit.service 'ec2-metadata-service'
journal_has oem-cloudinit.service '[1-9][0-9]* changed, [0-9]+ unchanged, 0 failed'
http_has '"method": "PUT", "path": "/latest/api/token", "status": 200'
http_has '"path": "/2009-04-04/user-data", "status": 200, "token": "valid"'
file_is /etc/e2e/from-ec2.txt $'from EC2 user-data at 10.2.0.9\n'
# 3. flatcar-install's user_data, through the path unit, last: its hostname wins.
unit_is 'user-cloudinit@var-lib-flatcar\x2dinstall-user_data.path' "" active
unit_is 'user-cloudinit@var-lib-flatcar\x2dinstall-user_data.service' "" active
unit_prop 'user-cloudinit@var-lib-flatcar\x2dinstall-user_data.service' Result=success
journal_has 'user-cloudinit@var-lib-flatcar\x2dinstall-user_data.service' '[1-9][0-9]* changed, [0-9]+ unchanged, 0 failed'
file_is /etc/e2e/from-install.txt $'from /var/lib/flatcar-install/user_data\n'
hostname_is installed-node
