import { initial } from './001-initial.ts';
import { reconcileSchedule } from './002-reconcile-schedule.ts';
import { outboxTraceparent } from './003-outbox-traceparent.ts';
import { scheduleCopies } from './004-schedule-copies.ts';
import { registryVersion } from './005-registry-version.ts';
import { reportMembership } from './006-report-membership.ts';
import type { Migration } from './types.ts';

/** Every migration, in version order. Append only: never edit one that has shipped. */
export const MIGRATIONS: readonly Migration[] = [initial, reconcileSchedule, outboxTraceparent, scheduleCopies, registryVersion, reportMembership];
export type { Migration } from './types.ts';
export { migrate } from './runner.ts';
