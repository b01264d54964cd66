// The node-configuration documents (DESIGN §9): Snapshot and RecipeResult. Zod schemas read
// them back from files and request bodies, so a hand-edited document is checked, not trusted.
import { z } from 'zod';
import { ACCELERATORS, API_VERSION, INTENTS, OPERATORS, OSES, SERVICES } from './constants.ts';

export { ACCELERATORS, API_VERSION, INTENTS, OPERATORS, OSES, SERVICES };

export const scalarSchema = z.union([z.string(), z.number(), z.boolean()]);
export type Scalar = z.infer<typeof scalarSchema>;

export const subtypeSchema = z.object({
  subtype: z.string().min(1),
  data: z.record(z.string(), scalarSchema),
});
export type Subtype = z.infer<typeof subtypeSchema>;

export const MEASUREMENT_TYPES = ['OS', 'GPU', 'SystemD', 'K8s'] as const;
export type MeasurementType = (typeof MEASUREMENT_TYPES)[number];

export const measurementSchema = z.object({
  type: z.string().min(1),
  subtypes: z.array(subtypeSchema),
  reason: z.string().optional(),
});
export type Measurement = z.infer<typeof measurementSchema>;

export const snapshotSchema = z.object({
  kind: z.literal('Snapshot'),
  apiVersion: z.literal(API_VERSION),
  metadata: z.object({ timestamp: z.string(), version: z.string(), node: z.string() }),
  measurements: z.array(measurementSchema),
});
export type Snapshot = z.infer<typeof snapshotSchema>;


export interface Criteria {
  service: (typeof SERVICES)[number];
  accelerator: (typeof ACCELERATORS)[number];
  intent: (typeof INTENTS)[number];
  os: (typeof OSES)[number];
  nodes?: number;
}

export type Operator = (typeof OPERATORS)[number];

/** `Type.subtype.key <op> value`; the key may itself hold dots (sysctl names do). */
export const constraintSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9]+\.[A-Za-z0-9_-]+\..+$/, 'must be Type.subtype.key'),
  operator: z.enum(OPERATORS),
  value: z.string(),
});
export type Constraint = z.infer<typeof constraintSchema>;

export const componentResultSchema = z.object({
  name: z.string(),
  version: z.string(),
  source: z.object({ chart: z.string(), repository: z.string() }),
  values: z.record(z.string(), z.unknown()),
});
export type ComponentResult = z.infer<typeof componentResultSchema>;

export const recipeResultSchema = z.object({
  kind: z.literal('RecipeResult'),
  apiVersion: z.literal(API_VERSION),
  metadata: z.object({ appliedOverlays: z.array(z.string()) }),
  criteria: z.record(z.string(), z.union([z.string(), z.number()])),
  constraints: z.array(constraintSchema),
  components: z.array(componentResultSchema),
  deploymentOrder: z.array(z.string()),
});
export type RecipeResult = z.infer<typeof recipeResultSchema>;
