// Pure pieces of the CLI: flag parsing, tables, ages, colour rules, exit codes and messages.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeError, exitCodeFor, UsageError } from '../../src/cli/errors.ts';
import { clusterName, parseDuration, parseLabel, parseOutput, parsePool } from '../../src/cli/flags.ts';
import { age, colorEnabled, formatTable, truncate } from '../../src/cli/output.ts';
import { ApiError, ServerUnreachableError } from '../../src/client/errors.ts';
import { GomanError } from '../../src/domain/errors.ts';
import { emptyStatus } from '../../src/domain/cluster.ts';
import type { Cluster, ClusterNode } from '../../src/domain/cluster.ts';
import { clusterSpecSchema } from '../../src/domain/spec.ts';
import { nodesText } from '../../src/cli/view.ts';
import { progressLine } from '../../src/cli/wait.ts';

test('--pool NAME=COUNT[:TYPE]', () => {
  assert.deepEqual(parsePool('workers=3'), { name: 'workers', count: 3 });
  assert.deepEqual(parsePool('gpu=1:g5.xlarge'), { name: 'gpu', count: 1, instanceType: 'g5.xlarge' });
  assert.deepEqual(parsePool('w=0'), { name: 'w', count: 0 });
  for (const bad of ['workers', 'workers=', 'workers=x', 'Workers=1', 'w=101', '=3', 'w=-1']) assert.throws(() => parsePool(bad), UsageError, bad);
});

test('--label, --timeout, -o and names', () => {
  assert.deepEqual(parseLabel('team=a=b'), ['team', 'a=b']);
  assert.throws(() => parseLabel('team'), UsageError);
  assert.equal(parseDuration('10m'), 600_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('2.5s'), 2500);
  assert.equal(parseDuration('45'), 45_000);
  for (const bad of ['', '10x', 'm', '5m junk']) assert.throws(() => parseDuration(bad), UsageError, bad);
  assert.equal(parseOutput(undefined), 'table');
  assert.equal(parseOutput('yaml'), 'yaml');
  assert.throws(() => parseOutput('xml'), UsageError);
  assert.equal(clusterName('web-1'), 'web-1');
  assert.throws(() => clusterName('Web'), /invalid cluster name "Web"/);
  assert.throws(() => clusterName('a'.repeat(41)), /at most 40/);
});

test('age reads like kubectl', () => {
  const now = new Date('2026-01-10T12:00:00Z');
  const ago = (s: number): Date => new Date(now.getTime() - s * 1000);
  assert.equal(age(ago(5), now), '5s');
  assert.equal(age(ago(119), now), '119s');
  assert.equal(age(ago(125), now), '2m5s');
  assert.equal(age(ago(45 * 60), now), '45m');
  assert.equal(age(ago(3 * 3600 + 4 * 60), now), '3h4m');
  assert.equal(age(ago(20 * 3600), now), '20h');
  assert.equal(age(ago(5 * 86400), now), '5d');
  assert.equal(age(ago(800 * 86400), now), '2y');
  assert.equal(age(new Date(now.getTime() + 5000), now), '0s', 'clock skew never shows a negative age');
});

