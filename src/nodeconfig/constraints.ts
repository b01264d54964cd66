// Constraint expressions `Type.subtype.key <op> value` and their version-aware comparison.
import { validationFailed } from '../domain/errors.ts';
import { constraintSchema, type Constraint, type Operator } from './types.ts';

const EXPR = /^\s*(\S+)\s*(>=|<=|==|!=|>|<)\s*(\S.*?)\s*$/;

export function parseConstraint(expr: string): Constraint {
  const m = EXPR.exec(expr);
  const parsed = m ? constraintSchema.safeParse({ name: m[1], operator: m[2], value: m[3] }) : undefined;
  if (!parsed?.success) throw validationFailed(`invalid constraint "${expr}": expected "Type.subtype.key <op> value" with op one of >= <= > < == !=`);
  return parsed.data;
}

export function formatConstraint(c: Constraint): string {
  return `${c.name} ${c.operator} ${c.value}`;
}

/** Type, subtype and key of a constraint name; the key keeps any further dots (net.ipv4.ip_forward). */
export function splitName(name: string): { type: string; subtype: string; key: string } {
  const first = name.indexOf('.');
  const second = name.indexOf('.', first + 1);
  return { type: name.slice(0, first), subtype: name.slice(first + 1, second), key: name.slice(second + 1) };
}

// A leading dotted number: "1.32.4", "v1.31.4-eks-a1b2", "6.8.0-45-generic", "24.04", "580.82.07".
// semver.coerce refuses leading zeros ("24.04"), and driver versions have four parts at
// times, so the numeric core is compared part by part here.
const VERSIONISH = /^v?(\d+(?:\.\d+)*)(?:[-+_~].*)?$/;

function asVersion(v: string): number[] | null {
  const m = VERSIONISH.exec(v.trim());
  return m?.[1] ? m[1].split('.').map(Number) : null;
}

function compareParts(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

const ORDER: Record<Operator, (c: number) => boolean> = {
  '>=': (c) => c >= 0,
  '<=': (c) => c <= 0,
  '>': (c) => c > 0,
  '<': (c) => c < 0,
  '==': (c) => c === 0,
  '!=': (c) => c !== 0,
};

/**
 * Whether `actual <op> expected` holds. Two version-like values compare as versions (any
 * vendor suffix after the numeric core ignored, so v1.32.4-eks-x >= 1.32.4); otherwise
 * == and != compare text, and an ordering of non-versions is an error message.
 */
export function compare(actual: string, operator: Operator, expected: string): { ok: boolean } | { error: string } {
  const a = asVersion(actual);
  const e = asVersion(expected);
  if (a && e) return { ok: ORDER[operator](compareParts(a, e)) };
  if (operator === '==') return { ok: actual === expected };
  if (operator === '!=') return { ok: actual !== expected };
  return { error: `cannot order "${actual}" against "${expected}": not versions` };
}
