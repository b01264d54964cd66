// Which rows of a long list fit on the screen: a window that moves only as far as it must to
// keep the cursor in sight (as less and vim scroll), and the terminal's height as it changes.
import { useStdout } from 'ink';
import React from 'react';

export interface Window {
  /** Index of the first row shown. */
  start: number;
  /** One past the last row shown. */
  end: number;
}

/** The window of `height` rows over `total` that shows `cursor`, moved as little as possible from `start`. */
export function follow(total: number, cursor: number, height: number, start: number): Window {
  const size = Math.max(1, height);
  let first = Math.min(start, cursor);
  if (cursor >= first + size) first = cursor - size + 1;
  first = Math.max(0, Math.min(first, total - size));
  return { start: first, end: Math.min(total, first + size) };
}

/** "21–40 of 200", with arrows saying that more lies above or below. */
export function positionText(w: Window, total: number): string {
  return `${w.start > 0 ? '↑ ' : '  '}${w.start + 1}–${w.end} of ${total}${w.end < total ? ' ↓' : ''}`;
}

/** Rows of the terminal, updated on resize; 24 when the output is not a terminal. */
export function useTerminalRows(): number {
  const { stdout } = useStdout();
  const [rows, setRows] = React.useState(stdout.rows || 24);
  React.useEffect(() => {
    const onResize = (): void => setRows(stdout.rows || 24);
    stdout.on('resize', onResize);
    return () => void stdout.off('resize', onResize);
  }, [stdout]);
  return rows;
}
