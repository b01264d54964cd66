// Numbers from environment variables (DESIGN §10), shared by the server's and the providers'
// settings: a bad value stops start-up with one line naming the variable.
import { validationFailed } from './errors.ts';

export type Env = Record<string, string | undefined>;

/** A non-negative number of seconds, or `fallback` when unset or empty. */
export function envSeconds(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw validationFailed(`${name} must be a number of seconds (got "${raw}")`);
  return n;
}

/** A number of seconds above 0 (an interval: 0 would spin), or `fallback` when unset or empty. */
export function envInterval(env: Env, name: string, fallback: number): number {
  const n = envSeconds(env, name, fallback);
  if (n === 0) throw validationFailed(`${name} must be a number of seconds above 0 (got "${env[name]}")`);
  return n;
}

/** A whole number of at least 1, or undefined when unset or empty. */
export function envCount(env: Env, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw validationFailed(`${name} must be a whole number of at least 1 (got "${raw}")`);
  return n;
}
