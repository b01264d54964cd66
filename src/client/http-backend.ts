// The ClusterBackend for contexts of kind `server`: the goman REST API through ApiClient, and
// live changes over Server-Sent Events (`GET /api/v1/watch`) that survive a server restart.
import type { Cluster } from '../domain/index.ts';
import { isGomanError } from '../domain/errors.ts';
import { ApiClient } from './api-client.ts';
import { ApiError } from './errors.ts';
import type { ClusterBackend, ClusterPatch, CreateClusterBody, ListClustersParams, RolloutAction, WatchEvent } from './backend.ts';
import { SseParser } from './sse.ts';
import type { SseMessage } from './sse.ts';
import { sleepUnlessAborted } from '../util/sleep.ts';

export interface ServerBackendOptions {
  server: string;
  token?: string | undefined;
  /** Reconnect delays grow from min to max (doubling) while the server stays away. */
  backoffMs?: { min: number; max: number };
  /** With no byte (not even a heartbeat) for this long, the stream is presumed dead. */
  idleTimeoutMs?: number;
}

export class ServerBackend implements ClusterBackend {
  readonly kind = 'server' as const;
  readonly target: string;
  readonly client: ApiClient;
  private readonly backoff: { min: number; max: number };
  private readonly idleTimeoutMs: number;

  constructor(opts: ServerBackendOptions) {
    this.client = new ApiClient({ baseUrl: opts.server, token: opts.token, userAgent: 'goman-cli' });
    this.target = this.client.baseUrl;
    this.backoff = opts.backoffMs ?? { min: 250, max: 5000 };
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 60_000;
  }

  create(body: CreateClusterBody): Promise<Cluster> {
    return this.client.createCluster(body);
  }
  list(params?: ListClustersParams) {
    return this.client.listClusters(params);
  }
  get(idOrName: string) {
    return this.client.getClusterVersioned(idOrName);
  }
  patch(idOrName: string, patch: ClusterPatch, ifMatch?: string) {
    return this.client.patchCluster(idOrName, patch, ifMatch);
  }
  replace(idOrName: string, body: Parameters<ClusterBackend['replace']>[1], ifMatch?: string) {
    return this.client.replaceCluster(idOrName, body, ifMatch);
  }
  delete(idOrName: string) {
    return this.client.deleteCluster(idOrName);
  }
  events(idOrName: string, params?: { limit?: number; cursor?: string }) {
    return this.client.listEvents(idOrName, params);
  }
  backup(idOrName: string) {
    return this.client.backupCluster(idOrName);
  }
  backups(idOrName: string) {
    return this.client.listBackups(idOrName);
  }
  restore(idOrName: string, snapshot: string) {
    return this.client.restoreCluster(idOrName, snapshot);
  }
  rollout(idOrName: string, action: RolloutAction) {
    return this.client.controlRollout(idOrName, action);
  }

  async *watch(signal: AbortSignal): AsyncIterable<WatchEvent> {
    let resumeFrom: string | undefined;
    // Set by a 410: the resume point is gone, so the next connection starts with a fresh list.
    let relist = false;
    let delay = this.backoff.min;
    // Report each change of state once: a server that stays down is one `disconnected`.
    let state: 'unknown' | 'up' | 'down' = 'unknown';
    while (!signal.aborted) {
      const attempt = new AbortController();
      const onAbort = (): void => attempt.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      let reason = 'stream ended';
      try {
        const res = await this.client.stream('/api/v1/watch', { resourceVersion: resumeFrom }, attempt.signal);
        if (!res.body) throw new Error('watch response has no body');
        state = 'up';
        delay = this.backoff.min;
        yield { type: 'connected' };
        if (relist) {
          relist = false;
          // After the connection (which starts at "now"), so nothing falls between list and stream.
          let cursor: string | undefined;
          do {
            const page = await this.list({ limit: 500, cursor });
            for (const cluster of page.items) yield { type: 'upsert', cluster };
            cursor = page.nextCursor ?? undefined;
          } while (cursor);
        }
        const parser = new SseParser();
        const decoder = new TextDecoder();
        const reader = (res.body as ReadableStream<Uint8Array>).getReader();
        let idle = setTimeout(() => attempt.abort(), this.idleTimeoutMs);
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            clearTimeout(idle);
            idle = setTimeout(() => attempt.abort(), this.idleTimeoutMs);
            for (const msg of parser.push(decoder.decode(value, { stream: true }))) {
              const event = await this.toWatchEvent(msg);
              if (msg.id) resumeFrom = msg.id;
              if (event) yield event;
            }
          }
        } finally {
          clearTimeout(idle);
          reader.releaseLock();
        }
      } catch (e) {
        if (signal.aborted) return;
        // 410: the resume point is no longer (or not yet) in the server's outbox; start afresh and re-list.
        if (e instanceof ApiError && e.status === 410) {
          resumeFrom = undefined;
          relist = true;
        }
        reason = e instanceof Error ? e.message : String(e);
      } finally {
        signal.removeEventListener('abort', onAbort);
        attempt.abort();
      }
      if (signal.aborted) return;
      if (state !== 'down') {
        state = 'down';
        yield { type: 'disconnected', reason };
      }
      await sleepUnlessAborted(delay, signal);
      delay = Math.min(delay * 2, this.backoff.max);
    }
  }

  /**
   * The watch stream may carry the cluster itself or only "look at cluster X" (an outbox
   * event); in the latter case the cluster is read, and a 404 means it is gone.
   */
  private async toWatchEvent(msg: SseMessage): Promise<WatchEvent | undefined> {
    const parsed = watchPayload(msg);
    if (parsed.kind === 'ignore') return undefined;
    if (parsed.kind === 'upsert') return { type: 'upsert', cluster: parsed.cluster };
    if (parsed.kind === 'deleted') return { type: 'deleted', id: parsed.id, name: parsed.name };
    try {
      return { type: 'upsert', cluster: (await this.get(parsed.id)).value };
    } catch (e) {
      if (isGomanError(e, 'NOT_FOUND')) return { type: 'deleted', id: parsed.id, name: parsed.name };
      throw e;
    }
  }
}

export type WatchPayload =
  | { kind: 'ignore' }
  | { kind: 'upsert'; cluster: Cluster }
  | { kind: 'deleted'; id: string; name: string }
  | { kind: 'lookup'; id: string; name: string };

/** What one SSE message of `/api/v1/watch` means, without I/O. */
export function watchPayload(msg: SseMessage): WatchPayload {
  let data: unknown;
  try {
    data = JSON.parse(msg.data);
  } catch {
    return { kind: 'ignore' }; // heartbeats and other non-JSON chatter
  }
  if (!isObject(data)) return { kind: 'ignore' };
  const type = typeof data.type === 'string' ? data.type : msg.event;
  const cluster = isCluster(data.cluster) ? data.cluster : isCluster(data) ? data : undefined;
  const id = cluster?.id ?? str(data.clusterId) ?? str(data.id);
  const name = cluster?.name ?? str(data.name) ?? '';
  if (/deleted$/.test(type) && id) return { kind: 'deleted', id, name };
  if (type === 'cluster.reconcile') return { kind: 'ignore' }; // a scheduler nudge changes nothing a viewer sees
  if (cluster) return { kind: 'upsert', cluster };
  if (id && /^cluster\./.test(type)) return { kind: 'lookup', id, name };
  return { kind: 'ignore' };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function isCluster(v: unknown): v is Cluster {
  return isObject(v) && typeof v.id === 'string' && typeof v.name === 'string' && isObject(v.spec) && isObject(v.status);
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

