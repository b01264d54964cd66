// One labelled form field: the value, a cursor when focused, and its validation error inline.
import { Box, Text } from 'ink';
import { h, useColor } from './h.ts';

export function Field(props: { label: string; value: string; focused: boolean; error?: string | null | undefined; hint?: string }) {
  const color = useColor();
  return h(
    Box,
    { flexDirection: 'column' },
    h(
      Text,
      null,
      h(Text, { bold: props.focused, color: color(props.focused ? 'cyan' : undefined) }, `${props.focused ? '›' : ' '} ${props.label.padEnd(14)}`),
      props.value,
      props.focused ? h(Text, { inverse: true }, ' ') : '',
      props.hint ? h(Text, { dimColor: true }, `  ${props.hint}`) : '',
    ),
    props.error ? h(Text, { color: color('red') }, `  ${' '.repeat(14)} ${props.error}`) : null,
  );
}

/**
 * Apply a keypress to a text value: printable input appends, backspace/delete removes. A
 * chunk of several keys (fast typing, a paste, "\x7f\x7f") arrives as one input and is
 * applied character by character; other control codes never reach the value.
 */
export function edited(value: string, input: string, key: { backspace: boolean; delete: boolean; ctrl: boolean; meta: boolean }): string {
  if (key.backspace || key.delete) return [...value].slice(0, -1).join('');
  if (key.ctrl || key.meta) return value;
  let out = [...value];
  for (const ch of input) {
    if (ch === '\x7f' || ch === '\b') out = out.slice(0, -1);
    else if (ch >= ' ') out.push(ch);
  }
  return out.join('');
}
