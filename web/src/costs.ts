// Cost per month in the fleet: each cluster is priced by the server's plan of "no change"
// (POST /api/v1/clusters/{id}/plan → cost.before) when its row comes into view, a few at a time,
// and remembered per id and generation, so a fleet of 1 000 costs only the rows people look at.
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.ts';
import type { Cluster, PlanResult } from './types.ts';

const IN_FLIGHT = 4;
/** Known monthly cost (null: no price for some instance type), keyed `id@generation`. */
const known = new Map<string, number | null>();
const asked = new Set<string>();
const queue: Cluster[] = [];
let running = 0;
const listeners = new Set<() => void>();

const keyOf = (c: Cluster): string => `${c.id}@${c.generation}`;

function pump(): void {
  while (running < IN_FLIGHT && queue.length > 0) {
    const c = queue.shift()!;
    running++;
    api<PlanResult>('POST', `/api/v1/clusters/${c.id}/plan`)
      .then(
        (p) => known.set(keyOf(c), p.cost.before.monthly),
        () => asked.delete(keyOf(c)), // asked again when next in view
      )
      .finally(() => {
        running--;
        for (const l of listeners) l();
        pump();
      });
  }
}

export interface Costs {
  /** undefined while unknown. */
  monthly(c: Cluster): number | null | undefined;
  text(c: Cluster): string;
}

export const fleetCosts: Costs = {
  monthly: (c) => known.get(keyOf(c)),
  text: (c) => {
    const m = known.get(keyOf(c));
    return m === undefined ? '…' : m === null ? 'no price' : `$${m.toFixed(2)}`;
  },
};

/** Changes whenever a price arrives, so the caller re-renders (and re-sorts by cost). */
export function useCostVersion(): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const l = (): void => setVersion((n) => n + 1);
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return version;
}

/** Asks the server to price these (visible) clusters, dropping earlier asks now out of view. */
export function usePricing(visible: readonly Cluster[]): void {
  useEffect(() => {
    // Only what is still in view is worth asking about.
    queue.length = 0;
    for (const c of visible) {
      const k = keyOf(c);
      if (!asked.has(k) && !c.deletionTimestamp) {
        asked.add(k);
        queue.push(c);
      }
    }
    pump();
  }, [visible.map(keyOf).join(',')]);
}
