// Details of one cluster: spec, conditions, per-controller status, nodes and recent events.
// The cluster itself stays live (it comes from the watch feed); events are re-read when it changes.
import { Box, Text } from 'ink';
import React from 'react';
import type { ClusterBackend } from '../../client/backend.ts';
import type { Cluster } from '../../domain/cluster.ts';
import type { HistoryEntry } from '../../domain/index.ts';
import { age, PHASE_COLORS, truncate } from '../output.ts';
import { nodesText, phaseOf, restoreLine, rolloutLines } from '../view.ts';
import { h, useColor } from './h.ts';
import type { PriceBook } from '../../domain/cost.ts';
import { clusterCost, costText } from '../../domain/cost.ts';
import { tuiPrices } from './plan-preview.ts';

/** `height`: the rows this view may take; a long node list is cut to fit, saying how many it left out. */
export function Detail(props: { cluster: Cluster; backend: ClusterBackend; width: number; height: number }) {
  const color = useColor();
  const c = props.cluster;
  const [events, setEvents] = React.useState<HistoryEntry[]>([]);
  React.useEffect(() => {
    let live = true;
    props.backend.events(c.id, { limit: 8 }).then(
      (page) => live && setEvents(page.items),
      () => undefined, // history is secondary here; the next change retries
    );
    return () => {
      live = false;
    };
  }, [props.backend, c.id, c.resourceVersion]);
  const [book, setBook] = React.useState<PriceBook | null>(null);
  React.useEffect(() => {
    let live = true;
    void tuiPrices().then((b) => live && setBook(b));
    return () => {
      live = false;
    };
  }, []);
  const phase = phaseOf(c);
  const w = Math.max(20, props.width - 4);
  const line = (text: string, key?: string) => h(Text, { key, wrap: 'truncate' }, truncate(text, w));
  const title = (text: string) => h(Text, { bold: true }, text);
  const now = new Date();
  // Every line but the nodes': four of facts, four titles, and the conditions, controllers and events.
  const day2 = [rolloutLines(c)[0], restoreLine(c)].filter((x): x is string => x !== undefined);
  const others = 8 + day2.length + c.status.conditions.length + Math.max(1, c.status.controllers.length) + Math.max(1, events.length);
  const nodeRows = Math.max(2, props.height - others);
  const nodes = c.status.nodes.length > nodeRows ? c.status.nodes.slice(0, nodeRows - 1) : c.status.nodes;
  const leftOut = c.status.nodes.length - nodes.length;
  return h(
    Box,
    { flexDirection: 'column' },
    h(Text, null, h(Text, { bold: true }, c.name), '  ', h(Text, { color: color(PHASE_COLORS[phase]) }, phase), `  ${c.status.message}`),
    line(`provider ${c.spec.provider}/${c.spec.region} · mode ${c.spec.mode} · k3s ${c.spec.k3sVersion} · ${c.spec.instanceType} · desired ${c.spec.desiredState}`),
    line(`cost ${book ? costText(clusterCost(c.spec, book)) : '…'} (on-demand${book ? `, prices ${book.origin} ${book.asOf}` : ''})`),
    line(`generation ${c.generation} (observed ${c.status.observedGeneration}) · nodes ready ${nodesText(c)} · pools ${c.spec.nodePools.map((p) => `${p.name}=${p.count}`).join(', ') || 'none'}`),
    // The rollout's summary (versions, nodes done, paused and why) and a restore's step; per node below.
    ...day2.map((text, i) => h(Text, { key: `day2-${i}`, color: color(c.status.rollout?.paused ? 'yellow' : undefined), wrap: 'truncate' }, truncate(text, w))),
    title('Conditions'),
    ...c.status.conditions.map((k) => line(`  ${k.type.padEnd(10)} ${k.status.padEnd(8)} ${k.reason}: ${k.message}`, k.type)),
    title('Controllers'),
    ...(c.status.controllers.length
      ? c.status.controllers.map((k) => line(`  ${k.name.padEnd(16)} gen ${k.observedGeneration}  Ready=${k.conditions.find((x) => x.type === 'Ready')?.status ?? 'Unknown'}${k.lastError ? `  ${k.lastError.code}: ${k.lastError.message}` : ''}`, k.name))
      : [line('  none yet')]),
    title('Nodes'),
    ...(nodes.length ? nodes.map((n) => line(`  ${n.name.padEnd(28)} ${n.role.padEnd(7)} ${(n.pool ?? '').padEnd(10)} ${n.state.padEnd(10)} ${(n.ready ? 'ready' : 'not ready').padEnd(10)}${n.k3sVersion ? ` ${n.k3sVersion}` : ''}${n.upgrade && n.upgrade !== 'done' ? ` ${n.upgrade}` : ''}`, n.name)) : [line('  none yet')]),
    leftOut > 0 ? h(Text, { dimColor: true }, `  … ${leftOut} more nodes; \`goman get ${c.name}\` lists them all`) : null,
    title('Recent events'),
    ...(events.length ? events.map((e) => line(`  ${age(e.at, now).padStart(6)}  ${e.kind.padEnd(9)} ${e.message}`, e.id)) : [line('  none')]),
  );
}
