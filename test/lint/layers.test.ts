// The layer rule of `npm run lint` (.dependency-cruiser.js) itself: run on small trees made for
// each case, it refuses an upward import, an import between peers, a cycle and a stray folder,
// and passes an import that goes down.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

const REPO = path.resolve(import.meta.dirname, '../..');
const DEPCRUISE = path.join(REPO, 'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs');

/** Cruises a tree of `files` (path under src/ → source) with goman's rules. */
function cruise(files: Record<string, string>): { ok: boolean; out: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'goman-layers-'));
  try {
    writeFileSync(path.join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', allowImportingTsExtensions: true, noEmit: true }, include: ['src'] }));
    for (const [file, source] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, 'src', file)), { recursive: true });
      writeFileSync(path.join(root, 'src', file), source);
    }
    const r = spawnSync(process.execPath, [DEPCRUISE, 'src', '--config', path.join(REPO, '.dependency-cruiser.js'), '--output-type', 'err'], { cwd: root, encoding: 'utf8' });
    return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('an import that goes down a layer passes', () => {
  const r = cruise({ 'cmd/main.ts': "import { a } from '../domain/a.ts';\nexport const m = a;\n", 'domain/a.ts': 'export const a = 1;\n' });
  assert.ok(r.ok, r.out);
});

test('an import that goes up a layer fails, naming the rule and both files', () => {
  const r = cruise({ 'domain/a.ts': "import { m } from '../cmd/main.ts';\nexport const a = m;\n", 'cmd/main.ts': 'export const m = 1;\n' });
  assert.equal(r.ok, false);
  assert.match(r.out, /error layer-domain: src\/domain\/a\.ts → src\/cmd\/main\.ts/);
});

test('peers of one row do not import each other (client and api)', () => {
  const r = cruise({ 'client/c.ts': "import { a } from '../api/a.ts';\nexport const c = a;\n", 'api/a.ts': 'export const a = 1;\n' });
  assert.equal(r.ok, false);
  assert.match(r.out, /error layer-client: src\/client\/c\.ts → src\/api\/a\.ts/);
});

test('a cycle between files of one folder fails, type-only imports included', () => {
  const r = cruise({
    'util/x.ts': "import type { Y } from './y.ts';\nexport type X = { y?: Y };\n",
    'util/y.ts': "import type { X } from './x.ts';\nexport type Y = { x?: X };\n",
  });
  assert.equal(r.ok, false);
  assert.match(r.out, /error no-circular/);
});

test('a file outside the layer folders fails', () => {
  const r = cruise({ 'misc/z.ts': "import { a } from '../domain/a.ts';\nexport const z = a;\n", 'domain/a.ts': 'export const a = 1;\n' });
  assert.equal(r.ok, false);
  assert.match(r.out, /error in-a-layer: src\/misc\/z\.ts/);
});
