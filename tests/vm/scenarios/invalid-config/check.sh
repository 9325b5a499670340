# The unit failed, visibly, and the journal names the problem and its line.
unit_is user-configdrive.service "" failed
unit_prop user-configdrive.service Result=exit-code
unit_prop user-configdrive.service ExecMainStatus=1
# (line 16 is where the unterminated quoted scalar opens)
journal_has user-configdrive.service 'line 16: YAML syntax error'
kindling_logged 3 'line 16: YAML syntax error'
journal_has user-configdrive.service ' 0 changed, 0 unchanged, [1-9][0-9]* failed'
journal_has user-configdrive.service 'Failed with result .exit-code.'
# Nothing of the document was applied.
hostname_is e2e-base
check "no user mallory" bash -c "! grep -q '^mallory:' '$R/getent-passwd.txt'"
absent /etc/e2e/must-not-exist.txt
absent /etc/systemd/system/e2e-invalid.service
unit_is e2e-invalid.service "" inactive
absent /etc/coreos/update.conf
