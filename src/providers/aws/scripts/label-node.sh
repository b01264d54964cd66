#!/bin/sh
# Make a node's goman-managed labels and taints match its pool. Inputs (validated by goman's
# label/taint schemas, space separated): NODE_NAME, LABELS ("k=v ..."), REMOVE_LABELS ("k- ..."),
# TAINTS ("k=v:Effect ..."), REMOVE_TAINTS ("k:Effect- ...").
set -euf
: "${NODE_NAME:?}"
LABELS="${LABELS:-}"
REMOVE_LABELS="${REMOVE_LABELS:-}"
TAINTS="${TAINTS:-}"
REMOVE_TAINTS="${REMOVE_TAINTS:-}"
for item in $LABELS $REMOVE_LABELS; do
  k3s kubectl label node "$NODE_NAME" --overwrite "$item"
done
for item in $TAINTS $REMOVE_TAINTS; do
  k3s kubectl taint node "$NODE_NAME" --overwrite "$item"
done
echo "labels and taints applied to $NODE_NAME"
