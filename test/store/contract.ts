// The ClusterStore contract: every adapter runs this suite (DESIGN §1). It pins the CLS
// Backend defects (prior-art-defects.md) with real concurrency against the real database.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  clusterSpecSchema,
  isGomanError,
  MAX_METADATA_BYTES,
  readyCondition,
  type Cluster,
  type ClusterSpec,
  type ControllerReport,
  type ErrorCode,
  type Phase,
} from '../../src/domain/index.ts';
import { leaseName } from '../../src/lease/port.ts';
import type { ClusterStore, OutboxRow } from '../../src/store/port.ts';
import { mergePatchChange, storeTarget, updateWithRetry } from '../../src/usecases/update-cluster.ts';
import { eventually } from '../helpers/eventually.ts';

export type OpenStore = () => Promise<{ store: ClusterStore; cleanup: () => Promise<void> }>;

const uid = (): string => randomBytes(4).toString('hex');
const uname = (prefix = 'c'): string => `${prefix}-${uid()}`;

// Each test acts for its own provider name, so the controllers other tests register never join
// its required set (the registry is global to a store). The store treats provider as opaque.
function spec(provider: string, over: Partial<ClusterSpec> = {}): ClusterSpec {
  return { ...clusterSpecSchema.parse({}), ...over, provider: provider as ClusterSpec['provider'] };
}

function report(generation: number, ready: 'True' | 'False' | 'Unknown', extra: Partial<ControllerReport> = {}): ControllerReport {
  return { observedGeneration: generation, conditions: [{ type: 'Ready', status: ready, reason: '', message: '' }], ...extra };
}

async function rejectsWith(p: Promise<unknown>, code: ErrorCode): Promise<unknown> {
  let caught: unknown;
  await p.then(
    () => assert.fail(`expected ${code}, but it succeeded`),
    (e: unknown) => {
      caught = e;
    },
  );
  assert.ok(isGomanError(caught, code), `expected ${code}, got ${String(caught)}`);
  return caught;
}

