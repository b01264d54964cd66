// Deployment order: a topological sort over dependsOn; among components that are ready at
// the same time, the alphabetically first goes first, so the order is deterministic.
import { validationFailed } from '../../domain/errors.ts';

export function deploymentOrder(deps: ReadonlyMap<string, readonly string[]>): string[] {
  const pending = new Map<string, Set<string>>();
  for (const [name, on] of deps) pending.set(name, new Set(on.filter((d) => deps.has(d))));
  const order: string[] = [];
  while (pending.size) {
    const ready = [...pending].filter(([, on]) => on.size === 0).map(([n]) => n).sort();
    const next = ready[0];
    if (next === undefined) throw validationFailed(`dependency cycle among components: ${[...pending.keys()].sort().join(', ')}`);
    order.push(next);
    pending.delete(next);
    for (const on of pending.values()) on.delete(next);
  }
  return order;
}
