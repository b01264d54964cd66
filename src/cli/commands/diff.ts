// `goman diff -f PATH…`: what `goman apply` would change, per cluster: the unified spec diff
// (coloured on a terminal), the plan in plain words and the cost change. Exit codes as
// `kubectl diff`: 0 no differences, 1 differences, 2 or more an error.
import { describeError, exitCodeFor } from '../errors.ts';
import { readManifests } from '../manifests.ts';
import { diffText, planText } from '../plan-view.ts';
import type { Session } from '../session.ts';
import { openSession, target } from '../session.ts';
import type { ManifestFlags } from './apply.ts';
import { computeChanges } from './apply.ts';

export async function diff(flags: ManifestFlags): Promise<void> {
  try {
    const manifests = await readManifests(flags.filename ?? [], { recursive: flags.recursive ?? false });
    const s = await openSession(flags);
    const differs = await printDiffs(s, manifests);
    process.exitCode = differs ? 1 : 0;
  } catch (e) {
    // An error must not read as "differences found" (1).
    process.stderr.write(`goman: ${describeError(e, target)}\n`);
    process.exitCode = Math.max(2, exitCodeFor(e));
  }
}

async function printDiffs(s: Session, manifests: Awaited<ReturnType<typeof readManifests>>): Promise<boolean> {
  let differs = false;
  for (const c of await computeChanges(s, manifests)) {
    if (c.verdict === 'unchanged' || !c.plan) continue;
    differs = true;
    s.write(`${c.verdict === 'created' ? 'new ' : ''}cluster/${c.name}\n${diffText(c.plan.specDiff, s.term.color)}${planText(c.plan, s.term.color)}\n`);
  }
  return differs;
}
