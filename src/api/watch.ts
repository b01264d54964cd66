// GET /api/v1/watch: Server-Sent Events of cluster changes.
//
// One hub per app reads the outbox (woken by bus.tap(), and by a slow poll as a safety net),
// re-reads each changed cluster once, and fans the result out to every stream whose caller may
// see that cluster. The SSE `id:` is the outbox seq, so `?resourceVersion=<id>` (or a cluster's
// resourceVersion from a list) resumes exactly there. A resume point outside the retained
// outbox (too old, or newer than anything written) is a 410: the client lists again.
//
// Each stream's unsent bytes are bounded. Catch-up (the backlog after a resume point) is read
// page by page and written with backpressure: the next event waits until the socket drains, so
// any backlog streams to a reader that reads; one that stalls for `stallMs` is dropped. Live
// events are fanned out without waiting: a stream that falls `clientBufferBytes` behind is
// dropped, so nobody ever waits for a slow client. A token-authenticated stream re-checks its
// token every `recheckMs` and ends once it is revoked or expired.
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from '../domain/index.ts';
import type { EventBus, Subscription } from '../events/port.ts';
import type { ClusterRecords, OutboxFeed, OutboxRow } from '../store/port.ts';
import type { Identity } from './auth.ts';
import { ownerFilter } from './auth.ts';
import { HttpProblem } from './problem.ts';

export interface WatchOptions {
  heartbeatMs?: number;
  /** Unsent bytes a stream may hold before it is dropped as too slow. */
  clientBufferBytes?: number;
  /** Outbox poll interval: the only trigger without a bus, a safety net with one. */
  pollMs?: number;
  /** How long catch-up waits for a client to read before dropping it. */
  stallMs?: number;
  /** How often a stream re-checks its credential (the token cache's TTL). */
  recheckMs?: number;
}

/** Is the caller's credential still good? (Revoked and expired tokens are not.) */
export type StillValid = () => Promise<boolean>;

/** Catch-up waits for the socket to drain once this much is unsent. */
const CATCH_UP_HIGH_WATER = 64 * 1024;

const PAGE = 500;
const MAX_OWNERS = 100_000;

interface Resolved {
  row: OutboxRow;
  cluster: Cluster | null;
  owner: string | undefined;
  /** The SSE frame, encoded by the first stream that sends it and shared by the rest (null: none). */
  frame?: string | null;
}

