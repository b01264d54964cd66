// controller_statuses kept a second copy of each controller's latest record, which every
// accepted report rewrote; the record lives in the cluster row's status.controllers, and nothing
// read the copy. What the table is for is finding the clusters a controller has reported on when
// it is deregistered: a row per (cluster, controller), written by the controller's first report.
//
// PostgreSQL may have replicas of the previous version running during a rolling upgrade, and
// they still write the copy: there the columns stay, nullable, for a later migration to drop.
// A SQLite file has one goman process, so the columns go at once.
import type { Migration } from './types.ts';

export const reportMembership: Migration = {
  version: 6,
  name: 'report-membership',
  statements: {
    postgres: ['ALTER TABLE controller_statuses ALTER COLUMN status DROP NOT NULL, ALTER COLUMN updated_at DROP NOT NULL'],
    sqlite: ['ALTER TABLE controller_statuses DROP COLUMN status', 'ALTER TABLE controller_statuses DROP COLUMN updated_at'],
  },
};
