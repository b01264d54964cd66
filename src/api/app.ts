// The HTTP face of the control plane (DESIGN §4, §11). `buildApi` assembles an app; the
// caller listens, and on SIGTERM calls `closeGracefully` (readyz goes 503 at once, in-flight
// requests finish within the deadline, watch streams end).
import { randomBytes, randomUUID } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import Fastify, { LogController } from 'fastify';
import { traceRequests } from './trace.ts';
import type { FastifyBaseLogger, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, onRequestHookHandler, preParsingHookHandler } from 'fastify';
import type { Registry } from 'prom-client';
import { GomanError } from '../domain/index.ts';
import type { EventBus } from '../events/port.ts';
import type { ClusterStore } from '../store/port.ts';
import type { AuthOptions } from './auth.ts';
import { makeIdentify, unauthenticated } from './auth.ts';
import { registerJsonParsers } from './body.ts';
import { renderDocs } from './docs-page.ts';
import { createMetricsRegistry, instrumentHttp } from './metrics.ts';
import { buildOpenApi } from './openapi.ts';
import { clientErrorHandler, errorHandler, mapError, sendProblem } from './problem.ts';
import type { RouteDef } from './route.ts';
import { hooksOf } from './route-hooks.ts';
import { mountRoutes } from './route.ts';
import { clusterRoutes } from './routes/clusters.ts';
import { day2Routes } from './routes/day2.ts';
import { planRoutes, storePlanService } from './routes/plan.ts';
import { controllerRoutes, expireControllersPeriodically } from './routes/controllers.ts';
import { systemRoutes } from './routes/system.ts';
import { kubeconfigRoutes } from './routes/kubeconfig.ts';
import { sessionRoutes } from './routes/session.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { watchRoutes } from './routes/watch.ts';
import { SessionSealer } from './session.ts';
import { TokenVerifier, type ProcessToken } from './tokens.ts';
import type { WatchOptions } from './watch.ts';
import { WatchHub } from './watch.ts';

export const BODY_LIMIT = 1024 * 1024;
/** Requests a minute per identity, unless set (GOMAN_RATE_LIMIT). */
const DEFAULT_RATE_LIMIT = 6000;
/** How many times that a `controller` token may make, unless set (GOMAN_CONTROLLER_RATE_LIMIT). */
const CONTROLLER_RATE_LIMIT_FACTOR = 10;

export interface ApiDeps {
  store: ClusterStore;
  bus?: EventBus | undefined;
  auth: AuthOptions;
  /** A pino logger (with its own redaction settings), or false/absent for none. */
  logger?: FastifyBaseLogger | false | undefined;
  version: string;
  topology: 'embedded' | 'service';
  providers: string[];
  /**
   * Requests per window and identity (token, gateway user, or client IP when anonymous), default
   * 6000 a minute; `controllerMax` for `controller` tokens, default ten times `max`.
   */
  rateLimit?: { max?: number | undefined; controllerMax?: number | undefined; windowMs?: number | undefined } | undefined;
  /** Routes of other areas (e.g. /v1/recipe); registered inside the app, with its auth, error shape and limits. */
  extraRoutes?: FastifyPluginAsync[] | undefined;
  /** OpenAPI path items of those routes, for /openapi.json. */
  extraOpenApiPaths?: Record<string, Record<string, unknown>> | undefined;
  /** Register goman's HTTP metrics here (controllers add theirs to the same registry). */
  metrics?: Registry | undefined;
  watch?: WatchOptions | undefined;
  /** How long a token lookup is cached (default 5 s). */
  tokenCacheMs?: number | undefined;
  /** A controller whose heartbeat stops this long is deregistered (default 1 hour). */
  controllerExpiryMs?: number | undefined;
  /** Tokens valid in this process only, never stored (the embedded controller's). */
  processTokens?: readonly ProcessToken[] | undefined;
  /** Where cached AWS prices live (plans and dry runs price with them, else the shipped table). */
  dataDir?: string | undefined;
  /** Seals console session cookies (32 bytes); a random one per process when absent. */
  sessionKey?: Buffer | undefined;
}

