// Cursor pagination through a fleet while it changes, on both engines: every cluster that
// exists throughout is listed exactly once and in creation order, whatever is written between
// pages (updates move updated_at and resourceVersion, never the (created_at, id) key), and
// clusters created meanwhile appear at most once, after all of them. Half the fleet shares one
// creation millisecond, so ties are broken by id.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { clusterSpecSchema } from '../../src/domain/index.ts';
import { openStore } from '../../src/store/open.ts';
import type { ClusterStore } from '../../src/store/port.ts';
import { freshPgDatabase, needPeer, PG_ADMIN_URL } from '../helpers/peers.ts';

const ENGINES: { label: string; open: (t: TestContext) => Promise<{ store: ClusterStore; cleanup: () => Promise<void> } | null> }[] = [
  {
    label: 'sqlite',
    open: async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'goman-pages-'));
      const store = await openStore({ dataDir: dir });
      return { store, cleanup: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
    },
  },
  {
    label: 'postgres',
    open: async (t) => {
      if (!(await needPeer(t, 'PostgreSQL', PG_ADMIN_URL))) return null;
      const db = await freshPgDatabase();
      const store = await openStore({ databaseUrl: db.url, dataDir: '/nonexistent' });
      return { store, cleanup: async () => (await store.close(), await db.drop()) };
    },
  },
];

for (const engine of ENGINES) {
  test(`pagination (${engine.label}): stable and complete while clusters are updated and created between pages`, async (t) => {
    const opened = await engine.open(t);
    if (opened === null) return;
    const { store } = opened;
    try {
      const provider = `p${randomBytes(3).toString('hex')}`;
      const spec = { ...clusterSpecSchema.parse({}), provider } as ReturnType<typeof clusterSpecSchema.parse>;
      const create = (name: string) => store.createCluster({ name, labels: { fleet: provider }, spec, createdBy: 'test' });
      const fleet: string[] = [];
      t.mock.timers.enable({ apis: ['Date'], now: Date.parse('2026-11-29T12:00:00.000Z') });
      for (let i = 0; i < 30; i++) fleet.push((await create(`same-ms-${i}`)).id);
      t.mock.timers.reset();
      for (let i = 0; i < 30; i++) fleet.push((await create(`later-${i}`)).id);

      const seen: string[] = [];
      const added: string[] = [];
      let cursor: string | undefined;
      let page = 0;
      do {
        const result = await store.listClusters({ limit: 7, provider, cursor, labelSelector: [{ key: 'fleet', op: '=', value: provider }] });
        seen.push(...result.items.map((c) => c.id));
        cursor = result.nextCursor ?? undefined;
        // Between pages: touch one cluster already listed and one not yet listed, and add one.
        page++;
        await store.updateCluster(fleet[(page * 5) % fleet.length]!, { labels: { fleet: provider, touched: String(page) } });
        await store.updateCluster(fleet[(page * 11 + 3) % fleet.length]!, { labels: { fleet: provider, touched: `x${page}` } });
        if (page <= 5) added.push((await create(`added-${page}`)).id);
      } while (cursor);

      const originals = seen.filter((id) => fleet.includes(id));
      assert.deepEqual(originals, fleet, 'every original cluster once, in creation order');
      const extra = seen.filter((id) => !fleet.includes(id));
      assert.equal(new Set(extra).size, extra.length, 'a cluster created meanwhile appears at most once');
      for (const id of extra) assert.ok(added.includes(id));
      assert.ok(seen.indexOf(extra[0] ?? fleet.at(-1)!) >= seen.indexOf(fleet.at(-1)!), 'new clusters come after the fleet');
    } finally {
      await opened.cleanup();
    }
  });
}
