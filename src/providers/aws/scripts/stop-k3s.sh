#!/bin/sh
# Stop K3s on this node before a restore (agents and the servers other than the first).
set -eu
if systemctl is-active k3s >/dev/null 2>&1; then systemctl stop k3s; fi
if systemctl is-active k3s-agent >/dev/null 2>&1; then systemctl stop k3s-agent; fi
if [ -x /usr/local/bin/k3s-killall.sh ]; then /usr/local/bin/k3s-killall.sh >/dev/null 2>&1 || true; fi
echo "k3s stopped"
