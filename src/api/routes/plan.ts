// Plans over HTTP (DESIGN §13): `POST /api/v1/clusters/{idOrName}/plan`, and `?dryRun=true`
// on cluster writes (Kubernetes' dryRun=All: validate and plan, write nothing, answer the
// object as it would be, with its plan).
import { z } from 'zod';
import type { Action, Cluster, ClusterSpec, Labels, PriceBook } from '../../domain/index.ts';
import { assertAdmissible, assertMutableSpec, clusterSpecSchema, emptyStatus, GomanError, labelsSchema, nameTaken, priceBook } from '../../domain/index.ts';
import { newId } from '../../util/ids.ts';
import type { PlanResult } from '../../domain/plan-result.ts';
import { planResult, planResultSchema } from '../../domain/plan-result.ts';
import { loadPrices } from '../../cost/prices.ts';
import { SHIPPED_AS_OF, SHIPPED_PRICES } from '../../cost/price-table.ts';
import { emptySimState } from '../../providers/sim/instances.ts';
import { estimatePlan, planSim } from '../../providers/sim/plan.ts';
import { SimReconciler } from '../../providers/sim/reconciler.ts';
import { simSettings } from '../../providers/sim/settings.ts';
import type { ClusterRecords, ProviderStateStore } from '../../store/port.ts';
import { ownerFilter } from '../auth.ts';
import type { RouteDef } from '../route.ts';
import { defineRoute } from '../route.ts';
import { clusterSchema, idOrNameParams } from '../schemas.ts';

/** How the API plans: from what the cluster's provider observes, priced from a dated book. */
export interface PlanService {
  plan(cluster: Cluster, spec: ClusterSpec, deleting: boolean): Promise<Action[]>;
  /** A cluster that does not exist yet. */
  planNew(name: string, spec: ClusterSpec): Action[];
  prices(): Promise<PriceBook>;
}

/**
 * sim clusters are planned from their stored simulated cloud, by the sim provider's own
 * planner; other providers' clouds are not visible from here, so their plan is estimated as
 * a converged cluster's (see estimatePlan). Prices: the data dir's cache of the AWS Price
 * List API, else the shipped table (the API never calls AWS for a price on a request).
 */
export function storePlanService(store: ProviderStateStore, opts: { dataDir?: string | undefined } = {}): PlanService {
  // The embedded sim controller reads its timings from this process's environment; so does its planner.
  const settings = simSettings({}, process.env);
  const sim = new SimReconciler({ store });
  return {
    plan: (cluster, spec, deleting) =>
      cluster.spec.provider === 'sim'
        ? sim.plan(cluster, spec, deleting)
        : Promise.resolve(estimatePlan(cluster.name, cluster.spec, spec, deleting, settings)),
    planNew: (name, spec) => planSim({ name, spec, deleting: false }, emptySimState(), 0, settings),
    prices: async () =>
      opts.dataDir ? (await loadPrices({ dataDir: opts.dataDir })).book : priceBook('shipped-table', SHIPPED_AS_OF, SHIPPED_PRICES),
  };
}

/** `?dryRun=true` (or Kubernetes' `All`): validate and plan, write nothing. */
export const dryRunQuery = z.object({
  dryRun: z.enum(['true', 'All', 'false']).optional().describe('"true" (or "All"): validate and plan without writing; the answer is the object as it would be, with `plan`'),
});
export const isDryRun = (q: { dryRun?: string | undefined }): boolean => q.dryRun === 'true' || q.dryRun === 'All';

export const clusterWithPlanSchema = clusterSchema.and(z.object({ plan: planResultSchema.optional().describe('only on a dry run') }));

export const planBody = z
  .strictObject({
    spec: clusterSpecSchema.optional().describe('the proposed spec (absent fields take their defaults); absent: the current spec'),
    labels: labelsSchema.optional(),
  })
  .optional();

/**
 * A plan or a dry run admits a change exactly as the write would: the same immutable fields and the
 * same provider rules, so a clean dry run never hides a 422 that the real request would get.
 */
function admitChange(name: string, current: ClusterSpec, proposed: ClusterSpec): void {
  assertMutableSpec(current, proposed);
  assertAdmissible(name, proposed);
}

