#!/bin/sh
# Print K3s's view of the cluster's nodes as JSON (goman's Ready means every expected node
# is Ready here, not merely that EC2 says running).
set -eu
k3s kubectl get nodes -o json
