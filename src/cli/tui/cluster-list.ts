// The cluster table: one row per cluster, phase in its colour, the selected row inverted.
// Longer lists than the screen holds scroll with the selection, under a position line.
import { Box, Text } from 'ink';
import React from 'react';
import type { Cluster } from '../../domain/cluster.ts';
import { age, PHASE_COLORS, truncate } from '../output.ts';
import { nodesText, phaseOf, statusMessage } from '../view.ts';
import { h, useColor } from './h.ts';
import { follow, positionText } from './viewport.ts';

const COLS = [
  { header: 'NAME', width: 24 },
  { header: 'PHASE', width: 13 },
  { header: 'PROVIDER', width: 9 },
  { header: 'MODE', width: 5 },
  { header: 'NODES', width: 7 },
  { header: 'AGE', width: 7 },
] as const;

export function ClusterList(props: { clusters: readonly Cluster[]; selected: number; width: number; loaded: boolean; filter: string; height: number }) {
  const color = useColor();
  const windowStart = React.useRef(0);
  const fixed = COLS.reduce((n, c) => n + c.width + 1, 0);
  const msgWidth = Math.max(10, props.width - fixed - 2);
  const cell = (text: string, width: number): string => truncate(text, width).padEnd(width) + ' ';
  const header = COLS.map((c) => cell(c.header, c.width)).join('') + 'MESSAGE';
  if (props.clusters.length === 0) {
    const empty = !props.loaded ? 'loading…' : props.filter ? `no clusters match "${props.filter}"` : 'no clusters yet — press c to create one';
    return h(Box, { flexDirection: 'column' }, h(Text, { bold: true }, header), h(Text, { dimColor: true }, empty));
  }
  const now = new Date();
  const total = props.clusters.length;
  // Everything fits: no position line. Otherwise it takes one of the rows.
  const scrolls = total > props.height;
  const shown = scrolls ? follow(total, props.selected, props.height - 1, windowStart.current) : { start: 0, end: total };
  windowStart.current = shown.start;
  return h(
    Box,
    { flexDirection: 'column' },
    h(Text, { bold: true }, header),
    ...props.clusters.slice(shown.start, shown.end).map((c, j) => {
      const i = shown.start + j;
      const phase = phaseOf(c);
      const selected = i === props.selected;
      return h(
        Text,
        { key: c.id, inverse: selected, wrap: 'truncate' },
        cell(c.name, COLS[0].width),
        h(Text, { color: color(PHASE_COLORS[phase]) }, cell(phase, COLS[1].width)),
        cell(c.spec.provider, COLS[2].width),
        cell(c.spec.mode, COLS[3].width),
        cell(nodesText(c), COLS[4].width),
        cell(age(c.createdAt, now), COLS[5].width),
        truncate(statusMessage(c), msgWidth),
      );
    }),
    scrolls ? h(Text, { dimColor: true }, positionText(shown, total)) : null,
  );
}
