#!/bin/sh
# Cordon a node before its K3s upgrade: no new pods land on it. Input: NODE_NAME.
# Runs on the first server, which has kubectl.
set -eu
: "${NODE_NAME:?}"
k3s kubectl cordon "$NODE_NAME"
echo "cordoned $NODE_NAME"
