// bench:reconcile — N sim clusters (zero boot/install time) from the first create to all
// Ready, embedded topology in one process: SQLite store, API, outbox relay, scheduler, memory bus, the sim
// controller host. Prints clusters/s, write→controller event latency (outbox row `at` to the
// controller's bus handler, for the events it acts on; cluster.status excluded) p50/p99, and the
// ratio to a no-op reconciler on the same run.
//
//   npm run bench:reconcile -- [--clusters 1000] [--concurrency 32] [--writers 16] [--service] [--via api|store]
//
// --service also runs the service topology (PostgreSQL + NATS JetStream, still one process),
// against GOMAN_TEST_DATABASE_URL / GOMAN_TEST_NATS_URL (the test peers' defaults).
// Besides the latency under the write burst, each run probes the quiet latency: single
// writes 20 ms apart once everything is Ready.
//
// --via api (default): clusters are created by POST and the controller reaches the control
// plane through ApiClient, as in production. --via store: both go straight to the store
// (localControlPlane), which shows what the HTTP hop costs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { clusterSpecSchema, condition } from '../src/domain/index.ts';
import { createMemoryBus } from '../src/events/memory-bus.ts';
import { createNatsBus } from '../src/events/nats-bus.ts';
import { startOutboxRelay } from '../src/events/outbox-relay.ts';
import type { EventBus } from '../src/events/port.ts';
import { SimReconciler } from '../src/providers/sim/reconciler.ts';
import { startController } from '../src/reconcile/controller-host.ts';
import { localControlPlane } from '../src/reconcile/local-control-plane.ts';
import type { ControlPlane, Reconciler } from '../src/reconcile/types.ts';
import { openStore } from '../src/store/open.ts';
import type { ClusterStore } from '../src/store/port.ts';
import { buildApi } from '../src/api/app.ts';
import { issueToken } from '../src/api/tokens.ts';
import { ApiClient } from '../src/client/api-client.ts';
import { startScheduler } from '../src/reconcile/scheduler.ts';
import { freshPgDatabase, NATS_URL } from '../test/helpers/peers.ts';

const { values } = parseArgs({
  options: {
    clusters: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '32' },
    writers: { type: 'string', default: '16' },
    service: { type: 'boolean', default: false },
    via: { type: 'string', default: 'api' },
  },
});
const N = Number(values.clusters);
const CONCURRENCY = Number(values.concurrency);
const WRITERS = Number(values.writers);
if (values.via !== 'api' && values.via !== 'store') throw new Error('--via must be api or store');
const VIA: 'api' | 'store' = values.via;

/** Ready immediately: the floor the sim controller is compared against. */
function noopReconciler(): Reconciler {
  return {
    name: 'sim-controller',
    registration: { providers: ['sim'], required: true },
    async reconcile(cluster, ctx) {
      await ctx.report({ observedGeneration: cluster.generation, conditions: [condition('Ready', 'True', 'Noop', '')] });
      return {};
    },
  };
}

/** Delegates to a bus, timing each delivery from the outbox row's `at` to the handler. */
function timedBus(bus: EventBus, latencies: number[]): EventBus {
  return {
    kind: bus.kind,
    publish: (e) => bus.publish(e),
    subscribe: (consumer, handler) =>
      bus.subscribe(consumer, async (e) => {
        // Only events a controller acts on: its own reports come back as cluster.status.
        if (e.type !== 'cluster.status') latencies.push(Date.now() - Date.parse(e.at));
        await handler(e);
      }),
    tap: (h) => bus.tap(h),
    ping: () => bus.ping(),
    close: () => bus.close(),
  };
}

function pct(sorted: readonly number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}

async function readyCount(store: ClusterStore): Promise<number> {
  return (await store.countClusters()).filter((r) => r.phase === 'Ready').reduce((a, r) => a + r.count, 0);
}

interface RunResult {
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  events: number;
  quietP50: number;
  quietP99: number;
}

type Topology = 'embedded' | 'service';

