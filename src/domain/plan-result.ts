// What "plan this change" answers (DESIGN §13), the same for the API, `goman diff`, `goman
// plan` and the TUI: the spec diff, the provider's actions, what they disrupt, and the cost
// before and after.
import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import { z } from 'zod';
import type { Cost, PriceBook } from './cost.ts';
import { clusterCost, costSchema } from './cost.ts';
import type { Action } from './plan.ts';
import { actionSchema, disruptionOf, disruptionSchema } from './plan.ts';
import type { ClusterSpec, Labels } from './spec.ts';

export const planResultSchema = z.strictObject({
  specDiff: z.string().describe('unified diff of the spec (and labels) as YAML; empty when nothing changes'),
  actions: z.array(actionSchema).describe('in the order the provider will run them'),
  disruption: disruptionSchema,
  cost: z.strictObject({ before: costSchema, after: costSchema }),
});
export type PlanResult = z.output<typeof planResultSchema>;

export interface Desired {
  spec: ClusterSpec;
  labels: Labels;
}

/** `--- name (current)` / `+++ name (proposed)` unified diff of the YAML; '' when equal. */
export function specDiff(name: string, before: Desired | null, after: Desired | null): string {
  const text = (d: Desired | null): string => (d ? stringify({ labels: d.labels, spec: d.spec }) : '');
  const a = text(before);
  const b = text(after);
  if (a === b) return '';
  const patch = createTwoFilesPatch(`${name} (current)`, `${name} (proposed)`, a, b, '', '', { context: 3 });
  // Drop the "=====" separator line createTwoFilesPatch starts with.
  return patch.replace(/^=+\n/, '');
}

/** A deleted or not-yet-created cluster runs nothing. */
const NOTHING = (book: PriceBook): Cost => ({ currency: 'USD', hourly: 0, monthly: 0, missing: [], origin: book.origin, asOf: book.asOf });

export function planResult(name: string, before: Desired | null, after: Desired | null, actions: Action[], book: PriceBook): PlanResult {
  return {
    specDiff: specDiff(name, before, after),
    actions,
    disruption: disruptionOf(actions),
    cost: {
      before: before ? clusterCost(before.spec, book) : NOTHING(book),
      after: after ? clusterCost(after.spec, book) : NOTHING(book),
    },
  };
}
