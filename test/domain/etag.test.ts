// One reading of entity tags for the API's If-Match, the SQL store, the S3 backend and the
// recipe endpoint's If-None-Match.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { etagValue, ifMatchVersion, ifNoneMatchHits, quoteEtag } from '../../src/domain/etag.ts';

test('an etag is read the same whether quoted, weak or bare', () => {
  for (const tag of ['"12"', 'W/"12"', '12', ' "12" ']) assert.equal(etagValue(tag), '12');
  assert.equal(etagValue('"a"b"'), 'a"b');
  assert.equal(quoteEtag('12'), '"12"');
  assert.equal(quoteEtag('"12"'), '"12"');
  assert.equal(etagValue(quoteEtag('abc')), 'abc');
});

test('If-Match names the first tag; * or nothing is no condition', () => {
  assert.equal(ifMatchVersion('"7", "8"'), '7');
  assert.equal(ifMatchVersion('W/"7"'), '7');
  for (const none of [undefined, '', ' ', '*', ' * ']) assert.equal(ifMatchVersion(none), undefined);
});

test('If-None-Match hits on any listed tag, weak or strong', () => {
  assert.equal(ifNoneMatchHits('"x", W/"abc"', '"abc"'), true);
  assert.equal(ifNoneMatchHits('"x"', '"abc"'), false);
  assert.equal(ifNoneMatchHits(undefined, '"abc"'), false);
});
