// Server and controller settings (DESIGN §10): flags win over environment, environment over
// defaults. Parsed once at start-up so a bad value fails fast with one clear line.
import { homedir } from 'node:os';
import path from 'node:path';
import { envSeconds, type Env } from '../domain/env.ts';
import { validationFailed } from '../domain/index.ts';

export interface ServeFlags {
  listen?: string | undefined;
  dataDir?: string | undefined;
  databaseUrl?: string | undefined;
  busUrl?: string | undefined;
  auth?: string | undefined;
  logLevel?: string | undefined;
  controllers?: boolean | undefined;
}

export interface ServeSettings {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
  busUrl: string | undefined;
  auth: { mode: 'token' | 'gateway'; gatewaySecret?: string };
  logLevel: string;
  controllers: boolean;
  reconcile: { activeIntervalMs: number; stableIntervalMs: number; tickMs: number };
  shutdownDeadlineMs: number;
}

export function defaultDataDir(env: Env = process.env): string {
  if (env.GOMAN_DATA_DIR) return env.GOMAN_DATA_DIR;
  const base = env.XDG_DATA_HOME || path.join(homedir(), '.local', 'share');
  return path.join(base, 'goman');
}

export function parseListen(value: string, source = '--listen'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw validationFailed(`${source} must be HOST:PORT, e.g. 127.0.0.1:8080 (got "${value}")`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Where a setting came from, for messages: the flag when given, else the environment variable. */
const whence = (flagValue: unknown, flag: string, envName: string): string => (flagValue !== undefined ? flag : envName);

export function serveSettings(flags: ServeFlags, env: Env = process.env): ServeSettings {
  const { host, port } = parseListen(flags.listen ?? env.GOMAN_LISTEN ?? '127.0.0.1:8080', whence(flags.listen, '--listen', 'GOMAN_LISTEN'));
  const authMode = flags.auth ?? env.GOMAN_AUTH ?? 'token';
  if (authMode !== 'token' && authMode !== 'gateway') throw validationFailed(`${whence(flags.auth, '--auth', 'GOMAN_AUTH')} must be "token" or "gateway" (got "${authMode}")`);
  const gatewaySecret = env.GOMAN_GATEWAY_SECRET;
  if (authMode === 'gateway' && (!gatewaySecret || gatewaySecret.length < 16)) {
    throw validationFailed('GOMAN_AUTH=gateway needs GOMAN_GATEWAY_SECRET of at least 16 characters');
  }
  const logLevel = flags.logLevel ?? env.GOMAN_LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw validationFailed(`${whence(flags.logLevel, '--log-level', 'GOMAN_LOG_LEVEL')} must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  const databaseUrl = flags.databaseUrl ?? env.GOMAN_DATABASE_URL;
  const busUrl = flags.busUrl ?? env.GOMAN_BUS_URL;
  if (busUrl && !/^nats:\/\//.test(busUrl)) throw validationFailed(`${whence(flags.busUrl, '--bus-url', 'GOMAN_BUS_URL')} must be a nats:// URL (got "${busUrl}")`);
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw validationFailed(`${whence(flags.databaseUrl, '--database-url', 'GOMAN_DATABASE_URL')} must be a postgres:// URL (leave it unset for the embedded SQLite store)`);
  }
  return {
    host,
    port,
    dataDir: flags.dataDir ?? defaultDataDir(env),
    databaseUrl,
    busUrl,
    auth: authMode === 'gateway' ? { mode: 'gateway', gatewaySecret: gatewaySecret! } : { mode: 'token' },
    logLevel,
    controllers: flags.controllers ?? true,
    reconcile: {
      activeIntervalMs: envSeconds(env, 'GOMAN_RECONCILE_ACTIVE_SECONDS', 30) * 1000,
      stableIntervalMs: envSeconds(env, 'GOMAN_RECONCILE_STABLE_SECONDS', 300) * 1000,
      tickMs: envSeconds(env, 'GOMAN_SCHEDULER_TICK_SECONDS', 1) * 1000,
    },
    shutdownDeadlineMs: envSeconds(env, 'GOMAN_SHUTDOWN_SECONDS', 10) * 1000,
  };
}
