#!/bin/sh
# Install (or upgrade) a K3s server. Inputs come from goman as validated, quoted variables:
# CLUSTER, NODE_NAME, K3S_VERSION, REGION, TOKEN_PARAM, SERVER_URL ('' for the first server),
# CLUSTER_INIT ('true' for the first server: every cluster runs embedded etcd, dev mode as a
# single member, so snapshots work everywhere). The etcd snapshot settings are a config drop-in
# that configure-snapshots.sh writes first, so a changed spec.backup can be applied again later.
# The join token is read on the node from SSM Parameter Store, so it never travels in a command,
# a tag or user-data.
set -eu
: "${CLUSTER:?}" "${NODE_NAME:?}" "${K3S_VERSION:?}" "${REGION:?}" "${TOKEN_PARAM:?}"
SERVER_URL="${SERVER_URL:-}"
CLUSTER_INIT="${CLUSTER_INIT:-false}"

if ! command -v aws >/dev/null 2>&1; then
  snap install aws-cli --classic >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq awscli >/dev/null)
fi
K3S_TOKEN="$(aws ssm get-parameter --region "$REGION" --name "$TOKEN_PARAM" --with-decryption --query Parameter.Value --output text)"
export K3S_TOKEN

case "$K3S_VERSION" in
  stable | latest) export INSTALL_K3S_CHANNEL="$K3S_VERSION" ;;
  *) export INSTALL_K3S_VERSION="$K3S_VERSION" ;;
esac

if [ -n "$SERVER_URL" ]; then
  set -- server --server "$SERVER_URL"
elif [ "$CLUSTER_INIT" = "true" ]; then
  set -- server --cluster-init
else
  set -- server
fi

curl -sfL https://get.k3s.io | sh -s - "$@" --node-name "$NODE_NAME" --write-kubeconfig-mode 0600 \
  --node-label "goman.io/cluster=$CLUSTER" --node-label "goman.io/role=server"
echo "k3s server installed on $NODE_NAME"
