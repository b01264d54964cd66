// A standalone controller process (`goman controller --provider sim`, DESIGN §1 service
// topology): the API client for the control plane, the shared database for leases and
// provider state, the bus for events. Nothing here is held that another replica needs.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ApiClient } from '../client/api-client.ts';
import { openBus, type OpenBusOptions } from '../events/open.ts';
import type { SimOptions } from '../providers/sim/reconciler.ts';
import { validationFailed } from '../domain/index.ts';
import { openStore } from '../store/open.ts';
import { isPostgresUrl } from '../store/postgres/index.ts';
import type { BackoffOptions } from '../util/backoff.ts';
import { startController } from '../reconcile/controller-host.ts';
import { createReconciler } from './reconcilers.ts';

export interface ControllerProcessOptions {
  serverUrl: string;
  /** A token with role `controller`. */
  token: string;
  /** The server's PostgreSQL (postgres://): leases and provider state are shared, never private. */
  databaseUrl: string;
  /** The server's NATS (nats://): the only way events reach another process. */
  busUrl: string;
  /** Bus settings (stream and subject names, concurrency); defaults suit production. */
  busOptions?: OpenBusOptions | undefined;
  provider: string;
  owner?: string | undefined;
  concurrency?: number | undefined;
  leaseTtlMs?: number | undefined;
  heartbeatMs?: number | undefined;
  backoff?: BackoffOptions | undefined;
  sim?: SimOptions | undefined;
  metrics?: Registry | undefined;
  logger?: Logger | undefined;
}

export interface ControllerProcess {
  readonly owner: string;
  /** Graceful stop (SIGTERM): drain within the deadline, release leases, close connections. */
  stop(deadlineMs?: number): Promise<void>;
}

/** A lease owner unique to this process, readable in the leases table. */
export function processOwner(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export async function runControllerProcess(opts: ControllerProcessOptions): Promise<ControllerProcess> {
  const owner = opts.owner ?? processOwner();
  // Never a private SQLite: a worker with its own state would re-provision what it finds.
  if (!isPostgresUrl(opts.databaseUrl)) throw validationFailed('a controller worker needs the server\'s PostgreSQL (a postgres:// database URL)');
  const store = await openStore({ databaseUrl: opts.databaseUrl, dataDir: '' });
  const closeAll = async (): Promise<void> => {
    await Promise.allSettled([bus?.close(), store.close()]);
  };
  let bus: Awaited<ReturnType<typeof openBus>> | undefined;
  try {
    bus = await openBus(opts.busUrl, opts.busOptions);
    const host = await startController({
      reconciler: await createReconciler(opts.provider, { store, sim: opts.sim }),
      controlPlane: new ApiClient({ baseUrl: opts.serverUrl, token: opts.token, userAgent: `goman-controller/${opts.provider}` }),
      bus,
      leases: store,
      owner,
      concurrency: opts.concurrency,
      leaseTtlMs: opts.leaseTtlMs,
      heartbeatMs: opts.heartbeatMs,
      backoff: opts.backoff,
      metrics: opts.metrics,
      logger: opts.logger,
    });
    return {
      owner,
      async stop(deadlineMs) {
        await host.stop(deadlineMs);
        await closeAll();
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
