// Server and controller settings (DESIGN §10): flags win over environment, environment over
// defaults. Parsed once at start-up so a bad value fails fast with one clear line.
import { envCount, envInterval, envSeconds, type Env } from '../domain/env.ts';
import { validationFailed } from '../domain/index.ts';
import { defaultDataDir } from '../util/data-dir.ts';
import { DEFAULT_TICK_MS } from '../reconcile/scheduler.ts';
import { logFormat, type LogFormat } from './logger.ts';

export interface ServeFlags {
  listen?: string | undefined;
  dataDir?: string | undefined;
  databaseUrl?: string | undefined;
  busUrl?: string | undefined;
  auth?: string | undefined;
  logLevel?: string | undefined;
  controllers?: boolean | undefined;
  /** Issue a new admin token in the store, write it to the CLI config, and exit. */
  resetAdminToken?: boolean | undefined;
}

export interface ServeSettings {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
  busUrl: string | undefined;
  auth: { mode: 'token' | 'gateway'; gatewaySecret?: string };
  logLevel: string;
  /** Human lines on a terminal, JSON otherwise (GOMAN_LOG_FORMAT overrides). */
  logFormat: LogFormat;
  controllers: boolean;
  resetAdminToken: boolean;
  reconcile: { activeIntervalMs: number; stableIntervalMs: number; tickMs: number };
  shutdownDeadlineMs: number;
  /** A controller silent this long is deregistered and its finalizers released. */
  controllerExpiryMs: number;
  /** Requests a minute per identity, and per controller token; unset: the API's defaults. */
  rateLimit: { max: number | undefined; controllerMax: number | undefined };
}

export { defaultDataDir };

