// The queue that groups status reports into batches (src/store/sql/report-batches.ts), on its own:
// its `run` is the test's, and each batch stays out until the test settles it.
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { test } from 'node:test';
import { MAX_BATCH, ReportBatches, type Queued } from '../../src/store/sql/report-batches.ts';
import { consistently, eventually } from '../helpers/eventually.ts';

type Batch = readonly Queued<string, string>[];

/** A queue whose batches the test sees, and finishes by answering each report with its item. */
function queue() {
  const out: { batch: Batch; done: () => void }[] = [];
  const batches = new ReportBatches<string, string>(
    (batch) =>
      new Promise<void>((resolve) => {
        out.push({
          batch,
          done: () => {
            for (const q of batch) q.resolve(q.item);
            resolve();
          },
        });
      }),
  );
  const ids = (i: number): string[] => out[i]!.batch.map((q) => `${q.clusterId}:${q.item}`);
  return { batches, out, ids };
}

test('report batches: what arrives together leaves together, up to the batch size; a lone report leaves at once', async () => {
  const { batches, out, ids } = queue();
  const lone = batches.submit('c0', 'r0');
  await eventually('the lone report is sent', () => out.length === 1);
  assert.deepEqual(ids(0), ['c0:r0']);
  out[0]!.done();
  assert.equal(await lone, 'r0');

  const many = Array.from({ length: MAX_BATCH + 3 }, (_, i) => batches.submit(`c${i}`, `r${i}`));
  await eventually('two batches are out', () => out.length === 3);
  assert.equal(out[1]!.batch.length, MAX_BATCH);
  assert.deepEqual(ids(2), [`c${MAX_BATCH}:r${MAX_BATCH}`, `c${MAX_BATCH + 1}:r${MAX_BATCH + 1}`, `c${MAX_BATCH + 2}:r${MAX_BATCH + 2}`]);
  out[1]!.done();
  out[2]!.done();
  assert.deepEqual(await Promise.all(many), Array.from({ length: MAX_BATCH + 3 }, (_, i) => `r${i}`));
});

test('report batches: a batch takes every waiting report on a cluster in order; a report on a cluster whose batch is out waits for it', async () => {
  const { batches, out, ids } = queue();
  const first = batches.submit('a', 'a1');
  void batches.submit('b', 'b1');
  void batches.submit('a', 'a2');
  await eventually('the first batch is out', () => out.length >= 1);
  assert.deepEqual(ids(0), ['a:a1', 'b:b1', 'a:a2']);
  // a3 waits for a's batch, though another batch could go out now.
  void batches.submit('a', 'a3');
  void batches.submit('c', 'c1');
  await eventually('the next batch is out', () => out.length === 2);
  assert.deepEqual(ids(1), ['c:c1']);
  out[1]!.done();
  await consistently('a3 still waits', () => out.length === 2, { timeoutMs: 100 });
  out[0]!.done();
  assert.equal(await first, 'a1');
  await eventually('a3 is sent once a1 and a2 are done', () => out.length === 3);
  assert.deepEqual(ids(2), ['a:a3']);
  out[2]!.done();
});

test('report batches: no more than two batches are out; the reports behind them wait and then leave as one', async () => {
  const { batches, out, ids } = queue();
  void batches.submit('a', 'a1');
  await eventually('one out', () => out.length === 1);
  void batches.submit('b', 'b1');
  await eventually('two out', () => out.length === 2);
  void batches.submit('c', 'c1');
  void batches.submit('d', 'd1');
  await consistently('no third batch goes out', () => out.length === 2, { timeoutMs: 100 });
  out[0]!.done();
  await eventually('the waiting reports leave together', () => out.length === 3);
  assert.deepEqual(ids(2), ['c:c1', 'd:d1']);
  out[1]!.done();
  out[2]!.done();
});

test('report batches: each report runs its work in the context it was submitted from', async () => {
  const storage = new AsyncLocalStorage<string>();
  const seen: string[] = [];
  const batches = new ReportBatches<string, string>(async (batch) => {
    for (const q of batch) q.inContext(() => seen.push(`${q.item}=${storage.getStore()}`));
    for (const q of batch) q.resolve(q.item);
  });
  await Promise.all([storage.run('one', () => batches.submit('a', 'a')), storage.run('two', () => batches.submit('b', 'b'))]);
  assert.deepEqual(seen, ['a=one', 'b=two']);
});
