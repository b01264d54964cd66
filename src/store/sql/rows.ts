// Normalising what each driver returns into domain values (see schema.ts for why they differ).
import type { Selectable } from 'kysely';
import type { Cluster, ClusterSpec, ClusterStatus, Labels } from '../../domain/index.ts';
import type { ClustersTable } from './schema.ts';

/**
 * The columns a Cluster is read from. The hot reads name them rather than select `*`: a
 * statement PostgreSQL keeps planned (hot-statements.ts) fails once a migration changes the
 * shape of its result, as adding a column would for `*`.
 */
export const CLUSTER_COLUMNS = [
  'id',
  'name',
  'labels',
  'spec',
  'status',
  'generation',
  'resource_version',
  'created_by',
  'created_at',
  'updated_at',
  'deletion_timestamp',
  'finalizers',
] as const;

export type ClusterRow = Pick<Selectable<ClustersTable>, (typeof CLUSTER_COLUMNS)[number]>;

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** toISOString()'s form, which both drivers mostly hand over already (see postgres/timestamps.ts). */
export function iso(value: Date | string): string {
  if (typeof value !== 'string') return value.toISOString();
  return ISO_MS.test(value) ? value : new Date(value).toISOString();
}

export function isoOrNull(value: Date | string | null): string | null {
  return value === null ? null : iso(value);
}

/** pg returns jsonb already parsed; SQLite returns the text. */
export function fromJson<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

export function toJson(value: unknown): string {
  return JSON.stringify(value);
}

export function num(value: string | number | bigint): number {
  return typeof value === 'number' ? value : Number(value);
}

export function bool(value: boolean | number): boolean {
  return value === true || value === 1;
}

export function clusterFromRow(row: ClusterRow): Cluster {
  const cluster: Cluster = {
    id: row.id,
    name: row.name,
    labels: fromJson<Labels>(row.labels),
    spec: fromJson<ClusterSpec>(row.spec),
    status: fromJson<ClusterStatus>(row.status),
    generation: row.generation,
    resourceVersion: String(num(row.resource_version)),
    createdBy: row.created_by,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    finalizers: fromJson<string[]>(row.finalizers),
  };
  const deletion = isoOrNull(row.deletion_timestamp);
  if (deletion) cluster.deletionTimestamp = deletion;
  return cluster;
}
