// The event bus port (DESIGN §5): in-process for the embedded topology, NATS JetStream for
// the service topology. Events only say "look at cluster X"; consumers re-read the cluster.
import type { ClusterEvent } from '../domain/index.ts';

export interface Subscription {
  close(): Promise<void>;
}

export interface EventBus {
  readonly kind: 'memory' | 'nats';
  /** Resolves once the bus has accepted the event (JetStream: stored). */
  publish(event: ClusterEvent): Promise<void>;
  /**
   * Durable, per-consumer delivery: every consumer name gets every event at least once, even
   * those published while it was away; within one consumer name, delivery is shared (work queue).
   * The handler's rejection means "redeliver later".
   */
  subscribe(consumer: string, handler: (event: ClusterEvent) => Promise<void>): Promise<Subscription>;
  /** Ephemeral fan-out to every live tap in every process, from now on (watch streams, metrics). */
  tap(handler: (event: ClusterEvent) => void): Promise<Subscription>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
