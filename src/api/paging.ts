// Response pages are bounded in bytes as well as in items: `limit=500` of clusters with large
// statuses would otherwise be tens of MB, built in memory while other callers wait.

/** A page's JSON stays under this, whatever `limit` asks for (a real fleet's 500 clusters fit). */
export const MAX_PAGE_BYTES = 4 * 1024 * 1024;

/** How many leading `items` fit in `maxBytes` of JSON; at least one, so every page makes progress. */
export function itemsWithin(items: readonly unknown[], maxBytes = MAX_PAGE_BYTES): number {
  let total = 0;
  for (const [i, item] of items.entries()) {
    // Counted without encoding (the domain's jsonBytes must also run in the browser, which has
    // no Buffer): a page of 500 clusters is measured on every list request.
    total += Buffer.byteLength(JSON.stringify(item) ?? '', 'utf8') + 1;
    if (total > maxBytes) return Math.max(1, i);
  }
  return items.length;
}
