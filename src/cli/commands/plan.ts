// `goman plan NAME [--set PATH=VALUE…]`: the plan of one pending change without making it —
// or, with no --set, what the provider still has to do for the current spec.
import { parse as parseYaml } from 'yaml';
import { clusterSpecSchema } from '../../domain/spec.ts';
import { fieldErrorsText, zodFieldErrors } from '../../domain/zod-errors.ts';
import { UsageError } from '../errors.ts';
import { clusterName } from '../flags.ts';
import { serialize } from '../output.ts';
import { diffText, planText } from '../plan-view.ts';
import { planUpdate } from '../plans.ts';
import type { GlobalOptions } from '../session.ts';
import { openSession } from '../session.ts';

interface PlanFlags extends GlobalOptions {
  set?: string[];
}

export async function plan(name: string, flags: PlanFlags): Promise<void> {
  clusterName(name);
  const s = await openSession(flags);
  const { value: cluster } = await s.backend.get(name);
  const edited = structuredClone(cluster.spec) as unknown as Record<string, unknown>;
  for (const assignment of flags.set ?? []) setPath(edited, assignment);
  const checked = clusterSpecSchema.safeParse(edited);
  if (!checked.success) throw new UsageError(`--set: the spec would be invalid: ${fieldErrorsText(zodFieldErrors(checked.error))}`);
  if (checked.data.provider !== cluster.spec.provider) throw new UsageError(`--set: spec.provider cannot change (${cluster.spec.provider} → ${checked.data.provider})`);
  const result = await planUpdate(s.backend, cluster, { spec: checked.data, labels: cluster.labels });
  if (s.format !== 'table') s.write(await serialize(result, s.format));
  else s.write(`cluster/${name}\n${diffText(result.specDiff, s.term.color)}${planText(result, s.term.color)}`);
}

/**
 * `PATH=VALUE` into a spec: dotted keys, where a node pool is named (`nodePools.gpu.count=3`)
 * or indexed (`nodePools.0.count=3`); VALUE is a YAML scalar (3, true, t3.large).
 */
export function setPath(spec: Record<string, unknown>, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new UsageError(`--set "${assignment}": expected PATH=VALUE, e.g. nodePools.workers.count=3`);
  const keys = assignment.slice(0, eq).split('.');
  let value: unknown;
  try {
    value = parseYaml(assignment.slice(eq + 1));
  } catch {
    value = assignment.slice(eq + 1);
  }
  let node: unknown = spec;
  for (const [i, key] of keys.entries()) {
    const last = i === keys.length - 1;
    if (Array.isArray(node)) {
      const items = node as Record<string, unknown>[];
      const idx = /^\d+$/.test(key) ? Number(key) : items.findIndex((p) => p.name === key);
      if (idx < 0 || idx >= items.length) throw new UsageError(`--set "${assignment}": no node pool "${key}"`);
      if (last) items[idx] = value as Record<string, unknown>;
      else node = items[idx];
      continue;
    }
    if (typeof node !== 'object' || node === null) throw new UsageError(`--set "${assignment}": "${keys.slice(0, i).join('.')}" is not an object`);
    const obj = node as Record<string, unknown>;
    if (last) obj[key] = value;
    else node = obj[key] ??= {};
  }
}

