// `goman serve` (DESIGN §1): the API, the outbox relay, the scheduler and, unless
// --no-controllers, the built-in controllers, in one process. Embedded by default (SQLite in the
// data dir, in-process bus); PostgreSQL + NATS when GOMAN_DATABASE_URL / GOMAN_BUS_URL are set.
import type { AddressInfo } from 'node:net';
import { buildApi, closeGracefully, metricsRegistry, startDraining } from '../api/app.ts';
import { CONSOLE_DIST, consoleRoutes } from '../api/console.ts';
import { loadSessionKey } from '../api/session.ts';
import { ensureAdminToken, generateToken, hashToken, issueToken } from '../api/tokens.ts';
import { addContextKeepingOthers, configPath, readConfig, upsertContext } from '../cli/config.ts';
import { ApiClient } from '../client/api-client.ts';
import { PROVIDERS } from '../domain/index.ts';
import { openBus } from '../events/open.ts';
import { startOutboxRelay } from '../events/outbox-relay.ts';
import { nodeConfigRoutes } from '../nodeconfig/http.ts';
import { nodeConfigOpenApi } from '../nodeconfig/openapi.ts';
import { processOwner } from './controller-process.ts';
import { startRelayThread } from './relay-thread.ts';
import { startEngine, type Engine } from './engine.ts';
import { startScheduler } from '../reconcile/scheduler.ts';
import { openStore } from '../store/open.ts';
import { createLogger } from './logger.ts';
import { startTracing } from './tracing.ts';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { serveSettings, type ServeFlags } from './settings.ts';
import { untilSignal } from './signals.ts';
import { gomanVersion } from '../util/version.ts';
import { afterWrites } from './write-hook.ts';
import { makeDirectory, namingFlag } from '../util/files.ts';

// The relay thread's pause after a round that found rows: a burst's writes gather into fewer
// rounds. In bench:scale (10 000 clusters, 2 cores) event latency p99 was 184 ms with 0, 112 ms
// with 5 and 129 ms with 10: back-to-back rounds of a few rows cost more CPU than they save.
const RELAY_GATHER_MS = 5;

export async function runServe(flags: ServeFlags): Promise<void> {
  const settings = serveSettings(flags);
  const logger = createLogger(settings.logLevel, { format: settings.logFormat });
  // Not Node's recursive mkdir: it spins for ever on a path such as /proc/x.
  if (!settings.databaseUrl) await namingFlag(flags.dataDir !== undefined ? '--data-dir' : 'GOMAN_DATA_DIR', makeDirectory(settings.dataDir, 0o700));
  const rawStore = await openStore({ databaseUrl: settings.databaseUrl, dataDir: settings.dataDir, activeReconcileMs: settings.reconcile.activeIntervalMs });
  if (settings.resetAdminToken) {
    try {
      await resetAdminToken(rawStore, urlFor(settings, settings.port));
    } finally {
      await rawStore.close();
    }
    return;
  }
  const tracing = await startTracing('goman');
  const bus = await openBus(settings.busUrl);
  // The embedded controller calls this process's own API with a token that exists only here:
  // nothing is stored, so a kill -9 leaves nothing behind.
  const controllerToken = settings.controllers ? generateToken() : undefined;
  let poke = (): void => {};
  const store = afterWrites(rawStore, () => poke());
  const topology = settings.databaseUrl ? 'service' : 'embedded';

  const app = await buildApi({
    store,
    bus,
    auth: settings.auth,
    logger,
    version: gomanVersion(),
    topology,
    providers: [...PROVIDERS],
    extraRoutes: [nodeConfigRoutes, consoleRoutes()],
    extraOpenApiPaths: nodeConfigOpenApi,
    controllerExpiryMs: settings.controllerExpiryMs,
    rateLimit: settings.rateLimit,
    processTokens: controllerToken ? [{ token: controllerToken, subject: 'embedded-controller', role: 'controller' }] : [],
    dataDir: settings.dataDir,
    // Embedded: a key file in the data dir, so console sessions survive a restart.
    sessionKey: await loadSessionKey({ envKey: process.env.GOMAN_SESSION_KEY, dataDir: settings.databaseUrl ? undefined : settings.dataDir }),
  });
  // The CLI config is written before the port answers, so whoever sees /readyz can use it.
  if (settings.port !== 0) await rememberLocalContext(rawStore, urlFor(settings, settings.port));
  await app.listen({ host: settings.host, port: settings.port });
  const url = urlFor(settings, (app.server.address() as AddressInfo).port);
  if (settings.port === 0) await rememberLocalContext(rawStore, url);

  const owner = processOwner();
  const registry = metricsRegistry(app);
  // A write in this process pokes the relay; one made by another replica is found by polling,
  // so with a shared database the poll is what bounds event latency (10 ms: one indexed read of
  // an empty partial index, ~100 a second, against a 50 ms floor on half the writes of 2 replicas).
  const relayPollMs = settings.databaseUrl ? 10 : 50;
  // On PostgreSQL + NATS the relay runs in a thread of its own, with connections of its own
  // (relay-thread.ts): behind the API's requests in the shared pool, its read and mark each
  // waited ~75 ms (p50) under a creation burst, and its lease with them. The in-process bus
  // lives in this thread, and so does the relay that feeds it.
  const relay =
    settings.databaseUrl && settings.busUrl
      ? await startRelayThread(
          { databaseUrl: settings.databaseUrl, busUrl: settings.busUrl, owner, pollMs: relayPollMs, gatherMs: RELAY_GATHER_MS, logLevel: settings.logLevel, logFormat: settings.logFormat },
          { metrics: registry, logger },
        )
      : startOutboxRelay({ store: rawStore, bus, leases: rawStore, owner, pollMs: relayPollMs, metrics: registry, logger });
  poke = () => relay.poke();
  const scheduler = startScheduler({
    store: rawStore,
    leases: rawStore,
    owner,
    tickMs: settings.reconcile.tickMs,
    activeIntervalMs: settings.reconcile.activeIntervalMs,
    stableIntervalMs: settings.reconcile.stableIntervalMs,
    logger,
    onTick: (tick) => logger.debug({ tick }, 'scheduler tick'),
  });

  let engine: Engine | undefined;
  if (controllerToken) {
    engine = await startEngine({
      store,
      bus,
      controlPlane: new ApiClient({ baseUrl: url, token: controllerToken, userAgent: 'goman-embedded-controller' }),
      owner,
      providers: ['sim'],
      metrics: registry,
      logger,
    });
  }
  const running = startupSummary(settings, url, engine ? 'sim (embedded)' : 'none');
  process.stderr.write(`goman ${gomanVersion()} serving ${url} (${topology})\n${Object.entries(running).map(([k, v]) => `  ${`${k}:`.padEnd(13)}${v}\n`).join('')}`);
  logger.info({ url, topology, ...running }, 'serving');

  const signal = await untilSignal();
  logger.info({ signal }, 'shutting down');
  startDraining(app);
  const deadline = settings.shutdownDeadlineMs;
  await engine?.stop(deadline);
  await Promise.allSettled([scheduler.stop(), relay.stop()]);
  await closeGracefully(app, deadline);
  await Promise.allSettled([bus.close()]);
  await rawStore.close();
  await tracing.shutdown();
}

