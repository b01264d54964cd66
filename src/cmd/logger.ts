// One pino configuration for every process, with secrets redacted by path so a token,
// kubeconfig or join token never reaches a log even if someone logs a whole object.
// Two formats of the same records: JSON lines for machines (the default off a terminal, and
// under GOMAN_LOG_FORMAT=json) and one short line per record for a person at a terminal.
import { pino, type DestinationStream, type Logger } from 'pino';
import type { Env } from '../domain/env.ts';
import { validationFailed } from '../domain/index.ts';

export const REDACT_PATHS = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers["x-gateway-secret"]',
  'kubeconfig',
  '*.kubeconfig',
  'joinToken',
  '*.joinToken',
  'secret',
  '*.secret',
];

export type LogFormat = 'json' | 'human';

/** GOMAN_LOG_FORMAT wins; otherwise a terminal gets human lines and anything else JSON. */
export function logFormat(env: Env, isTerminal: boolean): LogFormat {
  const wanted = env.GOMAN_LOG_FORMAT;
  if (wanted === undefined || wanted === '') return isTerminal ? 'human' : 'json';
  if (wanted !== 'json' && wanted !== 'human') throw validationFailed(`GOMAN_LOG_FORMAT must be "json" or "human" (got "${wanted}")`);
  return wanted;
}

export interface LoggerOptions {
  name?: string;
  format?: LogFormat;
  /** Where lines go (default stdout for JSON, stderr for human lines). */
  destination?: DestinationStream;
}

export function createLogger(level: string, opts: LoggerOptions = {}): Logger {
  const base = { name: opts.name ?? 'goman', redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  if (opts.format !== 'human') return opts.destination ? pino({ ...base, level }, opts.destination) : pino({ ...base, level });
  // A person at the default level wants to hear about trouble, not every request.
  const humanLevel = level === 'info' ? 'warn' : level;
  return pino({ ...base, level: humanLevel }, humanLines(opts.destination ?? process.stderr));
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name']);

/** A pino destination that turns each JSON record into `HH:MM:SS.mmm LEVEL message key=value…`. */
export function humanLines(out: { write(line: string): unknown }): DestinationStream {
  return { write: (record: string) => out.write(`${humanLine(record)}\n`) };
}

export function humanLine(record: string): string {
  const fields = JSON.parse(record) as Record<string, unknown>;
  const time = typeof fields.time === 'number' ? new Date(fields.time).toISOString().slice(11, 23) : '';
  const level = (LEVEL_NAMES[Number(fields.level)] ?? String(fields.level)).padEnd(5);
  const rest = Object.entries(fields)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, value]) => `${key}=${scalar(value)}`);
  return [time, level, typeof fields.msg === 'string' ? fields.msg : '', ...rest].filter((part) => part !== '').join(' ');
}

function scalar(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}
