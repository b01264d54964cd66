// Where an aws cluster's etcd snapshots go and how its servers are told (DESIGN §14): the bucket
// spec.backup.s3 names, else goman's own bucket under snapshots/<cluster>/<id> (the only prefix
// the instance role may use), else the servers' disk when goman has no bucket (a controller run
// without one). Pure: the reconciler runs the scripts with these variables.
import { snapshotFolder } from '../../aws/names.ts';
import type { Cluster, ClusterSpec, Snapshot } from '../../domain/index.ts';
import { stableStringify } from '../../domain/index.ts';

export interface SnapshotTarget {
  bucket: string;
  /** Folder in the bucket, without a trailing slash ('' for the top). */
  prefix: string;
  region: string;
}

/** goman's own bucket and its region, when the controller has one. */
export type HomeBucket = { bucket: string; region: string } | undefined;

export function snapshotTarget(cluster: Pick<Cluster, 'name' | 'id' | 'spec'>, home: HomeBucket): SnapshotTarget | undefined {
  const s3 = cluster.spec.backup?.s3;
  if (s3) return { bucket: s3.bucket, prefix: s3.prefix.replace(/\/+$/, ''), region: s3.region ?? cluster.spec.region };
  return home ? { bucket: home.bucket, prefix: snapshotFolder(cluster), region: home.region } : undefined;
}

/** configure-snapshots.sh's variables: the schedule from spec.backup (K3s's own without it) and the target. */
export function snapshotSettings(spec: ClusterSpec, target: SnapshotTarget | undefined): Record<string, string> {
  return {
    SNAPSHOT_CRON: spec.backup?.schedule ?? '',
    SNAPSHOT_RETENTION: spec.backup ? String(spec.backup.retention) : '',
    S3_BUCKET: target?.bucket ?? '',
    S3_PREFIX: target?.prefix ?? '',
    S3_REGION: target?.region ?? '',
  };
}

/** What a server was last configured with, to tell when spec.backup changed since. */
export const settingsKey = (settings: Record<string, string>): string => stableStringify(settings);

/** etcd-snapshot.sh's and restore-snapshot.sh's S3 variables ('' S3_BUCKET: the server's disk). */
export function s3Vars(target: SnapshotTarget | undefined, fallbackRegion: string): Record<string, string> {
  return target ? { S3_BUCKET: target.bucket, S3_PREFIX: target.prefix, REGION: target.region } : { S3_BUCKET: '', REGION: fallbackRegion };
}

/** Where a listed snapshot lives, read back from its location (the target may have changed since). */
export function snapshotSource(snapshot: Snapshot, current: SnapshotTarget | undefined, fallbackRegion: string): { file: string; target: SnapshotTarget | undefined } {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(snapshot.location);
  if (!m) return { file: snapshot.location.split('/').at(-1) ?? snapshot.id, target: undefined };
  const bucket = m[1] ?? '';
  const key = m[2] ?? '';
  const slash = key.lastIndexOf('/');
  const region = current?.bucket === bucket ? current.region : fallbackRegion;
  return { file: key.slice(slash + 1), target: { bucket, prefix: slash < 0 ? '' : key.slice(0, slash), region } };
}

/** A snapshot as goman lists it, with the size K3s reports when its listing says (0 when it does not). */
export function snapshotRecord(target: SnapshotTarget | undefined, id: string, k3sVersion: string, listing: string): Snapshot {
  let sizeBytes = 0;
  let file = id;
  try {
    const doc = JSON.parse(listing) as { items?: { spec?: { snapshotName?: string }; status?: { size?: string | number } }[] };
    const mine = doc.items?.find((x) => x.spec?.snapshotName?.startsWith(id));
    if (mine?.spec?.snapshotName) file = mine.spec.snapshotName;
    sizeBytes = Number(mine?.status?.size ?? 0) || 0;
  } catch {
    // Older K3s prints a table; the snapshot is there all the same.
  }
  const location = target ? `s3://${target.bucket}/${target.prefix ? `${target.prefix}/` : ''}${file}` : `file:///var/lib/rancher/k3s/server/db/snapshots/${file}`;
  return { id, takenAt: new Date().toISOString(), sizeBytes, k3sVersion, location, scheduled: false };
}