/** What runs where, for the start-up lines: a person reads them, a log collector gets the same fields. */
export function startupSummary(
  settings: { databaseUrl: string | undefined; dataDir: string; busUrl: string | undefined },
  url: string,
  controllers: string,
  consoleBuilt = existsSync(path.join(CONSOLE_DIST, 'index.html')),
): Record<'store' | 'bus' | 'controllers' | 'console' | 'admin token', string> {
  return {
    store: settings.databaseUrl ? `PostgreSQL ${withoutCredentials(settings.databaseUrl)}` : `SQLite in ${settings.dataDir}`,
    bus: settings.busUrl ? `NATS ${withoutCredentials(settings.busUrl)}` : 'in-process',
    controllers,
    console: consoleBuilt ? `${url}/` : 'not built (npm run build:console)',
    'admin token': `${configPath()} (context "local"; lost it? goman serve --reset-admin-token)`,
  };
}

function withoutCredentials(raw: string): string {
  const u = new URL(raw);
  return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
}

function urlFor(settings: { host: string }, port: number): string {
  const host = settings.host === '0.0.0.0' || settings.host === '::' ? '127.0.0.1' : settings.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * `goman serve --reset-admin-token`: the way back in when no admin token is left (revoked,
 * expired, or the config holding it lost). Issues a new one in the store, prints it once on
 * stdout and writes it to the CLI config as context `local` (or a new name if `local` points at
 * another server); other tokens are untouched. Works while a server runs on the same data.
 */
async function resetAdminToken(store: Parameters<typeof issueToken>[0], url: string): Promise<void> {
  const admin = await issueToken(store, { subject: 'admin', role: 'admin' });
  // A `local` context for this very server holds the lost token: give it the new one.
  const local = (await readConfig()).contexts.find((c) => c.name === 'local');
  const name =
    local?.kind === 'server' && local.server === url
      ? (await upsertContext({ ...local, token: admin.token }, { makeCurrent: true }), 'local')
      : await addContextKeepingOthers({ name: 'local', kind: 'server', server: url, token: admin.token }, { makeCurrent: true });
  process.stdout.write(`${admin.token}\n`);
  process.stderr.write(`goman: new admin token (id ${admin.id}) written to ${configPath()} as context "${name}"\n`);
}

/**
 * A fresh store gets an admin token, written to the CLI config as context `local` (0600), so a
 * new user needs no set-up. On later starts only the URL is refreshed (the port may change).
 */
async function rememberLocalContext(store: Parameters<typeof ensureAdminToken>[0], url: string): Promise<void> {
  const admin = await ensureAdminToken(store);
  if (admin) {
    const name = await addContextKeepingOthers({ name: 'local', kind: 'server', server: url, token: admin }, { makeCurrent: true });
    const kept = name === 'local' ? '' : `; context "local" points at another server and was kept, use this one with --context ${name}`;
    process.stderr.write(`goman: admin token written to ${configPath()} as context "${name}"${kept}\n`);
    return;
  }
  // Refresh the URL only of a context this server issued the token of: another server's stays as it is.
  const local = (await readConfig()).contexts.find((c) => c.name === 'local');
  if (local?.kind === 'server' && local.server !== url && local.token && (await store.findTokenByHash(hashToken(local.token)))) {
    await upsertContext({ ...local, server: url });
  }
}