interface AppState {
  draining: boolean;
  hub: WatchHub;
  registry: Registry;
}

const states = new WeakMap<FastifyInstance, AppState>();

function state(app: FastifyInstance): AppState {
  const s = states.get(app);
  if (!s) throw new Error('not an app built by buildApi');
  return s;
}

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function requestId(req: { headers: Record<string, string | string[] | undefined> }): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** Fastify's two info lines per request drown the rest: one line when it is answered, at debug (an error at error). */
class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.debug(line, 'request');
  }
}

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const registry = deps.metrics ?? createMetricsRegistry();
  const verifier = new TokenVerifier(deps.store, deps.tokenCacheMs ?? 5000, undefined, deps.processTokens);
  const hub = new WatchHub(deps.store, deps.bus, { recheckMs: verifier.ttlMs / 2, ...deps.watch });
  const sessions = new SessionSealer(deps.sessionKey ?? randomBytes(32));
  const identify = makeIdentify({ ...deps.auth, sessions }, verifier);
  const identifyCaller: onRequestHookHandler = (request, _reply, done) => {
    let pending: Promise<void> | undefined;
    try {
      pending = identify(request);
    } catch (err) {
      done(err as Error);
      return;
    }
    if (pending === undefined) done();
    else pending.then(() => done(), done);
  };
  // Anonymous calls are refused before their bodies are read.
  const refuseAnonymous: preParsingHookHandler = (request, _reply, payload, done) => {
    if (request.identity) done(null, payload);
    else done(unauthenticated(request));
  };

  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    genReqId: requestId,
    logController: new OneLinePerRequest(),
    bodyLimit: BODY_LIMIT,
    // Time to receive a whole request, idle sockets, keep-alive; watch streams opt out.
    requestTimeout: 30_000,
    connectionTimeout: 120_000,
    keepAliveTimeout: 72_000,
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    clientErrorHandler,
    frameworkErrors: (error, request, reply) => {
      void reply.header('x-request-id', request.id);
      const m = mapError(error);
      sendProblem(reply, m.status === 500 ? 400 : m.status, m.status === 500 ? 'VALIDATION_FAILED' : m.code, m.status === 500 ? 'malformed request' : m.detail, m.errors);
    },
  });
  states.set(app, { draining: false, hub, registry });
  traceRequests(app);
  // Per-request fields the auth hook fills in (declared in auth.ts).
  app.decorateRequest('identity', null);
  app.decorateRequest('authError', null);

  registerJsonParsers(app, BODY_LIMIT);
  app.setErrorHandler(errorHandler);
  // Every route as it is added, other areas' plugins included:
  // - a known path with another method is a 405 with Allow;
  // - a route not marked public identifies its caller as the request arrives, and refuses an
  //   anonymous one before its body is read. A route's own hooks know whether it is public, so
  //   no request asks fastify for its route options (a new object on every call) to find out;
  // - a public route has no rate limit (health checks, metrics, docs).
  // This hook runs before the rate-limit plugin's own, which adds its hook after ours.
  const allowed: { pattern: RegExp; methods: string[] }[] = [];
  app.addHook('onRoute', (route) => {
    const pattern = new RegExp(`^${route.url.replace(/:\w+/g, '[^/]+')}/?$`);
    const methods = [route.method].flat();
    const known = allowed.find((a) => a.pattern.source === pattern.source);
    if (known) known.methods.push(...methods);
    else allowed.push({ pattern, methods });
    if (route.config?.public === true) {
      route.config = { ...route.config, rateLimit: false };
      return;
    }
    route.onRequest = [identifyCaller, ...hooksOf(route.onRequest)];
    route.preParsing = [refuseAnonymous, ...hooksOf(route.preParsing)];
  });
  const unmatched = (request: FastifyRequest, reply: FastifyReply): void => {
    const path = request.url.split('?')[0]!;
    const methods = allowed.filter((a) => a.pattern.test(path)).flatMap((a) => a.methods);
    if (methods.length > 0) {
      if (methods.includes('GET')) methods.push('HEAD');
      void reply.header('allow', [...new Set(methods)].join(', '));
      sendProblem(reply, 405, 'VALIDATION_FAILED', `${request.method} is not allowed on ${path}`);
      return;
    }
    sendProblem(reply, 404, 'NOT_FOUND', `no route ${request.method} ${path}`);
  };
  app.setNotFoundHandler(unmatched);

  // Answer unmatched requests before any body is read (or refused as malformed).
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    if (request.is404) unmatched(request, reply);
    else done();
  });
  instrumentHttp(app, registry, deps.store, () => hub.size);
  const userMax = deps.rateLimit?.max ?? DEFAULT_RATE_LIMIT;
  const controllerMax = deps.rateLimit?.controllerMax ?? userMax * CONTROLLER_RATE_LIMIT_FACTOR;
  await app.register(rateLimit, {
    global: true,
    // A controller's requests grow with the fleet it looks after (a resync reads every young
    // cluster every 30 s: 333 reads a second at 10 000 clusters), so controllers get their own,
    // larger allowance, as Kubernetes' priority and fairness gives its controllers a level of their own.
    max: (request: FastifyRequest) => (request.identity?.role === 'controller' ? controllerMax : userMax),
    timeWindow: deps.rateLimit?.windowMs ?? 60_000,
    keyGenerator: (request: FastifyRequest) => request.identity?.key ?? `ip:${request.ip}`,
    errorResponseBuilder: (_request, context) => new GomanError('RATE_LIMITED', `rate limit of ${context.max} requests per ${context.after} exceeded`),
  });

  let openApi: Record<string, unknown> | null = null;
  const openApiInfo = { version: deps.version, gateway: deps.auth.mode === 'gateway', extraPaths: deps.extraOpenApiPaths };
  let docsHtml: string | null = null;
  const plans = storePlanService(deps.store, { dataDir: deps.dataDir });
  const routes: RouteDef[] = [
    ...clusterRoutes(deps.store, plans),
    ...planRoutes(deps.store, plans),
    ...day2Routes(deps.store),
    ...controllerRoutes(deps.store, deps.controllerExpiryMs),
    ...watchRoutes(hub, verifier),
    ...tokenRoutes(deps.store, verifier),
    ...sessionRoutes(verifier, sessions),
    ...kubeconfigRoutes(deps.store),
  ];
  routes.push(
    ...systemRoutes({
      store: deps.store,
      bus: deps.bus,
      registry,
      info: { version: deps.version, topology: deps.topology, providers: [...deps.providers] },
      isDraining: () => state(app).draining,
      openApi: () => (openApi ??= buildOpenApi(routes, openApiInfo)),
      docsHtml: () => (docsHtml ??= renderDocs(openApi ??= buildOpenApi(routes, openApiInfo))),
    }),
  );
  mountRoutes(app, routes);
  for (const plugin of deps.extraRoutes ?? []) await app.register(plugin);

  app.addHook('preClose', async () => hub.closeAll());
  app.addHook('onClose', async () => hub.stop());
  const stopExpiry = expireControllersPeriodically(deps.store, deps.controllerExpiryMs, (err) => app.log.warn({ err }, 'controller expiry failed'));
  app.addHook('onClose', async () => stopExpiry());
  await app.ready();
  return app;
}

/** Readiness turns 503 so load balancers stop sending; requests are still served meanwhile. */
export function startDraining(app: FastifyInstance): void {
  state(app).draining = true;
}

export function isDraining(app: FastifyInstance): boolean {
  return state(app).draining;
}

/** The app's Prometheus registry, for other parts (controllers) to register their metrics. */
export function metricsRegistry(app: FastifyInstance): Registry {
  return state(app).registry;
}

/**
 * Stop accepting, end watch streams, let in-flight requests finish; after `deadlineMs`
 * remaining connections are cut.
 */
export async function closeGracefully(app: FastifyInstance, deadlineMs: number): Promise<void> {
  startDraining(app);
  const timer = setTimeout(() => app.server.closeAllConnections(), deadlineMs);
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
  }
}
