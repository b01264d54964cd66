// The keys that work on the current screen, always visible at the bottom.
import { Box, Text } from 'ink';
import { h } from './h.ts';

export type Keys = readonly (readonly [key: string, what: string])[];

export const LIST_KEYS: Keys = [
  ['↑↓', 'move'],
  ['enter', 'details'],
  ['c', 'create'],
  ['s', 'scale'],
  ['t', 'stop/start'],
  ['d', 'delete'],
  ['/', 'filter'],
  ['?', 'help'],
  ['q', 'quit'],
];

export function Footer(props: { keys: Keys; message?: { text: string; error: boolean } | undefined }) {
  return h(
    Box,
    { flexDirection: 'column', marginTop: 1 },
    props.message ? h(Text, { color: props.message.error ? 'red' : 'green', wrap: 'truncate' }, props.message.text) : null,
    h(Text, { dimColor: true, wrap: 'truncate' }, props.keys.map(([k, what]) => `${k} ${what}`).join('  ·  ')),
  );
}