export function parseListen(value: string, source = '--listen'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw validationFailed(`${source} must be HOST:PORT, e.g. 127.0.0.1:8080 (got "${value}")`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Where a setting came from, for messages: the flag when given, else the environment variable. */
const whence = (flagValue: unknown, flag: string, envName: string): string => (flagValue !== undefined ? flag : envName);

/** The database and bus URLs, shape-checked; the messages name the flag or variable that was used. */
function sharedUrls(flags: { databaseUrl?: string | undefined; busUrl?: string | undefined }, env: Env): { databaseUrl: string | undefined; busUrl: string | undefined } {
  const databaseUrl = flags.databaseUrl ?? (env.GOMAN_DATABASE_URL || undefined);
  const busUrl = flags.busUrl ?? (env.GOMAN_BUS_URL || undefined);
  if (busUrl && !/^nats:\/\//.test(busUrl)) throw validationFailed(`${whence(flags.busUrl, '--bus-url', 'GOMAN_BUS_URL')} must be a nats:// URL (got "${busUrl}")`);
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw validationFailed(`${whence(flags.databaseUrl, '--database-url', 'GOMAN_DATABASE_URL')} must be a postgres:// URL (leave it unset for the embedded SQLite store)`);
  }
  return { databaseUrl, busUrl };
}

function logLevelSetting(flag: string | undefined, env: Env): string {
  const logLevel = flag ?? (env.GOMAN_LOG_LEVEL || 'info');
  if (!LOG_LEVELS.includes(logLevel)) throw validationFailed(`${whence(flag, '--log-level', 'GOMAN_LOG_LEVEL')} must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  return logLevel;
}

/**
 * Every process that acts on clusters must share the control plane's state: one SQLite file
 * belongs to one process, and other processes hear events only through NATS. So a NATS bus
 * needs PostgreSQL (its listeners keep leases and provider state there), and an API without
 * its own controllers needs NATS (its events must reach the controllers elsewhere).
 */
export function serveSettings(flags: ServeFlags, env: Env = process.env, isTerminal = Boolean(process.stdout.isTTY)): ServeSettings {
  const { host, port } = parseListen(flags.listen ?? env.GOMAN_LISTEN ?? '127.0.0.1:8080', whence(flags.listen, '--listen', 'GOMAN_LISTEN'));
  const authMode = flags.auth ?? env.GOMAN_AUTH ?? 'token';
  if (authMode !== 'token' && authMode !== 'gateway') throw validationFailed(`${whence(flags.auth, '--auth', 'GOMAN_AUTH')} must be "token" or "gateway" (got "${authMode}")`);
  const gatewaySecret = env.GOMAN_GATEWAY_SECRET;
  if (authMode === 'gateway' && (!gatewaySecret || gatewaySecret.length < 16)) {
    throw validationFailed('GOMAN_AUTH=gateway needs GOMAN_GATEWAY_SECRET of at least 16 characters');
  }
  const logLevel = logLevelSetting(flags.logLevel, env);
  const format = logFormat(env, isTerminal);
  const { databaseUrl, busUrl } = sharedUrls(flags, env);
  const controllers = flags.controllers ?? true;
  if (busUrl && !databaseUrl) {
    throw validationFailed(
      `${whence(flags.busUrl, '--bus-url', 'GOMAN_BUS_URL')} needs --database-url (GOMAN_DATABASE_URL) too: the controllers on that bus keep their state in the shared PostgreSQL, not in this server's SQLite`,
    );
  }
  if (databaseUrl && !busUrl && !controllers) {
    throw validationFailed(
      '--no-controllers with a shared database needs --bus-url (GOMAN_BUS_URL): controllers in other processes hear events only through NATS',
    );
  }
  return {
    host,
    port,
    dataDir: flags.dataDir ?? defaultDataDir(env),
    databaseUrl,
    busUrl,
    auth: authMode === 'gateway' ? { mode: 'gateway', gatewaySecret: gatewaySecret! } : { mode: 'token' },
    logLevel,
    logFormat: format,
    controllers,
    resetAdminToken: flags.resetAdminToken ?? false,
    reconcile: {
      activeIntervalMs: envInterval(env, 'GOMAN_RECONCILE_ACTIVE_SECONDS', 30) * 1000,
      stableIntervalMs: envInterval(env, 'GOMAN_RECONCILE_STABLE_SECONDS', 300) * 1000,
      tickMs: envInterval(env, 'GOMAN_SCHEDULER_TICK_SECONDS', DEFAULT_TICK_MS / 1000) * 1000,
    },
    shutdownDeadlineMs: envSeconds(env, 'GOMAN_SHUTDOWN_SECONDS', 10) * 1000,
    controllerExpiryMs: envSeconds(env, 'GOMAN_CONTROLLER_EXPIRY_SECONDS', 3600) * 1000,
    rateLimit: { max: envCount(env, 'GOMAN_RATE_LIMIT'), controllerMax: envCount(env, 'GOMAN_CONTROLLER_RATE_LIMIT') },
  };
}

export interface ControllerFlags {
  provider: 'sim' | 'aws';
  source?: 'bus' | 'sqs' | undefined;
  context?: string | undefined;
  databaseUrl?: string | undefined;
  busUrl?: string | undefined;
}

export type ControllerSettings =
  | { source: 'sqs'; provider: 'aws'; context: string | undefined; logLevel: string; shutdownDeadlineMs: number }
  | {
      source: 'bus';
      provider: 'sim' | 'aws';
      context: string | undefined;
      databaseUrl: string;
      busUrl: string;
      logLevel: string;
      leaseTtlMs: number;
      /** Clusters reconciled at once (unset: the host's default). */
      concurrency: number | undefined;
      shutdownDeadlineMs: number;
    };

/**
 * A bus worker shares the server's PostgreSQL (leases, provider state) and NATS (events); with a
 * private SQLite it would re-provision every cluster it finds, and with no bus it would hear
 * nothing. The queue worker (`--source sqs`) uses neither, so giving it one is a mistake too.
 */
export function controllerSettings(flags: ControllerFlags, env: Env = process.env): ControllerSettings {
  const logLevel = logLevelSetting(undefined, env);
  const context = flags.context ?? (env.GOMAN_CONTEXT || undefined);
  const shutdownDeadlineMs = envSeconds(env, 'GOMAN_SHUTDOWN_SECONDS', 10) * 1000;
  if (flags.source === 'sqs') {
    if (flags.provider !== 'aws') throw validationFailed('--source sqs runs the aws controller; use --provider aws');
    const ignored = flags.databaseUrl !== undefined ? '--database-url' : flags.busUrl !== undefined ? '--bus-url' : undefined;
    if (ignored) throw validationFailed(`${ignored} has no effect with --source sqs (the queue worker keeps its state in S3 and DynamoDB); drop it`);
    return { source: 'sqs', provider: 'aws', context, logLevel, shutdownDeadlineMs };
  }
  const { databaseUrl, busUrl } = sharedUrls(flags, env);
  const missing = [databaseUrl ? undefined : '--database-url (GOMAN_DATABASE_URL)', busUrl ? undefined : '--bus-url (GOMAN_BUS_URL)'].filter(Boolean);
  if (!databaseUrl || !busUrl) {
    throw validationFailed(
      `goman controller needs ${missing.join(' and ')}: set the PostgreSQL and NATS URLs the server uses, so this worker shares its leases, provider state and events (or use --source sqs)`,
    );
  }
  return {
    source: 'bus',
    provider: flags.provider,
    context,
    databaseUrl,
    busUrl,
    logLevel,
    leaseTtlMs: envSeconds(env, 'GOMAN_LEASE_TTL_SECONDS', 30) * 1000,
    concurrency: envCount(env, 'GOMAN_CONTROLLER_CONCURRENCY'),
    shutdownDeadlineMs,
  };
}
