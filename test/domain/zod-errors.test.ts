// One way zod's issues become goman's field errors and one-line messages.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { fieldErrorsText, firstProblem, zodFieldErrors } from '../../src/domain/zod-errors.ts';

const schema = z.object({ a: z.object({ b: z.number() }), c: z.string() });

test('field errors join paths with dots, prefixed by where the value came from', () => {
  const r = schema.safeParse({ a: { b: 'x' }, c: 1 });
  assert.ok(!r.success);
  assert.deepEqual(
    zodFieldErrors(r.error, ['spec']).map((e) => e.path),
    ['spec.a.b', 'spec.c'],
  );
  assert.equal(fieldErrorsText(zodFieldErrors(r.error)).split('; ').length, 2);
});

test('an error about the value itself is at (root)', () => {
  const r = schema.safeParse(7);
  assert.ok(!r.success);
  assert.equal(zodFieldErrors(r.error)[0]?.path, '(root)');
  assert.match(fieldErrorsText(zodFieldErrors(r.error)), /^\(root\): /);
});

test('the first problem names one field, or says invalid', () => {
  const r = schema.safeParse({ a: { b: 1 } });
  assert.ok(!r.success);
  assert.match(firstProblem(r.error), /^c: /);
});
