// The event vocabulary (DESIGN §5): what the outbox carries and the bus delivers. An event only
// says "look at cluster X"; controllers are level-triggered and re-read the cluster.
export const EVENT_TYPES = [
  'cluster.created',
  'cluster.updated',
  'cluster.deleting',
  'cluster.deleted',
  'cluster.status',
  'cluster.reconcile',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface ClusterEvent {
  eventId: string;
  type: EventType;
  clusterId: string;
  name: string;
  provider: string;
  generation: number;
  at: string;
  /** W3C trace context of the write (or the relay's publish), when tracing is on. */
  traceparent?: string;
}

/** A human-readable history entry (`GET /clusters/{id}/events`). */
export interface HistoryEntry {
  id: string;
  clusterId: string;
  kind: 'created' | 'spec' | 'labels' | 'phase' | 'error' | 'deleting' | 'finalizer' | 'rollout' | 'restore';
  message: string;
  generation: number;
  at: string;
  data?: Record<string, unknown>;
}
