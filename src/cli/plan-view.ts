// A plan in plain words for a terminal or a pipe: the coloured unified spec diff, the actions
// grouped ("launch 2 × t3.large in pool gpu"), what they disrupt, and the cost change.
import { costChangeText } from '../domain/cost.ts';
import type { PlanResult } from '../domain/plan-result.ts';
import { describePlan } from '../domain/plan.ts';
import type { Color } from './output.ts';
import { paint } from './output.ts';

export function diffText(diff: string, color: boolean): string {
  if (!diff) return '';
  const tint = (line: string): Color | undefined =>
    line.startsWith('+++') || line.startsWith('---') ? undefined : line.startsWith('+') ? 'green' : line.startsWith('-') ? 'red' : line.startsWith('@@') ? 'cyan' : undefined;
  return diff.split('\n').map((l) => paint(l, tint(l), color)).join('\n').replace(/\n*$/, '\n');
}

export function planText(p: PlanResult, color: boolean): string {
  const out: string[] = [];
  const steps = describePlan(p.actions);
  out.push(steps.length ? 'Plan:' : 'Plan: nothing to do');
  for (const s of steps) out.push(`  - ${s}`);
  const d = p.disruption;
  if (steps.length) {
    const downtime = d.downtime ? paint('yes', 'red', color) : 'no';
    out.push(`Disruption: ${d.nodesDrained} node(s) drained, ${d.nodesReplaced} replaced, downtime ${downtime}`);
  }
  out.push(`Cost: ${costChangeText(p.cost.before, p.cost.after)} (on-demand; prices: ${p.cost.after.origin}, ${p.cost.after.asOf})`);
  return out.join('\n') + '\n';
}
