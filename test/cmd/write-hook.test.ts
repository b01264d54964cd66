// The relay wake-up: every store write that appends to the outbox wakes it once, after the
// write resolves; reads never do. Real SQLite store (no mock).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { afterWrites } from '../../src/cmd/write-hook.ts';
import { clusterSpecSchema } from '../../src/domain/index.ts';
import { openStore } from '../../src/store/open.ts';

/** A real SQLite store behind the wake-up hook, removed after the test; `wakes()` counts wake-ups. */
async function hookedStore(t: TestContext): Promise<{ store: ReturnType<typeof afterWrites>; wakes: () => number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'goman-write-hook-'));
  const raw = await openStore({ dataDir: dir });
  t.after(async () => {
    await raw.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let wakes = 0;
  return { store: afterWrites(raw, () => wakes++), wakes: () => wakes };
}

test('writes that append to the outbox wake the relay once each; reads and other writes do not', async (t) => {
  const { store, wakes } = await hookedStore(t);
  assert.equal(store.kind, 'sqlite');

  const created = await store.createCluster({ name: 'a', labels: {}, spec: clusterSpecSchema.parse({}), createdBy: 'alice' });
  assert.equal(wakes(), 1);
  await store.getCluster(created.id);
  await store.listClusters({ limit: 10 });
  await store.readUnsentOutbox(10);
  await store.putProviderState('sim', created.id, { n: 1 });
  assert.equal(wakes(), 1, 'reads and provider state do not touch the outbox');

  await store.updateCluster(created.id, { labels: { team: 'a' } });
  await store.enqueueReconcile([created.id]);
  await store.deleteCluster(created.id);
  assert.equal(wakes(), 4);
});

test('a failed write does not wake the relay', async (t) => {
  const { store, wakes } = await hookedStore(t);
  await assert.rejects(store.updateCluster('no-such-id', { labels: {} }));
  assert.equal(wakes(), 0);
});
