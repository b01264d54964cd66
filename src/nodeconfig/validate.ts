// Checking a snapshot against a recipe's constraints: each one passes, fails, or is skipped
// when the snapshot has no such value (a node without a cluster has no K8s.server.version).
import { compare, formatConstraint, splitName } from './constraints.ts';
import type { Constraint, RecipeResult, Snapshot } from './types.ts';

export type CheckStatus = 'passed' | 'failed' | 'skipped';

export interface Check {
  constraint: string;
  status: CheckStatus;
  expected: string;
  actual?: string;
  message?: string;
}

export interface ValidationReport {
  kind: 'ValidationResult';
  apiVersion: 'goman.io/v1';
  summary: { passed: number; failed: number; skipped: number };
  checks: Check[];
}

export function lookup(snapshot: Snapshot, name: string): string | undefined {
  const { type, subtype, key } = splitName(name);
  const v = snapshot.measurements.find((m) => m.type === type)?.subtypes.find((s) => s.subtype === subtype)?.data[key];
  return v === undefined ? undefined : String(v);
}

export function check(snapshot: Snapshot, c: Constraint): Check {
  const base = { constraint: formatConstraint(c), expected: `${c.operator} ${c.value}` };
  const actual = lookup(snapshot, c.name);
  if (actual === undefined) return { ...base, status: 'skipped', message: `the snapshot has no ${c.name}` };
  const r = compare(actual, c.operator, c.value);
  if ('error' in r) return { ...base, actual, status: 'failed', message: r.error };
  return { ...base, actual, status: r.ok ? 'passed' : 'failed' };
}

export function validate(recipe: RecipeResult, snapshot: Snapshot): ValidationReport {
  const checks = recipe.constraints.map((c) => check(snapshot, c));
  const count = (s: CheckStatus): number => checks.filter((c) => c.status === s).length;
  return { kind: 'ValidationResult', apiVersion: 'goman.io/v1', summary: { passed: count('passed'), failed: count('failed'), skipped: count('skipped') }, checks };
}
