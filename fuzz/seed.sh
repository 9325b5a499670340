#!/usr/bin/env bash
# Fills fuzz/corpus/TARGET/ with seed inputs from testdata/ (and the shared acceptance corpus
# when it sits beside the checkout), so the seeds are not committed twice. Idempotent: files are
# named by content hash, and what a campaign added to a corpus is kept.
set -euo pipefail
cd "$(dirname "$0")"
repo=..
shared=${SHARED_CORPUS:-$repo/../shared/corpus/validate}

add() { # TARGET FILE...
    local t=$1 f h
    shift
    mkdir -p "corpus/$t"
    for f in "$@"; do
        [ -f "$f" ] || continue
        h=$(sha1sum "$f" | cut -c1-16)
        cp "$f" "corpus/$t/seed-$h"
    done
}
add_bytes() { # TARGET NAME < bytes
    mkdir -p "corpus/$1"
    cat > "corpus/$1/seed-$2"
}

configs=$(find "$repo/testdata/cloud-configs" "$repo/testdata/bench" "$repo/testdata/userdata" \
    -type f ! -name '*.expect' ! -name ORDER | sort)
shared_inputs=""
[ -d "$shared" ] && shared_inputs=$(find "$shared" -type f ! -name '*.expect' | sort)

for t in validate plan; do add "$t" $configs $shared_inputs; done
add yaml $(printf '%s\n' $configs $shared_inputs | grep -E '\.(yml|yaml)$')
add fields "$repo/testdata/datasource/cmdline-template" \
    $(printf '%s\n' $configs | grep -E '\.(yml|yaml)$' | head -20)
add mime $(grep -rlis 'multipart/' $configs $shared_inputs || true)

# gzip: the gzip seeds, and a few configs compressed (one of them as two members).
add gzip $(printf '%s\n' $configs $shared_inputs | grep -E '\.gz$')
i=0
for f in $(printf '%s\n' $configs | grep -E '\.yml$' | head -5); do
    gzip -c -n "$f" | add_bytes gzip "compressed-$i"
    i=$((i + 1))
done
{ printf '#cloud-config\n' | gzip -c -n; printf 'hostname: a\n' | gzip -c -n; } | add_bytes gzip two-members

add debian $(find "$repo/testdata/network" -name interfaces)
add vmware_network "$repo/testdata/network/vmware-reference/guestinfo"
add ovf "$repo/testdata/datasource/ovf-env.xml"
add waagent "$repo/testdata/datasource/waagent/SharedConfig.xml"

# configdrive: meta_data.json, a NUL, then the file network_config.content_path names.
cd_root=$repo/testdata/datasource/configdrive/openstack
{ cat "$cd_root/latest/meta_data.json"; printf '\0'; cat "$cd_root/content/0000"; } |
    add_bytes configdrive drive
printf '{"hostname":"h","public_keys":{"k":"ssh-rsa AAAA k"},"network_config":{"content_path":"/content/0000"}}\0auto eth0\niface eth0 inet dhcp\n' |
    add_bytes configdrive minimal

# ec2: public-keys, hostname, local-ipv4, public-ipv4, then keys 0-2, NUL-separated
# (a lone 0xff section is a 404).
printf '0=mykey\n1=other\0ip-10-0-0-1.ec2.internal\00010.0.0.1\000203.0.113.1\0ssh-rsa AAAA mykey\n\0\xff' |
    add_bytes ec2 two-keys
printf '\xff\0host\n\0not-an-ip\0\xff' | add_bytes ec2 no-keys
# gce: hostname, ip, external ip.
printf 'instance-1.c.project.internal\00010.128.0.2\00034.1.2.3' | add_bytes gce full
printf 'h\0\xff\0::1' | add_bytes gce absent
# digitalocean: metadata/v1.json.
printf '%s' '{"droplet_id":1,"hostname":"d","public_keys":["ssh-rsa AAAA a"],"interfaces":{"public":[{"ipv4":{"ip_address":"203.0.113.2","netmask":"255.255.255.0","gateway":"203.0.113.1"},"ipv6":{"ip_address":"2001:db8::2"},"mac":"aa:bb:cc:dd:ee:ff","type":"public"}],"private":[{"ipv4":{"ip_address":"10.1.2.3"}}]},"dns":{"nameservers":["1.1.1.1"]}}' |
    add_bytes digitalocean droplet
# cloudsigma: the server context, EOT, the /meta/ answer.
printf '%s\004%s' \
    '{"name":"srv","uuid":"u-1","meta":{"ssh_public_key":"ssh-rsa AAAA me@host","base64_fields":"cloudinit-user-data","cloudinit-user-data":"I2Nsb3VkLWNvbmZpZwo="},"nics":[{"ip_v4_conf":{"ip":{"uuid":"198.51.100.4"}},"mac":"22:33:44:55:66:77"},{"vlan":{"uuid":"v-1"},"mac":"22:33:44:55:66:78"}]}' \
    '{"base64_fields":"cloudinit-user-data","cloudinit-user-data":"I2Nsb3VkLWNvbmZpZwo="}' |
    add_bytes cloudsigma context

for d in corpus/*/; do printf '%-16s %s seeds\n' "$(basename "$d")" "$(ls "$d" | wc -l)"; done
