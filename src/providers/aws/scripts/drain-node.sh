#!/bin/sh
# Drain a node before goman terminates its instance, then remove it from the cluster.
# Input: NODE_NAME.
set -eu
: "${NODE_NAME:?}"
if k3s kubectl get node "$NODE_NAME" >/dev/null 2>&1; then
  k3s kubectl drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data --force --timeout=300s
  k3s kubectl delete node "$NODE_NAME" --wait=false
fi
echo "drained $NODE_NAME"
