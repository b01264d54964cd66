// The scheduler's due times move to a narrow table of their own. Claiming a batch rewrote 500
// wide cluster rows and every index on them; now it rewrites 500 two-column rows. A cluster's
// schedule row goes with it (ON DELETE CASCADE).
import type { Migration } from './types.ts';

const move = (timeType: string): string[] => [
  `CREATE TABLE reconcile_schedule (
    cluster_id text PRIMARY KEY REFERENCES clusters (id) ON DELETE CASCADE,
    next_reconcile_at ${timeType} NOT NULL
  )`,
  'INSERT INTO reconcile_schedule (cluster_id, next_reconcile_at) SELECT id, next_reconcile_at FROM clusters',
  'CREATE INDEX reconcile_schedule_due_idx ON reconcile_schedule (next_reconcile_at)',
  'DROP INDEX clusters_next_reconcile_idx',
  'ALTER TABLE clusters DROP COLUMN next_reconcile_at',
];

export const reconcileSchedule: Migration = {
  version: 2,
  name: 'reconcile-schedule',
  statements: { postgres: move('timestamptz'), sqlite: move('TEXT') },
};
