import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { jsonEqual, stableStringify } from '../../src/domain/index.ts';

// Values as statuses hold them: JSON, with members sometimes left undefined.
const value = fc.letrec((tie) => ({
  leaf: fc.oneof(fc.string({ maxLength: 3 }), fc.integer({ min: -2, max: 2 }), fc.boolean(), fc.constant(null)),
  node: fc.oneof({ depthSize: 'small' }, tie('leaf'), fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.option(tie('node'), { nil: undefined }), { maxKeys: 4 })),
})).node;

/** The same value with each object's keys in another order. */
function reordered(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reordered);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reordered(x)]));
}

test('jsonEqual agrees with comparing stableStringify texts, whatever the key order or undefined members', () => {
  fc.assert(
    fc.property(value, value, (a, b) => {
      assert.equal(jsonEqual(a, b), stableStringify(a) === stableStringify(b));
      assert.equal(jsonEqual(a, reordered(a)), true);
    }),
    { numRuns: 2000 },
  );
});

test('jsonEqual: an undefined member is an absent one; a null is not', () => {
  assert.equal(jsonEqual({ a: 1, b: undefined }, { a: 1 }), true);
  assert.equal(jsonEqual({ a: 1 }, { a: 1, b: undefined }), true);
  assert.equal(jsonEqual({ a: 1, b: null }, { a: 1 }), false);
  assert.equal(jsonEqual([1, 2], [2, 1]), false);
  assert.equal(jsonEqual({}, []), false);
});