test('tables align, fit the width with an ellipsis, and colour without skewing columns', () => {
  const cols = [{ header: 'NAME' }, { header: 'PHASE' }, { header: 'MESSAGE', flexible: true }];
  const rows = [
    ['alpha', 'Ready', 'all good'],
    ['b', 'Provisioning', 'waiting for the sim controller to report ready nodes'],
  ];
  assert.equal(formatTable(cols, rows), 'NAME    PHASE          MESSAGE\nalpha   Ready          all good\nb       Provisioning   waiting for the sim controller to report ready nodes\n');
  const narrow = formatTable(cols, rows, { width: 40 });
  for (const line of narrow.trimEnd().split('\n')) assert.ok([...line].length <= 40, line);
  assert.match(narrow, /waiting for the …\n$/);
  const painted = formatTable(cols, rows, { color: true, colors: (_r, c) => (c === 1 ? 'green' : undefined) });
  assert.equal(painted.replace(/\x1b\[\d+m/g, ''), formatTable(cols, rows)); // eslint-disable-line no-control-regex
  assert.match(painted, /\x1b\[32mReady {7}\x1b\[39m/); // eslint-disable-line no-control-regex
  assert.equal(truncate('abcdef', 4), 'abc…');
  assert.equal(truncate('abc', 4), 'abc');
});

test('colour only on a terminal, never with NO_COLOR', () => {
  assert.equal(colorEnabled({ isTTY: true }, {}), true);
  assert.equal(colorEnabled({ isTTY: false }, {}), false);
  assert.equal(colorEnabled({ isTTY: true }, { NO_COLOR: '1' }), false);
  assert.equal(colorEnabled({ isTTY: true }, { TERM: 'dumb' }), false);
  assert.equal(colorEnabled({ isTTY: false }, { FORCE_COLOR: '1' }), true);
});

test('exit codes: 2 usage, 3 not found, 4 conflict, 1 otherwise', () => {
  assert.equal(exitCodeFor(new UsageError('x')), 2);
  assert.equal(exitCodeFor(new GomanError('VALIDATION_FAILED', 'x')), 2);
  assert.equal(exitCodeFor(new GomanError('NOT_FOUND', 'x')), 3);
  for (const c of ['NAME_TAKEN', 'CONFLICT', 'PRECONDITION_FAILED'] as const) assert.equal(exitCodeFor(new GomanError(c, 'x')), 4);
  assert.equal(exitCodeFor(new GomanError('UNAVAILABLE', 'x')), 1);
  assert.equal(exitCodeFor(new GomanError('UNAUTHENTICATED', 'x')), 1);
  assert.equal(exitCodeFor(new Error('x')), 1);
});

test('messages say what to do, in one line', () => {
  const where = { server: 'http://127.0.0.1:8080', context: 'local' };
  assert.equal(
    describeError(new ServerUnreachableError('http://127.0.0.1:8080', false), where),
    'cannot reach goman server at http://127.0.0.1:8080 — is `goman serve` running? (context local)',
  );
  assert.equal(
    describeError(new ApiError(401, 'UNAUTHENTICATED', 'bad token'), where),
    'token rejected by http://127.0.0.1:8080 (unknown, revoked or expired); ask an admin of that server for a new token, then `goman context add NAME --server URL --token TOKEN` (context local)',
  );
  assert.match(describeError(new ApiError(412, 'PRECONDITION_FAILED', 'cluster x was modified'), where), /changed since you read it; run again$/);
  assert.equal(
    describeError(new ApiError(400, 'VALIDATION_FAILED', 'invalid spec', [{ path: 'spec.mode', message: 'bad' }, { path: '', message: 'also' }])),
    'invalid spec: spec.mode: bad; also',
  );
  assert.ok(!describeError(new Error('a\nb')).includes('\n'));
});

test('messages give the real cause: a cluster being deleted is no stale read, and advice needs no admin rights', () => {
  const where = { server: 'http://127.0.0.1:8080', context: 'local' };
  assert.equal(describeError(new ApiError(409, 'CONFLICT', 'cluster x is being deleted'), where), 'cluster x is being deleted');
  assert.doesNotMatch(describeError(new ApiError(401, 'UNAUTHENTICATED', 'bad token'), where), /create a new one with `goman token create`/);
  assert.match(describeError(new ApiError(403, 'FORBIDDEN', 'role "user" may not do this (needs controller or admin)'), where), /ask an admin for a token with that role \(context local\)$/);
  const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
  assert.match(describeError(noCredentials), /^no AWS credentials found; set AWS_PROFILE/);
});

test('"cannot reach the server" is told from the error class, not from its message text', () => {
  const where = { server: 'http://127.0.0.1:8080', context: 'local' };
  assert.equal(
    describeError(new ServerUnreachableError('http://127.0.0.1:8080', true), where),
    'cannot reach goman server at http://127.0.0.1:8080 — is `goman serve` running? (context local)',
  );
  // The same words from anywhere else (an answer the server sent) are shown as they are.
  const relayed = new ApiError(503, 'UNAVAILABLE', 'goman server at http://127.0.0.1:8080 is unreachable');
  assert.equal(describeError(relayed, where), relayed.message);
});

test('progress during a scale-down counts the nodes leaving, never "5/2"', () => {
  const spec = clusterSpecSchema.parse({ provider: 'sim', mode: 'dev', nodePools: [{ name: 'workers', count: 1 }] });
  const node = (i: number): ClusterNode => ({ name: `n${i}`, role: i === 0 ? 'server' : 'agent', state: 'running', ready: true });
  const cluster = (nodes: number): Cluster => ({
    id: 'x', name: 'x', labels: {}, spec, generation: 2, resourceVersion: '1', createdBy: 'a', createdAt: '', updatedAt: '', finalizers: [],
    status: { ...emptyStatus(), phase: 'Updating', nodes: Array.from({ length: nodes }, (_, i) => node(i)) },
  });
  assert.equal(nodesText(cluster(5)), '5→2');
  assert.match(progressLine(cluster(5), false), /nodes 5→2 {2}/);
  assert.equal(nodesText(cluster(2)), '2/2');
  assert.match(progressLine(cluster(1), false), /nodes 1\/2 ready/);
});
