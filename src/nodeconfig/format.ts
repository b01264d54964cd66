// Output of node-configuration documents: json, yaml, or a table for people.
import type { Snapshot } from './types.ts';
import type { ValidationReport } from './validate.ts';

export const OUTPUT_FORMATS = ['json', 'yaml', 'table'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The YAML library loads only for YAML output, which keeps `-o json` starts short. */
export async function serialize(doc: unknown, format: 'json' | 'yaml'): Promise<string> {
  if (format === 'json') return `${JSON.stringify(doc, null, 2)}\n`;
  const { stringify } = await import('yaml');
  return stringify(doc);
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export function snapshotTable(s: Snapshot): string {
  const rows: string[][] = [];
  for (const m of s.measurements) {
    if (m.subtypes.length === 0) rows.push([m.type, '-', '-', `(${m.reason ?? 'no data'})`]);
    for (const sub of m.subtypes) for (const [k, v] of Object.entries(sub.data)) rows.push([m.type, sub.subtype, k, String(v)]);
  }
  return table(['TYPE', 'SUBTYPE', 'KEY', 'VALUE'], rows);
}

export function validationTable(r: ValidationReport): string {
  const rows = r.checks.map((c) => [c.status.toUpperCase(), c.constraint, c.actual ?? '-', c.message ?? '']);
  const { passed, failed, skipped } = r.summary;
  return table(['RESULT', 'CONSTRAINT', 'ACTUAL', 'NOTE'], rows) + `\n${passed} passed, ${failed} failed, ${skipped} skipped\n`;
}
