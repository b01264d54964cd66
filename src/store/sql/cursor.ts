// Opaque keyset cursors: base64url JSON of the last row's sort key. A cursor that does not
// decode to the expected shape is the caller's mistake (VALIDATION_FAILED on `cursor`).
import { validationFailed } from '../../domain/index.ts';

export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor<T>(cursor: string, accept: (key: unknown[]) => T | null): T {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = null;
  }
  const value = Array.isArray(key) ? accept(key) : null;
  if (value === null) throw validationFailed('invalid cursor', [{ path: 'cursor', message: 'is not a cursor this server issued' }]);
  return value;
}

export function isIsoTime(v: unknown): v is string {
  return typeof v === 'string' && !Number.isNaN(Date.parse(v)) && new Date(v).toISOString() === v;
}
