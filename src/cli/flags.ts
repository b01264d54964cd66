// Parsing of flag values that carry structure (pools, labels, durations). Each failure is a
// UsageError naming the flag, so it exits 2 with a message that says what is expected.
import { nameProblem } from '../domain/names.ts';
import { UsageError } from './errors.ts';
import { OUTPUT_FORMATS } from './output.ts';
import type { OutputFormat } from './output.ts';

export interface PoolFlag {
  name: string;
  count: number;
  instanceType?: string;
}

/** `NAME=COUNT[:TYPE]`, e.g. `workers=3:t3.large`. */
export function parsePool(value: string): PoolFlag {
  const m = /^([^=]+)=(\d+)(?::(.+))?$/.exec(value);
  if (!m) throw new UsageError(`--pool "${value}": expected NAME=COUNT[:TYPE], e.g. workers=3 or gpu=1:g5.xlarge`);
  const [, name = '', count = '', instanceType] = m;
  const problem = nameProblem(name);
  if (problem) throw new UsageError(`--pool "${value}": pool name ${problem}`);
  const n = Number(count);
  if (!Number.isSafeInteger(n) || n > 100) throw new UsageError(`--pool "${value}": COUNT must be 0..100`);
  return instanceType ? { name, count: n, instanceType } : { name, count: n };
}

/** Refuses a repeatable flag that names the same key twice (`--pool w=2 --pool w=3`): which one was meant? */
export function uniqueKeys(flag: string, keys: readonly string[]): void {
  const seen = new Set<string>();
  for (const k of keys) {
    if (seen.has(k)) throw new UsageError(`${flag} names "${k}" more than once; give each once`);
    seen.add(k);
  }
}

/** `key=value`. */
export function parseLabel(value: string): [string, string] {
  const i = value.indexOf('=');
  if (i <= 0) throw new UsageError(`--label "${value}": expected KEY=VALUE`);
  return [value.slice(0, i), value.slice(i + 1)];
}

/** `90s`, `10m`, `1h30m`, or plain seconds. */
export function parseDuration(value: string, flag = '--timeout'): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
  let total = 0;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(value))) {
    total += Number(m[1]) * unit[m[2] as keyof typeof unit];
    consumed = re.lastIndex;
  }
  if (consumed !== value.length || value.length === 0) throw new UsageError(`${flag} "${value}": expected a duration such as 90s, 10m or 1h`);
  return total;
}

export function parseOutput(value: string | undefined): OutputFormat {
  if (value === undefined) return 'table';
  if ((OUTPUT_FORMATS as readonly string[]).includes(value)) return value as OutputFormat;
  throw new UsageError(`-o "${value}": expected one of ${OUTPUT_FORMATS.join(', ')}`);
}

/** A cluster name from the command line, checked before it reaches the server. */
export function clusterName(value: string): string {
  const problem = nameProblem(value);
  if (problem) throw new UsageError(`invalid cluster name "${value}": ${problem}`);
  return value;
}

/** commander's collector for repeatable flags. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
