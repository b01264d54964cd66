// The recipe data shipped in src/nodeconfig/data: read once, checked by schema, deep-frozen.
// Frozen data cannot be changed by a merge by mistake; the engine copies before it writes.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseConstraint } from '../constraints.ts';
import { ACCELERATORS, INTENTS, OSES, SERVICES, type Constraint } from '../types.ts';

const componentSchema = z.strictObject({
  chart: z.string().min(1),
  repository: z.string().min(1),
  version: z.string().min(1),
  dependsOn: z.array(z.string()).default([]),
  values: z.record(z.string(), z.unknown()).default({}),
});

const componentOverrideSchema = z.strictObject({
  version: z.string().min(1).optional(),
  values: z.record(z.string(), z.unknown()).optional(),
});

const criteriaFieldsSchema = z.strictObject({
  service: z.enum(SERVICES).exclude(['any']).optional(),
  accelerator: z.enum(ACCELERATORS).exclude(['any']).optional(),
  intent: z.enum(INTENTS).exclude(['any']).optional(),
  os: z.enum(OSES).exclude(['any']).optional(),
  nodes: z.number().int().positive().optional(),
});

const layerSchema = z.strictObject({
  criteria: criteriaFieldsSchema.default({}),
  constraints: z.array(z.string()).default([]),
  components: z.record(z.string(), componentOverrideSchema.nullable()).default({}),
});

export type ComponentDef = z.infer<typeof componentSchema>;
export type ComponentOverride = z.infer<typeof componentOverrideSchema>;
export type OverlayCriteria = z.infer<typeof criteriaFieldsSchema>;

export interface Layer {
  name: string;
  criteria: OverlayCriteria;
  constraints: Constraint[];
  components: Record<string, ComponentOverride>;
}

export interface RecipeData {
  components: Readonly<Record<string, ComponentDef>>;
  base: Layer;
  overlays: readonly Layer[];
}

export const DATA_DIR = fileURLToPath(new URL('../data/', import.meta.url));

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}

function readYaml(file: string): unknown {
  return parseYaml(readFileSync(file, 'utf8'));
}

function toLayer(name: string, raw: unknown, known: Record<string, ComponentDef>): Layer {
  const layer = layerSchema.safeParse(raw);
  if (!layer.success) throw new Error(`recipe data ${name}: ${z.prettifyError(layer.error)}`);
  for (const c of Object.keys(layer.data.components)) {
    if (!known[c]) throw new Error(`recipe data ${name}: unknown component "${c}"`);
  }
  return {
    name,
    criteria: layer.data.criteria,
    constraints: layer.data.constraints.map(parseConstraint),
    components: Object.fromEntries(Object.entries(layer.data.components).map(([k, v]) => [k, v ?? {}])),
  };
}

export function loadRecipeData(dir: string = DATA_DIR): RecipeData {
  const reg = z.object({ components: z.record(z.string(), componentSchema) }).safeParse(readYaml(path.join(dir, 'components.yaml')));
  if (!reg.success) throw new Error(`recipe data components.yaml: ${z.prettifyError(reg.error)}`);
  const components = reg.data.components;
  for (const [name, def] of Object.entries(components)) {
    for (const d of def.dependsOn) if (!components[d]) throw new Error(`recipe data: ${name} depends on unknown component "${d}"`);
  }
  const overlayDir = path.join(dir, 'overlays');
  const overlays = readdirSync(overlayDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => toLayer(f.slice(0, -'.yaml'.length), readYaml(path.join(overlayDir, f)), components));
  return deepFreeze({ components, base: toLayer('base', readYaml(path.join(dir, 'base.yaml')), components), overlays });
}

let shared: RecipeData | undefined;
/** The packaged data, loaded on first use and shared (frozen) by every recipe after that. */
export function recipeData(): RecipeData {
  shared ??= loadRecipeData();
  return shared;
}
