// The fleet, live: list every cluster, then follow /api/v1/watch from the list's newest
// resourceVersion. The stream is read with fetch (not EventSource) so its status is visible:
// 410 means the resume point is gone, so the console lists again; a dropped connection is
// retried with backoff from the last event id, and the shell shows a banner meanwhile.
import { ApiError, api, failure, setReachable } from './api.ts';
import type { Cluster } from './types.ts';

type Listener = () => void;

interface WatchEvent {
  type: string;
  cluster?: Cluster;
  id?: string;
}

const PAGE = 500;
const MAX_BACKOFF_MS = 5000;

export class Fleet {
  readonly clusters = new Map<string, Cluster>();
  /** Bumped on every change, so views can memoise on it. */
  version = 0;
  loaded = false;
  private readonly listeners = new Set<Listener>();
  private lastId: string | null = null;
  private abort: AbortController | null = null;
  private stopped = false;
  private backoffMs = 250;
  private wakeUp: (() => void) | null = null;

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private changed(): void {
    this.version++;
    for (const l of this.listeners) l();
  }

  start(): void {
    this.stopped = false;
    void this.run();
  }

  /** The server answers again: retry now rather than when the backoff ends. */
  wake(): void {
    this.wakeUp?.();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }

  private async list(): Promise<void> {
    const items: Cluster[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Cluster[]; nextCursor: string | null } = await api(
        'GET',
        `/api/v1/clusters?limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    this.clusters.clear();
    let newest = 0;
    for (const c of items) {
      this.clusters.set(c.id, c);
      newest = Math.max(newest, Number(c.resourceVersion) || 0);
    }
    this.lastId = String(newest);
    this.loaded = true;
    this.changed();
  }

  private async run(): Promise<void> {
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) await this.list();
        needList = false;
        await this.follow();
      } catch (e) {
        if (this.stopped) return;
        if (e instanceof ApiError && e.status === 410) {
          needList = true;
          continue;
        }
        if (e instanceof ApiError && e.status === 401) return;
        setReachable(false);
        await new Promise<void>((r) => {
          const timer = setTimeout(r, this.backoffMs);
          this.wakeUp = () => {
            clearTimeout(timer);
            r();
          };
        });
        this.wakeUp = null;
        this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
      }
    }
  }

  /** Reads the stream until it fails (a server closing it is a failure too: reconnect). */
  private async follow(): Promise<void> {
    this.abort = new AbortController();
    const path = `/api/v1/watch?resourceVersion=${this.lastId ?? '0'}`;
    const res = await fetch(path, { credentials: 'same-origin', headers: { accept: 'text/event-stream' }, signal: this.abort.signal });
    if (!res.ok) throw await failure(res, path);
    if (!res.body) throw new Error('the watch stream has no body');
    setReachable(true);
    this.backoffMs = 250;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the watch stream ended');
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        this.frame(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  }

  private frame(frame: string): void {
    let id: string | undefined;
    let data = '';
    for (const line of frame.split('\n')) {
      if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    if (!data) return;
    const event = JSON.parse(data) as WatchEvent;
    if (id) this.lastId = id;
    if (event.type === 'deleted' && event.id) this.clusters.delete(event.id);
    else if (event.cluster) this.clusters.set(event.cluster.id, event.cluster);
    this.changed();
  }
}
