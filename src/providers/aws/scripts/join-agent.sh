#!/bin/sh
# Join a K3s agent. Inputs (validated, quoted by goman): CLUSTER, NODE_NAME, POOL,
# K3S_VERSION, REGION, TOKEN_PARAM, SERVER_URL. The token is read on the node from SSM.
set -eu
: "${CLUSTER:?}" "${NODE_NAME:?}" "${POOL:?}" "${K3S_VERSION:?}" "${REGION:?}" "${TOKEN_PARAM:?}" "${SERVER_URL:?}"

if ! command -v aws >/dev/null 2>&1; then
  snap install aws-cli --classic >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq awscli >/dev/null)
fi
K3S_TOKEN="$(aws ssm get-parameter --region "$REGION" --name "$TOKEN_PARAM" --with-decryption --query Parameter.Value --output text)"
export K3S_TOKEN
export K3S_URL="$SERVER_URL"

case "$K3S_VERSION" in
  stable | latest) export INSTALL_K3S_CHANNEL="$K3S_VERSION" ;;
  *) export INSTALL_K3S_VERSION="$K3S_VERSION" ;;
esac

curl -sfL https://get.k3s.io | sh -s - agent --node-name "$NODE_NAME" \
  --node-label "goman.io/cluster=$CLUSTER" --node-label "goman.io/pool=$POOL"
echo "k3s agent joined as $NODE_NAME"
