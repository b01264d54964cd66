// Condition bookkeeping: lastTransitionTime moves only when a condition's status changes.
import type { Condition, ConditionStatus, ReportedCondition } from './cluster.ts';

export function findCondition(conditions: readonly Condition[], type: string): Condition | undefined {
  return conditions.find((c) => c.type === type);
}

export function isTrue(conditions: readonly Condition[], type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/** Merge freshly stated conditions over earlier ones, keeping transition times where status held. */
export function stampConditions(
  previous: readonly Condition[],
  next: readonly ReportedCondition[],
  observedGeneration: number,
  now: string,
): Condition[] {
  return next.map((c) => {
    const before = findCondition(previous, c.type);
    const lastTransitionTime = before && before.status === c.status ? before.lastTransitionTime : now;
    return { type: c.type, status: c.status, reason: c.reason, message: c.message, lastTransitionTime, observedGeneration };
  });
}

export function condition(type: string, status: ConditionStatus, reason: string, message: string): ReportedCondition {
  return { type, status, reason, message };
}

/**
 * Names for a condition message: all of them up to `max`, then a count. A message lists nodes or
 * controllers, and a cluster may have a thousand; reported messages are capped at 2000
 * characters, and a longer one would make the whole report fail.
 */
export function nameList(names: readonly string[], max = 10): string {
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}
