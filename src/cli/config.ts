// The CLI config: named contexts saying where commands go (DESIGN §10), like kubeconfig
// contexts. Lives at $XDG_CONFIG_HOME/goman/config.yaml (default ~/.config/goman/config.yaml),
// mode 0600 in a 0700 directory, because server contexts hold bearer tokens.
//
// Other parts of goman write here too: `goman serve` adds context `local` on a fresh data dir
// and `goman init` adds context `aws`. Both call `upsertContext`, e.g.
//
//   await upsertContext({ name: 'local', kind: 'server', server: 'http://127.0.0.1:8080', token }, { makeCurrent: true });
import { chmod, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { GomanError } from '../domain/errors.ts';
import { firstProblem } from '../domain/zod-errors.ts';
import { fileProblem, makeDirectory, withFileLock, writeFileAtomic } from '../util/files.ts';
import { isDeepStrictEqual } from 'node:util';
import { NAMESPACE } from '../aws/names.ts';

export const contextNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be 1-63 letters, digits, ".", "_" or "-"');

const serverContextSchema = z.strictObject({
  name: contextNameSchema,
  kind: z.literal('server'),
  server: z.url({ protocol: /^https?$/ }),
  token: z.string().optional(),
});
const s3ContextSchema = z.strictObject({
  name: contextNameSchema,
  kind: z.literal('s3'),
  bucket: z.string().min(3).max(63),
  region: z.string().min(1),
  /** `goman init --namespace NAME`: this context sees only that namespace's clusters. */
  namespace: z.string().regex(NAMESPACE).optional(),
});
export const contextSchema = z.discriminatedUnion('kind', [serverContextSchema, s3ContextSchema]);
export const configSchema = z.object({
  currentContext: z.string().optional(),
  contexts: z.array(contextSchema).default([]),
});

export type ServerContext = z.output<typeof serverContextSchema>;
export type S3Context = z.output<typeof s3ContextSchema>;
export type Context = z.output<typeof contextSchema>;
export type GomanConfig = z.output<typeof configSchema>;

type Env = Record<string, string | undefined>;

/** `$XDG_CONFIG_HOME/goman/config.yaml`, or `~/.config/goman/config.yaml`. */
export function configPath(env: Env = process.env): string {
  const base = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(homedir(), '.config');
  return path.join(base, 'goman', 'config.yaml');
}

/** The config, or an empty one when the file does not exist yet. Invalid content is an error naming the file. */
export async function readConfig(file: string = configPath()): Promise<GomanConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { contexts: [] };
    throw new GomanError('VALIDATION_FAILED', `cannot read the goman config ${file}: ${fileProblem(e, file)}`);
  }
  const { parse } = await import('yaml');
  let raw: unknown;
  try {
    raw = parse(text) ?? {};
  } catch (e) {
    throw new GomanError('VALIDATION_FAILED', `${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new GomanError('VALIDATION_FAILED', `${file}: ${firstProblem(parsed.error)}`);
  }
  return parsed.data;
}

/**
 * Atomic (exclusive temp file + rename) so a crash never leaves half a config; 0600 in a 0700
 * directory. Callers that read, change and write hold the lock (see `updateConfig`).
 */
export async function writeConfig(config: GomanConfig, file: string = configPath()): Promise<void> {
  const valid = configSchema.parse(config);
  const { stringify } = await import('yaml');
  const dir = path.dirname(file);
  await makeDirectory(dir, 0o700);
  await chmod(dir, 0o700);
  await writeFileAtomic(file, stringify(valid), { mode: 0o600 });
}

/** Read, change and write the config under its lock, so concurrent goman processes never lose each other's changes. */
async function updateConfig(file: string, change: (config: GomanConfig) => void): Promise<GomanConfig> {
  await makeDirectory(path.dirname(file), 0o700);
  // Loaded before the lock is taken, so other goman processes wait only for the write itself.
  await import('yaml');
  return withFileLock(file, async () => {
    const config = await readConfig(file);
    change(config);
    await writeConfig(config, file);
    return config;
  });
}

/** Add or replace the context with this name; `makeCurrent` also selects it. Returns the new config. */
export async function upsertContext(
  context: Context,
  opts: { makeCurrent?: boolean; file?: string } = {},
): Promise<GomanConfig> {
  const valid = contextSchema.parse(context);
  return updateConfig(opts.file ?? configPath(), (config) => {
    const i = config.contexts.findIndex((c) => c.name === valid.name);
    if (i >= 0) config.contexts[i] = valid;
    else config.contexts.push(valid);
    if (opts.makeCurrent || !config.currentContext) config.currentContext = valid.name;
  });
}

/**
 * Records `context` under its name, unless a context of that name already points elsewhere
 * (another server or token, another bucket or region): that one is kept (it may hold the only
 * copy of another server's admin token) and the new one gets the first free `name-2`,
 * `name-3`, …, made current only when its own name was used. Returns the name used.
 */
export async function addContextKeepingOthers(context: Context, opts: { makeCurrent?: boolean; file?: string } = {}): Promise<string> {
  const wanted = contextSchema.parse(context);
  let used = wanted.name;
  await updateConfig(opts.file ?? configPath(), (config) => {
    const same = (c: Context): boolean => isDeepStrictEqual({ ...c, name: '' }, { ...wanted, name: '' });
    const taken = (n: string): boolean => config.contexts.some((c) => c.name === n && !same(c));
    for (let i = 2; taken(used); i++) used = `${wanted.name}-${i}`;
    const entry = { ...wanted, name: used };
    const at = config.contexts.findIndex((c) => c.name === used);
    if (at >= 0) config.contexts[at] = entry;
    else config.contexts.push(entry);
    if ((opts.makeCurrent && used === wanted.name) || !config.currentContext) config.currentContext = used;
  });
  return used;
}

/** NOT_FOUND when no context has this name. */
export async function useContext(name: string, file: string = configPath()): Promise<GomanConfig> {
  return updateConfig(file, (config) => {
    if (!config.contexts.some((c) => c.name === name)) throw new GomanError('NOT_FOUND', `context "${name}" not found`);
    config.currentContext = name;
  });
}

/** Removes every context `test` picks (e.g. those of one bucket); returns their names. */
export async function removeContextsWhere(test: (c: Context) => boolean, file: string = configPath()): Promise<string[]> {
  const removed: string[] = [];
  // Nothing to remove: no lock, no write (and no config file where there was none).
  if (!(await readConfig(file)).contexts.some(test)) return removed;
  await updateConfig(file, (config) => {
    for (const c of config.contexts) if (test(c)) removed.push(c.name);
    config.contexts = config.contexts.filter((c) => !removed.includes(c.name));
    if (config.currentContext && removed.includes(config.currentContext)) delete config.currentContext;
  });
  return removed;
}

/** NOT_FOUND when no context has this name; clears currentContext if it pointed there. */
export async function removeContext(name: string, file: string = configPath()): Promise<GomanConfig> {
  return updateConfig(file, (config) => {
    const before = config.contexts.length;
    config.contexts = config.contexts.filter((c) => c.name !== name);
    if (config.contexts.length === before) throw new GomanError('NOT_FOUND', `context "${name}" not found`);
    if (config.currentContext === name) delete config.currentContext;
  });
}

export interface ResolveOptions {
  /** The `--context` flag. */
  context?: string | undefined;
  env?: Env;
  file?: string;
}

/**
 * Which context a command talks to: `--context`, else GOMAN_CONTEXT, else currentContext.
 * GOMAN_SERVER / GOMAN_TOKEN override the server and token (for scripts and CI); GOMAN_SERVER
 * alone is enough when no config exists.
 */
export async function resolveContext(opts: ResolveOptions = {}): Promise<Context> {
  const env = opts.env ?? process.env;
  const file = opts.file ?? configPath(env);
  const config = await readConfig(file);
  const wanted = opts.context ?? env.GOMAN_CONTEXT ?? config.currentContext;
  let ctx: Context | undefined;
  if (wanted) {
    ctx = config.contexts.find((c) => c.name === wanted);
    if (!ctx && (opts.context !== undefined || env.GOMAN_CONTEXT !== undefined || !env.GOMAN_SERVER)) {
      throw new GomanError('NOT_FOUND', `context "${wanted}" not found in ${file}; see \`goman context list\``);
    }
  }
  if (env.GOMAN_SERVER) {
    if (!serverContextSchema.shape.server.safeParse(env.GOMAN_SERVER).success) {
      throw new GomanError('VALIDATION_FAILED', `GOMAN_SERVER "${env.GOMAN_SERVER}" is not an http(s) URL; set it to e.g. http://127.0.0.1:8080 or unset it`);
    }
    const base: ServerContext = ctx?.kind === 'server' ? ctx : { name: 'env', kind: 'server', server: env.GOMAN_SERVER };
    ctx = { ...base, server: env.GOMAN_SERVER };
  }
  if (env.GOMAN_TOKEN && ctx?.kind === 'server') ctx = { ...ctx, token: env.GOMAN_TOKEN };
  if (!ctx) {
    throw new GomanError(
      'UNAVAILABLE',
      `no goman context configured (${file}); start a server with \`goman serve\` or add one with \`goman context add NAME --server URL --token TOKEN\``,
    );
  }
  return ctx;
}
