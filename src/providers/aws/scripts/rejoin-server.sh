#!/bin/sh
# After a restore, a server other than the first rejoins with a wiped datastore (its old etcd
# member would carry the state the restore replaced). K3s must be stopped (stop-k3s.sh).
set -eu
rm -rf /var/lib/rancher/k3s/server/db
systemctl start k3s
echo "rejoined with a wiped datastore"
