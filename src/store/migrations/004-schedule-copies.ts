// What the scheduler reads of a cluster moves onto its narrow schedule row: name, provider and
// generation (copied into each reconcile event), creation time and whether it is settled (the
// "needs attention" test). A tick then never touches the wide clusters table: at 1 000 000
// clusters (~1 GB) its 1 000 random primary-key reads per tick no longer fit PostgreSQL's
// buffers. Every write already updates the schedule row, in the same statement on PostgreSQL.
import type { Migration } from './types.ts';

/** The "settled" rule of isSettled (store/sql/scheduler.ts) in SQL, over the clusters row `c`. */
export const SETTLED_SQL = "c.phase IN ('Ready', 'Stopped') AND c.observed_generation >= c.generation";

const copy = (types: { time: string; bool: string; now: string; no: string }): string[] => [
  "ALTER TABLE reconcile_schedule ADD COLUMN name text NOT NULL DEFAULT ''",
  "ALTER TABLE reconcile_schedule ADD COLUMN provider text NOT NULL DEFAULT ''",
  'ALTER TABLE reconcile_schedule ADD COLUMN generation integer NOT NULL DEFAULT 0',
  `ALTER TABLE reconcile_schedule ADD COLUMN created_at ${types.time} NOT NULL DEFAULT ${types.now}`,
  `ALTER TABLE reconcile_schedule ADD COLUMN settled ${types.bool} NOT NULL DEFAULT ${types.no}`,
  `UPDATE reconcile_schedule SET name = c.name, provider = c.provider, generation = c.generation, created_at = c.created_at,
     settled = (${SETTLED_SQL})
   FROM clusters AS c WHERE c.id = reconcile_schedule.cluster_id`,
];

export const scheduleCopies: Migration = {
  version: 4,
  name: 'schedule-copies',
  statements: {
    postgres: copy({ time: 'timestamptz', bool: 'boolean', now: 'now()', no: 'false' }),
    sqlite: copy({ time: 'TEXT', bool: 'INTEGER', now: "''", no: '0' }),
  },
};
