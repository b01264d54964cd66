// Delete asks first: y deletes, anything else keeps the cluster.
import { Box, Text } from 'ink';
import { useRoutedInput } from './input-router.ts';
import { h, useColor } from './h.ts';

export function ConfirmDelete(props: { name: string; onYes: () => void; onNo: () => void }) {
  const color = useColor();
  useRoutedInput('delete', (input) => (input === 'y' || input === 'Y' ? props.onYes() : props.onNo()));
  return h(
    Box,
    { borderStyle: 'round', borderColor: color('red'), paddingX: 1 },
    h(Text, null, `Delete cluster "${props.name}" and all its cloud resources? `, h(Text, { bold: true }, '[y/N]')),
  );
}
