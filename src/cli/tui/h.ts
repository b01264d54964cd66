// React without JSX (Node's type stripping cannot run .tsx): `h` is React.createElement, and
// `Theme` carries whether colour is allowed (NO_COLOR, or a terminal that has none).
import React from 'react';
import type { Color } from '../output.ts';

export const h = React.createElement;

export interface Theme {
  color: boolean;
}

export const ThemeContext = React.createContext<Theme>({ color: true });

/** The colour to pass to ink's <Text color>, or none when colour is off. */
export function useColor(): (c: Color | undefined) => Color | undefined {
  const { color } = React.useContext(ThemeContext);
  return (c) => (color ? c : undefined);
}

/**
 * State whose latest value input handlers can read at once. Keys can arrive faster than
 * React re-renders (a paste, fast typing): a handler reading plain state would see a stale
 * value and, say, type into the field that had focus two keys ago.
 */
export function useLiveState<T>(initial: T): [T, (next: T) => void, { readonly current: T }] {
  const [value, setValue] = React.useState(initial);
  const ref = React.useRef(initial);
  const set = React.useCallback((next: T) => {
    ref.current = next;
    setValue(next);
  }, []);
  return [value, set, ref];
}