export async function planChange(plans: PlanService, cluster: Cluster, next: { spec: ClusterSpec; labels: Labels } | null): Promise<PlanResult> {
  const deleting = next === null;
  const spec = next?.spec ?? cluster.spec;
  const actions = await plans.plan(cluster, spec, deleting || cluster.deletionTimestamp !== undefined);
  return planResult(cluster.name, { spec: cluster.spec, labels: cluster.labels }, next, actions, await plans.prices());
}

/** The cluster a create would make, with its plan (nothing is written). */
export async function dryRunCreate(
  plans: PlanService,
  store: ClusterRecords,
  body: { name: string; labels: Labels; spec: ClusterSpec },
  createdBy: string,
): Promise<Cluster & { plan: PlanResult }> {
  const existing = await store.getCluster(body.name);
  if (existing) throw nameTaken(body.name);
  assertAdmissible(body.name, body.spec);
  const now = new Date().toISOString();
  const cluster: Cluster = {
    id: newId(),
    name: body.name,
    labels: body.labels,
    spec: body.spec,
    status: emptyStatus(),
    generation: 1,
    resourceVersion: '0',
    createdBy,
    createdAt: now,
    updatedAt: now,
    finalizers: [],
  };
  const plan = planResult(body.name, null, { spec: body.spec, labels: body.labels }, plans.planNew(body.name, body.spec), await plans.prices());
  return { ...cluster, plan };
}

/** The cluster an update would leave, with its plan (nothing is written). */
export async function dryRunUpdate(
  plans: PlanService,
  cluster: Cluster,
  next: { spec: ClusterSpec; labels: Labels },
  ifMatch: string | undefined,
): Promise<Cluster & { plan: PlanResult }> {
  if (ifMatch !== undefined && ifMatch !== cluster.resourceVersion) {
    throw new GomanError('PRECONDITION_FAILED', `cluster "${cluster.name}" is at resourceVersion ${cluster.resourceVersion}, not ${ifMatch}`);
  }
  if (cluster.deletionTimestamp) throw new GomanError('CONFLICT', `cluster "${cluster.name}" is being deleted`);
  admitChange(cluster.name, cluster.spec, next.spec);
  const specChanged = JSON.stringify(clusterSpecSchema.parse(next.spec)) !== JSON.stringify(cluster.spec);
  const plan = await planChange(plans, cluster, next);
  return { ...cluster, spec: next.spec, labels: next.labels, generation: cluster.generation + (specChanged ? 1 : 0), plan };
}

/** The cluster a delete would leave (deletionTimestamp set), with its plan (nothing is written). */
export async function dryRunDelete(plans: PlanService, cluster: Cluster, ifMatch: string | undefined): Promise<Cluster & { plan: PlanResult }> {
  if (ifMatch !== undefined && ifMatch !== cluster.resourceVersion) {
    throw new GomanError('PRECONDITION_FAILED', `cluster "${cluster.name}" is at resourceVersion ${cluster.resourceVersion}, not ${ifMatch}`);
  }
  const plan = await planChange(plans, cluster, null);
  return { ...cluster, deletionTimestamp: cluster.deletionTimestamp ?? new Date().toISOString(), plan };
}

export const planResponseSchema = planResultSchema.extend({ name: z.string(), generation: z.int() });

export function planRoutes(store: ClusterRecords, plans: PlanService): RouteDef[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/api/v1/clusters/:idOrName/plan',
      operationId: 'planCluster',
      summary: 'Plan a spec change: diff, ordered actions, disruption and cost',
      description:
        'Nothing is written. Without a body the plan is for the current spec (what the provider still has to do). ' +
        'The actions are the ones the provider runs, in order; cost is on-demand USD from the price book named in `cost.*.origin`/`asOf`.',
      tag: 'clusters',
      auth: ['user', 'admin'],
      params: idOrNameParams,
      body: planBody,
      responses: { 200: { description: 'the plan', schema: planResponseSchema } },
      problems: [404, 422],
      handler: async ({ params, body, identity }) => {
        const cluster = await store.getCluster(params.idOrName, ownerFilter(identity));
        if (!cluster) throw new GomanError('NOT_FOUND', `cluster "${params.idOrName}" not found`);
        const next = { spec: body?.spec ?? cluster.spec, labels: body?.labels ?? cluster.labels };
        admitChange(cluster.name, cluster.spec, next.spec);
        return { name: cluster.name, generation: cluster.generation, ...(await planChange(plans, cluster, next)) };
      },
    }),
  ];
}
