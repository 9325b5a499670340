# IMDSv1: the token PUT was refused, the reads went without a token.
http_has '"method": "PUT", "path": "/latest/api/token", "status": 403'
http_has '"path": "/2009-04-04/user-data", "status": 200, "token": "none"'
unit_is oem-cloudinit@ec2-compat.service "" active
unit_prop oem-cloudinit@ec2-compat.service Result=success
journal_has oem-cloudinit@ec2-compat.service '[1-9][0-9]* changed, [0-9]+ unchanged, 0 failed'
# Part 1 (and the first hostname wins over part 3's).
hostname_is multi-first
file_is /etc/e2e/part1.txt $'from part 1 (10.9.8.7)\n'
# Part 2: the script ran as root through its own #! (sh), after part 1, with $private_ipv4.
file_has /var/lib/e2e/script-ran '^user=root$'
file_has /var/lib/e2e/script-ran '^ip=10\.9\.8\.7$'
file_has /var/lib/e2e/script-ran '^part1=from part 1 \(10\.9\.8\.7\)$'
journal_has oem-cloudinit@ec2-compat.service 'part 2: run script .* as coreos-cloudinit-script-[0-9a-f]+\.service'
journal_has - 'systemd\[1\]: coreos-cloudinit-script-[0-9a-f]+\.service: Deactivated successfully'
stat_is /var/lib/coreos-cloudinit/scripts "d 755 root root"
# Part 3 (base64) and part 4 (gzip).
passwd_is dave "1000:1000:Dave from a base64 part:/home/dave:/bin/sh"
file_is /etc/e2e/part4.txt 'from a gzip part'
# Part 5 is prose: not applied, and the reason said (the header rule's message).
journal_has oem-cloudinit@ec2-compat.service 'part 5: not applied: neither a cloud-config nor a script'
