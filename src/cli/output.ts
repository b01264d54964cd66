// How results reach a person or a script: tables sized to the terminal, or the API objects
// as-is in JSON/YAML (stable for scripts). Colour only on a terminal and never with NO_COLOR.
import type { Phase } from '../domain/cluster.ts';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface Terminal {
  isTTY: boolean;
  columns: number | undefined;
  color: boolean;
}

/** https://no-color.org: any non-empty NO_COLOR disables colour; so does a non-terminal. */
export function colorEnabled(stream: { isTTY?: boolean }, env: Record<string, string | undefined> = process.env): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

export function stdoutTerminal(): Terminal {
  const out = process.stdout;
  return { isTTY: out.isTTY === true, columns: out.isTTY ? out.columns : undefined, color: colorEnabled(out) };
}

const SGR = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90 } as const;
export type Color = keyof typeof SGR;

export function paint(text: string, color: Color | undefined, on: boolean): string {
  return on && color ? `\x1b[${SGR[color]}m${text}\x1b[39m` : text;
}

/** One colour per phase, shared by the table output and the TUI. */
export const PHASE_COLORS: Record<Phase, Color> = {
  Pending: 'gray',
  Provisioning: 'cyan',
  Ready: 'green',
  Updating: 'cyan',
  Restoring: 'magenta',
  Stopping: 'yellow',
  Stopped: 'blue',
  Deleting: 'magenta',
  Failed: 'red',
};

/** kubectl-style age: 45s, 12m, 3h4m, 5d, 2y. */
export function age(from: string | Date, now: Date = new Date()): string {
  const s = Math.max(0, Math.floor((now.getTime() - new Date(from).getTime()) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

/** Cut to `width` display columns, ending with "…" when something was cut. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}

export interface Column {
  header: string;
  /** The column that gives up width first when the terminal is narrow (one per table). */
  flexible?: boolean;
}

const GAP = 3;

/**
 * Column widths for aligned columns separated by three spaces, like kubectl. When `width` is
 * known and the table is wider, the flexible column shrinks (down to its header), then the
 * widest column, step by step.
 */
export function tableWidths(columns: readonly Column[], rows: readonly (readonly string[])[], width?: number): number[] {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => [...(r[i] ?? '')].length)));
  if (width) {
    const total = (): number => widths.reduce((a, b) => a + b, 0) + GAP * (widths.length - 1);
    const flex = columns.findIndex((c) => c.flexible);
    if (flex >= 0 && total() > width) {
      widths[flex] = Math.max(columns[flex]?.header.length ?? 1, (widths[flex] ?? 0) - (total() - width));
    }
    // Still too wide: shrink the widest column step by step, never below 3 (room for "ab…").
    while (total() > width) {
      const widest = widths.indexOf(Math.max(...widths));
      if ((widths[widest] ?? 0) <= 3) break;
      widths[widest] = (widths[widest] ?? 0) - 1;
    }
  }
  return widths;
}

/**
 * The table as text (see tableWidths); every cell is cut to its column. A table printed in
 * parts passes the first part's `widths` and `header: false` to the later ones, so they align.
 * `colors` paints a cell after widths are computed, so escape codes never skew alignment.
 */
export function formatTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  opts: {
    width?: number | undefined;
    widths?: readonly number[];
    header?: boolean;
    colors?: (row: number, col: number) => Color | undefined;
    color?: boolean;
  } = {},
): string {
  const widths = opts.widths ?? tableWidths(columns, rows, opts.width);
  const line = (cells: readonly string[], row: number): string =>
    cells
      .map((cell, col) => {
        const w = widths[col] ?? 0;
        const cut = truncate(cell, w);
        const padded = col === cells.length - 1 ? cut : cut + ' '.repeat(Math.max(0, w - [...cut].length));
        return row >= 0 ? paint(padded, opts.colors?.(row, col), opts.color ?? false) : padded;
      })
      .join(' '.repeat(GAP))
      .trimEnd();
  const lines = rows.map((r, i) => line(r, i));
  if (opts.header !== false) lines.unshift(line(columns.map((c) => c.header), -1));
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** The value as a script expects it: the API object unchanged. */
export async function serialize(value: unknown, format: 'json' | 'yaml'): Promise<string> {
  if (format === 'json') return JSON.stringify(value, null, 2) + '\n';
  const { stringify } = await import('yaml');
  return stringify(value);
}
