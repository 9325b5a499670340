# IMDSv2: one PUT for a token (with a TTL), then every GET carried it.
http_has '"method": "PUT", "path": "/latest/api/token", "status": 200'
http_has '"ttl": "[0-9]+"'
http_has '"path": "/2009-04-04/user-data", "status": 200, "token": "valid"'
http_has '"path": "/2009-04-04/meta-data/local-ipv4", "status": 200, "token": "valid"'
http_lacks '"status": 401'
unit_is oem-cloudinit@ec2-compat.service "" active
unit_prop oem-cloudinit@ec2-compat.service Result=success
journal_has oem-cloudinit@ec2-compat.service '[1-9][0-9]* changed, [0-9]+ unchanged, 0 failed'
# $private_ipv4/$public_ipv4 from local-ipv4/public-ipv4; \$ keeps the literal.
file_is /etc/e2e/addresses $'private=10.1.2.3\npublic=203.0.113.7\nliteral=$private_ipv4\n'
file_has /etc/systemd/system/e2e-addr.service '^ExecStart=/bin/echo listening on 10\.1\.2\.3$'
unit_is e2e-addr.service "" active
journal_has e2e-addr.service 'listening on 10\.1\.2\.3'
file_has /etc/environment '^COREOS_PRIVATE_IPV4=10\.1\.2\.3$'
file_has /etc/environment '^COREOS_PUBLIC_IPV4=203\.0\.113\.7$'
# The metadata hostname, cut at the first dot; the metadata key for core.
hostname_is ip-10-1-2-3
stat_is /home/core/.ssh/authorized_keys "f 600 core core"
file_has /home/core/.ssh/authorized_keys 'k2@e2e$'
