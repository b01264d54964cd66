// Response pages are bounded in bytes as well as in items: `limit=500` of clusters with large
// statuses would otherwise be tens of MB, built in memory while other callers wait.
import { jsonBytes } from '../domain/index.ts';

/** A page's JSON stays under this, whatever `limit` asks for (a real fleet's 500 clusters fit). */
export const MAX_PAGE_BYTES = 4 * 1024 * 1024;

/** How many leading `items` fit in `maxBytes` of JSON; at least one, so every page makes progress. */
export function itemsWithin(items: readonly unknown[], maxBytes = MAX_PAGE_BYTES): number {
  let total = 0;
  for (const [i, item] of items.entries()) {
    total += jsonBytes(item) + 1;
    if (total > maxBytes) return Math.max(1, i);
  }
  return items.length;
}
