#!/bin/sh
# Reset the first server from an etcd snapshot, at the K3s version the snapshot was taken at
# (upgrade-k3s.sh has installed it first). Inputs: SNAPSHOT_PATH (a file name under the snapshot
# directory, or the S3 object name), S3_BUCKET, S3_PREFIX, REGION ('' S3_BUCKET: a local file).
set -eu
: "${SNAPSHOT_PATH:?}"
S3_BUCKET="${S3_BUCKET:-}"
systemctl stop k3s
if [ -n "$S3_BUCKET" ]; then
  : "${REGION:?}"
  k3s server --cluster-reset --cluster-reset-restore-path="$SNAPSHOT_PATH" \
    --etcd-s3 --etcd-s3-bucket "$S3_BUCKET" --etcd-s3-folder "${S3_PREFIX:-}" --etcd-s3-region "$REGION"
else
  k3s server --cluster-reset --cluster-reset-restore-path="/var/lib/rancher/k3s/server/db/snapshots/$SNAPSHOT_PATH"
fi
systemctl start k3s
echo "restored $SNAPSHOT_PATH"
