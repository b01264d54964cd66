// Shared setup for the API tests: a real store (SQLite in a temp dir unless a URL is given),
// buildApi, and one token per role. Requests go through fastify's inject (no sockets) except
// where a test needs a listening server (watch streams).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { ApiDeps } from '../../src/api/app.ts';
import { buildApi } from '../../src/api/app.ts';
import { issueToken } from '../../src/api/tokens.ts';
import { openStore } from '../../src/store/open.ts';
import type { ClusterStore } from '../../src/store/port.ts';
import type { Cluster } from '../../src/domain/index.ts';
import type { Reconciler } from '../../src/reconcile/types.ts';

export interface Harness {
  app: FastifyInstance;
  store: ClusterStore;
  tokens: { admin: string; alice: string; bob: string; controller: string };
  /** inject as `who` (a role token name), or anonymously with who = null. */
  call(who: keyof Harness['tokens'] | null, opts: InjectOptions): Promise<LightMyRequestResponse>;
  /** Everything a bad request must leave untouched: clusters and outbox. */
  snapshot(): Promise<string>;
}

export async function harness(t: TestContext, overrides: Partial<ApiDeps> & { databaseUrl?: string } = {}): Promise<Harness> {
  const dir = mkdtempSync(path.join(tmpdir(), 'goman-api-'));
  const { databaseUrl, ...deps } = overrides;
  const store = await openStore({ dataDir: dir, databaseUrl });
  const app = await buildApi({
    store,
    auth: { mode: 'token' },
    version: 'test',
    topology: 'embedded',
    providers: ['sim'],
    rateLimit: { max: 100_000, windowMs: 60_000 },
    ...deps,
  });
  const tokens = {
    admin: (await issueToken(store, { subject: 'admin', role: 'admin' })).token,
    alice: (await issueToken(store, { subject: 'alice@example.com', role: 'user' })).token,
    bob: (await issueToken(store, { subject: 'bob@example.com', role: 'user' })).token,
    controller: (await issueToken(store, { subject: 'sim', role: 'controller' })).token,
  };
  t.after(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    app,
    store,
    tokens,
    call: (who, opts) =>
      app.inject({ ...opts, headers: { ...(who ? { authorization: `Bearer ${tokens[who]}` } : {}), ...(opts.headers ?? {}) } }),
    snapshot: async () => {
      const clusters = await store.listClusters({ limit: 500 });
      const outbox = await store.readOutboxSince(0, 10_000);
      return JSON.stringify({ clusters: clusters.items, outbox: outbox.map((r) => r.seq) });
    },
  };
}

export const PROBLEM = /^application\/problem\+json/;

/**
 * One reconcile of the named cluster as the controller host runs it (under its lease, on a
 * fresh read, reports into the store), without a host: tests step a provider pass by pass.
 * Returns the cluster as it is afterwards.
 */
export async function reconcilePass(h: Harness, reconciler: Reconciler, name: string): Promise<Cluster> {
  const cluster = await h.store.getCluster(name);
  if (!cluster) throw new Error(`no cluster ${name}`);
  const lease = await h.store.acquireLease(`cluster/${cluster.id}`, 'test', 30_000);
  if (!lease) throw new Error(`the lease of ${name} is held`);
  try {
    await reconciler.reconcile(cluster, {
      fence: lease.token,
      signal: new AbortController().signal,
      report: async (r) => void (await h.store.reportStatus(cluster.id, reconciler.name, r)),
      releaseFinalizer: async () => {},
    });
  } finally {
    await h.store.releaseLease(lease);
  }
  const after = await h.store.getCluster(name);
  if (!after) throw new Error(`cluster ${name} is gone`);
  return after;
}
