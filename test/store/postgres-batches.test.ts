// Status reports that arrive together on PostgreSQL (src/store/sql/report-batches.ts and
// reportBatch): one statement reads their rows, one saves those that change the status alone,
// and each report still gets its own answer, event, trace and, when its row moved, the locking way.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import pg from 'pg';
import { clusterSpecSchema, GomanError } from '../../src/domain/index.ts';
import type { ClusterStore } from '../../src/store/port.ts';
import { inSpan, setTracingEnabled } from '../../src/util/trace.ts';
import { eventually } from '../helpers/eventually.ts';
import { needPeer, PG_ADMIN_URL } from '../helpers/peers.ts';
import { lockWaiters, recordingStore } from '../helpers/pg-store.ts';

const spec = clusterSpecSchema.parse({ provider: 'sim', nodePools: [{ name: 'w', count: 1 }] });
const report = (message: string, observedGeneration = 1) => ({ observedGeneration, conditions: [{ type: 'Ready', status: 'False' as const, reason: 'Wait', message }] });

/** Clusters that 'sim' has reported on once, so that its next reports change the status alone. */
async function reported(store: ClusterStore, n: number): Promise<string[]> {
  await store.registerController('sim', { providers: ['sim'], required: true });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = await store.createCluster({ name: `c${i}`, labels: {}, spec, createdBy: 'test' });
    await store.reportStatus(c.id, 'sim', report('first'));
    ids.push(c.id);
  }
  return ids;
}

type Recording = Awaited<ReturnType<typeof recordingStore>>;

/** A test on a recording store of its own (skipped, or failed in CI, without PostgreSQL). */
function pgTest(name: string, body: (recording: Recording) => Promise<void>): void {
  test(name, async (t) => {
    if (!(await needPeer(t, 'PostgreSQL', PG_ADMIN_URL))) return;
    const recording = await recordingStore();
    try {
      await body(recording);
    } finally {
      await recording.store.close();
      await recording.db.drop();
    }
  });
}

const code = (r: PromiseSettledResult<unknown>): string => (r.status === 'rejected' && r.reason instanceof GomanError ? r.reason.code : r.status);

pgTest('postgres: reports on different clusters that arrive together are read by one statement and saved by one, each with its own event', async ({ store, statements }) => {
  const ids = await reported(store, 5);
  const before = (await store.readOutboxSince(0, 100)).length;
  statements.length = 0;
  const results = await Promise.all(ids.map((id, i) => store.reportStatus(id, 'sim', report(`second ${i}`))));
  assert.deepEqual(statements, ['select', 'with']);
  const events = (await store.readOutboxSince(0, 100)).slice(before);
  assert.deepEqual(events.map((e) => e.type), Array(5).fill('cluster.status'));
  for (const [i, result] of results.entries()) {
    const event = events.find((e) => e.clusterId === ids[i]);
    assert.equal(result.cluster.resourceVersion, String(event?.seq), 'the answer carries its own event');
    const stored = await store.getCluster(ids[i]!);
    assert.equal(stored?.resourceVersion, result.cluster.resourceVersion);
    assert.equal(stored?.status.controllers[0]?.conditions[0]?.message, `second ${i}`);
    assert.deepEqual(stored?.status, result.cluster.status);
  }
});

pgTest('postgres: in a batch, a first report is saved by a statement of its own, and a missing cluster or a report from the future fails alone', async ({ store, statements }) => {
  const [a, b, c] = await reported(store, 3);
  await store.registerController('other', { providers: ['sim'], required: true });
  await store.listControllers(); // the registry at its new version, held: the batch reads no registry
  statements.length = 0;
  const settled = await Promise.allSettled([
    store.reportStatus(a!, 'sim', report('second')),
    store.reportStatus(b!, 'other', report('hello')),
    store.reportStatus('00000000-0000-4000-8000-000000000000', 'sim', report('nobody')),
    store.reportStatus(c!, 'sim', report('ahead', 7)),
  ]);
  assert.deepEqual(settled.map(code), ['fulfilled', 'fulfilled', 'NOT_FOUND', 'CONFLICT']);
  // One read; the batch's save and the first report's own, in either order.
  assert.deepEqual([...statements].sort(), ['select', 'with', 'with']);
  const other = await store.getCluster(b!);
  assert.deepEqual(other?.finalizers, ['sim', 'other']);
  assert.equal(other?.status.controllers.find((r) => r.name === 'other')?.conditions[0]?.message, 'hello');
  assert.equal((await store.getCluster(a!))?.status.controllers[0]?.conditions[0]?.message, 'second');
  assert.equal((await store.getCluster(c!))?.status.controllers[0]?.conditions[0]?.message, 'first', 'the refused report wrote nothing');
});

