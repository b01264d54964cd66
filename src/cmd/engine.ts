// The built-in controllers of the embedded topology (DESIGN §1): one controller host per
// provider, in the server's process, sharing its store (leases, provider state) and bus.
// They still reach the control plane through `controlPlane` (the API client), as a separate
// `goman controller` process would.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { EventBus } from '../events/port.ts';
import type { SimOptions } from '../providers/sim/reconciler.ts';
import type { ClusterStore } from '../store/port.ts';
import type { BackoffOptions } from '../util/backoff.ts';
import { startController, type ControllerHost } from '../reconcile/controller-host.ts';
import { createReconciler } from './reconcilers.ts';
import type { ControlPlane } from '../reconcile/types.ts';

export interface EngineOptions {
  store: ClusterStore;
  bus: EventBus;
  controlPlane: ControlPlane;
  owner: string;
  providers: readonly string[];
  sim?: SimOptions | undefined;
  concurrency?: number | undefined;
  leaseTtlMs?: number | undefined;
  backoff?: BackoffOptions | undefined;
  metrics?: Registry | undefined;
  logger?: Logger | undefined;
}

export interface Engine {
  readonly controllers: readonly ControllerHost[];
  stop(deadlineMs?: number): Promise<void>;
}

export async function startEngine(opts: EngineOptions): Promise<Engine> {
  const controllers: ControllerHost[] = [];
  try {
    for (const provider of opts.providers) {
      controllers.push(
        await startController({
          reconciler: await createReconciler(provider, { store: opts.store, sim: opts.sim }),
          controlPlane: opts.controlPlane,
          bus: opts.bus,
          leases: opts.store,
          owner: opts.owner,
          concurrency: opts.concurrency,
          leaseTtlMs: opts.leaseTtlMs,
          backoff: opts.backoff,
          metrics: opts.metrics,
          logger: opts.logger,
        }),
      );
    }
  } catch (err) {
    await Promise.allSettled(controllers.map((c) => c.stop(0)));
    throw err;
  }
  return {
    controllers,
    async stop(deadlineMs) {
      await Promise.all(controllers.map((c) => c.stop(deadlineMs)));
    },
  };
}
