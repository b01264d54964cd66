// Shown while the server is away; the backend keeps retrying, so the user need do nothing.
import { Box, Text } from 'ink';
import { h, useColor } from './h.ts';

export function DisconnectedBanner(props: { target: string; reason: string | undefined }) {
  const color = useColor();
  return h(
    Box,
    { borderStyle: 'round', borderColor: color('red'), paddingX: 1 },
    h(Text, { color: color('red'), bold: true, wrap: 'truncate' }, `disconnected — retrying (${props.target}${props.reason ? `: ${props.reason}` : ''})`),
  );
}
