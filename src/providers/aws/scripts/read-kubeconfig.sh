#!/bin/sh
# Print the admin kubeconfig with the API endpoint rewritten to the server's private address.
# Inputs: PRIVATE_IP (validated IPv4), CLUSTER.
set -eu
: "${PRIVATE_IP:?}" "${CLUSTER:?}"
sed -e "s#https://127.0.0.1:6443#https://${PRIVATE_IP}:6443#" -e "s#: default\$#: ${CLUSTER}#" /etc/rancher/k3s/k3s.yaml
