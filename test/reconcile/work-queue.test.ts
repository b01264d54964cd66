import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Backoff } from '../../src/util/backoff.ts';
import { WorkQueue } from '../../src/reconcile/work-queue.ts';
import { consistently, eventually } from '../helpers/eventually.ts';

/** A promise with its resolver outside, to hold a work item open while the test acts. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** A one-at-a-time queue that records what ran; the key 'blocker' holds it until `hold.open()`. */
function blockedQueue(): { q: WorkQueue; runs: string[]; hold: ReturnType<typeof gate> } {
  const runs: string[] = [];
  const hold = gate();
  const q = new WorkQueue({
    concurrency: 1,
    process: async (key) => {
      runs.push(key);
      if (key === 'blocker') await hold.promise;
    },
  });
  return { q, runs, hold };
}

test('a key added many times while waiting runs once', async () => {
  const { q, runs, hold } = blockedQueue();
  q.add('blocker');
  for (let i = 0; i < 5; i++) {
    q.add('a');
    q.add('b');
  }
  assert.equal(q.depth, 2);
  hold.open();
  await q.idle();
  assert.deepEqual(runs, ['blocker', 'a', 'b']);
});

test('a key added during its own run is never run concurrently but runs once more after', async () => {
  let running = 0;
  let maxRunning = 0;
  let runs = 0;
  const first = gate();
  const q = new WorkQueue({
    concurrency: 4,
    process: async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      runs++;
      if (runs === 1) await first.promise;
      running--;
    },
  });
  q.add('k');
  await eventually('first run to start', () => q.inFlight === 1);
  q.add('k');
  q.add('k');
  assert.equal(q.inFlight, 1, 'the re-added key does not start while its run is in flight');
  assert.equal(q.depth, 1, 'the re-added key is counted once, as dirty');
  first.open();
  await q.idle();
  assert.equal(runs, 2);
  assert.equal(maxRunning, 1);
});

test('distinct keys run in parallel up to the concurrency bound', async () => {
  let running = 0;
  let maxRunning = 0;
  const hold = gate();
  const q = new WorkQueue({
    concurrency: 3,
    process: async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await hold.promise;
      running--;
    },
  });
  for (let i = 0; i < 10; i++) q.add(`k${i}`);
  await eventually('three items in flight', () => q.inFlight === 3);
  assert.equal(q.depth, 7);
  hold.open();
  await q.idle();
  assert.equal(maxRunning, 3);
});

test('backoff doubles from the base, is capped, and jitter only stretches within bounds', () => {
  const low = new Backoff({ baseMs: 1_000, maxMs: 300_000, jitter: 0.2, random: () => 0 });
  const high = new Backoff({ baseMs: 1_000, maxMs: 300_000, jitter: 0.2, random: () => 0.999999 });
  const lows = Array.from({ length: 12 }, () => low.next('k'));
  const highs = Array.from({ length: 12 }, () => high.next('k'));
  assert.deepEqual(lows.slice(0, 5), [1_000, 2_000, 4_000, 8_000, 16_000]);
  for (let i = 0; i < 12; i++) {
    const nominal = Math.min(300_000, 1_000 * 2 ** i);
    assert.ok(highs[i]! >= nominal && highs[i]! <= Math.min(300_000, nominal * 1.2), `attempt ${i}: ${highs[i]}`);
  }
  assert.equal(lows[11], 300_000, 'capped at 5 minutes');
  assert.equal(highs[11], 300_000, 'jitter never exceeds the cap');
  // Keys are independent, and a success resets only its own key.
  assert.equal(low.next('other'), 1_000);
  low.reset('k');
  assert.equal(low.attempts('k'), 0);
  assert.equal(low.next('k'), 1_000);
  const random = new Backoff();
  for (let i = 0; i < 100; i++) {
    const d = random.next(`r${i}`);
    assert.ok(d >= 1_000 && d <= 1_200, `first retry within [1 s, 1.2 s]: ${d}`);
  }
});

