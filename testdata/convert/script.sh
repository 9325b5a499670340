#!/bin/bash
# A script part: a file plus a oneshot unit.
echo "configured" > /var/lib/configured
