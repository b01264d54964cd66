// bench:reconcile — N sim clusters (zero boot/install time) from the first create to all
// Ready, embedded topology in one process: SQLite store, outbox relay, memory bus, the sim
// controller host. Prints clusters/s, write→controller event latency (outbox row `at` to the
// controller's bus handler, for the events it acts on; cluster.status excluded) p50/p99, and the
// ratio to a no-op reconciler on the same run.
//
//   npm run bench:reconcile -- [--clusters 1000] [--concurrency 32] [--writers 16] [--service]
//
// --service also runs the service topology (PostgreSQL + NATS JetStream, still one process),
// against GOMAN_TEST_DATABASE_URL / GOMAN_TEST_NATS_URL (the test peers' defaults).
// Besides the latency under the write burst, each run probes the quiet latency: single
// writes 20 ms apart once everything is Ready.
//
// Controllers reach the control plane through localControlPlane (the store, no HTTP hop);
// TODO(lead): an `api` variant once src/api/app.ts exists.
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
import { freshPgDatabase, NATS_URL } from '../test/helpers/peers.ts';

const { values } = parseArgs({
  options: {
    clusters: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '32' },
    writers: { type: 'string', default: '16' },
    service: { type: 'boolean', default: false },
  },
});
const N = Number(values.clusters);
const CONCURRENCY = Number(values.concurrency);
const WRITERS = Number(values.writers);

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
  const relay = startOutboxRelay({ store, bus, leases: store, owner: 'bench', pollMs: 5, batch: 500 });
  const reconciler = kind === 'sim' ? new SimReconciler({ store, bootMs: 0, installMs: 0, env: {} }) : noopReconciler();
  // As the API does after each write, reports poke the relay too.
  const local = localControlPlane(store);
  const controlPlane: ControlPlane = {
    ...local,
    reportStatus: async (...args) => {
      const r = await local.reportStatus(...args);
      relay.poke();
      return r;
    },
  };
  const host = await startController({ reconciler, controlPlane, bus, leases: store, owner: 'bench', concurrency: CONCURRENCY });
  const spec = clusterSpecSchema.parse({ provider: 'sim', mode: 'dev', nodePools: [{ name: 'workers', count: 2 }] });

  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (next < N) {
        const i = next++;
        await store.createCluster({ name: `bench-${i}`, labels: {}, spec, createdBy: 'bench' });
        relay.poke();
      }
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
    await store.createCluster({ name: `quiet-${i}`, labels: {}, spec, createdBy: 'bench' });
    relay.poke();
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 200));
  const quiet = latencies.splice(0).sort((a, b) => a - b);

  await host.stop(5_000);
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
  console.log(`${topology} (${what} + outbox relay, store-direct control plane), concurrency ${CONCURRENCY}, writers ${WRITERS}`);
  console.log(line('sim', sim));
  console.log(line('noop', noop));
  console.log(`sim / noop throughput ratio: ${(sim.perSecond / noop.perSecond).toFixed(2)}`);
  console.log(`goals: <= 20 s per 1000 (${sim.seconds <= 20 * (N / 1000) ? 'met' : 'missed'}), quiet p99 <= 50 ms (${sim.quietP99 <= 50 ? 'met' : 'missed'})`);
}
