#!/bin/sh
# Start K3s again on an agent after a restore.
set -eu
if systemctl list-unit-files k3s-agent.service >/dev/null 2>&1; then systemctl start k3s-agent; else systemctl start k3s; fi
echo "k3s started"
