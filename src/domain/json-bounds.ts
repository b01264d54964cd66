// Bounds for free-form JSON from users and controllers (status metadata, merge patches, recipe
// criteria). Anything accepted must be storable and readable back by every engine and by
// recursive code (merge patch, canonical JSON, serialisers), so depth, size and U+0000 are
// checked at admission, by walks that cannot themselves overflow the stack.
import type { z } from 'zod';

/** Deeper than any real document goman takes (a spec nests 5 levels); far below recursion limits. */
export const MAX_JSON_DEPTH = 32;

/** Nesting depth of a JSON value (a scalar is 0, `{}` and `[]` are 1); stops counting once past `limit`. */
export function jsonDepth(value: unknown, limit = Infinity): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    const d = depth + 1;
    if (d > deepest) deepest = d;
    if (deepest > limit) return deepest;
    for (const child of Object.values(v)) stack.push([child, d]);
  }
  return deepest;
}

/** Size of a value's UTF-8 JSON text (call it on values already known to be shallow). */
export function jsonBytes(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value) ?? '').length;
}

/**
 * Dotted path of the first string or key that holds U+0000, or null. PostgreSQL can store it in
 * neither text nor jsonb (error 22P05) while SQLite can: refusing it keeps the engines alike.
 */
export function nulPath(value: unknown, prefix = ''): string | null {
  const stack: [unknown, string][] = [[value, prefix]];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return path || '(root)';
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    for (const [key, child] of Object.entries(v)) {
      const at = path ? `${path}.${key}` : key;
      if (key.includes('\u0000')) return at;
      stack.push([child, at]);
    }
  }
  return null;
}

/** Why a free-form value may not be stored (too deep, too large, or holding U+0000), or null when it may. */
export function jsonBoundsProblem(value: unknown, maxBytes: number, maxDepth = MAX_JSON_DEPTH): string | null {
  if (jsonDepth(value, maxDepth) > maxDepth) return `must not nest deeper than ${maxDepth} levels`;
  if (nulPath(value) !== null) return 'must not contain the NUL character (U+0000)';
  const bytes = jsonBytes(value);
  if (bytes > maxBytes) return `must be at most ${maxBytes} bytes of JSON (is ${bytes})`;
  return null;
}

/** A zod refinement applying jsonBoundsProblem to a free-form field. */
export function boundedJson(maxBytes: number, maxDepth = MAX_JSON_DEPTH) {
  return (value: unknown, ctx: z.RefinementCtx): void => {
    const problem = jsonBoundsProblem(value, maxBytes, maxDepth);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  };
}
