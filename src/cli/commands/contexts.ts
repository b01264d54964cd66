// `goman context list|current|use|add|remove`: where commands go.
import { firstProblem } from '../../domain/zod-errors.ts';
import { UsageError } from '../errors.ts';
import type { Context } from '../config.ts';
import { contextSchema, readConfig, removeContext, upsertContext, useContext } from '../config.ts';
import { parseOutput } from '../flags.ts';
import type { GlobalOptions } from '../session.ts';
import { formatTable, serialize, stdoutTerminal } from '../output.ts';

/** Tokens never leave the config file through these commands. */
function redacted(c: Context): Record<string, string> {
  return c.kind === 'server'
    ? { name: c.name, kind: c.kind, server: c.server, token: c.token ? '<set>' : '<none>' }
    : { name: c.name, kind: c.kind, bucket: c.bucket, region: c.region };
}

export async function listContexts(flags: GlobalOptions): Promise<void> {
  const format = parseOutput(flags.output);
  const config = await readConfig();
  const current = flags.context ?? process.env.GOMAN_CONTEXT ?? config.currentContext;
  if (format !== 'table') {
    process.stdout.write(await serialize({ currentContext: current ?? null, contexts: config.contexts.map(redacted) }, format));
    return;
  }
  if (config.contexts.length === 0) {
    process.stderr.write('No contexts. Run `goman serve` or `goman context add NAME --server URL --token TOKEN`.\n');
    return;
  }
  const rows = config.contexts.map((c) => [c.name === current ? '*' : '', c.name, c.kind, c.kind === 'server' ? c.server : `s3://${c.bucket} (${c.region})`]);
  process.stdout.write(formatTable([{ header: 'CURRENT' }, { header: 'NAME' }, { header: 'KIND' }, { header: 'TARGET', flexible: true }], rows, { width: stdoutTerminal().columns }));
}

/** For shell completion: context names, one per line. */
export async function contextNames(): Promise<void> {
  process.stdout.write((await readConfig()).contexts.map((c) => `${c.name}\n`).join(''));
}

export async function currentContext(flags: GlobalOptions): Promise<void> {
  const config = await readConfig();
  const current = flags.context ?? process.env.GOMAN_CONTEXT ?? config.currentContext;
  if (!current) throw new UsageError('no current context; set one with `goman context use NAME`');
  process.stdout.write(`${current}\n`);
}

export async function useContextCmd(name: string): Promise<void> {
  await useContext(name);
  process.stdout.write(`switched to context "${name}"\n`);
}

export async function addContext(
  name: string,
  flags: GlobalOptions & { server?: string; token?: string; bucket?: string; region?: string; use?: boolean },
): Promise<void> {
  if (Boolean(flags.server) === Boolean(flags.bucket)) throw new UsageError('give either --server URL (a goman server) or --bucket NAME (serverless S3)');
  if (flags.server && flags.region) throw new UsageError('--region is for --bucket contexts; a server context has no region');
  if (flags.bucket && flags.token) throw new UsageError('--token is for --server contexts; an S3 context uses your AWS credentials');
  const token = flags.token ?? process.env.GOMAN_TOKEN;
  const candidate = flags.server
    ? { name, kind: 'server' as const, server: flags.server, ...(token ? { token } : {}) }
    : { name, kind: 's3' as const, bucket: flags.bucket ?? '', region: flags.region ?? (process.env.GOMAN_REGION || 'ap-south-1') };
  const parsed = contextSchema.safeParse(candidate);
  if (!parsed.success) {
    throw new UsageError(`invalid context: ${firstProblem(parsed.error)}`);
  }
  await upsertContext(parsed.data, { makeCurrent: flags.use !== false });
  process.stdout.write(`context "${name}" saved${flags.use !== false ? ' and selected' : ''}\n`);
}

export async function removeContextCmd(name: string): Promise<void> {
  await removeContext(name);
  process.stdout.write(`context "${name}" removed\n`);
}