pgTest('postgres: in a batch, the report whose row changed after the read goes the locking way; the others are saved', async ({ db, store, statements }) => {
  const other = new pg.Client({ connectionString: db.url });
  await other.connect();
  try {
    const [moved, kept] = await reported(store, 2);
    await other.query('BEGIN');
    await other.query(`UPDATE clusters SET labels = '{"moved":"yes"}', resource_version = resource_version + 1000 WHERE id = $1`, [moved]);
    statements.length = 0;
    const reporting = Promise.all([
      store.reportStatus(moved!, 'sim', report('second')),
      store.reportStatus(kept!, 'sim', report('second')),
      store.reportStatus(moved!, 'sim', report('third')),
    ]);
    await eventually('the batch waits for the row lock', async () => (await lockWaiters(other)) === 1);
    await other.query('COMMIT');
    const [onMoved, onKept, thenMoved] = await reporting;
    // The moved row's two reports go the locking way, one after the other, in order.
    assert.deepEqual(statements, ['select', 'with', 'begin', 'select', 'with', 'commit', 'begin', 'select', 'with', 'commit']);
    assert.deepEqual(onMoved.cluster.labels, { moved: 'yes' }, 'decided again on the row as the other writer left it');
    assert.equal(onMoved.cluster.status.controllers[0]?.conditions[0]?.message, 'second');
    assert.equal(thenMoved.cluster.status.controllers[0]?.conditions[0]?.message, 'third');
    assert.equal((await store.getCluster(moved!))?.resourceVersion, thenMoved.cluster.resourceVersion);
    assert.equal((await store.getCluster(kept!))?.resourceVersion, onKept.cluster.resourceVersion);
    const events = await store.readOutboxSince(Number(onKept.cluster.resourceVersion) - 1, 10);
    assert.deepEqual(
      events.map((e) => [e.clusterId, String(e.seq)]),
      [
        [kept, onKept.cluster.resourceVersion],
        [moved, onMoved.cluster.resourceVersion],
        [moved, thenMoved.cluster.resourceVersion],
      ],
      'one event each: the batch appended none for the row that moved',
    );
  } finally {
    await other.end();
  }
});

pgTest('postgres: reports on one cluster in a batch are decided in order, each on the one before, and saved by the one statement with an event each, in order', async ({ store, statements }) => {
  const [id] = await reported(store, 1);
  const before = (await store.readOutboxSince(0, 100)).length;
  statements.length = 0;
  const [x, y, same, z] = await Promise.all(['x', 'y', 'y', 'z'].map((m) => store.reportStatus(id!, 'sim', report(m))));
  assert.deepEqual(statements, ['select', 'with']);
  assert.deepEqual([x, y, z].map((r) => r!.cluster.status.controllers[0]?.conditions[0]?.message), ['x', 'y', 'z']);
  assert.equal(same!.cluster.resourceVersion, y!.cluster.resourceVersion, 'a report that changed nothing answers with the state before it');
  const events = (await store.readOutboxSince(0, 100)).slice(before);
  assert.deepEqual(
    events.map((e) => [e.type, String(e.seq)]),
    [x, y, z].map((r) => ['cluster.status', r!.cluster.resourceVersion]),
  );
  const stored = await store.getCluster(id!);
  assert.equal(stored?.resourceVersion, z!.cluster.resourceVersion);
  assert.deepEqual(stored?.status, z!.cluster.status);
});

pgTest('postgres: in a batch, a report that is not a status-alone save, and those behind it on its cluster, follow the shared save in order', async ({ store, statements }) => {
  const [id] = await reported(store, 1);
  await store.registerController('other', { providers: ['sim'], required: true });
  await store.listControllers(); // the registry at its new version, held: the batch reads no registry
  statements.length = 0;
  const [x, hello, w] = await Promise.all([
    store.reportStatus(id!, 'sim', report('x')),
    store.reportStatus(id!, 'other', report('hello')),
    store.reportStatus(id!, 'sim', report('w')),
  ]);
  assert.deepEqual(statements, ['select', 'with', 'begin', 'select', 'with', 'commit', 'begin', 'select', 'with', 'commit']);
  assert.ok(Number(x.cluster.resourceVersion) < Number(hello.cluster.resourceVersion));
  assert.ok(Number(hello.cluster.resourceVersion) < Number(w.cluster.resourceVersion));
  const stored = await store.getCluster(id!);
  assert.deepEqual(stored?.finalizers, ['sim', 'other']);
  assert.deepEqual(
    stored?.status.controllers.map((c) => [c.name, c.conditions[0]?.message]).sort(),
    [
      ['other', 'hello'],
      ['sim', 'w'],
    ],
  );
});

pgTest("postgres: each report's event in a batch carries its own request's trace", async ({ store, statements }) => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  setTracingEnabled(true);
  try {
    const ids = await reported(store, 2);
    statements.length = 0;
    const traces = await Promise.all(
      ids.map((id) =>
        inSpan(`request ${id}`, {}, async () => {
          const result = await store.reportStatus(id, 'sim', report('traced'));
          return { seq: Number(result.cluster.resourceVersion) };
        }),
      ),
    );
    assert.deepEqual(statements, ['select', 'with'], 'one batch');
    const spans = exporter.getFinishedSpans();
    for (const { seq } of traces) {
      const [event] = await store.readOutboxSince(seq - 1, 1);
      const request = spans.find((s) => s.name === `request ${event?.clusterId}`);
      assert.ok(request && event?.traceparent, 'the event and its request were traced');
      assert.equal(event.traceparent.split('-')[1], request.spanContext().traceId);
    }
  } finally {
    setTracingEnabled(false);
    await provider.shutdown();
  }
});
