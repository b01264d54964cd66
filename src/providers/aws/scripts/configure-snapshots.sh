#!/bin/sh
# A server's etcd snapshot settings (spec.backup, DESIGN §14) as a K3s config drop-in, written
# before K3s is installed and again whenever spec.backup changes; a running K3s is restarted to
# take them. Inputs: SNAPSHOT_CRON and SNAPSHOT_RETENTION ('' SNAPSHOT_CRON: K3s's own schedule),
# S3_BUCKET ('' keeps snapshots on the server), S3_PREFIX, S3_REGION. The file is written under a
# temporary name in the same directory and renamed, so K3s never reads half of it.
set -eu
SNAPSHOT_CRON="${SNAPSHOT_CRON:-}"
S3_BUCKET="${S3_BUCKET:-}"
dir=/etc/rancher/k3s/config.yaml.d
file="$dir/50-goman-etcd-snapshots.yaml"
mkdir -p "$dir"
tmp="$(mktemp "$dir/.goman-etcd-snapshots.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
{
  echo "# Written by goman from spec.backup; goman rewrites it when spec.backup changes."
  if [ -n "$SNAPSHOT_CRON" ]; then
    printf 'etcd-snapshot-schedule-cron: "%s"\n' "$SNAPSHOT_CRON"
    printf 'etcd-snapshot-retention: %s\n' "${SNAPSHOT_RETENTION:-5}"
  fi
  if [ -n "$S3_BUCKET" ]; then
    echo 'etcd-s3: true'
    printf 'etcd-s3-bucket: "%s"\n' "$S3_BUCKET"
    printf 'etcd-s3-folder: "%s"\n' "${S3_PREFIX:-}"
    printf 'etcd-s3-region: "%s"\n' "${S3_REGION:?}"
  fi
} >"$tmp"
chmod 0600 "$tmp"
mv -f "$tmp" "$file"
trap - EXIT
if systemctl is-active --quiet k3s; then
  systemctl restart k3s
  echo "etcd snapshot settings written to $file; k3s restarted"
else
  echo "etcd snapshot settings written to $file"
fi
