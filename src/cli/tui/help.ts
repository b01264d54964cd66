// `?`: every key, in one place.
import { Box, Text } from 'ink';
import { h } from './h.ts';

const HELP: readonly (readonly [string, string])[] = [
  ['↑/↓, j/k', 'move the selection'],
  ['PgUp/PgDn', 'a screen up / down (long lists scroll; the line under them says where you are)'],
  ['g/G, home/end', 'the first / the last cluster'],
  ['enter', 'details of the selected cluster (spec, conditions, controllers, nodes, events)'],
  ['c', 'create a cluster'],
  ['s', 'scale the node pools of the selected cluster'],
  ['t', 'stop a running cluster, start a stopped one'],
  ['d', 'delete the selected cluster (asks first)'],
  ['/', 'filter by name or phase (e.g. "web", "failed"); esc clears'],
  ['esc', 'back / close'],
  ['?', 'this help'],
  ['q, ctrl-c', 'quit'],
];

export function HelpOverlay() {
  return h(
    Box,
    { flexDirection: 'column', borderStyle: 'round', paddingX: 1 },
    h(Text, { bold: true }, 'goman — keys'),
    ...HELP.map(([k, what]) => h(Text, { key: k }, `${k.padEnd(12)} ${what}`)),
    h(Text, { dimColor: true }, 'press any key to close'),
  );
}
