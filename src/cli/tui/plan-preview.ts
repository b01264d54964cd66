// The plan and cost of what a form would do, shown under the form while it is filled in, so
// a create or a scale is confirmed with its actions, disruption and price in view.
import { Box, Text } from 'ink';
import React from 'react';
import type { PriceBook } from '../../domain/cost.ts';
import { costChangeText } from '../../domain/cost.ts';
import type { PlanResult } from '../../domain/plan-result.ts';
import { describePlan } from '../../domain/plan.ts';
import { loadPrices } from '../../cost/prices.ts';
import { defaultDataDir } from '../../util/data-dir.ts';
import { h, useColor } from './h.ts';

let book: Promise<PriceBook> | undefined;

/** Cached or shipped prices; the TUI never calls AWS for a price (that is `goman cost`'s job). */
export function tuiPrices(): Promise<PriceBook> {
  book ??= loadPrices({ dataDir: defaultDataDir() }).then((l) => l.book);
  return book;
}

/** The plan for the current form values; `compute` is null while the form is invalid. */
export function usePlan(compute: ((book: PriceBook) => Promise<PlanResult>) | null, key: string): { plan: PlanResult | null; error: string | null } {
  const [state, setState] = React.useState<{ key: string; plan: PlanResult | null; error: string | null }>({ key: '', plan: null, error: null });
  React.useEffect(() => {
    if (!compute) return;
    let live = true;
    tuiPrices()
      .then((b) => compute(b))
      .then(
        (plan) => live && setState({ key, plan, error: null }),
        (e: unknown) => live && setState({ key, plan: null, error: e instanceof Error ? e.message : String(e) }),
      );
    return () => {
      live = false;
    };
    // `key` stands for the form values `compute` closes over.
  }, [key]);
  return compute && state.key === key ? { plan: state.plan, error: state.error } : { plan: null, error: null };
}

export function PlanPreview(props: { plan: PlanResult | null; error: string | null; pending: boolean }) {
  const color = useColor();
  if (props.error) return h(Text, { color: color('red') }, `plan: ${props.error}`);
  if (!props.plan) return h(Text, { dimColor: true }, props.pending ? 'planning…' : '');
  const p = props.plan;
  const steps = describePlan(p.actions);
  const d = p.disruption;
  return h(
    Box,
    { flexDirection: 'column', marginTop: 1 },
    h(Text, { bold: true }, steps.length ? 'Plan' : 'Plan: nothing to do'),
    ...steps.map((s, i) => h(Text, { key: i, wrap: 'truncate' }, `  - ${s}`)),
    steps.length ? h(Text, { color: color(d.downtime || d.nodesDrained ? 'yellow' : undefined) }, `  ${d.nodesDrained} drained, ${d.nodesReplaced} replaced, downtime ${d.downtime ? 'yes' : 'no'}`) : null,
    h(Text, null, `Cost ${costChangeText(p.cost.before, p.cost.after)}`),
  );
}
