#!/bin/sh
# Drain a cordoned node before its K3s upgrade, respecting PodDisruptionBudgets. Inputs:
# NODE_NAME, DRAIN_TIMEOUT (seconds), FORCE ('true': evict past budgets once the timeout is
# reached). The node stays in the cluster. Runs on the first server.
set -eu
: "${NODE_NAME:?}" "${DRAIN_TIMEOUT:?}" "${FORCE:?}"
if k3s kubectl drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data --timeout="${DRAIN_TIMEOUT}s"; then
  echo "drained $NODE_NAME"
elif [ "$FORCE" = "true" ]; then
  k3s kubectl drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data --force --disable-eviction --timeout="${DRAIN_TIMEOUT}s"
  echo "drained $NODE_NAME (forced past PodDisruptionBudgets)"
else
  echo "drain of $NODE_NAME did not finish within ${DRAIN_TIMEOUT}s (PodDisruptionBudgets?)" >&2
  exit 3
fi
