// Typed client for the goman REST API (DESIGN §4). The CLI, the TUI and every controller use
// it, so there is one place that knows paths, headers and the problem+json error shape.
import type {
  Cluster,
  ClusterSpecInput,
  ClusterStatus,
  ControllerRegistration,
  ControllerRegistrationInput,
  ControllerReport,
  ErrorCode,
  FieldError,
  Labels,
} from '../domain/index.ts';
import { ERROR_CODES } from '../domain/errors.ts';
import type { ControlPlane } from '../reconcile/types.ts';
import type { PlanResult } from '../domain/plan-result.ts';
import type { CreateClusterBody, ListClustersParams, Versioned } from './backend.ts';
import { ApiError, ServerUnreachableError } from './errors.ts';
import { exchange, type Exchange } from './http-exchange.ts';
import type { HistoryEntry, Page, Snapshot, TokenRecord, TokenRole } from '../domain/index.ts';

export interface ClientOptions {
  baseUrl: string;
  token?: string | undefined;
  /** Per-request timeout. */
  timeoutMs?: number;
  userAgent?: string;
}

export interface ApiInfo {
  version: string;
  topology: string;
  providers: string[];
  [key: string]: unknown;
}

export interface CreatedToken extends TokenRecord {
  token: string;
}

type Query = Record<string, string | number | undefined>;

export class ApiClient implements ControlPlane {
  readonly baseUrl: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;
  private readonly userAgent: string;

  constructor(opts: ClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.userAgent = opts.userAgent ?? 'goman-client';
  }

  // clusters
  createCluster(body: CreateClusterBody): Promise<Cluster> {
    return this.json('POST', '/api/v1/clusters', { body });
  }
  listClusters(params: ListClustersParams = {}): Promise<Page<Cluster>> {
    return this.json('GET', '/api/v1/clusters', { query: { ...params } });
  }
  async getClusterVersioned(idOrName: string): Promise<Versioned<Cluster>> {
    const res = await this.request('GET', `/api/v1/clusters/${seg(idOrName)}`);
    return { value: JSON.parse(res.text) as Cluster, etag: res.header('etag') };
  }
  async getCluster(idOrName: string): Promise<Cluster | null> {
    try {
      return (await this.getClusterVersioned(idOrName)).value;
    } catch (e) {
      if (e instanceof ApiError && e.code === 'NOT_FOUND') return null;
      throw e;
    }
  }
  patchCluster(idOrName: string, patch: { spec?: Partial<ClusterSpecInput>; labels?: Record<string, string | null> }, ifMatch?: string): Promise<Cluster> {
    return this.json('PATCH', `/api/v1/clusters/${seg(idOrName)}`, {
      body: patch,
      headers: { 'content-type': 'application/merge-patch+json', ...(ifMatch ? { 'if-match': ifMatch } : {}) },
    });
  }
  replaceCluster(idOrName: string, body: { spec: ClusterSpecInput; labels?: Labels }, ifMatch?: string): Promise<Cluster> {
    return this.json('PUT', `/api/v1/clusters/${seg(idOrName)}`, { body, headers: ifMatch ? { 'if-match': ifMatch } : {} });
  }
  deleteCluster(idOrName: string): Promise<Cluster | null> {
    return this.json('DELETE', `/api/v1/clusters/${seg(idOrName)}`);
  }
  /** The provider's plan for a proposed spec (absent: the current one); nothing is written. */
  planCluster(idOrName: string, proposed?: { spec?: ClusterSpecInput; labels?: Labels }): Promise<PlanResult & { name: string; generation: number }> {
    return this.json('POST', `/api/v1/clusters/${seg(idOrName)}/plan`, proposed ? { body: proposed } : {});
  }
  backupCluster(idOrName: string): Promise<{ snapshot: string; cluster: Cluster }> {
    return this.json('POST', `/api/v1/clusters/${seg(idOrName)}/backups`);
  }
  async listBackups(idOrName: string): Promise<Snapshot[]> {
    return (await this.json<{ items: Snapshot[] }>('GET', `/api/v1/clusters/${seg(idOrName)}/backups`)).items;
  }
  restoreCluster(idOrName: string, snapshot: string): Promise<Cluster> {
    return this.json('POST', `/api/v1/clusters/${seg(idOrName)}/restore`, { body: { snapshot } });
  }
  controlRollout(idOrName: string, action: 'pause' | 'resume' | 'undo'): Promise<Cluster> {
    return this.json('POST', `/api/v1/clusters/${seg(idOrName)}/rollout/${action}`);
  }
  getStatus(idOrName: string): Promise<ClusterStatus> {
    return this.json('GET', `/api/v1/clusters/${seg(idOrName)}/status`);
  }
  listEvents(idOrName: string, params: { limit?: number; cursor?: string } = {}): Promise<Page<HistoryEntry>> {
    return this.json('GET', `/api/v1/clusters/${seg(idOrName)}/events`, { query: params });
  }

