import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isValidName, nameProblem } from '../../src/domain/names.ts';

test('names follow DNS-1123 labels of at most 40 characters', () => {
  for (const ok of ['a', 'dev', 'gpu-1', 'a'.repeat(40)]) assert.equal(isValidName(ok), true, ok);
  for (const bad of ['', '1a', '-a', 'a-', 'A', 'a_b', 'a.b', 'a'.repeat(41), 'a;rm -rf /', 'a\nb', 'ab ']) {
    assert.equal(isValidName(bad), false, JSON.stringify(bad));
    assert.ok(nameProblem(bad));
  }
});
