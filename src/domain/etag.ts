// Entity tags (RFC 9110 §8.8.3). A cluster's ETag is its resourceVersion in quotes; S3 objects
// and the recipe endpoint carry their own opaque tags. One reading of every form a client sends.

/** `"12"`, `W/"12"` or a bare `12` → `12`. */
export function etagValue(tag: string): string {
  return tag.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

/** A value in its quoted form, as an ETag header and S3 carry it. */
export function quoteEtag(value: string): string {
  return value.startsWith('"') ? value : `"${value}"`;
}

/** An `If-Match` header → the version its first tag names; `*`, empty or absent → undefined (no condition). */
export function ifMatchVersion(header: string | undefined): string | undefined {
  if (header === undefined || header.trim() === '*' || header.trim() === '') return undefined;
  return etagValue(header.split(',')[0] ?? '');
}

/** Whether an `If-None-Match` header names this tag (weak comparison, as for GET). */
export function ifNoneMatchHits(header: string | undefined, tag: string): boolean {
  return header?.split(',').some((t) => etagValue(t) === etagValue(tag)) ?? false;
}
