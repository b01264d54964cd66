// Where prices come from (DESIGN §13): the AWS Price List Query API (GetProducts) when the
// caller may ask it, cached in the data dir with the date fetched; else that cache; else the
// table shipped with goman. Every answer says its origin and date, and a date older than
// GOMAN_PRICE_MAX_AGE_DAYS comes with a warning.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { PriceBook, PriceEntry } from '../domain/cost.ts';
import { priceBook } from '../domain/cost.ts';
import type { Env } from '../domain/env.ts';
import { validationFailed } from '../domain/errors.ts';
import { writeFileAtomic } from '../util/files.ts';
import { SHIPPED_AS_OF, SHIPPED_PRICES } from './price-table.ts';

export const PRICING_SOURCE = 'AWS Price List Query API GetProducts (AmazonEC2, Linux, shared tenancy, on-demand)';
const CACHE_FILE = 'prices.json';
const DAY_MS = 86_400_000;

// --- GetProducts responses -----------------------------------------------------------------
// Each PriceList item is a JSON string (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_pricing_GetProducts.html):
// {product: {attributes: {instanceType, regionCode, ...}}, terms: {OnDemand: {<offer>: {priceDimensions: {<rate>: {unit, pricePerUnit: {USD}}}}}}}

const productSchema = z.object({
  product: z.object({ attributes: z.object({ instanceType: z.string(), regionCode: z.string() }).loose() }).loose(),
  terms: z
    .object({
      OnDemand: z
        .record(z.string(), z.object({ priceDimensions: z.record(z.string(), z.object({ unit: z.string(), pricePerUnit: z.record(z.string(), z.string()) }).loose()) }).loose())
        .optional(),
    })
    .loose(),
});

/**
 * On-demand hourly USD prices from GetProducts' PriceList strings. Items without an hourly
 * USD on-demand rate, or with a zero or unreadable one, are left out: better "no price" than
 * a wrong one.
 */
export function parsePriceList(priceList: readonly string[], fetchedAt: string): PriceEntry[] {
  const out: PriceEntry[] = [];
  for (const raw of priceList) {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      continue;
    }
    const parsed = productSchema.safeParse(json);
    if (!parsed.success) continue;
    const { instanceType, regionCode } = parsed.data.product.attributes;
    const rates = Object.values(parsed.data.terms.OnDemand ?? {}).flatMap((offer) => Object.values(offer.priceDimensions));
    const hourly = rates.filter((r) => r.unit === 'Hrs').map((r) => Number(r.pricePerUnit.USD));
    const usd = hourly.find((n) => Number.isFinite(n) && n > 0);
    if (usd === undefined || hourly.length !== 1) continue;
    out.push({ region: regionCode, instanceType, usdPerHour: usd, source: PRICING_SOURCE, asOf: fetchedAt });
  }
  return out;
}

// --- cache --------------------------------------------------------------------------------

const cacheSchema = z.object({
  fetchedAt: z.string(),
  entries: z.array(z.object({ region: z.string(), instanceType: z.string(), usdPerHour: z.number().positive(), source: z.string(), asOf: z.string() })).max(100_000),
});
type Cache = z.output<typeof cacheSchema>;

