// The trace context of the write that made an outbox row (a W3C traceparent, null when not
// tracing), so the relay, the bus and the reconcile continue the API request's trace.
import type { Migration } from './types.ts';

const add = ['ALTER TABLE outbox ADD COLUMN traceparent text'];

export const outboxTraceparent: Migration = {
  version: 3,
  name: 'outbox-traceparent',
  statements: { postgres: add, sqlite: add },
};
