// `goman list` prints the fleet page by page (500 a page): these check that the pieces make
// one well-formed output — a single header with aligned columns, and the same JSON document
// byte for byte that one response would serialize to — over a fleet of more than one page,
// against a real `goman serve` and the real CLI.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { ApiClient } from '../../src/client/api-client.ts';
import type { Cluster } from '../../src/domain/cluster.ts';
import type { ServeHandle } from '../helpers/serve.ts';
import { runGoman, startServe } from '../helpers/serve.ts';

const FLEET = 520;
let srv: ServeHandle;

before(async () => {
  srv = await startServe();
  const api = new ApiClient({ baseUrl: srv.url, token: srv.token });
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < FLEET) await api.createCluster({ name: `fleet-${String(next++).padStart(4, '0')}`, labels: { fleet: 'yes' }, spec: { provider: 'sim' } });
    }),
  );
});
after(async () => {
  await srv?.stop();
});

async function ok(args: string[]): Promise<string> {
  const r = await runGoman(args, { env: { ...srv.env, COLUMNS: '200' }, timeoutMs: 90_000 });
  assert.equal(r.code, 0, `goman ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

test('list of a fleet larger than a page: one header, every cluster once, columns aligned across pages', async () => {
  const lines = (await ok(['list', '-l', 'fleet=yes'])).trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^NAME\s+PHASE\s+PROVIDER/);
  assert.equal(lines.filter((l) => l.startsWith('NAME')).length, 1, 'one header');
  const names = lines.slice(1).map((l) => l.split(/\s+/)[0]);
  assert.equal(names.length, FLEET);
  assert.equal(new Set(names).size, FLEET, 'every cluster once');
  const phaseAt = (lines[0] ?? '').indexOf('PHASE');
  for (const line of lines.slice(1)) assert.match(line.slice(phaseAt), /^[A-Z][a-z]+\s/, `PHASE column aligned: ${line}`);
});

test('list -o json over several pages is the document one response would give; yaml parses to the same items', async () => {
  const text = await ok(['list', '-l', 'fleet=yes', '-o', 'json']);
  const doc = JSON.parse(text) as { items: Cluster[] };
  assert.equal(doc.items.length, FLEET);
  assert.equal(text, JSON.stringify(doc, null, 2) + '\n', 'byte for byte the single-document form');
  const yaml = parse(await ok(['list', '-l', 'fleet=yes', '-o', 'yaml'])) as { items: Cluster[] };
  assert.deepEqual(yaml.items.map((c) => c.id), doc.items.map((c) => c.id));
  assert.equal(await ok(['list', '-l', 'fleet=none', '-o', 'json']), '{\n  "items": []\n}\n');
  assert.deepEqual(parse(await ok(['list', '-l', 'fleet=none', '-o', 'yaml'])), { items: [] });
});