async function open(topology: Topology, kind: string): Promise<{ store: ClusterStore; bus: EventBus; cleanup: () => Promise<void> }> {
  if (topology === 'embedded') {
    const dir = mkdtempSync(path.join(tmpdir(), `goman-bench-${kind}-`));
    const store = await openStore({ dataDir: dir });
    const bus = createMemoryBus({ maxQueued: 10 * N });
    return { store, bus, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const db = await freshPgDatabase();
  const store = await openStore({ databaseUrl: db.url, dataDir: '.' });
  const tag = `${kind}${Date.now().toString(36)}`.toUpperCase();
  const bus = await createNatsBus({ url: NATS_URL, stream: `BENCH_${tag}`, subjectPrefix: `bench${tag.toLowerCase()}`, maxAgeMs: 600_000 });
  const cleanup = async (): Promise<void> => {
    const nc = await connect({ servers: NATS_URL });
    await (await jetstreamManager(nc)).streams.delete(`BENCH_${tag}`).catch(() => false);
    await nc.close();
    await db.drop();
  };
  return { store, bus, cleanup };
}

async function run(topology: Topology, kind: 'sim' | 'noop'): Promise<RunResult> {
  const opened = await open(topology, kind);
  const { store } = opened;
  const latencies: number[] = [];
  const bus = timedBus(opened.bus, latencies);
  // The API has no hook to wake the relay after a write, so via the API the relay polls (5 ms);
  // via the store, writes and reports poke it, as an in-process writer can.
  const relay = startOutboxRelay({ store, bus, leases: store, owner: 'bench', pollMs: 5, batch: 500 });
  const scheduler = startScheduler({ store, leases: store, owner: 'bench', tickMs: 1_000 });
  const reconciler = kind === 'sim' ? new SimReconciler({ store, bootMs: 0, installMs: 0, env: {} }) : noopReconciler();
  const spec = clusterSpecSchema.parse({ provider: 'sim', mode: 'dev', nodePools: [{ name: 'workers', count: 2 }] });
  let controlPlane: ControlPlane;
  let create: (name: string) => Promise<unknown>;
  let app: Awaited<ReturnType<typeof buildApi>> | undefined;
  if (VIA === 'api') {
    app = await buildApi({ store, bus, auth: { mode: 'token' }, version: 'bench', topology, providers: ['sim'], rateLimit: { max: 1e9, windowMs: 60_000 } });
    const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    controlPlane = new ApiClient({ baseUrl, token: (await issueToken(store, { subject: 'sim', role: 'controller' })).token });
    const admin = new ApiClient({ baseUrl, token: (await issueToken(store, { subject: 'bench', role: 'admin' })).token });
    create = (name) => admin.createCluster({ name, spec });
  } else {
    const local = localControlPlane(store);
    controlPlane = {
      ...local,
      reportStatus: async (...args) => {
        const r = await local.reportStatus(...args);
        relay.poke();
        return r;
      },
    };
    create = async (name) => {
      await store.createCluster({ name, labels: {}, spec, createdBy: 'bench' });
      relay.poke();
    };
  }
  const host = await startController({ reconciler, controlPlane, bus, leases: store, owner: 'bench', concurrency: CONCURRENCY });

  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (next < N) await create(`bench-${next++}`);
    }),
  );
  while ((await readyCount(store)) < N) await new Promise((r) => setTimeout(r, 20));
  const seconds = (performance.now() - t0) / 1000;
  // The status reports' own events may still be on their way: let the relay drain first.
  for (let seen = -1; seen !== latencies.length || (await store.readUnsentOutbox(1)).length > 0; ) {
    seen = latencies.length;
    await new Promise((r) => setTimeout(r, 200));
  }
  const burst = latencies.splice(0).sort((a, b) => a - b);

  for (let i = 0; i < 100; i++) {
    await create(`quiet-${i}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 200));
  const quiet = latencies.splice(0).sort((a, b) => a - b);

  await host.stop(5_000);
  await app?.close();
  await scheduler.stop();
  await relay.stop();
  await bus.close();
  await store.close();
  await opened.cleanup();
  return {
    seconds,
    perSecond: N / seconds,
    p50: pct(burst, 50),
    p99: pct(burst, 99),
    events: burst.length,
    quietP50: pct(quiet, 50),
    quietP99: pct(quiet, 99),
  };
}

const line = (name: string, r: RunResult): string =>
  `${name.padEnd(5)} ${N} clusters Ready in ${r.seconds.toFixed(2)} s = ${r.perSecond.toFixed(0)} clusters/s; ` +
  `event latency under the burst p50 ${r.p50} ms, p99 ${r.p99} ms (${r.events} deliveries); quiet p50 ${r.quietP50} ms, p99 ${r.quietP99} ms`;

for (const topology of values.service ? (['embedded', 'service'] as const) : (['embedded'] as const)) {
  const sim = await run(topology, 'sim');
  const noop = await run(topology, 'noop');
  const what = topology === 'embedded' ? 'SQLite + memory bus' : 'PostgreSQL + NATS JetStream';
  const path = VIA === 'api' ? 'API + ApiClient' : 'store-direct control plane';
  console.log(`${topology} (${what} + outbox relay + scheduler, ${path}), concurrency ${CONCURRENCY}, writers ${WRITERS}`);
  console.log(line('sim', sim));
  console.log(line('noop', noop));
  console.log(`sim / noop throughput ratio: ${(sim.perSecond / noop.perSecond).toFixed(2)}`);
  console.log(`goals: <= 20 s per 1000 (${sim.seconds <= 20 * (N / 1000) ? 'met' : 'missed'}), quiet p99 <= 50 ms (${sim.quietP99 <= 50 ? 'met' : 'missed'})`);
}
