// bench:reconcile — N sim clusters (zero boot/install time) from the first create to all
// Ready, embedded topology in one process: SQLite store, outbox relay, memory bus, the sim
// controller host. Prints clusters/s, write→controller event latency (outbox row `at` to the
// controller's bus handler) p50/p99, and the ratio to a no-op reconciler on the same run.
//
//   npm run bench:reconcile -- [--clusters 1000] [--concurrency 32] [--writers 16]
//
// Controllers reach the control plane through localControlPlane (the store, no HTTP hop);
// TODO(lead): an `api` variant once src/api/app.ts exists.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { clusterSpecSchema, condition } from '../src/domain/index.ts';
import { createMemoryBus } from '../src/events/memory-bus.ts';
import { startOutboxRelay } from '../src/events/outbox-relay.ts';
import type { EventBus } from '../src/events/port.ts';
import { SimReconciler } from '../src/providers/sim/reconciler.ts';
import { startController } from '../src/reconcile/controller-host.ts';
import { localControlPlane } from '../src/reconcile/local-control-plane.ts';
import type { Reconciler } from '../src/reconcile/types.ts';
import { openStore } from '../src/store/open.ts';
import type { ClusterStore } from '../src/store/port.ts';

const { values } = parseArgs({
  options: {
    clusters: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '32' },
    writers: { type: 'string', default: '16' },
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
        latencies.push(Date.now() - Date.parse(e.at));
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
}

async function run(kind: 'sim' | 'noop'): Promise<RunResult> {
  const dir = mkdtempSync(path.join(tmpdir(), `goman-bench-${kind}-`));
  const store = await openStore({ dataDir: dir });
  const latencies: number[] = [];
  const bus = timedBus(createMemoryBus({ maxQueued: 10 * N }), latencies);
  const relay = startOutboxRelay({ store, bus, leases: store, owner: 'bench', pollMs: 5, batch: 500 });
  const reconciler = kind === 'sim' ? new SimReconciler({ store, bootMs: 0, installMs: 0, env: {} }) : noopReconciler();
  const host = await startController({ reconciler, controlPlane: localControlPlane(store), bus, leases: store, owner: 'bench', concurrency: CONCURRENCY });
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

  await host.stop(5_000);
  await relay.stop();
  await bus.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const sorted = latencies.sort((a, b) => a - b);
  return { seconds, perSecond: N / seconds, p50: pct(sorted, 50), p99: pct(sorted, 99), events: sorted.length };
}

const sim = await run('sim');
const noop = await run('noop');
const line = (name: string, r: RunResult): string =>
  `${name.padEnd(5)} ${N} clusters Ready in ${r.seconds.toFixed(2)} s = ${r.perSecond.toFixed(0)} clusters/s; ` +
  `event latency p50 ${r.p50} ms, p99 ${r.p99} ms (${r.events} deliveries)`;
console.log(`embedded (SQLite + memory bus + relay, store-direct control plane), concurrency ${CONCURRENCY}, writers ${WRITERS}`);
console.log(line('sim', sim));
console.log(line('noop', noop));
console.log(`sim / noop throughput ratio: ${(sim.perSecond / noop.perSecond).toFixed(2)}`);
console.log(`goals: <= 20 s for 1000 (${sim.seconds <= 20 * (N / 1000) ? 'met' : 'missed'}), p99 <= 50 ms (${sim.p99 <= 50 ? 'met' : 'missed'})`);
