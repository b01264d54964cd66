// Scale: one count field per node pool of the selected cluster (or a new "workers" pool).
import { Box, Text } from 'ink';
import type { Cluster } from '../../domain/cluster.ts';
import type { NodePool } from '../../domain/spec.ts';
import { countProblem } from './create-form.ts';
import { useRoutedInput } from './input-router.ts';
import { h, useLiveState } from './h.ts';
import { edited, Field } from './text-field.ts';
import type { ClusterBackend } from '../../client/backend.ts';
import { planUpdate } from '../plans.ts';
import { PlanPreview, usePlan } from './plan-preview.ts';

export function ScaleForm(props: { cluster: Cluster; backend: ClusterBackend; onSubmit: (pools: NodePool[]) => void; onCancel: () => void; error?: string | undefined; busy?: boolean }) {
  const pools: NodePool[] = props.cluster.spec.nodePools.length ? props.cluster.spec.nodePools : [{ name: 'workers', count: 0 }];
  const [counts, setCounts, countsNow] = useLiveState<string[]>(pools.map((p) => String(p.count)));
  const [focus, setFocus, focusNow] = useLiveState(0);
  const problems = counts.map(countProblem);
  const valid = problems.every((p) => p === null);
  const next = pools.map((p, i) => ({ ...p, count: Number(counts[i]) }));
  const c = props.cluster;
  const preview = usePlan(valid ? (book) => planUpdate(props.backend, c, { spec: { ...c.spec, nodePools: next }, labels: c.labels }, book) : null, JSON.stringify(next));

  useRoutedInput('scale', (input, key) => {
    if (props.busy) return;
    if (key.escape) return props.onCancel();
    const focus = focusNow.current;
    const counts = countsNow.current;
    if (key.tab || key.downArrow) return setFocus((focus + 1) % pools.length);
    if (key.upArrow) return setFocus((focus - 1 + pools.length) % pools.length);
    if (key.return) {
      if (counts.every((c) => countProblem(c) === null)) props.onSubmit(pools.map((p, i) => ({ ...p, count: Number(counts[i]) })));
      return;
    }
    setCounts(counts.map((c, i) => (i === focus ? edited(c, input, key) : c)));
  });

  return h(
    Box,
    { flexDirection: 'column', borderStyle: 'round', paddingX: 1 },
    h(Text, { bold: true }, `Scale ${props.cluster.name}`),
    ...pools.map((p, i) => h(Field, { key: p.name, label: `pool ${p.name}`, value: counts[i] ?? '', focused: focus === i, error: problems[i] ? `count ${problems[i]}` : null })),
    h(PlanPreview, { ...preview, pending: valid }),
    props.error ? h(Text, { color: 'red' }, props.error) : null,
    h(Text, { dimColor: true }, props.busy ? 'scaling…' : 'enter apply · esc cancel'),
  );
}
