// HotStatements compiles a statement once per shape and binds each later call's values in the
// order the compiled text wants them. Compiled with kysely's PostgreSQL compiler and no database:
// what is checked is the text and the parameters, which is all a shape changes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, sql } from 'kysely';
import { HotStatements } from '../../src/store/sql/hot-statements.ts';
import type { Database } from '../../src/store/sql/schema.ts';

const db = new Kysely<Database>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (k) => new PostgresIntrospector(k),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

type Row = { id: string; status: string; rows: { kind: string; message: string }[] };
const build = (v: Row) =>
  sql`WITH u AS (${db.updateTable('clusters').set({ status: v.status, updated_at: v.status }).where('id', '=', v.id)})
    ${sql.join(v.rows.map((r) => sql`SELECT ${r.kind}, ${r.message}, ${v.id}`), sql` UNION ALL `)}`.compile(db);

test('a shape is built once; later calls bind their own values in the text’s order, a value used twice included', () => {
  const hot = new HotStatements();
  let builds = 0;
  const counted = (v: Row) => {
    builds++;
    return build(v);
  };
  const first = hot.shaped('k', { id: 'a', status: 's1', rows: [{ kind: 'x', message: 'm1' }] }, counted);
  const second = hot.shaped('k', { id: 'b', status: 's2', rows: [{ kind: 'y', message: 'm2' }] }, counted);
  assert.equal(builds, 1);
  assert.equal(second.sql, first.sql);
  assert.deepEqual(first.parameters, build({ id: 'a', status: 's1', rows: [{ kind: 'x', message: 'm1' }] }).parameters);
  assert.deepEqual(second.parameters, ['s2', 's2', 'b', 'y', 'm2', 'b']);
  assert.equal(hot.nameOf(first.sql), 'goman_1');
  assert.equal(hot.nameOf('SELECT 1'), undefined);
});

test('another shape under another key is another statement, with its own name', () => {
  const hot = new HotStatements();
  const one = hot.shaped('one', { id: 'a', status: 's', rows: [{ kind: 'x', message: 'm' }] }, build);
  const two = hot.shaped('two', { id: 'a', status: 's', rows: [{ kind: 'x', message: 'm' }, { kind: 'z', message: 'n' }] }, build);
  assert.notEqual(two.sql, one.sql);
  assert.deepEqual(two.parameters, ['s', 's', 'a', 'x', 'm', 'a', 'z', 'n', 'a']);
  assert.equal(hot.nameOf(two.sql), 'goman_2');
});

test('a builder that binds a value not taken from its argument, or writes one into the text, is refused', () => {
  const hot = new HotStatements();
  assert.throws(() => hot.shaped('outside', { id: 'a' }, (v) => db.selectFrom('clusters').select('id').where('id', '=', v.id).where('name', '=', 'fixed').compile()), /did not come from its values/);
  assert.throws(() => hot.shaped('text', { id: 'a' }, (v) => sql`SELECT ${sql.raw(String(v.id))}`.compile(db)), /written into the SQL text/);
});

test('a fixed statement is compiled once and takes the caller’s parameters', () => {
  const hot = new HotStatements();
  let builds = 0;
  const read = (v: { id: string }) => {
    builds++;
    return db.selectFrom('clusters').select('id').where('id', '=', v.id).compile();
  };
  assert.deepEqual(hot.shaped('read', { id: 'a' }, read).parameters, ['a']);
  const again = hot.shaped('read', { id: 'b' }, read);
  assert.equal(builds, 1);
  assert.deepEqual(again.parameters, ['b']);
  assert.equal(hot.nameOf(again.sql), 'goman_1');
});
