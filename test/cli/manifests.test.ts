// Manifest parsing (DESIGN §13) without a server: multi-document YAML, JSON, the manifest
// `get -o yaml` prints, and positions of problems; and the coloured diff of `goman diff`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { parseManifests, toManifest } from '../../src/cli/manifests.ts';
import { diffText } from '../../src/cli/plan-view.ts';
import { clusterSpecSchema } from '../../src/domain/spec.ts';

test('multi-document YAML: every document is a manifest, empty documents are skipped, lines are per document', () => {
  const text = [
    '# fleet',
    'apiVersion: goman.io/v1',
    'kind: Cluster',
    'metadata: {name: a}',
    'spec: {}',
    '---',
    '---',
    'apiVersion: goman.io/v1',
    'kind: Cluster',
    'metadata: {name: b, labels: {team: x}}',
    'spec: {mode: ha}',
    '',
  ].join('\n');
  const ms = parseManifests(text, 'f.yaml');
  assert.deepEqual(ms.map((m) => [m.name, m.where, m.spec.mode, m.labels]), [
    ['a', 'f.yaml:2', 'dev', {}],
    ['b', 'f.yaml:8', 'ha', { team: 'x' }],
  ]);
  assert.equal(ms[1]?.whereOf(['spec', 'mode']), 'f.yaml:11');
  assert.deepEqual(ms[0]?.input, {}, 'the spec as written, for the backend to default');
  assert.throws(() => parseManifests(`${text}---\napiVersion: goman.io/v1\nkind: Cluster\nmetadata: {name: c}\nspec: {nodePools: [{name: w, count: -1}]}\n`, 'f.yaml'), /^UsageError: f\.yaml:16: spec\.nodePools\.0\.count: /);
});

test('what get -o yaml prints parses back to the same cluster', () => {
  const spec = clusterSpecSchema.parse({ region: 'us-east-1', nodePools: [{ name: 'w', count: 2, taints: [{ key: 'k', effect: 'NoSchedule' }] }] });
  const [m] = parseManifests(stringify(toManifest({ name: 'rt', labels: { a: 'b' }, spec })), 'rt.yaml');
  assert.deepEqual([m?.name, m?.labels, m?.spec], ['rt', { a: 'b' }, spec]);
});

test('invalid YAML, a non-mapping and a missing name are one line with file and line', () => {
  assert.throws(() => parseManifests('apiVersion: goman.io/v1\nkind: [\n', 'x.yaml'), /^UsageError: x\.yaml:\d+: not valid YAML or JSON: /);
  assert.throws(() => parseManifests('- 1\n', 'x.yaml'), /x\.yaml:1: a manifest must be a mapping/);
  assert.throws(() => parseManifests('apiVersion: goman.io/v1\nkind: Cluster\nmetadata: {}\nspec: {}\n', 'x.yaml'), /x\.yaml:3: metadata\.name is required/);
  assert.throws(() => parseManifests('apiVersion: goman.io/v1\nkind: Cluster\nmetadata: {name: a, uid: x}\nspec: {}\n', 'x.yaml'), /x\.yaml:3: unknown field "metadata\.uid"/);
  assert.throws(() => parseManifests('apiVersion: goman.io/v1\nkind: Cluster\nmetadata: {name: a}\n', 'x.yaml'), /x\.yaml:1: spec is required/);
});

test('the diff is coloured only when asked: removals red, additions green, hunks cyan', () => {
  const diff = '--- a (current)\n+++ a (proposed)\n@@ -1,1 +1,1 @@\n-count: 3\n+count: 1\n';
  assert.equal(diffText(diff, false), diff);
  const coloured = diffText(diff, true);
  assert.ok(coloured.includes('\x1b[31m-count: 3\x1b[39m'));
  assert.ok(coloured.includes('\x1b[32m+count: 1\x1b[39m'));
  assert.ok(coloured.includes('\x1b[36m@@ -1,1 +1,1 @@\x1b[39m'));
  assert.ok(coloured.startsWith('--- a (current)\n+++ a (proposed)\n'), 'file headers stay plain');
});
