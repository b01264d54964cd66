// What every command shares: the global flags, the backend its context points at, and the
// output stream. Records the target so error messages can name the server and context.
import type { ClusterBackend } from '../client/backend.ts';
import type { ServerBackend } from '../client/http-backend.ts';
import { GomanError } from '../domain/errors.ts';
import type { Target } from './errors.ts';
import type { Context } from './config.ts';
import { parseOutput } from './flags.ts';
import type { Column, OutputFormat, Terminal } from './output.ts';
import { formatTable, serialize, stdoutTerminal } from './output.ts';

export interface GlobalOptions {
  context?: string;
  output?: string;
  debug?: boolean;
}

/** Filled in as soon as a command knows where it talks to; read by the error reporter. */
export const target: Target = {};

export interface Session {
  backend: ClusterBackend;
  context: Context;
  format: OutputFormat;
  term: Terminal;
  write(text: string): void;
}

export async function openContext(opts: GlobalOptions): Promise<Context> {
  const { resolveContext } = await import('./config.ts');
  const ctx = await resolveContext({ context: opts.context });
  target.context = ctx.name;
  target.server = ctx.kind === 'server' ? ctx.server.replace(/\/+$/, '') : `s3://${ctx.bucket}`;
  return ctx;
}

/**
 * A session on a goman server, for what only a server has (tokens, the controller registry).
 * `why` says so, e.g. "tokens belong to a goman server".
 */
export async function openServerSession(opts: GlobalOptions, why: string): Promise<Session & { backend: ServerBackend }> {
  const s = await openSession(opts);
  if (s.backend.kind !== 'server') throw new GomanError('VALIDATION_FAILED', `${why}; context "${s.context.name}" is an S3 context`);
  return s as Session & { backend: ServerBackend };
}

/** A list: a table of `row`s on the terminal, or the whole `doc` with `-o json|yaml`. */
export async function writeList<T>(s: Session, doc: unknown, items: readonly T[], columns: Column[], row: (item: T, now: Date) => string[]): Promise<void> {
  if (s.format !== 'table') {
    s.write(await serialize(doc, s.format));
    return;
  }
  const now = new Date();
  s.write(formatTable(columns, items.map((item) => row(item, now)), { width: s.term.columns }));
}

export async function openSession(opts: GlobalOptions): Promise<Session> {
  const format = parseOutput(opts.output);
  const context = await openContext(opts);
  const { backendFor } = await import('./backends/resolve.ts');
  const backend = await backendFor(context);
  return { backend, context, format, term: stdoutTerminal(), write: (t) => void process.stdout.write(t) };
}