export function storeContract(label: string, open: OpenStore): void {
  describe(`ClusterStore contract: ${label}`, () => {
    let store: ClusterStore;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await open());
    });
    after(async () => {
      await cleanup();
    });

    const outboxAfter = (seq: number | string): Promise<OutboxRow[]> => store.readOutboxSince(Number(seq), 10_000);
    const lastSeq = async (): Promise<number> => {
      const rows = await store.readOutboxSince(0, 1_000_000);
      return rows.at(-1)?.seq ?? 0;
    };
    /** A provider with `names` registered as its required controllers. */
    async function providerWith(...names: string[]): Promise<string> {
      const provider = `p${uid()}`;
      for (const n of names) await store.registerController(n, { providers: [provider], required: true });
      return provider;
    }
    const create = (provider: string, over: Partial<ClusterSpec> = {}, extra: { labels?: Record<string, string>; createdBy?: string } = {}) =>
      store.createCluster({ name: uname(), labels: extra.labels ?? {}, spec: spec(provider, over), createdBy: extra.createdBy ?? 'alice' });

    describe('create and read', () => {
      test('a new cluster has generation 1, no finalizers, and one cluster.created row as its resourceVersion', async () => {
        const before = await lastSeq();
        const c = await create(`p${uid()}`, {}, { labels: { team: 'a' } });
        assert.equal(c.generation, 1);
        assert.deepEqual(c.finalizers, []);
        assert.equal(c.status.phase, 'Pending');
        assert.equal(c.status.reason, 'NoControllers');
        assert.match(c.id, /^[0-9a-f-]{36}$/);
        assert.match(c.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        const rows = await outboxAfter(before);
        assert.deepEqual(
          rows.map((r) => [r.type, r.clusterId, r.name, r.generation]),
          [['cluster.created', c.id, c.name, 1]],
        );
        assert.equal(c.resourceVersion, String(rows[0]?.seq));
        const history = await store.listHistory(c.id, 10);
        assert.deepEqual(history.items.map((h) => h.kind), ['created']);
      });

      test('a taken name is NAME_TAKEN and the failed create appends nothing', async () => {
        const c = await create(`p${uid()}`);
        const before = await lastSeq();
        await rejectsWith(store.createCluster({ name: c.name, labels: {}, spec: spec('sim'), createdBy: 'bob' }), 'NAME_TAKEN');
        assert.deepEqual(await outboxAfter(before), []);
        assert.equal((await store.getCluster(c.name))?.createdBy, 'alice');
      });

      test('concurrent creates of one name: exactly one wins', async () => {
        const name = uname();
        const results = await Promise.allSettled(
          Array.from({ length: 5 }, () => store.createCluster({ name, labels: {}, spec: spec('sim'), createdBy: 'alice' })),
        );
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        for (const r of results) if (r.status === 'rejected') assert.ok(isGomanError(r.reason, 'NAME_TAKEN'));
      });

      test('get by id or by name; an owner sees only their own clusters', async () => {
        const c = await create(`p${uid()}`, {}, { createdBy: 'carol' });
        assert.equal((await store.getCluster(c.id))?.name, c.name);
        assert.equal((await store.getCluster(c.name))?.id, c.id);
        assert.equal((await store.getCluster(c.id, 'carol'))?.id, c.id);
        assert.equal(await store.getCluster(c.id, 'mallory'), null);
        assert.equal(await store.getCluster('no-such-cluster'), null);
        // A name may be shaped like a UUID: it is found by name once no id matches.
        const name = `abcdef01-2345-4abc-8def-${uid().padStart(12, '0')}`;
        const shaped = await store.createCluster({ name, labels: {}, spec: spec(`p${uid()}`), createdBy: 'alice' });
        assert.equal((await store.getCluster(shaped.name))?.id, shaped.id);
      });

      test('reads never write: get and list leave resourceVersion and the outbox untouched', async () => {
        const provider = await providerWith(`ctl-${uid()}`);
        const c = await create(provider);
        const before = await lastSeq();
        await store.getCluster(c.id);
        await store.getCluster(c.name);
        await store.listClusters({ limit: 10, provider });
        await store.listHistory(c.id, 10);
        await store.countClusters();
        assert.deepEqual(await outboxAfter(before), []);
        assert.equal((await store.getCluster(c.id))?.resourceVersion, c.resourceVersion);
      });
    });

    describe('list', () => {
      test('an empty result is items [] and nextCursor null', async () => {
        assert.deepEqual(await store.listClusters({ limit: 10, provider: `p${uid()}` }), { items: [], nextCursor: null });
      });

      test('keyset pages visit every cluster once, in creation order', async () => {
        const provider = `p${uid()}`;
        const made: string[] = [];
        for (let i = 0; i < 5; i++) made.push((await create(provider)).id);
        const seen: string[] = [];
        let cursor: string | undefined;
        for (;;) {
          const page = await store.listClusters({ limit: 2, provider, cursor });
          assert.ok(page.items.length <= 2);
          seen.push(...page.items.map((c) => c.id));
          if (!page.nextCursor) break;
          cursor = page.nextCursor;
        }
        assert.deepEqual(seen, made);
      });

      test('a malformed cursor is VALIDATION_FAILED on `cursor`', async () => {
        for (const cursor of ['!!!', Buffer.from('{"a":1}').toString('base64url'), Buffer.from('["x","y"]').toString('base64url')]) {
          const e = await rejectsWith(store.listClusters({ limit: 2, cursor }), 'VALIDATION_FAILED');
          assert.deepEqual((e as { errors?: { path: string }[] }).errors?.map((x) => x.path), ['cursor']);
        }
      });

      test('lists clusters in creation order even when they share a millisecond', async (t) => {
        // Freeze the clock so every create gets the same createdAt: the order must come from the id.
        t.mock.timers.enable({ apis: ['Date'], now: Date.parse('2026-11-29T12:00:00.000Z') });
        const provider = `p${uid()}`;
        const made: string[] = [];
        for (let i = 0; i < 12; i++) made.push((await create(provider)).id);
        t.mock.timers.reset();
        const listed = (await store.listClusters({ limit: 50, provider })).items.map((x) => x.id);
        assert.deepEqual(listed, made);
      });

      test('filters by phase, owner and label selector in the query, so pages stay full', async () => {
        const ctl = `ctl-${uid()}`;
        const provider = await providerWith(ctl);
        const a = await create(provider, {}, { labels: { env: 'prod', tier: 'web' }, createdBy: 'dana' });
        const b = await create(provider, {}, { labels: { env: 'dev' }, createdBy: 'dana' });
        const c = await create(provider, {}, { labels: {}, createdBy: 'erin' });
        await store.reportStatus(a.id, ctl, report(1, 'True'));
        const ids = async (q: Parameters<ClusterStore['listClusters']>[0]): Promise<string[]> =>
          (await store.listClusters({ ...q, provider })).items.map((x) => x.id);
        assert.deepEqual(await ids({ limit: 10, phase: 'Ready' }), [a.id]);
        assert.deepEqual(await ids({ limit: 10, phase: 'Pending' }), [b.id, c.id]);
        assert.deepEqual(await ids({ limit: 10, owner: 'dana' }), [a.id, b.id]);
        assert.deepEqual(await ids({ limit: 10, labelSelector: [{ key: 'env', op: '=', value: 'prod' }] }), [a.id]);
        assert.deepEqual(await ids({ limit: 10, labelSelector: [{ key: 'env', op: '!=', value: 'prod' }] }), [b.id, c.id]);
        assert.deepEqual(await ids({ limit: 10, labelSelector: [{ key: 'env', op: 'exists' }] }), [a.id, b.id]);
        assert.deepEqual(await ids({ limit: 10, labelSelector: [{ key: 'env', op: '!exists' }] }), [c.id]);
        assert.deepEqual(
          await ids({ limit: 10, labelSelector: [{ key: 'env', op: 'exists' }, { key: 'tier', op: '!exists' }] }),
          [b.id],
        );
        // Filtering happens before LIMIT: one match per page, not an empty first page.
        const first = await store.listClusters({ limit: 1, provider, labelSelector: [{ key: 'env', op: 'exists' }] });
        assert.deepEqual(first.items.map((x) => x.id), [a.id]);
        assert.ok(first.nextCursor);
        const second = await store.listClusters({ limit: 1, provider, cursor: first.nextCursor, labelSelector: [{ key: 'env', op: 'exists' }] });
        assert.deepEqual(second.items.map((x) => x.id), [b.id]);
      });
    });

    describe('update', () => {
      test('a no-op spec update keeps generation and resourceVersion and appends nothing', async () => {
        const c = await create(`p${uid()}`);
        const before = await lastSeq();
        const same = await store.updateCluster(c.id, { spec: structuredClone(c.spec), labels: { ...c.labels } });
        assert.equal(same.generation, 1);
        assert.equal(same.resourceVersion, c.resourceVersion);
        assert.deepEqual(await outboxAfter(before), []);
      });

      test('a spec change bumps generation once; labels alone never do', async () => {
        const c = await create(`p${uid()}`);
        const scaled = await store.updateCluster(c.id, { spec: { ...c.spec, nodePools: [{ name: 'workers', count: 3 }] } });
        assert.equal(scaled.generation, 2);
        assert.notEqual(scaled.resourceVersion, c.resourceVersion);
        const relabelled = await store.updateCluster(c.id, { labels: { team: 'x' } });
        assert.equal(relabelled.generation, 2);
        assert.deepEqual(relabelled.labels, { team: 'x' });
        const rows = await outboxAfter(c.resourceVersion);
        assert.deepEqual(rows.map((r) => r.type), ['cluster.updated', 'cluster.updated']);
        assert.equal(relabelled.resourceVersion, String(rows[1]?.seq));
        const history = await store.listHistory(c.id, 10);
        assert.deepEqual(history.items.map((h) => h.kind), ['labels', 'spec', 'created']);
        assert.deepEqual(history.items[1]?.data, { fromGeneration: 1, toGeneration: 2 });
      });

      test('If-Match: a mismatch is PRECONDITION_FAILED and changes nothing; quoted or bare matches', async () => {
        const c = await create(`p${uid()}`);
        const before = await lastSeq();
        await rejectsWith(store.updateCluster(c.id, { labels: { a: 'b' }, ifMatch: '"999999999"' }), 'PRECONDITION_FAILED');
        assert.deepEqual(await outboxAfter(before), []);
        assert.deepEqual((await store.getCluster(c.id))?.labels, {});
        const quoted = await store.updateCluster(c.id, { labels: { a: 'b' }, ifMatch: `"${c.resourceVersion}"` });
        const bare = await store.updateCluster(c.id, { labels: { a: 'c' }, ifMatch: quoted.resourceVersion });
        assert.deepEqual(bare.labels, { a: 'c' });
        await rejectsWith(store.updateCluster(c.id, { labels: { a: 'd' }, ifMatch: c.resourceVersion }), 'PRECONDITION_FAILED');
      });

      test('20 concurrent merge patches without If-Match all apply: every label is there', async () => {
        const c = await create(`p${uid()}`);
        const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
        await Promise.all(keys.map((k) => updateWithRetry(storeTarget(store, c.id), mergePatchChange({ labels: { [k]: 'v' } }))));
        const after = await store.getCluster(c.id);
        assert.deepEqual(Object.keys(after?.labels ?? {}).sort(), [...keys].sort());
      });

      test('a merge patch with a stale If-Match is PRECONDITION_FAILED, never retried', async () => {
        const c = await create(`p${uid()}`);
        await store.updateCluster(c.id, { labels: { moved: 'on' } });
        await rejectsWith(updateWithRetry(storeTarget(store, c.id), mergePatchChange({ labels: { a: 'b' } }), { ifMatch: c.resourceVersion }), 'PRECONDITION_FAILED');
        assert.deepEqual((await store.getCluster(c.id))?.labels, { moved: 'on' });
      });

      test('updating a missing cluster is NOT_FOUND', async () => {
        await rejectsWith(store.updateCluster('00000000-0000-4000-8000-000000000000', { labels: {} }), 'NOT_FOUND');
      });
    });

    describe('delete', () => {
      test('with no finalizers the row goes at once, with cluster.deleting and cluster.deleted', async () => {
        const c = await create(`p${uid()}`);
        assert.equal(await store.deleteCluster(c.id), null);
        assert.equal(await store.getCluster(c.id), null);
        assert.deepEqual((await outboxAfter(c.resourceVersion)).map((r) => r.type), ['cluster.deleting', 'cluster.deleted']);
        assert.equal(await store.deleteCluster(c.id), null, 'deleting again is a no-op');
      });

      test('a deleting cluster keeps its name taken, refuses updates, and frees the name when the row goes', async () => {
        const ctl = `ctl-${uid()}`;
        const provider = await providerWith(ctl);
        const c = await create(provider);
        await store.reportStatus(c.id, ctl, report(1, 'True'));
        const deleting = await store.deleteCluster(c.id);
        assert.ok(deleting?.deletionTimestamp);
        assert.equal(deleting.status.phase, 'Deleting');
        assert.deepEqual(deleting.finalizers, [ctl]);
        const again = await store.deleteCluster(c.id);
        assert.equal(again?.deletionTimestamp, deleting.deletionTimestamp, 'deletionTimestamp is set once');
        assert.equal(again?.resourceVersion, deleting.resourceVersion);

        const before = await lastSeq();
        await rejectsWith(store.updateCluster(c.id, { spec: { ...c.spec, mode: 'ha' } }), 'CONFLICT');
        await rejectsWith(store.createCluster({ name: c.name, labels: {}, spec: spec(provider), createdBy: 'bob' }), 'NAME_TAKEN');
        assert.deepEqual(await outboxAfter(before), []);
        const still = await store.getCluster(c.id);
        assert.equal(still?.deletionTimestamp, deleting.deletionTimestamp, 'the refused edit did not cancel the delete');
        assert.equal(still?.generation, 1);

        await store.putProviderState('sim', c.id, { instances: 1 });
        assert.equal(await store.removeFinalizer(c.id, ctl), null);
        assert.equal(await store.getCluster(c.id), null);
        assert.equal(await store.getProviderState('sim', c.id), null);
        assert.deepEqual((await outboxAfter(before)).map((r) => r.type), ['cluster.deleted']);
        const reborn = await store.createCluster({ name: c.name, labels: {}, spec: spec(provider), createdBy: 'bob' });
        assert.notEqual(reborn.id, c.id);
      });

      test('delete honours If-Match', async () => {
        const c = await create(`p${uid()}`);
        await rejectsWith(store.deleteCluster(c.id, '"1"'), 'PRECONDITION_FAILED');
        assert.ok(await store.getCluster(c.id));
        assert.equal(await store.deleteCluster(c.id, `"${c.resourceVersion}"`), null);
      });
    });

    describe('status reports', () => {
      test('25 concurrent reports from 25 required controllers are all reflected', async () => {
        const names = Array.from({ length: 25 }, (_, i) => `ctl${String(i).padStart(2, '0')}-${uid()}`);
        const provider = await providerWith(...names);
        const c = await create(provider);
        const results = await Promise.all(names.map((n) => store.reportStatus(c.id, n, report(1, 'True'))));
        assert.ok(results.every((r) => r.ignored === undefined));
        const got = await store.getCluster(c.id);
        assert.ok(got);
        assert.deepEqual(got.status.controllers.map((x) => x.name), [...names].sort());
        assert.deepEqual([...got.finalizers].sort(), [...names].sort());
        assert.equal(got.status.phase, 'Ready');
        assert.equal(got.status.observedGeneration, 1);
      });

      test('one ready controller of two required does not make the cluster Ready', async () => {
        const [fast, slow] = [`fast-${uid()}`, `slow-${uid()}`];
        const provider = await providerWith(fast, slow);
        const c = await create(provider);
        const { cluster } = await store.reportStatus(c.id, fast, report(1, 'True'));
        assert.notEqual(cluster.status.phase, 'Ready');
        const ready = readyCondition(cluster.status);
        assert.equal(ready?.status, 'False');
        assert.match(ready?.message ?? '', new RegExp(slow));
        assert.doesNotMatch(ready?.message ?? '', new RegExp(fast));
      });

      test('a stale report is ignored and never regresses; a future one is CONFLICT', async () => {
        const ctl = `ctl-${uid()}`;
        const provider = await providerWith(ctl);
        const c = await create(provider);
        await store.reportStatus(c.id, ctl, report(1, 'True'));
        const v2 = await store.updateCluster(c.id, { spec: { ...c.spec, mode: 'ha' } });
        const r2 = await store.reportStatus(c.id, ctl, report(2, 'True'));
        assert.equal(r2.cluster.status.observedGeneration, 2);
        const before = await lastSeq();
        const stale = await store.reportStatus(c.id, ctl, report(1, 'False'));
        assert.equal(stale.ignored, 'stale');
        assert.deepEqual(await outboxAfter(before), []);
        const after1 = await store.getCluster(c.id);
        assert.equal(after1?.status.observedGeneration, 2);
        assert.equal(after1?.status.phase, 'Ready');
        assert.equal(after1?.status.controllers[0]?.observedGeneration, 2);
        await rejectsWith(store.reportStatus(c.id, ctl, report(v2.generation + 1, 'True')), 'CONFLICT');
        assert.deepEqual(await outboxAfter(before), []);
        await rejectsWith(store.reportStatus('00000000-0000-4000-8000-000000000000', ctl, report(1, 'True')), 'NOT_FOUND');
      });

      test('a repeated identical report keeps the controller record fresh but emits no event', async () => {
        const ctl = `ctl-${uid()}`;
        const provider = await providerWith(ctl);
        const c = await create(provider);
        const first = await store.reportStatus(c.id, ctl, report(1, 'False'));
        const events = (await outboxAfter(c.resourceVersion)).map((r) => r.type);
        assert.deepEqual(events, ['cluster.status']);
        const second = await store.reportStatus(c.id, ctl, report(1, 'False'));
        assert.equal(second.cluster.resourceVersion, first.cluster.resourceVersion);
        assert.deepEqual(await outboxAfter(first.cluster.resourceVersion), []);
      });

      test('a new or changed lastError is recorded in history once', async () => {
        const ctl = `ctl-${uid()}`;
        const provider = await providerWith(ctl);
        const c = await create(provider);
        const err = { code: 'CapacityError', message: 'no capacity', retryable: true };
        await store.reportStatus(c.id, ctl, report(1, 'False', { lastError: err }));
        await store.reportStatus(c.id, ctl, report(1, 'False', { lastError: err }));
        await store.reportStatus(c.id, ctl, report(1, 'False', { lastError: { ...err, message: 'still none' } }));
        const errors = (await store.listHistory(c.id, 50)).items.filter((h) => h.kind === 'error');
        assert.deepEqual(errors.map((h) => h.message), [`${ctl}: CapacityError: still none`, `${ctl}: CapacityError: no capacity`]);
      });

      test('a controller that first reports on a deleting cluster adds no finalizer', async () => {
        const [a, b] = [`a-${uid()}`, `b-${uid()}`];
        const provider = await providerWith(a, b);
        const c = await create(provider);
        await store.reportStatus(c.id, a, report(1, 'True'));
        await store.deleteCluster(c.id);
        const { cluster } = await store.reportStatus(c.id, b, report(1, 'False'));
        assert.deepEqual(cluster.finalizers, [a]);
        assert.equal(cluster.status.phase, 'Deleting');
      });

      test('re-registering keeps registeredAt and moves lastHeartbeat', async () => {
        const name = `ctl-${uid()}`;
        const first = await store.registerController(name, { providers: ['sim'], required: false });
        // A heartbeat in a later millisecond moves lastHeartbeat (one in the same one may not).
        const second = await eventually('a later heartbeat', async () => {
          const again = await store.registerController(name, { providers: ['sim', 'aws'], required: false });
          return again.lastHeartbeat > first.lastHeartbeat ? again : undefined;
        });
        assert.equal(second.registeredAt, first.registeredAt);
        assert.deepEqual(second.providers, ['sim', 'aws']);
        const listed = (await store.listControllers()).find((c) => c.name === name);
        assert.deepEqual(listed?.providers, ['sim', 'aws']);
        assert.equal(listed?.required, false);
      });
    });

    describe('phases through the store', () => {
      type Step = (c: Cluster, ctl: string) => Promise<Cluster | null>;
      const reportAs =
        (r: ControllerReport): Step =>
        async (c, ctl) =>
          (await store.reportStatus(c.id, ctl, r)).cluster;
      const cases: { name: string; controllers: number; over?: Partial<ClusterSpec>; steps: Step[]; phase: Phase; history?: string }[] = [
        { name: 'Pending with no controllers', controllers: 0, steps: [], phase: 'Pending' },
        { name: 'Pending before any report', controllers: 1, steps: [], phase: 'Pending' },
        { name: 'Provisioning once a controller reports', controllers: 1, steps: [reportAs(report(1, 'False'))], phase: 'Provisioning', history: 'Pending -> Provisioning' },
        { name: 'Ready when every required controller is ready', controllers: 1, steps: [reportAs(report(1, 'True'))], phase: 'Ready', history: 'Pending -> Ready' },
        {
          name: 'Updating after a spec change',
          controllers: 1,
          steps: [reportAs(report(1, 'True')), (c) => store.updateCluster(c.id, { spec: { ...c.spec, mode: 'ha' } })],
          phase: 'Updating',
          history: 'Ready -> Updating',
        },
        { name: 'Stopping while instances stop', controllers: 1, over: { desiredState: 'stopped' }, steps: [reportAs(report(1, 'False'))], phase: 'Stopping' },
        { name: 'Stopped once they have', controllers: 1, over: { desiredState: 'stopped' }, steps: [reportAs(report(1, 'True'))], phase: 'Stopped' },
        {
          name: 'Failed on a non-retryable lastError',
          controllers: 1,
          steps: [reportAs(report(1, 'False', { lastError: { code: 'InvalidAmi', message: 'bad image', retryable: false } }))],
          phase: 'Failed',
        },
        { name: 'Deleting while a finalizer remains', controllers: 1, steps: [reportAs(report(1, 'True')), (c) => store.deleteCluster(c.id)], phase: 'Deleting', history: 'Ready -> Deleting' },
      ];
      for (const tc of cases) {
        test(tc.name, async () => {
          const names = Array.from({ length: tc.controllers }, () => `ctl-${uid()}`);
          const provider = await providerWith(...names);
          let c: Cluster | null = await create(provider, tc.over ?? {});
          for (const step of tc.steps) {
            assert.ok(c);
            c = await step(c, names[0] ?? '');
          }
          assert.ok(c);
          const stored = await store.getCluster(c.id);
          assert.equal(stored?.status.phase, tc.phase);
          assert.deepEqual(stored, c, 'what the write returned is what a read sees');
          if (tc.history) {
            const phases = (await store.listHistory(c.id, 50)).items.filter((h) => h.kind === 'phase');
            assert.equal(phases[0]?.message, tc.history);
          }
        });
      }
    });

    describe('history', () => {
      test('newest first, paged by cursor', async () => {
        const c = await create(`p${uid()}`);
        for (let i = 0; i < 4; i++) await store.updateCluster(c.id, { labels: { n: String(i) } });
        const first = await store.listHistory(c.id, 3);
        assert.equal(first.items.length, 3);
        assert.ok(first.nextCursor);
        const second = await store.listHistory(c.id, 3, first.nextCursor);
        const all = [...first.items, ...second.items];
        assert.deepEqual(all.map((h) => h.kind), ['labels', 'labels', 'labels', 'labels', 'created']);
        assert.equal(second.nextCursor, null);
        const ids = all.map((h) => Number(h.id));
        assert.deepEqual(ids, [...ids].sort((a, b) => b - a));
        await rejectsWith(store.listHistory(c.id, 3, 'nope'), 'VALIDATION_FAILED');
      });
    });

    describe('outbox', () => {
      test('unsent rows in order, marked sent, still readable for watch resume, pruned when old', async () => {
        const drain = async (): Promise<void> => {
          for (let rows = await store.readUnsentOutbox(500); rows.length; rows = await store.readUnsentOutbox(500)) {
            await store.markOutboxSent(rows.map((r) => r.seq));
          }
        };
        await drain();
        const c = await create(`p${uid()}`);
        await store.updateCluster(c.id, { labels: { a: 'b' } });
        const unsent = await store.readUnsentOutbox(100);
        assert.deepEqual(unsent.map((r) => r.type), ['cluster.created', 'cluster.updated']);
        assert.ok((unsent[0]?.seq ?? 0) < (unsent[1]?.seq ?? 0));
        assert.match(unsent[0]?.eventId ?? '', /^[0-9a-f-]{36}$/);
        assert.equal(unsent[0]?.provider, c.spec.provider);
        // The relay leaves out rows whose mark is still in flight, and the limit counts only the rest.
        assert.deepEqual(
          (await store.readUnsentOutbox(1, [unsent[0]?.seq ?? 0])).map((r) => r.seq),
          [unsent[1]?.seq],
        );
        assert.deepEqual(await store.readUnsentOutbox(100, unsent.map((r) => r.seq)), []);
        await store.markOutboxSent(unsent.map((r) => r.seq));
        assert.deepEqual(await store.readUnsentOutbox(100), []);
        assert.deepEqual((await outboxAfter(Number(c.resourceVersion) - 1)).map((r) => r.type), ['cluster.created', 'cluster.updated']);

        assert.equal(await store.pruneOutbox(new Date(Date.now() - 60_000)), 0, 'recent rows stay');
        const pruned = await store.pruneOutbox(new Date(Date.now() + 60_000));
        assert.ok(pruned >= 1);
        const oldest = await store.oldestRetainedSeq();
        assert.equal(oldest, unsent[1]?.seq, 'the newest row is always retained');
      });

      test('enqueueReconcile appends cluster.reconcile rows without touching resourceVersion', async () => {
        const c = await create(`p${uid()}`);
        const n = await store.enqueueReconcile([c.id, c.id, '00000000-0000-4000-8000-000000000000']);
        assert.equal(n, 1);
        const rows = await outboxAfter(c.resourceVersion);
        assert.deepEqual(rows.map((r) => [r.type, r.clusterId]), [['cluster.reconcile', c.id]]);
        assert.equal((await store.getCluster(c.id))?.resourceVersion, c.resourceVersion);
      });

      test('countClusters groups by phase and provider', async () => {
        const ctl = `ctl-${uid()}`;
        const provider = await providerWith(ctl);
        const a = await create(provider);
        await create(provider);
        await store.reportStatus(a.id, ctl, report(1, 'True'));
        const counts = (await store.countClusters()).filter((r) => r.provider === provider);
        assert.deepEqual(counts, [
          { phase: 'Pending', provider, count: 1 },
          { phase: 'Ready', provider, count: 1 },
        ]);
      });
    });

    describe('scheduler claims', () => {
      test('two concurrent claimers never get the same row, and together get every due row', async () => {
        const provider = `p${uid()}`;
        const mine = new Set<string>();
        for (let i = 0; i < 40; i++) mine.add((await create(provider)).id);
        const now = new Date(Date.now() + 3_600_000);
        const intervals = { activeMs: 3_600_000, stableMs: 7_200_000 };
        const claimer = async (): Promise<string[]> => {
          const got: string[] = [];
          for (let batch = await store.claimDueClusters(now, 7, intervals); batch.length; batch = await store.claimDueClusters(now, 7, intervals)) {
            got.push(...batch);
          }
          return got;
        };
        const [x, y] = await Promise.all([claimer(), claimer()]);
        const all = [...x, ...y];
        assert.equal(new Set(all).size, all.length, 'no row handed out twice');
        for (const id of mine) assert.ok(all.includes(id), `cluster ${id} was claimed`);
        assert.deepEqual(await store.claimDueClusters(now, 100, intervals), [], 'claimed rows moved forward');
        // Young clusters need attention: they come due after the active interval, not the stable one.
        const later = await store.claimDueClusters(new Date(now.getTime() + intervals.activeMs + 1), 1000, intervals);
        for (const id of mine) assert.ok(later.includes(id));
      });
    });

    describe('scheduler attention', () => {
      test('an old cluster comes due at the stable interval once Ready at its generation, and at the active one when not', async () => {
        const ctl = `att-${uid()}`;
        const provider = await providerWith(ctl);
        const settled = await create(provider);
        await store.reportStatus(settled.id, ctl, report(1, 'True'));
        const pending = await create(provider);
        const changed = await create(provider);
        await store.reportStatus(changed.id, ctl, report(1, 'True'));
        await store.updateCluster(changed.id, { spec: spec(provider, { nodePools: [{ name: 'more', count: 2, labels: {}, taints: [] }] }) });
        const mine = [settled.id, pending.id, changed.id];
        // Three hours on, none of them is young any more.
        const now = new Date(Date.now() + 3 * 3_600_000);
        const intervals = { activeMs: 3_600_000, stableMs: 10 * 3_600_000 };
        const claimed: string[] = [];
        for (let batch = await store.claimDueClusters(now, 500, intervals); batch.length; batch = await store.claimDueClusters(now, 500, intervals)) claimed.push(...batch);
        for (const id of mine) assert.ok(claimed.includes(id), `${id} was due`);
        const again = await store.claimDueClusters(new Date(now.getTime() + intervals.activeMs + 1), 10_000, intervals);
        assert.deepEqual(mine.filter((id) => again.includes(id)), [pending.id, changed.id], 'Pending, and a spec not yet observed, need attention; Ready at its generation does not');
      });

      test('a write reschedules its cluster only when it changes what the scheduler reads; a report that restates progress leaves the cadence alone', async () => {
        const ctl = `cad-${uid()}`;
        const provider = await providerWith(ctl);
        const c = await create(provider);
        await store.reportStatus(c.id, ctl, report(1, 'True'));
        const intervals = { activeMs: 3_600_000, stableMs: 10 * 3_600_000 };
        const claimAll = async (now: Date): Promise<string[]> => {
          const claimed: string[] = [];
          for (let batch = await store.claimDueClusters(now, 500, intervals); batch.length; batch = await store.claimDueClusters(now, 500, intervals)) claimed.push(...batch);
          return claimed;
        };
        // Three hours on it is old and settled: claimed, and next due at the stable interval.
        assert.ok((await claimAll(new Date(Date.now() + 3 * 3_600_000))).includes(c.id));
        // A report that changes only a message is saved, and the cluster is still not due an hour later.
        const progress = await store.reportStatus(c.id, ctl, report(1, 'True', { conditions: [{ type: 'Ready', status: 'True', reason: 'Up', message: 'still up' }] }));
        assert.notEqual(progress.cluster.resourceVersion, c.resourceVersion);
        assert.ok(!(await claimAll(new Date(Date.now() + 4 * 3_600_000))).includes(c.id), 'a progress report does not move the schedule');
        // One that unsettles it does: due again at once, at the store's active interval from now.
        await store.reportStatus(c.id, ctl, report(1, 'False'));
        assert.ok((await claimAll(new Date(Date.now() + 4 * 3_600_000))).includes(c.id), 'an unsettling report reschedules');
      });
    });

    // The lease rules themselves are test/lease/contract.ts; here, what the store fences with them.
    describe('fenced provider state', () => {
      test('a holder whose lease was taken over cannot overwrite the new holder’s provider state', async () => {
        const id = `00000000-0000-4000-8000-${randomBytes(6).toString('hex')}`;
        const name = leaseName(id);
        const old = await store.acquireLease(name, 'old', 30);
        assert.ok(old);
        const next = await eventually('the short lease to lapse', () => store.acquireLease(name, 'new', 60_000), { timeoutMs: 5_000 });
        assert.ok(next.token > old.token);
        await store.putProviderState('sim', id, { by: 'new' }, next.token);
        await rejectsWith(store.putProviderState('sim', id, { by: 'old' }, old.token), 'CONFLICT');
        assert.deepEqual(await store.getProviderState('sim', id), { by: 'new' });
        // The holder replaces its own state; once it has released the lease, its token writes nothing.
        await store.putProviderState('sim', id, { by: 'new', step: 2 }, next.token);
        assert.deepEqual(await store.getProviderState('sim', id), { by: 'new', step: 2 });
        await store.releaseLease(next);
        await rejectsWith(store.putProviderState('sim', id, { by: 'new', step: 3 }, next.token), 'CONFLICT');
        assert.deepEqual(await store.getProviderState('sim', id), { by: 'new', step: 2 });
        await store.deleteProviderState('sim', id);
        assert.equal(await store.getProviderState('sim', id), null);
      });
    });

    describe('what no engine may store, and controllers that are gone', () => {
      test('U+0000 in a condition, reason, lastError or metadata, and deep or huge metadata, are refused alike by every engine', async () => {
        const provider = await providerWith(`nul-${uid()}`);
        const [ctl] = (await store.listControllers()).filter((c) => c.providers.includes(provider)).map((c) => c.name);
        const c = await create(provider);
        let deep: Record<string, unknown> = { leaf: 1 };
        for (let i = 0; i < 100; i++) deep = { a: deep };
        const bad: [ControllerReport, string][] = [
          [report(1, 'False', { conditions: [{ type: 'Ready', status: 'False', reason: 'Boom', message: 'a\u0000b' }] }), 'conditions.0.message'],
          [report(1, 'False', { conditions: [{ type: 'Ready', status: 'False', reason: 'A\u0000', message: '' }] }), 'conditions.0.reason'],
          [report(1, 'False', { lastError: { code: 'E', message: 'x\u0000', retryable: true } }), 'lastError.message'],
          [report(1, 'False', { metadata: { note: { text: '\u0000' } } }), 'metadata.note.text'],
          [report(1, 'False', { metadata: deep }), 'metadata'],
          [report(1, 'False', { metadata: { blob: 'x'.repeat(MAX_METADATA_BYTES + 1024) } }), 'metadata'],
        ];
        for (const [r, path] of bad) {
          const e = await rejectsWith(store.reportStatus(c.id, ctl!, r), 'VALIDATION_FAILED');
          assert.deepEqual((e as { errors?: { path: string }[] }).errors?.map((x) => x.path), [path]);
        }
        const after = await store.getCluster(c.id);
        assert.deepEqual(after?.status.controllers, [], 'nothing of a refused report was stored');
        assert.deepEqual(after?.finalizers, []);
      });

      test('provider, region and network cannot change on update; other fields can', async () => {
        const provider = `p${uid()}`;
        const c = await create(provider, { network: { podCIDR: '10.42.0.0/16' } });
        for (const [over, path] of [
          [{ provider: `q${uid()}` as ClusterSpec['provider'] }, 'spec.provider'],
          [{ region: 'eu-west-1' }, 'spec.region'],
          [{ network: undefined }, 'spec.network'],
        ] as const) {
          const e = await rejectsWith(store.updateCluster(c.id, { spec: { ...c.spec, ...over } }), 'VALIDATION_FAILED');
          assert.deepEqual((e as { errors?: { path: string }[] }).errors?.map((x) => x.path), [path]);
        }
        const moved = await store.updateCluster(c.id, { spec: { ...c.spec, instanceType: 't3.large' } });
        assert.equal(moved.generation, 2);
      });

      test('deregistering a controller drops its reports and finalizers; a deleting cluster it alone held goes', async () => {
        const [gone, stays] = [`gone-${uid()}`, `stays-${uid()}`];
        const provider = await providerWith(gone, stays);
        const held = await create(provider);
        const live = await create(provider);
        await store.reportStatus(held.id, gone, report(1, 'True'));
        await store.reportStatus(live.id, gone, report(1, 'True'));
        await store.reportStatus(live.id, stays, report(1, 'True'));
        await store.deleteCluster(held.id);
        assert.equal(await store.deregisterController(gone), true);
        assert.equal(await store.getCluster(held.id), null);
        const after = await store.getCluster(live.id);
        assert.deepEqual(after?.finalizers, [stays]);
        assert.deepEqual(after?.status.controllers.map((x) => x.name), [stays]);
        assert.equal(after?.status.phase, 'Ready', 'no longer waits for the deregistered one');
        assert.ok(!(await store.listControllers()).some((x) => x.name === gone));
        assert.equal(await store.deregisterController(gone), false);
      });

      test('controllers whose last heartbeat is before the cutoff expire; later ones stay', async () => {
        const old = `old-${uid()}`;
        const provider = await providerWith(old);
        const c = await create(provider);
        await store.reportStatus(c.id, old, report(1, 'True'));
        await store.deleteCluster(c.id);
        const cutoff = Date.parse((await store.listControllers()).find((x) => x.name === old)!.lastHeartbeat) + 1;
        await eventually('the clock passed the cutoff', () => Date.now() > cutoff);
        const fresh = `fresh-${uid()}`;
        await store.registerController(fresh, { providers: [provider], required: true });
        const expired = await store.expireControllers(new Date(cutoff));
        assert.ok(expired.includes(old));
        assert.ok(!expired.includes(fresh));
        assert.deepEqual((await store.listControllers()).filter((x) => x.providers.includes(provider)).map((x) => x.name), [fresh]);
        assert.equal(await store.getCluster(c.id), null, 'the deletion it held completed');
      });
    });

    describe('tokens', () => {
      test('found by hash only while neither expired nor revoked', async () => {
        const now = Date.now();
        const rec = (id: string, expiresAt: string | null) => ({
          id,
          subject: 'alice',
          role: 'user' as const,
          createdAt: new Date(now).toISOString(),
          expiresAt,
          hash: `h-${id}`,
        });
        const base = await store.countTokens();
        const live = await store.createToken(rec(uid(), null));
        const expiring = await store.createToken(rec(uid(), new Date(now + 60_000).toISOString()));
        const expired = await store.createToken(rec(uid(), new Date(now - 1000).toISOString()));
        assert.deepEqual(await store.findTokenByHash(`h-${live.id}`), live);
        assert.equal((await store.findTokenByHash(`h-${expiring.id}`))?.id, expiring.id);
        assert.equal(await store.findTokenByHash(`h-${expired.id}`), null);
        assert.equal(await store.countTokens(), base + 2);
        assert.equal(await store.revokeToken(live.id), true);
        assert.equal(await store.revokeToken(live.id), false);
        assert.equal(await store.findTokenByHash(`h-${live.id}`), null);
        const ids = (await store.listTokens()).map((t) => t.id);
        assert.ok(ids.includes(expiring.id) && !ids.includes(live.id) && !ids.includes(expired.id));
      });
    });

    test('ping answers', async () => {
      await store.ping();
    });
  });
}
