// Pure pieces of the API: label selectors, JSON merge patch, error → problem mapping, tokens.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { GomanError } from '../../src/domain/index.ts';
import { parseLabelSelector, SELECTOR_PATTERN } from '../../src/domain/label-selector.ts';
import { mergePatch } from '../../src/domain/merge-patch.ts';
import { mapError, problemBody } from '../../src/api/problem.ts';
import { generateToken, hashToken, parseExpiresIn } from '../../src/api/tokens.ts';

test('label selectors parse every requirement form', () => {
  assert.deepEqual(parseLabelSelector('a=b,c!=d,e,!f,g==h,x.io/k=v'), [
    { key: 'a', op: '=', value: 'b' },
    { key: 'c', op: '!=', value: 'd' },
    { key: 'e', op: 'exists' },
    { key: 'f', op: '!exists' },
    { key: 'g', op: '=', value: 'h' },
    { key: 'x.io/k', op: '=', value: 'v' },
  ]);
  assert.deepEqual(parseLabelSelector(''), []);
  assert.deepEqual(parseLabelSelector('a='), [{ key: 'a', op: '=', value: '' }]);
});

test('bad label selectors are VALIDATION_FAILED naming labelSelector', () => {
  for (const bad of ['a=b,,c', '=x', '!', 'a b', 'a=b c', '-a=b', 'a=' + 'v'.repeat(64), Array(21).fill('a').join(',')]) {
    assert.throws(
      () => parseLabelSelector(bad),
      (e: unknown) => e instanceof GomanError && e.code === 'VALIDATION_FAILED' && e.errors?.[0]?.path === 'labelSelector',
      bad,
    );
  }
});

test('the selector pattern accepts what the parser accepts', () => {
  for (const ok of ['a=b,c!=d,e,!f', 'x.io/k==v', 'a=']) assert.ok(SELECTOR_PATTERN.test(ok), ok);
  for (const bad of ['a=b,,c', '=x', 'a b']) assert.ok(!SELECTOR_PATTERN.test(bad), bad);
});

test('merge patch follows RFC 7386', () => {
  // The RFC's appendix A examples.
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, result] of cases) assert.deepEqual(mergePatch(target, patch), result);
  const target = { a: { b: 1 } };
  mergePatch(target, { a: { b: 2 } });
  assert.deepEqual(target, { a: { b: 1 } }, 'the target is not mutated');
});

test('errors map to problem statuses and never leak internals', () => {
  assert.deepEqual(
    [mapError(new GomanError('NAME_TAKEN', 'x')).status, mapError(new GomanError('PRECONDITION_FAILED', 'x')).status, mapError(new GomanError('RATE_LIMITED', 'x')).status],
    [409, 412, 429],
  );
  const internal = mapError(new Error('relation "clusters" does not exist at SELECT * FROM clusters'));
  assert.equal(internal.status, 500);
  assert.equal(internal.code, 'INTERNAL');
  assert.doesNotMatch(internal.detail, /SELECT|relation/);
  const storeInternal = mapError(new GomanError('INTERNAL', 'duplicate key value violates unique constraint "x"'));
  assert.doesNotMatch(storeInternal.detail, /duplicate key/);
  const zodErr = z.object({ spec: z.object({ pools: z.array(z.object({ count: z.int() })) }) }).safeParse({ spec: { pools: [{ count: 'x' }] } });
  assert.ok(!zodErr.success);
  const mapped = mapError(zodErr.error);
  assert.equal(mapped.status, 400);
  assert.equal(mapped.errors?.[0]?.path, 'spec.pools.0.count');
  const body = problemBody(404, 'NOT_FOUND', 'gone', 'req-1');
  assert.deepEqual(Object.keys(body).sort(), ['code', 'detail', 'requestId', 'status', 'title', 'type']);
});

test('tokens: prefix, entropy, hash, lifetimes', () => {
  const a = generateToken();
  assert.match(a, /^gmn_[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a, generateToken());
  assert.match(hashToken(a), /^[0-9a-f]{64}$/);
  assert.equal(parseExpiresIn('30m'), 30 * 60_000);
  assert.equal(parseExpiresIn('24h'), 86_400_000);
  assert.equal(parseExpiresIn('30d'), 30 * 86_400_000);
  for (const bad of ['0d', '1w', '', 'd', '100000d', '1.5h', '-1h']) assert.throws(() => parseExpiresIn(bad), GomanError, bad);
});
