// `goman apply -f PATH…`: make the clusters match their manifests (DESIGN §13). Creates what
// is missing, replaces what changed (If-Match of what was read, so a concurrent change is a
// conflict, not an overwrite), and with --prune -l SELECTOR deletes clusters that carry the
// selector but are in no file. Anything that drains, replaces or removes nodes is shown and
// confirmed first. Everything goes through the ClusterBackend port: servers and S3 alike.
import type { ClusterBackend } from '../../client/backend.ts';
import type { Versioned } from '../../client/backend.ts';
import type { Cluster } from '../../domain/cluster.ts';
import { isGomanError } from '../../domain/errors.ts';
import type { Desired, PlanResult } from '../../domain/plan-result.ts';
import { describePlan, isDisruptive } from '../../domain/plan.ts';
import { canonicalSpec, clusterSpecSchema, stableStringify } from '../../domain/spec.ts';
import { UsageError } from '../errors.ts';
import { parseDuration } from '../flags.ts';
import type { Manifest } from '../manifests.ts';
import { readManifests } from '../manifests.ts';
import { localPrices, planCreate, planDelete, planUpdate } from '../plans.ts';
import type { GlobalOptions, Session } from '../session.ts';
import { openSession } from '../session.ts';
import { listAll } from './clusters.ts';

export interface ManifestFlags extends GlobalOptions {
  filename?: string[];
  recursive?: boolean;
}

interface ApplyFlags extends ManifestFlags {
  prune?: boolean;
  selector?: string;
  dryRun?: boolean;
  wait?: boolean;
  timeout?: string;
  yes?: boolean;
}

export type Verdict = 'created' | 'configured' | 'unchanged' | 'pruned';

export interface Change {
  name: string;
  verdict: Verdict;
  desired?: Desired;
  current?: Versioned<Cluster>;
  plan?: PlanResult;
}

/** The manifest's spec as this backend stores it: an S3 context runs the aws provider only, so that is its default. */
export function desiredOf(m: Manifest, backend: ClusterBackend): Desired {
  const spec = clusterSpecSchema.parse(backend.kind === 's3' && m.input.provider === undefined ? { ...m.input, provider: 'aws' } : m.input);
  return { spec, labels: m.labels };
}

async function currentOf(backend: ClusterBackend, name: string): Promise<Versioned<Cluster> | null> {
  try {
    return await backend.get(name);
  } catch (e) {
    if (isGomanError(e, 'NOT_FOUND')) return null;
    throw e;
  }
}

/** What applying the manifests would do to each cluster, with plans; nothing is written. */
export async function computeChanges(s: Session, manifests: readonly Manifest[], prune?: { selector: string }): Promise<Change[]> {
  const changes: Change[] = [];
  const wanted = manifests.map((m) => ({ m, desired: desiredOf(m, s.backend) }));
  // One price book for the whole run (and at most one warning about it).
  const book = await localPrices(wanted.map((w) => w.desired.spec));
  for (const { m, desired } of wanted) {
    const current = await currentOf(s.backend, m.name);
    if (!current) {
      changes.push({ name: m.name, verdict: 'created', desired, plan: await planCreate(m.name, desired, book) });
      continue;
    }
    const c = current.value;
    if (c.deletionTimestamp) throw new UsageError(`${m.where}: cluster "${m.name}" is being deleted; apply again once it is gone`);
    if (c.spec.provider !== desired.spec.provider) {
      throw new UsageError(`${m.whereOf(['spec', 'provider'])}: spec.provider cannot change (${c.spec.provider} → ${desired.spec.provider}); delete the cluster and create a new one`);
    }
    const same = canonicalSpec(c.spec) === canonicalSpec(desired.spec) && stableStringify(c.labels) === stableStringify(desired.labels);
    if (same) changes.push({ name: m.name, verdict: 'unchanged', current });
    else changes.push({ name: m.name, verdict: 'configured', desired, current, plan: await planUpdate(s.backend, c, desired, book) });
  }
  if (prune) {
    const inFiles = new Set(manifests.map((m) => m.name));
    for (const c of await listAll(s.backend, { labelSelector: prune.selector })) {
      if (inFiles.has(c.name) || c.deletionTimestamp) continue;
      changes.push({ name: c.name, verdict: 'pruned', current: { value: c, etag: `"${c.resourceVersion}"` }, plan: await planDelete(c, book) });
    }
  }
  return changes;
}

/** A change a person should see before it runs: it drains, replaces or removes nodes, or deletes. */
export const needsConfirmation = (c: Change): boolean => c.verdict === 'pruned' || (c.verdict === 'configured' && isDisruptive(c.plan?.actions ?? []));

export async function apply(flags: ApplyFlags): Promise<void> {
  if (flags.prune && !flags.selector) throw new UsageError('--prune needs -l SELECTOR: only clusters carrying that selector and absent from the files are deleted');
  if (flags.selector && !flags.prune) throw new UsageError('-l SELECTOR is for --prune: add --prune, or drop -l');
  const timeoutMs = flags.wait ? parseDuration(flags.timeout ?? '10m') : 0;
  const manifests = await readManifests(flags.filename ?? [], { recursive: flags.recursive ?? false });
  const s = await openSession(flags);
  const changes = await computeChanges(s, manifests, flags.prune && flags.selector ? { selector: flags.selector } : undefined);
  const risky = changes.filter(needsConfirmation);
  if (risky.length && !flags.yes && !flags.dryRun) {
    const what = risky.map((c) => `${c.name} (${c.verdict === 'pruned' ? 'delete' : describePlan(c.plan?.actions.filter((a) => a.kind === 'drain' || a.kind === 'terminate' || a.kind === 'stop') ?? []).join('; ')})`);
    if (!process.stdin.isTTY) throw new UsageError(`refusing without --yes when not on a terminal: ${what.join(', ')}`);
    process.stderr.write(`These changes drain, replace or remove nodes:\n${what.map((w) => `  - ${w}\n`).join('')}`);
    const { confirm } = await import('../prompt.ts');
    if (!(await confirm('Apply them? [y/N] '))) {
      process.stderr.write('aborted; nothing changed\n');
      return;
    }
  }
  const suffix = flags.dryRun ? ' (dry run)' : '';
  for (const c of changes) {
    if (!flags.dryRun) await write(s.backend, c);
    s.write(`cluster/${c.name} ${c.verdict}${suffix}\n`);
  }
  if (flags.wait && !flags.dryRun) {
    const { waitFor } = await import('../wait.ts');
    const term = { isTTY: process.stderr.isTTY === true, columns: process.stderr.columns, color: s.term.color && process.stderr.isTTY === true };
    for (const c of changes) {
      if (c.verdict === 'unchanged') continue;
      const goal = c.verdict === 'pruned' ? 'gone' : c.desired?.spec.desiredState === 'stopped' ? 'stopped' : 'ready';
      await waitFor(s.backend, c.name, goal, { timeoutMs, term, write: (t) => void process.stderr.write(t) });
    }
  }
}

async function write(backend: ClusterBackend, c: Change): Promise<void> {
  if (c.verdict === 'created' && c.desired) await backend.create({ name: c.name, labels: c.desired.labels, spec: c.desired.spec });
  else if (c.verdict === 'configured' && c.desired && c.current) await backend.replace(c.name, { spec: c.desired.spec, labels: c.desired.labels }, c.current.etag);
  else if (c.verdict === 'pruned') await backend.delete(c.name);
}