async function readCache(dataDir: string): Promise<Cache | null> {
  try {
    const parsed = cacheSchema.safeParse(JSON.parse(await readFile(path.join(dataDir, CACHE_FILE), 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

// --- fetching -----------------------------------------------------------------------------

export interface FetchPrices {
  (pairs: readonly { region: string; instanceType: string }[], signal: AbortSignal): Promise<PriceEntry[]>;
}

/** GetProducts per (region, type), from the Pricing endpoint in us-east-1. Loads the SDK only when called. */
export const fetchFromAws: FetchPrices = async (pairs, signal) => {
  const { PricingClient, GetProductsCommand } = await import('@aws-sdk/client-pricing');
  const client = new PricingClient({ region: 'us-east-1', maxAttempts: 2 });
  const fetchedAt = new Date().toISOString();
  try {
    const out: PriceEntry[] = [];
    for (const { region, instanceType } of pairs) {
      const filter = (Field: string, Value: string) => ({ Type: 'TERM_MATCH' as const, Field, Value });
      const res = await client.send(
        new GetProductsCommand({
          ServiceCode: 'AmazonEC2',
          Filters: [
            filter('instanceType', instanceType),
            filter('regionCode', region),
            filter('operatingSystem', 'Linux'),
            filter('tenancy', 'Shared'),
            filter('preInstalledSw', 'NA'),
            filter('capacitystatus', 'Used'),
          ],
          MaxResults: 10,
        }),
        { abortSignal: signal },
      );
      // The SDK types items as lazily parsed JSON; on the wire they are JSON strings.
      const items = (res as { PriceList?: readonly unknown[] }).PriceList ?? [];
      out.push(...parsePriceList(items.map((p) => String(p)), fetchedAt));
    }
    return out;
  } finally {
    client.destroy();
  }
};

// --- the book -----------------------------------------------------------------------------

export interface LoadedPrices {
  book: PriceBook;
  /** Set when the prices are older than the allowed age, or a fetch failed. */
  warning?: string;
}

export interface LoadPricesOptions {
  dataDir: string;
  env?: Env;
  /** (region, type) pairs a caller needs; with `fetch`, missing or stale ones are asked for. */
  need?: readonly { region: string; instanceType: string }[];
  fetch?: FetchPrices;
  now?: () => number;
}

export function maxAgeDays(env: Env): number {
  const raw = env.GOMAN_PRICE_MAX_AGE_DAYS;
  if (raw === undefined || raw === '') return 180;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw validationFailed(`GOMAN_PRICE_MAX_AGE_DAYS must be a number of days (got "${raw}")`);
  return n;
}

export async function loadPrices(opts: LoadPricesOptions): Promise<LoadedPrices> {
  const env = opts.env ?? process.env;
  const now = opts.now ?? Date.now;
  const maxAge = maxAgeDays(env);
  let cache = await readCache(opts.dataDir);
  let fetchProblem: string | undefined;
  const fresh = cache !== null && now() - Date.parse(cache.fetchedAt) <= maxAge * DAY_MS;
  const covered = (c: Cache): boolean => (opts.need ?? []).every((p) => c.entries.some((e) => e.region === p.region && e.instanceType === p.instanceType));
  if (opts.fetch && opts.need?.length && !(cache && fresh && covered(cache))) {
    try {
      const fetched = await opts.fetch(opts.need, AbortSignal.timeout(10_000));
      if (fetched.length) {
        const keep = (cache?.entries ?? []).filter((e) => !fetched.some((f) => f.region === e.region && f.instanceType === e.instanceType));
        cache = { fetchedAt: new Date(now()).toISOString(), entries: [...keep, ...fetched] };
        await writeFileAtomic(path.join(opts.dataDir, CACHE_FILE), JSON.stringify(cache, null, 1) + '\n');
      }
    } catch (e) {
      fetchProblem = `could not ask the AWS Price List API (${(e as Error).name}); using ${cache ? 'cached' : 'shipped'} prices`;
    }
  }
  // Cached (fetched) prices win; the shipped table fills what the cache lacks.
  const shipped = priceBook('shipped-table', SHIPPED_AS_OF, SHIPPED_PRICES);
  const book: PriceBook = cache
    ? (() => {
        const fetched = priceBook('aws-pricing-api', cache.fetchedAt.slice(0, 10), cache.entries);
        return { origin: fetched.origin, asOf: fetched.asOf, price: (r, t) => fetched.price(r, t) ?? shipped.price(r, t) };
      })()
    : shipped;
  const ageDays = Math.floor((now() - Date.parse(book.asOf)) / DAY_MS);
  const stale = ageDays > maxAge ? `prices are from ${book.origin === 'shipped-table' ? 'the table shipped with goman' : 'the AWS Price List API'}, dated ${book.asOf} (${ageDays} days old, more than GOMAN_PRICE_MAX_AGE_DAYS=${maxAge})` : undefined;
  const warning = [fetchProblem, stale].filter(Boolean).join('; ');
  return warning ? { book, warning } : { book };
}

/** Whether to ask AWS: GOMAN_PRICE_SOURCE=aws always, =table never, unset when credentials are configured. */
export function shouldFetch(env: Env): boolean {
  const src = env.GOMAN_PRICE_SOURCE ?? 'auto';
  if (src !== 'auto' && src !== 'aws' && src !== 'table') throw validationFailed(`GOMAN_PRICE_SOURCE must be auto, aws or table (got "${src}")`);
  if (src !== 'auto') return src === 'aws';
  return Boolean((env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) || env.AWS_PROFILE) && !env.AWS_ENDPOINT_URL;
}