/** One frame per event whatever the number of streams: at 1 000 watchers, encoding per stream was the hub's main cost. */
function frameOf(r: Resolved): string | null {
  if (r.frame !== undefined) return r.frame;
  const type = r.row.type.slice('cluster.'.length);
  let data: unknown = null;
  if (type === 'deleted') data = { type, id: r.row.clusterId, name: r.row.name };
  else if (type !== 'reconcile' && r.cluster) data = { type, cluster: r.cluster };
  // A reconcile is no change; a cluster gone since has its `deleted` event next.
  r.frame = data === null ? null : `id: ${r.row.seq}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
  return r.frame;
}

class WatchStream {
  cursor: number;
  catchingUp = true;
  private readonly res: ServerResponse;
  private readonly owner: string | undefined;
  private readonly maxBuffer: number;
  private readonly stallMs: number;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly recheck: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly onClose: (s: WatchStream) => void;

  constructor(res: ServerResponse, identity: Identity, cursor: number, opts: Required<WatchOptions>, stillValid: StillValid | undefined, onClose: (s: WatchStream) => void) {
    this.res = res;
    this.owner = ownerFilter(identity);
    this.cursor = cursor;
    this.maxBuffer = opts.clientBufferBytes;
    this.stallMs = opts.stallMs;
    this.onClose = onClose;
    this.heartbeat = setInterval(() => this.write(': heartbeat\n\n'), opts.heartbeatMs);
    if (stillValid) {
      let checking = false;
      this.recheck = setInterval(() => {
        if (checking) return;
        checking = true;
        stillValid()
          .then((ok) => ok || this.close())
          .catch(() => {}) // the store is unreachable for now: keep the stream, check again later
          .finally(() => (checking = false));
      }, opts.recheckMs);
    }
    res.on('close', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(r: Resolved): void {
    this.sendAll([r]);
  }

  /** The events this stream has not had and may see, in one write: one socket write per stream per batch, not per event. */
  sendAll(batch: readonly Resolved[]): void {
    let chunk = '';
    for (const r of batch) {
      if (r.row.seq <= this.cursor) continue;
      this.cursor = r.row.seq;
      if (this.owner !== undefined && r.owner !== this.owner) continue;
      chunk += frameOf(r) ?? '';
    }
    if (chunk !== '') this.write(chunk);
  }

  write(chunk: string): void {
    if (this.closed) return;
    this.res.write(chunk);
    // Live: too slow, drop, never wait. Catch-up bounds itself by waiting in `drained`.
    if (!this.catchingUp && this.res.writableLength > this.maxBuffer) this.res.destroy();
  }

  /** Catch-up's backpressure: true once the client has read enough, false if it stalled or left. */
  async drained(): Promise<boolean> {
    if (this.closed) return false;
    if (this.res.writableLength <= CATCH_UP_HIGH_WATER) return true;
    const ctl = new AbortController();
    try {
      await Promise.race([
        once(this.res, 'drain', { signal: ctl.signal }),
        once(this.res, 'close', { signal: ctl.signal }),
        sleep(this.stallMs, undefined, { signal: ctl.signal }),
      ]);
    } catch {
      return false; // closed while waiting
    } finally {
      ctl.abort();
    }
    if (this.closed || this.res.writableLength > CATCH_UP_HIGH_WATER) {
      this.res.destroy(); // stalled: drop
      return false;
    }
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    clearInterval(this.recheck);
    if (!this.res.destroyed) this.res.end();
    this.onClose(this);
  }
}

export class WatchHub {
  private readonly store: OutboxFeed & ClusterRecords;
  private readonly bus: EventBus | undefined;
  private readonly opts: Required<WatchOptions>;
  private readonly streams = new Set<WatchStream>();
  /** Who created each cluster seen so far, so a `deleted` event reaches only its owner. */
  private readonly owners = new Map<string, string>();
  private head = 0;
  private started: Promise<void> | null = null;
  private tap: Subscription | null = null;
  private poll: NodeJS.Timeout | null = null;
  private pumping = false;
  private again = false;

  constructor(store: OutboxFeed & ClusterRecords, bus: EventBus | undefined, opts: WatchOptions = {}) {
    this.store = store;
    this.bus = bus;
    this.opts = {
      heartbeatMs: opts.heartbeatMs ?? 15_000,
      clientBufferBytes: opts.clientBufferBytes ?? 1024 * 1024,
      pollMs: opts.pollMs ?? (bus ? 5000 : 1000),
      stallMs: opts.stallMs ?? 30_000,
      recheckMs: opts.recheckMs ?? 5000,
    };
  }

  get size(): number {
    return this.streams.size;
  }

  /**
   * Validate the resume point; throws 410 (before any byte is sent) when it is too old, or newer
   * than anything written (a later event would otherwise be skipped up to it without a word).
   */
  async prepare(resourceVersion: number | undefined): Promise<number> {
    await this.start();
    if (resourceVersion === undefined) {
      // Nobody watched, so nothing moved the head along: find "now" before starting there.
      if (this.streams.size === 0) this.head = await this.findHead(this.head);
      return this.head;
    }
    const oldest = await this.store.oldestRetainedSeq();
    if (resourceVersion < oldest - 1) {
      throw new HttpProblem(410, 'VALIDATION_FAILED', `resourceVersion ${resourceVersion} is too old (oldest retained is ${oldest}); list again and watch from there`, [
        { path: 'resourceVersion', message: 'too old' },
      ]);
    }
    // Read forward without moving the hub's head: that is the live streams' delivery mark.
    const newest = resourceVersion > this.head ? await this.findHead(this.head) : this.head;
    if (resourceVersion > newest) {
      throw new HttpProblem(410, 'VALIDATION_FAILED', `resourceVersion ${resourceVersion} is newer than the latest event (${newest}); list again and watch from there`, [
        { path: 'resourceVersion', message: 'newer than the latest event' },
      ]);
    }
    return resourceVersion;
  }

  async open(res: ServerResponse, identity: Identity, cursor: number, requestId: string, stillValid?: StillValid): Promise<void> {
    res.socket?.setTimeout(0);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': requestId,
    });
    const stream = new WatchStream(res, identity, cursor, this.opts, stillValid, (s) => this.streams.delete(s));
    this.streams.add(stream);
    stream.write('retry: 3000\n: connected\n\n');
    try {
      await this.catchUp(stream);
    } catch {
      stream.close();
    }
  }

  closeAll(): void {
    for (const s of [...this.streams]) s.close();
  }

  async stop(): Promise<void> {
    this.closeAll();
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    const tap = this.tap;
    this.tap = null;
    await tap?.close();
  }

  private start(): Promise<void> {
    this.started ??= (async () => {
      this.head = await this.findHead(Math.max(0, (await this.store.oldestRetainedSeq()) - 1));
      if (this.bus) this.tap = await this.bus.tap(() => this.pump());
      this.poll = setInterval(() => this.pump(), this.opts.pollMs);
      this.poll.unref();
    })();
    return this.started;
  }

  private async findHead(from: number): Promise<number> {
    let head = from;
    for (;;) {
      const rows = await this.store.readOutboxSince(head, PAGE);
      if (rows.length === 0) return head;
      head = rows[rows.length - 1]!.seq;
    }
  }

  /** Read what is new in the outbox once for all streams; concurrent wake-ups coalesce. */
  private pump(): void {
    if (this.streams.size === 0) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    void (async () => {
      try {
        do {
          this.again = false;
          for (;;) {
            // What came in since the last pass goes out as one batch. Under load a pass takes
            // longer, so batches grow and fan-out costs one socket write per stream per pass
            // rather than per event: at 1 000 watchers, the writes were the replica's main cost.
            const rows = await this.store.readOutboxSince(this.head, PAGE);
            const batch: Resolved[] = [];
            for (const row of rows) batch.push(await this.resolve(row));
            const last = rows.at(-1);
            if (last) this.head = Math.max(this.head, last.seq);
            for (const s of this.streams) if (!s.catchingUp) s.sendAll(batch);
            if (rows.length < PAGE) break;
          }
        } while (this.again);
      } catch {
        // The store is unreachable for now; the next wake-up or poll tries again.
      } finally {
        this.pumping = false;
      }
    })();
  }

  private async catchUp(stream: WatchStream): Promise<void> {
    for (;;) {
      const rows = await this.store.readOutboxSince(stream.cursor, PAGE);
      for (const row of rows) {
        stream.send(await this.resolve(row));
        if (!(await stream.drained())) return;
      }
      if (stream.isClosed) return;
      // Checked without an await in between: from here on the pump delivers to this stream.
      if (rows.length < PAGE && stream.cursor >= this.head) {
        stream.catchingUp = false;
        return;
      }
      if (rows.length === 0) {
        stream.cursor = Math.max(stream.cursor, this.head);
      }
    }
  }

  private async resolve(row: OutboxRow): Promise<Resolved> {
    const cluster = row.type === 'cluster.deleted' || row.type === 'cluster.reconcile' ? null : await this.store.getCluster(row.clusterId);
    if (cluster) this.remember(cluster);
    return { row, cluster, owner: cluster?.createdBy ?? this.owners.get(row.clusterId) };
  }

  private remember(cluster: Cluster): void {
    if (this.owners.has(cluster.id)) return;
    if (this.owners.size >= MAX_OWNERS) this.owners.delete(this.owners.keys().next().value!);
    this.owners.set(cluster.id, cluster.createdBy);
  }
}

