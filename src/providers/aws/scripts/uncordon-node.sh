#!/bin/sh
# Uncordon a node once it is Ready at its new K3s version. Input: NODE_NAME. Runs on the first server.
set -eu
: "${NODE_NAME:?}"
k3s kubectl uncordon "$NODE_NAME"
echo "uncordoned $NODE_NAME"
