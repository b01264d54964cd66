import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { createMemoryBus } from '../../src/events/memory-bus.ts';
import { openBus } from '../../src/events/open.ts';
import { busContract } from './bus-contract.ts';
import { consistently, eventually } from '../helpers/eventually.ts';
import { makeEvent } from './helpers.ts';

busContract('memory bus', async (_t, opts) => {
  const bus = createMemoryBus(opts);
  return { bus, dispose: () => bus.close() };
});

test('memory bus: past its bound a consumer queue folds events per cluster, losing no cluster', async () => {
  const bus = createMemoryBus({ maxQueued: 4, concurrency: 1 });
  const clusters = Array.from({ length: 6 }, () => randomUUID());
  // Three rounds over six clusters while nobody consumes: 18 events, bound 4.
  for (let round = 1; round <= 3; round++) for (const c of clusters) await bus.publish(makeEvent(c, round));
  assert.equal(bus.stats().folded, 12);
  const seen = new Set<string>();
  await bus.subscribe('ctl-late', async (e) => {
    seen.add(e.clusterId);
  });
  await eventually('every cluster delivered', () => seen.size === clusters.length);
  await bus.close();
});

test('memory bus: a busy handler holds later events instead of losing them', async () => {
  const bus = createMemoryBus({ concurrency: 1 });
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const seen: number[] = [];
  await bus.subscribe('ctl-busy', async (e) => {
    seen.push(e.generation);
    if (e.generation === 1) await gate;
  });
  const c = randomUUID();
  for (let g = 1; g <= 5; g++) await bus.publish(makeEvent(c, g));
  await consistently('the consumer to stay on the held event', () => seen.length === 1, { timeoutMs: 50 });
  assert.deepEqual(seen, [1]);
  assert.equal(bus.stats().pending['ctl-busy'], 4);
  release();
  await eventually('the held events', () => seen.length === 5);
  assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  await bus.close();
});

test('openBus: no URL is the memory bus; an unknown scheme is refused', async () => {
  const bus = await openBus(undefined);
  assert.equal(bus.kind, 'memory');
  await bus.close();
  await assert.rejects(openBus('kafka://localhost:9092'), { code: 'VALIDATION_FAILED' });
  await assert.rejects(createMemoryBus().subscribe('Not A Name', async () => undefined), { code: 'VALIDATION_FAILED' });
});
