// The ClusterBackend contract (DESIGN §1: every adapter of a port passes one suite): the HTTP
// backend against a live `goman serve`, and the S3 backend against moto, run these same tests.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { ClusterBackend, WatchEvent } from '../../src/client/backend.ts';
import type { Cluster } from '../../src/domain/index.ts';
import { isGomanError, type ErrorCode } from '../../src/domain/index.ts';
import { eventually } from '../helpers/eventually.ts';

export interface BackendUnderTest {
  backend: ClusterBackend;
  /** The provider this backend's clusters run on (the S3 mode runs aws only). */
  provider: 'sim' | 'aws';
  cleanup(): Promise<void>;
}

const uname = (prefix: string): string => `${prefix}-${randomBytes(3).toString('hex')}`;

async function rejectsWith(p: Promise<unknown>, ...codes: ErrorCode[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => codes.some((code) => isGomanError(e, code)) || assert.fail(`expected ${codes.join(' or ')}, got ${String(e)}`));
}

export function backendContract(label: string, open: () => Promise<BackendUnderTest>): void {
  describe(`ClusterBackend contract: ${label}`, () => {
    let backend: ClusterBackend;
    let provider: 'sim' | 'aws';
    let opened: BackendUnderTest;
    before(async () => {
      opened = await open();
      ({ backend, provider } = opened);
    });
    after(async () => opened.cleanup());

    const create = (name: string, labels: Record<string, string> = {}): Promise<Cluster> => backend.create({ name, labels, spec: { provider } });

    test('create, then read by name and by id: the same cluster, with its version as ETag', async () => {
      const name = uname('read');
      const c = await create(name, { team: 'a' });
      assert.equal(c.name, name);
      assert.equal(c.generation, 1);
      assert.deepEqual(c.labels, { team: 'a' });
      const byName = await backend.get(name);
      const byId = await backend.get(c.id);
      assert.equal(byName.value.id, c.id);
      assert.equal(byId.value.name, name);
      assert.equal(byName.etag, `"${byName.value.resourceVersion}"`);
    });

    test('refusals: a taken name, an invalid name, a spec no provider could build, a missing cluster', async () => {
      const name = uname('taken');
      await create(name);
      await rejectsWith(create(name), 'NAME_TAKEN');
      await rejectsWith(create('Not_A_Name'), 'VALIDATION_FAILED');
      await rejectsWith(
        backend.create({ name: uname('adm'), spec: { provider, network: { podCIDR: '10.0.0.0/8', serviceCIDR: '10.43.0.0/16' } } }),
        'VALIDATION_FAILED',
      );
      await rejectsWith(backend.get(uname('absent')), 'NOT_FOUND');
      await rejectsWith(backend.get(randomUUID()), 'NOT_FOUND');
    });

    test('list filters by label selector and pages with a cursor, each cluster once', async () => {
      const tag = randomBytes(3).toString('hex');
      const names = await Promise.all([0, 1, 2, 3, 4].map(async (i) => (await create(uname(`list${i}`), { batch: tag })).name));
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await backend.list({ limit: 2, labelSelector: `batch=${tag}`, ...(cursor ? { cursor } : {}) });
        assert.ok(page.items.length <= 2);
        seen.push(...page.items.map((c) => c.name));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      assert.deepEqual([...seen].sort(), [...names].sort());
    });

    test('patch: labels merge, a spec change bumps generation, labels alone do not; a stale If-Match is refused', async () => {
      const c = await create(uname('patch'), { a: '1' });
      const v1 = await backend.get(c.id);
      const relabelled = await backend.patch(c.id, { labels: { b: '2' } });
      assert.deepEqual(relabelled.labels, { a: '1', b: '2' });
      assert.equal(relabelled.generation, 1);
      const scaled = await backend.patch(c.name, { spec: { nodePools: [{ name: 'workers', count: 2 }] } });
      assert.equal(scaled.generation, 2);
      assert.deepEqual(scaled.spec.nodePools, [{ name: 'workers', count: 2 }]);
      await rejectsWith(backend.patch(c.name, { labels: { c: '3' } }, v1.etag), 'PRECONDITION_FAILED');
      const now = await backend.get(c.name);
      assert.deepEqual(now.value.labels, { a: '1', b: '2' }, 'the refused patch changed nothing');
      assert.ok((await backend.patch(c.name, { labels: { c: '3' } }, now.etag)).labels.c === '3', 'a current If-Match applies');
    });

    test('20 concurrent patches without If-Match all apply', async () => {
      const c = await create(uname('many'));
      const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
      await Promise.all(keys.map((k) => backend.patch(c.name, { labels: { [k]: 'v' } })));
      assert.deepEqual(Object.keys((await backend.get(c.name)).value.labels).sort(), [...keys].sort());
    });

    test('replace sets the whole spec; a stale If-Match is refused', async () => {
      const c = await create(uname('put'));
      const v1 = await backend.get(c.name);
      const replaced = await backend.replace(c.name, { spec: { provider, mode: 'ha' } }, v1.etag);
      assert.equal(replaced.spec.mode, 'ha');
      assert.equal(replaced.generation, 2);
      await rejectsWith(backend.replace(c.name, { spec: { provider } }, v1.etag), 'PRECONDITION_FAILED');
    });

    test('delete starts deletion, is idempotent, and a deleting cluster cannot be edited', async () => {
      const c = await create(uname('del'));
      await backend.delete(c.name);
      await backend.delete(c.name).catch((e: unknown) => assert.ok(isGomanError(e, 'NOT_FOUND'), `a second delete: ${String(e)}`));
      const after = await backend.get(c.name).then(
        (v) => v.value,
        (e: unknown) => {
          if (isGomanError(e, 'NOT_FOUND')) return null;
          throw e;
        },
      );
      if (after) {
        assert.ok(after.deletionTimestamp, 'still there only while deleting');
        await rejectsWith(backend.patch(c.name, { labels: { x: 'y' } }), 'CONFLICT', 'NOT_FOUND');
      }
    });

    test('events list the creation', async () => {
      const c = await create(uname('hist'));
      const page = await backend.events(c.name);
      assert.ok(page.items.some((h) => h.kind === 'created' && h.clusterId === c.id), JSON.stringify(page.items));
    });

    test('watch says it is connected, then shows a new cluster and its change', async () => {
      const stop = new AbortController();
      const events: WatchEvent[] = [];
      const reading = (async () => {
        for await (const e of backend.watch(stop.signal)) events.push(e);
      })();
      try {
        await eventually('connected', () => events.some((e) => e.type === 'connected'), { timeoutMs: 15_000 });
        const c = await create(uname('watch'));
        await eventually('the new cluster', () => events.some((e) => e.type === 'upsert' && e.cluster.id === c.id), { timeoutMs: 15_000 });
        await backend.patch(c.name, { labels: { seen: 'yes' } });
        await eventually('its change', () => events.some((e) => e.type === 'upsert' && e.cluster.id === c.id && e.cluster.labels.seen === 'yes'), {
          timeoutMs: 15_000,
        });
      } finally {
        stop.abort();
        await reading;
      }
    });
  });
}
