// The sim controller in the service topology: PostgreSQL and NATS JetStream, two controller
// hosts with their own connections (as two `goman controller` processes would have) sharing
// one durable consumer. Leases keep each cluster to one host at a time.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../helpers/eventually.ts';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { buildApi } from '../../src/api/app.ts';
import { issueToken } from '../../src/api/tokens.ts';
import { ApiClient } from '../../src/client/api-client.ts';
import { clusterSpecSchema } from '../../src/domain/index.ts';
import { createNatsBus } from '../../src/events/nats-bus.ts';
import { startOutboxRelay } from '../../src/events/outbox-relay.ts';
import { SimReconciler } from '../../src/providers/sim/reconciler.ts';
import { startController } from '../../src/reconcile/controller-host.ts';
import { runControllerProcess } from '../../src/cmd/controller-process.ts';
import { localControlPlane } from '../../src/reconcile/local-control-plane.ts';
import type { Reconciler } from '../../src/reconcile/types.ts';
import { openStore } from '../../src/store/open.ts';
import type { ClusterStore } from '../../src/store/port.ts';
import { freshPgDatabase, NATS_URL, needPeer, PG_ADMIN_URL } from '../helpers/peers.ts';

test('two controller processes on PostgreSQL + NATS converge every cluster, one host per cluster at a time', async (t) => {
  if (!(await needPeer(t, 'PostgreSQL', PG_ADMIN_URL)) || !(await needPeer(t, 'NATS', NATS_URL))) return;
  const db = await freshPgDatabase();
  const id = randomBytes(4).toString('hex');
  const names = { stream: `GOMAN_T_SIMCTL_${id}`, subjectPrefix: `goman_t_simctl_${id}` };
  const closers: (() => Promise<void>)[] = [];
  t.after(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    const nc = await connect({ servers: NATS_URL });
    await (await jetstreamManager(nc)).streams.delete(names.stream).catch(() => false);
    await nc.close();
    await db.drop();
  });

  const inFlight = new Map<string, number>();
  const worked = new Map<string, number>();
  let overlaps = 0;
  /** One "process": its own store connection pool, bus connection and controller host. */
  const startProcess = async (owner: string): Promise<ClusterStore> => {
    const store = await openStore({ databaseUrl: db.url, dataDir: '.' });
    const bus = await createNatsBus({ url: NATS_URL, ...names });
    closers.push(() => store.close(), () => bus.close());
    const sim = new SimReconciler({ store, bootMs: 50, installMs: 50, transitionMs: 50, env: {} });
    // The real sim reconciler, wrapped to see when a cluster is being worked on by either host.
    const counted: Reconciler = {
      name: sim.name,
      registration: sim.registration,
      async reconcile(cluster, ctx) {
        const n = (inFlight.get(cluster.id) ?? 0) + 1;
        inFlight.set(cluster.id, n);
        if (n > 1) overlaps++;
        worked.set(owner, (worked.get(owner) ?? 0) + 1);
        try {
          await sleep(5); // a reconcile takes a while, so the two processes would overlap if they could
          return await sim.reconcile(cluster, ctx);
        } finally {
          inFlight.set(cluster.id, (inFlight.get(cluster.id) ?? 1) - 1);
        }
      },
    };
    const host = await startController({
      reconciler: counted,
      controlPlane: localControlPlane(store),
      bus,
      leases: store,
      owner,
      backoff: { baseMs: 20, maxMs: 500 },
      leaseBusyRequeueMs: 20,
    });
    closers.push(() => host.stop(2_000));
    return store;
  };

  const store = await startProcess('proc-a');
  await startProcess('proc-b');
  const relayBus = await createNatsBus({ url: NATS_URL, ...names });
  const relay = startOutboxRelay({ store, bus: relayBus, leases: store, owner: 'relay', pollMs: 20 });
  closers.push(() => relayBus.close(), () => relay.stop());

  const spec = clusterSpecSchema.parse({ provider: 'sim', nodePools: [{ name: 'w', count: 1 }] });
  const clusters = await Promise.all(Array.from({ length: 10 }, (_, i) => store.createCluster({ name: `svc-${i}`, labels: {}, spec, createdBy: 'test' })));
  relay.poke();
  await eventually('every cluster Ready', async () => {
    const phases = await Promise.all(clusters.map(async (c) => (await store.getCluster(c.id))?.status.phase));
    return phases.every((p) => p === 'Ready');
  }, { timeoutMs: 20_000 });
  assert.equal(overlaps, 0, 'no cluster was reconciled by both processes at once');
  assert.ok((worked.get('proc-a') ?? 0) > 0 && (worked.get('proc-b') ?? 0) > 0, `both processes worked: ${JSON.stringify([...worked])}`);

  for (const c of clusters) await store.deleteCluster(c.id);
  relay.poke();
  for (const c of clusters) {
    await eventually(`${c.name} deleted`, async () => (await store.getCluster(c.id)) === null, { timeoutMs: 30_000 });
    assert.equal(await store.getProviderState('sim', c.id), null);
  }
});

test('runControllerProcess builds a working controller from URLs and a token alone', async (t) => {
  if (!(await needPeer(t, 'PostgreSQL', PG_ADMIN_URL)) || !(await needPeer(t, 'NATS', NATS_URL))) return;
  const db = await freshPgDatabase();
  const id = randomBytes(4).toString('hex');
  const names = { stream: `GOMAN_T_PROC_${id}`, subjectPrefix: `goman_t_proc_${id}` };
  // The server side of the service topology: API and relay on their own connections.
  const store = await openStore({ databaseUrl: db.url, dataDir: '.' });
  const bus = await createNatsBus({ url: NATS_URL, ...names });
  const relay = startOutboxRelay({ store, bus, leases: store, owner: 'relay', pollMs: 20 });
  const app = await buildApi({ store, bus, auth: { mode: 'token' }, version: 'test', topology: 'service', providers: ['sim'] });
  const serverUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  const admin = new ApiClient({ baseUrl: serverUrl, token: (await issueToken(store, { subject: 'admin', role: 'admin' })).token });
  const controller = await runControllerProcess({
    serverUrl,
    token: (await issueToken(store, { subject: 'sim', role: 'controller' })).token,
    databaseUrl: db.url,
    busUrl: NATS_URL,
    busOptions: names,
    provider: 'sim',
    sim: { bootMs: 50, installMs: 50, env: {} },
  });
  t.after(async () => {
    await controller.stop(2_000);
    await app.close();
    await relay.stop();
    await bus.close();
    await store.close();
    const nc = await connect({ servers: NATS_URL });
    await (await jetstreamManager(nc)).streams.delete(names.stream).catch(() => false);
    await nc.close();
    await db.drop();
  });

  assert.ok((await admin.listControllers()).items.some((c) => c.name === 'sim-controller'), 'the process registered its controller');
  const c = await admin.createCluster({ name: 'proc', spec: { provider: 'sim', mode: 'ha' } });
  await eventually('the cluster Ready', async () => (await admin.getCluster(c.id))?.status.phase === 'Ready', { timeoutMs: 15_000 });
  assert.equal((await admin.getCluster(c.id))?.status.nodes.length, 3);
  await admin.deleteCluster(c.id);
  await eventually('the cluster deleted', async () => (await admin.getCluster(c.id)) === null, { timeoutMs: 25_000 });
});
