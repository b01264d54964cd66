// The command tree's seams: process commands come from the composition root, every other
// action is a typed pick of its module's export.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/cli/errors.ts';
import { buildProgram, type ControllerFlags, type ServeFlags } from '../../src/cli/program.ts';

test('serve and controller run what the composition root hands in, with their flags', async () => {
  const seen: string[] = [];
  const processes = {
    serve: async (f: ServeFlags) => void seen.push(`serve ${f.listen} ${f.controllers}`),
    controller: async (f: ControllerFlags) => void seen.push(`controller ${f.provider}`),
  };
  await buildProgram('0', processes).parseAsync(['serve', '--listen', '127.0.0.1:1', '--no-controllers'], { from: 'user' });
  await buildProgram('0', processes).parseAsync(['controller', '--provider', 'sim'], { from: 'user' });
  assert.deepEqual(seen, ['serve 127.0.0.1:1 false', 'controller sim']);
});

test('without the composition root, serve is listed but says it is not available', async () => {
  const program = buildProgram('0');
  assert.ok(program.commands.some((c) => c.name() === 'serve'));
  await assert.rejects(program.parseAsync(['serve'], { from: 'user' }), (e) => e instanceof UsageError && /not available in this build/.test(e.message));
});
