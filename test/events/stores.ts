// Real stores for the relay and scheduler tests: SQLite in a temp dir, PostgreSQL in a fresh
// database. open() may be called more than once to get a second process's view of one store.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { clusterSpecSchema } from '../../src/domain/index.ts';
import type { Cluster } from '../../src/domain/index.ts';
import { openStore } from '../../src/store/open.ts';
import type { ClusterStore } from '../../src/store/port.ts';
import { freshPgDatabase, needPeer, PG_ADMIN_URL } from '../helpers/peers.ts';
import { uniq } from './helpers.ts';

export interface StoreUnderTest {
  /** Opens the store (again); every instance is closed by cleanup(). */
  open(opts?: { activeReconcileMs?: number }): Promise<ClusterStore>;
  /** PostgreSQL URL of this store's database, when it is PostgreSQL. */
  pgUrl?: string;
  cleanup(): Promise<void>;
}

export interface Backend {
  label: 'sqlite' | 'postgres';
  /** Null when the peer is missing (the test was skipped). */
  make(t: TestContext): Promise<StoreUnderTest | null>;
}

function tracking(openOne: (activeReconcileMs?: number) => Promise<ClusterStore>, done: () => Promise<void>, pgUrl?: string): StoreUnderTest {
  const opened: ClusterStore[] = [];
  return {
    ...(pgUrl ? { pgUrl } : {}),
    open: async (opts = {}) => {
      const s = await openOne(opts.activeReconcileMs);
      opened.push(s);
      return s;
    },
    cleanup: async () => {
      await Promise.all(opened.map((s) => s.close()));
      await done();
    },
  };
}

export const BACKENDS: Backend[] = [
  {
    label: 'sqlite',
    make: async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'goman-events-'));
      return tracking(
        (activeReconcileMs) => openStore({ dataDir: dir, activeReconcileMs }),
        async () => rmSync(dir, { recursive: true, force: true }),
      );
    },
  },
  {
    label: 'postgres',
    make: async (t) => {
      if (!(await needPeer(t, 'PostgreSQL', PG_ADMIN_URL))) return null;
      const db = await freshPgDatabase();
      return tracking((activeReconcileMs) => openStore({ databaseUrl: db.url, dataDir: '/nonexistent', activeReconcileMs }), db.drop, db.url);
    },
  },
];

export function createCluster(store: ClusterStore): Promise<Cluster> {
  return store.createCluster({ name: `c-${uniq()}`, labels: {}, spec: clusterSpecSchema.parse({}), createdBy: 'test' });
}
