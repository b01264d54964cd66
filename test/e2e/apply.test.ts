// `goman apply`, `goman diff`, `goman plan` and `goman cost` end to end on the embedded
// default (a real `goman serve`: SQLite, sim provider with fast timings) through the real
// CLI launcher: a folder of three manifests is applied, one pool shrinks, one cluster is
// pruned by selector, and bad manifests fail with one line naming file and line.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import type { Cluster } from '../../src/domain/cluster.ts';
import type { ServeHandle } from '../helpers/serve.ts';
import { runGoman, startServe } from '../helpers/serve.ts';
import { manifestsFixture, writeManifests } from '../helpers/manifests.ts';

let srv: ServeHandle;
let tmp: string;
before(async () => {
  srv = await startServe();
  tmp = await mkdtemp(path.join(tmpdir(), 'goman-apply-'));
});
after(async () => {
  await srv?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

// Prices come from the shipped table; its age warning is tested in test/cost.
const env = () => ({ ...srv.env, GOMAN_PRICE_SOURCE: 'table', GOMAN_PRICE_MAX_AGE_DAYS: '100000' });
const goman = (args: string[]) => runGoman(args, { env: env(), timeoutMs: 90_000 });

async function ok(args: string[]): Promise<string> {
  const r = await goman(args);
  assert.equal(r.code, 0, `goman ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Exit `code` with exactly one line on stderr matching `message`, and no stack trace. */
async function fails(args: string[], code: number, message: RegExp): Promise<void> {
  const r = await goman(args);
  assert.equal(r.code, code, `goman ${args.join(' ')}: expected exit ${code}, got ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0] ?? '', message);
}

const versions = async (): Promise<Record<string, string>> => {
  const { items } = JSON.parse(await ok(['list', '-o', 'json'])) as { items: Cluster[] };
  return Object.fromEntries(items.map((c) => [c.name, `${c.generation}/${c.resourceVersion}`]));
};

test('apply a folder of three manifests, shrink a pool, prune one by selector; diff exits 1 then 0; apply is idempotent', { timeout: 180_000 }, async () => {
  const dir = path.join(tmp, 'fleet');
  await writeManifests(dir, manifestsFixture());

  assert.equal(await ok(['apply', '-f', dir, '--wait', '--timeout', '60s']), 'cluster/db created\ncluster/ml created\ncluster/web created\n');
  const again = await versions();
  assert.equal(await ok(['apply', '-f', dir]), 'cluster/db unchanged\ncluster/ml unchanged\ncluster/web unchanged\n', 'a second apply changes nothing');
  assert.deepEqual(await versions(), again, 'and no resourceVersion moved');

  // get -o yaml is a manifest: it round-trips through apply unchanged.
  const web = await ok(['get', 'web', '-o', 'yaml']);
  assert.deepEqual(Object.keys(parse(web) as object), ['apiVersion', 'kind', 'metadata', 'spec']);
  await writeFile(path.join(tmp, 'web-from-get.yaml'), web);
  assert.equal(await ok(['apply', '-f', path.join(tmp, 'web-from-get.yaml')]), 'cluster/web unchanged\n');

  // One pool shrinks (web: workers 3 → 1) and ml leaves the folder.
  await writeManifests(dir, manifestsFixture({ webWorkers: 1 }), { drop: ['ml.json'] });
  const diff = await goman(['diff', '-f', dir]);
  assert.equal(diff.code, 1, `diff exits 1 when something differs: ${diff.stderr}`);
  assert.match(diff.stdout, /^cluster\/web$/m);
  assert.match(diff.stdout, /^-\s+count: 3$/m);
  assert.match(diff.stdout, /^\+\s+count: 1$/m);
  assert.match(diff.stdout, /cordon and drain web-workers-agent-1, web-workers-agent-2/);
  assert.match(diff.stdout, /terminate 2 × t3\.large in pool workers/);
  assert.match(diff.stdout, /Disruption: 2 node\(s\) drained, 0 replaced, downtime no/);
  // us-east-1: server t3.medium 0.0416 + workers t3.large 0.0832 each; 730 h a month.
  assert.match(diff.stdout, /Cost: \$212\.58 → \$91.10\/month \(-\$121\.48\) \(on-demand; prices: shipped-table, 2025-06-01\)/);
  assert.ok(!diff.stdout.includes('\x1b['), 'no colour in a pipe');

  const plan = await ok(['plan', 'web', '--set', 'nodePools.workers.count=1']);
  assert.match(plan, /cordon and drain web-workers-agent-1, web-workers-agent-2/);

  await fails(['apply', '-f', dir, '--prune'], 2, /^goman: --prune needs -l SELECTOR/);
  await fails(['apply', '-f', dir, '--prune', '-l', 'fleet=demo'], 2, /^goman: refusing without --yes when not on a terminal: web \(cordon and drain .*\), ml \(delete\)$/);
  assert.equal(await ok(['apply', '-f', dir, '--prune', '-l', 'fleet=demo', '--dry-run']), 'cluster/db unchanged (dry run)\ncluster/web configured (dry run)\ncluster/ml pruned (dry run)\n');
  assert.equal((await versions()).web, again.web, 'a dry run writes nothing');

  await ok(['create', 'keep', '-l', 'fleet=other']);
  assert.equal(await ok(['apply', '-f', dir, '--prune', '-l', 'fleet=demo', '--yes']), 'cluster/db unchanged\ncluster/web configured\ncluster/ml pruned\n');
  const after = JSON.parse(await ok(['list', '-o', 'json'])) as { items: Cluster[] };
  const web2 = after.items.find((c) => c.name === 'web');
  assert.deepEqual(web2?.spec.nodePools, [{ name: 'workers', count: 1, instanceType: 't3.large' }]);
  assert.ok(after.items.some((c) => c.name === 'keep'), 'a cluster without the selector is never pruned');
  assert.ok(!after.items.some((c) => c.name === 'ml' && !c.deletionTimestamp), 'ml is deleted');

  const clean = await goman(['diff', '-f', dir]);
  assert.equal(clean.code, 0, `diff exits 0 after apply: ${clean.stdout}${clean.stderr}`);
  assert.equal(clean.stdout, '');

  const cost = await ok(['cost']);
  assert.match(cost, /^web\s+us-east-1\s+\$0\.1248\s+\$91\.10/m);
  assert.match(cost, /^TOTAL\s+/m);
  const one = JSON.parse(await ok(['cost', 'db', '-o', 'json'])) as { items: { name: string; cost: { monthly: number | null } }[] };
  assert.deepEqual(one.items.map((i) => i.name), ['db']);
  assert.match(await ok(['get', 'web']), /Cost:\s+\$0\.1248\/h \(\$91\.10\/month\)/);
});

test('bad manifests: one line naming file and line, exit 2, nothing applied', { timeout: 60_000 }, async () => {
  const bad = path.join(tmp, 'bad');
  await mkdir(bad, { recursive: true });
  const write = async (name: string, text: string): Promise<string> => {
    const file = path.join(bad, name);
    await writeFile(file, text);
    return file;
  };
  const head = 'apiVersion: goman.io/v1\nkind: Cluster\n';
  const unknown = await write('unknown.yaml', `${head}metadata:\n  name: u1\nspec:\n  region: us-east-1\n  nodePols: []\n`);
  await fails(['apply', '-f', unknown], 2, new RegExp(`^goman: ${unknown}:7: unknown field "spec.nodePols"$`));
  const top = await write('top.yaml', `${head}metadata:\n  name: u2\nstatus: {}\nspec: {}\n`);
  await fails(['apply', '-f', top], 2, new RegExp(`^goman: ${top}:5: unknown field "status"`));
  const name = await write('name.yaml', `---\n${head}metadata:\n  name: Bad_Name\nspec: {}\n`);
  await fails(['apply', '-f', name], 2, new RegExp(`^goman: ${name}:5: metadata.name "Bad_Name" must be a DNS-1123 label`));
  const kind = await write('kind.yaml', 'apiVersion: goman.io/v1\nkind: Pod\nmetadata:\n  name: k\nspec: {}\n');
  await fails(['apply', '-f', kind], 2, new RegExp(`^goman: ${kind}:2: kind must be "Cluster" \\(got "Pod"\\)$`));
  const api = await write('api.yaml', `metadata:\n  name: a\napiVersion: v1\nkind: Cluster\nspec: {}\n`);
  await fails(['apply', '-f', api], 2, new RegExp(`^goman: ${api}:3: apiVersion must be "goman.io/v1" \\(got "v1"\\)$`));
  const count = await write('count.json', JSON.stringify({ apiVersion: 'goman.io/v1', kind: 'Cluster', metadata: { name: 'c' }, spec: { nodePools: [{ name: 'w', count: 'many' }] } }, null, 2));
  await fails(['diff', '-f', count], 2, new RegExp(`^goman: ${count}:11: spec.nodePools.0.count: `));

  const dup = path.join(tmp, 'dup');
  await mkdir(path.join(dup, 'sub'), { recursive: true });
  await writeFile(path.join(dup, 'a.yaml'), `${head}metadata:\n  name: twin\nspec: {}\n`);
  await writeFile(path.join(dup, 'sub', 'b.yaml'), `# the same cluster again\n${head}metadata:\n  name: twin\nspec: {}\n`);
  assert.equal(await ok(['apply', '-f', dup, '--dry-run']), 'cluster/twin created (dry run)\n', 'without -R the sub-folder is not read');
  await fails(['apply', '-f', dup, '-R'], 2, new RegExp(`^goman: ${path.join(dup, 'sub', 'b.yaml')}:2: cluster "twin" is also defined at ${path.join(dup, 'a.yaml')}:1; each cluster may appear once$`));

  await ok(['create', 'prov']);
  const prov = await write('prov.yaml', `# moved to aws?\n${head}metadata:\n  name: prov\nspec:\n  provider: aws\n`);
  await fails(['apply', '-f', prov], 2, new RegExp(`^goman: ${prov}:7: spec.provider cannot change \\(sim → aws\\)`));
  const d = await goman(['diff', '-f', prov]);
  assert.equal(d.code, 2, 'diff: an error is exit 2, not "differences"');
  const { items } = JSON.parse(await ok(['list', '-o', 'json'])) as { items: Cluster[] };
  assert.deepEqual(items.filter((c) => ['u1', 'u2', 'k', 'a', 'c', 'twin'].includes(c.name)), [], 'nothing was applied');
});
