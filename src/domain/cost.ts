// What a cluster costs to run (DESIGN §13): on-demand Linux prices of its instance types in
// its region, times the instances the spec asks for. A price nobody knows is "no price" —
// never 0 — and the total is then unknown too, naming what is missing.
import { z } from 'zod';
import type { ClusterSpec } from './spec.ts';
import { serverCount } from './spec.ts';

/** AWS's convention for monthly figures: 730 hours. */
export const HOURS_PER_MONTH = 730;

export interface PriceEntry {
  region: string;
  instanceType: string;
  usdPerHour: number;
  /** Where the number comes from (a URL or "AWS Price List Query API GetProducts") and when it was valid. */
  source: string;
  asOf: string;
}

/** Prices by region and instance type, with where they came from as a whole. */
export interface PriceBook {
  /** "aws-pricing-api" (fetched, cached) or "shipped-table". */
  origin: string;
  /** ISO date the prices were fetched or published. */
  asOf: string;
  price(region: string, instanceType: string): PriceEntry | undefined;
}

export function priceBook(origin: string, asOf: string, entries: readonly PriceEntry[]): PriceBook {
  const byKey = new Map(entries.map((e) => [`${e.region}/${e.instanceType}`, e]));
  return { origin, asOf, price: (region, type) => byKey.get(`${region}/${type}`) };
}

export const costSchema = z.strictObject({
  currency: z.literal('USD'),
  hourly: z.number().nullable().describe('null when any instance type has no known price'),
  monthly: z.number().nullable().describe(`hourly × ${HOURS_PER_MONTH}`),
  missing: z.array(z.string()).describe('"region/instanceType" without a price'),
  origin: z.string(),
  asOf: z.string(),
});
export type Cost = z.output<typeof costSchema>;

/** Instances per instance type a spec runs (none when stopped: stopped instances bill for disks only). */
export function instancesByType(spec: ClusterSpec): Map<string, number> {
  const counts = new Map<string, number>();
  if (spec.desiredState === 'stopped') return counts;
  const add = (type: string, n: number): void => void (n > 0 && counts.set(type, (counts.get(type) ?? 0) + n));
  add(spec.instanceType, serverCount(spec));
  for (const pool of spec.nodePools) add(pool.instanceType ?? spec.instanceType, pool.count);
  return counts;
}

export function clusterCost(spec: ClusterSpec, book: PriceBook): Cost {
  let hourly = 0;
  const missing: string[] = [];
  for (const [type, n] of instancesByType(spec)) {
    const entry = book.price(spec.region, type);
    if (entry) hourly += entry.usdPerHour * n;
    else missing.push(`${spec.region}/${type}`);
  }
  const known = missing.length === 0;
  return {
    currency: 'USD',
    hourly: known ? round(hourly, 4) : null,
    monthly: known ? round(hourly * HOURS_PER_MONTH, 2) : null,
    missing,
    origin: book.origin,
    asOf: book.asOf,
  };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** "$0.0832/h ($60.74/month)" or "no price for ap-south-1/x9.huge". */
export function costText(cost: Cost): string {
  if (cost.hourly === null || cost.monthly === null) return `no price for ${cost.missing.join(', ')}`;
  return `$${cost.hourly.toFixed(4)}/h ($${cost.monthly.toFixed(2)}/month)`;
}

/** "$60.74 → $121.47/month (+$60.73)"; unknown on either side says so. */
export function costChangeText(before: Cost, after: Cost): string {
  if (before.monthly === null || after.monthly === null) {
    return `${before.monthly === null ? 'no price' : `$${before.monthly.toFixed(2)}`} → ${after.monthly === null ? `no price (${after.missing.join(', ')})` : `$${after.monthly.toFixed(2)}`}/month`;
  }
  const delta = after.monthly - before.monthly;
  const sign = delta >= 0 ? '+' : '-';
  return `$${before.monthly.toFixed(2)} → $${after.monthly.toFixed(2)}/month (${sign}$${Math.abs(delta).toFixed(2)})`;
}
