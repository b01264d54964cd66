// The recipe engine: base, then every matching overlay from least to most specific (ties by
// name), deep-merging component values into copies of the shared, frozen data.
import { createHash } from 'node:crypto';
import { validationFailed } from '../../domain/errors.ts';
import { API_VERSION, type ComponentResult, type Constraint, type Criteria, type RecipeResult } from '../types.ts';
import { criteriaKey } from './criteria.ts';
import { recipeData, type Layer, type OverlayCriteria, type RecipeData } from './data.ts';
import { deepMerge, type Values } from './merge.ts';
import { deploymentOrder } from './order.ts';

const FIELDS = ['service', 'accelerator', 'intent', 'os'] as const;

/**
 * An empty overlay field matches anything; a set one must equal the query's value, so a query
 * of `any` matches only overlays that leave the field empty. `nodes` is a minimum: an overlay
 * with nodes: 8 applies to clusters of 8 nodes or more.
 */
export function matches(overlay: OverlayCriteria, q: Criteria): boolean {
  for (const f of FIELDS) {
    const want = overlay[f];
    if (want !== undefined && want !== q[f]) return false;
  }
  return overlay.nodes === undefined || (q.nodes !== undefined && q.nodes >= overlay.nodes);
}

export function specificity(c: OverlayCriteria): number {
  return [...FIELDS, 'nodes' as const].filter((f) => c[f] !== undefined).length;
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function applicableOverlays(data: RecipeData, q: Criteria): Layer[] {
  return data.overlays.filter((o) => matches(o.criteria, q)).sort((a, b) => specificity(a.criteria) - specificity(b.criteria) || byName(a.name, b.name));
}

interface Draft {
  version: string;
  values: Values;
}

export function buildRecipe(q: Criteria, data: RecipeData = recipeData()): RecipeResult {
  const layers = [data.base, ...applicableOverlays(data, q)];
  const drafts = new Map<string, Draft>();
  const constraints = new Map<string, Constraint>();
  for (const layer of layers) {
    // A later constraint on the same Type.subtype.key replaces the earlier one.
    for (const c of layer.constraints) {
      constraints.delete(c.name);
      constraints.set(c.name, { ...c });
    }
    for (const [name, override] of Object.entries(layer.components)) {
      const def = data.components[name];
      if (!def) throw validationFailed(`unknown component ${name}`);
      const draft = drafts.get(name) ?? { version: def.version, values: structuredClone(def.values) };
      if (override.version) draft.version = override.version;
      if (override.values) draft.values = deepMerge(draft.values, override.values);
      drafts.set(name, draft);
    }
  }
  // A component brings what it depends on, with that component's registry defaults.
  for (const name of [...drafts.keys()]) addDependencies(name, data, drafts);
  const deps = new Map([...drafts.keys()].map((n) => [n, data.components[n]?.dependsOn ?? []]));
  const order = deploymentOrder(deps);
  const components: ComponentResult[] = [...drafts.keys()].sort(byName).map((name) => {
    const def = data.components[name];
    const draft = drafts.get(name);
    if (!def || !draft) throw new Error(`internal: component ${name} vanished`);
    return { name, version: draft.version, source: { chart: def.chart, repository: def.repository }, values: draft.values };
  });
  const criteria: RecipeResult['criteria'] = { service: q.service, accelerator: q.accelerator, intent: q.intent, os: q.os };
  if (q.nodes !== undefined) criteria.nodes = q.nodes;
  return {
    kind: 'RecipeResult',
    apiVersion: API_VERSION,
    metadata: { appliedOverlays: layers.map((l) => l.name) },
    criteria,
    constraints: [...constraints.values()],
    components,
    deploymentOrder: order,
  };
}

function addDependencies(name: string, data: RecipeData, drafts: Map<string, Draft>): void {
  for (const dep of data.components[name]?.dependsOn ?? []) {
    const def = data.components[dep];
    if (!def || drafts.has(dep)) continue;
    drafts.set(dep, { version: def.version, values: structuredClone(def.values) });
    addDependencies(dep, data, drafts);
  }
}

export interface CachedRecipe {
  result: RecipeResult;
  json: string;
  etag: string;
}

const CACHE_LIMIT = 512;
const cache = new Map<string, CachedRecipe>();

/**
 * The recipe for criteria over the packaged data, computed once per canonical criteria and
 * kept frozen (its serialised JSON too), so repeated requests cost a map lookup.
 */
export function cachedRecipe(q: Criteria): CachedRecipe {
  const key = criteriaKey(q);
  let hit = cache.get(key);
  if (!hit) {
    const result = buildRecipe(q);
    const json = JSON.stringify(result);
    const etag = `"${createHash('sha256').update(json).digest('base64url').slice(0, 27)}"`;
    hit = Object.freeze({ result: deepFreezeResult(result), json, etag });
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(key, hit);
  }
  return hit;
}

function deepFreezeResult<T>(v: T): T {
  if (v && typeof v === 'object') {
    for (const child of Object.values(v)) deepFreezeResult(child);
    Object.freeze(v);
  }
  return v;
}
