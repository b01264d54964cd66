// `goman logs` on a server context (issue 15): the controllers' events the server recorded,
// one line per history entry, oldest first; --cluster narrows to one cluster.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { eventually } from '../helpers/eventually.ts';
import { runGoman, startServe, type ServeHandle } from '../helpers/serve.ts';

let srv: ServeHandle | undefined;
after(() => srv?.stop());

test('goman logs on a server context prints the clusters\' controller events since a time', { timeout: 60_000 }, async () => {
  srv = await startServe();
  const env = srv.env;
  for (const name of ['alpha', 'beta']) assert.equal((await runGoman(['create', name], { env })).code, 0);
  const out = await eventually('both clusters Ready in the logs', async () => {
    const r = await runGoman(['logs', '--since', '1h'], { env });
    return /alpha phase .*Ready/.test(r.stdout) && /beta phase .*Ready/.test(r.stdout) && r.stdout;
  });
  const lines = out.trim().split('\n');
  assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT[\d:.]+Z (alpha|beta) created gen=1 /);
  const times = lines.map((l) => l.split(' ')[0]!);
  assert.deepEqual(times, [...times].sort());
  const beta = await runGoman(['logs', '--since', '1h', '--cluster', 'beta'], { env });
  assert.equal(beta.code, 0, beta.stderr);
  assert.ok(beta.stdout.trim().split('\n').every((l) => / beta /.test(l)), beta.stdout);
});
