#!/bin/sh
# Take an on-demand etcd snapshot on this server. Inputs: SNAPSHOT_NAME; S3_BUCKET, S3_PREFIX
# and REGION ('' for S3_BUCKET keeps the snapshot on the server). Prints the snapshot list as
# JSON, which may be long: goman reads the command's output from S3 past SSM's 24 000 characters.
set -eu
: "${SNAPSHOT_NAME:?}"
S3_BUCKET="${S3_BUCKET:-}"
if [ -n "$S3_BUCKET" ]; then
  : "${REGION:?}"
  set -- --s3 --s3-bucket "$S3_BUCKET" --s3-folder "${S3_PREFIX:-}" --s3-region "$REGION"
else
  set --
fi
k3s etcd-snapshot save --name "$SNAPSHOT_NAME" "$@"
k3s etcd-snapshot list -o json "$@"
