// Plans and costs for the CLI and TUI (DESIGN §13). A server context asks the server, whose
// providers plan from what they observe; an S3 context has no server, so its plans are
// estimated here from the specs (see estimatePlan) and priced with the local price book.
import type { ClusterBackend } from '../client/backend.ts';
import { ServerBackend } from '../client/http-backend.ts';
import type { Cluster } from '../domain/cluster.ts';
import type { PriceBook } from '../domain/cost.ts';
import { instancesByType } from '../domain/cost.ts';
import type { Desired, PlanResult } from '../domain/plan-result.ts';
import { planResult } from '../domain/plan-result.ts';
import type { ClusterSpec } from '../domain/spec.ts';
import { loadPrices, fetchFromAws, shouldFetch } from '../cost/prices.ts';
import { emptySimState } from '../providers/sim/instances.ts';
import { estimatePlan, planSim } from '../providers/sim/plan.ts';
import { simSettings } from '../providers/sim/settings.ts';
import { defaultDataDir } from '../util/data-dir.ts';

const SETTINGS = simSettings({}, {});

/**
 * The local price book, asking AWS for the specs' prices when allowed (GOMAN_PRICE_SOURCE)
 * unless `fetch: false` (a quick read such as `goman get`); its warning (stale or
 * unreachable prices) goes to stderr once.
 */
export async function localPrices(specs: readonly ClusterSpec[] = [], opts: { fetch?: boolean; env?: Record<string, string | undefined> } = {}): Promise<PriceBook> {
  const env = opts.env ?? process.env;
  const need = specs.flatMap((s) => [...instancesByType(s).keys()].map((instanceType) => ({ region: s.region, instanceType })));
  const ask = (opts.fetch ?? true) && shouldFetch(env);
  const loaded = await loadPrices({ dataDir: defaultDataDir(env), env, need, ...(ask ? { fetch: fetchFromAws } : {}) });
  if (loaded.warning) process.stderr.write(`warning: ${loaded.warning}\n`);
  return loaded.book;
}

export async function planUpdate(backend: ClusterBackend, cluster: Cluster, next: Desired, book?: PriceBook): Promise<PlanResult> {
  if (backend instanceof ServerBackend) return backend.client.planCluster(cluster.name, { spec: next.spec, labels: next.labels });
  const actions = estimatePlan(cluster.name, cluster.spec, next.spec, false, SETTINGS);
  return planResult(cluster.name, { spec: cluster.spec, labels: cluster.labels }, next, actions, book ?? (await localPrices([cluster.spec, next.spec])));
}

export async function planCreate(name: string, next: Desired, book?: PriceBook): Promise<PlanResult> {
  const actions = planSim({ name, spec: next.spec, deleting: false }, emptySimState(), 0, SETTINGS);
  return planResult(name, null, next, actions, book ?? (await localPrices([next.spec])));
}

export async function planDelete(cluster: Cluster, book?: PriceBook): Promise<PlanResult> {
  const actions = estimatePlan(cluster.name, cluster.spec, cluster.spec, true, SETTINGS);
  return planResult(cluster.name, { spec: cluster.spec, labels: cluster.labels }, null, actions, book ?? (await localPrices([cluster.spec])));
}