test('errors are retried with growing backoff, and success resets it', async () => {
  const times: number[] = [];
  const retryDelays: number[] = [];
  const q = new WorkQueue({
    backoff: { baseMs: 20, maxMs: 1_000, jitter: 0 },
    onError: (_key, _err, ms) => retryDelays.push(ms),
    process: async () => {
      times.push(Date.now());
      if (times.length <= 3) throw new Error('transient');
    },
  });
  q.add('k');
  await eventually('the fourth attempt', () => times.length === 4);
  await q.idle();
  assert.deepEqual(retryDelays, [20, 40, 80]);
  for (let i = 1; i < 4; i++) assert.ok(times[i]! - times[i - 1]! >= retryDelays[i - 1]! - 2, `retry ${i} waited its backoff`);
  assert.equal(q.failures('k'), 0, 'success resets the backoff');
});

test('requeueAfter runs the key again later; an earlier delayed add wins', async () => {
  const runs: number[] = [];
  const q = new WorkQueue({
    process: async () => {
      runs.push(Date.now());
      return runs.length === 1 ? { requeueAfterMs: 50 } : {};
    },
  });
  const start = Date.now();
  q.add('k');
  await eventually('the requeued run', () => runs.length === 2);
  assert.ok(runs[1]! - start >= 48, 'the requeue waited');
  q.addAfter('x', 10_000);
  q.addAfter('x', 10);
  await eventually('the earlier delayed add', () => runs.length === 3);
});

test('shutdown stops taking work, waits for in-flight items, then aborts them at the deadline', async () => {
  const seen: string[] = [];
  const aborted: string[] = [];
  const q = new WorkQueue({
    concurrency: 2,
    process: async (key, signal) => {
      seen.push(key);
      if (key === 'quick') {
        await sleep(20); // a short piece of work that finishes within the deadline
        return;
      }
      // 'slow' ignores time and only ends when aborted.
      await new Promise<void>((resolve) =>
        signal.addEventListener('abort', () => {
          aborted.push(key);
          resolve();
        }),
      );
    },
  });
  q.add('quick');
  q.add('slow');
  q.add('waiting');
  q.addAfter('delayed', 10);
  await eventually('both items to start', () => q.inFlight === 2);
  const result = await q.shutdown(100);
  assert.equal(result.abandoned, 1);
  assert.deepEqual(aborted, ['slow']);
  q.add('late');
  await consistently('waiting, delayed and late keys never to run', () => seen.length === 2, { timeoutMs: 50 });
  assert.deepEqual(seen.sort(), ['quick', 'slow']);
  assert.equal(q.depth, 0);
});

test('resync keys wait behind event keys; an event for a waiting resync key moves it up', async () => {
  const { q, runs, hold } = blockedQueue();
  q.add('blocker');
  await eventually('blocker to start', () => q.inFlight === 1);
  q.add('r1', 'resync');
  q.add('r2', 'resync');
  q.add('e1');
  q.add('r2');
  q.add('e2', 'resync');
  q.add('e2');
  q.add('e1', 'resync');
  assert.equal(q.depth, 4, 'each key waits once, whatever its priority');
  hold.open();
  await q.idle();
  assert.deepEqual(runs, ['blocker', 'e1', 'r2', 'e2', 'r1']);
});

test('a resync of a key in flight runs it once more, after waiting event keys', async () => {
  const runs: string[] = [];
  const hold = gate();
  const q = new WorkQueue({
    concurrency: 1,
    process: async (key) => {
      runs.push(key);
      if (runs.length === 1) await hold.promise;
    },
  });
  q.add('k');
  await eventually('k to start', () => q.inFlight === 1);
  q.add('k', 'resync');
  q.add('e');
  hold.open();
  await q.idle();
  assert.deepEqual(runs, ['k', 'e', 'k']);
});
