// The fuzzer's verdict on its own run: a run whose requests were mostly refused as 401/403
// (before: its admin token was revoked midway and it still said "No issues found") fails.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../scripts/fuzz-report.ts', import.meta.url));

function har(dir: string, name: string, statuses: number[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify({ log: { entries: statuses.map((status) => ({ request: {}, response: { status } })) } }));
  return file;
}

function report(...files: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [SCRIPT, ...files], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

test('a fuzz run fails when more than 5 % of its requests were 401/403, and says how many of each', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'goman-fuzz-report-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const healthy = har(dir, 'ok.har', [...Array<number>(96).fill(200), 400, 404, 401, 403]);
  const ok = report(healthy);
  assert.equal(ok.code, 0, ok.out);
  assert.match(ok.out, /100 requests \(200: 96, 400: 1, 401: 1, 403: 1, 404: 1\); 401\/403 share 2\.00 %/);

  // A run that lost its token midway: most of what follows is 401.
  const revoked = har(dir, 'revoked.har', [...Array<number>(30).fill(200), ...Array<number>(70).fill(401)]);
  const bad = report(healthy, revoked);
  assert.equal(bad.code, 1, bad.out);
  assert.match(bad.out, /200 requests .* share 36\.00 %/);
  assert.match(bad.out, /too many requests were refused/);

  assert.equal(report(har(dir, 'empty.har', [])).code, 1, 'a run that sent nothing tested nothing');
});

test('a HAR cut short by the run\'s time backstop is counted up to where it ends', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'goman-fuzz-report-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const whole = JSON.stringify({ log: { entries: [200, 404, 200].map((status) => ({ request: { postData: { text: '{"response": {"status": 999}}' } }, response: { status } })) } }, null, 2);
  const file = path.join(dir, 'cut.har');
  writeFileSync(file, whole.slice(0, whole.lastIndexOf('"status": 200')));
  const r = report(file);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /cut short; counting the 2 answers/);
  assert.match(r.out, /2 requests \(200: 1, 404: 1\)/);
});

test('a HAR is read as a stream, every answer counted across chunk boundaries (a long run\'s HAR outgrows the largest string)', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'goman-fuzz-report-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // ~4 MiB in entries of odd sizes, so the 1 MiB chunks split entries at every offset.
  const statuses = Array.from({ length: 6000 }, (_, i) => (i % 7 === 0 ? 404 : 200));
  const entries = statuses.map((status, i) => ({ request: { postData: { text: 'x'.repeat(600 + (i % 97)) } }, response: { status } }));
  const file = path.join(dir, 'big.har');
  writeFileSync(file, JSON.stringify({ log: { entries } }));
  const r = report(file);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /6000 requests \(200: 5142, 404: 858\)/);
  assert.doesNotMatch(r.out, /cut short/);
});