  // controllers (ControlPlane)
  async reportStatus(clusterId: string, controller: string, report: ControllerReport): Promise<{ ignored?: 'stale' }> {
    const res = await this.json<{ ignored?: 'stale' }>('PUT', `/api/v1/clusters/${seg(clusterId)}/status/${seg(controller)}`, { body: report });
    return res.ignored ? { ignored: res.ignored } : {};
  }
  async releaseFinalizer(clusterId: string, controller: string): Promise<void> {
    try {
      await this.request('DELETE', `/api/v1/clusters/${seg(clusterId)}/finalizers/${seg(controller)}`);
    } catch (e) {
      // Already released, or the row is gone: the goal is reached.
      if (!(e instanceof ApiError && e.code === 'NOT_FOUND')) throw e;
    }
  }
  async registerController(name: string, registration: ControllerRegistrationInput): Promise<void> {
    await this.request('PUT', `/api/v1/controllers/${seg(name)}`, { body: registration });
  }
  listControllers(): Promise<{ items: ControllerRegistration[] }> {
    return this.json('GET', '/api/v1/controllers');
  }
  async deregisterController(name: string): Promise<void> {
    await this.request('DELETE', `/api/v1/controllers/${seg(name)}`);
  }

  // tokens
  createToken(body: { subject: string; role: TokenRole; expiresIn?: string }): Promise<CreatedToken> {
    return this.json('POST', '/api/v1/tokens', { body });
  }
  listTokens(): Promise<{ items: TokenRecord[] }> {
    return this.json('GET', '/api/v1/tokens');
  }
  async revokeToken(id: string): Promise<void> {
    await this.request('DELETE', `/api/v1/tokens/${seg(id)}`);
  }

  info(): Promise<ApiInfo> {
    return this.json('GET', '/api/v1/info');
  }

  /** Low-level: a streaming response (the caller reads `res.body`), e.g. `/api/v1/watch`. */
  async stream(path: string, query: Query = {}, signal?: AbortSignal): Promise<Response> {
    const { url, headers } = this.prepare(path, { query, accept: 'text/event-stream' });
    const res = await fetch(url, { method: 'GET', headers, signal: signal ?? null }).catch((e: unknown) => this.unreachable(e, signal, false));
    if (res.ok) return res;
    throw toApiError({ status: res.status, header: (name) => res.headers.get(name) ?? undefined, text: await res.text() });
  }

  private async json<T>(method: string, path: string, opts: RequestOpts = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    if (res.status === 204) return null as T;
    return (res.text ? JSON.parse(res.text) : null) as T;
  }

  private prepare(path: string, opts: RequestOpts): { url: URL; headers: Record<string, string>; body: string | undefined } {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: opts.accept ?? 'application/json', 'user-agent': this.userAgent, ...opts.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    return { url, headers, body };
  }

  private async request(method: string, path: string, opts: RequestOpts = {}): Promise<Exchange> {
    const { url, headers, body } = this.prepare(path, opts);
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    const res = await exchange(url, { method, headers, body, signal }).catch((e: unknown) => this.unreachable(e, opts.signal, timeout.aborted));
    if (res.status >= 200 && res.status < 300) return res;
    throw toApiError(res);
  }

  /** A failed exchange: the caller's own abort as it is, anything else "unreachable". */
  private unreachable(err: unknown, signal: AbortSignal | undefined, timedOut: boolean): never {
    if (signal?.aborted) throw err;
    throw new ServerUnreachableError(this.baseUrl, timedOut);
  }
}

interface RequestOpts {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
  accept?: string;
}

function seg(s: string): string {
  return encodeURIComponent(s);
}

function toApiError(res: Exchange): ApiError {
  const requestId = res.header('x-request-id');
  let problem: { code?: string; detail?: string; title?: string; errors?: FieldError[] } = {};
  try {
    const parsed: unknown = JSON.parse(res.text);
    if (typeof parsed === 'object' && parsed !== null) problem = parsed;
  } catch {
    // Not problem+json (a proxy in between, say): fall back to the status line.
  }
  const location = res.header('location');
  // Redirects are not followed (a redirected PUT would arrive as a GET): say where to point instead.
  if (res.status >= 300 && res.status < 400 && location) problem.detail ??= `the server redirects to ${location}: use that address as the server`;
  const code = (ERROR_CODES as readonly string[]).includes(problem.code ?? '') ? (problem.code as ErrorCode) : codeForStatus(res.status);
  return new ApiError(res.status, code, problem.detail ?? problem.title ?? `HTTP ${res.status}`, problem.errors, requestId);
}

function codeForStatus(status: number): ErrorCode {
  const map: Record<number, ErrorCode> = { 400: 'VALIDATION_FAILED', 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 409: 'CONFLICT', 412: 'PRECONDITION_FAILED', 413: 'PAYLOAD_TOO_LARGE', 429: 'RATE_LIMITED', 503: 'UNAVAILABLE' };
  return map[status] ?? 'INTERNAL';
}
